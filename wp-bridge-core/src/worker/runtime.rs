use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::panic::AssertUnwindSafe;

use futures_util::future::join_all;
use futures_util::FutureExt as _;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::RetryPolicy;
use crate::clock::{SharedClock, SystemClock};
use crate::event::{Job, SinkName};
use crate::event_log::{AttemptOutcome, AttemptStart, DeliveryState, EventLog, StoredEvent};
use crate::monitor::{DeliveryObserver, Observed};
use crate::queue::{Queue, Reserved};
use crate::sink::{DeliveryContext, DeliveryError, Sink};

/// What happened to one sink of a job.
#[derive(Debug)]
enum SinkOutcome {
    /// Delivered now or before: nothing more to do.
    Done,
    /// Dead-lettered now or before.
    Dead(String),
    /// Try this sink again after the delay.
    RetryIn(Duration),
    /// Shutdown cut the attempt short; hand the job back at once.
    Interrupted,
}

/// Builds a [`Worker`].
#[derive(Debug)]
#[must_use]
pub struct WorkerBuilder {
    queue: Arc<dyn Queue>,
    log: Arc<dyn EventLog>,
    sinks: HashMap<SinkName, Arc<dyn Sink>>,
    enrichers: HashSet<SinkName>,
    observers: Vec<Arc<dyn DeliveryObserver>>,
    policy: RetryPolicy,
    concurrency: usize,
    lease: Duration,
    poll_wait: Duration,
    shutdown_grace: Duration,
    clock: SharedClock,
    heartbeat: Arc<std::sync::atomic::AtomicU64>,
}

impl WorkerBuilder {
    /// Adds a sink under `name` (the name routes refer to).
    pub fn sink(mut self, name: impl AsRef<str>, sink: Arc<dyn Sink>) -> Self {
        self.sinks.insert(SinkName::new(name), sink);
        self
    }

    /// Adds an enricher under `name`: a sink that runs before the event's
    /// other sinks and whose [`Delivered::output`](crate::sink::Delivered)
    /// they receive in [`DeliveryContext::enrichment`]. While an enricher of
    /// the event is still being retried, the other sinks wait for it; once it
    /// is delivered or dead they go ahead (with or without its output).
    pub fn enricher(mut self, name: impl AsRef<str>, sink: Arc<dyn Sink>) -> Self {
        let name = SinkName::new(name);
        self.enrichers.insert(name.clone());
        self.sinks.insert(name, sink);
        self
    }

    /// Tells `observer` (an [`AlertMonitor`](crate::monitor::AlertMonitor),
    /// say) how every attempt ended.
    pub fn observer(mut self, observer: Arc<dyn DeliveryObserver>) -> Self {
        self.observers.push(observer);
        self
    }

    /// Backoff and attempt budget (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Jobs processed at once (default 4).
    pub fn concurrency(mut self, jobs: usize) -> Self {
        self.concurrency = jobs.max(1);
        self
    }

    /// How long a reserved job and an in-flight delivery are held before
    /// another worker may take them over (default 60 s). Keep it above the
    /// slowest sink's timeout.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long one `reserve` call waits for work (default 1 s).
    pub fn poll_wait(mut self, wait: Duration) -> Self {
        self.poll_wait = wait;
        self
    }

    /// How long in-flight deliveries may run after shutdown is requested
    /// before they are interrupted and their jobs handed back (default 10 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// The clock retry times are computed on.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The worker.
    pub fn build(self) -> Worker {
        Worker {
            inner: Arc::new(self),
        }
    }
}

/// Delivers queued events to sinks. Cheap to clone.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::sync::Arc;
/// use wp_bridge_core::clock::SystemClock;
/// use wp_bridge_core::event_log::MemoryEventLog;
/// use wp_bridge_core::queue::MemoryQueue;
/// use wp_bridge_core::sink::LogSink;
/// use wp_bridge_core::worker::Worker;
///
/// let clock = SystemClock::shared();
/// let worker = Worker::builder(
///         Arc::new(MemoryQueue::new(clock.clone())),
///         Arc::new(MemoryEventLog::new(clock)),
///     )
///     .sink("log", Arc::new(LogSink::stdout()))
///     .build();
/// let handle = worker.spawn();
/// handle.shutdown().await; // stops taking jobs, finishes or hands back in-flight ones
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Worker {
    inner: Arc<WorkerBuilder>,
}

