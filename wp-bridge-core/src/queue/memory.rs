use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tokio::sync::Notify;

use super::{LeaseId, Queue, Reserved};
use crate::clock::SharedClock;
use crate::error::StoreError;
use crate::event::Job;

/// Longest a waiting `reserve` sleeps before looking again, so that jobs made
/// visible by a clock it cannot observe (a manual one) are still found.
const MAX_POLL: Duration = Duration::from_millis(50);

#[derive(Debug, Clone)]
struct Entry {
    job: Job,
    reservations: u32,
}

#[derive(Debug, Default)]
struct State {
    ready: VecDeque<Entry>,
    delayed: BTreeMap<(SystemTime, u64), Entry>,
    leased: HashMap<LeaseId, (Entry, SystemTime)>,
    dead: Vec<(Job, String)>,
    seq: u64,
}

impl State {
    /// Moves due delayed jobs and expired leases back to `ready`.
    fn promote(&mut self, now: SystemTime) {
        while let Some(entry) = self.delayed.first_entry() {
            if entry.key().0 > now {
                break;
            }
            self.ready.push_back(entry.remove());
        }
        let expired: Vec<LeaseId> = self
            .leased
            .iter()
            .filter(|(_, (_, until))| *until <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            if let Some((entry, _)) = self.leased.remove(&id) {
                self.ready.push_back(entry);
            }
        }
    }

    fn schedule(&mut self, entry: Entry, at: SystemTime, now: SystemTime) {
        if at <= now {
            self.ready.push_back(entry);
        } else {
            self.seq += 1;
            self.delayed.insert((at, self.seq), entry);
        }
    }

    fn take_lease(&mut self, lease: &LeaseId, now: SystemTime) -> Result<Entry, StoreError> {
        match self.leased.remove(lease) {
            Some((entry, until)) if until > now => Ok(entry),
            Some((entry, _)) => {
                // Expired: it belongs to the queue again, not to this caller.
                self.ready.push_back(entry);
                Err(StoreError::LeaseLost)
            }
            None => Err(StoreError::LeaseLost),
        }
    }
}

/// A [`Queue`] in process memory, for the quick start and tests.
/// Not durable: a restart loses every job.
#[derive(Debug)]
pub struct MemoryQueue {
    clock: SharedClock,
    state: Mutex<State>,
    notify: Notify,
}

impl MemoryQueue {
    /// An empty queue on `clock`.
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            state: Mutex::new(State::default()),
            notify: Notify::new(),
        }
    }

    /// Jobs that were dead-lettered, with their reasons.
    pub fn dead_jobs(&self) -> Vec<(Job, String)> {
        self.lock().dead.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every critical section leaves the state consistent, even on panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn try_reserve(&self, lease: Duration) -> Option<Reserved> {
        let now = self.clock.now();
        let mut state = self.lock();
        state.promote(now);
        let mut entry = state.ready.pop_front()?;
        entry.reservations += 1;
        let id = LeaseId::new(uuid::Uuid::new_v4().to_string());
        let reserved = Reserved {
            job: entry.job.clone(),
            lease: id.clone(),
            reservations: entry.reservations,
        };
        state.leased.insert(id, (entry, now + lease));
        Some(reserved)
    }
}

#[async_trait]
impl Queue for MemoryQueue {
    async fn enqueue(&self, job: &Job, delay: Duration) -> Result<(), StoreError> {
        let now = self.clock.now();
        let entry = Entry {
            job: job.clone(),
            reservations: 0,
        };
        self.lock().schedule(entry, now + delay, now);
        self.notify.notify_one();
        Ok(())
    }

    async fn reserve(
        &self,
        lease: Duration,
        wait: Duration,
    ) -> Result<Option<Reserved>, StoreError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.notify.notified();
            if let Some(reserved) = self.try_reserve(lease) {
                return Ok(Some(reserved));
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let nap = (deadline - now).min(MAX_POLL);
            let _ = tokio::time::timeout(nap, notified).await;
        }
    }

    async fn ack(&self, lease: &LeaseId) -> Result<(), StoreError> {
        let now = self.clock.now();
        self.lock().take_lease(lease, now).map(drop)
    }

    async fn retry(&self, lease: &LeaseId, delay: Duration) -> Result<(), StoreError> {
        let now = self.clock.now();
        {
            let mut state = self.lock();
            let entry = state.take_lease(lease, now)?;
            state.schedule(entry, now + delay, now);
        }
        self.notify.notify_one();
        Ok(())
    }

    async fn dead_letter(&self, lease: &LeaseId, reason: &str) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut state = self.lock();
        let entry = state.take_lease(lease, now)?;
        state.dead.push((entry.job, reason.to_owned()));
        Ok(())
    }

    async fn depth(&self) -> Result<u64, StoreError> {
        let state = self.lock();
        let depth = state.ready.len() + state.delayed.len() + state.leased.len();
        Ok(depth as u64)
    }
}
