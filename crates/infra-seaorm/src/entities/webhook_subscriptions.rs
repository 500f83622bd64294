//! `webhook_subscriptions`: one row per webhook subscription, with how far its relay has taken
//! the feed, and the translation to and from [`domain::webhook::Subscription`].

use domain::event::Sequence;
use domain::ports::StoreError;
use domain::webhook::{Subscription, TypeFilter, WebhookId, WebhookSecret, WebhookUrl};
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;

use super::corrupt;

const TABLE: &str = "webhook_subscriptions";

/// What separates the patterns in `types` (no pattern contains it: each names event types).
const SEPARATOR: char = ',';

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub url: String,
    /// [`TypeFilter::patterns`] joined by `,`.
    pub types: String,
    /// [`WebhookSecret::expose`]: `whsec_…`.
    pub secret: String,
    pub created_at: DateTimeUtc,
    /// [`Subscription::start`]: the feed's head when it was made.
    pub start_sequence: i64,
    /// The last sequence its relay took off the feed.
    pub position: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn into_domain(self) -> Result<Subscription, StoreError> {
        let id = self.id;
        let patterns: Vec<&str> = self.types.split(SEPARATOR).collect();
        Ok(Subscription {
            id: WebhookId::new(id).map_err(|e| corrupt(TABLE, id, e))?,
            // Checked against the operator's flag when the subscription was made: a stored
            // target is not judged again (the sender checks every address it connects to).
            url: WebhookUrl::parse(&self.url, true).map_err(|e| corrupt(TABLE, id, e))?,
            types: TypeFilter::parse(&patterns).map_err(|e| corrupt(TABLE, id, e))?,
            secret: WebhookSecret::parse(&self.secret).map_err(|e| corrupt(TABLE, id, e))?,
            created_at: self.created_at,
            start: sequence(self.start_sequence, id)?,
        })
    }
}

/// A stored position in the feed.
pub(crate) fn sequence(value: i64, id: Uuid) -> Result<Sequence, StoreError> {
    Sequence::new(value).ok_or_else(|| corrupt(TABLE, id, format!("feed sequence {value}")))
}

/// The whole row of a new subscription: its position at its start.
pub(crate) fn active_model(subscription: &Subscription) -> ActiveModel {
    ActiveModel {
        id: Set(subscription.id.as_uuid()),
        url: Set(subscription.url.as_str().to_owned()),
        types: Set(subscription.types.patterns().join(&SEPARATOR.to_string())),
        secret: Set(subscription.secret.expose().to_owned()),
        created_at: Set(subscription.created_at),
        start_sequence: Set(subscription.start.get()),
        position: Set(subscription.start.get()),
    }
}
