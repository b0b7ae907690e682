//! Small durable state that sinks keep between calls: a HubSpot note id per
//! event (so a replay updates the note instead of adding one), an OpenAI
//! enrichment per content hash (so identical content is paid for once).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use wp_bridge_core::sink::{MemorySinkState, SinkState};
//!
//! let state = MemorySinkState::default();
//! state.put("hubspot-notes", "evt-1", "note-42").await.unwrap();
//! assert_eq!(state.get("hubspot-notes", "evt-1").await.unwrap().as_deref(), Some("note-42"));
//! assert_eq!(state.get("openai-cache", "evt-1").await.unwrap(), None);
//! # }
//! ```

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::StoreError;

/// Keyed strings in named scopes. Durable backends keep them across
/// restarts and share them between workers.
#[async_trait]
pub trait SinkState: Send + Sync + std::fmt::Debug + 'static {
    /// The value under (`scope`, `key`).
    async fn get(&self, scope: &str, key: &str) -> Result<Option<String>, StoreError>;
    /// Sets the value under (`scope`, `key`), replacing what was there.
    async fn put(&self, scope: &str, key: &str, value: &str) -> Result<(), StoreError>;
}

/// [`SinkState`] in process memory: lost on restart.
#[derive(Debug, Default)]
pub struct MemorySinkState {
    values: Mutex<HashMap<(String, String), String>>,
}

#[async_trait]
impl SinkState for MemorySinkState {
    async fn get(&self, scope: &str, key: &str) -> Result<Option<String>, StoreError> {
        let values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        Ok(values.get(&(scope.to_owned(), key.to_owned())).cloned())
    }

    async fn put(&self, scope: &str, key: &str, value: &str) -> Result<(), StoreError> {
        self.values
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((scope.to_owned(), key.to_owned()), value.to_owned());
        Ok(())
    }
}