/// A running worker.
#[derive(Debug)]
pub struct WorkerHandle {
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl WorkerHandle {
    /// Requests a graceful shutdown and waits for it.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        if let Err(err) = self.task.await {
            tracing::error!(error = %err, "worker task ended abnormally");
        }
    }

    /// The token that stops this worker when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }
}

impl Worker {
    /// A worker reading `queue` and recording into `log`.
    pub fn builder(queue: Arc<dyn Queue>, log: Arc<dyn EventLog>) -> WorkerBuilder {
        WorkerBuilder {
            queue,
            log,
            sinks: HashMap::new(),
            enrichers: HashSet::new(),
            observers: Vec::new(),
            policy: RetryPolicy::default(),
            concurrency: 4,
            lease: Duration::from_secs(60),
            poll_wait: Duration::from_secs(1),
            shutdown_grace: Duration::from_secs(10),
            clock: SystemClock::shared(),
            heartbeat: Arc::default(),
        }
    }

    /// When a poll loop last came round (unix milliseconds; 0 before the
    /// first): a loop that stops coming round is a stuck or dead worker.
    /// Reads are cheap; readiness checks use it.
    pub fn heartbeat(&self) -> Arc<std::sync::atomic::AtomicU64> {
        self.inner.heartbeat.clone()
    }

    /// Runs on the current runtime until [`WorkerHandle::shutdown`].
    pub fn spawn(self) -> WorkerHandle {
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(self.run(shutdown.clone()));
        WorkerHandle { shutdown, task }
    }

    /// Runs until `shutdown` is cancelled: then stops reserving, lets
    /// in-flight jobs finish for the grace period, interrupts the rest and
    /// hands their jobs back to the queue.
    pub async fn run(self, shutdown: CancellationToken) {
        let hard_stop = CancellationToken::new();
        let mut loops = JoinSet::new();
        for _ in 0..self.inner.concurrency {
            loops.spawn(self.clone().poll_loop(shutdown.clone(), hard_stop.clone()));
        }
        shutdown.cancelled().await;
        tracing::info!("worker shutting down: no new jobs, finishing in-flight ones");
        let drained = tokio::time::timeout(self.inner.shutdown_grace, async {
            while loops.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("grace period over: interrupting in-flight deliveries");
            hard_stop.cancel();
            while loops.join_next().await.is_some() {}
        }
        tracing::info!("worker stopped");
    }

    async fn poll_loop(self, shutdown: CancellationToken, hard_stop: CancellationToken) {
        let w = &self.inner;
        loop {
            let now_ms = w
                .clock
                .now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                .unwrap_or(0);
            w.heartbeat
                .store(now_ms, std::sync::atomic::Ordering::Relaxed);
            let reserved = tokio::select! {
                biased;
                () = shutdown.cancelled() => return,
                r = w.queue.reserve(w.lease, w.poll_wait) => r,
            };
            match reserved {
                Ok(Some(reserved)) => self.process(reserved, &hard_stop).await,
                Ok(None) => {}
                Err(err) => {
                    tracing::error!(error = %err, "queue unavailable, backing off");
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(w.poll_wait) => {}
                    }
                }
            }
        }
    }

    /// Processes one reserved job to the end: delivers, records, settles.
    pub async fn process(&self, reserved: Reserved, hard_stop: &CancellationToken) {
        metrics::gauge!(crate::metrics::JOBS_IN_FLIGHT).increment(1.0);
        let _in_flight = InFlightGuard;
        let span = tracing::info_span!(
            "job",
            event_id = %reserved.job.event_id,
            correlation_id = %reserved.job.correlation_id,
            reservations = reserved.reservations,
        );
        self.process_inner(reserved, hard_stop)
            .instrument(span)
            .await;
    }

