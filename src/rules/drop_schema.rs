//! `drop-schema`: DROP SCHEMA / DROP DATABASE: everything in it is lost.
//! (To be written: see the rule table in issue 2.)

use super::{RuleContext, Violation};
use crate::sql::Op;

pub fn check(op: &Op, ctx: &RuleContext) -> Option<Violation> {
    let _ = (op, ctx);
    None
}
