//! SQL front end: split a migration file into statements with exact positions, then understand
//! each one as a list of [`model::Op`]s — through `sqlparser` first, a token-level classifier second.

pub mod fallback;
pub mod model;
pub mod parse;
pub mod split;

pub use model::{
    ColumnSpec, ConstraintKind, ConstraintSpec, ObjectName, Op, Statement, TransactionControl,
    TypeName, Understanding,
};
pub use split::{split, Position, RawStatement, Span};

/// Split `source` and understand every statement. Never panics, whatever the input.
pub fn analyze_source(source: &str) -> Vec<Statement> {
    split(source)
        .into_iter()
        .map(|raw| parse::understand(source, raw))
        .collect()
}
