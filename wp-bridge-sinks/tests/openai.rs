//! The OpenAI enricher against a fake Chat Completions API that answers
//! with OpenAI's shapes: completions with `usage`, `{"error": {message,
//! type, param, code}}` bodies, the two kinds of 429, rate-limit and retry
//! headers, and slow answers.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use wp_bridge_core::clock::ManualClock;
use wp_bridge_core::sink::{Delivered, Sink};
use wp_bridge_sinks::openai::{
    estimate_tokens, MemoryEnrichmentCache, OpenAiConfig, OpenAiSink, Prices, PROMPT_VERSION,
    SYSTEM_PROMPT,
};

const KEY: &str = "sk-test-s3cr3t-abcdef0123456789cdef";
const COMPLETIONS: &str = "/v1/chat/completions";
const COMMENT_CONTENT: &str = "Kind: blog comment\nAuthor: Ada Lovelace\n\nLovely post, thank you!";
const LEAD_CONTENT: &str =
    "Kind: contact form submission\nForm: Contact us\n\nmessage: Please call me back.\nname: Alan Turing";

fn config(server: &MockServer) -> OpenAiConfig {
    OpenAiConfig::new(KEY).base_url(format!("{}/v1", server.uri()))
}

fn sink(server: &MockServer) -> OpenAiSink {
    OpenAiSink::new(config(server)).unwrap()
}

fn completion() -> ResponseTemplate {
    openai(json_response(200, "openai_chat_completion"))
}

async fn server_answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COMPLETIONS))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

fn expected_request(content: &str) -> serde_json::Value {
    json!({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": content}
        ],
        "max_completion_tokens": 200,
        "response_format": {"type": "json_object"},
        "store": false
    })
}

#[tokio::test]
async fn a_comment_is_classified_and_the_result_handed_on() {
    let server = server_answering(completion()).await;
    let event = event("comment");
    let delivered = sink(&server).deliver(&event, &ctx(&event)).await.unwrap();
    assert_eq!(
        delivered,
        Delivered {
            reference: Some("chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT".into()),
            output: Some(enrichment()),
        }
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(header(request, "authorization"), format!("Bearer {KEY}"));
    assert_eq!(header(request, "content-type"), "application/json");
    assert_eq!(header(request, "x-request-id"), CORRELATION_ID);
    assert_eq!(
        header(request, "x-client-request-id"),
        "2f8d3c1e-7a4b-4c1d-9e2f-5b6a7c8d9e01"
    );
    assert!(request.headers.get("openai-organization").is_none());
    assert_eq!(body_json(request), expected_request(COMMENT_CONTENT));
}

#[tokio::test]
async fn a_lead_is_classified_without_its_email_and_orders_are_not_sent() {
    let server = server_answering(completion()).await;
    let sink = OpenAiSink::new(
        config(&server)
            .organization("org-xz3example")
            .project("proj_42"),
    )
    .unwrap();
    let lead = event("lead");
    sink.deliver(&lead, &ctx(&lead)).await.unwrap();
    let order = event("order");
    assert_eq!(
        sink.deliver(&order, &ctx(&order)).await.unwrap(),
        Delivered::default()
    );

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "the order was not sent");
    assert_eq!(body_json(&requests[0]), expected_request(LEAD_CONTENT));
    assert_eq!(
        header(&requests[0], "openai-organization"),
        "org-xz3example"
    );
    assert_eq!(header(&requests[0], "openai-project"), "proj_42");
    assert_eq!(sink.stats().not_applicable, 1);
    assert_eq!(sink.stats().calls, 1);
}

#[tokio::test]
async fn identical_content_is_paid_for_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(completion())
        .expect(1)
        .mount(&server)
        .await;
    let sink = sink(&server);
    let event = event("comment");
    let first = sink.deliver(&event, &ctx(&event)).await.unwrap();
    // The same content under another event id: still a hit.
    let mut copy = event.clone();
    copy.event_id = wp_bridge_core::event::EventId::new("another-id").unwrap();
    let second = sink.deliver(&copy, &ctx(&copy)).await.unwrap();
    assert_eq!(second.reference, first.reference);
    let mut expected = enrichment();
    expected["cached"] = json!(true);
    assert_eq!(second.output, Some(expected));
    let stats = sink.stats();
    assert_eq!((stats.calls, stats.cache_hits), (1, 1));
}

