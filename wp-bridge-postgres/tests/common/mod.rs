//! Real Postgres for the tests: one database, a fresh schema per test.
#![allow(dead_code)] // Each test binary uses a different part.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{Connection, Executor};
use tokio::sync::OnceCell;
use wp_bridge_core::clock::SharedClock;
use wp_bridge_core::event_log::EventLog;
use wp_bridge_core::idempotency::IdempotencyStore;
use wp_bridge_core::testing::dead_letter::Stores;
use wp_bridge_postgres::{PgConfig, PgStores};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/wp_bridge_test";

/// `WP_BRIDGE_TEST_DATABASE_URL`, or the local test database.
pub(crate) fn pg_url() -> String {
    std::env::var("WP_BRIDGE_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.into())
}

static DATABASE: OnceCell<()> = OnceCell::const_new();

/// Creates the test database if it is missing, and drops schemas that old
/// test runs left behind.
async fn ensure_database() {
    DATABASE
        .get_or_init(|| async {
            let url = pg_url();
            let (server, name) = url.rsplit_once('/').expect("a database URL ends in /name");
            let admin = format!("{server}/postgres");
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                panic!("cannot reach Postgres at {server}: {e}. Start Postgres (bash .ci/run does) or set WP_BRIDGE_TEST_DATABASE_URL")
            });
            let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(name)
                .fetch_one(&mut conn)
                .await
                .unwrap();
            if !exists {
                // Another test binary may create it at the same moment.
                if let Err(e) = conn.execute(format!("CREATE DATABASE \"{name}\"").as_str()).await {
                    let duplicate = e
                        .as_database_error()
                        .and_then(|d| d.code())
                        .is_some_and(|c| c == "42P04" || c == "23505");
                    assert!(duplicate, "cannot create the test database: {e}");
                }
            }
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            let stale_before = now_secs().saturating_sub(3600);
            let stale: Vec<String> =
                sqlx::query_scalar("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'wpb_t_%'")
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
            for schema in stale {
                let created: u64 = schema.split('_').nth(2).and_then(|s| s.parse().ok()).unwrap_or(0);
                if created < stale_before {
                    let _ = conn.execute(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE").as_str()).await;
                }
            }
        })
        .await;
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A fresh, migrated schema of its own; returns its name too.
pub(crate) async fn fresh_schema(max_connections: u32) -> (PgStores, String) {
    ensure_database().await;
    let schema = format!("wpb_t_{}_{}", now_secs(), uuid::Uuid::new_v4().simple());
    let stores = PgStores::connect(
        &PgConfig::new(pg_url())
            .schema(schema.clone())
            .max_connections(max_connections),
    )
    .await
    .unwrap();
    stores.migrate().await.unwrap();
    (stores, schema)
}

/// A fresh, migrated schema of its own.
pub(crate) async fn fresh_stores(max_connections: u32) -> PgStores {
    fresh_schema(max_connections).await.0
}

pub(crate) async fn fresh_idempotency_store(clock: SharedClock) -> Arc<dyn IdempotencyStore> {
    Arc::new(fresh_stores(5).await.idempotency_store(clock))
}

pub(crate) async fn fresh_event_log(clock: SharedClock) -> Arc<dyn EventLog> {
    Arc::new(fresh_stores(5).await.event_log(clock))
}

pub(crate) async fn fresh_dead_letter_stores(clock: SharedClock) -> Stores {
    let stores = fresh_stores(5).await;
    (
        Arc::new(stores.event_log(clock.clone())),
        Arc::new(stores.dead_letter_store(clock)),
    )
}
