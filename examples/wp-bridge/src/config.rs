//! Configuration from the environment, validated once at start. Every error
//! names the variable to fix.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use wp_bridge::axum::ServerLimits;
use wp_bridge::core::event::EventType;
use wp_bridge::core::layer::IpAllowlistLayer;
use wp_bridge::core::monitor::AlertConfig;
use wp_bridge::core::routing::Routes;
use wp_bridge::core::signature::SecretSet;

/// A variable that is missing or malformed.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub(crate) struct ConfigError {
    var: &'static str,
    message: String,
}

impl ConfigError {
    /// An error about `var`.
    pub(crate) fn new(var: &'static str, message: impl Into<String>) -> Self {
        Self {
            var,
            message: message.into(),
        }
    }
}

fn error(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::new(var, message)
}

/// A sink's shared rate: `rate` calls per `period`, bursts of `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateSpec {
    pub(crate) rate: u32,
    pub(crate) period: Duration,
    pub(crate) burst: u32,
}

/// Everything the binary reads from the environment.
pub(crate) struct Config {
    pub(crate) secrets: Option<SecretSet>,
    pub(crate) database_url: String,
    pub(crate) pg_schema: Option<String>,
    pub(crate) redis_url: Option<String>,
    pub(crate) redis_prefix: String,
    pub(crate) listen: SocketAddr,
    pub(crate) body_limit: usize,
    pub(crate) tolerance: Duration,
    pub(crate) max_queue_depth: u64,
    pub(crate) webhook_url: Option<String>,
    pub(crate) routes: Option<Routes>,
    pub(crate) rate_limits: BTreeMap<String, RateSpec>,
    pub(crate) lease: Duration,
    pub(crate) concurrency: usize,
    pub(crate) max_attempts: u32,
    pub(crate) retry_base: Duration,
    pub(crate) reconcile_interval: Duration,
    pub(crate) reconcile_grace: Duration,
    pub(crate) log_json: bool,
    pub(crate) admin_token: Option<String>,
    pub(crate) admin_listen: SocketAddr,
    pub(crate) retention: Option<Duration>,
    pub(crate) metrics_listen: Option<SocketAddr>,
    pub(crate) alert_webhook: Option<String>,
    pub(crate) alerts: AlertConfig,
    pub(crate) monitor_interval: Duration,
    pub(crate) ip_allowlist: IpAllowlistLayer,
    pub(crate) server_limits: ServerLimits,
    pub(crate) request_timeout: Duration,
    pub(crate) standard_webhook_secrets: Option<SecretSet>,
    pub(crate) woocommerce_secrets: Option<SecretSet>,
    pub(crate) depth_cache: Duration,
}

