use std::time::Duration;

use async_trait::async_trait;
use sqlx::{PgPool, Row};
use wp_bridge_core::clock::SharedClock;
use wp_bridge_core::event::{CorrelationId, EventId};
use wp_bridge_core::idempotency::{Claim, IdempotencyStore};
use wp_bridge_core::response::Receipt;
use wp_bridge_core::StoreError;

use crate::convert::{add, ts};
use crate::error::store_error;

/// An [`IdempotencyStore`] in the `idempotency_keys` table.
///
/// [`PgEventLog::record`](crate::PgEventLog) completes the claim in the same
/// transaction that records the event, so a gateway that dies right after
/// recording leaves the id completed, never stuck in progress.
#[derive(Debug, Clone)]
pub struct PgIdempotencyStore {
    pool: PgPool,
    clock: SharedClock,
}

impl PgIdempotencyStore {
    pub(crate) fn new(pool: PgPool, clock: SharedClock) -> Self {
        Self { pool, clock }
    }
}

#[async_trait]
impl IdempotencyStore for PgIdempotencyStore {
    async fn claim(&self, id: &EventId, lease: Duration) -> Result<Claim, StoreError> {
        let now = self.clock.now();
        // One statement: a new id or an expired claim is won; anything else
        // is left as it is and read back.
        let won = sqlx::query(
            "INSERT INTO idempotency_keys (event_id, state, lease_until) VALUES ($1, 'claimed', $2)
             ON CONFLICT (event_id) DO UPDATE SET lease_until = EXCLUDED.lease_until
               WHERE idempotency_keys.state = 'claimed' AND idempotency_keys.lease_until <= $3
             RETURNING event_id",
        )
        .bind(id.as_str())
        .bind(add(now, lease))
        .bind(ts(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        if won.is_some() {
            return Ok(Claim::Won);
        }
        let row =
            sqlx::query("SELECT state, correlation_id FROM idempotency_keys WHERE event_id = $1")
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
        let Some(row) = row else {
            // Released between the two statements: the caller looks again.
            return Ok(Claim::InProgress);
        };
        let state: String = row.try_get("state").map_err(store_error)?;
        let correlation_id: Option<String> = row.try_get("correlation_id").map_err(store_error)?;
        match (state.as_str(), correlation_id) {
            ("completed", Some(correlation_id)) => Ok(Claim::Completed(Receipt {
                event_id: id.clone(),
                correlation_id: CorrelationId::new(correlation_id)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            })),
            _ => Ok(Claim::InProgress),
        }
    }

    async fn complete(&self, id: &EventId, receipt: &Receipt) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO idempotency_keys (event_id, state, correlation_id) VALUES ($1, 'completed', $2)
             ON CONFLICT (event_id) DO UPDATE
               SET state = 'completed', correlation_id = EXCLUDED.correlation_id, lease_until = NULL",
        )
        .bind(id.as_str())
        .bind(receipt.correlation_id.as_str())
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn release(&self, id: &EventId) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM idempotency_keys WHERE event_id = $1 AND state = 'claimed'")
            .bind(id.as_str())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }
}
