use std::fmt;
use std::time::Duration;

/// How to reach Redis and where to keep the keys. Built by the binary (from
/// `REDIS_URL`); the library never reads the environment.
#[derive(Clone)]
#[must_use]
pub struct RedisConfig {
    pub(crate) url: String,
    pub(crate) prefix: String,
    pub(crate) response_timeout: Duration,
    pub(crate) idle_poll: Duration,
}

impl RedisConfig {
    /// A URL such as `redis://127.0.0.1:6379/0` (or `rediss://` for TLS).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: "wp-bridge".into(),
            response_timeout: Duration::from_secs(2),
            idle_poll: Duration::from_millis(100),
        }
    }

    /// Key prefix (default `wp-bridge`). Keys are `{prefix}:ready` and so on:
    /// the braces keep them in one Redis Cluster slot, as the scripts need.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Longest wait for one Redis reply before the call fails (default 2 s).
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// Longest pause between two looks at an empty queue (default 100 ms);
    /// the first looks come faster, so a busy queue is drained at once.
    pub fn idle_poll(mut self, poll: Duration) -> Self {
        self.idle_poll = poll;
        self
    }
}

impl fmt::Debug for RedisConfig {
    // The URL may carry a password: show only where it points.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = self
            .url
            .rsplit_once('@')
            .map_or(self.url.as_str(), |(_, host)| host);
        f.debug_struct("RedisConfig")
            .field("target", &target)
            .field("prefix", &self.prefix)
            .field("response_timeout", &self.response_timeout)
            .finish_non_exhaustive()
    }
}
