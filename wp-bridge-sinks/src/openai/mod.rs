//! OpenAI enrichment: a one-line summary, spam flag, sentiment and intent
//! for comments and leads, handed to the event's other sinks.
//!
//! Register it with `WorkerBuilder::enricher`, so Slack and HubSpot run
//! after it and find its [`Enrichment`] in their context. It is built to
//! degrade rather than block:
//!
//! - **Cache**: results are kept under a hash of (model, prompt version,
//!   content) in an [`EnrichmentCache`]; identical content is never paid for
//!   twice, and concurrent identical requests wait for the first.
//! - **Token budget**: the content is cut to an estimated token budget
//!   (three bytes a token, see [`estimate_tokens`]); the answer to
//!   `max_completion_tokens`.
//! - **Cost cap**: a call whose worst case would take today's spend over the
//!   cap is not made; the event is delivered without enrichment.
//! - **Latency budget**: a call (with its wait for a rate-limit permit) that
//!   takes longer is abandoned; the event is delivered without enrichment.
//!
//! Skips answer `Delivered { output: None }`, and are counted in
//! [`OpenAiStats`]. Orders are not enriched.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::time::Duration;
//! use wp_bridge_sinks::openai::{OpenAiConfig, OpenAiSink};
//!
//! let sink = OpenAiSink::new(
//!     OpenAiConfig::new("sk-proj-secret")
//!         .model("gpt-4o-mini")
//!         .latency_budget(Duration::from_secs(5))
//!         .daily_cost_cap_usd(2.0),
//! )
//! .unwrap();
//! assert!(!format!("{sink:?}").contains("sk-proj"));
//! assert_eq!(sink.stats().calls, 0);
//! # }
//! ```

mod api;
mod budget;
mod cache;
mod prompt;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use wp_bridge_core::metrics as names;

use async_trait::async_trait;
use wp_bridge_core::clock::{SharedClock, SystemClock};
use wp_bridge_core::event::Event;
use wp_bridge_core::sink::{Delivered, DeliveryContext, DeliveryError, Sink};

use self::api::{ChatCompletion, ChatRequest, Message, ResponseFormat};
use self::budget::CostLedger;
use crate::enrichment::Enrichment;
use crate::http::{self as transport, Outbound};
use crate::rate_limit::{RateLimiter, SinkRateLimit};
use crate::{Error, Secret};

pub use budget::Prices;
pub use cache::{CacheKey, EnrichmentCache, MemoryEnrichmentCache, StateEnrichmentCache};
pub use prompt::{estimate_tokens, PROMPT_VERSION, SYSTEM_PROMPT};

/// Settings of an [`OpenAiSink`].
#[derive(Debug, Clone)]
#[must_use]
pub struct OpenAiConfig {
    api_key: Secret,
    base_url: String,
    model: String,
    organization: Option<String>,
    project: Option<String>,
    latency_budget: Duration,
    max_input_tokens: u64,
    max_output_tokens: u64,
    prices: Prices,
    daily_cost_cap_usd: f64,
    rate_limit: SinkRateLimit,
    max_retry_after: Duration,
    clock: SharedClock,
}

impl OpenAiConfig {
    /// Calls OpenAI with this API key.
    pub fn new(api_key: impl Into<Secret>) -> Self {
        Self {
            api_key: api_key.into(),
            base_url: "https://api.openai.com/v1".to_owned(),
            model: "gpt-4o-mini".to_owned(),
            organization: None,
            project: None,
            latency_budget: Duration::from_secs(10),
            max_input_tokens: 1_000,
            max_output_tokens: 200,
            prices: Prices {
                input_per_million: 0.15,
                output_per_million: 0.60,
            },
            daily_cost_cap_usd: 5.0,
            rate_limit: SinkRateLimit::at_most(500, Duration::from_secs(60)),
            max_retry_after: Duration::from_secs(15 * 60),
            clock: SystemClock::shared(),
        }
    }

    /// The API's base URL, up to and including `/v1` (default
    /// `https://api.openai.com/v1`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The chat model (default `gpt-4o-mini`). Set [`prices`](Self::prices)
    /// to match.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// Sent as `OpenAI-Organization`.
    pub fn organization(mut self, id: impl Into<String>) -> Self {
        self.organization = Some(id.into());
        self
    }

    /// Sent as `OpenAI-Project`.
    pub fn project(mut self, id: impl Into<String>) -> Self {
        self.project = Some(id.into());
        self
    }

    /// How long an enrichment may take before the event goes on without
    /// it (default 10 s).
    pub fn latency_budget(mut self, budget: Duration) -> Self {
        self.latency_budget = budget;
        self
    }

    /// The estimated input tokens the content is cut to (default 1,000).
    pub fn max_input_tokens(mut self, tokens: u64) -> Self {
        self.max_input_tokens = tokens;
        self
    }

