//! Turn a raw statement into [`Op`]s: `sqlparser` (PostgreSqlDialect) first; when it cannot parse
//! valid PostgreSQL, the token classifier in [`super::fallback`]. A `DO` body is analysed as SQL.

use super::model::Statement;
use super::split::RawStatement;

pub fn understand(source: &str, raw: RawStatement) -> Statement {
    let _ = (source, raw);
    todo!("sql::parse::understand")
}
