//! The daily spending cap.
//!
//! Before a call, its worst case (estimated input tokens plus the full
//! output allowance, at the configured prices) is reserved against today's
//! cap; a call that would go over is not made. When the answer comes, the
//! reservation is replaced by the cost of the `usage` it reports; a call
//! that failed with an HTTP error gives its reservation back; a call cut off
//! by the latency budget keeps it, since OpenAI may still bill it.
//! "Today" is the UTC day of the configured clock. Amounts are integer
//! micro-dollars.

use std::sync::Mutex;

use wp_bridge_core::clock::SharedClock;

use crate::enrichment::TokenUsage;

/// Prices in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prices {
    /// Per million input (prompt) tokens.
    pub input_per_million: f64,
    /// Per million output (completion) tokens.
    pub output_per_million: f64,
}

impl Prices {
    /// The cost of `input` and `output` tokens in micro-dollars, rounded up.
    /// A dollar per million tokens is a micro-dollar per token.
    pub(crate) fn micro_usd(&self, input: u64, output: u64) -> u64 {
        let cost = input as f64 * self.input_per_million + output as f64 * self.output_per_million;
        cost.ceil() as u64
    }

    pub(crate) fn usage_micro_usd(&self, usage: &TokenUsage) -> u64 {
        self.micro_usd(usage.prompt_tokens, usage.completion_tokens)
    }
}

/// Money set aside for one call on one day.
#[derive(Debug)]
pub(crate) struct Reservation {
    day: i64,
    amount: u64,
}

#[derive(Debug)]
struct Day {
    day: i64,
    spent: u64,
}

/// Today's spending against the cap.
#[derive(Debug)]
pub(crate) struct CostLedger {
    cap: u64,
    clock: SharedClock,
    today: Mutex<Day>,
}

impl CostLedger {
    pub(crate) fn new(cap_micro_usd: u64, clock: SharedClock) -> Self {
        let day = utc_day(&clock);
        Self {
            cap: cap_micro_usd,
            clock,
            today: Mutex::new(Day { day, spent: 0 }),
        }
    }

    fn lock_today(&self) -> std::sync::MutexGuard<'_, Day> {
        let mut today = self.today.lock().unwrap_or_else(|e| e.into_inner());
        let now = utc_day(&self.clock);
        if today.day != now {
            *today = Day { day: now, spent: 0 };
        }
        today
    }

    /// Sets `amount` aside, or answers what is already spent when it would
    /// go over the cap.
    pub(crate) fn reserve(&self, amount: u64) -> Result<Reservation, u64> {
        let mut today = self.lock_today();
        if today.spent.saturating_add(amount) > self.cap {
            return Err(today.spent);
        }
        today.spent += amount;
        Ok(Reservation {
            day: today.day,
            amount,
        })
    }

    /// Replaces a reservation by what the call actually cost.
    pub(crate) fn settle(&self, reservation: Reservation, actual: u64) {
        let mut today = self.lock_today();
        if today.day == reservation.day {
            today.spent = today.spent.saturating_sub(reservation.amount) + actual;
        }
    }

    /// Gives a reservation back: the call was not billed.
    pub(crate) fn release(&self, reservation: Reservation) {
        self.settle(reservation, 0);
    }

    /// Micro-dollars spent or reserved today.
    pub(crate) fn spent_today(&self) -> u64 {
        self.lock_today().spent
    }
}

fn utc_day(clock: &SharedClock) -> i64 {
    (clock.unix_seconds() / 86_400) as i64
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use wp_bridge_core::clock::ManualClock;

    use super::*;

    const PRICES: Prices = Prices {
        input_per_million: 0.15,
        output_per_million: 0.60,
    };

    #[test]
    fn costs_round_up_to_the_micro_dollar() {
        assert_eq!(PRICES.micro_usd(1_000_000, 0), 150_000);
        assert_eq!(PRICES.micro_usd(0, 1_000_000), 600_000);
        assert_eq!(PRICES.micro_usd(1, 1), 1);
        assert_eq!(PRICES.micro_usd(0, 0), 0);
    }

    #[test]
    fn reservations_stop_at_the_cap_and_settle_to_the_actual_cost() {
        let clock = ManualClock::at_unix(86_400 * 100 + 10);
        let ledger = CostLedger::new(1_000, Arc::new(clock.clone()));
        let first = ledger.reserve(600).unwrap();
        assert_eq!(ledger.reserve(600).unwrap_err(), 600);
        ledger.settle(first, 100);
        assert_eq!(ledger.spent_today(), 100);
        let second = ledger.reserve(900).unwrap();
        assert_eq!(ledger.reserve(1).unwrap_err(), 1_000);
        ledger.release(second);
        assert_eq!(ledger.spent_today(), 100);

        // A new UTC day starts from zero, and yesterday's late settlement
        // does not count against it.
        let late = ledger.reserve(900).unwrap();
        clock.advance(Duration::from_secs(86_400));
        assert_eq!(ledger.spent_today(), 0);
        ledger.settle(late, 500);
        assert_eq!(ledger.spent_today(), 0);
        assert!(ledger.reserve(1_000).is_ok());
    }
}
