//! Run one migration script against the database: split into segments (consecutive transactional
//! statements → ONE transaction; statements PostgreSQL refuses inside a transaction → alone, in
//! autocommit, in file order), retry lock timeouts, clean up INVALID indexes, and record the
//! outcome in the history table. A file with its own BEGIN/COMMIT runs as written.

use std::time::{Duration, Instant};

use futures_util::Stream;
use tokio_postgres::error::{DbError, ErrorPosition};
use tokio_postgres::Client;

use super::history::{db_error, literal, History};
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

    /// `SET lock_timeout` / `statement_timeout` on the migration session.
    pub async fn apply_to_session(&self, client: &Client) -> Result<()> {
        let mut sql = format!("SET lock_timeout = {}", literal(&self.lock_timeout));
        if let Some(timeout) = &self.statement_timeout {
            sql.push_str(&format!("; SET statement_timeout = {}", literal(timeout)));
        }
        client.batch_execute(&sql).await.map_err(|e| {
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

impl Plan<'_> {
    /// One transaction for the whole file: a failure leaves nothing of it behind.
    pub fn is_single_transaction(&self) -> bool {
        match self {
            Plan::Segmented(segments) => segments
                .iter()
                .all(|segment| matches!(segment, Segment::Transaction(_))),
            Plan::AsWritten(_) => false,
        }
    }
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

/// A failed script: what to show on stderr and what goes into the history row's `logs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `file:line:col`, SQLSTATE, message, detail, hint.
    pub report: String,
    /// Prisma-style logs for `_prisma_migrations.logs`.
    pub logs: String,
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
        let (begin, end) = match record {
            Record::Apply { checksum } => {
                let (id, insert) = history.insert_started_sql(script.migration, checksum);
                let finish = history.finished_sql(&id);
                (format!("BEGIN;\n{insert}"), format!("{finish};\nCOMMIT"))
            }
            Record::RollBack => (
                "BEGIN".to_string(),
                format!("{}; COMMIT", history.rolled_back_sql(script.migration)),
            ),
        };
        let outcome = runner.transaction(statements, &begin, &end).await?;
        return match outcome {
            Ok(()) => Ok(Ok(started.elapsed())),
            Err(failure) => {
                if let Record::Apply { checksum } = record {
                    let row = FailedRow {
                        migration: script.migration,
                        checksum,
                        started,
                    };
                    record_failed_row(client, history, row, &failure).await?;
                }
                Ok(Err(failure))
            }
        };
    }

    // Some statements must commit on their own: the started row goes first, as Prisma does,
    // so a failure (or a killed process) leaves a visible trace.
    let id = match record {
        Record::Apply { checksum } => {
            let (id, insert) = history.insert_started_sql(script.migration, checksum);
            client
                .batch_execute(&insert)
                .await
                .map_err(|e| db_error("cannot write the migration history", &e))?;
            Some(id)
        }
        Record::RollBack => None,
    };
    let outcome = match &plan {
        Plan::Segmented(segments) => {
            let mut outcome = Ok(());
            for (index, segment) in segments.iter().enumerate() {
                let result = match segment {
                    Segment::Transaction(statements) => {
                        runner.transaction(statements, "BEGIN", "COMMIT").await?
                    }
                    Segment::Autocommit(statement) => runner.autocommit(statement).await?,
                };
                if let Err(mut failure) = result {
                    if index > 0 {
                        failure.report.push_str(&format!(
                            "\n  note: the {index} earlier segment(s) of this migration were \
                             committed and are not undone"
                        ));
                    }
                    outcome = Err(failure);
                    break;
                }
            }
            outcome
        }
        Plan::AsWritten(statements) => runner.as_written(statements).await?,
    };
    match (outcome, id) {
        (Ok(()), Some(id)) => {
            client
                .batch_execute(&history.finished_sql(&id))
                .await
                .map_err(|e| db_error("cannot write the migration history", &e))?;
            Ok(Ok(started.elapsed()))
        }
        (Ok(()), None) => {
            client
                .batch_execute(&history.rolled_back_sql(script.migration))
                .await
                .map_err(|e| db_error("cannot write the migration history", &e))?;
            Ok(Ok(started.elapsed()))
        }
        (Err(failure), Some(id)) => {
            history.record_failure(client, &id, &failure.logs).await?;
            Ok(Err(failure))
        }
        (Err(failure), None) => Ok(Err(failure)),
    }
}

/// A migration whose transaction failed, to record after the rollback.
struct FailedRow<'a> {
    migration: &'a str,
    checksum: &'a str,
    started: Instant,
}

