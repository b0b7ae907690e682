use axum::response::{IntoResponse, Response};
use wp_bridge_core::{ErrorCode, Rejection};

/// Every error the HTTP layer answers with, rendered the same way as the
/// gateway's own rejections: `{"status":"rejected","error":"<code>","message":…}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError(pub Rejection);

impl ApiError {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: &'static str) -> Self {
        Self(Rejection::new(code, message))
    }

    /// An error with a code and a composed message.
    pub fn new_owned(code: ErrorCode, message: String) -> Self {
        Self(Rejection::new(code, message))
    }
}

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> Self {
        Self(rejection)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.into_response().into_response()
    }
}
