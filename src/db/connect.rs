//! Open the migration connection: TLS per `sslmode`, `search_path` per `?schema=` (created if
//! missing, as Prisma does). (Placeholder until TLS lands: plain TCP.)

use super::url::DatabaseUrl;
use crate::error::{AppError, Result};

pub async fn connect(url: &DatabaseUrl) -> Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url.raw(), tokio_postgres::NoTls)
        .await
        .map_err(|e| AppError::usage(format!("cannot connect to {}: {e}", url.display())))?;
    tokio::spawn(connection);
    Ok(client)
}
