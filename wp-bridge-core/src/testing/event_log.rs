//! [`EventLog`] conformance cases.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use crate::clock::{Clock, ManualClock, SharedClock};
use crate::error::StoreError;
use crate::event::{CorrelationId, EventId, SinkName};
use crate::event_log::{
    AttemptOutcome, AttemptStart, DeliveryState, EventLog, NewEvent, RecordOutcome,
};

use super::eventually;
use super::fakes::{sample_body, sample_event};

const LEASE: Duration = Duration::from_millis(300);

async fn setup<F, Fut>(make: F) -> (Arc<dyn EventLog>, ManualClock)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn EventLog>>,
{
    let clock = ManualClock::starting_now();
    (make(Arc::new(clock.clone())).await, clock)
}

fn new_event(id: &str, sinks: &[&str], clock: &ManualClock) -> NewEvent {
    NewEvent {
        event: sample_event(id),
        raw: Bytes::from(sample_body(id)),
        correlation_id: CorrelationId::generate(),
        received_at: clock.now(),
        sinks: sinks.iter().map(SinkName::new).collect(),
        traceparent: None,
    }
}

fn id(s: &str) -> EventId {
    EventId::new(s).expect("valid test id")
}

fn sink(s: &str) -> SinkName {
    SinkName::new(s)
}

async fn start(log: &Arc<dyn EventLog>, e: &str, s: &str, lease: Duration) -> AttemptStart {
    log.begin_attempt(&id(e), &sink(s), lease).await.unwrap()
}

async fn finish(
    log: &Arc<dyn EventLog>,
    e: &str,
    s: &str,
    attempt: u32,
    outcome: AttemptOutcome,
) -> Result<(), StoreError> {
    log.finish_attempt(
        &id(e),
        &sink(s),
        attempt,
        SystemTime::now(),
        Duration::from_millis(5),
        outcome,
    )
    .await
}

fn delivered() -> AttemptOutcome {
    AttemptOutcome::Delivered {
        reference: Some("ts-1".into()),
        output: Some(serde_json::json!({"summary": "a happy customer", "score": 0.9})),
    }
}

/// A recorded event loads back byte for byte, with one pending delivery per sink.
pub async fn recorded_event_loads_with_pending_deliveries<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn EventLog>>,
{
    let (log, clock) = setup(make).await;
    let new = new_event("évt-1", &["slack", "hubspot"], &clock);
    assert_eq!(
        log.record(new.clone()).await.unwrap(),
        RecordOutcome::Recorded
    );
    let stored = log.load(&id("évt-1")).await.unwrap().expect("recorded");
    assert_eq!(stored.event, new.event);
    assert_eq!(stored.raw, new.raw);
    assert_eq!(stored.correlation_id, new.correlation_id);
    assert_eq!(stored.deliveries.len(), 2);
    for d in &stored.deliveries {
        assert_eq!(d.state, DeliveryState::Pending);
        assert_eq!(d.attempts, 0);
        assert!(
            d.next_attempt_at.is_some_and(|t| t <= clock.now()),
            "pending deliveries are due at once"
        );
    }
    assert!(log.load(&id("other")).await.unwrap().is_none());
}

/// Recording an id again changes nothing and answers the original receipt.
pub async fn recording_twice_answers_the_original_receipt<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn EventLog>>,
{
    let (log, clock) = setup(make).await;
    let first = new_event("twice", &["slack"], &clock);
    log.record(first.clone()).await.unwrap();
    let second = new_event("twice", &["slack", "hubspot"], &clock);
    assert_eq!(
        log.record(second).await.unwrap(),
        RecordOutcome::Duplicate(first.receipt())
    );
    let stored = log.load(&id("twice")).await.unwrap().unwrap();
    assert_eq!(stored.correlation_id, first.correlation_id);
    assert_eq!(stored.deliveries.len(), 1);
}

