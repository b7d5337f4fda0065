//! `unjudged-statement`: a statement migration-gate understood but has no verdict for: review it
//! by hand. Nothing passes silently: every operation is either judged by a rule or known to be
//! harmless, and [`verdict`] says which for each kind of [`Op`] (an exhaustive `match`: a new
//! `Op` variant does not compile until someone decides). Statements known only by their kind
//! (`Op::Other`, `Op::NonTransactional`) are harmless only when their kind is in
//! [`HARMLESS_KINDS`]. Statements not understood at all raise `unparsed-statement` instead.

use super::{Example, Impact, RuleInfo, Violation};
use crate::findings::Severity;
use crate::sql::{self, ConstraintKind, Op, Statement};

pub const RULE: RuleInfo = RuleInfo {
    id: "unjudged-statement",
    default_severity: Severity::Warning,
    impact: Impact::Process,
    summary: "a statement no rule judges and not known harmless: review it by hand",
    // Raised by the analysis once per operation of each statement (see `violation`).
    check: None,
    file: include_str!("unjudged_statement.rs"),
    example: Example::Migration("DROP OWNED BY \"reporting\";\n"),
};

/// What migration-gate knows about one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// These rules look at it (they may still find nothing wrong).
    JudgedBy(&'static [&'static str]),
    /// No rule needed: it takes no lock that makes traffic wait beyond a catalog update, loses
    /// no data and does not break the running app.
    Harmless,
    /// Neither: the statement kind to name in the finding.
    Unjudged(String),
}

/// The verdict on `op`, one of `statement`'s operations.
pub fn verdict(op: &Op, statement: &Statement) -> Verdict {
    use Verdict::{Harmless, JudgedBy, Unjudged};
    match op {
        Op::DropSchema { .. } | Op::DropDatabase { .. } => JudgedBy(&["drop-schema"]),
        Op::DropTable { .. } => JudgedBy(&["drop-table"]),
        Op::RenameTable { .. } => JudgedBy(&["rename-table"]),
        Op::Truncate { .. } => JudgedBy(&["truncate-table"]),
        Op::AddColumn { .. } => JudgedBy(&[
            "add-column-required",
            "add-column-rewrite",
            "add-foreign-key-validating",
            "add-check-validating",
            "add-unique-blocking",
        ]),
        Op::DropColumn { .. } => JudgedBy(&["drop-column"]),
        Op::RenameColumn { .. } => JudgedBy(&["rename-column"]),
        Op::AlterColumnType { .. } => JudgedBy(&["alter-column-type"]),
        Op::SetNotNull { .. } => JudgedBy(&["set-not-null"]),
        Op::AddConstraint { constraint, .. } => match constraint.kind {
            ConstraintKind::ForeignKey { .. } => JudgedBy(&["add-foreign-key-validating"]),
            ConstraintKind::Check { .. } => JudgedBy(&["add-check-validating"]),
            ConstraintKind::PrimaryKey { .. } | ConstraintKind::Unique { .. } => {
                JudgedBy(&["add-unique-blocking"])
            }
            ConstraintKind::Exclude => JudgedBy(&["add-exclusion-constraint"]),
        },
        Op::CreateIndex { .. } => {
            JudgedBy(&["create-index-blocking", "concurrently-in-transaction"])
        }
        Op::DropIndex { .. } => JudgedBy(&["drop-index-blocking", "concurrently-in-transaction"]),
        Op::Reindex { .. } => JudgedBy(&["reindex-blocking", "concurrently-in-transaction"]),
        Op::AddEnumValue { .. } => JudgedBy(&["enum-value-used-in-transaction"]),
        Op::RenameEnumValue { .. } => {
            JudgedBy(&["rename-enum-value", "enum-value-used-in-transaction"])
        }
        Op::RenameType { .. } => JudgedBy(&["rename-type"]),
        Op::Update { .. } | Op::Delete { .. } => JudgedBy(&["unbatched-data-change"]),
        Op::LockTable { .. } => JudgedBy(&["lock-table"]),
        Op::CreateTrigger { .. } => JudgedBy(&["create-trigger"]),
        Op::RenameSchema { .. } => JudgedBy(&["rename-schema"]),
        Op::RewriteTable { .. } => JudgedBy(&["table-rewrite"]),
        Op::RefreshMaterializedView { .. } => JudgedBy(&["refresh-materialized-view-blocking"]),
        Op::AddDomainConstraint { .. } => JudgedBy(&["alter-domain-add-constraint"]),
        // New objects: nothing uses them yet, and a new table is empty. (A foreign key to an
        // existing table locks it briefly, for the catalog only: the new table has no rows.)
        Op::CreateSchema { .. }
        | Op::CreateTable { .. }
        | Op::CreateEnum { .. }
        | Op::CreateDomain { .. } => Harmless,
        // A new view: its query reads the tables under ACCESS SHARE, which blocks no one.
        Op::CreateMaterializedView { .. } => Harmless,
        // Catalog-only changes under a brief lock; the app neither names constraints nor
        // indexes, nor depends on a column accepting NULL being refused.
        Op::DropNotNull { .. }
        | Op::SetDefault { .. }
        | Op::DropDefault { .. }
        | Op::DropConstraint { .. }
        | Op::RenameConstraint { .. }
        | Op::RenameIndex { .. } => Harmless,
        // The safe half of NOT VALID: a SHARE UPDATE EXCLUSIVE lock, reads and writes go on.
        Op::ValidateConstraint { .. } => Harmless,
        // Without CASCADE it fails while a column still uses the type (so no data is lost); with
        // CASCADE it drops those columns.
        Op::DropType { .. } => cascade_or(statement, "DROP TYPE", Harmless),
        // Adds rows under a ROW EXCLUSIVE lock, which blocks no reads or writes.
        Op::Insert { .. } => Harmless,
        // BEGIN / COMMIT / ROLLBACK: the engine follows them (concurrently-in-transaction).
        Op::Transaction(_) => Harmless,
        // Defining a routine runs nothing: its body is judged where it is written and again
        // wherever a statement calls it.
        Op::CreateRoutine { .. } => Harmless,
        // Callers that name the routine (the app's raw SQL) fail: no rule judges it.
        Op::RenameRoutine { .. } => Unjudged("ALTER FUNCTION ... RENAME / SET SCHEMA".into()),
        // Moves the table out of the app's schema, like a rename: no rule judges it.
        Op::SetTableSchema { .. } => Unjudged("ALTER TABLE ... SET SCHEMA".into()),
        // Says only that the statement must run alone (CLUSTER, VACUUM FULL, REINDEX SCHEMA): what
        // it does is the statement's other operation, judged by its own rule.
        Op::NonTransactional { .. } if statement.ops.iter().any(is_judged_work) => Harmless,
        Op::NonTransactional { kind } | Op::Other { kind } => kind_verdict(op, kind, statement),
    }
}

