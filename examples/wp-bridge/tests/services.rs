//! The production binary delivers to the real sink implementations when
//! their variables are set (here Slack, against a local fake).
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use common::{free_port, spawn, SECRET};
use wp_bridge_core::clock::{Clock, SystemClock};
use wp_bridge_core::signature::SecretSet;
use wp_bridge_core::testing::eventually;
use wp_bridge_core::testing::sample_body;
use wp_bridge_postgres::testing::fresh_schema;

/// A message's text, its `X-Request-Id` and its `traceparent`.
type Posted = (String, Option<String>, Option<String>);

#[derive(Clone, Default)]
struct FakeSlack(Arc<Mutex<Vec<Posted>>>);

async fn incoming(
    State(s): State<FakeSlack>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> &'static str {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    s.0.lock().unwrap().push((
        body["text"].as_str().unwrap_or_default().to_owned(),
        header("x-request-id"),
        header("traceparent"),
    ));
    "ok"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_messages_carry_the_correlation_id_and_the_senders_trace() {
    let (_stores, schema) = fresh_schema(2).await;
    let slack = FakeSlack::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/services/T000/B000/XXXX",
        listener.local_addr().unwrap()
    );
    let app = Router::new()
        .route("/services/T000/B000/XXXX", post(incoming))
        .with_state(slack.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let port = free_port();
    let _app = spawn(
        "all",
        &schema,
        &[
            ("WP_BRIDGE_LISTEN", format!("127.0.0.1:{port}")),
            ("WP_BRIDGE_SLACK_WEBHOOK_URL", url),
        ],
    );
    let body = sample_body("slack-comment");
    let now = SystemClock.unix_seconds();
    let sender_trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let status = eventually(Duration::from_secs(30), || {
        let body = body.clone();
        async move {
            reqwest::Client::new()
                .post(format!("http://127.0.0.1:{port}/webhooks/wp"))
                .header("content-type", "application/json")
                .header("x-wp-timestamp", now.to_string())
                .header(
                    "x-wp-signature",
                    SecretSet::new([SECRET]).unwrap().sign(now, &body),
                )
                .header("x-event-id", "slack-comment")
                .header("traceparent", sender_trace)
                .body(body)
                .send()
                .await
                .ok()
                .map(|r| r.status())
        }
    })
    .await;
    assert_eq!(status, Some(reqwest::StatusCode::ACCEPTED));
    let posted = eventually(Duration::from_secs(20), || async {
        slack.0.lock().unwrap().first().cloned()
    })
    .await
    .expect("Slack received the message");
    assert!(
        posted.0.contains("Ada"),
        "the message names the comment's author: {}",
        posted.0
    );
    assert!(
        posted.1.is_some_and(|id| !id.is_empty()),
        "X-Request-Id carries the correlation id"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standard_webhooks_sender_is_accepted_on_its_own_route() {
    let (_stores, schema) = fresh_schema(2).await;
    let slack = FakeSlack::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/services/T000/B000/XXXX",
        listener.local_addr().unwrap()
    );
    let app = Router::new()
        .route("/services/T000/B000/XXXX", post(incoming))
        .with_state(slack.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let port = free_port();
    let _app = spawn(
        "all",
        &schema,
        &[
            ("WP_BRIDGE_LISTEN", format!("127.0.0.1:{port}")),
            ("WP_BRIDGE_SLACK_WEBHOOK_URL", url),
            ("WP_BRIDGE_STANDARD_WEBHOOK_SECRETS", secret.into()),
        ],
    );
    let body = String::from_utf8(sample_body("ignored"))
        .unwrap()
        .replace(r#""event_id":"ignored","#, "")
        .into_bytes();
    let now = SystemClock.unix_seconds();
    let signature = SecretSet::from_standard_webhooks(secret)
        .unwrap()
        .sign_segments(&[b"msg_standard_1", now.to_string().as_bytes(), &body]);
    let status = eventually(Duration::from_secs(30), || {
        let body = body.clone();
        let signature = signature.clone();
        async move {
            reqwest::Client::new()
                .post(format!("http://127.0.0.1:{port}/webhooks/standard"))
                .header("content-type", "application/json")
                .header("webhook-id", "msg_standard_1")
                .header("webhook-timestamp", now.to_string())
                .header("webhook-signature", format!("v1,{signature}"))
                .body(body)
                .send()
                .await
                .ok()
                .map(|r| r.status())
        }
    })
    .await;
    assert_eq!(status, Some(reqwest::StatusCode::ACCEPTED));
    let posted = eventually(Duration::from_secs(20), || async {
        slack.0.lock().unwrap().first().cloned()
    })
    .await;
    assert!(
        posted.is_some_and(|p| p.0.contains("Ada")),
        "delivered to Slack"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn woocommerce_native_webhooks_are_accepted_and_delivered() {
    let (_stores, schema) = fresh_schema(2).await;
    let slack = FakeSlack::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/services/T000/B000/XXXX",
        listener.local_addr().unwrap()
    );
    let app = Router::new()
        .route("/services/T000/B000/XXXX", post(incoming))
        .with_state(slack.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let secret = "wc-secret-0123456789-abcdef";
    let port = free_port();
    let _app = spawn(
        "all",
        &schema,
        &[
            ("WP_BRIDGE_LISTEN", format!("127.0.0.1:{port}")),
            ("WP_BRIDGE_SLACK_WEBHOOK_URL", url),
            ("WP_BRIDGE_WOOCOMMERCE_SECRET", secret.into()),
        ],
    );
    let endpoint = format!("http://127.0.0.1:{port}/webhooks/woocommerce");
    let client = reqwest::Client::new();
    let ping = eventually(Duration::from_secs(30), || async {
        client
            .post(&endpoint)
            .body("webhook_id=12")
            .send()
            .await
            .ok()
            .map(|r| r.status())
    })
    .await;
    assert_eq!(
        ping,
        Some(reqwest::StatusCode::OK),
        "the ping gets exactly 200"
    );

    let order = r#"{"id":5101,"status":"processing","currency":"EUR","total":"59.80","date_created_gmt":"2026-12-04T09:05:00","billing":{"first_name":"Grace","last_name":"Hopper","email":"grace@example.com"},"line_items":[{"id":1,"product_id":7,"name":"Mug","quantity":2,"total":"29.90"}]}"#;
    let signature = SecretSet::new([secret])
        .unwrap()
        .sign_segments(&[order.as_bytes()]);
    let status = client
        .post(&endpoint)
        .header("content-type", "application/json")
        .header("x-wc-webhook-signature", signature)
        .header("x-wc-webhook-id", "12")
        .header("x-wc-webhook-topic", "order.created")
        .header("x-wc-webhook-source", "https://shop.example/")
        .body(order)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, reqwest::StatusCode::ACCEPTED);
    let posted = eventually(Duration::from_secs(20), || async {
        slack.0.lock().unwrap().first().cloned()
    })
    .await;
    assert!(
        posted.is_some_and(|p| p.0.contains("Grace")),
        "the order reached Slack"
    );
}
