//! Metrics, readiness and alerts of the real binary.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use common::{free_port, post_all, post_event, spawn, Receiver, SECRET};
use wp_bridge_core::clock::{Clock, SystemClock};
use wp_bridge_core::signature::SecretSet;
use wp_bridge_core::testing::{eventually, sample_body};
use wp_bridge_postgres::testing::{fresh_schema, PgProxy};

/// Parses the Prometheus text format into `name{labels}` → value.
fn parse(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            Some((key.to_owned(), value.parse().ok()?))
        })
        .collect()
}

async fn scrape(port: u16) -> HashMap<String, f64> {
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    parse(&text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_change_as_events_flow() {
    let (_stores, schema) = fresh_schema(2).await;
    let (receiver, webhook) = Receiver::start().await;
    let (port, metrics) = (free_port(), free_port());
    let _app = spawn(
        "all",
        &schema,
        &[
            ("WP_BRIDGE_LISTEN", format!("127.0.0.1:{port}")),
            ("WP_BRIDGE_WEBHOOK_URL", webhook),
            ("WP_BRIDGE_METRICS_LISTEN", format!("127.0.0.1:{metrics}")),
            ("WP_BRIDGE_MONITOR_INTERVAL_SECS", "1".into()),
        ],
    );
    post_all(port, &["m-1".into(), "m-2".into(), "m-3".into()], 1).await;
    let client = reqwest::Client::new();
    assert_eq!(
        post_event(&client, port, "m-1").await,
        reqwest::StatusCode::OK
    );
    let body = sample_body("m-4");
    let now = SystemClock.unix_seconds();
    let forged = client
        .post(format!("http://127.0.0.1:{port}/webhooks/wp"))
        .header("content-type", "application/json")
        .header("x-wp-timestamp", now.to_string())
        .header(
            "x-wp-signature",
            SecretSet::new(["not-the-secret-0123456789"])
                .unwrap()
                .sign(now, &body),
        )
        .header("x-event-id", "m-4")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert!(receiver.wait_for_distinct(3, Duration::from_secs(20)).await);

    let m = eventually(Duration::from_secs(10), || async {
        let m = scrape(metrics).await;
        (m.get("wp_bridge_deliveries_total{sink=\"webhook\",outcome=\"delivered\"}") == Some(&3.0))
            .then_some(m)
    })
    .await
    .expect("deliveries counted");
    assert_eq!(m.get("wp_bridge_accepted_total"), Some(&3.0), "{m:?}");
    assert_eq!(m.get("wp_bridge_duplicate_total"), Some(&1.0));
    assert_eq!(
        m.get("wp_bridge_rejected_total{reason=\"bad_signature\"}"),
        Some(&1.0)
    );
    assert_eq!(
        m.get("wp_bridge_verified_total{key_index=\"0\"}"),
        Some(&4.0)
    );
    assert_eq!(m.get("wp_bridge_ingest_seconds_count"), Some(&5.0));
    assert_eq!(
        m.get("wp_bridge_ingest_seconds_bucket{le=\"+Inf\"}"),
        Some(&5.0),
        "histograms export buckets"
    );
    assert!(m.contains_key("wp_bridge_end_to_end_seconds_count{sink=\"webhook\"}"));
    assert_eq!(m.get("wp_bridge_queue_depth"), Some(&0.0));
    assert!(
        !m.keys().any(|k| k.contains(SECRET)),
        "a secret in the metrics"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_follows_postgres() {
    let (_stores, schema) = fresh_schema(2).await;
    let proxy = PgProxy::start().await;
    let (port, metrics) = (free_port(), free_port());
    let _app = spawn(
        "all",
        &schema,
        &[
            ("DATABASE_URL", proxy.url()),
            ("WP_BRIDGE_LISTEN", format!("127.0.0.1:{port}")),
            ("WP_BRIDGE_METRICS_LISTEN", format!("127.0.0.1:{metrics}")),
        ],
    );
    let ready = |port: u16| async move {
        reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
            .await
            .ok()
            .map(|r| r.status().as_u16())
    };
    assert_eq!(
        eventually(Duration::from_secs(20), || async {
            ready(port).await.filter(|s| *s == 200)
        })
        .await,
        Some(200)
    );
    assert_eq!(ready(metrics).await, Some(200));
    assert_eq!(
        reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );

    proxy.cut();
    let unready = eventually(Duration::from_secs(20), || async {
        ready(port).await.filter(|s| *s == 503)
    })
    .await;
    assert_eq!(unready, Some(503));
    let body: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["failing"][0]["check"], "postgres", "{body}");
    assert_eq!(
        reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .unwrap()
            .status(),
        200,
        "alive while unready"
    );

    proxy.restore();
    assert_eq!(
        eventually(Duration::from_secs(20), || async {
            ready(port).await.filter(|s| *s == 200)
        })
        .await,
        Some(200)
    );
}

#[derive(Clone, Default)]
struct FakeSlack(Arc<Mutex<Vec<String>>>);

async fn slack(State(s): State<FakeSlack>, Json(body): Json<serde_json::Value>) -> &'static str {
    s.0.lock()
        .unwrap()
        .push(body["text"].as_str().unwrap_or_default().to_owned());
    "ok"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_rate_alert_is_sent_once_then_recovered_once() {
    let (_stores, schema) = fresh_schema(2).await;
    let (receiver, webhook) = Receiver::start().await;
    let alerts = FakeSlack::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let alert_url = format!("http://{}/alerts", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/alerts", post(slack))
        .with_state(alerts.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let port = free_port();
    let _app = spawn(
        "all",
        &schema,
        &[
            ("WP_BRIDGE_LISTEN", format!("127.0.0.1:{port}")),
            ("WP_BRIDGE_WEBHOOK_URL", webhook),
            ("WP_BRIDGE_ALERT_SLACK_WEBHOOK_URL", alert_url),
            ("WP_BRIDGE_ALERT_MIN_VOLUME", "5".into()),
            ("WP_BRIDGE_ALERT_WINDOW_SECS", "3".into()),
            ("WP_BRIDGE_MONITOR_INTERVAL_SECS", "1".into()),
        ],
    );
    receiver.fail(true);
    let failing: Vec<String> = (0..6).map(|i| format!("fail-{i}")).collect();
    post_all(port, &failing, 2).await;
    let texts = |needle: &'static str| {
        let alerts = alerts.clone();
        move || {
            alerts
                .0
                .lock()
                .unwrap()
                .iter()
                .filter(|t| t.contains(needle))
                .count()
        }
    };
    let failures = texts("deliveries failed");
    assert!(
        eventually(Duration::from_secs(20), || async {
            (failures() == 1).then_some(())
        })
        .await
        .is_some(),
        "no failure alert"
    );

    receiver.fail(false);
    let fine: Vec<String> = (0..10).map(|i| format!("fine-{i}")).collect();
    tokio::time::sleep(Duration::from_secs(3)).await; // the failures leave the window
    post_all(port, &fine, 2).await;
    let recovered = texts("back under the threshold");
    assert!(
        eventually(Duration::from_secs(20), || async {
            (recovered() == 1).then_some(())
        })
        .await
        .is_some(),
        "no recovery message"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        failures(),
        1,
        "the incident was announced more than once: {:?}",
        alerts.0.lock().unwrap()
    );
    assert_eq!(recovered(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_json_log_line_of_an_events_journey_carries_its_correlation_id() {
    let (_stores, schema) = fresh_schema(2).await;
    let (receiver, webhook) = Receiver::start().await;
    let port = free_port();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_wp-bridge"));
    command
        .arg("all")
        .env_clear()
        .env(
            "DATABASE_URL",
            wp_bridge_postgres::testing::test_database_url(),
        )
        .env("WP_BRIDGE_PG_SCHEMA", &schema)
        .env("WP_BRIDGE_SECRETS", SECRET)
        .env("WP_BRIDGE_LISTEN", format!("127.0.0.1:{port}"))
        .env("WP_BRIDGE_WEBHOOK_URL", webhook)
        .env("WP_BRIDGE_METRICS_LISTEN", "off")
        .env("WP_BRIDGE_LOG_JSON", "true")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().unwrap();
    let client = reqwest::Client::new();
    assert_eq!(
        post_event(&client, port, "journey").await,
        reqwest::StatusCode::ACCEPTED
    );
    assert!(receiver.wait_for_distinct(1, Duration::from_secs(20)).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.start_kill().unwrap();
    let output = child.wait_with_output().await.unwrap();
    let logs = String::from_utf8_lossy(&output.stderr);
    let journey: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l.to_string().contains("\"event_id\":\"journey\""))
        .collect();
    assert!(journey.len() >= 2, "too few lines about the event: {logs}");
    let ids: std::collections::HashSet<String> = journey
        .iter()
        .map(|l| {
            let text = l.to_string();
            let start = text
                .find("\"correlation_id\":\"")
                .expect("a line without a correlation id")
                + 18;
            text[start..start + text[start..].find('"').unwrap()].to_owned()
        })
        .collect();
    assert_eq!(
        ids.len(),
        1,
        "one correlation id across the journey: {ids:?}"
    );
    let text = logs.to_string();
    assert!(
        text.contains("event accepted") && text.contains("\"delivered\""),
        "gateway and worker lines: {text}"
    );
    assert!(!text.contains(SECRET), "the secret reached the logs");
    assert!(
        !text.contains("Great post!"),
        "the payload reached the logs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_tokens_never_reach_the_logs() {
    let (_stores, schema) = fresh_schema(2).await;
    let (port, admin) = (free_port(), free_port());
    let token = "admin-token-for-the-log-test-0123456789";
    let wrong = "wrong-admin-token-0123456789-abcdef";
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_wp-bridge"))
        .arg("all")
        .env_clear()
        .env(
            "DATABASE_URL",
            wp_bridge_postgres::testing::test_database_url(),
        )
        .env("WP_BRIDGE_PG_SCHEMA", &schema)
        .env("WP_BRIDGE_SECRETS", SECRET)
        .env("WP_BRIDGE_LISTEN", format!("127.0.0.1:{port}"))
        .env("WP_BRIDGE_ADMIN_TOKEN", token)
        .env("WP_BRIDGE_ADMIN_LISTEN", format!("127.0.0.1:{admin}"))
        .env("WP_BRIDGE_METRICS_LISTEN", "off")
        .env("WP_BRIDGE_LOG_JSON", "true")
        .env("RUST_LOG", "debug")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let api = format!("http://127.0.0.1:{admin}/admin/api/dead-letters");
    let refused = eventually(Duration::from_secs(30), || async {
        client
            .get(&api)
            .bearer_auth(wrong)
            .send()
            .await
            .ok()
            .map(|r| r.status())
    })
    .await;
    assert_eq!(refused, Some(reqwest::StatusCode::UNAUTHORIZED));
    assert_eq!(
        client
            .get(&api)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status(),
        reqwest::StatusCode::OK
    );
    let login = client
        .post(format!("http://127.0.0.1:{admin}/admin/login"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success() || login.status().is_redirection());
    tokio::time::sleep(Duration::from_millis(200)).await;
    child.start_kill().unwrap();
    let logs = String::from_utf8_lossy(&child.wait_with_output().await.unwrap().stderr).to_string();
    assert!(
        logs.contains("admin API request refused"),
        "the refusal is logged"
    );
    assert!(
        !logs.contains(token) && !logs.contains(wrong),
        "a token reached the logs"
    );
}
