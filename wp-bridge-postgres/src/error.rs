use thiserror::Error;
use wp_bridge_core::StoreError;

/// Setting up the Postgres backend failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PgError {
    /// The schema name is not a plain identifier.
    #[error("schema name {0:?} is not allowed: use letters, digits and '_' only, not starting with a digit")]
    InvalidSchema(String),
    /// Postgres could not be reached or refused the connection.
    #[error("cannot connect to Postgres: {0}; check DATABASE_URL and that the server is running")]
    Connect(#[source] sqlx::Error),
    /// A migration failed.
    #[error("database migration failed: {0}; the schema was left at the last successful version")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

/// Maps a driver error onto the core's storage error. Driver messages name
/// no credentials; the URL is never part of them.
pub(crate) fn store_error(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::TypeNotFound { .. } => StoreError::Corrupt(err.to_string()),
        other => StoreError::unavailable("postgres", other),
    }
}
