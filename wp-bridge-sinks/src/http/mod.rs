//! The HTTP layer every sink shares: one reqwest client per sink (rustls,
//! no redirects, the sink's timeout), the rate limit before each call,
//! `X-Request-Id` on each call, a bounded read of the answer, and transport
//! failures turned into retry decisions without the URL (a Slack webhook URL
//! is a credential).

mod retry_after;

use std::error::Error as StdError;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use wp_bridge_core::sink::{DeliveryContext, DeliveryError};

use crate::rate_limit::RateLimiter;
use crate::Error;

pub(crate) use retry_after::{go_duration, retry_after_header, retry_after_ms};

/// The most of an answer's body that is read; sinks need a few fields of
/// small JSON documents, and a misbehaving server must not fill memory.
const MAX_BODY: usize = 1024 * 1024;

/// The longest piece of a remote error body quoted in an error message.
const SNIPPET: usize = 300;

/// A reqwest client for one sink: rustls, no redirects (a redirect from an
/// API means the URL is wrong, and following it would carry the credential
/// to another host), `timeout` for the whole exchange.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("wp-bridge/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::HttpClient(describe(&e.without_url())))
}

/// Parses and checks an endpoint: `https://`, or `http://` only towards
/// this machine (local fakes and test servers), so a credential never
/// crosses the network in clear text. The message never repeats the URL,
/// which may itself be the credential.
pub(crate) fn endpoint(raw: &str, setting: &'static str) -> Result<url::Url, Error> {
    let url = url::Url::parse(raw.trim()).map_err(|e| {
        Error::config(
            setting,
            format!("it is not an absolute URL ({e}); copy it again from the service"),
        )
    })?;
    let local = match url.host() {
        Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if local => Ok(url),
        _ => Err(Error::config(
            setting,
            "it must be an https:// URL (http:// is accepted only for localhost test servers)",
        )),
    }
}

/// An answer read to its end (or to [`MAX_BODY`]).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Answer {
    /// The body, cut short and stripped of control characters, for an
    /// error message.
    pub(crate) fn snippet(&self) -> String {
        snippet(&String::from_utf8_lossy(&self.body))
    }

    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// One sink's way out: its client, its limiter, what to call the target in
/// messages, and its timeout (for messages).
#[derive(Debug, Clone)]
pub(crate) struct Outbound {
    pub(crate) client: reqwest::Client,
    pub(crate) limiter: RateLimiter,
    pub(crate) target: &'static str,
    pub(crate) timeout: Duration,
}

impl Outbound {
    /// Waits for the rate limit, sends with `X-Request-Id`, reads the answer.
    pub(crate) async fn send(
        &self,
        request: reqwest::RequestBuilder,
        ctx: &DeliveryContext,
    ) -> Result<Answer, DeliveryError> {
        self.permit().await?;
        self.exchange(request, ctx).await
    }

    /// Waits for a rate-limit permit, or answers retryable when it is
    /// further away than the limit's `max_wait`.
    pub(crate) async fn permit(&self) -> Result<(), DeliveryError> {
        self.limiter
            .acquire()
            .await
            .map_err(|wait| DeliveryError::Retryable {
                message: format!(
                    "{} rate limit: the next call is allowed in {} ms, longer than a delivery may wait",
                    self.target,
                    wait.as_millis()
                ),
                retry_after: Some(wait),
                status_code: None,
            })
    }

    /// Sends with `X-Request-Id` and reads the answer, without the rate
    /// limit (the caller took a permit).
    pub(crate) async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
        ctx: &DeliveryContext,
    ) -> Result<Answer, DeliveryError> {
        let request = match ctx.outbound_traceparent() {
            Some(traceparent) => request.header("traceparent", traceparent),
            None => request,
        };
        let response = request
            .header("x-request-id", ctx.correlation_id.as_str())
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_bounded(response)
            .await
            .map_err(|e| self.transport_error(e))?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// A failure before an HTTP status arrived. Retryable, except a request
    /// that could not even be built.
    pub(crate) fn transport_error(&self, err: reqwest::Error) -> DeliveryError {
        let err = err.without_url();
        let target = self.target;
        if err.is_builder() {
            return DeliveryError::permanent(format!(
                "the request to {target} could not be built: {}",
                describe(&err)
            ));
        }
        let message = if err.is_timeout() {
            format!(
                "{target} did not answer within {} ms (the request may still have been processed)",
                self.timeout.as_millis()
            )
        } else if err.is_connect() {
            format!("could not connect to {target}: {}", describe(&err))
        } else {
            format!("the exchange with {target} failed: {}", describe(&err))
        };
        DeliveryError::retryable(message)
    }
}

async fn read_bounded(mut response: reqwest::Response) -> Result<Bytes, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_BODY - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == MAX_BODY {
            break;
        }
    }
    Ok(Bytes::from(body))
}

/// An error and its causes on one line. reqwest errors must have had their
/// URL removed first.
fn describe(err: &dyn StdError) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Text from elsewhere, made safe to put in one log line: control
/// characters replaced, at most [`SNIPPET`] characters.
pub(crate) fn snippet(text: &str) -> String {
    let cleaned: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(SNIPPET + 1)
        .collect();
    if cleaned.chars().count() > SNIPPET {
        let cut: String = cleaned.chars().take(SNIPPET).collect();
        format!("{cut}…")
    } else {
        cleaned
    }
}

/// Statuses worth another try whatever the API: request timeout, too
/// early, too many requests, and server-side failures.
pub(crate) fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 425 | 429) || status.is_server_error()
}

/// `retry_after` capped at `max`; a cap keeps a hostile or mistaken header
/// from parking a delivery for days.
pub(crate) fn capped(retry_after: Option<Duration>, max: Duration) -> Option<Duration> {
    retry_after.map(|d| d.min(max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_strips_control_characters_and_cuts() {
        assert_eq!(snippet(" no_service\r\n"), "no_service");
        assert_eq!(snippet("a\nb"), "a b");
        let long = "x".repeat(1000);
        let cut = snippet(&long);
        assert_eq!(cut.chars().count(), SNIPPET + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn endpoints_must_be_https_unless_local_and_errors_do_not_repeat_them() {
        assert!(endpoint("https://hooks.slack.com/services/T/B/X", "url").is_ok());
        assert!(endpoint("http://127.0.0.1:9/services/T/B/X", "url").is_ok());
        assert!(endpoint("http://localhost:9", "url").is_ok());
        assert!(endpoint("http://[::1]:9", "url").is_ok());
        for bad in [
            "http://hooks.slack.com/services/T/B/SECRETPART",
            "ftp://example.com/SECRETPART",
            "hooks.slack.com/services/T/B/SECRETPART",
        ] {
            let err = endpoint(bad, "Slack webhook URL").unwrap_err().to_string();
            assert!(err.starts_with("Slack webhook URL is not usable"), "{err}");
            assert!(!err.contains("SECRETPART"), "{err}");
        }
    }

    #[test]
    fn transient_statuses() {
        for status in [408, 425, 429, 500, 502, 503, 504] {
            assert!(is_transient(StatusCode::from_u16(status).unwrap()));
        }
        for status in [301, 400, 401, 403, 404, 409, 410, 422] {
            assert!(!is_transient(StatusCode::from_u16(status).unwrap()));
        }
    }
}
