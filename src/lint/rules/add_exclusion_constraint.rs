//! `add-exclusion-constraint`: ADD CONSTRAINT ... EXCLUDE builds an index and checks every row
//! under ACCESS EXCLUSIVE.
//!
//! Unlike CHECK and FOREIGN KEY there is no `NOT VALID` for EXCLUDE, and unlike UNIQUE no
//! `USING INDEX` to build the index concurrently first: PostgreSQL offers no online path. On a
//! large table, do it in a maintenance window or build the new table alongside.

use super::advice::{self, Sql, FOR_THE_TABLE_SIZE};
use super::{Example, Impact, RuleContext, RuleInfo, Violation};
use crate::findings::Severity;
use crate::sql::{ConstraintKind, Op};

pub const RULE: RuleInfo = RuleInfo {
    id: "add-exclusion-constraint",
    default_severity: Severity::Error,
    impact: Impact::Blocks,
    summary: "ADD CONSTRAINT ... EXCLUDE builds an index and checks every row under ACCESS EXCLUSIVE",
    check: Some(check),
    file: include_str!("add_exclusion_constraint.rs"),
    example: Example::Migration(
        "ALTER TABLE \"User\" ADD CONSTRAINT \"User_email_excl\" EXCLUDE USING btree (\"email\" WITH =);\n",
    ),
};

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let Op::AddConstraint { table, constraint } = op else {
        return None;
    };
    if constraint.kind != ConstraintKind::Exclude || !advice::has_rows_in_production(ctx, table) {
        return None;
    }
    let sql = Sql::of(ctx);
    let table_sql = sql.table(table);
    let name = constraint
        .name
        .as_deref()
        .map(|n| format!(" {}", sql.ident(n)))
        .unwrap_or_default();
    let message = format!(
        "Adding the EXCLUDE constraint{name} on {table_sql} builds its index and checks every \
         existing row under an ACCESS EXCLUSIVE lock: the running app can neither read nor write \
         {table_sql} {FOR_THE_TABLE_SIZE}."
    );
    let help = format!(
        "PostgreSQL has no online way to add an EXCLUDE constraint (no NOT VALID, no USING INDEX \
         for EXCLUDE). On a large table, either add it in a maintenance window, or build the new \
         table alongside: CREATE TABLE with the constraint, copy the rows in batches outside the \
         migration, then swap the names in one short transaction. On a small table it is quick: \
         allow it with a reason, e.g.\n\
         -- migration-gate: allow add-exclusion-constraint reason: {} holds a few hundred rows",
        table.name
    );
    Some(Violation::new(message, help))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{assert_mentions, only_violation, violations};

    const HISTORY: &str = r#"CREATE TABLE "Booking" ("id" TEXT NOT NULL, "room" INTEGER NOT NULL, "during" TSTZRANGE NOT NULL);"#;
    const EXCLUDE: &str = r#"ALTER TABLE "Booking" ADD CONSTRAINT "Booking_room_during_excl" EXCLUDE USING gist ("room" WITH =, "during" WITH &&);"#;

    #[test]
    fn exclusion_constraint_on_an_existing_table_is_flagged() {
        let v = only_violation(HISTORY, EXCLUDE, &RULE);
        assert_mentions(&v.message, r#"EXCLUDE constraint "Booking_room_during_excl" on "Booking""#);
        assert_mentions(&v.message, "ACCESS EXCLUSIVE");
        assert_mentions(&v.message, "checks every existing row");
        assert_mentions(&v.help, "no NOT VALID");
        assert_mentions(&v.help, "allow add-exclusion-constraint reason:");
    }

    #[test]
    fn exclusion_constraint_on_a_new_table_is_fine() {
        let pending = format!(
            "{}\n{EXCLUDE}",
            HISTORY.replace("\"Booking\"", "\"Reservation\"")
        )
        .replace(
            r#"ALTER TABLE "Booking""#,
            r#"ALTER TABLE "Reservation""#,
        );
        assert!(violations(HISTORY, &pending, &RULE).is_empty());
    }

    #[test]
    fn other_constraints_are_left_to_their_rules() {
        let pending = r#"ALTER TABLE "Booking" ADD CONSTRAINT "room_positive" CHECK ("room" > 0);"#;
        assert!(violations(HISTORY, pending, &RULE).is_empty());
    }

    #[test]
    fn unknown_table_counts_as_existing() {
        let pending = "ALTER TABLE bookings ADD EXCLUDE USING gist (during WITH &&);";
        assert_eq!(violations("", pending, &RULE).len(), 1);
    }
}
