//! `check --trace-database-url URL`: run the pending migrations on a real server and see what
//! they do. The history is replayed by the deploy engine into a template database
//! ([`scratch`]), cloned into a scratch database per run; the pending migrations then run there
//! as `deploy` runs them (same segments, same transactions), one statement at a time, and after
//! each one the server is asked what it did to the objects that existed before ([`observe`]).
//! What it saw joins the report: appended to the static findings of the statement
//! (`traced: ...`), or as a finding of its own where the static pass saw nothing
//! (`traced-data-loss`, `traced-rewrite`, `traced-lock`, `fails-to-apply`).

pub mod observe;
pub mod scratch;

use tokio_postgres::Client;

use crate::db::connection::connect;
use crate::db::connection::url::DatabaseUrl;
use crate::db::history::{db_error, History};
use crate::db::session;
use crate::error::{AppError, Result};
use crate::findings::{Finding, Report};
use crate::lint::engine;
use crate::lint::rules::Impact;
use crate::lint::rules::{self, fails_to_apply, traced_data_loss, traced_lock, traced_rewrite};
use crate::migrate::failure::error_position;
use crate::migrate::plan::{plan, Plan, Segment};
use crate::migrate::SafetyOptions;
use crate::project::config::Config;
use crate::project::discover::Migration;
use crate::sql::{Statement, TransactionControl};

use observe::{Effects, Existing, Snapshot};
use scratch::{Replay, Server};

/// What to trace.
pub struct TraceRequest<'a> {
    /// The trace server's URL (a disposable server: the tool creates databases there).
    pub url: &'a str,
    /// The migrations already applied, in apply order.
    pub history: &'a [&'a Migration],
    /// The pending migrations, in apply order.
    pub pending: &'a [&'a Migration],
    pub config: &'a Config,
}

/// What one statement did, where.
struct Observation<'a> {
    migration: &'a Migration,
    statement: Statement,
    effects: Effects,
    /// Statements of the same transaction that run after it (while its locks are held).
    later: usize,
}

/// A statement the server refused.
struct Refusal<'a> {
    migration: &'a Migration,
    statement: Statement,
    failure: fails_to_apply::Failure,
}

/// Everything the trace saw.
#[derive(Default)]
struct Trace<'a> {
    observations: Vec<Observation<'a>>,
    refusal: Option<Refusal<'a>>,
    /// Statements run.
    statements: usize,
    /// Why the trace stopped before a statement it must not run (see [`reaches_another_server`]).
    withheld: Option<String>,
}

/// Trace `request.pending` and add what was seen to `report`. The scratch database is dropped
/// however this ends.
pub fn trace(request: &TraceRequest<'_>, report: &mut Report) -> Result<()> {
    let url = DatabaseUrl::parse(request.url)
        .map_err(|e| AppError::usage(format!("the trace database URL: {}", e.message)))?;
    let trace = session::block_on(run(request, url, report))?;
    let mut findings = Vec::new();
    for observation in &trace.observations {
        findings.extend(judge(observation, report));
    }
    if let Some(refusal) = &trace.refusal {
        findings.push(fails_to_apply::finding(
            refusal.migration,
            &refusal.statement,
            &refusal.failure,
        ));
        let untraced: Vec<&str> = request
            .pending
            .iter()
            .skip_while(|m| m.name != refusal.migration.name)
            .skip(1)
            .map(|m| m.name.as_str())
            .collect();
        if !untraced.is_empty() {
            report.notes.push(format!(
                "The trace stopped at the failure in {}: the migrations after it ({}) were not \
                 traced.",
                refusal.migration.name,
                untraced.join(", ")
            ));
        }
    }
    if let Some(note) = trace.withheld {
        report.notes.push(note);
    }
    engine::add_findings(report, findings, request.config, request.pending);
    Ok(())
}

/// The role a `CREATE ROLE|USER|GROUP name ...` statement creates.
fn created_role(text: &str) -> Option<String> {
    let words = crate::sql::named_identifiers(text);
    match &words[..] {
        [create, kind, name, ..]
            if create == "create" && ["role", "user", "group"].contains(&kind.as_str()) =>
        {
            Some(name.clone())
        }
        _ => None,
    }
}

/// Whether running `text` makes the trace server connect to another server:
/// `CREATE`/`ALTER`/`DROP SUBSCRIPTION` reach the publisher its connection string names (a
/// replication slot created there from CI holds that server's WAL until someone drops it).
pub fn reaches_another_server(text: &str) -> bool {
    let words = crate::sql::named_identifiers(text);
    matches!(
        words.iter().map(String::as_str).take(2).collect::<Vec<_>>()[..],
        ["create" | "alter" | "drop", "subscription"]
    )
}

