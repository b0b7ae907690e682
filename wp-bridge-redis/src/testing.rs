//! Redis for tests (feature `testing`): the shared local server with a
//! random key prefix per test, or a private `redis-server` of the test's own
//! that it can stop, restart and flush without disturbing other tests.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

const DEFAULT_URL: &str = "redis://127.0.0.1:6379";

/// `WP_BRIDGE_TEST_REDIS_URL`, or the local server.
pub fn test_redis_url() -> String {
    std::env::var("WP_BRIDGE_TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_URL.into())
}

/// A key prefix no other test uses.
pub fn fresh_prefix() -> String {
    format!("wpb-test-{}", uuid::Uuid::new_v4().simple())
}

/// A `redis-server` owned by one test, on a free loopback port, keeping
/// nothing on disk. Killed on drop.
#[derive(Debug)]
pub struct PrivateRedis {
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    /// Starts one on a free port.
    #[allow(clippy::unwrap_used)] // Test support: failing loudly is the point.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let mut redis = Self { port, child: None };
        redis.restart().await;
        redis
    }

    /// The URL to connect to.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops the server (SIGKILL: everything in memory is gone).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts the server again on the same port, empty.
    #[allow(clippy::unwrap_used, clippy::panic)] // Test support.
    pub async fn restart(&mut self) {
        self.stop().await;
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start redis-server ({e}); install it (bash .ci/run does)")
            });
        self.child = Some(child);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("redis-server did not come up on port {}", self.port);
    }
}
