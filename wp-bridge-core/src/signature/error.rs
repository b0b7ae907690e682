use thiserror::Error;

use crate::rejection::{ErrorCode, Rejection};

/// Why a request's signature was not accepted.
///
/// Messages never contain a secret, a signature or the body.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A required header is absent or empty.
    #[error("missing header {0}: a signed request carries its id, timestamp and signature headers (X-Event-Id, X-WP-Timestamp, X-WP-Signature for WordPress)")]
    MissingHeader(&'static str),
    /// `X-WP-Timestamp` is not decimal digits only.
    #[error("X-WP-Timestamp must be unix seconds as decimal digits")]
    InvalidTimestamp,
    /// The timestamp is outside the tolerance window, in the past or the future.
    #[error("timestamp is {skew_secs} s away from the gateway's clock, beyond the allowed {tolerance_secs} s; check the sender's clock (NTP) or resend")]
    StaleTimestamp {
        /// Gateway time minus sender time, in seconds (negative: the sender is ahead).
        skew_secs: i64,
        /// The configured tolerance.
        tolerance_secs: u64,
    },
    /// No configured secret produced the signature.
    #[error("signature does not match any configured secret; check that WordPress and the gateway share the same signing secret")]
    BadSignature,
}

impl VerifyError {
    /// The stable code this error is answered with.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::MissingHeader(_) => ErrorCode::MissingHeader,
            Self::InvalidTimestamp => ErrorCode::InvalidTimestamp,
            Self::StaleTimestamp { .. } => ErrorCode::StaleTimestamp,
            Self::BadSignature => ErrorCode::BadSignature,
        }
    }
}

impl From<VerifyError> for Rejection {
    fn from(err: VerifyError) -> Self {
        Rejection::new(err.code(), err.to_string())
    }
}

/// Why a set of secrets could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SecretError {
    /// No secret was given.
    #[error("no signing secret configured: give at least one (the first one signs, all verify)")]
    Empty,
    /// A Standard Webhooks secret is not `whsec_` + base64.
    #[error("Standard Webhooks secret #{index} is not whsec_ followed by base64")]
    NotBase64 {
        /// Position of the secret in the list (0-based).
        index: usize,
    },
    /// A secret is too short to resist guessing.
    #[error("signing secret #{index} is {len} bytes; use at least {min} random bytes (e.g. `openssl rand -base64 32`)")]
    TooShort {
        /// Position of the secret in the set (0-based).
        index: usize,
        /// Its length in bytes.
        len: usize,
        /// The minimum length.
        min: usize,
    },
}
