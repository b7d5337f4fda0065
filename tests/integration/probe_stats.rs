//! What `migration-gate stats` asks of PostgreSQL, checked on the server: the catalog query
//! reads no row of the tables (no scan, so no SELECT on them is needed) and keeps no lock on
//! them (`pg_total_relation_size` opens each table under ACCESS SHARE and releases it at once,
//! so only an ACCESS EXCLUSIVE holder can make it wait, and only while it holds it).

use super::probe::probe;

const TABLES: &str = "CREATE TABLE users (id int PRIMARY KEY, email text);\n\
                      INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 10000) g;\n\
                      CREATE TABLE fresh (id int);\n\
                      ANALYZE users;";

#[test]
fn the_catalog_query_of_stats_reads_no_rows_and_keeps_no_lock() {
    let seen = probe(TABLES, migration_gate::db::stats::TABLES);
    assert_eq!(seen.failed_with, None, "{seen:?}");
    for table in ["users", "fresh"] {
        assert!(!seen.scanned(table), "{table}: {seen:?}");
        assert!(!seen.rewrote(table), "{table}: {seen:?}");
        assert!(seen.locks_on(table).is_empty(), "{table}: {seen:?}");
    }
    // The probe does see what a reading statement scans and locks.
    let reading = probe(TABLES, "SELECT count(*) FROM users");
    assert!(reading.scanned("users"), "{reading:?}");
    assert!(reading.holds("users", "AccessShareLock"), "{reading:?}");
}

/// Why `check --stats` does not judge a DELETE from a referenced table by that table's size:
/// each deleted row is checked against the referencing table (a scan of it when its column has
/// no index) or cascades into it, under that table's locks.
#[test]
fn a_delete_from_a_referenced_table_works_on_the_referencing_one() {
    let setup = "CREATE TABLE status (id int PRIMARY KEY);\n\
                 INSERT INTO status SELECT g FROM generate_series(0, 9) g;\n\
                 CREATE TABLE orders (id int PRIMARY KEY, status_id int REFERENCES status (id) \
                 ON DELETE CASCADE);\n\
                 INSERT INTO orders SELECT g, g % 10 FROM generate_series(1, 10000) g;\n\
                 ANALYZE status; ANALYZE orders;";
    let seen = probe(setup, "DELETE FROM status WHERE id < 5");
    assert_eq!(seen.failed_with, None, "{seen:?}");
    assert!(seen.holds("orders", "RowExclusiveLock"), "{seen:?}");
    assert!(seen.scanned("orders"), "{seen:?}");
}

/// Why a REFRESH is not judged by the view's size: it holds ACCESS EXCLUSIVE on the view while
/// its query reads the tables under it (a one-row view of totals scans all of them).
#[test]
fn a_refresh_of_a_one_row_view_scans_the_table_under_it_while_locking_the_view() {
    let setup = "CREATE TABLE orders (id int PRIMARY KEY, total int);\n\
                 INSERT INTO orders SELECT g, g FROM generate_series(1, 10000) g;\n\
                 CREATE MATERIALIZED VIEW totals AS SELECT sum(total) FROM orders;";
    let seen = probe(setup, "REFRESH MATERIALIZED VIEW totals");
    assert_eq!(seen.failed_with, None, "{seen:?}");
    assert!(seen.holds("totals", "AccessExclusiveLock"), "{seen:?}");
    assert!(seen.scanned("orders"), "{seen:?}");
}

/// Why a new type for a referenced column is not judged by its own table's size: the foreign
/// keys to it are validated again, reading the referencing table under ACCESS EXCLUSIVE.
#[test]
fn a_new_type_for_a_referenced_column_reads_the_referencing_table() {
    let setup = "CREATE TABLE status (id int PRIMARY KEY);\n\
                 INSERT INTO status SELECT g FROM generate_series(0, 9) g;\n\
                 CREATE TABLE orders (id int PRIMARY KEY, status_id int REFERENCES status (id));\n\
                 INSERT INTO orders SELECT g, g % 10 FROM generate_series(1, 10000) g;\n\
                 ANALYZE status; ANALYZE orders;";
    let seen = probe(setup, "ALTER TABLE status ALTER COLUMN id TYPE int8");
    assert_eq!(seen.failed_with, None, "{seen:?}");
    assert!(seen.holds("orders", "AccessExclusiveLock"), "{seen:?}");
    assert!(seen.scanned("orders"), "{seen:?}");
}