/// Statement kinds known to be harmless, with why. The kind is the statement's leading keywords
/// (`CREATE EXTENSION`), as the SQL front end names it.
pub const HARMLESS_KINDS: &[(&str, &str)] = &[
    ("SET", "session settings of the migration itself"),
    ("RESET", "session settings of the migration itself"),
    ("SELECT", "reads; a routine it calls is judged by its body"),
    ("WITH", "a query without data changes (those are their own operations)"),
    ("VALUES", "computes rows, changes none"),
    ("TABLE", "reads"),
    ("SHOW", "reads a setting"),
    ("CALL", "runs a procedure, judged by its body when the history defines it"),
    ("PERFORM", "PL/pgSQL's SELECT: judged by the body of what it calls"),
    ("COPY", "COPY FROM adds rows under ROW EXCLUSIVE, COPY TO reads"),
    ("EXPLAIN", "plans without running (EXPLAIN ANALYZE is judged apart)"),
    ("PREPARE", "plans without running"),
    ("DEALLOCATE", "drops a prepared plan"),
    ("DECLARE", "opens a cursor for reading"),
    ("FETCH", "reads from a cursor"),
    ("CLOSE", "closes a cursor"),
    ("SAVEPOINT", "transaction control"),
    ("RELEASE", "transaction control"),
    ("ROLLBACK", "ROLLBACK TO SAVEPOINT: transaction control"),
    ("ABORT", "transaction control"),
    ("NOTIFY", "a message to listeners"),
    ("LISTEN", "subscribes the session"),
    ("UNLISTEN", "unsubscribes the session"),
    ("CHECKPOINT", "flushes buffers, locks nothing"),
    ("DISCARD", "session state"),
    ("ANALYZE", "SHARE UPDATE EXCLUSIVE: reads and writes go on"),
    ("VACUUM", "SHARE UPDATE EXCLUSIVE: reads and writes go on (VACUUM FULL is judged apart)"),
    ("COMMENT ON", "catalog only"),
    ("SECURITY LABEL", "catalog only"),
    ("GRANT", "privileges: catalog only"),
    ("REVOKE", "privileges: catalog only"),
    ("ALTER DEFAULT PRIVILEGES", "privileges of future objects"),
    ("REASSIGN OWNED", "ownership: catalog only"),
    ("CREATE ROLE", "roles are not the schema"),
    ("ALTER ROLE", "roles are not the schema"),
    ("DROP ROLE", "roles are not the schema (fails while the role owns objects)"),
    ("CREATE USER", "roles are not the schema"),
    ("ALTER USER", "roles are not the schema"),
    ("DROP USER", "roles are not the schema (fails while the role owns objects)"),
    ("CREATE GROUP", "roles are not the schema"),
    ("ALTER GROUP", "roles are not the schema"),
    ("DROP GROUP", "roles are not the schema"),
    ("CREATE DATABASE", "a new database: nothing uses it yet"),
    ("CREATE TABLESPACE", "new storage: nothing uses it yet"),
    ("ALTER TABLESPACE", "options of the storage location, catalog only"),
    ("DROP TABLESPACE", "fails unless empty"),
    ("CREATE EXTENSION", "new objects: nothing uses them yet"),
    ("CREATE TYPE", "a new (composite or range) type: nothing uses it yet"),
    ("CREATE DOMAIN", "a new type: nothing uses it yet"),
    ("DROP DOMAIN", "fails while a column uses it (CASCADE is judged apart)"),
    ("CREATE FUNCTION", "defines, runs nothing"),
    ("CREATE PROCEDURE", "defines, runs nothing"),
    ("ALTER FUNCTION", "options or owner: catalog only (RENAME is its own operation)"),
    ("ALTER PROCEDURE", "options or owner: catalog only (RENAME is its own operation)"),
    ("CREATE VIEW", "a new view: stores a query, runs nothing"),
    ("ALTER VIEW", "options, defaults, owner: catalog only (RENAME and SET SCHEMA are judged apart)"),
    ("DROP VIEW", "a view holds no data"),
    ("CREATE MATERIALIZED VIEW", "a new relation, filled by reading (ACCESS SHARE)"),
    ("ALTER MATERIALIZED VIEW", "options, owner: catalog only (RENAME, SET SCHEMA, SET TABLESPACE, SET ACCESS METHOD are judged apart)"),
    ("DROP MATERIALIZED VIEW", "derived data, recomputable"),
    ("CREATE SEQUENCE", "a new sequence: nothing uses it yet"),
    ("ALTER SEQUENCE", "catalog only, the sequence's own lock"),
    ("DROP SEQUENCE", "fails while a column default uses it (CASCADE is judged apart)"),
    ("CREATE STATISTICS", "SHARE UPDATE EXCLUSIVE: reads and writes go on"),
    ("ALTER STATISTICS", "catalog only"),
    ("DROP STATISTICS", "planner statistics only"),
    ("CREATE POLICY", "catalog only; applies once row level security is enabled (judged apart)"),
    ("ALTER POLICY", "catalog only; applies once row level security is enabled (judged apart)"),
    ("DROP POLICY", "catalog only"),
    ("CREATE PUBLICATION", "replication setup: catalog only"),
    ("ALTER PUBLICATION", "replication setup: catalog only"),
    ("DROP PUBLICATION", "replication setup: catalog only"),
    ("CREATE AGGREGATE", "defines, runs nothing"),
    ("ALTER AGGREGATE", "catalog only"),
    ("DROP AGGREGATE", "no data (fails while a view uses it)"),
    ("CREATE CAST", "defines, runs nothing"),
    ("DROP CAST", "no data"),
    ("CREATE COLLATION", "defines, nothing uses it yet"),
    ("ALTER COLLATION", "catalog only"),
    ("DROP COLLATION", "fails while a column uses it"),
    ("CREATE OPERATOR", "defines, runs nothing"),
    ("ALTER OPERATOR", "catalog only"),
    ("DROP OPERATOR", "no data (fails while used)"),
    ("CREATE CONVERSION", "defines, runs nothing"),
    ("DROP CONVERSION", "no data"),
    ("CREATE TRANSFORM", "defines, runs nothing"),
    ("DROP TRANSFORM", "no data"),
    ("CREATE LANGUAGE", "defines, runs nothing"),
    ("ALTER LANGUAGE", "catalog only"),
    ("DROP LANGUAGE", "no data (fails while a routine uses it)"),
    ("CREATE ACCESS METHOD", "defines, nothing uses it yet"),
    ("DROP ACCESS METHOD", "fails while used"),
    ("CREATE TEXT SEARCH", "defines, nothing uses it yet"),
    ("ALTER TEXT SEARCH", "catalog only"),
    ("DROP TEXT SEARCH", "no data (fails while used)"),
    ("CREATE EVENT TRIGGER", "fires on DDL, not on the app's queries"),
    ("ALTER EVENT TRIGGER", "fires on DDL, not on the app's queries"),
    ("DROP EVENT TRIGGER", "fires on DDL, not on the app's queries"),
    ("DROP TRIGGER", "a brief lock, catalog only; writes stop paying the trigger"),
    ("CREATE SERVER", "a new foreign server: nothing uses it yet"),
    ("CREATE USER MAPPING", "credentials for a foreign server"),
    ("ALTER USER MAPPING", "credentials for a foreign server"),
    ("DROP USER MAPPING", "credentials for a foreign server"),
    ("CREATE FOREIGN TABLE", "a new foreign table: nothing uses it yet"),
    ("IMPORT FOREIGN", "new foreign tables: nothing uses them yet"),
    ("ALTER LARGE OBJECT", "ownership or privileges: catalog only"),
    ("ALTER SCHEMA", "OWNER TO: catalog only (RENAME TO is its own operation)"),
];

