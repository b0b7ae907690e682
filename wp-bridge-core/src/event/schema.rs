use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::types::{
    CommentAuthor, CommentCreated, Customer, Event, EventData, EventType, LeadCreated, LineItem,
    OrderCreated,
};
use super::EventId;
use crate::rejection::{ErrorCode, Rejection};

/// One failing field of an event, located by JSON path (`$.data.customer.email`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FieldError {
    /// Where the problem is.
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

/// Size limits applied to every event, so that no payload can make a sink
/// call or a log line unboundedly large.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of objects and arrays anywhere in the body.
    pub max_depth: usize,
    /// Longest short text (names, titles, statuses), in characters.
    pub max_short_text: usize,
    /// Longest long text (comment content, a form field's value), in characters.
    pub max_long_text: usize,
    /// Most line items in an order.
    pub max_line_items: usize,
    /// Most fields in a lead.
    pub max_lead_fields: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 8,
            max_short_text: 512,
            max_long_text: 65_535,
            max_line_items: 500,
            max_lead_fields: 200,
        }
    }
}

const MAX_URL_LEN: usize = 2048;
const MAX_EMAIL_LEN: usize = 254;
const MAX_FIELD_NAME_LEN: usize = 128;
const MAX_FORM_ID_LEN: usize = 64;

/// A body that is JSON and an object, before its fields are checked.
#[derive(Debug)]
pub struct Envelope {
    root: Map<String, Value>,
    limits: Limits,
}

/// Parses the raw body into an [`Envelope`]: `invalid_json` unless it is a
/// JSON object within the nesting limit.
pub fn parse_envelope(body: &[u8], limits: Limits) -> Result<Envelope, Rejection> {
    let value: Value = serde_json::from_slice(body).map_err(|err| {
        Rejection::new(
            ErrorCode::InvalidJson,
            format!("body is not valid JSON: {err}"),
        )
    })?;
    if depth_exceeds(&value, limits.max_depth) {
        return Err(Rejection::new(
            ErrorCode::InvalidJson,
            format!("body nests deeper than {} levels", limits.max_depth),
        ));
    }
    if contains_nul(&value) {
        // No store downstream (Postgres jsonb, most HTTP APIs) accepts U+0000.
        return Err(Rejection::new(
            ErrorCode::InvalidJson,
            "strings must not contain the NUL character (\\u0000)",
        ));
    }
    match value {
        Value::Object(root) => Ok(Envelope { root, limits }),
        _ => Err(Rejection::new(
            ErrorCode::InvalidJson,
            "body must be a JSON object",
        )),
    }
}

/// Parses and validates a body with the default limits.
pub fn parse_event(body: &[u8]) -> Result<Event, Rejection> {
    parse_envelope(body, Limits::default())?.into_event()
}

impl Envelope {
    /// For schemes that sign the event id: takes `event_id` from the signed
    /// header when the body has none, and the event type from `type` when
    /// the body has no `event` (the Standard Webhooks envelope).
    pub fn fill_signed_defaults(&mut self, signed_id: &[u8]) {
        if !self.root.contains_key("event_id") {
            if let Ok(id) = std::str::from_utf8(signed_id) {
                self.root.insert("event_id".into(), Value::from(id));
            }
        }
        if !self.root.contains_key("event") {
            if let Some(kind) = self.root.get("type").cloned() {
                self.root.insert("event".into(), kind);
            }
        }
    }

    /// The body's `event_id` when it is a string (validity is checked later).
    pub fn event_id(&self) -> Option<&str> {
        self.root.get("event_id").and_then(Value::as_str)
    }

