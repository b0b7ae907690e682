//! The assembled tower stack, driven with `oneshot`: concurrent duplicates,
//! and what the gateway answers when a backing store fails.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use tower::ServiceExt;
use wp_bridge_core::clock::{Clock, SystemClock};
use wp_bridge_core::event::{EventId, Job, SinkName};
use wp_bridge_core::event_log::{
    AttemptOutcome, AttemptRecord, AttemptStart, EventLog, MemoryEventLog, NewEvent, RecordOutcome,
    StoredEvent,
};
use wp_bridge_core::idempotency::{Claim, IdempotencyStore, MemoryIdempotencyStore};
use wp_bridge_core::queue::{MemoryQueue, Queue};
use wp_bridge_core::response::GatewayResponse;
use wp_bridge_core::routing::Routes;
use wp_bridge_core::signature::SecretSet;
use wp_bridge_core::testing::sample_body;
use wp_bridge_core::{GatewayBuilder, GatewayService, StoreError};

const SECRET: &str = "gateway-stack-secret-0123456789";

/// A memory event log whose `record` fails while `down` is set.
#[derive(Debug)]
struct FlakyEventLog {
    inner: MemoryEventLog,
    down: AtomicBool,
}

#[async_trait]
impl EventLog for FlakyEventLog {
    async fn record(&self, event: NewEvent) -> Result<RecordOutcome, StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable("test", "connection refused"));
        }
        self.inner.record(event).await
    }
    async fn load(&self, id: &EventId) -> Result<Option<StoredEvent>, StoreError> {
        self.inner.load(id).await
    }
    async fn begin_attempt(
        &self,
        id: &EventId,
        sink: &SinkName,
        lease: Duration,
    ) -> Result<AttemptStart, StoreError> {
        self.inner.begin_attempt(id, sink, lease).await
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
        self.inner
            .finish_attempt(id, sink, attempt, started_at, duration, outcome)
            .await
    }
    async fn attempts(&self, id: &EventId) -> Result<Vec<AttemptRecord>, StoreError> {
        self.inner.attempts(id).await
    }
    async fn reclaim_stalled(
        &self,
        stalled_before: SystemTime,
        hold: Duration,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError> {
        self.inner
            .reclaim_stalled(stalled_before, hold, limit)
            .await
    }
    async fn purge(&self, before: SystemTime) -> Result<u64, StoreError> {
        self.inner.purge(before).await
    }
}

struct Stack {
    service: GatewayService,
    idempotency: Arc<MemoryIdempotencyStore>,
    log: Arc<FlakyEventLog>,
    queue: Arc<MemoryQueue>,
}

fn stack(in_progress_wait: Duration) -> Stack {
    let clock = SystemClock::shared();
    let idempotency = Arc::new(MemoryIdempotencyStore::new(clock.clone()));
    let log = Arc::new(FlakyEventLog {
        inner: MemoryEventLog::new(clock.clone()),
        down: AtomicBool::new(false),
    });
    let queue = Arc::new(MemoryQueue::new(clock));
    let service = GatewayBuilder::new(SecretSet::new([SECRET]).unwrap())
        .routes(Routes::all_to("log"))
        .in_progress_wait(in_progress_wait)
        .build(idempotency.clone(), log.clone(), queue.clone());
    Stack {
        service,
        idempotency,
        log,
        queue,
    }
}

fn request(id: &str) -> Request<Full<Bytes>> {
    let body = sample_body(id);
    let now = SystemClock.unix_seconds();
    Request::post("/webhooks/wp")
        .header("content-type", "application/json")
        .header("x-wp-timestamp", now.to_string())
        .header(
            "x-wp-signature",
            SecretSet::new([SECRET]).unwrap().sign(now, &body),
        )
        .header("x-event-id", id)
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

async fn json(response: GatewayResponse) -> (StatusCode, serde_json::Value, http::HeaderMap) {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap(), headers)
}

