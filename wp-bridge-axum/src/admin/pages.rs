//! The server-rendered admin pages: plain HTML forms, no build step, no
//! script beyond a confirmation prompt.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde::Deserialize;
use wp_bridge_core::dead_letter::{DeadLetterAction, DeadLetterKey};
use wp_bridge_core::event::{EventId, EventType, SinkName};
use wp_bridge_core::event_log::AttemptOutcome;

use super::api::rfc3339;
use super::auth::{AdminToken, COOKIE};
use super::filter::{decode_cursor, encode_cursor, FilterParams};
use super::{replay, AdminState};

const PAGE: usize = 50;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The list page's URL: the mount point itself (`/admin`, or `/` at the root).
fn home(base: &str) -> &str {
    if base.is_empty() {
        "/"
    } else {
        base
    }
}

fn seg(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} · wp-bridge</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}} table{{border-collapse:collapse;width:100%}}
th,td{{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:left;vertical-align:top}} th{{background:#f4f4f4}}
pre{{background:#f7f7f7;padding:1em;overflow:auto}} .flash{{background:#e7f6e7;padding:.5em 1em}} .error{{background:#fbe9e9;padding:.5em 1em}}
form.inline{{display:inline}} input,select,button{{font:inherit}} .stats span{{margin-right:1.5em}}
</style></head><body><h1>{title}</h1>{body}</body></html>"#,
        title = esc(title),
    ))
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    #[serde(flatten)]
    filter: FilterParams,
    cursor: Option<String>,
    done: Option<String>,
}

pub(crate) async fn list(
    State(state): State<AdminState>,
    Query(query): Query<ListQuery>,
) -> Response {
    let filter = match query.filter.to_filter() {
        Ok(filter) => filter,
        Err(err) => {
            return (
                StatusCode::BAD_REQUEST,
                page(
                    "Dead letters",
                    &format!("<p class=error>{}</p>", esc(err.0.message())),
                ),
            )
                .into_response()
        }
    };
    let cursor = query
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .and_then(|c| decode_cursor(c).ok());
    let (rows, stats) = match (
        state.dead.list_dead(&filter, cursor.as_ref(), PAGE).await,
        state.dead.stats().await,
    ) {
        (Ok(rows), Ok(stats)) => (rows, stats),
        (Err(err), _) | (_, Err(err)) => {
            tracing::error!(error = %err, "admin page failed on the store");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                page(
                    "Dead letters",
                    "<p class=error>A store did not answer; reload in a moment.</p>",
                ),
            )
                .into_response();
        }
    };
    let base = &state.base;
    let mut body = String::new();
    if let Some(done) = query.done.as_deref() {
        body += &format!("<p class=flash id=flash>{}</p>", esc(done));
    }
    body += &format!(
        "<p class=stats id=stats><span>Total: <b>{}</b></span>{}{}</p>",
        stats.total,
        stats
            .by_sink
            .iter()
            .map(|(s, n)| format!("<span>{}: {n}</span>", esc(s)))
            .collect::<String>(),
        stats
            .oldest_dead_at
            .map(|t| format!("<span>oldest: {}</span>", rfc3339(t)))
            .unwrap_or_default(),
    );
    body += &filter_form(base, &query.filter);
    body += "<table id=dead-letters><tr><th>Event</th><th>Sink</th><th>Type</th><th>Site</th><th>Status</th><th>Last error</th><th>Died</th></tr>";
    for d in &rows {
        body += &format!(
            "<tr data-event-id=\"{id}\"><td><a class=dead-letter href=\"{base}/dead-letters/{eid}/{sink_seg}\">{id}</a></td><td>{sink}</td><td>{t}</td><td>{site}</td><td>{status}</td><td>{error}</td><td>{at}</td></tr>",
            id = esc(d.event_id.as_str()),
            eid = seg(d.event_id.as_str()),
            sink_seg = seg(d.sink.as_str()),
            sink = esc(d.sink.as_str()),
            t = d.event_type,
            site = esc(&d.site),
            status = d.last_status_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into()),
            error = esc(&d.last_error.as_deref().unwrap_or("").chars().take(160).collect::<String>()),
            at = rfc3339(d.dead_at),
        );
    }
    body += "</table>";
    if rows.is_empty() {
        body += "<p id=empty>No dead letters match.</p>";
    }
    if rows.len() == PAGE {
        if let Some(last) = rows.last() {
            let mut params = serde_urlencoded_pairs(&query.filter);
            params.push(("cursor", encode_cursor(&last.cursor())));
            body += &format!(
                "<p><a id=next href=\"{}?{}\">Next page →</a></p>",
                home(base),
                params
                    .iter()
                    .map(|(k, v)| format!("{k}={}", seg(v)))
                    .collect::<Vec<_>>()
                    .join("&")
            );
        }
    }
    page("Dead letters", &body).into_response()
}

