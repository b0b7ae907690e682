//! [`DeadLetterStore`] conformance cases. The factory returns the event log
//! and the dead-letter store over the same storage.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use crate::clock::{Clock, ManualClock, SharedClock};
use crate::dead_letter::{DeadLetterAction, DeadLetterFilter, DeadLetterKey, DeadLetterStore};
use crate::event::{CorrelationId, EventId, EventType, SinkName};
use crate::event_log::{AttemptOutcome, AttemptStart, DeliveryState, EventLog, NewEvent};

use super::fakes::{sample_body, sample_event};

/// What a dead-letter factory returns.
pub type Stores = (Arc<dyn EventLog>, Arc<dyn DeadLetterStore>);

async fn setup<F, Fut>(make: F) -> (Arc<dyn EventLog>, Arc<dyn DeadLetterStore>, ManualClock)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Stores>,
{
    let clock = ManualClock::starting_now();
    let (log, dead) = make(Arc::new(clock.clone())).await;
    (log, dead, clock)
}

fn id(s: &str) -> EventId {
    EventId::new(s).expect("valid test id")
}

fn key(e: &str, s: &str) -> DeadLetterKey {
    DeadLetterKey {
        event_id: id(e),
        sink: SinkName::new(s),
    }
}

async fn record(log: &Arc<dyn EventLog>, clock: &ManualClock, e: &str, sinks: &[&str]) {
    log.record(NewEvent {
        event: sample_event(e),
        raw: Bytes::from(sample_body(e)),
        correlation_id: CorrelationId::generate(),
        received_at: clock.now(),
        sinks: sinks.iter().map(SinkName::new).collect(),
        traceparent: None,
    })
    .await
    .unwrap();
}

async fn settle(log: &Arc<dyn EventLog>, e: &str, s: &str, outcome: AttemptOutcome) {
    let AttemptStart::Started { attempt } = log
        .begin_attempt(&id(e), &SinkName::new(s), Duration::from_secs(30))
        .await
        .unwrap()
    else {
        panic!("{e}/{s} could not be attempted");
    };
    log.finish_attempt(
        &id(e),
        &SinkName::new(s),
        attempt,
        SystemTime::now(),
        Duration::ZERO,
        outcome,
    )
    .await
    .unwrap();
}

fn dead(error: &str, status: u16) -> AttemptOutcome {
    AttemptOutcome::Dead {
        error: error.into(),
        status_code: Some(status),
    }
}

fn by(reason: &str) -> DeadLetterAction {
    DeadLetterAction::new("conformance", reason)
}

fn delivered() -> AttemptOutcome {
    AttemptOutcome::Delivered {
        reference: None,
        output: None,
    }
}

/// Filters select exactly the matching dead letters, and cursor pages walk
/// all of them once, in order.
pub async fn filters_and_pages_return_exactly_the_matching_rows<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Stores>,
{
    let (log, store, clock) = setup(make).await;
    for i in 0..7 {
        let e = format!("dl-{i}");
        record(&log, &clock, &e, &["slack", "hubspot"]).await;
        clock.advance(Duration::from_secs(1));
        settle(&log, &e, "slack", dead("channel_is_archived", 410)).await;
        if i % 2 == 0 {
            settle(&log, &e, "hubspot", dead("HTTP 401 expired token", 401)).await;
        } else {
            settle(&log, &e, "hubspot", delivered()).await;
        }
    }
    let all = DeadLetterFilter::default();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.list_dead(&all, cursor.as_ref(), 3).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 3);
        cursor = page.last().map(|d| d.cursor());
        seen.extend(page);
    }
    assert_eq!(seen.len(), 7 + 4, "7 slack + 4 hubspot dead letters");
    let keys: std::collections::HashSet<_> = seen.iter().map(|d| d.key()).collect();
    assert_eq!(keys.len(), seen.len(), "a page repeated an entry");
    assert!(
        seen.windows(2).all(|w| w[0].dead_at <= w[1].dead_at),
        "not ordered by death"
    );

    let hubspot = DeadLetterFilter {
        sink: Some(SinkName::new("hubspot")),
        ..Default::default()
    };
    assert_eq!(store.list_dead(&hubspot, None, 100).await.unwrap().len(), 4);
    let text = DeadLetterFilter {
        text: Some("EXPIRED".into()),
        ..Default::default()
    };
    assert_eq!(store.list_dead(&text, None, 100).await.unwrap().len(), 4);
    let status = DeadLetterFilter {
        status_code: Some(410),
        ..Default::default()
    };
    let slack_dead = store.list_dead(&status, None, 100).await.unwrap();
    assert_eq!(slack_dead.len(), 7);
    assert!(slack_dead
        .iter()
        .all(|d| d.sink.as_str() == "slack" && d.event_type == EventType::CommentCreated));
    assert_eq!(
        slack_dead[0].last_error.as_deref(),
        Some("channel_is_archived")
    );
    assert_eq!(slack_dead[0].site, "https://blog.example");
    let since = DeadLetterFilter {
        since: Some(slack_dead[3].dead_at),
        ..status.clone()
    };
    assert_eq!(store.list_dead(&since, None, 100).await.unwrap().len(), 4);
    let none = DeadLetterFilter {
        event_type: Some(EventType::OrderCreated),
        ..Default::default()
    };
    assert!(store.list_dead(&none, None, 100).await.unwrap().is_empty());
}

