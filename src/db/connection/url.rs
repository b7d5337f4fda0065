//! Where the database is: the URL from `--database-url` or the environment (direct, unpooled URLs
//! first), its TLS mode, its `?schema=`, and whether it points at a transaction pooler. The
//! password and the full URL are never shown: [`DatabaseUrl::display`] gives `user@host:port/db`.

use std::path::PathBuf;
use std::time::Duration;

use percent_encoding::percent_decode_str;

use super::params::{ChannelBinding, RootCert, SslMode};
use super::secrets::redact_secrets;
use crate::error::{AppError, Result};
use crate::surface::Setting;

/// Environment variables read, in this order, when `--database-url` is not given. Migrations need
/// the direct connection, so the unpooled variables come first.
pub const ENV_ORDER: &[&str] = &[
    "DIRECT_URL",
    "DATABASE_URL_UNPOOLED",
    "POSTGRES_URL_NON_POOLING",
    "DATABASE_URL",
    "POSTGRES_URL",
];

/// The variables that hold a direct (unpooled) URL, named when a pooled URL is refused.
pub const DIRECT_URL_VARS: &[&str] = ENV_ORDER.split_at(3).0;

/// PostgreSQL's port when the URL names none.
pub const DEFAULT_PORT: u16 = 5432;
/// Prisma's schema when the URL has no `?schema=`.
pub const DEFAULT_SCHEMA: &str = "public";
/// libpq leaves it open; we give up on a silent server after this long.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// PgBouncer's conventional port.
const PGBOUNCER_PORT: u16 = 6432;
/// Supabase's transaction-mode pooler (Supavisor).
const SUPABASE_POOLER_PORT: u16 = 6543;

/// A parsed database URL with the libpq environment applied; its `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    /// The URL as given (secret: never print it).
    raw: String,
    user: String,
    password: Option<String>,
    /// Without brackets for IPv6 (`::1`).
    host: String,
    port: u16,
    database: String,
    ssl_mode: SslMode,
    root_cert: Option<RootCert>,
    /// `sslcert` / `sslkey`: a client certificate and its key (PEM), for servers that ask for one.
    client_cert: Option<PathBuf>,
    client_key: Option<PathBuf>,
    channel_binding: ChannelBinding,
    schema: String,
    pgbouncer: bool,
    /// `None`: wait forever (`connect_timeout=0`).
    connect_timeout: Option<Duration>,
    application_name: Option<String>,
    options: Option<String>,
    /// Query parameters we do not act on (Prisma's pool settings etc.), kept as given.
    other_params: Vec<(String, String)>,
    /// The parameters set so far (URL, then environment), so the environment never overrides one.
    given_params: Vec<String>,
    /// The parameters libpq's environment variables gave: (parameter, variable).
    from_env: Vec<(&'static str, &'static str)>,
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.display())
    }
}

/// A malformed URL. The message never repeats the URL: it may hold the password.
fn malformed(what: &str) -> AppError {
    AppError::usage(format!(
        "the database URL is malformed: {what} (expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE?schema=SCHEMA)"
    ))
}

