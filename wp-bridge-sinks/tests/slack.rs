//! The Slack sink against a fake incoming webhook that answers as Slack
//! does: `200 ok` in text/html, plain-text error codes, and a JSON 429 with
//! `Retry-After`.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::time::{Duration, SystemTime};

use common::*;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use wp_bridge_core::sink::{Delivered, DeliveryError, Sink};
use wp_bridge_sinks::slack::{SlackConfig, SlackSink};
use wp_bridge_sinks::SinkRateLimit;

const HOOK_PATH: &str = "/services/T0001/B0002/s3cr3tWebhookToken";

fn hook_url(server: &MockServer) -> String {
    format!("{}{HOOK_PATH}", server.uri())
}

fn sink(server: &MockServer) -> SlackSink {
    SlackSink::new(SlackConfig::new(hook_url(server))).unwrap()
}

fn slack_ok() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/html")
        .set_body_string("ok")
}

fn slack_error(status: u16, code: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "text/html")
        .set_body_string(code)
}

async fn server_answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

/// Delivers `event` and returns the one request the fake received.
async fn deliver_and_capture(
    name: &str,
    ctx_enrichment: Option<(&str, serde_json::Value)>,
) -> wiremock::Request {
    let server = server_answering(slack_ok()).await;
    let event = event(name);
    let ctx = match ctx_enrichment {
        Some((key, value)) => ctx_with_enrichment(&event, key, value),
        None => ctx(&event),
    };
    let delivered = sink(&server).deliver(&event, &ctx).await.unwrap();
    assert_eq!(
        delivered,
        Delivered::default(),
        "incoming webhooks return no id"
    );
    let mut requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let request = requests.remove(0);
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), HOOK_PATH);
    assert_eq!(header(&request, "content-type"), "application/json");
    assert_eq!(header(&request, "x-request-id"), CORRELATION_ID);
    request
}

#[tokio::test]
async fn a_comment_is_posted_with_author_post_link_and_site() {
    let request = deliver_and_capture("comment", None).await;
    assert_eq!(
        body_json(&request),
        json!({
            "text": "New comment by Ada Lovelace on https://blog.example: Lovely post, thank you!",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text":
                    "*New comment* by *Ada Lovelace* (<mailto:ada@example.com|ada@example.com>) on <https://blog.example/?p=4#comment-17|post 4>"}},
                {"type": "section", "text": {"type": "mrkdwn", "text": ">Lovely post, thank you!"}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text":
                    "<https://blog.example|blog.example>  ·  comment.created `2f8d3c1e-7a4b-4c1d-9e2f-5b6a7c8d9e01`"}]}
            ]
        })
    );
}

#[tokio::test]
async fn an_order_is_posted_with_customer_total_and_items() {
    let request = deliver_and_capture("order", None).await;
    assert_eq!(
        body_json(&request),
        json!({
            "text": "New order #1042: 59.80 EUR from Grace Hopper (grace@example.com)",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text":
                    "*New order #1042* on <https://shop.example|shop.example>: *59.80 EUR*"}},
                {"type": "section", "fields": [
                    {"type": "mrkdwn", "text": "*Customer*\nGrace Hopper\n<mailto:grace@example.com|grace@example.com>"},
                    {"type": "mrkdwn", "text": "*Status*\nprocessing"},
                    {"type": "mrkdwn", "text": "*Total*\n59.80 EUR"},
                    {"type": "mrkdwn", "text": "*Items*\n1"}
                ]},
                {"type": "section", "text": {"type": "mrkdwn", "text": "• 2 × Mug — 29.90 EUR"}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text":
                    "<https://shop.example|shop.example>  ·  order.created `9b1c2d3e-4f5a-4b6c-8d7e-0f1a2b3c4d5e`"}]}
            ]
        })
    );
}

#[tokio::test]
async fn a_lead_is_posted_with_email_fields_and_the_page_it_came_from() {
    let request = deliver_and_capture("lead", None).await;
    assert_eq!(
        body_json(&request),
        json!({
            "text": "New lead from the Contact us form: alan@example.com",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text":
                    "*New lead* from the *Contact us* form: <mailto:alan@example.com|alan@example.com> on <https://shop.example/contact/|shop.example/contact/>"}},
                {"type": "section", "text": {"type": "mrkdwn", "text":
                    "*message:* Please call me back.\n*name:* Alan Turing"}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text":
                    "<https://shop.example|shop.example>  ·  lead.created `c0ffee00-1234-4abc-9def-0123456789ab`"}]}
            ]
        })
    );
}

