//! Fakes and fixtures for tests.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::event::{parse_event, Event, EventId, SinkName};
use crate::sink::{Delivered, DeliveryContext, DeliveryError, Sink};

/// A valid `comment.created` body with the given id.
pub fn sample_body(event_id: &str) -> Vec<u8> {
    serde_json::json!({
        "event": "comment.created",
        "event_id": event_id,
        "site": "https://blog.example",
        "data": {
            "id": 17, "post_id": 4,
            "author": {"name": "Ada", "email": "ada@example.com"},
            "content": "Great post!",
            "created_at": "2026-12-04T10:00:00Z"
        }
    })
    .to_string()
    .into_bytes()
}

/// The event of [`sample_body`].
pub fn sample_event(event_id: &str) -> Event {
    match parse_event(&sample_body(event_id)) {
        Ok(event) => event,
        Err(rejection) => panic!("sample event {event_id:?} is invalid: {rejection}"),
    }
}

/// A `Write` target whose content tests can read back.
#[derive(Debug, Clone, Default)]
pub struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    /// Everything written so far, as lines.
    pub fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Default)]
struct ScriptState {
    script: VecDeque<DeliveryError>,
    calls: u32,
    delivered: HashMap<EventId, u32>,
    output: Option<serde_json::Value>,
    seen_enrichment: Vec<BTreeMap<SinkName, serde_json::Value>>,
}

/// A sink that fails as scripted, then succeeds; it counts every call and
/// every successful delivery per event id.
#[derive(Clone, Default)]
pub struct ScriptedSink {
    state: Arc<Mutex<ScriptState>>,
}

impl ScriptedSink {
    /// A sink that always succeeds.
    pub fn new() -> Self {
        Self::default()
    }

    /// A sink that answers `failures` in order, then succeeds.
    pub fn failing(failures: impl IntoIterator<Item = DeliveryError>) -> Self {
        let sink = Self::default();
        sink.lock().script = failures.into_iter().collect();
        sink
    }

    /// A sink that always fails with `error`.
    pub fn always_failing(error: DeliveryError) -> Self {
        Self::failing(std::iter::repeat_n(error, 10_000))
    }

    /// Makes every successful delivery produce `output` (as an enricher would).
    #[must_use]
    pub fn with_output(self, output: serde_json::Value) -> Self {
        self.lock().output = Some(output);
        self
    }

    /// The enrichment each call received, in call order.
    pub fn seen_enrichment(&self) -> Vec<BTreeMap<SinkName, serde_json::Value>> {
        self.lock().seen_enrichment.clone()
    }

    /// Calls so far, failed or not.
    pub fn calls(&self) -> u32 {
        self.lock().calls
    }

    /// Successful deliveries of `id`.
    pub fn deliveries_of(&self, id: &EventId) -> u32 {
        self.lock().delivered.get(id).copied().unwrap_or(0)
    }

    /// Successful deliveries of all events.
    pub fn total_deliveries(&self) -> u32 {
        self.lock().delivered.values().sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ScriptState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for ScriptedSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptedSink")
            .field("calls", &self.calls())
            .finish()
    }
}

#[async_trait]
impl Sink for ScriptedSink {
    async fn deliver(
        &self,
        event: &Event,
        ctx: &DeliveryContext,
    ) -> Result<Delivered, DeliveryError> {
        let mut state = self.lock();
        state.calls += 1;
        state.seen_enrichment.push(ctx.enrichment.clone());
        if let Some(err) = state.script.pop_front() {
            return Err(err);
        }
        *state.delivered.entry(event.event_id.clone()).or_default() += 1;
        Ok(Delivered {
            reference: Some(format!("ref-{}", event.event_id)),
            output: state.output.clone(),
        })
    }
}