#[tokio::test]
async fn concurrent_identical_content_waits_for_the_first_call() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(completion().set_delay(Duration::from_millis(300)))
        .expect(1)
        .mount(&server)
        .await;
    let sink = sink(&server);
    let event = event("comment");
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let sink = sink.clone();
            let event = event.clone();
            tokio::spawn(async move { sink.deliver(&event, &ctx(&event)).await.unwrap() })
        })
        .collect();
    for task in tasks {
        let delivered = task.await.unwrap();
        assert_eq!(
            delivered.output.unwrap()["summary"],
            "The reader thanks the author for the post."
        );
    }
    assert_eq!(sink.stats().calls, 1);
    assert_eq!(sink.stats().cache_hits, 4);
}

#[tokio::test]
async fn a_shared_cache_keys_on_the_model() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(completion())
        .expect(2)
        .mount(&server)
        .await;
    let cache = Arc::new(MemoryEnrichmentCache::default());
    let mini = OpenAiSink::with_cache(config(&server), cache.clone()).unwrap();
    let other = OpenAiSink::with_cache(config(&server).model("gpt-4o"), cache.clone()).unwrap();
    let event = event("comment");
    mini.deliver(&event, &ctx(&event)).await.unwrap();
    other.deliver(&event, &ctx(&event)).await.unwrap();
    mini.deliver(&event, &ctx(&event)).await.unwrap();
    assert_eq!(cache.len(), 2);
}

#[tokio::test]
async fn over_the_daily_cost_cap_events_go_on_without_enrichment_until_the_next_day() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(completion())
        .expect(2)
        .mount(&server)
        .await;
    // A dollar per million tokens is a micro-dollar a token.
    let prices = Prices {
        input_per_million: 1.0,
        output_per_million: 1.0,
    };
    // Room for either event's worst case, not for one more after the first.
    let worst_case =
        |content: &str| estimate_tokens(SYSTEM_PROMPT) + estimate_tokens(content) + 200;
    let cap = worst_case(COMMENT_CONTENT).max(worst_case(LEAD_CONTENT));
    assert!(340 + worst_case(LEAD_CONTENT) > cap);
    let clock = ManualClock::at_unix(1_796_378_400);
    let sink = OpenAiSink::new(
        config(&server)
            .prices(prices)
            .daily_cost_cap_usd(cap as f64 / 1_000_000.0)
            .clock(Arc::new(clock.clone())),
    )
    .unwrap();

    let comment = event("comment");
    assert!(sink
        .deliver(&comment, &ctx(&comment))
        .await
        .unwrap()
        .output
        .is_some());
    // The fixture's usage: 300 + 40 tokens.
    assert_eq!(sink.stats().spent_today_micro_usd, 340);

    let lead = event("lead");
    let skipped = sink.deliver(&lead, &ctx(&lead)).await.unwrap();
    assert_eq!(skipped, Delivered::default());
    assert_eq!(sink.stats().skipped_cost_cap, 1);
    assert_eq!(sink.stats().calls, 1);

    clock.advance(Duration::from_secs(86_400));
    assert!(sink
        .deliver(&lead, &ctx(&lead))
        .await
        .unwrap()
        .output
        .is_some());
    assert_eq!(sink.stats().calls, 2);
}

#[tokio::test]
async fn a_zero_cap_never_calls() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(completion())
        .expect(0)
        .mount(&server)
        .await;
    let sink = OpenAiSink::new(config(&server).daily_cost_cap_usd(0.0)).unwrap();
    let event = event("comment");
    assert_eq!(
        sink.deliver(&event, &ctx(&event)).await.unwrap(),
        Delivered::default()
    );
    assert_eq!(sink.stats().skipped_cost_cap, 1);
}

