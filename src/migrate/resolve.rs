//! `resolve --applied NAME` (baselining, or a failed migration completed by hand) and
//! `resolve --rolled-back NAME` (a failed migration to fix and re-apply), with Prisma's
//! preconditions, under the advisory lock.

use super::options::{DatabaseOptions, Resolution};
use crate::db::history;
use crate::db::lock;
use crate::db::session::{block_on, Access, Database};
use crate::error::{AppError, Result};
use crate::project::Project;

/// Record `resolution` in the history table, refusing what Prisma refuses; returns what was
/// recorded, for the caller to confirm.
pub fn resolve(
    project: &Project,
    database: &DatabaseOptions,
    resolution: &Resolution,
) -> Result<Resolution> {
    let database = Database::resolve(database, Access::Write("resolve"))?;
    block_on(async {
        let client = database.connect().await?;
        let work = async {
            let rows = database.rows(&client).await?;
            match resolution {
                Resolution::Applied(name) => {
                    let migration = project.set.find(name).ok_or_else(|| {
                        AppError::failed(format!(
                            "the migration `{name}` could not be found in {}: pass the whole \
                             folder name of an existing migration",
                            project.dir.display()
                        ))
                    })?;
                    if rows
                        .iter()
                        .any(|row| row.migration_name == *name && row.is_applied())
                    {
                        return Err(AppError::failed(format!(
                            "the migration `{name}` is already recorded as applied in the database"
                        )));
                    }
                    database.history.ensure(&client).await?;
                    let checksum = history::checksum(&migration.source);
                    database
                        .history
                        .mark_applied(&client, name, &checksum)
                        .await?;
                }
                Resolution::RolledBack(name) => {
                    let mine: Vec<_> = rows.iter().filter(|r| r.migration_name == *name).collect();
                    if mine.is_empty() {
                        return Err(AppError::failed(format!(
                            "the migration `{name}` cannot be rolled back because it was never \
                             applied to the database: check the whole migration name with \
                             `migration-gate status`"
                        )));
                    }
                    if !mine.iter().any(|r| r.is_failed()) {
                        return Err(AppError::failed(format!(
                            "the migration `{name}` cannot be marked rolled back because it is \
                             not in a failed state: to undo an applied migration use \
                             `migration-gate rollback`"
                        )));
                    }
                    database
                        .history
                        .mark_failed_rolled_back(&client, name)
                        .await?;
                }
            }
            Ok(resolution.clone())
        };
        lock::with_lock(&client, database.lock_timeout, work).await
    })
}
