//! Why the gateway refused a request, as a stable machine-readable code.
//!
//! Every rejecting layer answers with [`Rejection::into_response`] and leaves
//! the `Rejection` in the response extensions, so a single metrics layer can
//! count `rejected{reason}` without every layer knowing about metrics.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use http::{header, HeaderValue, StatusCode};
use serde::Serialize;

use crate::event::FieldError;
use crate::response::{json_response, GatewayResponse};

/// Stable, snake_case codes used in 4xx/5xx bodies and as metric labels.
///
/// The string forms never change once released; senders may match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// A required header (`X-WP-Signature`, `X-WP-Timestamp`, `X-Event-Id`) is absent.
    MissingHeader,
    /// `X-WP-Timestamp` is not a plain decimal number of seconds.
    InvalidTimestamp,
    /// The body is not valid JSON (or nests deeper than the parser allows).
    InvalidJson,
    /// The body could not be read to its end (the client went away or sent
    /// a malformed chunked body).
    IncompleteBody,
    /// `X-Event-Id` differs from the signed body's `event_id`.
    EventIdMismatch,
    /// The body is JSON but breaks the event schema; `errors` lists each field.
    InvalidEvent,
    /// The timestamp lies outside the accepted window (replay protection).
    StaleTimestamp,
    /// No configured secret produces the given signature.
    BadSignature,
    /// The method is not allowed on this path.
    MethodNotAllowed,
    /// No such route.
    NotFound,
    /// The body exceeds the configured limit.
    PayloadTooLarge,
    /// The content type is not JSON.
    UnsupportedMediaType,
    /// The `event` field names a type the gateway does not know.
    UnknownEventType,
    /// The queue is over its bound; retry after the given delay.
    Overloaded,
    /// The same event id is being ingested by a concurrent request; retry shortly.
    DuplicateInProgress,
    /// A backing store did not answer; nothing was accepted, retry later.
    StorageUnavailable,
    /// An admin request's parameters are malformed.
    InvalidRequest,
    /// An admin request without the right token.
    Unauthorized,
    /// The client's address is not on the allowlist.
    IpNotAllowed,
    /// The request (its body, most likely) did not arrive in time.
    RequestTimeout,
}

impl ErrorCode {
    /// The wire form, e.g. `"bad_signature"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MissingHeader => "missing_header",
            Self::InvalidTimestamp => "invalid_timestamp",
            Self::InvalidJson => "invalid_json",
            Self::IncompleteBody => "incomplete_body",
            Self::EventIdMismatch => "event_id_mismatch",
            Self::InvalidEvent => "invalid_event",
            Self::StaleTimestamp => "stale_timestamp",
            Self::BadSignature => "bad_signature",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::NotFound => "not_found",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::UnknownEventType => "unknown_event_type",
            Self::Overloaded => "overloaded",
            Self::DuplicateInProgress => "duplicate_in_progress",
            Self::StorageUnavailable => "storage_unavailable",
            Self::InvalidRequest => "invalid_request",
            Self::Unauthorized => "unauthorized",
            Self::IpNotAllowed => "ip_not_allowed",
            Self::RequestTimeout => "request_timeout",
        }
    }

    /// The HTTP status this code is answered with.
    pub const fn status(self) -> StatusCode {
        match self {
            Self::MissingHeader
            | Self::InvalidTimestamp
            | Self::InvalidJson
            | Self::IncompleteBody
            | Self::EventIdMismatch
            | Self::InvalidEvent
            | Self::InvalidRequest => StatusCode::BAD_REQUEST,
            Self::StaleTimestamp | Self::BadSignature | Self::Unauthorized => {
                StatusCode::UNAUTHORIZED
            }
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::IpNotAllowed => StatusCode::FORBIDDEN,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::UnknownEventType => StatusCode::UNPROCESSABLE_ENTITY,
            // 429 rather than 409: every sender retries 429 and honours Retry-After,
            // and the retry will then be answered 200 duplicate.
            Self::DuplicateInProgress => StatusCode::TOO_MANY_REQUESTS,
            Self::Overloaded | Self::StorageUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused request: the code, a human-readable message and, for schema
/// errors, every failing field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    code: ErrorCode,
    message: Cow<'static, str>,
    errors: Vec<FieldError>,
    retry_after: Option<Duration>,
}

#[derive(Serialize)]
struct RejectionBody<'a> {
    status: &'static str,
    error: ErrorCode,
    message: &'a str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

impl Rejection {
    /// A rejection with a message for humans.
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// Attaches the failing fields of an `invalid_event` rejection.
    #[must_use]
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// Asks the sender to wait before retrying (`Retry-After`, whole seconds, at least 1).
    #[must_use]
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// The machine-readable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// The message for humans.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The failing fields (empty unless the code is `invalid_event`).
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// The JSON response; the rejection itself rides along in the extensions.
    pub fn into_response(self) -> GatewayResponse {
        let body = RejectionBody {
            status: "rejected",
            error: self.code,
            message: &self.message,
            errors: &self.errors,
        };
        let mut response = json_response(self.code.status(), &body);
        if let Some(after) = self.retry_after {
            let secs = after.as_secs().max(1);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response.extensions_mut().insert(self);
        response
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Rejection {}
