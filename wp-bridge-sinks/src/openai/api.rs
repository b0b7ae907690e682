//! Chat Completions shapes and what OpenAI's answers mean.
//!
//! Errors are `{"error": {"message", "type", "param", "code"}}`. Two 429s
//! must be told apart by `code`/`type`, not by status: `rate_limit_exceeded`
//! passes, `insufficient_quota` does not until someone pays.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use wp_bridge_core::sink::DeliveryError;

use crate::enrichment::TokenUsage;
use crate::http::{
    capped, go_duration, is_transient, retry_after_header, retry_after_ms, snippet, Answer,
};
use crate::Secret;

/// `POST /chat/completions` body.
#[derive(Debug, Serialize)]
pub(crate) struct ChatRequest<'a> {
    pub(crate) model: &'a str,
    pub(crate) messages: [Message<'a>; 2],
    pub(crate) max_completion_tokens: u64,
    pub(crate) response_format: ResponseFormat,
    /// Nothing is kept on OpenAI's side for its dashboards or evals.
    pub(crate) store: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct Message<'a> {
    pub(crate) role: &'static str,
    pub(crate) content: &'a str,
}

#[derive(Debug, Serialize)]
pub(crate) struct ResponseFormat {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
}

/// The parts of a chat completion that matter here.
#[derive(Debug, Deserialize)]
pub(crate) struct ChatCompletion {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) model: Option<String>,
    #[serde(default)]
    pub(crate) choices: Vec<Choice>,
    #[serde(default)]
    pub(crate) usage: Option<TokenUsage>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Choice {
    pub(crate) message: ChoiceMessage,
    #[serde(default)]
    pub(crate) finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChoiceMessage {
    #[serde(default)]
    pub(crate) content: Option<String>,
    #[serde(default)]
    pub(crate) refusal: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorEnvelope {
    #[serde(default)]
    error: ApiError,
}

#[derive(Debug, Default, Deserialize)]
struct ApiError {
    message: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    code: Option<String>,
}

/// The failure an answer that is not a success stands for. `key` is
/// scrubbed from anything quoted, as is anything that looks like a key:
/// OpenAI's 401 message repeats part of the key it was sent.
pub(crate) fn failure(
    answer: &Answer,
    key: &Secret,
    max_retry_after: Duration,
    now: SystemTime,
) -> DeliveryError {
    let status = answer.status;
    let code = status.as_u16();
    let error = answer.json::<ErrorEnvelope>().unwrap_or_default().error;
    let error_code = error
        .code
        .as_deref()
        .or(error.kind.as_deref())
        .unwrap_or("");
    let said = scrub(error.message.as_deref().unwrap_or(&answer.snippet()), key);
    let should_retry = answer
        .headers
        .get("x-should-retry")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().eq_ignore_ascii_case("true"));
    let permanent = |message: String| DeliveryError::Permanent {
        message,
        status_code: Some(code),
    };

    let insufficient_quota = error.code.as_deref() == Some("insufficient_quota")
        || error.kind.as_deref() == Some("insufficient_quota");
    if insufficient_quota {
        return permanent(format!(
            "OpenAI answered {code} insufficient_quota: the account is out of credit or over its monthly spend limit; add credit or raise the limit in OpenAI's billing settings, then replay"
        ));
    }
    if code == 401 {
        return permanent(format!(
            "OpenAI answered 401 {error_code}: the API key was refused (revoked, mistyped, or of another project); put a valid key in the OpenAI sink's configuration, then replay"
        ));
    }
    if code == 429 && said.starts_with("Request too large") {
        return permanent(format!(
            "OpenAI answered 429 {error_code}: {said}: lower the input token budget, then replay"
        ));
    }
    let retryable = match should_retry {
        // OpenAI's explicit word overrides the status, except for the
        // refusals above that no retry can fix.
        Some(told) => told,
        None => is_transient(status) || code == 409,
    };
    if retryable {
        let retry_after = retry_after_ms(&answer.headers)
            .or_else(|| retry_after_header(&answer.headers, now))
            .or_else(|| {
                // The reset headers describe rate limits, not outages.
                (code == 429)
                    .then(|| reset_after(&answer.headers, error.kind.as_deref()))
                    .flatten()
            });
        return DeliveryError::Retryable {
            message: format!("OpenAI answered {code} {error_code}: {said}"),
            retry_after: capped(retry_after, max_retry_after),
            status_code: Some(code),
        };
    }
    let fix = match code {
        400 | 422 => "the request was refused: check the model name and its parameters",
        403 => "the key's project may not use this model or region",
        404 => {
            "the model or endpoint does not exist for this key: check the model name and base URL"
        }
        300..=399 => "the base URL redirects: set it to https://api.openai.com/v1",
        _ if should_retry == Some(false) => "OpenAI asked not to retry this request",
        _ => "fix the request, then replay",
    };
    permanent(format!(
        "OpenAI answered {code} {error_code}: {said}: {fix}"
    ))
}

/// When the limit that was hit resets: `x-ratelimit-reset-tokens` for a
/// token limit, `-requests` for a request limit, the later of the two when
/// the error does not say.
fn reset_after(headers: &http::HeaderMap, kind: Option<&str>) -> Option<Duration> {
    let reset = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(go_duration)
    };
    let tokens = reset("x-ratelimit-reset-tokens");
    let requests = reset("x-ratelimit-reset-requests");
    match kind {
        Some("tokens") => tokens.or(requests),
        Some("requests") => requests.or(tokens),
        _ => tokens.max(requests),
    }
}

