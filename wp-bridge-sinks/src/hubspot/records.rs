//! HubSpot property sets built from events: the contact, the deal and the
//! note body.

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};
use wp_bridge_core::event::{CommentCreated, LeadCreated, OrderCreated};

use crate::enrichment::Enrichment;
use crate::text::truncate;

/// HubSpot's limit for `hs_note_body` is 65,536 characters; quoted content
/// is cut well below it to leave room for the markup.
const MAX_NOTE_CONTENT: usize = 60_000;

/// A lead's email: the event's, or else a form field that is clearly one
/// (`email`, `your-email`, `E-mail`) and holds an address.
pub(crate) fn lead_email(lead: &LeadCreated) -> Option<String> {
    if let Some(email) = lead
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        return Some(email.to_owned());
    }
    lead.fields.iter().find_map(|(name, value)| {
        let key = normalize(name);
        let value = value.trim();
        (key.ends_with("email") && value.contains('@') && !value.contains(char::is_whitespace))
            .then(|| value.to_owned())
    })
}

/// Contact properties from a lead's form fields. Only non-empty values are
/// sent, so an upsert never blanks what the CRM already has.
pub(crate) fn lead_contact(lead: &LeadCreated) -> Map<String, Value> {
    let field = |names: &[&str]| {
        lead.fields
            .iter()
            .find(|(name, value)| {
                names.contains(&normalize(name).as_str()) && !value.trim().is_empty()
            })
            .map(|(_, value)| value.trim().to_owned())
    };
    let mut first = field(&["firstname", "fname", "givenname"]);
    let mut last = field(&["lastname", "lname", "surname", "familyname"]);
    if first.is_none() && last.is_none() {
        if let Some(full) = field(&["name", "fullname"]) {
            let (f, l) = split_name(&full);
            first = Some(f);
            last = l;
        }
    }
    let mut properties = Map::new();
    insert(&mut properties, "firstname", first);
    insert(&mut properties, "lastname", last);
    insert(
        &mut properties,
        "phone",
        field(&["phone", "tel", "telephone", "phonenumber", "mobile"]),
    );
    insert(
        &mut properties,
        "company",
        field(&["company", "organization", "organisation"]),
    );
    properties
}

/// Contact properties for an order's customer.
pub(crate) fn order_contact(order: &OrderCreated) -> Map<String, Value> {
    let mut properties = Map::new();
    insert(
        &mut properties,
        "firstname",
        Some(order.customer.first_name.trim().to_owned()),
    );
    insert(
        &mut properties,
        "lastname",
        Some(order.customer.last_name.trim().to_owned()),
    );
    properties
}

/// Deal properties for an order (the unique order property is the upsert
/// id, not repeated here).
pub(crate) fn order_deal(order: &OrderCreated, pipeline: &str, stage: &str) -> Map<String, Value> {
    let customer = format!("{} {}", order.customer.first_name, order.customer.last_name);
    let customer = customer.trim();
    let who = if customer.is_empty() {
        order.customer.email.as_str()
    } else {
        customer
    };
    let mut properties = Map::new();
    properties.insert(
        "dealname".into(),
        format!(
            "Order #{} — {who} ({} {})",
            order.id, order.total, order.currency
        )
        .into(),
    );
    properties.insert("amount".into(), order.total.clone().into());
    properties.insert("pipeline".into(), pipeline.into());
    properties.insert("dealstage".into(), stage.into());
    properties.insert("closedate".into(), utc(order.created_at).into());
    properties
}

/// The note for a comment.
pub(crate) fn comment_note(
    site: &str,
    comment: &CommentCreated,
    enrichment: Option<&Enrichment>,
) -> String {
    let url = format!(
        "{}/?p={}#comment-{}",
        site.trim_end_matches('/'),
        comment.post_id,
        comment.id
    );
    let mut html = format!(
        "<p><strong>Comment</strong> by {} on <a href=\"{}\">{}</a></p><blockquote>{}</blockquote>",
        escape(&comment.author.name),
        escape(&url),
        escape(&url),
        paragraphs(&truncate(&comment.content, MAX_NOTE_CONTENT)),
    );
    html.push_str(&enrichment_html(enrichment));
    html
}

