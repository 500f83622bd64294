//! How the background loops (the NATS relay, the webhook relay) rest: a pause that a stop cuts
//! short, and doubling backoff after failures.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Sleeps `duration`; `true` when `stop` came first (or had come already).
pub async fn pause(duration: Duration, stop: &CancellationToken) -> bool {
    if duration.is_zero() {
        return stop.is_cancelled();
    }
    tokio::select! {
        () = stop.cancelled() => true,
        () = tokio::time::sleep(duration) => false,
    }
}

/// Doubling pauses from 100 ms up to a longest one; [`Backoff::reset`] after a success.
pub struct Backoff {
    failures: u32,
    longest: Duration,
}

impl Backoff {
    /// Pauses up to `longest`.
    pub fn up_to(longest: Duration) -> Self {
        Self { failures: 0, longest }
    }

    /// The pause after one more failure.
    pub fn next(&mut self) -> Duration {
        let pause = Duration::from_millis(100).saturating_mul(1 << self.failures.min(9));
        self.failures = self.failures.saturating_add(1);
        pause.min(self.longest)
    }

    /// Back to the shortest pause.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}
