//! A built-in alert monitor: tells a separate channel (a Slack alert
//! webhook) when deliveries start failing, stall, or dead letters pile up —
//! one message per incident and one when it is over, never a flood.
//!
//! The worker reports every finished attempt to a [`DeliveryObserver`]; the
//! monitor is one. Each worker process watches its own deliveries (with
//! several workers, each alerts on its share, which has the same rate).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::sync::{Arc, Mutex};
//! use async_trait::async_trait;
//! use wp_bridge_core::clock::ManualClock;
//! use wp_bridge_core::event::SinkName;
//! use wp_bridge_core::monitor::{Alert, AlertConfig, AlertMonitor, AlertNotifier, DeliveryObserver, Observed};
//!
//! #[derive(Debug, Default)]
//! struct Collect(Mutex<Vec<String>>);
//! #[async_trait]
//! impl AlertNotifier for Collect {
//!     async fn notify(&self, alert: &Alert) -> Result<(), String> {
//!         self.0.lock().unwrap().push(alert.to_string());
//!         Ok(())
//!     }
//! }
//!
//! let sent = Arc::new(Collect::default());
//! let monitor = AlertMonitor::new(AlertConfig::default(), sent.clone(), Arc::new(ManualClock::starting_now()));
//! for i in 0..100 {
//!     monitor.observe(&SinkName::new("slack"), if i < 10 { Observed::Failed } else { Observed::Delivered });
//! }
//! monitor.evaluate().await;
//! monitor.evaluate().await; // still failing: no second message
//! assert_eq!(sent.0.lock().unwrap().len(), 1);
//! # }
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::event::SinkName;

/// How an attempt ended, as far as alerting cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    /// The sink took it.
    Delivered,
    /// It failed (to be retried or dead-lettered).
    Failed,
}

/// Told about every finished delivery attempt.
pub trait DeliveryObserver: Send + Sync + fmt::Debug + 'static {
    /// One attempt on `sink` ended as `outcome`.
    fn observe(&self, sink: &SinkName, outcome: Observed);
}

/// Where alerts go.
#[async_trait]
pub trait AlertNotifier: Send + Sync + fmt::Debug + 'static {
    /// Sends one alert; an error is logged and the alert is tried again at
    /// the next evaluation.
    async fn notify(&self, alert: &Alert) -> Result<(), String>;
}

/// What the monitor says.
#[derive(Debug, Clone, PartialEq)]
pub enum Alert {
    /// The failure rate over the window passed the threshold.
    FailureRate {
        /// Failed attempts in the window.
        failed: u64,
        /// All attempts in the window.
        total: u64,
        /// The window.
        window: Duration,
    },
    /// Jobs are waiting but nothing has been delivered for a while.
    Stalled {
        /// Jobs waiting.
        pending: u64,
        /// Since the last delivery (or since the monitor started).
        for_: Duration,
    },
    /// Dead letters are piling up.
    DeadLettersGrowing {
        /// How many there were.
        from: u64,
        /// How many there are.
        to: u64,
    },
    /// An incident is over.
    Recovered(Incident),
}

/// The kinds of incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incident {
    /// Failure rate.
    FailureRate,
    /// Stall.
    Stalled,
    /// Dead letters growing.
    DeadLetters,
}

impl fmt::Display for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Alert::FailureRate { failed, total, window } => write!(
                f,
                ":rotating_light: wp-bridge: {failed} of {total} deliveries failed in the last {} min ({:.1} %). Check the dead letters and the sinks' status.",
                window.as_secs() / 60,
                *failed as f64 * 100.0 / (*total).max(1) as f64
            ),
            Alert::Stalled { pending, for_ } => write!(
                f,
                ":rotating_light: wp-bridge: {pending} job(s) waiting and nothing delivered for {} min. Are the workers running?",
                for_.as_secs() / 60
            ),
            Alert::DeadLettersGrowing { from, to } => write!(
                f,
                ":warning: wp-bridge: dead letters grew from {from} to {to}. See `wp-bridge dlq stats`."
            ),
            Alert::Recovered(Incident::FailureRate) => {
                f.write_str(":white_check_mark: wp-bridge: the delivery failure rate is back under the threshold.")
            }
            Alert::Recovered(Incident::Stalled) => {
                f.write_str(":white_check_mark: wp-bridge: deliveries are flowing again.")
            }
            Alert::Recovered(Incident::DeadLetters) => {
                f.write_str(":white_check_mark: wp-bridge: dead letters stopped growing.")
            }
        }
    }
}

