//! A `pg_dump -Fc` of the database before a risky deploy. The password goes through `PGPASSWORD`
//! (never the command line, where `ps` would show it); the TLS settings go through libpq's own
//! variables so the dump connects the way the deploy does.

use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::connection::params::{RootCert, SslMode};
use super::connection::url::DatabaseUrl;
use crate::error::{AppError, Result};

/// Environment variables that could point `pg_dump` somewhere other than `url`.
const INHERITED_LIBPQ_VARS: &[&str] = &[
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGHOSTADDR",
    "PGTARGETSESSIONATTRS",
];

/// The `pg_dump` program: `MIGRATION_GATE_PG_DUMP` if set (a version matching the server), else
/// `pg_dump` from `PATH`.
fn pg_dump_program() -> String {
    std::env::var("MIGRATION_GATE_PG_DUMP")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "pg_dump".to_string())
}

/// Dump the whole database into `dir` (created if missing) as
/// `<database>-<UTC timestamp>.dump`, custom format (`pg_restore` reads it). Returns the file.
/// A SIGTERM / SIGINT stops the dump at once (a big database takes long) and removes its file.
pub async fn pg_dump(url: &DatabaseUrl, dir: &Path) -> Result<PathBuf> {
    if dir.exists() && !dir.is_dir() {
        return Err(AppError::usage(format!(
            "--backup-dir {} is not a directory: pass a directory (created if missing); \
             nothing was applied",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        AppError::usage(format!(
            "cannot create backup directory {}: {e}; nothing was applied",
            dir.display()
        ))
    })?;
    let stem = format!(
        "{}-{}",
        file_safe(url.database()),
        utc_timestamp(SystemTime::now())
    );
    let (file, output_file) = create_private_file(dir, &stem)?;
    let program = pg_dump_program();
    let mut command = Command::new(&program);
    command
        .arg("--format=custom")
        .arg("--no-password")
        .stdout(output_file);
    for var in INHERITED_LIBPQ_VARS {
        command.env_remove(var);
    }
    // Every connection setting through the environment: a database name given as an argument
    // would be read as a connection string if it looked like one.
    command
        .env("PGHOST", url.host())
        .env("PGPORT", url.port().to_string())
        .env("PGUSER", url.user())
        .env("PGDATABASE", url.database())
        .env("PGSSLMODE", url.ssl_mode().as_str())
        .env("PGAPPNAME", "migration-gate backup");
    match url.password() {
        Some(password) => command.env("PGPASSWORD", password),
        None => command.env_remove("PGPASSWORD"),
    };
    match url.root_cert() {
        Some(RootCert::File(path)) => command.env("PGSSLROOTCERT", path),
        Some(RootCert::System) => command.env("PGSSLROOTCERT", system_roots_for_libpq()),
        // Without sslrootcert our connection checks verify-* against the system roots, where
        // libpq would look for ~/.postgresql/root.crt.
        None if matches!(url.ssl_mode(), SslMode::VerifyCa | SslMode::VerifyFull) => {
            command.env("PGSSLROOTCERT", system_roots_for_libpq())
        }
        None => command.env_remove("PGSSLROOTCERT"),
    };
    let (client_cert, client_key) = url.client_identity();
    match client_cert {
        Some(path) => command.env("PGSSLCERT", path),
        None => command.env_remove("PGSSLCERT"),
    };
    match client_key {
        Some(path) => command.env("PGSSLKEY", path),
        None => command.env_remove("PGSSLKEY"),
    };
    match url.options() {
        Some(options) => command.env("PGOPTIONS", options),
        None => command.env_remove("PGOPTIONS"),
    };
    command.env("PGCHANNELBINDING", url.channel_binding().as_str());
    // Always set, so the environment's value never replaces the URL's 0 (wait forever); libpq
    // reads an int and refuses more.
    let connect_timeout = url
        .connect_timeout()
        .map_or(0, |limit| limit.as_secs().clamp(2, i32::MAX as u64));
    command.env("PGCONNECT_TIMEOUT", connect_timeout.to_string());

    let child = command
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            let _ = std::fs::remove_file(&file);
            match e.kind() {
            std::io::ErrorKind::NotFound => AppError::usage(format!(
                "cannot back up {}: `{program}` was not found; install the PostgreSQL client tools (e.g. apt-get install postgresql-client) matching the server's version, or set MIGRATION_GATE_PG_DUMP",
                url.display()
            )),
            _ => AppError::usage(format!("cannot run `{program}` to back up {}: {e}", url.display())),
            }
        })?;
    let (status, stderr) = match wait_unless_interrupted(child).await {
        Ok(done) => done,
        Err(signal) => {
            let _ = std::fs::remove_file(&file);
            return Err(AppError::failed(format!(
                "interrupted by {signal} during the backup of {}: `{program}` was stopped and its \
                 partial file removed; nothing was applied",
                url.display()
            )));
        }
    };
    if !status.success() {
        let _ = std::fs::remove_file(&file);
        return Err(AppError::usage(url.redact(&format!(
            "backup of {} failed ({}, {}): {}; nothing was applied",
            url.display(),
            program,
            status,
            stderr_tail(&stderr)
        ))));
    }
    Ok(file)
}

