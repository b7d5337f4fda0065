//! Run one migration script against the database: its segments ([`super::plan`]), lock timeouts
//! retried, INVALID indexes cleaned up, and the outcome recorded in the history table.

use std::time::{Duration, Instant};

use futures_util::Stream;
use tokio_postgres::error::ErrorPosition;
use tokio_postgres::Client;

use super::failure::{
    failure_for, interrupted_before, is_lock_timeout, lock_lost, with_committed, Failure,
    FailureKind,
};
use super::options::SafetyOptions;
use super::plan::{first_line, plan, Plan, Record, Script, Segment};
use crate::db::history::{db_error, History, ROLLBACK_INCOMPLETE, RUNNING_WHEN_STOPPED};
use crate::db::lock;
use crate::error::{AppError, Result};
use crate::sql::{Op, Statement, TransactionControl};

impl SafetyOptions {
    /// `lock_timeout` / `statement_timeout` for the migrations. Without --statement-timeout
    /// the session's own default comes back (the lookups before ran under a bound of ours).
    pub async fn apply_to_session(&self, client: &Client) -> Result<()> {
        let statement_timeout = match &self.statement_timeout {
            Some(timeout) => client
                .query_one(
                    "SELECT set_config('statement_timeout', $1, false)",
                    &[timeout],
                )
                .await
                .map(|_| ()),
            None => client.batch_execute("RESET statement_timeout").await,
        };
        let lock_timeout = client
            .query_one(
                "SELECT set_config('lock_timeout', $1, false)",
                &[&self.lock_timeout],
            )
            .await
            .map(|_| ());
        lock_timeout.and(statement_timeout).map_err(|e| {
            AppError::usage(format!(
                "invalid --lock-timeout or --statement-timeout: {} (use PostgreSQL interval \
                 syntax such as 5s, 500ms, 1min)",
                e.as_db_error().map(|d| d.message()).unwrap_or("rejected")
            ))
        })
    }
}

/// Where a trace of the script's progress goes while it runs in several segments, so that a
/// killed process still leaves something `status` can report.
enum Trace<'a> {
    /// The started row of a deploy.
    Started(&'a str),
    /// The applied row being rolled back.
    Applied,
}