/// Kinds decided NOT harmless, with why (they raise the rule; listed so the decision is seen).
pub const UNJUDGED_KINDS: &[(&str, &str)] = &[
    ("ALTER TABLE", "an action no rule reads (ATTACH PARTITION, ENABLE ROW LEVEL SECURITY, DISABLE TRIGGER, ...): see `ALTER_TABLE_HARMLESS`"),
    ("ALTER TYPE", "ADD ATTRIBUTE, SET SCHEMA, OWNER TO, ...: SET SCHEMA breaks the app's casts"),
    ("ALTER INDEX", "SET TABLESPACE rewrites it, ATTACH PARTITION, ..."),
    ("ALTER DOMAIN", "ADD CONSTRAINT checks every row of every column of the type"),
    ("ALTER EXTENSION", "UPDATE runs the extension's script, whatever it does"),
    ("DROP EXTENSION", "drops the types and functions the app may use"),
    ("DROP FUNCTION", "the app's raw SQL and triggers may call it"),
    ("DROP PROCEDURE", "the app's raw SQL may call it"),
    ("ALTER TRIGGER", "RENAME takes an ACCESS EXCLUSIVE lock; DEPENDS ON EXTENSION ..."),
    ("CREATE TRIGGER", "not read (its table unknown): create-trigger could not judge it"),
    ("LOCK", "not read (its mode unknown): lock-table could not judge it"),
    ("CREATE RULE", "rewrites the app's queries on the table"),
    ("DROP RULE", "changes what the app's queries on the table do"),
    ("ALTER RULE", "renames a rule: catalog only, rare enough to read"),
    ("CREATE SUBSCRIPTION", "starts copying data into existing tables"),
    ("ALTER SUBSCRIPTION", "changes what is copied into existing tables"),
    ("DROP SUBSCRIPTION", "stops replication, drops a remote slot"),
    ("ALTER SERVER", "changes where foreign tables read from"),
    ("DROP SERVER", "its foreign tables stop working"),
    ("ALTER FOREIGN TABLE", "like ALTER TABLE, on a remote table"),
    ("DROP FOREIGN TABLE", "the app may query it"),
    ("ALTER DATABASE", "settings every new session of the app gets"),
    ("ALTER SYSTEM", "server configuration"),
    ("DROP OWNED", "drops every object the role owns: tables and data included"),
    ("CLUSTER", "rewrites the table under an ACCESS EXCLUSIVE lock"),
    ("REFRESH MATERIALIZED VIEW", "blocks reads of the view while it recomputes"),
    ("REINDEX SCHEMA", "rebuilds every index of the schema, blocking writes"),
    ("REINDEX DATABASE", "rebuilds every index, blocking writes"),
    ("REINDEX SYSTEM", "rebuilds the catalogs' indexes"),
    ("ALTER TABLE DETACH PARTITION CONCURRENTLY", "the parent's queries stop seeing its rows"),
    ("LOAD", "loads a shared library into the server"),
];

