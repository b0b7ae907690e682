use thiserror::Error;
use wp_bridge_core::StoreError;

/// Setting up the Redis backend failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RedisError {
    /// The URL is not a Redis URL.
    #[error("REDIS_URL is not a valid Redis URL: {0}")]
    InvalidUrl(#[source] redis::RedisError),
    /// Redis could not be reached.
    #[error("cannot connect to Redis: {0}; check REDIS_URL and that the server is running")]
    Connect(#[source] redis::RedisError),
}

/// Maps a driver error onto the core's storage error (retryable).
pub(crate) fn store_error(err: redis::RedisError) -> StoreError {
    StoreError::unavailable("redis", err)
}