/// Run `script` and record it; `Err(Failure)` leaves later migrations to the caller to skip.
pub async fn run_script(
    client: &Client,
    history: &History,
    script: Script<'_>,
    record: Record<'_>,
    safety: &SafetyOptions,
) -> Result<std::result::Result<Duration, Failure>> {
    // Every script starts from the session the command set up: a `SET`, `SET ROLE`, `RESET
    // ALL` or `DISCARD ALL` of an earlier one must change neither as whom nor where the next
    // one creates objects, nor how long it may wait for a lock, nor how the server reads its
    // literals (see `Database::connect`) (the result must not depend on
    // whether migrations are applied by one deploy or by several). RESET goes back to the
    // connection's own defaults, a role given in the URL's `options` included.
    client
        .batch_execute(
            "RESET SESSION AUTHORIZATION; RESET ROLE; SET standard_conforming_strings = on",
        )
        .await
        .map_err(|e| db_error("cannot prepare the database session", &e))?;
    history.restore_search_path(client).await?;
    safety.apply_to_session(client).await?;
    let started = Instant::now();
    let statements = crate::sql::analyze_source(script.source);
    let plan = plan(&statements);
    let runner = Runner {
        client,
        history,
        script,
        safety,
    };
    if plan.is_single_transaction() {
        // Fast and atomic: the history row commits with the script, or neither does.
        let statements: &[&Statement] = match &plan {
            Plan::Segmented(segments) => match segments.first() {
                Some(Segment::Transaction(statements)) => statements,
                _ => &[],
            },
            Plan::AsWritten(_) => &[],
        };
        let outcome = runner.transaction(statements, Some(record)).await?;
        return match outcome {
            Ok(()) => Ok(Ok(started.elapsed())),
            Err(failure) => {
                if let (Record::Apply { checksum }, true) = (record, failure.recordable()) {
                    history
                        .insert_failed(
                            client,
                            script.migration,
                            checksum,
                            started.elapsed().as_secs_f64(),
                            &failure.logs,
                            failure.kind == FailureKind::LockTimeout,
                        )
                        .await?;
                }
                Ok(Err(failure))
            }
        };
    }

    if let Some(signal) = crate::db::session::interrupted() {
        return Ok(Err(interrupted_before(script, signal)));
    }
    // Some statements must commit on their own: the started row goes first, as Prisma does,
    // so a failure (or a killed process) leaves a visible trace.
    let id = match record {
        Record::Apply { checksum } => Some(
            history
                .insert_started(client, script.migration, checksum)
                .await?,
        ),
        Record::RollBack => {
            let trace = format!(
                "{ROLLBACK_INCOMPLETE}: {} started; nothing of it committed yet\n",
                script.file
            );
            history
                .set_applied_logs(client, script.migration, Some(&trace))
                .await?;
            None
        }
    };
    let trace = match &id {
        Some(id) => Trace::Started(id),
        None => Trace::Applied,
    };
    let outcome = match &plan {
        Plan::Segmented(segments) => {
            let mut outcome = Ok(());
            let mut committed = Vec::new();
            let label = |index: usize, segment: &Segment<'_>| {
                format!(
                    "segment {} of {}: {}",
                    index + 1,
                    segments.len(),
                    segment.describe()
                )
            };
            for (index, segment) in segments.iter().enumerate() {
                let result = match segment {
                    Segment::Transaction(statements) => {
                        runner.transaction(statements, None).await?
                    }
                    Segment::Autocommit(statement) => {
                        // Outside a transaction the server finishes the statement even when
                        // this process dies (SIGKILL): say which one ran, for `status`.
                        let running = label(index, segment);
                        runner
                            .trace_progress(&trace, &committed, Some(&running))
                            .await?;
                        runner.autocommit(statement).await?
                    }
                };
                if let Err(mut failure) = result {
                    failure.committed = committed;
                    outcome = Err(failure);
                    break;
                }
                committed.push(label(index, segment));
                if matches!(segments.get(index + 1), Some(Segment::Transaction(_))) {
                    runner.trace_progress(&trace, &committed, None).await?;
                }
            }
            outcome
        }
        Plan::AsWritten(statements) => runner.as_written(statements).await?,
    };
    // The last statement may have released the lock: finish the record only while holding it.
    let outcome = match outcome {
        Ok(()) if !runner.lock_still_held().await? => Err(lock_lost(script)),
        other => other,
    };
    let outcome = outcome.map_err(|failure| Failure {
        segmented: true,
        ..failure
    });
    match (outcome, id) {
        (Ok(()), Some(id)) => {
            history.mark_finished(client, &id).await?;
            Ok(Ok(started.elapsed()))
        }
        (Ok(()), None) => {
            history.mark_rolled_back(client, script.migration).await?;
            history
                .set_applied_logs(client, script.migration, None)
                .await?;
            Ok(Ok(started.elapsed()))
        }
        (Err(failure), _) if !failure.recordable() => Ok(Err(failure)),
        (Err(failure), Some(id)) => {
            let logs = with_committed(&failure.logs, &failure.committed);
            let retry = failure.kind == FailureKind::LockTimeout && failure.committed.is_empty();
            history.record_failure(client, &id, &logs, retry).await?;
            Ok(Err(failure))
        }
        (Err(failure), None) => {
            // A rollback that committed nothing leaves the migration plainly applied.
            let trace = (!failure.committed.is_empty()).then(|| {
                format!(
                    "{ROLLBACK_INCOMPLETE}: {} failed\n{}",
                    script.file,
                    with_committed(&failure.logs, &failure.committed)
                )
            });
            history
                .set_applied_logs(client, script.migration, trace.as_deref())
                .await?;
            Ok(Err(failure))
        }
    }
}

