//! The HubSpot sink against a fake CRM v3 API that answers with HubSpot's
//! shapes: batch upsert results (200/207), `{status, message,
//! correlationId, category, errors[]}` errors, the 409 naming the existing
//! contact, 429s with their policy, and rate-limit headers on every answer.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use common::*;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};
use wp_bridge_core::event::EventId;
use wp_bridge_core::sink::{Delivered, Sink};
use wp_bridge_sinks::hubspot::{
    ContactWrite, HubSpotConfig, HubSpotSink, MemoryNoteIdStore, NoteIdStore,
};
use wp_bridge_sinks::Error;

const TOKEN: &str = "pat-na1-s3cr3t-0000-1111";

const CONTACT_UPSERT: &str = "/crm/v3/objects/contacts/batch/upsert";
const DEAL_UPSERT: &str = "/crm/v3/objects/deals/batch/upsert";
const NOTES: &str = "/crm/v3/objects/notes";

fn config(server: &MockServer) -> HubSpotConfig {
    HubSpotConfig::new(TOKEN).base_url(server.uri())
}

fn sink(server: &MockServer) -> HubSpotSink {
    HubSpotSink::new(config(server)).unwrap()
}

async fn mount(server: &MockServer, verb: &str, at: &str, template: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(at))
        .respond_with(template)
        .mount(server)
        .await;
}

/// A fake portal where every write succeeds.
async fn healthy_portal() -> MockServer {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        CONTACT_UPSERT,
        hubspot_ok(200, "hubspot_contact_upsert"),
    )
    .await;
    mount(
        &server,
        "POST",
        DEAL_UPSERT,
        hubspot_ok(200, "hubspot_deal_upsert"),
    )
    .await;
    mount(&server, "POST", NOTES, hubspot_ok(201, "hubspot_note")).await;
    mount(
        &server,
        "PUT",
        "/crm/v4/objects/deals/7001/associations/default/contacts/501",
        hubspot_ok(200, "hubspot_association"),
    )
    .await;
    server
}

/// Every request the fake saw, checked for auth and the correlation id.
async fn requests(server: &MockServer) -> Vec<Request> {
    let requests = server.received_requests().await.unwrap();
    for request in &requests {
        assert_eq!(header(request, "authorization"), format!("Bearer {TOKEN}"));
        assert_eq!(header(request, "x-request-id"), CORRELATION_ID);
        let traceparent = header(request, "traceparent");
        assert!(
            traceparent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-")
                && traceparent != TRACEPARENT,
            "the sender's trace continues with a span of this call: {traceparent}"
        );
        if !request.body.is_empty() {
            assert_eq!(header(request, "content-type"), "application/json");
        }
    }
    requests
}

fn call(request: &Request) -> (String, String) {
    let target = match request.url.query() {
        Some(query) => format!("{}?{query}", request.url.path()),
        None => request.url.path().to_owned(),
    };
    (request.method.to_string(), target)
}

