//! `wp-bridge dlq …`: the dead-letter queue from the command line, straight
//! on Postgres (replays are enqueued on Redis when `REDIS_URL` is set;
//! without it they stay pending until a gateway's reconciler enqueues them).

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use serde_json::json;
use wp_bridge::core::dead_letter::{
    DeadLetter, DeadLetterAction, DeadLetterFilter, DeadLetterKey, DeadLetterStore, Replayer,
};
use wp_bridge::core::event::{EventId, SinkName};
use wp_bridge::core::event_log::{AttemptOutcome, EventLog};
use wp_bridge::core::queue::Queue;

/// Dead-letter commands.
#[derive(Subcommand)]
pub(crate) enum Dlq {
    /// List dead letters (oldest first).
    List {
        #[command(flatten)]
        filter: FilterArgs,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one dead letter with its payload and attempts.
    Show {
        event_id: String,
        sink: String,
        #[arg(long)]
        json: bool,
    },
    /// Replay dead letters: given ones, or every one matching the filters.
    Replay {
        /// `EVENT_ID:SINK` pairs; without them, the filters select.
        keys: Vec<String>,
        #[command(flatten)]
        filter: FilterArgs,
        /// Count what would be replayed, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Why (kept in the audit trail).
        #[arg(long, default_value = "replayed from the CLI")]
        reason: String,
        /// At most this many replays a second (0: no limit).
        #[arg(long, default_value_t = 0)]
        rate: u32,
    },
    /// Discard dead letters for good (kept for audit).
    Discard {
        /// `EVENT_ID:SINK` pairs.
        #[arg(required = true)]
        keys: Vec<String>,
        /// Why (kept in the audit trail).
        #[arg(long)]
        reason: String,
        #[arg(long)]
        yes: bool,
    },
    /// Counts by sink and error class, and the oldest entry's age.
    Stats {
        #[arg(long)]
        json: bool,
    },
}

/// The same filters as the admin API.
#[derive(Args, Default)]
pub(crate) struct FilterArgs {
    #[arg(long)]
    event_type: Option<String>,
    #[arg(long)]
    sink: Option<String>,
    /// The last HTTP status.
    #[arg(long)]
    status: Option<u16>,
    #[arg(long)]
    site: Option<String>,
    /// Died at or after (unix seconds).
    #[arg(long)]
    since: Option<u64>,
    /// Died before (unix seconds).
    #[arg(long)]
    until: Option<u64>,
    /// Text in the last error.
    #[arg(long, short = 'q')]
    text: Option<String>,
}

impl FilterArgs {
    fn to_filter(&self) -> Result<DeadLetterFilter, String> {
        let at = |s: u64| UNIX_EPOCH + Duration::from_secs(s);
        Ok(DeadLetterFilter {
            event_type: self
                .event_type
                .as_deref()
                .map(|t| {
                    t.parse()
                        .map_err(|()| format!("--event-type: unknown event type {t:?}"))
                })
                .transpose()?,
            sink: self.sink.as_deref().map(SinkName::new),
            status_code: self.status,
            site: self.site.clone(),
            since: self.since.map(at),
            until: self.until.map(at),
            text: self.text.clone(),
        })
    }
}

fn key(raw: &str) -> Result<DeadLetterKey, String> {
    let (event_id, sink) = raw
        .rsplit_once(':')
        .ok_or_else(|| format!("{raw:?} is not EVENT_ID:SINK"))?;
    Ok(DeadLetterKey {
        event_id: EventId::new(event_id).map_err(|e| e.to_string())?,
        sink: SinkName::new(sink),
    })
}

fn when(t: SystemTime) -> String {
    wp_bridge::core::clock::rfc3339(t)
}

fn line(d: &DeadLetter) -> serde_json::Value {
    json!({
        "event_id": d.event_id, "sink": d.sink, "event_type": d.event_type, "site": d.site,
        "correlation_id": d.correlation_id, "attempts": d.attempts, "last_status_code": d.last_status_code,
        "last_error": d.last_error, "dead_at": when(d.dead_at),
    })
}

fn confirm(question: &str, yes: bool) -> Result<bool, String> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(format!(
            "{question} — not a terminal: pass --yes to confirm"
        ));
    }
    print!("{question} [y/N] ");
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| e.to_string())?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

