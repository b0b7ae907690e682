//! Query parameters → a dead-letter filter, and the opaque page cursor.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use wp_bridge_core::dead_letter::{DeadLetterCursor, DeadLetterFilter};
use wp_bridge_core::event::{EventId, SinkName};

use crate::ApiError;

/// The filter fields shared by the API, the pages and replay-by-filter.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub(crate) struct FilterParams {
    #[serde(default)]
    pub(crate) event_type: Option<String>,
    #[serde(default)]
    pub(crate) sink: Option<String>,
    #[serde(default)]
    pub(crate) status: Option<String>,
    #[serde(default)]
    pub(crate) site: Option<String>,
    /// Unix seconds.
    #[serde(default)]
    pub(crate) since: Option<String>,
    /// Unix seconds.
    #[serde(default)]
    pub(crate) until: Option<String>,
    /// Free text in the last error.
    #[serde(default)]
    pub(crate) q: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn bad(message: String) -> ApiError {
    ApiError::new_owned(wp_bridge_core::ErrorCode::InvalidRequest, message)
}

fn unix(field: &str, value: &str) -> Result<SystemTime, ApiError> {
    value
        .parse::<u64>()
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
        .map_err(|_| bad(format!("{field} must be unix seconds")))
}

impl FilterParams {
    pub(crate) fn to_filter(&self) -> Result<DeadLetterFilter, ApiError> {
        Ok(DeadLetterFilter {
            event_type: given(&self.event_type)
                .map(|t| {
                    t.parse()
                        .map_err(|()| bad(format!("unknown event_type {t:?}")))
                })
                .transpose()?,
            sink: given(&self.sink).map(SinkName::new),
            status_code: given(&self.status)
                .map(|s| {
                    s.parse()
                        .map_err(|_| bad("status must be an HTTP status code".into()))
                })
                .transpose()?,
            site: given(&self.site).map(str::to_owned),
            since: given(&self.since).map(|v| unix("since", v)).transpose()?,
            until: given(&self.until).map(|v| unix("until", v)).transpose()?,
            text: given(&self.q).map(str::to_owned),
        })
    }
}

#[derive(Serialize, Deserialize)]
struct CursorParts {
    s: u64,
    n: u32,
    e: String,
    k: String,
}

/// An opaque, URL-safe token for "after this entry".
pub(crate) fn encode_cursor(cursor: &DeadLetterCursor) -> String {
    let at = cursor
        .dead_at
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let parts = CursorParts {
        s: at.as_secs(),
        n: at.subsec_nanos(),
        e: cursor.event_id.to_string(),
        k: cursor.sink.to_string(),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&parts).unwrap_or_default())
}

pub(crate) fn decode_cursor(raw: &str) -> Result<DeadLetterCursor, ApiError> {
    let invalid = || bad("cursor is not one this API gave out".into());
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
    let parts: CursorParts = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    Ok(DeadLetterCursor {
        dead_at: UNIX_EPOCH + Duration::new(parts.s, parts.n),
        event_id: EventId::new(parts.e).map_err(|_| invalid())?,
        sink: SinkName::new(parts.k),
    })
}
