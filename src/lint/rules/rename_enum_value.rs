//! `rename-enum-value`: ALTER TYPE ... RENAME VALUE: the running app still writes the old value
//! and cannot read the new one. Not raised for a value or type created in the pending set.

use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::findings::Severity;
use crate::sql::Op;

pub const RULE: RuleInfo = RuleInfo {
    id: "rename-enum-value",
    default_severity: Severity::Error,
    impact: Impact::BreaksApp,
    summary: "ALTER TYPE ... RENAME VALUE: the running app still writes and reads the old value",
    check: Some(check),
    file: include_str!("rename_enum_value.rs"),
    example: Example::Migration("ALTER TYPE \"Role\" RENAME VALUE 'USER' TO 'MEMBER';\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::RenameEnumValue {
        type_name,
        value,
        new_value,
    } = op
    else {
        return None;
    };
    if let Some(existing) = ctx.schema.enum_type(type_name) {
        if existing.is_new || existing.new_values.contains(value) {
            return None;
        }
    }
    let literal = |v: &str| format!("'{}'", v.replace('\'', "''"));
    let (old, new) = (literal(value), literal(new_value));
    Some(Violation::new(
        format!(
            "Renaming the value {old} of {type_name} to {new} breaks the running app: it still \
             writes {old}, which now fails with `invalid input value for enum`, and cannot read \
             the rows that now say {new}, until every instance runs the new code. The rename \
             itself only changes the catalog: no table is locked, rewritten or scanned."
        ),
        format!(
            "Keep the value in the database and rename it only in the Prisma enum: \
             `{new_value} @map(\"{value}\")`. To really change the stored value, do it in steps:\n\
             1. ALTER TYPE {type_name} ADD VALUE {new}; (in its own migration)\n\
             2. Deploy app code that writes {new} and reads both values.\n\
             3. Move the rows in batches: UPDATE <table> SET <column> = {new} WHERE <column> = {old} ...;\n\
             4. Then drop {old} (Prisma recreates the enum without it)."
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{assert_mentions, flags, only_violation, HISTORY};

    #[test]
    fn flags_a_value_of_an_existing_type() {
        let pending = "ALTER TYPE \"Role\" RENAME VALUE 'USER' TO 'MEMBER';";
        let v = only_violation(HISTORY, pending, &RULE);
        assert_mentions(&v.message, "still writes 'USER'");
        assert_mentions(&v.message, "no table is locked");
        assert_mentions(&v.help, "MEMBER @map(\"USER\")");
        assert_mentions(&v.help, "ALTER TYPE \"Role\" ADD VALUE 'MEMBER';");
    }

    #[test]
    fn ignores_a_type_created_in_the_pending_set() {
        let pending = "CREATE TYPE \"Mood\" AS ENUM ('ok');\nALTER TYPE \"Mood\" RENAME VALUE 'ok' TO 'fine';";
        assert!(!flags(HISTORY, pending, &RULE));
    }

    #[test]
    fn ignores_a_value_added_in_the_pending_set() {
        let pending = "ALTER TYPE \"Role\" ADD VALUE 'ADMN';\nALTER TYPE \"Role\" RENAME VALUE 'ADMN' TO 'ADMIN';";
        assert!(!flags(HISTORY, pending, &RULE));
    }
}