#[tokio::test]
async fn a_slow_answer_past_the_latency_budget_delivers_without_enrichment() {
    let server = server_answering(completion().set_delay(Duration::from_secs(5))).await;
    let sink = OpenAiSink::new(config(&server).latency_budget(Duration::from_millis(200))).unwrap();
    let event = event("comment");
    let delivered = sink.deliver(&event, &ctx(&event)).await.unwrap();
    assert_eq!(delivered, Delivered::default());
    let stats = sink.stats();
    assert_eq!(stats.skipped_latency, 1);
    assert!(
        stats.spent_today_micro_usd > 0,
        "an abandoned call may be billed, so its worst case stays counted"
    );
}

#[tokio::test]
async fn a_429_rate_limit_is_retried_after_the_servers_word() {
    let event = event("comment");
    let cases = [
        // retry-after-ms is the most precise and wins.
        (
            vec![("retry-after-ms", "644"), ("retry-after", "1")],
            Duration::from_millis(644),
        ),
        (vec![("retry-after", "2")], Duration::from_secs(2)),
        // Otherwise the reset of the exhausted limit (`type: tokens`).
        (vec![], Duration::from_millis(115)),
    ];
    for (headers, wait) in cases {
        let mut template = openai(json_response(429, "openai_rate_limit_exceeded"));
        for (name, value) in headers {
            template = template.insert_header(name, value);
        }
        let server = server_answering(template).await;
        let sink = sink(&server);
        let err = sink.deliver(&event, &ctx(&event)).await.unwrap_err();
        assert_retryable(&err, Some(429), Some(wait));
        assert!(err.message().contains("rate_limit_exceeded"), "{err}");
        assert_eq!(
            sink.stats().spent_today_micro_usd,
            0,
            "a refused call is not billed"
        );
    }
}

#[tokio::test]
async fn refusals_are_permanent() {
    let cases: [(u16, &str, &[&str]); 5] = [
        (
            429,
            "openai_insufficient_quota",
            &["insufficient_quota", "add credit"],
        ),
        (
            429,
            "openai_insufficient_quota_legacy",
            &["insufficient_quota"],
        ),
        (
            429,
            "openai_request_too_large",
            &["Request too large", "lower the input token budget"],
        ),
        (
            400,
            "openai_invalid_request",
            &["unsupported_value", "response_format"],
        ),
        (
            401,
            "openai_invalid_api_key",
            &["invalid_api_key", "API key was refused"],
        ),
    ];
    let event = event("comment");
    for (status, fixture_name, needles) in cases {
        let server = server_answering(openai(json_response(status, fixture_name))).await;
        let err = sink(&server)
            .deliver(&event, &ctx(&event))
            .await
            .unwrap_err();
        assert_permanent(&err, Some(status), needles);
    }
}

#[tokio::test]
async fn server_errors_are_retryable_unless_openai_says_not_to() {
    let event = event("lead");
    for status in [500, 502, 503] {
        let server = server_answering(openai(json_response(status, "openai_server_error"))).await;
        let err = sink(&server)
            .deliver(&event, &ctx(&event))
            .await
            .unwrap_err();
        assert_retryable(&err, Some(status), None);
    }
    let server = server_answering(
        openai(json_response(503, "openai_server_error")).insert_header("x-should-retry", "false"),
    )
    .await;
    let err = sink(&server)
        .deliver(&event, &ctx(&event))
        .await
        .unwrap_err();
    assert_permanent(&err, Some(503), &["asked not to retry"]);
}

#[tokio::test]
async fn an_unreachable_api_is_retryable() {
    let sink = OpenAiSink::new(OpenAiConfig::new(KEY).base_url(closed_port_url("/v1"))).unwrap();
    let event = event("comment");
    let err = sink.deliver(&event, &ctx(&event)).await.unwrap_err();
    assert_retryable(&err, None, None);
    assert!(
        err.message().contains("could not connect to OpenAI"),
        "{err}"
    );
}

