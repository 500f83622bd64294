//! The background sweeper: expires due reservations (releasing their stock) and purges
//! idempotency keys past their retention (24 hours unless configured).
//!
//! Every server process runs one, but only the holder of the `sweeper` lease sweeps: several
//! sweepers would all read the same oldest due orders and race on each, so a cluster would
//! drain a backlog no faster than one process (slower: the losers' retries cost the winner
//! conflicts). The holder renews the lease before every pass and gives it up when it stops;
//! when it dies, the lease lapses after one term and another process takes over. The others
//! only ask, once per interval.

use std::time::Duration;

use application::Ports;
use application::expire::ExpireDueCommand;
use application::leadership::Leadership;
use tokio_util::sync::CancellationToken;

use crate::metrics;
use crate::state::AppState;

/// Due orders expired per pass (one transaction); a backlog drains over consecutive passes.
const BATCH: u32 = 500;
/// Purging is cheap but pointless every second.
const PURGE_EVERY: u32 = 600;
/// The name of the sweeper's lease.
const LEASE: &str = "sweeper";
/// The shortest lease: long enough that a pass slowed by a busy database does not lose it.
const MIN_TERM: Duration = Duration::from_secs(5);

/// This process's claim to the sweeper's lease: a random holder id, and a term of ten sweep
/// intervals (at least [`MIN_TERM`]), so that a holder that misses a few passes keeps it and a
/// dead one is replaced within seconds.
pub fn leadership(ports: &Ports, interval: Duration) -> Leadership {
    let holder = holder();
    let term = (interval * 10).max(MIN_TERM);
    let term = chrono::TimeDelta::from_std(term).unwrap_or(chrono::TimeDelta::MAX);
    Leadership::new(ports.clone(), LEASE, holder, term)
}

/// A lease holder id of this process alone (two processes under one id would both lead): its
/// pid, for the logs, and a random part, since pids repeat across machines and restarts.
pub(crate) fn holder() -> String {
    format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple())
}

/// Runs until `stop` is cancelled, one pass every `interval` while this process holds the
/// lease of `leadership`.
pub async fn run(
    state: AppState,
    leadership: Leadership,
    interval: Duration,
    stop: CancellationToken,
) {
    let mut passes: u32 = 0;
    let mut leading = false;
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(interval) => {}
        }
        // A backlog (abandoned carts pile up under load) drains pass after pass while a pass
        // finds a full batch of due orders and gets somewhere with them, so stock is back on
        // sale soon after expiry. The lease is renewed before each pass.
        loop {
            leading = lead(&leadership, leading).await;
            if !leading || !drain_further(&state).await || stop.is_cancelled() {
                break;
            }
        }
        if leading {
            // Only the holder purges: one DELETE per cluster is enough, and keys are shared.
            if passes.is_multiple_of(PURGE_EVERY) {
                purge_keys(&state).await;
                purge_events(&state).await;
            }
            passes = passes.wrapping_add(1);
        }
    }
    if leading {
        // A clean stop (a deploy) hands over at once; a crash leaves the lease to lapse.
        if let Err(err) = leadership.step_down().await {
            tracing::warn!(error = &err as &dyn std::error::Error, "cannot give up the lease");
        }
    }
}

/// Whether this process leads now; logs when that changes. A store that cannot answer is no
/// leadership: better no sweep for a moment than two sweepers.
async fn lead(leadership: &Leadership, was_leading: bool) -> bool {
    let leading = match leadership.try_lead().await {
        Ok(leading) => leading,
        Err(err) => {
            tracing::warn!(
                error = &err as &dyn std::error::Error,
                "cannot renew the sweeper lease"
            );
            false
        }
    };
    if leading != was_leading {
        tracing::info!(leading, "sweeper lease");
        metrics::record_sweeper_leading(leading);
    }
    leading
}

/// One pass; returns whether another should follow at once: it found a full batch of due
/// orders (more may be due) and got somewhere with them. A batch of orders that cannot be
/// expired (all failing) must not keep the loop spinning.
async fn drain_further(state: &AppState) -> bool {
    match state.services.expire.execute(ExpireDueCommand { limit: BATCH }).await {
        Ok(report) => {
            metrics::record_expired(report.expired.len(), report.failed);
            if !report.expired.is_empty() || report.skipped > 0 {
                let (expired, skipped, failed) =
                    (report.expired.len(), report.skipped, report.failed);
                tracing::info!(expired, skipped, failed, "sweep");
            }
            report.found() >= BATCH as usize && report.progress() > 0
        }
        Err(err) => {
            tracing::warn!(error = &err as &dyn std::error::Error, "sweep failed");
            false
        }
    }
}

/// Purges the events older than the retention from the feed (none when it is off).
async fn purge_events(state: &AppState) {
    let Some(keep) = state.settings.events_retention else { return };
    let keep = chrono::TimeDelta::from_std(keep).unwrap_or(chrono::TimeDelta::MAX);
    if let Err(err) = state.services.event_retention.purge(keep).await {
        tracing::warn!(error = &err as &dyn std::error::Error, "event purge failed");
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
