use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use wp_bridge_core::clock::SharedClock;
use wp_bridge_core::event::Job;
use wp_bridge_core::queue::{LeaseId, Queue, Reserved};
use wp_bridge_core::StoreError;

use crate::error::store_error;
use crate::scripts::{DEPTH, ENQUEUE, RESERVE, SETTLE};
use crate::{RedisConfig, RedisError};

/// The first pause between two looks at an empty queue; it doubles up to
/// the configured idle poll.
const FIRST_POLL: Duration = Duration::from_millis(5);

/// A [`Queue`] on Redis, shared by every worker process.
///
/// Keys (all under `{prefix}`, one Cluster slot):
///
/// | key | type | holds |
/// |---|---|---|
/// | `{p}:jobs` | hash | job id → payload |
/// | `{p}:ready` | list | ids visible now |
/// | `{p}:delayed` | sorted set | ids by due time (ms) |
/// | `{p}:leased` | sorted set | ids by lease deadline (ms) |
/// | `{p}:tokens` | hash | id → the current holder's lease token |
/// | `{p}:counts` | hash | id → times reserved |
/// | `{p}:dead` | hash | id → payload and reason |
///
/// Every operation is one Lua script, so a crash between two Redis calls
/// cannot lose or duplicate a job. `reserve` first moves due delayed jobs
/// and expired leases back to `ready` — that is how a killed worker's jobs
/// reach the others — then leases one. Settling checks that the caller's
/// token is still the current one and its lease has not run out.
/// `depth` is `LLEN ready + ZCARD delayed + ZCARD leased`, exact.
///
/// The connection reconnects by itself with exponential backoff; while
/// Redis is down every call fails with [`StoreError::Unavailable`] and the
/// worker backs off. Redis persistence is not assumed: if Redis loses its
/// data, the reconciler re-enqueues from the event log.
#[derive(Clone)]
pub struct RedisQueue {
    conn: ConnectionManager,
    keys: Keys,
    clock: SharedClock,
    idle_poll: Duration,
}

#[derive(Debug, Clone)]
struct Keys {
    jobs: String,
    ready: String,
    delayed: String,
    leased: String,
    tokens: String,
    counts: String,
    dead: String,
}

impl Keys {
    fn new(prefix: &str) -> Self {
        let key = |name: &str| format!("{{{prefix}}}:{name}");
        Self {
            jobs: key("jobs"),
            ready: key("ready"),
            delayed: key("delayed"),
            leased: key("leased"),
            tokens: key("tokens"),
            counts: key("counts"),
            dead: key("dead"),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct DeadEntry {
    payload: String,
    reason: String,
}

impl fmt::Debug for RedisQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisQueue")
            .field("keys", &self.keys.jobs)
            .finish_non_exhaustive()
    }
}

pub(crate) fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

pub(crate) async fn connection(config: &RedisConfig) -> Result<ConnectionManager, RedisError> {
    let client = redis::Client::open(config.url.as_str()).map_err(RedisError::InvalidUrl)?;
    let manager = ConnectionManagerConfig::new()
        .set_response_timeout(Some(config.response_timeout))
        .set_connection_timeout(Some(config.response_timeout))
        .set_number_of_retries(3)
        .set_max_delay(Duration::from_secs(2));
    // Lazy: a process that starts while Redis is down comes up anyway and
    // connects on first use.
    ConnectionManager::new_lazy_with_config(client, manager).map_err(RedisError::Connect)
}

impl RedisQueue {
    /// A queue under `config.prefix`, timed by `clock`.
    pub async fn connect(config: &RedisConfig, clock: SharedClock) -> Result<Self, RedisError> {
        Ok(Self {
            conn: connection(config).await?,
            keys: Keys::new(&config.prefix),
            clock,
            idle_poll: config.idle_poll,
        })
    }

    /// Jobs that were dead-lettered, with their reasons.
    pub async fn dead_jobs(&self) -> Result<Vec<(Job, String)>, StoreError> {
        let mut conn = self.conn.clone();
        let entries: Vec<String> = redis::cmd("HVALS")
            .arg(&self.keys.dead)
            .query_async(&mut conn)
            .await
            .map_err(store_error)?;
        entries
            .iter()
            .map(|entry| {
                let dead: DeadEntry = serde_json::from_str(entry)
                    .map_err(|e| StoreError::Corrupt(format!("dead job entry: {e}")))?;
                Ok((decode(&dead.payload)?, dead.reason))
            })
            .collect()
    }

