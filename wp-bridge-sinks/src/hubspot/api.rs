//! HubSpot CRM v3 shapes and what its answers mean.
//!
//! Errors come as `{status, message, correlationId, category, errors[]}`,
//! any field possibly missing; 429s use another shape
//! (`{errorType: "RATE_LIMIT", policyName, …}`). Batch writes answer `207`
//! with `numErrors` and `errors[]` when an input failed.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use wp_bridge_core::sink::DeliveryError;

use crate::http::{capped, is_transient, retry_after_header, snippet, Answer};

/// `POST /crm/v3/objects/{type}/batch/upsert` body.
#[derive(Debug, Serialize)]
pub(crate) struct BatchUpsert {
    pub(crate) inputs: Vec<UpsertInput>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpsertInput {
    pub(crate) id_property: String,
    pub(crate) id: String,
    pub(crate) properties: Map<String, Value>,
}

/// A record in an answer; only its id matters here.
#[derive(Debug, Deserialize)]
pub(crate) struct SimpleObject {
    pub(crate) id: String,
}

/// A batch answer (`200` or `207`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BatchResponse {
    #[serde(default)]
    pub(crate) results: Vec<SimpleObject>,
    #[serde(default)]
    pub(crate) errors: Vec<ErrorBody>,
}

/// HubSpot's error body, also the shape of each `errors[]` entry of a
/// batch answer. Every field is optional, as HubSpot documents.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorBody {
    pub(crate) message: Option<String>,
    pub(crate) correlation_id: Option<String>,
    pub(crate) category: Option<String>,
    #[serde(default)]
    pub(crate) errors: Vec<ErrorDetail>,
    pub(crate) policy_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorDetail {
    pub(crate) message: Option<String>,
    #[serde(rename = "in")]
    pub(crate) field: Option<String>,
}

impl ErrorBody {
    /// `CATEGORY: message (field: detail; …) [correlationId …]`, for humans.
    fn describe(&self, fallback: &str) -> String {
        let mut text = String::new();
        if let Some(category) = &self.category {
            text.push_str(category);
            text.push_str(": ");
        }
        text.push_str(self.message.as_deref().unwrap_or(fallback));
        let details: Vec<String> = self
            .errors
            .iter()
            .filter_map(|d| {
                let message = d.message.as_deref()?;
                Some(match &d.field {
                    Some(field) => format!("{field}: {message}"),
                    None => message.to_owned(),
                })
            })
            .collect();
        if !details.is_empty() {
            text.push_str(&format!(" ({})", details.join("; ")));
        }
        if let Some(id) = &self.correlation_id {
            text.push_str(&format!(" [correlationId {id}]"));
        }
        snippet(&text)
    }
}

/// The id in a 409 "Contact already exists. Existing ID: 37765128953".
pub(crate) fn existing_id(answer: &Answer) -> Option<String> {
    let body: ErrorBody = answer.json()?;
    let message = body.message?;
    let rest = &message[message.find("Existing ID:")? + "Existing ID:".len()..];
    let id: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!id.is_empty()).then_some(id)
}

/// The failure an answer that is not a success stands for. `doing` says
/// what was being attempted ("upserting the contact").
pub(crate) fn failure(
    answer: &Answer,
    doing: &str,
    max_retry_after: Duration,
    now: SystemTime,
) -> DeliveryError {
    let status = answer.status;
    let code = status.as_u16();
    let body: ErrorBody = answer.json().unwrap_or_default();
    let what = body.describe(&answer.snippet());
    if code == 429 {
        let policy = body.policy_name.as_deref().unwrap_or("unknown");
        let retry_after = retry_after_header(&answer.headers, now).or_else(|| {
            if policy == "DAILY" {
                Some(until_utc_midnight(now))
            } else {
                interval(&answer.headers)
            }
        });
        return DeliveryError::Retryable {
            message: format!("HubSpot rate limit ({policy} policy) hit while {doing}: {what}"),
            retry_after: capped(retry_after, max_retry_after),
            status_code: Some(code),
        };
    }
    // 477: "migration in progress", which HubSpot clients treat as transient.
    if is_transient(status) || code == 423 || code == 477 {
        return DeliveryError::Retryable {
            message: format!("HubSpot answered {code} while {doing}: {what}"),
            retry_after: capped(retry_after_header(&answer.headers, now), max_retry_after),
            status_code: Some(code),
        };
    }
    let fix = match code {
        300..=399 => "the base URL redirects: set it to https://api.hubapi.com",
        400 => "HubSpot refused the data: check that every property named above exists in the portal (the unique deal property must be created first, with hasUniqueValue)",
        401 => "the private-app token is invalid, expired or revoked: create a new token and update the HubSpot sink's configuration",
        403 => "the private app lacks a scope: grant crm.objects.contacts.write and crm.objects.deals.write (and read) to it",
        404 => "the object or endpoint does not exist: check the base URL and that the portal has the object type",
        409 => "the record conflicts with an existing one",
        _ => "fix the request or the portal, then replay",
    };
    DeliveryError::Permanent {
        message: format!("HubSpot answered {code} while {doing}: {what}: {fix}"),
        status_code: Some(code),
    }
}