struct Runner<'a> {
    client: &'a Client,
    history: &'a History,
    script: Script<'a>,
    safety: &'a SafetyOptions,
}

/// A statement that failed, before it becomes a [`Failure`].
struct StatementError {
    statement_index: usize,
    error: tokio_postgres::Error,
    /// Characters sent before the statement in the same query (the server's error position
    /// counts from the start of the query).
    shift: u32,
}

/// One try of a transactional segment.
enum Attempt {
    Done,
    Failed(StatementError),
    /// A signal arrived after the statements ran, before COMMIT: rolled back.
    Interrupted(&'static str),
    /// The advisory lock was released by the script and taken by another session: rolled back.
    LockLost,
}

/// A transactional segment joined into one query, with where each statement starts.
struct Batch {
    sql: String,
    /// Character offset of each statement in `sql`.
    starts: Vec<u32>,
    lengths: Vec<u32>,
}

impl Batch {
    fn new(statements: &[&Statement]) -> Batch {
        let mut sql = String::new();
        let mut chars = 0u32;
        let mut starts = Vec::with_capacity(statements.len());
        let mut lengths = Vec::with_capacity(statements.len());
        // A newline before each `;` so a trailing `--` comment cannot swallow it.
        for statement in statements {
            starts.push(chars);
            let length = statement.text.chars().count() as u32;
            lengths.push(length);
            sql.push_str(&statement.text);
            sql.push_str("\n;\n");
            chars += length + 3;
        }
        Batch {
            sql,
            starts,
            lengths,
        }
    }

    /// Which statement failed (`usize::MAX`: none of the script's) and its shift.
    fn locate(&self, error: &tokio_postgres::Error, completed: usize) -> (usize, u32) {
        let position = error.as_db_error().and_then(|db| match db.position() {
            Some(ErrorPosition::Original(p)) => Some(p.saturating_sub(1)),
            _ => None,
        });
        let index = match position {
            Some(p) => self
                .starts
                .iter()
                .zip(&self.lengths)
                .position(|(start, length)| p >= *start && p <= start + length),
            None => Some(completed).filter(|i| *i < self.starts.len()),
        };
        match index {
            Some(i) => (i, self.starts[i]),
            None => (usize::MAX, 0),
        }
    }
}

impl Runner<'_> {
    /// The statements in one transaction, with the history write of `record` inside it;
    /// retried on a lock timeout.
    async fn transaction(
        &self,
        statements: &[&Statement],
        record: Option<Record<'_>>,
    ) -> Result<std::result::Result<(), Failure>> {
        let mut attempt = 0;
        loop {
            if let Some(signal) = crate::db::session::interrupted() {
                return Ok(Err(interrupted_before(self.script, signal)));
            }
            let error = match self.try_transaction(statements, record).await? {
                Attempt::Done => return Ok(Ok(())),
                Attempt::Interrupted(signal) => {
                    return Ok(Err(interrupted_before(self.script, signal)))
                }
                Attempt::LockLost => return Ok(Err(lock_lost(self.script))),
                Attempt::Failed(error) => error,
            };
            // Leave no half transaction behind; harmless when the server already ended it.
            let _ = self.client.batch_execute("ROLLBACK").await;
            let statement = statements.get(error.statement_index).copied();
            if is_lock_timeout(&error.error)
                && attempt < self.safety.lock_retries
                && crate::db::session::interrupted().is_none()
            {
                attempt += 1;
                self.announce_retry(statement, attempt).await;
                continue;
            }
            return Ok(Err(failure_for(
                self.script,
                statement,
                &error.error,
                error.shift,
                self.client.is_closed(),
            )));
        }
    }