/// The variables, for `--help` and the docs.
pub(crate) const VARIABLES: &str = "\
Environment:
  WP_BRIDGE_SECRETS               signing secrets, comma-separated; the first signs, all verify (serve, all)
  DATABASE_URL                    Postgres URL (required)
  WP_BRIDGE_PG_SCHEMA             Postgres schema for the tables (default: the connection's)
  REDIS_URL                       Redis URL; without it the queue is in memory and only `all` runs
  WP_BRIDGE_REDIS_PREFIX          Redis key prefix (default wp-bridge)
  WP_BRIDGE_LISTEN                listen address (default 127.0.0.1:8080)
  WP_BRIDGE_BODY_LIMIT            largest body in bytes (default 65536)
  WP_BRIDGE_TOLERANCE_SECS        timestamp window, each way (default 300)
  WP_BRIDGE_MAX_QUEUE_DEPTH       queue bound before 503 overloaded (default 10000)
  WP_BRIDGE_WEBHOOK_URL           deliver to this URL as JSON (sink `webhook`); without any sink, stdout (sink `log`)
  WP_BRIDGE_ROUTES                e.g. `order.created=webhook;lead.created=webhook` (default: every type to every sink)
  WP_BRIDGE_RATE_LIMITS           shared across workers through Redis, e.g. `webhook=10/s` or `webhook=100/10s+5`
  WP_BRIDGE_LEASE_SECS            job lease (default 60)
  WP_BRIDGE_WORKER_CONCURRENCY    jobs at once per worker (default 4)
  WP_BRIDGE_MAX_ATTEMPTS          attempts per sink before dead-lettering (default 8)
  WP_BRIDGE_RETRY_BASE_MS         first backoff step (default 1000)
  WP_BRIDGE_RECONCILE_INTERVAL_SECS  reconciler sweep interval (default 30)
  WP_BRIDGE_RECONCILE_GRACE_SECS  how overdue a delivery must be to be re-enqueued (default 60)
  WP_BRIDGE_LOG_JSON              `true` for JSON log lines
  WP_BRIDGE_ADMIN_TOKEN           enables the dead-letter admin (API and pages) with this bearer token (16+ chars)
  WP_BRIDGE_ADMIN_LISTEN          where the admin listens (default 127.0.0.1:9090, apart from the public port)
  WP_BRIDGE_RETENTION_DAYS        purge delivered and discarded events after this many days (default 30, 0: never)
  WP_BRIDGE_METRICS_LISTEN        /metrics, /healthz, /readyz listener (default 127.0.0.1:9464; `off` to disable)
  WP_BRIDGE_ALERT_SLACK_WEBHOOK_URL  a Slack incoming webhook for alerts (failure rate, stall, dead letters)
  WP_BRIDGE_ALERT_FAILURE_RATE    failure ratio that alerts (default 0.02)
  WP_BRIDGE_ALERT_WINDOW_SECS     sliding window (default 300)
  WP_BRIDGE_ALERT_MIN_VOLUME      fewest attempts in the window to alert on (default 20)
  WP_BRIDGE_ALERT_STALL_SECS      nothing delivered this long while jobs wait is a stall (default 600)
  WP_BRIDGE_MONITOR_INTERVAL_SECS how often gauges are sampled and alerts evaluated (default 10)
  WP_BRIDGE_IP_ALLOWLIST          accept ingest only from these networks, comma-separated CIDRs (default: anyone)
  WP_BRIDGE_TRUSTED_PROXIES       proxies whose X-Forwarded-For / Forwarded are believed, comma-separated CIDRs
  WP_BRIDGE_HEADER_READ_TIMEOUT_SECS  deadline for a request's head (default 5; slowloris)
  WP_BRIDGE_REQUEST_TIMEOUT_SECS  deadline for a whole ingest request, body included (default 30; then 408)
  WP_BRIDGE_MAX_HEADER_BYTES      largest request head (default 16384; then 431)
  WP_BRIDGE_MAX_CONNECTIONS       connections open at once on the public port (default 1024)
  WP_BRIDGE_STANDARD_WEBHOOK_SECRETS  whsec_ secrets (comma-separated): also accept Standard Webhooks senders at POST /webhooks/standard
  WP_BRIDGE_WOOCOMMERCE_SECRET    a WooCommerce webhook's secret: accept its native webhooks at POST /webhooks/woocommerce
  WP_BRIDGE_WOOCOMMERCE_OLD_SECRET  the previous one, while rotating
  WP_BRIDGE_DEPTH_CACHE_MS        reuse a queue-depth read for backpressure this long (default 100; 0: every request)
  WP_BRIDGE_OTLP_ENDPOINT         OpenTelemetry collector for wp-bridge's spans, e.g. http://127.0.0.1:4318 (`otlp` builds)";

fn parse<T: FromStr>(
    env: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
    what: &str,
) -> Result<T, ConfigError> {
    match env(var) {
        None => Ok(default),
        Some(v) if v.trim().is_empty() => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| error(var, format!("{v:?} is not {what}"))),
    }
}

fn secs(
    env: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
) -> Result<Duration, ConfigError> {
    parse(env, var, default, "a whole number of seconds").map(Duration::from_secs)
}

/// `order.created=slack,hubspot;lead.created=hubspot`
fn routes(spec: &str) -> Result<Routes, ConfigError> {
    let var = "WP_BRIDGE_ROUTES";
    let mut routes = Routes::new();
    for entry in spec.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let (event, sinks) = entry
            .split_once('=')
            .ok_or_else(|| error(var, format!("{entry:?} is not `event.type=sink,sink`")))?;
        let event_type: EventType = event.trim().parse().map_err(|()| {
            error(
                var,
                format!(
                    "unknown event type {:?}; known: comment.created, order.created, lead.created",
                    event.trim()
                ),
            )
        })?;
        let sinks: Vec<&str> = sinks
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        routes = routes.route(event_type, sinks);
    }
    Ok(routes)
}

