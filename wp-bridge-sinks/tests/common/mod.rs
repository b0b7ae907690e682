//! Shared fixtures for the sink tests: sample events, contexts, recorded
//! API bodies, fake-server headers and a log capture.
// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use wiremock::ResponseTemplate;
use wp_bridge_core::event::{parse_event, CorrelationId, Event, SinkName};
use wp_bridge_core::sink::{DeliveryContext, DeliveryError};
use wp_bridge_core::testing::SharedBuffer;

/// The correlation id every test context carries.
pub(crate) const CORRELATION_ID: &str = "corr-7f3a9c21";
/// The sender's W3C trace context the worker would pass on.
pub(crate) const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// One of the repository's sample events: `comment`, `order` or `lead`.
pub(crate) fn event(name: &str) -> Event {
    let path = format!(
        "{}/../testdata/events/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let body = std::fs::read(&path).unwrap();
    parse_event(&body).unwrap()
}

/// An event from JSON.
pub(crate) fn event_from(json: Value) -> Event {
    parse_event(json.to_string().as_bytes()).unwrap()
}

/// The context the worker would pass on a first attempt.
pub(crate) fn ctx(event: &Event) -> DeliveryContext {
    DeliveryContext {
        event_id: event.event_id.clone(),
        correlation_id: CorrelationId::new(CORRELATION_ID).unwrap(),
        sink: SinkName::new("test"),
        attempt: 1,
        enrichment: BTreeMap::new(),
        traceparent: Some(TRACEPARENT.into()),
    }
}

/// A context carrying an enricher's output under `name`.
pub(crate) fn ctx_with_enrichment(event: &Event, name: &str, output: Value) -> DeliveryContext {
    let mut ctx = ctx(event);
    ctx.enrichment.insert(SinkName::new(name), output);
    ctx
}

/// What the OpenAI sink hands on for the sample comment.
pub(crate) fn enrichment() -> Value {
    serde_json::json!({
        "summary": "The reader thanks the author for the post.",
        "spam": false,
        "sentiment": "positive",
        "intent": "praise",
        "model": "gpt-4o-mini-2024-07-18",
        "prompt_version": "wp-bridge-classify-v1",
        "response_id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "usage": {"prompt_tokens": 300, "completion_tokens": 40, "total_tokens": 340},
        "cached": false
    })
}

/// A recorded API body from `tests/fixtures`.
pub(crate) fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap()
}

/// A JSON answer with a recorded body.
pub(crate) fn json_response(status: u16, fixture_name: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/json;charset=utf-8")
        .set_body_string(fixture(fixture_name))
}

/// The rate-limit headers HubSpot puts on every private-app answer.
pub(crate) fn hubspot(
    template: ResponseTemplate,
    remaining: u32,
    interval_ms: u32,
) -> ResponseTemplate {
    template
        .insert_header("x-hubspot-ratelimit-daily", "250000")
        .insert_header("x-hubspot-ratelimit-daily-remaining", "249000")
        .insert_header(
            "x-hubspot-ratelimit-interval-milliseconds",
            interval_ms.to_string().as_str(),
        )
        .insert_header("x-hubspot-ratelimit-max", "100")
        .insert_header(
            "x-hubspot-ratelimit-remaining",
            remaining.to_string().as_str(),
        )
        .insert_header(
            "x-hubspot-correlation-id",
            "5a1f0c2e-0000-4000-8000-000000000001",
        )
}

/// HubSpot's answer with a comfortable rate-limit budget.
pub(crate) fn hubspot_ok(status: u16, fixture_name: &str) -> ResponseTemplate {
    hubspot(json_response(status, fixture_name), 99, 10_000)
}

/// The meta and rate-limit headers OpenAI puts on every answer.
pub(crate) fn openai(template: ResponseTemplate) -> ResponseTemplate {
    template
        .insert_header("x-request-id", "req_7b1c0e6f2d3a4b5c")
        .insert_header("openai-organization", "org-xz3example")
        .insert_header("openai-processing-ms", "412")
        .insert_header("openai-version", "2020-10-01")
        .insert_header("x-ratelimit-limit-requests", "500")
        .insert_header("x-ratelimit-limit-tokens", "200000")
        .insert_header("x-ratelimit-remaining-requests", "499")
        .insert_header("x-ratelimit-remaining-tokens", "199615")
        .insert_header("x-ratelimit-reset-requests", "120ms")
        .insert_header("x-ratelimit-reset-tokens", "115ms")
}

/// Asserts a retryable error with this status and wait.
#[track_caller]
pub(crate) fn assert_retryable(
    err: &DeliveryError,
    status: Option<u16>,
    retry_after: Option<Duration>,
) {
    match err {
        DeliveryError::Retryable {
            status_code,
            retry_after: got,
            ..
        } => {
            assert_eq!(*status_code, status, "{err}");
            assert_eq!(*got, retry_after, "{err}");
        }
        other => panic!("expected a retryable error, got {other:?}"),
    }
}

/// Asserts a permanent error with this status whose message contains
/// every one of `needles`.
#[track_caller]
pub(crate) fn assert_permanent(err: &DeliveryError, status: Option<u16>, needles: &[&str]) {
    match err {
        DeliveryError::Permanent {
            status_code,
            message,
        } => {
            assert_eq!(*status_code, status, "{err}");
            for needle in needles {
                assert!(message.contains(needle), "{needle:?} not in {message:?}");
            }
        }
        other => panic!("expected a permanent error, got {other:?}"),
    }
}

/// A URL on this machine where nothing listens.
pub(crate) fn closed_port_url(path: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}{path}")
}

/// Every log line, at every level, written on this thread while the guard
/// lives. Use with a current-thread runtime so connection tasks log here too.
pub(crate) fn capture_logs() -> (SharedBuffer, tracing::subscriber::DefaultGuard) {
    let buffer = SharedBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    (buffer, tracing::subscriber::set_default(subscriber))
}

/// The JSON body of a recorded request.
pub(crate) fn body_json(request: &wiremock::Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

/// A header of a recorded request.
pub(crate) fn header<'a>(request: &'a wiremock::Request, name: &str) -> &'a str {
    request
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}