/// Thresholds. Defaults: more than 2 % failed over 5 minutes with at least
/// 20 attempts; a stall after 10 minutes; dead-letter growth quiet for a
/// window counts as recovered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertConfig {
    /// The sliding window.
    pub window: Duration,
    /// Failure ratio that fires (exclusive).
    pub threshold: f64,
    /// Fewer attempts than this in the window never fire.
    pub min_volume: u64,
    /// Pending jobs and no delivery for this long is a stall.
    pub stall_after: Duration,
}

impl Default for AlertConfig {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(300),
            threshold: 0.02,
            min_volume: 20,
            stall_after: Duration::from_secs(600),
        }
    }
}

#[derive(Debug)]
struct State {
    attempts: VecDeque<(SystemTime, bool)>,
    last_delivery: SystemTime,
    pending: u64,
    dead_seen: Option<u64>,
    dead_from: u64,
    dead_grew_at: Option<SystemTime>,
    firing: [bool; 3],
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct AlertMonitor {
    config: AlertConfig,
    notifier: Arc<dyn AlertNotifier>,
    clock: SharedClock,
    state: Arc<Mutex<State>>,
}

impl AlertMonitor {
    /// A monitor sending to `notifier`.
    pub fn new(config: AlertConfig, notifier: Arc<dyn AlertNotifier>, clock: SharedClock) -> Self {
        let now = clock.now();
        Self {
            config,
            notifier,
            clock,
            state: Arc::new(Mutex::new(State {
                attempts: VecDeque::new(),
                last_delivery: now,
                pending: 0,
                dead_seen: None,
                dead_from: 0,
                dead_grew_at: None,
                firing: [false; 3],
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every critical section leaves the state consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many jobs are waiting (sampled from the queue).
    pub fn observe_pending(&self, pending: u64) {
        self.lock().pending = pending;
    }

    /// How many dead letters there are (sampled from the store).
    pub fn observe_dead_letters(&self, count: u64) {
        let now = self.clock.now();
        let mut state = self.lock();
        if let Some(before) = state.dead_seen {
            if count > before {
                if state.dead_grew_at.is_none() {
                    state.dead_from = before;
                }
                state.dead_grew_at = Some(now);
            }
        }
        state.dead_seen = Some(count);
    }

    /// Decides which incidents start or end now, and sends one message for
    /// each change. Returns what was sent.
    pub async fn evaluate(&self) -> Vec<Alert> {
        let now = self.clock.now();
        let changes = {
            let mut state = self.lock();
            let horizon = now
                .checked_sub(self.config.window)
                .unwrap_or(SystemTime::UNIX_EPOCH);
            while state.attempts.front().is_some_and(|(at, _)| *at < horizon) {
                state.attempts.pop_front();
            }
            let total = state.attempts.len() as u64;
            let failed = state.attempts.iter().filter(|(_, ok)| !ok).count() as u64;
            let rate_bad = total >= self.config.min_volume
                && failed as f64 > self.config.threshold * total as f64;
            let quiet_for = now.duration_since(state.last_delivery).unwrap_or_default();
            let stalled = state.pending > 0 && quiet_for >= self.config.stall_after;
            let dead_growing = state
                .dead_grew_at
                .is_some_and(|at| now.duration_since(at).unwrap_or_default() < self.config.window);
            if !dead_growing {
                state.dead_grew_at = None;
            }
            let conditions = [
                (
                    rate_bad,
                    Alert::FailureRate {
                        failed,
                        total,
                        window: self.config.window,
                    },
                    Incident::FailureRate,
                ),
                (
                    stalled,
                    Alert::Stalled {
                        pending: state.pending,
                        for_: quiet_for,
                    },
                    Incident::Stalled,
                ),
                (
                    dead_growing,
                    Alert::DeadLettersGrowing {
                        from: state.dead_from,
                        to: state.dead_seen.unwrap_or(0),
                    },
                    Incident::DeadLetters,
                ),
            ];
            conditions
                .into_iter()
                .enumerate()
                .filter_map(|(i, (bad, alert, incident))| match (state.firing[i], bad) {
                    (false, true) => Some((i, true, alert)),
                    (true, false) => Some((i, false, Alert::Recovered(incident))),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        let mut sent = Vec::new();
        for (index, firing, alert) in changes {
            match self.notifier.notify(&alert).await {
                Ok(()) => {
                    // Only a message that went out changes the state, so a
                    // failed send is tried again at the next evaluation.
                    self.lock().firing[index] = firing;
                    tracing::warn!(alert = %alert, "alert sent");
                    sent.push(alert);
                }
                Err(err) => {
                    tracing::error!(error = %err, "could not send an alert; will try again")
                }
            }
        }
        sent
    }

    /// Evaluates every `interval` until `shutdown`.
    pub async fn run(self, interval: Duration, shutdown: CancellationToken) {
        loop {
            self.evaluate().await;
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
        }
    }
}

impl DeliveryObserver for AlertMonitor {
    fn observe(&self, _sink: &SinkName, outcome: Observed) {
        let now = self.clock.now();
        let mut state = self.lock();
        state
            .attempts
            .push_back((now, outcome == Observed::Delivered));
        if outcome == Observed::Delivered {
            state.last_delivery = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[derive(Debug, Default)]
    struct Collect(Mutex<Vec<Alert>>);

    #[async_trait]
    impl AlertNotifier for Collect {
        async fn notify(&self, alert: &Alert) -> Result<(), String> {
            self.0.lock().unwrap().push(alert.clone());
            Ok(())
        }
    }

    fn setup() -> (AlertMonitor, Arc<Collect>, ManualClock) {
        let clock = ManualClock::starting_now();
        let sent = Arc::new(Collect::default());
        let monitor = AlertMonitor::new(
            AlertConfig::default(),
            sent.clone(),
            Arc::new(clock.clone()),
        );
        (monitor, sent, clock)
    }

    fn attempts(m: &AlertMonitor, delivered: usize, failed: usize) {
        let sink = SinkName::new("slack");
        for _ in 0..delivered {
            m.observe(&sink, Observed::Delivered);
        }
        for _ in 0..failed {
            m.observe(&sink, Observed::Failed);
        }
    }

    #[tokio::test]
    async fn failure_rate_fires_once_then_recovers_once() {
        let (m, sent, clock) = setup();
        attempts(&m, 98, 2); // exactly 2 %: not above the threshold
        assert!(m.evaluate().await.is_empty());
        attempts(&m, 0, 1);
        let fired = m.evaluate().await;
        assert!(
            matches!(
                fired[..],
                [Alert::FailureRate {
                    failed: 3,
                    total: 101,
                    ..
                }]
            ),
            "{fired:?}"
        );
        attempts(&m, 0, 50);
        assert!(m.evaluate().await.is_empty(), "one alert per incident");
        clock.advance(Duration::from_secs(301));
        attempts(&m, 100, 0);
        assert_eq!(
            m.evaluate().await,
            [Alert::Recovered(Incident::FailureRate)]
        );
        assert!(m.evaluate().await.is_empty());
        assert_eq!(sent.0.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn low_volume_never_fires() {
        let (m, _, _) = setup();
        attempts(&m, 0, 19);
        assert!(m.evaluate().await.is_empty());
    }

    #[tokio::test]
    async fn a_stall_fires_when_jobs_wait_and_nothing_is_delivered() {
        let (m, _, clock) = setup();
        m.observe_pending(5);
        clock.advance(Duration::from_secs(599));
        assert!(m.evaluate().await.is_empty());
        clock.advance(Duration::from_secs(2));
        assert!(matches!(
            m.evaluate().await[..],
            [Alert::Stalled { pending: 5, .. }]
        ));
        attempts(&m, 1, 0);
        assert_eq!(m.evaluate().await, [Alert::Recovered(Incident::Stalled)]);
    }

    #[tokio::test]
    async fn growing_dead_letters_fire_once_and_recover_after_a_quiet_window() {
        let (m, _, clock) = setup();
        m.observe_dead_letters(3);
        assert!(
            m.evaluate().await.is_empty(),
            "the first sample is the baseline"
        );
        m.observe_dead_letters(5);
        assert_eq!(
            m.evaluate().await,
            [Alert::DeadLettersGrowing { from: 3, to: 5 }]
        );
        clock.advance(Duration::from_secs(60));
        m.observe_dead_letters(9);
        assert!(m.evaluate().await.is_empty());
        clock.advance(Duration::from_secs(301));
        m.observe_dead_letters(9);
        assert_eq!(
            m.evaluate().await,
            [Alert::Recovered(Incident::DeadLetters)]
        );
    }

    #[derive(Debug, Default)]
    struct Flaky(Mutex<u32>);

    #[async_trait]
    impl AlertNotifier for Flaky {
        async fn notify(&self, _: &Alert) -> Result<(), String> {
            let mut calls = self.0.lock().unwrap();
            *calls += 1;
            if *calls == 1 {
                Err("Slack is down".into())
            } else {
                Ok(())
            }
        }
    }

    #[tokio::test]
    async fn an_alert_that_could_not_be_sent_is_sent_at_the_next_evaluation() {
        let clock = ManualClock::starting_now();
        let m = AlertMonitor::new(
            AlertConfig::default(),
            Arc::new(Flaky::default()),
            Arc::new(clock),
        );
        attempts(&m, 0, 30);
        assert!(m.evaluate().await.is_empty());
        assert_eq!(m.evaluate().await.len(), 1);
    }
}
