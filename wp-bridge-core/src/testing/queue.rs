//! [`Queue`] conformance cases. None assumes FIFO order.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{ManualClock, SharedClock};
use crate::error::StoreError;
use crate::event::{CorrelationId, EventId, Job, SinkName};
use crate::queue::Queue;

use super::eventually;

const LONG: Duration = Duration::from_secs(60);
const SHORT: Duration = Duration::from_millis(300);
const PATIENCE: Duration = Duration::from_secs(3);

async fn setup<F, Fut>(make: F) -> (Arc<dyn Queue>, ManualClock)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let clock = ManualClock::starting_now();
    (make(Arc::new(clock.clone())).await, clock)
}

fn job(id: &str) -> Job {
    Job {
        event_id: EventId::new(id).expect("valid test id"),
        correlation_id: CorrelationId::generate(),
        sinks: vec![SinkName::new("slack"), SinkName::new("hubspot")],
    }
}

/// Reserves whatever is visible within the patience window, advancing the clock by `step` first.
async fn reserve_eventually(
    queue: &Arc<dyn Queue>,
    clock: &ManualClock,
    step: Duration,
) -> Option<crate::queue::Reserved> {
    clock.advance(step);
    eventually(PATIENCE, || async {
        queue.reserve(LONG, Duration::ZERO).await.unwrap()
    })
    .await
}

/// A job comes back exactly as it went in.
pub async fn enqueued_job_round_trips_exactly<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let (queue, _) = setup(make).await;
    let j = job(&format!("ünïcødé-{}", "x".repeat(100)));
    queue.enqueue(&j, Duration::ZERO).await.unwrap();
    let got = queue
        .reserve(LONG, Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.job, j);
    assert_eq!(got.reservations, 1);
}

/// An acked job never comes back, even after its lease would have run out.
pub async fn acked_job_never_returns<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let (queue, clock) = setup(make).await;
    queue.enqueue(&job("acked"), Duration::ZERO).await.unwrap();
    let got = queue
        .reserve(SHORT, Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    queue.ack(&got.lease).await.unwrap();
    clock.advance(SHORT * 2);
    tokio::time::sleep(SHORT * 2).await;
    assert!(queue.reserve(LONG, Duration::ZERO).await.unwrap().is_none());
    assert_eq!(queue.depth().await.unwrap(), 0);
    assert!(matches!(
        queue.ack(&got.lease).await,
        Err(StoreError::LeaseLost)
    ));
}

/// A retried job is hidden for its delay, then comes back.
pub async fn retried_job_returns_after_its_delay<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let (queue, clock) = setup(make).await;
    let j = job("retried");
    queue.enqueue(&j, Duration::ZERO).await.unwrap();
    let first = queue
        .reserve(LONG, Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    queue.retry(&first.lease, SHORT).await.unwrap();
    assert!(queue.reserve(LONG, Duration::ZERO).await.unwrap().is_none());
    assert_eq!(queue.depth().await.unwrap(), 1);
    let again = reserve_eventually(&queue, &clock, SHORT)
        .await
        .expect("retried job returns");
    assert_eq!(again.job, j);
    assert_eq!(again.reservations, 2);
}

/// A job whose lease runs out goes to the next consumer; the first
/// consumer's lease is then lost.
pub async fn expired_lease_is_redelivered_and_the_old_lease_is_lost<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let (queue, clock) = setup(make).await;
    let j = job("crashed-worker");
    queue.enqueue(&j, Duration::ZERO).await.unwrap();
    let first = queue
        .reserve(SHORT, Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    let second = reserve_eventually(&queue, &clock, SHORT)
        .await
        .expect("redelivered");
    assert_eq!(second.job, j);
    assert_ne!(first.lease, second.lease);
    assert!(matches!(
        queue.ack(&first.lease).await,
        Err(StoreError::LeaseLost)
    ));
    queue.ack(&second.lease).await.unwrap();
    assert_eq!(queue.depth().await.unwrap(), 0);
}

/// Four consumers reserving 40 jobs at once never get the same job twice.
pub async fn two_consumers_never_hold_the_same_job<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let (queue, _) = setup(make).await;
    for i in 0..40 {
        queue
            .enqueue(&job(&format!("job-{i}")), Duration::ZERO)
            .await
            .unwrap();
    }
    let consumers = (0..4).map(|_| {
        let queue = queue.clone();
        tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(r) = queue
                .reserve(LONG, Duration::from_millis(200))
                .await
                .unwrap()
            {
                got.push(r.job.event_id);
            }
            got
        })
    });
    let mut seen = HashSet::new();
    let mut total = 0;
    for consumer in consumers {
        for id in consumer.await.unwrap() {
            total += 1;
            assert!(seen.insert(id.clone()), "{id} was handed out twice");
        }
    }
    assert_eq!(total, 40);
}

/// A delayed job is invisible until due, but counted in the depth.
pub async fn delayed_job_stays_hidden_until_due<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let (queue, clock) = setup(make).await;
    let j = job("delayed");
    queue.enqueue(&j, SHORT).await.unwrap();
    assert!(queue.reserve(LONG, Duration::ZERO).await.unwrap().is_none());
    assert_eq!(queue.depth().await.unwrap(), 1);
    let got = reserve_eventually(&queue, &clock, SHORT)
        .await
        .expect("due job visible");
    assert_eq!(got.job, j);
}

/// Depth counts visible, delayed and leased jobs, and nothing settled.
pub async fn depth_counts_every_unsettled_job<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let (queue, _) = setup(make).await;
    assert_eq!(queue.depth().await.unwrap(), 0);
    queue.enqueue(&job("a"), Duration::ZERO).await.unwrap();
    queue.enqueue(&job("b"), Duration::ZERO).await.unwrap();
    queue.enqueue(&job("c"), LONG).await.unwrap();
    assert_eq!(queue.depth().await.unwrap(), 3);
    let leased = queue
        .reserve(LONG, Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(queue.depth().await.unwrap(), 3);
    queue.ack(&leased.lease).await.unwrap();
    assert_eq!(queue.depth().await.unwrap(), 2);
}

/// A dead-lettered job is out of circulation and out of the depth.
pub async fn dead_lettered_job_leaves_circulation<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let (queue, clock) = setup(make).await;
    queue.enqueue(&job("doomed"), Duration::ZERO).await.unwrap();
    let got = queue
        .reserve(SHORT, Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    queue
        .dead_letter(&got.lease, "slack: channel_is_archived")
        .await
        .unwrap();
    assert_eq!(queue.depth().await.unwrap(), 0);
    clock.advance(SHORT * 2);
    tokio::time::sleep(SHORT * 2).await;
    assert!(queue.reserve(LONG, Duration::ZERO).await.unwrap().is_none());
}

/// Reserving from an empty queue waits about the given time and returns nothing.
pub async fn reserve_on_an_empty_queue_returns_none_after_waiting<F, Fut>(make: F)
where
    F: FnOnce(SharedClock) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let (queue, _) = setup(make).await;
    let started = std::time::Instant::now();
    assert!(queue
        .reserve(LONG, Duration::from_millis(100))
        .await
        .unwrap()
        .is_none());
    assert!(started.elapsed() >= Duration::from_millis(90));
}
