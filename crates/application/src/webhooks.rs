//! Webhook subscriptions: make one (its secret shown once), list, read, remove, read its
//! delivery log, and re-drive its failed deliveries. The deliveries themselves are the
//! [`webhook_relay`](crate::webhook_relay)'s work.

use domain::ports::{BoxError, StoreError};
use domain::webhook::{
    Delivery, DeliveryId, DeliveryQuery, Subscription, TypeFilter, WebhookId, WebhookSecret,
    WebhookUrl,
};

use crate::Ports;

/// Why a subscription request failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// No such subscription.
    #[error("webhook subscription {0} not found")]
    NotFound(WebhookId),
    /// The delivery named for a re-drive is not a failed delivery of that subscription.
    #[error("delivery {0} is not a failed delivery of this subscription")]
    NotFailed(DeliveryId),
    /// The store failed.
    #[error("the webhook subscriptions could not be read or written")]
    Unavailable(#[source] BoxError),
}

impl From<StoreError> for WebhookError {
    fn from(err: StoreError) -> Self {
        Self::Unavailable(err.into())
    }
}

/// The subscriptions' use cases.
pub struct Webhooks {
    ports: Ports,
}

impl Webhooks {
    /// Over `ports`.
    #[must_use]
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    /// A new subscription to `types`, delivered to `url`, from the next event committed on:
    /// it starts at the feed's head, so it is not sent the whole history.
    ///
    /// # Errors
    /// [`WebhookError::Unavailable`] when the store fails.
    #[tracing::instrument(skip_all)]
    pub async fn subscribe(
        &self,
        url: WebhookUrl,
        types: TypeFilter,
    ) -> Result<Subscription, WebhookError> {
        let start = self.ports.events.head().await?;
        let subscription = Subscription {
            id: self.ports.ids.webhook_id(),
            url,
            types,
            secret: WebhookSecret::from_key(&self.ports.ids.secret()),
            created_at: self.ports.clock.now(),
            start,
        };
        self.ports.webhooks.create(&subscription).await?;
        tracing::info!(webhook = %subscription.id, url = subscription.url.as_str(), "subscribed");
        Ok(subscription)
    }

    /// Every subscription, oldest first.
    ///
    /// # Errors
    /// [`WebhookError::Unavailable`] when the store fails.
    pub async fn list(&self) -> Result<Vec<Subscription>, WebhookError> {
        Ok(self.ports.webhooks.list().await?)
    }

    /// One subscription.
    ///
    /// # Errors
    /// [`WebhookError::NotFound`], or [`WebhookError::Unavailable`] when the store fails.
    pub async fn get(&self, id: WebhookId) -> Result<Subscription, WebhookError> {
        self.ports.webhooks.get(id).await?.ok_or(WebhookError::NotFound(id))
    }

    /// Removes a subscription: nothing more is sent to it, and its log goes with it.
    ///
    /// # Errors
    /// [`WebhookError::NotFound`], or [`WebhookError::Unavailable`] when the store fails.
    #[tracing::instrument(skip(self))]
    pub async fn unsubscribe(&self, id: WebhookId) -> Result<(), WebhookError> {
        if self.ports.webhooks.delete(id).await? {
            tracing::info!(webhook = %id, "unsubscribed");
            Ok(())
        } else {
            Err(WebhookError::NotFound(id))
        }
    }

    /// A page of the subscription's delivery log, newest first.
    ///
    /// # Errors
    /// [`WebhookError::NotFound`], or [`WebhookError::Unavailable`] when the store fails.
    pub async fn deliveries(
        &self,
        id: WebhookId,
        query: DeliveryQuery,
    ) -> Result<Vec<Delivery>, WebhookError> {
        self.get(id).await?;
        Ok(self.ports.webhooks.deliveries(id, query).await?)
    }

    /// Tries failed deliveries again from now, with a fresh round of attempts: the one named,
    /// or every failed delivery of the subscription. Returns how many. The events they held
    /// back follow once they are delivered.
    ///
    /// # Errors
    /// [`WebhookError::NotFound`]; [`WebhookError::NotFailed`] when the delivery named is not
    /// a failed one of this subscription; [`WebhookError::Unavailable`] when the store fails.
    #[tracing::instrument(skip(self))]
    pub async fn redrive(
        &self,
        id: WebhookId,
        delivery: Option<DeliveryId>,
    ) -> Result<u64, WebhookError> {
        self.get(id).await?;
        let now = self.ports.clock.now();
        let count = self.ports.webhooks.redrive(id, delivery, now).await?;
        match delivery {
            Some(delivery) if count == 0 => Err(WebhookError::NotFailed(delivery)),
            _ => {
                tracing::info!(webhook = %id, count, "re-driven");
                Ok(count)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::event::Sequence;
    use uuid::Uuid;

    use super::*;
    use crate::test_support::{Mocks, t0};

    fn wid() -> WebhookId {
        WebhookId::new(Uuid::from_u128(9)).unwrap()
    }

    #[tokio::test]
    async fn a_subscription_starts_at_the_head_with_a_fresh_secret() {
        let mut mocks = Mocks::new();
        mocks.events.expect_head().returning(|| Ok(Sequence::new(41).unwrap()));
        mocks.ids.expect_webhook_id().returning(wid);
        mocks.ids.expect_secret().returning(|| [3; 32]);
        mocks
            .webhooks
            .expect_create()
            .withf(|s| s.start.get() == 41 && s.id == wid() && s.created_at == t0())
            .times(1)
            .returning(|_| Ok(()));
        let url = WebhookUrl::parse("https://hooks.example.com/in", false).unwrap();
        let types = TypeFilter::parse(&["stock.*"]).unwrap();
        let made = Webhooks::new(mocks.into_ports()).subscribe(url, types).await.unwrap();
        assert_eq!(made.secret, WebhookSecret::from_key(&[3; 32]));
    }

    #[tokio::test]
    async fn removing_or_reading_a_missing_subscription_is_not_found() {
        let mut mocks = Mocks::new();
        mocks.webhooks.expect_delete().returning(|_| Ok(false));
        mocks.webhooks.expect_get().returning(|_| Ok(None));
        mocks.webhooks.expect_deliveries().never();
        let webhooks = Webhooks::new(mocks.into_ports());
        assert!(matches!(webhooks.unsubscribe(wid()).await, Err(WebhookError::NotFound(_))));
        let query = DeliveryQuery { status: None, before: None, limit: 10 };
        assert!(matches!(webhooks.deliveries(wid(), query).await, Err(WebhookError::NotFound(_))));
    }

    #[tokio::test]
    async fn re_driving_a_delivery_that_is_not_failed_says_so() {
        let mut mocks = Mocks::new();
        mocks.webhooks.expect_get().returning(|_| Ok(Some(subscription())));
        mocks.webhooks.expect_redrive().returning(|_, d, _| Ok(if d.is_some() { 0 } else { 4 }));
        let webhooks = Webhooks::new(mocks.into_ports());
        let one = DeliveryId::new(7).unwrap();
        assert!(matches!(
            webhooks.redrive(wid(), Some(one)).await,
            Err(WebhookError::NotFailed(d)) if d == one
        ));
        assert_eq!(webhooks.redrive(wid(), None).await.unwrap(), 4);
    }

    fn subscription() -> Subscription {
        Subscription {
            id: wid(),
            url: WebhookUrl::parse("https://hooks.example.com/in", false).unwrap(),
            types: TypeFilter::parse(&["order.paid"]).unwrap(),
            secret: WebhookSecret::from_key(&[1; 32]),
            created_at: t0(),
            start: Sequence::START,
        }
    }
}
