//! Drives the analysis pipeline: replay the existing history into the schema model, then walk the
//! pending migrations statement by statement through the rules, apply suppressions and config,
//! and produce a [`Report`].

use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::findings::{self, AllowedFinding, Finding, MigrationReport, Report, Severity, Summary};
use crate::lint::cache::{self, HistoryCache};
use crate::lint::locks::{self, HeldLock, LockMode, LockTimeoutSetting, Savepoint};
use crate::lint::rules::{self, FileSoFar, RuleContext, RuleInfo, Violation};
use crate::lint::schema::{Origin, Schema};
use crate::lint::sizes;
use crate::lint::suppress::{self, Suppressions};
use crate::project::config::Config;
use crate::project::deployer;
use crate::project::discover::Migration;
use crate::sql::transactions;
use crate::sql::{self, ObjectName, Op, Statement, TransactionControl, Understanding};

pub struct AnalysisInput<'a> {
    /// Already applied (or merged) migrations, in order: they define the existing schema.
    pub existing: &'a [&'a Migration],
    /// The migrations to judge, in order.
    pub pending: &'a [&'a Migration],
    pub config: &'a Config,
    /// Findings raised outside the statement walk (`edited-migration`, `out-of-order-migration`).
    /// The config's severity for their rule applies (`off` drops them); suppression does not.
    pub extra_findings: Vec<Finding>,
}

pub fn analyze(input: AnalysisInput<'_>) -> Report {
    analyze_with_applied_elsewhere(input, &[])
}

/// [`analyze`], where the pending migrations named in `applied_elsewhere` (edited since
/// `--since`'s ref) already ran in production: they are checked like the others, but what they
/// create exists there, so later migrations must not treat it as new (and empty).
pub fn analyze_with_applied_elsewhere(
    input: AnalysisInput<'_>,
    applied_elsewhere: &[String],
) -> Report {
    analyze_cached(input, applied_elsewhere, None)
}

/// [`analyze_with_applied_elsewhere`], with the schema of the history taken from `cache` as far
/// as it holds it (and the cache brought up to date). The report is the same either way.
pub fn analyze_cached(
    input: AnalysisInput<'_>,
    applied_elsewhere: &[String],
    cache: Option<&HistoryCache>,
) -> Report {
    let (mut schema, pending_files) =
        history_schema_and_pending(input.existing, input.pending, cache);

    let mut report = Report::default();
    for (migration, file) in input.pending.iter().zip(&pending_files) {
        if applied_elsewhere.contains(&migration.name) {
            let mut as_if_new = schema.clone();
            check_migration(&mut as_if_new, migration, file, input.config, &mut report);
            replay(&mut schema, &file.statements, Origin::Existing);
        } else {
            check_migration(&mut schema, migration, file, input.config, &mut report);
        }
    }
    report
        .findings
        .extend(configured(input.extra_findings, input.config));

    sort_in_migration_order(&mut report, input.pending);
    report.summary = summarize(&report, &pending_files);
    report
}

/// Findings raised after the analysis (the trace's) joined to `report`: the config's severity
/// for their rule applies (`off` drops them), then the order and the counts are made whole again.
pub fn add_findings(
    report: &mut Report,
    findings: Vec<Finding>,
    config: &Config,
    pending: &[&Migration],
) {
    report.findings.extend(configured(findings, config));
    sort_in_migration_order(report, pending);
    report.recount();
}

/// `deploy` and `rollback` send nothing of a set in which one file has an unterminated token or
/// a NUL byte: PostgreSQL would reject the file, or worse, run only the part before the token.
pub fn refuse_malformed<'a>(
    files: impl IntoIterator<Item = &'a Migration>,
) -> Result<(), crate::error::AppError> {
    for file in files {
        if let Some(error) = sql::lexical_error(&file.source) {
            return Err(crate::error::AppError::failed(format!(
                "{}; nothing was applied",
                error.describe(&file.display_path)
            )));
        }
    }
    Ok(())
}

/// Findings by migration (apply order), then position, then rule id; allowed ones likewise.
fn sort_in_migration_order(report: &mut Report, pending: &[&Migration]) {
    let order: HashMap<&str, usize> = pending
        .iter()
        .enumerate()
        .map(|(i, m)| (m.display_path.as_str(), i))
        .collect();
    let rank = |file: &str| order.get(file).copied().unwrap_or(usize::MAX);
    report
        .findings
        .sort_by_cached_key(|f| (rank(&f.file), f.file.clone(), f.line, f.column, f.rule));
    report
        .allowed
        .sort_by_cached_key(|f| (rank(&f.file), f.file.clone(), f.line, f.rule));
}

/// The schema the history leaves, and the pending files understood: the history's files (those
/// the cache does not hold) and the pending ones are understood together, in parallel.
fn history_schema_and_pending(
    existing: &[&Migration],
    pending: &[&Migration],
    cache: Option<&HistoryCache>,
) -> (Schema, Vec<UnderstoodFile>) {
    let fingerprints = match cache {
        Some(_) if !existing.is_empty() => Some(cache::fingerprints(existing)),
        _ => None,
    };
    let (mut schema, cached) = cache
        .zip(fingerprints.as_deref())
        .and_then(|(cache, fingerprints)| cache.load(fingerprints))
        .unwrap_or_else(|| (Schema::new(), 0));
    let to_replay = &existing[cached..];
    let all: Vec<&Migration> = to_replay.iter().chain(pending).copied().collect();
    let mut understood = understand_all(&all, to_replay.len());
    let pending_files = understood.split_off(to_replay.len());
    for file in &understood {
        if file.lexical_error.is_some() {
            schema.note_unread_statement();
        }
        replay(&mut schema, &file.statements, Origin::Existing);
    }
    if let (Some(cache), Some(fingerprints)) = (cache, &fingerprints) {
        if !to_replay.is_empty() {
            cache.store(fingerprints, &schema);
        }
    }
    (schema, pending_files)
}

/// One migration file, split and understood, with its suppression comments.
struct UnderstoodFile {
    statements: Vec<Statement>,
    /// An unterminated token or NUL byte: reported at its position, never silently cut off.
    lexical_error: Option<sql::LexicalError>,
    suppressions: Suppressions,
}

/// As much stack as a main thread has (a spawned thread gets 2 MiB by default): sqlparser's 50
/// nesting levels need more than 2 MiB in a debug build.
const WORKER_STACK_BYTES: usize = 8 << 20;

/// Splitting and parsing is the expensive part and files are independent: spread them over the
/// machine's cores. The schema replay that follows must stay in order.
/// The first `history` files only feed the schema: their suppressions and lexical errors are
/// never reported, so they are not looked for.
fn understand_all(migrations: &[&Migration], history: usize) -> Vec<UnderstoodFile> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .max(1);
    if migrations.is_empty() {
        return Vec::new();
    }
    // Even one file is understood on a worker: the caller's thread may have a small stack.
    let chunk = migrations.len().div_ceil(workers);
    let understand_nth = |i: usize| understand(migrations[i], i < history);
    std::thread::scope(|scope| {
        let indexes: Vec<std::ops::Range<usize>> = (0..migrations.len())
            .step_by(chunk)
            .map(|start| start..(start + chunk).min(migrations.len()))
            .collect();
        let handles: Vec<_> = indexes
            .iter()
            .map(|part| {
                let part = part.clone();
                std::thread::Builder::new()
                    .stack_size(WORKER_STACK_BYTES)
                    .spawn_scoped(scope, move || {
                        let files = part.map(understand_nth).collect::<Vec<_>>();
                        (files, sql::work::take())
                    })
            })
            .collect();
        handles
            .into_iter()
            .zip(indexes)
            .flat_map(|(handle, part)| {
                // A worker that panicked: redo its files here rather than lose them.
                match handle.ok().and_then(|handle| handle.join().ok()) {
                    Some((files, work)) => {
                        sql::work::read(work as usize);
                        files
                    }
                    None => part.map(understand_nth).collect(),
                }
            })
            .collect()
    })
}