#[tokio::test]
async fn the_enrichers_judgement_is_in_the_message() {
    let request = deliver_and_capture("comment", Some(("openai", enrichment()))).await;
    let blocks = body_json(&request)["blocks"].clone();
    assert_eq!(
        blocks[2],
        json!({"type": "context", "elements": [{"type": "mrkdwn", "text":
            ":sparkles: *Summary:* The reader thanks the author for the post.  ·  *Sentiment:* positive  ·  *Intent:* praise  ·  *Spam:* no"}]})
    );
    // Under another enricher name it is still found.
    let request = deliver_and_capture("comment", Some(("classifier", enrichment()))).await;
    assert!(body_json(&request)["blocks"][2]["elements"][0]["text"]
        .as_str()
        .unwrap()
        .contains("The reader thanks the author"));
}

#[tokio::test]
async fn wordpress_content_cannot_inject_mentions_or_links() {
    let server = server_answering(slack_ok()).await;
    let event = event_from(json!({
        "event": "comment.created", "event_id": "inject-1", "site": "https://blog.example",
        "data": {"id": 1, "post_id": 2, "author": {"name": "<!channel> *boss*"},
                 "content": "<!here> see <https://evil.example|your bank> & more",
                 "created_at": "2026-12-04T10:00:00Z"}
    }));
    sink(&server).deliver(&event, &ctx(&event)).await.unwrap();
    let body = body_json(&server.received_requests().await.unwrap()[0]).to_string();
    assert!(
        !body.contains("<!channel>") && !body.contains("<!here>"),
        "{body}"
    );
    assert!(!body.contains("<https://evil.example"), "{body}");
    assert!(
        body.contains("&lt;!here&gt; see &lt;https://evil.example|your bank&gt; &amp; more"),
        "{body}"
    );
}

#[tokio::test]
async fn a_429_is_retried_after_the_retry_after_header() {
    let server = server_answering(
        json_response(429, "slack_rate_limited").insert_header("retry-after", "1"),
    )
    .await;
    let event = event("comment");
    let err = sink(&server)
        .deliver(&event, &ctx(&event))
        .await
        .unwrap_err();
    assert_retryable(&err, Some(429), Some(Duration::from_secs(1)));
    assert!(err.message().contains("rate_limited"), "{err}");
}

