//! `rename-type`: ALTER TYPE ... RENAME TO: Prisma casts enum parameters to the type's name
//! (`$1::"Role"`), so the running app fails until it is redeployed.
//! Not raised for a type created in the pending set, nor for the rename of Prisma's enum
//! recreate (`"Role"` → `"Role_old"` while `"Role_new"` takes the name `"Role"` back in the same
//! migration): the name the app uses still exists when the migration commits.

use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::findings::Severity;
use crate::lint::schema::Schema;
use crate::sql::{ObjectName, Op, Statement};

pub const RULE: RuleInfo = RuleInfo {
    id: "rename-type",
    default_severity: Severity::Error,
    impact: Impact::BreaksApp,
    summary: "ALTER TYPE ... RENAME TO: the running app still casts its values to the old name",
    check: Some(check),
    file: include_str!("rename_type.rs"),
    example: Example::Migration("ALTER TYPE \"Role\" RENAME TO \"UserRole\";\n"),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::RenameType {
        type_name,
        new_name,
    } = op
    else {
        return None;
    };
    if ctx.schema.is_new_enum(type_name)
        || name_taken_back(ctx.schema, type_name, ctx.later_in_file)
    {
        return None;
    }
    let renamed = ObjectName {
        schema: type_name.schema.clone(),
        name: new_name.clone(),
    };
    Some(Violation::new(
        format!(
            "Renaming the type {type_name} to {renamed} breaks the running app: Prisma casts enum \
             parameters to the type's name (`$1::{type_name}`), so its writes and filters fail \
             with `type {type_name} does not exist` until every instance runs the new code. The \
             rename itself only changes the catalog: no table is locked, rewritten or scanned."
        ),
        format!(
            "Keep the database name and rename only the Prisma enum: `enum {new_name} {{ ... \
             @@map(\"{}\") }}`. If the database type must change its name, deploy the new app \
             code and this migration together in a maintenance window, and record it: \
             `-- migration-gate: allow rename-type reason: <why>`.",
            type_name.name
        ),
    ))
}

/// A later statement of the same migration (one transaction) gives the old name to a type again.
fn name_taken_back(schema: &Schema, old: &ObjectName, later: &[Statement]) -> bool {
    let old = schema.resolve(old);
    later.iter().flat_map(|s| &s.ops).any(|op| match op {
        Op::RenameType {
            type_name,
            new_name,
        } => {
            *new_name == old.name && schema.resolve(type_name).schema == old.schema
        }
        Op::CreateEnum { name, .. } => schema.resolve(name) == old,
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{assert_mentions, flags, only_violation, HISTORY};

    #[test]
    fn flags_an_existing_type_and_says_how_prisma_breaks() {
        let v = only_violation(HISTORY, "ALTER TYPE \"Role\" RENAME TO \"UserRole\";", &RULE);
        assert_mentions(&v.message, "`$1::\"Role\"`");
        assert_mentions(&v.message, "no table is locked");
        assert_mentions(&v.help, "@@map(\"Role\")");
    }

    #[test]
    fn flags_a_type_the_history_does_not_know() {
        assert!(flags(HISTORY, "ALTER TYPE app.mood RENAME TO feeling;", &RULE));
    }

    #[test]
    fn ignores_a_type_created_in_the_pending_set() {
        let pending = "CREATE TYPE \"Mood\" AS ENUM ('ok');\nALTER TYPE \"Mood\" RENAME TO \"Feeling\";";
        assert!(!flags(HISTORY, pending, &RULE));
    }

    #[test]
    fn ignores_prismas_enum_recreate() {
        let pending = "CREATE TYPE \"Role_new\" AS ENUM ('USER', 'ADMIN');\n\
                       ALTER TYPE \"Role\" RENAME TO \"Role_old\";\n\
                       ALTER TYPE \"Role_new\" RENAME TO \"Role\";\n\
                       DROP TYPE \"Role_old\";";
        assert!(!flags(HISTORY, pending, &RULE));
    }
}