#[tokio::test]
async fn a_lead_becomes_a_contact_upserted_by_email_and_a_note() {
    let server = healthy_portal().await;
    let event = event("lead");
    let delivered = sink(&server).deliver(&event, &ctx(&event)).await.unwrap();
    assert_eq!(
        delivered,
        Delivered {
            reference: Some("contact/501 note/9001".into()),
            output: None
        }
    );
    let requests = requests(&server).await;
    assert_eq!(
        requests.iter().map(call).collect::<Vec<_>>(),
        [
            ("POST".into(), CONTACT_UPSERT.into()),
            ("POST".into(), NOTES.into())
        ]
    );
    assert_eq!(
        body_json(&requests[0]),
        json!({"inputs": [{"idProperty": "email", "id": "alan@example.com",
                           "properties": {"firstname": "Alan", "lastname": "Turing"}}]})
    );
    assert_eq!(
        body_json(&requests[1]),
        json!({
            "properties": {
                "hs_timestamp": "2026-12-04T11:00:00Z",
                "hs_note_body": "<p><strong>Form submission</strong>: Contact us (form 12) from <a href=\"https://shop.example/contact/\">https://shop.example/contact/</a></p><ul><li><strong>message</strong>: Please call me back.</li><li><strong>name</strong>: Alan Turing</li></ul>"
            },
            "associations": [{"to": {"id": "501"},
                              "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}]
        })
    );
}

#[tokio::test]
async fn an_order_becomes_a_contact_and_a_deal_upserted_on_the_order_id_and_associated() {
    let server = healthy_portal().await;
    let event = event("order");
    let delivered = sink(&server).deliver(&event, &ctx(&event)).await.unwrap();
    assert_eq!(
        delivered.reference.as_deref(),
        Some("contact/501 deal/7001")
    );
    let requests = requests(&server).await;
    assert_eq!(
        requests.iter().map(call).collect::<Vec<_>>(),
        [
            ("POST".into(), CONTACT_UPSERT.into()),
            ("POST".into(), DEAL_UPSERT.into()),
            (
                "PUT".into(),
                "/crm/v4/objects/deals/7001/associations/default/contacts/501".into()
            ),
        ]
    );
    assert_eq!(
        body_json(&requests[0]),
        json!({"inputs": [{"idProperty": "email", "id": "grace@example.com",
                           "properties": {"firstname": "Grace", "lastname": "Hopper"}}]})
    );
    assert_eq!(
        body_json(&requests[1]),
        json!({"inputs": [{"idProperty": "wc_order_id", "id": "1042", "properties": {
            "dealname": "Order #1042 — Grace Hopper (59.80 EUR)",
            "amount": "59.80",
            "pipeline": "default",
            "dealstage": "closedwon",
            "closedate": "2026-12-04T09:05:00Z"
        }}]})
    );
    assert!(requests[2].body.is_empty());
}

#[tokio::test]
async fn the_deal_property_prefix_and_stage_are_configurable() {
    let server = healthy_portal().await;
    let sink = HubSpotSink::new(
        config(&server)
            .deal_id_property("shop_order_ref")
            .deal_id_prefix("eu-")
            .deal_stage("sales", "won"),
    )
    .unwrap();
    let event = event("order");
    sink.deliver(&event, &ctx(&event)).await.unwrap();
    let deal = body_json(&requests(&server).await[1]);
    assert_eq!(deal["inputs"][0]["idProperty"], "shop_order_ref");
    assert_eq!(deal["inputs"][0]["id"], "eu-1042");
    assert_eq!(deal["inputs"][0]["properties"]["pipeline"], "sales");
    assert_eq!(deal["inputs"][0]["properties"]["dealstage"], "won");
}

#[tokio::test]
async fn a_comment_becomes_a_note_on_the_commenters_contact_with_the_enrichment() {
    let server = healthy_portal().await;
    let event = event("comment");
    let ctx = ctx_with_enrichment(&event, "openai", enrichment());
    let delivered = sink(&server).deliver(&event, &ctx).await.unwrap();
    assert_eq!(
        delivered.reference.as_deref(),
        Some("contact/501 note/9001")
    );
    let requests = requests(&server).await;
    assert_eq!(
        body_json(&requests[0]),
        json!({"inputs": [{"idProperty": "email", "id": "ada@example.com", "properties": {}}]}),
        "a commenter's display name does not rename the contact"
    );
    assert_eq!(
        body_json(&requests[1]),
        json!({
            "properties": {
                "hs_timestamp": "2026-12-04T10:00:00Z",
                "hs_note_body": "<p><strong>Comment</strong> by Ada Lovelace on <a href=\"https://blog.example/?p=4#comment-17\">https://blog.example/?p=4#comment-17</a></p><blockquote>Lovely post, thank you!</blockquote><p><strong>AI (gpt-4o-mini-2024-07-18)</strong>: Summary: The reader thanks the author for the post.; Sentiment: positive; Intent: praise; Spam: no</p>"
            },
            "associations": [{"to": {"id": "501"},
                              "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}]
        })
    );
}

#[tokio::test]
async fn a_comment_without_email_is_a_note_without_association_and_notes_can_be_off() {
    let server = healthy_portal().await;
    let event = event_from(json!({
        "event": "comment.created", "event_id": "anon-1", "site": "https://blog.example",
        "data": {"id": 3, "post_id": 4, "author": {"name": "Anonymous"},
                 "content": "Nice", "created_at": "2026-12-04T10:00:00Z"}
    }));
    let delivered = sink(&server).deliver(&event, &ctx(&event)).await.unwrap();
    assert_eq!(delivered.reference.as_deref(), Some("note/9001"));
    let requests = requests(&server).await;
    assert_eq!(
        requests.iter().map(call).collect::<Vec<_>>(),
        [("POST".into(), NOTES.into())]
    );
    assert!(body_json(&requests[0]).get("associations").is_none());

    let quiet = MockServer::start().await;
    let off = HubSpotSink::new(config(&quiet).comment_notes(false)).unwrap();
    assert_eq!(
        off.deliver(&event, &ctx(&event)).await.unwrap(),
        Delivered::default()
    );
    assert!(quiet.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_replayed_event_updates_its_note_instead_of_adding_one() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        CONTACT_UPSERT,
        hubspot_ok(200, "hubspot_contact_upsert"),
    )
    .await;
    Mock::given(method("POST"))
        .and(path(NOTES))
        .respond_with(hubspot_ok(201, "hubspot_note"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/crm/v3/objects/notes/9001"))
        .respond_with(hubspot_ok(200, "hubspot_note"))
        .expect(1)
        .mount(&server)
        .await;
    let store = Arc::new(MemoryNoteIdStore::default());
    let sink = sink(&server).with_note_store(store.clone());
    let event = event("comment");
    let first = sink.deliver(&event, &ctx(&event)).await.unwrap();
    let again = sink.deliver(&event, &ctx(&event)).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(
        store.get(&event.event_id).await.unwrap().as_deref(),
        Some("9001")
    );
    let patch = body_json(requests(&server).await.last().unwrap());
    assert_eq!(patch["properties"]["hs_timestamp"], "2026-12-04T10:00:00Z");
    assert!(patch.get("associations").is_none());
}

#[tokio::test]
async fn a_note_deleted_in_hubspot_is_created_again() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        CONTACT_UPSERT,
        hubspot_ok(200, "hubspot_contact_upsert"),
    )
    .await;
    mount(&server, "POST", NOTES, hubspot_ok(201, "hubspot_note")).await;
    mount(
        &server,
        "PATCH",
        "/crm/v3/objects/notes/4444",
        hubspot(
            ResponseTemplate::new(404).set_body_json(json!({"status": "error", "message": "resource not found", "correlationId": "c0", "category": "OBJECT_NOT_FOUND"})),
            99,
            10_000,
        ),
    )
    .await;
    let store = Arc::new(MemoryNoteIdStore::default());
    let event = event("comment");
    store.put(&event.event_id, "4444").await.unwrap();
    let sink = sink(&server).with_note_store(store.clone());
    let delivered = sink.deliver(&event, &ctx(&event)).await.unwrap();
    assert_eq!(
        delivered.reference.as_deref(),
        Some("contact/501 note/9001")
    );
    assert_eq!(
        store.get(&event.event_id).await.unwrap().as_deref(),
        Some("9001")
    );
}

/// A note id store that is down.
#[derive(Debug)]
struct DownStore;

#[async_trait]
impl NoteIdStore for DownStore {
    async fn get(&self, _: &EventId) -> Result<Option<String>, Error> {
        Err(Error::store("note id store", "connection refused"))
    }
    async fn put(&self, _: &EventId, _: &str) -> Result<(), Error> {
        Err(Error::store("note id store", "connection refused"))
    }
}

#[tokio::test]
async fn no_note_is_written_while_the_note_id_store_is_down() {
    let server = healthy_portal().await;
    let sink = sink(&server).with_note_store(Arc::new(DownStore));
    let event = event("comment");
    let err = sink.deliver(&event, &ctx(&event)).await.unwrap_err();
    assert_retryable(&err, None, None);
    assert!(err.message().contains("no second note"), "{err}");
    assert!(requests(&server)
        .await
        .iter()
        .all(|r| r.url.path() != NOTES));
}

#[tokio::test]
async fn create_then_update_patches_the_contact_named_in_the_409() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        "/crm/v3/objects/contacts",
        hubspot(json_response(409, "hubspot_contact_conflict"), 98, 10_000),
    )
    .await;
    mount(
        &server,
        "PATCH",
        "/crm/v3/objects/contacts/37765128953",
        hubspot_ok(200, "hubspot_contact"),
    )
    .await;
    let sink = HubSpotSink::new(
        config(&server)
            .contact_write(ContactWrite::CreateThenUpdate)
            .lead_notes(false),
    )
    .unwrap();
    let event = event("lead");
    let delivered = sink.deliver(&event, &ctx(&event)).await.unwrap();
    assert_eq!(delivered.reference.as_deref(), Some("contact/37765128953"));
    let requests = requests(&server).await;
    assert_eq!(
        requests.iter().map(call).collect::<Vec<_>>(),
        [
            ("POST".into(), "/crm/v3/objects/contacts".into()),
            (
                "PATCH".into(),
                "/crm/v3/objects/contacts/37765128953".into()
            ),
        ]
    );
    assert_eq!(
        body_json(&requests[0]),
        json!({"properties": {"email": "alan@example.com", "firstname": "Alan", "lastname": "Turing"}})
    );
    assert_eq!(
        body_json(&requests[1]),
        json!({"properties": {"firstname": "Alan", "lastname": "Turing"}})
    );
}

#[tokio::test]
async fn create_then_update_falls_back_to_the_email_when_the_409_names_no_id() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        "/crm/v3/objects/contacts",
        hubspot(
            ResponseTemplate::new(409).set_body_json(json!({"status": "error", "message": "Contact already exists", "category": "CONFLICT"})),
            98,
            10_000,
        ),
    )
    .await;
    mount(
        &server,
        "PATCH",
        "/crm/v3/objects/contacts/alan%40example.com",
        hubspot_ok(200, "hubspot_contact"),
    )
    .await;
    let sink = HubSpotSink::new(
        config(&server)
            .contact_write(ContactWrite::CreateThenUpdate)
            .lead_notes(false),
    )
    .unwrap();
    let event = event("lead");
    sink.deliver(&event, &ctx(&event)).await.unwrap();
    let requests = requests(&server).await;
    assert_eq!(
        call(&requests[1]),
        (
            "PATCH".into(),
            "/crm/v3/objects/contacts/alan%40example.com?idProperty=email".into()
        )
    );
}

