//! `/v1/orders/{id}…`: read, pay, cancel.

use application::cancel::CancelCommand;
use application::extend::ExtendCommand;
use application::pay::PayCommand;
use axum::Json;
use axum::extract::{Path, State};

use crate::access::Caller;
use crate::extract::order_id;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{KeyHeader, OrderView};

/// One order; a reservation past `expires_at` reads as `expired`.
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "orders",
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, body = OrderView, links(
            ("GetOrder" = (operation_id = "get_order", parameters(("id" = "$response.body#/id")))),
            ("Pay" = (operation_id = "pay", parameters(("id" = "$response.body#/id")))),
            ("Cancel" = (operation_id = "cancel", parameters(("id" = "$response.body#/id")))),
        )),
        (status = 400, description = "invalid-id"),
        (status = 404, description = "order-not-found"),
    ))]
pub async fn get_order(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let view = state.services.queries.order(order_id(&id)?).await?;
    Ok(Json(OrderView::from(&view)))
}

/// Payment confirmed: the reserved stock is sold. Repeating is a no-op. Honours
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/orders/{id}/pay", tag = "orders",
    params(("id" = String, Path, format = Uuid), KeyHeader),
    responses(
        (status = 200, body = OrderView, links(
            ("GetOrder" = (operation_id = "get_order", parameters(("id" = "$response.body#/id")))),
            ("Pay" = (operation_id = "pay", parameters(("id" = "$response.body#/id")))),
            ("Cancel" = (operation_id = "cancel", parameters(("id" = "$response.body#/id")))),
        )),
        (status = 400, description = "invalid-id"),
        (status = 404, description = "order-not-found"),
        (status = 409, description = "order-not-payable (expired or cancelled), or idempotency-key-in-use"),
        (status = 422, description = "invalid-request (a malformed Idempotency-Key), idempotency-key-reused"),
        (status = 503, description = "contention: the order's stock kept changing; see Retry-After"),
    ))]
pub async fn pay(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let command = PayCommand { order_id: order_id(&id)?, actor: caller.actor() };
    let order = state.services.pay.execute(command).await?;
    Ok(Json(OrderView::stored(&order)))
}

/// Cancel before payment: the reserved stock is released. Repeating is a no-op. Honours
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/orders/{id}/cancel", tag = "orders",
    params(("id" = String, Path, format = Uuid), KeyHeader),
    responses(
        (status = 200, body = OrderView, links(
            ("GetOrder" = (operation_id = "get_order", parameters(("id" = "$response.body#/id")))),
            ("Pay" = (operation_id = "pay", parameters(("id" = "$response.body#/id")))),
            ("Cancel" = (operation_id = "cancel", parameters(("id" = "$response.body#/id")))),
        )),
        (status = 400, description = "invalid-id"),
        (status = 404, description = "order-not-found"),
        (status = 409, description = "order-not-cancellable (paid or expired), or idempotency-key-in-use"),
        (status = 422, description = "invalid-request (a malformed Idempotency-Key), idempotency-key-reused"),
        (status = 503, description = "contention: the order's stock kept changing; see Retry-After"),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let command = CancelCommand { order_id: order_id(&id)?, actor: caller.actor() };
    let order = state.services.cancel.execute(command).await?;
    Ok(Json(OrderView::stored(&order)))
}

/// Hold a reservation longer while its payment is pending (3-D Secure, a bank redirect): its
/// expiry moves one reservation lifetime later, up to the maximum hold from its checkout
/// (`--max-hold`). Racing the sweeper's expiry of the same order, exactly one wins. Honours
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/orders/{id}/extend", tag = "orders",
    params(("id" = String, Path, format = Uuid), KeyHeader),
    responses(
        (status = 200, body = OrderView, links(
            ("GetOrder" = (operation_id = "get_order", parameters(("id" = "$response.body#/id")))),
            ("Pay" = (operation_id = "pay", parameters(("id" = "$response.body#/id")))),
        )),
        (status = 400, description = "invalid-id"),
        (status = 404, description = "order-not-found"),
        (status = 409, description = "order-not-extendable (paid, cancelled, expired, or held as long as it may be), or idempotency-key-in-use"),
        (status = 422, description = "invalid-request (a malformed Idempotency-Key), idempotency-key-reused"),
        (status = 503, description = "contention: the order kept changing; see Retry-After"),
    ))]
pub async fn extend(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let order = state.services.extend.execute(ExtendCommand { order_id: order_id(&id)? }).await?;
    Ok(Json(OrderView::stored(&order)))
}
