//! The webhook relay: for one subscription, takes the new events it wants off the feed into
//! its delivery log, and delivers what is due, in order per subject, retrying with backoff.
//!
//! One process at a time works a subscription (its lease, [`WebhookId::lease_name`]). A step:
//! 1. **Take**: the page after the subscription's position, filtered by its types, is recorded
//!    as pending deliveries and the position moved past the page, in one transaction by
//!    compare-and-swap: a page is taken once, whoever leads.
//! 2. **Deliver**: the due deliveries, each subject's in order as a chain, chains side by side.
//!    A chain stops at its first failure, which holds the subject's later deliveries back
//!    (the store will not hand them out) until it is delivered: retried with exponential
//!    backoff and jitter ([`RetryPolicy`]), then failed for good, kept, and re-drivable.
//!
//! An outcome is recorded after the POST: a process that dies in between leaves the delivery
//! pending and the next leader sends it again (at least once; `webhook-id` is the event id,
//! for the receiver to drop the repeat). Nothing is lost.
//!
//! [`WebhookId::lease_name`]: domain::webhook::WebhookId::lease_name

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::event::Event;
use domain::ports::{BoxError, WebhookSender};
use domain::webhook::{
    Attempt, AttemptOutcome, Delivery, DeliveryId, NewDelivery, RetryPolicy, Subscription,
};
use futures::future::join_all;

use crate::Ports;
use crate::events::{EventRequest, Events};
use crate::leadership::Leadership;

/// What one step did.
#[derive(Debug)]
pub enum WebhookStep {
    /// Another process works this subscription.
    NotLeading,
    /// The subscription was removed.
    Gone,
    /// What was taken and delivered (maybe nothing).
    Worked(Round),
    /// The store failed; the step is tried again later.
    Failed(BoxError),
}

/// The work of one step.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    /// Events taken off the feed into the delivery log.
    pub taken: usize,
    /// Deliveries the receiver accepted.
    pub delivered: usize,
    /// Failed attempts that will be retried.
    pub retrying: usize,
    /// Failed attempts that were the last.
    pub failed: usize,
    /// The lag: how long the oldest due delivery had waited since its event was committed,
    /// when the step began (zero when none was due; `None` when the step did not look).
    pub lag: Option<Duration>,
}

impl Round {
    /// Whether the step found nothing to do (the caller may rest before the next one).
    #[must_use]
    pub fn idle(&self) -> bool {
        self.taken == 0 && self.delivered + self.retrying + self.failed == 0
    }
}

/// How deliveries are made and retried.
#[derive(Clone)]
pub struct RelaySettings {
    /// When failed deliveries are tried again, and when they fail for good.
    pub retry: RetryPolicy,
    /// The body of an event's delivery (the wire format is the HTTP layer's).
    pub render: fn(&Event) -> String,
    /// A number in `[0, 1)`, fresh each call: spreads retries (see [`RetryPolicy`]).
    pub jitter: fn() -> f64,
}

/// The relay of every subscription.
pub struct WebhookRelay {
    ports: Ports,
    events: Events,
    sender: Arc<dyn WebhookSender>,
    settings: RelaySettings,
}

impl WebhookRelay {
    /// Events taken off the feed per step.
    pub const PAGE: u32 = 500;
    /// Due deliveries handed out per step (over all subjects).
    pub const BATCH: u32 = 200;

    /// The relay over `ports`, delivering with `sender`.
    #[must_use]
    pub fn new(ports: &Ports, sender: Arc<dyn WebhookSender>, settings: RelaySettings) -> Self {
        Self { ports: ports.clone(), events: Events::new(ports), sender, settings }
    }

    /// One step for `subscription` under `leadership`; no new attempt starts once `budget`
    /// has passed (keep it well inside the lease's term, so that no other process can lead
    /// while this one still sends).
    #[tracing::instrument(skip_all, fields(webhook = %subscription.id))]
    pub async fn step(
        &self,
        subscription: &Subscription,
        leadership: &Leadership,
        budget: Duration,
    ) -> WebhookStep {
        let started = Instant::now();
        match leadership.try_lead().await {
            Ok(true) => {}
            Ok(false) => return WebhookStep::NotLeading,
            Err(err) => return WebhookStep::Failed(err.into()),
        }
        let taken = match self.take(subscription).await {
            Ok(Some(taken)) => taken,
            Ok(None) => return WebhookStep::Gone,
            Err(err) => return WebhookStep::Failed(err),
        };
        match self.deliver(subscription, started, budget).await {
            Ok(round) => WebhookStep::Worked(Round { taken, ..round }),
            Err(err) => WebhookStep::Failed(err),
        }
    }

