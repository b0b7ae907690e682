//! Replays: dead deliveries back to pending, their jobs onto the queue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use wp_bridge_core::dead_letter::{DeadLetterAction, DeadLetterFilter, DeadLetterKey};
use wp_bridge_core::StoreError;

use super::AdminState;

/// Keys replayed per store call when no rate is set.
const BATCH: usize = 200;

/// Progress of the replays by filter started by this process.
#[derive(Debug, Clone, Default)]
pub(crate) struct Replays(Arc<Mutex<HashMap<String, Progress>>>);

/// How far a replay by filter has come.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Progress {
    pub(crate) id: String,
    pub(crate) total: usize,
    pub(crate) processed: usize,
    pub(crate) replayed: usize,
    pub(crate) done: bool,
    pub(crate) error: Option<String>,
}

impl Replays {
    pub(crate) fn get(&self, id: &str) -> Option<Progress> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    fn update(&self, id: &str, f: impl FnOnce(&mut Progress)) {
        if let Some(p) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get_mut(id) {
            f(p);
        }
    }
}

/// Replays `keys` through the core's [`Replayer`](wp_bridge_core::dead_letter::Replayer).
pub(crate) async fn replay_keys(
    state: &AdminState,
    keys: &[DeadLetterKey],
    action: &DeadLetterAction,
) -> Result<usize, StoreError> {
    state.replayer().replay(keys, action).await
}

/// Every dead letter matching `filter`, as keys.
pub(crate) async fn collect(
    state: &AdminState,
    filter: &DeadLetterFilter,
) -> Result<Vec<DeadLetterKey>, StoreError> {
    state.replayer().matching(filter).await
}

/// Starts replaying `keys` in the background, at most `per_second` of them
/// a second when given (so a recovering API is not stampeded). Returns the
/// id to poll progress with.
pub(crate) fn start(
    state: AdminState,
    keys: Vec<DeadLetterKey>,
    action: DeadLetterAction,
    per_second: Option<u32>,
) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    state
        .replays
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(
            id.clone(),
            Progress {
                id: id.clone(),
                total: keys.len(),
                processed: 0,
                replayed: 0,
                done: false,
                error: None,
            },
        );
    let task_id = id.clone();
    tokio::spawn(async move {
        let batch = per_second.map_or(BATCH, |r| r.max(1) as usize);
        for chunk in keys.chunks(batch) {
            let started = tokio::time::Instant::now();
            match replay_keys(&state, chunk, &action).await {
                Ok(replayed) => state.replays.update(&task_id, |p| {
                    p.processed += chunk.len();
                    p.replayed += replayed;
                }),
                Err(err) => {
                    state.replays.update(&task_id, |p| {
                        p.error = Some(err.to_string());
                        p.done = true;
                    });
                    return;
                }
            }
            if per_second.is_some() {
                tokio::time::sleep_until(started + Duration::from_secs(1)).await;
            }
        }
        state.replays.update(&task_id, |p| p.done = true);
    });
    id
}
