//! `alter-domain-add-constraint`: ALTER DOMAIN ... ADD CONSTRAINT ... CHECK without NOT VALID, or
//! SET NOT NULL, checks every column of every table that uses the domain.
//!
//! PostgreSQL scans each such table under a SHARE lock: reads go on, every INSERT, UPDATE and
//! DELETE on it waits until the scan ends. `NOT VALID` adds the CHECK at once (new and updated
//! values are checked). A later `VALIDATE CONSTRAINT` of a domain still scans under SHARE
//! (unlike a table's); NOT NULL has no NOT VALID form at all.

use super::advice::Sql;
use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::findings::Severity;
use crate::sql::{ObjectName, Op};

pub const RULE: RuleInfo = RuleInfo {
    id: "alter-domain-add-constraint",
    default_severity: Severity::Error,
    impact: Impact::Blocks,
    summary: "ALTER DOMAIN ... ADD CHECK without NOT VALID, or SET NOT NULL, scans every table using the domain",
    check: Some(check),
    file: include_str!("alter_domain_add_constraint.rs"),
    example: Example::Migration(
        "ALTER DOMAIN \"Email\" ADD CONSTRAINT \"Email_at\" CHECK (VALUE LIKE '%@%');\n",
    ),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::AddDomainConstraint {
        domain,
        name,
        check,
        not_valid: false,
    } = op
    else {
        return None;
    };
    if ctx.schema.is_new_domain(domain) {
        return None;
    }
    let sql = Sql::of(ctx);
    let domain_sql = sql.table(domain);
    let tables = tables_using(ctx, domain, &sql);
    let what = match check {
        Some(expression) => format!("Adding CHECK ({expression}) to the domain {domain_sql}"),
        None => format!("Making the domain {domain_sql} NOT NULL"),
    };
    let message = format!(
        "{what} checks every value of every column of that domain: each table using it{tables} \
         is scanned under a SHARE lock, so the running app can still read it but every INSERT, \
         UPDATE and DELETE on it waits for as long as the scan takes, which grows with the \
         tables' size."
    );
    let constraint = name
        .as_deref()
        .map(|n| sql.ident(n))
        .unwrap_or_else(|| sql.derived_ident(&domain.name, &format!("{}_check", domain.name)));
    let expression = check.as_deref().unwrap_or("VALUE IS NOT NULL");
    let instead = if check.is_some() {
        String::new()
    } else {
        "NOT NULL has no NOT VALID form for a domain; use a CHECK instead:\n".to_string()
    };
    let help = format!(
        "{instead}Add it NOT VALID (instant: no row is read; new and updated values are checked \
         from now on):\n\
         ALTER DOMAIN {domain_sql} ADD CONSTRAINT {constraint} CHECK ({expression}) NOT VALID;\n\
         -- then fix the old values in batches, and in a later migration, at a quiet hour \
         (a domain's VALIDATE still scans each table under SHARE: writes wait):\n\
         ALTER DOMAIN {domain_sql} VALIDATE CONSTRAINT {constraint};"
    );
    Some(Violation::new(message, help))
}

/// ` (known: "User", app.orders)`: the tables of the history with a column of the domain.
fn tables_using(ctx: &RuleContext, domain: &ObjectName, sql: &Sql) -> String {
    let tables = ctx.schema.existing_tables_using_type(domain);
    if tables.is_empty() {
        return String::new();
    }
    let names: Vec<String> = tables
        .iter()
        .map(|t| sql.table(t))
        .collect();
    format!(" (here: {})", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{assert_mentions, only_violation, violations};

    const HISTORY: &str = r#"CREATE DOMAIN "Email" AS TEXT;
        CREATE TABLE "User" ("id" TEXT NOT NULL, "email" "Email");
        CREATE TABLE "Team" ("id" TEXT NOT NULL, "contact" "Email", "name" TEXT);
        CREATE TABLE "Tag" ("id" TEXT NOT NULL);"#;

    #[test]
    fn a_validating_check_scans_every_table_using_the_domain() {
        let v = only_violation(
            HISTORY,
            r#"ALTER DOMAIN "Email" ADD CONSTRAINT "Email_at" CHECK (VALUE LIKE '%@%');"#,
            &RULE,
        );
        assert_mentions(&v.message, r#"CHECK (VALUE LIKE '%@%') to the domain "Email""#);
        assert_mentions(&v.message, r#"(here: "Team", "User")"#);
        assert_mentions(&v.message, "SHARE lock");
        assert_mentions(&v.message, "every INSERT, UPDATE and DELETE");
        assert!(!v.message.contains("Tag"), "{}", v.message);
        assert_mentions(
            &v.help,
            r#"ALTER DOMAIN "Email" ADD CONSTRAINT "Email_at" CHECK (VALUE LIKE '%@%') NOT VALID;"#,
        );
        assert_mentions(&v.help, r#"ALTER DOMAIN "Email" VALIDATE CONSTRAINT "Email_at";"#);
    }

    #[test]
    fn set_not_null_has_no_not_valid_form() {
        let v = only_violation(HISTORY, r#"ALTER DOMAIN "Email" SET NOT NULL;"#, &RULE);
        assert_mentions(&v.message, r#"Making the domain "Email" NOT NULL"#);
        assert_mentions(&v.help, "NOT NULL has no NOT VALID form");
        assert_mentions(
            &v.help,
            r#"ALTER DOMAIN "Email" ADD CONSTRAINT "Email_check" CHECK (VALUE IS NOT NULL) NOT VALID;"#,
        );
    }

    #[test]
    fn not_valid_and_other_domain_changes_are_fine() {
        for fine in [
            r#"ALTER DOMAIN "Email" ADD CONSTRAINT "Email_at" CHECK (VALUE LIKE '%@%') NOT VALID;"#,
            r#"ALTER DOMAIN "Email" DROP NOT NULL;"#,
            r#"ALTER DOMAIN "Email" SET DEFAULT 'x@y';"#,
        ] {
            assert!(violations(HISTORY, fine, &RULE).is_empty(), "{fine}");
        }
    }

    #[test]
    fn a_domain_created_in_the_pending_set_is_fine() {
        let pending = r#"CREATE DOMAIN "Phone" AS TEXT;
            ALTER DOMAIN "Phone" ADD CONSTRAINT "Phone_digits" CHECK (VALUE ~ '^[0-9]+$');
            ALTER DOMAIN "Phone" SET NOT NULL;"#;
        assert!(violations(HISTORY, pending, &RULE).is_empty());
    }

    #[test]
    fn unknown_domain_counts_as_existing() {
        let v = only_violation("", "ALTER DOMAIN app.email ADD CHECK (VALUE <> '');", &RULE);
        assert!(!v.message.contains("(here:"), "{}", v.message);
        assert_mentions(&v.help, "ALTER DOMAIN app.email ADD CONSTRAINT email_check CHECK (VALUE <> '') NOT VALID;");
    }
}