#[tokio::test]
async fn a_batch_upsert_207_is_permanent_for_bad_data_and_retryable_for_rate_limits() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        CONTACT_UPSERT,
        hubspot_ok(200, "hubspot_contact_upsert"),
    )
    .await;
    mount(
        &server,
        "POST",
        DEAL_UPSERT,
        hubspot_ok(207, "hubspot_batch_upsert_207"),
    )
    .await;
    let event = event("order");
    let err = sink(&server)
        .deliver(&event, &ctx(&event))
        .await
        .unwrap_err();
    assert_permanent(
        &err,
        Some(207),
        &[
            "upserting the deal",
            "VALIDATION_ERROR",
            "wc_order_id: Property \"wc_order_id\" does not exist",
        ],
    );

    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        CONTACT_UPSERT,
        hubspot_ok(200, "hubspot_contact_upsert"),
    )
    .await;
    mount(
        &server,
        "POST",
        DEAL_UPSERT,
        hubspot(
            ResponseTemplate::new(207).set_body_json(json!({
                "status": "COMPLETE", "results": [], "numErrors": 1,
                "errors": [{"status": "error", "category": "RATE_LIMITS", "message": "Too many concurrent writes", "context": {}}],
                "startedAt": "2026-12-04T09:05:02.400Z", "completedAt": "2026-12-04T09:05:02.500Z"
            })),
            99,
            10_000,
        ),
    )
    .await;
    let err = sink(&server)
        .deliver(&event, &ctx(&event))
        .await
        .unwrap_err();
    assert_retryable(&err, Some(207), None);
}

