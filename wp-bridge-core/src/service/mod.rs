//! Leaf services.

mod ingest;

pub use ingest::{ClaimSettled, IngestService};
