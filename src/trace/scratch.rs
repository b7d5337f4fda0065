//! The databases a trace makes on the trace server: a template holding the replayed history
//! (kept, keyed by the history's checksums, so the next run only clones it) and a scratch
//! database per run (always dropped). Only databases named `mg_trace_*` that this tool created
//! are ever dropped.

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::db::connection::connect;
use crate::db::connection::url::DatabaseUrl;
use crate::db::history::{self, History};
use crate::db::lock;
use crate::db::session;
use crate::error::{AppError, Result};
use crate::migrate::execute;
use crate::migrate::plan::{Record, Script};
use crate::migrate::SafetyOptions;
use crate::project::discover::Migration;
use crate::sql::ident::quote;

/// Prefix of every database a trace creates.
pub const PREFIX: &str = "mg_trace_";

/// How long to keep retrying while another session is still attached to a database we rename
/// or clone (a concurrent run cloning the same template, a connection still closing).
const BUSY_WAIT: Duration = Duration::from_secs(20);

/// The admin connection to the trace server (its URL's own database, usually `postgres`).
pub struct Server {
    pub url: DatabaseUrl,
    pub client: Client,
    /// `server_version_num / 10000`.
    pub major: u32,
    /// The role the trace runs as: it owns what the replay creates, and only it (or a superuser)
    /// may clone its templates.
    pub role: String,
}

impl Server {
    /// Connect and check that this role may create databases.
    pub async fn connect(url: DatabaseUrl) -> Result<Server> {
        let client = connect::open(&url).await.map_err(|e| {
            AppError::usage(format!("cannot reach the trace server: {}", e.message))
        })?;
        let major = connect::server_version(&client).await?;
        let row = client
            .query_one(
                "SELECT current_user::text, rolcreatedb OR rolsuper FROM pg_roles \
                 WHERE rolname = current_user",
                &[],
            )
            .await
            .map_err(|e| query_error(&url, "cannot read the trace role's privileges", &e))?;
        let (role, may_create): (String, bool) = (row.get(0), row.get(1));
        if !may_create {
            return Err(AppError::usage(format!(
                "the trace server refuses to create databases for role {role}: run `ALTER ROLE \
                 {} CREATEDB` on that (disposable) server, or point the trace URL at the \
                 superuser of a CI service container",
                quote(&role)
            )));
        }
        Ok(Server {
            url,
            client,
            major,
            role,
        })
    }

    async fn exists(&self, name: &str) -> Result<bool> {
        let row = self
            .client
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
            .await
            .map_err(|e| query_error(&self.url, "cannot list the trace server's databases", &e))?;
        Ok(row.is_some())
    }

    /// `CREATE DATABASE name [TEMPLATE template]`, waiting while the template is busy.
    async fn create(&self, name: &str, template: Option<&str>) -> Result<()> {
        let sql = match template {
            Some(template) => format!(
                "CREATE DATABASE {} TEMPLATE {}",
                quote(name),
                quote(template)
            ),
            None => format!("CREATE DATABASE {}", quote(name)),
        };
        self.busy_retry(&sql, "cannot create a scratch database on the trace server")
            .await
    }

    /// Run `sql`, retrying while "being accessed by other users".
    async fn busy_retry(&self, sql: &str, what: &str) -> Result<()> {
        let started = Instant::now();
        loop {
            match self.client.batch_execute(sql).await {
                Ok(()) => return Ok(()),
                Err(e)
                    if e.code() == Some(&SqlState::OBJECT_IN_USE)
                        && started.elapsed() < BUSY_WAIT
                        && session::interrupted().is_none() =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(query_error(&self.url, what, &e)),
            }
        }
    }

