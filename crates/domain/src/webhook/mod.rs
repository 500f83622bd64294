//! Webhooks: subscriptions that have the feed's events POSTed to a URL, signed, at least once,
//! in order per subject, with retries and a delivery log (see docs/architecture.md, "Webhooks").
//!
//! Pure rules here: which targets may be called ([`WebhookUrl`]), which events a subscription
//! wants ([`TypeFilter`]), its signing secret ([`WebhookSecret`]), and when a failed delivery
//! is tried again ([`RetryPolicy`]). The store and the sender are ports
//! ([`WebhookStore`](crate::ports::WebhookStore), [`WebhookSender`](crate::ports::WebhookSender)).

mod delivery;
mod filter;
mod retry;
mod secret;
mod subscription;
mod target;

pub use delivery::{
    Attempt, AttemptOutcome, Delivery, DeliveryId, DeliveryQuery, DeliveryStatus, NewDelivery,
};
pub use filter::{TypeFilter, TypeFilterError};
pub use retry::RetryPolicy;
pub use secret::{WebhookSecret, WebhookSecretError};
pub use subscription::{Subscription, WebhookId};
pub use target::{WebhookUrl, WebhookUrlError, is_public};
