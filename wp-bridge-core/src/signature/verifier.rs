use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use http::HeaderMap;

use super::error::VerifyError;
use super::secret::SecretSet;

/// `X-WP-Signature`: base64(HMAC-SHA256(secret, timestamp + "." + body)).
pub const SIGNATURE_HEADER: &str = "x-wp-signature";
/// `X-WP-Timestamp`: unix seconds of this attempt, decimal digits only.
pub const TIMESTAMP_HEADER: &str = "x-wp-timestamp";
/// `X-Event-Id`: the event's id, the same on every retry. Not signed.
pub const EVENT_ID_HEADER: &str = "x-event-id";

/// Default replay window, in each direction.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// A base64 HMAC-SHA256 tag is 44 characters; anything much longer is not one.
const MAX_SIGNATURE_LEN: usize = 64;
/// Unix seconds fit in 11 digits until the year 5138.
const MAX_TIMESTAMP_DIGITS: usize = 11;

/// What a successful verification established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// Which secret of the [`SecretSet`] matched (0 = the signing one).
    /// Watch this to know when a rotation has finished.
    pub key_index: usize,
    /// The sender's timestamp.
    pub timestamp: u64,
    /// Gateway time minus sender time, in seconds.
    pub skew_secs: i64,
}

/// Verifies WordPress-signed requests against a [`SecretSet`].
///
/// Cheap to clone (the secrets are shared).
#[derive(Debug, Clone)]
pub struct SignatureVerifier {
    secrets: Arc<SecretSet>,
    tolerance: Duration,
}

impl SignatureVerifier {
    /// A verifier with the default 300 s tolerance.
    pub fn new(secrets: SecretSet) -> Self {
        Self {
            secrets: Arc::new(secrets),
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// Accepts timestamps at most `tolerance` away from now, in either
    /// direction; exactly `tolerance` away still passes.
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The configured secrets.
    pub fn secrets(&self) -> &SecretSet {
        &self.secrets
    }

    /// The configured secrets, shared.
    pub fn shared_secrets(&self) -> Arc<SecretSet> {
        self.secrets.clone()
    }

    /// Checks the headers that can be judged before the body is read:
    /// presence of all three, timestamp format and window. Returns the
    /// timestamp so the body check need not parse it again.
    pub fn check_headers(&self, headers: &HeaderMap, now: SystemTime) -> Result<u64, VerifyError> {
        let timestamp = required(headers, TIMESTAMP_HEADER, "X-WP-Timestamp")?;
        required(headers, SIGNATURE_HEADER, "X-WP-Signature")?;
        required(headers, EVENT_ID_HEADER, "X-Event-Id")?;
        check_timestamp(timestamp, now, self.tolerance).map(|(ts, _)| ts)
    }

    /// Verifies a request given its headers and raw body.
    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Verified, VerifyError> {
        let timestamp = required(headers, TIMESTAMP_HEADER, "X-WP-Timestamp")?;
        let signature = required(headers, SIGNATURE_HEADER, "X-WP-Signature")?;
        required(headers, EVENT_ID_HEADER, "X-Event-Id")?;
        self.verify_parts(timestamp, signature, body, now)
    }

    /// Verifies the raw header values and body, without any HTTP types.
    pub fn verify_parts(
        &self,
        timestamp: &[u8],
        signature: &[u8],
        body: &[u8],
        now: SystemTime,
    ) -> Result<Verified, VerifyError> {
        let (ts, skew_secs) = check_timestamp(timestamp, now, self.tolerance)?;
        let tag = decode_tag(signature).ok_or(VerifyError::BadSignature)?;
        let key_index = self
            .secrets
            .matching_key(timestamp, body, &tag)
            .ok_or(VerifyError::BadSignature)?;
        Ok(Verified {
            key_index,
            timestamp: ts,
            skew_secs,
        })
    }
}

/// The timestamp check both schemes share: decimal digits only (no sign,
/// space or decimal point), within `tolerance` of `now` in either direction.
/// Returns the timestamp and the skew (now − timestamp) in seconds.
pub(crate) fn check_timestamp(
    raw: &[u8],
    now: SystemTime,
    tolerance: Duration,
) -> Result<(u64, i64), VerifyError> {
    if raw.is_empty() || raw.len() > MAX_TIMESTAMP_DIGITS || !raw.iter().all(u8::is_ascii_digit) {
        return Err(VerifyError::InvalidTimestamp);
    }
    // At most 11 ASCII digits: always a valid u64.
    let ts = raw
        .iter()
        .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
    let now_secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let skew = i128::from(now_secs) - i128::from(ts);
    let tolerance = tolerance.as_secs();
    let skew_secs = i64::try_from(skew).unwrap_or(i64::MAX);
    if skew.unsigned_abs() > u128::from(tolerance) {
        return Err(VerifyError::StaleTimestamp {
            skew_secs,
            tolerance_secs: tolerance,
        });
    }
    Ok((ts, skew_secs))
}

fn required<'h>(
    headers: &'h HeaderMap,
    name: &'static str,
    display: &'static str,
) -> Result<&'h [u8], VerifyError> {
    match headers.get(name) {
        Some(value) if !value.as_bytes().is_empty() => Ok(value.as_bytes()),
        _ => Err(VerifyError::MissingHeader(display)),
    }
}

/// Decodes a standard, padded base64 HMAC-SHA256 tag; `None` unless it is
/// exactly 32 bytes.
fn decode_tag(signature: &[u8]) -> Option<[u8; 32]> {
    let signature = signature.trim_ascii();
    if signature.len() > MAX_SIGNATURE_LEN {
        return None;
    }
    let mut buf = [0u8; 48];
    let len = base64::engine::general_purpose::STANDARD
        .decode_slice(signature, &mut buf)
        .ok()?;
    buf.get(..len)?.try_into().ok()
}