    /// The roles of the cluster. Roles are shared by every database of the server, so a role
    /// the pending migrations create outlives the scratch database.
    pub async fn roles(&self) -> Result<Vec<String>> {
        let rows = self
            .client
            .query("SELECT rolname::text FROM pg_roles", &[])
            .await
            .map_err(|e| query_error(&self.url, "cannot list the trace server's roles", &e))?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    /// Drop the roles that did not exist `before` and that the pending migrations' own
    /// `CREATE ROLE` statements name (`created`): the next run would otherwise see them fail
    /// with "role already exists". Call it once the scratch database, where their objects were,
    /// is dropped. Any other new role may be another client's, created meanwhile: it stays.
    /// What cannot be dropped is warned about.
    pub async fn drop_roles_since(&self, before: &[String], created: &[String]) -> Result<()> {
        for role in self.roles().await? {
            if before.contains(&role) || !created.contains(&role) {
                continue;
            }
            // DROP OWNED revokes what the role was granted on shared objects (databases).
            let sql = format!("DROP OWNED BY {0}; DROP ROLE {0}", quote(&role));
            if let Err(e) = self.client.batch_execute(&sql).await {
                let why = query_error(&self.url, "cannot drop it", &e);
                crate::complain!(
                    "warning: the pending migrations created the role {} on the trace server; {}",
                    quote(&role),
                    why.message
                );
            }
        }
        Ok(())
    }

    /// Drop a database this run created, whoever is still connected to it.
    pub async fn drop_database(&self, name: &str) -> Result<()> {
        debug_assert!(name.starts_with(PREFIX));
        self.client
            .batch_execute(&drop_sql(name, self.major))
            .await
            .map_err(|e| query_error(&self.url, "cannot drop the scratch database", &e))
    }
}

fn drop_sql(name: &str, major: u32) -> String {
    if major >= 13 {
        format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote(name))
    } else {
        format!("DROP DATABASE IF EXISTS {}", quote(name))
    }
}

fn query_error(url: &DatabaseUrl, what: &str, e: &tokio_postgres::Error) -> AppError {
    let detail = match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => e.to_string(),
    };
    AppError::usage(url.redact(&format!("{what} ({}): {detail}", url.display())))
}

/// A unique name for a database of this run: `mg_trace_<what><pid>_<random>`.
fn unique_name(what: &str) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{PREFIX}{what}{}_{}", std::process::id(), &random[..12])
}

/// The template's name for this history: what it holds (each migration's name and checksum,
/// the schema) and who replayed it (this version of the tool, as `role`: the replayed objects are
/// the role's, and PostgreSQL lets no other role without superuser clone the template).
pub fn template_name(history: &[&Migration], schema: &str, role: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    hasher.update([0]);
    hasher.update(schema.as_bytes());
    hasher.update([0]);
    hasher.update(role.as_bytes());
    for migration in history {
        hasher.update([0]);
        hasher.update(migration.name.as_bytes());
        hasher.update([0]);
        hasher.update(history::checksum(&migration.source).as_bytes());
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(10).map(|b| format!("{b:02x}")).collect();
    format!("{PREFIX}tpl_{hex}")
}

/// A database this run created and must drop: dropped by [`Guard::release`], or, on every other
/// way out (an error, a panic), when the guard is dropped.
pub struct Guard {
    url: DatabaseUrl,
    major: u32,
    pub name: String,
    armed: bool,
}

impl Guard {
    fn new(server: &Server, name: String) -> Guard {
        Guard {
            url: server.url.clone(),
            major: server.major,
            name,
            armed: true,
        }
    }

    /// Drop the database now, on the server's admin connection.
    pub async fn release(mut self, server: &Server) -> Result<()> {
        self.armed = false;
        server.drop_database(&self.name).await
    }

    /// The database stays (it became the template under another name, or was renamed away).
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        // Dropped inside the async runtime, which cannot be blocked on: drop from a thread with
        // a runtime of its own, and wait for it.
        let url = self.url.clone();
        let sql = drop_sql(&self.name, self.major);
        let name = self.name.clone();
        let done = std::thread::spawn(move || {
            let runtime = session::runtime()?;
            runtime.block_on(async {
                let client = connect::open(&url).await?;
                client
                    .batch_execute(&sql)
                    .await
                    .map_err(|e| query_error(&url, "cannot drop the scratch database", &e))
            })
        })
        .join();
        if !matches!(done, Ok(Ok(()))) {
            eprintln!(
                "warning: could not drop the trace's scratch database {name}; drop it with \
                 `DROP DATABASE {}`",
                quote(&name)
            );
        }
    }
}

/// How the replayed history was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// The template existed: one `CREATE DATABASE ... TEMPLATE`.
    Reused,
    /// The history was replayed into a new template.
    Built,
}