/// The note for a lead: every submitted field.
pub(crate) fn lead_note(lead: &LeadCreated, enrichment: Option<&Enrichment>) -> String {
    let mut budget = MAX_NOTE_CONTENT;
    let mut items = String::new();
    for (name, value) in &lead.fields {
        let value = truncate(value, budget);
        budget = budget.saturating_sub(value.chars().count() + name.chars().count());
        items.push_str(&format!(
            "<li><strong>{}</strong>: {}</li>",
            escape(name),
            escape(&value)
        ));
        if budget == 0 {
            break;
        }
    }
    let mut html = format!(
        "<p><strong>Form submission</strong>: {} (form {}) from <a href=\"{}\">{}</a></p><ul>{items}</ul>",
        escape(&lead.form_title),
        escape(&lead.form_id),
        escape(&lead.source_url),
        escape(&lead.source_url),
    );
    html.push_str(&enrichment_html(enrichment));
    html
}

fn enrichment_html(enrichment: Option<&Enrichment>) -> String {
    let Some(enrichment) = enrichment else {
        return String::new();
    };
    let labels = enrichment.labels();
    if labels.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = labels
        .iter()
        .map(|(label, value)| format!("{label}: {}", escape(value)))
        .collect();
    format!(
        "<p><strong>AI ({})</strong>: {}</p>",
        escape(&enrichment.model),
        parts.join("; ")
    )
}

/// The time in UTC, RFC 3339, as HubSpot's datetime properties take it.
pub(crate) fn utc(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

fn insert(properties: &mut Map<String, Value>, name: &str, value: Option<String>) {
    if let Some(value) = value.filter(|v| !v.is_empty()) {
        properties.insert(name.to_owned(), Value::String(value));
    }
}

/// `Your-E_mail ` → `youremail`; then a leading `your` is dropped
/// (Contact Form 7 names its fields `your-name`, `your-email`).
fn normalize(name: &str) -> String {
    let key: String = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    key.strip_prefix("your").map(str::to_owned).unwrap_or(key)
}

/// "Ada King Lovelace" → ("Ada King", Some("Lovelace")).
fn split_name(full: &str) -> (String, Option<String>) {
    let full = full.split_whitespace().collect::<Vec<_>>().join(" ");
    match full.rsplit_once(' ') {
        Some((first, last)) => (first.to_owned(), Some(last.to_owned())),
        None => (full, None),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn paragraphs(text: &str) -> String {
    escape(text).replace('\n', "<br>")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn lead(email: Option<&str>, fields: &[(&str, &str)]) -> LeadCreated {
        LeadCreated {
            form_id: "12".into(),
            form_title: "Contact us".into(),
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            email: email.map(str::to_owned),
            source_url: "https://shop.example/contact/".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_lead_email_comes_from_the_event_or_an_email_field() {
        assert_eq!(
            lead_email(&lead(Some("a@example.com"), &[])).as_deref(),
            Some("a@example.com")
        );
        assert_eq!(
            lead_email(&lead(Some(""), &[("your-email", " b@example.com ")])).as_deref(),
            Some("b@example.com")
        );
        assert_eq!(
            lead_email(&lead(None, &[("E-mail", "c@example.com")])).as_deref(),
            Some("c@example.com")
        );
        assert_eq!(
            lead_email(&lead(None, &[("email", "not an address")])),
            None
        );
        assert_eq!(lead_email(&lead(None, &[("message", "x@y.z")])), None);
    }

    #[test]
    fn contact_properties_map_common_field_names_and_skip_empty_values() {
        let props = lead_contact(&lead(
            None,
            &[
                ("your-name", "Alan  Mathison Turing"),
                ("Phone", "+44 1"),
                ("company", " "),
            ],
        ));
        assert_eq!(props["firstname"], "Alan Mathison");
        assert_eq!(props["lastname"], "Turing");
        assert_eq!(props["phone"], "+44 1");
        assert!(!props.contains_key("company"));

        let props = lead_contact(&lead(None, &[("first_name", "Ada"), ("name", "ignored")]));
        assert_eq!(props["firstname"], "Ada");
        assert!(!props.contains_key("lastname"));
    }

    #[test]
    fn note_bodies_escape_html() {
        let html = lead_note(&lead(None, &[("msg", "<script>x</script> & \"q\"")]), None);
        assert!(
            html.contains("&lt;script&gt;x&lt;/script&gt; &amp; &quot;q&quot;"),
            "{html}"
        );
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn times_are_sent_in_utc() {
        let at = OffsetDateTime::parse("2026-12-04T10:05:00+01:00", &Rfc3339).unwrap();
        assert_eq!(utc(at), "2026-12-04T09:05:00Z");
    }
}
