//! `status`: every migration's state, local folder against `_prisma_migrations`, with timestamps.
//! Exit codes: 0 up to date, 4 pending, 5 failed / edited / missing locally.

use serde::Serialize;

use super::options::DatabaseOptions;
use crate::db::history::{self, HistoryRow};
use crate::db::session::{block_on, Access, Database};
use crate::error::{exit, Result};
use crate::project::Project;

/// Where a migration stands: the local folder against the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Applied, and the local file is unchanged.
    Applied,
    /// Not applied yet.
    Pending,
    /// Started, never finished, not resolved.
    Failed,
    /// Applied, but the local file's checksum differs.
    Edited,
    /// In the database, not in the migrations folder.
    MissingLocally,
    /// Rolled back (by `rollback` or `resolve --rolled-back`): pending again.
    RolledBack,
    /// Applied, and a `rollback` committed part of its `down.sql` before it stopped.
    RollbackIncomplete,
}

impl State {
    /// The state as the human table shows it.
    pub fn label(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Failed => "failed",
            State::Edited => "edited",
            State::MissingLocally => "missing locally",
            State::RolledBack => "rolled back",
            State::RollbackIncomplete => "half rolled back",
        }
    }
}

/// One migration's line of `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationStatus {
    /// The migration's folder name.
    pub name: String,
    /// What state it is in.
    pub state: State,
    /// When its (latest relevant) history row was started.
    pub started_at: Option<String>,
    /// When it finished applying.
    pub finished_at: Option<String>,
    /// When it was rolled back.
    pub rolled_back_at: Option<String>,
    /// The failure recorded for a failed migration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs: Option<String>,
    /// Segments of a failed migration (or of an incomplete rollback) that stayed committed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub committed: Vec<String>,
    /// The statement outside a transaction that was running when the process stopped: the
    /// server may have completed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running: Option<String>,
}

/// What `status` found; serialized as-is for `--format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusReport {
    /// Prisma's datasource line (not part of the JSON).
    #[serde(skip)]
    pub datasource: String,
    /// The migrations folder, as given.
    pub migrations_dir: String,
    /// Nothing pending, nothing drifted.
    pub up_to_date: bool,
    /// 0 up to date, 4 pending, 5 failed / edited / missing locally / INVALID indexes.
    pub exit_code: u8,
    /// Every migration, local ones first, then those only the database knows.
    pub migrations: Vec<MigrationStatus>,
    /// Tables but no history: `deploy` refuses it until it is baselined.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_managed: bool,
    /// INVALID indexes (a killed or failed `CREATE INDEX CONCURRENTLY`), schema-qualified.
    pub invalid_indexes: Vec<String>,
}

/// The state of each local migration, then the rows no local migration matches.
pub fn classify(local: &[(String, String)], rows: &[HistoryRow]) -> Vec<MigrationStatus> {
    let mut result = Vec::new();
    for (name, source) in local {
        let mine: Vec<&HistoryRow> = rows.iter().filter(|r| &r.migration_name == name).collect();
        let applied = mine.iter().rev().find(|r| r.is_applied());
        let failed = mine.iter().rev().find(|r| r.is_failed());
        let (state, row) = if let Some(row) = applied {
            if row.is_rollback_incomplete() {
                (State::RollbackIncomplete, Some(*row))
            } else if history::checksum_matches(source, &row.checksum) {
                (State::Applied, Some(*row))
            } else {
                (State::Edited, Some(*row))
            }
        } else if let Some(row) = failed {
            (State::Failed, Some(*row))
        } else if let Some(row) = mine.last() {
            (State::RolledBack, Some(*row))
        } else {
            (State::Pending, None)
        };
        result.push(status_of(name, state, row));
    }
    let mut missing: Vec<&str> = Vec::new();
    for row in rows {
        let known = local.iter().any(|(name, _)| *name == row.migration_name);
        if !known
            && (row.is_applied() || row.is_failed())
            && !missing.contains(&&*row.migration_name)
        {
            missing.push(&row.migration_name);
            result.push(status_of(
                &row.migration_name,
                State::MissingLocally,
                Some(row),
            ));
        }
    }
    result
}

fn status_of(name: &str, state: State, row: Option<&HistoryRow>) -> MigrationStatus {
    MigrationStatus {
        name: name.to_string(),
        state,
        started_at: row.map(|r| r.started_at.clone()),
        finished_at: row.and_then(|r| r.finished_at.clone()),
        rolled_back_at: row.and_then(|r| r.rolled_back_at.clone()),
        logs: row
            .filter(|_| matches!(state, State::Failed | State::RollbackIncomplete))
            .and_then(|r| r.logs.clone()),
        committed: row
            .filter(|_| matches!(state, State::Failed | State::RollbackIncomplete))
            .and_then(|r| r.logs.as_deref())
            .map(committed_segments)
            .unwrap_or_default(),
        running: row
            .filter(|_| matches!(state, State::Failed | State::RollbackIncomplete))
            .and_then(|r| r.logs.as_deref())
            .and_then(|logs| {
                logs.lines().find_map(|line| {
                    line.strip_prefix(history::RUNNING_WHEN_STOPPED)
                        .and_then(|rest| rest.strip_prefix(": "))
                        .map(str::to_string)
                })
            }),
    }
}

