use async_trait::async_trait;
use sqlx::PgPool;
use wp_bridge_core::sink::SinkState;
use wp_bridge_core::StoreError;

use crate::error::store_error;

/// A [`SinkState`] in the `sink_state` table, shared by every worker.
#[derive(Debug, Clone)]
pub struct PgSinkState {
    pool: PgPool,
}

impl PgSinkState {
    pub(crate) fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl SinkState for PgSinkState {
    async fn get(&self, scope: &str, key: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT value FROM sink_state WHERE scope = $1 AND key = $2")
            .bind(scope)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)
    }

    async fn put(&self, scope: &str, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sink_state (scope, key, value) VALUES ($1, $2, $3)
             ON CONFLICT (scope, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        )
        .bind(scope)
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }
}