    /// BEGIN, the whole segment as ONE simple query (one round trip), the history write with
    /// bind parameters, COMMIT. The failing statement is found from the server's error
    /// position, else by counting the statements that completed before the error.
    async fn try_transaction(
        &self,
        statements: &[&Statement],
        record: Option<Record<'_>>,
    ) -> Result<Attempt> {
        let outside = |error| {
            Attempt::Failed(StatementError {
                statement_index: usize::MAX,
                error,
                shift: 0,
            })
        };
        // With BEGIN in one round trip: an earlier segment may have turned it off.
        let begin = "SET standard_conforming_strings = on; BEGIN";
        if let Err(error) = self.client.batch_execute(begin).await {
            return Ok(outside(error));
        }
        let batch = Batch::new(statements);
        let mut completed = 0usize;
        let outcome = async {
            let stream = self.client.simple_query_raw(&batch.sql).await?;
            let mut stream = std::pin::pin!(stream);
            while let Some(message) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await
            {
                if let tokio_postgres::SimpleQueryMessage::CommandComplete(_) = message? {
                    completed += 1;
                }
            }
            Ok::<(), tokio_postgres::Error>(())
        }
        .await;
        if let Err(error) = outcome {
            let (statement_index, shift) = batch.locate(&error, completed);
            return Ok(Attempt::Failed(StatementError {
                statement_index,
                error,
                shift,
            }));
        }
        if let Some(signal) = crate::db::session::interrupted() {
            // The signal came between two queries, where no cancel reaches: roll back here.
            let _ = self.client.batch_execute("ROLLBACK").await;
            return Ok(Attempt::Interrupted(signal));
        }
        match lock::still_held(self.client).await {
            Ok(true) => {}
            Ok(false) => {
                let _ = self.client.batch_execute("ROLLBACK").await;
                return Ok(Attempt::LockLost);
            }
            Err(error) => return Ok(outside(error)),
        }
        let written = match record {
            Some(Record::Apply { checksum }) => {
                self.history
                    .insert_finished(self.client, self.script.migration, checksum)
                    .await
            }
            Some(Record::RollBack) => {
                self.history
                    .mark_rolled_back(self.client, self.script.migration)
                    .await
            }
            None => Ok(()),
        };
        if let Err(error) = written {
            let _ = self.client.batch_execute("ROLLBACK").await;
            return Err(error);
        }
        Ok(match self.client.batch_execute("COMMIT").await {
            Ok(()) => Attempt::Done,
            Err(error) => outside(error),
        })
    }

    /// `standard_conforming_strings` back on before the next statement is sent: an earlier
    /// statement of the file may have turned it off, and the server must read literals as the
    /// gate did (see `Database::connect`).
    async fn read_literals_as_the_gate(&self) -> Result<()> {
        self.client
            .batch_execute("SET standard_conforming_strings = on")
            .await
            .map_err(|e| db_error("cannot prepare the database session", &e))
    }

    /// See [`lock::still_held`].
    async fn lock_still_held(&self) -> Result<bool> {
        lock::still_held(self.client)
            .await
            .map_err(|e| db_error("cannot check the migration advisory lock", &e))
    }

    /// Record which segments of a multi-segment script have committed so far.
    async fn trace_progress(
        &self,
        trace: &Trace<'_>,
        committed: &[String],
        running: Option<&str>,
    ) -> Result<()> {
        let mut list = committed
            .iter()
            .map(|c| format!("- {c}"))
            .collect::<Vec<_>>()
            .join("\n");
        if let Some(running) = running {
            list.push_str(&format!("\n{RUNNING_WHEN_STOPPED}: {running}"));
        }
        match trace {
            Trace::Started(id) => {
                let logs = format!(
                    "Migration name: {}\n\nUnfinished: committed so far (not undone if the \
                     migration stops here):\n{list}\n",
                    self.script.migration
                );
                self.history
                    .record_failure(self.client, id, &logs, false)
                    .await
            }
            Trace::Applied => {
                let logs = format!(
                    "{ROLLBACK_INCOMPLETE}: {} committed so far:\n{list}\n",
                    self.script.file
                );
                self.history
                    .set_applied_logs(self.client, self.script.migration, Some(&logs))
                    .await
            }
        }
    }

