//! `POST /v1/stock/bulk` on the wire: many rows in, one outcome per row out.

use application::bulk_stock::{BulkStockCommand, MAX_ROWS, RowOutcome};
use domain::access::Actor;
use domain::stock::bulk::{BulkChange, BulkRow, RowRefusal};
use domain::{LocationId, ProductId, StockCount, Version};
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AdditionalProperties, KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
};
use utoipa::{PartialSchema, ToSchema};

use super::catalog::delta_schema;
use super::{FieldError, Invalid, LocationStockView, Validator, whole_number_opt};
use crate::problem::{ApiError, Problem};

/// One row: an absolute count (`on_hand`, optionally over `if_version`) or a `delta`. Its
/// OpenAPI schema (below) says "exactly one of the two" as a `oneOf`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkRowRequest {
    pub product_id: String,
    /// The location whose row it changes; the default location when absent.
    #[serde(default)]
    pub location_id: Option<String>,
    /// The counted on-hand quantity (not with `delta`).
    #[serde(default, deserialize_with = "whole_number_opt")]
    pub on_hand: Option<i64>,
    /// With `on_hand` only: the version read (the stock's ETag); the row is refused with 412
    /// when the stock has moved since.
    #[serde(default, deserialize_with = "whole_number_opt")]
    pub if_version: Option<i64>,
    /// Units added or removed (not with `on_hand`); not 0.
    #[serde(default, deserialize_with = "whole_number_opt")]
    pub delta: Option<i64>,
}

impl PartialSchema for BulkRowRequest {
    fn schema() -> RefOr<Schema> {
        let integer = |min: i64, max: i64| {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .minimum(Some(min))
                .maximum(Some(max))
        };
        let product_id = || {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                .examples([serde_json::json!("0192f4a0-7b3c-7def-8123-456789abcdef")])
        };
        let location_id = || {
            product_id().description(Some("the location whose row it changes; default when absent"))
        };
        let count = ObjectBuilder::new()
            .property("product_id", product_id())
            .property("location_id", location_id())
            .property(
                "on_hand",
                integer(0, StockCount::MAX).description(Some("the counted on-hand quantity")),
            )
            .property(
                "if_version",
                integer(1, i64::MAX).description(Some(
                    "the version read (the ETag): 412 when the stock moved since",
                )),
            )
            .required("product_id")
            .required("on_hand")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        let delta = ObjectBuilder::new()
            .property("product_id", product_id())
            .property("location_id", location_id())
            .property("delta", delta_schema())
            .required("product_id")
            .required("delta")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        RefOr::T(Schema::OneOf(OneOfBuilder::new().item(count).item(delta).build()))
    }
}

impl ToSchema for BulkRowRequest {}

/// `POST /v1/stock/bulk`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkStockRequest {
    /// 1 to 1,000 rows, applied in order, each on its own.
    #[schema(min_items = 1, max_items = 1000)]
    pub rows: Vec<BulkRowRequest>,
    /// Why, for the ledger entries of every applied row (up to 500 characters).
    #[schema(example = "ERP sync 2026-12-02", max_length = 500)]
    pub reason: Option<String>,
}