/// 16 concurrent records of one id: exactly one is `Recorded`.
pub async fn concurrent_records_have_exactly_one_winner<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn EventLog>>,
{
    let (log, clock) = setup(make).await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let log = log.clone();
            let new = new_event("race", &["slack"], &clock);
            tokio::spawn(async move { log.record(new).await })
        })
        .collect();
    let mut recorded = 0;
    for t in tasks {
        if t.await.unwrap().unwrap() == RecordOutcome::Recorded {
            recorded += 1;
        }
    }
    assert_eq!(recorded, 1);
}

/// Once delivered, a delivery cannot be attempted or changed again.
pub async fn delivered_is_final<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn EventLog>>,
{
    let (log, clock) = setup(make).await;
    log.record(new_event("final", &["slack"], &clock))
        .await
        .unwrap();
    assert_eq!(
        start(&log, "final", "slack", LEASE).await,
        AttemptStart::Started { attempt: 1 }
    );
    finish(&log, "final", "slack", 1, delivered())
        .await
        .unwrap();
    assert_eq!(
        start(&log, "final", "slack", LEASE).await,
        AttemptStart::AlreadyDelivered
    );
    let again = finish(
        &log,
        "final",
        "slack",
        1,
        AttemptOutcome::Dead {
            error: "x".into(),
            status_code: None,
        },
    )
    .await;
    assert!(
        matches!(again, Err(StoreError::AttemptConflict { .. })),
        "{again:?}"
    );
    let d = log.load(&id("final")).await.unwrap().unwrap().deliveries[0].clone();
    assert_eq!(d.state, DeliveryState::Delivered);
    assert_eq!(d.reference.as_deref(), Some("ts-1"));
    assert_eq!(
        d.output,
        Some(serde_json::json!({"summary": "a happy customer", "score": 0.9}))
    );
    assert!(d.delivered_at.is_some());
}

/// An in-flight delivery is busy for others until its lease runs out; then
/// it can be taken over, and the old attempt can no longer finish it.
pub async fn in_flight_is_busy_until_its_lease_runs_out<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn EventLog>>,
{
    let (log, clock) = setup(make).await;
    log.record(new_event("lease", &["slack"], &clock))
        .await
        .unwrap();
    assert_eq!(
        start(&log, "lease", "slack", LEASE).await,
        AttemptStart::Started { attempt: 1 }
    );
    assert_eq!(
        start(&log, "lease", "slack", LEASE).await,
        AttemptStart::Busy
    );
    clock.advance(LEASE + Duration::from_millis(1));
    let takeover = eventually(Duration::from_secs(3), || async {
        match start(&log, "lease", "slack", Duration::from_secs(60)).await {
            AttemptStart::Started { attempt } => Some(attempt),
            _ => None,
        }
    })
    .await;
    assert_eq!(takeover, Some(2));
    let stale = finish(&log, "lease", "slack", 1, delivered()).await;
    assert!(
        matches!(stale, Err(StoreError::AttemptConflict { .. })),
        "{stale:?}"
    );
    finish(&log, "lease", "slack", 2, delivered())
        .await
        .unwrap();
}

