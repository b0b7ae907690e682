//! Sinks for wp-bridge: Slack incoming webhooks, HubSpot CRM and OpenAI,
//! over a shared HTTP layer with timeouts, rate limits, `X-Request-Id` and
//! response classification into delivered / retryable / permanent.
//!
//! **Not implemented yet.** This crate holds only its place in the workspace;
//! it exports nothing. Until it lands, use `wp_bridge_core::sink::LogSink` or
//! your own `wp_bridge_core::sink::Sink`.
