//! The quick start's sinks from the environment: Slack, HubSpot and OpenAI
//! when their variables are set, the LogSink always, and the routes between
//! event types and sinks. Every variable is checked at start; an error names
//! the variable and never repeats a secret.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use wp_bridge::core::event::EventType;
use wp_bridge::core::routing::Routes;
use wp_bridge::core::sink::{Sink, SinkState};
use wp_bridge::sinks::hubspot::{HubSpotConfig, HubSpotSink, StateNoteIdStore};
use wp_bridge::sinks::openai::{OpenAiConfig, OpenAiSink, StateEnrichmentCache};
use wp_bridge::sinks::slack::{SlackConfig, SlackSink};

/// Every variable read here, for documentation and for tests that must run
/// without them.
pub const VARIABLES: [&str; 11] = [
    "WP_BRIDGE_SLACK_WEBHOOK_URL",
    "WP_BRIDGE_HUBSPOT_TOKEN",
    "WP_BRIDGE_HUBSPOT_BASE_URL",
    "WP_BRIDGE_HUBSPOT_DEAL_ID_PROPERTY",
    "WP_BRIDGE_OPENAI_API_KEY",
    "WP_BRIDGE_OPENAI_BASE_URL",
    "WP_BRIDGE_OPENAI_MODEL",
    "WP_BRIDGE_OPENAI_DAILY_COST_CAP_USD",
    "WP_BRIDGE_OPENAI_LATENCY_BUDGET_MS",
    "WP_BRIDGE_OPENAI_MAX_INPUT_TOKENS",
    "WP_BRIDGE_ROUTES",
];

/// A variable that cannot be used, and why.
#[derive(Debug, thiserror::Error)]
#[error("{var} is not usable: {reason}")]
pub struct EnvError {
    /// The variable.
    pub var: &'static str,
    /// What is wrong and how to fix it.
    pub reason: String,
}

fn env_error(var: &'static str, reason: impl Into<String>) -> EnvError {
    EnvError {
        var,
        reason: reason.into(),
    }
}

/// The sinks and routes of one run.
#[derive(Debug)]
pub struct Configured {
    /// Routes from event type to sink names.
    pub routes: Routes,
    /// The enricher, when OpenAI is configured (always named `openai`).
    pub enricher: Option<(&'static str, Arc<dyn Sink>)>,
    /// The other sinks besides `log`, by name.
    pub sinks: Vec<(&'static str, Arc<dyn Sink>)>,
}

impl Configured {
    /// No sink but the LogSink: every event type to `log`.
    pub fn log_only() -> Self {
        Self {
            routes: Routes::all_to("log"),
            enricher: None,
            sinks: Vec::new(),
        }
    }

    /// The names of the sinks in use, enricher first, for the start banner.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.enricher.iter().map(|(n, _)| *n).collect();
        names.push("log");
        names.extend(self.sinks.iter().map(|(n, _)| *n));
        names
    }

    /// Reads the process environment. Must be called within a tokio runtime.
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_lookup(|var| std::env::var(var).ok())
    }

