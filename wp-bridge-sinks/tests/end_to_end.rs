//! The whole path on the in-memory backends: a signed request through the
//! gateway, the queue, the real worker, the OpenAI enricher, then Slack and
//! HubSpot, each against its fake API.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use http::{Request, StatusCode};
use http_body_util::Full;
use tower::ServiceExt;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use wp_bridge_core::clock::{Clock, SystemClock};
use wp_bridge_core::event::{EventId, EventType, SinkName};
use wp_bridge_core::event_log::{DeliveryRecord, DeliveryState, EventLog, MemoryEventLog};
use wp_bridge_core::idempotency::MemoryIdempotencyStore;
use wp_bridge_core::queue::MemoryQueue;
use wp_bridge_core::routing::Routes;
use wp_bridge_core::signature::SecretSet;
use wp_bridge_core::testing::eventually;
use wp_bridge_core::worker::{RetryPolicy, Worker, WorkerHandle};
use wp_bridge_core::{GatewayBuilder, GatewayService};
use wp_bridge_sinks::hubspot::{HubSpotConfig, HubSpotSink};
use wp_bridge_sinks::openai::{OpenAiConfig, OpenAiSink};
use wp_bridge_sinks::slack::{SlackConfig, SlackSink};

const SIGNING_SECRET: &str = "end-to-end-signing-secret-0123456789";
const HOOK_PATH: &str = "/services/T0001/B0002/e2eWebhookToken";

struct Fakes {
    slack: MockServer,
    hubspot: MockServer,
    openai: MockServer,
}

impl Fakes {
    /// Slack and HubSpot that accept everything; OpenAI as scripted.
    async fn start(openai_answers: Vec<ResponseTemplate>) -> Self {
        let slack = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(HOOK_PATH))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "text/html")
                    .set_body_string("ok"),
            )
            .mount(&slack)
            .await;

        let hubspot = MockServer::start().await;
        for (verb, at, status, fixture_name) in [
            (
                "POST",
                "/crm/v3/objects/contacts/batch/upsert",
                200,
                "hubspot_contact_upsert",
            ),
            (
                "POST",
                "/crm/v3/objects/deals/batch/upsert",
                200,
                "hubspot_deal_upsert",
            ),
            ("POST", "/crm/v3/objects/notes", 201, "hubspot_note"),
            (
                "PUT",
                "/crm/v4/objects/deals/7001/associations/default/contacts/501",
                200,
                "hubspot_association",
            ),
        ] {
            Mock::given(method(verb))
                .and(path(at))
                .respond_with(hubspot_ok(status, fixture_name))
                .mount(&hubspot)
                .await;
        }

        let openai = MockServer::start().await;
        let last = openai_answers.len();
        for (i, answer) in openai_answers.into_iter().enumerate() {
            let mock = Mock::given(method("POST"))
                .and(path("/v1/chat/completions"))
                .respond_with(answer);
            // Every answer but the last is given once, in order.
            let mock = if i + 1 < last {
                mock.up_to_n_times(1)
            } else {
                mock
            };
            mock.mount(&openai).await;
        }
        Self {
            slack,
            hubspot,
            openai,
        }
    }
}

struct Stack {
    gateway: GatewayService,
    log: Arc<MemoryEventLog>,
    worker: Option<WorkerHandle>,
}