    /// Validates every field; `unknown_event_type` (422) for a type the
    /// gateway doesn't know, `invalid_event` (400) listing every bad field.
    pub fn into_event(self) -> Result<Event, Rejection> {
        let mut c = Checker {
            errors: Vec::new(),
            limits: self.limits,
        };
        let root = &self.root;
        let event_type = match root.get("event") {
            Some(Value::String(name)) => match name.parse::<EventType>() {
                Ok(t) => Some(t),
                Err(()) => {
                    let shown: String = name.chars().take(64).collect();
                    return Err(Rejection::new(
                        ErrorCode::UnknownEventType,
                        format!(
                            "unknown event type {shown:?}; known: comment.created, order.created, lead.created"
                        ),
                    ));
                }
            },
            Some(_) => {
                c.fail("$.event", "must be a string");
                None
            }
            None => {
                c.fail("$.event", "is required");
                None
            }
        };
        let event_id = c
            .string(root, "$", "event_id", 128)
            .and_then(|id| match EventId::new(id) {
                Ok(id) => Some(id),
                Err(err) => {
                    c.fail("$.event_id", &err.to_string());
                    None
                }
            });
        let site = c.url(root, "$", "site");
        let data = match (event_type, root.get("data")) {
            (_, None) => {
                c.fail("$.data", "is required");
                None
            }
            (Some(t), Some(Value::Object(data))) => c.data(t, data),
            (_, Some(Value::Object(_))) => None,
            (_, Some(_)) => {
                c.fail("$.data", "must be an object");
                None
            }
        };
        match (event_id, site, data) {
            (Some(event_id), Some(site), Some(data)) if c.errors.is_empty() => Ok(Event {
                event_id,
                site,
                data,
            }),
            _ => Err(Rejection::new(
                ErrorCode::InvalidEvent,
                format!("event has {} invalid field(s)", c.errors.len()),
            )
            .with_errors(c.errors)),
        }
    }
}

fn depth_exceeds(value: &Value, max: usize) -> bool {
    fn depth(value: &Value) -> usize {
        match value {
            Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
            Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }
    // serde_json refuses more than 128 levels, so this recursion is bounded.
    depth(value) > max
}

fn contains_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(contains_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || contains_nul(v)),
        _ => false,
    }
}

struct Checker {
    errors: Vec<FieldError>,
    limits: Limits,
}

impl Checker {
    fn fail(&mut self, path: &str, message: &str) {
        self.errors.push(FieldError {
            path: path.to_owned(),
            message: message.to_owned(),
        });
    }

    fn data(&mut self, t: EventType, data: &Map<String, Value>) -> Option<EventData> {
        match t {
            EventType::CommentCreated => self.comment(data).map(EventData::CommentCreated),
            EventType::OrderCreated => self.order(data).map(EventData::OrderCreated),
            EventType::LeadCreated => self.lead(data).map(EventData::LeadCreated),
        }
    }

    fn comment(&mut self, d: &Map<String, Value>) -> Option<CommentCreated> {
        let p = "$.data";
        let id = self.uint(d, p, "id");
        let post_id = self.uint(d, p, "post_id");
        let author = self.object(d, p, "author").and_then(|a| {
            let ap = "$.data.author";
            let name = self.string(a, ap, "name", self.limits.max_short_text);
            let email = self.optional_email(a, ap, "email");
            Some(CommentAuthor {
                name: name?,
                email: email?,
            })
        });
        let content = self.string(d, p, "content", self.limits.max_long_text);
        let created_at = self.timestamp(d, p, "created_at");
        Some(CommentCreated {
            id: id?,
            post_id: post_id?,
            author: author?,
            content: content?,
            created_at: created_at?,
        })
    }

    fn order(&mut self, d: &Map<String, Value>) -> Option<OrderCreated> {
        let p = "$.data";
        let id = self.uint(d, p, "id");
        let status = self.slug(d, p, "status");
        let total = self.decimal(d, p, "total");
        let currency = self.currency(d, p, "currency");
        let customer = self.object(d, p, "customer").and_then(|c| {
            let cp = "$.data.customer";
            let email = self.email(c, cp, "email");
            let first_name = self.string(c, cp, "first_name", self.limits.max_short_text);
            let last_name = self.string(c, cp, "last_name", self.limits.max_short_text);
            Some(Customer {
                email: email?,
                first_name: first_name?,
                last_name: last_name?,
            })
        });
        let line_items = self.line_items(d);
        let created_at = self.timestamp(d, p, "created_at");
        Some(OrderCreated {
            id: id?,
            status: status?,
            total: total?,
            currency: currency?,
            customer: customer?,
            line_items: line_items?,
            created_at: created_at?,
        })
    }

