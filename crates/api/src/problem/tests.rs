//! Every application error maps to the contract's status and problem slug.

use application::adjust_stock::AdjustStockError;
use application::availability::CheckAvailabilityError;
use application::cancel::CancelError;
use application::checkout::CheckoutError;
use application::create_product::CreateProductError;
use application::idempotency::IdempotencyError;
use application::pay::PayError;
use application::queries::QueryError;
use application::set_stock::SetStockError;
use domain::ports::StoreError;
use domain::{
    CartError, OrderId, OrderStatus, ProductId, ProductStock, Quantity, Shortage, Sku, StockCount,
    StockError, Version,
};
use uuid::Uuid;

use super::*;

fn pid() -> ProductId {
    ProductId::new(Uuid::from_u128(1)).expect("id")
}

fn oid() -> OrderId {
    OrderId::new(Uuid::from_u128(2)).expect("id")
}

fn count(n: i64) -> StockCount {
    StockCount::new(n).expect("count")
}

fn stock() -> ProductStock {
    ProductStock::restore(pid(), count(5), count(1), Version::new(3).expect("v")).expect("stock")
}

fn down() -> BoxError {
    "connection refused by 10.0.0.7: password authentication failed".into()
}

#[test]
fn every_application_error_has_its_contract_status_and_slug() {
    let shortage = Shortage {
        product_id: pid(),
        requested: Quantity::new(2).expect("q"),
        available: count(1),
    };
    let cases: Vec<(ApiError, u16, &str)> = vec![
        (CheckoutError::InvalidCart(CartError::Empty).into(), 422, "invalid-request"),
        (CheckoutError::UnknownProducts(vec![pid()]).into(), 422, "unknown-product"),
        (CheckoutError::InsufficientStock(vec![shortage]).into(), 409, "insufficient-stock"),
        (CheckoutError::Contended { attempts: 10 }.into(), 503, "contention"),
        (CheckoutError::Unavailable(down()).into(), 503, "service-unavailable"),
        (
            CheckAvailabilityError::InvalidCart(CartError::TooManyProducts).into(),
            422,
            "invalid-request",
        ),
        (CheckAvailabilityError::UnknownProducts(vec![pid()]).into(), 422, "unknown-product"),
        (PayError::NotFound(oid()).into(), 404, "order-not-found"),
        (PayError::NotPayable { status: OrderStatus::Expired }.into(), 409, "order-not-payable"),
        (PayError::Contended { attempts: 3 }.into(), 503, "contention"),
        (CancelError::NotFound(oid()).into(), 404, "order-not-found"),
        (
            CancelError::NotCancellable { status: OrderStatus::Paid }.into(),
            409,
            "order-not-cancellable",
        ),
        (SetStockError::NotFound(pid()).into(), 404, "product-not-found"),
        (SetStockError::VersionMismatch { current: stock() }.into(), 412, "version-mismatch"),
        (
            SetStockError::BelowReserved { on_hand: count(0), reserved: count(1) }.into(),
            409,
            "below-reserved",
        ),
        (AdjustStockError::NotFound(pid()).into(), 404, "product-not-found"),
        (
            AdjustStockError::InsufficientStock { on_hand: -1, reserved: count(0) }.into(),
            409,
            "insufficient-stock",
        ),
        (AdjustStockError::InvalidDelta(StockError::ZeroAdjustment).into(), 422, "invalid-request"),
        (
            CreateProductError::DuplicateSku(Sku::new("A").expect("sku")).into(),
            409,
            "duplicate-sku",
        ),
        (QueryError::ProductNotFound(pid()).into(), 404, "product-not-found"),
        (QueryError::OrderNotFound(oid()).into(), 404, "order-not-found"),
        (IdempotencyError::InUse.into(), 409, "idempotency-key-in-use"),
        (IdempotencyError::Reused.into(), 422, "idempotency-key-reused"),
        (
            IdempotencyError::Unavailable(StoreError::unavailable("x")).into(),
            503,
            "service-unavailable",
        ),
        (ApiError::PreconditionRequired, 428, "precondition-required"),
        (ApiError::Unauthorized(Unauthenticated::Missing), 401, "unauthorized"),
        (ApiError::Unauthorized(Unauthenticated::Unknown), 401, "unauthorized"),
        (ApiError::InsufficientScope(Scope::OrdersPay), 403, "insufficient-scope"),
        (ApiError::UnknownScopes(vec!["root".into()]), 422, "invalid-request"),
        (ApiError::RateLimited { retry_after: 2 }, 429, "rate-limited"),
        (ApiError::InvalidId("x".into()), 400, "invalid-id"),
        (ApiError::PayloadTooLarge, 413, "payload-too-large"),
    ];
    for (error, status, slug) in cases {
        let problem = error.problem();
        assert_eq!((problem.status, error.slug()), (status, slug), "{error:?}");
        assert_eq!(problem.problem_type, format!("{PROBLEM_BASE}{slug}"));
    }
}

#[test]
fn shortages_unknown_ids_and_current_stock_travel_as_extension_members() {
    let shortage = Shortage {
        product_id: pid(),
        requested: Quantity::new(2).expect("q"),
        available: count(1),
    };
    let body =
        serde_json::to_value(ApiError::InsufficientStock(vec![shortage]).problem()).expect("json");
    assert_eq!(body["shortages"][0]["requested"], 2);
    assert_eq!(body["shortages"][0]["available"], 1);

    let body = serde_json::to_value(ApiError::VersionMismatch(stock()).problem()).expect("json");
    assert_eq!(body["current_version"], 3);
    assert_eq!(body["current"]["available"], 4);

    let body =
        serde_json::to_value(ApiError::UnknownProducts(vec![pid()]).problem()).expect("json");
    assert_eq!(body["product_ids"][0], pid().to_string());

    let body = serde_json::to_value(ApiError::InsufficientScope(Scope::OrdersPay).problem())
        .expect("json");
    assert_eq!(body["required_scope"], "orders:pay");

    let unknown = ApiError::UnknownScopes(vec!["orders:refund".into()]);
    let body = serde_json::to_value(unknown.problem()).expect("json");
    assert_eq!(body["unknown_scopes"][0], "orders:refund");
    assert_eq!(body["errors"][0]["field"], "scopes");
}

#[test]
fn a_401_challenges_for_a_bearer_credential_and_a_429_says_when_to_retry() {
    use axum::response::IntoResponse;
    let missing = ApiError::Unauthorized(Unauthenticated::Missing).into_response();
    assert_eq!(missing.headers()["www-authenticate"], r#"Bearer realm="checkout""#);
    let unknown = ApiError::Unauthorized(Unauthenticated::Unknown).into_response();
    let challenge = unknown.headers()["www-authenticate"].to_str().expect("ascii");
    assert!(challenge.starts_with("Bearer ") && challenge.contains("invalid_token"), "{challenge}");
    let limited = ApiError::RateLimited { retry_after: 3 }.into_response();
    assert_eq!(limited.headers()["retry-after"], "3");
}

#[test]
fn internal_error_text_never_reaches_the_body() {
    for error in [ApiError::Unavailable(down()), ApiError::Internal(down())] {
        let body = serde_json::to_string(&error.problem()).expect("json");
        assert!(!body.contains("10.0.0.7") && !body.contains("password"), "{body}");
    }
}
