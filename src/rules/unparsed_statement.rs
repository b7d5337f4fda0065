//! `unparsed-statement`: a statement migration-gate could not understand: review it by hand.
//! (To be written: see the rule table in issue 2.)
