//! The crate's error type: what can go wrong while building a sink or using
//! one of its stores. Delivery failures are not here: a sink answers those
//! with [`DeliveryError`](wp_bridge_core::sink::DeliveryError), which carries
//! the retry decision.

use thiserror::Error;

/// Building a sink or talking to one of its stores failed.
///
/// Messages name the setting at fault and never contain a secret.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is missing or malformed.
    #[error("{setting} is not usable: {reason}")]
    Config {
        /// The setting, e.g. `"Slack webhook URL"`.
        setting: &'static str,
        /// What is wrong with it and how to fix it.
        reason: String,
    },
    /// The HTTP client could not be built (TLS roots, resolver).
    #[error("the HTTP client could not be built: {0}")]
    HttpClient(String),
    /// A cache or id store did not answer.
    #[error("{store} is unavailable: {message}")]
    Store {
        /// Which store.
        store: &'static str,
        /// What happened.
        message: String,
    },
}

impl Error {
    pub(crate) fn config(setting: &'static str, reason: impl Into<String>) -> Self {
        Self::Config {
            setting,
            reason: reason.into(),
        }
    }

    /// A store failure, for implementors of the store traits.
    pub fn store(store: &'static str, message: impl Into<String>) -> Self {
        Self::Store {
            store,
            message: message.into(),
        }
    }
}
