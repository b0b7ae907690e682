//! Dead letters end to end on Postgres: a sink that fails permanently, is
//! fixed, and is replayed through the admin API.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};
use wp_bridge_axum::admin::{admin_router, AdminState, AdminToken};
use wp_bridge_core::clock::{Clock, SystemClock};
use wp_bridge_core::event::{Event, EventId};
use wp_bridge_core::event_log::EventLog;
use wp_bridge_core::queue::MemoryQueue;
use wp_bridge_core::routing::Routes;
use wp_bridge_core::signature::SecretSet;
use wp_bridge_core::sink::{Delivered, DeliveryContext, DeliveryError, Sink};
use wp_bridge_core::testing::{eventually, sample_body};
use wp_bridge_core::worker::{RetryPolicy, Worker, WorkerHandle};
use wp_bridge_core::GatewayBuilder;
use wp_bridge_postgres::PgStores;

const SECRET: &str = "admin-test-signing-secret-0123";
const TOKEN: &str = "admin-test-token-0123456789abcdef";

/// A sink that fails permanently while broken, and counts what it delivers.
#[derive(Debug, Default)]
struct Switch {
    broken: AtomicBool,
    delivered: Mutex<HashMap<String, u32>>,
}

#[async_trait]
impl Sink for Switch {
    async fn deliver(
        &self,
        event: &Event,
        _: &DeliveryContext,
    ) -> Result<Delivered, DeliveryError> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(DeliveryError::Permanent {
                message: "Slack says channel_is_archived: the webhook needs fixing".into(),
                status_code: Some(410),
            });
        }
        *self
            .delivered
            .lock()
            .unwrap()
            .entry(event.event_id.to_string())
            .or_default() += 1;
        Ok(Delivered::default())
    }
}

struct App {
    url: String,
    client: reqwest::Client,
    slack: Arc<Switch>,
    hubspot: Arc<Switch>,
    _worker: WorkerHandle,
    stores: PgStores,
}

async fn start() -> App {
    start_with(Routes::all_to("slack")).await
}

async fn start_with(routes: Routes) -> App {
    let stores = common::fresh_stores(10).await;
    let clock = SystemClock::shared();
    let log = Arc::new(stores.event_log(clock.clone()));
    let queue = Arc::new(MemoryQueue::new(clock.clone()));
    let gateway = GatewayBuilder::new(SecretSet::new([SECRET]).unwrap())
        .routes(routes)
        .build(
            Arc::new(stores.idempotency_store(clock.clone())),
            log.clone(),
            queue.clone(),
        );
    let admin = AdminState::new(
        Arc::new(stores.dead_letter_store(clock.clone())),
        log.clone(),
        queue.clone(),
        AdminToken::new(TOKEN).unwrap(),
    );
    let app = wp_bridge_axum::router(gateway).nest("/admin", admin_router(admin));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let slack = Arc::new(Switch {
        broken: AtomicBool::new(true),
        ..Switch::default()
    });
    let hubspot = Arc::new(Switch::default());
    let worker = Worker::builder(queue, log)
        .sink("slack", slack.clone())
        .sink("hubspot", hubspot.clone())
        .retry_policy(
            RetryPolicy::exponential(Duration::from_millis(5), Duration::from_millis(20))
                .max_attempts(2),
        )
        .poll_wait(Duration::from_millis(20))
        .build()
        .spawn();
    App {
        url,
        client: reqwest::Client::new(),
        slack,
        hubspot,
        _worker: worker,
        stores,
    }
}

impl App {
    async fn post(&self, id: &str) {
        let body = sample_body(id);
        let now = SystemClock.unix_seconds();
        let status = self
            .client
            .post(format!("{}/webhooks/wp", self.url))
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
            .unwrap()
            .status();
        assert_eq!(status, reqwest::StatusCode::ACCEPTED);
    }

