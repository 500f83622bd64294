//! Every malformed request gets its own 4xx problem, and none of them reaches the stock.

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::json;
use uuid::Uuid;

use super::mocks::{Mocks, empty, json, request, send};
use crate::support::malformed::{Malformed, cases};

fn to_request(case: &Malformed) -> Request<Body> {
    let mut builder = request(case.method.clone(), &case.path);
    if case.json {
        builder = builder.header(header::CONTENT_TYPE, "application/json");
    }
    builder.body(Body::from(case.body.clone())).expect("a request")
}

#[tokio::test]
async fn every_malformed_request_is_its_own_problem_and_touches_no_stock() {
    for case in cases(Uuid::new_v4()) {
        // Arrange
        let router = Mocks::touching_no_stock().router();

        // Act
        let reply = send(router, to_request(&case)).await;

        // Assert
        let expected = (case.status, case.slug.to_owned());
        assert_eq!(reply.outcome(), expected, "{}: {}", case.name, reply.text());
        reply.assert_problem(case.status, case.slug);
    }
}

#[tokio::test]
async fn a_wrong_method_names_the_allowed_ones() {
    // Arrange
    let case = cases(Uuid::new_v4()).into_iter().find(|c| c.status == 405).expect("a 405 case");

    // Act
    let reply = send(Mocks::touching_no_stock().router(), to_request(&case)).await;

    // Assert
    reply.assert_problem(405, "method-not-allowed");
    assert_eq!(reply.header("allow"), Some("POST"));
}

#[tokio::test]
async fn an_invalid_field_is_named_by_its_json_path() {
    // Arrange
    let body = json!({"items": [
        {"product_id": Uuid::new_v4(), "quantity": 1},
        {"product_id": "nope", "quantity": 0},
    ]});
    let request = json(request(Method::POST, "/v1/checkout"), &body);

    // Act
    let reply = send(Mocks::touching_no_stock().router(), request).await;

    // Assert
    let problem = reply.assert_problem(422, "invalid-request");
    let fields: Vec<_> =
        problem["errors"].as_array().expect("errors").iter().map(|e| e["field"].clone()).collect();
    assert_eq!(fields, ["items[1].product_id", "items[1].quantity"]);
}

#[tokio::test]
async fn a_misshapen_body_is_described_in_json_terms_not_by_our_rust_type_names() {
    // Found by the hostile-input properties: serde named our wire structs to the client.
    let cases = [
        (json!(null), "body", "invalid type: null, expected an object"),
        (json!({"items": [0]}), "items[0]", "invalid type: integer `0`, expected an object"),
        (json!({"items": [[]]}), "items[0]", "invalid length 0, expected an object"),
        (
            json!({"items": [{"product_id": "x", "quantity": u64::MAX}]}),
            "items[0].quantity",
            "invalid value: integer `18446744073709551615`, expected a whole number",
        ),
    ];
    for (body, field, message) in cases {
        // Act
        let request = json(request(Method::POST, "/v1/checkout"), &body);
        let reply = send(Mocks::touching_no_stock().router(), request).await;

        // Assert
        let problem = reply.assert_problem(422, "invalid-request");
        assert_eq!(problem["errors"], json!([{"field": field, "message": message}]), "{body}");
    }
}

#[tokio::test]
async fn a_path_id_that_is_not_utf8_is_an_invalid_id_like_any_other() {
    // Found by the hostile-input properties: axum's own 400 became a 422 with no errors.
    for path in ["/v1/products/%FF", "/v1/products/%C3%28/stock", "/v1/orders/%80"] {
        // Act
        let reply =
            send(Mocks::touching_no_stock().router(), empty(request(Method::GET, path))).await;

        // Assert
        assert_eq!(reply.outcome(), (400, "invalid-id".to_owned()), "{path}: {}", reply.text());
        reply.assert_problem(400, "invalid-id");
    }
}
