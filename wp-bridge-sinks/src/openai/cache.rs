//! Enrichments already paid for, keyed by what determines them: the model,
//! the prompt version and the exact content sent.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use wp_bridge_core::sink::SinkState;

use crate::enrichment::Enrichment;
use crate::Error;

/// SHA-256 over (model, prompt version, content), hex: 64 characters, safe
/// as a database key and free of the content itself.
///
/// ```
/// use wp_bridge_sinks::openai::CacheKey;
///
/// let a = CacheKey::new("gpt-4o-mini", "v1", "Great post!");
/// assert_eq!(a, CacheKey::new("gpt-4o-mini", "v1", "Great post!"));
/// assert_ne!(a, CacheKey::new("gpt-4o-mini", "v2", "Great post!"));
/// assert_ne!(a, CacheKey::new("gpt-4o", "v1", "Great post!"));
/// assert_eq!(a.as_str().len(), 64);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CacheKey(String);

impl CacheKey {
    /// The key for this model, prompt version and content.
    pub fn new(model: &str, prompt_version: &str, content: &str) -> Self {
        let mut hash = Sha256::new();
        // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
        for part in [model, prompt_version, content] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        let digest = hash.finalize();
        Self(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The key as 64 lowercase hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheKey({})", &self.0[..12.min(self.0.len())])
    }
}

/// Where enrichments are kept so identical content is never paid for twice.
///
/// Failures are not fatal to a delivery: a failed `get` is a miss, a failed
/// `put` is logged. Implement it on durable storage to keep the savings
/// across restarts and between workers.
#[async_trait]
pub trait EnrichmentCache: Send + Sync + fmt::Debug + 'static {
    /// The enrichment stored under `key`, if any.
    async fn get(&self, key: &CacheKey) -> Result<Option<Enrichment>, Error>;
    /// Stores `value` under `key`, replacing what was there.
    async fn put(&self, key: &CacheKey, value: &Enrichment) -> Result<(), Error>;
}

/// An [`EnrichmentCache`] in process memory, holding at most `capacity`
/// entries (the oldest is dropped first).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use wp_bridge_sinks::enrichment::Enrichment;
/// use wp_bridge_sinks::openai::{CacheKey, EnrichmentCache, MemoryEnrichmentCache};
///
/// let cache = MemoryEnrichmentCache::new(2);
/// let value = Enrichment {
///     summary: Some("Praise".into()), spam: Some(false), sentiment: None, intent: None,
///     model: "gpt-4o-mini".into(), prompt_version: "v1".into(),
///     response_id: None, usage: None, cached: false,
/// };
/// for content in ["a", "b", "c"] {
///     cache.put(&CacheKey::new("m", "v1", content), &value).await.unwrap();
/// }
/// assert!(cache.get(&CacheKey::new("m", "v1", "a")).await.unwrap().is_none());
/// assert_eq!(cache.get(&CacheKey::new("m", "v1", "c")).await.unwrap(), Some(value));
/// # }
/// ```
#[derive(Debug)]
pub struct MemoryEnrichmentCache {
    capacity: usize,
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<CacheKey, Enrichment>,
    order: VecDeque<CacheKey>,
}

impl MemoryEnrichmentCache {
    /// A cache of at most `capacity` entries (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            entries: Mutex::default(),
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for MemoryEnrichmentCache {
    /// 10,000 entries.
    fn default() -> Self {
        Self::new(10_000)
    }
}

#[async_trait]
impl EnrichmentCache for MemoryEnrichmentCache {
    async fn get(&self, key: &CacheKey) -> Result<Option<Enrichment>, Error> {
        Ok(self.lock().map.get(key).cloned())
    }

    async fn put(&self, key: &CacheKey, value: &Enrichment) -> Result<(), Error> {
        let mut entries = self.lock();
        if entries.map.insert(key.clone(), value.clone()).is_none() {
            entries.order.push_back(key.clone());
        }
        while entries.map.len() > self.capacity {
            match entries.order.pop_front() {
                Some(oldest) => {
                    entries.map.remove(&oldest);
                }
                None => break,
            }
        }
        Ok(())
    }
}

/// An [`EnrichmentCache`] over the core's [`SinkState`]: with
/// `wp_bridge_postgres::PgSinkState` the savings survive restarts and are
/// shared by every worker.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::sync::Arc;
/// use wp_bridge_core::sink::MemorySinkState;
/// use wp_bridge_sinks::enrichment::Enrichment;
/// use wp_bridge_sinks::openai::{CacheKey, EnrichmentCache, StateEnrichmentCache};
///
/// let cache = StateEnrichmentCache::new(Arc::new(MemorySinkState::default()));
/// let key = CacheKey::new("gpt-4o-mini", "v1", "Great post!");
/// let value = Enrichment { summary: Some("Praise".into()), spam: Some(false), sentiment: None,
///                          intent: None, model: "gpt-4o-mini".into(), prompt_version: "v1".into(),
///                          response_id: None, usage: None, cached: false };
/// cache.put(&key, &value).await.unwrap();
/// assert_eq!(cache.get(&key).await.unwrap(), Some(value));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct StateEnrichmentCache {
    state: std::sync::Arc<dyn SinkState>,
}

/// The scope the enrichments are kept under.
const CACHE_SCOPE: &str = "openai-enrichment";

impl StateEnrichmentCache {
    /// A cache kept in `state`.
    pub fn new(state: std::sync::Arc<dyn SinkState>) -> Self {
        Self { state }
    }
}

#[async_trait]
impl EnrichmentCache for StateEnrichmentCache {
    async fn get(&self, key: &CacheKey) -> Result<Option<Enrichment>, Error> {
        let Some(raw) = self
            .state
            .get(CACHE_SCOPE, key.as_str())
            .await
            .map_err(|e| Error::store("enrichment cache", e.to_string()))?
        else {
            return Ok(None);
        };
        // An entry from an older layout is a miss, not an error.
        Ok(serde_json::from_str(&raw).ok())
    }

    async fn put(&self, key: &CacheKey, value: &Enrichment) -> Result<(), Error> {
        let raw = serde_json::to_string(value)
            .map_err(|e| Error::store("enrichment cache", e.to_string()))?;
        self.state
            .put(CACHE_SCOPE, key.as_str(), &raw)
            .await
            .map_err(|e| Error::store("enrichment cache", e.to_string()))
    }
}