/// The committed segments our logs list (`- segment 1 of 3: ...` lines after the header).
fn committed_segments(logs: &str) -> Vec<String> {
    let Some(start) = logs
        .find("committed so far")
        .or_else(|| logs.find("Committed before"))
    else {
        return Vec::new();
    };
    logs[start..]
        .lines()
        .skip(1)
        .take_while(|line| line.starts_with("- "))
        .map(|line| line[2..].to_string())
        .collect()
}

/// INVALID indexes anywhere in the database: what a killed `CONCURRENTLY` build leaves. Not
/// those being built right now (INVALID until the build ends) nor those of extensions' tables.
async fn invalid_indexes(client: &tokio_postgres::Client) -> Result<Vec<String>> {
    let rows = client
        .query(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_index i \
             JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE NOT i.indisvalid \
             AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_progress_create_index p \
                 WHERE p.index_relid = i.indexrelid) \
             AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d \
                 WHERE d.classid = 'pg_catalog.pg_class'::regclass \
                   AND d.objid IN (i.indexrelid, i.indrelid) AND d.deptype = 'e') \
             ORDER BY 1",
            &[],
        )
        .await
        .map_err(|e| crate::db::history::db_error("cannot list INVALID indexes", &e))?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// The exit code the states call for: drift before pending.
pub fn exit_code(migrations: &[MigrationStatus]) -> u8 {
    let drift = migrations.iter().any(|m| {
        matches!(
            m.state,
            State::Failed | State::Edited | State::MissingLocally | State::RollbackIncomplete
        )
    });
    let pending = migrations
        .iter()
        .any(|m| matches!(m.state, State::Pending | State::RolledBack));
    if drift {
        exit::DRIFT
    } else if pending {
        exit::PENDING
    } else {
        exit::OK
    }
}

/// Every migration's state: the local folder against the database's history.
pub fn status(project: &Project, database: &DatabaseOptions) -> Result<StatusReport> {
    let database = Database::resolve(database, Access::Read)?;
    let (rows, not_managed, invalid_indexes) = block_on(async {
        let client = database.connect().await?;
        let rows = database.rows(&client).await?;
        let not_managed = rows.is_empty()
            && !database.history.exists(&client).await?
            && database.history.user_objects(&client).await?.1 > 0;
        Ok((rows, not_managed, invalid_indexes(&client).await?))
    })?;
    let local: Vec<(String, String)> = project
        .set
        .migrations
        .iter()
        .map(|m| (m.name.clone(), m.source.clone()))
        .collect();
    let migrations = classify(&local, &rows);
    let code = match exit_code(&migrations) {
        exit::OK if !invalid_indexes.is_empty() => exit::DRIFT,
        code => code,
    };
    Ok(StatusReport {
        datasource: database.datasource_line(),
        migrations_dir: project.dir.display().to_string(),
        up_to_date: code == exit::OK,
        exit_code: code,
        migrations,
        not_managed,
        invalid_indexes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, source: &str, finished: bool, rolled_back: bool) -> HistoryRow {
        HistoryRow {
            id: name.to_string(),
            checksum: history::checksum(source),
            migration_name: name.to_string(),
            started_at: "2026-01-01T00:00:00.000000Z".to_string(),
            finished_at: finished.then(|| "2026-01-01T00:00:01.000000Z".to_string()),
            rolled_back_at: rolled_back.then(|| "2026-01-01T00:00:02.000000Z".to_string()),
            logs: None,
            applied_steps_count: i32::from(finished),
        }
    }

    fn local(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect()
    }

    #[test]
    fn every_state_is_told_apart() {
        let local = local(&[
            ("1_applied", "a"),
            ("2_edited", "b-now"),
            ("3_failed", "c"),
            ("4_rolled_back", "d"),
            ("5_pending", "e"),
        ]);
        let rows = vec![
            row("1_applied", "a", true, false),
            row("2_edited", "b-then", true, false),
            row("3_failed", "c", false, false),
            row("4_rolled_back", "d", true, true),
            row("0_gone", "x", true, false),
        ];
        let states: Vec<(String, State)> = classify(&local, &rows)
            .into_iter()
            .map(|m| (m.name, m.state))
            .collect();
        assert_eq!(
            states,
            vec![
                ("1_applied".to_string(), State::Applied),
                ("2_edited".to_string(), State::Edited),
                ("3_failed".to_string(), State::Failed),
                ("4_rolled_back".to_string(), State::RolledBack),
                ("5_pending".to_string(), State::Pending),
                ("0_gone".to_string(), State::MissingLocally),
            ]
        );
    }

    #[test]
    fn a_reapplied_migration_counts_as_applied() {
        let local = local(&[("1", "a")]);
        let rows = vec![row("1", "a", false, true), row("1", "a", true, false)];
        assert_eq!(classify(&local, &rows)[0].state, State::Applied);
    }

    #[test]
    fn exit_codes_put_drift_before_pending() {
        let status = |state| status_of("x", state, None);
        assert_eq!(exit_code(&[status(State::Applied)]), exit::OK);
        assert_eq!(
            exit_code(&[status(State::Applied), status(State::Pending)]),
            exit::PENDING
        );
        assert_eq!(
            exit_code(&[status(State::RolledBack), status(State::Edited)]),
            exit::DRIFT
        );
        assert_eq!(exit_code(&[status(State::Failed)]), exit::DRIFT);
        assert_eq!(exit_code(&[status(State::MissingLocally)]), exit::DRIFT);
    }
}