    /// Records the wanted events of the next page as deliveries; how many (`None`: the
    /// subscription is gone).
    async fn take(&self, subscription: &Subscription) -> Result<Option<usize>, BoxError> {
        let id = subscription.id;
        let Some(position) = self.ports.webhooks.position(id).await? else {
            return Ok(None);
        };
        let request = EventRequest { after: position, limit: Self::PAGE, wait: Duration::ZERO };
        let page = self.events.read(request).await?;
        if page.items.is_empty() {
            return Ok(Some(0));
        }
        let wanted: Vec<NewDelivery> = page
            .items
            .iter()
            .filter(|event| subscription.types.wants(event.event_type()))
            .map(|event| NewDelivery {
                event_id: event.id(),
                event_type: event.event_type(),
                sequence: event.sequence,
                occurred_at: event.time,
                subject: event.subject(),
                payload: (self.settings.render)(event),
            })
            .collect();
        let now = self.ports.clock.now();
        // Lost to another process (or the subscription went): nothing taken this time.
        let moved = self.ports.webhooks.enqueue(id, position, page.next, &wanted, now).await?;
        Ok(Some(if moved { wanted.len() } else { 0 }))
    }

    /// Sends the due deliveries: each subject's chain in order, the chains at once. Failures
    /// are recorded as they happen (they hold their subject back); the step's successes are
    /// recorded together at its end, in one write: a process that dies before that sends them
    /// again (at least once), and one step is bounded by the budget.
    async fn deliver(
        &self,
        subscription: &Subscription,
        started: Instant,
        budget: Duration,
    ) -> Result<Round, BoxError> {
        let now = self.ports.clock.now();
        let due = self.ports.webhooks.due(subscription.id, now, Self::BATCH).await?;
        let lag =
            due.iter().map(|d| (now - d.event.occurred_at).to_std().unwrap_or_default()).max();
        let mut chains: Vec<Vec<Delivery>> = Vec::new();
        let mut chain_of = HashMap::new();
        for delivery in due {
            let chain = *chain_of.entry(delivery.event.subject).or_insert_with(|| {
                chains.push(Vec::new());
                chains.len() - 1
            });
            chains[chain].push(delivery);
        }
        let outcomes = join_all(
            chains.iter().map(|chain| self.deliver_chain(subscription, chain, started, budget)),
        )
        .await;
        let mut total = Round { lag: Some(lag.unwrap_or_default()), ..Round::default() };
        let mut delivered = Vec::new();
        let mut failure = None;
        for chain in outcomes {
            total.retrying += chain.retrying;
            total.failed += chain.failed;
            delivered.extend(chain.delivered);
            failure = failure.or(chain.failed_record);
        }
        // The successes first, even when a failure's record failed: they happened.
        if !delivered.is_empty() {
            let at = self.ports.clock.now();
            self.ports.webhooks.record_delivered(&delivered, at).await?;
            total.delivered = delivered.len();
        }
        failure.map_or(Ok(total), Err)
    }

    /// One subject's due deliveries, in order, until one fails or the budget is spent.
    async fn deliver_chain(
        &self,
        subscription: &Subscription,
        chain: &[Delivery],
        started: Instant,
        budget: Duration,
    ) -> ChainOutcome {
        let mut outcome = ChainOutcome::default();
        for delivery in chain {
            if started.elapsed() >= budget {
                break;
            }
            let answer = self.sender.send(subscription, delivery).await;
            if let AttemptOutcome::Delivered { status } = answer {
                outcome.delivered.push((delivery.id, status));
                continue;
            }
            let at = self.ports.clock.now();
            let made = delivery.attempts.saturating_add(1);
            let retry_at = self
                .settings
                .retry
                .wait_after(made, (self.settings.jitter)())
                .and_then(|wait| chrono::TimeDelta::from_std(wait).ok())
                .map(|wait| at + wait);
            let attempt = Attempt { at, outcome: answer, retry_at };
            // The successes before it are recorded by the caller, whatever happens here.
            if let Err(err) = self.ports.webhooks.record(delivery.id, &attempt).await {
                outcome.failed_record = Some(err.into());
                break;
            }
            if retry_at.is_some() {
                outcome.retrying += 1;
            } else {
                outcome.failed += 1;
                tracing::warn!(
                    webhook = %subscription.id,
                    delivery = %delivery.id,
                    event = delivery.event.event_id,
                    error = attempt.outcome.error(),
                    "delivery failed for good; its subject's later events wait for a re-drive"
                );
            }
            break;
        }
        outcome
    }
}

/// What one subject's chain came to.
#[derive(Default)]
struct ChainOutcome {
    /// Accepted, with the receiver's status: recorded by the caller, together.
    delivered: Vec<(DeliveryId, u16)>,
    /// Failed attempts to be retried.
    retrying: usize,
    /// Failed attempts that were the last.
    failed: usize,
    /// The store failed to record a failure.
    failed_record: Option<BoxError>,
}

#[cfg(test)]
mod tests;
