//! Run one migration script against the database: split into segments (consecutive transactional
//! statements → ONE transaction; statements PostgreSQL refuses inside a transaction → alone, in
//! autocommit, in file order), retry lock timeouts, clean up INVALID indexes, and record the
//! outcome in the history table. A file with its own BEGIN/COMMIT runs as written.

use std::time::{Duration, Instant};

use futures_util::Stream;
use tokio_postgres::error::{DbError, ErrorPosition};
use tokio_postgres::Client;

use super::history::{db_error, History, ROLLBACK_INCOMPLETE};
use crate::error::{AppError, Result};
use crate::sql::{Op, Position, Statement};

/// SQLSTATE lock_not_available: `lock_timeout` expired.
const LOCK_NOT_AVAILABLE: &str = "55P03";

/// Production-safety settings for the session that runs migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Safety {
    /// PostgreSQL interval text, e.g. `5s`; `0` disables.
    pub lock_timeout: String,
    pub statement_timeout: Option<String>,
    /// Retries of a segment that hit the lock timeout.
    pub lock_retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub retry_backoff: Duration,
}

impl Default for Safety {
    fn default() -> Self {
        Safety {
            lock_timeout: "5s".to_string(),
            statement_timeout: None,
            lock_retries: 3,
            retry_backoff: Duration::from_millis(500),
        }
    }
}

