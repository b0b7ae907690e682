//! The JSON admin API.

use std::time::SystemTime;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use wp_bridge_core::dead_letter::{DeadLetter, DeadLetterAction, DeadLetterKey};
use wp_bridge_core::event::{EventId, SinkName};
use wp_bridge_core::event_log::{AttemptOutcome, DeliveryRecord};
use wp_bridge_core::{ErrorCode, StoreError};

use super::filter::{decode_cursor, encode_cursor, FilterParams};
use super::{replay, AdminState};
use crate::ApiError;

const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 500;

pub(crate) use wp_bridge_core::clock::rfc3339;

fn unavailable(err: StoreError) -> ApiError {
    tracing::error!(error = %err, "admin request failed on the store");
    ApiError::new(
        ErrorCode::StorageUnavailable,
        "a store did not answer; retry later",
    )
}

pub(crate) fn dead_letter_json(d: &DeadLetter) -> Value {
    json!({
        "event_id": d.event_id,
        "sink": d.sink,
        "event_type": d.event_type,
        "site": d.site,
        "correlation_id": d.correlation_id,
        "received_at": rfc3339(d.received_at),
        "dead_at": rfc3339(d.dead_at),
        "attempts": d.attempts,
        "last_error": d.last_error,
        "last_status_code": d.last_status_code,
    })
}

fn delivery_json(d: &DeliveryRecord) -> Value {
    json!({
        "sink": d.sink,
        "state": d.state.as_str(),
        "attempts": d.attempts,
        "last_error": d.last_error,
        "last_status_code": d.last_status_code,
        "next_attempt_at": d.next_attempt_at.map(rfc3339),
        "delivered_at": d.delivered_at.map(rfc3339),
        "reference": d.reference,
    })
}

/// Who is acting: `X-Admin-Actor`, else the body's `actor`, else `admin-api`.
fn actor(headers: &HeaderMap, body: Option<&str>) -> String {
    headers
        .get("x-admin-actor")
        .and_then(|v| v.to_str().ok())
        .or(body)
        .map(|a| a.chars().take(128).collect())
        .unwrap_or_else(|| "admin-api".into())
}

#[derive(Deserialize)]
pub(crate) struct ListParams {
    #[serde(flatten)]
    filter: FilterParams,
    cursor: Option<String>,
    limit: Option<usize>,
}

pub(crate) async fn list(
    State(state): State<AdminState>,
    Query(params): Query<ListParams>,
) -> Result<Json<Value>, ApiError> {
    let filter = params.filter.to_filter()?;
    let cursor = params
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(decode_cursor)
        .transpose()?;
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let page = state
        .dead
        .list_dead(&filter, cursor.as_ref(), limit)
        .await
        .map_err(unavailable)?;
    let next = (page.len() == limit)
        .then(|| page.last().map(|d| encode_cursor(&d.cursor())))
        .flatten();
    Ok(Json(json!({
        "items": page.iter().map(dead_letter_json).collect::<Vec<_>>(),
        "next_cursor": next,
    })))
}

