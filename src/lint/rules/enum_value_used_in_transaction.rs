//! `enum-value-used-in-transaction`: a new enum value used in the same transaction fails (55P04).
//! A migration file runs as one transaction (`migration-gate deploy`, Prisma up to 7.3, which
//! sends the whole file as one query), and PostgreSQL refuses to use an enum value added in
//! the still-open transaction (`unsafe use of new value`), even for an enum created in that same
//! transaction (checked on PostgreSQL 15). Before PostgreSQL 12, ADD VALUE cannot run in a
//! transaction block at all. So there is no new-object exemption: the migration itself fails.
//! The file's own COMMIT ends the transaction, and Prisma 7.4+ commits each statement of a file
//! it can parse on its own: then the use comes after the value is committed, and works.

use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::sql::{Op, Statement};
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "enum-value-used-in-transaction",
    default_severity: Severity::Error,
    impact: Impact::FailsToApply,
    summary: "a new enum value used in the same transaction fails (55P04)",
    check: Some(check),
    file: include_str!("enum_value_used_in_transaction.rs"),
    example: Example::Migration("ALTER TYPE \"Role\" ADD VALUE 'ADMIN';\nUPDATE \"User\" SET \"name\" = 'x' WHERE 'ADMIN'::\"Role\" = 'ADMIN';\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::AddEnumValue {
        type_name, value, ..
    } = op
    else {
        return None;
    };
    let add = format!("ALTER TYPE {type_name} ADD VALUE {};", literal(value));
    let help = format!(
        "Commit the new value before anything uses it: put\n{add}\nalone in its own migration, \
         before the migration that uses {} (Prisma: `prisma migrate dev --create-only`, then \
         move the statement into its own, earlier migration folder).",
        literal(value)
    );
    if ctx.pg_version < 12 && ctx.in_transaction_block {
        return Some(Violation::new(
            format!(
                "PostgreSQL {} cannot run ALTER TYPE ... ADD VALUE inside a transaction block, and \
                 this statement runs in one: the migration fails (25001) and its transaction is \
                 rolled back.",
                ctx.pg_version
            ),
            help,
        ));
    }
    // Only a use in the same transaction fails: a COMMIT written in the file, or a deployer
    // that commits statement by statement, commits the value first.
    let user = ctx
        .later_in_transaction
        .iter()
        .find(|s| !redefines_values(s) && has_string_literal(&s.text, value))?;
    Some(Violation::new(
        format!(
            "The value {} added to {type_name} is used at line {} of the same migration, before \
             it is committed (same transaction): PostgreSQL rejects it with 55P04 (`unsafe use of new value \"{value}\" \
             of enum type {}`) and the whole migration fails.",
            literal(value),
            user.start.line,
            type_name.name
        ),
        help,
    ))
}

/// Statements that only name enum values (another ADD VALUE, CREATE TYPE ... AS ENUM) do not use
/// the new value.
fn redefines_values(statement: &Statement) -> bool {
    !statement.ops.is_empty()
        && statement.ops.iter().all(|op| {
            matches!(
                op,
                Op::AddEnumValue { .. } | Op::CreateEnum { .. } | Op::RenameEnumValue { .. }
            )
        })
}

fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// `text` has the string literal `'value'` (outside identifiers and comments; dollar-quoted bodies
/// are SQL too, so they are searched).
fn has_string_literal(text: &str, value: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += 1;
                }
                i += 1;
            }
            b'\'' => {
                let mut content = String::new();
                let mut start = i + 1;
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => break,
                        Some(b'\'') if bytes.get(i + 1) == Some(&b'\'') => {
                            content.push_str(text.get(start..=i).unwrap_or(""));
                            i += 2;
                            start = i;
                        }
                        Some(b'\'') => {
                            content.push_str(text.get(start..i).unwrap_or(""));
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                if content == value {
                    return true;
                }
            }
            _ => i += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{
        assert_mentions, flags, only_violation, violations_on, violations_under_prisma, HISTORY,
    };

    const ADD_ADMIN: &str = "ALTER TYPE \"Role\" ADD VALUE 'ADMIN';\n";

    #[test]
    fn flags_the_new_value_used_later_in_the_file() {
        let pending = format!(
            "{ADD_ADMIN}\n\n\n\n\nUPDATE \"User\" SET \"role\" = 'ADMIN' WHERE id = 1;\n"
        );
        let v = only_violation(HISTORY, &pending, &RULE);
        assert_mentions(&v.message, "line 7");
        assert_mentions(&v.message, "55P04");
        assert_mentions(&v.help, "\nALTER TYPE \"Role\" ADD VALUE 'ADMIN';\nalone in its own migration");
    }

    #[test]
    fn finds_the_value_in_defaults_and_do_blocks_but_not_in_identifiers_or_comments() {
        for text in [
            "ALTER TABLE \"User\" ALTER COLUMN \"role\" SET DEFAULT 'ADMIN'",
            "DO $$ BEGIN UPDATE \"User\" SET role = 'ADMIN'; END $$",
        ] {
            let pending = format!("{ADD_ADMIN}{text};\n");
            assert!(flags(HISTORY, &pending, &RULE), "{text}");
        }
        for text in [
            "CREATE INDEX \"ADMIN\" ON \"User\" (id)",
            "SELECT 1 -- 'ADMIN'\n",
            "UPDATE \"User\" SET role = 'ADMINS'",
            "UPDATE \"User\" SET role = 'it''s ADMIN'",
        ] {
            let pending = format!("{ADD_ADMIN}{text};\n");
            assert!(!flags(HISTORY, &pending, &RULE), "{text}");
        }
        assert!(has_string_literal("SELECT 'it''s'", "it's"));
    }

    #[test]
    fn adding_alone_is_safe() {
        assert!(!flags(HISTORY, ADD_ADMIN, &RULE));
        let another = format!("{ADD_ADMIN}ALTER TYPE \"Role\" ADD VALUE 'OWNER';\n");
        assert!(!flags(HISTORY, &another, &RULE));
    }

    #[test]
    fn a_commit_before_the_use_makes_it_safe() {
        let use_it = "UPDATE \"User\" SET \"role\" = 'ADMIN';\n";
        assert!(!flags(HISTORY, &format!("{ADD_ADMIN}COMMIT;\n{use_it}"), &RULE));
        // `migration-gate deploy` runs a file with its own BEGIN as written: the ADD VALUE
        // before BEGIN commits on its own. One simple query (Prisma up to 7.3) turns the
        // implicit transaction into the BEGIN's: the same transaction.
        let begin_then_use = format!("{ADD_ADMIN}BEGIN;\n{use_it}");
        assert!(!flags(HISTORY, &begin_then_use, &RULE));
        assert_eq!(violations_under_prisma(Some("7.3.0"), HISTORY, &begin_then_use, &RULE).len(), 1);
        assert!(flags(HISTORY, &format!("BEGIN;\n{ADD_ADMIN}{use_it}COMMIT;\n"), &RULE));
    }

    #[test]
    fn follows_how_the_deployer_groups_the_file() {
        let pending = format!("{ADD_ADMIN}UPDATE \"User\" SET \"role\" = 'ADMIN';\n");
        let under = |version| violations_under_prisma(version, HISTORY, &pending, &RULE).len();
        // Up to 7.3 (and an unknown version): the file is one query, one transaction.
        assert_eq!(under(Some("7.3.0")), 1);
        assert_eq!(under(None), 1);
        // 7.4+ commits each statement of a file it can parse: the use comes after the commit.
        assert_eq!(under(Some("7.4.0")), 0);
    }

    #[test]
    fn a_new_enum_fails_the_same_way() {
        // PostgreSQL 15: CREATE TYPE "F" AS ENUM ('a'); ALTER TYPE "F" ADD VALUE 'b';
        // SELECT 'b'::"F"; in one transaction fails with 55P04 too.
        let pending = "CREATE TYPE \"Status\" AS ENUM ('open');\n\
                       ALTER TYPE \"Status\" ADD VALUE 'closed';\n\
                       INSERT INTO t VALUES ('closed');\n";
        assert!(flags(HISTORY, pending, &RULE));
    }

    #[test]
    fn before_postgres_12_add_value_fails_in_a_transaction_block() {
        let pending = format!("BEGIN;\n{ADD_ADMIN}COMMIT;\n");
        let found = violations_on(11, HISTORY, &pending, &RULE);
        assert!(found[0].message.contains("PostgreSQL 11"), "{found:#?}");
    }
}
