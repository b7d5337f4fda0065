//! The schema model: the history that is already applied is replayed to know the *existing*
//! schema; the pending migrations are then applied statement by statement so each rule sees the
//! schema just before its statement. Objects created in the pending set are *new*: a new table is
//! empty, so locking and rewrite rules do not fire on it. Objects the history does not know are
//! treated as existing (conservative). Names resolve the PostgreSQL way: unqualified → `public`.

mod replay;

use std::collections::HashMap;

use crate::sql::ident;
use crate::sql::{
    BodyOp, ColumnSpec, ConstraintKind, ConstraintSpec, ObjectName, TypeName, Volatility,
};

/// Whether an operation comes from the applied history or from the pending set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Existing,
    Pending,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Column {
    pub name: String,
    pub data_type: TypeName,
    pub not_null: bool,
    pub default: Option<String>,
    /// Added in the pending set.
    pub is_new: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Table {
    /// Schema-qualified (resolved) name.
    pub name: ObjectName,
    pub columns: Vec<Column>,
    /// Named and unnamed table constraints, including validated/NOT VALID state.
    pub constraints: Vec<ConstraintSpec>,
    /// Created in the pending set (empty in production).
    pub is_new: bool,
    /// The name production knows the table by, when the pending set renamed it or moved it to
    /// another schema (table sizes are looked up by it).
    pub production_name: Option<ObjectName>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Index {
    pub name: ObjectName,
    pub table: ObjectName,
    /// The indexed columns, or the expressions as written (`lower(email)`).
    pub columns: Vec<String>,
    pub unique: bool,
    pub is_new: bool,
    /// The WHERE of a partial index, as written.
    pub predicate: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EnumType {
    pub name: ObjectName,
    pub values: Vec<String>,
    pub is_new: bool,
    /// Values added (ALTER TYPE ... ADD VALUE) in the pending set: no row holds them yet.
    pub new_values: Vec<String>,
}

/// Objects of one kind, by schema then name: lookups borrow the caller's strings (no allocation
/// on the hot path of a 5,000-migration replay).
type ByName<T> = HashMap<String, HashMap<String, T>>;

fn get<'a, T>(map: &'a ByName<T>, name: &ObjectName) -> Option<&'a T> {
    map.get(schema_of(name))?.get(&name.name)
}

fn get_mut<'a, T>(map: &'a mut ByName<T>, name: &ObjectName) -> Option<&'a mut T> {
    map.get_mut(schema_of(name))?.get_mut(&name.name)
}

fn remove<T>(map: &mut ByName<T>, name: &ObjectName) -> Option<T> {
    map.get_mut(schema_of(name))?.remove(&name.name)
}

fn insert<T>(map: &mut ByName<T>, name: &ObjectName, value: T) {
    map.entry(schema_of(name).to_string())
        .or_default()
        .insert(name.name.clone(), value);
}

fn schema_of(name: &ObjectName) -> &str {
    name.schema.as_deref().unwrap_or(DEFAULT_SCHEMA)
}

const DEFAULT_SCHEMA: &str = "public";

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Schema {
    /// Schema name → created in the pending set.
    schemas: HashMap<String, bool>,
    tables: ByName<Table>,
    indexes: ByName<Index>,
    enums: ByName<EnumType>,
    /// Enum names that a type held before it was renamed away or dropped, with whether that
    /// type was new: Prisma's enum recreate renames `E_new` onto the old `E`, which must stay
    /// an existing type.
    #[serde(with = "pairs")]
    vacated_enum_names: HashMap<(String, String), bool>,
    /// Enums created by the migration being applied now (see [`Schema::begin_migration`]).
    enums_of_current_migration: Vec<ObjectName>,
    /// What the body of each user function / procedure does when called, so a pending
    /// `SELECT f()` is judged by it, wherever `f` was created; every overload of a name.
    routines: ByName<Vec<Routine>>,
    /// Materialized views, by whether they were created in the pending set.
    materialized_views: ByName<bool>,
    /// Domains, by whether they were created in the pending set.
    domains: ByName<bool>,
    /// A statement the model could not read (unparsed, or in a file with an unterminated
    /// token) was replayed, or one whose index PostgreSQL named in a way the model cannot
    /// follow: it may have created objects the model does not know.
    read_incompletely: bool,
}

/// A map with pair keys as a sorted list of entries (JSON keys must be strings; sorted, so the
/// same schema is always written the same way).
mod pairs {
    use std::collections::HashMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    type Key = (String, String);

