//! `rename-column`: RENAME COLUMN: the running app still queries the old name.
//! (To be written: see the rule table in issue 2.)

use super::{RuleContext, Violation};
use crate::sql::Op;

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let _ = (op, ctx);
    None
}