/// ALTER TABLE actions (lower-case leading words; `(` stands for an option list) that take a
/// brief lock and change only the catalog. An `ALTER COLUMN c` action is matched after the
/// column's name.
pub const ALTER_TABLE_HARMLESS: &[&[&str]] = &[
    &["owner", "to"],
    &["set", "("],
    &["reset", "("],
    &["cluster", "on"],
    &["set", "without", "cluster"],
    &["set", "without", "oids"],
    &["replica", "identity"],
];

/// ALTER TABLE actions that the SQL front end turns into their own operations, judged there.
const ALTER_TABLE_OWN_OPS: &[&[&str]] = &[
    &["add"],
    &["drop"],
    &["rename"],
    &["validate"],
    &["set", "schema"],
];

const ALTER_COLUMN_OWN_OPS: &[&[&str]] = &[
    &["type"],
    &["set", "data", "type"],
    &["set", "not", "null"],
    &["drop", "not", "null"],
    &["set", "default"],
    &["drop", "default"],
];

fn kind_verdict(op: &Op, kind: &str, statement: &Statement) -> Verdict {
    let text = statement.text.as_str();
    if kind == "ALTER TABLE" {
        return alter_table_verdict(op, statement);
    }
    if kind == "VACUUM" && sql::has_word(text, "full") {
        return Verdict::Unjudged("VACUUM FULL".into());
    }
    if kind == "EXPLAIN" && (sql::has_word(text, "analyze") || sql::has_word(text, "analyse")) {
        return Verdict::Unjudged("EXPLAIN ANALYZE".into());
    }
    if let Some(action) = view_action_not_harmless(kind, text) {
        return Verdict::Unjudged(format!("{kind} ... {action}"));
    }
    if HARMLESS_KINDS.iter().any(|(harmless, _)| *harmless == kind) {
        if kind.starts_with("DROP ") {
            return cascade_or(statement, kind, Verdict::Harmless);
        }
        return Verdict::Harmless;
    }
    if kind.is_empty() {
        let first_words: Vec<&str> = text.split_whitespace().take(2).collect();
        return Verdict::Unjudged(first_words.join(" "));
    }
    Verdict::Unjudged(kind.to_string())
}