    /// One statement alone, outside any transaction; retried on a lock timeout after dropping
    /// the INVALID index a failed CONCURRENTLY build leaves behind.
    async fn autocommit(&self, statement: &Statement) -> Result<std::result::Result<(), Failure>> {
        let mut attempt = 0;
        loop {
            if let Some(signal) = crate::db::session::interrupted() {
                return Ok(Err(interrupted_before(self.script, signal)));
            }
            if !self.lock_still_held().await? {
                return Ok(Err(lock_lost(self.script)));
            }
            self.read_literals_as_the_gate().await?;
            let before = self.invalid_indexes(statement).await;
            let error = match self.client.batch_execute(&statement.text).await {
                Ok(()) => return Ok(self.check_index_is_valid(statement).await),
                Err(error) => error,
            };
            let failure = self.failure(Some(statement), &error);
            if failure.kind != FailureKind::Statement && failure.kind != FailureKind::LockTimeout {
                // Nothing more on a closed connection or after a signal: `status` reports the
                // INVALID index the build may have left.
                return Ok(Err(failure));
            }
            self.drop_new_invalid_indexes(statement, &before).await;
            if is_lock_timeout(&error) && attempt < self.safety.lock_retries {
                attempt += 1;
                self.announce_retry(Some(statement), attempt).await;
                continue;
            }
            return Ok(Err(failure));
        }
    }

    /// `CREATE INDEX CONCURRENTLY IF NOT EXISTS` succeeds without building anything when an
    /// index of that name exists, also an INVALID one a killed build left behind: the index
    /// the migration asked for is then not usable, which is a failure, not a success.
    async fn check_index_is_valid(
        &self,
        statement: &Statement,
    ) -> std::result::Result<(), Failure> {
        let Some(index) = concurrent_index_name(statement) else {
            return Ok(());
        };
        let valid = self
            .client
            .query_opt(
                "SELECT i.indisvalid FROM pg_catalog.pg_index i \
                 WHERE i.indexrelid = to_regclass($1)",
                &[&index],
            )
            .await
            .ok()
            .flatten()
            .map(|row| row.get::<_, bool>(0));
        if valid != Some(false) {
            return Ok(());
        }
        let message = format!(
            "the index {index} exists but is INVALID (left by an earlier failed CONCURRENTLY \
             build), so IF NOT EXISTS skipped the build and the index is not usable: drop it with \
             DROP INDEX CONCURRENTLY {index}; then deploy again"
        );
        Err(Failure::refused(
            self.script,
            &format!(
                "{}:{}:{}",
                self.script.file, statement.start.line, statement.start.column
            ),
            &message,
        ))
    }

    /// Each statement as written; an open transaction is rolled back after a failure.
    async fn as_written(
        &self,
        statements: &[&Statement],
    ) -> Result<std::result::Result<(), Failure>> {
        let mut committed = Vec::new();
        let outcome = self.as_written_tracking(statements, &mut committed).await?;
        Ok(outcome.map_err(|failure| Failure {
            committed,
            ..failure
        }))
    }