/// A batch upsert's answer: the id of its single record, or the failure.
pub(crate) fn upserted_id(
    answer: &Answer,
    doing: &str,
    max_retry_after: Duration,
    now: SystemTime,
) -> Result<String, DeliveryError> {
    if !answer.status.is_success() {
        return Err(failure(answer, doing, max_retry_after, now));
    }
    let code = answer.status.as_u16();
    let Some(batch) = answer.json::<BatchResponse>() else {
        return Err(DeliveryError::Retryable {
            message: format!(
                "HubSpot answered {code} while {doing} with a body that is not a batch result: {}",
                answer.snippet()
            ),
            retry_after: None,
            status_code: Some(code),
        });
    };
    if let Some(record) = batch.results.into_iter().next() {
        return Ok(record.id);
    }
    match batch.errors.first() {
        Some(error) => {
            let what = error.describe("no message");
            let transient = error
                .category
                .as_deref()
                .is_some_and(|c| c == "RATE_LIMITS" || c.contains("INTERNAL"));
            let message =
                format!("HubSpot answered {code} while {doing}: the input failed: {what}");
            Err(if transient {
                DeliveryError::Retryable {
                    message,
                    retry_after: None,
                    status_code: Some(code),
                }
            } else {
                DeliveryError::Permanent {
                    message: format!(
                        "{message}: fix the data or the portal's properties, then replay"
                    ),
                    status_code: Some(code),
                }
            })
        }
        None => Err(DeliveryError::Retryable {
            message: format!("HubSpot answered {code} while {doing} but returned no record"),
            retry_after: None,
            status_code: Some(code),
        }),
    }
}

/// A created or updated record's id.
pub(crate) fn object_id(
    answer: &Answer,
    doing: &str,
    max_retry_after: Duration,
    now: SystemTime,
) -> Result<String, DeliveryError> {
    if !answer.status.is_success() {
        return Err(failure(answer, doing, max_retry_after, now));
    }
    answer
        .json::<SimpleObject>()
        .map(|o| o.id)
        .ok_or_else(|| DeliveryError::Retryable {
            message: format!(
                "HubSpot answered {} while {doing} without a record id: {}",
                answer.status.as_u16(),
                answer.snippet()
            ),
            retry_after: None,
            status_code: Some(answer.status.as_u16()),
        })
}

fn interval(headers: &http::HeaderMap) -> Option<Duration> {
    let ms: u64 = headers
        .get("x-hubspot-ratelimit-interval-milliseconds")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_millis(ms))
}

fn until_utc_midnight(now: SystemTime) -> Duration {
    const DAY: u64 = 86_400;
    let secs = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Duration::from_secs(DAY - secs % DAY)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::{HeaderMap, StatusCode};

    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn the_existing_id_is_read_from_a_409() {
        let conflict = answer(
            409,
            r#"{"status":"error","message":"Contact already exists. Existing ID: 37765128953","correlationId":"2dea5219-07f2-40ce-82ec-9c2e302317a4","category":"CONFLICT"}"#,
        );
        assert_eq!(existing_id(&conflict).as_deref(), Some("37765128953"));
        assert_eq!(existing_id(&answer(409, r#"{"message":"Conflict"}"#)), None);
        assert_eq!(existing_id(&answer(409, "not json")), None);
    }

    #[test]
    fn daily_limits_wait_for_midnight_utc() {
        let ten_to_midnight = SystemTime::UNIX_EPOCH + Duration::from_secs(86_400 * 3 - 600);
        assert_eq!(
            until_utc_midnight(ten_to_midnight),
            Duration::from_secs(600)
        );
    }

    #[test]
    fn an_error_body_with_every_field_missing_still_reads() {
        let err = failure(
            &answer(400, "{}"),
            "upserting the contact",
            Duration::from_secs(60),
            SystemTime::now(),
        );
        assert!(matches!(err, DeliveryError::Permanent { .. }), "{err}");
        let err = failure(
            &answer(502, "<html>Bad gateway</html>"),
            "upserting the contact",
            Duration::from_secs(60),
            SystemTime::now(),
        );
        assert!(err.message().contains("<html>Bad gateway</html>"), "{err}");
    }
}
