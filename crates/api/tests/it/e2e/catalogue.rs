//! Products and orders by id: creation rules, what a read returns, and ids that do not exist
//! or are not ids at all.

use api::wire::{OrderView, ProductView};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use super::client::Api;

on_both_backends!(a_duplicate_sku_is_409_and_an_invalid_product_is_422_naming_every_field);
on_both_backends!(what_a_write_returns_is_what_a_later_read_returns);
on_both_backends!(unknown_ids_are_404_and_malformed_ids_are_400);

async fn a_duplicate_sku_is_409_and_an_invalid_product_is_422_naming_every_field(api: Api) {
    // Arrange
    api.create_product("DUP-1", 1).await;
    let create = |body: Value| api.send(api.admin(Method::POST, "/v1/products").json(&body));
    let price = json!({"amount": 100, "currency": "EUR"});

    // Act
    let duplicate =
        create(json!({"sku": "DUP-1", "name": "Again", "price": price, "initial_stock": 1})).await;
    let invalid = create(json!({
        "sku": "has space",
        "name": "",
        "price": {"amount": -1, "currency": "XXX1"},
        "initial_stock": -5,
    }))
    .await;

    // Assert
    duplicate.assert_problem(409, "duplicate-sku");
    let problem = invalid.assert_problem(422, "invalid-request");
    let mut fields: Vec<_> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["initial_stock", "name", "price.currency", "sku"], "{problem}");
}

async fn what_a_write_returns_is_what_a_later_read_returns(api: Api) {
    // Arrange
    let body = json!({"sku": "READ-1", "name": "Kaos", "price": {"amount": 1999, "currency": "EUR"}, "initial_stock": 3});
    let created = api.send(api.admin(Method::POST, "/v1/products").json(&body)).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let product: Value = created.json();
    let id: Uuid = created.json::<ProductView>().id;

    // Act
    let read = api.send(api.request(Method::GET, &format!("/v1/products/{id}"))).await;
    let checked_out = api.checkout(&[(id, 2)]).await;
    let order: Value = checked_out.json();
    let order_id = checked_out.json::<OrderView>().id;
    let order_read = api.send(api.request(Method::GET, &format!("/v1/orders/{order_id}"))).await;

    // Assert
    assert_eq!(created.header("location"), Some(format!("/v1/products/{id}").as_str()));
    assert_eq!(read.json::<Value>(), product, "GET /v1/products/{{id}} after POST");
    assert_eq!(checked_out.header("location"), Some(format!("/v1/orders/{order_id}").as_str()));
    assert_eq!(order_read.json::<Value>(), order, "GET /v1/orders/{{id}} after checkout");
}

async fn unknown_ids_are_404_and_malformed_ids_are_400(api: Api) {
    let unknown = Uuid::new_v4();
    let cases = [
        (Method::GET, format!("/v1/products/{unknown}"), 404, "product-not-found"),
        (Method::GET, format!("/v1/products/{unknown}/stock"), 404, "product-not-found"),
        (Method::GET, format!("/v1/orders/{unknown}"), 404, "order-not-found"),
        (Method::POST, format!("/v1/orders/{unknown}/pay"), 404, "order-not-found"),
        (Method::POST, format!("/v1/orders/{unknown}/cancel"), 404, "order-not-found"),
        (Method::GET, "/v1/products/42".to_owned(), 400, "invalid-id"),
        (Method::GET, "/v1/orders/not-an-id".to_owned(), 400, "invalid-id"),
        (Method::POST, "/v1/orders/not-an-id/pay".to_owned(), 400, "invalid-id"),
    ];
    for (method, path, status, slug) in cases {
        // Act
        let reply = api.send(api.admin(method.clone(), &path)).await;

        // Assert
        assert_eq!(reply.outcome(), (status, slug.to_owned()), "{method} {path}: {}", reply.text());
    }
}
