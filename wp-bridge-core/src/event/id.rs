use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Longest accepted event id, in bytes.
pub(crate) const MAX_EVENT_ID_LEN: usize = 128;
/// Longest accepted correlation id, in bytes.
const MAX_CORRELATION_ID_LEN: usize = 128;

/// An id was empty, too long or held control characters.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{what} must be 1 to {max} bytes without control characters")]
pub struct InvalidId {
    what: &'static str,
    max: usize,
}

fn check(value: &str, what: &'static str, max: usize) -> Result<(), InvalidId> {
    if value.is_empty() || value.len() > max || value.chars().any(char::is_control) {
        return Err(InvalidId { what, max });
    }
    Ok(())
}

/// The id the sender gave an event; the same on every retry, so it is the
/// deduplication key. Taken from the signed body, never from the header alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EventId(Arc<str>);

impl EventId {
    /// Validates and wraps an id.
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidId> {
        let value = value.into();
        check(&value, "event_id", MAX_EVENT_ID_LEN)?;
        Ok(Self(value.into()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EventId {
    type Error = InvalidId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<EventId> for String {
    fn from(id: EventId) -> Self {
        id.0.to_string()
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id that follows one event through gateway logs, the queue and every
/// sink call (sent there as `X-Request-Id`).
///
/// Taken from the request's `X-Request-Id` when it is a sane value, otherwise
/// a fresh UUID. A duplicate submission is answered with the original one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CorrelationId(Arc<str>);

impl CorrelationId {
    /// A fresh random id.
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string().into())
    }

    /// Validates and wraps an id.
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidId> {
        let value = value.into();
        check(&value, "correlation_id", MAX_CORRELATION_ID_LEN)?;
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InvalidId {
                what: "correlation_id",
                max: MAX_CORRELATION_ID_LEN,
            });
        }
        Ok(Self(value.into()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CorrelationId {
    type Error = InvalidId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<CorrelationId> for String {
    fn from(id: CorrelationId) -> Self {
        id.0.to_string()
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name a sink is configured under, e.g. `"slack"` or `"log"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SinkName(Arc<str>);

impl SinkName {
    /// Wraps a name.
    pub fn new(name: impl AsRef<str>) -> Self {
        Self(name.as_ref().into())
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SinkName {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

impl fmt::Display for SinkName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
