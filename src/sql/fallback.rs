//! Token-level classifier for statements `sqlparser` does not parse (seen in real histories:
//! `DROP INDEX CONCURRENTLY IF EXISTS`, `ALTER SEQUENCE`, `CREATE PUBLICATION`, ...). It recognises
//! the statement kind and its target; when it cannot, it still scans the tokens for destructive
//! sequences so nothing dangerous passes silently.
