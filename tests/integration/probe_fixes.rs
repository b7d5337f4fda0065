//! What PostgreSQL does for the claims of the fixes to `add-column-rewrite`,
//! `alter-column-type`, `add-unique-blocking`, `drop-index-blocking`, `unbatched-data-change`
//! and of `required-column-without-default`: one probe per claim.

use crate::probe::{probe, Observed};
use crate::support::TestDb;

/// Whether `statement` (in a rolled-back transaction) builds `index` anew. ALTER TABLE re-creates
/// the index of a column whose type changes (a new oid, which [`probe`]'s by-oid comparison does
/// not follow); when it can keep the index it keeps its storage (the same relfilenode).
fn rebuilds_index(setup: &str, statement: &str, index: &str) -> bool {
    let db = TestDb::new();
    db.execute(setup);
    let storage = format!("SELECT relfilenode::text FROM pg_class WHERE relname = '{index}'");
    let before = db.query(&storage);
    let after = db.query(&format!("BEGIN; {statement}; {storage}; ROLLBACK;"));
    assert_eq!(before.len(), 1, "{index} exists");
    before != after
}

const ORDERS: &str = "CREATE TABLE orders (id int PRIMARY KEY, total int);\n\
                      INSERT INTO orders SELECT g, g FROM generate_series(1, 1000) g;";

fn add_column(setup: &str, default: &str) -> Observed {
    probe(
        setup,
        &format!("ALTER TABLE orders ADD COLUMN x text DEFAULT ({default})::text"),
    )
}

// add-column-rewrite

#[test]
fn built_in_stable_defaults_do_not_rewrite_and_volatile_ones_do() {
    for stable in [
        "now()",
        "CURRENT_TIMESTAMP",
        "CURRENT_TIMESTAMP(3)",
        "timezone('utc', now())",
    ] {
        let seen = add_column(ORDERS, stable);
        assert_eq!(seen.failed_with, None, "{stable}");
        assert!(!seen.rewrote("orders"), "{stable}: {seen:?}");
    }
    for volatile in ["gen_random_uuid()", "random()", "clock_timestamp()"] {
        let seen = add_column(ORDERS, volatile);
        assert!(seen.rewrote("orders"), "{volatile}: {seen:?}");
        assert!(seen.holds("orders", "AccessExclusiveLock"), "{seen:?}");
    }
}

#[test]
fn a_user_function_is_volatile_unless_declared_immutable_or_stable() {
    let function = |declared: &str, language: &str, body: &str| {
        format!(
            "{ORDERS}\nCREATE FUNCTION myjsonb() RETURNS jsonb LANGUAGE {language} {declared} \
             AS $$ {body} $$;"
        )
    };
    let sql = "SELECT '{}'::jsonb";
    let plpgsql = "BEGIN RETURN '{}'::jsonb; END";
    // No volatility written: VOLATILE, unless PostgreSQL inlines it (SQL, one SELECT expression).
    for setup in [
        function("", "plpgsql", plpgsql),
        function("SECURITY DEFINER", "sql", sql),
        function(
            "",
            "sql",
            "SELECT jsonb_build_object('id', gen_random_uuid())",
        ),
    ] {
        let seen = add_column(&setup, "myjsonb()");
        assert!(seen.rewrote("orders"), "{setup}: {seen:?}");
        assert!(seen.holds("orders", "AccessExclusiveLock"), "{seen:?}");
    }
    for setup in [
        function("", "sql", sql),
        function("IMMUTABLE", "sql", sql),
        function("STABLE", "sql", sql),
        function("STABLE", "plpgsql", plpgsql),
    ] {
        let seen = add_column(&setup, "myjsonb()");
        assert_eq!(seen.failed_with, None, "{setup}");
        assert!(!seen.rewrote("orders"), "{setup}: {seen:?}");
    }
}

// alter-column-type

const DOCS: &str = "CREATE EXTENSION IF NOT EXISTS citext;\n\
                    CREATE TABLE docs (id int PRIMARY KEY, title varchar(10) \
                    CONSTRAINT docs_title_check CHECK (length(title) > 0), body text, nick citext);\n\
                    INSERT INTO docs SELECT g, 't' || g, 'b' || g, 'n' || g \
                    FROM generate_series(1, 1000) g;";

#[test]
fn a_check_on_the_column_is_checked_again_by_a_binary_compatible_change() {
    let seen = probe(DOCS, "ALTER TABLE docs ALTER COLUMN title TYPE varchar(20)");
    assert!(!seen.rewrote("docs"), "{seen:?}");
    assert!(seen.scanned("docs"), "{seen:?}");
    assert!(seen.holds("docs", "AccessExclusiveLock"), "{seen:?}");
    // A CHECK on another column is not checked again.
    let seen = probe(DOCS, "ALTER TABLE docs ALTER COLUMN body TYPE varchar");
    assert!(!seen.rewrote("docs") && !seen.scanned("docs"), "{seen:?}");
    // Nor a NOT VALID one, which is what the help puts back.
    let seen = probe(
        DOCS,
        "ALTER TABLE docs DROP CONSTRAINT docs_title_check;\n\
         ALTER TABLE docs ALTER COLUMN title TYPE varchar(20);\n\
         ALTER TABLE docs ADD CONSTRAINT docs_title_check CHECK (length(title) > 0) NOT VALID;",
    );
    assert_eq!(seen.failed_with, None);
    assert!(!seen.rewrote("docs") && !seen.scanned("docs"), "{seen:?}");
}

