//! The normalized statement model the rules, the schema model and the deploy engine work on.
//!
//! `sqlparser`'s AST is large and changes between versions; the token classifier knows less. Both
//! produce these [`Op`]s so the rules see one vocabulary. Identifiers are already folded the
//! PostgreSQL way: unquoted names lower-cased, quoted names exact.

use super::ident;
use super::split::{Position, Span};

/// A possibly schema-qualified name, folded (`"User"` → `User`, `Users` → `users`).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct ObjectName {
    /// `None` when written unqualified; the schema model resolves it (to `public`).
    pub schema: Option<String>,
    pub name: String,
}

impl ObjectName {
    pub fn new(schema: Option<&str>, name: &str) -> Self {
        ObjectName {
            schema: schema.map(str::to_string),
            name: name.to_string(),
        }
    }

    pub fn unqualified(name: &str) -> Self {
        ObjectName::new(None, name)
    }
}

impl std::fmt::Display for ObjectName {
    /// Quoted the way a person would write it back in SQL: `"User"`, `app."Order"`, `users`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{}.", ident::quote_if_needed(schema))?;
        }
        f.write_str(&ident::quote_if_needed(&self.name))
    }
}

/// A column type, canonicalized so rules can compare types.
///
/// `base` uses PostgreSQL's internal names for built-ins: `int2`, `int4`, `int8`, `float4`,
/// `float8`, `numeric`, `bool`, `text`, `varchar`, `bpchar` (char(n)), `timestamp`,
/// `timestamptz`, `date`, `time`, `timetz`, `interval`, `uuid`, `json`, `jsonb`, `bytea`, `inet`,
/// `cidr`, `citext`, `serial4`/`serial8`/`serial2` for the SERIAL pseudo-types; any other
/// (user) type keeps its folded name, e.g. `Role` for `"Role"`, `mood` for `Mood`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct TypeName {
    pub base: String,
    /// Schema of a user type, when qualified.
    pub schema: Option<String>,
    /// Type modifiers: `varchar(255)` → `[255]`, `numeric(10,2)` → `[10, 2]`, `timestamp(3)` → `[3]`.
    pub modifiers: Vec<u32>,
    /// `text[]` and friends.
    pub array: bool,
    /// The type as written, for messages.
    pub sql: String,
}

/// One column in CREATE TABLE or ALTER TABLE ... ADD COLUMN.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ColumnSpec {
    pub name: String,
    pub data_type: TypeName,
    pub not_null: bool,
    /// The DEFAULT expression as written (`CURRENT_TIMESTAMP`, `'draft'`, `gen_random_uuid()`).
    pub default: Option<String>,
    /// `GENERATED ALWAYS AS (...) STORED`.
    pub generated_stored: bool,
    /// `GENERATED { ALWAYS | BY DEFAULT } AS IDENTITY`.
    pub identity: bool,
    /// Inline constraints (`PRIMARY KEY`, `UNIQUE`, `REFERENCES`, `CHECK`), with `columns` = [name].
    pub constraints: Vec<ConstraintSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ConstraintKind {
    PrimaryKey {
        columns: Vec<String>,
        using_index: Option<String>,
    },
    Unique {
        columns: Vec<String>,
        using_index: Option<String>,
    },
    ForeignKey {
        columns: Vec<String>,
        references: ObjectName,
        referenced_columns: Vec<String>,
    },
    /// The expression as written, e.g. `"email" IS NOT NULL`.
    Check {
        expression: String,
    },
    Exclude,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConstraintSpec {
    pub name: Option<String>,
    pub kind: ConstraintKind,
    /// `NOT VALID`: existing rows are not checked now.
    pub not_valid: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TransactionControl {
    /// BEGIN / START TRANSACTION
    Begin,
    /// COMMIT / END
    Commit,
    /// ROLLBACK / ABORT
    Rollback,
}

/// A function's declared volatility: whether PostgreSQL may evaluate a call once for many rows.
/// A column default calling a `Volatile` one is evaluated for each existing row (a rewrite).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Volatility {
    Immutable,
    Stable,
    Volatile,
}

/// One operation of a routine's body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BodyOp {
    /// Lines between the `CREATE` statement's first line and the body statement's.
    pub line: u32,
    pub op: Op,
}

