use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Executor, PgPool};
use wp_bridge_core::clock::SharedClock;

use crate::{PgConfig, PgDeadLetterStore, PgError, PgEventLog, PgIdempotencyStore, PgSinkState};

/// A connection pool and the stores built on it.
#[derive(Debug, Clone)]
pub struct PgStores {
    pool: PgPool,
}

fn valid_schema(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

impl PgStores {
    /// Opens a pool. Connections are made lazily and checked before use, so
    /// the gateway starts (and answers 503) while Postgres is down, and
    /// recovers by itself when it returns.
    pub async fn connect(config: &PgConfig) -> Result<Self, PgError> {
        let mut options: PgConnectOptions = config.url.parse().map_err(PgError::Connect)?;
        options = options.options([(
            "statement_timeout",
            format!("{}", config.statement_timeout.as_millis()),
        )]);
        let schema = match &config.schema {
            Some(schema) if !valid_schema(schema) => {
                return Err(PgError::InvalidSchema(schema.clone()))
            }
            other => other.clone(),
        };
        let search_path = schema.clone();
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout)
            .test_before_acquire(true)
            .after_connect(move |conn, _meta| {
                let search_path = search_path.clone();
                Box::pin(async move {
                    if let Some(schema) = search_path {
                        // Validated above: a plain identifier, safe to quote.
                        conn.execute(format!("SET search_path TO \"{schema}\"").as_str())
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_lazy_with(options);
        if let Some(schema) = schema {
            pool.execute(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"").as_str())
                .await
                .map_err(PgError::Connect)?;
        }
        Ok(Self { pool })
    }

    /// Applies the embedded migrations that have not run yet.
    pub async fn migrate(&self) -> Result<(), PgError> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .map_err(PgError::Migrate)
    }

    /// The event log.
    pub fn event_log(&self, clock: SharedClock) -> PgEventLog {
        PgEventLog::new(self.pool.clone(), clock)
    }

    /// The idempotency store.
    pub fn idempotency_store(&self, clock: SharedClock) -> PgIdempotencyStore {
        PgIdempotencyStore::new(self.pool.clone(), clock)
    }

    /// The dead-letter store.
    pub fn dead_letter_store(&self, clock: SharedClock) -> PgDeadLetterStore {
        PgDeadLetterStore::new(self.pool.clone(), clock)
    }

    /// The sinks' small durable state (HubSpot note ids, OpenAI cache).
    pub fn sink_state(&self) -> PgSinkState {
        PgSinkState::new(self.pool.clone())
    }

    /// Whether Postgres answers now (for readiness checks).
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// The pool, for queries of your own.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
