//! [Standard Webhooks](https://www.standardwebhooks.com/) as a second
//! accepted scheme: `webhook-id`, `webhook-timestamp` and `webhook-signature`
//! (space-separated `v1,<base64>` entries), HMAC-SHA256 over
//! `id "." timestamp "." body` with `whsec_` secrets. Unlike the WordPress
//! scheme, the id is signed.
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use wp_bridge_core::signature::{SecretSet, StandardWebhooksVerifier};
//!
//! let secrets = SecretSet::from_standard_webhooks("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
//! let body = br#"{"type":"comment.created"}"#;
//! let sig = secrets.sign_segments(&[b"msg_1", b"1700000000", body]);
//! let verifier = StandardWebhooksVerifier::new(secrets);
//! let now = UNIX_EPOCH + Duration::from_secs(1_700_000_010);
//! let header = format!("v1a,ignored v1,{sig}");
//! assert!(verifier.verify_parts(b"msg_1", b"1700000000", header.as_bytes(), body, now).is_ok());
//! assert!(verifier.verify_parts(b"msg_2", b"1700000000", header.as_bytes(), body, now).is_err());
//! ```

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use http::HeaderMap;

use super::error::VerifyError;
use super::secret::SecretSet;
use super::verifier::{check_timestamp, Verified, DEFAULT_TOLERANCE};

/// `webhook-id`: the message id, the same on every retry; signed.
pub const WEBHOOK_ID_HEADER: &str = "webhook-id";
/// `webhook-timestamp`: unix seconds of this attempt.
pub const WEBHOOK_TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// `webhook-signature`: `v1,<base64>` entries, space-separated.
pub const WEBHOOK_SIGNATURE_HEADER: &str = "webhook-signature";

/// Longest id or signature list accepted.
const MAX_ID_LEN: usize = 256;
const MAX_SIGNATURE_HEADER_LEN: usize = 4096;

/// Verifies Standard Webhooks requests against a [`SecretSet`] (built with
/// [`SecretSet::from_standard_webhooks`]).
#[derive(Debug, Clone)]
pub struct StandardWebhooksVerifier {
    secrets: Arc<SecretSet>,
    tolerance: Duration,
}

fn required<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<&'h [u8], VerifyError> {
    match headers.get(name) {
        Some(v) if !v.as_bytes().is_empty() => Ok(v.as_bytes()),
        _ => Err(VerifyError::MissingHeader(name)),
    }
}

impl StandardWebhooksVerifier {
    /// A verifier with the spec's 300 s tolerance.
    pub fn new(secrets: SecretSet) -> Self {
        Self {
            secrets: Arc::new(secrets),
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// The configured secrets, shared.
    pub fn shared_secrets(&self) -> Arc<SecretSet> {
        self.secrets.clone()
    }

    /// The accepted distance between the sender's timestamp and now.
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Checks what can be judged before the body: the three headers, the id
    /// and timestamp formats, the window.
    pub fn check_headers(&self, headers: &HeaderMap, now: SystemTime) -> Result<(), VerifyError> {
        let id = required(headers, WEBHOOK_ID_HEADER)?;
        let ts = required(headers, WEBHOOK_TIMESTAMP_HEADER)?;
        required(headers, WEBHOOK_SIGNATURE_HEADER)?;
        check_id(id)?;
        check_timestamp(ts, now, self.tolerance).map(drop)
    }

    /// Verifies a request given its headers and raw body.
    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Verified, VerifyError> {
        self.verify_parts(
            required(headers, WEBHOOK_ID_HEADER)?,
            required(headers, WEBHOOK_TIMESTAMP_HEADER)?,
            required(headers, WEBHOOK_SIGNATURE_HEADER)?,
            body,
            now,
        )
    }

    /// Verifies raw header values and body, without HTTP types.
    pub fn verify_parts(
        &self,
        id: &[u8],
        timestamp: &[u8],
        signatures: &[u8],
        body: &[u8],
        now: SystemTime,
    ) -> Result<Verified, VerifyError> {
        check_id(id)?;
        let (ts, skew_secs) = check_timestamp(timestamp, now, self.tolerance)?;
        if signatures.len() > MAX_SIGNATURE_HEADER_LEN {
            return Err(VerifyError::BadSignature);
        }
        let key_index = signatures
            .split(|b| *b == b' ')
            .filter_map(|entry| {
                let comma = entry.iter().position(|b| *b == b',')?;
                let (version, tag) = (&entry[..comma], &entry[comma + 1..]);
                (version == b"v1").then_some(tag)
            })
            .filter_map(decode_tag)
            .find_map(|tag| self.secrets.matching_key_for(&[id, timestamp, body], &tag))
            .ok_or(VerifyError::BadSignature)?;
        Ok(Verified {
            key_index,
            timestamp: ts,
            skew_secs,
        })
    }
}

/// The spec forbids `.` in ids (it separates the signed parts).
fn check_id(id: &[u8]) -> Result<(), VerifyError> {
    if id.len() > MAX_ID_LEN || id.contains(&b'.') {
        return Err(VerifyError::BadSignature);
    }
    Ok(())
}

fn decode_tag(tag: &[u8]) -> Option<[u8; 32]> {
    if tag.len() > 64 {
        return None;
    }
    let mut buf = [0u8; 48];
    let len = base64::engine::general_purpose::STANDARD
        .decode_slice(tag, &mut buf)
        .ok()?;
    buf.get(..len)?.try_into().ok()
}
