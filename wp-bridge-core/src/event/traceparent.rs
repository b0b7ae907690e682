//! W3C Trace Context: the `traceparent` a sender may send, kept with the
//! event and continued on every outbound call of its deliveries.

/// Validates a `traceparent` header (`00-<32 hex>-<16 hex>-<2 hex>`, lower
/// case, trace and parent ids not all zeros, version not `ff`). Returns it
/// when usable; anything else is ignored, as the spec asks.
///
/// ```
/// use wp_bridge_core::event::{child_traceparent, parse_traceparent};
///
/// let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
/// assert_eq!(parse_traceparent(tp).as_deref(), Some(tp));
/// assert_eq!(parse_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"), None);
/// let child = child_traceparent(tp);
/// assert!(child.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-") && child.ends_with("-01"));
/// assert_ne!(child, tp);
/// ```
pub fn parse_traceparent(value: &str) -> Option<String> {
    let parts: Vec<&str> = value.trim().split('-').collect();
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let zeros = |s: &str| s.bytes().all(|b| b == b'0');
    match parts.as_slice() {
        [version, trace, parent, flags]
            if hex(version, 2)
                && *version != "ff"
                && hex(trace, 32)
                && !zeros(trace)
                && hex(parent, 16)
                && !zeros(parent)
                && hex(flags, 2) =>
        {
            Some(format!("00-{trace}-{parent}-{flags}"))
        }
        _ => None,
    }
}

/// The `traceparent` for a call made on behalf of `parent`: the same trace
/// and flags, a fresh span id.
pub fn child_traceparent(parent: &str) -> String {
    let mut parts = parent.split('-');
    let (_, trace, _, flags) = (parts.next(), parts.next(), parts.next(), parts.next());
    let span = loop {
        let candidate = uuid::Uuid::new_v4().simple().to_string();
        let span = &candidate[..16];
        if span.bytes().any(|b| b != b'0') {
            break span.to_owned();
        }
    };
    format!(
        "00-{}-{span}-{}",
        trace.unwrap_or("00000000000000000000000000000001"),
        flags.unwrap_or("00")
    )
}
