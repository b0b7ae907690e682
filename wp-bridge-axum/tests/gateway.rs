//! The gateway over real HTTP on an ephemeral port, with in-memory backends
//! and a real worker: every "done when" behaviour of the foundation.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use serde_json::Value;
use wp_bridge_core::clock::SystemClock;
use wp_bridge_core::event::EventId;
use wp_bridge_core::event_log::{AttemptOutcome, DeliveryState, EventLog, MemoryEventLog};
use wp_bridge_core::idempotency::MemoryIdempotencyStore;
use wp_bridge_core::queue::{MemoryQueue, Queue};
use wp_bridge_core::routing::Routes;
use wp_bridge_core::signature::SecretSet;
use wp_bridge_core::sink::{DeliveryError, LogSink, Sink};
use wp_bridge_core::testing::{eventually, sample_body, ScriptedSink, SharedBuffer};
use wp_bridge_core::worker::{RetryPolicy, Worker, WorkerHandle};
use wp_bridge_core::GatewayBuilder;

const NEW_SECRET: &str = "new-signing-secret-0123456789";
const OLD_SECRET: &str = "old-signing-secret-0123456789";

struct App {
    url: String,
    log: Arc<MemoryEventLog>,
    queue: Arc<MemoryQueue>,
    worker: Option<WorkerHandle>,
    client: reqwest::Client,
}

struct Options {
    secrets: Vec<&'static str>,
    sink: Option<Arc<dyn Sink>>,
    max_queue_depth: u64,
    body_limit: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            secrets: vec![NEW_SECRET],
            sink: None,
            max_queue_depth: 10_000,
            body_limit: 64 * 1024,
        }
    }
}

impl App {
    async fn start(options: Options) -> Self {
        let clock = SystemClock::shared();
        let log = Arc::new(MemoryEventLog::new(clock.clone()));
        let queue = Arc::new(MemoryQueue::new(clock.clone()));
        let gateway = GatewayBuilder::new(SecretSet::new(&options.secrets).unwrap())
            .routes(Routes::all_to("log"))
            .max_queue_depth(options.max_queue_depth)
            .body_limit(options.body_limit)
            .build(
                Arc::new(MemoryIdempotencyStore::new(clock.clone())),
                log.clone(),
                queue.clone(),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, wp_bridge_axum::router(gateway))
                .await
                .unwrap();
        });
        let worker = options.sink.map(|sink| {
            Worker::builder(queue.clone(), log.clone())
                .sink("log", sink)
                .retry_policy(
                    RetryPolicy::exponential(Duration::from_millis(5), Duration::from_millis(20))
                        .max_attempts(3),
                )
                .poll_wait(Duration::from_millis(20))
                .build()
                .spawn()
        });
        Self {
            url,
            log,
            queue,
            worker,
            client: reqwest::Client::new(),
        }
    }

    fn post(&self, body: &[u8]) -> Signed {
        Signed {
            body: body.to_vec(),
            secret: NEW_SECRET,
            timestamp: now().to_string(),
            event_id: event_id_of(body),
            content_type: "application/json",
        }
    }

    async fn send(&self, s: Signed) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let ts_num = s.timestamp.parse::<u64>().unwrap_or(0);
        let signature = SecretSet::new([s.secret]).unwrap().sign(ts_num, &s.body);
        let response = self
            .client
            .post(format!("{}/webhooks/wp", self.url))
            .header("content-type", s.content_type)
            .header("x-wp-timestamp", s.timestamp)
            .header("x-wp-signature", signature)
            .header("x-event-id", s.event_id)
            .body(s.body)
            .send()
            .await
            .unwrap();
        decode(response).await
    }

    async fn assert_nothing_stored(&self) {
        assert!(
            self.log.is_empty(),
            "event log holds {} events",
            self.log.len()
        );
        assert_eq!(self.queue.depth().await.unwrap(), 0, "queue holds jobs");
    }
}

async fn decode(response: reqwest::Response) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let status = response.status();
    let headers = response.headers().clone();
    let body: Value = response.json().await.expect("every answer is JSON");
    (status, body, headers)
}

struct Signed {
    body: Vec<u8>,
    secret: &'static str,
    timestamp: String,
    event_id: String,
    content_type: &'static str,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn event_id_of(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["event_id"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "none".into())
}

fn new_id() -> String {
    uuid_like()
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!("evt-{}-{}", now(), N.fetch_add(1, Ordering::Relaxed))
}

