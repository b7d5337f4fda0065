//! What PostgreSQL does for the claims added while breaking the rules of issue 12: one probe per
//! claim.

use crate::probe::probe;
use crate::support::TestDb;

/// Whether `statement` (in a rolled-back transaction) builds `index` anew (new storage).
fn rebuilds_index(setup: &str, statement: &str, index: &str) -> bool {
    let db = TestDb::new();
    db.execute(setup);
    let storage = format!("SELECT relfilenode::text FROM pg_class WHERE relname = '{index}'");
    let before = db.query(&storage);
    let after = db.query(&format!("BEGIN; {statement}; {storage}; ROLLBACK;"));
    assert_eq!(before.len(), 1, "{index} exists");
    before != after
}

const PEOPLE: &str = "CREATE TABLE people (id int PRIMARY KEY, name varchar(10), login text);\n\
                      INSERT INTO people SELECT g, g::text, g::text FROM generate_series(1, 1000) g;\n\
                      CREATE UNIQUE INDEX people_name_key ON people (name) WHERE id > 0;\n\
                      CREATE INDEX people_live_idx ON people (id) WHERE login IS NOT NULL;\n\
                      CREATE INDEX people_plain_idx ON people (name);\n\
                      ANALYZE people;";

#[test]
fn a_partial_index_on_the_column_is_rebuilt_by_a_binary_compatible_change() {
    let widen = "ALTER TABLE people ALTER COLUMN name TYPE varchar(40)";
    let seen = probe(PEOPLE, widen);
    assert!(!seen.rewrote("people"), "{seen:?}");
    assert!(seen.holds("people", "AccessExclusiveLock"), "{seen:?}");
    assert!(rebuilds_index(PEOPLE, widen, "people_name_key"));
    // The plain index on the same column is kept.
    assert!(!rebuilds_index(PEOPLE, widen, "people_plain_idx"));
    // The column only in the WHERE is enough.
    let login = "ALTER TABLE people ALTER COLUMN login TYPE varchar";
    assert!(rebuilds_index(PEOPLE, login, "people_live_idx"));
}

#[test]
fn set_default_null_on_a_required_column_fails_the_old_app_s_inserts() {
    let setup =
        "CREATE TABLE documents (id int PRIMARY KEY, title text NOT NULL DEFAULT 'Untitled');";
    let seen = probe(
        setup,
        "ALTER TABLE documents ALTER COLUMN title SET DEFAULT NULL; \
         INSERT INTO documents (id) VALUES (2)",
    );
    assert_eq!(seen.failed_with.as_deref(), Some("23502"), "{seen:?}");
    // No default is left in the catalog: the same as DROP DEFAULT.
    let db = TestDb::new();
    db.execute(setup);
    db.execute("ALTER TABLE documents ALTER COLUMN title SET DEFAULT NULL");
    let defaults =
        db.query("SELECT count(*)::text FROM pg_attrdef WHERE adrelid = 'documents'::regclass");
    assert_eq!(defaults, vec![vec!["0".to_string()]]);
}

#[test]
fn postgresql_names_unnamed_expression_duplicate_and_exclusion_indexes_its_own_way() {
    let db = TestDb::new();
    db.execute(
        "CREATE EXTENSION IF NOT EXISTS btree_gist;\n\
         CREATE TABLE \"User\" (id text NOT NULL, name text);\n\
         CREATE INDEX ON \"User\" (lower(name));\n\
         CREATE INDEX ON \"User\" (name);\n\
         CREATE INDEX ON \"User\" (name);\n\
         CREATE TABLE \"Slot\" (during tstzrange, EXCLUDE USING gist (during WITH &&));",
    );
    let names = db.query(
        "SELECT relname::text FROM pg_class WHERE relkind = 'i' \
         AND relnamespace = 'public'::regnamespace ORDER BY 1",
    );
    let names: Vec<&str> = names.iter().map(|row| row[0].as_str()).collect();
    assert_eq!(
        names,
        [
            "Slot_during_excl",
            "User_lower_idx",
            "User_name_idx",
            "User_name_idx1"
        ]
    );
}

#[test]
fn a_serial_column_changed_to_its_own_integer_type_is_not_rewritten() {
    let setup = "CREATE TABLE counters (id serial PRIMARY KEY, big bigserial);\n\
                 INSERT INTO counters SELECT FROM generate_series(1, 1000);";
    for same in [
        "ALTER TABLE counters ALTER COLUMN id TYPE integer",
        "ALTER TABLE counters ALTER COLUMN big TYPE bigint",
    ] {
        let seen = probe(setup, same);
        assert!(
            !seen.rewrote("counters") && !seen.scanned("counters"),
            "{same}: {seen:?}"
        );
    }
    assert!(probe(setup, "ALTER TABLE counters ALTER COLUMN id TYPE bigint").rewrote("counters"));
}
