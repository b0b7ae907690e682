use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::{
    AttemptOutcome, AttemptRecord, AttemptStart, DeliveryRecord, DeliveryState, EventLog, NewEvent,
    RecordOutcome, StoredEvent,
};
use crate::clock::SharedClock;
use crate::dead_letter::{
    AuditEntry, DeadLetter, DeadLetterAction, DeadLetterCursor, DeadLetterFilter, DeadLetterKey,
    DeadLetterStats, DeadLetterStore,
};
use crate::error::StoreError;
use crate::event::{EventId, Job, SinkName};

#[derive(Debug)]
struct Entry {
    stored: StoredEvent,
    /// In-flight lease expiry per delivery index.
    leases: HashMap<usize, SystemTime>,
    attempts: Vec<AttemptRecord>,
}

/// An [`EventLog`] in process memory. Not durable, and it grows with every
/// event: for the quick start and tests only.
#[derive(Debug)]
pub struct MemoryEventLog {
    clock: SharedClock,
    events: Mutex<HashMap<EventId, Entry>>,
    audit: Mutex<Vec<AuditEntry>>,
}

impl MemoryEventLog {
    /// An empty log on `clock`.
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            events: Mutex::new(HashMap::new()),
            audit: Mutex::new(Vec::new()),
        }
    }

    /// How many events are recorded.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no event is recorded.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn audit(&self, action: &str, by: &DeadLetterAction, count: u64) {
        self.audit
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(AuditEntry {
                at: self.clock.now(),
                action: action.into(),
                by: by.clone(),
                count,
            });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<EventId, Entry>> {
        // Each critical section leaves the map consistent, even on panic.
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn delivery_index(entry: &Entry, id: &EventId, sink: &SinkName) -> Result<usize, StoreError> {
    entry
        .stored
        .deliveries
        .iter()
        .position(|d| &d.sink == sink)
        .ok_or_else(|| StoreError::UnknownDelivery {
            event_id: id.clone(),
            sink: sink.clone(),
        })
}

#[async_trait]
impl EventLog for MemoryEventLog {
    async fn record(&self, event: NewEvent) -> Result<RecordOutcome, StoreError> {
        let mut events = self.lock();
        if let Some(existing) = events.get(&event.event.event_id) {
            return Ok(RecordOutcome::Duplicate(crate::response::Receipt {
                event_id: existing.stored.event.event_id.clone(),
                correlation_id: existing.stored.correlation_id.clone(),
            }));
        }
        let mut sinks = event.sinks.clone();
        sinks.sort();
        sinks.dedup();
        let deliveries = sinks
            .into_iter()
            .map(|sink| DeliveryRecord {
                sink,
                state: DeliveryState::Pending,
                attempts: 0,
                next_attempt_at: Some(event.received_at),
                last_error: None,
                last_status_code: None,
                last_failure_at: None,
                delivered_at: None,
                reference: None,
                output: None,
            })
            .collect();
        let id = event.event.event_id.clone();
        events.insert(
            id,
            Entry {
                stored: StoredEvent {
                    event: event.event,
                    raw: event.raw,
                    correlation_id: event.correlation_id,
                    received_at: event.received_at,
                    deliveries,
                    traceparent: event.traceparent,
                },
                leases: HashMap::new(),
                attempts: Vec::new(),
            },
        );
        Ok(RecordOutcome::Recorded)
    }

    async fn load(&self, id: &EventId) -> Result<Option<StoredEvent>, StoreError> {
        Ok(self.lock().get(id).map(|e| e.stored.clone()))
    }

    async fn begin_attempt(
        &self,
        id: &EventId,
        sink: &SinkName,
        lease: Duration,
    ) -> Result<AttemptStart, StoreError> {
        let now = self.clock.now();
        let mut events = self.lock();
        let entry = events
            .get_mut(id)
            .ok_or_else(|| StoreError::UnknownEvent(id.clone()))?;
        let index = delivery_index(entry, id, sink)?;
        let delivery = &mut entry.stored.deliveries[index];
        match delivery.state {
            DeliveryState::Delivered => return Ok(AttemptStart::AlreadyDelivered),
            DeliveryState::Dead | DeliveryState::Discarded => return Ok(AttemptStart::Dead),
            DeliveryState::InFlight => {
                if entry.leases.get(&index).is_some_and(|until| *until > now) {
                    return Ok(AttemptStart::Busy);
                }
            }
            DeliveryState::Pending | DeliveryState::Failed => {}
        }
        delivery.state = DeliveryState::InFlight;
        delivery.attempts += 1;
        delivery.next_attempt_at = None;
        entry.leases.insert(index, now + lease);
        Ok(AttemptStart::Started {
            attempt: delivery.attempts,
        })
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
        let now = self.clock.now();
        let mut events = self.lock();
        let entry = events
            .get_mut(id)
            .ok_or_else(|| StoreError::UnknownEvent(id.clone()))?;
        let index = delivery_index(entry, id, sink)?;
        entry.attempts.push(AttemptRecord {
            sink: sink.clone(),
            attempt,
            started_at,
            duration,
            outcome: outcome.clone(),
        });
        let delivery = &mut entry.stored.deliveries[index];
        if delivery.state != DeliveryState::InFlight || delivery.attempts != attempt {
            return Err(StoreError::AttemptConflict {
                event_id: id.clone(),
                sink: sink.clone(),
                attempt,
            });
        }
        entry.leases.remove(&index);
        match outcome {
            AttemptOutcome::Delivered { reference, output } => {
                delivery.state = DeliveryState::Delivered;
                delivery.delivered_at = Some(now);
                delivery.reference = reference;
                delivery.output = output;
            }
            AttemptOutcome::Retry {
                next_attempt_at,
                error,
                status_code,
            } => {
                delivery.state = DeliveryState::Failed;
                delivery.next_attempt_at = Some(next_attempt_at);
                delivery.last_error = Some(error);
                delivery.last_status_code = status_code;
                delivery.last_failure_at = Some(now);
            }
            AttemptOutcome::Dead { error, status_code } => {
                delivery.state = DeliveryState::Dead;
                delivery.last_error = Some(error);
                delivery.last_status_code = status_code;
                delivery.last_failure_at = Some(now);
            }
        }
        Ok(())
    }

    async fn attempts(&self, id: &EventId) -> Result<Vec<AttemptRecord>, StoreError> {
        Ok(self
            .lock()
            .get(id)
            .map(|e| e.attempts.clone())
            .unwrap_or_default())
    }
    async fn reclaim_stalled(
        &self,
        stalled_before: SystemTime,
        hold: Duration,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError> {
        let now = self.clock.now();
        let mut events = self.lock();
        let mut jobs = Vec::new();
        let mut found = 0;
        for entry in events.values_mut() {
            let mut sinks = Vec::new();
            for (index, delivery) in entry.stored.deliveries.iter_mut().enumerate() {
                if found == limit {
                    break;
                }
                let stalled = match delivery.state {
                    DeliveryState::Pending | DeliveryState::Failed => delivery
                        .next_attempt_at
                        .is_some_and(|due| due < stalled_before),
                    DeliveryState::InFlight => entry
                        .leases
                        .get(&index)
                        .is_none_or(|until| *until < stalled_before),
                    _ => false,
                };
                if !stalled {
                    continue;
                }
                if delivery.state == DeliveryState::InFlight {
                    // The worker holding it is gone; its attempt counts.
                    entry.leases.remove(&index);
                    delivery.state = DeliveryState::Failed;
                    delivery.last_error = Some(LOST_WORKER.into());
                    delivery.last_status_code = None;
                    delivery.last_failure_at = Some(now);
                }
                delivery.next_attempt_at = Some(now + hold);
                sinks.push(delivery.sink.clone());
                found += 1;
            }
            if !sinks.is_empty() {
                jobs.push(Job {
                    event_id: entry.stored.event.event_id.clone(),
                    correlation_id: entry.stored.correlation_id.clone(),
                    sinks,
                });
            }
            if found == limit {
                break;
            }
        }
        Ok(jobs)
    }

    async fn purge(&self, before: SystemTime) -> Result<u64, StoreError> {
        let mut events = self.lock();
        let count = events.len();
        events.retain(|_, e| {
            e.stored.received_at >= before
                || !e
                    .stored
                    .deliveries
                    .iter()
                    .all(|d| matches!(d.state, DeliveryState::Delivered | DeliveryState::Discarded))
        });
        Ok((count - events.len()) as u64)
    }
}

/// Recorded as the last error of a delivery whose worker vanished mid-attempt.
/// (See [`EventLog::reclaim_stalled`].)
pub const LOST_WORKER: &str =
    "the worker attempting this delivery stopped before finishing it (lease expired)";

fn dead_letter(stored: &StoredEvent, d: &DeliveryRecord) -> Option<DeadLetter> {
    (d.state == DeliveryState::Dead).then(|| DeadLetter {
        event_id: stored.event.event_id.clone(),
        sink: d.sink.clone(),
        event_type: stored.event.event_type(),
        site: stored.event.site.clone(),
        correlation_id: stored.correlation_id.clone(),
        received_at: stored.received_at,
        attempts: d.attempts,
        last_error: d.last_error.clone(),
        last_status_code: d.last_status_code,
        dead_at: d.last_failure_at.unwrap_or(stored.received_at),
    })
}

#[async_trait]
impl DeadLetterStore for MemoryEventLog {
    async fn list_dead(
        &self,
        filter: &DeadLetterFilter,
        after: Option<&DeadLetterCursor>,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let events = self.lock();
        let mut dead: Vec<DeadLetter> = events
            .values()
            .flat_map(|e| {
                e.stored
                    .deliveries
                    .iter()
                    .filter_map(|d| dead_letter(&e.stored, d))
            })
            .filter(|d| filter.matches(d))
            .filter(|d| {
                after.is_none_or(|c| {
                    (d.dead_at, &d.event_id, &d.sink) > (c.dead_at, &c.event_id, &c.sink)
                })
            })
            .collect();
        dead.sort_by(|a, b| {
            (a.dead_at, &a.event_id, &a.sink).cmp(&(b.dead_at, &b.event_id, &b.sink))
        });
        dead.truncate(limit);
        Ok(dead)
    }

    async fn replay(
        &self,
        keys: &[DeadLetterKey],
        action: &DeadLetterAction,
    ) -> Result<Vec<Job>, StoreError> {
        let now = self.clock.now();
        let mut events = self.lock();
        let mut replayed = 0;
        let mut jobs: Vec<Job> = Vec::new();
        for key in keys {
            let Some(entry) = events.get_mut(&key.event_id) else {
                continue;
            };
            let Some(delivery) = entry
                .stored
                .deliveries
                .iter_mut()
                .find(|d| d.sink == key.sink && d.state == DeliveryState::Dead)
            else {
                continue;
            };
            delivery.state = DeliveryState::Pending;
            delivery.attempts = 0;
            delivery.next_attempt_at = Some(now);
            replayed += 1;
            match jobs.iter_mut().find(|j| j.event_id == key.event_id) {
                Some(job) => job.sinks.push(key.sink.clone()),
                None => jobs.push(Job {
                    event_id: key.event_id.clone(),
                    correlation_id: entry.stored.correlation_id.clone(),
                    sinks: vec![key.sink.clone()],
                }),
            }
        }
        drop(events);
        self.audit("replay", action, replayed);
        Ok(jobs)
    }

    async fn discard(
        &self,
        keys: &[DeadLetterKey],
        action: &DeadLetterAction,
    ) -> Result<u64, StoreError> {
        let reason = &action.reason;
        let now = self.clock.now();
        let mut events = self.lock();
        let mut discarded = 0;
        for key in keys {
            let Some(entry) = events.get_mut(&key.event_id) else {
                continue;
            };
            if let Some(delivery) = entry
                .stored
                .deliveries
                .iter_mut()
                .find(|d| d.sink == key.sink && d.state == DeliveryState::Dead)
            {
                delivery.state = DeliveryState::Discarded;
                delivery.last_error = Some(format!(
                    "discarded: {reason} (last error: {})",
                    delivery.last_error.as_deref().unwrap_or("none")
                ));
                delivery.last_failure_at = Some(now);
                discarded += 1;
            }
        }
        drop(events);
        self.audit("discard", action, discarded);
        Ok(discarded)
    }

    async fn stats(&self) -> Result<DeadLetterStats, StoreError> {
        let dead = self
            .list_dead(&DeadLetterFilter::default(), None, usize::MAX)
            .await?;
        let mut stats = DeadLetterStats {
            total: dead.len() as u64,
            oldest_dead_at: dead.first().map(|d| d.dead_at),
            ..DeadLetterStats::default()
        };
        for d in &dead {
            *stats.by_sink.entry(d.sink.to_string()).or_default() += 1;
            let class = d
                .last_status_code
                .map_or_else(|| "none".to_owned(), |c| c.to_string());
            *stats.by_status.entry(class).or_default() += 1;
        }
        Ok(stats)
    }

    async fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let audit = self.audit.lock().unwrap_or_else(|e| e.into_inner());
        Ok(audit.iter().rev().take(limit).cloned().collect())
    }
}
