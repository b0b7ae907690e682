use std::sync::Arc;
use std::time::Duration;

use super::{DeadLetterAction, DeadLetterFilter, DeadLetterKey, DeadLetterStore};
use crate::error::StoreError;
use crate::queue::Queue;

/// Dead letters fetched per listing page while collecting a filter's keys.
const PAGE: usize = 500;

/// Replays dead letters: revives them in the store and puts their jobs on
/// the queue. Shared by the admin API, the admin pages and the CLI.
#[derive(Debug, Clone)]
pub struct Replayer {
    dead: Arc<dyn DeadLetterStore>,
    queue: Arc<dyn Queue>,
}

impl Replayer {
    /// Replays from `dead` onto `queue`.
    pub fn new(dead: Arc<dyn DeadLetterStore>, queue: Arc<dyn Queue>) -> Self {
        Self { dead, queue }
    }

    /// Every dead letter matching `filter`, as keys, oldest first.
    pub async fn matching(
        &self,
        filter: &DeadLetterFilter,
    ) -> Result<Vec<DeadLetterKey>, StoreError> {
        let mut keys = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.dead.list_dead(filter, cursor.as_ref(), PAGE).await?;
            let full = page.len() == PAGE;
            cursor = page.last().map(|d| d.cursor());
            keys.extend(page.iter().map(|d| d.key()));
            if !full {
                return Ok(keys);
            }
        }
    }

    /// Replays `keys` and enqueues their jobs; returns how many deliveries
    /// were revived. A job that cannot be enqueued stays pending in the event
    /// log, where the reconciler finds it.
    pub async fn replay(
        &self,
        keys: &[DeadLetterKey],
        action: &DeadLetterAction,
    ) -> Result<usize, StoreError> {
        let jobs = self.dead.replay(keys, action).await?;
        for job in &jobs {
            if let Err(err) = self.queue.enqueue(job, Duration::ZERO).await {
                tracing::warn!(event_id = %job.event_id, error = %err, "replayed delivery left pending; the reconciler will enqueue it");
            }
        }
        let revived = jobs.iter().map(|j| j.sinks.len()).sum();
        tracing::info!(actor = %action.actor, reason = %action.reason, filter = action.filter.as_deref().unwrap_or(""), revived, "dead letters replayed");
        Ok(revived)
    }
}