impl Safety {
    pub fn from_args(args: &crate::cli::SafetyArgs) -> Safety {
        Safety {
            lock_timeout: args.lock_timeout.clone(),
            statement_timeout: args.statement_timeout.clone(),
            lock_retries: args.lock_retries,
            ..Safety::default()
        }
    }

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

/// How a file's statements are run.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan<'a> {
    Segmented(Vec<Segment<'a>>),
    /// The file has its own BEGIN/COMMIT: every statement runs as written, in autocommit mode.
    AsWritten(Vec<&'a Statement>),
}

#[derive(Debug, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Consecutive statements that run in one transaction.
    Transaction(Vec<&'a Statement>),
    /// A statement PostgreSQL refuses inside a transaction block.
    Autocommit(&'a Statement),
}

pub fn plan(statements: &[Statement]) -> Plan<'_> {
    if statements.iter().any(|s| s.transaction_control().is_some()) {
        return Plan::AsWritten(statements.iter().collect());
    }
    let mut segments = Vec::new();
    let mut current: Vec<&Statement> = Vec::new();
    for statement in statements {
        if statement.requires_autocommit() {
            if !current.is_empty() {
                segments.push(Segment::Transaction(std::mem::take(&mut current)));
            }
            segments.push(Segment::Autocommit(statement));
        } else {
            current.push(statement);
        }
    }
    if !current.is_empty() {
        segments.push(Segment::Transaction(current));
    }
    Plan::Segmented(segments)
}

impl Plan<'_> {
    /// One line per segment, for `--dry-run`.
    pub fn describe(&self) -> Vec<String> {
        fn lines(statements: &[&Statement]) -> String {
            match (statements.first(), statements.last()) {
                (Some(first), Some(last)) => {
                    format!("lines {}-{}", first.start.line, last.end.line)
                }
                _ => "no statements".to_string(),
            }
        }
        match self {
            Plan::AsWritten(statements) => vec![format!(
                "as written (the file controls its own transactions): {} statement(s), {}",
                statements.len(),
                lines(statements)
            )],
            Plan::Segmented(segments) if segments.is_empty() => {
                vec!["transaction: no statements (history row only)".to_string()]
            }
            Plan::Segmented(segments) => segments
                .iter()
                .map(|segment| match segment {
                    Segment::Transaction(statements) => format!(
                        "transaction: {} statement(s), {}",
                        statements.len(),
                        lines(statements)
                    ),
                    Segment::Autocommit(statement) => format!(
                        "autocommit (cannot run in a transaction): line {}: {}",
                        statement.start.line,
                        first_line(&statement.text)
                    ),
                })
                .collect(),
        }
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    if line.chars().count() > 80 {
        format!("{}...", line.chars().take(77).collect::<String>())
    } else {
        line.to_string()
    }
}

/// A script to run: a migration's `migration.sql` or its `down.sql`.
#[derive(Debug, Clone, Copy)]
pub struct Script<'a> {
    pub migration: &'a str,
    /// The file as reports show it.
    pub file: &'a str,
    pub source: &'a str,
}

/// What to write to the history table around the script.
#[derive(Debug, Clone, Copy)]
pub enum Record<'a> {
    /// Deploy: insert a started row, mark it finished (Prisma's rows).
    Apply { checksum: &'a str },
    /// Rollback: set `rolled_back_at` on the applied row in the same transaction.
    RollBack,
}

/// Why a script stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// A statement failed.
    Statement,
    /// Every attempt waited longer than `lock_timeout` for a lock and rolled back.
    LockTimeout,
    /// The server closed the connection (`pg_terminate_backend`, a restart, a network cut).
    ConnectionLost,
    /// SIGTERM / SIGINT: the running statement was cancelled.
    Interrupted(&'static str),
}

/// A failed script: what to show on stderr and what goes into the history row's `logs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `file:line:col`, SQLSTATE, message, detail, hint.
    pub report: String,
    /// Prisma-style logs for `_prisma_migrations.logs`.
    pub logs: String,
    pub kind: FailureKind,
    /// The segments that committed before the failure and stay (a script that had to run in
    /// several segments); empty when nothing of the script was applied.
    pub committed: Vec<String>,
    /// The script ran in several segments, so its started row was written before it ran.
    pub segmented: bool,
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
    safety: &Safety,
) -> Result<std::result::Result<Duration, Failure>> {
    let started = Instant::now();
    let statements = crate::sql::analyze_source(script.source);
    let plan = plan(&statements);
    let runner = Runner {
        client,
        history,
        script,
        safety,
    };
    let single_transaction = match &plan {
        Plan::Segmented(segments) => segments
            .iter()
            .all(|segment| matches!(segment, Segment::Transaction(_))),
        Plan::AsWritten(_) => false,
    };

    if single_transaction {
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

    if let Some(signal) = super::session::interrupted() {
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
            for (index, segment) in segments.iter().enumerate() {
                let result = match segment {
                    Segment::Transaction(statements) => {
                        runner.transaction(statements, None).await?
                    }
                    Segment::Autocommit(statement) => runner.autocommit(statement).await?,
                };
                if let Err(mut failure) = result {
                    failure.committed = committed;
                    outcome = Err(failure);
                    break;
                }
                committed.push(format!(
                    "segment {} of {}: {}",
                    index + 1,
                    segments.len(),
                    segment.describe()
                ));
                if index + 1 < segments.len() {
                    runner.trace_progress(&trace, &committed).await?;
                }
            }
            outcome
        }
        Plan::AsWritten(statements) => runner.as_written(statements).await?,
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

impl Failure {
    /// Whether the history may still be written: not after a signal (write nothing more), not
    /// on a closed connection.
    fn recordable(&self) -> bool {
        matches!(self.kind, FailureKind::Statement | FailureKind::LockTimeout)
    }
}

fn with_committed(logs: &str, committed: &[String]) -> String {
    if committed.is_empty() {
        return logs.to_string();
    }
    format!(
        "{logs}\nCommitted before the failure (not undone):\n{}\n",
        committed
            .iter()
            .map(|c| format!("- {c}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

fn interrupted_before(script: Script<'_>, signal: &'static str) -> Failure {
    let message = format!("interrupted by {signal} before it started");
    Failure {
        report: format!("Migration `{}`: {message}", script.migration),
        logs: format!("Migration name: {}\n\n{message}\n", script.migration),
        kind: FailureKind::Interrupted(signal),
        committed: Vec::new(),
        segmented: false,
    }
}

impl Segment<'_> {
    fn describe(&self) -> String {
        match self {
            Segment::Transaction(statements) => match (statements.first(), statements.last()) {
                (Some(first), Some(last)) => {
                    format!("transaction, lines {}-{}", first.start.line, last.end.line)
                }
                _ => "empty transaction".to_string(),
            },
            Segment::Autocommit(statement) => format!(
                "line {}: {}",
                statement.start.line,
                first_line(&statement.text)
            ),
        }
    }
}

struct Runner<'a> {
    client: &'a Client,
    history: &'a History,
    script: Script<'a>,
    safety: &'a Safety,
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
            if let Some(signal) = super::session::interrupted() {
                return Ok(Err(interrupted_before(self.script, signal)));
            }
            let error = match self.try_transaction(statements, record).await? {
                Attempt::Done => return Ok(Ok(())),
                Attempt::Interrupted(signal) => {
                    return Ok(Err(interrupted_before(self.script, signal)))
                }
                Attempt::Failed(error) => error,
            };
            // Leave no half transaction behind; harmless when the server already ended it.
            let _ = self.client.batch_execute("ROLLBACK").await;
            let statement = statements.get(error.statement_index).copied();
            if is_lock_timeout(&error.error)
                && attempt < self.safety.lock_retries
                && super::session::interrupted().is_none()
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
        if let Err(error) = self.client.batch_execute("BEGIN").await {
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
        if let Some(signal) = super::session::interrupted() {
            // The signal came between two queries, where no cancel reaches: roll back here.
            let _ = self.client.batch_execute("ROLLBACK").await;
            return Ok(Attempt::Interrupted(signal));
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

    /// Record which segments of a multi-segment script have committed so far.
    async fn trace_progress(&self, trace: &Trace<'_>, committed: &[String]) -> Result<()> {
        let list = committed
            .iter()
            .map(|c| format!("- {c}"))
            .collect::<Vec<_>>()
            .join("\n");
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
            if let Some(signal) = super::session::interrupted() {
                return Ok(Err(interrupted_before(self.script, signal)));
            }
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
        Err(Failure {
            report: format!(
                "Migration `{}` failed at {}:{}:{}\n  {message}",
                self.script.migration,
                self.script.file,
                statement.start.line,
                statement.start.column
            ),
            logs: format!(
                "Migration name: {}\n\nDatabase error:\n{message}\n",
                self.script.migration
            ),
            kind: FailureKind::Statement,
            committed: Vec::new(),
            segmented: false,
        })
    }

    /// Each statement as written; an open transaction is rolled back after a failure.
    async fn as_written(
        &self,
        statements: &[&Statement],
    ) -> Result<std::result::Result<(), Failure>> {
        for statement in statements {
            let before = self.invalid_indexes(statement).await;
            if let Err(error) = self.client.batch_execute(&statement.text).await {
                let failure = self.failure(Some(statement), &error);
                if !self.client.is_closed() {
                    let _ = self.client.batch_execute("ROLLBACK").await;
                    self.drop_new_invalid_indexes(statement, &before).await;
                }
                return Ok(Err(failure));
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
            return Ok(Err(Failure {
                report: format!(
                    "Migration `{}` failed at {}\n  {message}",
                    self.script.migration, self.script.file
                ),
                logs: format!(
                    "Migration name: {}\n\nDatabase error:\n{message}\n",
                    self.script.migration
                ),
                kind: FailureKind::Statement,
                committed: Vec::new(),
                segmented: false,
            }));
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
        crate::db::say_line(&format!(
            "Lock timeout (55P03){at} in `{}`: rolled back; retry {attempt} of {} in {} ms",
            self.script.migration,
            self.safety.lock_retries,
            wait.as_millis()
        ));
        tokio::time::sleep(wait).await;
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
                Ok(()) => crate::db::say_line(&format!(
                    "Dropped the INVALID index {name} left by the failed CONCURRENTLY build in `{}`",
                    self.script.migration
                )),
                Err(e) => crate::db::say_line(&format!(
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

fn is_lock_timeout(error: &tokio_postgres::Error) -> bool {
    error
        .as_db_error()
        .is_some_and(|db| db.code().code() == LOCK_NOT_AVAILABLE)
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

/// Why the statement stopped: the server's SQLSTATE, the connection's state and our signal flag.
fn failure_kind(error: &tokio_postgres::Error, connection_closed: bool) -> FailureKind {
    let code = error.as_db_error().map(|db| db.code().code());
    if connection_closed || matches!(code, Some("57P01" | "57P02" | "57P03")) || error.is_closed() {
        return FailureKind::ConnectionLost;
    }
    if let Some(signal) = super::session::interrupted() {
        return FailureKind::Interrupted(signal);
    }
    if code == Some(LOCK_NOT_AVAILABLE) {
        FailureKind::LockTimeout
    } else {
        FailureKind::Statement
    }
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

/// Where in the file the error is: the statement's start, moved by the server's error position
/// (a 1-based character offset into the statement text) when it gives one.
/// `shift`: characters sent before the statement in the same query.
pub fn error_position(statement: &Statement, db: &DbError, shift: u32) -> Position {
    match db.position() {
        Some(ErrorPosition::Original(offset)) if *offset > shift => {
            offset_position(statement, *offset - shift)
        }
        _ => statement.start,
    }
}

fn offset_position(statement: &Statement, offset: u32) -> Position {
    let mut position = statement.start;
    for c in statement
        .text
        .chars()
        .take(offset.saturating_sub(1) as usize)
    {
        if c == '\n' {
            position.line += 1;
            position.column = 1;
        } else {
            position.column += 1;
        }
    }
    position
}

fn failure_for(
    script: Script<'_>,
    statement: Option<&Statement>,
    error: &tokio_postgres::Error,
    shift: u32,
    connection_closed: bool,
) -> Failure {
    let kind = failure_kind(error, connection_closed);
    let Some(db) = error.as_db_error() else {
        let location = statement
            .map(|s| format!("{}:{}:{}", script.file, s.start.line, s.start.column))
            .unwrap_or_else(|| script.file.to_string());
        let message = format!("{error}");
        return Failure {
            report: format!(
                "Migration `{}` failed at {location}\n  {message}",
                script.migration
            ),
            logs: format!("Database error:\n{message}\n"),
            kind,
            committed: Vec::new(),
            segmented: false,
        };
    };
    let position = statement.map(|s| error_position(s, db, shift));
    let location = match position {
        Some(p) => format!("{}:{}:{}", script.file, p.line, p.column),
        None => script.file.to_string(),
    };
    let mut report = format!(
        "Migration `{}` failed at {location}\n  SQLSTATE {}: {}",
        script.migration,
        db.code().code(),
        db.message()
    );
    let mut server = format!("ERROR: {}", db.message());
    if let Some(detail) = db.detail() {
        report.push_str(&format!("\n  DETAIL: {detail}"));
        server.push_str(&format!("\nDETAIL: {detail}"));
    }
    if let Some(hint) = db.hint() {
        report.push_str(&format!("\n  HINT: {hint}"));
        server.push_str(&format!("\nHINT: {hint}"));
    }
    if let Some(statement) = statement {
        report.push_str(&format!("\n  statement: {}", first_line(&statement.text)));
    }
    let mut logs = format!(
        "Migration name: {}\n\nDatabase error code: {}\n\nDatabase error:\n{server}\n",
        script.migration,
        db.code().code()
    );
    if let Some(p) = position {
        logs.push_str(&format!(
            "\nPosition:\n{}",
            source_context(script.source, p.line)
        ));
    }
    Failure {
        report,
        logs,
        kind,
        committed: Vec::new(),
        segmented: false,
    }
}

/// The lines around `line`, numbered as Prisma shows them in its logs.
fn source_context(source: &str, line: u32) -> String {
    let first = line.saturating_sub(5).max(1);
    source
        .lines()
        .enumerate()
        .map(|(i, text)| (i as u32 + 1, text))
        .filter(|(n, _)| *n >= first && *n <= line)
        .map(|(n, text)| format!("[{n:>3}] {text}\n"))
        .collect()
}

/// The longest pause between two attempts: the backoff doubles, but a deploy must not sleep for
/// hours because someone asked for many retries.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

fn retry_wait(backoff: Duration, attempt: u32) -> Duration {
    backoff
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(MAX_RETRY_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_waits_double_up_to_a_ceiling() {
        let backoff = Duration::from_millis(500);
        assert_eq!(retry_wait(backoff, 1), Duration::from_millis(500));
        assert_eq!(retry_wait(backoff, 3), Duration::from_secs(2));
        assert_eq!(retry_wait(backoff, 40), MAX_RETRY_WAIT);
    }
    use crate::sql::{Span, TransactionControl, Understanding};

    fn statement(text: &str, line: u32, ops: Vec<Op>) -> Statement {
        Statement {
            text: text.to_string(),
            span: Span::default(),
            start: Position { line, column: 1 },
            end: Position { line, column: 1 },
            ops,
            understanding: Understanding::Parsed,
        }
    }

    fn create_index(concurrently: bool) -> Op {
        Op::CreateIndex {
            name: Some("i".to_string()),
            table: crate::sql::ObjectName::unqualified("t"),
            columns: vec!["a".to_string()],
            unique: false,
            concurrently,
            if_not_exists: false,
        }
    }

    #[test]
    fn consecutive_transactional_statements_share_one_segment() {
        let statements = vec![
            statement("CREATE TABLE t (a int)", 1, vec![]),
            statement("CREATE INDEX i ON t (a)", 2, vec![create_index(false)]),
        ];
        match plan(&statements) {
            Plan::Segmented(segments) => {
                assert_eq!(segments.len(), 1);
                assert!(matches!(&segments[0], Segment::Transaction(s) if s.len() == 2));
            }
            other => panic!("expected segments, got {other:?}"),
        }
    }

    #[test]
    fn concurrently_runs_alone_between_transactions_in_file_order() {
        let statements = vec![
            statement("CREATE TABLE t (a int)", 1, vec![]),
            statement(
                "CREATE INDEX CONCURRENTLY i ON t (a)",
                2,
                vec![create_index(true)],
            ),
            statement("ALTER TABLE t ADD b int", 3, vec![]),
            statement("INSERT INTO t VALUES (1)", 4, vec![]),
        ];
        let Plan::Segmented(segments) = plan(&statements) else {
            panic!("expected segments");
        };
        let shape: Vec<(char, u32)> = segments
            .iter()
            .map(|s| match s {
                Segment::Transaction(st) => ('T', st[0].start.line),
                Segment::Autocommit(st) => ('A', st.start.line),
            })
            .collect();
        assert_eq!(shape, vec![('T', 1), ('A', 2), ('T', 3)]);
    }

    #[test]
    fn a_file_with_its_own_begin_runs_as_written() {
        let statements = vec![
            statement("BEGIN", 1, vec![Op::Transaction(TransactionControl::Begin)]),
            statement("CREATE TABLE t (a int)", 2, vec![]),
            statement(
                "COMMIT",
                3,
                vec![Op::Transaction(TransactionControl::Commit)],
            ),
        ];
        assert!(matches!(plan(&statements), Plan::AsWritten(s) if s.len() == 3));
    }

    #[test]
    fn error_offsets_move_to_the_right_line_and_column() {
        let mut st = statement("ALTER TABLE t\n  ADD COLUMN x nosuchtype", 7, vec![]);
        st.start.column = 3;
        // Offset 1 is the statement's first character.
        assert_eq!(offset_position(&st, 1), Position { line: 7, column: 3 });
        assert_eq!(offset_position(&st, 7), Position { line: 7, column: 9 });
        // "nosuchtype" starts at character 29 (1-based) of the text: line 8, column 16.
        let offset = st.text.find("nosuchtype").unwrap() as u32 + 1;
        assert_eq!(
            offset_position(&st, offset),
            Position {
                line: 8,
                column: 16
            }
        );
    }

    #[test]
    fn context_shows_numbered_lines_up_to_the_error() {
        let source = "a\nb\nc\n";
        assert_eq!(source_context(source, 2), "[  1] a\n[  2] b\n");
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
