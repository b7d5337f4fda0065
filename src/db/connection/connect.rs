//! Open the migration connection: TLS per `sslmode`, a connect timeout, and `search_path` per
//! `?schema=` (created if missing, as Prisma does). Failures are phrased for a person and never
//! carry the password or the URL.

use std::cell::RefCell;
use std::error::Error as StdError;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::params::{ChannelBinding, SslMode};
use super::secrets::one_line;
use super::tls;
use super::url::DatabaseUrl;
use crate::error::{AppError, Result};

/// Open the connection and put `search_path` on the `?schema=` schema, creating it if missing.
pub async fn connect(url: &DatabaseUrl) -> Result<Client> {
    let client = open(url).await?;
    use_schema(&client, url).await?;
    Ok(client)
}

/// Connect without touching `?schema=`.
pub async fn open(url: &DatabaseUrl) -> Result<Client> {
    // tokio-postgres' own timeout covers the TCP connect only; a server that accepts and then
    // says nothing (a stuck proxy) must time out too.
    match url.connect_timeout() {
        Some(limit) => tokio::time::timeout(limit, negotiate(url))
            .await
            .map_err(|_| timed_out(url, limit))?,
        None => negotiate(url).await,
    }
}

async fn negotiate(url: &DatabaseUrl) -> Result<Client> {
    use tokio_postgres::config::SslMode as Negotiate;
    let (first_mode, tls) = tls::connector(url)?;
    let first_error = match open_with(url, first_mode, tls.clone()).await {
        Ok(client) => return Ok(client),
        Err(err) => err,
    };
    let refused_at_startup = first_error.as_db_error().is_some();
    let retry_mode = match url.ssl_mode() {
        // libpq's `prefer`: a failed handshake, or a TLS session the server turned away at
        // startup (`hostssl ... reject`), is tried once more without TLS.
        SslMode::Prefer
            if is_tls_failure(&first_error) || (tls.tls_was_used() && refused_at_startup) =>
        {
            Negotiate::Disable
        }
        // libpq's `allow`: plaintext first, and TLS only when the server refuses that.
        SslMode::Allow if refused_at_startup && !url.is_unix_socket() => Negotiate::Require,
        _ => return Err(describe_connect_error(url, &first_error)),
    };
    match open_with(url, retry_mode, tls.fresh()).await {
        Ok(client) => Ok(client),
        // The second transport was refused as well: the first attempt's error says more (a
        // wrong password, say, rather than "no pg_hba.conf entry ... no encryption").
        Err(retry_error)
            if retry_error.as_db_error().is_none() || is_hba_rejection(&retry_error) =>
        {
            Err(describe_connect_error(url, &first_error))
        }
        Err(retry_error) => Err(describe_connect_error(url, &retry_error)),
    }
}

/// pg_hba.conf turned this connection away (no entry, or a `reject` line for its transport).
fn is_hba_rejection(err: &tokio_postgres::Error) -> bool {
    err.as_db_error()
        .is_some_and(|db| *db.code() == SqlState::INVALID_AUTHORIZATION_SPECIFICATION)
}

/// How long [`close_connections`] waits for the sessions to say goodbye.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

thread_local! {
    /// The connection tasks spawned on this thread (our runtimes are single-threaded).
    static CONNECTION_TASKS: RefCell<Vec<JoinHandle<()>>> = const { RefCell::new(Vec::new()) };
}

/// Let every connection opened on this thread end properly: once its client is dropped, the
/// connection task sends Terminate and, under TLS, close_notify. Dropping the runtime first would
/// cut the socket instead, and the server would log "connection reset by peer". A client that
/// is still alive is left after [`CLOSE_WAIT`].
pub async fn close_connections() {
    let tasks = CONNECTION_TASKS.with(|tasks| std::mem::take(&mut *tasks.borrow_mut()));
    let deadline = tokio::time::Instant::now() + CLOSE_WAIT;
    for task in tasks {
        let _ = tokio::time::timeout_at(deadline, task).await;
    }
}