#[test]
fn citext_and_text_convert_in_place_unless_an_index_is_on_the_column() {
    for alter in [
        "ALTER TABLE docs ALTER COLUMN body TYPE citext",
        "ALTER TABLE docs ALTER COLUMN nick TYPE text",
        "ALTER TABLE docs ALTER COLUMN nick TYPE varchar",
        "ALTER TABLE docs DROP CONSTRAINT docs_title_check, ALTER COLUMN title TYPE citext",
    ] {
        let seen = probe(DOCS, alter);
        assert_eq!(seen.failed_with, None, "{alter}");
        assert!(
            !seen.rewrote("docs") && !seen.scanned("docs"),
            "{alter}: {seen:?}"
        );
    }
    let indexed = format!("{DOCS}\nCREATE UNIQUE INDEX docs_body_key ON docs (body);");
    let to_citext = "ALTER TABLE docs ALTER COLUMN body TYPE citext";
    let seen = probe(&indexed, to_citext);
    assert!(!seen.rewrote("docs"), "{seen:?}");
    assert!(
        seen.scanned("docs"),
        "the index build reads every row: {seen:?}"
    );
    assert!(seen.holds("docs", "AccessExclusiveLock"), "{seen:?}");
    assert!(rebuilds_index(&indexed, to_citext, "docs_body_key"));
    // text → varchar keeps the index: same operator class.
    let to_varchar = "ALTER TABLE docs ALTER COLUMN body TYPE varchar";
    let seen = probe(&indexed, to_varchar);
    assert!(!seen.scanned("docs"), "{seen:?}");
    assert!(!rebuilds_index(&indexed, to_varchar, "docs_body_key"));
    // The help's path: without the index the change is catalog-only.
    let seen = probe(
        &indexed,
        "DROP INDEX docs_body_key; ALTER TABLE docs ALTER COLUMN body TYPE citext",
    );
    assert!(!seen.rewrote("docs") && !seen.scanned("docs"), "{seen:?}");
}

#[test]
fn an_expression_index_on_the_column_is_rebuilt_by_a_binary_compatible_change() {
    let setup = format!("{DOCS}\nCREATE INDEX docs_body_lower ON docs (lower(body));");
    let alter = "ALTER TABLE docs ALTER COLUMN body TYPE varchar";
    let seen = probe(&setup, alter);
    assert!(!seen.rewrote("docs"), "{seen:?}");
    assert!(
        seen.scanned("docs"),
        "the index build reads every row: {seen:?}"
    );
    assert!(seen.holds("docs", "AccessExclusiveLock"), "{seen:?}");
    assert!(rebuilds_index(&setup, alter, "docs_body_lower"));
}

#[test]
fn using_the_column_cast_to_the_new_type_is_free() {
    let setup = "CREATE TABLE people (id int PRIMARY KEY, name varchar(10));\n\
                 CREATE INDEX people_name ON people (name);\n\
                 INSERT INTO people SELECT g, 'p' || g FROM generate_series(1, 1000) g;";
    for alter in [
        "ALTER TABLE people ALTER COLUMN name TYPE text USING name::text",
        "ALTER TABLE people ALTER COLUMN name TYPE varchar(20) USING (name::varchar(20))",
    ] {
        let seen = probe(setup, alter);
        assert_eq!(seen.failed_with, None, "{alter}");
        assert!(!seen.rewrote("people"), "{alter}: {seen:?}");
        assert!(!seen.scanned("people"), "{alter}: {seen:?}");
        assert!(!rebuilds_index(setup, alter, "people_name"), "{alter}");
    }
    // Any other expression converts every row.
    let seen = probe(
        setup,
        "ALTER TABLE people ALTER COLUMN name TYPE text USING name || ''",
    );
    assert!(seen.rewrote("people"), "{seen:?}");
}

// add-unique-blocking

const KEYLESS: &str = "CREATE TABLE items (id int, label text);\n\
                       INSERT INTO items SELECT g, 'i' || g FROM generate_series(1, 1000) g;\n\
                       CREATE UNIQUE INDEX items_id_key ON items (id);";

const PRIMARY_KEY_USING_INDEX: &str =
    "ALTER TABLE items ADD CONSTRAINT items_pkey PRIMARY KEY USING INDEX items_id_key";

#[test]
fn primary_key_using_index_on_a_nullable_column_scans_under_access_exclusive() {
    let seen = probe(KEYLESS, PRIMARY_KEY_USING_INDEX);
    assert_eq!(seen.failed_with, None);
    assert!(seen.scanned("items"), "{seen:?}");
    assert!(seen.holds("items", "AccessExclusiveLock"), "{seen:?}");
    // A NOT VALID check proves nothing.
    let not_valid = format!(
        "{KEYLESS}\nALTER TABLE items ADD CONSTRAINT items_id_not_null CHECK (id IS NOT NULL) NOT VALID;"
    );
    assert!(probe(&not_valid, PRIMARY_KEY_USING_INDEX).scanned("items"));
}

