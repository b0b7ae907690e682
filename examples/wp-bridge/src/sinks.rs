//! The sinks this deployment delivers to, from the environment.

use std::sync::Arc;
use std::time::Duration;

use wp_bridge::core::clock::SharedClock;
use wp_bridge::core::event::EventType;
use wp_bridge::core::routing::Routes;
use wp_bridge::core::sink::{LogSink, Sink, SinkState};
use wp_bridge::redis::{RedisConfig, RedisRateLimiter};

use crate::config::{Config, ConfigError};
use crate::webhook::WebhookSink;
use crate::AppError;

/// Named sinks, rate limits applied; enrichers run before the others.
pub(crate) struct Sinks {
    sinks: Vec<(String, Arc<dyn Sink>)>,
    enrichers: Vec<String>,
}

impl Sinks {
    /// Every event type to every sink.
    pub(crate) fn default_routes(&self) -> Routes {
        EventType::ALL.into_iter().fold(Routes::new(), |routes, t| {
            routes.route(t, self.sinks.iter().map(|(name, _)| name.as_str()))
        })
    }

    /// Each sink, and whether it is an enricher.
    pub(crate) fn into_workers(self) -> Vec<(String, Arc<dyn Sink>, bool)> {
        let enrichers = self.enrichers;
        self.sinks
            .into_iter()
            .map(|(name, sink)| {
                let enricher = enrichers.contains(&name);
                (name, sink, enricher)
            })
            .collect()
    }
}

pub(crate) async fn build(
    config: &Config,
    redis: Option<&RedisConfig>,
    state: Arc<dyn SinkState>,
    clock: SharedClock,
) -> Result<Sinks, AppError> {
    let mut sinks: Vec<(String, Arc<dyn Sink>)> = Vec::new();
    let mut enrichers = Vec::new();
    // Slack, HubSpot and OpenAI read their WP_BRIDGE_* variables exactly as
    // in the quick start, with their state kept in Postgres. Routes are this
    // binary's own (they may name the webhook sink too).
    let services = quickstart::sinks::Configured::from_lookup_with_state(
        |var| {
            (var != "WP_BRIDGE_ROUTES")
                .then(|| std::env::var(var).ok())
                .flatten()
        },
        Some(state),
    )
    .map_err(|e| AppError::Config(config_error(e.var, e.reason)))?;
    if let Some((name, sink)) = services.enricher {
        enrichers.push(name.to_owned());
        sinks.push((name.to_owned(), sink));
    }
    sinks.extend(
        services
            .sinks
            .into_iter()
            .map(|(name, sink)| (name.to_owned(), sink)),
    );
    if let Some(url) = &config.webhook_url {
        let webhook = WebhookSink::new(url.clone(), Duration::from_secs(10)).map_err(|e| {
            AppError::Config(config_error(
                "WP_BRIDGE_WEBHOOK_URL",
                format!("cannot build the HTTP client: {e}"),
            ))
        })?;
        sinks.push(("webhook".into(), Arc::new(webhook)));
    }
    if sinks.is_empty() {
        sinks.push(("log".into(), Arc::new(LogSink::stdout())));
    }
    if !config.rate_limits.is_empty() {
        let redis = redis.ok_or_else(|| {
            config_error(
                "WP_BRIDGE_RATE_LIMITS",
                "needs REDIS_URL: the limits are shared through Redis",
            )
        })?;
        let limiter = RedisRateLimiter::connect(redis, clock).await?;
        for (name, spec) in &config.rate_limits {
            let Some(entry) = sinks.iter_mut().find(|(n, _)| n == name) else {
                return Err(config_error(
                    "WP_BRIDGE_RATE_LIMITS",
                    format!("no sink named {name:?} is configured"),
                )
                .into());
            };
            entry.1 =
                Arc::new(limiter.limit(name, spec.rate, spec.period, spec.burst, entry.1.clone()));
        }
    }
    Ok(Sinks { sinks, enrichers })
}

fn config_error(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::new(var, message)
}