impl Stack {
    fn start(fakes: &Fakes) -> Self {
        let clock = SystemClock::shared();
        let log = Arc::new(MemoryEventLog::new(clock.clone()));
        let queue = Arc::new(MemoryQueue::new(clock.clone()));
        let everything = ["openai", "slack", "hubspot"];
        let routes = Routes::new()
            .route(EventType::CommentCreated, everything)
            .route(EventType::LeadCreated, everything)
            .route(EventType::OrderCreated, everything);
        let gateway = GatewayBuilder::new(SecretSet::new([SIGNING_SECRET]).unwrap())
            .routes(routes)
            .build(
                Arc::new(MemoryIdempotencyStore::new(clock.clone())),
                log.clone(),
                queue.clone(),
            );
        let openai = OpenAiSink::new(
            OpenAiConfig::new("sk-e2e-key-0123456789")
                .base_url(format!("{}/v1", fakes.openai.uri())),
        )
        .unwrap();
        let slack = SlackSink::new(SlackConfig::new(format!(
            "{}{HOOK_PATH}",
            fakes.slack.uri()
        )))
        .unwrap();
        let hubspot =
            HubSpotSink::new(HubSpotConfig::new("pat-na1-e2e-token").base_url(fakes.hubspot.uri()))
                .unwrap();
        let worker = Worker::builder(queue, log.clone())
            .enricher("openai", Arc::new(openai))
            .sink("slack", Arc::new(slack))
            .sink("hubspot", Arc::new(hubspot))
            .retry_policy(
                RetryPolicy::exponential(Duration::from_millis(5), Duration::from_millis(50))
                    .max_attempts(4),
            )
            .poll_wait(Duration::from_millis(20))
            .build()
            .spawn();
        Self {
            gateway,
            log,
            worker: Some(worker),
        }
    }

    /// Posts a sample event, signed, with `X-Request-Id: e2e-<name>`.
    async fn post(&self, name: &str) -> EventId {
        let file = format!(
            "{}/../testdata/events/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let body = std::fs::read(file).unwrap();
        let event = wp_bridge_core::event::parse_event(&body).unwrap();
        let now = SystemClock.unix_seconds();
        let request = Request::post("/webhooks/wp")
            .header("content-type", "application/json")
            .header("x-wp-timestamp", now.to_string())
            .header(
                "x-wp-signature",
                SecretSet::new([SIGNING_SECRET]).unwrap().sign(now, &body),
            )
            .header("x-event-id", event.event_id.as_str())
            .header("x-request-id", format!("e2e-{name}"))
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let response = self.gateway.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        event.event_id
    }

    async fn delivery(&self, id: &EventId, sink: &str) -> DeliveryRecord {
        let stored = self.log.load(id).await.unwrap().unwrap();
        stored.delivery(&SinkName::new(sink)).unwrap().clone()
    }

    /// Waits until every sink of `id` is delivered or dead.
    async fn settled(&self, id: &EventId) {
        eventually(Duration::from_secs(10), || async {
            let stored = self.log.load(id).await.unwrap().unwrap();
            stored
                .deliveries
                .iter()
                .all(|d| matches!(d.state, DeliveryState::Delivered | DeliveryState::Dead))
                .then_some(())
        })
        .await
        .expect("every delivery settles within 10 s");
    }

    async fn stop(mut self) {
        if let Some(worker) = self.worker.take() {
            worker.shutdown().await;
        }
    }
}

/// Slack messages the fake received, as text.
async fn slack_messages(fakes: &Fakes) -> Vec<String> {
    fakes
        .slack
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| String::from_utf8(r.body.clone()).unwrap())
        .collect()
}