    async fn get(&self, path: &str) -> (reqwest::StatusCode, Value) {
        let r = self
            .client
            .get(format!("{}/admin/api{path}", self.url))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap())
    }

    async fn post_json(&self, path: &str, body: Value) -> (reqwest::StatusCode, Value) {
        let r = self
            .client
            .post(format!("{}/admin/api{path}", self.url))
            .bearer_auth(TOKEN)
            .header("x-admin-actor", "ops@example.com")
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap())
    }

    async fn dead_count(&self, query: &str) -> usize {
        let mut total = 0;
        let mut cursor = String::new();
        loop {
            let (status, page) = self
                .get(&format!("/dead-letters?limit=7&{query}&cursor={cursor}"))
                .await;
            assert_eq!(status, reqwest::StatusCode::OK, "{page}");
            total += page["items"].as_array().unwrap().len();
            match page["next_cursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => return total,
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_dead_letters_replayed_by_filter_are_delivered_exactly_once() {
    let app = start().await;
    for i in 0..50 {
        app.post(&format!("dead-{i:02}")).await;
    }
    assert!(
        eventually(Duration::from_secs(20), || async {
            (app.dead_count("sink=slack").await == 50).then_some(())
        })
        .await
        .is_some(),
        "50 dead letters listed across pages"
    );
    assert_eq!(app.dead_count("sink=slack&status=410&q=ARCHIVED").await, 50);
    assert_eq!(app.dead_count("sink=hubspot").await, 0);
    let (_, stats) = app.get("/dead-letters/stats").await;
    assert_eq!(
        (stats["total"].as_u64(), stats["by_status"]["410"].as_u64()),
        (Some(50), Some(50))
    );

    let (_, detail) = app.get("/dead-letters/dead-07/slack").await;
    assert_eq!(detail["payload"]["event_id"], "dead-07");
    assert_eq!(detail["attempts"][0]["outcome"], "dead");
    assert_eq!(detail["attempts"][0]["status_code"], 410);

    let (status, dry) = app
        .post_json(
            "/dead-letters/replay-by-filter",
            json!({"sink": "slack", "dry_run": true}),
        )
        .await;
    assert_eq!(
        (status, dry["matched"].as_u64()),
        (reqwest::StatusCode::OK, Some(50))
    );
    assert_eq!(
        app.dead_count("sink=slack").await,
        50,
        "a dry run changed something"
    );

    app.slack.broken.store(false, Ordering::SeqCst);
    let (status, started) = app
        .post_json(
            "/dead-letters/replay-by-filter",
            json!({"sink": "slack", "reason": "channel unarchived", "rate_per_second": 100}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::ACCEPTED, "{started}");
    let id = started["replay_id"].as_str().unwrap().to_owned();
    let progress = eventually(Duration::from_secs(20), || async {
        let (_, p) = app.get(&format!("/replays/{id}")).await;
        (p["done"] == true).then_some(p)
    })
    .await
    .unwrap();
    assert_eq!(
        (progress["total"].as_u64(), progress["replayed"].as_u64()),
        (Some(50), Some(50))
    );
    assert!(
        eventually(Duration::from_secs(20), || async {
            (app.slack.delivered.lock().unwrap().len() == 50).then_some(())
        })
        .await
        .is_some(),
        "all 50 delivered after the replay"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        app.slack
            .delivered
            .lock()
            .unwrap()
            .values()
            .all(|n| *n == 1),
        "a replayed event was delivered twice"
    );
    assert_eq!(app.dead_count("").await, 0);

    // Replaying again changes nothing: they are delivered now.
    let (_, again) = app
        .post_json(
            "/dead-letters/replay",
            json!({"keys": [{"event_id": "dead-01", "sink": "slack"}], "reason": "again"}),
        )
        .await;
    assert_eq!(again["replayed"], 0);
    let (_, audit) = app.get("/audit").await;
    let replay = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["reason"] == "channel unarchived")
        .unwrap();
    assert_eq!(
        (replay["actor"].as_str(), replay["filter"].as_str()),
        (Some("ops@example.com"), Some("sink=slack"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_goes_only_to_the_sink_that_died_and_discard_is_audited() {
    let app = start_with(Routes::new().route(
        wp_bridge_core::event::EventType::CommentCreated,
        ["slack", "hubspot"],
    ))
    .await;
    app.post("mixed").await;
    app.post("unwanted").await;
    assert!(eventually(Duration::from_secs(10), || async {
        (app.dead_count("sink=slack").await == 2).then_some(())
    })
    .await
    .is_some());
    assert_eq!(app.hubspot.delivered.lock().unwrap().get("mixed"), Some(&1));

    app.slack.broken.store(false, Ordering::SeqCst);
    let (_, replayed) = app
        .post_json("/dead-letters/replay", json!({"keys": [{"event_id": "mixed", "sink": "slack"}, {"event_id": "mixed", "sink": "hubspot"}], "reason": "fixed"}))
        .await;
    assert_eq!(replayed["replayed"], 1, "only the dead sink is replayed");
    assert!(
        eventually(Duration::from_secs(10), || async {
            app.slack.delivered.lock().unwrap().get("mixed").copied()
        })
        .await
            == Some(1)
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        app.hubspot.delivered.lock().unwrap().get("mixed"),
        Some(&1),
        "HubSpot got the event again"
    );

    let (_, discarded) = app
        .post_json(
            "/dead-letters/discard",
            json!({"keys": [{"event_id": "unwanted", "sink": "slack"}], "reason": "test post"}),
        )
        .await;
    assert_eq!(discarded["discarded"], 1);
    assert_eq!(app.dead_count("").await, 0);
    let (_, detail) = app.get("/dead-letters/unwanted/slack").await;
    assert_eq!(
        detail["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["sink"] == "slack")
            .unwrap()["state"],
        "discarded"
    );
    let (_, audit) = app.get("/audit?limit=10").await;
    assert_eq!(audit["entries"][0]["action"], "discard");
    assert_eq!(audit["entries"][0]["reason"], "test post");

    let id = EventId::new("unwanted").unwrap();
    assert!(
        app.stores
            .event_log(SystemClock::shared())
            .load(&id)
            .await
            .unwrap()
            .is_some(),
        "discard kept the event"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_refuses_missing_or_wrong_tokens_and_changes_nothing() {
    let app = start().await;
    app.post("guarded").await;
    assert!(eventually(Duration::from_secs(10), || async {
        (app.dead_count("").await == 1).then_some(())
    })
    .await
    .is_some());
    for auth in [
        None,
        Some("Bearer wrong-token-0123456789abcdef"),
        Some("Basic YWRtaW46YWRtaW4="),
        Some(TOKEN),
    ] {
        let mut request = app
            .client
            .post(format!("{}/admin/api/dead-letters/discard", app.url))
            .json(&json!({"keys": [{"event_id": "guarded", "sink": "slack"}], "reason": "attack"}));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            reqwest::StatusCode::UNAUTHORIZED,
            "{auth:?}"
        );
        let body = response.text().await.unwrap();
        assert!(body.contains("\"unauthorized\""), "{body}");
        assert!(!body.contains(TOKEN));
    }
    assert_eq!(
        app.dead_count("").await,
        1,
        "an unauthenticated request changed something"
    );
    // The pages send unauthenticated visitors to the login form.
    let page = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/admin", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/admin/login");
}
