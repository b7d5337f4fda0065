//! `allow-without-reason`: a migration-gate: allow comment without a reason is ignored.
//! (To be written: see the rule table in issue 2.)