    /// [`Runner::as_written`], noting in `committed` what the file committed so far: each
    /// statement outside its own transactions, each of its transactions at COMMIT.
    async fn as_written_tracking(
        &self,
        statements: &[&Statement],
        committed: &mut Vec<String>,
    ) -> Result<std::result::Result<(), Failure>> {
        // Inside the file's own transaction only before its COMMIT: nothing of ours may run
        // between its BEGIN and a SET TRANSACTION.
        let mut in_own_transaction = false;
        let mut opened_at = 0;
        for statement in statements {
            let control = statement.transaction_control();
            let commits = matches!(control, Some(TransactionControl::Commit));
            if let Some(signal) = crate::db::session::interrupted() {
                let _ = self.client.batch_execute("ROLLBACK").await;
                return Ok(Err(interrupted_before(self.script, signal)));
            }
            if (!in_own_transaction || commits) && !self.lock_still_held().await? {
                let _ = self.client.batch_execute("ROLLBACK").await;
                return Ok(Err(lock_lost(self.script)));
            }
            if !in_own_transaction {
                self.read_literals_as_the_gate().await?;
            }
            let before = self.invalid_indexes(statement).await;
            if let Err(error) = self.client.batch_execute(&statement.text).await {
                let failure = self.failure(Some(statement), &error);
                if !self.client.is_closed() {
                    let _ = self.client.batch_execute("ROLLBACK").await;
                    self.drop_new_invalid_indexes(statement, &before).await;
                }
                return Ok(Err(failure));
            }
            match control {
                Some(TransactionControl::Begin) => {
                    in_own_transaction = true;
                    opened_at = statement.start.line;
                }
                Some(TransactionControl::Commit) if in_own_transaction => {
                    in_own_transaction = false;
                    committed.push(format!(
                        "transaction, lines {opened_at}-{}",
                        statement.end.line
                    ));
                }
                Some(_) => in_own_transaction = false,
                None if in_own_transaction => {}
                None => committed.push(format!(
                    "line {}: {}",
                    statement.start.line,
                    first_line(&statement.text)
                )),
            }
            if statement.chains() {
                // COMMIT AND CHAIN: the file is in its own transaction again at once.
                in_own_transaction = true;
                opened_at = statement.start.line;
            }
        }
        // A BEGIN without COMMIT: the server would roll the work back when the session ends
        // (with the history update), after we reported success. Inside an open transaction
        // now() (its start) is older than this statement's start; for one simple-protocol
        // query in autocommit both are the time the server received it.
        let probe = self
            .client
            .simple_query("SELECT now() <> statement_timestamp()")
            .await
            .map_err(|e| db_error("cannot check the migration's transaction state", &e))?;
        let open = probe.iter().any(|message| {
            matches!(message, tokio_postgres::SimpleQueryMessage::Row(row) if row.get(0) == Some("t"))
        });
        if open {
            let _ = self.client.batch_execute("ROLLBACK").await;
            let message = "the file opens a transaction (BEGIN) that it never commits: its \
                           changes were rolled back; end the transaction with COMMIT";
            return Ok(Err(Failure::refused(
                self.script,
                self.script.file,
                message,
            )));
        }
        Ok(Ok(()))
    }

    async fn announce_retry(&self, statement: Option<&Statement>, attempt: u32) {
        let wait = retry_wait(self.safety.retry_backoff, attempt);
        let at = statement
            .map(|s| {
                format!(
                    " at {}:{}:{}",
                    self.script.file, s.start.line, s.start.column
                )
            })
            .unwrap_or_default();
        super::progress::say_line(&format!(
            "Lock timeout (55P03){at} in `{}`: rolled back; retry {attempt} of {} in {} ms",
            self.script.migration,
            self.safety.lock_retries,
            wait.as_millis()
        ));
        // In short steps: a SIGTERM must not wait out a pause of up to MAX_RETRY_WAIT (the
        // attempt loop stops on the flag).
        let until = Instant::now() + wait;
        while Instant::now() < until && crate::db::session::interrupted().is_none() {
            tokio::time::sleep(SIGNAL_POLL.min(until.saturating_duration_since(Instant::now())))
                .await;
        }
    }

    /// The tables a CONCURRENTLY index build works on: its INVALID indexes before the build.
    async fn invalid_indexes(&self, statement: &Statement) -> Vec<u32> {
        let Some(table) = concurrent_index_table(statement) else {
            return Vec::new();
        };
        self.client
            .query(
                "SELECT i.indexrelid FROM pg_catalog.pg_index i \
                 WHERE i.indrelid = to_regclass($1) AND NOT i.indisvalid",
                &[&table],
            )
            .await
            .map(|rows| rows.iter().map(|row| row.get::<_, u32>(0)).collect())
            .unwrap_or_default()
    }

