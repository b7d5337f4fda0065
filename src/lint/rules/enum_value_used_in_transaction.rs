//! `enum-value-used-in-transaction`: a new enum value used in the same migration fails (55P04).
//! A migration file runs as one transaction, and PostgreSQL refuses to use an enum value added in
//! the still-open transaction (`unsafe use of new value`), even for an enum created in that same
//! transaction (checked on PostgreSQL 15). Before PostgreSQL 12, ADD VALUE cannot run in a
//! transaction block at all. So there is no new-object exemption: the migration itself fails.

use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::sql::{Op, Statement, TransactionControl};
use crate::findings::Severity;

pub const RULE: RuleInfo = RuleInfo {
    id: "enum-value-used-in-transaction",
    default_severity: Severity::Error,
    impact: Impact::FailsToApply,
    summary: "a new enum value used in the same migration fails (55P04)",
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
                "PostgreSQL {} cannot run ALTER TYPE ... ADD VALUE inside a transaction block: \
                 the migration fails (25001) and everything since BEGIN is rolled back.",
                ctx.pg_version
            ),
            help,
        ));
    }
    // A COMMIT (or ROLLBACK) written in the file ends the transaction that added the value.
    let user = ctx
        .later_in_file
        .iter()
        .take_while(|s| {
            s.transaction_control()
                .is_none_or(|c| c == TransactionControl::Begin)
        })
        .find(|s| !redefines_values(s) && has_string_literal(&s.text, value))?;
    Some(Violation::new(
        format!(
            "The value {} added to {type_name} is used at line {} of the same migration, before \
             it is committed: PostgreSQL rejects it with 55P04 (`unsafe use of new value \"{value}\" \
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
    use crate::lint::rules::testing::{assert_mentions, flags, only_violation, violations_on, HISTORY};

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
        assert!(flags(HISTORY, &format!("{ADD_ADMIN}BEGIN;\n{use_it}"), &RULE));
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
