//! [`Pace`]: how long a lane has lately taken per order, to tell a newcomer whether the queue
//! ahead of it can be worked off before its deadline.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A moving average of a lane's time per order, shared by its worker (which records each
/// batch) and its callers (who estimate their wait). Lock-free: one word, written by one task.
#[derive(Debug, Default)]
pub(super) struct Pace {
    /// Nanoseconds per order; 0 until the first batch.
    nanos_per_order: AtomicU64,
}

impl Pace {
    /// Folds in a batch of `orders` that took `took`, weighing it an eighth: quick to follow
    /// a lane that slows down (a row lock held elsewhere), without one odd batch ruling it.
    pub(super) fn record(&self, orders: usize, took: Duration) {
        let Some(orders) = u64::try_from(orders).ok().filter(|&n| n > 0) else { return };
        let sample = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX) / orders;
        let old = self.nanos_per_order.load(Ordering::Relaxed);
        let new = if old == 0 { sample } else { old - old / 8 + sample / 8 };
        self.nanos_per_order.store(new, Ordering::Relaxed);
    }

    /// How long `queued` orders ahead of a newcomer should take to work off.
    pub(super) fn wait_for(&self, queued: usize) -> Duration {
        let per_order = self.nanos_per_order.load(Ordering::Relaxed);
        Duration::from_nanos(per_order.saturating_mul(u64::try_from(queued).unwrap_or(u64::MAX)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lane_never_measured_promises_no_wait() {
        assert_eq!(Pace::default().wait_for(1_000), Duration::ZERO);
    }

    #[test]
    fn the_first_batch_sets_the_pace_and_later_ones_move_it_by_an_eighth() {
        let pace = Pace::default();
        pace.record(64, Duration::from_millis(64));
        assert_eq!(pace.wait_for(10), Duration::from_millis(10));
        pace.record(1, Duration::from_millis(9));
        assert_eq!(pace.wait_for(1), Duration::from_millis(2), "1 ms + (9 - 1) / 8 ms");
        pace.record(0, Duration::from_secs(60));
        assert_eq!(pace.wait_for(1), Duration::from_millis(2), "an empty batch says nothing");
    }
}