/// ALTER VIEW and ALTER MATERIALIZED VIEW are harmless for their options, defaults and owner,
/// not for these: a rename or a move to another schema breaks the app's queries of the view
/// (like rename-table), SET TABLESPACE and SET ACCESS METHOD rewrite a materialized view under
/// an ACCESS EXCLUSIVE lock (like table-rewrite).
fn view_action_not_harmless(kind: &str, text: &str) -> Option<&'static str> {
    if kind != "ALTER VIEW" && kind != "ALTER MATERIALIZED VIEW" {
        return None;
    }
    let words = lower_words(text);
    let has = |phrase: &[&str]| words.windows(phrase.len()).any(|w| w == phrase);
    if has(&["rename"]) {
        Some("RENAME")
    } else if has(&["set", "schema"]) {
        Some("SET SCHEMA")
    } else if has(&["set", "tablespace"]) {
        Some("SET TABLESPACE")
    } else if has(&["set", "access", "method"]) {
        Some("SET ACCESS METHOD")
    } else {
        None
    }
}

/// An operation a rule reads for what it does (not a bare statement kind).
fn is_judged_work(op: &Op) -> bool {
    matches!(
        op,
        Op::RewriteTable { .. } | Op::Reindex { .. } | Op::RefreshMaterializedView { .. }
    )
}

/// `DROP ... CASCADE` also drops what depends on the object: columns, views, tables.
fn cascade_or(statement: &Statement, kind: &str, otherwise: Verdict) -> Verdict {
    if sql::has_word(&statement.text, "cascade") {
        Verdict::Unjudged(format!("{kind} ... CASCADE"))
    } else {
        otherwise
    }
}

