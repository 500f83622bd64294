//! `/v1/webhooks`: subscriptions and their delivery log on the wire. A secret appears in
//! exactly one answer, the creation's.

use chrono::{DateTime, Utc};
use domain::event::EventType;
use domain::webhook::{
    Delivery, DeliveryStatus, Subscription, TypeFilter, WebhookUrl, WebhookUrlError,
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Array, ArrayBuilder, ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::Validator;
use crate::problem::ApiError;

/// `POST /v1/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// Where each event is POSTed: an absolute http(s) URL without credentials, at most 2,000
    /// characters; loopback and private addresses only with `--webhooks-allow-private`.
    #[schema(
        example = "https://hooks.example.com/checkout",
        min_length = 1,
        max_length = 2000,
        pattern = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s@/?#]+([/?#][^\s]*)?$"
    )]
    pub url: String,
    /// The events wanted: types (`order.paid`) and families (`stock.*`), 1 to 32.
    #[schema(schema_with = types_schema)]
    pub types: Vec<String>,
}

impl CreateWebhookRequest {
    /// The target and the filter; 422 naming each invalid field.
    ///
    /// # Errors
    /// [`ApiError::InvalidRequest`].
    pub fn parse(&self, allow_private: bool) -> Result<(WebhookUrl, TypeFilter), ApiError> {
        let mut v = Validator::default();
        let url = v.check("url", WebhookUrl::parse(&self.url, allow_private).map_err(url_error));
        let types = v.check("types", TypeFilter::parse(&self.types));
        Ok(v.finish(url.zip(types))?)
    }
}

fn url_error(err: WebhookUrlError) -> String {
    err.to_string()
}

/// An array of event types and families.
fn types_schema() -> Array {
    let mut patterns: Vec<String> = EventType::ALL.iter().map(|t| t.as_str().to_owned()).collect();
    patterns.extend(["stock.*".to_owned(), "order.*".to_owned(), "product.*".to_owned()]);
    let pattern = ObjectBuilder::new().schema_type(Type::String).enum_values(Some(patterns));
    ArrayBuilder::new()
        .items(pattern)
        .min_items(Some(1))
        .max_items(Some(TypeFilter::MAX_PATTERNS))
        .examples([serde_json::json!(["stock.*", "order.paid"])])
        .build()
}

/// A subscription, without its secret.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookView {
    pub id: Uuid,
    pub url: String,
    #[schema(example = json!(["stock.*", "order.paid"]))]
    pub types: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// The feed's sequence when it was made: it receives the events after it.
    pub start_sequence: i64,
}

impl From<&Subscription> for WebhookView {
    fn from(s: &Subscription) -> Self {
        Self {
            id: s.id.as_uuid(),
            url: s.url.as_str().to_owned(),
            types: s.types.patterns().to_vec(),
            created_at: s.created_at,
            start_sequence: s.start.get(),
        }
    }
}

/// A subscription just made, with its signing secret: shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IssuedWebhookView {
    pub id: Uuid,
    pub url: String,
    pub types: Vec<String>,
    /// The key deliveries are signed with (Standard Webhooks: `whsec_` and base64). Never
    /// shown again.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
    pub created_at: DateTime<Utc>,
    pub start_sequence: i64,
}

impl From<&Subscription> for IssuedWebhookView {
    fn from(s: &Subscription) -> Self {
        let view = WebhookView::from(s);
        Self {
            id: view.id,
            url: view.url,
            types: view.types,
            secret: s.secret.expose().to_owned(),
            created_at: view.created_at,
            start_sequence: view.start_sequence,
        }
    }
}

/// Every subscription, oldest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhooksPage {
    pub items: Vec<WebhookView>,
}

/// Which deliveries to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// Only deliveries in this state.
    #[param(inline, value_type = Option<String>, pattern = "^(pending|delivered|failed)$")]
    pub status: Option<String>,
    /// Only deliveries older than this one (`next` of the previous page).
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// Deliveries per page, 1 to 100; default 50.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// One delivery: one event for one subscription, and how its attempts went.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    /// The event's id, sent as `webhook-id`.
    pub event_id: String,
    pub event_type: String,
    /// The event's place in the feed (`GET /v1/events?after=<sequence - 1>` shows it).
    pub sequence: i64,
    /// The product or order the event is about: one subject's deliveries go in feed order.
    pub subject: Uuid,
    /// `pending` (to be tried when due), `delivered` (the receiver answered 2xx) or `failed`
    /// (every attempt failed; its subject's later events wait until it is re-driven).
    #[schema(example = "delivered")]
    pub status: String,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's HTTP status on the last attempt, when it answered.
    pub response_status: Option<u16>,
    /// Why the last attempt failed, when it did.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<&Delivery> for DeliveryView {
    fn from(d: &Delivery) -> Self {
        Self {
            id: d.id.get(),
            event_id: d.event.event_id.clone(),
            event_type: d.event.event_type.as_str().to_owned(),
            sequence: d.event.sequence.get(),
            subject: d.event.subject,
            status: d.status.as_str().to_owned(),
            attempts: d.attempts,
            next_attempt_at: (d.status == DeliveryStatus::Pending)
                .then_some(d.next_attempt_at)
                .flatten(),
            last_attempt_at: d.last_attempt_at,
            response_status: d.response_status,
            last_error: d.last_error.clone(),
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        }
    }
}

/// A page of the delivery log, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveriesPage {
    pub items: Vec<DeliveryView>,
    /// `before` for the next (older) page; absent on the last page.
    pub next: Option<i64>,
}

/// How many failed deliveries were made pending again.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RedriveView {
    pub redriven: u64,
}
