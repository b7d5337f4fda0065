//! `concurrently-in-transaction`: a CONCURRENTLY statement inside BEGIN ... COMMIT fails (25001).
//! (To be written: see the rule table in issue 2.)

use super::{RuleContext, Violation};
use crate::sql::Op;

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let _ = (op, ctx);
    None
}