#[tokio::test]
async fn a_refusal_delivers_without_enrichment_and_is_not_cached() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(openai(json_response(200, "openai_refusal")))
        .expect(2)
        .mount(&server)
        .await;
    let sink = sink(&server);
    let event = event("comment");
    for _ in 0..2 {
        let delivered = sink.deliver(&event, &ctx(&event)).await.unwrap();
        assert_eq!(
            delivered,
            Delivered {
                reference: Some("chatcmpl-refusal0000000000000000000".into()),
                output: None
            }
        );
    }
    assert_eq!(sink.stats().unusable, 2);
}

#[tokio::test]
async fn a_reply_that_is_not_json_becomes_the_summary() {
    let server = server_answering(openai(ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-prose", "object": "chat.completion", "created": 1796378400, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "A friendly thank-you note.", "refusal": null},
                     "finish_reason": "stop", "logprobs": null}]
    }))))
    .await;
    let event = event("comment");
    let delivered = sink(&server).deliver(&event, &ctx(&event)).await.unwrap();
    assert_eq!(
        delivered.output.unwrap(),
        json!({"summary": "A friendly thank-you note.", "model": "gpt-4o-mini",
               "prompt_version": PROMPT_VERSION, "response_id": "chatcmpl-prose", "cached": false})
    );
}

#[tokio::test]
async fn long_content_is_cut_to_the_token_budget() {
    let server = server_answering(completion()).await;
    let sink = OpenAiSink::new(config(&server).max_input_tokens(50)).unwrap();
    let event = event_from(json!({
        "event": "comment.created", "event_id": "long-1", "site": "https://blog.example",
        "data": {"id": 1, "post_id": 2, "author": {"name": "Ada"},
                 "content": "word ".repeat(5_000), "created_at": "2026-12-04T10:00:00Z"}
    }));
    sink.deliver(&event, &ctx(&event)).await.unwrap();
    let body = body_json(&server.received_requests().await.unwrap()[0]);
    let sent = body["messages"][1]["content"].as_str().unwrap();
    assert!(
        estimate_tokens(sent) <= 50,
        "{} tokens",
        estimate_tokens(sent)
    );
    assert!(sent.ends_with("[…truncated]"), "{sent}");
}

#[tokio::test(flavor = "current_thread")]
async fn the_api_key_never_reaches_debug_output_errors_or_logs() {
    let (logs, _guard) = capture_logs();
    let server = server_answering(openai(json_response(401, "openai_invalid_api_key"))).await;
    let config = config(&server);
    assert!(!format!("{config:?}").contains("s3cr3t"), "{config:?}");
    let sink = OpenAiSink::new(config).unwrap();
    assert!(!format!("{sink:?}").contains("s3cr3t"), "{sink:?}");
    let event = event("comment");
    let err = sink.deliver(&event, &ctx(&event)).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains("s3cr3t") && !shown.contains("cdef"),
        "{shown}"
    );
    let lines = logs.lines();
    assert!(!lines.is_empty());
    for line in lines {
        assert!(!line.contains("s3cr3t"), "secret in a log line: {line}");
    }
}

#[tokio::test]
async fn configuration_errors_name_the_setting() {
    let cases = [
        (OpenAiConfig::new(""), "OpenAI API key"),
        (OpenAiConfig::new(KEY).model(" "), "OpenAI model"),
        (
            OpenAiConfig::new(KEY).daily_cost_cap_usd(-1.0),
            "OpenAI daily cost cap",
        ),
        (
            OpenAiConfig::new(KEY).latency_budget(Duration::ZERO),
            "OpenAI latency budget",
        ),
        (
            OpenAiConfig::new(KEY).base_url("ftp://api.openai.com"),
            "OpenAI base URL",
        ),
        (
            OpenAiConfig::new(KEY).prices(Prices {
                input_per_million: f64::NAN,
                output_per_million: 0.6,
            }),
            "OpenAI prices",
        ),
    ];
    for (config, setting) in cases {
        let err = OpenAiSink::new(config).unwrap_err().to_string();
        assert!(err.starts_with(setting), "{err}");
    }
}
