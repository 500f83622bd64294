//! The background sweeper: expires due reservations (releasing their stock) and purges
//! idempotency keys past their retention (24 hours unless configured). Every server process runs one; they do not need to
//! coordinate, because every expiry is a versioned write that only one of them can win.

use std::time::Duration;

use application::expire::ExpireDueCommand;
use tokio_util::sync::CancellationToken;

use crate::metrics;
use crate::state::AppState;

/// Orders expired per pass; a backlog drains over consecutive passes.
const BATCH: u32 = 500;
/// Purging is cheap but pointless every second.
const PURGE_EVERY: u32 = 600;

/// Runs until `stop` is cancelled, one pass every `interval`.
pub async fn run(state: AppState, interval: Duration, stop: CancellationToken) {
    let mut passes: u32 = 0;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        // A full batch means a backlog (abandoned carts pile up under load): keep draining
        // until a pass finds less than a batch, so stock is back on sale soon after expiry.
        while expire_due(&state).await >= BATCH as usize && !stop.is_cancelled() {}
        if passes.is_multiple_of(PURGE_EVERY) {
            purge_keys(&state).await;
        }
        passes = passes.wrapping_add(1);
    }
}

/// One pass; returns how many orders it expired. Skipped ones do not count: a batch of orders
/// that cannot be expired must not keep the loop above spinning.
async fn expire_due(state: &AppState) -> usize {
    match state.services.expire.execute(ExpireDueCommand { limit: BATCH }).await {
        Ok(report) => {
            metrics::record_expired(report.expired.len());
            if !report.expired.is_empty() || report.skipped > 0 {
                tracing::info!(expired = report.expired.len(), skipped = report.skipped, "sweep");
            }
            report.expired.len()
        }
        Err(err) => {
            tracing::warn!(error = &err as &dyn std::error::Error, "sweep failed");
            0
        }
    }
}

async fn purge_keys(state: &AppState) {
    let keep = chrono::TimeDelta::from_std(state.settings.idempotency_retention)
        .unwrap_or(chrono::TimeDelta::MAX);
    match state.services.idempotency.purge(keep).await {
        Ok(0) => {}
        Ok(purged) => tracing::info!(purged, "old idempotency keys purged"),
        Err(err) => tracing::warn!(error = &err as &dyn std::error::Error, "purge failed"),
    }
}
