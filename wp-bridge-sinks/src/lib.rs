//! Sinks for wp-bridge: Slack incoming webhooks, HubSpot CRM and OpenAI
//! enrichment, over one HTTP layer.
//!
//! Every sink
//! - calls through its own reqwest client (rustls, redirects never
//!   followed, a per-sink timeout) and sends the event's correlation id as
//!   `X-Request-Id`;
//! - waits for a permit from its [`RateLimiter`] first (governor,
//!   configurable per target with [`SinkRateLimit`], shareable between
//!   sinks calling the same target);
//! - answers the worker `Delivered`, `Retryable { retry_after }` (from
//!   `Retry-After` in seconds or as an HTTP date, or the API's own headers,
//!   capped) or `Permanent` with what to fix;
//! - keeps its credential in a [`Secret`], out of `Debug`, logs and errors.
//!
//! The OpenAI sink is an *enricher*: register it with
//! `WorkerBuilder::enricher("openai", …)` and the event's other sinks find
//! its [`Enrichment`](enrichment::Enrichment) in their context, so the Slack
//! message and the HubSpot note carry the summary.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::sync::Arc;
//! use wp_bridge_core::clock::SystemClock;
//! use wp_bridge_core::event::EventType;
//! use wp_bridge_core::event_log::MemoryEventLog;
//! use wp_bridge_core::queue::MemoryQueue;
//! use wp_bridge_core::routing::Routes;
//! use wp_bridge_core::worker::Worker;
//! use wp_bridge_sinks::hubspot::{HubSpotConfig, HubSpotSink};
//! use wp_bridge_sinks::openai::{OpenAiConfig, OpenAiSink};
//! use wp_bridge_sinks::slack::{SlackConfig, SlackSink};
//!
//! // Enrichers first in each route; the worker runs them first anyway.
//! let routes = Routes::new()
//!     .route(EventType::CommentCreated, ["openai", "slack", "hubspot"])
//!     .route(EventType::LeadCreated, ["openai", "slack", "hubspot"])
//!     .route(EventType::OrderCreated, ["slack", "hubspot"]);
//! assert_eq!(routes.all_sinks().len(), 3);
//!
//! let clock = SystemClock::shared();
//! let worker = Worker::builder(
//!         Arc::new(MemoryQueue::new(clock.clone())),
//!         Arc::new(MemoryEventLog::new(clock)),
//!     )
//!     .enricher("openai", Arc::new(OpenAiSink::new(OpenAiConfig::new("sk-…")).unwrap()))
//!     .sink("slack", Arc::new(SlackSink::new(SlackConfig::new("https://hooks.slack.com/services/T/B/X")).unwrap()))
//!     .sink("hubspot", Arc::new(HubSpotSink::new(HubSpotConfig::new("pat-…")).unwrap()))
//!     .build();
//! # drop(worker);
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod enrichment;
mod error;
mod http;
pub mod hubspot;
pub mod openai;
mod rate_limit;
mod secret;
pub mod slack;
mod text;

pub use error::Error;
pub use rate_limit::{RateLimiter, SinkRateLimit, DEFAULT_MAX_WAIT};
pub use secret::Secret;
