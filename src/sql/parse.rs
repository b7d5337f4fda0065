//! Turn a raw statement into [`Op`]s: `sqlparser` (PostgreSqlDialect) first; when it cannot parse
//! valid PostgreSQL, [`super::understand`] hands the statement to the token classifier instead.

use sqlparser::ast;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::classify::is_null_default;
use super::ident;
use super::lex::{has_word, leading_keywords};
use super::model::{
    ColumnSpec, ConstraintKind, ConstraintSpec, ObjectName, Op, TransactionControl, TypeName,
};
use super::written::{alter_table_texts, create_table_texts, WrittenTexts};

/// The ops of a statement sqlparser parses and this module maps faithfully; `None` sends it to
/// the token classifier.
pub(super) fn parse(text: &str) -> Option<Vec<Op>> {
    map_statement(&parse_one(text)?, text)
}

fn parse_one(text: &str) -> Option<ast::Statement> {
    let dialect = PostgreSqlDialect {};
    // sqlparser is not written to panic, but "never panics, whatever the input" is our promise.
    let parsed = std::panic::catch_unwind(|| Parser::parse_sql(&dialect, text)).ok()?;
    let mut statements = parsed.ok()?;
    if statements.len() == 1 {
        statements.pop()
    } else {
        None
    }
}

/// `None` when the statement parsed but not into something we map faithfully: the token
/// classifier then looks at its tokens instead.
fn map_statement(statement: &ast::Statement, text: &str) -> Option<Vec<Op>> {
    use ast::Statement as S;
    let ops = match statement {
        S::CreateTable(create) => vec![create_table(create, text)],
        S::CreateIndex(index) => vec![Op::CreateIndex {
            name: index.name.as_ref().map(last_part),
            table: object_name(&index.table_name),
            columns: index.columns.iter().map(index_column).collect(),
            unique: index.unique,
            concurrently: index.concurrently,
            if_not_exists: index.if_not_exists,
            predicate: index.predicate.as_ref().map(ToString::to_string),
        }],
        S::AlterTable(alter) => {
            let table = object_name(&alter.name);
            let written = alter_table_texts(text);
            let mut ops = Vec::new();
            for (i, operation) in alter.operations.iter().enumerate() {
                let before = ops.len();
                alter_table_operation(&table, operation, text, &mut ops)?;
                if let Some(written) = written.get(i) {
                    for op in &mut ops[before..] {
                        use_written_texts(op, written);
                    }
                }
            }
            ops
        }
        S::Drop {
            object_type,
            if_exists,
            names,
            cascade,
            ..
        } => drop_objects(*object_type, *if_exists, names, *cascade, text)?,
        S::CreateType {
            name,
            representation: Some(ast::UserDefinedTypeRepresentation::Enum { labels }),
        } => vec![Op::CreateEnum {
            name: object_name(name),
            values: labels.iter().map(|label| label.value.clone()).collect(),
        }],
        S::AlterType(alter) => {
            let type_name = object_name(&alter.name);
            vec![match &alter.operation {
                ast::AlterTypeOperation::Rename(rename) => Op::RenameType {
                    type_name,
                    new_name: fold(&rename.new_name),
                },
                ast::AlterTypeOperation::AddValue(add) => Op::AddEnumValue {
                    type_name,
                    value: add.value.value.clone(),
                    if_not_exists: add.if_not_exists,
                },
                ast::AlterTypeOperation::RenameValue(rename) => Op::RenameEnumValue {
                    type_name,
                    value: rename.from.value.clone(),
                    new_value: rename.to.value.clone(),
                },
            }]
        }
        S::AlterIndex {
            name,
            operation: ast::AlterIndexOperation::RenameIndex { index_name },
        } => vec![Op::RenameIndex {
            name: object_name(name),
            new_name: last_part(index_name),
        }],
        S::Update(update) => vec![Op::Update {
            table: table_factor_name(&update.table.relation)?,
            has_where: update.selection.is_some(),
        }],
        S::Delete(delete) => {
            let tables = match &delete.from {
                ast::FromTable::WithFromKeyword(tables)
                | ast::FromTable::WithoutKeyword(tables) => tables,
            };
            let table = tables
                .first()
                .and_then(|t| table_factor_name(&t.relation))?;
            vec![Op::Delete {
                table,
                has_where: delete.selection.is_some(),
            }]
        }
        // MERGE changes the matched rows like an UPDATE or DELETE with a condition; its INSERT
        // only adds rows.
        S::Merge(merge) => {
            let table = table_factor_name(&merge.table)?;
            let does = |action: fn(&ast::MergeAction) -> bool| {
                merge.clauses.iter().any(|clause| action(&clause.action))
            };
            let mut ops = Vec::new();
            if does(|a| matches!(a, ast::MergeAction::Update(_))) {
                ops.push(Op::Update {
                    table: table.clone(),
                    has_where: true,
                });
            }
            if does(|a| matches!(a, ast::MergeAction::Delete { .. })) {
                ops.push(Op::Delete {
                    table: table.clone(),
                    has_where: true,
                });
            }
            if ops.is_empty() {
                ops.push(Op::Insert { table });
            }
            ops
        }
        S::Insert(insert) => match &insert.table {
            ast::TableObject::TableName(name) => vec![Op::Insert {
                table: object_name(name),
            }],
            _ => return None,
        },
        S::StartTransaction { .. } => vec![Op::Transaction(TransactionControl::Begin)],
        S::Commit { chain, .. } => chained(TransactionControl::Commit, *chain),
        S::Rollback {
            savepoint: None,
            chain,
        } => chained(TransactionControl::Rollback, *chain),
        S::Truncate(truncate) => truncate
            .table_names
            .iter()
            .map(|target| Op::Truncate {
                table: object_name(&target.name),
            })
            .collect(),
        S::CreateSchema {
            schema_name,
            if_not_exists,
            ..
        } => {
            let name = match schema_name {
                ast::SchemaName::Simple(name) | ast::SchemaName::NamedAuthorization(name, _) => {
                    last_part(name)
                }
                ast::SchemaName::UnnamedAuthorization(user) => fold(user),
            };
            vec![Op::CreateSchema {
                name,
                if_not_exists: *if_not_exists,
            }]
        }
        S::Query(query) => {
            let data_changes = query_data_changes(query, text);
            if data_changes.is_empty() {
                vec![Op::Other {
                    kind: leading_keywords(text),
                }]
            } else {
                data_changes
            }
        }
        // The token classifier reads every PostgreSQL form of these (VACUUM (FULL) a, b; lock
        // modes; the trigger's table; RENAME TO) and what the rules need of them.
        S::Vacuum(_) | S::Lock(_) | S::CreateTrigger(_) | S::AlterSchema(_) => return None,
        S::CreateView(view) if view.materialized => return None,
        S::CreateDomain(domain) => vec![Op::CreateDomain {
            name: object_name(&domain.name),
        }],
        S::CreateDatabase { .. } => vec![Op::NonTransactional {
            kind: leading_keywords(text),
        }],
        _ => vec![Op::Other {
            kind: leading_keywords(text),
        }],
    };
    Some(ops)
}

