//! The result an enricher hands to the event's other sinks, and how those
//! sinks find it in their [`DeliveryContext`].

use serde::{Deserialize, Serialize};
use wp_bridge_core::sink::DeliveryContext;

/// What the OpenAI enricher produced for one event: its
/// [`Delivered::output`](wp_bridge_core::sink::Delivered), and what Slack and
/// HubSpot read back from [`DeliveryContext::enrichment`].
///
/// Every judgement is optional: a model may leave one out, and the sinks
/// show only what is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrichment {
    /// One sentence about the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Whether the content looks like spam.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spam: Option<bool>,
    /// `positive`, `neutral` or `negative`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<String>,
    /// What the writer wants, in a word or two (`question`, `purchase`,
    /// `complaint`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// The model that produced it.
    pub model: String,
    /// The prompt version it was produced with.
    pub prompt_version: String,
    /// The provider's id for the call that produced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_id: Option<String>,
    /// Tokens that call used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<TokenUsage>,
    /// Whether it came from the enrichment cache (no call was paid for).
    #[serde(default)]
    pub cached: bool,
}

/// Tokens used by one model call, as the provider reported them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Input tokens.
    pub prompt_tokens: u64,
    /// Output tokens.
    pub completion_tokens: u64,
    /// Both.
    pub total_tokens: u64,
}

impl Enrichment {
    /// The enrichment in `ctx` under `preferred` (the enricher's configured
    /// name), or else the first entry that has the shape of one, so a sink
    /// keeps working when the enricher is registered under another name.
    pub fn from_context(ctx: &DeliveryContext, preferred: &str) -> Option<Self> {
        let preferred_entry = ctx
            .enrichment
            .iter()
            .find(|(name, _)| name.as_str() == preferred);
        preferred_entry
            .into_iter()
            .chain(ctx.enrichment.iter())
            .find_map(|(_, value)| serde_json::from_value(value.clone()).ok())
    }

    /// The judgements as labelled values, in display order.
    pub fn labels(&self) -> Vec<(&'static str, String)> {
        let mut labels = Vec::new();
        if let Some(summary) = &self.summary {
            labels.push(("Summary", summary.clone()));
        }
        if let Some(sentiment) = &self.sentiment {
            labels.push(("Sentiment", sentiment.clone()));
        }
        if let Some(intent) = &self.intent {
            labels.push(("Intent", intent.clone()));
        }
        if let Some(spam) = self.spam {
            labels.push(("Spam", if spam { "likely" } else { "no" }.to_owned()));
        }
        labels
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use wp_bridge_core::event::{CorrelationId, EventId, SinkName};

    use super::*;

    fn ctx(entries: &[(&str, serde_json::Value)]) -> DeliveryContext {
        DeliveryContext {
            event_id: EventId::new("e-1").unwrap(),
            correlation_id: CorrelationId::generate(),
            sink: SinkName::new("slack"),
            attempt: 1,
            traceparent: None,
            enrichment: entries
                .iter()
                .map(|(k, v)| (SinkName::new(k), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn sample(summary: &str) -> serde_json::Value {
        serde_json::json!({"summary": summary, "model": "m", "prompt_version": "v1"})
    }

    #[test]
    fn the_preferred_entry_wins_and_any_entry_of_the_right_shape_is_a_fallback() {
        let both = ctx(&[("ai", sample("other")), ("openai", sample("preferred"))]);
        let found = Enrichment::from_context(&both, "openai").unwrap();
        assert_eq!(found.summary.as_deref(), Some("preferred"));

        let renamed = ctx(&[("classifier", sample("renamed"))]);
        let found = Enrichment::from_context(&renamed, "openai").unwrap();
        assert_eq!(found.summary.as_deref(), Some("renamed"));

        let unrelated = ctx(&[("geo", serde_json::json!({"country": "NL"}))]);
        assert!(Enrichment::from_context(&unrelated, "openai").is_none());
        assert!(Enrichment::from_context(&ctx(&[]), "openai").is_none());
    }
}