    pub fn serialize<S: Serializer>(map: &HashMap<Key, bool>, to: S) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(&Key, &bool)> = map.iter().collect();
        entries.sort();
        entries.serialize(to)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(from: D) -> Result<HashMap<Key, bool>, D::Error> {
        Ok(Vec::<(Key, bool)>::deserialize(from)?.into_iter().collect())
    }
}

/// One overload of a user routine.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Routine {
    signature: String,
    body: Vec<BodyOp>,
    /// The routines its body calls, followed when a call reaches it.
    calls: Vec<ObjectName>,
    volatility: Volatility,
    inline_expression: Option<String>,
}

impl Schema {
    pub fn new() -> Self {
        Schema::default()
    }

    /// Marks the start of a new migration file, so the model knows which objects the current
    /// file (one transaction) created.
    pub fn begin_migration(&mut self) {
        self.enums_of_current_migration.clear();
    }

    /// The enum was created by the migration being applied now (same transaction). Note that
    /// PostgreSQL still refuses a value added by ALTER TYPE ... ADD VALUE in that transaction.
    pub fn enum_created_in_current_migration(&self, name: &ObjectName) -> bool {
        let resolved = self.resolve(name);
        self.enums_of_current_migration.contains(&resolved)
    }

    /// True only for schemas created in the pending set; unknown schemas count as existing.
    /// `public` always exists (Prisma's first migration may still say `CREATE SCHEMA IF NOT EXISTS
    /// "public"`).
    pub fn is_new_schema(&self, name: &str) -> bool {
        name != DEFAULT_SCHEMA && self.schemas.get(name).copied().unwrap_or(false)
    }

    /// Nothing in the model comes from the pending set: true of every schema a replay of the
    /// history alone leaves, so a cached schema that says otherwise was not written by one.
    pub fn holds_only_history(&self) -> bool {
        let values = |map: &ByName<bool>| map.values().flat_map(HashMap::values).all(|new| !new);
        self.schemas.values().all(|new| !new)
            && self
                .tables
                .values()
                .flat_map(HashMap::values)
                .all(|t| !t.is_new && t.columns.iter().all(|c| !c.is_new))
            && self
                .indexes
                .values()
                .flat_map(HashMap::values)
                .all(|i| !i.is_new)
            && self
                .enums
                .values()
                .flat_map(HashMap::values)
                .all(|e| !e.is_new && e.new_values.is_empty())
            && self.vacated_enum_names.values().all(|new| !new)
            && values(&self.materialized_views)
            && values(&self.domains)
    }

    /// Marks that a statement the model could not read was replayed.
    pub fn note_unread_statement(&mut self) {
        self.read_incompletely = true;
    }

    /// Every statement replayed so far was read: an index the model does not know was never
    /// created (by name; an index created by `CREATE TABLE ... LIKE`, an unnamed index on an
    /// expression or under a name already taken, or an unnamed EXCLUDE is not known by name).
    pub fn knows_every_index(&self) -> bool {
        !self.read_incompletely
    }

    /// Each overload of a user function: its declared volatility and, when PostgreSQL inlines
    /// it, its expression. `None` when the history does not define the function.
    pub fn routine_volatility(&self, name: &ObjectName) -> Option<Vec<(Volatility, Option<&str>)>> {
        let overloads = get(&self.routines, name)?;
        Some(
            overloads
                .iter()
                .map(|o| (o.volatility, o.inline_expression.as_deref()))
                .collect(),
        )
    }

    pub fn has_routines(&self) -> bool {
        self.routines
            .values()
            .any(|in_schema| !in_schema.is_empty())
    }

    /// The bodies of every overload of a user routine, as far as understood; `None` when unknown.
    pub fn routine_body(&self, name: &ObjectName) -> Option<Vec<BodyOp>> {
        let overloads = get(&self.routines, name)?;
        Some(overloads.iter().flat_map(|o| o.body.clone()).collect())
    }

    /// The routines the bodies of a user routine's overloads call; empty when unknown.
    pub fn routine_calls(&self, name: &ObjectName) -> Vec<ObjectName> {
        get(&self.routines, name)
            .into_iter()
            .flatten()
            .flat_map(|o| o.calls.clone())
            .collect()
    }

    /// `name` with its schema filled in (`public` when unqualified).
    pub fn resolve(&self, name: &ObjectName) -> ObjectName {
        ObjectName {
            schema: Some(name.schema.clone().unwrap_or_else(|| "public".to_string())),
            name: name.name.clone(),
        }
    }