fn decode(part: &str, what: &str) -> Result<String> {
    // `percent_decode_str` keeps a stray `%` as written, so `p%zz` would reach the server as a
    // wrong password and come back as an authentication failure: refuse it here instead.
    let bytes = part.as_bytes();
    let malformed_escape = bytes.iter().enumerate().any(|(i, &b)| {
        b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    if malformed_escape {
        return Err(malformed(&format!(
            "the {what} has a malformed percent-escape ('%' must be followed by two hex digits; write a literal % as %25)"
        )));
    }
    // libpq refuses it too: a NUL ends the C string, so the value sent would not be the one given.
    if part.contains("%00") {
        return Err(malformed(&format!(
            "the {what} contains %00 (a NUL byte), which PostgreSQL cannot receive"
        )));
    }
    percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| malformed(&format!("the {what} is not valid percent-encoded UTF-8")))
}

/// Query values are form-encoded (`+` is a space), as the `url` crate Prisma uses reads them.
fn decode_query(part: &str, what: &str) -> Result<String> {
    decode(&part.replace('+', " "), what)
}

/// libpq's environment variables we honour, each below the URL parameter it stands for (as in
/// libpq, a parameter the URL gives wins). `PGPASSWORD` is honoured too, below the URL's password.
pub const HONOURED_LIBPQ_VARS: &[(&str, &str)] = &[
    ("PGSSLMODE", "sslmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGSSLCERT", "sslcert"),
    ("PGSSLKEY", "sslkey"),
    ("PGCHANNELBINDING", "channel_binding"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGAPPNAME", "application_name"),
    ("PGOPTIONS", "options"),
];

/// libpq settings that would make libpq check or route the connection in a way we cannot:
/// ignoring them would quietly weaken a job that relies on them, so they are refused, as an
/// environment variable or a URL parameter, unless set to a value that changes nothing (listed
/// with each).
pub const REFUSED_LIBPQ_SETTINGS: &[(&str, &str, &[&str])] = &[
    ("PGSSLCRL", "sslcrl", &[]),
    ("PGSSLCRLDIR", "sslcrldir", &[]),
    ("PGREQUIREAUTH", "require_auth", &[]),
    ("PGSERVICE", "service", &[]),
    ("PGSSLMAXPROTOCOLVERSION", "ssl_max_protocol_version", &[]),
    // rustls never speaks less than TLS 1.2, libpq's default minimum.
    (
        "PGSSLMINPROTOCOLVERSION",
        "ssl_min_protocol_version",
        &["TLSv1.2"],
    ),
    ("PGSSLNEGOTIATION", "sslnegotiation", &["postgres"]),
    ("PGREQUIRESSL", "requiressl", &["0"]),
    ("PGGSSENCMODE", "gssencmode", &["disable", "prefer"]),
    ("PGSSLCERTMODE", "sslcertmode", &["allow", "disable"]),
    ("PGTARGETSESSIONATTRS", "target_session_attrs", &["any"]),
];

fn is_harmless(harmless: &[&str], value: &str) -> bool {
    harmless
        .iter()
        .any(|h| h.eq_ignore_ascii_case(value.trim()))
}

impl DatabaseUrl {
    /// The URL alone, without libpq's environment variables (see [`DatabaseUrl::resolve`]).
    pub fn parse(raw: &str) -> Result<DatabaseUrl> {
        DatabaseUrl::parse_with_env(raw, |_| None)
    }

    /// The URL, then libpq's environment variables (read through `env`) for what it leaves out.
    pub fn parse_with_env(raw: &str, env: impl Fn(&str) -> Option<String>) -> Result<DatabaseUrl> {
        let env = |var: &str| env(var).filter(|value| !value.is_empty());
        for (var, _, harmless) in REFUSED_LIBPQ_SETTINGS {
            if let Some(value) = env(var) {
                if !is_harmless(harmless, &value) {
                    return Err(AppError::usage(format!(
                        "{var} is set, but migration-gate does not support it and will not connect without it: unset {var} for this step (see README, Connection)"
                    )));
                }
            }
        }
        let mut url = DatabaseUrl::parse_url(raw)?;
        if url.password.is_none() {
            url.password = env("PGPASSWORD");
        }
        for (var, key) in HONOURED_LIBPQ_VARS {
            if url.given_params.iter().any(|given| given == key) {
                continue;
            }
            if let Some(value) = env(var) {
                url.apply_param(key.to_string(), value).map_err(|e| {
                    AppError::usage(format!(
                        "{var} from the environment cannot be used: {}",
                        e.message
                            .trim_start_matches("the database URL is malformed: ")
                    ))
                })?;
                url.from_env.push((key, var));
            }
        }
        url.settle_system_roots()?;
        Ok(url)
    }

    /// libpq 16+: the system's trust store vouches for any host with a public certificate, so only
    /// the host name check makes it mean anything. verify-full is the default there, and a weaker
    /// mode is an error rather than a silently unchecked connection.
    fn settle_system_roots(&mut self) -> Result<()> {
        if self.root_cert != Some(RootCert::System) {
            return Ok(());
        }
        let mode_given = self.given_params.iter().any(|key| key == "sslmode");
        match self.ssl_mode {
            SslMode::VerifyFull => Ok(()),
            _ if !mode_given => {
                self.ssl_mode = SslMode::VerifyFull;
                Ok(())
            }
            weak => Err(AppError::usage(format!(
                "sslmode={weak}{} cannot be used with sslrootcert=system{}: any publicly trusted certificate would be accepted; use sslmode=verify-full (the default with sslrootcert=system)",
                self.origin("sslmode"),
                self.origin("sslrootcert")
            ))),
        }
    }

    fn parse_url(raw: &str) -> Result<DatabaseUrl> {
        let raw_trimmed = raw.trim();
        let rest = ["postgresql://", "postgres://"]
            .iter()
            .find_map(|scheme| {
                let head = raw_trimmed.get(..scheme.len())?;
                head.eq_ignore_ascii_case(scheme)
                    .then(|| &raw_trimmed[scheme.len()..])
            })
            .ok_or_else(|| malformed("it must start with postgresql:// or postgres://"))?;
        let full = rest;
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (before_query, query) = match rest.split_once('?') {
            Some((before, query)) => (before, Some(query)),
            None => (rest, None),
        };
        let (authority, path) = match before_query.split_once('/') {
            Some((authority, path)) => (authority, path),
            None => (before_query, ""),
        };
        // An '@' after the authority means a '/', '?' or '#' in the user name or password cut it
        // short: say how to fix that rather than report the misparsed host or port.
        let tail = &full[authority.len()..];
        let tail_before_values = tail.split('=').next().unwrap_or(tail);
        if !authority.contains('@') && tail_before_values.contains('@') {
            return Err(malformed(
                "a character in the user name or password is not percent-encoded \
                 (write / as %2F, ? as %3F, # as %23, @ as %40)",
            ));
        }
        let (user, password, host, port, database) = parse_authority_and_path(authority, path)?;

        let mut url = DatabaseUrl {
            raw: raw.to_string(),
            // libpq would use the OS user; Prisma's engine, like most hosted URLs, says it.
            user: if user.is_empty() {
                "postgres".to_string()
            } else {
                user
            },
            password: password.filter(|p| !p.is_empty()),
            host,
            port,
            database: if database.is_empty() {
                "postgres".to_string()
            } else {
                database
            },
            ssl_mode: SslMode::Prefer,
            root_cert: None,
            client_cert: None,
            client_key: None,
            channel_binding: ChannelBinding::Prefer,
            schema: DEFAULT_SCHEMA.to_string(),
            pgbouncer: false,
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            application_name: None,
            options: None,
            other_params: Vec::new(),
            given_params: Vec::new(),
            from_env: Vec::new(),
        };
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = decode_query(key, "query parameter name")?;
            let value = decode_query(value, &format!("value of `{key}`"))?;
            url.apply_param(key, value)?;
        }
        Ok(url)
    }

    fn apply_param(&mut self, key: String, value: String) -> Result<()> {
        if let Some((_, _, harmless)) = REFUSED_LIBPQ_SETTINGS
            .iter()
            .find(|(_, param, _)| *param == key)
        {
            if !is_harmless(harmless, &value) {
                return Err(AppError::usage(format!(
                    "the database URL sets `{key}`, but migration-gate does not support it and will not connect without it: remove it from the URL (see README, Connection)"
                )));
            }
        }
        self.given_params.push(key.clone());
        match key.as_str() {
            "sslmode" => self.ssl_mode = SslMode::parse(&value)?,
            // Empty, as from a template whose variable is unset, means "not given" to libpq, not
            // a file named "" (it still keeps the environment's value out, as in libpq).
            "sslrootcert" | "sslcert" | "sslkey" if value.is_empty() => match key.as_str() {
                "sslrootcert" => self.root_cert = None,
                "sslcert" => self.client_cert = None,
                _ => self.client_key = None,
            },
            "sslrootcert" => {
                self.root_cert = Some(if value == "system" {
                    RootCert::System
                } else {
                    RootCert::File(PathBuf::from(value))
                })
            }
            "channel_binding" => {
                self.channel_binding = match value.to_ascii_lowercase().as_str() {
                    "disable" => ChannelBinding::Disable,
                    "prefer" => ChannelBinding::Prefer,
                    "require" => ChannelBinding::Require,
                    _ => {
                        return Err(malformed(
                            "`channel_binding` must be one of disable, prefer, require",
                        ))
                    }
                }
            }
            "sslcert" => self.client_cert = Some(PathBuf::from(value)),
            "sslkey" => self.client_key = Some(PathBuf::from(value)),
            "sslidentity" => {
                return Err(AppError::usage(
                    "sslidentity (a PKCS#12 client identity) is not supported: convert it to PEM \
                     (openssl pkcs12 -in identity.p12 -clcerts -nokeys -out client.crt; \
                     openssl pkcs12 -in identity.p12 -nocerts -nodes -out client.key) and use \
                     sslcert=client.crt&sslkey=client.key",
                ))
            }
            "schema" => {
                if value.is_empty() {
                    return Err(malformed("`schema=` is empty"));
                }
                self.schema = value;
            }
            "pgbouncer" => self.pgbouncer = value.eq_ignore_ascii_case("true") || value == "1",
            "connect_timeout" => {
                let seconds: u64 = value.trim().parse().map_err(|_| {
                    malformed("`connect_timeout` must be a whole number of seconds")
                })?;
                self.connect_timeout = (seconds > 0).then(|| Duration::from_secs(seconds));
            }
            // Prisma's way to reach a Unix socket: `?host=/var/run/postgresql`.
            "host" if value.starts_with('/') => self.host = value,
            "application_name" => self.application_name = Some(value),
            "options" => self.options = Some(value),
            // Pool sizes, statement cache, sslaccept, ...: Prisma's engine settings that do not
            // change how the migration connection is opened.
            _ => self.other_params.push((key, value)),
        }
        Ok(())
    }

    /// `--database-url` if given, else the first set variable of [`ENV_ORDER`] in the real
    /// environment, else in the `.env` files.
    pub fn resolve(flag: Option<&str>) -> Result<DatabaseUrl> {
        let parse = |raw: &str| DatabaseUrl::parse_with_env(raw, |var| std::env::var(var).ok());
        if let Some(raw) = flag {
            return parse(raw);
        }
        if let Some(found) = crate::project::dotenv::first_set(ENV_ORDER)? {
            return parse(&found.value).map_err(|e| AppError {
                message: format!("{}: {}", found.describe(), e.message),
                exit_code: e.exit_code,
            });
        }
        Err(AppError::usage(format!(
            "no database URL: {} or set one of {}",
            Setting::DatabaseUrl.instruction(),
            ENV_ORDER.join(", ")
        )))
    }

    /// `user@host:port/db`, safe to print.
    pub fn display(&self) -> String {
        format!(
            "{}@{}:{}/{}",
            self.user,
            self.host_display(),
            self.port,
            self.database
        )
    }

    /// Where we are, worded as Prisma's CLI words it:
    /// `PostgreSQL database "shop", schema "public" at "db.example.com:5432"`.
    pub fn datasource_line(&self) -> String {
        format!(
            "PostgreSQL database \"{}\", schema \"{}\" at \"{}:{}\"",
            self.database,
            self.schema,
            self.host_display(),
            self.port
        )
    }

    /// The host as written in a URL (`[::1]` for IPv6).
    pub fn host_display(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }

    /// The schema of `?schema=` (history table and unqualified names), default `public`.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Pointing at a transaction-mode pooler: `pgbouncer=true`, PgBouncer's port 6432, Supabase's
    /// pooler port 6543, or a `-pooler` host (Neon, Vercel Postgres).
    pub fn is_pooled(&self) -> bool {
        self.pooled_reason().is_some()
    }

    fn pooled_reason(&self) -> Option<String> {
        if self.pgbouncer {
            Some("pgbouncer=true".to_string())
        } else if self.port == PGBOUNCER_PORT || self.port == SUPABASE_POOLER_PORT {
            Some(format!("port {}", self.port))
        } else if self.host.to_ascii_lowercase().contains("-pooler") {
            Some(format!("host {}", self.host))
        } else {
            None
        }
    }

    /// Refuse a writing command (`deploy`, `resolve`, `rollback`) on a pooled URL unless
    /// `--allow-pooled` was given.
    pub fn refuse_if_pooled(&self, command: &str, allow_pooled: bool) -> Result<()> {
        match self.pooled_reason() {
            Some(reason) if !allow_pooled => Err(AppError::usage(format!(
                "refusing to run `{command}` through a connection pooler ({} looks pooled: {reason}): \
                 advisory locks and multi-statement transactions break behind a transaction-mode pooler; \
                 set {} to the direct database URL; {}",
                self.display(),
                DIRECT_URL_VARS.join(" / "),
                Setting::AllowPooled.instruction(),
            ))),
            _ => Ok(()),
        }
    }

    /// The password, for `::add-mask::`.
    pub fn password(&self) -> Option<String> {
        self.password.clone()
    }

    /// Everything that must be masked in logs: the password (decoded and as written) and the URL.
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets = Vec::new();
        if let Some(password) = &self.password {
            secrets.push(password.clone());
            if let Some(encoded) = self.encoded_password() {
                if &encoded != password {
                    secrets.push(encoded);
                }
            }
        }
        secrets.push(self.raw().trim().to_string());
        secrets.retain(|s| !s.is_empty());
        secrets
    }

    fn encoded_password(&self) -> Option<String> {
        let rest = self.raw.split_once("://")?.1;
        let authority = rest.split(['/', '?']).next()?;
        let userinfo = authority.rsplit_once('@')?.0;
        Some(userinfo.split_once(':')?.1.to_string())
    }

    /// Replace every secret in `text` with `***` (for messages from servers and tools).
    pub fn redact(&self, text: &str) -> String {
        redact_secrets(text, self.secrets().iter().map(String::as_str))
    }

    /// The role to log in as.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The host name or address (IPv6 without brackets), or a Unix socket directory.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// ` (from PGSSLROOTCERT)` when libpq's environment variable gave the parameter `key`, else
    /// nothing: a message about a setting the URL does not show must say where it came from.
    pub fn origin(&self, key: &str) -> String {
        self.from_env
            .iter()
            .find(|(param, _)| *param == key)
            .map(|(_, var)| format!(" (from {var})"))
            .unwrap_or_default()
    }

    /// A socket directory (`?host=/var/run/postgresql`) rather than a network host.
    pub fn is_unix_socket(&self) -> bool {
        self.host.starts_with('/')
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The database name.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// The same server, user and settings, connected to another database (a scratch database
    /// made by `check --trace-database-url`).
    pub fn with_database(&self, database: &str) -> DatabaseUrl {
        DatabaseUrl {
            database: database.to_string(),
            ..self.clone()
        }
    }

    /// `sslmode` (default `prefer`).
    pub fn ssl_mode(&self) -> SslMode {
        self.ssl_mode
    }

    /// `sslrootcert`, if given.
    pub fn root_cert(&self) -> Option<&RootCert> {
        self.root_cert.as_ref()
    }

    /// `sslcert` and `sslkey`, the client certificate and key files.
    pub fn client_identity(&self) -> (Option<&std::path::Path>, Option<&std::path::Path>) {
        (self.client_cert.as_deref(), self.client_key.as_deref())
    }

    /// `channel_binding` (default `prefer`).
    pub fn channel_binding(&self) -> ChannelBinding {
        self.channel_binding
    }

    /// `None` when `connect_timeout=0` (wait forever).
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    /// `application_name`, if given (else we announce ourselves as migration-gate).
    pub fn application_name(&self) -> Option<&str> {
        self.application_name.as_deref()
    }

    /// `options` (server settings for the session), if given.
    pub fn options(&self) -> Option<&str> {
        self.options.as_deref()
    }

    /// Query parameters we keep but do not act on.
    pub fn other_params(&self) -> &[(String, String)] {
        &self.other_params
    }

    pub(crate) fn raw(&self) -> &str {
        &self.raw
    }
}

type UrlParts = (String, Option<String>, String, u16, String);

/// `user:password@host:port` and `/database`, decoded.
fn parse_authority_and_path(authority: &str, path: &str) -> Result<UrlParts> {
    // The password may contain an unencoded '@'; the host never does.
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((userinfo, hostport)) => (Some(userinfo), hostport),
        None => (None, authority),
    };
    let (user, password) = match userinfo {
        Some(info) => match info.split_once(':') {
            Some((user, password)) => (
                decode(user, "user name")?,
                Some(decode(password, "password")?),
            ),
            None => (decode(info, "user name")?, None),
        },
        None => (String::new(), None),
    };
    let (host, port) = parse_host_port(hostport)?;
    let database = decode(path.trim_end_matches('/'), "database name")?;
    if database.contains('/') {
        return Err(malformed("the database name contains '/'"));
    }
    Ok((user, password, host, port, database))
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`.
fn parse_host_port(hostport: &str) -> Result<(String, u16)> {
    let (host, port) = if let Some(bracketed) = hostport.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| malformed("an IPv6 host is missing its closing ']'"))?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| malformed("unexpected text after the IPv6 host"))?,
            ),
        };
        (host.to_string(), port)
    } else {
        match hostport.rsplit_once(':') {
            Some((host, _)) if host.contains(':') => {
                return Err(malformed(
                    "an IPv6 address must be in brackets, as in [::1]:5432",
                ))
            }
            Some((host, port)) => (decode(host, "host")?, Some(port)),
            None => (decode(hostport, "host")?, None),
        }
    };
    if host.is_empty() {
        return Err(malformed("the host is missing"));
    }
    if host.contains(',') {
        return Err(malformed(
            "several hosts are not supported; give the primary's host",
        ));
    }
    let port = match port {
        None | Some("") => DEFAULT_PORT,
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| malformed("the port is not a number between 1 and 65535"))?,
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(raw: &str) -> DatabaseUrl {
        DatabaseUrl::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    #[test]
    fn parses_all_parts_with_percent_decoded_password() {
        let u = url("postgresql://app%40prod:p%40ss%3Aw0rd%2F@db.example.com:5433/shop?schema=billing&sslmode=require&application_name=gate&connect_timeout=3&options=-c%20lock_timeout%3D1s");
        assert_eq!(u.user(), "app@prod");
        assert_eq!(u.password().as_deref(), Some("p@ss:w0rd/"));
        assert_eq!(u.host(), "db.example.com");
        assert_eq!(u.port(), 5433);
        assert_eq!(u.database(), "shop");
        assert_eq!(u.schema(), "billing");
        assert_eq!(u.ssl_mode(), SslMode::Require);
        assert_eq!(u.application_name(), Some("gate"));
        assert_eq!(u.connect_timeout(), Some(Duration::from_secs(3)));
        assert_eq!(u.options(), Some("-c lock_timeout=1s"));
        assert_eq!(u.channel_binding(), ChannelBinding::Prefer);
        assert_eq!(
            url("postgres://u@h/d?sslmode=require&channel_binding=require").channel_binding(),
            ChannelBinding::Require
        );
        assert_eq!(u.display(), "app@prod@db.example.com:5433/shop");
    }

    #[test]
    fn defaults_follow_prisma_and_libpq() {
        let u = url("postgres://alice@localhost/app");
        assert_eq!(u.port(), 5432);
        assert_eq!(u.schema(), "public");
        assert_eq!(u.ssl_mode(), SslMode::Prefer);
        assert_eq!(u.password(), None);
        assert_eq!(u.connect_timeout(), Some(Duration::from_secs(10)));
        assert_eq!(u.root_cert(), None);
        assert_eq!(url("postgres://u@h").database(), "postgres");
        assert_eq!(
            url("postgres://u@h:5432/db?connect_timeout=0").connect_timeout(),
            None
        );
    }

    #[test]
    fn ipv6_hosts_keep_their_brackets_in_display_only() {
        let u = url("postgres://u:pw@[::1]:6000/db");
        assert_eq!(u.host(), "::1");
        assert_eq!(u.port(), 6000);
        assert_eq!(u.display(), "u@[::1]:6000/db");
        assert_eq!(url("postgres://u@[2001:db8::5]/db").port(), 5432);
    }

    #[test]
    fn an_ipv6_address_without_brackets_is_malformed_with_a_hint() {
        // libpq reads `::1` as host and port too, and refuses the port; a host named ":" that
        // cannot be resolved says nothing useful.
        for raw in [
            "postgres://u:hunter2@::1/db",
            "postgres://u:hunter2@2001:db8::5:5432/db",
        ] {
            let err = DatabaseUrl::parse(raw).expect_err(raw);
            assert!(err.message.contains("malformed"), "{raw}: {}", err.message);
            assert!(err.message.contains("[::1]"), "{raw}: {}", err.message);
            assert!(!err.message.contains("hunter2"), "{raw}: {}", err.message);
        }
    }

    #[test]
    fn unencoded_special_characters_in_the_password_get_a_hint() {
        for raw in [
            "postgres://root:hunter2/x@db/x",
            "postgres://root:hunter2#x@db/x",
            "postgres://root:5432/hunter2@db/x",
        ] {
            let err = DatabaseUrl::parse(raw).unwrap_err();
            assert!(err.message.contains("%2F"), "{raw}: {}", err.message);
        }
        // An '@' in a query value is fine.
        assert_eq!(
            url("postgres://u@h/d?application_name=a@b").application_name(),
            Some("a@b")
        );
        assert_eq!(url("postgres://h/d?options=x@y").options(), Some("x@y"));
    }

    #[test]
    fn datasource_line_reads_like_prisma() {
        assert_eq!(
            url("postgresql://u:pw@db.example.com/shop?schema=billing").datasource_line(),
            "PostgreSQL database \"shop\", schema \"billing\" at \"db.example.com:5432\""
        );
    }

    #[test]
    fn host_param_points_at_a_unix_socket_directory() {
        let u = url("postgresql://app@localhost/shop?host=%2Fvar%2Frun%2Fpostgresql");
        assert_eq!(u.host(), "/var/run/postgresql");
        assert_eq!(u.display(), "app@/var/run/postgresql:5432/shop");
        // A host name in `host=` is not a socket: the URL's host stays.
        assert_eq!(url("postgresql://app@db/shop?host=other").host(), "db");
    }

    #[test]
    fn unencoded_at_in_password_still_finds_the_host() {
        let u = url("postgres://u:a@b@db.internal:5432/x");
        assert_eq!(u.password().as_deref(), Some("a@b"));
        assert_eq!(u.host(), "db.internal");
    }

    #[test]
    fn sslrootcert_system_and_file() {
        assert_eq!(
            url("postgres://u@h/d?sslmode=verify-full&sslrootcert=system").root_cert(),
            Some(&RootCert::System)
        );
        let u = url("postgres://u@h/d?sslmode=verify-ca&sslrootcert=%2Fetc%2Fca.pem");
        assert_eq!(u.root_cert(), Some(&RootCert::File("/etc/ca.pem".into())));
        assert_eq!(u.ssl_mode(), SslMode::VerifyCa);
    }

    #[test]
    fn client_certificate_params() {
        let u = url("postgres://u@h/d?sslcert=%2Fk%2Fc.crt&sslkey=%2Fk%2Fc.key");
        assert_eq!(
            u.client_identity(),
            (
                Some(std::path::Path::new("/k/c.crt")),
                Some(std::path::Path::new("/k/c.key"))
            )
        );
        let err = DatabaseUrl::parse("postgres://u:pw@h/d?sslidentity=id.p12").unwrap_err();
        assert!(err.message.contains("sslcert="), "{}", err.message);
    }

    #[test]
    fn unknown_params_are_kept_and_ignored() {
        let u = url("postgres://u@h/d?connection_limit=5&pool_timeout=2&schema=s");
        assert_eq!(
            u.other_params(),
            &[
                ("connection_limit".to_string(), "5".to_string()),
                ("pool_timeout".to_string(), "2".to_string())
            ]
        );
        assert_eq!(u.schema(), "s");
    }

    #[test]
    fn malformed_urls_are_one_line_and_never_echo_the_url() {
        for raw in [
            "mysql://root:hunter2@db/x",
            "postgres://root:hunter2@db:notaport/x",
            "postgres://root:hunter2@db:70000/x",
            "postgres://root:hunter2@/x",
            "postgres://root:hunter2@[::1/x",
            "postgres://root:hunter2@db/x?sslmode=sometimes",
            "postgres://root:hunter2@db/x?connect_timeout=soon",
            "postgres://root:hunter2@db/x?channel_binding=maybe",
            "postgres://root:hunter2%ff@db/x",
            "postgres://root:hunter2/x@db/x",
            "postgres://root:hun/ter2@db",
            "postgres://root:hunter2?x@db/x",
            "postgres://root:hunter2#x@db/x",
            "postgres://root:5432/hunter2@db/x",
        ] {
            let err = DatabaseUrl::parse(raw).expect_err(raw);
            assert!(!err.message.contains("hunter2"), "{raw}: {}", err.message);
            assert!(!err.message.contains('\n'), "{}", err.message);
            assert!(err.message.contains("malformed"), "{}", err.message);
        }
    }

    #[test]
    fn pooled_detection() {
        let pooled = [
            "postgres://u:p@db.example.com/app?pgbouncer=true",
            "postgres://u:p@db.example.com:6432/app",
            "postgres://u:p@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require",
            "postgres://u:p@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
        ];
        for raw in pooled {
            assert!(url(raw).is_pooled(), "{raw}");
        }
        let direct = [
            "postgres://u:p@db.example.com/app",
            "postgres://u:p@db.example.com/app?pgbouncer=false",
            "postgres://u:p@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb",
            "postgres://u:p@db.abcdefgh.supabase.co:5432/postgres",
        ];
        for raw in direct {
            assert!(!url(raw).is_pooled(), "{raw}");
        }
    }

    #[test]
    fn refusal_names_direct_variables_and_override() {
        let u = url("postgres://app:s3cret@db.example.com:6432/app");
        let err = u.refuse_if_pooled("deploy", false).unwrap_err();
        for needle in [
            "`deploy`",
            "DIRECT_URL",
            "DATABASE_URL_UNPOOLED",
            "POSTGRES_URL_NON_POOLING",
            "--allow-pooled",
            "advisory locks",
            "app@db.example.com:6432/app",
        ] {
            assert!(err.message.contains(needle), "{needle}: {}", err.message);
        }
        assert!(!err.message.contains("s3cret"));
        assert!(u.refuse_if_pooled("deploy", true).is_ok());
        assert!(url("postgres://u@h/d")
            .refuse_if_pooled("deploy", false)
            .is_ok());
    }

    #[test]
    fn secrets_cover_decoded_and_encoded_password_and_url() {
        let raw = "postgres://u:p%40ss@h/d";
        let u = url(raw);
        assert_eq!(u.secrets(), vec!["p@ss", "p%40ss", raw]);
        assert_eq!(
            u.redact("failed for postgres://u:p%40ss@h/d with p@ss"),
            "failed for *** with ***"
        );
        assert_eq!(url("postgres://u@h/d").secrets(), vec!["postgres://u@h/d"]);
    }

    #[test]
    fn a_malformed_percent_escape_is_a_malformed_url_naming_the_part() {
        for (raw, part) in [
            ("postgres://root:hunter2%zz@db/x", "password"),
            ("postgres://root:hunter2%4@db/x", "password"),
            ("postgres://root:hunter2%@db/x", "password"),
            ("postgres://ro%g1t:hunter2@db/x", "user name"),
            ("postgres://root:hunter2@db/sh%op", "database name"),
            (
                "postgres://root:hunter2@db/x?application_name=a%zzb",
                "application_name",
            ),
        ] {
            let err = DatabaseUrl::parse(raw).expect_err(raw);
            assert!(err.message.contains("malformed"), "{raw}: {}", err.message);
            assert!(err.message.contains(part), "{raw}: {}", err.message);
            assert!(err.message.contains("%25"), "{raw}: {}", err.message);
            assert!(!err.message.contains("hunter2"), "{raw}: {}", err.message);
        }
        // A literal % written as %25 is fine.
        assert_eq!(
            url("postgres://u:50%25off@h/d").password().as_deref(),
            Some("50%off")
        );
    }

    #[test]
    fn an_escaped_nul_byte_is_a_malformed_url_as_in_libpq() {
        // libpq: "forbidden value %00 in percent-encoded value". Decoded, the NUL would cut the
        // password short (an authentication failure) or reach the output inside a user name.
        for (raw, part) in [
            ("postgres://root:hunter2%00x@db/x", "password"),
            ("postgres://ro%00ot:hunter2@db/x", "user name"),
            ("postgres://root:hunter2@db/sh%00op", "database name"),
            (
                "postgres://root:hunter2@db/x?application_name=a%00b",
                "application_name",
            ),
        ] {
            let err = DatabaseUrl::parse(raw).expect_err(raw);
            assert!(err.message.contains("malformed"), "{raw}: {}", err.message);
            assert!(err.message.contains(part), "{raw}: {}", err.message);
            assert!(err.message.contains("%00"), "{raw}: {}", err.message);
            assert!(!err.message.contains("hunter2"), "{raw}: {}", err.message);
            assert!(!err.message.contains('\0'), "{raw}: {}", err.message);
        }
    }

    fn with_env(raw: &str, vars: &[(&str, &str)]) -> Result<DatabaseUrl> {
        DatabaseUrl::parse_with_env(raw, |name| {
            vars.iter()
                .find(|(var, _)| *var == name)
                .map(|(_, value)| value.to_string())
        })
    }

    #[test]
    fn libpq_environment_fills_what_the_url_leaves_out() {
        let env = [
            ("PGSSLMODE", "verify-full"),
            ("PGSSLROOTCERT", "/etc/ca.pem"),
            ("PGPASSWORD", "from-env"),
            ("PGSSLCERT", "/k/c.pem"),
            ("PGSSLKEY", "/k/c.key"),
            ("PGCONNECT_TIMEOUT", "3"),
            ("PGAPPNAME", "ci-job"),
            ("PGCHANNELBINDING", "require"),
        ];
        let u = with_env("postgres://u@h/d", &env).unwrap();
        assert_eq!(u.ssl_mode(), SslMode::VerifyFull);
        assert_eq!(u.root_cert(), Some(&RootCert::File("/etc/ca.pem".into())));
        assert_eq!(u.password().as_deref(), Some("from-env"));
        assert_eq!(
            u.client_identity(),
            (
                Some(std::path::Path::new("/k/c.pem")),
                Some(std::path::Path::new("/k/c.key"))
            )
        );
        assert_eq!(u.connect_timeout(), Some(Duration::from_secs(3)));
        assert_eq!(u.application_name(), Some("ci-job"));
        assert_eq!(u.channel_binding(), ChannelBinding::Require);
        // The environment's password is masked like the URL's.
        assert!(u.secrets().contains(&"from-env".to_string()));

        // The URL's own parameters win, as in libpq.
        let u = with_env(
            "postgres://u:mine@h/d?sslmode=disable&connect_timeout=7&application_name=own",
            &env,
        )
        .unwrap();
        assert_eq!(u.ssl_mode(), SslMode::Disable);
        assert_eq!(u.password().as_deref(), Some("mine"));
        assert_eq!(u.connect_timeout(), Some(Duration::from_secs(7)));
        assert_eq!(u.application_name(), Some("own"));
        // Without an environment nothing changes.
        assert_eq!(url("postgres://u@h/d").ssl_mode(), SslMode::Prefer);
    }

    #[test]
    fn a_bad_environment_value_names_the_variable() {
        let err = with_env("postgres://u:hunter2@h/d", &[("PGSSLMODE", "always")]).unwrap_err();
        assert!(err.message.starts_with("PGSSLMODE"), "{}", err.message);
        assert!(err.message.contains("verify-full"), "{}", err.message);
        assert!(!err.message.contains("hunter2"), "{}", err.message);
    }

    #[test]
    fn libpq_variables_we_cannot_honour_are_refused_unless_harmless() {
        for (var, value) in [
            ("PGSSLCRL", "/etc/crl.pem"),
            ("PGSERVICE", "prod"),
            ("PGGSSENCMODE", "require"),
            ("PGSSLNEGOTIATION", "direct"),
            ("PGTARGETSESSIONATTRS", "read-write"),
        ] {
            let err = with_env("postgres://u:hunter2@h/d", &[(var, value)]).unwrap_err();
            assert!(err.message.starts_with(var), "{}", err.message);
            assert!(err.message.contains("unset"), "{}", err.message);
            assert!(!err.message.contains('\n'), "{}", err.message);
        }
        for (var, value) in [("PGGSSENCMODE", "disable"), ("PGTARGETSESSIONATTRS", "any")] {
            assert!(
                with_env("postgres://u@h/d", &[(var, value)]).is_ok(),
                "{var}"
            );
        }
    }

    #[test]
    fn url_parameters_we_cannot_honour_are_refused_like_their_variables() {
        // `require_auth=scram-sha-256` in the URL protects against a downgrade to a cleartext
        // password as PGREQUIREAUTH does: ignoring it silently would weaken the connection.
        for (param, value) in [
            ("require_auth", "scram-sha-256"),
            ("sslcrl", "%2Fetc%2Fcrl.pem"),
            ("sslcrldir", "%2Fetc%2Fcrl"),
            ("service", "prod"),
            ("target_session_attrs", "read-write"),
            ("ssl_max_protocol_version", "TLSv1.2"),
            ("ssl_min_protocol_version", "TLSv1.3"),
            ("sslnegotiation", "direct"),
            ("requiressl", "1"),
            ("gssencmode", "require"),
            ("sslcertmode", "require"),
        ] {
            let raw = format!("postgres://u:hunter2@h/d?{param}={value}");
            let err = DatabaseUrl::parse(&raw).expect_err(&raw);
            assert!(err.message.contains(param), "{raw}: {}", err.message);
            assert!(
                err.message.contains("not support"),
                "{raw}: {}",
                err.message
            );
            assert!(!err.message.contains("hunter2"), "{raw}: {}", err.message);
            assert!(!err.message.contains('\n'), "{raw}: {}", err.message);
        }
        for (param, value) in [
            ("target_session_attrs", "any"),
            ("gssencmode", "disable"),
            ("ssl_min_protocol_version", "TLSv1.2"),
            ("requiressl", "0"),
        ] {
            let raw = format!("postgres://u@h/d?{param}={value}");
            assert!(DatabaseUrl::parse(&raw).is_ok(), "{raw}");
        }
    }

    #[test]
    fn sslrootcert_system_means_verify_full_and_refuses_weaker_modes() {
        // As libpq 16+: verify-full by default...
        assert_eq!(
            url("postgres://u@h/d?sslrootcert=system").ssl_mode(),
            SslMode::VerifyFull
        );
        assert_eq!(
            with_env("postgres://u@h/d", &[("PGSSLROOTCERT", "system")])
                .unwrap()
                .ssl_mode(),
            SslMode::VerifyFull
        );
        // ...and any weaker mode, from the URL or the environment, is an error.
        for mode in ["disable", "allow", "prefer", "require", "verify-ca"] {
            let raw = format!("postgres://u:hunter2@h/d?sslmode={mode}&sslrootcert=system");
            let err = DatabaseUrl::parse(&raw).expect_err(&raw);
            assert!(
                err.message.contains(&format!("sslmode={mode}")),
                "{}",
                err.message
            );
            assert!(err.message.contains("verify-full"), "{}", err.message);
            assert!(!err.message.contains("hunter2"), "{}", err.message);
            assert!(!err.message.contains('\n'), "{}", err.message);
            let from_env = with_env(
                "postgres://u@h/d?sslrootcert=system",
                &[("PGSSLMODE", mode)],
            )
            .expect_err(mode);
            assert!(
                from_env
                    .message
                    .contains(&format!("sslmode={mode} (from PGSSLMODE)")),
                "{}",
                from_env.message
            );
        }
    }

    #[test]
    fn debug_never_shows_the_password() {
        let u = url("postgres://u:topsecret@h/d");
        assert!(!format!("{u:?}").contains("topsecret"));
    }
}
