//! Deduplication by event id: the first request to claim an id ingests it,
//! concurrent ones are told to retry, later ones get the original receipt.
//!
//! ```
//! # tokio_test_block(async {
//! use std::time::Duration;
//! use wp_bridge_core::clock::SystemClock;
//! use wp_bridge_core::event::{CorrelationId, EventId};
//! use wp_bridge_core::idempotency::{Claim, IdempotencyStore, MemoryIdempotencyStore};
//! use wp_bridge_core::response::Receipt;
//!
//! let store = MemoryIdempotencyStore::new(SystemClock::shared());
//! let id = EventId::new("evt-1").unwrap();
//! assert_eq!(store.claim(&id, Duration::from_secs(30)).await.unwrap(), Claim::Won);
//! assert_eq!(store.claim(&id, Duration::from_secs(30)).await.unwrap(), Claim::InProgress);
//! let receipt = Receipt { event_id: id.clone(), correlation_id: CorrelationId::generate() };
//! store.complete(&id, &receipt).await.unwrap();
//! assert_eq!(store.claim(&id, Duration::from_secs(30)).await.unwrap(), Claim::Completed(receipt));
//! # });
//! # fn tokio_test_block(f: impl std::future::Future) { tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f); }
//! ```

mod memory;

use std::time::Duration;

use async_trait::async_trait;

use crate::error::StoreError;
use crate::event::EventId;
use crate::response::Receipt;

pub use memory::MemoryIdempotencyStore;

/// The answer to a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This caller owns the id until it completes or releases it, or the lease runs out.
    Won,
    /// Another caller holds an unexpired claim.
    InProgress,
    /// The id was ingested before; here is what the sender was told.
    Completed(Receipt),
}

/// Claims on event ids.
#[async_trait]
pub trait IdempotencyStore: Send + Sync + std::fmt::Debug + 'static {
    /// Claims `id` for `lease`. An expired claim can be won again, so a
    /// gateway that crashed mid-request does not block the id forever.
    async fn claim(&self, id: &EventId, lease: Duration) -> Result<Claim, StoreError>;

    /// Marks `id` as ingested; later claims return [`Claim::Completed`].
    async fn complete(&self, id: &EventId, receipt: &Receipt) -> Result<(), StoreError>;

    /// Gives up a claim without completing it (the ingest failed), so a retry can win.
    async fn release(&self, id: &EventId) -> Result<(), StoreError>;
}
