//! Conversions between core types and column values.

use std::time::{Duration, SystemTime};

use time::OffsetDateTime;
use wp_bridge_core::event::{parse_envelope, Event, Limits};
use wp_bridge_core::event_log::DeliveryState;
use wp_bridge_core::StoreError;

pub(crate) fn ts(t: SystemTime) -> OffsetDateTime {
    OffsetDateTime::from(t)
}

pub(crate) fn system_time(t: OffsetDateTime) -> SystemTime {
    SystemTime::from(t)
}

pub(crate) fn add(t: SystemTime, d: Duration) -> OffsetDateTime {
    ts(t + d)
}

pub(crate) fn state(name: &str) -> Result<DeliveryState, StoreError> {
    DeliveryState::parse(name)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown delivery state {name:?}")))
}

pub(crate) fn count(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

pub(crate) fn status_code(value: Option<i32>) -> Option<u16> {
    value.and_then(|v| u16::try_from(v).ok())
}

/// Rebuilds the typed event from the stored bytes and its recorded id. They
/// passed validation at ingest, possibly under other size limits, so none are
/// applied here; a body that took its id from a signed header (Standard
/// Webhooks) gets it back the same way.
pub(crate) fn event(raw: &[u8], id: &str) -> Result<Event, StoreError> {
    let unbounded = Limits {
        max_depth: 64,
        max_short_text: usize::MAX,
        max_long_text: usize::MAX,
        max_line_items: usize::MAX,
        max_lead_fields: usize::MAX,
    };
    parse_envelope(raw, unbounded)
        .and_then(|mut envelope| {
            envelope.fill_signed_defaults(id.as_bytes());
            envelope.into_event()
        })
        .map_err(|rejection| {
            StoreError::Corrupt(format!("stored event no longer parses: {rejection}"))
        })
}
