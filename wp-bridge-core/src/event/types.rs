use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::EventId;

/// The event types the gateway accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    /// A comment was posted.
    #[serde(rename = "comment.created")]
    CommentCreated,
    /// A WooCommerce order was placed.
    #[serde(rename = "order.created")]
    OrderCreated,
    /// A form was submitted.
    #[serde(rename = "lead.created")]
    LeadCreated,
}

impl EventType {
    /// Every known type.
    pub const ALL: [EventType; 3] = [Self::CommentCreated, Self::OrderCreated, Self::LeadCreated];

    /// The wire name, e.g. `"order.created"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CommentCreated => "comment.created",
            Self::OrderCreated => "order.created",
            Self::LeadCreated => "lead.created",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|t| t.as_str() == s).ok_or(())
    }
}

/// A validated event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// The sender's id for this event.
    pub event_id: EventId,
    /// The WordPress site's home URL.
    pub site: String,
    /// The typed payload (serialized as `event` + `data`).
    #[serde(flatten)]
    pub data: EventData,
}

impl Event {
    /// The type of this event.
    pub fn event_type(&self) -> EventType {
        match self.data {
            EventData::CommentCreated(_) => EventType::CommentCreated,
            EventData::OrderCreated(_) => EventType::OrderCreated,
            EventData::LeadCreated(_) => EventType::LeadCreated,
        }
    }
}

/// The payload of each event type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", content = "data")]
pub enum EventData {
    /// `comment.created`
    #[serde(rename = "comment.created")]
    CommentCreated(CommentCreated),
    /// `order.created`
    #[serde(rename = "order.created")]
    OrderCreated(OrderCreated),
    /// `lead.created`
    #[serde(rename = "lead.created")]
    LeadCreated(LeadCreated),
}

/// `comment.created`
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommentCreated {
    /// WordPress comment id.
    pub id: u64,
    /// The post commented on.
    pub post_id: u64,
    /// Who wrote it.
    pub author: CommentAuthor,
    /// The comment text.
    pub content: String,
    /// When it was written.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// The author of a comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommentAuthor {
    /// Display name.
    pub name: String,
    /// Email, when the commenter gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// `order.created`
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderCreated {
    /// WooCommerce order id.
    pub id: u64,
    /// Order status slug, e.g. `processing`.
    pub status: String,
    /// Grand total as a decimal string (never a float), e.g. `"49.90"`.
    pub total: String,
    /// ISO 4217 code, e.g. `EUR`.
    pub currency: String,
    /// The buyer.
    pub customer: Customer,
    /// What was bought.
    pub line_items: Vec<LineItem>,
    /// When the order was placed.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// The buyer of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Customer {
    /// Billing email.
    pub email: String,
    /// First name (may be empty).
    pub first_name: String,
    /// Last name (may be empty).
    pub last_name: String,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineItem {
    /// WooCommerce product id.
    pub product_id: u64,
    /// Product name at the time of the order.
    pub name: String,
    /// How many.
    pub quantity: u64,
    /// Line total as a decimal string.
    pub total: String,
}

/// `lead.created`
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeadCreated {
    /// The form's id in its plugin (numbers are kept as their decimal text).
    pub form_id: String,
    /// The form's title.
    pub form_title: String,
    /// Submitted fields, name to value.
    pub fields: BTreeMap<String, String>,
    /// The submitter's email, when the form has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The page the form was sent from.
    pub source_url: String,
    /// When it was sent.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}
