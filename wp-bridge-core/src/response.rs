//! The JSON responses the gateway answers with.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde::Serialize;

use crate::event::{CorrelationId, EventId};

/// The body type of every gateway response.
pub type ResponseBody = Full<Bytes>;

/// A gateway response.
pub type GatewayResponse = Response<ResponseBody>;

/// What the sender is told about an event the gateway has taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Receipt {
    /// The event id from the signed body.
    pub event_id: EventId,
    /// The id that follows the event through logs, queue and sink calls.
    pub correlation_id: CorrelationId,
}

#[derive(Serialize)]
struct ReceiptBody<'a> {
    status: &'static str,
    event_id: &'a EventId,
    correlation_id: &'a CorrelationId,
}

impl Receipt {
    /// `202 {"status":"accepted",…}`: recorded and queued now.
    pub fn accepted_response(&self) -> GatewayResponse {
        self.response(StatusCode::ACCEPTED, "accepted")
    }

    /// `200 {"status":"duplicate",…}`: this event id was accepted before.
    pub fn duplicate_response(&self) -> GatewayResponse {
        self.response(StatusCode::OK, "duplicate")
    }

    fn response(&self, status: StatusCode, word: &'static str) -> GatewayResponse {
        json_response(
            status,
            &ReceiptBody {
                status: word,
                event_id: &self.event_id,
                correlation_id: &self.correlation_id,
            },
        )
    }
}

/// Serializes `body` as the JSON response with `status`.
pub fn json_response<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> GatewayResponse {
    // Our own bodies are plain structs of strings; serialization cannot fail,
    // but an empty object is still a valid answer if it ever did.
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
