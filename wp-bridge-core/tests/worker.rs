//! The worker runtime: duplicates, split retries, graceful shutdown, and the
//! correlation id on every log line of a delivery.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use wp_bridge_core::clock::{Clock, SystemClock};
use wp_bridge_core::event::{CorrelationId, Event, EventId, Job, SinkName};
use wp_bridge_core::event_log::{
    AttemptOutcome, DeliveryState, EventLog, MemoryEventLog, NewEvent,
};
use wp_bridge_core::queue::{MemoryQueue, Queue};
use wp_bridge_core::sink::{Delivered, DeliveryContext, DeliveryError, Sink};
use wp_bridge_core::testing::{eventually, sample_body, sample_event, ScriptedSink};
use wp_bridge_core::worker::{RetryPolicy, Worker, WorkerBuilder};

struct Fixture {
    log: Arc<MemoryEventLog>,
    queue: Arc<MemoryQueue>,
}

impl Fixture {
    fn new() -> Self {
        let clock = SystemClock::shared();
        Self {
            log: Arc::new(MemoryEventLog::new(clock.clone())),
            queue: Arc::new(MemoryQueue::new(clock)),
        }
    }

    fn worker(&self) -> WorkerBuilder {
        Worker::builder(self.queue.clone(), self.log.clone())
            .retry_policy(
                RetryPolicy::exponential(Duration::from_millis(5), Duration::from_millis(20))
                    .max_attempts(5),
            )
            .poll_wait(Duration::from_millis(20))
    }

    /// Records an event routed to `sinks` and enqueues its job `copies` times.
    async fn ingest(&self, id: &str, sinks: &[&str], copies: usize) -> (EventId, CorrelationId) {
        let correlation_id = CorrelationId::generate();
        let sinks: Vec<SinkName> = sinks.iter().map(SinkName::new).collect();
        self.log
            .record(NewEvent {
                event: sample_event(id),
                raw: Bytes::from(sample_body(id)),
                correlation_id: correlation_id.clone(),
                received_at: SystemClock.now(),
                sinks: sinks.clone(),
                traceparent: None,
            })
            .await
            .unwrap();
        let job = Job {
            event_id: EventId::new(id).unwrap(),
            correlation_id: correlation_id.clone(),
            sinks,
        };
        for _ in 0..copies {
            self.queue.enqueue(&job, Duration::ZERO).await.unwrap();
        }
        (job.event_id, correlation_id)
    }

    async fn state(&self, id: &EventId, sink: &str) -> DeliveryState {
        let stored = self.log.load(id).await.unwrap().unwrap();
        stored.delivery(&SinkName::new(sink)).unwrap().state
    }

    async fn settled(&self) {
        eventually(Duration::from_secs(5), || async {
            (self.queue.depth().await.unwrap() == 0).then_some(())
        })
        .await
        .expect("queue drained");
    }
}

#[tokio::test]
async fn the_same_job_queued_three_times_delivers_once() {
    let f = Fixture::new();
    let sink = ScriptedSink::new();
    let handle = f
        .worker()
        .sink("slack", Arc::new(sink.clone()))
        .concurrency(3)
        .build()
        .spawn();
    let (id, _) = f.ingest("dup-job", &["slack"], 3).await;
    f.settled().await;
    handle.shutdown().await;
    assert_eq!(sink.deliveries_of(&id), 1);
    assert_eq!(f.state(&id, "slack").await, DeliveryState::Delivered);
}

#[tokio::test]
async fn a_failing_sink_is_retried_alone_while_the_other_is_delivered_once() {
    let f = Fixture::new();
    let slack = ScriptedSink::new();
    let hubspot = ScriptedSink::failing([
        DeliveryError::retryable("HTTP 503"),
        DeliveryError::retryable("HTTP 503"),
    ]);
    let handle = f
        .worker()
        .sink("slack", Arc::new(slack.clone()))
        .sink("hubspot", Arc::new(hubspot.clone()))
        .build()
        .spawn();
    let (id, _) = f.ingest("split", &["slack", "hubspot"], 1).await;
    eventually(Duration::from_secs(5), || async {
        (f.state(&id, "hubspot").await == DeliveryState::Delivered).then_some(())
    })
    .await
    .expect("hubspot delivered after retries");
    f.settled().await;
    handle.shutdown().await;
    assert_eq!(slack.calls(), 1, "the delivered sink was called again");
    assert_eq!(slack.deliveries_of(&id), 1);
    assert_eq!(hubspot.calls(), 3);
    assert_eq!(hubspot.deliveries_of(&id), 1);
}

#[tokio::test]
async fn an_unconfigured_sink_is_dead_lettered_with_a_hint() {
    let f = Fixture::new();
    let handle = f.worker().build().spawn();
    let (id, _) = f.ingest("nowhere", &["openai"], 1).await;
    f.settled().await;
    handle.shutdown().await;
    let stored = f.log.load(&id).await.unwrap().unwrap();
    let d = stored.delivery(&SinkName::new("openai")).unwrap();
    assert_eq!(d.state, DeliveryState::Dead);
    assert!(d.last_error.as_deref().unwrap().contains("no sink named"));
}

/// A sink that takes `delay` per call, or forever.
#[derive(Debug)]
struct SlowSink {
    delay: Option<Duration>,
    started: Arc<tokio::sync::Notify>,
}

