//! `/v1/products/{id}/stock…`: one product's stock, its conditional update, adjustments and
//! ledger.

use application::adjust_stock::AdjustStockCommand;
use application::set_stock::SetStockCommand;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use domain::ports::KeyClaim;
use domain::{StockCount, StockTotals};
use serde::Deserialize;
use utoipa::IntoParams;

use super::header_value;
use crate::access::Caller;
use crate::extract::{IfMatch, ValidJson, ValidQuery, if_match, product_id};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{
    AdjustStockRequest, BulkStockRequest, BulkStockView, KeyHeader, MovementView, MovementsPage,
    SetStockRequest, StockView, Validator,
};

/// The stock view (over all locations) with its version as a strong ETag.
pub(crate) fn with_etag(stock: &StockTotals) -> Response {
    let etag = header_value(&format!("\"{}\"", stock.version()));
    ([(header::ETAG, etag)], Json(StockView::from(stock))).into_response()
}

/// Stock of one product.
#[utoipa::path(get, path = "/v1/products/{id}/stock", tag = "stock",
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, body = StockView, headers(("ETag" = String, description = "\"<version>\"")), links(
            ("SetStock" = (operation_id = "set_stock", parameters(("id" = "$response.body#/product_id"), ("If-Match" = "$response.header.ETag")))),
            ("AdjustStock" = (operation_id = "adjust_stock", parameters(("id" = "$response.body#/product_id")))),
            ("Movements" = (operation_id = "movements", parameters(("id" = "$response.body#/product_id")))),
        )),
        (status = 400, description = "invalid-id"),
        (status = 404, description = "product-not-found"),
    ))]
pub async fn get_stock(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let stock = state.services.reads.stock(product_id(&id)?).await?;
    Ok(with_etag(&stock))
}

/// Set the on-hand quantity (a shelf count) over the version named by `If-Match` (admin).
#[utoipa::path(put, path = "/v1/products/{id}/stock", tag = "stock",
    params(("id" = String, Path, format = Uuid), ("If-Match" = String, Header, description = "\"<version>\" from the ETag")),
    request_body = SetStockRequest,
    responses(
        (status = 200, body = StockView, headers(("ETag" = String)), links(
            ("GetStock" = (operation_id = "get_stock", parameters(("id" = "$response.body#/product_id")))),
            ("Movements" = (operation_id = "movements", parameters(("id" = "$response.body#/product_id")))),
        )),
        (status = 400, description = "invalid-id, invalid-json"),
        (status = 404, description = "product-not-found"),
        (status = 409, description = "below-reserved; location-required (the product is kept at several locations: count one with PUT …/stock/locations/{location_id})"),
        (status = 412, description = "version-mismatch, with current_version and current"),
        (status = 415, description = "unsupported-media-type"),
        (status = 422, description = "invalid-request"),
        (status = 428, description = "precondition-required"),
    ))]
pub async fn set_stock(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ValidJson(request): ValidJson<SetStockRequest>,
) -> Result<Response, ApiError> {
    let product_id = product_id(&id)?;
    let precondition = if_match(&headers)?;
    // The request is checked before the stored stock is compared with it: an invalid count is
    // 422 whatever version it names.
    let mut v = Validator::default();
    let on_hand = v.check("on_hand", StockCount::new(request.on_hand));
    let on_hand = v.finish(on_hand)?;
    let expected_version = match precondition {
        IfMatch::Any => None,
        IfMatch::Version(version) => Some(version),
        // An ETag we never issued (weak, garbage) cannot match: show what is current.
        IfMatch::Never => {
            let current = state.services.queries.stock(product_id).await?;
            return Err(match current.rows() {
                [row] => ApiError::VersionMismatch(*row),
                _ => ApiError::LocationRequired(product_id),
            });
        }
    };
    let command = SetStockCommand {
        product_id,
        location_id: None,
        expected_version,
        on_hand: Some(on_hand),
        safety_stock: None,
        reason: None,
        actor: caller.actor(),
    };
    // The product's only row: its view is the product's.
    let stored = state.services.set_stock.execute(command).await?;
    Ok(with_etag(&StockTotals::of(stored)))
}