    /// `max_completion_tokens` (default 200).
    pub fn max_output_tokens(mut self, tokens: u64) -> Self {
        self.max_output_tokens = tokens;
        self
    }

    /// Prices in dollars per million tokens (default gpt-4o-mini's: 0.15
    /// input, 0.60 output).
    pub fn prices(mut self, prices: Prices) -> Self {
        self.prices = prices;
        self
    }

    /// The most spent per UTC day, in dollars (default 5). Zero turns
    /// enrichment off without unrouting it.
    pub fn daily_cost_cap_usd(mut self, cap: f64) -> Self {
        self.daily_cost_cap_usd = cap;
        self
    }

    /// The pace (default at most 500 calls a minute).
    pub fn rate_limit(mut self, limit: SinkRateLimit) -> Self {
        self.rate_limit = limit;
        self
    }

    /// The longest wait passed on to the worker after a 429 (default 15 min).
    pub fn max_retry_after(mut self, limit: Duration) -> Self {
        self.max_retry_after = limit;
        self
    }

    /// The clock that decides which UTC day spending counts against.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }
}

/// Counters of what the enricher did, since it was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenAiStats {
    /// Calls sent to OpenAI.
    pub calls: u64,
    /// Enrichments served from the cache.
    pub cache_hits: u64,
    /// Events delivered without enrichment because of the daily cost cap.
    pub skipped_cost_cap: u64,
    /// Events delivered without enrichment because the latency budget ran out.
    pub skipped_latency: u64,
    /// Answers with nothing usable (a refusal, a content filter, no text).
    pub unusable: u64,
    /// Events with nothing to enrich (orders).
    pub not_applicable: u64,
    /// Micro-dollars spent or reserved today.
    pub spent_today_micro_usd: u64,
}