    async fn process_inner(&self, reserved: Reserved, hard_stop: &CancellationToken) {
        let w = &self.inner;
        let Reserved { job, lease, .. } = reserved;
        let stored = match w.log.load(&job.event_id).await {
            Ok(Some(stored)) => stored,
            Ok(None) => {
                tracing::error!("job names an event the event log does not have");
                settle(
                    w.queue
                        .dead_letter(&lease, "event not found in the event log")
                        .await,
                );
                return;
            }
            Err(err @ crate::error::StoreError::Corrupt(_)) => {
                // Retrying cannot fix a record that does not decode.
                tracing::error!(error = %err, "event record unreadable, job dead-lettered");
                settle(w.queue.dead_letter(&lease, &err.to_string()).await);
                return;
            }
            Err(err) => {
                tracing::error!(error = %err, "event log unavailable, job handed back");
                settle(w.queue.retry(&lease, w.policy.delay(1, None)).await);
                return;
            }
        };
        let (enrichers, others): (Vec<&SinkName>, Vec<&SinkName>) =
            job.sinks.iter().partition(|s| w.enrichers.contains(*s));
        let mut by_sink: HashMap<&SinkName, SinkOutcome> = HashMap::new();
        let mut stored = stored;
        if !enrichers.is_empty() {
            let done = join_all(
                enrichers
                    .iter()
                    .map(|sink| self.deliver_one(&stored, &job, sink, BTreeMap::new(), hard_stop)),
            )
            .await;
            by_sink.extend(enrichers.iter().copied().zip(done));
            // Reload: the later sinks need what the enrichers just produced.
            if let Ok(Some(fresh)) = w.log.load(&job.event_id).await {
                stored = fresh;
            }
        }
        // "Enrich before CRM insert": while an enricher is still being
        // retried, the other sinks wait for it.
        let deferred = self.unfinished_enrichment(&stored);
        if deferred.is_none() {
            let enrichment: BTreeMap<SinkName, serde_json::Value> = stored
                .deliveries
                .iter()
                .filter(|d| w.enrichers.contains(&d.sink))
                .filter_map(|d| Some((d.sink.clone(), d.output.clone()?)))
                .collect();
            let done =
                join_all(others.iter().map(|sink| {
                    self.deliver_one(&stored, &job, sink, enrichment.clone(), hard_stop)
                }))
                .await;
            by_sink.extend(others.iter().copied().zip(done));
        }

        if by_sink
            .values()
            .any(|o| matches!(o, SinkOutcome::Interrupted))
        {
            settle(w.queue.retry(&lease, Duration::ZERO).await);
            return;
        }
        if let Some(wait) = deferred {
            // Keep the job whole: it comes back when the enricher is due,
            // and the sinks already delivered are skipped then.
            settle(w.queue.retry(&lease, wait).await);
            return;
        }
        let outcomes: Vec<SinkOutcome> = job
            .sinks
            .iter()
            .map(|sink| by_sink.remove(sink).unwrap_or(SinkOutcome::Done))
            .collect();
        let retries: Vec<(&SinkName, Duration)> = job
            .sinks
            .iter()
            .zip(&outcomes)
            .filter_map(|(sink, o)| match o {
                SinkOutcome::RetryIn(delay) => Some((sink, *delay)),
                _ => None,
            })
            .collect();
        match retries.as_slice() {
            [] => {
                let dead: Vec<String> = job
                    .sinks
                    .iter()
                    .zip(&outcomes)
                    .filter_map(|(sink, o)| match o {
                        SinkOutcome::Dead(error) => Some(format!("{sink}: {error}")),
                        _ => None,
                    })
                    .collect();
                if dead.len() == job.sinks.len() && !dead.is_empty() {
                    settle(w.queue.dead_letter(&lease, &dead.join("; ")).await);
                } else {
                    settle(w.queue.ack(&lease).await);
                }
            }
            [(_, delay)] if job.sinks.len() == 1 => {
                settle(w.queue.retry(&lease, *delay).await);
            }
            _ => {
                // Sinks of one job failed differently: each retry becomes its
                // own single-sink job with its own delay. If the ack below is
                // lost the original job comes back, and the event log skips
                // the sinks already delivered.
                for (sink, delay) in retries {
                    let split = Job {
                        event_id: job.event_id.clone(),
                        correlation_id: job.correlation_id.clone(),
                        sinks: vec![sink.clone()],
                    };
                    if let Err(err) = w.queue.enqueue(&split, delay).await {
                        tracing::error!(error = %err, %sink, "could not schedule the retry; the job will come back after its lease");
                        return;
                    }
                }
                settle(w.queue.ack(&lease).await);
            }
        }
    }