/// Replay revives only dead deliveries, with a fresh budget and the original
/// correlation id; a delivered sink of the same event is left alone.
pub async fn replay_revives_only_dead_deliveries<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Stores>,
{
    let (log, store, clock) = setup(make).await;
    record(&log, &clock, "mixed", &["slack", "hubspot"]).await;
    settle(&log, "mixed", "hubspot", delivered()).await;
    settle(&log, "mixed", "slack", dead("no_service", 404)).await;

    let jobs = store
        .replay(
            &[
                key("mixed", "slack"),
                key("mixed", "hubspot"),
                key("unknown", "slack"),
            ],
            &by("slack fixed"),
        )
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].sinks, [SinkName::new("slack")]);
    let stored = log.load(&id("mixed")).await.unwrap().unwrap();
    assert_eq!(jobs[0].correlation_id, stored.correlation_id);
    let slack = stored.delivery(&SinkName::new("slack")).unwrap();
    assert_eq!((slack.state, slack.attempts), (DeliveryState::Pending, 0));
    assert_eq!(
        stored.delivery(&SinkName::new("hubspot")).unwrap().state,
        DeliveryState::Delivered
    );
    assert!(store
        .list_dead(&DeadLetterFilter::default(), None, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        log.begin_attempt(
            &id("mixed"),
            &SinkName::new("slack"),
            Duration::from_secs(30)
        )
        .await
        .unwrap(),
        AttemptStart::Started { attempt: 1 }
    );
}

/// Two concurrent replays of one dead letter produce one job between them.
pub async fn concurrent_replays_produce_one_job<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Stores>,
{
    let (log, store, clock) = setup(make).await;
    record(&log, &clock, "twice", &["slack"]).await;
    settle(&log, "twice", "slack", dead("HTTP 500", 500)).await;
    let replays: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.replay(&[key("twice", "slack")], &by("retry")).await })
        })
        .collect();
    let mut jobs = 0;
    for r in replays {
        jobs += r.await.unwrap().unwrap().len();
    }
    assert_eq!(jobs, 1);
}

/// Discard takes a dead letter off the list for good but keeps the delivery.
pub async fn discard_keeps_the_record_but_leaves_the_list<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Stores>,
{
    let (log, store, clock) = setup(make).await;
    record(&log, &clock, "gone", &["slack"]).await;
    settle(&log, "gone", "slack", dead("channel_is_archived", 410)).await;
    assert_eq!(
        store
            .discard(&[key("gone", "slack")], &by("channel deleted on purpose"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .discard(&[key("gone", "slack")], &by("again"))
            .await
            .unwrap(),
        0
    );
    assert!(store
        .list_dead(&DeadLetterFilter::default(), None, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(
        store
            .replay(&[key("gone", "slack")], &by("oops"))
            .await
            .unwrap()
            .is_empty(),
        "a discarded delivery was replayed"
    );
    let d = log.load(&id("gone")).await.unwrap().unwrap().deliveries[0].clone();
    assert_eq!(d.state, DeliveryState::Discarded);
    assert!(d.last_error.unwrap().contains("channel deleted on purpose"));
}

/// Stats count dead letters by sink and error class; the audit trail keeps
/// every replay and discard, newest first, with who, why and how many.
pub async fn stats_and_audit_trail<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Stores>,
{
    let (log, store, clock) = setup(make).await;
    assert_eq!(store.stats().await.unwrap().total, 0);
    for (e, status) in [("s1", 410), ("s2", 410), ("s3", 401)] {
        record(&log, &clock, e, &["slack", "hubspot"]).await;
        clock.advance(Duration::from_secs(1));
        settle(&log, e, "slack", dead("x", status)).await;
    }
    settle(
        &log,
        "s1",
        "hubspot",
        AttemptOutcome::Dead {
            error: "timeout".into(),
            status_code: None,
        },
    )
    .await;
    let stats = store.stats().await.unwrap();
    assert_eq!(stats.total, 4);
    assert_eq!(stats.by_sink.get("slack"), Some(&3));
    assert_eq!(stats.by_sink.get("hubspot"), Some(&1));
    assert_eq!(stats.by_status.get("410"), Some(&2));
    assert_eq!(stats.by_status.get("none"), Some(&1));
    let oldest = store
        .list_dead(&DeadLetterFilter::default(), None, 1)
        .await
        .unwrap()[0]
        .dead_at;
    assert_eq!(stats.oldest_dead_at, Some(oldest));

    let filter = DeadLetterFilter {
        status_code: Some(410),
        ..Default::default()
    };
    let action = DeadLetterAction::new("ops@example", "channel unarchived").with_filter(&filter);
    store
        .replay(&[key("s1", "slack"), key("s2", "slack")], &action)
        .await
        .unwrap();
    store
        .discard(
            &[key("s3", "slack")],
            &DeadLetterAction::new("ops@example", "test site"),
        )
        .await
        .unwrap();
    let audit = store.audit_log(10).await.unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!((audit[0].action.as_str(), audit[0].count), ("discard", 1));
    assert_eq!((audit[1].action.as_str(), audit[1].count), ("replay", 2));
    assert_eq!(audit[1].by, action);
    assert_eq!(audit[1].by.filter.as_deref(), Some("status=410"));
    assert_eq!(store.audit_log(1).await.unwrap().len(), 1);
}
