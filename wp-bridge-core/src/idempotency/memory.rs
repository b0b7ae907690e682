use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::{Claim, IdempotencyStore};
use crate::clock::SharedClock;
use crate::error::StoreError;
use crate::event::EventId;
use crate::response::Receipt;

/// How long a completed id is remembered by default.
const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// Sweep expired entries every this many claims, so memory stays bounded
/// by the traffic of one retention period.
const SWEEP_EVERY: u64 = 1024;

#[derive(Debug)]
enum Entry {
    Claimed { until: SystemTime },
    Completed { receipt: Receipt, until: SystemTime },
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<EventId, Entry>,
    claims: u64,
}

/// An [`IdempotencyStore`] in process memory. Not durable: a restart forgets
/// every id (the event log still refuses to record an id twice).
#[derive(Debug)]
pub struct MemoryIdempotencyStore {
    clock: SharedClock,
    retention: Duration,
    state: Mutex<State>,
}

impl MemoryIdempotencyStore {
    /// An empty store on `clock`.
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            retention: DEFAULT_RETENTION,
            state: Mutex::new(State::default()),
        }
    }

    /// How long completed ids are remembered (default 7 days).
    #[must_use]
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave an entry half-written.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl IdempotencyStore for MemoryIdempotencyStore {
    async fn claim(&self, id: &EventId, lease: Duration) -> Result<Claim, StoreError> {
        let now = self.clock.now();
        let mut state = self.lock();
        state.claims += 1;
        if state.claims % SWEEP_EVERY == 0 {
            state.entries.retain(|_, entry| match entry {
                Entry::Claimed { until } | Entry::Completed { until, .. } => *until > now,
            });
        }
        match state.entries.get(id) {
            Some(Entry::Completed { receipt, until }) if *until > now => {
                return Ok(Claim::Completed(receipt.clone()))
            }
            Some(Entry::Claimed { until }) if *until > now => return Ok(Claim::InProgress),
            _ => {}
        }
        state
            .entries
            .insert(id.clone(), Entry::Claimed { until: now + lease });
        Ok(Claim::Won)
    }

    async fn complete(&self, id: &EventId, receipt: &Receipt) -> Result<(), StoreError> {
        let until = self.clock.now() + self.retention;
        self.lock().entries.insert(
            id.clone(),
            Entry::Completed {
                receipt: receipt.clone(),
                until,
            },
        );
        Ok(())
    }

    async fn release(&self, id: &EventId) -> Result<(), StoreError> {
        let mut state = self.lock();
        if matches!(state.entries.get(id), Some(Entry::Claimed { .. })) {
            state.entries.remove(id);
        }
        Ok(())
    }
}