#[tokio::test]
async fn a_batch_answer_without_a_record_is_retried() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        CONTACT_UPSERT,
        hubspot(
            ResponseTemplate::new(200).set_body_json(json!({"status": "PENDING", "results": [], "startedAt": "2026-12-04T09:05:02.400Z"})),
            99,
            10_000,
        ),
    )
    .await;
    let event = event("lead");
    let err = sink(&server)
        .deliver(&event, &ctx(&event))
        .await
        .unwrap_err();
    assert_retryable(&err, Some(200), None);
}

#[tokio::test]
async fn hubspot_refusals_are_permanent_with_what_to_fix() {
    let cases: [(u16, &str, &[&str]); 3] = [
        (
            400,
            "hubspot_validation_error",
            &[
                "VALIDATION_ERROR",
                "email: Email address alan@ is invalid",
                "correlationId a43683b0-5717-4ceb-80b4-104d02915d8c",
            ],
        ),
        (
            401,
            "hubspot_unauthorized",
            &["INVALID_AUTHENTICATION", "create a new token"],
        ),
        (
            403,
            "hubspot_missing_scopes",
            &["MISSING_SCOPES", "grant crm.objects.contacts.write"],
        ),
    ];
    let event = event("lead");
    for (status, body, needles) in cases {
        let server = MockServer::start().await;
        mount(
            &server,
            "POST",
            CONTACT_UPSERT,
            hubspot(json_response(status, body), 99, 10_000),
        )
        .await;
        let err = sink(&server)
            .deliver(&event, &ctx(&event))
            .await
            .unwrap_err();
        assert_permanent(&err, Some(status), needles);
        assert!(err.message().contains("upserting the contact"), "{err}");
    }
}

