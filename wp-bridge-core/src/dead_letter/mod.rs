//! Dead letters: deliveries given up on, one per (event, sink), to list,
//! replay or discard.
//!
//! A replay moves a dead delivery back to pending with a fresh attempt
//! budget and hands back the jobs to enqueue; it never touches a delivery
//! that is not dead, so a sink that already succeeded is never sent the
//! event again, and two concurrent replays of one dead letter produce one job.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::time::{Duration, SystemTime};
//! use wp_bridge_core::clock::SystemClock;
//! use wp_bridge_core::dead_letter::{DeadLetterAction, DeadLetterFilter, DeadLetterStore};
//! use wp_bridge_core::event_log::{AttemptOutcome, EventLog, MemoryEventLog, NewEvent};
//! use wp_bridge_core::event::{parse_event, CorrelationId, SinkName};
//!
//! let log = MemoryEventLog::new(SystemClock::shared());
//! let body = br#"{"event":"comment.created","event_id":"c-1","site":"https://blog.example",
//!   "data":{"id":1,"post_id":2,"author":{"name":"Ada"},"content":"Hi","created_at":"2026-12-04T10:00:00Z"}}"#;
//! let event = parse_event(body).unwrap();
//! let id = event.event_id.clone();
//! let slack = SinkName::new("slack");
//! log.record(NewEvent { event, raw: body.to_vec().into(), correlation_id: CorrelationId::generate(),
//!                       received_at: SystemTime::now(), sinks: vec![slack.clone()], traceparent: None }).await.unwrap();
//! log.begin_attempt(&id, &slack, Duration::from_secs(30)).await.unwrap();
//! log.finish_attempt(&id, &slack, 1, SystemTime::now(), Duration::ZERO,
//!     AttemptOutcome::Dead { error: "channel_is_archived".into(), status_code: Some(410) }).await.unwrap();
//!
//! let dead = log.list_dead(&DeadLetterFilter::default(), None, 10).await.unwrap();
//! assert_eq!(dead.len(), 1);
//! let jobs = log.replay(&[dead[0].key()], &DeadLetterAction::new("ops", "channel unarchived")).await.unwrap();
//! assert_eq!(jobs[0].sinks, vec![slack]);
//! assert!(log.list_dead(&DeadLetterFilter::default(), None, 10).await.unwrap().is_empty());
//! assert_eq!(log.audit_log(10).await.unwrap()[0].count, 1);
//! # }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

mod replayer;

use async_trait::async_trait;

pub use replayer::Replayer;

use crate::error::StoreError;
use crate::event::{CorrelationId, EventId, EventType, Job, SinkName};

/// One dead delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The event.
    pub event_id: EventId,
    /// The sink that gave up.
    pub sink: SinkName,
    /// The event's type.
    pub event_type: EventType,
    /// The site that sent it.
    pub site: String,
    /// Its correlation id (kept by a replay).
    pub correlation_id: CorrelationId,
    /// When the gateway received the event.
    pub received_at: SystemTime,
    /// Attempts made.
    pub attempts: u32,
    /// The last error.
    pub last_error: Option<String>,
    /// The last HTTP status, if any.
    pub last_status_code: Option<u16>,
    /// When it died.
    pub dead_at: SystemTime,
}

impl DeadLetter {
    /// The key to replay or discard it with.
    pub fn key(&self) -> DeadLetterKey {
        DeadLetterKey {
            event_id: self.event_id.clone(),
            sink: self.sink.clone(),
        }
    }

    /// The cursor that continues a listing after this entry.
    pub fn cursor(&self) -> DeadLetterCursor {
        DeadLetterCursor {
            dead_at: self.dead_at,
            event_id: self.event_id.clone(),
            sink: self.sink.clone(),
        }
    }
}

/// Identifies a dead letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeadLetterKey {
    /// The event.
    pub event_id: EventId,
    /// The sink.
    pub sink: SinkName,
}

/// Where a listing continues: entries are ordered by (`dead_at`, event id, sink).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterCursor {
    /// Death time of the last entry seen.
    pub dead_at: SystemTime,
    /// Its event id.
    pub event_id: EventId,
    /// Its sink.
    pub sink: SinkName,
}

/// Which dead letters to list. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeadLetterFilter {
    /// Only this event type.
    pub event_type: Option<EventType>,
    /// Only this sink.
    pub sink: Option<SinkName>,
    /// Only this last HTTP status.
    pub status_code: Option<u16>,
    /// Only events from this site.
    pub site: Option<String>,
    /// Died at or after.
    pub since: Option<SystemTime>,
    /// Died before.
    pub until: Option<SystemTime>,
    /// Case-insensitive substring of the last error.
    pub text: Option<String>,
}