/// `webhook=10/s`, `hubspot=100/10s+5`
fn rate_limits(spec: &str) -> Result<BTreeMap<String, RateSpec>, ConfigError> {
    let var = "WP_BRIDGE_RATE_LIMITS";
    let bad = |entry: &str| {
        error(
            var,
            format!("{entry:?} is not `sink=RATE/PERIOD[+BURST]`, e.g. `slack=1/s+3`"),
        )
    };
    let mut limits = BTreeMap::new();
    for entry in spec
        .split(';')
        .flat_map(|e| e.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        let (sink, rest) = entry.split_once('=').ok_or_else(|| bad(entry))?;
        let (rate, rest) = rest.split_once('/').ok_or_else(|| bad(entry))?;
        let (period, burst) = rest.split_once('+').unwrap_or((rest, "1"));
        let period = period.trim();
        let digits = period.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let unit = &period[digits.len()..];
        let count: u64 = if digits.is_empty() {
            1
        } else {
            digits.parse().map_err(|_| bad(entry))?
        };
        let period = match unit {
            "ms" => Duration::from_millis(count),
            "s" => Duration::from_secs(count),
            "m" => Duration::from_secs(count * 60),
            _ => return Err(bad(entry)),
        };
        let rate: u32 = rate.trim().parse().map_err(|_| bad(entry))?;
        let burst: u32 = burst.trim().parse().map_err(|_| bad(entry))?;
        if rate == 0 || burst == 0 || period.is_zero() {
            return Err(bad(entry));
        }
        limits.insert(
            sink.trim().to_owned(),
            RateSpec {
                rate,
                period,
                burst,
            },
        );
    }
    Ok(limits)
}