/// libpq before 16 reads `sslrootcert=system` as a file named "system". The file OpenSSL would
/// use for the system roots (`SSL_CERT_FILE` first) is the one our own connection loaded through
/// the same probe, and every libpq reads it; "system" is left for libpq 16+ when there is none.
fn system_roots_for_libpq() -> std::ffi::OsString {
    openssl_probe::probe()
        .cert_file
        .map_or_else(|| "system".into(), PathBuf::into_os_string)
}

/// `<stem>.dump` in `dir`, or `<stem>-2.dump`, `<stem>-3.dump`, ... when a dump of the same
/// second is already there (never overwritten). A dump holds every row: the file is created
/// readable by its owner only, before any data goes in (a chmod afterwards would leave a
/// window), and pg_dump writes into it as stdout.
fn create_private_file(dir: &Path, stem: &str) -> Result<(PathBuf, std::fs::File)> {
    let mut n = 1u32;
    loop {
        let file = match n {
            1 => dir.join(format!("{stem}.dump")),
            _ => dir.join(format!("{stem}-{n}.dump")),
        };
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&file);
        match created {
            Ok(handle) => return Ok((file, handle)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
            Err(e) => {
                return Err(AppError::usage(format!(
                    "cannot create the backup file {}: {e}",
                    file.display()
                )))
            }
        }
    }
}

/// Wait for `child` while letting the runtime run (the signal listener among others); on
/// SIGTERM / SIGINT kill it and return the signal's name. Its stderr is read on a thread of its
/// own so a chatty dump cannot block on a full pipe.
async fn wait_unless_interrupted(
    mut child: Child,
) -> std::result::Result<(ExitStatus, String), &'static str> {
    let stderr = child.stderr.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut pipe, &mut text);
            text
        })
    });
    loop {
        if let Some(signal) = super::session::interrupted() {
            let _ = child.kill();
            let _ = child.wait();
            return Err(signal);
        }
        match child.try_wait() {
            Ok(Some(status)) => {
                if !status.success() {
                    // A Ctrl-C reaches the whole process group: the dump dies of the same
                    // signal, and the listener must get its turn to say so.
                    tokio::time::sleep(POLL_INTERVAL).await;
                    if let Some(signal) = super::session::interrupted() {
                        return Err(signal);
                    }
                }
                let text = stderr
                    .and_then(|reader| reader.join().ok())
                    .unwrap_or_default();
                return Ok((status, text));
            }
            Ok(None) => tokio::time::sleep(POLL_INTERVAL).await,
            Err(e) => return Ok((ExitStatus::from_raw(1), e.to_string())),
        }
    }
}

const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// The last few meaningful lines of `pg_dump`'s stderr, on one line.
fn stderr_tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let tail = &lines[lines.len().saturating_sub(3)..];
    if tail.is_empty() {
        "no error output".to_string()
    } else {
        tail.join(" | ")
    }
}

fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `20261130T162500Z`.
fn utc_timestamp(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_and_sortable() {
        assert_eq!(utc_timestamp(UNIX_EPOCH), "19700101T000000Z");
        let at = UNIX_EPOCH + Duration::from_secs(1_709_210_096); // 2024-02-29 12:34:56 UTC
        assert_eq!(utc_timestamp(at), "20240229T123456Z");
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_safe("shop-prod_1"), "shop-prod_1");
        assert_eq!(file_safe("../etc/x y"), "___etc_x_y");
    }

    #[test]
    fn stderr_tail_keeps_the_last_lines_on_one_line() {
        let tail = stderr_tail("a\n\nb\nc\nd\n");
        assert_eq!(tail, "b | c | d");
        assert_eq!(stderr_tail(""), "no error output");
    }
}