    fn now_ms(&self) -> u64 {
        millis(self.clock.now())
    }

    async fn try_reserve(&self, lease: Duration) -> Result<Option<Reserved>, StoreError> {
        let mut conn = self.conn.clone();
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let got: Option<(String, String, u32)> = RESERVE
            .key(&self.keys.ready)
            .key(&self.keys.delayed)
            .key(&self.keys.leased)
            .key(&self.keys.tokens)
            .key(&self.keys.jobs)
            .key(&self.keys.counts)
            .arg(self.now_ms())
            .arg(u64::try_from(lease.as_millis()).unwrap_or(u64::MAX))
            .arg(nonce)
            .invoke_async(&mut conn)
            .await
            .map_err(store_error)?;
        got.map(|(token, payload, reservations)| {
            Ok(Reserved {
                job: decode(&payload)?,
                lease: LeaseId::new(token),
                reservations,
            })
        })
        .transpose()
    }

    async fn settle(
        &self,
        lease: &LeaseId,
        action: &str,
        due_ms: u64,
        reason: &str,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let settled: i64 = SETTLE
            .key(&self.keys.leased)
            .key(&self.keys.tokens)
            .key(&self.keys.jobs)
            .key(&self.keys.counts)
            .key(&self.keys.ready)
            .key(&self.keys.delayed)
            .key(&self.keys.dead)
            .arg(lease.as_str())
            .arg(self.now_ms())
            .arg(action)
            .arg(due_ms)
            .arg(reason)
            .invoke_async(&mut conn)
            .await
            .map_err(store_error)?;
        if settled == 1 {
            Ok(())
        } else {
            Err(StoreError::LeaseLost)
        }
    }
}

fn decode(payload: &str) -> Result<Job, StoreError> {
    serde_json::from_str(payload).map_err(|e| StoreError::Corrupt(format!("queued job: {e}")))
}

#[async_trait]
impl Queue for RedisQueue {
    async fn enqueue(&self, job: &Job, delay: Duration) -> Result<(), StoreError> {
        let payload = serde_json::to_string(job)
            .map_err(|e| StoreError::Corrupt(format!("job cannot be serialized: {e}")))?;
        let due = if delay.is_zero() {
            0
        } else {
            millis(self.clock.now() + delay)
        };
        let mut conn = self.conn.clone();
        let _: i64 = ENQUEUE
            .key(&self.keys.jobs)
            .key(&self.keys.ready)
            .key(&self.keys.delayed)
            .arg(uuid::Uuid::new_v4().simple().to_string())
            .arg(payload)
            .arg(due)
            .invoke_async(&mut conn)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn reserve(
        &self,
        lease: Duration,
        wait: Duration,
    ) -> Result<Option<Reserved>, StoreError> {
        // Polling rather than a blocking pop: a blocking command would hold
        // the multiplexed connection every other caller shares.
        let deadline = tokio::time::Instant::now() + wait;
        let mut pause = FIRST_POLL;
        loop {
            if let Some(reserved) = self.try_reserve(lease).await? {
                return Ok(Some(reserved));
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(self.idle_poll);
        }
    }

    async fn ack(&self, lease: &LeaseId) -> Result<(), StoreError> {
        self.settle(lease, "ack", 0, "").await
    }

    async fn retry(&self, lease: &LeaseId, delay: Duration) -> Result<(), StoreError> {
        let due = millis(self.clock.now() + delay);
        self.settle(lease, "retry", due, "").await
    }

    async fn dead_letter(&self, lease: &LeaseId, reason: &str) -> Result<(), StoreError> {
        self.settle(lease, "dead", 0, reason).await
    }

    async fn depth(&self) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        DEPTH
            .key(&self.keys.ready)
            .key(&self.keys.delayed)
            .key(&self.keys.leased)
            .invoke_async(&mut conn)
            .await
            .map_err(store_error)
    }
}
