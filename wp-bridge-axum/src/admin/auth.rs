use std::fmt;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AdminState;

/// The cookie the login form sets.
pub(crate) const COOKIE: &str = "wpb_admin";
/// Shortest admin token accepted.
const MIN_TOKEN_LEN: usize = 16;

/// The admin bearer token. Compared in constant time; never printed.
#[derive(Clone)]
pub struct AdminToken(Arc<[u8; 32]>);

impl AdminToken {
    /// Wraps a token of at least 16 bytes.
    pub fn new(token: &str) -> Result<Self, TokenTooShort> {
        if token.len() < MIN_TOKEN_LEN {
            return Err(TokenTooShort);
        }
        Ok(Self(Arc::new(Sha256::digest(token.as_bytes()).into())))
    }

    /// Whether `candidate` is the token. Both sides are hashed first, so the
    /// comparison takes the same time whatever the candidate's length.
    pub(crate) fn matches(&self, candidate: &str) -> bool {
        let candidate: [u8; 32] = Sha256::digest(candidate.as_bytes()).into();
        bool::from(self.0.ct_eq(&candidate))
    }

    fn derive(&self, purpose: &[u8]) -> String {
        let mut h = Sha256::new();
        h.update(purpose);
        h.update(*self.0);
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A value only the token's holder can produce, put in every form to
    /// refuse cross-site posts (on top of the SameSite=Strict cookie).
    pub(crate) fn csrf(&self) -> String {
        self.derive(b"wp-bridge admin csrf:")
    }

    /// The session cookie's value: derived from the token, so the token
    /// itself never travels in a cookie.
    pub(crate) fn session(&self) -> String {
        self.derive(b"wp-bridge admin session:")
    }

    /// Constant-time comparison of two derived values.
    pub(crate) fn same(expected: &str, candidate: &str) -> bool {
        let a: [u8; 32] = Sha256::digest(expected.as_bytes()).into();
        let b: [u8; 32] = Sha256::digest(candidate.as_bytes()).into();
        bool::from(a.ct_eq(&b))
    }
}

/// The admin token is too short to resist guessing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenTooShort;

impl fmt::Display for TokenTooShort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the admin token must be at least {MIN_TOKEN_LEN} characters (e.g. `openssl rand -hex 32`)")
    }
}

impl std::error::Error for TokenTooShort {}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(redacted)")
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

pub(crate) fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

pub(crate) async fn require_bearer(
    State(state): State<AdminState>,
    request: Request,
    next: Next,
) -> Response {
    if bearer(request.headers()).is_some_and(|t| state.token.matches(t)) {
        return next.run(request).await;
    }
    tracing::warn!(path = %request.uri().path(), "admin API request refused: missing or wrong token");
    (
        [(header::WWW_AUTHENTICATE, "Bearer")],
        crate::ApiError::new(
            wp_bridge_core::ErrorCode::Unauthorized,
            "send Authorization: Bearer <admin token>",
        ),
    )
        .into_response()
}

pub(crate) async fn require_cookie(
    State(state): State<AdminState>,
    request: Request,
    next: Next,
) -> Response {
    let session = state.token.session();
    if cookie(request.headers()).is_some_and(|c| AdminToken::same(&session, c)) {
        return next.run(request).await;
    }
    Redirect::to(&format!("{}/login", state.base)).into_response()
}