    fn line_items(&mut self, d: &Map<String, Value>) -> Option<Vec<LineItem>> {
        let items = match d.get("line_items") {
            Some(Value::Array(items)) => items,
            Some(_) => {
                self.fail("$.data.line_items", "must be an array");
                return None;
            }
            None => {
                self.fail("$.data.line_items", "is required");
                return None;
            }
        };
        if items.len() > self.limits.max_line_items {
            self.fail(
                "$.data.line_items",
                &format!("has more than {} items", self.limits.max_line_items),
            );
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let ip = format!("$.data.line_items[{i}]");
            let Value::Object(item) = item else {
                self.fail(&ip, "must be an object");
                ok = false;
                continue;
            };
            let product_id = self.uint(item, &ip, "product_id");
            let name = self.string(item, &ip, "name", self.limits.max_short_text);
            let quantity = self.uint(item, &ip, "quantity");
            if quantity == Some(0) {
                self.fail(&format!("{ip}.quantity"), "must be at least 1");
            }
            let total = self.decimal(item, &ip, "total");
            match (product_id, name, quantity, total) {
                (Some(product_id), Some(name), Some(quantity), Some(total)) => out.push(LineItem {
                    product_id,
                    name,
                    quantity,
                    total,
                }),
                _ => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn lead(&mut self, d: &Map<String, Value>) -> Option<LeadCreated> {
        let p = "$.data";
        let form_id = match d.get("form_id") {
            Some(Value::Number(n)) if n.is_u64() => Some(n.to_string()),
            Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= MAX_FORM_ID_LEN => {
                Some(s.clone())
            }
            Some(_) => {
                self.fail(
                    "$.data.form_id",
                    "must be a non-negative integer or a short non-empty string",
                );
                None
            }
            None => {
                self.fail("$.data.form_id", "is required");
                None
            }
        };
        let form_title = self.string(d, p, "form_title", self.limits.max_short_text);
        let fields = self.lead_fields(d);
        let email = self.optional_email(d, p, "email");
        let source_url = self.url(d, p, "source_url");
        let created_at = self.timestamp(d, p, "created_at");
        Some(LeadCreated {
            form_id: form_id?,
            form_title: form_title?,
            fields: fields?,
            email: email?,
            source_url: source_url?,
            created_at: created_at?,
        })
    }

    fn lead_fields(&mut self, d: &Map<String, Value>) -> Option<BTreeMap<String, String>> {
        let fields = self.object(d, "$.data", "fields")?;
        if fields.len() > self.limits.max_lead_fields {
            self.fail(
                "$.data.fields",
                &format!("has more than {} fields", self.limits.max_lead_fields),
            );
            return None;
        }
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (name, value) in fields {
            let fp = format!("$.data.fields[{}]", serde_json::Value::from(name.as_str()));
            if name.is_empty() || name.chars().count() > MAX_FIELD_NAME_LEN {
                self.fail(
                    &fp,
                    &format!("field names must be 1 to {MAX_FIELD_NAME_LEN} characters"),
                );
                ok = false;
                continue;
            }
            match value {
                Value::String(v) if v.chars().count() <= self.limits.max_long_text => {
                    out.insert(name.clone(), v.clone());
                }
                Value::String(_) => {
                    self.fail(
                        &fp,
                        &format!("is longer than {} characters", self.limits.max_long_text),
                    );
                    ok = false;
                }
                _ => {
                    self.fail(&fp, "must be a string");
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn object<'v>(
        &mut self,
        m: &'v Map<String, Value>,
        parent: &str,
        key: &str,
    ) -> Option<&'v Map<String, Value>> {
        match m.get(key) {
            Some(Value::Object(o)) => Some(o),
            Some(_) => {
                self.fail(&format!("{parent}.{key}"), "must be an object");
                None
            }
            None => {
                self.fail(&format!("{parent}.{key}"), "is required");
                None
            }
        }
    }

    fn string(
        &mut self,
        m: &Map<String, Value>,
        parent: &str,
        key: &str,
        max_chars: usize,
    ) -> Option<String> {
        match m.get(key) {
            Some(Value::String(s)) if s.chars().count() <= max_chars => Some(s.clone()),
            Some(Value::String(_)) => {
                self.fail(
                    &format!("{parent}.{key}"),
                    &format!("is longer than {max_chars} characters"),
                );
                None
            }
            Some(_) => {
                self.fail(&format!("{parent}.{key}"), "must be a string");
                None
            }
            None => {
                self.fail(&format!("{parent}.{key}"), "is required");
                None
            }
        }
    }

    fn uint(&mut self, m: &Map<String, Value>, parent: &str, key: &str) -> Option<u64> {
        match m.get(key) {
            Some(Value::Number(n)) if n.is_u64() => n.as_u64(),
            Some(_) => {
                self.fail(&format!("{parent}.{key}"), "must be a non-negative integer");
                None
            }
            None => {
                self.fail(&format!("{parent}.{key}"), "is required");
                None
            }
        }
    }

    fn checked_string(
        &mut self,
        m: &Map<String, Value>,
        parent: &str,
        key: &str,
        max: usize,
        valid: impl Fn(&str) -> bool,
        expected: &str,
    ) -> Option<String> {
        let s = self.string(m, parent, key, max)?;
        if valid(&s) {
            Some(s)
        } else {
            self.fail(&format!("{parent}.{key}"), expected);
            None
        }
    }

    fn slug(&mut self, m: &Map<String, Value>, parent: &str, key: &str) -> Option<String> {
        self.checked_string(
            m,
            parent,
            key,
            32,
            |s| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_".contains(&b))
            },
            "must be a status slug such as \"processing\"",
        )
    }

    fn decimal(&mut self, m: &Map<String, Value>, parent: &str, key: &str) -> Option<String> {
        self.checked_string(
            m,
            parent,
            key,
            32,
            is_decimal,
            "must be a non-negative decimal string such as \"49.90\"",
        )
    }

    fn currency(&mut self, m: &Map<String, Value>, parent: &str, key: &str) -> Option<String> {
        self.checked_string(
            m,
            parent,
            key,
            3,
            |s| s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()),
            "must be a three-letter ISO 4217 code such as \"EUR\"",
        )
    }

    fn email(&mut self, m: &Map<String, Value>, parent: &str, key: &str) -> Option<String> {
        self.checked_string(
            m,
            parent,
            key,
            MAX_EMAIL_LEN,
            is_email,
            "must be an email address",
        )
    }

    /// `Some(None)` when absent or null, `None` when present but invalid.
    fn optional_email(
        &mut self,
        m: &Map<String, Value>,
        parent: &str,
        key: &str,
    ) -> Option<Option<String>> {
        match m.get(key) {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(s)) if s.is_empty() => Some(None),
            Some(_) => self.email(m, parent, key).map(Some),
        }
    }

    fn url(&mut self, m: &Map<String, Value>, parent: &str, key: &str) -> Option<String> {
        self.checked_string(
            m,
            parent,
            key,
            MAX_URL_LEN,
            |s| {
                url::Url::parse(s)
                    .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                    .unwrap_or(false)
            },
            "must be an absolute http(s) URL",
        )
    }

    fn timestamp(
        &mut self,
        m: &Map<String, Value>,
        parent: &str,
        key: &str,
    ) -> Option<OffsetDateTime> {
        let s = self.string(m, parent, key, 64)?;
        match OffsetDateTime::parse(&s, &Rfc3339) {
            Ok(t) => Some(t),
            Err(_) => {
                self.fail(
                    &format!("{parent}.{key}"),
                    "must be an RFC 3339 timestamp such as \"2026-12-04T10:00:00Z\"",
                );
                None
            }
        }
    }
}

/// `123`, `49.90`: digits, optionally a point and up to 8 decimals.
fn is_decimal(s: &str) -> bool {
    let (int, frac) = match s.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (s, None),
    };
    let digits = |p: &str, max: usize| {
        !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit())
    };
    digits(int, 15) && frac.is_none_or(|f| digits(f, 8))
}