/// One thing a statement does. A statement may do several (a multi-action ALTER TABLE, DROP TABLE
/// a, b, a DO block); each is its own `Op` so each gets its own finding.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Op {
    CreateSchema {
        name: String,
        if_not_exists: bool,
    },
    DropSchema {
        name: String,
        cascade: bool,
    },
    DropDatabase {
        name: String,
    },
    CreateTable {
        table: ObjectName,
        columns: Vec<ColumnSpec>,
        constraints: Vec<ConstraintSpec>,
        if_not_exists: bool,
        /// CREATE TABLE ... AS SELECT / LIKE: columns unknown.
        from_query: bool,
    },
    DropTable {
        table: ObjectName,
        if_exists: bool,
        cascade: bool,
    },
    RenameTable {
        table: ObjectName,
        new_name: String,
    },
    SetTableSchema {
        table: ObjectName,
        new_schema: String,
    },
    Truncate {
        table: ObjectName,
    },
    AddColumn {
        table: ObjectName,
        column: ColumnSpec,
        if_not_exists: bool,
    },
    DropColumn {
        table: ObjectName,
        column: String,
        if_exists: bool,
    },
    RenameColumn {
        table: ObjectName,
        column: String,
        new_name: String,
    },
    AlterColumnType {
        table: ObjectName,
        column: String,
        new_type: TypeName,
        using: Option<String>,
    },
    SetNotNull {
        table: ObjectName,
        column: String,
    },
    DropNotNull {
        table: ObjectName,
        column: String,
    },
    SetDefault {
        table: ObjectName,
        column: String,
        default: String,
    },
    DropDefault {
        table: ObjectName,
        column: String,
    },
    AddConstraint {
        table: ObjectName,
        constraint: ConstraintSpec,
    },
    ValidateConstraint {
        table: ObjectName,
        name: String,
    },
    DropConstraint {
        table: ObjectName,
        name: String,
    },
    RenameConstraint {
        table: ObjectName,
        name: String,
        new_name: String,
    },
    CreateIndex {
        name: Option<String>,
        table: ObjectName,
        columns: Vec<String>,
        unique: bool,
        concurrently: bool,
        if_not_exists: bool,
        /// The WHERE of a partial index, as written.
        predicate: Option<String>,
    },
    /// One per index named in DROP INDEX.
    DropIndex {
        name: ObjectName,
        concurrently: bool,
        if_exists: bool,
    },
    RenameIndex {
        name: ObjectName,
        new_name: String,
    },
    /// REINDEX [ (options) ] { INDEX | TABLE | SCHEMA | DATABASE | SYSTEM } [ CONCURRENTLY ] name
    Reindex {
        concurrently: bool,
        /// What is rebuilt; `None` when the statement's shape was not recognised.
        target: Option<ReindexTarget>,
    },
    CreateEnum {
        name: ObjectName,
        values: Vec<String>,
    },
    AddEnumValue {
        type_name: ObjectName,
        value: String,
        if_not_exists: bool,
    },
    RenameEnumValue {
        type_name: ObjectName,
        value: String,
        new_value: String,
    },
    RenameType {
        type_name: ObjectName,
        new_name: String,
    },
    DropType {
        type_name: ObjectName,
        if_exists: bool,
    },
    Update {
        table: ObjectName,
        has_where: bool,
    },
    Delete {
        table: ObjectName,
        has_where: bool,
    },
    Insert {
        table: ObjectName,
    },
    Transaction(TransactionControl),
    /// VACUUM, ALTER SYSTEM, CREATE/DROP DATABASE, CREATE/DROP TABLESPACE: cannot run inside a
    /// transaction block.
    NonTransactional {
        kind: String,
    },
    /// `CREATE [OR REPLACE] FUNCTION / PROCEDURE` with an SQL or PL/pgSQL body (`AS $$ ... $$`
    /// or `BEGIN ATOMIC ... END`): what the body does each time the routine is called.
    CreateRoutine {
        name: ObjectName,
        /// The argument list as written (lower case, tokens joined by spaces): overloads of one
        /// name are different routines, and a call may reach any of them.
        signature: String,
        body: Vec<BodyOp>,
        /// Names the body calls (`f(`): a call of this routine runs theirs too.
        calls: Vec<ObjectName>,
        /// As declared, in any language; `VOLATILE` when not declared (PostgreSQL's default).
        volatility: Volatility,
        /// For a `LANGUAGE sql` function whose body is one `SELECT <expression>` (no FROM, no
        /// SECURITY DEFINER, SET, STRICT or SETOF): the expression. PostgreSQL inlines such a
        /// call, so the caller gets the expression's volatility, not the declared one.
        inline_expression: Option<String>,
    },
    /// `ALTER FUNCTION/PROCEDURE f(...) RENAME TO g` or `SET SCHEMA s`: its body goes with it.
    RenameRoutine {
        routine: ObjectName,
        new_name: ObjectName,
    },
    /// Understood and harmless to the rules (COMMENT, CREATE EXTENSION, CREATE/DROP VIEW,
    /// CREATE FUNCTION in another language, GRANT, SET, SELECT, ALTER SEQUENCE, CREATE PUBLICATION, ...).
    /// `kind` is the leading keywords in upper case, e.g. `CREATE EXTENSION`.
    Other {
        kind: String,
    },
    /// CLUSTER, VACUUM FULL, ALTER TABLE ... SET LOGGED / SET UNLOGGED / SET TABLESPACE /
    /// SET ACCESS METHOD: the table is written anew into new files under ACCESS EXCLUSIVE.
    RewriteTable {
        /// `None` for a bare `CLUSTER` / `VACUUM FULL`: every table of the database.
        table: Option<ObjectName>,
        /// What does it, in upper case: `CLUSTER`, `VACUUM FULL`, `SET LOGGED`, `SET TABLESPACE`.
        kind: String,
    },
    /// CREATE MATERIALIZED VIEW: its query runs now; the view is tracked so a later REFRESH of a
    /// view created in the pending set (not read by the running app) is not flagged.
    CreateMaterializedView {
        view: ObjectName,
        if_not_exists: bool,
    },
    /// REFRESH MATERIALIZED VIEW [ CONCURRENTLY ] name [ WITH [ NO ] DATA ]
    RefreshMaterializedView {
        view: ObjectName,
        concurrently: bool,
        /// False for `WITH NO DATA`: the view is emptied and unreadable until the next REFRESH.
        with_data: bool,
    },
    CreateDomain {
        name: ObjectName,
    },
    /// ALTER DOMAIN ... ADD [ CONSTRAINT name ] CHECK (...) [ NOT VALID ]; also SET NOT NULL and
    /// ADD [ CONSTRAINT name ] NOT NULL (`check` is `None`): every column of the domain is checked.
    AddDomainConstraint {
        domain: ObjectName,
        name: Option<String>,
        /// The CHECK expression as written, without its parentheses; `None` for NOT NULL.
        check: Option<String>,
        not_valid: bool,
    },
    /// `LOCK [TABLE] [ONLY] name [, ...] [IN mode MODE] [NOWAIT]`: one per table named.
    LockTable {
        table: ObjectName,
        mode: LockMode,
    },
    /// `CREATE [OR REPLACE] [CONSTRAINT] TRIGGER name ... ON table ...`.
    CreateTrigger {
        name: String,
        table: ObjectName,
    },
    /// `ALTER SCHEMA name RENAME TO new_name`.
    RenameSchema {
        name: String,
        new_name: String,
    },
}

