//! The WordPress signing scheme: `X-WP-Signature` =
//! base64(HMAC-SHA256(secret, timestamp + "." + raw body)).
//!
//! [`SignatureVerifier`] is a pure function of (headers, body, now): it does no
//! I/O, so the tower layer, the benchmarks, the signing tool and the PHP
//! plugin's test vectors all share it.
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use wp_bridge_core::signature::{SecretSet, SignatureVerifier, VerifyError};
//!
//! let secrets = SecretSet::new(["a-long-random-signing-secret"]).unwrap();
//! let body = br#"{"event":"comment.created"}"#;
//! let signature = secrets.sign(1_700_000_000, body);
//!
//! let verifier = SignatureVerifier::new(secrets);
//! let now = UNIX_EPOCH + Duration::from_secs(1_700_000_100);
//! let verified = verifier.verify_parts(b"1700000000", signature.as_bytes(), body, now).unwrap();
//! assert_eq!(verified.key_index, 0);
//!
//! // Ten minutes later the same request is a replay.
//! let later = now + Duration::from_secs(600);
//! let err = verifier.verify_parts(b"1700000000", signature.as_bytes(), body, later).unwrap_err();
//! assert!(matches!(err, VerifyError::StaleTimestamp { .. }));
//! ```

mod error;
mod secret;
mod standard;
mod verifier;

pub use error::{SecretError, VerifyError};
pub use secret::SecretSet;
pub use standard::{
    StandardWebhooksVerifier, WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER,
};
pub use verifier::{
    SignatureVerifier, Verified, DEFAULT_TOLERANCE, EVENT_ID_HEADER, SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
};