/// A pragmatic address check: one `@`, a non-empty local part, a dotted
/// domain, no whitespace or control characters. Deliverability is the
/// sink's business.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let clean = |p: &str| {
        !p.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '@')
    };
    !local.is_empty()
        && local.len() <= 64
        && clean(local)
        && clean(domain)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(data: &str) -> Result<Event, Rejection> {
        let body = format!(
            r#"{{"event":"order.created","event_id":"e-1","site":"https://shop.example","data":{data}}}"#
        );
        parse_event(body.as_bytes())
    }

    const GOOD_ORDER: &str = r#"{"id":42,"status":"processing","total":"49.90","currency":"EUR",
        "customer":{"email":"ada@example.com","first_name":"Ada","last_name":"Lovelace"},
        "line_items":[{"product_id":7,"name":"Mug","quantity":2,"total":"49.90"}],
        "created_at":"2026-12-04T10:00:00+01:00"}"#;

    #[test]
    fn a_complete_order_is_typed() {
        let event = order(GOOD_ORDER).unwrap();
        let EventData::OrderCreated(o) = event.data else {
            panic!("not an order")
        };
        assert_eq!(o.total, "49.90");
        assert_eq!(o.line_items[0].quantity, 2);
        assert_eq!(o.customer.email, "ada@example.com");
    }

    #[test]
    fn every_failing_field_is_listed_by_path() {
        let err = order(
            r#"{"id":-1,"status":"Processing!","total":49.9,"currency":"eur",
            "customer":{"email":"nope","first_name":"A"},
            "line_items":[{"product_id":1,"name":"x","quantity":0,"total":"1"}, 5],
            "created_at":"yesterday"}"#,
        )
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidEvent);
        let paths: Vec<&str> = err.errors().iter().map(|e| e.path.as_str()).collect();
        for expected in [
            "$.data.id",
            "$.data.status",
            "$.data.total",
            "$.data.currency",
            "$.data.customer.email",
            "$.data.customer.last_name",
            "$.data.line_items[0].quantity",
            "$.data.line_items[1]",
            "$.data.created_at",
        ] {
            assert!(
                paths.contains(&expected),
                "{expected} missing from {paths:?}"
            );
        }
    }

    #[test]
    fn unknown_type_is_422_and_non_object_is_invalid_json() {
        let err = parse_event(
            br#"{"event":"user.deleted","event_id":"x","site":"https://a.b","data":{}}"#,
        )
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::UnknownEventType);
        assert_eq!(err.status(), http::StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            parse_event(b"[1]").unwrap_err().code(),
            ErrorCode::InvalidJson
        );
        assert_eq!(
            parse_event(b"{\"a\":").unwrap_err().code(),
            ErrorCode::InvalidJson
        );
    }

    #[test]
    fn deep_nesting_is_refused_without_recursing_forever() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            parse_event(deep.as_bytes()).unwrap_err().code(),
            ErrorCode::InvalidJson
        );
        let nine = r#"{"event":"lead.created","x":[[[[[[[[[1]]]]]]]]]}"#;
        assert_eq!(
            parse_event(nine.as_bytes()).unwrap_err().code(),
            ErrorCode::InvalidJson
        );
    }

    #[test]
    fn nul_characters_are_refused_anywhere() {
        for body in [
            r#"{"event":"lead.created","x":"a\u0000b"}"#,
            r#"{"event":"lead.created","x":{"a\u0000":1}}"#,
        ] {
            assert_eq!(
                parse_event(body.as_bytes()).unwrap_err().code(),
                ErrorCode::InvalidJson,
                "{body}"
            );
        }
    }

    #[test]
    fn oversized_lists_and_texts_are_refused() {
        let items = vec![r#"{"product_id":1,"name":"x","quantity":1,"total":"1"}"#; 501].join(",");
        let data = GOOD_ORDER.replace(
            r#"[{"product_id":7,"name":"Mug","quantity":2,"total":"49.90"}]"#,
            &format!("[{items}]"),
        );
        let err = order(&data).unwrap_err();
        assert_eq!(err.errors()[0].path, "$.data.line_items");

        let long = "x".repeat(600);
        let data = GOOD_ORDER.replace("\"Mug\"", &format!("\"{long}\""));
        let err = order(&data).unwrap_err();
        assert_eq!(err.errors()[0].path, "$.data.line_items[0].name");
    }

    #[test]
    fn decimals_and_emails() {
        for ok in ["0", "49.90", "1234567.12345678"] {
            assert!(is_decimal(ok), "{ok}");
        }
        for bad in ["", ".5", "5.", "-1", "1e3", "1.123456789", "1,5"] {
            assert!(!is_decimal(bad), "{bad}");
        }
        assert!(is_email("ada+shop@example.co.uk"));
        for bad in [
            "ada",
            "@example.com",
            "ada@localhost",
            "a b@example.com",
            "ada@ex..com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