/// Data changes hidden in a query: `WITH ... UPDATE`, `WITH d AS (DELETE ... RETURNING *) SELECT`.
fn query_data_changes(query: &ast::Query, text: &str) -> Vec<Op> {
    let mut ops = Vec::new();
    if let Some(with) = &query.with {
        for cte in &with.cte_tables {
            ops.extend(query_data_changes(&cte.query, text));
        }
    }
    ops.extend(set_expr_data_changes(&query.body, text));
    ops
}

fn set_expr_data_changes(body: &ast::SetExpr, text: &str) -> Vec<Op> {
    match body {
        ast::SetExpr::Insert(statement)
        | ast::SetExpr::Update(statement)
        | ast::SetExpr::Delete(statement) => map_statement(statement, text).unwrap_or_default(),
        ast::SetExpr::Query(query) => query_data_changes(query, text),
        ast::SetExpr::SetOperation { left, right, .. } => {
            let mut ops = set_expr_data_changes(left, text);
            ops.extend(set_expr_data_changes(right, text));
            ops
        }
        _ => Vec::new(),
    }
}

fn create_table(create: &ast::CreateTable, text: &str) -> Op {
    let written = create_table_texts(text);
    let columns = create
        .columns
        .iter()
        .map(|column| {
            let mut spec = column_spec(column);
            if let Some(texts) = written
                .iter()
                .find(|w| w.column.as_deref() == Some(spec.name.as_str()))
            {
                column_written_texts(&mut spec, texts);
            }
            spec
        })
        .collect();
    Op::CreateTable {
        table: object_name(&create.name),
        columns,
        constraints: create
            .constraints
            .iter()
            .filter_map(table_constraint)
            .collect(),
        if_not_exists: create.if_not_exists,
        from_query: create.query.is_some() || create.like.is_some() || create.clone.is_some(),
    }
}

/// Inline constraints stay on the column (with `columns` = [name]), as the model documents.
fn column_spec(column: &ast::ColumnDef) -> ColumnSpec {
    let name = fold(&column.name);
    let mut spec = ColumnSpec {
        name: name.clone(),
        data_type: TypeName::parse(&column.data_type.to_string()),
        not_null: false,
        default: None,
        generated_stored: false,
        identity: false,
        constraints: Vec::new(),
    };
    for option in &column.options {
        let constraint_name = option.name.as_ref().map(fold);
        let kind = match &option.option {
            ast::ColumnOption::NotNull => {
                spec.not_null = true;
                None
            }
            ast::ColumnOption::Null => {
                spec.not_null = false;
                None
            }
            ast::ColumnOption::Default(expr) => {
                spec.default = Some(expr.to_string());
                None
            }
            ast::ColumnOption::Generated {
                generation_expr, ..
            } => {
                if generation_expr.is_some() {
                    spec.generated_stored = true;
                } else {
                    spec.identity = true;
                }
                None
            }
            ast::ColumnOption::Identity(_) => {
                spec.identity = true;
                None
            }
            ast::ColumnOption::PrimaryKey(_) => {
                // A primary key column is NOT NULL whether or not it says so.
                spec.not_null = true;
                Some(ConstraintKind::PrimaryKey {
                    columns: vec![name.clone()],
                    using_index: None,
                })
            }
            ast::ColumnOption::Unique(_) => Some(ConstraintKind::Unique {
                columns: vec![name.clone()],
                using_index: None,
            }),
            ast::ColumnOption::ForeignKey(foreign) => Some(ConstraintKind::ForeignKey {
                columns: vec![name.clone()],
                references: object_name(&foreign.foreign_table),
                referenced_columns: foreign.referred_columns.iter().map(fold).collect(),
            }),
            ast::ColumnOption::Check(check) => Some(ConstraintKind::Check {
                expression: check.expr.to_string(),
            }),
            _ => None,
        };
        if let Some(kind) = kind {
            spec.constraints.push(ConstraintSpec {
                name: constraint_name,
                kind,
                not_valid: false,
            });
        }
    }
    spec
}

