//! Leaf services.

mod ingest;

pub use ingest::IngestService;
