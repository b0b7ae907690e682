//! The dead-letter page in a real headless Chromium (Debian's chromium and
//! chromedriver, installed by scripts/test): sign in, filter, open a dead
//! letter, replay it, see it leave the list.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use fantoccini::{ClientBuilder, Locator};
use wp_bridge_axum::admin::{admin_router, AdminState, AdminToken};
use wp_bridge_core::clock::SystemClock;
use wp_bridge_core::event::{CorrelationId, EventId, SinkName};
use wp_bridge_core::event_log::{
    AttemptOutcome, DeliveryState, EventLog, MemoryEventLog, NewEvent,
};
use wp_bridge_core::queue::{MemoryQueue, Queue};
use wp_bridge_core::testing::{eventually, sample_body, sample_event};

const TOKEN: &str = "browser-test-admin-token-0123456789";

async fn dead(log: &MemoryEventLog, id: &str, sink: &str, error: &str, status: u16) {
    log.record(NewEvent {
        event: sample_event(id),
        raw: Bytes::from(sample_body(id)),
        correlation_id: CorrelationId::generate(),
        received_at: SystemTime::now(),
        sinks: vec![SinkName::new(sink)],
        traceparent: None,
    })
    .await
    .unwrap();
    let (id, sink) = (EventId::new(id).unwrap(), SinkName::new(sink));
    log.begin_attempt(&id, &sink, Duration::from_secs(30))
        .await
        .unwrap();
    log.finish_attempt(
        &id,
        &sink,
        1,
        SystemTime::now(),
        Duration::from_millis(12),
        AttemptOutcome::Dead {
            error: error.into(),
            status_code: Some(status),
        },
    )
    .await
    .unwrap();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_filter_open_replay_and_see_it_leave_the_list() {
    let clock = SystemClock::shared();
    let log = Arc::new(MemoryEventLog::new(clock.clone()));
    let queue = Arc::new(MemoryQueue::new(clock));
    dead(
        &log,
        "order-archived",
        "slack",
        "channel_is_archived: the webhook needs fixing",
        410,
    )
    .await;
    dead(
        &log,
        "lead-token",
        "hubspot",
        "HTTP 401: the private app token was revoked",
        401,
    )
    .await;
    let admin = AdminState::new(
        log.clone(),
        log.clone(),
        queue.clone(),
        AdminToken::new(TOKEN).unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().nest("/admin", admin_router(admin));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let port = free_port();
    let _driver = tokio::process::Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver is installed (scripts/test installs chromium-driver)");
    let profile = std::env::temp_dir().join(format!("wpb-chromium-{}", uuid_like()));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", format!("--user-data-dir={}", profile.display())],
        }),
    );
    let browser = eventually(Duration::from_secs(20), || {
        let caps = caps.clone();
        async move {
            // Plain HTTP to the local chromedriver: no TLS stack needed.
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps)
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
                .ok()
        }
    })
    .await
    .expect("chromedriver answered");

    // Not signed in: the page sends us to the login form.
    browser.goto(&format!("{base}/admin")).await.unwrap();
    assert!(browser
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/admin/login"));
    browser
        .find(Locator::Id("token"))
        .await
        .unwrap()
        .send_keys(TOKEN)
        .await
        .unwrap();
    browser
        .find(Locator::Id("login"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // A click returns before the next page has loaded: wait for its rows.
    rows_once(&browser, 2).await;

    // Filter to Slack's dead letters.
    browser
        .find(Locator::Css("#filters input[name=sink]"))
        .await
        .unwrap()
        .send_keys("slack")
        .await
        .unwrap();
    browser
        .find(Locator::Id("apply"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let rows = rows_once(&browser, 1).await;
    assert_eq!(
        rows[0].attr("data-event-id").await.unwrap().as_deref(),
        Some("order-archived")
    );

    // Open it: its payload and attempt are shown.
    browser
        .find(Locator::Css("a.dead-letter"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let payload = eventually(Duration::from_secs(10), || async {
        browser
            .find(Locator::Id("payload"))
            .await
            .ok()?
            .text()
            .await
            .ok()
    })
    .await
    .expect("the dead letter's page");
    assert!(
        payload.contains("\"event_id\": \"order-archived\""),
        "{payload}"
    );
    let attempts = browser
        .find(Locator::Id("attempts"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        attempts.contains("410") && attempts.contains("channel_is_archived"),
        "{attempts}"
    );

    // Replay it, confirming the prompt.
    browser
        .find(Locator::Id("replay-reason"))
        .await
        .unwrap()
        .send_keys("channel unarchived")
        .await
        .unwrap();
    browser
        .find(Locator::Id("replay"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.accept_alert().await.unwrap();
    let flash = eventually(Duration::from_secs(10), || async {
        browser
            .find(Locator::Id("flash"))
            .await
            .ok()?
            .text()
            .await
            .ok()
    })
    .await
    .expect("back on the list with a message");
    assert!(flash.contains("Replayed 1"), "{flash}");
    let rows = browser
        .find_all(Locator::Css("#dead-letters tr[data-event-id]"))
        .await
        .unwrap();
    let ids: Vec<Option<String>> =
        futures_util::future::join_all(rows.iter().map(|r| r.attr("data-event-id")))
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
    assert_eq!(
        ids,
        [Some("lead-token".to_owned())],
        "the replayed dead letter left the list"
    );
    browser.close().await.unwrap();
    let _ = std::fs::remove_dir_all(profile);

    let stored = log
        .load(&EventId::new("order-archived").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.deliveries[0].state, DeliveryState::Pending);
    assert_eq!(queue.depth().await.unwrap(), 1, "the replay was enqueued");
    let audit = wp_bridge_core::dead_letter::DeadLetterStore::audit_log(log.as_ref(), 1)
        .await
        .unwrap();
    assert_eq!(audit[0].by.reason, "channel unarchived");
}

/// The list's rows once there are exactly `n` of them (the page the last
/// click led to has loaded), or a failure after ten seconds.
async fn rows_once(browser: &fantoccini::Client, n: usize) -> Vec<fantoccini::elements::Element> {
    let found = eventually(Duration::from_secs(10), || async {
        let rows = browser
            .find_all(Locator::Css("#dead-letters tr[data-event-id]"))
            .await
            .ok()?;
        (rows.len() == n).then_some(rows)
    })
    .await;
    found.unwrap_or_else(|| panic!("the list never showed {n} dead letters"))
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}
