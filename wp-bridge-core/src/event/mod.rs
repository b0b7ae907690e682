//! The event schema: the envelope `{event, event_id, site, data}` and the
//! typed `data` of each event type, with validation that reports every
//! failing field by JSON path.
//!
//! ```
//! use wp_bridge_core::event::{parse_event, EventType};
//!
//! let body = br#"{"event":"lead.created","event_id":"6f1c-1","site":"https://shop.example",
//!   "data":{"form_id":7,"form_title":"Contact","fields":{"name":"Ada"},
//!           "email":"ada@example.com","source_url":"https://shop.example/contact",
//!           "created_at":"2026-12-04T10:00:00Z"}}"#;
//! let event = parse_event(body).unwrap();
//! assert_eq!(event.event_type(), EventType::LeadCreated);
//!
//! let bad = br#"{"event":"lead.created","event_id":"x","site":"ftp://nope","data":{"email":"no-at"}}"#;
//! let errors = parse_event(bad).unwrap_err().errors().to_vec();
//! assert!(errors.iter().any(|e| e.path == "$.site"));
//! assert!(errors.iter().any(|e| e.path == "$.data.email"));
//! ```

mod id;
mod job;
mod schema;
mod traceparent;
mod types;

pub use id::{CorrelationId, EventId, InvalidId, SinkName};
pub use job::Job;
pub use schema::{parse_envelope, parse_event, Envelope, FieldError, Limits};
pub use traceparent::{child_traceparent, parse_traceparent};
pub use types::{
    CommentAuthor, CommentCreated, Customer, Event, EventData, EventType, LeadCreated, LineItem,
    OrderCreated,
};
