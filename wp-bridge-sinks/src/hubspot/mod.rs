//! HubSpot CRM v3 with a private-app token.
//!
//! | event | what is written | reference |
//! |---|---|---|
//! | `lead.created` | contact upserted by email; a note with the form fields (and the enricher's judgement), associated with it | `contact/<id> note/<id>` |
//! | `order.created` | the customer's contact upserted by email; a deal upserted on a unique order-id property; the deal associated with the contact | `contact/<id> deal/<id>` |
//! | `comment.created` | a note with the comment (and the judgement), associated with the commenter's contact when they gave an email | `contact/<id> note/<id>` or `note/<id>` |
//!
//! Every write is idempotent, so a retry after a timeout or a failed later
//! step repeats nothing: contacts and deals are upserted on unique
//! properties, the association is a `PUT`, and a note, which has no unique
//! property, is updated through the id kept in a [`NoteIdStore`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use wp_bridge_sinks::hubspot::{HubSpotConfig, HubSpotSink};
//!
//! let sink = HubSpotSink::new(
//!     HubSpotConfig::new("pat-na1-0000-secret").deal_id_property("wc_order_id"),
//! )
//! .unwrap();
//! assert!(!format!("{sink:?}").contains("pat-na1"));
//! # }
//! ```

mod api;
mod notes;
mod records;
mod throttle;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use http::{Method, StatusCode};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;
use serde_json::{json, Map, Value};
use wp_bridge_core::event::{Event, EventData, EventId};
use wp_bridge_core::sink::{Delivered, DeliveryContext, DeliveryError, Sink};

use self::api::{BatchUpsert, UpsertInput};
use self::throttle::Throttle;
use crate::enrichment::Enrichment;
use crate::http::{self as transport, Answer, Outbound};
use crate::rate_limit::{RateLimiter, SinkRateLimit};
use crate::{Error, Secret};

pub use notes::{MemoryNoteIdStore, NoteIdStore, StateNoteIdStore};

/// What a value put in a URL path keeps as is: RFC 3986's unreserved
/// characters.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'_')
    .remove(b'~');

/// HubSpot's default association from a note to a contact.
const NOTE_TO_CONTACT: u32 = 202;

/// How contacts are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ContactWrite {
    /// `POST /crm/v3/objects/contacts/batch/upsert` with `idProperty: email`:
    /// one idempotent call.
    #[default]
    BatchUpsert,
    /// `POST /crm/v3/objects/contacts`; on `409 Contact already exists.
    /// Existing ID: N`, `PATCH` that contact. For portals or proxies where
    /// the batch endpoint is not available.
    CreateThenUpdate,
}

/// Settings of a [`HubSpotSink`].
#[derive(Debug, Clone)]
#[must_use]
pub struct HubSpotConfig {
    token: Secret,
    base_url: String,
    timeout: Duration,
    rate_limit: SinkRateLimit,
    low_water_percent: u32,
    max_retry_after: Duration,
    contact_write: ContactWrite,
    deal_id_property: String,
    deal_id_prefix: String,
    deal_pipeline: String,
    deal_stage: String,
    comment_notes: bool,
    lead_notes: bool,
    enrichment_key: String,
}

impl HubSpotConfig {
    /// Calls HubSpot with this private-app token.
    pub fn new(token: impl Into<Secret>) -> Self {
        Self {
            token: token.into(),
            base_url: "https://api.hubapi.com".to_owned(),
            timeout: Duration::from_secs(10),
            rate_limit: SinkRateLimit::at_most(100, Duration::from_secs(10)),
            low_water_percent: 10,
            max_retry_after: Duration::from_secs(15 * 60),
            contact_write: ContactWrite::BatchUpsert,
            deal_id_property: "wc_order_id".to_owned(),
            deal_id_prefix: String::new(),
            deal_pipeline: "default".to_owned(),
            deal_stage: "closedwon".to_owned(),
            comment_notes: true,
            lead_notes: true,
            enrichment_key: "openai".to_owned(),
        }
    }

