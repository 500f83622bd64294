//! The webhook relay's tasks: every server process watches the subscriptions and runs one task
//! per subscription; the holder of a subscription's lease (`webhook:<id>`) delivers its events
//! (see [`application::webhook_relay`]), the others ask for the lease once a second and take
//! over within one term when the holder dies. Delivered entries of the log are purged after
//! the retention.

mod sender;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use application::Ports;
use application::leadership::Leadership;
use application::webhook_relay::{RelaySettings, WebhookRelay, WebhookStep};
use domain::event::Event;
use domain::webhook::{RetryPolicy, Subscription, WebhookId};
use tokio_util::sync::CancellationToken;

pub use sender::{HttpWebhookSender, SenderSettings};

use crate::metrics;
use crate::pacing::{Backoff, pause};
use crate::sweeper::holder;
use crate::wire::CloudEvent;

/// Everything the webhook tasks are configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookSettings {
    /// The HTTP client's guards.
    pub sender: SenderSettings,
    /// When failed deliveries are retried, and for how long.
    pub retry: RetryPolicy,
    /// How long delivered entries stay in the delivery log.
    pub retention: Duration,
}

/// How long a subscription's lease lasts from each step: a dead holder is replaced within it.
const TERM: Duration = Duration::from_secs(30);
/// No attempt starts later than this into a step, so that a step (the last attempts' timeouts
/// included, at most 10 s) ends well inside the term and no other process leads meanwhile.
const BUDGET: Duration = Duration::from_secs(10);
/// How often the list of subscriptions is read (a new subscription starts within it).
const REFRESH: Duration = Duration::from_secs(2);
/// The rest after a step that found nothing to do.
const IDLE: Duration = Duration::from_millis(200);
/// How often a process that does not lead a subscription asks again.
const FOLLOWER_PAUSE: Duration = Duration::from_secs(1);
/// How often delivered entries older than the retention are purged.
const PURGE_EVERY: Duration = Duration::from_secs(60);

/// Runs until `stop`: one task per subscription, started and stopped as subscriptions come and
/// go.
pub async fn run(ports: Ports, settings: WebhookSettings, stop: CancellationToken) {
    let sender = match HttpWebhookSender::new(settings.sender) {
        Ok(sender) => sender,
        Err(err) => {
            tracing::error!(error = %err, "cannot set up the webhooks' HTTP client; no deliveries");
            return;
        }
    };
    let relay_settings = RelaySettings { retry: settings.retry, render, jitter: rand::random };
    let relay = Arc::new(WebhookRelay::new(&ports, Arc::new(sender), relay_settings));
    let mut tasks: HashMap<WebhookId, CancellationToken> = HashMap::new();
    let mut refresh = tokio::time::interval(REFRESH);
    let mut purge = tokio::time::interval(PURGE_EVERY);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = refresh.tick() => {
                match ports.webhooks.list().await {
                    Ok(subscriptions) => {
                        watch(&mut tasks, subscriptions, &relay, &ports, &stop);
                    }
                    Err(err) => {
                        tracing::warn!(error = &err as &dyn std::error::Error, "cannot list webhooks");
                    }
                }
            }
            _ = purge.tick() => purge_delivered(&ports, settings.retention).await,
        }
    }
    for task in tasks.values() {
        task.cancel();
    }
}

/// Starts a task for each new subscription and stops those of removed ones.
fn watch(
    tasks: &mut HashMap<WebhookId, CancellationToken>,
    subscriptions: Vec<Subscription>,
    relay: &Arc<WebhookRelay>,
    ports: &Ports,
    stop: &CancellationToken,
) {
    let live: std::collections::HashSet<WebhookId> = subscriptions.iter().map(|s| s.id).collect();
    tasks.retain(|id, task| {
        let keep = live.contains(id) && !task.is_cancelled();
        if !keep {
            task.cancel();
        }
        keep
    });
    for subscription in subscriptions {
        if tasks.contains_key(&subscription.id) {
            continue;
        }
        let task = stop.child_token();
        tasks.insert(subscription.id, task.clone());
        tokio::spawn(work(Arc::clone(relay), ports.clone(), subscription, task));
    }
}

/// One subscription's task: steps while this process leads it, until it is removed or `stop`.
async fn work(
    relay: Arc<WebhookRelay>,
    ports: Ports,
    subscription: Subscription,
    stop: CancellationToken,
) {
    let term = chrono::TimeDelta::from_std(TERM).unwrap_or(chrono::TimeDelta::MAX);
    let leadership = Leadership::new(ports, subscription.id.lease_name(), holder(), term);
    let id = subscription.id.to_string();
    let mut backoff = Backoff::up_to(TERM / 3);
    loop {
        let started = std::time::Instant::now();
        let step = tokio::select! {
            () = stop.cancelled() => break,
            step = relay.step(&subscription, &leadership, BUDGET) => step,
        };
        if let WebhookStep::Worked(round) = &step
            && !round.idle()
        {
            let elapsed_ms = started.elapsed().as_millis();
            tracing::debug!(webhook = %id, elapsed_ms, ?round, "webhook step");
        }
        let rest = match step {
            WebhookStep::NotLeading => FOLLOWER_PAUSE,
            WebhookStep::Gone => {
                stop.cancel();
                break;
            }
            WebhookStep::Worked(round) => {
                backoff.reset();
                metrics::record_webhook_round(&id, &round);
                if round.idle() { IDLE } else { Duration::ZERO }
            }
            WebhookStep::Failed(err) => {
                tracing::warn!(webhook = %id, error = %err, "webhook step failed");
                backoff.next()
            }
        };
        if pause(rest, &stop).await {
            break;
        }
    }
    if let Err(err) = leadership.step_down().await {
        tracing::warn!(webhook = %id, error = &err as &dyn std::error::Error, "cannot give up a webhook lease");
    }
}

/// Deletes delivered entries older than `retention` (any process may; the DELETE is the same).
async fn purge_delivered(ports: &Ports, retention: Duration) {
    let Ok(retention) = chrono::TimeDelta::from_std(retention) else { return };
    let before = ports.clock.now() - retention;
    match ports.webhooks.purge_delivered(before).await {
        Ok(0) => {}
        Ok(purged) => tracing::info!(purged, "purged delivered webhook deliveries"),
        Err(err) => {
            tracing::warn!(
                error = &err as &dyn std::error::Error,
                "cannot purge webhook deliveries"
            );
        }
    }
}

/// A delivery's body: the event as the feed renders it (CloudEvents structured JSON).
fn render(event: &Event) -> String {
    serde_json::to_string(&CloudEvent::new(event)).unwrap_or_default()
}