/// A scratch database holding the replayed `history` (from the template, built first when
/// missing), and how it was obtained.
pub async fn scratch_with_history(
    server: &Server,
    history: &[&Migration],
    schema: &str,
) -> Result<(Guard, Replay)> {
    let template = template_name(history, schema, &server.role);
    let replay = if server.exists(&template).await? {
        Replay::Reused
    } else {
        build_template(server, history, &template).await?;
        Replay::Built
    };
    let scratch = Guard::new(server, unique_name(""));
    server.create(&scratch.name, Some(&template)).await?;
    Ok((scratch, replay))
}

/// Replay the history into a database of its own, then give it the template's name: a
/// template is complete or absent, and of two runs building the same one, the second keeps the
/// first's and drops its own.
async fn build_template(server: &Server, history: &[&Migration], template: &str) -> Result<()> {
    crate::complain!(
        "trace: replaying {} history migration(s) into the template database {template} (reused \
         by later runs while the history is unchanged)",
        history.len()
    );
    let building = Guard::new(server, unique_name("tmp_"));
    server.create(&building.name, None).await?;
    replay_history(&server.url.with_database(&building.name), history).await?;
    // The replay's connection is closed; a session still ending is waited for.
    let rename = format!(
        "ALTER DATABASE {} RENAME TO {}",
        quote(&building.name),
        quote(template)
    );
    match server
        .busy_retry(&rename, "cannot name the trace template")
        .await
    {
        Ok(()) => {
            building.disarm();
            Ok(())
        }
        Err(_) if server.exists(template).await? => building.release(server).await,
        Err(e) => Err(e),
    }
}

fn interrupted(signal: &str) -> AppError {
    AppError::failed(format!(
        "trace interrupted by {signal} while replaying the history; its databases were dropped"
    ))
}

/// Apply `history` to the database at `url` exactly as `deploy` does (same runner, same history
/// rows); the connection is closed when this returns.
async fn replay_history(url: &DatabaseUrl, history: &[&Migration]) -> Result<()> {
    let client = connect::connect(url).await?;
    client
        .batch_execute("SET standard_conforming_strings = on")
        .await
        .map_err(|e| query_error(url, "cannot prepare the replay session", &e))?;
    session::cancel_on_signals(&client, url)?;
    // The replay must not reach another server either: refuse before running anything.
    for migration in history {
        let reaching = crate::sql::analyze_source(&migration.source)
            .into_iter()
            .find(|statement| super::reaches_another_server(&statement.text));
        if let Some(statement) = reaching {
            return Err(AppError::usage(format!(
                "trace: the history runs a statement on a subscription at {}:{}, which would \
                 connect the trace server to its publisher; the trace does not run it",
                migration.display_path, statement.start.line
            )));
        }
    }
    let history_table = History::new(url.schema());
    let safety = SafetyOptions::default();
    lock::acquire(&client, Duration::from_secs(10)).await?;
    history_table.ensure(&client).await?;
    for migration in history {
        if let Some(signal) = session::interrupted() {
            return Err(interrupted(signal));
        }
        let checksum = history::checksum(&migration.source);
        let script = Script {
            migration: &migration.name,
            file: &migration.display_path,
            source: &migration.source,
        };
        let outcome = execute::run_script(
            &client,
            &history_table,
            script,
            Record::Apply {
                checksum: &checksum,
            },
            &safety,
        )
        .await?;
        if let Err(failure) = outcome {
            // The signal cancelled the running statement: that is no failure of the history.
            if let Some(signal) = session::interrupted() {
                return Err(interrupted(signal));
            }
            let report = crate::db::connection::secrets::one_line(&failure.report);
            // Roles are the server's, not the database's: a role the history creates exists
            // from the first replay on (or a trace of pending migrations created it in a DO block).
            if report.contains("SQLSTATE 42710") && report.contains("role \"") {
                return Err(AppError::usage(format!(
                    "trace: the history creates a role the trace server already has (roles are \
                     the whole server's, and an earlier trace there created it): use a fresh \
                     trace server per run, or drop that role on it: {report}"
                )));
            }
            return Err(AppError::usage(format!(
                "trace: the history does not apply to an empty database, so there is nothing to \
                 trace the pending migrations on: {report}"
            )));
        }
    }
    lock::release(&client).await?;
    drop(client);
    Ok(())
}