async fn delivered_lines(out: &SharedBuffer, id: &str) -> usize {
    out.lines()
        .iter()
        .filter(|l| serde_json::from_str::<Value>(l).unwrap()["event_id"] == id)
        .count()
}

#[tokio::test]
async fn signed_event_is_accepted_and_delivered_once_and_its_duplicate_is_not() {
    let out = SharedBuffer::default();
    let app = App::start(Options {
        sink: Some(Arc::new(LogSink::new(out.clone()))),
        ..Options::default()
    })
    .await;
    let id = new_id();
    let body = sample_body(&id);

    let (status, first, headers) = app.send(app.post(&body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    assert_eq!(first["status"], "accepted");
    assert_eq!(first["event_id"], id.as_str());
    let correlation_id = first["correlation_id"].as_str().unwrap().to_owned();
    assert_eq!(
        headers["x-request-id"],
        correlation_id.as_str(),
        "the request id follows the event"
    );

    let delivered = eventually(Duration::from_secs(5), || async {
        (delivered_lines(&out, &id).await == 1).then_some(())
    })
    .await;
    assert!(delivered.is_some(), "the LogSink never received the event");
    let line: Value = serde_json::from_str(&out.lines()[0]).unwrap();
    assert_eq!(line["correlation_id"], correlation_id.as_str());
    assert_eq!(line["event"]["event"], "comment.created");

    let (status, dup, _) = app.send(app.post(&body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(dup["status"], "duplicate");
    assert_eq!(dup["correlation_id"], correlation_id.as_str());

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        delivered_lines(&out, &id).await,
        1,
        "the duplicate was delivered again"
    );
    assert_eq!(app.log.len(), 1);
}

#[tokio::test]
async fn twenty_concurrent_submissions_of_one_event_yield_one_202_and_nineteen_200() {
    let sink = ScriptedSink::new();
    let app = Arc::new(
        App::start(Options {
            sink: Some(Arc::new(sink.clone())),
            ..Options::default()
        })
        .await,
    );
    let id = new_id();
    let body = sample_body(&id);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let app = app.clone();
            let body = body.clone();
            tokio::spawn(async move { app.send(app.post(&body)).await })
        })
        .collect();
    let mut statuses = Vec::new();
    let mut correlation_ids = std::collections::HashSet::new();
    for t in tasks {
        let (status, body, _) = t.await.unwrap();
        statuses.push(status);
        correlation_ids.insert(body["correlation_id"].to_string());
    }
    let accepted = statuses
        .iter()
        .filter(|s| **s == StatusCode::ACCEPTED)
        .count();
    let duplicates = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!((accepted, duplicates), (1, 19), "{statuses:?}");
    assert_eq!(
        correlation_ids.len(),
        1,
        "duplicates must carry the original correlation id"
    );

    let event_id = EventId::new(id.clone()).unwrap();
    let delivered = eventually(Duration::from_secs(5), || async {
        (sink.deliveries_of(&event_id) == 1).then_some(())
    })
    .await;
    assert!(delivered.is_some());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.deliveries_of(&event_id), 1);
}

