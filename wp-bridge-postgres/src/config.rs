use std::fmt;
use std::time::Duration;

/// How to reach Postgres. Built by the binary (from `DATABASE_URL`); the
/// library never reads the environment.
#[derive(Clone)]
#[must_use]
pub struct PgConfig {
    pub(crate) url: String,
    pub(crate) schema: Option<String>,
    pub(crate) max_connections: u32,
    pub(crate) acquire_timeout: Duration,
    pub(crate) statement_timeout: Duration,
}

impl PgConfig {
    /// A connection URL such as `postgres://user:password@host:5432/db`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            schema: None,
            max_connections: 10,
            acquire_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(10),
        }
    }

    /// Keeps every table in this schema (created if missing) instead of the
    /// connection's default; handy to share a database, and how the tests
    /// isolate themselves. Letters, digits and `_` only.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// Pool size (default 10).
    pub fn max_connections(mut self, connections: u32) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// How long to wait for a free connection (default 3 s). This bounds how
    /// long an ingest waits when Postgres is unreachable before answering 503.
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Server-side limit per statement (default 10 s).
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout;
        self
    }
}

impl fmt::Debug for PgConfig {
    // The URL may hold a password: show only where it points.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = self
            .url
            .rsplit_once('@')
            .map_or("<unparsed>", |(_, host)| host);
        f.debug_struct("PgConfig")
            .field("target", &target)
            .field("schema", &self.schema)
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}
