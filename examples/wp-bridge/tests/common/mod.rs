//! Shared by the process-level tests: the `wp-bridge` binary, a webhook
//! receiver that counts what it gets, and a signed-event sender.
#![allow(dead_code, clippy::unwrap_used)] // Each test binary uses a different part.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use tokio::process::{Child, Command};
use tokio::sync::Notify;
use wp_bridge_core::clock::{Clock, SystemClock};
use wp_bridge_core::signature::SecretSet;
use wp_bridge_core::testing::{eventually, sample_body};
use wp_bridge_postgres::testing::test_database_url;

pub(crate) const SECRET: &str = "process-test-secret-0123456789";

/// A webhook endpoint that records every call; it can be told to hang.
#[derive(Clone, Default)]
pub(crate) struct Receiver {
    calls: Arc<Mutex<Vec<(String, Instant)>>>,
    hang: Arc<AtomicBool>,
    hang_first_only: Arc<AtomicBool>,
    fail: Arc<AtomicBool>,
    pub(crate) called: Arc<Notify>,
}

async fn receive(State(r): State<Receiver>, Json(body): Json<serde_json::Value>) -> StatusCode {
    let first = {
        let mut calls = r.calls.lock().unwrap();
        calls.push((
            body["event_id"].as_str().unwrap_or("").to_owned(),
            Instant::now(),
        ));
        calls.len() == 1
    };
    r.called.notify_one();
    let hang = r.hang.load(Ordering::SeqCst) || (first && r.hang_first_only.load(Ordering::SeqCst));
    if hang {
        std::future::pending::<()>().await;
    }
    if r.fail.load(Ordering::SeqCst) {
        return StatusCode::BAD_REQUEST;
    }
    StatusCode::OK
}

impl Receiver {
    /// Starts one on a free port; returns it and its URL.
    pub(crate) async fn start() -> (Self, String) {
        let receiver = Self::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    /// Hang on every call while `true`.
    pub(crate) fn hang(&self, on: bool) {
        self.hang.store(on, Ordering::SeqCst);
    }

    /// Answer 400 (a permanent failure) while `true`.
    pub(crate) fn fail(&self, on: bool) {
        self.fail.store(on, Ordering::SeqCst);
    }

    /// Hang on the first call only.
    pub(crate) fn hang_first(&self) {
        self.hang_first_only.store(true, Ordering::SeqCst);
    }

    /// Every call so far: event id and when.
    pub(crate) fn calls(&self) -> Vec<(String, Instant)> {
        self.calls.lock().unwrap().clone()
    }

    /// Calls per event id.
    pub(crate) fn counts(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for (id, _) in self.calls() {
            *counts.entry(id).or_default() += 1;
        }
        counts
    }

    /// Waits until `n` distinct events have been received.
    pub(crate) async fn wait_for_distinct(&self, n: usize, within: Duration) -> bool {
        eventually(within, || async {
            (self.counts().len() >= n).then_some(())
        })
        .await
        .is_some()
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `wp-bridge <role>` on the test database `schema`, with `extra` env.
pub(crate) fn spawn(role: &str, schema: &str, extra: &[(&str, String)]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wp-bridge"));
    command
        .arg(role)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", test_database_url())
        .env("WP_BRIDGE_PG_SCHEMA", schema)
        .env("WP_BRIDGE_SECRETS", SECRET)
        .env("RUST_LOG", "warn")
        // Many processes per test: let each metrics listener take a free port.
        .env("WP_BRIDGE_METRICS_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    for (k, v) in extra {
        command.env(k, v);
    }
    command.spawn().unwrap()
}

/// Posts one signed event, retrying until the gateway is up; returns the status.
pub(crate) async fn post_event(
    client: &reqwest::Client,
    port: u16,
    id: &str,
) -> reqwest::StatusCode {
    let body = sample_body(id);
    let url = format!("http://127.0.0.1:{port}/webhooks/wp");
    eventually(Duration::from_secs(30), || {
        let (client, url, body) = (client.clone(), url.clone(), body.clone());
        async move {
            let now = SystemClock.unix_seconds();
            client
                .post(&url)
                .header("content-type", "application/json")
                .header("x-wp-timestamp", now.to_string())
                .header(
                    "x-wp-signature",
                    SecretSet::new([SECRET]).unwrap().sign(now, &body),
                )
                .header("x-event-id", id)
                .body(body)
                .send()
                .await
                .ok()
                .map(|r| r.status())
        }
    })
    .await
    .expect("the gateway came up")
}

/// Posts `ids` with `concurrency` requests in flight; every answer must be 202.
pub(crate) async fn post_all(port: u16, ids: &[String], concurrency: usize) {
    let client = reqwest::Client::new();
    let ids = Arc::new(ids.to_vec());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, ids, next) = (client.clone(), ids.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(id) = ids.get(i) else { return };
                    let status = post_event(&client, port, id).await;
                    assert_eq!(status, reqwest::StatusCode::ACCEPTED, "{id}");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

/// SIGKILLs a child and reaps it.
pub(crate) async fn kill(child: &mut Child) {
    child.start_kill().unwrap();
    child.wait().await.unwrap();
}