/// Move the on-hand quantity by a delta (admin). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/products/{id}/stock/adjustments", tag = "stock",
    params(("id" = String, Path, format = Uuid), KeyHeader),
    request_body = AdjustStockRequest,
    responses(
        (status = 200, body = StockView, headers(("ETag" = String)), links(
            ("GetStock" = (operation_id = "get_stock", parameters(("id" = "$response.body#/product_id")))),
            ("Movements" = (operation_id = "movements", parameters(("id" = "$response.body#/product_id")))),
        )),
        (status = 400, description = "invalid-id, invalid-json"),
        (status = 404, description = "product-not-found, location-not-found"),
        (status = 409, description = "insufficient-stock: on-hand would fall below reserved, or idempotency-key-in-use"),
        (status = 415, description = "unsupported-media-type"),
        (status = 422, description = "invalid-request, idempotency-key-reused"),
        (status = 503, description = "contention: the stock kept changing; see Retry-After"),
    ))]
pub async fn adjust_stock(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    claim: Option<Extension<KeyClaim>>,
    ValidJson(request): ValidJson<AdjustStockRequest>,
) -> Result<Response, ApiError> {
    let product_id = product_id(&id)?;
    let mut v = Validator::default();
    let reason = request.reason(&mut v);
    let location = request.location(&mut v);
    let (reason, location_id) = v.finish(reason.zip(location))?;
    // Under an Idempotency-Key the adjustment commits together with the key's effect.
    let idempotency = claim.map(|Extension(claim)| claim);
    let command = AdjustStockCommand {
        product_id,
        location_id,
        delta: request.delta,
        reason,
        actor: caller.actor(),
        idempotency,
    };
    state.services.adjust_stock.execute(command).await?;
    // The product over all locations, read from the primary: the answer shows the write.
    Ok(with_etag(&state.services.queries.stock(product_id).await?))
}

/// How much of the ledger to show.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MovementsQuery {
    /// 1 to 1000; default 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// The stock ledger of one product, newest first (admin).
#[utoipa::path(get, path = "/v1/products/{id}/stock/movements", tag = "stock",
    params(("id" = String, Path, format = Uuid), MovementsQuery),
    responses(
        (status = 200, body = MovementsPage),
        (status = 400, description = "invalid-id"),
        (status = 404, description = "product-not-found"),
        (status = 422, description = "invalid-request (limit)"),
    ))]
pub async fn movements(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ValidQuery(query): ValidQuery<MovementsQuery>,
) -> Result<Json<MovementsPage>, ApiError> {
    let product_id = product_id(&id)?;
    let mut v = Validator::default();
    let limit = v.check(
        "limit",
        Some(query.limit.unwrap_or(100)).filter(|n| (1..=1000).contains(n)).ok_or("1 to 1000"),
    );
    let limit = v.finish(limit)?;
    let items = state.services.reads.movements(product_id, limit).await?;
    Ok(Json(MovementsPage { items: items.iter().map(MovementView::from).collect() }))
}

/// Sync many products' stock at once (an ERP, a warehouse system): up to 1,000 rows of
/// absolute counts (`on_hand`, optionally over `if_version`) or deltas, each applied or
/// refused on its own with its versioned write. One outcome per row; an invalid row refuses
/// the whole request (422) and nothing is written. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/stock/bulk", tag = "stock",
    params(KeyHeader),
    request_body = BulkStockRequest,
    responses(
        (status = 200, body = BulkStockView, description = "one result per row: 200 with stock, or 404 product-not-found, 409 below-reserved / insufficient-stock, 412 version-mismatch with a problem"),
        (status = 400, description = "invalid-json"),
        (status = 409, description = "idempotency-key-in-use, or bulk-already-applied"),
        (status = 413, description = "payload-too-large: over 256 KiB"),
        (status = 415, description = "unsupported-media-type"),
        (status = 422, description = "invalid-request: no rows, over 1,000 rows, or an invalid row (nothing written); idempotency-key-reused"),
        (status = 503, description = "contention: concurrent writers kept winning; see Retry-After"),
    ))]
pub async fn bulk(
    State(state): State<AppState>,
    Caller(caller): Caller,
    claim: Option<Extension<KeyClaim>>,
    ValidJson(request): ValidJson<BulkStockRequest>,
) -> Result<Json<BulkStockView>, ApiError> {
    let mut command = request.into_command(caller.actor())?;
    command.idempotency = claim.map(|Extension(claim)| claim);
    let rows = command.rows.clone();
    let outcomes = state.services.bulk_stock.execute(command).await?;
    Ok(Json(BulkStockView::new(&rows, outcomes)))
}
