//! [`WebhookStore`] and [`WebhookSender`]: what the webhook relay needs, the subscriptions with
//! their delivery log, and the HTTP client that makes one signed delivery.

use async_trait::async_trait;

use super::StoreError;
use crate::Timestamp;
use crate::event::Sequence;
use crate::webhook::{
    Attempt, AttemptOutcome, Delivery, DeliveryId, DeliveryQuery, NewDelivery, Subscription,
    WebhookId,
};

/// Webhook subscriptions, how far each has taken the feed, and its deliveries.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Stores a new subscription, its position at [`Subscription::start`].
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn create(&self, subscription: &Subscription) -> Result<(), StoreError>;

    /// Every subscription, oldest first.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn list(&self) -> Result<Vec<Subscription>, StoreError>;

    /// One subscription.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn get(&self, id: WebhookId) -> Result<Option<Subscription>, StoreError>;

    /// Removes a subscription and its deliveries; `false` when there was none.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn delete(&self, id: WebhookId) -> Result<bool, StoreError>;

    /// The last sequence the subscription took off the feed; `None` when it is gone.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn position(&self, id: WebhookId) -> Result<Option<Sequence>, StoreError>;

    /// Records `deliveries` (in feed order: their ids ascend in that order) and moves the
    /// position from `from` to `to`, in one transaction; `false`, writing nothing, when the
    /// position is no longer `from` (another process took that page) or the subscription is
    /// gone. The new deliveries are due at `now`.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn enqueue(
        &self,
        id: WebhookId,
        from: Sequence,
        to: Sequence,
        deliveries: &[NewDelivery],
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Up to `limit` due deliveries, oldest first, none of them held back. Due: never tried
    /// (or re-driven), or failed and its retry time has come by `now`. Held back: by an
    /// earlier delivery of the same subject that failed for good or has failed and waits to be
    /// retried (due or not). So for each subject the answer holds its first undelivered
    /// delivery and, when that one was never tried, the ones after it up to the first held
    /// back: a chain the relay sends in order, stopping at its first failure.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn due(
        &self,
        id: WebhookId,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Records an attempt at a delivery: one more attempt, the status [`Attempt::status`],
    /// the response or error, and the next try.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn record(&self, delivery: DeliveryId, attempt: &Attempt) -> Result<(), StoreError>;

    /// Records that the receiver accepted each of `deliveries` (with its HTTP status) by
    /// `at`: one more attempt each, delivered, in as few writes as the store can (a relay
    /// records a step's successes together). Deliveries no longer pending are left alone.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn record_delivered(
        &self,
        deliveries: &[(DeliveryId, u16)],
        at: Timestamp,
    ) -> Result<(), StoreError>;

    /// The subscription's delivery log, newest first.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn deliveries(
        &self,
        id: WebhookId,
        query: DeliveryQuery,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Makes failed deliveries pending again, due at `now` with a fresh count of attempts: the
    /// one named, or every failed one of the subscription. Returns how many.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn redrive(
        &self,
        id: WebhookId,
        delivery: Option<DeliveryId>,
        now: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Deletes delivered deliveries delivered before `before` (retention); returns how many.
    ///
    /// # Errors
    /// MUST return [`StoreError::Unavailable`] when the store cannot answer.
    async fn purge_delivered(&self, before: Timestamp) -> Result<u64, StoreError>;
}

/// The HTTP client of webhooks: one signed POST of one delivery.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// POSTs `delivery`'s payload to the subscription's URL, signed with its secret, and says
    /// how it went. Never follows a redirect, never waits past its timeout, and refuses to
    /// connect to a non-public address unless private targets are allowed.
    async fn send(&self, subscription: &Subscription, delivery: &Delivery) -> AttemptOutcome;
}