/// What a REINDEX rebuilds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ReindexTarget {
    Index(ObjectName),
    Table(ObjectName),
    Schema(String),
    /// REINDEX DATABASE: every index of the current database.
    Database,
    /// REINDEX SYSTEM: the system catalogs' indexes (no CONCURRENTLY form).
    System,
}

/// PostgreSQL's table lock modes (those `LOCK TABLE` takes and statements take), weakest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum LockMode {
    AccessShare,
    RowShare,
    RowExclusive,
    ShareUpdateExclusive,
    Share,
    ShareRowExclusive,
    Exclusive,
    /// What `LOCK t` takes when no mode is written.
    AccessExclusive,
}

impl LockMode {
    /// The mode as written in SQL: `SHARE ROW EXCLUSIVE`.
    pub fn sql(self) -> &'static str {
        match self {
            LockMode::AccessShare => "ACCESS SHARE",
            LockMode::RowShare => "ROW SHARE",
            LockMode::RowExclusive => "ROW EXCLUSIVE",
            LockMode::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            LockMode::Share => "SHARE",
            LockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockMode::Exclusive => "EXCLUSIVE",
            LockMode::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// Every SELECT on the table waits.
    pub fn blocks_reads(self) -> bool {
        self == LockMode::AccessExclusive
    }

    /// Every INSERT, UPDATE and DELETE on the table waits.
    pub fn blocks_writes(self) -> bool {
        self >= LockMode::Share
    }

    /// The mode named by the words between `IN` and `MODE` (lower or upper case).
    pub fn from_words(words: &[&str]) -> Option<LockMode> {
        let words: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
        let mode = match words.join(" ").as_str() {
            "ACCESS SHARE" => LockMode::AccessShare,
            "ROW SHARE" => LockMode::RowShare,
            "ROW EXCLUSIVE" => LockMode::RowExclusive,
            "SHARE UPDATE EXCLUSIVE" => LockMode::ShareUpdateExclusive,
            "SHARE" => LockMode::Share,
            "SHARE ROW EXCLUSIVE" => LockMode::ShareRowExclusive,
            "EXCLUSIVE" => LockMode::Exclusive,
            "ACCESS EXCLUSIVE" => LockMode::AccessExclusive,
            _ => return None,
        };
        Some(mode)
    }
}

impl Op {
    /// True when PostgreSQL refuses to run this inside a transaction block, so the deploy engine
    /// must run it alone in autocommit.
    pub fn requires_autocommit(&self) -> bool {
        matches!(
            self,
            Op::CreateIndex {
                concurrently: true,
                ..
            } | Op::DropIndex {
                concurrently: true,
                ..
            } | Op::Reindex {
                concurrently: true,
                ..
            } | Op::NonTransactional { .. }
        )
    }
}

/// How well a statement was understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Understanding {
    /// `sqlparser` parsed it (for a DO block: the block and its whole body).
    Parsed,
    /// `sqlparser` did not, the token classifier recognised its kind and target.
    Classified,
    /// Not understood. `ops` may still hold destructive operations found in its tokens.
    Unparsed,
}

