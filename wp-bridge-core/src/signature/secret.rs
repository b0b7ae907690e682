use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::error::SecretError;

type HmacSha256 = Hmac<Sha256>;

/// Shortest secret accepted: 16 bytes, 128 bits when random.
const MIN_SECRET_LEN: usize = 16;

/// One signing secret with its HMAC key schedule computed once.
struct Secret {
    // Kept only to be wiped on drop; verification uses the keyed state.
    _bytes: Zeroizing<Vec<u8>>,
    keyed: HmacSha256,
}

/// The active signing secrets. All of them verify; the first one signs.
///
/// Rotation: add the new secret first, deploy the gateway, switch WordPress
/// to the new secret, then remove the old one.
///
/// The HMAC key setup (inner and outer pad) runs once per secret when the set
/// is built, never per request. The secret bytes are zeroized on drop.
/// `Debug` and `Display` print only how many secrets there are.
///
/// ```
/// use wp_bridge_core::signature::SecretSet;
///
/// let set = SecretSet::new(["new-secret-0123456789", "old-secret-0123456789"]).unwrap();
/// assert_eq!(set.len(), 2);
/// assert_eq!(format!("{set:?}"), "SecretSet { secrets: 2 }");
/// ```
pub struct SecretSet {
    secrets: Vec<Secret>,
}

impl SecretSet {
    /// Builds a set from raw secrets (the bytes WordPress and the gateway share).
    pub fn new<I, S>(secrets: I) -> Result<Self, SecretError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let mut built = Vec::new();
        for (index, secret) in secrets.into_iter().enumerate() {
            let bytes = secret.as_ref();
            if bytes.len() < MIN_SECRET_LEN {
                return Err(SecretError::TooShort {
                    index,
                    len: bytes.len(),
                    min: MIN_SECRET_LEN,
                });
            }
            // HMAC accepts keys of any length, so this cannot fail.
            let keyed =
                <HmacSha256 as Mac>::new_from_slice(bytes).map_err(|_| SecretError::Empty)?;
            built.push(Secret {
                _bytes: Zeroizing::new(bytes.to_vec()),
                keyed,
            });
        }
        if built.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Self { secrets: built })
    }

    /// Parses a comma-separated list, as in `WP_BRIDGE_SECRETS=new,old`.
    /// Surrounding whitespace is ignored; empty entries are skipped.
    pub fn from_comma_separated(list: &str) -> Result<Self, SecretError> {
        Self::new(list.split(',').map(str::trim).filter(|s| !s.is_empty()))
    }

    /// How many secrets are active.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// Always false: a set holds at least one secret.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Signs `timestamp + "." + body` with the first secret, base64-encoded.
    pub fn sign(&self, timestamp: u64, body: &[u8]) -> String {
        use base64::Engine as _;
        let mut mac = self.secrets[0].keyed.clone();
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    /// The index of the first secret whose MAC over `timestamp "." body`
    /// equals `tag`, compared in constant time.
    pub(crate) fn matching_key(&self, timestamp: &[u8], body: &[u8], tag: &[u8]) -> Option<usize> {
        self.matching_key_for(&[timestamp, body], tag)
    }

    /// The index of the first secret whose MAC over `segments` joined by
    /// `"."` equals `tag`, compared in constant time.
    pub(crate) fn matching_key_for(&self, segments: &[&[u8]], tag: &[u8]) -> Option<usize> {
        self.secrets.iter().position(|secret| {
            let mut mac = secret.keyed.clone();
            for (i, segment) in segments.iter().enumerate() {
                if i > 0 {
                    mac.update(b".");
                }
                mac.update(segment);
            }
            // `verify_slice` compares with `subtle::ConstantTimeEq`.
            mac.verify_slice(tag).is_ok()
        })
    }

    /// Signs `segments` joined by `"."` with the first secret, base64.
    pub fn sign_segments(&self, segments: &[&[u8]]) -> String {
        use base64::Engine as _;
        let mut mac = self.secrets[0].keyed.clone();
        for (i, segment) in segments.iter().enumerate() {
            if i > 0 {
                mac.update(b".");
            }
            mac.update(segment);
        }
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    /// Parses Standard Webhooks secrets: comma-separated `whsec_<base64>`
    /// (the prefix is optional; padded or unpadded standard base64). The
    /// decoded bytes are the HMAC keys.
    pub fn from_standard_webhooks(list: &str) -> Result<Self, SecretError> {
        use base64::Engine as _;
        let mut keys = Vec::new();
        for (index, entry) in list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .enumerate()
        {
            let encoded = entry.strip_prefix("whsec_").unwrap_or(entry);
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded))
                .map_err(|_| SecretError::NotBase64 { index })?;
            keys.push(Zeroizing::new(decoded));
        }
        Self::new(keys.iter().map(|k| k.as_slice()))
    }
}

impl fmt::Debug for SecretSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretSet")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl fmt::Display for SecretSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} signing secret(s), redacted", self.secrets.len())
    }
}