    /// When an enricher of this event is neither delivered nor dead, how long
    /// until it is due again.
    fn unfinished_enrichment(&self, stored: &StoredEvent) -> Option<Duration> {
        let w = &self.inner;
        stored
            .deliveries
            .iter()
            .filter(|d| w.enrichers.contains(&d.sink))
            .filter(|d| !d.state.is_final())
            .map(|d| match d.state {
                DeliveryState::InFlight => w.lease,
                _ => d
                    .next_attempt_at
                    .and_then(|at| at.duration_since(w.clock.now()).ok())
                    .unwrap_or(Duration::ZERO),
            })
            .max()
    }

    async fn deliver_one(
        &self,
        stored: &StoredEvent,
        job: &Job,
        sink_name: &SinkName,
        enrichment: BTreeMap<SinkName, serde_json::Value>,
        hard_stop: &CancellationToken,
    ) -> SinkOutcome {
        let w = &self.inner;
        let id = &job.event_id;
        let attempt = match w.log.begin_attempt(id, sink_name, w.lease).await {
            Ok(AttemptStart::Started { attempt }) => attempt,
            Ok(AttemptStart::AlreadyDelivered) => {
                tracing::info!(sink = %sink_name, "already delivered, skipped");
                return SinkOutcome::Done;
            }
            Ok(AttemptStart::Dead) => return SinkOutcome::Dead("dead-lettered earlier".into()),
            Ok(AttemptStart::Busy) => return SinkOutcome::RetryIn(w.lease),
            Err(err) => {
                tracing::error!(sink = %sink_name, error = %err, "could not start the attempt");
                return SinkOutcome::RetryIn(w.policy.delay(1, None));
            }
        };
        let span = tracing::info_span!("deliver", sink = %sink_name, attempt);
        async {
            let started_at = w.clock.now();
            let started = Instant::now();
            let result = match w.sinks.get(sink_name) {
                None => Some(Err(DeliveryError::permanent(format!(
                    "no sink named {sink_name:?} is configured on this worker; add it to the worker or fix the routes"
                )))),
                Some(sink) => {
                    let ctx = DeliveryContext {
                        event_id: id.clone(),
                        correlation_id: job.correlation_id.clone(),
                        sink: sink_name.clone(),
                        attempt,
                        enrichment,
                        traceparent: stored.traceparent.clone(),
                    };
                    // A panicking sink is a bug in that sink; it must not take
                    // this worker loop down with it.
                    let call = AssertUnwindSafe(sink.deliver(&stored.event, &ctx)).catch_unwind();
                    tokio::select! {
                        r = call => Some(r.unwrap_or_else(|_| Err(DeliveryError::retryable(
                            "the sink panicked (a bug in the sink; see the worker's stderr)",
                        )))),
                        () = hard_stop.cancelled() => None,
                    }
                }
            };
            let duration = started.elapsed();
            let (outcome, record) = match result {
                None => (
                    SinkOutcome::Interrupted,
                    AttemptOutcome::Retry {
                        next_attempt_at: w.clock.now(),
                        error: "interrupted by worker shutdown".into(),
                        status_code: None,
                    },
                ),
                Some(Ok(delivered)) => {
                    tracing::info!(duration_ms = duration.as_millis() as u64, "delivered");
                    (
                        SinkOutcome::Done,
                        AttemptOutcome::Delivered {
                            reference: delivered.reference,
                            output: delivered.output,
                        },
                    )
                }
                Some(Err(err)) => self.failure(attempt, err),
            };
            match w
                .log
                .finish_attempt(id, sink_name, attempt, started_at, duration, record)
                .await
            {
                Ok(()) => {
                    record_outcome(sink_name, &outcome, duration, stored.received_at, w.clock.now());
                    let observed = match outcome {
                        SinkOutcome::Done => Some(Observed::Delivered),
                        SinkOutcome::Dead(_) | SinkOutcome::RetryIn(_) => Some(Observed::Failed),
                        SinkOutcome::Interrupted => None,
                    };
                    if let Some(observed) = observed {
                        for observer in &w.observers {
                            observer.observe(sink_name, observed);
                        }
                    }
                    outcome
                }
                Err(err) => {
                    // Another worker took this delivery over (our lease ran
                    // out); it owns the outcome now.
                    tracing::warn!(error = %err, "attempt outcome not applied");
                    SinkOutcome::Done
                }
            }
        }
        .instrument(span)
        .await
    }