impl Config {
    /// Reads and validates every variable through `env`.
    pub(crate) fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let secrets = env("WP_BRIDGE_SECRETS")
            .or_else(|| env("WP_BRIDGE_SECRET"))
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                SecretSet::from_comma_separated(&s)
                    .map_err(|e| error("WP_BRIDGE_SECRETS", e.to_string()))
            })
            .transpose()?;
        let database_url = env("DATABASE_URL")
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                error(
                    "DATABASE_URL",
                    "is required (postgres://user:password@host:5432/db)",
                )
            })?;
        let nonempty = |var| env(var).filter(|s: &String| !s.trim().is_empty());
        Ok(Self {
            secrets,
            database_url,
            pg_schema: nonempty("WP_BRIDGE_PG_SCHEMA"),
            redis_url: nonempty("REDIS_URL"),
            redis_prefix: nonempty("WP_BRIDGE_REDIS_PREFIX").unwrap_or_else(|| "wp-bridge".into()),
            listen: parse(
                &env,
                "WP_BRIDGE_LISTEN",
                SocketAddr::from(([127, 0, 0, 1], 8080)),
                "an address such as 0.0.0.0:8080",
            )?,
            body_limit: parse(&env, "WP_BRIDGE_BODY_LIMIT", 64 * 1024, "a number of bytes")?,
            tolerance: secs(&env, "WP_BRIDGE_TOLERANCE_SECS", 300)?,
            max_queue_depth: parse(
                &env,
                "WP_BRIDGE_MAX_QUEUE_DEPTH",
                10_000,
                "a number of jobs",
            )?,
            webhook_url: nonempty("WP_BRIDGE_WEBHOOK_URL"),
            routes: nonempty("WP_BRIDGE_ROUTES")
                .map(|s| routes(&s))
                .transpose()?,
            rate_limits: nonempty("WP_BRIDGE_RATE_LIMITS")
                .map(|s| rate_limits(&s))
                .transpose()?
                .unwrap_or_default(),
            lease: secs(&env, "WP_BRIDGE_LEASE_SECS", 60)?,
            concurrency: parse(&env, "WP_BRIDGE_WORKER_CONCURRENCY", 4, "a number of jobs")?,
            max_attempts: parse(&env, "WP_BRIDGE_MAX_ATTEMPTS", 8, "a number of attempts")?,
            retry_base: parse(
                &env,
                "WP_BRIDGE_RETRY_BASE_MS",
                1000,
                "a number of milliseconds",
            )
            .map(Duration::from_millis)?,
            reconcile_interval: secs(&env, "WP_BRIDGE_RECONCILE_INTERVAL_SECS", 30)?,
            reconcile_grace: secs(&env, "WP_BRIDGE_RECONCILE_GRACE_SECS", 60)?,
            log_json: parse(&env, "WP_BRIDGE_LOG_JSON", false, "true or false")?,
            admin_token: nonempty("WP_BRIDGE_ADMIN_TOKEN"),
            admin_listen: parse(
                &env,
                "WP_BRIDGE_ADMIN_LISTEN",
                SocketAddr::from(([127, 0, 0, 1], 9090)),
                "an address such as 127.0.0.1:9090",
            )?,
            retention: match parse::<u64>(&env, "WP_BRIDGE_RETENTION_DAYS", 30, "a number of days")?
            {
                0 => None,
                days => Some(Duration::from_secs(days * 86_400)),
            },
            metrics_listen: match nonempty("WP_BRIDGE_METRICS_LISTEN").as_deref() {
                Some("off") => None,
                _ => Some(parse(
                    &env,
                    "WP_BRIDGE_METRICS_LISTEN",
                    SocketAddr::from(([127, 0, 0, 1], 9464)),
                    "an address such as 127.0.0.1:9464, or off",
                )?),
            },
            alert_webhook: nonempty("WP_BRIDGE_ALERT_SLACK_WEBHOOK_URL"),
            alerts: AlertConfig {
                threshold: parse(
                    &env,
                    "WP_BRIDGE_ALERT_FAILURE_RATE",
                    0.02,
                    "a ratio such as 0.02",
                )?,
                window: secs(&env, "WP_BRIDGE_ALERT_WINDOW_SECS", 300)?,
                min_volume: parse(
                    &env,
                    "WP_BRIDGE_ALERT_MIN_VOLUME",
                    20,
                    "a number of attempts",
                )?,
                stall_after: secs(&env, "WP_BRIDGE_ALERT_STALL_SECS", 600)?,
            },
            monitor_interval: secs(&env, "WP_BRIDGE_MONITOR_INTERVAL_SECS", 10)?,
            ip_allowlist: {
                let list = |var: &'static str| -> Vec<String> {
                    nonempty(var)
                        .map(|v| {
                            v.split(',')
                                .map(|n| n.trim().to_owned())
                                .filter(|n| !n.is_empty())
                                .collect()
                        })
                        .unwrap_or_default()
                };
                IpAllowlistLayer::new(list("WP_BRIDGE_IP_ALLOWLIST"))
                    .map_err(|e| error("WP_BRIDGE_IP_ALLOWLIST", e.to_string()))?
                    .trusted_proxies(list("WP_BRIDGE_TRUSTED_PROXIES"))
                    .map_err(|e| error("WP_BRIDGE_TRUSTED_PROXIES", e.to_string()))?
            },
            server_limits: ServerLimits {
                header_read_timeout: secs(&env, "WP_BRIDGE_HEADER_READ_TIMEOUT_SECS", 5)?,
                max_header_bytes: parse(
                    &env,
                    "WP_BRIDGE_MAX_HEADER_BYTES",
                    16 * 1024,
                    "a number of bytes",
                )?,
                max_connections: parse(
                    &env,
                    "WP_BRIDGE_MAX_CONNECTIONS",
                    1024,
                    "a number of connections",
                )?,
                ..ServerLimits::default()
            },
            request_timeout: secs(&env, "WP_BRIDGE_REQUEST_TIMEOUT_SECS", 30)?,
            standard_webhook_secrets: nonempty("WP_BRIDGE_STANDARD_WEBHOOK_SECRETS")
                .map(|s| {
                    SecretSet::from_standard_webhooks(&s)
                        .map_err(|e| error("WP_BRIDGE_STANDARD_WEBHOOK_SECRETS", e.to_string()))
                })
                .transpose()?,
            depth_cache: parse(
                &env,
                "WP_BRIDGE_DEPTH_CACHE_MS",
                100,
                "a number of milliseconds",
            )
            .map(Duration::from_millis)?,
            // Whole values, not comma lists: WooCommerce secrets may contain commas.
            woocommerce_secrets: match (
                env("WP_BRIDGE_WOOCOMMERCE_SECRET"),
                env("WP_BRIDGE_WOOCOMMERCE_OLD_SECRET"),
            ) {
                (Some(new), old) if !new.is_empty() => Some(
                    SecretSet::new(std::iter::once(new).chain(old.filter(|o| !o.is_empty())))
                        .map_err(|e| error("WP_BRIDGE_WOOCOMMERCE_SECRET", e.to_string()))?,
                ),
                _ => None,
            },
        })
    }

    /// The secrets, required to serve.
    pub(crate) fn require_secrets(&mut self) -> Result<SecretSet, ConfigError> {
        self.secrets.take().ok_or_else(|| {
            error(
                "WP_BRIDGE_SECRETS",
                "is required to serve: the secret(s) WordPress signs with",
            )
        })
    }

    /// Refuses a Redis-less split deployment: an in-memory queue is not
    /// shared between processes.
    pub(crate) fn require_shared_queue(&self, role: &str) -> Result<(), ConfigError> {
        if self.redis_url.is_none() {
            return Err(error("REDIS_URL", format!("is required for `wp-bridge {role}`: gateways and workers share the queue through Redis (or run `wp-bridge all`)")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_env(|k| vars.get(k).cloned())
    }

    #[test]
    fn defaults_and_required_variables() {
        let err = config(&[]).err().unwrap().to_string();
        assert!(err.starts_with("DATABASE_URL:"), "{err}");
        let c = config(&[("DATABASE_URL", "postgres://x@h/db")]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(
            (c.body_limit, c.max_queue_depth, c.tolerance.as_secs()),
            (65536, 10_000, 300)
        );
        assert!(c.secrets.is_none() && c.redis_url.is_none() && c.routes.is_none());
    }

    #[test]
    fn errors_name_the_variable() {
        for (var, value) in [
            ("WP_BRIDGE_LISTEN", "nowhere"),
            ("WP_BRIDGE_BODY_LIMIT", "64k"),
            ("WP_BRIDGE_SECRETS", "short"),
            ("WP_BRIDGE_ROUTES", "user.deleted=slack"),
            ("WP_BRIDGE_RATE_LIMITS", "slack=fast"),
            ("WP_BRIDGE_LEASE_SECS", "-1"),
        ] {
            let err = config(&[("DATABASE_URL", "postgres://x@h/db"), (var, value)])
                .err()
                .unwrap()
                .to_string();
            assert!(err.starts_with(&format!("{var}:")), "{var}: {err}");
            assert!(!err.contains("short\""), "a secret was echoed: {err}");
        }
    }

    #[test]
    fn routes_and_rate_limits_parse() {
        let c = config(&[
            ("DATABASE_URL", "postgres://x@h/db"),
            (
                "WP_BRIDGE_ROUTES",
                "order.created=slack,hubspot; lead.created=hubspot",
            ),
            (
                "WP_BRIDGE_RATE_LIMITS",
                "slack=1/s+3;hubspot=100/10s,webhook=10/s",
            ),
        ])
        .unwrap();
        let routes = c.routes.unwrap();
        assert_eq!(routes.sinks_for(EventType::OrderCreated).len(), 2);
        assert!(routes.sinks_for(EventType::CommentCreated).is_empty());
        assert_eq!(
            c.rate_limits["slack"],
            RateSpec {
                rate: 1,
                period: Duration::from_secs(1),
                burst: 3
            }
        );
        assert_eq!(
            c.rate_limits["hubspot"],
            RateSpec {
                rate: 100,
                period: Duration::from_secs(10),
                burst: 1
            }
        );
        assert_eq!(c.rate_limits["webhook"].rate, 10);
    }
}
