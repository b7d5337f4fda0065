//! `drop-column`: ALTER TABLE ... DROP COLUMN on an existing table: data loss, and the running app still reads it.
//! (To be written: see the rule table in issue 2.)

use super::{RuleContext, Violation};
use crate::sql::Op;

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let _ = (op, ctx);
    None
}