fn serde_urlencoded_pairs(f: &FilterParams) -> Vec<(&'static str, String)> {
    [
        ("event_type", &f.event_type),
        ("sink", &f.sink),
        ("status", &f.status),
        ("site", &f.site),
        ("since", &f.since),
        ("until", &f.until),
        ("q", &f.q),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.clone().filter(|v| !v.is_empty()).map(|v| (k, v)))
    .collect()
}

fn filter_form(base: &str, f: &FilterParams) -> String {
    let value = |v: &Option<String>| esc(v.as_deref().unwrap_or(""));
    let types: String = EventType::ALL
        .iter()
        .map(|t| {
            let selected = if f.event_type.as_deref() == Some(t.as_str()) {
                " selected"
            } else {
                ""
            };
            format!("<option{selected}>{t}</option>")
        })
        .collect();
    format!(
        "<form id=filters method=get action=\"{home}\">
<select name=event_type><option value=\"\">any type</option>{types}</select>
<input name=sink placeholder=sink value=\"{sink}\"> <input name=status placeholder=\"HTTP status\" size=6 value=\"{status}\">
<input name=site placeholder=site value=\"{site}\"> <input name=q placeholder=\"text in error\" value=\"{q}\">
<button type=submit id=apply>Filter</button></form>",
        home = home(base),
        sink = value(&f.sink),
        status = value(&f.status),
        site = value(&f.site),
        q = value(&f.q),
    )
}

pub(crate) async fn show(
    State(state): State<AdminState>,
    Path((event_id, sink)): Path<(String, String)>,
) -> Response {
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            page("Not found", "<p>No such event or sink.</p>"),
        )
            .into_response()
    };
    let Ok(id) = EventId::new(event_id) else {
        return not_found();
    };
    let sink = SinkName::new(sink);
    let (stored, attempts) = match (state.log.load(&id).await, state.log.attempts(&id).await) {
        (Ok(Some(stored)), Ok(attempts)) => (stored, attempts),
        (Ok(None), _) => return not_found(),
        _ => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                page("Dead letter", "<p class=error>A store did not answer.</p>"),
            )
                .into_response()
        }
    };
    let Some(delivery) = stored.delivery(&sink) else {
        return not_found();
    };
    let base = &state.base;
    let payload = serde_json::from_slice::<serde_json::Value>(&stored.raw)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_default();
    let action = format!(
        "{base}/dead-letters/{}/{}",
        seg(id.as_str()),
        seg(sink.as_str())
    );
    let csrf = state.token.csrf();
    let mut body = format!(
        "<p><a href=\"{home}\">← all dead letters</a></p><table id=meta>
<tr><th>Event</th><td>{id}</td></tr><tr><th>Sink</th><td>{sink}</td></tr><tr><th>State</th><td id=state>{state}</td></tr>
<tr><th>Correlation id</th><td>{cid}</td></tr><tr><th>Received</th><td>{received}</td></tr>
<tr><th>Attempts</th><td>{attempts}</td></tr><tr><th>Last error</th><td>{error}</td></tr></table>",
        home = home(base),
        id = esc(id.as_str()),
        sink = esc(sink.as_str()),
        state = delivery.state.as_str(),
        cid = esc(stored.correlation_id.as_str()),
        received = rfc3339(stored.received_at),
        attempts = delivery.attempts,
        error = esc(delivery.last_error.as_deref().unwrap_or("")),
    );
    body += &format!(
        "<p><form class=inline method=post action=\"{action}/replay\" onsubmit=\"return confirm('Replay this event to {sink}?')\">
<input type=hidden name=csrf value=\"{csrf}\"><input name=reason id=replay-reason placeholder=\"why (kept in the audit trail)\" required>
<button type=submit id=replay>Replay</button></form>
<form class=inline method=post action=\"{action}/discard\" onsubmit=\"return confirm('Discard this dead letter for good?')\">
<input type=hidden name=csrf value=\"{csrf}\"><input name=reason placeholder=\"why\" required> <button type=submit id=discard>Discard</button></form></p>",
        sink = esc(sink.as_str()),
    );
    body += "<h2>Deliveries</h2><table><tr><th>Sink</th><th>State</th><th>Attempts</th><th>Last error</th></tr>";
    for d in &stored.deliveries {
        body += &format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(d.sink.as_str()),
            d.state.as_str(),
            d.attempts,
            esc(d.last_error.as_deref().unwrap_or("")),
        );
    }
    body += "</table><h2>Attempts</h2><table id=attempts><tr><th>Sink</th><th>#</th><th>Started</th><th>ms</th><th>Outcome</th><th>Status</th><th>Error</th></tr>";
    for a in &attempts {
        let (outcome, status, error) = match &a.outcome {
            AttemptOutcome::Delivered { .. } => ("delivered", None, ""),
            AttemptOutcome::Retry {
                status_code, error, ..
            } => ("retry", *status_code, error.as_str()),
            AttemptOutcome::Dead { status_code, error } => ("dead", *status_code, error.as_str()),
        };
        body += &format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{outcome}</td><td>{}</td><td>{}</td></tr>",
            esc(a.sink.as_str()),
            a.attempt,
            rfc3339(a.started_at),
            a.duration.as_secs_f64() * 1000.0,
            status.map(|s| s.to_string()).unwrap_or_default(),
            esc(error),
        );
    }
    body += &format!(
        "</table><h2>Payload</h2><pre id=payload>{}</pre>",
        esc(&payload)
    );
    page("Dead letter", &body).into_response()
}