/// Failures count attempts, keep the last error, and every attempt is listed.
pub async fn every_attempt_is_recorded<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn EventLog>>,
{
    let (log, clock) = setup(make).await;
    log.record(new_event("retry", &["slack", "hubspot"], &clock))
        .await
        .unwrap();
    let retry = |n: u16| AttemptOutcome::Retry {
        next_attempt_at: SystemTime::now() + Duration::from_secs(1),
        error: format!("HTTP {n}"),
        status_code: Some(n),
    };
    assert_eq!(
        start(&log, "retry", "slack", LEASE).await,
        AttemptStart::Started { attempt: 1 }
    );
    finish(&log, "retry", "slack", 1, retry(503)).await.unwrap();
    let d = log.load(&id("retry")).await.unwrap().unwrap();
    let slack = d.delivery(&sink("slack")).unwrap();
    assert_eq!(slack.state, DeliveryState::Failed);
    assert_eq!(slack.last_status_code, Some(503));
    assert!(slack.next_attempt_at.is_some());
    assert_eq!(
        d.delivery(&sink("hubspot")).unwrap().state,
        DeliveryState::Pending
    );

    assert_eq!(
        start(&log, "retry", "slack", LEASE).await,
        AttemptStart::Started { attempt: 2 }
    );
    finish(&log, "retry", "slack", 2, retry(429)).await.unwrap();
    assert_eq!(
        start(&log, "retry", "slack", LEASE).await,
        AttemptStart::Started { attempt: 3 }
    );
    finish(&log, "retry", "slack", 3, delivered())
        .await
        .unwrap();

    let attempts = log.attempts(&id("retry")).await.unwrap();
    let numbers: Vec<u32> = attempts.iter().map(|a| a.attempt).collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert!(matches!(
        attempts[0].outcome,
        AttemptOutcome::Retry {
            status_code: Some(503),
            ..
        }
    ));
    assert!(matches!(
        attempts[2].outcome,
        AttemptOutcome::Delivered { .. }
    ));
    let slack = log
        .load(&id("retry"))
        .await
        .unwrap()
        .unwrap()
        .delivery(&sink("slack"))
        .unwrap()
        .clone();
    assert_eq!(slack.attempts, 3);
    assert_eq!(slack.state, DeliveryState::Delivered);
}

/// A dead delivery stays dead and keeps its error.
pub async fn dead_stays_dead<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn EventLog>>,
{
    let (log, clock) = setup(make).await;
    log.record(new_event("dead", &["slack"], &clock))
        .await
        .unwrap();
    start(&log, "dead", "slack", LEASE).await;
    finish(
        &log,
        "dead",
        "slack",
        1,
        AttemptOutcome::Dead {
            error: "channel_is_archived".into(),
            status_code: Some(410),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        start(&log, "dead", "slack", LEASE).await,
        AttemptStart::Dead
    );
    let d = log.load(&id("dead")).await.unwrap().unwrap().deliveries[0].clone();
    assert_eq!(d.state, DeliveryState::Dead);
    assert_eq!(d.last_error.as_deref(), Some("channel_is_archived"));
    assert_eq!(d.last_status_code, Some(410));
}

/// Attempts on an unknown event or an unrouted sink are errors, not silent no-ops.
pub async fn unknown_event_or_sink_is_an_error<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn EventLog>>,
{
    let (log, clock) = setup(make).await;
    log.record(new_event("known", &["slack"], &clock))
        .await
        .unwrap();
    let unknown = log
        .begin_attempt(&id("unknown"), &sink("slack"), LEASE)
        .await;
    assert!(
        matches!(unknown, Err(StoreError::UnknownEvent(_))),
        "{unknown:?}"
    );
    let unrouted = log
        .begin_attempt(&id("known"), &sink("openai"), LEASE)
        .await;
    assert!(
        matches!(unrouted, Err(StoreError::UnknownDelivery { .. })),
        "{unrouted:?}"
    );
}

/// Pending deliveries overdue past the grace period are reclaimed once, then
/// held back; fresh, delivered and dead ones are left alone.
pub async fn stalled_pending_deliveries_are_reclaimed_once<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn EventLog>>,
{
    let (log, clock) = setup(make).await;
    log.record(new_event("lost", &["slack", "hubspot"], &clock))
        .await
        .unwrap();
    log.record(new_event("done", &["slack"], &clock))
        .await
        .unwrap();
    start(&log, "done", "slack", LEASE).await;
    finish(&log, "done", "slack", 1, delivered()).await.unwrap();
    let grace = Duration::from_secs(60);

    let fresh = log
        .reclaim_stalled(clock.now() - grace, grace, 100)
        .await
        .unwrap();
    assert!(fresh.is_empty(), "a fresh event is not stalled: {fresh:?}");

    clock.advance(grace * 2);
    let jobs = log
        .reclaim_stalled(clock.now() - grace, grace, 100)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].event_id, id("lost"));
    let mut sinks = jobs[0].sinks.clone();
    sinks.sort();
    assert_eq!(sinks, [sink("hubspot"), sink("slack")]);
    let stored = log.load(&id("lost")).await.unwrap().unwrap();
    assert_eq!(jobs[0].correlation_id, stored.correlation_id);

    let again = log
        .reclaim_stalled(clock.now() - grace, grace, 100)
        .await
        .unwrap();
    assert!(
        again.is_empty(),
        "held back while its job is queued: {again:?}"
    );
    clock.advance(grace * 2 + Duration::from_secs(1));
    let later = log
        .reclaim_stalled(clock.now() - grace, grace, 100)
        .await
        .unwrap();
    assert_eq!(
        later.len(),
        1,
        "still undelivered after the hold: reclaimed again"
    );
}