/// The failed row Prisma leaves: started, not finished, with the logs. It is written after the
/// rollback, so `started_at` is moved back to when the migration started.
async fn record_failed_row(
    client: &Client,
    history: &History,
    row: FailedRow<'_>,
    failure: &Failure,
) -> Result<()> {
    let (id, insert) = history.insert_started_sql(row.migration, row.checksum);
    let ran_for = row.started.elapsed().as_secs_f64();
    let backdate = format!(
        "UPDATE {} SET started_at = started_at - make_interval(secs => $2) WHERE id = $1",
        history.qualified()
    );
    client
        .batch_execute(&insert)
        .await
        .map_err(|e| db_error("cannot write the migration history", &e))?;
    client
        .execute(&backdate, &[&id, &ran_for])
        .await
        .map_err(|e| db_error("cannot write the migration history", &e))?;
    history.record_failure(client, &id, &failure.logs).await
}

struct Runner<'a> {
    client: &'a Client,
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

/// A transactional segment joined into one query, with where each statement starts.
struct Batch {
    sql: String,
    /// Statements (not counting `begin`) completed before the first of the segment's.
    leading: usize,
    /// Character offset of each statement in `sql`.
    starts: Vec<u32>,
    lengths: Vec<u32>,
}

impl Batch {
    fn new(begin: &str, statements: &[&Statement], end: &str) -> Batch {
        let mut sql = String::from(begin);
        let mut chars = begin.chars().count() as u32;
        let mut starts = Vec::with_capacity(statements.len());
        let mut lengths = Vec::with_capacity(statements.len());
        // A newline before each `;` so a trailing `--` comment cannot swallow it.
        for statement in statements {
            sql.push_str(";\n");
            chars += 2;
            starts.push(chars);
            let length = statement.text.chars().count() as u32;
            lengths.push(length);
            sql.push_str(&statement.text);
            sql.push('\n');
            chars += length + 1;
        }
        sql.push_str(";\n");
        sql.push_str(end);
        // `begin` is BEGIN, possibly followed by the history INSERT, joined by ";\n" (neither
        // holds a newline): each completes one command.
        let leading = begin.matches(";\n").count() + 1;
        Batch {
            sql,
            leading,
            starts,
            lengths,
        }
    }

    /// Which statement failed (`usize::MAX`: `begin` or `end`) and its shift.
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
            None => completed
                .checked_sub(self.leading)
                .filter(|i| *i < self.starts.len()),
        };
        match index {
            Some(i) => (i, self.starts[i]),
            None => (usize::MAX, 0),
        }
    }
}

