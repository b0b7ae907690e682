//! [`SinkState`] conformance cases.

use std::future::Future;
use std::sync::Arc;

use crate::clock::{ManualClock, SharedClock};
use crate::sink::SinkState;

async fn setup<F, Fut>(make: F) -> Arc<dyn SinkState>
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn SinkState>>,
{
    make(Arc::new(ManualClock::starting_now())).await
}

/// Values round-trip exactly, are replaced by a second put, and scopes do
/// not see each other's keys.
pub async fn values_round_trip_replace_and_stay_in_their_scope<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn SinkState>>,
{
    let state = setup(make).await;
    assert_eq!(state.get("notes", "évt-1").await.unwrap(), None);
    let value = r#"{"summary":"Zoë 😀","spam":false}"#;
    state.put("notes", "évt-1", value).await.unwrap();
    assert_eq!(
        state.get("notes", "évt-1").await.unwrap().as_deref(),
        Some(value)
    );
    state.put("notes", "évt-1", "second").await.unwrap();
    assert_eq!(
        state.get("notes", "évt-1").await.unwrap().as_deref(),
        Some("second")
    );
    assert_eq!(state.get("cache", "évt-1").await.unwrap(), None);
    let long_key = "k".repeat(200);
    state.put("cache", &long_key, "x").await.unwrap();
    assert_eq!(
        state.get("cache", &long_key).await.unwrap().as_deref(),
        Some("x")
    );
}

/// Concurrent writers to one key leave one of their values, whole.
pub async fn concurrent_puts_leave_one_whole_value<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn SinkState>>,
{
    let state = setup(make).await;
    let writers: Vec<_> = (0..16)
        .map(|i| {
            let state = state.clone();
            tokio::spawn(async move { state.put("race", "k", &format!("value-{i}")).await })
        })
        .collect();
    for w in writers {
        w.await.unwrap().unwrap();
    }
    let value = state.get("race", "k").await.unwrap().unwrap();
    assert!(
        value.starts_with("value-") && value[6..].parse::<u32>().is_ok_and(|n| n < 16),
        "{value}"
    );
}
