use std::fmt;
use std::io::Write;
use std::sync::Mutex;

use async_trait::async_trait;
use serde::Serialize;

use super::{Delivered, DeliveryContext, DeliveryError, Sink};
use crate::event::Event;

/// Writes each delivered event as one JSON line:
/// `{"event_id":…,"correlation_id":…,"attempt":…,"event":{…}}`.
///
/// The quick start's sink; also handy to see what other sinks would get.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use wp_bridge_core::event::{parse_event, CorrelationId, SinkName};
/// use wp_bridge_core::sink::{DeliveryContext, LogSink, Sink};
/// use std::sync::{Arc, Mutex};
///
/// #[derive(Clone, Default)]
/// struct Buffer(Arc<Mutex<Vec<u8>>>);
/// impl std::io::Write for Buffer {
///     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().write(b) }
///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// }
///
/// let out = Buffer::default();
/// let sink = LogSink::new(out.clone());
/// let event = parse_event(br#"{"event":"comment.created","event_id":"c-1","site":"https://blog.example",
///   "data":{"id":1,"post_id":2,"author":{"name":"Ada"},"content":"Hi","created_at":"2026-12-04T10:00:00Z"}}"#).unwrap();
/// let ctx = DeliveryContext { event_id: event.event_id.clone(), correlation_id: CorrelationId::generate(),
///                             sink: SinkName::new("log"), attempt: 1, enrichment: Default::default(), traceparent: None };
/// sink.deliver(&event, &ctx).await.unwrap();
/// let written = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
/// assert_eq!(written.lines().count(), 1);
/// assert!(written.contains(r#""event":"comment.created""#));
/// # }
/// ```
pub struct LogSink {
    out: Mutex<Box<dyn Write + Send>>,
}

#[derive(Serialize)]
struct Line<'a> {
    event_id: &'a str,
    correlation_id: &'a str,
    attempt: u32,
    event: &'a Event,
}

impl LogSink {
    /// Writes to standard output.
    pub fn stdout() -> Self {
        Self::new(std::io::stdout())
    }

    /// Writes to `out`.
    pub fn new(out: impl Write + Send + 'static) -> Self {
        Self {
            out: Mutex::new(Box::new(out)),
        }
    }
}

impl fmt::Debug for LogSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogSink").finish_non_exhaustive()
    }
}

#[async_trait]
impl Sink for LogSink {
    async fn deliver(
        &self,
        event: &Event,
        ctx: &DeliveryContext,
    ) -> Result<Delivered, DeliveryError> {
        let mut line = serde_json::to_vec(&Line {
            event_id: ctx.event_id.as_str(),
            correlation_id: ctx.correlation_id.as_str(),
            attempt: ctx.attempt,
            event,
        })
        .map_err(|e| DeliveryError::permanent(format!("event cannot be serialized: {e}")))?;
        line.push(b'\n');
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        out.write_all(&line)
            .and_then(|()| out.flush())
            .map_err(|e| DeliveryError::retryable(format!("could not write the log line: {e}")))?;
        Ok(Delivered::default())
    }
}