#[tokio::test]
async fn a_429_waits_for_retry_after_or_else_the_rate_limit_interval() {
    let event = event("lead");
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        CONTACT_UPSERT,
        hubspot(json_response(429, "hubspot_rate_limited"), 0, 10_000),
    )
    .await;
    let err = sink(&server)
        .deliver(&event, &ctx(&event))
        .await
        .unwrap_err();
    assert_retryable(&err, Some(429), Some(Duration::from_secs(10)));
    assert!(err.message().contains("TEN_SECONDLY_ROLLING"), "{err}");

    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        CONTACT_UPSERT,
        hubspot(
            json_response(429, "hubspot_rate_limited").insert_header("retry-after", "3"),
            0,
            10_000,
        ),
    )
    .await;
    let err = sink(&server)
        .deliver(&event, &ctx(&event))
        .await
        .unwrap_err();
    assert_retryable(&err, Some(429), Some(Duration::from_secs(3)));

    // The daily limit resets at midnight: far longer than the cap.
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        CONTACT_UPSERT,
        hubspot(json_response(429, "hubspot_daily_limit"), 0, 10_000),
    )
    .await;
    let capped = HubSpotSink::new(config(&server).max_retry_after(Duration::from_secs(1))).unwrap();
    let err = capped.deliver(&event, &ctx(&event)).await.unwrap_err();
    assert_retryable(&err, Some(429), Some(Duration::from_secs(1)));
    assert!(err.message().contains("DAILY"), "{err}");
}

#[tokio::test]
async fn server_errors_and_migrations_are_retryable() {
    let event = event("lead");
    for (status, retry_after) in [
        (500, None),
        (502, None),
        (503, None),
        (504, None),
        (477, Some(30)),
    ] {
        let server = MockServer::start().await;
        let mut template =
            ResponseTemplate::new(status).set_body_string("<html>upstream trouble</html>");
        if let Some(secs) = retry_after {
            template = template.insert_header("retry-after", secs.to_string().as_str());
        }
        mount(&server, "POST", CONTACT_UPSERT, template).await;
        let err = sink(&server)
            .deliver(&event, &ctx(&event))
            .await
            .unwrap_err();
        assert_retryable(&err, Some(status), retry_after.map(Duration::from_secs));
    }
}

