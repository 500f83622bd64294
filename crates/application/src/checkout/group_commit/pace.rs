//! [`Pace`]: how long a lane's batches have lately taken, to tell a newcomer whether the
//! queue ahead of it can be worked off before its deadline.
//!
//! The unit is the batch, not the order: a queue of Q drains in `Q / max_orders` batches,
//! whatever one order alone once took. A time per order measured on small batches (a cold
//! start's lone first checkout, light traffic) would predict a long queue's wait as many times
//! too long as the batches later grow, and refuse buyers who would have been served: three
//! server processes starting a flash sale shed 4 of 600 buyers that way in CI.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A moving average of a lane's batch time, shared by its worker (which records each batch)
/// and its callers (who estimate their wait). Lock-free: one word, written by whoever holds the
/// lane's turn (its worker, or a buyer committing alone), one at a time.
#[derive(Debug)]
pub(super) struct Pace {
    /// The most orders one batch takes.
    max_orders: usize,
    /// Nanoseconds per batch; 0 until the first batch.
    nanos_per_batch: AtomicU64,
}

impl Pace {
    /// The pace of a lane whose batches take at most `max_orders` orders.
    pub(super) fn new(max_orders: usize) -> Self {
        Self { max_orders: max_orders.max(1), nanos_per_batch: AtomicU64::new(0) }
    }

    /// Folds in a batch that took `took`, weighing it an eighth: quick to follow a lane that
    /// slows down (a row lock held elsewhere), without one odd batch ruling it.
    pub(super) fn record(&self, took: Duration) {
        let sample = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        let old = self.nanos_per_batch.load(Ordering::Relaxed);
        let new = if old == 0 { sample } else { old - old / 8 + sample / 8 };
        self.nanos_per_batch.store(new, Ordering::Relaxed);
    }

    /// How long the `queued` orders ahead of a newcomer should take to work off: the batches
    /// they fill. Its own batch is not counted: a newcomer to an empty queue is never refused,
    /// or a lane whose pace grew past the deadline would refuse everyone, run no batch, and
    /// never learn that it got faster (a test holding a row lock found exactly that).
    pub(super) fn wait_for(&self, queued: usize) -> Duration {
        let batches = queued.div_ceil(self.max_orders);
        let per_batch = self.nanos_per_batch.load(Ordering::Relaxed);
        Duration::from_nanos(per_batch.saturating_mul(u64::try_from(batches).unwrap_or(u64::MAX)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lane_never_measured_promises_no_wait() {
        assert_eq!(Pace::new(64).wait_for(1_000), Duration::ZERO);
    }

    #[test]
    fn the_first_batch_sets_the_pace_and_later_ones_move_it_by_an_eighth() {
        let pace = Pace::new(4);
        pace.record(Duration::from_millis(8));
        assert_eq!(pace.wait_for(4), Duration::from_millis(8), "one full batch ahead");
        assert_eq!(pace.wait_for(5), Duration::from_millis(16), "two batches");
        pace.record(Duration::from_millis(16));
        assert_eq!(pace.wait_for(1), Duration::from_millis(9), "8 ms + (16 - 8) / 8 ms");
    }

    #[test]
    fn a_slow_lone_first_order_does_not_make_a_long_queue_look_hopeless() {
        // A cold start: the first batch is one order and takes 2 s.
        let pace = Pace::new(64);
        pace.record(Duration::from_secs(2));
        // 150 buyers ahead drain in 3 batches, not in 150 times 2 s.
        assert_eq!(pace.wait_for(150), Duration::from_secs(6));
    }

    #[test]
    fn an_empty_queue_promises_no_wait_however_slow_the_lane() {
        let pace = Pace::new(64);
        pace.record(Duration::from_secs(60));
        assert_eq!(pace.wait_for(0), Duration::ZERO);
    }
}