    /// Reads variables through `lookup`; unset and empty are the same.
    /// Must be called within a tokio runtime.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
        Self::from_lookup_with_state(lookup, None)
    }

    /// Like [`Configured::from_lookup`], keeping the OpenAI cache and the
    /// HubSpot note ids in `state` (durable with Postgres) instead of memory.
    pub fn from_lookup_with_state(
        lookup: impl Fn(&str) -> Option<String>,
        state: Option<Arc<dyn SinkState>>,
    ) -> Result<Self, EnvError> {
        let get = |var: &str| lookup(var).filter(|v| !v.trim().is_empty());
        let mut configured = Self::log_only();

        if let Some(key) = get("WP_BRIDGE_OPENAI_API_KEY") {
            let mut config = OpenAiConfig::new(key);
            if let Some(url) = get("WP_BRIDGE_OPENAI_BASE_URL") {
                config = config.base_url(url);
            }
            if let Some(model) = get("WP_BRIDGE_OPENAI_MODEL") {
                config = config.model(model);
            }
            if let Some(cap) = get("WP_BRIDGE_OPENAI_DAILY_COST_CAP_USD") {
                config = config.daily_cost_cap_usd(number(
                    "WP_BRIDGE_OPENAI_DAILY_COST_CAP_USD",
                    &cap,
                    "dollars, e.g. 5 or 0.50",
                )?);
            }
            if let Some(ms) = get("WP_BRIDGE_OPENAI_LATENCY_BUDGET_MS") {
                let ms: u64 = number(
                    "WP_BRIDGE_OPENAI_LATENCY_BUDGET_MS",
                    &ms,
                    "milliseconds, e.g. 10000",
                )?;
                config = config.latency_budget(Duration::from_millis(ms));
            }
            if let Some(tokens) = get("WP_BRIDGE_OPENAI_MAX_INPUT_TOKENS") {
                config = config.max_input_tokens(number(
                    "WP_BRIDGE_OPENAI_MAX_INPUT_TOKENS",
                    &tokens,
                    "a whole number of tokens, e.g. 1000",
                )?);
            }
            let built = match &state {
                Some(state) => OpenAiSink::with_cache(
                    config,
                    Arc::new(StateEnrichmentCache::new(state.clone())),
                ),
                None => OpenAiSink::new(config),
            };
            let sink = built.map_err(|e| {
                let var = match &e {
                    wp_bridge::sinks::Error::Config { setting, .. } => match *setting {
                        "OpenAI base URL" => "WP_BRIDGE_OPENAI_BASE_URL",
                        "OpenAI model" => "WP_BRIDGE_OPENAI_MODEL",
                        "OpenAI daily cost cap" => "WP_BRIDGE_OPENAI_DAILY_COST_CAP_USD",
                        "OpenAI latency budget" => "WP_BRIDGE_OPENAI_LATENCY_BUDGET_MS",
                        "OpenAI token budget" => "WP_BRIDGE_OPENAI_MAX_INPUT_TOKENS",
                        _ => "WP_BRIDGE_OPENAI_API_KEY",
                    },
                    _ => "WP_BRIDGE_OPENAI_API_KEY",
                };
                env_error(var, e.to_string())
            })?;
            configured.enricher = Some(("openai", Arc::new(sink)));
        } else {
            for var in [
                "WP_BRIDGE_OPENAI_BASE_URL",
                "WP_BRIDGE_OPENAI_MODEL",
                "WP_BRIDGE_OPENAI_DAILY_COST_CAP_USD",
                "WP_BRIDGE_OPENAI_LATENCY_BUDGET_MS",
                "WP_BRIDGE_OPENAI_MAX_INPUT_TOKENS",
            ] {
                if get(var).is_some() {
                    return Err(env_error(var, "it is set but WP_BRIDGE_OPENAI_API_KEY is not; set the key too, or unset it"));
                }
            }
        }

        if let Some(url) = get("WP_BRIDGE_SLACK_WEBHOOK_URL") {
            let sink = SlackSink::new(SlackConfig::new(url))
                .map_err(|e| env_error("WP_BRIDGE_SLACK_WEBHOOK_URL", e.to_string()))?;
            configured.sinks.push(("slack", Arc::new(sink)));
        }

        if let Some(token) = get("WP_BRIDGE_HUBSPOT_TOKEN") {
            let mut config = HubSpotConfig::new(token);
            if let Some(url) = get("WP_BRIDGE_HUBSPOT_BASE_URL") {
                config = config.base_url(url);
            }
            if let Some(property) = get("WP_BRIDGE_HUBSPOT_DEAL_ID_PROPERTY") {
                config = config.deal_id_property(property);
            }
            let built = HubSpotSink::new(config).map(|sink| match &state {
                Some(state) => sink.with_note_store(Arc::new(StateNoteIdStore::new(state.clone()))),
                None => sink,
            });
            let sink = built.map_err(|e| {
                let var = match &e {
                    wp_bridge::sinks::Error::Config {
                        setting: "HubSpot base URL",
                        ..
                    } => "WP_BRIDGE_HUBSPOT_BASE_URL",
                    wp_bridge::sinks::Error::Config {
                        setting: "HubSpot deal id property",
                        ..
                    } => "WP_BRIDGE_HUBSPOT_DEAL_ID_PROPERTY",
                    _ => "WP_BRIDGE_HUBSPOT_TOKEN",
                };
                env_error(var, e.to_string())
            })?;
            configured.sinks.push(("hubspot", Arc::new(sink)));
        } else {
            for var in [
                "WP_BRIDGE_HUBSPOT_BASE_URL",
                "WP_BRIDGE_HUBSPOT_DEAL_ID_PROPERTY",
            ] {
                if get(var).is_some() {
                    return Err(env_error(var, "it is set but WP_BRIDGE_HUBSPOT_TOKEN is not; set the token too, or unset it"));
                }
            }
        }

        configured.routes = match get("WP_BRIDGE_ROUTES") {
            Some(spec) => parse_routes(&spec, &configured.names())?,
            None => configured.default_routes(),
        };
        Ok(configured)
    }

    /// Every type to `log` and every configured sink; the enricher only
    /// where there is text to judge (comments and leads).
    fn default_routes(&self) -> Routes {
        let others: Vec<&str> = std::iter::once("log")
            .chain(self.sinks.iter().map(|(n, _)| *n))
            .collect();
        EventType::ALL
            .into_iter()
            .fold(Routes::new(), |routes, event_type| {
                let enricher = self
                    .enricher
                    .iter()
                    .map(|(n, _)| *n)
                    .filter(|_| event_type != EventType::OrderCreated);
                routes.route(event_type, enricher.chain(others.iter().copied()))
            })
    }
}

fn number<T: FromStr>(var: &'static str, value: &str, expected: &str) -> Result<T, EnvError> {
    value
        .trim()
        .parse()
        .map_err(|_| env_error(var, format!("{value:?} is not {expected}")))
}

/// `comment.created=openai,slack;order.created=slack,hubspot`: each listed
/// event type to its sinks, in order; types not listed go nowhere.
pub fn parse_routes(spec: &str, known: &[&str]) -> Result<Routes, EnvError> {
    const VAR: &str = "WP_BRIDGE_ROUTES";
    let mut routes = Routes::new();
    for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (event_type, sinks) = part.split_once('=').ok_or_else(|| {
            env_error(
                VAR,
                format!("{part:?} is not <event type>=<sink>,<sink>; e.g. lead.created=openai,slack,hubspot"),
            )
        })?;
        let event_type = EventType::from_str(event_type.trim()).map_err(|()| {
            env_error(
                VAR,
                format!(
                    "{:?} is not an event type; use comment.created, order.created or lead.created",
                    event_type.trim()
                ),
            )
        })?;
        let sinks: Vec<&str> = sinks
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if let Some(unknown) = sinks.iter().find(|s| !known.contains(s)) {
            return Err(env_error(
                VAR,
                format!(
                    "{unknown:?} is not a configured sink; configured: {} (set its variables to enable it)",
                    known.join(", ")
                ),
            ));
        }
        routes = routes.route(event_type, sinks);
    }
    Ok(routes)
}
