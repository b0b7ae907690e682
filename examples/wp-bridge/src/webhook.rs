//! A generic JSON webhook sink: POSTs `{"event_id","correlation_id","event"}`
//! to one URL. 2xx is delivered; 408, 425, 429, 5xx, timeouts and connection
//! errors are retried (honouring `Retry-After` in seconds); any other status
//! is permanent.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::StatusCode;
use serde::Serialize;
use wp_bridge::core::event::Event;
use wp_bridge::core::sink::{Delivered, DeliveryContext, DeliveryError, Sink};

/// See the module docs.
pub(crate) struct WebhookSink {
    client: reqwest::Client,
    url: String,
}

#[derive(Serialize)]
struct Body<'a> {
    event_id: &'a str,
    correlation_id: &'a str,
    event: &'a Event,
}

impl WebhookSink {
    /// Posts to `url` with the given timeout per call.
    pub(crate) fn new(url: String, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { client, url })
    }
}

impl fmt::Debug for WebhookSink {
    // The URL may carry a token: never print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSink").finish_non_exhaustive()
    }
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let secs: u64 = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs.min(3600)))
}

#[async_trait]
impl Sink for WebhookSink {
    async fn deliver(
        &self,
        event: &Event,
        ctx: &DeliveryContext,
    ) -> Result<Delivered, DeliveryError> {
        let mut request = self.client.post(&self.url);
        if let Some(traceparent) = ctx.outbound_traceparent() {
            request = request.header("traceparent", traceparent);
        }
        let sent = request
            .header("x-request-id", ctx.correlation_id.as_str())
            .json(&Body {
                event_id: ctx.event_id.as_str(),
                correlation_id: ctx.correlation_id.as_str(),
                event,
            })
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            // without_url: the URL may hold a token.
            Err(err) => {
                return Err(DeliveryError::retryable(format!(
                    "webhook unreachable: {}",
                    err.without_url()
                )))
            }
        };
        let status = response.status();
        if status.is_success() {
            return Ok(Delivered::default());
        }
        let code = Some(status.as_u16());
        let retryable = status.is_server_error()
            || matches!(
                status,
                StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_EARLY | StatusCode::TOO_MANY_REQUESTS
            );
        if retryable {
            Err(DeliveryError::Retryable {
                message: format!("webhook answered {status}"),
                retry_after: retry_after(&response),
                status_code: code,
            })
        } else {
            Err(DeliveryError::Permanent {
                message: format!(
                    "webhook answered {status}; fix the receiving endpoint, then replay"
                ),
                status_code: code,
            })
        }
    }
}