#[test]
fn primary_key_using_index_skips_the_scan_on_a_not_null_or_proven_column() {
    for proof in [
        "ALTER TABLE items ALTER COLUMN id SET NOT NULL;",
        "ALTER TABLE items ADD CONSTRAINT items_id_not_null CHECK (id IS NOT NULL);",
    ] {
        let seen = probe(&format!("{KEYLESS}\n{proof}"), PRIMARY_KEY_USING_INDEX);
        assert_eq!(seen.failed_with, None, "{proof}");
        assert!(!seen.scanned("items"), "{proof}: {seen:?}");
    }
    // The help's last migration: VALIDATE done before, SET NOT NULL then PRIMARY KEY, no scan.
    let validated = format!(
        "{KEYLESS}\nALTER TABLE items ADD CONSTRAINT items_id_not_null CHECK (id IS NOT NULL) NOT VALID;\n\
         ALTER TABLE items VALIDATE CONSTRAINT items_id_not_null;"
    );
    let seen = probe(
        &validated,
        &format!(
            "ALTER TABLE items ALTER COLUMN id SET NOT NULL;\n\
             ALTER TABLE items DROP CONSTRAINT items_id_not_null;\n{PRIMARY_KEY_USING_INDEX}"
        ),
    );
    assert_eq!(seen.failed_with, None);
    assert!(!seen.scanned("items"), "{seen:?}");
}

// drop-index-blocking

#[test]
fn drop_index_if_exists_of_a_missing_index_does_nothing() {
    let seen = probe(ORDERS, "DROP INDEX IF EXISTS orders_total_idx");
    assert_eq!(seen.failed_with, None);
    assert!(seen.locks.is_empty(), "{seen:?}");
    // Without IF EXISTS it fails: undefined_object.
    let seen = probe(ORDERS, "DROP INDEX orders_total_idx");
    assert_eq!(seen.failed_with.as_deref(), Some("42704"));
    // An existing index: ACCESS EXCLUSIVE on its table.
    let indexed = format!("{ORDERS}\nCREATE INDEX orders_total_idx ON orders (total);");
    let seen = probe(&indexed, "DROP INDEX IF EXISTS orders_total_idx");
    assert!(seen.holds("orders", "AccessExclusiveLock"), "{seen:?}");
}

// unbatched-data-change

#[test]
fn an_update_without_where_changes_every_row_in_its_transaction() {
    let db = TestDb::new();
    db.execute(ORDERS);
    let count = |sql: &str| {
        db.query(&format!(
            "BEGIN; {sql}; SELECT n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables \
             WHERE relname = 'orders'; ROLLBACK;"
        ))[0][0]
            .clone()
    };
    assert_eq!(count("UPDATE orders SET total = 0"), "1000");
    assert_eq!(count("DELETE FROM orders"), "1000");
    assert_eq!(count("UPDATE orders SET total = 0 WHERE id <= 10"), "10");
}

// required-column-without-default

const DOCUMENTS: &str =
    "CREATE TABLE documents (id int PRIMARY KEY, title text NOT NULL DEFAULT 'Untitled');\n\
     INSERT INTO documents (id) VALUES (1);";

/// What the running (old) app does: it does not know the column.
const OLD_APP_INSERT: &str = "INSERT INTO documents (id) VALUES (2)";

#[test]
fn dropping_the_default_of_a_required_column_fails_the_old_app_s_inserts() {
    let seen = probe(
        DOCUMENTS,
        &format!("ALTER TABLE documents ALTER COLUMN title DROP DEFAULT; {OLD_APP_INSERT}"),
    );
    assert_eq!(seen.failed_with.as_deref(), Some("23502"), "{seen:?}");
    // Prisma's pair: the column added with a default that the migration then drops.
    let seen = probe(
        DOCUMENTS,
        &format!(
            "ALTER TABLE documents ADD COLUMN owner text NOT NULL DEFAULT 'nobody';\n\
             ALTER TABLE documents ALTER COLUMN owner DROP DEFAULT; {OLD_APP_INSERT}"
        ),
    );
    assert_eq!(seen.failed_with.as_deref(), Some("23502"), "{seen:?}");
}

#[test]
fn a_new_default_or_a_nullable_column_keeps_the_old_app_s_inserts_working() {
    for change in [
        "ALTER TABLE documents ALTER COLUMN title DROP DEFAULT;\n\
         ALTER TABLE documents ALTER COLUMN title SET DEFAULT 'New document'",
        "ALTER TABLE documents ALTER COLUMN title DROP NOT NULL;\n\
         ALTER TABLE documents ALTER COLUMN title DROP DEFAULT",
    ] {
        let seen = probe(DOCUMENTS, &format!("{change}; {OLD_APP_INSERT}"));
        assert_eq!(seen.failed_with, None, "{change}");
    }
}