    pub fn table(&self, name: &ObjectName) -> Option<&Table> {
        get(&self.tables, name)
    }

    /// True only for tables created in the pending set; unknown tables count as existing.
    pub fn is_new_table(&self, name: &ObjectName) -> bool {
        self.table(name).is_some_and(|t| t.is_new)
    }

    pub fn column(&self, table: &ObjectName, column: &str) -> Option<&Column> {
        self.table(table)?.columns.iter().find(|c| c.name == column)
    }

    pub fn index(&self, name: &ObjectName) -> Option<&Index> {
        get(&self.indexes, name)
    }

    /// The indexes of a table, by name.
    pub fn indexes_on(&self, table: &ObjectName) -> Vec<&Index> {
        let table = self.resolve(table);
        let mut found: Vec<&Index> = self
            .indexes
            .get(schema_of(&table))
            .into_iter()
            .flat_map(|m| m.values())
            .filter(|i| i.table == table)
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        found
    }

    pub fn enum_type(&self, name: &ObjectName) -> Option<&EnumType> {
        get(&self.enums, name)
    }

    /// True only for materialized views created in the pending set (nothing reads them yet);
    /// unknown views count as existing.
    pub fn is_new_materialized_view(&self, name: &ObjectName) -> bool {
        get(&self.materialized_views, name)
            .copied()
            .unwrap_or(false)
    }

    /// True only for domains created in the pending set; unknown domains count as existing.
    pub fn is_new_domain(&self, name: &ObjectName) -> bool {
        get(&self.domains, name).copied().unwrap_or(false)
    }

    /// The tables holding rows in production (not created in the pending set) with a column of
    /// type `type_name`, sorted; tables the history does not know may have some too.
    pub fn existing_tables_using_type(&self, type_name: &ObjectName) -> Vec<ObjectName> {
        let wanted = self.resolve(type_name);
        let mut found: Vec<ObjectName> = self
            .tables
            .values()
            .flat_map(HashMap::values)
            .filter(|t| !t.is_new)
            .filter(|t| {
                t.columns.iter().any(|c| {
                    c.data_type.base == wanted.name
                        && c.data_type.schema.as_deref().unwrap_or(DEFAULT_SCHEMA)
                            == schema_of(&wanted)
                })
            })
            .map(|t| t.name.clone())
            .collect();
        found.sort();
        found
    }

    /// Whether a table holding rows in production has a foreign key to `table` (to `column` of
    /// it, when given; a key written without columns counts for every column): deleting from
    /// `table` then checks (or cascades into) that table, row by row, and changing the type of
    /// a referenced column validates the key again, reading that table.
    pub fn is_referenced_by_existing_table(
        &self,
        table: &ObjectName,
        column: Option<&str>,
    ) -> bool {
        let wanted = self.resolve(table);
        self.tables
            .values()
            .flat_map(HashMap::values)
            .filter(|t| !t.is_new)
            .flat_map(|t| &t.constraints)
            .any(|c| {
                matches!(&c.kind, ConstraintKind::ForeignKey { references, referenced_columns, .. }
                if self.resolve(references) == wanted
                    && column.is_none_or(|column| {
                        referenced_columns.is_empty()
                            || referenced_columns.iter().any(|c| c == column)
                    }))
            })
    }

    /// True only for an enum created in the pending set; unknown types count as existing.
    pub fn is_new_enum(&self, name: &ObjectName) -> bool {
        self.enum_type(name).is_some_and(|e| e.is_new)
    }

    /// A validated `CHECK (column IS NOT NULL)` exists on the table (lets SET NOT NULL skip the
    /// full scan on PostgreSQL ≥ 12).
    pub fn has_validated_not_null_check(&self, table: &ObjectName, column: &str) -> bool {
        self.table(table).is_some_and(|t| {
            t.constraints.iter().any(|c| {
                !c.not_valid
                    && matches!(&c.kind, ConstraintKind::Check { expression }
                        if is_not_null_check_of(expression, column))
            })
        })
    }
}

fn column_of(spec: &ColumnSpec, is_new: bool) -> Column {
    let primary_key = spec
        .constraints
        .iter()
        .any(|c| matches!(c.kind, ConstraintKind::PrimaryKey { .. }));
    Column {
        name: spec.name.clone(),
        data_type: spec.data_type.clone(),
        not_null: spec.not_null || primary_key,
        default: spec.default.clone(),
        is_new,
    }
}