#[tokio::test]
async fn every_rejection_has_its_status_and_code_and_stores_nothing() {
    let app = App::start(Options {
        body_limit: 4096,
        ..Options::default()
    })
    .await;
    let id = new_id();
    let good = sample_body(&id);

    let cases: Vec<(&str, Signed, StatusCode, &str)> = vec![
        ("wrong secret", Signed { secret: "some-other-secret-000000", ..app.post(&good) }, StatusCode::UNAUTHORIZED, "bad_signature"),
        ("stale past", Signed { timestamp: (now() - 301).to_string(), ..app.post(&good) }, StatusCode::UNAUTHORIZED, "stale_timestamp"),
        ("stale future", Signed { timestamp: (now() + 301).to_string(), ..app.post(&good) }, StatusCode::UNAUTHORIZED, "stale_timestamp"),
        ("bad timestamp", Signed { timestamp: "soon".into(), ..app.post(&good) }, StatusCode::BAD_REQUEST, "invalid_timestamp"),
        ("id mismatch", Signed { event_id: "another-id".into(), ..app.post(&good) }, StatusCode::BAD_REQUEST, "event_id_mismatch"),
        ("not json", app.post(b"{\"event\": nope"), StatusCode::BAD_REQUEST, "invalid_json"),
        ("not an object", app.post(b"[1,2,3]"), StatusCode::BAD_REQUEST, "invalid_json"),
        ("form body", Signed { content_type: "application/x-www-form-urlencoded", ..app.post(&good) }, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        ("unknown type", app.post(br#"{"event":"user.deleted","event_id":"u-1","site":"https://a.example","data":{}}"#), StatusCode::UNPROCESSABLE_ENTITY, "unknown_event_type"),
        ("too large", app.post(&[b' '; 5000]), StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
    ];
    for (name, signed, status, code) in cases {
        let (got, body, _) = app.send(signed).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(code)),
            "{name}: {body}"
        );
        assert_eq!(body["status"], "rejected", "{name}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{name}"
        );
    }

    let invalid = br#"{"event":"order.created","event_id":"o-1","site":"not a url","data":{"id":"x","status":"processing","total":"1.00","currency":"EUR","customer":{"email":"bad","first_name":"A","last_name":"B"},"line_items":[],"created_at":"2026-12-04T10:00:00Z"}}"#;
    let (status, body, _) = app.send(app.post(invalid)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_event");
    let paths: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["$.site", "$.data.id", "$.data.customer.email"],
        "{body}"
    );

    for header in ["x-wp-signature", "x-wp-timestamp", "x-event-id"] {
        let mut request = app
            .client
            .post(format!("{}/webhooks/wp", app.url))
            .header("content-type", "application/json")
            .body(good.clone());
        for (name, value) in [
            (
                "x-wp-signature",
                SecretSet::new([NEW_SECRET]).unwrap().sign(now(), &good),
            ),
            ("x-wp-timestamp", now().to_string()),
            ("x-event-id", id.clone()),
        ] {
            if name != header {
                request = request.header(name, value);
            }
        }
        let (status, body, _) = decode(request.send().await.unwrap()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("missing_header")),
            "{header}"
        );
    }

    // A body over the limit sent without Content-Length (chunked) is cut off too.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..10).map(|_| Ok(vec![b' '; 1000])).collect();
    let stream = futures_util::stream::iter(chunks);
    let ts = now();
    let response = app
        .client
        .post(format!("{}/webhooks/wp", app.url))
        .header("content-type", "application/json")
        .header("x-wp-timestamp", ts.to_string())
        .header(
            "x-wp-signature",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .header("x-event-id", "chunked")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    let (status, body, _) = decode(response).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );

    let (status, body, headers) = decode(
        app.client
            .get(format!("{}/webhooks/wp", app.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
    );
    assert_eq!(headers["allow"], "POST");

    app.assert_nothing_stored().await;

    // The same id, now sent correctly, is still new: nothing was claimed by the rejections.
    let (status, _, _) = app.send(app.post(&good)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn overloaded_queue_answers_503_with_retry_after_and_stores_nothing() {
    let app = App::start(Options {
        max_queue_depth: 1,
        ..Options::default()
    })
    .await;
    let (status, _, _) = app.send(app.post(&sample_body(&new_id()))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let id = new_id();
    let (status, body, headers) = app.send(app.post(&sample_body(&id))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"], "overloaded");
    assert_eq!(headers["retry-after"], "5");
    assert_eq!(app.log.len(), 1, "the refused event was stored");
    assert_eq!(app.queue.depth().await.unwrap(), 1);
    assert!(app
        .log
        .load(&EventId::new(id).unwrap())
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn old_secret_passes_during_rotation_and_fails_after_it() {
    let body = sample_body(&new_id());
    let during = App::start(Options {
        secrets: vec![NEW_SECRET, OLD_SECRET],
        ..Options::default()
    })
    .await;
    let (status, _, _) = during
        .send(Signed {
            secret: OLD_SECRET,
            ..during.post(&body)
        })
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let after = App::start(Options::default()).await;
    let (status, rejected, _) = after
        .send(Signed {
            secret: OLD_SECRET,
            ..after.post(&body)
        })
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(rejected["error"], "bad_signature");
    let (status, _, _) = after
        .send(Signed {
            secret: NEW_SECRET,
            ..after.post(&body)
        })
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn retryable_failures_are_retried_until_delivered_once() {
    let sink = ScriptedSink::failing([
        DeliveryError::Retryable {
            message: "HTTP 503".into(),
            retry_after: None,
            status_code: Some(503),
        },
        DeliveryError::Retryable {
            message: "HTTP 429".into(),
            retry_after: Some(Duration::from_millis(30)),
            status_code: Some(429),
        },
    ]);
    let app = App::start(Options {
        sink: Some(Arc::new(sink.clone())),
        ..Options::default()
    })
    .await;
    let id = new_id();
    let (status, _, _) = app.send(app.post(&sample_body(&id))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let event_id = EventId::new(id).unwrap();

    let delivered = eventually(Duration::from_secs(5), || async {
        let stored = app.log.load(&event_id).await.unwrap()?;
        (stored.deliveries[0].state == DeliveryState::Delivered).then_some(stored)
    })
    .await
    .expect("delivered after two retryable failures");
    assert_eq!(delivered.deliveries[0].attempts, 3);
    assert_eq!(sink.deliveries_of(&event_id), 1);
    assert_eq!(sink.calls(), 3);
    let attempts = app.log.attempts(&event_id).await.unwrap();
    assert_eq!(attempts.len(), 3);
    assert!(matches!(
        attempts[0].outcome,
        AttemptOutcome::Retry {
            status_code: Some(503),
            ..
        }
    ));
    assert!(matches!(
        attempts[1].outcome,
        AttemptOutcome::Retry {
            status_code: Some(429),
            ..
        }
    ));
    assert!(matches!(
        attempts[2].outcome,
        AttemptOutcome::Delivered { .. }
    ));
    assert!(
        attempts[2]
            .started_at
            .duration_since(attempts[1].started_at)
            .unwrap()
            >= Duration::from_millis(30),
        "Retry-After was not honoured"
    );
    eventually(Duration::from_secs(2), || async {
        (app.queue.depth().await.unwrap() == 0).then_some(())
    })
    .await
    .expect("the job is settled");
}

#[tokio::test]
async fn permanent_failure_is_dead_lettered_with_its_last_error_and_not_retried() {
    let sink = ScriptedSink::always_failing(DeliveryError::Permanent {
        message: "Slack says channel_is_archived: the webhook needs fixing".into(),
        status_code: Some(410),
    });
    let app = App::start(Options {
        sink: Some(Arc::new(sink.clone())),
        ..Options::default()
    })
    .await;
    let id = new_id();
    app.send(app.post(&sample_body(&id))).await;
    let event_id = EventId::new(id).unwrap();

    let dead = eventually(Duration::from_secs(5), || async {
        let stored = app.log.load(&event_id).await.unwrap()?;
        (stored.deliveries[0].state == DeliveryState::Dead).then_some(stored.deliveries[0].clone())
    })
    .await
    .expect("dead-lettered");
    assert_eq!(dead.attempts, 1, "a permanent error was retried");
    assert_eq!(dead.last_status_code, Some(410));
    assert!(dead.last_error.unwrap().contains("channel_is_archived"));
    let dead_jobs = eventually(Duration::from_secs(2), || async {
        let jobs = app.queue.dead_jobs();
        (!jobs.is_empty()).then_some(jobs)
    })
    .await
    .unwrap();
    assert_eq!(dead_jobs[0].0.event_id, event_id);
    assert!(dead_jobs[0].1.contains("channel_is_archived"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sink.calls(), 1);
}

#[tokio::test]
async fn retryable_failures_are_dead_lettered_after_the_last_attempt() {
    let sink = ScriptedSink::always_failing(DeliveryError::Retryable {
        message: "HTTP 502 bad gateway".into(),
        retry_after: None,
        status_code: Some(502),
    });
    let app = App::start(Options {
        sink: Some(Arc::new(sink.clone())),
        ..Options::default()
    })
    .await;
    let id = new_id();
    app.send(app.post(&sample_body(&id))).await;
    let event_id = EventId::new(id).unwrap();
    let dead = eventually(Duration::from_secs(5), || async {
        let stored = app.log.load(&event_id).await.unwrap()?;
        (stored.deliveries[0].state == DeliveryState::Dead).then_some(stored.deliveries[0].clone())
    })
    .await
    .expect("dead-lettered after max attempts");
    assert_eq!(dead.attempts, 3);
    assert!(dead
        .last_error
        .unwrap()
        .contains("gave up after 3 attempts"));
    assert_eq!(sink.calls(), 3);
}

#[tokio::test]
async fn health_and_unknown_routes_answer_json() {
    let app = App::start(Options::default()).await;
    let (status, body, _) = decode(
        app.client
            .get(format!("{}/healthz", app.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, body, _) = decode(
        app.client
            .get(format!("{}/nope", app.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    if let Some(worker) = app.worker {
        worker.shutdown().await;
    }
}