#[tokio::test]
async fn a_lead_without_email_is_permanent_and_nothing_is_sent() {
    let server = MockServer::start().await;
    let event = event_from(json!({
        "event": "lead.created", "event_id": "no-mail", "site": "https://shop.example",
        "data": {"form_id": "newsletter", "form_title": "Callback", "fields": {"phone": "+31 20 000"},
                 "source_url": "https://shop.example/", "created_at": "2026-12-04T10:00:00Z"}
    }));
    let err = sink(&server)
        .deliver(&event, &ctx(&event))
        .await
        .unwrap_err();
    assert_permanent(&err, None, &["no email address"]);
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_timeout_is_retryable() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        CONTACT_UPSERT,
        hubspot_ok(200, "hubspot_contact_upsert").set_delay(Duration::from_secs(5)),
    )
    .await;
    let sink = HubSpotSink::new(config(&server).timeout(Duration::from_millis(200))).unwrap();
    let event = event("lead");
    let err = sink.deliver(&event, &ctx(&event)).await.unwrap_err();
    assert_retryable(&err, None, None);
    assert!(
        err.message()
            .contains("HubSpot did not answer within 200 ms"),
        "{err}"
    );
}

/// Answers every request alike and notes when each arrived.
struct Stamped {
    arrivals: Arc<Mutex<Vec<Instant>>>,
    template: ResponseTemplate,
}

impl Respond for Stamped {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.arrivals.lock().unwrap().push(Instant::now());
        self.template.clone()
    }
}

#[tokio::test]
async fn an_exhausted_budget_in_the_headers_spaces_the_next_calls_by_the_interval() {
    let server = MockServer::start().await;
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let interval_ms = 300;
    for (verb, at, fixture) in [
        ("POST", CONTACT_UPSERT, "hubspot_contact_upsert"),
        ("POST", DEAL_UPSERT, "hubspot_deal_upsert"),
        (
            "PUT",
            "/crm/v4/objects/deals/7001/associations/default/contacts/501",
            "hubspot_association",
        ),
    ] {
        let template = hubspot(json_response(200, fixture), 0, interval_ms);
        Mock::given(method(verb))
            .and(path(at))
            .respond_with(Stamped {
                arrivals: arrivals.clone(),
                template,
            })
            .mount(&server)
            .await;
    }
    let event = event("order");
    sink(&server).deliver(&event, &ctx(&event)).await.unwrap();
    let arrivals = arrivals.lock().unwrap().clone();
    assert_eq!(arrivals.len(), 3);
    for pair in arrivals.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_millis(interval_ms.into()),
            "calls only {gap:?} apart"
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_token_never_reaches_debug_output_errors_or_logs() {
    let (logs, _guard) = capture_logs();
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        CONTACT_UPSERT,
        hubspot(json_response(401, "hubspot_unauthorized"), 99, 10_000),
    )
    .await;
    let config = config(&server);
    assert!(!format!("{config:?}").contains("s3cr3t"), "{config:?}");
    let sink = HubSpotSink::new(config).unwrap();
    assert!(!format!("{sink:?}").contains("s3cr3t"), "{sink:?}");
    let event = event("order");
    let err = sink.deliver(&event, &ctx(&event)).await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains("s3cr3t"));
    let unreachable =
        HubSpotSink::new(HubSpotConfig::new(TOKEN).base_url(closed_port_url(""))).unwrap();
    let err = unreachable.deliver(&event, &ctx(&event)).await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains("s3cr3t"));
    let lines = logs.lines();
    assert!(!lines.is_empty());
    for line in lines {
        assert!(!line.contains("s3cr3t"), "secret in a log line: {line}");
    }
}

#[tokio::test]
async fn configuration_errors_name_the_setting() {
    let err = HubSpotSink::new(HubSpotConfig::new("  ")).unwrap_err();
    assert!(
        err.to_string().starts_with("HubSpot token is not usable"),
        "{err}"
    );
    let err =
        HubSpotSink::new(HubSpotConfig::new(TOKEN).base_url("http://api.hubapi.com")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("HubSpot base URL is not usable"),
        "{err}"
    );
    let err = HubSpotSink::new(HubSpotConfig::new(TOKEN).deal_id_property("")).unwrap_err();
    assert!(
        err.to_string().starts_with("HubSpot deal id property"),
        "{err}"
    );
}
