//! Replays: dead deliveries back to pending, their jobs onto the queue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use wp_bridge_core::dead_letter::{DeadLetterAction, DeadLetterFilter, DeadLetterKey};
use wp_bridge_core::StoreError;

use super::AdminState;

/// Dead letters fetched per listing page while collecting a filter's keys.
const PAGE: usize = 500;
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

/// Replays `keys` and enqueues their jobs; returns how many deliveries were
/// revived. A job that cannot be enqueued stays pending in the event log,
/// where the reconciler finds it.
pub(crate) async fn replay_keys(
    state: &AdminState,
    keys: &[DeadLetterKey],
    action: &DeadLetterAction,
) -> Result<usize, StoreError> {
    let jobs = state.dead.replay(keys, action).await?;
    for job in &jobs {
        if let Err(err) = state.queue.enqueue(job, Duration::ZERO).await {
            tracing::warn!(event_id = %job.event_id, error = %err, "replayed delivery left pending; the reconciler will enqueue it");
        }
    }
    let revived = jobs.iter().map(|j| j.sinks.len()).sum();
    tracing::info!(actor = %action.actor, reason = %action.reason, revived, "dead letters replayed");
    Ok(revived)
}

/// Every dead letter matching `filter`, as keys.
pub(crate) async fn collect(
    state: &AdminState,
    filter: &DeadLetterFilter,
) -> Result<Vec<DeadLetterKey>, StoreError> {
    let mut keys = Vec::new();
    let mut cursor = None;
    loop {
        let page = state.dead.list_dead(filter, cursor.as_ref(), PAGE).await?;
        let full = page.len() == PAGE;
        cursor = page.last().map(|d| d.cursor());
        keys.extend(page.iter().map(|d| d.key()));
        if !full {
            return Ok(keys);
        }
    }
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