/// An `Op::Other` of an ALTER TABLE stands for actions no operation reads: harmless only when
/// every such action of the statement is known harmless. Decided (and reported) once, on the
/// statement's first such op.
fn alter_table_verdict(op: &Op, statement: &Statement) -> Verdict {
    let first_other = statement
        .ops
        .iter()
        .find(|o| matches!(o, Op::Other { kind } if kind == "ALTER TABLE"));
    if first_other.is_some_and(|first| !std::ptr::eq(first, op)) {
        return Verdict::Harmless;
    }
    let Some(actions) = sql::alter_table_actions(&statement.text) else {
        // Inside a DO block: the action is not known.
        return Verdict::Unjudged("ALTER TABLE".into());
    };
    for action in &actions {
        let words = lower_words(action);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let column_action = match words.as_slice() {
            ["alter", "column", _, rest @ ..] | ["alter", _, rest @ ..] => Some(rest),
            _ => None,
        };
        let decided = match column_action {
            Some(rest) => starts_with_any(rest, ALTER_COLUMN_OWN_OPS)
                || starts_with_any(rest, sql::HARMLESS_COLUMN_ACTIONS),
            None => {
                starts_with_any(&words, ALTER_TABLE_OWN_OPS)
                    || starts_with_any(&words, ALTER_TABLE_HARMLESS)
            }
        };
        if !decided {
            let shown: Vec<&str> = action.split_whitespace().take(4).collect();
            return Verdict::Unjudged(format!("ALTER TABLE ... {}", shown.join(" ")));
        }
    }
    Verdict::Harmless
}

/// Lower-cased words, with `(` its own word.
fn lower_words(text: &str) -> Vec<String> {
    text.replace('(', " ( ")
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect()
}

fn starts_with_any(words: &[&str], starts: &[&[&str]]) -> bool {
    starts.iter().any(|start| words.starts_with(start))
}

