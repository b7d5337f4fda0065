//! `out-of-order-migration`: a new migration sorts before migrations already merged.
//! (To be written: see the rule table in issue 2.)