/// Runs one `dlq` command.
pub(crate) async fn run(
    command: Dlq,
    dead: Arc<dyn DeadLetterStore>,
    log: Arc<dyn EventLog>,
    queue: Arc<dyn Queue>,
) -> Result<(), String> {
    let err = |e: wp_bridge::core::StoreError| e.to_string();
    match command {
        Dlq::List {
            filter,
            limit,
            json,
        } => {
            let rows = dead
                .list_dead(&filter.to_filter()?, None, limit)
                .await
                .map_err(err)?;
            if json {
                for d in &rows {
                    println!("{}", line(d));
                }
            } else {
                println!(
                    "{:<38} {:<10} {:<16} {:>6} {:>4}  {:<20}  LAST ERROR",
                    "EVENT", "SINK", "TYPE", "STATUS", "TRY", "DIED"
                );
                for d in &rows {
                    let error: String = d
                        .last_error
                        .as_deref()
                        .unwrap_or("")
                        .chars()
                        .take(60)
                        .collect();
                    let status = d
                        .last_status_code
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "-".into());
                    println!(
                        "{:<38} {:<10} {:<16} {:>6} {:>4}  {:<20}  {error}",
                        d.event_id.as_str(),
                        d.sink.as_str(),
                        d.event_type.as_str(),
                        status,
                        d.attempts,
                        when(d.dead_at)
                    );
                }
                println!("{} shown", rows.len());
            }
        }
        Dlq::Show {
            event_id,
            sink,
            json,
        } => {
            let id = EventId::new(event_id).map_err(|e| e.to_string())?;
            let stored = log.load(&id).await.map_err(err)?.ok_or("no such event")?;
            let sink = SinkName::new(sink);
            let delivery = stored
                .delivery(&sink)
                .ok_or("the event has no delivery to that sink")?;
            let attempts = log.attempts(&id).await.map_err(err)?;
            let payload: serde_json::Value =
                serde_json::from_slice(&stored.raw).unwrap_or_default();
            let attempts: Vec<_> = attempts
                .iter()
                .filter(|a| a.sink == sink)
                .map(|a| {
                    let (outcome, status, error) = match &a.outcome {
                        AttemptOutcome::Delivered { .. } => ("delivered", None, None),
                        AttemptOutcome::Retry { status_code, error, .. } => ("retry", *status_code, Some(error.clone())),
                        AttemptOutcome::Dead { status_code, error } => ("dead", *status_code, Some(error.clone())),
                    };
                    json!({"attempt": a.attempt, "started_at": when(a.started_at), "duration_ms": a.duration.as_millis() as u64, "outcome": outcome, "status_code": status, "error": error})
                })
                .collect();
            let shown = json!({
                "event_id": id, "sink": sink, "state": delivery.state.as_str(), "attempts": delivery.attempts,
                "last_error": delivery.last_error, "correlation_id": stored.correlation_id,
                "received_at": when(stored.received_at), "history": attempts, "payload": payload,
            });
            if json {
                println!("{shown}");
            } else {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&shown).unwrap_or_default()
                );
            }
        }
        Dlq::Replay {
            keys,
            filter,
            dry_run,
            yes,
            reason,
            rate,
        } => {
            let replayer = Replayer::new(dead, queue);
            let filter = filter.to_filter()?;
            let (keys, action) = if keys.is_empty() {
                let action = DeadLetterAction::new(actor(), reason).with_filter(&filter);
                (replayer.matching(&filter).await.map_err(err)?, action)
            } else {
                (
                    keys.iter().map(|k| key(k)).collect::<Result<Vec<_>, _>>()?,
                    DeadLetterAction::new(actor(), reason),
                )
            };
            if dry_run {
                println!("{} dead letter(s) would be replayed", keys.len());
                return Ok(());
            }
            if keys.is_empty() || !confirm(&format!("Replay {} dead letter(s)?", keys.len()), yes)?
            {
                println!("nothing replayed");
                return Ok(());
            }
            let started = std::time::Instant::now();
            let batch = if rate > 0 { rate as usize } else { 1000 };
            let mut replayed = 0;
            for chunk in keys.chunks(batch) {
                let tick = tokio::time::Instant::now();
                replayed += replayer.replay(chunk, &action).await.map_err(err)?;
                if rate > 0 {
                    tokio::time::sleep_until(tick + Duration::from_secs(1)).await;
                }
            }
            println!(
                "{replayed} delivery(ies) replayed in {:.2} s",
                started.elapsed().as_secs_f64()
            );
        }
        Dlq::Discard { keys, reason, yes } => {
            let keys = keys.iter().map(|k| key(k)).collect::<Result<Vec<_>, _>>()?;
            if !confirm(
                &format!("Discard {} dead letter(s) for good?", keys.len()),
                yes,
            )? {
                println!("nothing discarded");
                return Ok(());
            }
            let n = dead
                .discard(&keys, &DeadLetterAction::new(actor(), reason))
                .await
                .map_err(err)?;
            println!("{n} discarded");
        }
        Dlq::Stats { json } => {
            let stats = dead.stats().await.map_err(err)?;
            let age = stats.oldest_dead_at.map(|t| {
                SystemTime::now()
                    .duration_since(t)
                    .unwrap_or_default()
                    .as_secs()
            });
            let shown = json!({"total": stats.total, "by_sink": stats.by_sink, "by_status": stats.by_status, "oldest_age_seconds": age});
            if json {
                println!("{shown}");
            } else {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&shown).unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}
