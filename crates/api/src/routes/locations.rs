//! `/v1/locations`, `/v1/products/{id}/stock/locations/{location_id}` and `/v1/transfers`:
//! where stock is kept, one location's stock of a product, and moves between locations.

use application::set_stock::SetStockCommand;
use application::transfer::TransferCommand;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use domain::ProductStock;
use domain::ports::KeyClaim;

use super::header_value;
use crate::access::Caller;
use crate::extract::{IfMatch, ValidJson, if_match, location_id, product_id};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{
    CreateLocationRequest, KeyHeader, LocationStockView, LocationView, LocationsPage,
    SetLocationStockRequest, TransferRequest, TransferView,
};

/// One location's row with its version as a strong ETag.
fn with_etag(stock: &ProductStock) -> Response {
    let etag = header_value(&format!("\"{}\"", stock.version()));
    ([(header::ETAG, etag)], Json(LocationStockView::from(stock))).into_response()
}

/// Add a stock location (a warehouse, a store).
#[utoipa::path(post, path = "/v1/locations", tag = "locations",
    request_body = CreateLocationRequest,
    responses(
        (status = 201, body = LocationView),
        (status = 400, description = "invalid-json"),
        (status = 409, description = "duplicate-location-code"),
        (status = 415, description = "unsupported-media-type"),
        (status = 422, description = "invalid-request"),
    ))]
pub async fn create_location(
    State(state): State<AppState>,
    ValidJson(request): ValidJson<CreateLocationRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let location = state.services.create_location.execute(request.into_command()?).await?;
    Ok((StatusCode::CREATED, Json(LocationView::from(&location))))
}

/// Every location, by priority (the order checkouts that name none take them in).
#[utoipa::path(get, path = "/v1/locations", tag = "locations",
    responses((status = 200, body = LocationsPage)))]
pub async fn list_locations(
    State(state): State<AppState>,
) -> Result<Json<LocationsPage>, ApiError> {
    let locations = state.services.reads.locations().await?;
    Ok(Json(LocationsPage { items: locations.iter().map(LocationView::from).collect() }))
}

/// One product's stock at one location.
#[utoipa::path(get, path = "/v1/products/{id}/stock/locations/{location_id}", tag = "locations",
    params(("id" = String, Path, format = Uuid), ("location_id" = String, Path, format = Uuid)),
    responses(
        (status = 200, body = LocationStockView, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 400, description = "invalid-id"),
        (status = 404, description = "product-not-found, stock-not-found"),
    ))]
pub async fn get_location_stock(
    State(state): State<AppState>,
    Path((id, location)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (product, location) = (product_id(&id)?, location_id(&location)?);
    Ok(with_etag(&state.services.reads.stock_at(product, location).await?))
}

/// Count one location's shelf and/or set its safety stock, over the version named by
/// `If-Match` (a first count at a location without a row of the product creates it; a body
/// with neither changes nothing and answers the row).
#[utoipa::path(put, path = "/v1/products/{id}/stock/locations/{location_id}", tag = "locations",
    params(
        ("id" = String, Path, format = Uuid),
        ("location_id" = String, Path, format = Uuid),
        ("If-Match" = String, Header, description = "\"<version>\" from the ETag, or *"),
    ),
    request_body = SetLocationStockRequest,
    responses(
        (status = 200, body = LocationStockView, headers(("ETag" = String))),
        (status = 400, description = "invalid-id, invalid-json"),
        (status = 404, description = "product-not-found, location-not-found, stock-not-found (nothing to change and no row)"),
        (status = 409, description = "below-reserved"),
        (status = 412, description = "version-mismatch, with current_version and current"),
        (status = 415, description = "unsupported-media-type"),
        (status = 422, description = "invalid-request"),
        (status = 428, description = "precondition-required"),
    ))]
pub async fn set_location_stock(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, location)): Path<(String, String)>,
    headers: HeaderMap,
    ValidJson(request): ValidJson<SetLocationStockRequest>,
) -> Result<Response, ApiError> {
    let (product, location) = (product_id(&id)?, location_id(&location)?);
    let precondition = if_match(&headers)?;
    let count = request.checked()?;
    let expected_version = match precondition {
        IfMatch::Any => None,
        IfMatch::Version(version) => Some(version),
        IfMatch::Never => {
            let current = state.services.queries.stock_at(product, location).await?;
            return Err(ApiError::VersionMismatch(current));
        }
    };
    let command = SetStockCommand {
        product_id: product,
        location_id: Some(location),
        expected_version,
        on_hand: count.on_hand,
        safety_stock: count.safety_stock,
        reason: count.reason,
        actor: caller.actor(),
    };
    Ok(with_etag(&state.services.set_stock.execute(command).await?))
}

/// Move units of a product between two locations, atomically. Only units for sale move:
/// reserved units and the sending location's safety stock stay. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/transfers", tag = "locations",
    params(KeyHeader),
    request_body = TransferRequest,
    responses(
        (status = 201, body = TransferView),
        (status = 400, description = "invalid-json"),
        (status = 404, description = "product-not-found, location-not-found"),
        (status = 409, description = "insufficient-stock (shortages: what the sending location has for sale), idempotency-key-in-use"),
        (status = 415, description = "unsupported-media-type"),
        (status = 422, description = "invalid-request, idempotency-key-reused"),
        (status = 503, description = "contention: the stock kept changing; see Retry-After"),
    ))]
pub async fn transfer(
    State(state): State<AppState>,
    Caller(caller): Caller,
    claim: Option<Extension<KeyClaim>>,
    ValidJson(request): ValidJson<TransferRequest>,
) -> Result<(StatusCode, Json<TransferView>), ApiError> {
    let (product_id, from, to, quantity, reason) = request.checked()?;
    let command = TransferCommand {
        product_id,
        from,
        to,
        quantity,
        reason,
        actor: caller.actor(),
        idempotency: claim.map(|Extension(claim)| claim),
    };
    let moved = state.services.transfer.execute(command).await?;
    Ok((StatusCode::CREATED, Json(TransferView::new(quantity, &moved))))
}