fn understand(migration: &Migration, history_only: bool) -> UnderstoodFile {
    let source = migration.source.as_str();
    if history_only {
        let statements = catch_unwind(|| sql::analyze_history_source(source))
            .unwrap_or_else(|_| vec![whole_file(source)]);
        // The schema must know a history file was cut short by an unterminated token: the
        // objects after it are unknown (DROP INDEX IF EXISTS may then drop a real one).
        return UnderstoodFile {
            statements,
            lexical_error: sql::lexical_error(source),
            suppressions: Suppressions::default(),
        };
    }
    let statements =
        catch_unwind(|| sql::analyze_source(source)).unwrap_or_else(|_| vec![whole_file(source)]);
    let suppressions = suppress::parse(source, &statements);
    UnderstoodFile {
        statements,
        lexical_error: sql::lexical_error(source),
        suppressions,
    }
}

/// The file as one statement nobody understood: when the SQL front end fails on a file, the file
/// is still reported (as `unparsed-statement`), never silently skipped.
fn whole_file(source: &str) -> Statement {
    let last_line = source.lines().count().max(1) as u32;
    Statement {
        text: source.to_string(),
        span: sql::Span {
            start: 0,
            end: source.len(),
        },
        start: sql::Position { line: 1, column: 1 },
        end: sql::Position {
            line: last_line,
            column: 1,
        },
        ops: Vec::new(),
        understanding: Understanding::Unparsed,
    }
}

fn replay(schema: &mut Schema, statements: &[Statement], origin: Origin) {
    schema.begin_migration();
    for statement in statements {
        if statement.understanding == Understanding::Unparsed {
            schema.note_unread_statement();
        }
        for op in &statement.ops {
            schema.apply(op, origin);
        }
    }
}

/// Walks one pending migration through the rules, then folds it into the schema.
fn check_migration(
    schema: &mut Schema,
    migration: &Migration,
    file: &UnderstoodFile,
    config: &Config,
    report: &mut Report,
) {
    schema.begin_migration();
    let mut emit = Emitter {
        migration,
        config,
        suppressions: &file.suppressions,
        report,
        last_excerpt: None,
        table: None,
    };
    if file.lexical_error.is_some() {
        schema.note_unread_statement();
    }
    if let Some(error) = &file.lexical_error {
        if let Some(severity) = config.severity_of(&rules::malformed_sql::RULE) {
            let source = &migration.source;
            let line_start = source[..error.offset].rfind('\n').map_or(0, |i| i + 1);
            let line_text = source[line_start..].lines().next().unwrap_or("");
            let mut finding = rules::malformed_sql::finding(
                error,
                &migration.display_path,
                &migration.name,
                &excerpt(line_text),
            );
            finding.severity = severity;
            emit.report.findings.push(finding);
        }
    }
    let runner = deployer::runner(config.deployer, config.prisma_version, &file.statements);
    let placements = transactions::place(&file.statements, runner);
    let mut held_locks: Vec<HeldLock> = Vec::new();
    let mut transaction_start = 0;
    // The statements of the transactions that committed so far.
    let mut committed: Vec<&Statement> = Vec::new();
    let mut session_lock_timeout = false;
    let mut local_lock_timeout = false;
    let mut first_access_exclusive = None;
    // The transaction's savepoints, each with the locks held when it was set: ROLLBACK TO
    // releases the locks taken after it.
    let mut savepoints: Vec<(String, Vec<HeldLock>)> = Vec::new();
    // Routines whose whole reach does nothing, until a CREATE or ALTER FUNCTION changes it.
    let mut harmless_reach = HashSet::new();
    for (index, statement) in file.statements.iter().enumerate() {
        let placement = placements[index];
        if index > 0 && placements[index - 1].transaction != placement.transaction {
            // The transaction ended: its locks and its SET LOCAL went with it, and its
            // statements stay applied unless it ended in a ROLLBACK.
            let ended = &file.statements[transaction_start..index];
            let rolled_back = ended
                .last()
                .is_some_and(|s| s.transaction_control() == Some(TransactionControl::Rollback));
            if !rolled_back {
                committed.extend(ended);
            }
            held_locks.clear();
            savepoints.clear();
            local_lock_timeout = false;
            transaction_start = index;
        }
        if statement.understanding == Understanding::Unparsed {
            emit.table = None;
            emit.raise(
                rules::unparsed_statement::RULE.id,
                index,
                statement,
                rules::unparsed_statement::violation(statement),
            );
        }
        let so_far = FileSoFar {
            committed_before: &committed,
            lock_timeout_set: session_lock_timeout || local_lock_timeout,
            first_access_exclusive,
        };
        let later_in_transaction =
            transactions::later_in_same_transaction(&file.statements, &placements, index);
        let mut taken = Vec::new();
        for op in &statement.ops {
            let own_locks = locks::locks_of(op, schema, config.pg_version);
            let ctx = RuleContext {
                schema,
                pg_version: config.pg_version,
                statement,
                later_in_file: &file.statements[index + 1..],
                later_in_transaction,
                in_transaction_block: placement.in_block,
                runner,
                held_locks: &held_locks,
                own_locks: &own_locks,
                file: &so_far,
            };
            emit.table = sizes::target(op, schema);
            for (rule, violation) in violations(op, &ctx, config) {
                emit.raise(rule, index, statement, violation);
            }
            // Nothing passes silently: an op no rule judges and not known harmless is named.
            // (A statement not understood at all already raised unparsed-statement.)
            if statement.understanding != Understanding::Unparsed {
                if let Some(violation) = rules::unjudged_statement::violation(op, statement) {
                    emit.raise(
                        rules::unjudged_statement::RULE.id,
                        index,
                        statement,
                        violation,
                    );
                }
            }
            // A routine's body locks nothing when it is created, only when it is called.
            emit.table = None;
            if let Op::CreateRoutine { name, body, .. } = op {
                // Judged where it is written, at the body line of each danger.
                for body_op in body {
                    let mut at_body_line = statement.clone();
                    at_body_line.start = sql::Position {
                        line: statement.start.line + body_op.line,
                        column: if body_op.line == 0 {
                            statement.start.column
                        } else {
                            1
                        },
                    };
                    // The body runs when called, in the caller's transaction, not now.
                    let body_locks = locks::locks_of(&body_op.op, schema, config.pg_version);
                    let ctx = RuleContext {
                        statement: &at_body_line,
                        later_in_file: &[],
                        later_in_transaction: &[],
                        held_locks: &[],
                        own_locks: &body_locks,
                        file: &FileSoFar::default(),
                        ..ctx
                    };
                    for (rule, mut violation) in violations(&body_op.op, &ctx, config) {
                        violation.message = format!(
                            "In the body of {name}, run each time it is called: {}",
                            violation.message
                        );
                        emit.raise(rule, index, &at_body_line, violation);
                    }
                }
            }
            if matches!(op, Op::CreateRoutine { .. } | Op::RenameRoutine { .. }) {
                harmless_reach.clear();
            }
            taken.extend(own_locks);
            schema.apply(op, Origin::Pending);
        }
        if statement.understanding == Understanding::Unparsed {
            schema.note_unread_statement();
        }
        if first_access_exclusive.is_none()
            && !so_far.lock_timeout_set
            && taken.iter().any(|l| l.mode == LockMode::AccessExclusive)
        {
            first_access_exclusive = Some(statement.start.line);
        }
        locks::hold(&mut held_locks, &taken, statement.start.line);
        match locks::savepoint_command(&statement.text) {
            Some(Savepoint::Set(name)) => savepoints.push((name, held_locks.clone())),
            Some(Savepoint::RollbackTo(name)) => {
                if let Some(at) = savepoints.iter().rposition(|(n, _)| *n == name) {
                    savepoints.truncate(at + 1);
                    held_locks = savepoints[at].1.clone();
                }
            }
            Some(Savepoint::Release(name)) => {
                if let Some(at) = savepoints.iter().rposition(|(n, _)| *n == name) {
                    savepoints.truncate(at);
                }
            }
            None => {}
        }
        match locks::sets_lock_timeout(&statement.text) {
            Some(LockTimeoutSetting { local: true, on }) => local_lock_timeout = on,
            // A session SET (or RESET) also replaces a SET LOCAL of this transaction.
            Some(LockTimeoutSetting { local: false, on }) => {
                session_lock_timeout = on;
                local_lock_timeout = on;
            }
            None => {}
        }
        let place = Place {
            runner,
            in_block: placement.in_block,
            held_locks: &held_locks,
            so_far,
        };
        check_routine_calls(
            schema,
            statement,
            (index, &place),
            config,
            &mut harmless_reach,
            &mut emit,
        );
    }
    if let Some(severity) = config.severity_of(&rules::allow_without_reason::RULE) {
        let (file_path, name) = (&migration.display_path, &migration.name);
        for allow in file.suppressions.all() {
            let mut findings = Vec::new();
            if allow.reason.is_none() {
                findings.push(rules::allow_without_reason::finding(allow, file_path, name));
            }
            for rule in allow.rules.iter().filter(|r| rules::find(r).is_none()) {
                findings.push(rules::allow_without_reason::unknown_rule_finding(
                    allow, rule, file_path, name,
                ));
            }
            for mut finding in findings {
                finding.severity = severity;
                emit.report.findings.push(finding);
            }
        }
        for allow in &file.suppressions.detached {
            let mut finding = rules::allow_without_reason::detached_finding(allow, file_path, name);
            finding.severity = severity;
            emit.report.findings.push(finding);
        }
    }
    emit.report.migrations.push(MigrationReport {
        name: migration.name.clone(),
        file: migration.display_path.clone(),
        statements: file.statements.len(),
        sql: migration.source.clone(),
    });
}

