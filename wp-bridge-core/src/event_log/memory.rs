use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::{
    AttemptOutcome, AttemptRecord, AttemptStart, DeliveryRecord, DeliveryState, EventLog, NewEvent,
    RecordOutcome, StoredEvent,
};
use crate::clock::SharedClock;
use crate::error::StoreError;
use crate::event::{EventId, SinkName};

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
}

impl MemoryEventLog {
    /// An empty log on `clock`.
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            events: Mutex::new(HashMap::new()),
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
            DeliveryState::Dead => return Ok(AttemptStart::Dead),
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
            }
            AttemptOutcome::Dead { error, status_code } => {
                delivery.state = DeliveryState::Dead;
                delivery.last_error = Some(error);
                delivery.last_status_code = status_code;
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
}