async fn run<'a>(
    request: &TraceRequest<'a>,
    url: DatabaseUrl,
    report: &mut Report,
) -> Result<Trace<'a>> {
    let server = Server::connect(url).await?;
    // From here on a signal must not end the process: a database being created (a clone of the
    // template takes a while) would be left on the server. The admin connection's statement is
    // left to finish (a cancel could hit the drop of the scratch database); the run stops at its
    // next step and drops what it created.
    session::flag_signals()?;
    if server.major != request.config.pg_version {
        report.notes.push(format!(
            "The trace ran on PostgreSQL {} (the trace server) while the rules target PostgreSQL \
             {} (pg_version): what the trace saw is what PostgreSQL {} does.",
            server.major, request.config.pg_version, server.major
        ));
    }
    let schema = server.url.schema().to_string();
    let (scratch, replay) = scratch::scratch_with_history(&server, request.history, &schema)
        .await
        .map_err(|e| session::interrupted().map_or(e, interrupted))?;
    if replay == Replay::Reused {
        crate::complain!(
            "trace: reusing the template database {} (the history is unchanged): one CREATE \
             DATABASE ... TEMPLATE",
            scratch::template_name(request.history, &schema, &server.role)
        );
    }
    let roles = server.roles().await?;
    let traced = run_pending(&server.url.with_database(&scratch.name), request.pending).await;
    let dropped = scratch.release(&server).await;
    let created: Vec<String> = request
        .pending
        .iter()
        .flat_map(|m| crate::sql::analyze_source(&m.source))
        .filter_map(|statement| created_role(&statement.text))
        .collect();
    let roles_dropped = server.drop_roles_since(&roles, &created).await;
    if let (Err(_), Err(not_dropped)) = (&traced, &dropped) {
        // The run's own error is the one returned: the database it leaves must still be told.
        crate::complain!("warning: {}", not_dropped.message);
    }
    let traced = traced?;
    dropped?;
    roles_dropped?;
    crate::complain!(
        "trace: ran {} statement(s) of {} pending migration(s) on PostgreSQL {}; the scratch \
         database was dropped",
        traced.statements,
        request.pending.len(),
        server.major
    );
    Ok(traced)
}

/// Run the pending migrations in the scratch database at `url`, statement by statement.
async fn run_pending<'a>(url: &DatabaseUrl, pending: &[&'a Migration]) -> Result<Trace<'a>> {
    let client = connect::connect(url).await?;
    session::cancel_on_signals(&client, url)?;
    let history = History::new(url.schema());
    let existing = Existing::read(&client, url.schema()).await?;
    let mut tracer = Tracer {
        client: &client,
        existing,
        last: Snapshot::default(),
        trace: Trace::default(),
    };
    tracer.last = tracer.existing.snapshot(&client).await?;
    for migration in pending {
        // The session each script of a deploy starts from (see `execute::run_script`).
        client
            .batch_execute(
                "RESET SESSION AUTHORIZATION; RESET ROLE; SET standard_conforming_strings = on",
            )
            .await
            .map_err(|e| db_error("trace: cannot prepare the session", &e))?;
        history.restore_search_path(&client).await?;
        SafetyOptions::default().apply_to_session(&client).await?;
        if !tracer.migration(migration).await? {
            break;
        }
    }
    Ok(tracer.trace)
}

struct Tracer<'c, 'a> {
    client: &'c Client,
    existing: Existing,
    /// The state after the last statement.
    last: Snapshot,
    trace: Trace<'a>,
}