impl DeadLetterFilter {
    /// Whether `d` matches (the reference semantics every backend follows).
    pub fn matches(&self, d: &DeadLetter) -> bool {
        self.event_type.is_none_or(|t| t == d.event_type)
            && self.sink.as_ref().is_none_or(|s| s == &d.sink)
            && self
                .status_code
                .is_none_or(|c| Some(c) == d.last_status_code)
            && self.site.as_ref().is_none_or(|s| s == &d.site)
            && self.since.is_none_or(|t| d.dead_at >= t)
            && self.until.is_none_or(|t| d.dead_at < t)
            && self.text.as_ref().is_none_or(|text| {
                d.last_error
                    .as_deref()
                    .is_some_and(|e| e.to_lowercase().contains(&text.to_lowercase()))
            })
    }
}

impl fmt::Display for DeadLetterFilter {
    /// A readable form for the audit trail, e.g. `sink=slack status=410`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = |t: &SystemTime| {
            t.duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        };
        let mut parts = Vec::new();
        if let Some(t) = self.event_type {
            parts.push(format!("event_type={t}"));
        }
        if let Some(s) = &self.sink {
            parts.push(format!("sink={s}"));
        }
        if let Some(c) = self.status_code {
            parts.push(format!("status={c}"));
        }
        if let Some(s) = &self.site {
            parts.push(format!("site={s}"));
        }
        if let Some(t) = &self.since {
            parts.push(format!("since={}", secs(t)));
        }
        if let Some(t) = &self.until {
            parts.push(format!("until={}", secs(t)));
        }
        if let Some(q) = &self.text {
            parts.push(format!("text={q:?}"));
        }
        if parts.is_empty() {
            f.write_str("all")
        } else {
            f.write_str(&parts.join(" "))
        }
    }
}

/// Who asks for a replay or a discard, and why; kept in the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterAction {
    /// Who (an operator name, `cli:<user>`, `admin-api`).
    pub actor: String,
    /// Why, in the operator's words.
    pub reason: String,
    /// The filter the keys were selected with, if any.
    pub filter: Option<String>,
}

impl DeadLetterAction {
    /// An action by `actor` for `reason`.
    pub fn new(actor: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            actor: actor.into(),
            reason: reason.into(),
            filter: None,
        }
    }

    /// Records the filter the keys came from.
    #[must_use]
    pub fn with_filter(mut self, filter: &DeadLetterFilter) -> Self {
        self.filter = Some(filter.to_string());
        self
    }
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When.
    pub at: SystemTime,
    /// `replay` or `discard`.
    pub action: String,
    /// Who and why.
    pub by: DeadLetterAction,
    /// How many dead letters it changed.
    pub count: u64,
}

/// Counts for the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeadLetterStats {
    /// All dead letters.
    pub total: u64,
    /// By sink.
    pub by_sink: BTreeMap<String, u64>,
    /// By error class: the last HTTP status, or `none`.
    pub by_status: BTreeMap<String, u64>,
    /// When the oldest one died.
    pub oldest_dead_at: Option<SystemTime>,
}

/// Listing, replaying and discarding dead letters.
#[async_trait]
pub trait DeadLetterStore: Send + Sync + std::fmt::Debug + 'static {
    /// Up to `limit` dead letters matching `filter`, oldest death first,
    /// continuing after `after`.
    async fn list_dead(
        &self,
        filter: &DeadLetterFilter,
        after: Option<&DeadLetterCursor>,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, StoreError>;

    /// Moves the given deliveries that are dead back to pending with a fresh
    /// attempt budget; keys that are not dead (delivered, pending, already
    /// replayed) are skipped. Returns the jobs to enqueue, one per event,
    /// with the original correlation id. Audited with `action`.
    async fn replay(
        &self,
        keys: &[DeadLetterKey],
        action: &DeadLetterAction,
    ) -> Result<Vec<Job>, StoreError>;

    /// Marks the given dead deliveries as discarded (kept, never retried).
    /// Returns how many were discarded. Audited with `action`.
    async fn discard(
        &self,
        keys: &[DeadLetterKey],
        action: &DeadLetterAction,
    ) -> Result<u64, StoreError>;

    /// Counts by sink and error class, and the oldest entry.
    async fn stats(&self) -> Result<DeadLetterStats, StoreError>;

    /// The most recent `limit` replays and discards, newest first.
    async fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;
}