/// Every enabled rule's verdict on one op.
fn violations(
    op: &Op,
    ctx: &RuleContext,
    config: &Config,
) -> Vec<(&'static str, rules::Violation)> {
    let mut found = Vec::new();
    for rule in rules::CATALOGUE {
        let Some(check) = rule.check else { continue };
        if config.severity_of(rule).is_none() {
            continue;
        }
        // A rule that fails on an odd statement must not take the whole run down.
        let verdict = catch_unwind(AssertUnwindSafe(|| check(op, ctx)))
            .unwrap_or_else(|_| Some(rules::unparsed_statement::rule_failure(rule.id)));
        if let Some(violation) = verdict {
            found.push((rule.id, violation));
        }
    }
    found
}

/// Statements that run code (not the ones that only define it: CREATE FUNCTION, CREATE
/// TRIGGER, SET DEFAULT); DDL that runs some is in [`evaluates_expressions_now`].
const CALLING_STATEMENTS: &[&str] = &[
    "select", "call", "do", "with", "insert", "update", "delete", "merge", "values", "table", "(",
];

/// DDL that evaluates its expressions while it runs: a new column's default and a USING or
/// CHECK expression for each existing row, the query of CREATE TABLE AS and of a
/// materialized view. (SET DEFAULT, CREATE VIEW and CREATE TRIGGER only store them.)
fn evaluates_expressions_now(op: &Op) -> bool {
    match op {
        Op::CreateTable { from_query, .. } => *from_query,
        Op::AddColumn { .. } | Op::AlterColumnType { .. } | Op::AddConstraint { .. } => true,
        Op::CreateMaterializedView { .. } => true,
        _ => false,
    }
}

/// A statement that calls a user routine does what the routine's body does: its dangers are
/// reported here too (the routine may come from the history), and the schema changes with it.
fn check_routine_calls(
    schema: &mut Schema,
    statement: &Statement,
    (index, place): (usize, &Place),
    config: &Config,
    harmless_reach: &mut HashSet<ObjectName>,
    emit: &mut Emitter<'_>,
) {
    let first_word = statement
        .text
        .split(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    let explain_analyze = first_word.eq_ignore_ascii_case("explain")
        && statement
            .text
            .split(|c: char| !c.is_ascii_alphabetic())
            .any(|w| w.eq_ignore_ascii_case("analyze") || w.eq_ignore_ascii_case("analyse"));
    let runs_code = statement.text.starts_with('(')
        || CALLING_STATEMENTS
            .iter()
            .any(|k| first_word.eq_ignore_ascii_case(k))
        || explain_analyze
        || statement.ops.iter().any(evaluates_expressions_now);
    if !runs_code || !schema.has_routines() {
        return;
    }
    // Each routine reached, directly or through the routines it calls, once: recursion ends.
    let mut reached = HashSet::new();
    let mut to_visit: Vec<(ObjectName, ObjectName)> = sql::called_routines(&statement.text)
        .into_iter()
        .rev()
        .map(|name| (name.clone(), name))
        .collect();
    // Whether a routine reached does more than SELECT, SET, ... (ops no rule or schema change
    // follows): then what was reached is not known harmless.
    let mut reached_a_body = false;
    while let Some((called, name)) = to_visit.pop() {
        let resolved = schema.resolve(&name);
        if harmless_reach.contains(&resolved) {
            continue;
        }
        let Some(body) = schema.routine_body(&name) else {
            continue;
        };
        if !reached.insert(resolved) {
            continue;
        }
        sql::work::read(name.name.len());
        reached_a_body |= body.iter().any(|o| !matches!(o.op, Op::Other { .. }));
        let through = if called == name {
            String::new()
        } else {
            format!(", which leads to {name}")
        };
        for body_op in &body {
            let own_locks = locks::locks_of(&body_op.op, schema, config.pg_version);
            let ctx = RuleContext {
                schema,
                pg_version: config.pg_version,
                statement,
                later_in_file: &[],
                later_in_transaction: &[],
                in_transaction_block: place.in_block,
                runner: place.runner,
                held_locks: place.held_locks,
                own_locks: &own_locks,
                file: &place.so_far,
            };
            emit.table = sizes::target(&body_op.op, schema);
            for (rule, mut violation) in violations(&body_op.op, &ctx, config) {
                violation.message = format!(
                    "This calls {called}{through}, whose body does this: {}",
                    violation.message
                );
                emit.raise(rule, index, statement, violation);
            }
            schema.apply(&body_op.op, Origin::Pending);
            if matches!(
                body_op.op,
                Op::CreateRoutine { .. } | Op::RenameRoutine { .. }
            ) {
                harmless_reach.clear();
            }
        }
        let calls = schema.routine_calls(&name);
        to_visit.extend(calls.into_iter().rev().map(|next| (called.clone(), next)));
    }
    // A chain of thousands of routines, each called, is then followed once, not once per call.
    if !reached_a_body {
        harmless_reach.extend(reached);
    }
}

/// Where a statement runs, for the rules that judge what it calls.
struct Place<'a> {
    runner: transactions::Runner,
    in_block: bool,
    held_locks: &'a [HeldLock],
    so_far: FileSoFar<'a>,
}

/// Turns violations into findings, or into allowed findings when a suppression covers them.
struct Emitter<'a> {
    migration: &'a Migration,
    config: &'a Config,
    suppressions: &'a Suppressions,
    report: &'a mut Report,
    /// The last statement's excerpt: a DO block with 8,000 UPDATEs raises 8,000 findings on one
    /// statement, and cutting its excerpt each time read the whole block each time.
    last_excerpt: Option<(sql::Span, String)>,
    /// The existing table the op being judged works on ([`sizes::target`]), for the findings
    /// raised on it.
    table: Option<findings::TableTarget>,
}

impl Emitter<'_> {
    fn excerpt_of(&mut self, statement: &Statement) -> String {
        match &self.last_excerpt {
            Some((span, shown)) if *span == statement.span => shown.clone(),
            _ => {
                let shown = excerpt(&statement.text);
                self.last_excerpt = Some((statement.span, shown.clone()));
                shown
            }
        }
    }

    fn raise(&mut self, rule: &'static str, index: usize, statement: &Statement, v: Violation) {
        let Some(severity) = severity(self.config, rule, v.severity) else {
            return;
        };
        if let Some(allow) = self.suppressions.covering(index, rule) {
            self.report.allowed.push(AllowedFinding {
                rule,
                file: self.migration.display_path.clone(),
                line: statement.start.line,
                allow_line: allow.line,
                reason: allow.reason.clone().unwrap_or_default(),
                migration: self.migration.name.clone(),
                message: v.message,
            });
            return;
        }
        let shown = self.excerpt_of(statement);
        self.report.findings.push(Finding {
            rule,
            severity,
            file: self.migration.display_path.clone(),
            line: statement.start.line,
            column: statement.start.column,
            end_line: statement.end.line,
            message: v.message,
            help: v.help,
            statement: shown,
            migration: self.migration.name.clone(),
            table: self.table.clone(),
        });
    }
}