impl Runner<'_> {
    /// `begin`, the statements, `end` in one transaction; retried on a lock timeout.
    async fn transaction(
        &self,
        statements: &[&Statement],
        begin: &str,
        end: &str,
    ) -> Result<std::result::Result<(), Failure>> {
        let mut attempt = 0;
        loop {
            let error = match self.try_transaction(statements, begin, end).await {
                Ok(()) => return Ok(Ok(())),
                Err(error) => error,
            };
            // Leave no half transaction behind; harmless when the server already ended it.
            let _ = self.client.batch_execute("ROLLBACK").await;
            let statement = statements.get(error.statement_index).copied();
            if is_lock_timeout(&error.error) && attempt < self.safety.lock_retries {
                attempt += 1;
                self.announce_retry(statement, attempt).await;
                continue;
            }
            return Ok(Err(failure_for(
                self.script,
                statement,
                &error.error,
                error.shift,
            )));
        }
    }

    /// The whole segment as ONE simple query (one round trip: `begin`, the statements, `end`).
    /// The failing statement is found from the server's error position, else by counting the
    /// statements that completed before the error.
    async fn try_transaction(
        &self,
        statements: &[&Statement],
        begin: &str,
        end: &str,
    ) -> std::result::Result<(), StatementError> {
        let batch = Batch::new(begin, statements, end);
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
        match outcome {
            Ok(()) => Ok(()),
            Err(error) => {
                let (statement_index, shift) = batch.locate(&error, completed);
                Err(StatementError {
                    statement_index,
                    error,
                    shift,
                })
            }
        }
    }

    /// One statement alone, outside any transaction; retried on a lock timeout after dropping
    /// the INVALID index a failed CONCURRENTLY build leaves behind.
    async fn autocommit(&self, statement: &Statement) -> Result<std::result::Result<(), Failure>> {
        let mut attempt = 0;
        loop {
            let before = self.invalid_indexes(statement).await;
            let error = match self.client.batch_execute(&statement.text).await {
                Ok(()) => return Ok(Ok(())),
                Err(error) => error,
            };
            self.drop_new_invalid_indexes(statement, &before).await;
            if is_lock_timeout(&error) && attempt < self.safety.lock_retries {
                attempt += 1;
                self.announce_retry(Some(statement), attempt).await;
                continue;
            }
            return Ok(Err(self.failure(Some(statement), &error)));
        }
    }

    /// Each statement as written; an open transaction is rolled back after a failure.
    async fn as_written(
        &self,
        statements: &[&Statement],
    ) -> Result<std::result::Result<(), Failure>> {
        for statement in statements {
            let before = self.invalid_indexes(statement).await;
            if let Err(error) = self.client.batch_execute(&statement.text).await {
                let _ = self.client.batch_execute("ROLLBACK").await;
                self.drop_new_invalid_indexes(statement, &before).await;
                return Ok(Err(self.failure(Some(statement), &error)));
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
        println!(
            "Lock timeout (55P03){at} in `{}`: rolled back; retry {attempt} of {} in {} ms",
            self.script.migration,
            self.safety.lock_retries,
            wait.as_millis()
        );
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
                Ok(()) => println!(
                    "Dropped the INVALID index {name} left by the failed CONCURRENTLY build in `{}`",
                    self.script.migration
                ),
                Err(e) => println!(
                    "Could not drop the INVALID index {name} left by the failed build ({}): drop \
                     it by hand with DROP INDEX CONCURRENTLY {name}",
                    e.as_db_error().map(|d| d.message()).unwrap_or("error")
                ),
            }
        }
    }

    fn failure(&self, statement: Option<&Statement>, error: &tokio_postgres::Error) -> Failure {
        failure_for(self.script, statement, error, 0)
    }
}

fn is_lock_timeout(error: &tokio_postgres::Error) -> bool {
    error
        .as_db_error()
        .is_some_and(|db| db.code().code() == LOCK_NOT_AVAILABLE)
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
) -> Failure {
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
    Failure { report, logs }
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
        let batch = Batch::new("BEGIN;\nINSERT INTO h VALUES (1)", &[&a, &b], "COMMIT");
        assert_eq!(batch.leading, 2);
        for (i, st) in [&a, &b].iter().enumerate() {
            let start = batch.starts[i] as usize;
            let text: String = batch.sql.chars().skip(start).take(st.text.len()).collect();
            assert_eq!(text, st.text);
        }
        // The comment does not swallow the separator.
        assert!(batch.sql.contains("comment\n;\nCREATE TABLE b"));
    }
}
