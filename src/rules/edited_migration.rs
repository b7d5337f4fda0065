//! `edited-migration`: a migration already merged (and maybe applied) was modified.
//! (To be written: see the rule table in issue 2.)
