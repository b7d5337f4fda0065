//! `--since REF`: which migrations were added or modified since a git ref.