/// A statement of a migration file, understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Exact source text (the span below), without the terminating `;`.
    pub text: String,
    pub span: Span,
    pub start: Position,
    pub end: Position,
    pub ops: Vec<Op>,
    pub understanding: Understanding,
}

impl Statement {
    /// The deploy engine runs such a statement alone, outside any transaction.
    pub fn requires_autocommit(&self) -> bool {
        self.ops.iter().any(Op::requires_autocommit)
    }

    pub fn transaction_control(&self) -> Option<TransactionControl> {
        self.ops.iter().find_map(|op| match op {
            Op::Transaction(control) => Some(*control),
            _ => None,
        })
    }

    /// `COMMIT AND CHAIN` / `ROLLBACK AND CHAIN`: ends the transaction and opens a new
    /// transaction block at once (its ops are the COMMIT or ROLLBACK, then a BEGIN).
    pub fn chains(&self) -> bool {
        self.ops.len() > 1
            && self.transaction_control() != Some(TransactionControl::Begin)
            && self.ops.last() == Some(&Op::Transaction(TransactionControl::Begin))
    }
}

impl TypeName {
    /// Canonicalize a type as written in SQL (`INTEGER`, `character varying(255)`,
    /// `TIMESTAMP(3) WITH TIME ZONE`, `"Role"[]`, `app."Mood"`) into PostgreSQL's internal names.
    pub fn parse(sql: &str) -> TypeName {
        let written = sql.trim();
        let mut rest = written;
        let mut array = false;
        loop {
            let trimmed = rest.trim_end();
            if let Some(stripped) = strip_array_suffix(trimmed) {
                rest = stripped;
                array = true;
            } else {
                rest = trimmed;
                break;
            }
        }
        let (words, modifiers) = words_and_modifiers(rest);
        let mut parts: Vec<(String, bool)> = words;
        // A qualified name arrives as `schema` `.` `name` words.
        let dotted = parts.iter().any(|(word, quoted)| !quoted && word == ".");
        let (schema, base) = if dotted {
            let names: Vec<&(String, bool)> =
                parts.iter().filter(|(w, q)| *q || w != ".").collect();
            let name = names
                .last()
                .map(|(w, q)| ident::fold(w, *q))
                .unwrap_or_default();
            let schema = (names.len() >= 2).then(|| {
                let (w, q) = names[names.len() - 2];
                ident::fold(w, *q)
            });
            match schema.as_deref() {
                Some("pg_catalog") => (None, builtin_name(&name).unwrap_or(name)),
                _ => (schema, name),
            }
        } else if parts.len() == 1 && parts[0].1 {
            (None, parts.remove(0).0)
        } else {
            let phrase = parts
                .iter()
                .map(|(w, _)| w.to_ascii_lowercase())
                .collect::<Vec<_>>()
                .join(" ");
            let base = builtin_name(&phrase).unwrap_or(phrase);
            (None, base)
        };
        let base = match (base.as_str(), modifiers.first()) {
            // float(p): p ≤ 24 is real, above is double precision; the precision is not kept.
            ("float", Some(&precision)) if precision <= 24 => "float4".to_string(),
            ("float", _) => "float8".to_string(),
            _ => base,
        };
        let modifiers = if base == "float4" || base == "float8" {
            Vec::new()
        } else {
            modifiers
        };
        TypeName {
            base,
            schema,
            modifiers,
            array,
            sql: written.to_string(),
        }
    }
}

