//! `wp-bridge dlq …` against real Postgres and Redis.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::process::Output;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use wp_bridge_core::clock::SystemClock;
use wp_bridge_core::event::{CorrelationId, EventId, SinkName};
use wp_bridge_core::event_log::{AttemptOutcome, DeliveryState, EventLog, NewEvent};
use wp_bridge_core::testing::{sample_body, sample_event};
use wp_bridge_postgres::testing::{fresh_schema, test_database_url};
use wp_bridge_postgres::PgEventLog;
use wp_bridge_redis::testing::{fresh_prefix, test_redis_url};

async fn dead(log: &PgEventLog, id: &str, sink: &str, status: u16) {
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
    let outcome = AttemptOutcome::Dead {
        error: format!("HTTP {status} from the sink"),
        status_code: Some(status),
    };
    log.finish_attempt(&id, &sink, 1, SystemTime::now(), Duration::ZERO, outcome)
        .await
        .unwrap();
}

fn dlq(schema: &str, prefix: &str, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_wp-bridge"))
        .arg("dlq")
        .args(args)
        .env_clear()
        .env("DATABASE_URL", test_database_url())
        .env("WP_BRIDGE_PG_SCHEMA", schema)
        .env("REDIS_URL", test_redis_url())
        .env("WP_BRIDGE_REDIS_PREFIX", prefix)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_show_replay_discard_and_stats() {
    let (stores, schema) = fresh_schema(2).await;
    let prefix = fresh_prefix();
    let log = stores.event_log(SystemClock::shared());
    for i in 0..3 {
        dead(&log, &format!("cli-slack-{i}"), "slack", 410).await;
    }
    dead(&log, "cli-hubspot", "hubspot", 401).await;

    let listed = stdout(&dlq(&schema, &prefix, &["list", "--json"]));
    assert_eq!(listed.lines().count(), 4);
    let first: serde_json::Value = serde_json::from_str(listed.lines().next().unwrap()).unwrap();
    assert_eq!(first["last_status_code"], 410);
    let table = stdout(&dlq(&schema, &prefix, &["list", "--sink", "hubspot"]));
    assert!(
        table.contains("cli-hubspot") && table.contains("1 shown"),
        "{table}"
    );

    let shown = stdout(&dlq(
        &schema,
        &prefix,
        &["show", "cli-hubspot", "hubspot", "--json"],
    ));
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(
        (
            shown["state"].as_str(),
            shown["history"][0]["status_code"].as_u64()
        ),
        (Some("dead"), Some(401))
    );
    assert_eq!(shown["payload"]["event_id"], "cli-hubspot");

    let stats: serde_json::Value =
        serde_json::from_str(&stdout(&dlq(&schema, &prefix, &["stats", "--json"]))).unwrap();
    assert_eq!(
        (stats["total"].as_u64(), stats["by_sink"]["slack"].as_u64()),
        (Some(4), Some(3))
    );

    let dry = stdout(&dlq(
        &schema,
        &prefix,
        &["replay", "--status", "410", "--dry-run"],
    ));
    assert!(
        dry.starts_with("3 dead letter(s) would be replayed"),
        "{dry}"
    );
    // Not a terminal and no --yes: refused, nothing changed.
    let refused = dlq(&schema, &prefix, &["replay", "--status", "410"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));
    assert_eq!(
        stdout(&dlq(&schema, &prefix, &["list", "--json"]))
            .lines()
            .count(),
        4
    );

    let replayed = stdout(&dlq(
        &schema,
        &prefix,
        &[
            "replay",
            "--status",
            "410",
            "--yes",
            "--reason",
            "channel back",
        ],
    ));
    assert!(
        replayed.starts_with("3 delivery(ies) replayed"),
        "{replayed}"
    );
    let client = redis::Client::open(test_redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let queued: u64 = redis::cmd("LLEN")
        .arg(format!("{{{prefix}}}:ready"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(queued, 3, "the replayed jobs went onto the Redis queue");
    let d = log
        .load(&EventId::new("cli-slack-0").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.deliveries[0].state, DeliveryState::Pending);

    let discarded = stdout(&dlq(
        &schema,
        &prefix,
        &[
            "discard",
            "cli-hubspot:hubspot",
            "--reason",
            "test lead",
            "--yes",
        ],
    ));
    assert_eq!(discarded.trim(), "1 discarded");
    assert_eq!(
        stdout(&dlq(&schema, &prefix, &["list", "--json"]))
            .lines()
            .count(),
        0
    );
    let audit: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT action, actor, count FROM dead_letter_audit ORDER BY id")
            .fetch_all(stores.pool())
            .await
            .unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!((audit[0].0.as_str(), audit[0].2), ("replay", 3));
    assert!(audit[0].1.starts_with("cli:"));
    assert_eq!((audit[1].0.as_str(), audit[1].2), ("discard", 1));
}
