//! A string that never shows itself in `Debug` or `Display`.

use std::fmt;

use zeroize::Zeroizing;

/// A credential: an API key, a bearer token, or a URL that is its own
/// credential (a Slack incoming-webhook URL).
///
/// `Debug` prints `Secret([redacted])`, so a sink's config can derive `Debug`
/// and be logged without leaking it; the memory is wiped on drop.
///
/// ```
/// use wp_bridge_sinks::Secret;
///
/// let token = Secret::new("pat-na1-very-secret");
/// assert_eq!(format!("{token:?}"), "Secret([redacted])");
/// assert_eq!(token.expose(), "pat-na1-very-secret");
/// ```
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The credential itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}
