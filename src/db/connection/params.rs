//! The connection parameters a URL or the libpq environment sets, as plain values: `sslmode`,
//! `sslrootcert`, `channel_binding`. The URL parser ([`super::url`]) produces them and the TLS
//! setup ([`super::tls`]) reads them; neither imports the other's internals.

use std::fmt;
use std::path::PathBuf;

use crate::error::{AppError, Result};

/// `sslmode`, meaning what libpq means by it (see [`super::tls`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Never TLS.
    Disable,
    /// Plaintext first, TLS only when the server refuses it.
    Allow,
    /// TLS when the server offers it, no certificate check (the default).
    #[default]
    Prefer,
    /// Always TLS; the chain is checked only when `sslrootcert` is given.
    Require,
    /// Always TLS, the chain checked, any host name.
    VerifyCa,
    /// Always TLS, the chain and the host name checked.
    VerifyFull,
}

impl SslMode {
    /// The `sslmode` value of a URL or `PGSSLMODE`; anything else is a malformed URL.
    pub fn parse(value: &str) -> Result<SslMode> {
        Ok(match value.trim().to_ascii_lowercase().as_str() {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => {
                return Err(AppError::usage(
                    "the database URL is malformed: `sslmode` must be one of disable, allow, prefer, require, verify-ca, verify-full",
                ))
            }
        })
    }

    /// The value as libpq spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where `sslrootcert` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    /// `sslrootcert=system`: the operating system's trust store.
    System,
    /// A PEM file of CA certificates.
    File(PathBuf),
}

/// `channel_binding`: whether SCRAM authentication must be bound to the TLS session (Neon's URLs
/// say `require`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChannelBinding {
    /// Never bind.
    Disable,
    /// Bind when the server supports it (the default).
    #[default]
    Prefer,
    /// Refuse to authenticate without binding.
    Require,
}

impl ChannelBinding {
    /// The value as libpq spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelBinding::Disable => "disable",
            ChannelBinding::Prefer => "prefer",
            ChannelBinding::Require => "require",
        }
    }
}
