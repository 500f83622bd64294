//! The once-a-second progress line on stderr (stdout is kept for the final table).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tokio::time::{MissedTickBehavior, interval};

use crate::buyer::Shared;

/// Prints progress every second until the returned task is aborted.
pub fn spawn(shared: Arc<Shared>, started: Instant) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        tick.tick().await; // the first tick is immediate
        loop {
            tick.tick().await;
            let now = Instant::now();
            let since_start = now.duration_since(started).as_secs_f64();
            let Some(measured) = now.checked_duration_since(shared.plan.measure_from) else {
                eprintln!("[{since_start:6.1}s] warming up");
                continue;
            };
            eprintln!("[{since_start:6.1}s] {}", line(shared.live.snapshot(), measured));
        }
    })
}

fn line([created, insufficient, contention, other]: [u64; 4], measured: Duration) -> String {
    let secs = measured.as_secs_f64().max(1e-9);
    // Counts stay far below 2^53, so the rate is exact enough to print.
    #[allow(clippy::cast_precision_loss)]
    let rate = created as f64 / secs;
    format!(
        "{rate:8.1} orders/s | 201 {created} | 409 {insufficient} | 503 {contention} | other {other}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_the_rate_and_every_count() {
        let text = line([200, 3, 2, 1], Duration::from_secs(2));
        assert_eq!(text, "   100.0 orders/s | 201 200 | 409 3 | 503 2 | other 1");
    }
}