/// Prefer the source's spelling of a type and DEFAULT over sqlparser's rendering; the type is
/// re-read from the source only when both readings agree on what it is.
fn column_written_texts(spec: &mut ColumnSpec, written: &WrittenTexts) {
    if let Some(type_sql) = &written.type_sql {
        let as_written = TypeName::parse(type_sql);
        if same_type(&as_written, &spec.data_type) {
            spec.data_type = as_written;
        }
    }
    if spec.default.is_some() {
        if let Some(default) = &written.default {
            spec.default = Some(default.clone());
        }
    }
}

fn same_type(a: &TypeName, b: &TypeName) -> bool {
    a.base == b.base && a.schema == b.schema && a.modifiers == b.modifiers && a.array == b.array
}

fn use_written_texts(op: &mut Op, written: &WrittenTexts) {
    let names_match = |column: &str| written.column.as_deref() == Some(column);
    match op {
        Op::AddColumn { column, .. } if names_match(&column.name) => {
            column_written_texts(column, written);
        }
        Op::AlterColumnType {
            column,
            new_type,
            using,
            ..
        } if names_match(column) => {
            if let Some(type_sql) = &written.type_sql {
                let as_written = TypeName::parse(type_sql);
                if same_type(&as_written, new_type) {
                    *new_type = as_written;
                }
            }
            if using.is_some() && written.using.is_some() {
                using.clone_from(&written.using);
            }
        }
        Op::SetDefault {
            column, default, ..
        } if names_match(column) => {
            if let Some(written) = &written.default {
                default.clone_from(written);
            }
        }
        _ => {}
    }
}

fn table_constraint(constraint: &ast::TableConstraint) -> Option<ConstraintSpec> {
    use ast::TableConstraint as C;
    let (name, kind) = match constraint {
        C::PrimaryKey(pk) => (
            pk.name.as_ref(),
            ConstraintKind::PrimaryKey {
                columns: pk.columns.iter().map(index_column).collect(),
                using_index: None,
            },
        ),
        C::Unique(unique) => (
            unique.name.as_ref(),
            ConstraintKind::Unique {
                columns: unique.columns.iter().map(index_column).collect(),
                using_index: None,
            },
        ),
        C::ForeignKey(foreign) => (
            foreign.name.as_ref(),
            ConstraintKind::ForeignKey {
                columns: foreign.columns.iter().map(fold).collect(),
                references: object_name(&foreign.foreign_table),
                referenced_columns: foreign.referred_columns.iter().map(fold).collect(),
            },
        ),
        C::Check(check) => (
            check.name.as_ref(),
            ConstraintKind::Check {
                expression: check.expr.to_string(),
            },
        ),
        C::PrimaryKeyUsingIndex(using) => (
            using.name.as_ref(),
            ConstraintKind::PrimaryKey {
                columns: Vec::new(),
                using_index: Some(fold(&using.index_name)),
            },
        ),
        C::UniqueUsingIndex(using) => (
            using.name.as_ref(),
            ConstraintKind::Unique {
                columns: Vec::new(),
                using_index: Some(fold(&using.index_name)),
            },
        ),
        C::Exclude(exclude) => (exclude.name.as_ref(), ConstraintKind::Exclude),
        C::Index(_) | C::FulltextOrSpatial(_) => return None,
    };
    Some(ConstraintSpec {
        name: name.map(fold),
        kind,
        not_valid: false,
    })
}