#[derive(Deserialize)]
pub(crate) struct ActionForm {
    csrf: String,
    reason: String,
}

async fn act(
    state: AdminState,
    headers: HeaderMap,
    event_id: String,
    sink: String,
    form: ActionForm,
    replay: bool,
) -> Response {
    if !AdminToken::same(&state.token.csrf(), &form.csrf) {
        return (
            StatusCode::FORBIDDEN,
            page(
                "Refused",
                "<p class=error>The form is stale or came from another site.</p>",
            ),
        )
            .into_response();
    }
    let Ok(id) = EventId::new(event_id) else {
        return (
            StatusCode::NOT_FOUND,
            page("Not found", "<p>No such event.</p>"),
        )
            .into_response();
    };
    let actor = headers
        .get("x-admin-actor")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("admin-page")
        .chars()
        .take(128)
        .collect::<String>();
    let reason = form.reason.trim().chars().take(1000).collect::<String>();
    let key = DeadLetterKey {
        event_id: id,
        sink: SinkName::new(sink),
    };
    let action = DeadLetterAction::new(
        actor,
        if reason.is_empty() {
            "no reason given".into()
        } else {
            reason
        },
    );
    let result = if replay {
        replay::replay_keys(&state, std::slice::from_ref(&key), &action)
            .await
            .map(|n| format!("Replayed {n} delivery of {}.", key.event_id))
    } else {
        state
            .dead
            .discard(std::slice::from_ref(&key), &action)
            .await
            .map(|n| format!("Discarded {n} dead letter of {}.", key.event_id))
    };
    match result {
        Ok(done) => {
            Redirect::to(&format!("{}?done={}", home(&state.base), seg(&done))).into_response()
        }
        Err(err) => {
            tracing::error!(error = %err, "admin action failed on the store");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                page(
                    "Not done",
                    "<p class=error>A store did not answer; nothing changed.</p>",
                ),
            )
                .into_response()
        }
    }
}

pub(crate) async fn replay(
    State(state): State<AdminState>,
    headers: HeaderMap,
    Path((event_id, sink)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Response {
    act(state, headers, event_id, sink, form, true).await
}

pub(crate) async fn discard(
    State(state): State<AdminState>,
    headers: HeaderMap,
    Path((event_id, sink)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Response {
    act(state, headers, event_id, sink, form, false).await
}

pub(crate) async fn login_form(State(state): State<AdminState>) -> Html<String> {
    login_page(&state.base, "")
}

fn login_page(base: &str, message: &str) -> Html<String> {
    page(
        "Sign in",
        &format!(
            "{message}<form method=post action=\"{base}/login\"><label>Admin token <input type=password name=token id=token autocomplete=current-password required></label> <button type=submit id=login>Sign in</button></form>"
        ),
    )
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    token: String,
}

pub(crate) async fn login(
    State(state): State<AdminState>,
    Form(form): Form<LoginForm>,
) -> Response {
    if !state.token.matches(&form.token) {
        tracing::warn!("admin sign-in refused: wrong token");
        return (
            StatusCode::UNAUTHORIZED,
            login_page(&state.base, "<p class=error>Wrong token.</p>"),
        )
            .into_response();
    }
    tracing::info!("admin signed in");
    let path = if state.base.is_empty() {
        "/"
    } else {
        state.base.as_str()
    };
    let cookie = format!(
        "{COOKIE}={}; HttpOnly; SameSite=Strict; Path={path}",
        state.token.session()
    );
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to(home(&state.base)),
    )
        .into_response()
}
