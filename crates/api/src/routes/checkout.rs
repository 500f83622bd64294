//! `/v1/stock/check` and `/v1/checkout`: can this cart be bought, and buy it.

use application::availability::CheckAvailabilityCommand;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use domain::Order;
use domain::ports::KeyClaim;

use super::{header_value, order_location};
use crate::access::Caller;
use crate::extract::ValidJson;
use crate::metrics;
use crate::middleware::Deadline;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{AvailabilityView, CheckRequest, CheckoutRequest, KeyHeader, OrderView};

/// Can this cart be bought now? Lines of one product are summed. Reserves nothing.
#[utoipa::path(post, path = "/v1/stock/check", tag = "checkout",
    request_body = CheckRequest,
    responses(
        (status = 200, body = AvailabilityView),
        (status = 400, description = "invalid-json"),
        (status = 415, description = "unsupported-media-type"),
        (status = 422, description = "invalid-request, or unknown-product with product_ids"),
    ))]
pub async fn check_stock(
    State(state): State<AppState>,
    ValidJson(request): ValidJson<CheckRequest>,
) -> Result<Json<AvailabilityView>, ApiError> {
    let command = CheckAvailabilityCommand::try_from(request)?;
    let availability = state.services.availability.execute(command).await?;
    Ok(Json(AvailabilityView::from(&availability)))
}

/// Reserve stock for a whole cart and create an order awaiting payment; all or nothing.
/// Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/checkout", tag = "checkout",
    params(KeyHeader),
    request_body = CheckoutRequest,
    responses(
        (status = 201, body = OrderView, headers(
            ("Location" = String),
            ("Checkout-Owner" = String, description = "With --route-advertise, on a product \
                selling fast: the base URL of the process that owns it, where its next \
                checkouts may go directly"),
        ), links(
            ("GetOrder" = (operation_id = "get_order", parameters(("id" = "$response.body#/id")))),
            ("Pay" = (operation_id = "pay", parameters(("id" = "$response.body#/id")))),
            ("Cancel" = (operation_id = "cancel", parameters(("id" = "$response.body#/id")))),
            ("Extend" = (operation_id = "extend", parameters(("id" = "$response.body#/id")))),
        )),
        (status = 400, description = "invalid-json"),
        (status = 401, description = "unauthorized: the cart holds a product with a per-customer limit and the caller is anonymous"),
        (status = 403, description = "insufficient-scope (customers:assert): the cart holds a product with a per-customer limit"),
        (status = 409, description = "insufficient-stock with every shortage, purchase-limit-exceeded with every limit, or idempotency-key-in-use"),
        (status = 415, description = "unsupported-media-type"),
        (status = 422, description = "invalid-request, unknown-product, idempotency-key-reused"),
        (status = 429, description = "rate-limited: this client's or address's checkout budget is spent (when abuse limits are on); see Retry-After"),
        (status = 503, description = "contention: concurrent updates kept winning; overloaded: too many checkouts waiting; timeout; see Retry-After"),
    ))]
pub async fn checkout(
    State(state): State<AppState>,
    Caller(caller): Caller,
    claim: Option<Extension<KeyClaim>>,
    deadline: Option<Extension<Deadline>>,
    ValidJson(request): ValidJson<CheckoutRequest>,
) -> Result<Response, ApiError> {
    let mut command = request.into_command(&caller)?;
    // Under an Idempotency-Key the order commits together with the key's effect.
    command.idempotency = claim.map(|Extension(claim)| claim);
    // Not committed once the buyer has been told it timed out.
    command.deadline = deadline.map(|Extension(deadline)| deadline.commit);
    let result = state.services.checkout.execute(command).await;
    metrics::record_checkout(&result);
    Ok(placed(&result?.order))
}

/// The answer to a checkout that placed `order`: 201, its `Location`, the order as placed.
pub fn placed(order: &Order) -> Response {
    let location = header_value(&order_location(order.id()));
    (StatusCode::CREATED, [(header::LOCATION, location)], Json(OrderView::placed(order)))
        .into_response()
}
