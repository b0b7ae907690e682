//! Builds a ready-to-paste `curl` command for a signed test event.

use wp_bridge::core::signature::SecretSet;

/// Why a command could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The file is not a JSON object with a string `event_id`.
    #[error("the event file must be a JSON object with a string \"event_id\": {0}")]
    NoEventId(String),
}

/// Quotes `s` for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Replaces the body's `event_id` with `new_id`, keeping everything else.
pub fn with_event_id(body: &[u8], new_id: &str) -> Result<Vec<u8>, SignError> {
    let mut value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| SignError::NoEventId(e.to_string()))?;
    let object = value
        .as_object_mut()
        .ok_or_else(|| SignError::NoEventId("not an object".into()))?;
    object.insert("event_id".into(), serde_json::Value::from(new_id));
    serde_json::to_vec(&value).map_err(|e| SignError::NoEventId(e.to_string()))
}

/// The `curl` command posting `body` to `url`, signed at `timestamp`.
pub fn curl_command(
    secrets: &SecretSet,
    url: &str,
    body: &[u8],
    timestamp: u64,
) -> Result<String, SignError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| SignError::NoEventId(e.to_string()))?;
    let event_id = value
        .get("event_id")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| SignError::NoEventId("missing".into()))?;
    let signature = secrets.sign(timestamp, body);
    let body = String::from_utf8_lossy(body);
    Ok(format!(
        "curl -sS -i -X POST {url} \\\n  -H 'Content-Type: application/json' \\\n  -H {ts} \\\n  -H {sig} \\\n  -H {id} \\\n  --data-binary {body}",
        url = shell_quote(url),
        ts = shell_quote(&format!("X-WP-Timestamp: {timestamp}")),
        sig = shell_quote(&format!("X-WP-Signature: {signature}")),
        id = shell_quote(&format!("X-Event-Id: {event_id}")),
        body = shell_quote(&body),
    ))
}