/// A column's inline constraints as table constraints (their `columns` name the column).
fn inline_constraints(table: &str, column: &ColumnSpec) -> Vec<ConstraintSpec> {
    column
        .constraints
        .iter()
        .cloned()
        .map(|mut c| {
            if c.name.is_none() {
                if let ConstraintKind::Check { .. } = c.kind {
                    // PostgreSQL names a column CHECK after its column.
                    c.name = Some(generated_name(
                        table,
                        std::slice::from_ref(&column.name),
                        "check",
                    ));
                }
            }
            c
        })
        .collect()
}

fn constraint_columns(kind: &ConstraintKind) -> &[String] {
    match kind {
        ConstraintKind::PrimaryKey { columns, .. }
        | ConstraintKind::Unique { columns, .. }
        | ConstraintKind::ForeignKey { columns, .. } => columns,
        ConstraintKind::Check { .. } | ConstraintKind::Exclude => &[],
    }
}

fn rename_in_constraint(kind: &mut ConstraintKind, column: &str, new_name: &str) {
    let columns = match kind {
        ConstraintKind::PrimaryKey { columns, .. }
        | ConstraintKind::Unique { columns, .. }
        | ConstraintKind::ForeignKey { columns, .. } => columns,
        ConstraintKind::Check { .. } | ConstraintKind::Exclude => return,
    };
    for c in columns.iter_mut().filter(|c| *c == column) {
        *c = new_name.to_string();
    }
}

/// The name PostgreSQL gives an unnamed constraint: `users_pkey`, `users_email_key`,
/// `orders_user_id_fkey`, `users_check`.
fn default_constraint_name(table: &str, kind: &ConstraintKind) -> String {
    match kind {
        ConstraintKind::PrimaryKey { .. } => generated_name(table, &[], "pkey"),
        ConstraintKind::Unique { columns, .. } => generated_name(table, columns, "key"),
        ConstraintKind::ForeignKey { columns, .. } => generated_name(table, columns, "fkey"),
        ConstraintKind::Check { .. } => generated_name(table, &[], "check"),
        ConstraintKind::Exclude => generated_name(table, &[], "excl"),
    }
}

fn generated_name(table: &str, columns: &[String], suffix: &str) -> String {
    let mut name = table.to_string();
    for column in columns {
        name.push('_');
        name.push_str(column);
    }
    name.push('_');
    name.push_str(suffix);
    ident::truncate_to_max_bytes(name)
}

/// `expression` is `column IS NOT NULL`, in any quoting, case, spacing or parenthesisation:
/// `"email" IS NOT NULL`, `((email)) is not null`, `("Email" IS NOT NULL)`.
fn is_not_null_check_of(expression: &str, column: &str) -> bool {
    let expression = strip_parens(expression);
    let upper = expression.to_ascii_uppercase();
    let words: Vec<&str> = upper.split_whitespace().collect();
    let tail = ["IS", "NOT", "NULL"];
    if words.len() < 4 || words[words.len() - 3..] != tail {
        return false;
    }
    // Byte position of the trailing `IS`: ASCII upper-casing keeps byte offsets.
    let Some(is_at) = upper.rfind("IS") else {
        return false;
    };
    let operand = strip_parens(expression[..is_at].trim_end());
    ident::fold_written(operand).as_deref() == Some(column)
}

