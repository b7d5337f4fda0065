//! `unbatched-data-change`: UPDATE / DELETE over an existing table in one transaction: long row
//! locks, bloat. A migration holds every touched row locked until it commits.

use super::{key_column, RuleContext, Violation};
use crate::sql::Op;

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let (verb, table, has_where) = match op {
        Op::Update { table, has_where } => ("UPDATE", table, *has_where),
        Op::Delete { table, has_where } => ("DELETE", table, *has_where),
        _ => return None,
    };
    if ctx.schema.is_new_table(table) {
        return None;
    }
    let id = key_column(ctx.schema, table);
    let rows = if has_where {
        "every matching row"
    } else {
        "every row"
    };
    let batch = match verb {
        "UPDATE" => format!(
            "UPDATE {table} SET <change> WHERE {id} IN (SELECT {id} FROM {table} WHERE <not yet \
             changed> LIMIT 1000);"
        ),
        _ => format!(
            "DELETE FROM {table} WHERE {id} IN (SELECT {id} FROM {table} WHERE <condition> LIMIT \
             1000);"
        ),
    };
    Some(Violation {
        message: format!(
            "{verb} on {table} changes {rows} in the migration's single transaction: the rows stay \
             locked against the app's writes until the migration commits, and a big table means a \
             long migration, WAL volume and dead-row bloat"
        ),
        help: format!(
            "Change the data outside the migration, in batches that each commit on their own \
             (a script or job): `{batch}` repeated until it affects 0 rows."
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{name, run, schema, statement};

    fn update(table: &str, has_where: bool) -> crate::sql::Statement {
        statement(
            "UPDATE t SET x = 1",
            vec![Op::Update {
                table: name(table),
                has_where,
            }],
        )
    }

    #[test]
    fn flags_update_and_delete_on_existing_tables_with_a_batched_loop() {
        let v = run(check, &schema(), &update("User", false)).expect("finding");
        assert!(v.message.contains("every row"));
        assert!(
            v.help.contains(
                "UPDATE \"User\" SET <change> WHERE id IN (SELECT id FROM \"User\" WHERE"
            ),
            "{}",
            v.help
        );
        let delete = statement(
            "DELETE FROM \"User\" WHERE x",
            vec![Op::Delete {
                table: name("User"),
                has_where: true,
            }],
        );
        let v = run(check, &schema(), &delete).expect("finding");
        assert!(v.message.contains("every matching row"));
        assert!(v.help.contains("DELETE FROM \"User\" WHERE id IN"));
    }

    #[test]
    fn ignores_new_tables_and_inserts() {
        assert_eq!(run(check, &schema(), &update("Draft", false)), None);
        let insert = statement(
            "INSERT INTO \"User\" VALUES (1)",
            vec![Op::Insert {
                table: name("User"),
            }],
        );
        assert_eq!(run(check, &schema(), &insert), None);
    }
}