async fn hubspot_notes(fakes: &Fakes) -> Vec<String> {
    fakes
        .hubspot
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/crm/v3/objects/notes")
        .map(|r| {
            body_json(r)["properties"]["hs_note_body"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

const SUMMARY: &str = "The reader thanks the author for the post.";

#[tokio::test]
async fn events_are_enriched_then_delivered_to_slack_and_hubspot_with_the_enrichment() {
    let fakes = Fakes::start(vec![openai(json_response(200, "openai_chat_completion"))]).await;
    let stack = Stack::start(&fakes);
    let lead = stack.post("lead").await;
    let order = stack.post("order").await;
    let comment = stack.post("comment").await;
    for id in [&lead, &order, &comment] {
        stack.settled(id).await;
        for sink in ["openai", "slack", "hubspot"] {
            assert_eq!(
                stack.delivery(id, sink).await.state,
                DeliveryState::Delivered,
                "{id} {sink}"
            );
        }
    }

    // OpenAI saw the comment and the lead, with their correlation and event ids.
    let calls = fakes.openai.received_requests().await.unwrap();
    assert_eq!(calls.len(), 2, "orders are not sent to OpenAI");
    let mut seen: Vec<(String, String)> = calls
        .iter()
        .map(|r| {
            (
                header(r, "x-request-id").to_owned(),
                header(r, "x-client-request-id").to_owned(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("e2e-comment".to_owned(), comment.to_string()),
            ("e2e-lead".to_owned(), lead.to_string()),
        ]
    );
    let enriched = stack.delivery(&lead, "openai").await;
    assert_eq!(
        enriched.reference.as_deref(),
        Some("chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT")
    );
    assert_eq!(enriched.output.unwrap()["summary"], SUMMARY);
    assert_eq!(stack.delivery(&order, "openai").await.output, None);

    // Slack: three messages; the enriched ones carry the summary.
    let messages = slack_messages(&fakes).await;
    assert_eq!(messages.len(), 3);
    let with_summary = messages.iter().filter(|m| m.contains(SUMMARY)).count();
    assert_eq!(with_summary, 2, "{messages:#?}");
    assert!(messages
        .iter()
        .any(|m| m.contains("New order #1042") && !m.contains(SUMMARY)));
    for request in fakes.slack.received_requests().await.unwrap() {
        assert!(header(&request, "x-request-id").starts_with("e2e-"));
    }

    // HubSpot: notes for the lead and the comment carry it; the order is a deal.
    let notes = hubspot_notes(&fakes).await;
    assert_eq!(notes.len(), 2);
    assert!(notes.iter().all(|n| n.contains(SUMMARY)), "{notes:#?}");
    assert_eq!(
        stack.delivery(&lead, "hubspot").await.reference.as_deref(),
        Some("contact/501 note/9001")
    );
    assert_eq!(
        stack.delivery(&order, "hubspot").await.reference.as_deref(),
        Some("contact/501 deal/7001")
    );
    stack.stop().await;
}

#[tokio::test]
async fn while_openai_is_rate_limited_the_other_sinks_wait_for_its_summary() {
    let rate_limited = openai(json_response(429, "openai_rate_limit_exceeded"))
        .insert_header("retry-after-ms", "50");
    let fakes = Fakes::start(vec![
        rate_limited,
        openai(json_response(200, "openai_chat_completion")),
    ])
    .await;
    let stack = Stack::start(&fakes);
    let lead = stack.post("lead").await;
    stack.settled(&lead).await;

    let enricher = stack.delivery(&lead, "openai").await;
    assert_eq!(enricher.state, DeliveryState::Delivered);
    assert_eq!(enricher.attempts, 2);
    let slack = stack.delivery(&lead, "slack").await;
    assert_eq!((slack.state, slack.attempts), (DeliveryState::Delivered, 1));
    let messages = slack_messages(&fakes).await;
    assert_eq!(messages.len(), 1);
    assert!(messages[0].contains(SUMMARY), "{}", messages[0]);
    assert!(hubspot_notes(&fakes).await[0].contains(SUMMARY));
    stack.stop().await;
}

#[tokio::test]
async fn when_openai_refuses_for_good_the_event_is_delivered_without_enrichment() {
    let fakes = Fakes::start(vec![openai(json_response(
        429,
        "openai_insufficient_quota",
    ))])
    .await;
    let stack = Stack::start(&fakes);
    let comment = stack.post("comment").await;
    stack.settled(&comment).await;

    let enricher = stack.delivery(&comment, "openai").await;
    assert_eq!(
        (enricher.state, enricher.attempts),
        (DeliveryState::Dead, 1)
    );
    assert!(enricher.last_error.unwrap().contains("insufficient_quota"));
    assert_eq!(enricher.last_status_code, Some(429));
    assert_eq!(
        stack.delivery(&comment, "slack").await.state,
        DeliveryState::Delivered
    );
    assert_eq!(
        stack.delivery(&comment, "hubspot").await.state,
        DeliveryState::Delivered
    );
    let messages = slack_messages(&fakes).await;
    assert_eq!(messages.len(), 1);
    assert!(messages[0].contains("Lovely post, thank you!"));
    assert!(!messages[0].contains(":sparkles:"));
    assert!(!hubspot_notes(&fakes).await[0].contains("AI ("));
    stack.stop().await;
}
