//! `enum-value-used-in-transaction`: a new enum value used in the same migration fails (55P04).
//! (To be written: see the rule table in issue 2.)

use super::{RuleContext, Violation};
use crate::sql::Op;

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let _ = (op, ctx);
    None
}
