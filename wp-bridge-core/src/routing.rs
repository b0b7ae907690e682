//! Which sinks each event type goes to.

use std::collections::BTreeMap;

use crate::event::{EventType, SinkName};

/// A routing table from event type to sink names.
///
/// ```
/// use wp_bridge_core::event::{EventType, SinkName};
/// use wp_bridge_core::routing::Routes;
///
/// let routes = Routes::new()
///     .route(EventType::OrderCreated, ["slack", "hubspot"])
///     .route(EventType::LeadCreated, ["hubspot"]);
/// assert_eq!(routes.sinks_for(EventType::OrderCreated).len(), 2);
/// assert!(routes.sinks_for(EventType::CommentCreated).is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routes {
    table: BTreeMap<EventType, Vec<SinkName>>,
}

impl Routes {
    /// No routes: events are recorded but go nowhere.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event type to the one sink `sink`.
    pub fn all_to(sink: impl AsRef<str>) -> Self {
        EventType::ALL
            .into_iter()
            .fold(Self::new(), |routes, t| routes.route(t, [sink.as_ref()]))
    }

    /// Adds sinks for an event type (duplicates are ignored).
    #[must_use]
    pub fn route<I, S>(mut self, event_type: EventType, sinks: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let entry = self.table.entry(event_type).or_default();
        for sink in sinks {
            let sink = SinkName::new(sink);
            if !entry.contains(&sink) {
                entry.push(sink);
            }
        }
        self
    }

    /// The sinks for an event type.
    pub fn sinks_for(&self, event_type: EventType) -> &[SinkName] {
        self.table
            .get(&event_type)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Every sink named anywhere in the table.
    pub fn all_sinks(&self) -> Vec<SinkName> {
        let mut all: Vec<SinkName> = self.table.values().flatten().cloned().collect();
        all.sort();
        all.dedup();
        all
    }
}