/// Push the op(s) of one ALTER TABLE action; `None` when the action is not one we map.
fn alter_table_operation(
    table: &ObjectName,
    operation: &ast::AlterTableOperation,
    text: &str,
    ops: &mut Vec<Op>,
) -> Option<()> {
    use ast::AlterTableOperation as A;
    let table = table.clone();
    match operation {
        A::AddConstraint {
            constraint,
            not_valid,
        } => {
            let mut constraint = table_constraint(constraint)?;
            constraint.not_valid = *not_valid;
            ops.push(Op::AddConstraint { table, constraint });
        }
        A::AddColumn {
            if_not_exists,
            column_def,
            ..
        } => {
            ops.push(Op::AddColumn {
                table,
                column: column_spec(column_def),
                if_not_exists: *if_not_exists,
            });
        }
        A::DropConstraint { name, .. } => ops.push(Op::DropConstraint {
            table,
            name: fold(name),
        }),
        A::DropColumn {
            column_names,
            if_exists,
            ..
        } => ops.extend(column_names.iter().map(|column| Op::DropColumn {
            table: table.clone(),
            column: fold(column),
            if_exists: *if_exists,
        })),
        A::RenameColumn {
            old_column_name,
            new_column_name,
        } => ops.push(Op::RenameColumn {
            table,
            column: fold(old_column_name),
            new_name: fold(new_column_name),
        }),
        A::RenameTable { table_name } => {
            let new_name = match table_name {
                ast::RenameTableNameKind::As(name) | ast::RenameTableNameKind::To(name) => name,
            };
            ops.push(Op::RenameTable {
                table,
                new_name: last_part(new_name),
            });
        }
        A::RenameConstraint { old_name, new_name } => ops.push(Op::RenameConstraint {
            table,
            name: fold(old_name),
            new_name: fold(new_name),
        }),
        A::ValidateConstraint { name } => ops.push(Op::ValidateConstraint {
            table,
            name: fold(name),
        }),
        A::AlterColumn { column_name, op } => {
            let column = fold(column_name);
            ops.push(match op {
                ast::AlterColumnOperation::SetNotNull => Op::SetNotNull { table, column },
                ast::AlterColumnOperation::DropNotNull => Op::DropNotNull { table, column },
                // PostgreSQL stores no default for a NULL one: it is DROP DEFAULT.
                ast::AlterColumnOperation::SetDefault { value }
                    if is_null_default(&value.to_string()) =>
                {
                    Op::DropDefault { table, column }
                }
                ast::AlterColumnOperation::SetDefault { value } => Op::SetDefault {
                    table,
                    column,
                    default: value.to_string(),
                },
                ast::AlterColumnOperation::DropDefault => Op::DropDefault { table, column },
                ast::AlterColumnOperation::SetDataType {
                    data_type, using, ..
                } => Op::AlterColumnType {
                    table,
                    column,
                    new_type: TypeName::parse(&data_type.to_string()),
                    using: using.as_ref().map(ToString::to_string),
                },
                _ => Op::Other {
                    kind: leading_keywords(text),
                },
            });
        }
        A::SetLogged | A::SetUnlogged => ops.push(Op::RewriteTable {
            table: Some(table),
            kind: if matches!(operation, A::SetLogged) {
                "SET LOGGED"
            } else {
                "SET UNLOGGED"
            }
            .to_string(),
        }),
        _ => ops.push(Op::Other {
            kind: leading_keywords(text),
        }),
    }
    Some(())
}

fn drop_objects(
    object_type: ast::ObjectType,
    if_exists: bool,
    names: &[ast::ObjectName],
    cascade: bool,
    text: &str,
) -> Option<Vec<Op>> {
    use ast::ObjectType as T;
    let ops = names.iter().map(|name| match object_type {
        T::Table => Op::DropTable {
            table: object_name(name),
            if_exists,
            cascade,
        },
        T::Index => Op::DropIndex {
            name: object_name(name),
            concurrently: false,
            if_exists,
        },
        T::Schema => Op::DropSchema {
            name: last_part(name),
            cascade,
        },
        T::Database => Op::DropDatabase {
            name: last_part(name),
        },
        T::Type => Op::DropType {
            type_name: object_name(name),
            if_exists,
        },
        _ => Op::Other {
            kind: leading_keywords(text),
        },
    });
    let mut ops: Vec<Op> = ops.collect();
    if object_type == T::Database {
        // DROP DATABASE refuses to run inside a transaction block.
        ops.push(Op::NonTransactional {
            kind: "DROP DATABASE".to_string(),
        });
    }
    // DROP INDEX CONCURRENTLY is not in sqlparser's grammar: if it ever parses, it must not
    // lose the keyword.
    if object_type == T::Index && has_word(text, "concurrently") {
        return None;
    }
    Some(ops)
}

fn table_factor_name(factor: &ast::TableFactor) -> Option<ObjectName> {
    match factor {
        // sqlparser reads `UPDATE ONLY "User"` as the table `ONLY` aliased "User".
        ast::TableFactor::Table {
            name,
            alias: Some(alias),
            ..
        } if !alias.explicit && is_only_keyword(name) => {
            Some(ObjectName::unqualified(&fold(&alias.name)))
        }
        ast::TableFactor::Table { name, .. } => Some(object_name(name)),
        _ => None,
    }
}

fn is_only_keyword(name: &ast::ObjectName) -> bool {
    match name.0.as_slice() {
        [part] => part
            .as_ident()
            .is_some_and(|i| i.quote_style.is_none() && i.value.eq_ignore_ascii_case("only")),
        _ => false,
    }
}

fn index_column(column: &ast::IndexColumn) -> String {
    match &column.column.expr {
        ast::Expr::Identifier(ident) => fold(ident),
        other => other.to_string(),
    }
}

fn fold(name: &ast::Ident) -> String {
    ident::fold(&name.value, name.quote_style.is_some())
}

fn part_name(part: &ast::ObjectNamePart) -> String {
    match part.as_ident() {
        Some(ident) => fold(ident),
        None => part.to_string(),
    }
}

fn last_part(name: &ast::ObjectName) -> String {
    name.0.last().map(part_name).unwrap_or_default()
}

fn object_name(name: &ast::ObjectName) -> ObjectName {
    let parts = &name.0;
    let schema = (parts.len() >= 2).then(|| part_name(&parts[parts.len() - 2]));
    ObjectName {
        schema,
        name: last_part(name),
    }
}