impl BulkRowRequest {
    fn parse(&self, v: &mut Validator, i: usize) -> Option<BulkRow> {
        let field = |name: &str| format!("rows[{i}].{name}");
        let product_id = v.check(field("product_id"), self.product_id.parse::<ProductId>());
        let location_id = match &self.location_id {
            None => Some(LocationId::DEFAULT),
            Some(id) => v.check(field("location_id"), id.parse::<LocationId>()),
        };
        let change = match (self.on_hand, self.delta, self.if_version) {
            (Some(on_hand), None, if_version) => {
                let on_hand = v.check(field("on_hand"), StockCount::new(on_hand));
                let if_version = match if_version {
                    None => Some(None),
                    Some(n) => v.check(field("if_version"), Version::new(n)).map(Some),
                };
                Some(BulkChange::Set { on_hand: on_hand?, if_version: if_version? })
            }
            (None, Some(0), _) => v.check::<BulkChange, _>(field("delta"), Err("not 0")),
            (None, Some(delta), None) if (-StockCount::MAX..=StockCount::MAX).contains(&delta) => {
                Some(BulkChange::Delta(delta))
            }
            (None, Some(_), None) => v.check::<BulkChange, _>(
                field("delta"),
                Err("within ±1,000,000,000,000 (the largest stock count)"),
            ),
            (None, Some(_), Some(_)) => {
                v.check::<BulkChange, _>(field("if_version"), Err("only with on_hand"))
            }
            _ => v.check::<BulkChange, _>(format!("rows[{i}]"), Err("either on_hand or delta")),
        };
        Some(BulkRow { product_id: product_id?, location_id: location_id?, change: change? })
    }
}

impl BulkStockRequest {
    /// The command of `actor` this request asks for, or every invalid field: one invalid row
    /// refuses the whole request, and nothing is written.
    ///
    /// # Errors
    /// [`Invalid`] listing every field that does not parse.
    pub fn into_command(self, actor: Actor) -> Result<BulkStockCommand, Invalid> {
        let mut v = Validator::default();
        if self.rows.is_empty() || self.rows.len() > MAX_ROWS {
            let message = format!("1 to {MAX_ROWS} rows, not {}", self.rows.len());
            return Err(Invalid(vec![FieldError::new("rows", message)]));
        }
        let rows: Option<Vec<_>> =
            self.rows.iter().enumerate().map(|(i, row)| row.parse(&mut v, i)).collect();
        let reason = super::catalog::checked_reason(&mut v, self.reason.as_ref());
        let command =
            (|| Some(BulkStockCommand { rows: rows?, reason: reason?, actor, idempotency: None }))(
            );
        v.finish(command)
    }
}

/// One row's outcome: `stock` when applied (200), else `problem` (404, 409 or 412).
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResultView {
    /// The row's position in the request, from 0.
    pub index: usize,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock: Option<LocationStockView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

/// `POST /v1/stock/bulk` answer: one result per row, in row order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkStockView {
    pub results: Vec<BulkResultView>,
}

impl BulkStockView {
    /// The answer to `rows` given their `outcomes`.
    pub fn new(rows: &[BulkRow], outcomes: Vec<RowOutcome>) -> Self {
        let results = (rows.iter().zip(outcomes).enumerate())
            .map(|(index, (row, outcome))| match outcome {
                Ok(stock) => BulkResultView {
                    index,
                    status: 200,
                    stock: Some(LocationStockView::from(&stock)),
                    problem: None,
                },
                Err(refusal) => {
                    let error = row_problem(index, row, refusal);
                    BulkResultView {
                        index,
                        status: error.status().as_u16(),
                        stock: None,
                        problem: Some(error.problem()),
                    }
                }
            })
            .collect();
        Self { results }
    }
}

/// A refused row as the problem a single request of its kind would get.
fn row_problem(index: usize, row: &BulkRow, refusal: RowRefusal) -> ApiError {
    match (refusal, row.change) {
        (RowRefusal::NotFound, _) => ApiError::ProductNotFound(row.product_id),
        (RowRefusal::VersionMismatch(current), _) => ApiError::VersionMismatch(current),
        (RowRefusal::BelowReserved { reserved, .. }, BulkChange::Set { on_hand, .. }) => {
            ApiError::BelowReserved { on_hand, reserved }
        }
        (RowRefusal::BelowReserved { on_hand, reserved }, BulkChange::Delta(_)) => {
            ApiError::AdjustmentBelowReserved { on_hand, reserved }
        }
        (RowRefusal::Invalid(why), _) => {
            ApiError::InvalidRequest(vec![FieldError::new(format!("rows[{index}]"), why)])
        }
    }
}