fn is_tls_failure(err: &tokio_postgres::Error) -> bool {
    find_cause::<rustls::Error>(err).is_some()
        || chain_text(err).starts_with("error performing TLS handshake")
}

async fn open_with(
    url: &DatabaseUrl,
    ssl_mode: tokio_postgres::config::SslMode,
    tls: tls::TlsConnector,
) -> std::result::Result<Client, tokio_postgres::Error> {
    let mut config = tokio_postgres::Config::new();
    config
        .user(url.user())
        .dbname(url.database())
        .host(url.host())
        .port(url.port())
        .application_name(url.application_name().unwrap_or("migration-gate"));
    if let Some(password) = url.password() {
        config.password(password);
    }
    if let Some(options) = url.options() {
        config.options(options);
    }
    if let Some(timeout) = url.connect_timeout() {
        config.connect_timeout(timeout);
    }
    config.ssl_mode(ssl_mode);
    config.channel_binding(match url.channel_binding() {
        ChannelBinding::Disable => tokio_postgres::config::ChannelBinding::Disable,
        ChannelBinding::Prefer => tokio_postgres::config::ChannelBinding::Prefer,
        ChannelBinding::Require => tokio_postgres::config::ChannelBinding::Require,
    });
    let (client, connection) = config.connect(tls).await?;
    let task = tokio::spawn(async move {
        // Errors after startup reach the client through its queries.
        let _ = connection.await;
    });
    CONNECTION_TASKS.with(|tasks| tasks.borrow_mut().push(task));
    Ok(client)
}

/// `CREATE SCHEMA IF NOT EXISTS` + `SET search_path`, as Prisma does for `?schema=`.
pub async fn use_schema(client: &Client, url: &DatabaseUrl) -> Result<()> {
    let schema = url.schema();
    let quoted = crate::sql::ident::quote(schema);
    // Checking first lets a user without CREATE on the database use an existing schema.
    let exists = client
        .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&schema])
        .await
        .map_err(|e| query_failed(url, "cannot look up the schema", &e))?
        .is_some();
    if !exists {
        client
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {quoted}"))
            .await
            .map_err(|e| {
                query_failed(
                    url,
                    &format!("cannot create schema \"{schema}\" (from ?schema=)"),
                    &e,
                )
            })?;
    }
    client
        .batch_execute(&format!("SET search_path TO {quoted}"))
        .await
        .map_err(|e| query_failed(url, "cannot set search_path", &e))?;
    Ok(())
}

/// The server's major version (`15` for 15.4, `9` for 9.6), for the rules' `pg_version`.
pub async fn server_version(client: &Client) -> Result<u32> {
    let row = client
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .await
        .map_err(|e| AppError::usage(format!("cannot read the server version: {e}")))?;
    let number: i32 = row.get(0);
    Ok(u32::try_from(number / 10_000).unwrap_or(0))
}

fn query_failed(url: &DatabaseUrl, what: &str, err: &tokio_postgres::Error) -> AppError {
    let detail = match err.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => chain_text(err),
    };
    AppError::usage(one_line(
        &url.redact(&format!("{what} on {}: {detail}", url.display())),
    ))
}

fn timed_out(url: &DatabaseUrl, limit: Duration) -> AppError {
    let origin = url.origin("connect_timeout");
    let raise = if origin.is_empty() {
        "raise connect_timeout in the URL".to_string()
    } else {
        format!("raise connect_timeout{origin}")
    };
    AppError::usage(format!(
        "timed out after {}s connecting to {}: check that the host and port are reachable from here, or {raise}",
        limit.as_secs(),
        url.display()
    ))
}