#[tokio::test]
async fn a_duplicate_of_a_request_still_running_after_the_wait_gets_429() {
    let s = stack(Duration::from_millis(50));
    let id = EventId::new("stuck").unwrap();
    // Another gateway instance holds the claim and never settles it.
    assert_eq!(
        s.idempotency
            .claim(&id, Duration::from_secs(60))
            .await
            .unwrap(),
        Claim::Won
    );
    let (status, body, headers) = json(s.service.oneshot(request("stuck")).await.unwrap()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"], "duplicate_in_progress");
    assert_eq!(headers["retry-after"], "1");
    assert!(s.log.inner.is_empty());
}

#[tokio::test]
async fn a_duplicate_waits_and_takes_over_when_the_first_request_gives_up() {
    let s = stack(Duration::from_secs(5));
    let id = EventId::new("released").unwrap();
    assert_eq!(
        s.idempotency
            .claim(&id, Duration::from_secs(60))
            .await
            .unwrap(),
        Claim::Won
    );
    let waiting = tokio::spawn(s.service.clone().oneshot(request("released")));
    tokio::time::sleep(Duration::from_millis(50)).await;
    s.idempotency.release(&id).await.unwrap();
    let (status, body, _) = json(waiting.await.unwrap().unwrap()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

#[tokio::test]
async fn event_log_down_answers_503_stores_nothing_and_recovers() {
    let s = stack(Duration::from_secs(2));
    s.log.down.store(true, Ordering::SeqCst);
    let (status, body, headers) =
        json(s.service.clone().oneshot(request("outage")).await.unwrap()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"], "storage_unavailable");
    assert_eq!(headers["retry-after"], "5");
    assert!(
        !body.to_string().contains("connection refused"),
        "driver detail leaked: {body}"
    );
    assert!(s.log.inner.is_empty());
    assert_eq!(s.queue.depth().await.unwrap(), 0);

    // The claim was released: the sender's retry is accepted once the log is back.
    s.log.down.store(false, Ordering::SeqCst);
    let (status, _, _) = json(s.service.oneshot(request("outage")).await.unwrap()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(s.queue.depth().await.unwrap(), 1);
}

/// A memory queue that fails every call while `down` is set, like Redis stopped.
#[derive(Debug)]
struct DownQueue {
    inner: MemoryQueue,
    down: AtomicBool,
}

impl DownQueue {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable("test", "connection refused"));
        }
        Ok(())
    }
}

#[async_trait]
impl Queue for DownQueue {
    async fn enqueue(
        &self,
        job: &wp_bridge_core::event::Job,
        delay: Duration,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.enqueue(job, delay).await
    }
    async fn reserve(
        &self,
        lease: Duration,
        wait: Duration,
    ) -> Result<Option<wp_bridge_core::queue::Reserved>, StoreError> {
        self.check()?;
        self.inner.reserve(lease, wait).await
    }
    async fn ack(&self, lease: &wp_bridge_core::queue::LeaseId) -> Result<(), StoreError> {
        self.inner.ack(lease).await
    }
    async fn retry(
        &self,
        lease: &wp_bridge_core::queue::LeaseId,
        delay: Duration,
    ) -> Result<(), StoreError> {
        self.inner.retry(lease, delay).await
    }
    async fn dead_letter(
        &self,
        lease: &wp_bridge_core::queue::LeaseId,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.inner.dead_letter(lease, reason).await
    }
    async fn depth(&self) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.depth().await
    }
}

#[tokio::test]
async fn queue_down_still_accepts_into_the_event_log_and_the_reconciler_enqueues_later() {
    let clock = wp_bridge_core::clock::ManualClock::starting_now();
    let shared: wp_bridge_core::clock::SharedClock = Arc::new(clock.clone());
    let log = Arc::new(MemoryEventLog::new(shared.clone()));
    let queue = Arc::new(DownQueue {
        inner: MemoryQueue::new(shared.clone()),
        down: AtomicBool::new(true),
    });
    let service = GatewayBuilder::new(SecretSet::new([SECRET]).unwrap())
        .routes(Routes::all_to("log"))
        .clock(shared.clone())
        .build(
            Arc::new(MemoryIdempotencyStore::new(shared.clone())),
            log.clone(),
            queue.clone(),
        );
    let now = clock.unix_seconds();
    let body = sample_body("queue-down");
    let request = Request::post("/webhooks/wp")
        .header("content-type", "application/json")
        .header("x-wp-timestamp", now.to_string())
        .header(
            "x-wp-signature",
            SecretSet::new([SECRET]).unwrap().sign(now, &body),
        )
        .header("x-event-id", "queue-down")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let (status, _, _) = json(service.oneshot(request).await.unwrap()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(log.len(), 1);

    queue.down.store(false, Ordering::SeqCst);
    assert_eq!(
        queue.depth().await.unwrap(),
        0,
        "nothing reached the queue while it was down"
    );
    let reconciler = wp_bridge_core::reconciler::Reconciler::new(log, queue.clone()).clock(shared);
    clock.advance(Duration::from_secs(120));
    assert_eq!(reconciler.sweep().await.unwrap(), 1);
    assert_eq!(queue.depth().await.unwrap(), 1);
}

#[tokio::test]
async fn a_cached_depth_is_reused_within_its_ttl_and_read_again_after() {
    use tower::Layer as _;
    use wp_bridge_core::layer::BackpressureLayer;
    let queue = Arc::new(MemoryQueue::new(SystemClock::shared()));
    let ok = tower::service_fn(|_: Request<()>| async {
        Ok::<GatewayResponse, std::convert::Infallible>(wp_bridge_core::response::json_response(
            StatusCode::ACCEPTED,
            "ok",
        ))
    });
    let cached = BackpressureLayer::new(queue.clone(), 1)
        .depth_cache(Duration::from_millis(200))
        .layer(ok);
    let uncached = BackpressureLayer::new(queue.clone(), 1).layer(ok);
    assert_eq!(
        cached
            .clone()
            .oneshot(Request::new(()))
            .await
            .unwrap()
            .status(),
        StatusCode::ACCEPTED
    );
    let job = Job {
        event_id: EventId::new("fill").unwrap(),
        correlation_id: wp_bridge_core::event::CorrelationId::generate(),
        sinks: vec![],
    };
    queue.enqueue(&job, Duration::ZERO).await.unwrap();
    assert_eq!(
        uncached.oneshot(Request::new(())).await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        cached
            .clone()
            .oneshot(Request::new(()))
            .await
            .unwrap()
            .status(),
        StatusCode::ACCEPTED,
        "within the TTL the cached depth stands"
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(
        cached.oneshot(Request::new(())).await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "after it, the queue is asked again"
    );
}
