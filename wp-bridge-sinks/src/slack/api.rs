//! What an incoming webhook's answer means.
//!
//! Success is `200` with the body `ok`. Errors are plain-text codes
//! (`404 no_service`), except `429`, which carries JSON
//! `{"retry_after":1,"ok":false,"error":"rate_limited"}` and a
//! `Retry-After` header.

use std::time::{Duration, SystemTime};

use serde::Deserialize;
use wp_bridge_core::sink::DeliveryError;

use crate::http::{capped, is_transient, retry_after_header, Answer};

#[derive(Deserialize)]
struct RateLimited {
    retry_after: Option<f64>,
    error: Option<String>,
}

/// Delivered, retryable or permanent, from Slack's answer.
pub(crate) fn classify(
    answer: &Answer,
    max_retry_after: Duration,
    now: SystemTime,
) -> Result<(), DeliveryError> {
    let status = answer.status;
    if status.is_success() {
        if answer.body.as_ref() != b"ok" {
            // Slack's own advice: any 200 is a success.
            tracing::debug!(body = %answer.snippet(), "Slack answered 200 with an unusual body");
        }
        return Ok(());
    }
    let code = status.as_u16();
    if code == 429 {
        let body: Option<RateLimited> = answer.json();
        let from_body = body
            .as_ref()
            .and_then(|b| b.retry_after)
            .and_then(|s| Duration::try_from_secs_f64(s).ok());
        let retry_after = retry_after_header(&answer.headers, now).or(from_body);
        let error = body
            .and_then(|b| b.error)
            .unwrap_or_else(|| "rate_limited".into());
        return Err(DeliveryError::Retryable {
            message: format!(
                "Slack answered 429 {error}: over one message per second for this webhook"
            ),
            retry_after: capped(retry_after, max_retry_after),
            status_code: Some(code),
        });
    }
    let error = answer.snippet();
    if is_transient(status) {
        return Err(DeliveryError::Retryable {
            message: format!("Slack answered {code} {error}"),
            retry_after: capped(retry_after_header(&answer.headers, now), max_retry_after),
            status_code: Some(code),
        });
    }
    let fix = if status.is_redirection() {
        "the webhook URL redirects (it is not a Slack incoming-webhook URL, or it moved): copy the URL again from Slack's app settings"
    } else {
        hint(error.as_str())
    };
    Err(DeliveryError::Permanent {
        message: format!("the Slack webhook needs fixing: Slack answered {code} {error}: {fix}"),
        status_code: Some(code),
    })
}

/// What to do about each documented error code.
fn hint(error: &str) -> &'static str {
    match error {
        "invalid_payload" | "no_text" | "missing_text_or_fallback_or_attachments"
        | "too_many_attachments" | "user_not_found" => {
            "Slack could not use the message it was sent; check the webhook is an incoming webhook (not a workflow webhook expecting other fields)"
        }
        "invalid_token" => {
            "the webhook URL's token is not valid: create a new incoming webhook and put its URL in the Slack sink's configuration"
        }
        "action_prohibited" => {
            "the workspace forbids posting through this webhook: ask a Slack admin to allow it, or use another webhook"
        }
        "no_service" | "no_active_hooks" | "no_team" | "team_disabled" => {
            "the webhook was disabled or removed: create a new incoming webhook and put its URL in the Slack sink's configuration"
        }
        "channel_not_found" => {
            "the webhook's channel no longer exists: create a new incoming webhook for an existing channel"
        }
        "channel_is_archived" => {
            "the webhook's channel is archived: unarchive it or create a webhook for another channel"
        }
        "posting_to_general_channel_denied" => {
            "only admins may post to this channel: pick another channel for the webhook"
        }
        _ => "check the incoming webhook in Slack's app settings",
    }
}
