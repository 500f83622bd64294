//! The admin token guards the admin endpoints; readiness follows the database.

use axum::http::{Method, header};
use serde_json::json;

use super::mocks::{Mocks, TOKEN, empty, json, product_id, request, send};

/// Every admin endpoint, with a body it would accept.
fn admin_requests() -> Vec<(Method, String, serde_json::Value)> {
    let stock = format!("/v1/products/{}/stock", product_id());
    let product = json!({"sku": "A-1", "name": "A", "price": {"amount": 100, "currency": "EUR"}, "initial_stock": 1});
    vec![
        (Method::POST, "/v1/products".into(), product),
        (Method::PUT, stock.clone(), json!({"on_hand": 3})),
        (Method::POST, format!("{stock}/adjustments"), json!({"delta": 1})),
        (Method::GET, format!("{stock}/movements"), json!(null)),
        (Method::GET, "/v1/admin/reconciliation".into(), json!(null)),
    ]
}

#[tokio::test]
async fn admin_endpoints_refuse_a_missing_or_wrong_token() {
    let presented =
        [None, Some("Bearer wrong"), Some(TOKEN), Some("Bearer "), Some("Basic dG9rZW4=")];
    for (method, path, body) in admin_requests() {
        for authorization in presented {
            // Arrange
            let mut builder = request(method.clone(), &path).header("if-match", "\"1\"");
            if let Some(value) = authorization {
                builder = builder.header(header::AUTHORIZATION, value);
            }

            // Act
            let reply = send(Mocks::touching_no_stock().router(), json(builder, &body)).await;

            // Assert
            assert_eq!(reply.status, 401, "{method} {path} with {authorization:?}");
            reply.assert_problem(401, "unauthorized");
        }
    }
}

#[tokio::test]
async fn an_anonymous_keyed_adjustment_is_401_before_its_key_is_claimed() {
    // Arrange
    let mut mocks = Mocks::touching_no_stock();
    mocks.idempotency.expect_claim().times(0);
    let path = format!("/v1/products/{}/stock/adjustments", product_id());
    let builder = request(Method::POST, &path).header("idempotency-key", "delivery-7");

    // Act
    let reply = send(mocks.router(), json(builder, &json!({"delta": 1}))).await;

    // Assert
    reply.assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn the_admin_token_opens_the_admin_endpoints() {
    // Arrange
    let mut mocks = Mocks::new();
    mocks.stock.expect_get_many().times(1).returning(|_| Ok(Vec::new()));
    let path = format!("/v1/products/{}/stock/movements", product_id());
    let builder =
        request(Method::GET, &path).header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));

    // Act
    let reply = send(mocks.router(), empty(builder)).await;

    // Assert: past the guard, into the query, which found no such product.
    reply.assert_problem(404, "product-not-found");
}

#[tokio::test]
async fn readyz_is_503_when_the_database_does_not_answer() {
    // Arrange
    let mocks = Mocks { ready: false, ..Mocks::new() };

    // Act
    let reply = send(mocks.router(), empty(request(Method::GET, "/readyz"))).await;

    // Assert
    reply.assert_problem(503, "service-unavailable");
    assert_eq!(reply.header("retry-after"), Some("1"));
}

#[tokio::test]
async fn readyz_and_healthz_answer_200_when_the_database_answers() {
    for path in ["/readyz", "/healthz"] {
        // Act
        let reply = send(Mocks::new().router(), empty(request(Method::GET, path))).await;

        // Assert
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    }
}