impl<'a> Tracer<'_, 'a> {
    /// Run one migration as `deploy` would; `false` when it failed (the trace stops there).
    async fn migration(&mut self, migration: &'a Migration) -> Result<bool> {
        let statements = crate::sql::analyze_source(&migration.source);
        match plan(&statements) {
            Plan::Segmented(segments) => {
                for segment in segments {
                    let ok = match segment {
                        Segment::Transaction(statements) => {
                            self.transaction(migration, &statements).await?
                        }
                        Segment::Autocommit(statement) => {
                            self.statement(migration, statement, 0).await?
                        }
                    };
                    if !ok {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Plan::AsWritten(statements) => {
                // The file's own BEGIN ... COMMIT decide what shares a transaction.
                let mut in_transaction = false;
                for (index, statement) in statements.iter().enumerate() {
                    let control = statement.transaction_control();
                    let later = if in_transaction {
                        statements[index + 1..]
                            .iter()
                            .take_while(|s| {
                                !matches!(
                                    s.transaction_control(),
                                    Some(TransactionControl::Commit | TransactionControl::Rollback)
                                )
                            })
                            .count()
                    } else {
                        0
                    };
                    if !self.statement(migration, statement, later).await? {
                        if in_transaction {
                            self.rollback().await;
                        }
                        return Ok(false);
                    }
                    match control {
                        Some(TransactionControl::Begin) => in_transaction = true,
                        Some(_) => {
                            in_transaction = false;
                            self.last = self.last.at_transaction_start();
                        }
                        None => {}
                    }
                }
                Ok(true)
            }
        }
    }

    /// A transactional segment: BEGIN, each statement observed, COMMIT.
    async fn transaction(
        &mut self,
        migration: &'a Migration,
        statements: &[&Statement],
    ) -> Result<bool> {
        self.client
            .batch_execute("BEGIN")
            .await
            .map_err(|e| db_error("trace: cannot begin a transaction", &e))?;
        self.last = self.last.at_transaction_start();
        for (index, statement) in statements.iter().enumerate() {
            let later = statements.len() - index - 1;
            if !self.statement(migration, statement, later).await? {
                self.rollback().await;
                return Ok(false);
            }
        }
        if let Err(error) = self.client.batch_execute("COMMIT").await {
            // A deferred constraint checked at COMMIT: the last statement is where it shows.
            let last = statements.last().copied();
            return match (error.as_db_error(), last) {
                (Some(_), Some(statement)) => {
                    self.refused(migration, statement, &error);
                    Ok(false)
                }
                _ => Err(db_error("trace: COMMIT failed", &error)),
            };
        }
        self.last = self.last.at_transaction_start();
        Ok(true)
    }

    async fn rollback(&mut self) {
        let _ = self.client.batch_execute("ROLLBACK").await;
        self.last = self.last.at_transaction_start();
    }

    /// Run one statement and record what it did; `false` when the server refused it.
    async fn statement(
        &mut self,
        migration: &'a Migration,
        statement: &Statement,
        later: usize,
    ) -> Result<bool> {
        if let Some(signal) = session::interrupted() {
            return Err(interrupted(signal));
        }
        if reaches_another_server(&statement.text) {
            self.trace.withheld = Some(format!(
                "The trace stopped before {}:{}: a statement on a subscription connects to its \
                 publisher, which a trace must not reach; it and what follows it were not traced.",
                migration.display_path, statement.start.line
            ));
            return Ok(false);
        }
        self.trace.statements += 1;
        if let Err(error) = self.client.batch_execute(&statement.text).await {
            if let Some(signal) = session::interrupted() {
                return Err(interrupted(signal));
            }
            if error.as_db_error().is_none() {
                return Err(db_error("trace: the scratch session failed", &error));
            }
            self.refused(migration, statement, &error);
            return Ok(false);
        }
        let now = self.existing.since(self.client, &self.last).await?;
        let effects = observe::compare(&self.last, &now, self.last.scans());
        self.last = now;
        if !effects.is_empty() {
            self.trace.observations.push(Observation {
                migration,
                statement: statement.clone(),
                effects,
                later,
            });
        }
        Ok(true)
    }

    fn refused(
        &mut self,
        migration: &'a Migration,
        statement: &Statement,
        error: &tokio_postgres::Error,
    ) {
        let Some(db) = error.as_db_error() else {
            return;
        };
        self.trace.refusal = Some(Refusal {
            migration,
            statement: statement.clone(),
            failure: fails_to_apply::Failure {
                position: error_position(statement, db, 0),
                sqlstate: db.code().code().to_string(),
                message: db.message().to_string(),
                detail: db.detail().map(str::to_string),
                hint: db.hint().map(str::to_string),
            },
        });
    }
}

fn interrupted(signal: &str) -> AppError {
    AppError::failed(format!(
        "trace interrupted by {signal}: its scratch database was dropped and nothing was reported"
    ))
}

/// What the trace adds to `report` for one statement: `traced: ...` on the static findings of
/// the statement, and findings of its own for what no static finding (or allowed one) covers.
fn judge(observation: &Observation<'_>, report: &mut Report) -> Vec<Finding> {
    let Observation {
        migration,
        statement,
        effects,
        later,
    } = observation;
    let file = &migration.display_path;
    let on_statement = |f: &Finding| {
        f.file == *file && f.line == statement.start.line && f.column == statement.start.column
    };
    // What the statement's findings (raised or allowed) say, by the impact of their rule: an
    // effect is covered when a finding of its kind names the object.
    let mut said: Vec<(Impact, String)> = report
        .findings
        .iter()
        .filter(|f| on_statement(f))
        .filter_map(|f| rules::find(f.rule).map(|r| (r.impact, f.message.clone())))
        .collect();
    said.extend(
        report
            .allowed
            .iter()
            .filter(|a| a.file == *file && a.line == statement.start.line)
            .filter_map(|a| rules::find(a.rule).map(|r| (r.impact, a.message.clone()))),
    );
    let covered = |impact: Impact, name: &str| {
        said.iter()
            .any(|(i, message)| *i == impact && mentions(message, name))
    };
    let seen = describe(effects);
    for finding in report.findings.iter_mut().filter(|f| on_statement(f)) {
        finding.message.push_str(&format!(" (traced: {seen})"));
    }
    let mut raised = Vec::new();
    let lost: Vec<String> = effects
        .lost
        .iter()
        .filter(|(_, name)| !covered(Impact::DataLoss, name))
        .map(|(what, _)| what.clone())
        .collect();
    if !lost.is_empty() {
        raised.push(traced_data_loss::finding(migration, statement, &lost));
    }
    let rewritten: Vec<String> = effects
        .rewritten
        .iter()
        .filter(|table| !covered(Impact::Blocks, &bare_name(table)))
        .cloned()
        .collect();
    if !rewritten.is_empty() {
        let strongest = rewritten
            .iter()
            .filter_map(|table| effects.locked.get(table).copied())
            .next();
        raised.push(traced_rewrite::finding(
            migration, statement, &rewritten, strongest,
        ));
    } else if *later > 0 {
        let named = crate::sql::named_identifiers(&statement.text);
        let hidden: Vec<(String, &str)> = effects
            .write_blocking
            .iter()
            .filter(|table| {
                let name = bare_name(table);
                !named.contains(&name) && !covered(Impact::Blocks, &name)
            })
            .filter_map(|table| effects.locked.get(table).map(|mode| (table.clone(), *mode)))
            .collect();
        if !hidden.is_empty() {
            raised.push(traced_lock::finding(migration, statement, &hidden, *later));
        }
    }
    raised
}

/// Whether `message` names `name` as a word of its own (`"email"`, `'email'`, `email`), not as
/// part of another name (`email_verified`).
fn mentions(message: &str, name: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    message.match_indices(name).any(|(at, _)| {
        let before = message[..at].chars().next_back();
        let after = message[at + name.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// `"app"."User"` → `User`.
fn bare_name(shown: &str) -> String {
    let last = shown.rsplit("\".\"").next().unwrap_or(shown);
    last.trim_matches('"').replace("\"\"", "\"")
}

/// What the trace saw, in one line: `ACCESS EXCLUSIVE on "Big", "Big" rewritten`.
fn describe(effects: &Effects) -> String {
    let mut parts: Vec<String> = effects
        .locked
        .iter()
        .map(|(table, mode)| format!("{mode} on {table}"))
        .collect();
    parts.extend(effects.rewritten.iter().map(|t| format!("{t} rewritten")));
    parts.extend(effects.scanned.iter().map(|t| format!("{t} scanned")));
    parts.extend(effects.lost.iter().map(|(what, _)| what.clone()));
    parts.extend(effects.changed.iter().cloned());
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_mentioned_as_a_word_of_its_own() {
        assert!(mentions("drop the column email on", "email"));
        assert!(mentions("the column \"email\" on", "email"));
        assert!(!mentions("the column email_verified on", "email"));
        assert!(!mentions("the column \"?\" on", "email"));
    }

    #[test]
    fn statements_on_subscriptions_reach_another_server() {
        assert!(reaches_another_server(
            "/* c */ CREATE SUBSCRIPTION s CONNECTION 'host=prod' PUBLICATION p"
        ));
        assert!(reaches_another_server("drop  subscription s"));
        assert!(reaches_another_server(
            "ALTER SUBSCRIPTION s REFRESH PUBLICATION"
        ));
        assert!(!reaches_another_server(
            "CREATE PUBLICATION p FOR ALL TABLES"
        ));
        assert!(!reaches_another_server(
            "CREATE TABLE subscription (id int)"
        ));
    }

    #[test]
    fn the_role_a_statement_creates_is_the_name_after_create_role() {
        assert_eq!(
            created_role("CREATE ROLE app_reader").as_deref(),
            Some("app_reader")
        );
        assert_eq!(
            created_role("create user \"My App\" WITH PASSWORD 'x'").as_deref(),
            Some("My App")
        );
        assert_eq!(created_role("GRANT SELECT ON t TO app_reader"), None);
        assert_eq!(created_role("CREATE TABLE role (id int)"), None);
    }

    #[test]
    fn bare_names_lose_their_schema_and_quotes() {
        assert_eq!(bare_name("\"User\""), "User");
        assert_eq!(bare_name("\"app\".\"User\""), "User");
        assert_eq!(bare_name("\"a\"\"b\""), "a\"b");
    }

    #[test]
    fn the_description_lists_locks_then_rewrites_then_losses() {
        let mut effects = Effects::default();
        effects.locked.insert("\"Big\"".into(), "ACCESS EXCLUSIVE");
        effects.rewritten.push("\"Big\"".into());
        effects
            .lost
            .push(("column \"Big\".\"a\" dropped".into(), "a".into()));
        assert_eq!(
            describe(&effects),
            "ACCESS EXCLUSIVE on \"Big\", \"Big\" rewritten, column \"Big\".\"a\" dropped"
        );
    }
}
