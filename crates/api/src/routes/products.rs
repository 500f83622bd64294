//! `/v1/products`: the catalogue.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use domain::{ProductId, StockTotals};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{header_value, product_location};
use crate::access::Caller;
use crate::extract::{ValidJson, ValidQuery, product_id};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{
    CreateProductRequest, KeyHeader, ProductView, ProductsPage, UpdateProductRequest, Validator,
};

/// Keyset pagination of the product list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// 1 to 100; default 50.
    // Read as text so that a bad value is reported as `limit`, not as the whole query.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// The `next` of the previous page.
    #[param(value_type = Option<String>, format = Uuid)]
    after: Option<String>,
}

const MAX_PAGE: u32 = 100;

impl ListQuery {
    fn parse(&self) -> Result<(Option<ProductId>, u32), ApiError> {
        let mut v = Validator::default();
        let limit = match &self.limit {
            None => Some(50),
            Some(text) => v.check(
                "limit",
                text.parse()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE).contains(n))
                    .ok_or("a whole number from 1 to 100"),
            ),
        };
        let after = match &self.after {
            None => Some(None),
            Some(text) => v.check("after", text.parse::<ProductId>()).map(Some),
        };
        Ok(v.finish((|| Some((after?, limit?)))())?)
    }
}

/// Create a product with its initial stock (admin). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/products", tag = "products",
    params(KeyHeader),
    request_body = CreateProductRequest,
    responses(
        (status = 201, body = ProductView, headers(("Location" = String)), links(
            ("GetProduct" = (operation_id = "get_product", parameters(("id" = "$response.body#/id")))),
            ("GetStock" = (operation_id = "get_stock", parameters(("id" = "$response.body#/id")))),
            ("AdjustStock" = (operation_id = "adjust_stock", parameters(("id" = "$response.body#/id")))),
            ("Movements" = (operation_id = "movements", parameters(("id" = "$response.body#/id")))),
            ("CheckStock" = (operation_id = "check_stock", request_body = json!({"items": [{"product_id": "$response.body#/id", "quantity": 1}]}))),
            ("Checkout" = (operation_id = "checkout", request_body = json!({"items": [{"product_id": "$response.body#/id", "quantity": 1}]}))),
        )),
        (status = 400, description = "invalid-json"),
        (status = 409, description = "duplicate-sku, or idempotency-key-in-use"),
        (status = 415, description = "unsupported-media-type"),
        (status = 422, description = "invalid-request, idempotency-key-reused"),
    ))]
pub async fn create_product(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ValidJson(request): ValidJson<CreateProductRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let command = request.into_command(caller.actor())?;
    let (product, stock) = state.services.create_product.execute(command).await?;
    let location = header_value(&product_location(product.id));
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(ProductView::new(&product, &StockTotals::of(stock))),
    ))
}

/// List products, keyset-paginated by id.
#[utoipa::path(get, path = "/v1/products", tag = "products", params(ListQuery),
    responses(
        (status = 200, body = ProductsPage, links(
            ("NextPage" = (operation_id = "list_products", parameters(("after" = "$response.body#/next")))),
        )),
        (status = 422, description = "invalid-request"),
    ))]
pub async fn list_products(
    State(state): State<AppState>,
    ValidQuery(query): ValidQuery<ListQuery>,
) -> Result<Json<ProductsPage>, ApiError> {
    let (after, limit) = query.parse()?;
    let page = state.services.reads.products(after, limit).await?;
    Ok(Json(ProductsPage::from(&page)))
}

/// One product with its stock.
#[utoipa::path(get, path = "/v1/products/{id}", tag = "products",
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, body = ProductView),
        (status = 400, description = "invalid-id"),
        (status = 404, description = "product-not-found"),
    ))]
pub async fn get_product(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ProductView>, ApiError> {
    let found = state.services.reads.product(product_id(&id)?).await?;
    Ok(Json(ProductView::from(&found)))
}

/// Change a product's purchase limits and low-stock threshold: a field left out stays as it
/// is, `null` removes it. The next checkout applies the limits, in every server process; the
/// threshold judges the stock changes made from now on.
#[utoipa::path(patch, path = "/v1/products/{id}", tag = "products",
    params(("id" = String, Path, format = Uuid)),
    request_body = UpdateProductRequest,
    responses(
        (status = 200, body = ProductView),
        (status = 400, description = "invalid-id, invalid-json"),
        (status = 404, description = "product-not-found"),
        (status = 415, description = "unsupported-media-type"),
        (status = 422, description = "invalid-request: a limit that is not a whole number from 1 to 1,000,000,000, a threshold that is not a whole number from 0"),
    ))]
pub async fn update_product(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ValidJson(request): ValidJson<UpdateProductRequest>,
) -> Result<Json<ProductView>, ApiError> {
    let id = product_id(&id)?;
    let patch = request.into_patch()?;
    state.services.set_limits.execute(id, patch).await?;
    let updated = state.services.queries.product(id).await?;
    Ok(Json(ProductView::from(&updated)))
}
