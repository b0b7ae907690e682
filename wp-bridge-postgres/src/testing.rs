//! Real Postgres for tests (feature `testing`): the test database, created
//! when missing, and a fresh migrated schema per test so tests run in
//! parallel without seeing each other.

use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{Connection, Executor};
use tokio::sync::OnceCell;

use crate::{PgConfig, PgStores};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/wp_bridge_test";
/// Schemas of test runs older than this are dropped when a new run starts.
const STALE_AFTER_SECS: u64 = 3600;

/// `WP_BRIDGE_TEST_DATABASE_URL`, or the local test database.
pub fn test_database_url() -> String {
    std::env::var("WP_BRIDGE_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.into())
}

static DATABASE: OnceCell<()> = OnceCell::const_new();

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Creates the test database if it is missing and drops the schemas that
/// test runs more than an hour old left behind. Panics with the fix when
/// Postgres is unreachable: storage tests are never skipped.
pub async fn ensure_test_database() {
    DATABASE.get_or_init(prepare).await;
}

#[allow(clippy::unwrap_used, clippy::panic)] // Test support: failing loudly is the point.
async fn prepare() {
    let url = test_database_url();
    let (server, name) = url
        .rsplit_once('/')
        .unwrap_or_else(|| panic!("WP_BRIDGE_TEST_DATABASE_URL must end in /<database>: {url}"));
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap_or_else(|e| {
            panic!("cannot reach Postgres at {server}: {e}. Start it (bash .ci/run does) or set WP_BRIDGE_TEST_DATABASE_URL")
        });
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut admin)
            .await
            .unwrap();
    if !exists {
        if let Err(e) = admin
            .execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
        {
            // Another test binary may have created it a moment ago.
            let raced = e
                .as_database_error()
                .and_then(|d| d.code())
                .is_some_and(|c| c == "42P04" || c == "23505");
            assert!(raced, "cannot create the test database {name}: {e}");
        }
    }
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let schemas: Vec<String> =
        sqlx::query_scalar("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'wpb\\_t\\_%'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let stale_before = now_secs().saturating_sub(STALE_AFTER_SECS);
    for schema in schemas {
        let created: u64 = schema
            .split('_')
            .nth(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if created < stale_before {
            // Best effort: a concurrent run may be dropping it too.
            let _ = conn
                .execute(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE").as_str())
                .await;
        }
    }
}

/// A new schema name for one test (`wpb_t_<unix seconds>_<random>`).
pub fn fresh_schema_name() -> String {
    format!("wpb_t_{}_{}", now_secs(), uuid::Uuid::new_v4().simple())
}

/// A fresh, migrated schema of its own, and its name.
#[allow(clippy::unwrap_used)] // Test support.
pub async fn fresh_schema(max_connections: u32) -> (PgStores, String) {
    ensure_test_database().await;
    let schema = fresh_schema_name();
    let stores = PgStores::connect(
        &PgConfig::new(test_database_url())
            .schema(schema.clone())
            .max_connections(max_connections),
    )
    .await
    .unwrap();
    stores.migrate().await.unwrap();
    (stores, schema)
}

/// A TCP proxy to the test Postgres that a test can cut (dropping every
/// connection and refusing new ones) and restore: an outage on demand.
#[derive(Debug)]
pub struct PgProxy {
    port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl PgProxy {
    /// Starts one on a free loopback port.
    #[allow(clippy::unwrap_used)] // Test support.
    pub async fn start() -> Self {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let links = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let target = test_database_url()
            .split('@')
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or("127.0.0.1:5432")
            .to_owned();
        let (up2, links2) = (up.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    continue; // dropped: connection refused in effect
                }
                let target = target.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                links2
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(link.abort_handle());
            }
        });
        Self { port, up, links }
    }

    /// Cuts every connection and refuses new ones.
    pub fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for link in self
            .links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            link.abort();
        }
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The test database's URL, through the proxy.
    pub fn url(&self) -> String {
        let url = test_database_url();
        match url.split_once('@') {
            Some((user, rest)) => {
                let db = rest.split_once('/').map_or("", |(_, db)| db);
                format!("{user}@127.0.0.1:{}/{db}", self.port)
            }
            None => url,
        }
    }
}
