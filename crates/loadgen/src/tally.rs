//! What the buyers saw: status counts, checkout latencies and, per product, the units they won,
//! paid and cancelled.
//!
//! Each buyer keeps its own tally (no sharing on the hot path); tallies are merged at the end.
//! The few live counters for the progress line are atomics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::answer::Outcome;

/// Answers by outcome. `ok` is 201 for checkouts and 200 for pay and cancel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub ok: u64,
    pub insufficient_stock: u64,
    pub contention: u64,
    pub other_4xx: u64,
    pub server_5xx: u64,
    pub transport_errors: u64,
    pub other: u64,
}

impl Counts {
    pub fn add(&mut self, outcome: Outcome) {
        let slot = match outcome {
            Outcome::Ok => &mut self.ok,
            Outcome::InsufficientStock => &mut self.insufficient_stock,
            Outcome::Contention => &mut self.contention,
            Outcome::Other4xx => &mut self.other_4xx,
            Outcome::Server5xx => &mut self.server_5xx,
            Outcome::Transport => &mut self.transport_errors,
            Outcome::Other => &mut self.other,
        };
        *slot += 1;
    }

    pub fn merge(&mut self, o: &Self) {
        self.ok += o.ok;
        self.insufficient_stock += o.insufficient_stock;
        self.contention += o.contention;
        self.other_4xx += o.other_4xx;
        self.server_5xx += o.server_5xx;
        self.transport_errors += o.transport_errors;
        self.other += o.other;
    }

    #[must_use]
    pub fn total(&self) -> u64 {
        self.ok
            + self.insufficient_stock
            + self.contention
            + self.other_4xx
            + self.server_5xx
            + self.transport_errors
            + self.other
    }
}

/// The counts and latencies of one phase (warm-up or measured) of one or all buyers.
#[derive(Debug, Clone)]
pub struct Tally {
    pub checkouts: Counts,
    pub pays: Counts,
    pub cancels: Counts,
    /// Checkout latencies in microseconds.
    pub latency: Histogram<u64>,
}

impl Default for Tally {
    fn default() -> Self {
        // 1 µs to 10 minutes at 3 significant digits; longer values saturate at the top.
        let latency =
            Histogram::new_with_bounds(1, 600_000_000, 3).expect("constant bounds are valid");
        Self {
            checkouts: Counts::default(),
            pays: Counts::default(),
            cancels: Counts::default(),
            latency,
        }
    }
}

impl Tally {
    pub fn record_checkout(&mut self, outcome: Outcome, took: Duration) {
        self.checkouts.add(outcome);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
        self.latency.saturating_record(micros);
    }

    pub fn merge(&mut self, o: &Self) {
        self.checkouts.merge(&o.checkouts);
        self.pays.merge(&o.pays);
        self.cancels.merge(&o.cancels);
        // Same bounds everywhere, so adding cannot fail; saturate rather than panic regardless.
        if self.latency.add(&o.latency).is_err() {
            for v in o.latency.iter_recorded() {
                self.latency.saturating_record_n(v.value_iterated_to(), v.count_at_value());
            }
        }
    }

    /// Answers that break the run's promise: any 5xx and any request without an answer.
    #[must_use]
    pub fn errors(&self) -> u64 {
        [self.checkouts, self.pays, self.cancels]
            .iter()
            .map(|c| c.server_5xx + c.transport_errors)
            .sum()
    }
}

/// Units of one product, as seen in the answers the buyers received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Units {
    /// Sum of quantities in 201 checkout answers.
    pub won: u64,
    /// Units of orders paid with a 200.
    pub paid: u64,
    /// Units of orders cancelled with a 200.
    pub cancelled: u64,
}

impl Units {
    pub fn merge(&mut self, o: &Self) {
        self.won += o.won;
        self.paid += o.paid;
        self.cancelled += o.cancelled;
    }
}

/// Live counters for the progress line (measured phase only).
#[derive(Debug, Default)]
pub struct Live {
    pub ok: AtomicU64,
    pub insufficient_stock: AtomicU64,
    pub contention: AtomicU64,
    pub other: AtomicU64,
}

impl Live {
    pub fn add(&self, outcome: Outcome) {
        let slot = match outcome {
            Outcome::Ok => &self.ok,
            Outcome::InsufficientStock => &self.insufficient_stock,
            Outcome::Contention => &self.contention,
            _ => &self.other,
        };
        // Only read for display; no ordering with other memory is needed.
        slot.fetch_add(1, Ordering::Relaxed);
    }

    /// (201, 409, 503, other) so far.
    #[must_use]
    pub fn snapshot(&self) -> [u64; 4] {
        [&self.ok, &self.insufficient_stock, &self.contention, &self.other]
            .map(|a| a.load(Ordering::Relaxed))
    }
}