    /// The API's base URL (default `https://api.hubapi.com`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Each call, connect to last byte (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The steady pace (default at most 100 calls in any 10 s: the
    /// Free/Starter private-app limit; Professional and Enterprise portals
    /// allow 190).
    pub fn rate_limit(mut self, limit: SinkRateLimit) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Start slowing down when `X-HubSpot-RateLimit-Remaining` falls to this
    /// share of `-Max`, in percent (default 10).
    pub fn slow_down_below_percent(mut self, percent: u32) -> Self {
        self.low_water_percent = percent.min(100);
        self
    }

    /// The longest `Retry-After` passed on to the worker (default 15 min).
    pub fn max_retry_after(mut self, limit: Duration) -> Self {
        self.max_retry_after = limit;
        self
    }

    /// How contacts are written (default [`ContactWrite::BatchUpsert`]).
    pub fn contact_write(mut self, mode: ContactWrite) -> Self {
        self.contact_write = mode;
        self
    }

    /// The deal property holding the WooCommerce order id (default
    /// `wc_order_id`). Create it in HubSpot as a single-line text property
    /// with "unique values" on before the first order.
    pub fn deal_id_property(mut self, name: impl Into<String>) -> Self {
        self.deal_id_property = name.into();
        self
    }

    /// Put before the order id in the unique property (default none); set
    /// one per shop when several shops share a portal, or their order
    /// numbers collide.
    pub fn deal_id_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.deal_id_prefix = prefix.into();
        self
    }

    /// The pipeline and stage ids new deals get (default `default` /
    /// `closedwon`).
    pub fn deal_stage(mut self, pipeline: impl Into<String>, stage: impl Into<String>) -> Self {
        self.deal_pipeline = pipeline.into();
        self.deal_stage = stage.into();
        self
    }

    /// Whether comments become notes (default on; off delivers comments
    /// without writing anything).
    pub fn comment_notes(mut self, on: bool) -> Self {
        self.comment_notes = on;
        self
    }

    /// Whether a lead also gets a note with its form fields (default on).
    pub fn lead_notes(mut self, on: bool) -> Self {
        self.lead_notes = on;
        self
    }

    /// The enricher whose output goes into notes (default `openai`).
    pub fn enrichment_key(mut self, name: impl Into<String>) -> Self {
        self.enrichment_key = name.into();
        self
    }
}

/// Writes events into HubSpot as contacts, deals and notes.
#[derive(Clone)]
pub struct HubSpotSink {
    base: String,
    token: Secret,
    out: Outbound,
    throttle: Arc<Throttle>,
    notes: Arc<dyn NoteIdStore>,
    config: HubSpotConfig,
}

impl fmt::Debug for HubSpotSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubSpotSink")
            .field("base", &self.base)
            .field("token", &self.token)
            .field("limiter", &self.out.limiter)
            .field("contact_write", &self.config.contact_write)
            .field("notes", &self.notes)
            .finish_non_exhaustive()
    }
}

impl HubSpotSink {
    /// A sink with its own rate limiter and an in-memory note id store.
    /// Must be called within a tokio runtime.
    pub fn new(config: HubSpotConfig) -> Result<Self, Error> {
        config.rate_limit.validate("HubSpot rate limit")?;
        let limiter = RateLimiter::new(config.rate_limit).labelled("hubspot");
        Self::with_limiter(config, limiter)
    }

    /// A sink drawing on `limiter`: share one between every sink using the
    /// same portal, since all its private apps share one budget.
    pub fn with_limiter(config: HubSpotConfig, limiter: RateLimiter) -> Result<Self, Error> {
        if config.token.is_blank() {
            return Err(Error::config(
                "HubSpot token",
                "it is empty: create a private app in HubSpot (Settings › Integrations › Private apps) and copy its access token",
            ));
        }
        if config.deal_id_property.trim().is_empty() {
            return Err(Error::config(
                "HubSpot deal id property",
                "it is empty: name the unique deal property that holds the order id",
            ));
        }
        let base = transport::endpoint(&config.base_url, "HubSpot base URL")?
            .as_str()
            .trim_end_matches('/')
            .to_owned();
        // A pause longer than a delivery may wait for a permit would hold
        // the worker's lease too long.
        let max_pause = limiter.limit().max_wait();
        Ok(Self {
            base,
            token: config.token.clone(),
            out: Outbound {
                client: transport::client(config.timeout)?,
                limiter,
                target: "HubSpot",
                timeout: config.timeout,
            },
            throttle: Arc::new(Throttle::new(config.low_water_percent, max_pause)),
            notes: Arc::new(MemoryNoteIdStore::default()),
            config,
        })
    }