/// `expression` (a CHECK, an index expression) refers to `column`: an identifier, quoted or not,
/// outside string literals, folds to it.
pub fn expression_mentions(expression: &str, column: &str) -> bool {
    let mut chars = expression.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        match c {
            '\'' => {
                // Doubled quotes inside a literal read as two literals: same result.
                for (_, c) in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                }
            }
            '"' => {
                let mut word = String::new();
                while let Some((_, c)) = chars.next() {
                    if c == '"' {
                        if chars.peek().is_some_and(|&(_, n)| n == '"') {
                            chars.next();
                            word.push('"');
                        } else {
                            break;
                        }
                    } else {
                        word.push(c);
                    }
                }
                if word == column {
                    return true;
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut end = start + c.len_utf8();
                while let Some(&(i, n)) = chars.peek() {
                    if !(n.is_alphanumeric() || n == '_' || n == '$') {
                        break;
                    }
                    end = i + n.len_utf8();
                    chars.next();
                }
                if ident::fold(&expression[start..end], false) == column {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// Removes balanced outer parentheses and surrounding whitespace.
fn strip_parens(mut text: &str) -> &str {
    loop {
        text = text.trim();
        let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) else {
            return text;
        };
        if !balanced(inner) {
            return text;
        }
        text = inner;
    }
}

fn balanced(text: &str) -> bool {
    let mut depth = 0i32;
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Op;

    fn name(n: &str) -> ObjectName {
        match n.split_once('.') {
            Some((s, n)) => ObjectName::new(Some(s), n),
            None => ObjectName::unqualified(n),
        }
    }

    fn ty(base: &str) -> TypeName {
        TypeName {
            base: base.to_string(),
            schema: None,
            modifiers: vec![],
            array: false,
            sql: base.to_string(),
        }
    }

    fn col(n: &str, base: &str, not_null: bool) -> ColumnSpec {
        ColumnSpec {
            name: n.to_string(),
            data_type: ty(base),
            not_null,
            default: None,
            generated_stored: false,
            identity: false,
            constraints: vec![],
        }
    }

    fn create_table(t: &str, columns: Vec<ColumnSpec>) -> Op {
        Op::CreateTable {
            table: name(t),
            columns,
            constraints: vec![ConstraintSpec {
                name: Some(format!("{t}_pkey")),
                kind: ConstraintKind::PrimaryKey {
                    columns: vec!["id".into()],
                    using_index: None,
                },
                not_valid: false,
            }],
            if_not_exists: false,
            from_query: false,
        }
    }

    fn check(table: &str, constraint: &str, expression: &str, not_valid: bool) -> Op {
        Op::AddConstraint {
            table: name(table),
            constraint: ConstraintSpec {
                name: Some(constraint.to_string()),
                kind: ConstraintKind::Check {
                    expression: expression.to_string(),
                },
                not_valid,
            },
        }
    }

    fn users() -> Schema {
        let mut s = Schema::new();
        s.apply(
            &create_table(
                "User",
                vec![col("id", "int4", true), col("email", "text", false)],
            ),
            Origin::Existing,
        );
        s
    }

    #[test]
    fn existing_and_pending_tables_and_columns() {
        let mut s = users();
        s.apply(
            &create_table("Post", vec![col("id", "int4", true)]),
            Origin::Pending,
        );
        s.apply(
            &Op::AddColumn {
                table: name("User"),
                column: col("name", "text", false),
                if_not_exists: false,
            },
            Origin::Pending,
        );
        assert!(!s.is_new_table(&name("User")));
        assert!(!s.is_new_table(&name("public.User")));
        assert!(s.is_new_table(&name("Post")));
        assert!(
            !s.is_new_table(&name("Unknown")),
            "unknown counts as existing"
        );
        assert!(!s.column(&name("User"), "email").unwrap().is_new);
        assert!(s.column(&name("User"), "name").unwrap().is_new);
        assert!(
            s.column(&name("user"), "email").is_none(),
            "names are case-exact"
        );
        // The primary key index exists, named after its constraint.
        assert!(s
            .index(&name("User_pkey"))
            .is_some_and(|i| i.unique && !i.is_new));
    }

    #[test]
    fn column_changes_are_replayed() {
        let mut s = users();
        let t = name("User");
        s.apply(
            &Op::SetNotNull {
                table: t.clone(),
                column: "email".into(),
            },
            Origin::Existing,
        );
        s.apply(
            &Op::SetDefault {
                table: t.clone(),
                column: "email".into(),
                default: "''".into(),
            },
            Origin::Existing,
        );
        s.apply(
            &Op::AlterColumnType {
                table: t.clone(),
                column: "email".into(),
                new_type: ty("varchar"),
                using: None,
            },
            Origin::Existing,
        );
        let c = s.column(&t, "email").unwrap();
        assert!(c.not_null);
        assert_eq!(c.default.as_deref(), Some("''"));
        assert_eq!(c.data_type.base, "varchar");
        s.apply(
            &Op::RenameColumn {
                table: t.clone(),
                column: "email".into(),
                new_name: "mail".into(),
            },
            Origin::Existing,
        );
        s.apply(
            &Op::DropNotNull {
                table: t.clone(),
                column: "mail".into(),
            },
            Origin::Existing,
        );
        s.apply(
            &Op::DropDefault {
                table: t.clone(),
                column: "mail".into(),
            },
            Origin::Existing,
        );
        assert!(s.column(&t, "email").is_none());
        let c = s.column(&t, "mail").unwrap();
        assert!(!c.not_null && c.default.is_none());
        s.apply(
            &Op::DropColumn {
                table: t.clone(),
                column: "mail".into(),
                if_exists: false,
            },
            Origin::Existing,
        );
        assert!(s.column(&t, "mail").is_none());
    }

    #[test]
    fn not_valid_check_counts_only_once_validated() {
        let mut s = users();
        let t = name("User");
        s.apply(
            &check("User", "email_nn", "\"email\" IS NOT NULL", true),
            Origin::Existing,
        );
        assert!(!s.has_validated_not_null_check(&t, "email"));
        s.apply(
            &Op::ValidateConstraint {
                table: t.clone(),
                name: "email_nn".into(),
            },
            Origin::Existing,
        );
        assert!(s.has_validated_not_null_check(&t, "email"));
        assert!(!s.has_validated_not_null_check(&t, "id"));
        s.apply(
            &Op::DropConstraint {
                table: t.clone(),
                name: "email_nn".into(),
            },
            Origin::Existing,
        );
        assert!(!s.has_validated_not_null_check(&t, "email"));
    }

    #[test]
    fn not_null_check_in_any_quoting_and_parenthesisation() {
        for expression in [
            "email IS NOT NULL",
            "(\"email\" IS NOT NULL)",
            "((email)) is   not\nnull",
            "(EMAIL) IS NOT NULL",
        ] {
            assert!(is_not_null_check_of(expression, "email"), "{expression}");
        }
        for expression in [
            "\"Email\" IS NOT NULL",
            "email IS NULL",
            "email <> '' AND name IS NOT NULL",
            "(email) IS NOT NULL OR (id) IS NOT NULL",
            "email IS NOT NULL)",
        ] {
            assert!(!is_not_null_check_of(expression, "email"), "{expression}");
        }
        assert!(is_not_null_check_of("\"Email\" IS NOT NULL", "Email"));
    }

    #[test]
    fn expressions_mention_columns_as_identifiers_only() {
        assert!(expression_mentions("length(c) > 0", "c"));
        assert!(expression_mentions("(\"Email\" <> '')", "Email"));
        assert!(expression_mentions("lower(EMAIL)", "email"));
        assert!(!expression_mentions("lower(\"Email\")", "email"));
        assert!(!expression_mentions("status <> 'c'", "c"));
        assert!(!expression_mentions("cc > 0", "c"));
    }

    #[test]
    fn indexes_follow_renames_and_drops() {
        let mut s = users();
        let index = |n: &str| Op::CreateIndex {
            name: Some(n.to_string()),
            table: name("User"),
            columns: vec!["email".into()],
            unique: true,
            concurrently: false,
            if_not_exists: false,
            predicate: None,
        };
        s.apply(&index("User_email_key"), Origin::Existing);
        s.apply(&index("pending_idx"), Origin::Pending);
        assert!(s.index(&name("pending_idx")).unwrap().is_new);
        s.apply(
            &Op::RenameIndex {
                name: name("User_email_key"),
                new_name: "user_email".into(),
            },
            Origin::Existing,
        );
        assert!(s.index(&name("User_email_key")).is_none());
        assert!(s
            .index(&name("user_email"))
            .is_some_and(|i| i.table == name("public.User")));
        s.apply(
            &Op::RenameTable {
                table: name("User"),
                new_name: "Account".into(),
            },
            Origin::Existing,
        );
        assert!(s.table(&name("User")).is_none());
        assert!(s.column(&name("Account"), "email").is_some());
        assert_eq!(
            s.index(&name("user_email")).unwrap().table,
            name("public.Account")
        );
        s.apply(
            &Op::SetTableSchema {
                table: name("Account"),
                new_schema: "app".into(),
            },
            Origin::Existing,
        );
        assert!(s.table(&name("app.Account")).is_some());
        assert!(s.index(&name("app.user_email")).is_some());
        s.apply(
            &Op::DropTable {
                table: name("app.Account"),
                if_exists: false,
                cascade: false,
            },
            Origin::Existing,
        );
        assert!(s.table(&name("app.Account")).is_none());
        assert!(
            s.index(&name("app.user_email")).is_none(),
            "DROP TABLE drops its indexes"
        );
    }

    #[test]
    fn unnamed_index_and_constraints_get_postgres_names() {
        let mut s = users();
        s.apply(
            &Op::CreateIndex {
                name: None,
                table: name("User"),
                columns: vec!["email".into()],
                unique: false,
                concurrently: true,
                if_not_exists: false,
                predicate: None,
            },
            Origin::Existing,
        );
        assert!(s.index(&name("User_email_idx")).is_some());
        s.apply(
            &Op::AddConstraint {
                table: name("User"),
                constraint: ConstraintSpec {
                    name: None,
                    kind: ConstraintKind::Unique {
                        columns: vec!["email".into()],
                        using_index: None,
                    },
                    not_valid: false,
                },
            },
            Origin::Existing,
        );
        assert!(s.index(&name("User_email_key")).is_some_and(|i| i.unique));
        s.apply(
            &Op::RenameConstraint {
                table: name("User"),
                name: "User_email_key".into(),
                new_name: "User_mail_key".into(),
            },
            Origin::Existing,
        );
        assert!(s.index(&name("User_email_key")).is_none());
        assert!(s.index(&name("User_mail_key")).is_some());
    }

    #[test]
    fn schemas_drop_with_their_objects() {
        let mut s = Schema::new();
        s.apply(
            &Op::CreateSchema {
                name: "app".into(),
                if_not_exists: false,
            },
            Origin::Existing,
        );
        s.apply(
            &Op::CreateSchema {
                name: "tmp".into(),
                if_not_exists: false,
            },
            Origin::Pending,
        );
        s.apply(
            &create_table("app.t", vec![col("id", "int4", true)]),
            Origin::Existing,
        );
        assert!(!s.is_new_schema("app"));
        assert!(s.is_new_schema("tmp"));
        assert!(!s.is_new_schema("unknown"));
        s.apply(
            &Op::CreateSchema {
                name: "public".into(),
                if_not_exists: true,
            },
            Origin::Pending,
        );
        assert!(!s.is_new_schema("public"));
        s.apply(
            &Op::DropSchema {
                name: "app".into(),
                cascade: true,
            },
            Origin::Existing,
        );
        assert!(s.table(&name("app.t")).is_none());
    }

    #[test]
    fn a_renamed_schema_takes_its_objects_along() {
        let mut s = Schema::new();
        s.apply(
            &Op::CreateSchema {
                name: "app".into(),
                if_not_exists: false,
            },
            Origin::Existing,
        );
        s.apply(
            &create_table("app.t", vec![col("id", "int4", true)]),
            Origin::Existing,
        );
        s.apply(
            &Op::CreateEnum {
                name: name("app.mood"),
                values: vec!["ok".into()],
            },
            Origin::Existing,
        );
        s.apply(
            &Op::RenameSchema {
                name: "app".into(),
                new_name: "core".into(),
            },
            Origin::Pending,
        );
        assert!(s.table(&name("app.t")).is_none());
        let t = s.table(&name("core.t")).expect("the table moved");
        assert_eq!(t.name, name("core.t"));
        assert!(!t.is_new, "still the table with rows");
        assert!(!s.is_new_schema("core"));
        // The test helper names the primary key after the qualified name: `app.t_pkey`.
        let pkey = ObjectName::new(Some("core"), "app.t_pkey");
        assert!(s.index(&pkey).is_some_and(|i| i.table == name("core.t")));
        assert!(s.enum_type(&name("core.mood")).is_some());
    }

    fn prisma_enum_recreate(s: &mut Schema, values: &[&str]) {
        let ops = [
            Op::CreateEnum {
                name: name("Role_new"),
                values: values.iter().map(|v| v.to_string()).collect(),
            },
            Op::AlterColumnType {
                table: name("User"),
                column: "role".into(),
                new_type: ty("Role_new"),
                using: Some("(\"role\"::text::\"Role_new\")".into()),
            },
            Op::RenameType {
                type_name: name("Role"),
                new_name: "Role_old".into(),
            },
            Op::RenameType {
                type_name: name("Role_new"),
                new_name: "Role".into(),
            },
            Op::DropType {
                type_name: name("Role_old"),
                if_exists: false,
            },
        ];
        for op in &ops {
            s.apply(op, Origin::Pending);
        }
    }

    #[test]
    fn prisma_enum_recreate_keeps_the_enum_existing_with_new_values() {
        let mut s = Schema::new();
        s.apply(
            &Op::CreateEnum {
                name: name("Role"),
                values: vec!["USER".into(), "ADMIN".into()],
            },
            Origin::Existing,
        );
        s.apply(
            &create_table(
                "User",
                vec![col("id", "int4", true), col("role", "Role", true)],
            ),
            Origin::Existing,
        );
        prisma_enum_recreate(&mut s, &["USER", "ADMIN", "OWNER"]);
        let role = s.enum_type(&name("Role")).expect("Role is still there");
        assert_eq!(role.values, vec!["USER", "ADMIN", "OWNER"]);
        assert!(!role.is_new);
        assert!(s.enum_type(&name("Role_new")).is_none());
        assert!(s.enum_type(&name("Role_old")).is_none());
        assert_eq!(
            s.column(&name("User"), "role").unwrap().data_type.base,
            "Role"
        );
    }

    #[test]
    fn enum_values_and_pending_enums() {
        let mut s = Schema::new();
        s.apply(
            &Op::CreateEnum {
                name: name("Mood"),
                values: vec!["ok".into()],
            },
            Origin::Pending,
        );
        s.apply(
            &Op::AddEnumValue {
                type_name: name("Mood"),
                value: "sad".into(),
                if_not_exists: false,
            },
            Origin::Pending,
        );
        s.apply(
            &Op::RenameEnumValue {
                type_name: name("Mood"),
                value: "ok".into(),
                new_value: "fine".into(),
            },
            Origin::Pending,
        );
        let mood = s.enum_type(&name("public.Mood")).unwrap();
        assert!(mood.is_new);
        assert_eq!(mood.values, vec!["fine", "sad"]);
        assert!(s.enum_created_in_current_migration(&name("Mood")));
        s.begin_migration();
        assert!(!s.enum_created_in_current_migration(&name("Mood")));
    }

    #[test]
    fn changes_to_a_table_the_history_does_not_know_are_remembered() {
        let mut s = Schema::new();
        let t = name("legacy");
        s.apply(
            &Op::AddColumn {
                table: t.clone(),
                column: col("note", "text", false),
                if_not_exists: false,
            },
            Origin::Pending,
        );
        s.apply(
            &check("legacy", "note_nn", "note IS NOT NULL", false),
            Origin::Pending,
        );
        assert!(!s.is_new_table(&t), "an unknown table is existing");
        assert!(s.column(&t, "note").is_some_and(|c| c.is_new));
        assert!(s.column(&t, "other").is_none());
        assert!(s.has_validated_not_null_check(&t, "note"));
    }

    #[test]
    fn materialized_views_and_domains_know_whether_they_are_new() {
        let mut s = Schema::new();
        s.apply(
            &Op::CreateMaterializedView {
                view: name("totals"),
                if_not_exists: false,
            },
            Origin::Existing,
        );
        s.apply(
            &Op::CreateMaterializedView {
                view: name("public.totals"),
                if_not_exists: true,
            },
            Origin::Pending,
        );
        s.apply(
            &Op::CreateMaterializedView {
                view: name("app.recent"),
                if_not_exists: false,
            },
            Origin::Pending,
        );
        assert!(!s.is_new_materialized_view(&name("totals")));
        assert!(s.is_new_materialized_view(&name("app.recent")));
        assert!(!s.is_new_materialized_view(&name("unknown")));
        s.apply(
            &Op::CreateDomain {
                name: name("email"),
            },
            Origin::Existing,
        );
        s.apply(
            &Op::CreateDomain {
                name: name("app.phone"),
            },
            Origin::Pending,
        );
        assert!(!s.is_new_domain(&name("email")));
        assert!(s.is_new_domain(&name("app.phone")));
        s.apply(
            &create_table(
                "User",
                vec![col("id", "int4", true), col("mail", "email", false)],
            ),
            Origin::Existing,
        );
        s.apply(
            &create_table(
                "Draft",
                vec![col("id", "int4", true), col("mail", "email", false)],
            ),
            Origin::Pending,
        );
        assert_eq!(
            s.existing_tables_using_type(&name("email")),
            vec![name("public.User")],
            "tables created in the pending set are empty"
        );
        s.apply(
            &Op::DropSchema {
                name: "app".into(),
                cascade: true,
            },
            Origin::Pending,
        );
        assert!(!s.is_new_materialized_view(&name("app.recent")));
        assert!(!s.is_new_domain(&name("app.phone")));
    }

    #[test]
    fn if_not_exists_keeps_the_first_definition() {
        let mut s = users();
        let mut again = create_table("User", vec![col("id", "int4", true)]);
        if let Op::CreateTable { if_not_exists, .. } = &mut again {
            *if_not_exists = true;
        }
        s.apply(&again, Origin::Pending);
        assert!(!s.is_new_table(&name("User")));
        assert!(s.column(&name("User"), "email").is_some());
    }
}