pub(crate) async fn show(
    State(state): State<AdminState>,
    Path((event_id, sink)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let not_found = || ApiError::new(ErrorCode::NotFound, "no such event or sink");
    let id = EventId::new(event_id).map_err(|_| not_found())?;
    let stored = state
        .log
        .load(&id)
        .await
        .map_err(unavailable)?
        .ok_or_else(not_found)?;
    let sink = SinkName::new(sink);
    stored.delivery(&sink).ok_or_else(not_found)?;
    let attempts = state.log.attempts(&id).await.map_err(unavailable)?;
    let payload: Value = serde_json::from_slice(&stored.raw).unwrap_or(Value::Null);
    Ok(Json(json!({
        "event_id": id,
        "sink": sink,
        "correlation_id": stored.correlation_id,
        "received_at": rfc3339(stored.received_at),
        "payload": payload,
        "deliveries": stored.deliveries.iter().map(delivery_json).collect::<Vec<_>>(),
        "attempts": attempts.iter().map(|a| {
            let (outcome, status, error) = match &a.outcome {
                AttemptOutcome::Delivered { .. } => ("delivered", None, None),
                AttemptOutcome::Retry { status_code, error, .. } => ("retry", *status_code, Some(error.as_str())),
                AttemptOutcome::Dead { status_code, error } => ("dead", *status_code, Some(error.as_str())),
            };
            json!({
                "sink": a.sink,
                "attempt": a.attempt,
                "started_at": rfc3339(a.started_at),
                "duration_ms": a.duration.as_secs_f64() * 1000.0,
                "outcome": outcome,
                "status_code": status,
                "error": error,
            })
        }).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
pub(crate) struct KeyParams {
    event_id: String,
    sink: String,
}

#[derive(Deserialize)]
pub(crate) struct KeysBody {
    keys: Vec<KeyParams>,
    reason: String,
    actor: Option<String>,
}

fn keys(body: &[KeyParams]) -> Result<Vec<DeadLetterKey>, ApiError> {
    body.iter()
        .map(|k| {
            Ok(DeadLetterKey {
                event_id: EventId::new(k.event_id.clone())
                    .map_err(|e| ApiError::new_owned(ErrorCode::InvalidRequest, e.to_string()))?,
                sink: SinkName::new(&k.sink),
            })
        })
        .collect()
}

fn reason(reason: &str) -> Result<String, ApiError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "give a reason; it is kept in the audit trail",
        ));
    }
    Ok(reason.chars().take(1000).collect())
}

pub(crate) async fn replay(
    State(state): State<AdminState>,
    headers: HeaderMap,
    Json(body): Json<KeysBody>,
) -> Result<Json<Value>, ApiError> {
    let keys = keys(&body.keys)?;
    let action = DeadLetterAction::new(
        actor(&headers, body.actor.as_deref()),
        reason(&body.reason)?,
    );
    let replayed = replay::replay_keys(&state, &keys, &action)
        .await
        .map_err(unavailable)?;
    Ok(Json(json!({"replayed": replayed, "requested": keys.len()})))
}

#[derive(Deserialize)]
pub(crate) struct ByFilterBody {
    #[serde(flatten)]
    filter: FilterParams,
    #[serde(default)]
    dry_run: bool,
    rate_per_second: Option<u32>,
    #[serde(default)]
    reason: String,
    actor: Option<String>,
}

pub(crate) async fn replay_by_filter(
    State(state): State<AdminState>,
    headers: HeaderMap,
    Json(body): Json<ByFilterBody>,
) -> Result<Response, ApiError> {
    let filter = body.filter.to_filter()?;
    let keys = replay::collect(&state, &filter)
        .await
        .map_err(unavailable)?;
    if body.dry_run {
        return Ok(Json(
            json!({"dry_run": true, "matched": keys.len(), "filter": filter.to_string()}),
        )
        .into_response());
    }
    let action = DeadLetterAction::new(
        actor(&headers, body.actor.as_deref()),
        reason(&body.reason)?,
    )
    .with_filter(&filter);
    let matched = keys.len();
    let id = replay::start(state, keys, action, body.rate_per_second.filter(|r| *r > 0));
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"replay_id": id, "matched": matched})),
    )
        .into_response())
}

pub(crate) async fn progress(
    State(state): State<AdminState>,
    Path(id): Path<String>,
) -> Result<Json<replay::Progress>, ApiError> {
    state.replays.get(&id).map(Json).ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            "no replay with that id in this process",
        )
    })
}

pub(crate) async fn discard(
    State(state): State<AdminState>,
    headers: HeaderMap,
    Json(body): Json<KeysBody>,
) -> Result<Json<Value>, ApiError> {
    let keys = keys(&body.keys)?;
    let action = DeadLetterAction::new(
        actor(&headers, body.actor.as_deref()),
        reason(&body.reason)?,
    );
    let discarded = state
        .dead
        .discard(&keys, &action)
        .await
        .map_err(unavailable)?;
    tracing::info!(actor = %action.actor, reason = %action.reason, discarded, "dead letters discarded");
    Ok(Json(
        json!({"discarded": discarded, "requested": keys.len()}),
    ))
}

pub(crate) async fn stats(State(state): State<AdminState>) -> Result<Json<Value>, ApiError> {
    let stats = state.dead.stats().await.map_err(unavailable)?;
    let oldest_age = stats.oldest_dead_at.map(|t| {
        SystemTime::now()
            .duration_since(t)
            .unwrap_or_default()
            .as_secs()
    });
    Ok(Json(json!({
        "total": stats.total,
        "by_sink": stats.by_sink,
        "by_status": stats.by_status,
        "oldest_dead_at": stats.oldest_dead_at.map(rfc3339),
        "oldest_age_seconds": oldest_age,
    })))
}

#[derive(Deserialize)]
pub(crate) struct AuditParams {
    limit: Option<usize>,
}

pub(crate) async fn audit(
    State(state): State<AdminState>,
    Query(params): Query<AuditParams>,
) -> Result<Json<Value>, ApiError> {
    let entries = state
        .dead
        .audit_log(params.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT))
        .await
        .map_err(unavailable)?;
    Ok(Json(json!({"entries": entries.iter().map(|e| json!({
        "at": rfc3339(e.at),
        "action": e.action,
        "actor": e.by.actor,
        "reason": e.by.reason,
        "filter": e.by.filter,
        "count": e.count,
    })).collect::<Vec<_>>()})))
}