    /// Keeps note ids in `store` (default: in memory, forgotten on restart).
    #[must_use]
    pub fn with_note_store(mut self, store: Arc<dyn NoteIdStore>) -> Self {
        self.notes = store;
        self
    }

    async fn call<B: Serialize + Sync>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        ctx: &DeliveryContext,
    ) -> Result<Answer, DeliveryError> {
        self.throttle.wait().await;
        let mut request = self
            .out
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.token.expose());
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = self.out.send(request, ctx).await?;
        self.throttle.observe(&answer.headers);
        Ok(answer)
    }

    async fn upsert_contact(
        &self,
        email: &str,
        properties: Map<String, Value>,
        ctx: &DeliveryContext,
    ) -> Result<String, DeliveryError> {
        let max = self.config.max_retry_after;
        match self.config.contact_write {
            ContactWrite::BatchUpsert => {
                let body = BatchUpsert {
                    inputs: vec![UpsertInput {
                        id_property: "email".into(),
                        id: email.to_owned(),
                        properties,
                    }],
                };
                let answer = self
                    .call(
                        Method::POST,
                        "/crm/v3/objects/contacts/batch/upsert",
                        Some(&body),
                        ctx,
                    )
                    .await?;
                api::upserted_id(&answer, "upserting the contact", max, SystemTime::now())
            }
            ContactWrite::CreateThenUpdate => {
                let mut create = properties.clone();
                create.insert("email".into(), email.into());
                let answer = self
                    .call(
                        Method::POST,
                        "/crm/v3/objects/contacts",
                        Some(&json!({ "properties": create })),
                        ctx,
                    )
                    .await?;
                if answer.status != StatusCode::CONFLICT {
                    return api::object_id(&answer, "creating the contact", max, SystemTime::now());
                }
                let path = match api::existing_id(&answer) {
                    Some(id) if properties.is_empty() => return Ok(id),
                    Some(id) => format!("/crm/v3/objects/contacts/{id}"),
                    None => format!(
                        "/crm/v3/objects/contacts/{}?idProperty=email",
                        utf8_percent_encode(email, PATH_SEGMENT)
                    ),
                };
                let answer = self
                    .call(
                        Method::PATCH,
                        &path,
                        Some(&json!({ "properties": properties })),
                        ctx,
                    )
                    .await?;
                api::object_id(
                    &answer,
                    "updating the existing contact",
                    max,
                    SystemTime::now(),
                )
            }
        }
    }

    async fn upsert_deal(
        &self,
        order_id: u64,
        properties: Map<String, Value>,
        ctx: &DeliveryContext,
    ) -> Result<String, DeliveryError> {
        let body = BatchUpsert {
            inputs: vec![UpsertInput {
                id_property: self.config.deal_id_property.clone(),
                id: format!("{}{order_id}", self.config.deal_id_prefix),
                properties,
            }],
        };
        let answer = self
            .call(
                Method::POST,
                "/crm/v3/objects/deals/batch/upsert",
                Some(&body),
                ctx,
            )
            .await?;
        api::upserted_id(
            &answer,
            "upserting the deal",
            self.config.max_retry_after,
            SystemTime::now(),
        )
    }

    async fn associate_deal(
        &self,
        deal: &str,
        contact: &str,
        ctx: &DeliveryContext,
    ) -> Result<(), DeliveryError> {
        let path = format!("/crm/v4/objects/deals/{deal}/associations/default/contacts/{contact}");
        let answer = self.call(Method::PUT, &path, None::<&Value>, ctx).await?;
        if answer.status.is_success() {
            return Ok(());
        }
        Err(api::failure(
            &answer,
            "associating the deal with the contact",
            self.config.max_retry_after,
            SystemTime::now(),
        ))
    }

    async fn write_note(
        &self,
        event_id: &EventId,
        html: String,
        timestamp: String,
        contact: Option<&str>,
        ctx: &DeliveryContext,
    ) -> Result<String, DeliveryError> {
        let max = self.config.max_retry_after;
        let known = self.notes.get(event_id).await.map_err(|e| {
            DeliveryError::retryable(format!(
                "{e}; not writing the note until it answers, so no second note is created"
            ))
        })?;
        let properties = json!({ "hs_timestamp": timestamp, "hs_note_body": html });
        if let Some(id) = known {
            let answer = self
                .call(
                    Method::PATCH,
                    &format!("/crm/v3/objects/notes/{id}"),
                    Some(&json!({ "properties": properties })),
                    ctx,
                )
                .await?;
            if answer.status != StatusCode::NOT_FOUND {
                return api::object_id(&answer, "updating the note", max, SystemTime::now());
            }
            tracing::info!(note_id = %id, "the event's note was deleted in HubSpot; creating it again");
        }
        let mut body = json!({ "properties": properties });
        if let Some(contact) = contact {
            body["associations"] = json!([{
                "to": { "id": contact },
                "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_CONTACT }],
            }]);
        }
        let answer = self
            .call(Method::POST, "/crm/v3/objects/notes", Some(&body), ctx)
            .await?;
        let id = api::object_id(&answer, "creating the note", max, SystemTime::now())?;
        if let Err(err) = self.notes.put(event_id, &id).await {
            tracing::warn!(error = %err, note_id = %id, "could not remember the note id; a replay of this event would add a second note");
        }
        Ok(id)
    }
}