/// The finding for `op`, when it is neither judged nor known harmless.
pub fn violation(op: &Op, statement: &Statement) -> Option<Violation> {
    let Verdict::Unjudged(kind) = verdict(op, statement) else {
        return None;
    };
    Some(Violation::new(
        format!(
            "migration-gate has no verdict for {kind}: no rule checks it for locks, rewrites, \
             data loss or what the running app sees. Review it by hand."
        ),
        "Check what it locks and for how long, whether it rewrites or scans a table, and \
               whether the running app still works after it. If it is safe, record why: \
               `-- migration-gate: allow unjudged-statement reason: <why it is safe>` on the \
               line above it."
            .to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing::{assert_mentions, flags, only_violation, violations, HISTORY};
    use crate::lint::rules::CATALOGUE;

    #[test]
    fn names_the_kind_of_an_unjudged_statement() {
        let v = only_violation(HISTORY, "DROP OWNED BY reporting;", &RULE);
        assert_mentions(&v.message, "no verdict for DROP OWNED");
        assert_mentions(&v.help, "allow unjudged-statement reason:");
    }

    #[test]
    fn known_harmless_kinds_pass() {
        for sql in [
            "COMMENT ON TABLE \"User\" IS 'people';",
            "GRANT SELECT ON \"User\" TO reader;",
            "SET lock_timeout = '5s';",
            "SELECT 1;",
            "CREATE EXTENSION IF NOT EXISTS pgcrypto;",
            "CREATE VIEW v AS SELECT * FROM \"User\";",
            "DROP VIEW v;",
            "CREATE SEQUENCE s;",
            "ANALYZE \"User\";",
            "VACUUM \"User\";",
            "ALTER SCHEMA legacy OWNER TO admin;",
            "ALTER VIEW v OWNER TO admin;",
            "ALTER VIEW v ALTER COLUMN id SET DEFAULT 0;",
            "ALTER MATERIALIZED VIEW mv SET (fillfactor = 70);",
            "ALTER TABLE \"User\" ALTER COLUMN email SET STATISTICS 500, OWNER TO admin;",
            "ALTER TABLE \"User\" ALTER COLUMN email DROP DEFAULT, REPLICA IDENTITY FULL;",
        ] {
            assert!(!flags(HISTORY, sql, &RULE), "{sql}");
        }
    }

    #[test]
    fn judged_and_new_operations_pass() {
        let pending = "CREATE TABLE \"Draft\" (id int4);\n\
                       ALTER TABLE \"User\" ADD COLUMN name text;\n\
                       DROP TABLE \"Draft\";\n\
                       LOCK TABLE \"User\" IN SHARE MODE;\n\
                       CREATE TRIGGER t AFTER INSERT ON \"User\" FOR EACH ROW EXECUTE FUNCTION f();";
        assert!(violations(HISTORY, pending, &RULE).is_empty());
    }

    #[test]
    fn unknown_alter_table_actions_and_variants_are_named() {
        for (sql, kind) in [
            (
                "ALTER TABLE \"User\" OWNER TO admin, ENABLE ROW LEVEL SECURITY;",
                "ALTER TABLE ... ENABLE ROW LEVEL SECURITY",
            ),
            ("ALTER TABLE \"User\" SET SCHEMA archive;", "ALTER TABLE ... SET SCHEMA"),
            ("DROP TYPE \"Role\" CASCADE;", "DROP TYPE ... CASCADE"),
            ("DROP SEQUENCE s CASCADE;", "DROP SEQUENCE ... CASCADE"),
            ("EXPLAIN ANALYZE DELETE FROM \"User\";", "EXPLAIN ANALYZE"),
            ("ALTER TYPE \"Role\" SET SCHEMA app;", "ALTER TYPE"),
            // The app's queries of the view break, like a renamed table.
            ("ALTER VIEW v RENAME TO w;", "ALTER VIEW ... RENAME"),
            ("ALTER VIEW v RENAME COLUMN a TO b;", "ALTER VIEW ... RENAME"),
            ("ALTER VIEW IF EXISTS v SET SCHEMA archive;", "ALTER VIEW ... SET SCHEMA"),
            ("ALTER MATERIALIZED VIEW mv RENAME TO mv2;", "ALTER MATERIALIZED VIEW ... RENAME"),
            // Copies the view's rows under ACCESS EXCLUSIVE, like ALTER TABLE ... SET TABLESPACE.
            (
                "ALTER MATERIALIZED VIEW mv SET TABLESPACE fast;",
                "ALTER MATERIALIZED VIEW ... SET TABLESPACE",
            ),
            // Read by no rule when its mode cannot be read.
            ("LOCK TABLE \"User\" IN SOME MODE;", "LOCK"),
        ] {
            let v = only_violation(HISTORY, sql, &RULE);
            assert_mentions(&v.message, &format!("no verdict for {kind}:"));
        }
    }

    #[test]
    fn one_finding_for_an_alter_table_with_several_unread_actions() {
        let sql = "ALTER TABLE \"User\" ENABLE ROW LEVEL SECURITY, DISABLE RULE r;";
        assert_eq!(violations(HISTORY, sql, &RULE).len(), 1);
    }

    #[test]
    fn statements_that_must_run_alone_are_judged_by_what_they_do() {
        for sql in [
            "CLUSTER;",
            "CLUSTER \"User\" USING \"User_pkey\";",
            "VACUUM FULL \"User\";",
            "VACUUM FULL;",
            "REINDEX TABLE \"User\";",
            "REINDEX SCHEMA public;",
            "REINDEX DATABASE app;",
            "ALTER TABLE \"User\" SET LOGGED;",
        ] {
            assert!(!flags(HISTORY, sql, &RULE), "{sql}");
        }
    }

    #[test]
    fn an_unparsed_statement_is_left_to_unparsed_statement() {
        assert!(!flags(HISTORY, "FROBNICATE \"User\" VERY FAST;", &RULE));
    }

    #[test]
    fn a_suppression_with_a_reason_records_the_review() {
        let sql = "-- migration-gate: allow unjudged-statement reason: role is gone\nDROP OWNED BY reporting;";
        assert!(!flags(HISTORY, sql, &RULE));
    }

    #[test]
    fn every_rule_named_as_a_judge_exists() {
        let all_judges = [
            "drop-schema",
            "drop-table",
            "rename-table",
            "truncate-table",
            "add-column-required",
            "add-column-rewrite",
            "add-foreign-key-validating",
            "add-check-validating",
            "add-unique-blocking",
            "drop-column",
            "rename-column",
            "alter-column-type",
            "set-not-null",
            "create-index-blocking",
            "concurrently-in-transaction",
            "drop-index-blocking",
            "enum-value-used-in-transaction",
            "rename-enum-value",
            "rename-type",
            "unbatched-data-change",
            "lock-table",
            "create-trigger",
            "rename-schema",
        ];
        for id in all_judges {
            assert!(CATALOGUE.iter().any(|r| r.id == id), "{id}");
        }
    }

    /// Every kind the SQL front end names today (classify.rs and parse.rs) is decided: harmless,
    /// or unjudged on purpose.
    #[test]
    fn every_kind_produced_today_is_decided() {
        let decided = |kind: &str| {
            HARMLESS_KINDS.iter().any(|(k, _)| *k == kind)
                || UNJUDGED_KINDS.iter().any(|(k, _)| *k == kind)
        };
        for kind in [
            "VACUUM", "ALTER SYSTEM", "CREATE DATABASE", "CREATE TABLESPACE", "DROP TABLESPACE",
            "CREATE SUBSCRIPTION", "DROP SUBSCRIPTION", "ALTER SEQUENCE", "CREATE SEQUENCE",
            "DROP SEQUENCE", "CREATE PUBLICATION", "ALTER PUBLICATION", "DROP PUBLICATION",
            "ALTER SUBSCRIPTION", "COMMENT ON", "GRANT", "REVOKE", "SET", "RESET", "SELECT",
            "ANALYZE", "CREATE EXTENSION", "ALTER EXTENSION", "DROP EXTENSION", "CREATE FUNCTION",
            "ALTER FUNCTION", "DROP FUNCTION", "CREATE PROCEDURE", "ALTER PROCEDURE",
            "DROP PROCEDURE", "CREATE TRIGGER", "ALTER TRIGGER", "DROP TRIGGER", "CREATE VIEW",
            "ALTER VIEW", "DROP VIEW", "CREATE MATERIALIZED VIEW", "ALTER MATERIALIZED VIEW",
            "DROP MATERIALIZED VIEW", "REFRESH MATERIALIZED VIEW", "CREATE POLICY",
            "ALTER POLICY", "DROP POLICY", "CREATE ROLE", "ALTER ROLE", "DROP ROLE",
            "CREATE USER", "ALTER USER", "DROP USER", "ALTER DEFAULT PRIVILEGES",
            "CREATE DOMAIN", "ALTER DOMAIN", "DROP DOMAIN", "CREATE AGGREGATE", "DROP AGGREGATE",
            "CREATE CAST", "DROP CAST", "CREATE COLLATION", "DROP COLLATION",
            "CREATE STATISTICS", "ALTER STATISTICS", "DROP STATISTICS", "CREATE RULE",
            "DROP RULE", "CREATE EVENT TRIGGER", "DROP EVENT TRIGGER", "CREATE SERVER",
            "CREATE FOREIGN TABLE", "CREATE USER MAPPING", "IMPORT FOREIGN", "CREATE TEXT SEARCH",
            "SECURITY LABEL", "NOTIFY", "LISTEN", "SAVEPOINT", "RELEASE", "CHECKPOINT",
            "DISCARD", "LOCK", "CALL", "ALTER SCHEMA", "ALTER DATABASE", "CREATE OPERATOR",
            "CREATE LANGUAGE", "ALTER LARGE OBJECT", "CREATE ACCESS METHOD", "CLUSTER",
            "ROLLBACK", "ABORT", "DROP OWNED", "REASSIGN OWNED", "ALTER TABLESPACE",
            "ALTER OPERATOR", "DROP OPERATOR", "ALTER COLLATION", "ALTER SERVER", "DROP SERVER",
            "ALTER FOREIGN TABLE", "DROP FOREIGN TABLE", "DROP USER MAPPING",
            "ALTER USER MAPPING", "ALTER TEXT SEARCH", "DROP TEXT SEARCH", "DROP LANGUAGE",
            "ALTER LANGUAGE", "DROP ACCESS METHOD", "ALTER EVENT TRIGGER", "CREATE GROUP",
            "ALTER GROUP", "DROP GROUP", "ALTER AGGREGATE", "COPY", "SHOW", "EXPLAIN", "PREPARE",
            "DEALLOCATE", "VALUES", "CREATE CONVERSION", "DROP CONVERSION", "CREATE TRANSFORM",
            "DROP TRANSFORM", "ALTER RULE", "CREATE TYPE", "ALTER TYPE", "ALTER TABLE",
            "ALTER INDEX", "PERFORM", "REINDEX SCHEMA", "REINDEX DATABASE", "REINDEX SYSTEM",
            "ALTER TABLE DETACH PARTITION CONCURRENTLY", "WITH",
        ] {
            assert!(decided(kind), "{kind} is neither harmless nor unjudged on purpose");
        }
        for (kind, reason) in HARMLESS_KINDS.iter().chain(UNJUDGED_KINDS) {
            assert!(!reason.is_empty(), "{kind} needs its reason");
        }
    }
}