/// A connection failure, phrased for a person.
pub fn describe_connect_error(url: &DatabaseUrl, err: &tokio_postgres::Error) -> AppError {
    let target = url.display();
    let text = chain_text(err);
    let message = if let Some(db) = err.as_db_error() {
        let code = db.code();
        if *code == SqlState::INVALID_PASSWORD {
            format!(
                "authentication failed for user \"{}\" on {target}: check the user name and password in the database URL",
                url.user()
            )
        } else if *code == SqlState::INVALID_CATALOG_NAME {
            format!(
                "database \"{}\" does not exist on {}:{}: create it or fix the database name in the URL",
                url.database(),
                url.host_display(),
                url.port()
            )
        } else if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
            let hint = if db.message().contains("no encryption") {
                "; the server only accepts TLS connections: use sslmode=require (or verify-full)"
            } else if db.message().ends_with("SSL encryption") {
                "; the server refuses TLS connections here: use sslmode=prefer (or disable)"
            } else {
                ""
            };
            format!(
                "the server refused user \"{}\" on {target}: {}{hint}",
                url.user(),
                db.message()
            )
        } else if *code == SqlState::TOO_MANY_CONNECTIONS {
            format!(
                "the server at {target} has too many connections: {}",
                db.message()
            )
        } else if *code == SqlState::CANNOT_CONNECT_NOW {
            format!(
                "the server at {target} is not accepting connections yet (starting up or shutting down): retry shortly"
            )
        } else {
            format!(
                "cannot connect to {target}: {} (SQLSTATE {})",
                db.message(),
                code.code()
            )
        }
    } else if let Some(tls_error) = find_cause::<rustls::Error>(err) {
        tls::describe_failure(url, tls_error)
    } else if text.contains("server does not support TLS") {
        format!(
            "the server at {target} does not support TLS, but sslmode={} requires it: enable SSL on the server, or use sslmode=prefer or sslmode=disable",
            url.ssl_mode()
        )
    } else if text.contains("did not use channel binding") {
        format!(
            "the server at {target} did not bind authentication to TLS, but channel_binding=require asks for it: connect over TLS (sslmode=require or stricter) to a server that supports SCRAM-SHA-256-PLUS, or drop channel_binding from the URL"
        )
    } else if text.contains("password missing") {
        format!(
            "the server asks for a password for user \"{}\" on {target}, but the database URL has none: add it after the user name (USER:PASSWORD@HOST)",
            url.user()
        )
    } else if let Some(io) = find_cause::<std::io::Error>(err) {
        describe_io_error(url, io)
    } else {
        format!("cannot connect to {target}: {text}")
    };
    // The server's words are part of it: a line break there must not start a line in a CI log.
    AppError::usage(one_line(&url.redact(&message)))
}

fn describe_io_error(url: &DatabaseUrl, io: &std::io::Error) -> String {
    let host = url.host_display();
    let port = url.port();
    let text = io.to_string();
    match io.kind() {
        std::io::ErrorKind::ConnectionRefused => format!(
            "cannot reach the database server at {host}:{port} (connection refused): check that PostgreSQL is running there and the host and port in the URL are right"
        ),
        std::io::ErrorKind::TimedOut => format!(
            "timed out connecting to {host}:{port}: check that the host and port are reachable from here, or raise connect_timeout in the URL"
        ),
        std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => format!(
            "the server at {host}:{port} closed the connection during startup (for user \"{}\"): check that it is PostgreSQL and whether it requires TLS (sslmode)",
            url.user()
        ),
        _ if text.contains("lookup address") || text.contains("resolve") => format!(
            "cannot resolve host {host}: check the host name in the database URL"
        ),
        _ => format!("cannot connect to {}: {text}", url.display()),
    }
}

/// `err` and its causes on one line (tokio-postgres' own message leaves the cause out).
fn chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        let part = e.to_string().replace('\n', " ");
        if !parts.iter().any(|p| p.contains(&part)) {
            parts.push(part);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// The first error of type `E` in `err`'s cause chain, looking inside `io::Error` wrappers too.
fn find_cause<'a, E: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        // `io::Error::source` skips the error it wraps; look at it directly.
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(found) = find_cause::<E>(inner) {
                    return Some(found);
                }
            }
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_rustls_error_inside_io_error() {
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert!(find_cause::<rustls::Error>(&io).is_some());
        assert!(find_cause::<std::fmt::Error>(&io).is_none());
    }
}