    async fn drop_new_invalid_indexes(&self, statement: &Statement, before: &[u32]) {
        let Some(table) = concurrent_index_table(statement) else {
            return;
        };
        let Ok(rows) = self
            .client
            .query(
                "SELECT i.indexrelid, format('%I.%I', n.nspname, c.relname) \
                 FROM pg_catalog.pg_index i \
                 JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE i.indrelid = to_regclass($1) AND NOT i.indisvalid",
                &[&table],
            )
            .await
        else {
            return;
        };
        for row in rows {
            let oid: u32 = row.get(0);
            let name: String = row.get(1);
            if before.contains(&oid) {
                continue;
            }
            let dropped = self
                .client
                .batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {name}"))
                .await;
            match dropped {
                Ok(()) => super::progress::say_line(&format!(
                    "Dropped the INVALID index {name} left by the failed CONCURRENTLY build in `{}`",
                    self.script.migration
                )),
                Err(e) => super::progress::say_line(&format!(
                    "Could not drop the INVALID index {name} left by the failed build ({}): drop \
                     it by hand with DROP INDEX CONCURRENTLY {name}",
                    e.as_db_error().map(|d| d.message()).unwrap_or("error")
                )),
            }
        }
    }

    fn failure(&self, statement: Option<&Statement>, error: &tokio_postgres::Error) -> Failure {
        failure_for(self.script, statement, error, 0, self.client.is_closed())
    }
}

/// The index a `CREATE INDEX CONCURRENTLY` names, in the table's schema, as `to_regclass` text.
fn concurrent_index_name(statement: &Statement) -> Option<String> {
    statement.ops.iter().find_map(|op| match op {
        Op::CreateIndex {
            name: Some(name),
            table,
            concurrently: true,
            ..
        } => Some(crate::sql::ObjectName::new(table.schema.as_deref(), name).to_string()),
        _ => None,
    })
}

/// The table of a `CREATE INDEX CONCURRENTLY`, as text `to_regclass` understands.
fn concurrent_index_table(statement: &Statement) -> Option<String> {
    statement.ops.iter().find_map(|op| match op {
        Op::CreateIndex {
            table,
            concurrently: true,
            ..
        } => Some(table.to_string()),
        _ => None,
    })
}

/// The longest pause between two attempts: the backoff doubles, but a deploy must not sleep for
/// hours because someone asked for many retries.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

/// How often a pause looks for a SIGTERM / SIGINT.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

fn retry_wait(backoff: Duration, attempt: u32) -> Duration {
    backoff
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(MAX_RETRY_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::plan::tests::statement;

    #[test]
    fn retry_waits_double_up_to_a_ceiling() {
        let backoff = Duration::from_millis(500);
        assert_eq!(retry_wait(backoff, 1), Duration::from_millis(500));
        assert_eq!(retry_wait(backoff, 3), Duration::from_secs(2));
        assert_eq!(retry_wait(backoff, 40), MAX_RETRY_WAIT);
    }
    #[test]
    fn a_batch_knows_where_each_statement_starts() {
        let a = statement("CREATE TABLE a (id int) -- trailing comment", 1, vec![]);
        let b = statement("CREATE TABLE b (id int)", 2, vec![]);
        let batch = Batch::new(&[&a, &b]);
        for (i, st) in [&a, &b].iter().enumerate() {
            let start = batch.starts[i] as usize;
            let text: String = batch.sql.chars().skip(start).take(st.text.len()).collect();
            assert_eq!(text, st.text);
        }
        // The comment does not swallow the separator.
        assert!(batch.sql.contains("comment\n;\nCREATE TABLE b"));
    }
}