#[derive(Debug, Default)]
struct Counters {
    calls: AtomicU64,
    cache_hits: AtomicU64,
    skipped_cost_cap: AtomicU64,
    skipped_latency: AtomicU64,
    unusable: AtomicU64,
    not_applicable: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Enriches comments and leads through OpenAI Chat Completions.
#[derive(Clone)]
pub struct OpenAiSink {
    inner: Arc<Inner>,
}

struct Inner {
    url: String,
    key: Secret,
    out: Outbound,
    config: OpenAiConfig,
    cache: Arc<dyn EnrichmentCache>,
    ledger: CostLedger,
    counters: Counters,
    /// One gate per cache key being fetched, so identical content arriving
    /// at once is paid for once.
    in_flight: Gates,
}

impl fmt::Debug for OpenAiSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiSink")
            .field("url", &self.inner.url)
            .field("key", &self.inner.key)
            .field("model", &self.inner.config.model)
            .field("cache", &self.inner.cache)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl OpenAiSink {
    /// An enricher with its own rate limiter and an in-memory cache. Must
    /// be called within a tokio runtime.
    pub fn new(config: OpenAiConfig) -> Result<Self, Error> {
        Self::with_cache(config, Arc::new(MemoryEnrichmentCache::default()))
    }

    /// An enricher keeping its results in `cache`.
    pub fn with_cache(
        config: OpenAiConfig,
        cache: Arc<dyn EnrichmentCache>,
    ) -> Result<Self, Error> {
        config.rate_limit.validate("OpenAI rate limit")?;
        if config.api_key.is_blank() {
            return Err(Error::config(
                "OpenAI API key",
                "it is empty: create a key in the OpenAI dashboard (API keys) and copy it",
            ));
        }
        if config.model.trim().is_empty() {
            return Err(Error::config(
                "OpenAI model",
                "it is empty: name a chat model such as gpt-4o-mini",
            ));
        }
        if config.latency_budget.is_zero() {
            return Err(Error::config(
                "OpenAI latency budget",
                "it must be above zero",
            ));
        }
        if config.max_output_tokens == 0 || config.max_input_tokens == 0 {
            return Err(Error::config(
                "OpenAI token budget",
                "input and output budgets must be above zero",
            ));
        }
        let prices = config.prices;
        if !(prices.input_per_million.is_finite()
            && prices.output_per_million.is_finite()
            && prices.input_per_million >= 0.0
            && prices.output_per_million >= 0.0)
        {
            return Err(Error::config(
                "OpenAI prices",
                "prices must be zero or more dollars per million tokens",
            ));
        }
        let cap = config.daily_cost_cap_usd;
        if !(cap.is_finite() && cap >= 0.0) {
            return Err(Error::config(
                "OpenAI daily cost cap",
                "it must be zero or more dollars",
            ));
        }
        let base = transport::endpoint(&config.base_url, "OpenAI base URL")?;
        let url = format!("{}/chat/completions", base.as_str().trim_end_matches('/'));
        // The latency budget bounds each call; the client timeout is only a
        // backstop should the budget's timer not be polled.
        let timeout = config.latency_budget + Duration::from_secs(5);
        let limiter = RateLimiter::new(config.rate_limit).labelled("openai");
        Ok(Self {
            inner: Arc::new(Inner {
                url,
                key: config.api_key.clone(),
                out: Outbound {
                    client: transport::client(timeout)?,
                    limiter,
                    target: "OpenAI",
                    timeout: config.latency_budget,
                },
                ledger: CostLedger::new((cap * 1_000_000.0).round() as u64, config.clock.clone()),
                config,
                cache,
                counters: Counters::default(),
                in_flight: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// What the enricher did so far.
    pub fn stats(&self) -> OpenAiStats {
        let c = &self.inner.counters;
        OpenAiStats {
            calls: c.calls.load(Ordering::Relaxed),
            cache_hits: c.cache_hits.load(Ordering::Relaxed),
            skipped_cost_cap: c.skipped_cost_cap.load(Ordering::Relaxed),
            skipped_latency: c.skipped_latency.load(Ordering::Relaxed),
            unusable: c.unusable.load(Ordering::Relaxed),
            not_applicable: c.not_applicable.load(Ordering::Relaxed),
            spent_today_micro_usd: self.inner.ledger.spent_today(),
        }
    }
}

impl Inner {
    async fn cached(&self, key: &CacheKey) -> Option<Delivered> {
        match self.cache.get(key).await {
            Ok(Some(mut enrichment)) => {
                bump(&self.counters.cache_hits);
                metrics::counter!(names::ENRICHMENT_CACHE_HITS).increment(1);
                enrichment.cached = true;
                Some(delivered(enrichment))
            }
            Ok(None) => None,
            Err(err) => {
                tracing::warn!(error = %err, "enrichment cache unavailable; treating as a miss");
                None
            }
        }
    }

    async fn enrich(
        &self,
        content: &str,
        key: &CacheKey,
        ctx: &DeliveryContext,
    ) -> Result<Delivered, DeliveryError> {
        let gate = InFlight::enter(&self.in_flight, key);
        let _turn = gate.gate.lock().await;
        match self.cached(key).await {
            Some(hit) => Ok(hit),
            None => self.call(content, key, ctx).await,
        }
    }

    async fn call(
        &self,
        content: &str,
        key: &CacheKey,
        ctx: &DeliveryContext,
    ) -> Result<Delivered, DeliveryError> {
        let config = &self.config;
        let estimate =
            prompt::estimate_tokens(prompt::SYSTEM_PROMPT) + prompt::estimate_tokens(content);
        let worst_case = config.prices.micro_usd(estimate, config.max_output_tokens);
        let reservation = match self.ledger.reserve(worst_case) {
            Ok(reservation) => reservation,
            Err(spent) => {
                bump(&self.counters.skipped_cost_cap);
                metrics::counter!(names::ENRICHMENT_SKIPPED, "reason" => "cost_cap").increment(1);
                tracing::warn!(
                    spent_today_micro_usd = spent,
                    call_worst_case_micro_usd = worst_case,
                    "OpenAI daily cost cap reached; delivering without enrichment"
                );
                return Ok(Delivered::default());
            }
        };
        let body = ChatRequest {
            model: &config.model,
            messages: [
                Message {
                    role: "system",
                    content: prompt::SYSTEM_PROMPT,
                },
                Message {
                    role: "user",
                    content,
                },
            ],
            max_completion_tokens: config.max_output_tokens,
            response_format: ResponseFormat {
                kind: "json_object",
            },
            store: false,
        };
        let mut request = self
            .out
            .client
            .post(&self.url)
            .bearer_auth(self.key.expose())
            .header(
                "x-client-request-id",
                api::client_request_id(ctx.event_id.as_str()),
            )
            .json(&body);
        if let Some(organization) = &config.organization {
            request = request.header("openai-organization", organization);
        }
        if let Some(project) = &config.project {
            request = request.header("openai-project", project);
        }
        if let Err(refused) = self.out.permit().await {
            self.ledger.release(reservation);
            return Err(refused);
        }
        bump(&self.counters.calls);
        // A transport failure keeps the reservation: a call that timed out
        // after OpenAI took it may still be billed.
        let answer = self.out.exchange(request, ctx).await?;
        if let Some(request_id) = answer
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
        {
            tracing::debug!(openai_request_id = request_id, "OpenAI answered");
        }
        if !answer.status.is_success() {
            self.ledger.release(reservation);
            return Err(api::failure(
                &answer,
                &self.key,
                config.max_retry_after,
                SystemTime::now(),
            ));
        }
        let Some(completion) = answer.json::<ChatCompletion>() else {
            // Billed or not, we cannot tell; keep the reservation.
            return Err(DeliveryError::Retryable {
                message: format!(
                    "OpenAI answered {} with a body that is not a chat completion: {}",
                    answer.status.as_u16(),
                    api::scrub(&answer.snippet(), &self.key)
                ),
                retry_after: None,
                status_code: Some(answer.status.as_u16()),
            });
        };
        let actual = completion
            .usage
            .as_ref()
            .map(|u| config.prices.usage_micro_usd(u))
            .unwrap_or(worst_case);
        self.ledger.settle(reservation, actual);
        if let Some(usage) = &completion.usage {
            metrics::counter!(names::ENRICHMENT_TOKENS, "kind" => "prompt")
                .increment(usage.prompt_tokens);
            metrics::counter!(names::ENRICHMENT_TOKENS, "kind" => "completion")
                .increment(usage.completion_tokens);
        }
        metrics::counter!(names::ENRICHMENT_COST_MICRO_USD).increment(actual);
        Ok(self.read(completion, key).await)
    }

    async fn read(&self, completion: ChatCompletion, key: &CacheKey) -> Delivered {
        let choice = completion.choices.into_iter().next();
        let finish = choice.as_ref().and_then(|c| c.finish_reason.clone());
        let text = choice
            .filter(|c| c.message.refusal.is_none())
            .and_then(|c| c.message.content)
            .filter(|t| !t.trim().is_empty());
        let Some(text) = text.filter(|_| finish.as_deref() != Some("content_filter")) else {
            bump(&self.counters.unusable);
            tracing::warn!(
                response_id = %completion.id,
                finish_reason = finish.as_deref().unwrap_or("none"),
                "OpenAI gave no usable answer (refusal or filter); delivering without enrichment"
            );
            return Delivered {
                reference: Some(completion.id),
                output: None,
            };
        };
        let judgement = prompt::parse_reply(&text);
        let enrichment = Enrichment {
            summary: judgement.summary,
            spam: judgement.spam,
            sentiment: judgement.sentiment,
            intent: judgement.intent,
            model: completion
                .model
                .unwrap_or_else(|| self.config.model.clone()),
            prompt_version: PROMPT_VERSION.to_owned(),
            response_id: Some(completion.id),
            usage: completion.usage,
            cached: false,
        };
        if let Err(err) = self.cache.put(key, &enrichment).await {
            tracing::warn!(error = %err, "could not cache the enrichment; identical content will be paid for again");
        }
        delivered(enrichment)
    }
}

type Gates = Mutex<HashMap<CacheKey, Arc<tokio::sync::Mutex<()>>>>;

/// A turn at fetching one cache key. Dropping it, even when the latency
/// budget cancels the fetch, removes the key's gate once nobody else waits
/// on it.
struct InFlight<'a> {
    gates: &'a Gates,
    key: &'a CacheKey,
    gate: Arc<tokio::sync::Mutex<()>>,
}

impl<'a> InFlight<'a> {
    fn enter(gates: &'a Gates, key: &'a CacheKey) -> Self {
        let gate = gates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.clone())
            .or_default()
            .clone();
        Self { gates, key, gate }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        // Two holders, the map and this turn: nobody else is waiting.
        if Arc::strong_count(&self.gate) <= 2 {
            gates.remove(self.key);
        }
    }
}

fn delivered(enrichment: Enrichment) -> Delivered {
    Delivered {
        reference: enrichment.response_id.clone(),
        output: serde_json::to_value(&enrichment).ok(),
    }
}

#[async_trait]
impl Sink for OpenAiSink {
    async fn deliver(
        &self,
        event: &Event,
        ctx: &DeliveryContext,
    ) -> Result<Delivered, DeliveryError> {
        let inner = &self.inner;
        let config = &inner.config;
        let Some(content) = prompt::content(event, config.max_input_tokens) else {
            bump(&inner.counters.not_applicable);
            return Ok(Delivered::default());
        };
        let key = CacheKey::new(&config.model, PROMPT_VERSION, &content);
        if let Some(hit) = inner.cached(&key).await {
            return Ok(hit);
        }
        match tokio::time::timeout(config.latency_budget, inner.enrich(&content, &key, ctx)).await {
            Ok(result) => result,
            Err(_) => {
                bump(&inner.counters.skipped_latency);
                metrics::counter!(names::ENRICHMENT_SKIPPED, "reason" => "latency_budget")
                    .increment(1);
                tracing::warn!(
                    budget_ms = config.latency_budget.as_millis() as u64,
                    "OpenAI enrichment over its latency budget; delivering without enrichment"
                );
                Ok(Delivered::default())
            }
        }
    }
}