fn strip_array_suffix(text: &str) -> Option<&str> {
    if let Some(before) = text.strip_suffix(']') {
        let open = before.rfind('[')?;
        return Some(&before[..open]);
    }
    let lower_tail = text.get(text.len().saturating_sub(6)..)?;
    if lower_tail.eq_ignore_ascii_case(" array") {
        return Some(&text[..text.len() - 6]);
    }
    None
}

/// Split a type into words (quoted ones exact, marked) and collect the numbers of its `(...)`.
fn words_and_modifiers(text: &str) -> (Vec<(String, bool)>, Vec<u32>) {
    let mut words = Vec::new();
    let mut modifiers = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
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
                words.push((word, true));
            }
            '(' => {
                let mut inner = String::new();
                for (_, c) in chars.by_ref() {
                    if c == ')' {
                        break;
                    }
                    inner.push(c);
                }
                modifiers.extend(
                    inner
                        .split(',')
                        .filter_map(|n| n.trim().parse::<u32>().ok()),
                );
            }
            '.' => words.push((".".to_string(), false)),
            c if c.is_whitespace() => {}
            _ => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, n)) = chars.peek() {
                    if n.is_whitespace() || matches!(n, '"' | '(' | '.' | ')') {
                        break;
                    }
                    end = j + n.len_utf8();
                    chars.next();
                }
                words.push((text[i..end].to_string(), false));
            }
        }
    }
    (words, modifiers)
}

/// PostgreSQL's internal name for a built-in type spelled `phrase` (lower case, single spaces).
fn builtin_name(phrase: &str) -> Option<String> {
    let name = match phrase {
        "integer" | "int" | "int4" => "int4",
        "bigint" | "int8" => "int8",
        "smallint" | "int2" => "int2",
        "character varying" | "varchar" | "char varying" => "varchar",
        "character" | "char" | "bpchar" => "bpchar",
        "text" => "text",
        "timestamp" | "timestamp without time zone" => "timestamp",
        "timestamptz" | "timestamp with time zone" => "timestamptz",
        "time" | "time without time zone" => "time",
        "timetz" | "time with time zone" => "timetz",
        "double precision" | "float8" => "float8",
        "real" | "float4" => "float4",
        "float" => "float",
        "decimal" | "numeric" | "dec" => "numeric",
        "boolean" | "bool" => "bool",
        "serial" | "serial4" => "serial4",
        "bigserial" | "serial8" => "serial8",
        "smallserial" | "serial2" => "serial2",
        "bit varying" | "varbit" => "varbit",
        "date" | "interval" | "uuid" | "json" | "jsonb" | "bytea" | "inet" | "cidr" | "citext"
        | "macaddr" | "money" | "xml" | "bit" | "tsvector" | "tsquery" | "oid" | "point"
        | "int4range" | "int8range" | "numrange" | "tsrange" | "tstzrange" | "daterange" => phrase,
        _ if phrase.starts_with("interval ") => "interval",
        _ => return None,
    };
    Some(name.to_string())
}
