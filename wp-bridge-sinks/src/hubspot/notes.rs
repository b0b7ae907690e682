//! Where the HubSpot sink remembers which note it created for an event.
//!
//! HubSpot notes have no unique property to upsert on, so the sink keeps
//! the note id per event: a retry or a replay of the event updates that note
//! instead of adding a second one.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use wp_bridge_core::event::EventId;

use crate::Error;

/// Event id → HubSpot note id. Implement it on durable storage to keep the
/// guarantee across restarts.
#[async_trait]
pub trait NoteIdStore: Send + Sync + std::fmt::Debug + 'static {
    /// The note created for `event`, if any.
    async fn get(&self, event: &EventId) -> Result<Option<String>, Error>;
    /// Remembers the note created for `event`.
    async fn put(&self, event: &EventId, note_id: &str) -> Result<(), Error>;
}

/// A [`NoteIdStore`] in process memory: it forgets on restart.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use wp_bridge_core::event::EventId;
/// use wp_bridge_sinks::hubspot::{MemoryNoteIdStore, NoteIdStore};
///
/// let store = MemoryNoteIdStore::default();
/// let event = EventId::new("e-1").unwrap();
/// assert_eq!(store.get(&event).await.unwrap(), None);
/// store.put(&event, "4242").await.unwrap();
/// assert_eq!(store.get(&event).await.unwrap().as_deref(), Some("4242"));
/// # }
/// ```
#[derive(Debug, Default)]
pub struct MemoryNoteIdStore {
    notes: Mutex<HashMap<EventId, String>>,
}

#[async_trait]
impl NoteIdStore for MemoryNoteIdStore {
    async fn get(&self, event: &EventId) -> Result<Option<String>, Error> {
        Ok(self
            .notes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(event)
            .cloned())
    }

    async fn put(&self, event: &EventId, note_id: &str) -> Result<(), Error> {
        self.notes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(event.clone(), note_id.to_owned());
        Ok(())
    }
}

/// A [`NoteIdStore`] over the core's [`SinkState`](wp_bridge_core::sink::SinkState):
/// with `wp_bridge_postgres::PgSinkState` a replay after a restart still
/// updates the note it created before.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::sync::Arc;
/// use wp_bridge_core::event::EventId;
/// use wp_bridge_core::sink::MemorySinkState;
/// use wp_bridge_sinks::hubspot::{NoteIdStore, StateNoteIdStore};
///
/// let notes = StateNoteIdStore::new(Arc::new(MemorySinkState::default()));
/// let id = EventId::new("c-1").unwrap();
/// notes.put(&id, "9001").await.unwrap();
/// assert_eq!(notes.get(&id).await.unwrap().as_deref(), Some("9001"));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct StateNoteIdStore {
    state: std::sync::Arc<dyn wp_bridge_core::sink::SinkState>,
}

/// The scope the note ids are kept under.
const NOTES_SCOPE: &str = "hubspot-notes";

impl StateNoteIdStore {
    /// Note ids kept in `state`.
    pub fn new(state: std::sync::Arc<dyn wp_bridge_core::sink::SinkState>) -> Self {
        Self { state }
    }
}

#[async_trait]
impl NoteIdStore for StateNoteIdStore {
    async fn get(&self, event: &EventId) -> Result<Option<String>, Error> {
        self.state
            .get(NOTES_SCOPE, event.as_str())
            .await
            .map_err(|e| Error::store("HubSpot note id store", e.to_string()))
    }

    async fn put(&self, event: &EventId, note_id: &str) -> Result<(), Error> {
        self.state
            .put(NOTES_SCOPE, event.as_str(), note_id)
            .await
            .map_err(|e| Error::store("HubSpot note id store", e.to_string()))
    }
}