/// A delivery whose worker died mid-attempt is reclaimed after its lease,
/// counted as a failed attempt, and can be attempted again at once.
pub async fn a_lost_in_flight_delivery_is_reclaimed<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn EventLog>>,
{
    let (log, clock) = setup(make).await;
    log.record(new_event("killed", &["slack"], &clock))
        .await
        .unwrap();
    assert_eq!(
        start(&log, "killed", "slack", LEASE).await,
        AttemptStart::Started { attempt: 1 }
    );
    let grace = Duration::from_secs(60);
    clock.advance(grace + LEASE * 2);
    let jobs = log
        .reclaim_stalled(clock.now() - grace, grace, 100)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    let d = log.load(&id("killed")).await.unwrap().unwrap().deliveries[0].clone();
    assert_eq!(d.state, DeliveryState::Failed);
    assert_eq!(d.attempts, 1);
    assert!(d.last_error.is_some());
    assert_eq!(
        start(&log, "killed", "slack", LEASE).await,
        AttemptStart::Started { attempt: 2 }
    );
}

/// The limit bounds how many deliveries one call reclaims.
pub async fn reclaiming_respects_the_limit<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn EventLog>>,
{
    let (log, clock) = setup(make).await;
    for i in 0..5 {
        log.record(new_event(&format!("many-{i}"), &["slack"], &clock))
            .await
            .unwrap();
    }
    let grace = Duration::from_secs(60);
    clock.advance(grace * 2);
    let first = log
        .reclaim_stalled(clock.now() - grace, grace, 3)
        .await
        .unwrap();
    assert_eq!(first.len(), 3);
    let rest = log
        .reclaim_stalled(clock.now() - grace, grace, 3)
        .await
        .unwrap();
    assert_eq!(rest.len(), 2);
}

/// Retention purges old, fully delivered (or discarded) events only: never
/// one with a dead or unfinished delivery, never a recent one.
pub async fn purge_keeps_dead_unfinished_and_recent_events<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn EventLog>>,
{
    let (log, clock) = setup(make).await;
    for (e, outcome) in [
        ("old-done", Some(delivered())),
        (
            "old-dead",
            Some(AttemptOutcome::Dead {
                error: "x".into(),
                status_code: None,
            }),
        ),
        ("old-pending", None),
    ] {
        log.record(new_event(e, &["slack"], &clock)).await.unwrap();
        if let Some(outcome) = outcome {
            start(&log, e, "slack", LEASE).await;
            finish(&log, e, "slack", 1, outcome).await.unwrap();
        }
    }
    clock.advance(Duration::from_secs(3600));
    let cutoff = clock.now();
    log.record(new_event("new-done", &["slack"], &clock))
        .await
        .unwrap();
    start(&log, "new-done", "slack", LEASE).await;
    finish(&log, "new-done", "slack", 1, delivered())
        .await
        .unwrap();

    assert_eq!(log.purge(cutoff).await.unwrap(), 1);
    assert!(log.load(&id("old-done")).await.unwrap().is_none());
    assert!(log.attempts(&id("old-done")).await.unwrap().is_empty());
    for kept in ["old-dead", "old-pending", "new-done"] {
        assert!(
            log.load(&id(kept)).await.unwrap().is_some(),
            "{kept} was purged"
        );
    }
}