/// COMMIT or ROLLBACK; `AND CHAIN` starts a new transaction block at once (a BEGIN after it).
pub(super) fn chained(control: TransactionControl, chain: bool) -> Vec<Op> {
    let mut ops = vec![Op::Transaction(control)];
    if chain {
        ops.push(Op::Transaction(TransactionControl::Begin));
    }
    ops
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::{analyze_source, understand, Understanding};

    fn ops(sql: &str) -> Vec<Op> {
        let (ops, understanding) = understand(sql);
        assert_eq!(understanding, Understanding::Parsed, "{sql}");
        ops
    }

    fn name(name: &str) -> ObjectName {
        ObjectName::unqualified(name)
    }

    #[test]
    fn long_value_lists_and_case_mappings_are_parsed_not_cut_short() {
        // Common data migrations: thousands of operators, but no long chain of them.
        let rows: Vec<String> = (0..2_500).map(|i| format!("(-{i}, 'x' || 'y')")).collect();
        let insert = format!("INSERT INTO t (a, b) VALUES {}", rows.join(", "));
        assert!(matches!(ops(&insert)[..], [Op::Insert { .. }]));
        let whens: Vec<String> = (0..3_000)
            .map(|i| format!("WHEN id = {i} THEN {i}"))
            .collect();
        let update = format!("UPDATE t SET a = CASE {} END", whens.join(" "));
        assert!(matches!(ops(&update)[..], [Op::Update { .. }]));
        let ids: Vec<String> = (0..2_500).map(|i| format!("-{i}")).collect();
        let delete = format!("DELETE FROM t WHERE id IN ({})", ids.join(", "));
        assert!(matches!(ops(&delete)[..], [Op::Delete { .. }]));
    }

    #[test]
    fn prisma_create_table() {
        let [Op::CreateTable {
            table,
            columns,
            constraints,
            if_not_exists: false,
            from_query: false,
        }] = &ops(
            "CREATE TABLE \"User\" (\"id\" TEXT NOT NULL, \"createdAt\" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, \"email\" VARCHAR(255), CONSTRAINT \"User_pkey\" PRIMARY KEY (\"id\"))",
        )[..]
        else {
            panic!("not one CreateTable");
        };
        assert_eq!(table, &name("User"));
        let id = &columns[0];
        assert_eq!(
            (id.name.as_str(), id.data_type.base.as_str(), id.not_null),
            ("id", "text", true)
        );
        let created = &columns[1];
        assert_eq!(created.data_type.base, "timestamp");
        assert_eq!(created.data_type.modifiers, vec![3]);
        assert_eq!(created.default.as_deref(), Some("CURRENT_TIMESTAMP"));
        assert!(created.not_null);
        let email = &columns[2];
        assert_eq!(
            (
                email.data_type.base.as_str(),
                &email.data_type.modifiers[..],
                email.not_null
            ),
            ("varchar", &[255][..], false)
        );
        assert_eq!(
            constraints,
            &vec![ConstraintSpec {
                name: Some("User_pkey".into()),
                kind: ConstraintKind::PrimaryKey {
                    columns: vec!["id".into()],
                    using_index: None
                },
                not_valid: false
            }]
        );
    }

    #[test]
    fn prisma_unique_index() {
        assert_eq!(
            ops("CREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(\"email\")"),
            vec![Op::CreateIndex {
                name: Some("User_email_key".into()),
                table: name("User"),
                columns: vec!["email".into()],
                unique: true,
                concurrently: false,
                if_not_exists: false,
                predicate: None
            }]
        );
    }

    #[test]
    fn prisma_foreign_key() {
        assert_eq!(
            ops("ALTER TABLE \"Post\" ADD CONSTRAINT \"Post_authorId_fkey\" FOREIGN KEY (\"authorId\") REFERENCES \"User\"(\"id\") ON DELETE RESTRICT ON UPDATE CASCADE"),
            vec![Op::AddConstraint {
                table: name("Post"),
                constraint: ConstraintSpec {
                    name: Some("Post_authorId_fkey".into()),
                    kind: ConstraintKind::ForeignKey {
                        columns: vec!["authorId".into()],
                        references: name("User"),
                        referenced_columns: vec!["id".into()]
                    },
                    not_valid: false
                }
            }]
        );
    }

    #[test]
    fn prisma_enum_recreate() {
        let source = "-- AlterEnum\nBEGIN;\nCREATE TYPE \"Role_new\" AS ENUM ('USER', 'ADMIN');\nALTER TABLE \"User\" ALTER COLUMN \"role\" TYPE \"Role_new\" USING (\"role\"::text::\"Role_new\");\nALTER TYPE \"Role\" RENAME TO \"Role_old\";\nALTER TYPE \"Role_new\" RENAME TO \"Role\";\nDROP TYPE \"Role_old\";\nCOMMIT;\n";
        let statements = analyze_source(source);
        assert!(statements
            .iter()
            .all(|s| s.understanding == Understanding::Parsed));
        let ops: Vec<Op> = statements.into_iter().flat_map(|s| s.ops).collect();
        let [Op::Transaction(TransactionControl::Begin), Op::CreateEnum {
            name: enum_name,
            values,
        }, Op::AlterColumnType {
            table,
            column,
            new_type,
            using: Some(using),
        }, Op::RenameType {
            type_name: old,
            new_name: old_new,
        }, Op::RenameType {
            type_name: new,
            new_name: new_new,
        }, Op::DropType {
            type_name: dropped,
            if_exists: false,
        }, Op::Transaction(TransactionControl::Commit)] = &ops[..]
        else {
            panic!("unexpected ops {ops:?}");
        };
        assert_eq!(enum_name, &name("Role_new"));
        assert_eq!(values, &vec!["USER".to_string(), "ADMIN".to_string()]);
        assert_eq!((table, column.as_str()), (&name("User"), "role"));
        assert_eq!(
            (new_type.base.as_str(), new_type.schema.as_deref()),
            ("Role_new", None)
        );
        assert!(
            using.to_lowercase().contains("::text::\"role_new\""),
            "{using}"
        );
        assert_eq!((old, old_new.as_str()), (&name("Role"), "Role_old"));
        assert_eq!((new, new_new.as_str()), (&name("Role_new"), "Role"));
        assert_eq!(dropped, &name("Role_old"));
    }

    #[test]
    fn identifiers_fold_unquoted_to_lower_case() {
        assert_eq!(
            ops("DROP TABLE Users, \"Users\", App.\"Order\""),
            vec![
                Op::DropTable {
                    table: name("users"),
                    if_exists: false,
                    cascade: false
                },
                Op::DropTable {
                    table: name("Users"),
                    if_exists: false,
                    cascade: false
                },
                Op::DropTable {
                    table: ObjectName::new(Some("app"), "Order"),
                    if_exists: false,
                    cascade: false
                },
            ]
        );
    }

    #[test]
    fn multi_action_alter_table_is_one_op_per_action() {
        let table = || name("User");
        assert_eq!(
            ops("ALTER TABLE \"User\" DROP COLUMN \"old\", DROP COLUMN IF EXISTS b, ALTER COLUMN x SET NOT NULL, ALTER COLUMN y DROP NOT NULL, ALTER COLUMN z SET DEFAULT 0, ALTER COLUMN z DROP DEFAULT, RENAME COLUMN a TO \"B\""),
            vec![
                Op::DropColumn { table: table(), column: "old".into(), if_exists: false },
                Op::DropColumn { table: table(), column: "b".into(), if_exists: true },
                Op::SetNotNull { table: table(), column: "x".into() },
                Op::DropNotNull { table: table(), column: "y".into() },
                Op::SetDefault { table: table(), column: "z".into(), default: "0".into() },
                Op::DropDefault { table: table(), column: "z".into() },
                Op::RenameColumn { table: table(), column: "a".into(), new_name: "B".into() },
            ]
        );
    }

    #[test]
    fn add_column_variants() {
        let columns: Vec<ColumnSpec> = ops("ALTER TABLE t ADD COLUMN a uuid NOT NULL DEFAULT gen_random_uuid(), ADD COLUMN b BIGSERIAL, ADD COLUMN c int GENERATED ALWAYS AS (1 + 2) STORED, ADD COLUMN d bigint GENERATED BY DEFAULT AS IDENTITY, ADD COLUMN e \"Role\"[] , ADD COLUMN IF NOT EXISTS f int")
            .into_iter()
            .map(|op| match op {
                Op::AddColumn { column, .. } => column,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(columns[0].default.as_deref(), Some("gen_random_uuid()"));
        assert!(columns[0].not_null);
        assert_eq!(columns[1].data_type.base, "serial8");
        assert!(columns[2].generated_stored && !columns[2].identity);
        assert!(columns[3].identity && !columns[3].generated_stored);
        assert_eq!(
            (
                columns[4].data_type.base.as_str(),
                columns[4].data_type.array
            ),
            ("Role", true)
        );
    }

    #[test]
    fn constraints_not_valid_and_using_index() {
        assert_eq!(
            ops("ALTER TABLE t ADD CONSTRAINT c CHECK (\"x\" IS NOT NULL) NOT VALID, ADD CONSTRAINT u UNIQUE USING INDEX \"idx\", ADD CONSTRAINT p PRIMARY KEY USING INDEX i2, VALIDATE CONSTRAINT c"),
            vec![
                Op::AddConstraint { table: name("t"), constraint: ConstraintSpec { name: Some("c".into()), kind: ConstraintKind::Check { expression: "\"x\" IS NOT NULL".into() }, not_valid: true } },
                Op::AddConstraint { table: name("t"), constraint: ConstraintSpec { name: Some("u".into()), kind: ConstraintKind::Unique { columns: vec![], using_index: Some("idx".into()) }, not_valid: false } },
                Op::AddConstraint { table: name("t"), constraint: ConstraintSpec { name: Some("p".into()), kind: ConstraintKind::PrimaryKey { columns: vec![], using_index: Some("i2".into()) }, not_valid: false } },
                Op::ValidateConstraint { table: name("t"), name: "c".into() },
            ]
        );
    }

    #[test]
    fn enum_values_and_renames() {
        assert_eq!(
            ops("ALTER TYPE \"Role\" ADD VALUE IF NOT EXISTS 'GUEST' BEFORE 'USER'"),
            vec![Op::AddEnumValue {
                type_name: name("Role"),
                value: "GUEST".into(),
                if_not_exists: true
            }]
        );
        assert_eq!(
            ops("ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'"),
            vec![Op::RenameEnumValue {
                type_name: name("mood"),
                value: "sad".into(),
                new_value: "blue".into()
            }]
        );
        assert_eq!(
            ops("ALTER TABLE \"User\" RENAME TO \"Person\""),
            vec![Op::RenameTable {
                table: name("User"),
                new_name: "Person".into()
            }]
        );
        assert_eq!(
            ops("ALTER INDEX a RENAME TO b"),
            vec![Op::RenameIndex {
                name: name("a"),
                new_name: "b".into()
            }]
        );
    }

    #[test]
    fn data_changes_know_their_where() {
        assert_eq!(
            ops("UPDATE \"User\" SET a = 1 WHERE id = 2"),
            vec![Op::Update {
                table: name("User"),
                has_where: true
            }]
        );
        assert_eq!(
            ops("DELETE FROM \"User\""),
            vec![Op::Delete {
                table: name("User"),
                has_where: false
            }]
        );
        assert_eq!(
            ops("INSERT INTO t (a) VALUES (1)"),
            vec![Op::Insert { table: name("t") }]
        );
        assert_eq!(
            ops("TRUNCATE TABLE a, b"),
            vec![
                Op::Truncate { table: name("a") },
                Op::Truncate { table: name("b") }
            ]
        );
    }

    #[test]
    fn data_changes_on_only_name_the_table_not_the_keyword() {
        assert_eq!(
            ops("UPDATE ONLY \"User\" SET a = 1"),
            vec![Op::Update {
                table: name("User"),
                has_where: false
            }]
        );
        assert_eq!(
            ops("delete from only \"Log\" where at < now()"),
            vec![Op::Delete {
                table: name("Log"),
                has_where: true
            }]
        );
    }

    #[test]
    fn data_changes_inside_queries_are_found() {
        assert_eq!(
            ops("WITH s AS (SELECT 1) UPDATE \"User\" SET a = 1"),
            vec![Op::Update {
                table: name("User"),
                has_where: false
            }]
        );
        assert_eq!(
            ops("WITH gone AS (DELETE FROM \"Log\" WHERE at < now() RETURNING *) SELECT count(*) FROM gone"),
            vec![Op::Delete { table: name("Log"), has_where: true }]
        );
        assert_eq!(
            ops("SELECT setval('s', 1)"),
            vec![Op::Other {
                kind: "SELECT".into()
            }]
        );
        assert_eq!(
            ops("MERGE INTO \"User\" u USING staging s ON u.id = s.id WHEN MATCHED THEN UPDATE SET name = s.name"),
            vec![Op::Update { table: name("User"), has_where: true }]
        );
        // What each MERGE does is what its clauses do.
        assert_eq!(
            ops("MERGE INTO \"User\" u USING gone g ON u.id = g.id WHEN MATCHED THEN DELETE"),
            vec![Op::Delete {
                table: name("User"),
                has_where: true
            }]
        );
        assert_eq!(
            ops("MERGE INTO \"User\" u USING new n ON u.id = n.id WHEN NOT MATCHED THEN INSERT (id) VALUES (n.id)"),
            vec![Op::Insert { table: name("User") }]
        );
    }

    #[test]
    fn transactions_and_non_transactional() {
        assert_eq!(
            ops("BEGIN"),
            vec![Op::Transaction(TransactionControl::Begin)]
        );
        assert_eq!(
            ops("START TRANSACTION"),
            vec![Op::Transaction(TransactionControl::Begin)]
        );
        assert_eq!(
            ops("COMMIT"),
            vec![Op::Transaction(TransactionControl::Commit)]
        );
        assert_eq!(
            ops("END"),
            vec![Op::Transaction(TransactionControl::Commit)]
        );
        assert_eq!(
            ops("ROLLBACK"),
            vec![Op::Transaction(TransactionControl::Rollback)]
        );
        assert_eq!(
            ops("CREATE DATABASE d"),
            vec![Op::NonTransactional {
                kind: "CREATE DATABASE".into()
            }]
        );
        assert_eq!(
            ops("DROP SCHEMA s CASCADE"),
            vec![Op::DropSchema {
                name: "s".into(),
                cascade: true
            }]
        );
        assert_eq!(
            ops("DROP DATABASE d"),
            vec![
                Op::DropDatabase { name: "d".into() },
                Op::NonTransactional {
                    kind: "DROP DATABASE".into()
                }
            ]
        );
    }

    #[test]
    fn harmless_statements_are_other_with_their_kind() {
        assert_eq!(
            ops("CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\""),
            vec![Op::Other {
                kind: "CREATE EXTENSION".into()
            }]
        );
        assert_eq!(
            ops("COMMENT ON TABLE a IS 'x'"),
            vec![Op::Other {
                kind: "COMMENT ON".into()
            }]
        );
        assert_eq!(
            ops("GRANT SELECT ON a TO b"),
            vec![Op::Other {
                kind: "GRANT".into()
            }]
        );
        assert_eq!(
            ops("DROP VIEW v"),
            vec![Op::Other {
                kind: "DROP VIEW".into()
            }]
        );
    }

    #[test]
    fn defaults_types_and_using_are_kept_as_written() {
        let [Op::AlterColumnType { new_type, using, .. }] = &ops(
            "ALTER TABLE \"Task\" ALTER COLUMN \"status\" TYPE \"TaskStatus_new\" USING (\"status\"::text::\"TaskStatus_new\")",
        )[..] else {
            panic!()
        };
        assert_eq!(new_type.sql, "\"TaskStatus_new\"");
        assert_eq!(
            using.as_deref(),
            Some("(\"status\"::text::\"TaskStatus_new\")")
        );
        let altered = ops("ALTER TABLE t ADD COLUMN h text DEFAULT 'a'::text NOT NULL, ALTER COLUMN z SET DEFAULT now() at time zone 'utc'");
        let [Op::AddColumn { column, .. }, Op::SetDefault { default, .. }] = &altered[..] else {
            panic!("{altered:?}")
        };
        assert_eq!(
            (
                column.default.as_deref(),
                column.data_type.sql.as_str(),
                column.not_null
            ),
            (Some("'a'::text"), "text", true)
        );
        assert_eq!(default, "now() at time zone 'utc'");
        let [Op::AddColumn { column, .. }] =
            &ops("ALTER TABLE t ADD COLUMN s TEXT DEFAULT NULL NOT NULL")[..]
        else {
            panic!()
        };
        assert_eq!(column.default.as_deref(), Some("NULL"));
        let [Op::CreateTable { columns, .. }] = &ops("CREATE TABLE x (a numeric(10, 2) DEFAULT -1.5 NOT NULL, b varchar(3) COLLATE \"C\" DEFAULT ('x' || 'y'), CONSTRAINT p PRIMARY KEY (a))")[..] else {
            panic!()
        };
        assert_eq!(columns[0].data_type.sql, "numeric(10, 2)");
        assert_eq!(columns[0].default.as_deref(), Some("-1.5"));
        assert_eq!(columns[1].data_type.sql, "varchar(3)");
        assert_eq!(columns[1].default.as_deref(), Some("('x' || 'y')"));
    }

    #[test]
    fn statement_keeps_text_and_positions() {
        let source = "-- CreateIndex\n  DROP INDEX \"a\";";
        let statements = analyze_source(source);
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0].text, "DROP INDEX \"a\"");
        assert_eq!(
            (statements[0].start.line, statements[0].start.column),
            (2, 3)
        );
        assert_eq!(statements[0].span.start, 17);
    }

    #[test]
    fn type_names_are_canonical() {
        let cases = [
            ("INTEGER", "int4", vec![]),
            ("int", "int4", vec![]),
            ("BIGINT", "int8", vec![]),
            ("SMALLINT", "int2", vec![]),
            ("VARCHAR(20)", "varchar", vec![20]),
            ("CHARACTER VARYING(20)", "varchar", vec![20]),
            ("CHAR(2)", "bpchar", vec![2]),
            ("TEXT", "text", vec![]),
            ("TIMESTAMP(3)", "timestamp", vec![3]),
            ("TIMESTAMPTZ", "timestamptz", vec![]),
            ("TIMESTAMP(6) WITH TIME ZONE", "timestamptz", vec![6]),
            ("timestamp without time zone", "timestamp", vec![]),
            ("DOUBLE PRECISION", "float8", vec![]),
            ("REAL", "float4", vec![]),
            ("DECIMAL(65,30)", "numeric", vec![65, 30]),
            ("NUMERIC", "numeric", vec![]),
            ("BOOLEAN", "bool", vec![]),
            ("SERIAL", "serial4", vec![]),
            ("BIGSERIAL", "serial8", vec![]),
            ("SMALLSERIAL", "serial2", vec![]),
            ("JSONB", "jsonb", vec![]),
            ("UUID", "uuid", vec![]),
            ("Mood", "mood", vec![]),
            ("\"Role\"", "Role", vec![]),
            ("TIME(3) WITH TIME ZONE", "timetz", vec![3]),
            ("timestamp(3) without time zone", "timestamp", vec![3]),
            ("pg_catalog.int8", "int8", vec![]),
            ("float(10)", "float4", vec![]),
            ("FLOAT", "float8", vec![]),
            ("interval day to second", "interval", vec![]),
        ];
        for (sql, base, modifiers) in cases {
            let parsed = TypeName::parse(sql);
            assert_eq!(
                (parsed.base.as_str(), parsed.modifiers),
                (base, modifiers),
                "{sql}"
            );
            assert!(!parsed.array);
        }
        for written in ["TEXT[]", "text[][]", "TEXT ARRAY", "text[3]"] {
            let array = TypeName::parse(written);
            assert_eq!(
                (array.base.as_str(), array.array),
                ("text", true),
                "{written}"
            );
        }
        let qualified = TypeName::parse("app.\"Role\"[]");
        assert_eq!(
            (
                qualified.schema.as_deref(),
                qualified.base.as_str(),
                qualified.array
            ),
            (Some("app"), "Role", true)
        );
        // Through sqlparser's Display too.
        let [Op::AddColumn { column, .. }] =
            &ops("ALTER TABLE t ADD COLUMN a CHARACTER VARYING(10)[]")[..]
        else {
            panic!()
        };
        assert_eq!(
            (
                column.data_type.base.as_str(),
                &column.data_type.modifiers[..],
                column.data_type.array
            ),
            ("varchar", &[10][..], true)
        );
    }
}
