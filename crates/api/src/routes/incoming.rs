//! `/v1/products/{id}/incoming` and `/v1/products/{id}/stock/locations/{location_id}/incoming`:
//! units on their way to a location, as the shop records them.

use axum::Json;
use axum::extract::{Path, State};

use crate::extract::{ValidJson, location_id, product_id};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{IncomingPage, IncomingView, SetIncomingRequest};

/// Record how many units of a product are on their way to a location (replacing the earlier
/// record; 0 clears it). Deliveries to the location lessen it by what they bring.
#[utoipa::path(put, path = "/v1/products/{id}/stock/locations/{location_id}/incoming",
    tag = "locations",
    params(("id" = String, Path, format = Uuid), ("location_id" = String, Path, format = Uuid)),
    request_body = SetIncomingRequest,
    responses(
        (status = 200, body = IncomingView),
        (status = 400, description = "invalid-id, invalid-json"),
        (status = 404, description = "product-not-found, location-not-found"),
        (status = 415, description = "unsupported-media-type"),
        (status = 422, description = "invalid-request"),
    ))]
pub async fn set_incoming(
    State(state): State<AppState>,
    Path((id, location)): Path<(String, String)>,
    ValidJson(request): ValidJson<SetIncomingRequest>,
) -> Result<Json<IncomingView>, ApiError> {
    let (product, location) = (product_id(&id)?, location_id(&location)?);
    let incoming = request.into_incoming(product, location)?;
    let stored = state.services.record_incoming.execute(incoming).await?;
    Ok(Json(IncomingView::from(&stored)))
}

/// What is on its way of one product, per location.
#[utoipa::path(get, path = "/v1/products/{id}/incoming", tag = "locations",
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, body = IncomingPage),
        (status = 400, description = "invalid-id"),
        (status = 404, description = "product-not-found"),
    ))]
pub async fn list_incoming(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<IncomingPage>, ApiError> {
    let incoming = state.services.reads.incoming(product_id(&id)?).await?;
    Ok(Json(IncomingPage { items: incoming.iter().map(IncomingView::from).collect() }))
}