#[async_trait]
impl Sink for HubSpotSink {
    async fn deliver(
        &self,
        event: &Event,
        ctx: &DeliveryContext,
    ) -> Result<Delivered, DeliveryError> {
        let enrichment = Enrichment::from_context(ctx, &self.config.enrichment_key);
        let reference = match &event.data {
            EventData::LeadCreated(lead) => {
                let Some(email) = records::lead_email(lead) else {
                    return Err(DeliveryError::permanent(
                        "the lead has no email address, and HubSpot contacts are matched by email: add an email field to the form, or do not route lead.created to HubSpot",
                    ));
                };
                let contact = self
                    .upsert_contact(&email, records::lead_contact(lead), ctx)
                    .await?;
                if self.config.lead_notes {
                    let html = records::lead_note(lead, enrichment.as_ref());
                    let at = records::utc(lead.created_at);
                    let note = self
                        .write_note(&event.event_id, html, at, Some(&contact), ctx)
                        .await?;
                    format!("contact/{contact} note/{note}")
                } else {
                    format!("contact/{contact}")
                }
            }
            EventData::OrderCreated(order) => {
                let contact = self
                    .upsert_contact(&order.customer.email, records::order_contact(order), ctx)
                    .await?;
                let properties =
                    records::order_deal(order, &self.config.deal_pipeline, &self.config.deal_stage);
                let deal = self.upsert_deal(order.id, properties, ctx).await?;
                self.associate_deal(&deal, &contact, ctx).await?;
                format!("contact/{contact} deal/{deal}")
            }
            EventData::CommentCreated(comment) => {
                if !self.config.comment_notes {
                    tracing::debug!("comment notes are off; nothing written to HubSpot");
                    return Ok(Delivered::default());
                }
                let email = comment
                    .author
                    .email
                    .as_deref()
                    .map(str::trim)
                    .filter(|e| !e.is_empty());
                let contact = match email {
                    // Only the email: a display name on a blog is no reason
                    // to rename a CRM contact.
                    Some(email) => Some(self.upsert_contact(email, Map::new(), ctx).await?),
                    None => None,
                };
                let html = records::comment_note(&event.site, comment, enrichment.as_ref());
                let at = records::utc(comment.created_at);
                let note = self
                    .write_note(&event.event_id, html, at, contact.as_deref(), ctx)
                    .await?;
                match contact {
                    Some(contact) => format!("contact/{contact} note/{note}"),
                    None => format!("note/{note}"),
                }
            }
        };
        Ok(Delivered {
            reference: Some(reference),
            output: None,
        })
    }
}