    fn failure(&self, attempt: u32, err: DeliveryError) -> (SinkOutcome, AttemptOutcome) {
        let w = &self.inner;
        let status_code = err.status_code();
        match err {
            DeliveryError::Retryable {
                message,
                retry_after,
                ..
            } if !w.policy.gives_up_after(attempt) => {
                let delay = w.policy.delay(attempt, retry_after);
                tracing::warn!(error = %message, retry_in_ms = delay.as_millis() as u64, "delivery failed, will retry");
                (
                    SinkOutcome::RetryIn(delay),
                    AttemptOutcome::Retry {
                        next_attempt_at: w.clock.now() + delay,
                        error: message,
                        status_code,
                    },
                )
            }
            DeliveryError::Retryable { message, .. } => {
                let error = format!("gave up after {attempt} attempts; last error: {message}");
                tracing::error!(%error, "delivery dead-lettered");
                (
                    SinkOutcome::Dead(error.clone()),
                    AttemptOutcome::Dead { error, status_code },
                )
            }
            DeliveryError::Permanent { message, .. } => {
                tracing::error!(error = %message, "permanent failure, delivery dead-lettered");
                (
                    SinkOutcome::Dead(message.clone()),
                    AttemptOutcome::Dead {
                        error: message,
                        status_code,
                    },
                )
            }
        }
    }
}

/// Decrements the in-flight gauge however processing ends.
struct InFlightGuard;

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        metrics::gauge!(crate::metrics::JOBS_IN_FLIGHT).decrement(1.0);
    }
}

fn record_outcome(
    sink: &SinkName,
    outcome: &SinkOutcome,
    duration: Duration,
    received_at: std::time::SystemTime,
    now: std::time::SystemTime,
) {
    let sink = sink.to_string();
    let label = match outcome {
        SinkOutcome::Done => "delivered",
        SinkOutcome::Dead(_) => "dead",
        SinkOutcome::RetryIn(_) => "retry",
        SinkOutcome::Interrupted => "interrupted",
    };
    metrics::counter!(crate::metrics::DELIVERIES, "sink" => sink.clone(), "outcome" => label)
        .increment(1);
    metrics::histogram!(crate::metrics::DELIVERY_SECONDS, "sink" => sink.clone())
        .record(duration.as_secs_f64());
    match outcome {
        SinkOutcome::Done => {
            let age = now.duration_since(received_at).unwrap_or_default();
            metrics::histogram!(crate::metrics::END_TO_END_SECONDS, "sink" => sink)
                .record(age.as_secs_f64());
        }
        SinkOutcome::RetryIn(_) => {
            metrics::counter!(crate::metrics::RETRIES, "sink" => sink).increment(1)
        }
        SinkOutcome::Dead(_) | SinkOutcome::Interrupted => {}
    }
}

fn settle(result: Result<(), crate::error::StoreError>) {
    if let Err(err) = result {
        tracing::warn!(error = %err, "could not settle the job; it will come back after its lease");
    }
}