/// The config's override for `rule`, else the violation's own severity, else the rule's default.
fn severity(config: &Config, rule: &str, own: Option<Severity>) -> Option<Severity> {
    let info: &RuleInfo = rules::find(rule)?;
    config.severity(info.id, own.unwrap_or(info.default_severity))
}

/// Config overrides apply to the findings raised outside the walk too.
fn configured(findings: Vec<Finding>, config: &Config) -> Vec<Finding> {
    findings
        .into_iter()
        .filter_map(|mut finding| {
            if let Some(info) = rules::find(finding.rule) {
                finding.severity = config.severity_of(info)?;
            }
            Some(finding)
        })
        .collect()
}

/// [`findings::excerpt`], with the bytes it reads counted as the analysis's work.
pub fn excerpt(text: &str) -> String {
    sql::work::read(text.len());
    findings::excerpt(text)
}

fn summarize(report: &Report, pending: &[UnderstoodFile]) -> Summary {
    let statements = pending.iter().flat_map(|f| &f.statements);
    Summary {
        files: pending.len(),
        statements: statements.clone().count(),
        unparsed: statements
            .filter(|s| s.understanding == Understanding::Unparsed)
            .count(),
        errors: report.count(Severity::Error),
        warnings: report.count(Severity::Warning),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::config::RuleSetting;
    use std::path::PathBuf;

    fn migration(name: &str, sql: &str) -> Migration {
        Migration {
            name: name.to_string(),
            path: PathBuf::from(format!("/project/migrations/{name}/migration.sql")),
            display_path: format!("migrations/{name}/migration.sql"),
            source: sql.to_string(),
            down_path: None,
        }
    }

    /// What Prisma generated for the app so far: `User` and `Post`, a `Role` enum.
    const HISTORY: &str = r#"-- CreateEnum
CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN');

-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "role" "Role" NOT NULL DEFAULT 'USER',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Post" (
    "id" SERIAL NOT NULL,
    "title" TEXT NOT NULL,
    "authorId" INTEGER NOT NULL,

    CONSTRAINT "Post_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- AddForeignKey
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
"#;

    fn check_with(config: &Config, pending: &[(&str, &str)]) -> Report {
        let history = migration("20240101000000_init", HISTORY);
        let pending: Vec<Migration> = pending.iter().map(|(n, s)| migration(n, s)).collect();
        let pending_refs: Vec<&Migration> = pending.iter().collect();
        analyze(AnalysisInput {
            existing: &[&history],
            pending: &pending_refs,
            config,
            extra_findings: Vec::new(),
        })
    }

    fn check(pending: &[(&str, &str)]) -> Report {
        check_with(&Config::default(), pending)
    }

    /// `pending` checked with the default config on the schema `history` leaves.
    fn analyze_after(history: &Migration, pending: &Migration) -> Report {
        analyze(AnalysisInput {
            existing: &[history],
            pending: &[pending],
            config: &Config::default(),
            extra_findings: Vec::new(),
        })
    }

    fn rules_of(report: &Report) -> Vec<(&'static str, u32)> {
        report.findings.iter().map(|f| (f.rule, f.line)).collect()
    }

    fn assert_safe(sql: &str) {
        let report = check(&[("20240201000000_change", sql)]);
        assert!(
            report.findings.is_empty(),
            "expected no finding for:\n{sql}\ngot: {:#?}",
            report.findings
        );
    }

    // The issue's "safe examples that must produce no error", one test each.

    #[test]
    fn safe_new_table_with_indexes_and_foreign_keys_to_existing_tables() {
        assert_safe(
            r#"-- CreateEnum
CREATE TYPE "CommentStatus" AS ENUM ('VISIBLE', 'HIDDEN');

-- CreateTable
CREATE TABLE "Comment" (
    "id" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "status" "CommentStatus" NOT NULL DEFAULT 'VISIBLE',
    "postId" INTEGER NOT NULL,
    "authorId" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Comment_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Comment_postId_idx" ON "Comment"("postId");

-- CreateIndex
CREATE UNIQUE INDEX "Comment_postId_authorId_key" ON "Comment"("postId", "authorId");

-- AddForeignKey
ALTER TABLE "Comment" ADD CONSTRAINT "Comment_postId_fkey" FOREIGN KEY ("postId") REFERENCES "Post"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Comment" ADD CONSTRAINT "Comment_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;
"#,
        );
    }

    #[test]
    fn safe_add_column_nullable_or_with_constant_or_current_timestamp_default() {
        assert_safe(
            r#"-- AlterTable
ALTER TABLE "User" ADD COLUMN "bio" TEXT,
ADD COLUMN "active" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN "plan" TEXT NOT NULL DEFAULT 'free';

-- AlterTable
ALTER TABLE "Post" ADD COLUMN "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
"#,
        );
    }

    #[test]
    fn safe_create_index_concurrently() {
        assert_safe(r#"CREATE INDEX CONCURRENTLY "Post_title_idx" ON "Post"("title");"#);
    }

    #[test]
    fn safe_drop_index_concurrently() {
        assert_safe(r#"DROP INDEX CONCURRENTLY IF EXISTS "User_email_key";"#);
    }

    #[test]
    fn safe_not_valid_then_validate_in_a_later_migration() {
        let report = check(&[
            (
                "20240201000000_fk",
                r#"ALTER TABLE "Post" ADD CONSTRAINT "Post_editor_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") NOT VALID;
ALTER TABLE "User" ADD CONSTRAINT "User_name_check" CHECK ("name" IS NOT NULL) NOT VALID;"#,
            ),
            (
                "20240202000000_validate",
                r#"ALTER TABLE "Post" VALIDATE CONSTRAINT "Post_editor_fkey";
ALTER TABLE "User" VALIDATE CONSTRAINT "User_name_check";"#,
            ),
        ]);
        assert!(report.findings.is_empty(), "{:#?}", report.findings);
    }

    #[test]
    fn safe_alter_type_add_value_alone() {
        assert_safe(r#"ALTER TYPE "Role" ADD VALUE 'OWNER';"#);
    }

    #[test]
    fn safe_drop_not_null() {
        assert_safe(r#"ALTER TABLE "User" ALTER COLUMN "email" DROP NOT NULL;"#);
    }

    #[test]
    fn safe_set_and_drop_default() {
        // Dropping the default of the NOT NULL "role" would break the running app's inserts
        // (required-column-without-default); of the nullable "name" it is safe.
        assert_safe(
            r#"ALTER TABLE "User" ALTER COLUMN "name" SET DEFAULT 'anonymous';
ALTER TABLE "User" ALTER COLUMN "name" DROP DEFAULT;"#,
        );
    }

    #[test]
    fn safe_rename_index_and_constraint() {
        assert_safe(
            r#"ALTER INDEX "User_email_key" RENAME TO "User_email_unique";
ALTER TABLE "Post" RENAME CONSTRAINT "Post_authorId_fkey" TO "Post_author_fkey";"#,
        );
    }

    #[test]
    fn safe_drop_view() {
        assert_safe(r#"DROP VIEW IF EXISTS "ActiveUsers";"#);
    }

    #[test]
    fn safe_create_extension() {
        assert_safe(r#"CREATE EXTENSION IF NOT EXISTS "pg_trgm";"#);
    }

    #[test]
    fn safe_comment() {
        assert_safe(r#"COMMENT ON COLUMN "User"."email" IS 'login address';"#);
    }

    #[test]
    fn safe_set_not_null_backed_by_a_validated_check() {
        let report = check(&[
            (
                "20240201000000_check",
                r#"ALTER TABLE "User" ADD CONSTRAINT "User_name_not_null" CHECK ((("name")) is not null) NOT VALID;"#,
            ),
            (
                "20240202000000_enforce",
                r#"ALTER TABLE "User" VALIDATE CONSTRAINT "User_name_not_null";
ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;
ALTER TABLE "User" DROP CONSTRAINT "User_name_not_null";"#,
            ),
        ]);
        assert!(report.findings.is_empty(), "{:#?}", report.findings);
    }

    #[test]
    fn prisma_enum_recreate_leaves_the_enum_existing_with_its_new_values() {
        let recreate = r#"-- AlterEnum
BEGIN;
CREATE TYPE "Role_new" AS ENUM ('USER', 'OWNER');
ALTER TABLE "User" ALTER COLUMN "role" DROP DEFAULT;
ALTER TABLE "User" ALTER COLUMN "role" TYPE "Role_new" USING ("role"::text::"Role_new");
ALTER TYPE "Role" RENAME TO "Role_old";
ALTER TYPE "Role_new" RENAME TO "Role";
DROP TYPE "Role_old";
ALTER TABLE "User" ALTER COLUMN "role" SET DEFAULT 'USER';
COMMIT;
"#;
        let history = migration("20240101000000_init", HISTORY);
        let pending = migration("20240201000000_enum", recreate);
        let files = understand_all(&[&history, &pending], 1);
        let mut schema = Schema::new();
        replay(&mut schema, &files[0].statements, Origin::Existing);
        replay(&mut schema, &files[1].statements, Origin::Pending);
        let role = schema
            .enum_type(&crate::sql::ObjectName::unqualified("Role"))
            .expect("Role");
        assert_eq!(role.values, vec!["USER", "OWNER"]);
        assert!(!role.is_new);
        // Adding a value to the recreated (existing) enum and using it in the next migration
        // fails in production.
        let report = check(&[
            ("20240201000000_enum", recreate),
            (
                "20240202000000_admin",
                "ALTER TYPE \"Role\" ADD VALUE 'ADMIN';\nUPDATE \"User\" SET \"role\" = 'ADMIN' WHERE \"id\" = 1;",
            ),
        ]);
        let mine: Vec<(&str, u32)> = rules_of(&report)
            .into_iter()
            .filter(|(rule, _)| *rule != "alter-column-type")
            .collect();
        assert_eq!(
            mine,
            vec![
                ("enum-value-used-in-transaction", 1),
                ("unbatched-data-change", 2)
            ]
        );
    }

    // Findings, their positions and the pipeline around them.

    #[test]
    fn finding_carries_position_statement_and_advice() {
        let sql = "-- AlterTable\nALTER TABLE \"User\" DROP COLUMN \"name\";\n";
        let report = check(&[("20240201000000_drop", sql)]);
        assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
        let f = &report.findings[0];
        assert_eq!(f.rule, "drop-column");
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.file, "migrations/20240201000000_drop/migration.sql");
        assert_eq!(f.migration, "20240201000000_drop");
        assert_eq!((f.line, f.column, f.end_line), (2, 1, 2));
        assert_eq!(f.statement, "ALTER TABLE \"User\" DROP COLUMN \"name\"");
        assert!(f.help.contains("ALTER TABLE \"User\" DROP COLUMN name;"));
        assert!(report.has_errors());
        assert_eq!(
            report.summary,
            Summary {
                files: 1,
                statements: 1,
                unparsed: 0,
                errors: 1,
                warnings: 0
            }
        );
        assert_eq!(report.migrations.len(), 1);
        assert_eq!(report.migrations[0].statements, 1);
        assert_eq!(report.migrations[0].sql, sql);
    }

    #[test]
    fn objects_created_in_the_pending_set_are_new_in_later_migrations_too() {
        let report = check(&[
            (
                "20240201000000_add",
                "CREATE TABLE \"Tag\" (\"id\" SERIAL NOT NULL, \"label\" TEXT);\n\
                 ALTER TABLE \"User\" ADD COLUMN \"nick\" TEXT;",
            ),
            (
                "20240202000000_drop",
                "ALTER TABLE \"Tag\" DROP COLUMN \"label\";\n\
                 ALTER TABLE \"User\" DROP COLUMN \"nick\";\n\
                 UPDATE \"Tag\" SET \"label\" = 'x';\n\
                 DROP TABLE \"Tag\";",
            ),
        ]);
        assert!(report.findings.is_empty(), "{:#?}", report.findings);
    }

    #[test]
    fn findings_are_sorted_by_migration_order_then_line() {
        let report = check(&[
            (
                "20240301000000_b",
                "TRUNCATE \"Post\";\nALTER TABLE \"User\" RENAME COLUMN \"name\" TO \"fullName\";",
            ),
            ("20240201000000_a", "\n\nDROP TABLE \"Post\";"),
        ]);
        let order: Vec<(&str, &str, u32)> = report
            .findings
            .iter()
            .map(|f| (f.migration.as_str(), f.rule, f.line))
            .collect();
        assert_eq!(
            order,
            vec![
                ("20240301000000_b", "truncate-table", 1),
                ("20240301000000_b", "rename-column", 2),
                ("20240201000000_a", "drop-table", 3),
            ]
        );
    }

    #[test]
    fn several_drops_in_one_statement_are_each_reported() {
        let report = check(&[(
            "20240201000000_drop",
            "ALTER TABLE \"User\" DROP COLUMN \"name\", DROP COLUMN \"email\";",
        )]);
        assert_eq!(
            rules_of(&report),
            vec![("drop-column", 1), ("drop-column", 1)]
        );
    }

    #[test]
    fn concurrently_inside_begin_commit_is_reported() {
        let report = check(&[(
            "20240201000000_idx",
            "BEGIN;\nCREATE INDEX CONCURRENTLY \"Post_title_idx\" ON \"Post\"(\"title\");\nCOMMIT;\n\
             CREATE INDEX CONCURRENTLY \"User_name_idx\" ON \"User\"(\"name\");",
        )]);
        assert_eq!(rules_of(&report), vec![("concurrently-in-transaction", 2)]);
    }

    #[test]
    fn enum_value_used_in_the_same_file_is_reported() {
        let report = check(&[(
            "20240201000000_owner",
            "ALTER TYPE \"Role\" ADD VALUE 'OWNER';\n\
             ALTER TABLE \"User\" ALTER COLUMN \"role\" SET DEFAULT 'OWNER';",
        )]);
        assert_eq!(
            rules_of(&report),
            vec![("enum-value-used-in-transaction", 1)]
        );
        assert!(report.findings[0].message.contains("line 2"));
    }

    #[test]
    fn data_changes_on_existing_tables_warn_and_one_of_every_row_blocks() {
        let report = check(&[(
            "20240201000000_backfill",
            "UPDATE \"User\" SET \"name\" = 'x' WHERE \"name\" IS NULL;\nDELETE FROM \"Post\";",
        )]);
        assert_eq!(
            rules_of(&report),
            vec![("unbatched-data-change", 1), ("unbatched-data-change", 2)]
        );
        // The targeted UPDATE warns; the DELETE without WHERE (every row) is an error.
        assert_eq!(report.summary.warnings, 1);
        assert_eq!(report.summary.errors, 1);
    }

    // Suppressions.

    #[test]
    fn an_allow_with_reason_moves_the_finding_to_the_allowed_list() {
        let report = check(&[(
            "20240201000000_drop",
            "-- migration-gate: allow drop-column reason: name unused since v2.3\n\
             -- AlterTable\n\
             ALTER TABLE \"User\" DROP COLUMN \"name\";",
        )]);
        assert!(report.findings.is_empty(), "{:#?}", report.findings);
        assert_eq!(report.allowed.len(), 1);
        let a = &report.allowed[0];
        assert_eq!(
            (a.rule, a.line, a.allow_line, a.reason.as_str()),
            ("drop-column", 3, 1, "name unused since v2.3")
        );
        assert_eq!(a.file, "migrations/20240201000000_drop/migration.sql");
        assert!(!report.has_errors());
    }

    #[test]
    fn an_allow_without_reason_is_reported_and_the_finding_stays() {
        let report = check(&[(
            "20240201000000_drop",
            "-- migration-gate: allow drop-column\nALTER TABLE \"User\" DROP COLUMN \"name\";",
        )]);
        assert_eq!(
            rules_of(&report),
            vec![("allow-without-reason", 1), ("drop-column", 2)]
        );
        assert!(report.allowed.is_empty());
    }

    #[test]
    fn an_allow_covers_only_its_rules_and_its_statement() {
        let report = check(&[(
            "20240201000000_mixed",
            "-- migration-gate: allow rename-column reason: app uses @map\n\
             ALTER TABLE \"User\" DROP COLUMN \"name\";\n\
             TRUNCATE \"Post\";",
        )]);
        assert_eq!(
            rules_of(&report),
            vec![("drop-column", 2), ("truncate-table", 3)]
        );
    }

    #[test]
    fn an_allow_naming_an_unknown_rule_is_reported_and_the_finding_stays() {
        let report = check(&[(
            "20240201000000_drop",
            "-- migration-gate: allow drop-colum reason: typo\nALTER TABLE \"User\" DROP COLUMN \"name\";",
        )]);
        assert_eq!(
            rules_of(&report),
            vec![("allow-without-reason", 1), ("drop-column", 2)]
        );
        assert!(report.findings[0]
            .message
            .contains("Did you mean `drop-column`?"));
    }

    #[test]
    fn an_allow_separated_from_its_statement_is_reported_and_the_finding_stays() {
        let report = check(&[(
            "20240201000000_drop",
            "-- migration-gate: allow drop-column reason: unused\n\nALTER TABLE \"User\" DROP COLUMN \"name\";",
        )]);
        assert_eq!(
            rules_of(&report),
            vec![("allow-without-reason", 1), ("drop-column", 3)]
        );
        assert!(report.findings[0]
            .message
            .contains("not on the comment lines directly above"));
    }

    #[test]
    fn allow_file_covers_the_whole_file() {
        let report = check(&[(
            "20240201000000_reset",
            "-- migration-gate: allow-file truncate-table,drop-table reason: demo data reset\n\
             TRUNCATE \"Post\";\nDROP TABLE \"Post\";",
        )]);
        assert!(report.findings.is_empty(), "{:#?}", report.findings);
        assert_eq!(report.allowed.len(), 2);
        assert!(report.allowed.iter().all(|a| a.allow_line == 1));
    }

    // Config.

    #[test]
    fn config_overrides_severity_and_turns_rules_off() {
        let mut config = Config::default();
        config
            .rules
            .insert("drop-column".to_string(), RuleSetting::Warning);
        config
            .rules
            .insert("truncate-table".to_string(), RuleSetting::Off);
        config
            .rules
            .insert("edited-migration".to_string(), RuleSetting::Off);
        let history = migration("20240101000000_init", HISTORY);
        let pending = migration(
            "20240201000000_x",
            "ALTER TABLE \"User\" DROP COLUMN \"name\";\nTRUNCATE \"Post\";",
        );
        let edited = crate::lint::rules::edited_migration::finding(&history, "origin/main");
        let report = analyze(AnalysisInput {
            existing: &[&history],
            pending: &[&pending],
            config: &config,
            extra_findings: vec![edited],
        });
        assert_eq!(rules_of(&report), vec![("drop-column", 1)]);
        assert_eq!(report.findings[0].severity, Severity::Warning);
        assert!(!report.has_errors());
    }

    #[test]
    fn objects_of_a_migration_edited_since_the_ref_exist_for_later_migrations() {
        // `check --since`: the init migration was edited after it ran in production, so it is
        // pending again; the tables it creates hold production rows all the same.
        let edited = migration("20240101000000_init", HISTORY);
        let later = migration(
            "20240201000000_x",
            "ALTER TABLE \"User\" DROP COLUMN \"name\";",
        );
        let report = analyze_with_applied_elsewhere(
            AnalysisInput {
                existing: &[],
                pending: &[&edited, &later],
                config: &Config::default(),
                extra_findings: Vec::new(),
            },
            &["20240101000000_init".to_string()],
        );
        // Within the edited migration its own new tables are still new (no create-index noise).
        assert_eq!(rules_of(&report), vec![("drop-column", 1)]);
        assert_eq!(
            report.findings[0].file,
            "migrations/20240201000000_x/migration.sql"
        );
    }

    #[test]
    fn extra_findings_are_kept_and_sorted_in() {
        let history = migration("20240101000000_init", HISTORY);
        let pending = migration("20240201000000_x", "\nDROP TABLE \"Post\";");
        let out_of_order = crate::lint::rules::out_of_order_migration::finding(
            &pending,
            "20240301000000_newer",
            "origin/main",
        );
        let report = analyze(AnalysisInput {
            existing: &[&history],
            pending: &[&pending],
            config: &Config::default(),
            extra_findings: vec![out_of_order],
        });
        assert_eq!(
            rules_of(&report),
            vec![("out-of-order-migration", 1), ("drop-table", 2)]
        );
        assert_eq!(report.summary.errors, 1);
        assert_eq!(report.summary.warnings, 1);
    }

    // Unparsed statements.

    #[test]
    fn an_unparsed_statement_is_a_warning_and_counted() {
        let report = check(&[(
            "20240201000000_odd",
            "CREATE TABLE \"A\" (\"id\" INT);\nFROB THE WIDGETS;",
        )]);
        assert_eq!(rules_of(&report), vec![("unparsed-statement", 2)]);
        assert_eq!(report.findings[0].severity, Severity::Warning);
        assert_eq!(report.summary.unparsed, 1);
        assert_eq!(report.summary.statements, 2);
    }

    #[test]
    fn destructive_tokens_in_an_unparsed_statement_still_go_through_their_rules() {
        let report = check(&[(
            "20240201000000_odd",
            "ALTER TABLE \"User\" FROBNICATE WIDGETS, DROP COLUMN \"name\";",
        )]);
        assert_eq!(
            rules_of(&report),
            vec![("drop-column", 1), ("unparsed-statement", 1)]
        );
    }

    #[test]
    fn a_drop_column_inside_a_do_block_is_reported() {
        let report = check(&[(
            "20240201000000_do",
            "DO $$\nBEGIN\n  ALTER TABLE \"User\" DROP COLUMN \"name\";\nEND\n$$;",
        )]);
        assert!(
            report.findings.iter().any(|f| f.rule == "drop-column"),
            "{:#?}",
            report.findings
        );
    }

    #[test]
    fn an_unparsed_statement_can_be_allowed() {
        let report = check(&[(
            "20240201000000_odd",
            "-- migration-gate: allow unparsed-statement reason: reviewed by DBA\nFROB THE WIDGETS;",
        )]);
        assert!(report.findings.is_empty(), "{:#?}", report.findings);
        assert_eq!(report.allowed[0].rule, "unparsed-statement");
    }

    #[test]
    fn destructive_routine_bodies_are_reported_at_the_body_line_and_at_each_call() {
        let report = check(&[(
            "20240102000000_cleanup",
            "CREATE FUNCTION cleanup() RETURNS void LANGUAGE sql\nAS $$\n  DROP TABLE \"User\"\n$$;\n\
             CREATE PROCEDURE wipe()\nLANGUAGE plpgsql AS $body$\nBEGIN\n  IF true THEN\n    \
             TRUNCATE \"User\";\n  END IF;\nEND $body$;\n\
             CREATE FUNCTION atomic_drop() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  \
             ALTER TABLE \"User\" DROP COLUMN \"email\";\n  SELECT 1;\nEND;\n\
             SELECT cleanup();\nCALL wipe();\nSELECT * FROM public.atomic_drop();\n\
             DO $$ BEGIN PERFORM cleanup(); END $$;\n",
        )]);
        assert_eq!(
            rules_of(&report),
            vec![
                ("drop-table", 3),
                ("truncate-table", 9),
                ("drop-column", 14),
                ("drop-table", 17),
                ("truncate-table", 18),
                ("drop-column", 19),
                ("drop-table", 20),
            ]
        );
        assert!(report.findings[3]
            .message
            .starts_with("This calls cleanup,"));
        assert!(report.findings[0]
            .message
            .starts_with("In the body of cleanup,"));
    }

    #[test]
    fn harmless_routine_bodies_and_their_calls_are_not_findings() {
        let report = check(&[(
            "20240102000000_helpers",
            "CREATE OR REPLACE FUNCTION add_one(n int) RETURNS int LANGUAGE sql AS 'SELECT n + 1';\n\
             CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             NEW.updated := now(); RETURN NEW; END $$;\n\
             CREATE FUNCTION c_side() RETURNS int LANGUAGE c AS 'lib', 'DROP TABLE x';\n\
             SELECT add_one(1);\nSELECT c_side();\n",
        )]);
        assert_eq!(rules_of(&report), vec![]);
    }

    #[test]
    fn a_routine_created_in_the_history_is_judged_where_the_pending_set_calls_it() {
        let history = migration(
            "20240101000000_init",
            &format!(
                "{HISTORY};\nCREATE FUNCTION purge() RETURNS void LANGUAGE plpgsql AS $$ BEGIN \
                 DELETE FROM \"User\"; DROP TABLE \"User\"; END $$;"
            ),
        );
        let pending = migration("20240102000000_call", "-- run it\nSELECT purge();\n");
        let report = analyze_after(&history, &pending);
        assert_eq!(
            rules_of(&report),
            vec![("drop-table", 2), ("unbatched-data-change", 2)]
        );
    }

    #[test]
    fn a_call_reaching_a_destructive_routine_through_other_routines_is_reported() {
        let history = migration(
            "20240101000000_init",
            &format!(
                "{HISTORY};\nCREATE FUNCTION purge() RETURNS void LANGUAGE plpgsql AS $$ BEGIN \
                 DROP TABLE \"User\"; END $$;"
            ),
        );
        // The pending routines only call: their own bodies are harmless, what they call is not.
        // ping and pong call each other (recursion must not loop the analysis).
        let pending = migration(
            "20240102000000_call",
            "CREATE FUNCTION tidy() RETURNS void LANGUAGE sql AS $$ SELECT purge() $$;\n\
             CREATE FUNCTION ping() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM pong(); END $$;\n\
             CREATE FUNCTION pong() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM ping(); \
             PERFORM tidy(); END $$;\n\
             SELECT tidy();\nSELECT ping();\n",
        );
        let report = analyze_after(&history, &pending);
        assert_eq!(
            rules_of(&report),
            vec![("drop-table", 4), ("drop-table", 5)]
        );
        assert!(
            report.findings[1]
                .message
                .starts_with("This calls ping, which leads to purge,"),
            "{}",
            report.findings[1].message
        );
    }

    #[test]
    fn statements_that_run_a_routine_while_migrating_are_judged_by_its_body() {
        let history = migration(
            "20240101000000_init",
            &format!(
                "{HISTORY};\nCREATE FUNCTION purge() RETURNS int LANGUAGE plpgsql AS $$ BEGIN \
                 DROP TABLE \"User\"; RETURN 1; END $$;"
            ),
        );
        // The first four run purge() now; the last four only name it for later or not at all.
        let pending = migration(
            "20240102000000_call",
            "ALTER TABLE \"User\" ADD COLUMN n int DEFAULT purge();\n\
             CREATE TABLE snapshot AS SELECT purge();\n\
             CREATE MATERIALIZED VIEW mv AS SELECT purge();\n\
             EXPLAIN ANALYZE SELECT purge();\n\
             ALTER TABLE \"User\" ALTER COLUMN n SET DEFAULT purge();\n\
             CREATE VIEW v AS SELECT purge();\n\
             COMMENT ON FUNCTION purge() IS 'drops User';\n\
             DROP FUNCTION purge();\n",
        );
        let report = analyze_after(&history, &pending);
        let drops: Vec<u32> = rules_of(&report)
            .into_iter()
            .filter(|(rule, _)| *rule == "drop-table")
            .map(|(_, line)| line)
            .collect();
        assert_eq!(drops, vec![1, 2, 3, 4]);
    }

    #[test]
    fn a_renamed_or_moved_routine_keeps_its_body() {
        let history = migration(
            "20240101000000_init",
            &format!(
                "{HISTORY};\nCREATE FUNCTION purge() RETURNS int LANGUAGE plpgsql AS $$ BEGIN \
                 DROP TABLE \"User\"; RETURN 1; END $$;"
            ),
        );
        let pending = migration(
            "20240102000000_call",
            "ALTER FUNCTION purge() RENAME TO tidy;\nSELECT tidy();\n\
             ALTER FUNCTION public.tidy() SET SCHEMA util;\nSELECT util.tidy();\n",
        );
        let report = analyze_after(&history, &pending);
        assert_eq!(
            rules_of(&report),
            vec![
                ("unjudged-statement", 1),
                ("drop-table", 2),
                ("unjudged-statement", 3),
                ("drop-table", 4)
            ]
        );
    }

    #[test]
    fn a_harmless_overload_does_not_hide_a_destructive_one() {
        let history = migration(
            "20240101000000_init",
            &format!(
                "{HISTORY};\nCREATE FUNCTION purge(n int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN \
                 DROP TABLE \"User\"; RETURN n; END $$;"
            ),
        );
        // purge(1) still runs purge(int); replacing purge(text) leaves it alone.
        let pending = migration(
            "20240102000000_call",
            "CREATE FUNCTION purge(s text) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n\
             CREATE OR REPLACE FUNCTION purge(s text) RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;\n\
             SELECT purge(1);\n",
        );
        let report = analyze_after(&history, &pending);
        assert_eq!(rules_of(&report), vec![("drop-table", 3)]);
    }

    /// Thousands of routines calling each other in a chain, each called once: each call used to
    /// follow the rest of the chain again.
    #[test]
    fn work_on_a_long_chain_of_called_routines_is_linear() {
        let chain = |n: usize| {
            let mut sql =
                format!("CREATE FUNCTION f{n}() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n");
            for i in (0..n).rev() {
                let next = i + 1;
                sql += &format!(
                    "CREATE FUNCTION f{i}() RETURNS int LANGUAGE sql AS $$ SELECT f{next}() $$;\n"
                );
            }
            for i in 0..n {
                sql += &format!("SELECT f{i}();\n");
            }
            sql
        };
        let work_for = |n: usize| {
            sql::work::take();
            let report = check(&[("20240101000000_chain", &chain(n))]);
            assert_eq!(rules_of(&report), vec![]);
            sql::work::take()
        };
        let (small, large) = (work_for(200), work_for(800));
        assert!(
            large < 5 * small,
            "4x the routines took {large} bytes read vs {small}: not linear"
        );
    }

    /// The work for one DO block grows with its size, not with its size squared (it was: a
    /// rule and the excerpt re-read the whole block for each of its thousands of findings).
    #[test]
    fn work_on_a_large_do_block_is_linear() {
        let block = |n: usize| {
            let body: String = (0..n)
                .map(|i| {
                    format!(
                        "IF x = {i} THEN IF y THEN UPDATE t SET a = 1 WHERE id = {i}; END IF; \
                         END IF;\nDELETE FROM t WHERE id = {i};\n"
                    )
                })
                .collect();
            format!("DO $$ BEGIN\n{body}END $$;\n")
        };
        let work_for = |n: usize| {
            sql::work::take();
            let report = check(&[("20240101000000_backfill", &block(n))]);
            assert_eq!(report.findings.len(), 2 * n);
            sql::work::take()
        };
        let (small, large) = (work_for(100), work_for(400));
        assert!(
            large < 5 * small,
            "4x the statements took {large} bytes read vs {small}: not linear"
        );
    }

    #[test]
    fn a_large_history_is_understood_in_order_across_threads() {
        let history: Vec<Migration> = (0..64)
            .map(|i| {
                migration(
                    &format!("2024010100{i:04}_t{i}"),
                    &format!("CREATE TABLE \"T{i}\" (\"id\" INT);"),
                )
            })
            .collect();
        let history_refs: Vec<&Migration> = history.iter().collect();
        let pending = migration(
            "20250101000000_drop",
            "DROP TABLE \"T63\";\nCREATE TABLE \"X\" (\"id\" INT);\nDROP TABLE \"X\";",
        );
        let report = analyze(AnalysisInput {
            existing: &history_refs,
            pending: &[&pending],
            config: &Config::default(),
            extra_findings: Vec::new(),
        });
        assert_eq!(rules_of(&report), vec![("drop-table", 1)]);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Pieces of real migrations, suppression comments and junk, glued at random and cut
        /// anywhere: the analysis must never panic and must point inside the file.
        const FRAGMENTS: &[&str] = &[
            "-- migration-gate: allow drop-table,drop-column reason: planned\n",
            "-- migration-gate: allow drop-column\n",
            "-- migration-gate: allow-file truncate-table reason: reset\n",
            "-- AlterTable\n",
            "BEGIN;\n",
            "COMMIT;\n",
            "ALTER TABLE \"User\" DROP COLUMN \"name\";\n",
            "DROP TABLE \"Post\";\n",
            "TRUNCATE \"Post\";\n",
            "ALTER TYPE \"Role\" ADD VALUE 'OWNER';\n",
            "UPDATE \"User\" SET \"role\" = 'OWNER';\n",
            "CREATE INDEX CONCURRENTLY \"i\" ON \"User\"(\"name\");\n",
            "CREATE TYPE \"Role_new\" AS ENUM ('A');\n",
            "ALTER TYPE \"Role\" RENAME TO \"Role_old\";\n",
            "ALTER TYPE \"Role_new\" RENAME TO \"Role\";\n",
            "DO $$ BEGIN DELETE FROM \"User\"; END $$;\n",
            "CREATE TABLE \"T\" (\"id\" INT, CHECK (\"id\" IS NOT NULL));\n",
            "ALTER TABLE \"T\" RENAME TO \"User\";\n",
            "FROB 'unterminated\n",
            "/* nested /* comment */\n",
            "$tag$ body\n",
            "\"quoted ident;\n",
            ";;\n",
            "\n",
        ];

        fn sql() -> impl Strategy<Value = String> {
            (
                prop::collection::vec(prop::sample::select(FRAGMENTS), 0..12),
                any::<prop::sample::Index>(),
            )
                .prop_map(|(parts, cut)| {
                    let text = parts.concat();
                    let mut at = cut.index(text.len() + 1);
                    while !text.is_char_boundary(at) {
                        at -= 1;
                    }
                    text[..at].to_string()
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]

            #[test]
            fn never_panics_and_points_inside_the_file(a in sql(), b in sql()) {
                let report = check(&[("20240201000000_a", &a), ("20240202000000_b", &b)]);
                for finding in &report.findings {
                    let source = if finding.migration.ends_with("_a") { &a } else { &b };
                    let lines = source.lines().count().max(1) as u32;
                    prop_assert!(finding.line >= 1 && finding.line <= lines, "{finding:?}");
                    prop_assert!(finding.end_line >= finding.line, "{finding:?}");
                }
                for allowed in &report.allowed {
                    prop_assert!(allowed.allow_line < allowed.line, "{allowed:?}");
                }
                prop_assert_eq!(report.summary.files, 2);
            }
        }
    }
}

/// Bounded fuzzing of the whole front end and rule pass on mutated real migrations: no panic,
/// and work (bytes read, see `sql::work`) bounded by the input's size whatever the mutation.
/// The aborts a process cannot catch (stack overflow) are covered through the binary in
/// tests/integration/cli_check.rs.
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::project::discover::Migration;
    use proptest::prelude::*;

    const SEEDS: &[&str] = &[
        include_str!("../../migrations/20240108093012_init/migration.sql"),
        include_str!("../../migrations/20240122141530_add_projects/migration.sql"),
        include_str!("../../migrations/20240205103344_add_tasks/migration.sql"),
        include_str!("../../migrations/20240219161205_add_invitations/migration.sql"),
        include_str!("../../migrations/20240304112850_add_billing/migration.sql"),
        include_str!("../../migrations/20240318095517_add_comments/migration.sql"),
        include_str!("../../migrations/20240402134021_task_due_dates/migration.sql"),
        include_str!("../../migrations/20240416102233_api_keys_and_project_slugs/migration.sql"),
        include_str!("../../migrations/20240416102233_api_keys_and_project_slugs/down.sql"),
        include_str!("../../migrations/20240430150912_task_review_status/migration.sql"),
        include_str!("../../migrations/20240430150912_task_review_status/down.sql"),
        include_str!("../../migrations/20240514093045_drop_legacy_password_hash/migration.sql"),
        include_str!("../../migrations/20240514093045_drop_legacy_password_hash/down.sql"),
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1) THEN ALTER TABLE \"User\" DROP COLUMN \"x\"; END IF; \
         EXECUTE 'DROP TABLE ' || quote_ident(t); END $$;\nCREATE FUNCTION f() RETURNS void \
         LANGUAGE plpgsql AS $body$ BEGIN PERFORM g(); DELETE FROM \"User\"; END $body$;\n\
         SELECT f();\nCREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC TRUNCATE \"User\"; END;\nCALL p();\n",
    ];

    /// What a clumsy or hostile hand does to a migration.
    const INSERTS: &[&str] = &[
        "'",
        "''",
        "E'\\",
        "\"",
        "/*",
        "*/",
        "--",
        "$$",
        "$x$",
        "$1",
        ";",
        "\0",
        "\u{feff}",
        "é",
        "BEGIN ATOMIC ",
        "DO $$ ",
        " END",
        "CREATE FUNCTION f() AS $$",
        "BEGIN;",
        "COMMIT;",
    ];

    #[derive(Debug, Clone)]
    enum Mutation {
        Truncate,
        Insert(&'static str),
        /// `(` or `NOT ` or `+ 1` repeated: deep nesting and long chains.
        Repeat(&'static str, usize),
        /// The text from the cut point doubled many times.
        Duplicate(usize),
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            Just(Mutation::Truncate),
            prop::sample::select(INSERTS).prop_map(Mutation::Insert),
            (
                prop::sample::select(&["(", "NOT ", " + 1", " OR a", " || 'x'", "IF x THEN "][..]),
                1usize..6_000,
            )
                .prop_map(|(piece, n)| Mutation::Repeat(piece, n)),
            (1usize..40).prop_map(Mutation::Duplicate),
        ]
    }

    fn apply(seed: &str, at: prop::sample::Index, mutations: &[Mutation]) -> String {
        let mut text = seed.to_string();
        for mutation in mutations {
            let boundaries: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            let cut = boundaries[at.index(boundaries.len())];
            match mutation {
                Mutation::Truncate => text.truncate(cut),
                Mutation::Insert(piece) => text.insert_str(cut, piece),
                Mutation::Repeat(piece, n) => text.insert_str(cut, &piece.repeat(*n)),
                Mutation::Duplicate(n) => {
                    let tail = text[cut..].chars().take(200).collect::<String>();
                    text.insert_str(cut, &tail.repeat(*n));
                }
            }
        }
        text
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn mutated_migrations_never_panic_and_work_stays_linear(
            seed in prop::sample::select(SEEDS),
            at in any::<prop::sample::Index>(),
            mutations in prop::collection::vec(mutation(), 1..4),
        ) {
            let source = apply(seed, at, &mutations);
            let migration = Migration {
                name: "20240101000000_fuzz".to_string(),
                path: "migrations/20240101000000_fuzz/migration.sql".into(),
                display_path: "migrations/20240101000000_fuzz/migration.sql".to_string(),
                source: source.clone(),
                down_path: None,
            };
            sql::work::take();
            let report = analyze(AnalysisInput {
                existing: &[],
                pending: &[&migration],
                config: &Config::default(),
                extra_findings: Vec::new(),
            });
            let work = sql::work::take();
            for finding in &report.findings {
                prop_assert!(finding.line >= 1 && finding.line as usize <= source.lines().count().max(1) + 1);
            }
            let bound = 400 * source.len() as u64 + 1_000_000;
            prop_assert!(work <= bound, "{work} bytes read for {} bytes of input", source.len());
        }
    }
}
