//! The dead-letter admin: a JSON API under `api/` and server-rendered pages,
//! behind one bearer token, as a router you mount where you like.
//!
//! ```no_run
//! # fn demo(gateway: wp_bridge_core::GatewayService, admin: wp_bridge_axum::admin::AdminState) {
//! let app = wp_bridge_axum::router(gateway)
//!     .nest("/admin", wp_bridge_axum::admin::admin_router(admin));
//! # }
//! ```
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | `api/dead-letters?event_type&sink&status&site&since&until&q&cursor&limit` | list, cursor-paginated |
//! | GET | `api/dead-letters/{event_id}/{sink}` | one, with payload, deliveries and attempts |
//! | POST | `api/dead-letters/replay` | `{keys:[{event_id,sink}], reason}` |
//! | POST | `api/dead-letters/replay-by-filter` | `{filter…, dry_run, rate_per_second, reason}` |
//! | GET | `api/replays/{id}` | progress of a replay by filter |
//! | POST | `api/dead-letters/discard` | `{keys, reason}` |
//! | GET | `api/dead-letters/stats` | counts by sink and error class, oldest age |
//! | GET | `api/audit?limit` | replays and discards, newest first |
//! | GET/POST | `login`, `/`, `dead-letters/{event_id}/{sink}`, `…/replay`, `…/discard` | the web pages |
//!
//! API calls authenticate with `Authorization: Bearer <token>`, the pages
//! with a cookie set by the login form; both are compared in constant time.
//! Every action is logged with its actor, never with the token.

mod api;
mod auth;
mod filter;
mod pages;
mod replay;

use std::fmt;
use std::sync::Arc;

use axum::middleware;
use axum::routing::{get, post};
use axum::Router;
use wp_bridge_core::dead_letter::DeadLetterStore;
use wp_bridge_core::event_log::EventLog;
use wp_bridge_core::queue::Queue;

pub use auth::{AdminToken, TokenTooShort};
use replay::Replays;

/// What the admin routes work on.
#[derive(Clone)]
pub struct AdminState {
    pub(crate) dead: Arc<dyn DeadLetterStore>,
    pub(crate) log: Arc<dyn EventLog>,
    pub(crate) queue: Arc<dyn Queue>,
    pub(crate) token: AdminToken,
    pub(crate) base: String,
    pub(crate) replays: Replays,
}

impl fmt::Debug for AdminState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminState")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl AdminState {
    /// Admin over these stores; replays are enqueued on `queue`. The pages
    /// link under `/admin` unless told otherwise with [`AdminState::base_path`].
    pub fn new(
        dead: Arc<dyn DeadLetterStore>,
        log: Arc<dyn EventLog>,
        queue: Arc<dyn Queue>,
        token: AdminToken,
    ) -> Self {
        Self {
            dead,
            log,
            queue,
            token,
            base: "/admin".into(),
            replays: Replays::default(),
        }
    }

    pub(crate) fn replayer(&self) -> wp_bridge_core::dead_letter::Replayer {
        wp_bridge_core::dead_letter::Replayer::new(self.dead.clone(), self.queue.clone())
    }

    /// Where the router is mounted, for the pages' links (default `/admin`).
    #[must_use]
    pub fn base_path(mut self, base: impl Into<String>) -> Self {
        self.base = base.into().trim_end_matches('/').to_owned();
        self
    }
}

/// The admin routes. Mount them with `Router::nest`.
pub fn admin_router(state: AdminState) -> Router {
    let api = Router::new()
        .route("/dead-letters", get(api::list))
        .route("/dead-letters/stats", get(api::stats))
        .route("/dead-letters/replay", post(api::replay))
        .route(
            "/dead-letters/replay-by-filter",
            post(api::replay_by_filter),
        )
        .route("/dead-letters/discard", post(api::discard))
        .route("/dead-letters/{event_id}/{sink}", get(api::show))
        .route("/replays/{id}", get(api::progress))
        .route("/audit", get(api::audit))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_bearer,
        ));
    let pages = Router::new()
        .route("/", get(pages::list))
        .route("/dead-letters/{event_id}/{sink}", get(pages::show))
        .route(
            "/dead-letters/{event_id}/{sink}/replay",
            post(pages::replay),
        )
        .route(
            "/dead-letters/{event_id}/{sink}/discard",
            post(pages::discard),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_cookie,
        ));
    Router::new()
        .nest("/api", api)
        .merge(pages)
        .route("/login", get(pages::login_form).post(pages::login))
        .with_state(state)
}
