use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, Row, Transaction};
use wp_bridge_core::clock::SharedClock;
use wp_bridge_core::event::{CorrelationId, EventId, Job, SinkName};
use wp_bridge_core::event_log::{
    AttemptOutcome, AttemptRecord, AttemptStart, DeliveryRecord, DeliveryState, EventLog, NewEvent,
    RecordOutcome, StoredEvent, LOST_WORKER,
};
use wp_bridge_core::response::Receipt;
use wp_bridge_core::StoreError;

use crate::convert::{add, count, event, state, status_code, system_time, ts};
use crate::error::store_error;

/// An [`EventLog`] in the `events`, `deliveries` and `delivery_attempts` tables.
#[derive(Debug, Clone)]
pub struct PgEventLog {
    pool: PgPool,
    clock: SharedClock,
}

impl PgEventLog {
    pub(crate) fn new(pool: PgPool, clock: SharedClock) -> Self {
        Self { pool, clock }
    }
}

fn correlation_id(value: String) -> Result<CorrelationId, StoreError> {
    CorrelationId::new(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn event_id(value: String) -> Result<EventId, StoreError> {
    EventId::new(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Recomputes `events.status` from the event's deliveries.
pub(crate) async fn refresh_status(
    tx: &mut Transaction<'_, Postgres>,
    ids: &[String],
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE events e SET status = s.status
         FROM (SELECT event_id,
                      CASE WHEN bool_and(state = 'delivered') THEN 'delivered'
                           WHEN bool_and(state IN ('delivered', 'dead', 'discarded')) THEN 'failed'
                           ELSE 'open' END AS status
               FROM deliveries WHERE event_id = ANY($1) GROUP BY event_id) s
         WHERE e.event_id = s.event_id AND e.status <> s.status",
    )
    .bind(ids)
    .execute(&mut **tx)
    .await
    .map_err(store_error)?;
    Ok(())
}

fn delivery(row: &PgRow) -> Result<DeliveryRecord, StoreError> {
    let get = |e: sqlx::Error| store_error(e);
    Ok(DeliveryRecord {
        sink: SinkName::new(row.try_get::<String, _>("sink").map_err(get)?),
        state: state(&row.try_get::<String, _>("state").map_err(get)?)?,
        attempts: count(row.try_get("attempts").map_err(get)?),
        next_attempt_at: row
            .try_get::<Option<time::OffsetDateTime>, _>("next_attempt_at")
            .map_err(get)?
            .map(system_time),
        last_error: row.try_get("last_error").map_err(get)?,
        last_status_code: status_code(row.try_get("last_status_code").map_err(get)?),
        last_failure_at: row
            .try_get::<Option<time::OffsetDateTime>, _>("last_failure_at")
            .map_err(get)?
            .map(system_time),
        delivered_at: row
            .try_get::<Option<time::OffsetDateTime>, _>("delivered_at")
            .map_err(get)?
            .map(system_time),
        reference: row.try_get("reference").map_err(get)?,
        output: row.try_get("output").map_err(get)?,
    })
}

#[async_trait]
impl EventLog for PgEventLog {
    async fn record(&self, new: NewEvent) -> Result<RecordOutcome, StoreError> {
        let id = new.event.event_id.as_str();
        let mut sinks: Vec<String> = new.sinks.iter().map(|s| s.as_str().to_owned()).collect();
        sinks.sort();
        sinks.dedup();
        let status = if sinks.is_empty() {
            "delivered"
        } else {
            "open"
        };
        // One statement, so one round trip and one implicit transaction: the
        // event, its pending deliveries and the completed idempotency key
        // commit together or not at all. A concurrent insert of the same id
        // waits for the first and then inserts nothing.
        let inserted: i64 = sqlx::query_scalar(
            "WITH ins AS (
                 INSERT INTO events (event_id, event_type, site, payload, raw, correlation_id, received_at, status, traceparent)
                 VALUES ($1, $2, $3, convert_from($4, 'UTF8')::jsonb, $4, $5, $6, $7, $8)
                 ON CONFLICT (event_id) DO NOTHING
                 RETURNING event_id),
             pending AS (
                 INSERT INTO deliveries (event_id, sink, state, next_attempt_at)
                 SELECT ins.event_id, sink, 'pending', $6 FROM ins, UNNEST($9::text[]) AS sink),
             claim AS (
                 INSERT INTO idempotency_keys (event_id, state, correlation_id)
                 SELECT event_id, 'completed', $5 FROM ins
                 ON CONFLICT (event_id) DO UPDATE
                   SET state = 'completed', correlation_id = EXCLUDED.correlation_id, lease_until = NULL)
             SELECT count(*) FROM ins",
        )
        .bind(id)
        .bind(new.event.event_type().as_str())
        .bind(&new.event.site)
        .bind(new.raw.as_ref())
        .bind(new.correlation_id.as_str())
        .bind(ts(new.received_at))
        .bind(status)
        .bind(&new.traceparent)
        .bind(&sinks)
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        if inserted == 1 {
            return Ok(RecordOutcome::Recorded);
        }
        let original: String =
            sqlx::query_scalar("SELECT correlation_id FROM events WHERE event_id = $1")
                .bind(id)
                .fetch_one(&self.pool)
                .await
                .map_err(store_error)?;
        Ok(RecordOutcome::Duplicate(Receipt {
            event_id: new.event.event_id.clone(),
            correlation_id: correlation_id(original)?,
        }))
    }

    fn completes_claims(&self) -> bool {
        true
    }

    async fn load(&self, id: &EventId) -> Result<Option<StoredEvent>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT raw, correlation_id, received_at, traceparent FROM events WHERE event_id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?
        else {
            return Ok(None);
        };
        let raw: Vec<u8> = row.try_get("raw").map_err(store_error)?;
        let deliveries =
            sqlx::query("SELECT * FROM deliveries WHERE event_id = $1 ORDER BY sink COLLATE \"C\"")
                .bind(id.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?
                .iter()
                .map(delivery)
                .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(StoredEvent {
            event: event(&raw, id.as_str())?,
            raw: Bytes::from(raw),
            correlation_id: correlation_id(row.try_get("correlation_id").map_err(store_error)?)?,
            received_at: system_time(row.try_get("received_at").map_err(store_error)?),
            deliveries,
            traceparent: row.try_get("traceparent").map_err(store_error)?,
        }))
    }

    async fn begin_attempt(
        &self,
        id: &EventId,
        sink: &SinkName,
        lease: Duration,
    ) -> Result<AttemptStart, StoreError> {
        let now = self.clock.now();
        // The state check and the move to in_flight are one statement, so two
        // workers holding duplicate jobs cannot both start.
        let started: Option<i32> = sqlx::query_scalar(
            "UPDATE deliveries
                SET state = 'in_flight', attempts = attempts + 1, lease_until = $3, next_attempt_at = NULL
              WHERE event_id = $1 AND sink = $2
                AND (state IN ('pending', 'failed') OR (state = 'in_flight' AND lease_until <= $4))
              RETURNING attempts",
        )
        .bind(id.as_str())
        .bind(sink.as_str())
        .bind(add(now, lease))
        .bind(ts(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        if let Some(attempt) = started {
            return Ok(AttemptStart::Started {
                attempt: count(attempt),
            });
        }
        let current: Option<String> =
            sqlx::query_scalar("SELECT state FROM deliveries WHERE event_id = $1 AND sink = $2")
                .bind(id.as_str())
                .bind(sink.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
        match current.as_deref().map(state).transpose()? {
            Some(DeliveryState::Delivered) => Ok(AttemptStart::AlreadyDelivered),
            Some(DeliveryState::Dead | DeliveryState::Discarded) => Ok(AttemptStart::Dead),
            Some(_) => Ok(AttemptStart::Busy),
            None => {
                let exists: bool =
                    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM events WHERE event_id = $1)")
                        .bind(id.as_str())
                        .fetch_one(&self.pool)
                        .await
                        .map_err(store_error)?;
                Err(if exists {
                    StoreError::UnknownDelivery {
                        event_id: id.clone(),
                        sink: sink.clone(),
                    }
                } else {
                    StoreError::UnknownEvent(id.clone())
                })
            }
        }
    }

    async fn finish_attempt(
        &self,
        id: &EventId,
        sink: &SinkName,
        attempt: u32,
        started_at: SystemTime,
        duration: Duration,
        outcome: AttemptOutcome,
    ) -> Result<(), StoreError> {
        let now = ts(self.clock.now());
        let (kind, reference, output, next, error, status) = match &outcome {
            AttemptOutcome::Delivered { reference, output } => (
                "delivered",
                reference.clone(),
                output.clone(),
                None,
                None,
                None,
            ),
            AttemptOutcome::Retry {
                next_attempt_at,
                error,
                status_code,
            } => (
                "retry",
                None,
                None,
                Some(ts(*next_attempt_at)),
                Some(error.clone()),
                *status_code,
            ),
            AttemptOutcome::Dead { error, status_code } => {
                ("dead", None, None, None, Some(error.clone()), *status_code)
            }
        };
        let status = status.map(i32::from);
        let attempt_no = i32::try_from(attempt).unwrap_or(i32::MAX);
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        // The attempt is kept even when it no longer holds the delivery: it
        // happened, and operators need to see it.
        sqlx::query(
            "INSERT INTO delivery_attempts
               (event_id, sink, attempt, started_at, duration_us, outcome, status_code, error, reference, output, next_attempt_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id.as_str())
        .bind(sink.as_str())
        .bind(attempt_no)
        .bind(ts(started_at))
        .bind(i64::try_from(duration.as_micros()).unwrap_or(i64::MAX))
        .bind(kind)
        .bind(status)
        .bind(&error)
        .bind(&reference)
        .bind(&output)
        .bind(next)
        .execute(&mut *tx)
        .await
        .map_err(|err| match &err {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                StoreError::UnknownEvent(id.clone())
            }
            _ => store_error(err),
        })?;
        let moved = sqlx::query(
            "UPDATE deliveries SET
                state = $4,
                lease_until = NULL,
                next_attempt_at = $5,
                delivered_at = CASE WHEN $4 = 'delivered' THEN $6 ELSE delivered_at END,
                reference = CASE WHEN $4 = 'delivered' THEN $7 ELSE reference END,
                output = CASE WHEN $4 = 'delivered' THEN $8 ELSE output END,
                last_error = CASE WHEN $4 = 'delivered' THEN last_error ELSE $9 END,
                last_status_code = CASE WHEN $4 = 'delivered' THEN last_status_code ELSE $10 END,
                last_failure_at = CASE WHEN $4 = 'delivered' THEN last_failure_at ELSE $6 END
              WHERE event_id = $1 AND sink = $2 AND state = 'in_flight' AND attempts = $3",
        )
        .bind(id.as_str())
        .bind(sink.as_str())
        .bind(attempt_no)
        .bind(match kind {
            "retry" => "failed",
            other => other,
        })
        .bind(next)
        .bind(now)
        .bind(&reference)
        .bind(&output)
        .bind(&error)
        .bind(status)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if moved.rows_affected() == 1 {
            refresh_status(&mut tx, &[id.as_str().to_owned()]).await?;
        }
        tx.commit().await.map_err(store_error)?;
        if moved.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::AttemptConflict {
                event_id: id.clone(),
                sink: sink.clone(),
                attempt,
            })
        }
    }

    async fn attempts(&self, id: &EventId) -> Result<Vec<AttemptRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM delivery_attempts WHERE event_id = $1 ORDER BY id")
            .bind(id.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("outcome").map_err(store_error)?;
                let error: Option<String> = row.try_get("error").map_err(store_error)?;
                let status = status_code(row.try_get("status_code").map_err(store_error)?);
                let outcome = match kind.as_str() {
                    "delivered" => AttemptOutcome::Delivered {
                        reference: row.try_get("reference").map_err(store_error)?,
                        output: row.try_get("output").map_err(store_error)?,
                    },
                    "retry" => AttemptOutcome::Retry {
                        next_attempt_at: row
                            .try_get::<Option<time::OffsetDateTime>, _>("next_attempt_at")
                            .map_err(store_error)?
                            .map_or(SystemTime::UNIX_EPOCH, system_time),
                        error: error.unwrap_or_default(),
                        status_code: status,
                    },
                    "dead" => AttemptOutcome::Dead {
                        error: error.unwrap_or_default(),
                        status_code: status,
                    },
                    other => {
                        return Err(StoreError::Corrupt(format!(
                            "unknown attempt outcome {other:?}"
                        )))
                    }
                };
                let micros: i64 = row.try_get("duration_us").map_err(store_error)?;
                Ok(AttemptRecord {
                    sink: SinkName::new(row.try_get::<String, _>("sink").map_err(store_error)?),
                    attempt: count(row.try_get("attempt").map_err(store_error)?),
                    started_at: system_time(row.try_get("started_at").map_err(store_error)?),
                    duration: Duration::from_micros(u64::try_from(micros).unwrap_or(0)),
                    outcome,
                })
            })
            .collect()
    }

    async fn reclaim_stalled(
        &self,
        stalled_before: SystemTime,
        hold: Duration,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError> {
        let now = self.clock.now();
        // SKIP LOCKED: several reconcilers (one per gateway) never reclaim
        // the same delivery twice.
        let rows = sqlx::query(
            "WITH stalled AS (
                SELECT event_id, sink FROM deliveries
                 WHERE (state IN ('pending', 'failed') AND next_attempt_at < $1)
                    OR (state = 'in_flight' AND lease_until < $1)
                 ORDER BY event_id, sink
                 LIMIT $2
                 FOR UPDATE SKIP LOCKED)
             UPDATE deliveries d SET
                 last_error = CASE WHEN d.state = 'in_flight' THEN $5 ELSE d.last_error END,
                 last_status_code = CASE WHEN d.state = 'in_flight' THEN NULL ELSE d.last_status_code END,
                 last_failure_at = CASE WHEN d.state = 'in_flight' THEN $3 ELSE d.last_failure_at END,
                 state = CASE WHEN d.state = 'in_flight' THEN 'failed' ELSE d.state END,
                 lease_until = NULL,
                 next_attempt_at = $4
               FROM stalled s
              WHERE d.event_id = s.event_id AND d.sink = s.sink
             RETURNING d.event_id, d.sink,
                       (SELECT correlation_id FROM events e WHERE e.event_id = d.event_id) AS correlation_id",
        )
        .bind(ts(stalled_before))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind(ts(now))
        .bind(add(now, hold))
        .bind(LOST_WORKER)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let mut jobs: Vec<Job> = Vec::new();
        for row in rows {
            let id = event_id(row.try_get("event_id").map_err(store_error)?)?;
            let sink = SinkName::new(row.try_get::<String, _>("sink").map_err(store_error)?);
            match jobs.iter_mut().find(|j| j.event_id == id) {
                Some(job) => job.sinks.push(sink),
                None => jobs.push(Job {
                    event_id: id,
                    correlation_id: correlation_id(
                        row.try_get("correlation_id").map_err(store_error)?,
                    )?,
                    sinks: vec![sink],
                }),
            }
        }
        Ok(jobs)
    }

    async fn purge(&self, before: SystemTime) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        // Deliveries and attempts go with their event (ON DELETE CASCADE).
        let purged: Vec<String> = sqlx::query_scalar(
            "DELETE FROM events e
              WHERE e.received_at < $1
                AND NOT EXISTS (SELECT 1 FROM deliveries d
                                 WHERE d.event_id = e.event_id
                                   AND d.state NOT IN ('delivered', 'discarded'))
             RETURNING e.event_id",
        )
        .bind(ts(before))
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
        sqlx::query("DELETE FROM idempotency_keys WHERE event_id = ANY($1)")
            .bind(&purged)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        Ok(purged.len() as u64)
    }
}
