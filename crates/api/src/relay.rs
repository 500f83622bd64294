//! The event relay's task: with `--nats-url`, every server process runs one, and the holder of
//! the `relay:nats` lease sends the feed to JetStream (see [`application::relay`]). The others
//! ask for the lease once a second; when the holder dies its lease lapses after one term and
//! another takes over from the stored position.

use std::sync::Arc;
use std::time::Duration;

use application::Ports;
use application::leadership::Leadership;
use application::relay::{Relay, RelayStep};
use tokio_util::sync::CancellationToken;

use crate::metrics;
use crate::nats::{NatsSettings, NatsSink};
use crate::pacing::{Backoff, pause};
use crate::sweeper::holder;

/// The relay's name: its lease is `relay:<name>`, its position the row `<name>`.
const NAME: &str = "nats";
/// How long the holder's lease lasts from each step: a dead holder is replaced within it.
const TERM: Duration = Duration::from_secs(10);
/// How long one step waits for new events: well inside the term, so the lease is renewed in
/// time.
const WAIT: Duration = Duration::from_secs(2);
/// How often a process that does not lead asks again.
const FOLLOWER_PAUSE: Duration = Duration::from_secs(1);
/// The longest pause after failures (doubling from 100 ms).
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Runs until `stop`: connects to NATS (retrying while it cannot), then relays.
pub async fn run(ports: Ports, settings: NatsSettings, stop: CancellationToken) {
    let mut backoff = Backoff::up_to(MAX_BACKOFF);
    let sink = loop {
        match NatsSink::connect(&settings).await {
            Ok(sink) => break sink,
            Err(err) => {
                tracing::warn!(error = %err, url = %settings.url, "cannot reach NATS; retrying");
                metrics::record_relay_failure(NAME);
                if pause(backoff.next(), &stop).await {
                    return;
                }
            }
        }
    };
    let term = chrono::TimeDelta::from_std(TERM).unwrap_or(chrono::TimeDelta::MAX);
    let leadership = Leadership::new(ports.clone(), format!("relay:{NAME}"), holder(), term);
    let relay = Relay::new(NAME, &ports, leadership, Arc::new(sink));
    relay_until(&relay, &stop).await;
    if let Err(err) = relay.leadership().step_down().await {
        tracing::warn!(error = &err as &dyn std::error::Error, "cannot give up the relay lease");
    }
}

async fn relay_until(relay: &Relay, stop: &CancellationToken) {
    let mut backoff = Backoff::up_to(MAX_BACKOFF);
    let mut leading = false;
    loop {
        let step = tokio::select! {
            () = stop.cancelled() => return,
            step = relay.step(WAIT) => step,
        };
        let now_leading = !matches!(step, RelayStep::NotLeading | RelayStep::Failed(_));
        if now_leading != leading {
            tracing::info!(relay = relay.name(), leading = now_leading, "relay lease");
            leading = now_leading;
        }
        let rest = match step {
            RelayStep::NotLeading => FOLLOWER_PAUSE,
            RelayStep::Idle => {
                metrics::record_relay_lag(relay.name(), Duration::ZERO);
                backoff.reset();
                Duration::ZERO
            }
            RelayStep::Sent { events, oldest_age, .. } => {
                metrics::record_relayed(relay.name(), events, oldest_age);
                backoff.reset();
                Duration::ZERO
            }
            RelayStep::Overtaken => Duration::ZERO,
            RelayStep::Failed(err) => {
                tracing::warn!(relay = relay.name(), error = %err, "relay step failed");
                metrics::record_relay_failure(relay.name());
                backoff.next()
            }
        };
        if pause(rest, stop).await {
            return;
        }
    }
}
