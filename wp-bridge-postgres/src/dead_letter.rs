use async_trait::async_trait;
use sqlx::{PgPool, Row};
use wp_bridge_core::clock::SharedClock;
use wp_bridge_core::dead_letter::{
    AuditEntry, DeadLetter, DeadLetterAction, DeadLetterCursor, DeadLetterFilter, DeadLetterKey,
    DeadLetterStats, DeadLetterStore,
};
use wp_bridge_core::event::{CorrelationId, EventId, EventType, Job, SinkName};
use wp_bridge_core::StoreError;

use crate::convert::{count, status_code, system_time, ts};
use crate::error::store_error;
use crate::event_log::refresh_status;

/// A [`DeadLetterStore`] over the `deliveries` table: a dead letter is a
/// delivery in state `dead`.
#[derive(Debug, Clone)]
pub struct PgDeadLetterStore {
    pool: PgPool,
    clock: SharedClock,
}

impl PgDeadLetterStore {
    pub(crate) fn new(pool: PgPool, clock: SharedClock) -> Self {
        Self { pool, clock }
    }
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// Writes the audit row in the caller's transaction, so an action and its
/// record commit together.
async fn audit(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    now: time::OffsetDateTime,
    action: &str,
    by: &DeadLetterAction,
    keys: &[DeadLetterKey],
    count: u64,
) -> Result<(), StoreError> {
    let keys: Vec<[&str; 2]> = keys
        .iter()
        .map(|k| [k.event_id.as_str(), k.sink.as_str()])
        .collect();
    sqlx::query(
        "INSERT INTO dead_letter_audit (at, action, actor, reason, filter, count, keys)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(now)
    .bind(action)
    .bind(&by.actor)
    .bind(&by.reason)
    .bind(&by.filter)
    .bind(i64::try_from(count).unwrap_or(i64::MAX))
    .bind(serde_json::json!(keys))
    .execute(&mut **tx)
    .await
    .map_err(store_error)?;
    Ok(())
}

fn split(keys: &[DeadLetterKey]) -> (Vec<String>, Vec<String>) {
    keys.iter()
        .map(|k| (k.event_id.as_str().to_owned(), k.sink.as_str().to_owned()))
        .unzip()
}

#[async_trait]
impl DeadLetterStore for PgDeadLetterStore {
    async fn list_dead(
        &self,
        filter: &DeadLetterFilter,
        after: Option<&DeadLetterCursor>,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        // Bytewise order ("C") so the cursor agrees with the index and with
        // the in-memory backend, whatever the database's collation.
        let rows = sqlx::query(
            "SELECT d.event_id, d.sink, e.event_type, e.site, e.correlation_id, e.received_at,
                    d.attempts, d.last_error, d.last_status_code, d.last_failure_at
               FROM deliveries d JOIN events e ON e.event_id = d.event_id
              WHERE d.state = 'dead'
                AND ($1::text IS NULL OR e.event_type = $1)
                AND ($2::text IS NULL OR d.sink = $2)
                AND ($3::int IS NULL OR d.last_status_code = $3)
                AND ($4::text IS NULL OR e.site = $4)
                AND ($5::timestamptz IS NULL OR d.last_failure_at >= $5)
                AND ($6::timestamptz IS NULL OR d.last_failure_at < $6)
                AND ($7::text IS NULL OR strpos(lower(d.last_error), lower($7)) > 0)
                AND ($8::timestamptz IS NULL
                     OR (d.last_failure_at, d.event_id COLLATE \"C\", d.sink COLLATE \"C\") > ($8, $9, $10))
              ORDER BY d.last_failure_at, d.event_id COLLATE \"C\", d.sink COLLATE \"C\"
              LIMIT $11",
        )
        .bind(filter.event_type.map(EventType::as_str))
        .bind(filter.sink.as_ref().map(SinkName::as_str))
        .bind(filter.status_code.map(i32::from))
        .bind(filter.site.as_deref())
        .bind(filter.since.map(ts))
        .bind(filter.until.map(ts))
        .bind(filter.text.as_deref())
        .bind(after.map(|c| ts(c.dead_at)))
        .bind(after.map(|c| c.event_id.as_str()))
        .bind(after.map(|c| c.sink.as_str()))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter()
            .map(|row| {
                let event_type: String = row.try_get("event_type").map_err(store_error)?;
                Ok(DeadLetter {
                    event_id: EventId::new(
                        row.try_get::<String, _>("event_id").map_err(store_error)?,
                    )
                    .map_err(corrupt)?,
                    sink: SinkName::new(row.try_get::<String, _>("sink").map_err(store_error)?),
                    event_type: event_type
                        .parse()
                        .map_err(|()| corrupt(format!("unknown event type {event_type:?}")))?,
                    site: row.try_get("site").map_err(store_error)?,
                    correlation_id: CorrelationId::new(
                        row.try_get::<String, _>("correlation_id")
                            .map_err(store_error)?,
                    )
                    .map_err(corrupt)?,
                    received_at: system_time(row.try_get("received_at").map_err(store_error)?),
                    attempts: count(row.try_get("attempts").map_err(store_error)?),
                    last_error: row.try_get("last_error").map_err(store_error)?,
                    last_status_code: status_code(
                        row.try_get("last_status_code").map_err(store_error)?,
                    ),
                    dead_at: row
                        .try_get::<Option<time::OffsetDateTime>, _>("last_failure_at")
                        .map_err(store_error)?
                        .map_or(std::time::SystemTime::UNIX_EPOCH, system_time),
                })
            })
            .collect()
    }

    async fn replay(
        &self,
        keys: &[DeadLetterKey],
        action: &DeadLetterAction,
    ) -> Result<Vec<Job>, StoreError> {
        let (ids, sinks) = split(keys);
        let now = ts(self.clock.now());
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        // `state = 'dead'` is re-checked under the row lock, so of two
        // concurrent replays only one revives the delivery.
        let rows = sqlx::query(
            "WITH revived AS (
                UPDATE deliveries d
                   SET state = 'pending', attempts = 0, next_attempt_at = $3, lease_until = NULL
                  FROM UNNEST($1::text[], $2::text[]) AS k(event_id, sink)
                 WHERE d.event_id = k.event_id AND d.sink = k.sink AND d.state = 'dead'
                RETURNING d.event_id, d.sink)
             SELECT r.event_id, r.sink, e.correlation_id
               FROM revived r JOIN events e ON e.event_id = r.event_id
              ORDER BY r.event_id, r.sink",
        )
        .bind(&ids)
        .bind(&sinks)
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
        let mut jobs: Vec<Job> = Vec::new();
        for row in &rows {
            let id = EventId::new(row.try_get::<String, _>("event_id").map_err(store_error)?)
                .map_err(corrupt)?;
            let sink = SinkName::new(row.try_get::<String, _>("sink").map_err(store_error)?);
            match jobs.iter_mut().find(|j| j.event_id == id) {
                Some(job) => job.sinks.push(sink),
                None => jobs.push(Job {
                    event_id: id,
                    correlation_id: CorrelationId::new(
                        row.try_get::<String, _>("correlation_id")
                            .map_err(store_error)?,
                    )
                    .map_err(corrupt)?,
                    sinks: vec![sink],
                }),
            }
        }
        let touched: Vec<String> = jobs
            .iter()
            .map(|j| j.event_id.as_str().to_owned())
            .collect();
        refresh_status(&mut tx, &touched).await?;
        audit(&mut tx, now, "replay", action, keys, rows.len() as u64).await?;
        tx.commit().await.map_err(store_error)?;
        Ok(jobs)
    }

    async fn discard(
        &self,
        keys: &[DeadLetterKey],
        action: &DeadLetterAction,
    ) -> Result<u64, StoreError> {
        let (ids, sinks) = split(keys);
        let now = ts(self.clock.now());
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        let discarded: Vec<String> = sqlx::query_scalar(
            "UPDATE deliveries d
                SET state = 'discarded',
                    last_error = 'discarded: ' || $3 || ' (last error: ' || coalesce(d.last_error, 'none') || ')',
                    last_failure_at = $4
               FROM UNNEST($1::text[], $2::text[]) AS k(event_id, sink)
              WHERE d.event_id = k.event_id AND d.sink = k.sink AND d.state = 'dead'
             RETURNING d.event_id",
        )
        .bind(&ids)
        .bind(&sinks)
        .bind(&action.reason)
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
        refresh_status(&mut tx, &discarded).await?;
        audit(
            &mut tx,
            now,
            "discard",
            action,
            keys,
            discarded.len() as u64,
        )
        .await?;
        tx.commit().await.map_err(store_error)?;
        Ok(discarded.len() as u64)
    }

    async fn stats(&self) -> Result<DeadLetterStats, StoreError> {
        let rows = sqlx::query(
            "SELECT sink, coalesce(last_status_code::text, 'none') AS class, count(*) AS n,
                    min(last_failure_at) AS oldest
               FROM deliveries WHERE state = 'dead' GROUP BY sink, class",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let mut stats = DeadLetterStats::default();
        for row in &rows {
            let n = u64::try_from(row.try_get::<i64, _>("n").map_err(store_error)?).unwrap_or(0);
            stats.total += n;
            *stats
                .by_sink
                .entry(row.try_get("sink").map_err(store_error)?)
                .or_default() += n;
            *stats
                .by_status
                .entry(row.try_get("class").map_err(store_error)?)
                .or_default() += n;
            let oldest = row
                .try_get::<Option<time::OffsetDateTime>, _>("oldest")
                .map_err(store_error)?
                .map(system_time);
            stats.oldest_dead_at = match (stats.oldest_dead_at, oldest) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        Ok(stats)
    }

    async fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, action, actor, reason, filter, count FROM dead_letter_audit
              ORDER BY id DESC LIMIT $1",
        )
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    at: system_time(row.try_get("at").map_err(store_error)?),
                    action: row.try_get("action").map_err(store_error)?,
                    by: DeadLetterAction {
                        actor: row.try_get("actor").map_err(store_error)?,
                        reason: row.try_get("reason").map_err(store_error)?,
                        filter: row.try_get("filter").map_err(store_error)?,
                    },
                    count: u64::try_from(row.try_get::<i64, _>("count").map_err(store_error)?)
                        .unwrap_or(0),
                })
            })
            .collect()
    }
}
