//! Every log line of a delivery carries the correlation id, and none carries
//! the payload. Alone in its test binary: tracing caches per call site
//! whether anyone listens, so a test that installs a subscriber must not
//! share the process with tests that run the same call sites without one.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio_util::sync::CancellationToken;
use wp_bridge_core::clock::{Clock, SystemClock};
use wp_bridge_core::event::{CorrelationId, EventId, Job, SinkName};
use wp_bridge_core::event_log::{EventLog, MemoryEventLog, NewEvent};
use wp_bridge_core::queue::{MemoryQueue, Queue};
use wp_bridge_core::sink::DeliveryError;
use wp_bridge_core::testing::{eventually, sample_body, sample_event, ScriptedSink};
use wp_bridge_core::worker::{RetryPolicy, Worker};

/// Captures tracing output as JSON lines.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn every_log_line_of_a_delivery_carries_the_correlation_id_and_no_payload() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_span_list(true)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let clock = SystemClock::shared();
    let log = Arc::new(MemoryEventLog::new(clock.clone()));
    let queue = Arc::new(MemoryQueue::new(clock));
    let sink = ScriptedSink::failing([DeliveryError::retryable("HTTP 503")]);
    let worker = Worker::builder(queue.clone(), log.clone())
        .retry_policy(RetryPolicy::exponential(
            Duration::from_millis(5),
            Duration::from_millis(20),
        ))
        .sink("slack", Arc::new(sink.clone()))
        .build();
    let id = EventId::new("traced").unwrap();
    let correlation_id = CorrelationId::generate();
    log.record(NewEvent {
        event: sample_event("traced"),
        raw: Bytes::from(sample_body("traced")),
        correlation_id: correlation_id.clone(),
        received_at: SystemClock.now(),
        sinks: vec![SinkName::new("slack")],
        traceparent: None,
    })
    .await
    .unwrap();
    let job = Job {
        event_id: id.clone(),
        correlation_id: correlation_id.clone(),
        sinks: vec![SinkName::new("slack")],
    };
    queue.enqueue(&job, Duration::ZERO).await.unwrap();
    let hard_stop = CancellationToken::new();
    for _ in 0..2 {
        let reserved = eventually(Duration::from_secs(5), || async {
            queue
                .reserve(Duration::from_secs(30), Duration::ZERO)
                .await
                .unwrap()
        })
        .await
        .unwrap();
        worker.process(reserved, &hard_stop).await;
    }
    assert_eq!(sink.deliveries_of(&id), 1);

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 2, "only: {text}");
    for line in &lines {
        assert!(
            line.contains(correlation_id.as_str()),
            "line without correlation id: {line}"
        );
        assert!(
            line.contains("\"sink\":\"slack\""),
            "line without the sink: {line}"
        );
        assert!(!line.contains("Great post!"), "payload in the logs: {line}");
    }
    assert!(lines.iter().any(|l| l.contains("will retry")));
    assert!(lines.iter().any(|l| l.contains("\"delivered\"")));
}