/// `text` without the key and without anything shaped like an OpenAI key.
pub(crate) fn scrub(text: &str, key: &Secret) -> String {
    let text = if key.expose().len() >= 8 {
        text.replace(key.expose(), "[redacted]")
    } else {
        text.to_owned()
    };
    let words: Vec<String> = text
        .split(' ')
        .map(|word| {
            if word.starts_with("sk-") {
                "[redacted]".to_owned()
            } else {
                word.to_owned()
            }
        })
        .collect();
    snippet(&words.join(" "))
}

/// `X-Client-Request-Id` must be printable ASCII; an event id with other
/// bytes is percent-encoded, which keeps it unique and recognisable.
pub(crate) fn client_request_id(event_id: &str) -> String {
    event_id
        .bytes()
        .map(|b| {
            if b.is_ascii_graphic() && b != b'%' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::{HeaderMap, HeaderValue, StatusCode};

    use super::*;

    fn answer(status: u16, headers: &[(&'static str, &str)], body: &str) -> Answer {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            headers: map,
            body: Bytes::from(body.to_owned()),
        }
    }

    fn classify(a: &Answer) -> DeliveryError {
        failure(
            a,
            &Secret::new("sk-test-0123456789"),
            Duration::from_secs(120),
            SystemTime::now(),
        )
    }

    #[test]
    fn the_reset_header_of_the_exhausted_limit_is_used() {
        let headers = [
            ("x-ratelimit-reset-tokens", "6m0s"),
            ("x-ratelimit-reset-requests", "12ms"),
        ];
        let body = |kind: &str| {
            format!(
                r#"{{"error":{{"message":"Rate limit reached","type":"{kind}","param":null,"code":"rate_limit_exceeded"}}}}"#
            )
        };
        let tokens = classify(&answer(429, &headers, &body("tokens")));
        assert!(
            matches!(tokens, DeliveryError::Retryable { retry_after: Some(d), .. } if d == Duration::from_secs(120)),
            "capped: {tokens:?}"
        );
        let requests = classify(&answer(429, &headers, &body("requests")));
        assert!(
            matches!(requests, DeliveryError::Retryable { retry_after: Some(d), .. } if d == Duration::from_millis(12)),
            "{requests:?}"
        );
    }

    #[test]
    fn x_should_retry_overrides_the_status() {
        let no = classify(&answer(500, &[("x-should-retry", "false")], "{}"));
        assert!(matches!(no, DeliveryError::Permanent { .. }), "{no:?}");
        let yes = classify(&answer(400, &[("x-should-retry", "true")], "{}"));
        assert!(matches!(yes, DeliveryError::Retryable { .. }), "{yes:?}");
        let quota = classify(&answer(
            429,
            &[("x-should-retry", "true")],
            r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":null}}"#,
        ));
        assert!(
            matches!(quota, DeliveryError::Permanent { .. }),
            "{quota:?}"
        );
    }

    #[test]
    fn keys_are_scrubbed_from_quoted_messages() {
        let key = Secret::new("sk-proj-abcdefgh12345678");
        assert_eq!(
            scrub(
                "Incorrect API key provided: sk-proj-****5678. You can find",
                &key
            ),
            "Incorrect API key provided: [redacted] You can find"
        );
        assert_eq!(
            scrub("echo sk-proj-abcdefgh12345678!", &key),
            "echo [redacted]!"
        );
    }

    #[test]
    fn client_request_ids_are_printable_ascii() {
        assert_eq!(client_request_id("evt-1"), "evt-1");
        assert_eq!(client_request_id("é 1%"), "%C3%A9%201%25");
    }
}
