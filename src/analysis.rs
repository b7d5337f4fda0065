//! Drives the analysis pipeline: replay the existing history into the schema model, then walk the
//! pending migrations statement by statement through the rules, apply suppressions and config,
//! and produce a [`Report`].

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::config::Config;
use crate::discover::Migration;
use crate::findings::{AllowedFinding, Finding, MigrationReport, Report, Severity, Summary};
use crate::rules::{self, RuleContext, RuleInfo, Violation};
use crate::schema::{Origin, Schema};
use crate::sql::{self, Op, Statement, TransactionControl, Understanding};
use crate::suppress::{self, Suppressions};

pub struct AnalysisInput<'a> {
    /// Already applied (or merged) migrations, in order: they define the existing schema.
    pub existing: &'a [&'a Migration],
    /// The migrations to judge, in order.
    pub pending: &'a [&'a Migration],
    pub config: &'a Config,
    /// Findings raised outside the statement walk (`edited-migration`, `out-of-order-migration`);
    /// severity already set. Suppression does not apply to them.
    pub extra_findings: Vec<Finding>,
}

/// Statements longer than this many lines are shown as an excerpt in findings.
const EXCERPT_LINES: usize = 8;

pub fn analyze(input: AnalysisInput<'_>) -> Report {
    let all: Vec<&Migration> = input
        .existing
        .iter()
        .chain(input.pending.iter())
        .copied()
        .collect();
    let mut understood = understand_all(&all);
    let pending_files = understood.split_off(input.existing.len());

    let mut schema = Schema::new();
    for file in &understood {
        replay(&mut schema, &file.statements, Origin::Existing);
    }

    let mut report = Report::default();
    for (migration, file) in input.pending.iter().zip(&pending_files) {
        check_migration(&mut schema, migration, file, input.config, &mut report);
    }
    report
        .findings
        .extend(configured(input.extra_findings, input.config));

    let order: HashMap<&str, usize> = input
        .pending
        .iter()
        .enumerate()
        .map(|(i, m)| (m.display_path.as_str(), i))
        .collect();
    let rank = |file: &str| order.get(file).copied().unwrap_or(usize::MAX);
    report.findings.sort_by(|a, b| {
        (rank(&a.file), &a.file, a.line, a.column, a.rule).cmp(&(
            rank(&b.file),
            &b.file,
            b.line,
            b.column,
            b.rule,
        ))
    });
    report.allowed.sort_by(|a, b| {
        (rank(&a.file), &a.file, a.line, a.rule).cmp(&(rank(&b.file), &b.file, b.line, b.rule))
    });
    report.summary = summarize(&report, &pending_files);
    report
}

/// One migration file, split and understood, with its suppression comments.
struct UnderstoodFile {
    statements: Vec<Statement>,
    suppressions: Suppressions,
}

/// Splitting and parsing is the expensive part and files are independent: spread them over the
/// machine's cores. The schema replay that follows must stay in order.
fn understand_all(migrations: &[&Migration]) -> Vec<UnderstoodFile> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .max(1);
    if workers == 1 || migrations.len() < 2 {
        return migrations.iter().map(|m| understand(m)).collect();
    }
    let chunk = migrations.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = migrations
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|m| understand(m)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .zip(migrations.chunks(chunk))
            .flat_map(|(handle, part)| {
                // A worker that panicked: redo its files here rather than lose them.
                handle
                    .join()
                    .unwrap_or_else(|_| part.iter().map(|m| understand(m)).collect())
            })
            .collect()
    })
}

fn understand(migration: &Migration) -> UnderstoodFile {
    let source = migration.source.as_str();
    let statements = catch_unwind(|| sql::analyze_source(source)).unwrap_or_default();
    let suppressions = suppress::parse(source, &statements);
    UnderstoodFile {
        statements,
        suppressions,
    }
}

fn replay(schema: &mut Schema, statements: &[Statement], origin: Origin) {
    schema.begin_migration();
    for statement in statements {
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
    };
    let mut in_transaction_block = false;
    for (index, statement) in file.statements.iter().enumerate() {
        if statement.understanding == Understanding::Unparsed {
            emit.raise(
                "unparsed-statement",
                index,
                statement,
                rules::unparsed_statement::violation(statement),
            );
        }
        for op in &statement.ops {
            let ctx = RuleContext {
                schema,
                pg_version: config.pg_version,
                statement,
                later_in_file: &file.statements[index + 1..],
                in_transaction_block,
            };
            for rule in rules::CATALOGUE {
                let Some(check) = rule.check else { continue };
                if config.severity_of(rule).is_none() {
                    continue;
                }
                // A rule that fails on an odd statement must not take the whole run down.
                let verdict = catch_unwind(AssertUnwindSafe(|| check(op, &ctx)))
                    .unwrap_or_else(|_| Some(rules::unparsed_statement::rule_failure(rule.id)));
                if let Some(violation) = verdict {
                    emit.raise(rule.id, index, statement, violation);
                }
            }
            if let Op::Transaction(control) = op {
                in_transaction_block = *control == TransactionControl::Begin;
            }
            schema.apply(op, Origin::Pending);
        }
    }
    for allow in file.suppressions.all().filter(|a| a.reason.is_none()) {
        if let Some(severity) = severity(config, "allow-without-reason") {
            let mut finding = rules::allow_without_reason::finding(
                allow,
                &migration.display_path,
                &migration.name,
            );
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

/// Turns violations into findings, or into allowed findings when a suppression covers them.
struct Emitter<'a> {
    migration: &'a Migration,
    config: &'a Config,
    suppressions: &'a Suppressions,
    report: &'a mut Report,
}

impl Emitter<'_> {
    fn raise(&mut self, rule: &'static str, index: usize, statement: &Statement, v: Violation) {
        let Some(severity) = severity(self.config, rule) else {
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
        self.report.findings.push(Finding {
            rule,
            severity,
            file: self.migration.display_path.clone(),
            line: statement.start.line,
            column: statement.start.column,
            end_line: statement.end.line,
            message: v.message,
            help: v.help,
            statement: excerpt(&statement.text),
            migration: self.migration.name.clone(),
        });
    }
}

fn severity(config: &Config, rule: &str) -> Option<Severity> {
    rules::find(rule).and_then(|info: &RuleInfo| config.severity_of(info))
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

/// The statement as shown in a finding: long ones cut to their first lines.
pub fn excerpt(text: &str) -> String {
    let text = text.trim();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.by_ref().take(EXCERPT_LINES).collect();
    let rest = lines.count();
    let mut shown = head.join("\n");
    if rest > 0 {
        shown.push_str(&format!("\n... ({rest} more lines)"));
    }
    shown
}

fn summarize(report: &Report, pending: &[UnderstoodFile]) -> Summary {
    let statements = pending.iter().flat_map(|f| &f.statements);
    Summary {
        files: pending.len(),
        statements: statements.clone().count(),
        unparsed: statements
            .filter(|s| s.understanding == Understanding::Unparsed)
            .count(),
        errors: report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count(),
        warnings: report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count(),
    }
}