#[async_trait]
impl Sink for SlowSink {
    async fn deliver(&self, _: &Event, _: &DeliveryContext) -> Result<Delivered, DeliveryError> {
        self.started.notify_one();
        match self.delay {
            Some(delay) => tokio::time::sleep(delay).await,
            None => std::future::pending::<()>().await,
        }
        Ok(Delivered::default())
    }
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_delivery_finish_within_the_grace_period() {
    let f = Fixture::new();
    let started = Arc::new(tokio::sync::Notify::new());
    let sink = SlowSink {
        delay: Some(Duration::from_millis(200)),
        started: started.clone(),
    };
    let handle = f
        .worker()
        .sink("slow", Arc::new(sink))
        .shutdown_grace(Duration::from_secs(5))
        .build()
        .spawn();
    let (id, _) = f.ingest("graceful", &["slow"], 1).await;
    started.notified().await;
    handle.shutdown().await;
    assert_eq!(f.state(&id, "slow").await, DeliveryState::Delivered);
    assert_eq!(f.queue.depth().await.unwrap(), 0);
}

#[tokio::test]
async fn shutdown_hands_back_a_delivery_that_outlives_the_grace_period() {
    let f = Fixture::new();
    let started = Arc::new(tokio::sync::Notify::new());
    let sink = SlowSink {
        delay: None,
        started: started.clone(),
    };
    let handle = f
        .worker()
        .sink("stuck", Arc::new(sink))
        .shutdown_grace(Duration::from_millis(50))
        .build()
        .spawn();
    let (id, _) = f.ingest("interrupted", &["stuck"], 1).await;
    started.notified().await;
    handle.shutdown().await;

    assert_eq!(f.state(&id, "stuck").await, DeliveryState::Failed);
    let attempts = f.log.attempts(&id).await.unwrap();
    assert!(
        matches!(&attempts[0].outcome, AttemptOutcome::Retry { error, .. } if error.contains("shutdown"))
    );
    // Handed back at once: the next worker can take it without waiting for a lease.
    let again = f
        .queue
        .reserve(Duration::from_secs(30), Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(again.expect("job handed back").job.event_id, id);
}

#[derive(Debug)]
struct PanickingSink;

#[async_trait]
impl Sink for PanickingSink {
    async fn deliver(&self, _: &Event, _: &DeliveryContext) -> Result<Delivered, DeliveryError> {
        panic!("bug in a sink");
    }
}

#[tokio::test]
async fn a_panicking_sink_fails_its_delivery_but_not_the_worker() {
    let f = Fixture::new();
    let healthy = ScriptedSink::new();
    let handle = f
        .worker()
        .concurrency(1)
        .sink("buggy", Arc::new(PanickingSink))
        .sink("healthy", Arc::new(healthy.clone()))
        .build()
        .spawn();
    let (buggy, _) = f.ingest("panics", &["buggy"], 1).await;
    eventually(Duration::from_secs(5), || async {
        (f.state(&buggy, "buggy").await == DeliveryState::Dead).then_some(())
    })
    .await
    .expect("the panicking delivery ends dead after its attempts");
    let (fine, _) = f.ingest("after-the-panic", &["healthy"], 1).await;
    eventually(Duration::from_secs(5), || async {
        (healthy.deliveries_of(&fine) == 1).then_some(())
    })
    .await
    .expect("the single worker loop survived and delivered the next event");
    handle.shutdown().await;
    let attempts = f.log.attempts(&buggy).await.unwrap();
    assert_eq!(attempts.len(), 5);
    assert!(
        matches!(&attempts[0].outcome, AttemptOutcome::Retry { error, .. } if error.contains("panicked"))
    );
}

fn enrichment_of(sink: &ScriptedSink) -> Vec<Option<serde_json::Value>> {
    sink.seen_enrichment()
        .into_iter()
        .map(|e| e.get(&SinkName::new("openai")).cloned())
        .collect()
}

#[tokio::test]
async fn enrichers_run_first_and_their_output_reaches_the_other_sinks() {
    let f = Fixture::new();
    let summary = serde_json::json!({"summary": "Happy customer", "spam": false});
    let openai = ScriptedSink::failing([DeliveryError::retryable("HTTP 429 rate_limit_exceeded")])
        .with_output(summary.clone());
    let slack = ScriptedSink::new();
    let hubspot = ScriptedSink::new();
    let handle = f
        .worker()
        .enricher("openai", Arc::new(openai.clone()))
        .sink("slack", Arc::new(slack.clone()))
        .sink("hubspot", Arc::new(hubspot.clone()))
        .build()
        .spawn();
    let (id, _) = f
        .ingest("enriched", &["slack", "openai", "hubspot"], 1)
        .await;
    eventually(Duration::from_secs(5), || async {
        (slack.deliveries_of(&id) == 1 && hubspot.deliveries_of(&id) == 1).then_some(())
    })
    .await
    .expect("delivered after the enricher's retry");
    f.settled().await;
    handle.shutdown().await;
    assert_eq!(openai.calls(), 2);
    // The other sinks waited for the enricher and were called once, with its output.
    assert_eq!(enrichment_of(&slack), [Some(summary.clone())]);
    assert_eq!(enrichment_of(&hubspot), [Some(summary)]);
}

#[tokio::test]
async fn a_dead_enricher_does_not_hold_the_event_back() {
    let f = Fixture::new();
    let openai =
        ScriptedSink::always_failing(DeliveryError::permanent("HTTP 429 insufficient_quota"));
    let slack = ScriptedSink::new();
    let handle = f
        .worker()
        .enricher("openai", Arc::new(openai.clone()))
        .sink("slack", Arc::new(slack.clone()))
        .build()
        .spawn();
    let (id, _) = f.ingest("unenriched", &["openai", "slack"], 1).await;
    f.settled().await;
    handle.shutdown().await;
    assert_eq!(f.state(&id, "openai").await, DeliveryState::Dead);
    assert_eq!(slack.deliveries_of(&id), 1);
    assert_eq!(enrichment_of(&slack), [None]);
}
