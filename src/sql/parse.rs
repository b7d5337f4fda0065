//! Turn a raw statement into [`Op`]s: `sqlparser` (PostgreSqlDialect) first; when it cannot parse
//! valid PostgreSQL, the token classifier in [`super::fallback`]. A `DO` body is analysed as SQL.

use sqlparser::ast;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::fallback;
use super::model::{
    ColumnSpec, ConstraintKind, ConstraintSpec, ObjectName, Op, Statement, TransactionControl,
    TypeName, Understanding,
};
use super::split::RawStatement;

pub fn understand(source: &str, raw: RawStatement) -> Statement {
    let text = raw.text(source);
    let (ops, understanding) = understand_text(text);
    Statement {
        text: text.to_string(),
        span: raw.span,
        start: raw.start,
        end: raw.end,
        ops,
        understanding,
    }
}

/// The ops of one statement's text (no terminating `;`) and how well it was understood.
pub(crate) fn understand_text(text: &str) -> (Vec<Op>, Understanding) {
    if let Some(result) = fallback::understand_do_block(text) {
        return result;
    }
    match parse_one(text) {
        Some(statement) => match map_statement(&statement, text) {
            Some(ops) => (ops, Understanding::Parsed),
            None => fallback::classify(text),
        },
        None => fallback::classify(text),
    }
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

/// `None` when the statement parsed but not into something we map faithfully: the fallback
/// then looks at its tokens instead.
fn map_statement(statement: &ast::Statement, text: &str) -> Option<Vec<Op>> {
    use ast::Statement as S;
    let ops = match statement {
        S::CreateTable(create) => vec![create_table(create)],
        S::CreateIndex(index) => vec![Op::CreateIndex {
            name: index.name.as_ref().map(last_part),
            table: object_name(&index.table_name),
            columns: index.columns.iter().map(index_column).collect(),
            unique: index.unique,
            concurrently: index.concurrently,
            if_not_exists: index.if_not_exists,
        }],
        S::AlterTable(alter) => {
            let table = object_name(&alter.name);
            let mut ops = Vec::new();
            for operation in &alter.operations {
                alter_table_operation(&table, operation, text, &mut ops)?;
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
        S::Insert(insert) => match &insert.table {
            ast::TableObject::TableName(name) => vec![Op::Insert {
                table: object_name(name),
            }],
            _ => return None,
        },
        S::StartTransaction { .. } => vec![Op::Transaction(TransactionControl::Begin)],
        S::Commit { .. } => vec![Op::Transaction(TransactionControl::Commit)],
        S::Rollback {
            savepoint: None, ..
        } => vec![Op::Transaction(TransactionControl::Rollback)],
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
        S::CreateDatabase { .. } | S::Vacuum(_) => vec![Op::NonTransactional {
            kind: fallback::leading_keywords(text),
        }],
        _ => vec![Op::Other {
            kind: fallback::leading_keywords(text),
        }],
    };
    Some(ops)
}

fn create_table(create: &ast::CreateTable) -> Op {
    let mut constraints = Vec::new();
    let columns = create
        .columns
        .iter()
        .map(|column| column_spec(column, &mut constraints))
        .collect();
    constraints.extend(create.constraints.iter().filter_map(table_constraint));
    Op::CreateTable {
        table: object_name(&create.name),
        columns,
        constraints,
        if_not_exists: create.if_not_exists,
        from_query: create.query.is_some() || create.like.is_some() || create.clone.is_some(),
    }
}

/// `_table_level` is unused for now: inline constraints stay on the column (with `columns` =
/// [name]) as the model documents.
fn column_spec(column: &ast::ColumnDef, _table_level: &mut Vec<ConstraintSpec>) -> ColumnSpec {
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
            let mut ignored = Vec::new();
            ops.push(Op::AddColumn {
                table,
                column: column_spec(column_def, &mut ignored),
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
                    kind: fallback::leading_keywords(text),
                },
            });
        }
        _ => ops.push(Op::Other {
            kind: fallback::leading_keywords(text),
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
            kind: fallback::leading_keywords(text),
        },
    });
    let ops: Vec<Op> = ops.collect();
    // DROP INDEX CONCURRENTLY is not in sqlparser's grammar: if it ever parses, it must not
    // lose the keyword.
    if object_type == T::Index && fallback::has_word(text, "concurrently") {
        return None;
    }
    Some(ops)
}

fn table_factor_name(factor: &ast::TableFactor) -> Option<ObjectName> {
    match factor {
        ast::TableFactor::Table { name, .. } => Some(object_name(name)),
        _ => None,
    }
}

fn index_column(column: &ast::IndexColumn) -> String {
    match &column.column.expr {
        ast::Expr::Identifier(ident) => fold(ident),
        other => other.to_string(),
    }
}

/// PostgreSQL folding: unquoted identifiers to lower case, quoted ones exact.
pub(crate) fn fold(ident: &ast::Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_ascii_lowercase()
    }
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
