//! `/v1/webhooks`: subscribe, list, read and remove subscriptions, read their delivery log,
//! and re-drive failed deliveries (scope `webhooks:manage`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use domain::webhook::{DeliveryId, DeliveryQuery, DeliveryStatus};

use crate::extract::{ValidJson, ValidQuery, delivery_id, webhook_id};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{
    CreateWebhookRequest, DeliveriesPage, DeliveriesQuery, DeliveryView, IssuedWebhookView,
    RedriveView, Validator, WebhookView, WebhooksPage,
};

/// Subscribe a URL to events. From the next event committed on, each event of the types asked
/// for is POSTed there, one per request, signed per Standard Webhooks with the secret in the
/// answer (shown this once), at least once (drop repeats by `webhook-id`), in order per
/// product or order, retried with exponential backoff until a final failure that is kept and
/// can be re-driven.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks",
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, body = IssuedWebhookView),
        (status = 400, description = "invalid-json"),
        (status = 415, description = "unsupported-media-type"),
        (status = 422, description = "invalid-request: a URL that is not http(s), has credentials or names a private address; unknown event types"),
        (status = 503, description = "service-unavailable"),
    ))]
pub async fn create_webhook(
    State(state): State<AppState>,
    ValidJson(request): ValidJson<CreateWebhookRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let (url, types) = request.parse(state.settings.webhooks_allow_private)?;
    let subscription = state.services.webhooks.subscribe(url, types).await?;
    Ok((StatusCode::CREATED, Json(IssuedWebhookView::from(&subscription))))
}

/// Every subscription, oldest first. No secrets.
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks",
    responses(
        (status = 200, body = WebhooksPage),
        (status = 503, description = "service-unavailable"),
    ))]
pub async fn list_webhooks(State(state): State<AppState>) -> Result<Json<WebhooksPage>, ApiError> {
    let subscriptions = state.services.webhooks.list().await?;
    Ok(Json(WebhooksPage { items: subscriptions.iter().map(WebhookView::from).collect() }))
}

/// One subscription, without its secret.
#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, body = WebhookView),
        (status = 400, description = "invalid-id"),
        (status = 404, description = "webhook-not-found"),
        (status = 503, description = "service-unavailable"),
    ))]
pub async fn get_webhook(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    let subscription = state.services.webhooks.get(webhook_id(&id)?).await?;
    Ok(Json(WebhookView::from(&subscription)))
}

/// Remove a subscription: nothing more is sent (a delivery in flight may still arrive), and
/// its delivery log goes with it.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 204, description = "removed"),
        (status = 400, description = "invalid-id"),
        (status = 404, description = "webhook-not-found"),
        (status = 503, description = "service-unavailable"),
    ))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.services.webhooks.unsubscribe(webhook_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The subscription's delivery log, newest first: every event taken for it, its state, its
/// attempts and the receiver's last answer. Delivered entries are purged after
/// `--webhooks-retention`.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path, format = Uuid), DeliveriesQuery),
    responses(
        (status = 200, body = DeliveriesPage),
        (status = 400, description = "invalid-id"),
        (status = 404, description = "webhook-not-found"),
        (status = 422, description = "invalid-request (status, before or limit)"),
        (status = 503, description = "service-unavailable"),
    ))]
pub async fn deliveries(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ValidQuery(query): ValidQuery<DeliveriesQuery>,
) -> Result<Json<DeliveriesPage>, ApiError> {
    let id = webhook_id(&id)?;
    let mut v = Validator::default();
    let status = v.check(
        "status",
        match query.status.as_deref() {
            None => Ok(None),
            Some(name) => {
                DeliveryStatus::parse(name).map(Some).ok_or("pending, delivered or failed")
            }
        },
    );
    let before = v.check(
        "before",
        match query.before {
            None => Ok(None),
            Some(n) => DeliveryId::new(n).map(Some).ok_or("a delivery id: 1 or more"),
        },
    );
    let limit = v.check(
        "limit",
        Some(query.limit.unwrap_or(50)).filter(|n| (1..=100).contains(n)).ok_or("1 to 100"),
    );
    let ((status, before), limit) = v.finish(status.zip(before).zip(limit))?;
    let items =
        state.services.webhooks.deliveries(id, DeliveryQuery { status, before, limit }).await?;
    let next = (items.len() == limit as usize).then(|| items.last().map(|d| d.id.get())).flatten();
    Ok(Json(DeliveriesPage { items: items.iter().map(DeliveryView::from).collect(), next }))
}

/// Re-drive every failed delivery of the subscription: each is tried again from now with a
/// fresh round of attempts, and the events of its subject that it held back follow.
#[utoipa::path(post, path = "/v1/webhooks/{id}/deliveries/retry", tag = "webhooks",
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, body = RedriveView),
        (status = 400, description = "invalid-id"),
        (status = 404, description = "webhook-not-found"),
        (status = 503, description = "service-unavailable"),
    ))]
pub async fn redrive_all(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RedriveView>, ApiError> {
    let redriven = state.services.webhooks.redrive(webhook_id(&id)?, None).await?;
    Ok(Json(RedriveView { redriven }))
}

/// Re-drive one failed delivery.
#[utoipa::path(post, path = "/v1/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks",
    params(("id" = String, Path, format = Uuid), ("delivery_id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, body = RedriveView),
        (status = 400, description = "invalid-id"),
        (status = 404, description = "webhook-not-found"),
        (status = 409, description = "delivery-not-failed: not a failed delivery of this subscription"),
        (status = 503, description = "service-unavailable"),
    ))]
pub async fn redrive_one(
    State(state): State<AppState>,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<Json<RedriveView>, ApiError> {
    let id = webhook_id(&id)?;
    let delivery = delivery_id(&delivery)?;
    let redriven = state.services.webhooks.redrive(id, Some(delivery)).await?;
    Ok(Json(RedriveView { redriven }))
}