#[tokio::test]
async fn a_429_without_the_header_uses_the_json_retry_after() {
    let server = server_answering(
        ResponseTemplate::new(429)
            .insert_header("content-type", "application/json; charset=utf-8")
            .set_body_string(r#"{"retry_after":7,"ok":false,"error":"rate_limited"}"#),
    )
    .await;
    let event = event("order");
    let err = sink(&server)
        .deliver(&event, &ctx(&event))
        .await
        .unwrap_err();
    assert_retryable(&err, Some(429), Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured_and_capped() {
    let in_two_minutes = httpdate(SystemTime::now() + Duration::from_secs(120));
    let server = server_answering(
        json_response(429, "slack_rate_limited")
            .insert_header("retry-after", in_two_minutes.as_str()),
    )
    .await;
    let event = event("comment");
    let err = sink(&server)
        .deliver(&event, &ctx(&event))
        .await
        .unwrap_err();
    let DeliveryError::Retryable {
        retry_after: Some(wait),
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert!(
        wait > Duration::from_secs(110) && wait <= Duration::from_secs(120),
        "{wait:?}"
    );

    let server = server_answering(
        json_response(429, "slack_rate_limited").insert_header("retry-after", "86400"),
    )
    .await;
    let capped = SlackSink::new(
        SlackConfig::new(hook_url(&server)).max_retry_after(Duration::from_secs(60)),
    )
    .unwrap();
    let err = capped.deliver(&event, &ctx(&event)).await.unwrap_err();
    assert_retryable(&err, Some(429), Some(Duration::from_secs(60)));
}

fn httpdate(at: SystemTime) -> String {
    httpdate::fmt_http_date(at)
}

#[tokio::test]
async fn slacks_documented_refusals_are_permanent_and_say_the_webhook_needs_fixing() {
    let cases = [
        (400, "invalid_payload", "could not use the message"),
        (400, "no_text", "could not use the message"),
        (403, "invalid_token", "create a new incoming webhook"),
        (403, "action_prohibited", "ask a Slack admin"),
        (404, "no_service", "disabled or removed"),
        (404, "channel_not_found", "channel no longer exists"),
        (410, "channel_is_archived", "archived"),
        (400, "some_future_code", "check the incoming webhook"),
    ];
    let event = event("lead");
    for (status, code, hint) in cases {
        let server = server_answering(slack_error(status, code)).await;
        let err = sink(&server)
            .deliver(&event, &ctx(&event))
            .await
            .unwrap_err();
        assert_permanent(
            &err,
            Some(status),
            &[
                "the Slack webhook needs fixing",
                &format!("{status} {code}"),
                hint,
            ],
        );
        assert!(!err.to_string().contains("s3cr3tWebhookToken"), "{err}");
    }
}

#[tokio::test]
async fn server_errors_are_retryable() {
    let event = event("comment");
    for (status, body) in [(500, "rollup_error"), (502, "bad gateway"), (503, "")] {
        let server = server_answering(slack_error(status, body)).await;
        let err = sink(&server)
            .deliver(&event, &ctx(&event))
            .await
            .unwrap_err();
        assert_retryable(&err, Some(status), None);
    }
}

#[tokio::test]
async fn a_slow_webhook_times_out_as_retryable() {
    let server = server_answering(slack_ok().set_delay(Duration::from_secs(5))).await;
    let sink =
        SlackSink::new(SlackConfig::new(hook_url(&server)).timeout(Duration::from_millis(200)))
            .unwrap();
    let event = event("comment");
    let err = sink.deliver(&event, &ctx(&event)).await.unwrap_err();
    assert_retryable(&err, None, None);
    assert!(
        err.message().contains("did not answer within 200 ms"),
        "{err}"
    );
    assert!(!err.to_string().contains("s3cr3tWebhookToken"), "{err}");
}

#[tokio::test]
async fn an_unreachable_webhook_is_retryable_and_its_url_stays_secret() {
    let sink = SlackSink::new(SlackConfig::new(closed_port_url(HOOK_PATH))).unwrap();
    let event = event("comment");
    let err = sink.deliver(&event, &ctx(&event)).await.unwrap_err();
    assert_retryable(&err, None, None);
    assert!(
        err.message().contains("could not connect to Slack"),
        "{err}"
    );
    assert!(
        !format!("{err:?}").contains("s3cr3tWebhookToken"),
        "{err:?}"
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .respond_with(ResponseTemplate::new(301).insert_header("location", "/elsewhere"))
        .mount(&server)
        .await;
    Mock::given(path("/elsewhere"))
        .respond_with(slack_ok())
        .expect(0)
        .mount(&server)
        .await;
    let event = event("comment");
    let err = sink(&server)
        .deliver(&event, &ctx(&event))
        .await
        .unwrap_err();
    assert_permanent(&err, Some(301), &["redirects"]);
}

#[tokio::test]
async fn the_rate_limit_hands_the_delivery_back_instead_of_calling_early() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(slack_ok())
        .expect(1)
        .mount(&server)
        .await;
    let sink = SlackSink::new(
        SlackConfig::new(hook_url(&server))
            .rate_limit(SinkRateLimit::every(Duration::from_secs(3600))),
    )
    .unwrap();
    let event = event("comment");
    sink.deliver(&event, &ctx(&event)).await.unwrap();
    let err = sink.deliver(&event, &ctx(&event)).await.unwrap_err();
    let DeliveryError::Retryable {
        retry_after: Some(wait),
        status_code: None,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(*wait > Duration::from_secs(3500), "{wait:?}");
    assert!(err.message().contains("Slack rate limit"), "{err}");
}

#[tokio::test(flavor = "current_thread")]
async fn the_webhook_url_never_reaches_debug_output_errors_or_logs() {
    let (logs, _guard) = capture_logs();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(slack_error(404, "no_service"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(slack_ok())
        .mount(&server)
        .await;
    let config = SlackConfig::new(hook_url(&server));
    assert!(!format!("{config:?}").contains("s3cr3t"), "{config:?}");
    let sink = sink(&server);
    assert!(!format!("{sink:?}").contains("s3cr3t"), "{sink:?}");

    let event = event("comment");
    let err = sink.deliver(&event, &ctx(&event)).await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains("s3cr3t"));
    sink.deliver(&event, &ctx(&event)).await.unwrap();
    let unreachable = SlackSink::new(SlackConfig::new(closed_port_url(HOOK_PATH))).unwrap();
    let err = unreachable.deliver(&event, &ctx(&event)).await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains("s3cr3t"));

    let bad = SlackSink::new(SlackConfig::new(
        "http://hooks.slack.com/services/T/B/s3cr3tWebhookToken",
    ))
    .unwrap_err();
    assert!(!format!("{bad} {bad:?}").contains("s3cr3t"), "{bad}");

    let lines = logs.lines();
    assert!(
        !lines.is_empty(),
        "the capture saw nothing; the test would prove nothing"
    );
    for line in lines {
        assert!(!line.contains("s3cr3t"), "secret in a log line: {line}");
    }
}
