//! `POST /v1/checkout` over mocked ports: what the use case decides reaches the client as the
//! contract's status and problem, and a refused cart commits nothing.

use axum::http::Method;
use domain::limits::PurchaseLimits;
use domain::ports::{Claim, StockForSale, StoreError};
use domain::{Currency, Money, OrderId, Product, ProductId, ProductName, Sku};
use serde_json::{Value, json};
use uuid::Uuid;

use super::mocks::{Mocks, json, now, request, send, stock_of};
use crate::support::Reply;

fn pid(n: u128) -> ProductId {
    ProductId::new(Uuid::from_u128(n)).expect("an id")
}

fn product(n: u128) -> Product {
    Product {
        id: pid(n),
        sku: Sku::new(format!("SKU-{n}")).expect("a sku"),
        name: ProductName::new("Thing").expect("a name"),
        price: Money::new(250, Currency::new("EUR").expect("EUR")).expect("money"),
        limits: domain::limits::PurchaseLimits::default(),
        low_stock_threshold: None,
        backorders: domain::backorder::BackorderPolicy::Deny,
        backordered: domain::StockCount::ZERO,
        created_at: now(),
    }
}

/// Mocks that know products 1 and 2, with `available` units of each (nothing reserved).
fn shop(available: [i64; 2]) -> Mocks {
    let mut mocks = Mocks::new();
    mocks.stock.expect_get_many().returning(move |_| {
        let [one, two] = available;
        let at = |n, on_hand| stock_of(pid(n), on_hand, 0, 1);
        Ok(vec![at(1, one), at(2, two)])
    });
    mocks.stock.expect_get_many_for_sale().returning(move |_| {
        let [one, two] = available;
        let at = |n, on_hand| StockForSale {
            stock: stock_of(pid(n), on_hand, 0, 1),
            priority: 0,
            price: product(n).price,
            limits: PurchaseLimits::default(),
            backorder_limit: None,
        };
        Ok(vec![at(1, one), at(2, two)])
    });
    mocks.ids.expect_order_id().return_const(OrderId::new(Uuid::from_u128(0xA1)).expect("an id"));
    mocks
}

async fn checkout(mocks: Mocks, key: Option<&str>, cart: &[(u128, i64)]) -> Reply {
    let items: Vec<Value> = cart
        .iter()
        .map(|&(n, quantity)| json!({"product_id": pid(n).to_string(), "quantity": quantity}))
        .collect();
    let mut builder = request(Method::POST, "/v1/checkout");
    if let Some(key) = key {
        builder = builder.header("idempotency-key", key);
    }
    send(mocks.router(), json(builder, &json!({ "items": items }))).await
}

#[tokio::test]
async fn a_short_cart_is_409_listing_every_shortage_and_commits_nothing() {
    // Arrange
    let mut mocks = shop([1, 0]);
    mocks.unit_of_work.expect_commit_all().times(0);

    // Act
    let reply = checkout(mocks, None, &[(1, 2), (2, 1)]).await;

    // Assert
    let problem = reply.assert_problem(409, "insufficient-stock");
    let shortages = &problem["shortages"];
    assert_eq!(shortages.as_array().map(Vec::len), Some(2), "{problem}");
    assert_eq!(
        (shortages[0]["requested"].as_i64(), shortages[0]["available"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        (shortages[1]["requested"].as_i64(), shortages[1]["available"].as_i64()),
        (Some(1), Some(0))
    );
}

#[tokio::test]
async fn a_cart_that_fits_is_201_with_the_order_and_its_location() {
    // Arrange
    let mut mocks = shop([5, 5]);
    mocks
        .unit_of_work
        .expect_commit_all()
        .withf(|batch| batch.len() == 1 && batch[0].stock().len() == 2)
        .times(1)
        .returning(|_| Ok(()));

    // Act
    let reply = checkout(mocks, None, &[(1, 2), (2, 1)]).await;

    // Assert
    assert_eq!(reply.status, 201, "{}", reply.text());
    let order: Value = reply.json();
    assert_eq!(
        reply.header("location"),
        Some(format!("/v1/orders/{}", order["id"].as_str().unwrap_or_default()).as_str())
    );
    assert_eq!(order["status"], "reserved");
    assert_eq!(order["total"], json!({"amount": 750, "currency": "EUR"}));
    assert_eq!(order["expires_at"], json!(now() + chrono::TimeDelta::minutes(15)));
}

#[tokio::test]
async fn a_checkout_that_keeps_losing_races_is_503_contention_with_retry_after() {
    // Arrange: every commit loses; the default policy makes ten attempts, nine waits.
    let mut mocks = shop([5, 5]);
    mocks
        .unit_of_work
        .expect_commit_all()
        .times(10)
        .returning(|_| Err(StoreError::StockConflict(pid(1))));
    mocks.clock.expect_sleep().times(9).returning(|_| ());

    // Act
    let reply = checkout(mocks, None, &[(1, 1)]).await;

    // Assert
    reply.assert_problem(503, "contention");
    assert_eq!(reply.header("retry-after"), Some("1"));
}

#[tokio::test]
async fn a_key_whose_first_request_still_runs_is_409_and_runs_nothing() {
    // Arrange: the store reports the same content in progress.
    let mut mocks = Mocks::touching_no_stock();
    mocks.idempotency.expect_claim().times(1).returning(|_, fingerprint, _, _| {
        Ok(Claim::InProgress { fingerprint: fingerprint.to_owned() })
    });

    // Act
    let reply = checkout(mocks, Some("key-1"), &[(1, 1)]).await;

    // Assert
    reply.assert_problem(409, "idempotency-key-in-use");
}

#[tokio::test]
async fn a_key_first_used_for_other_content_is_422_and_runs_nothing() {
    // Arrange
    let mut mocks = Mocks::touching_no_stock();
    mocks
        .idempotency
        .expect_claim()
        .times(1)
        .returning(|_, _, _, _| Ok(Claim::InProgress { fingerprint: "another request".into() }));

    // Act
    let reply = checkout(mocks, Some("key-1"), &[(1, 1)]).await;

    // Assert
    reply.assert_problem(422, "idempotency-key-reused");
}

#[tokio::test]
async fn a_key_that_is_not_visible_ascii_is_422_before_anything_is_claimed() {
    // Arrange
    let mut mocks = Mocks::touching_no_stock();
    mocks.idempotency.expect_claim().times(0);

    // Act
    let reply = checkout(mocks, Some("has space"), &[(1, 1)]).await;

    // Assert
    let problem = reply.assert_problem(422, "invalid-request");
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
}

#[tokio::test]
async fn a_failing_store_is_503_without_a_word_of_its_error() {
    // Arrange: the driver's message names SQL, a table and a secret.
    let mut mocks = shop([5, 5]);
    mocks.unit_of_work.expect_commit_all().times(1).returning(|_| {
        Err(StoreError::unavailable(
            "INSERT INTO orders (id) VALUES ($1): connection to 10.0.0.7 (password=hunter2) reset",
        ))
    });

    // Act
    let reply = checkout(mocks, None, &[(1, 1)]).await;

    // Assert
    let problem = reply.assert_problem(503, "service-unavailable").to_string();
    for secret in ["INSERT", "orders", "10.0.0.7", "hunter2", "reset"] {
        assert!(!problem.contains(secret), "{secret:?} leaked: {problem}");
    }
}

#[tokio::test]
async fn a_method_the_checkout_does_not_serve_is_405_and_claims_no_key() {
    // Arrange: the idempotency layer wraps POST alone; before, a TRACE with a key claimed it
    // (and kept the 405 under it), and one with a bad key was answered 422.
    for key in ["key-1", "has space"] {
        let mut mocks = Mocks::touching_no_stock();
        mocks.idempotency.expect_claim().times(0);
        let request = request(Method::TRACE, "/v1/checkout").header("idempotency-key", key);

        // Act
        let reply = send(mocks.router(), json(request, &json!({"items": []}))).await;

        // Assert
        reply.assert_problem(405, "method-not-allowed");
    }
}

#[tokio::test]
async fn quantities_written_as_whole_floats_are_whole_numbers() {
    // Arrange: JSON Schema's `integer` (the served document's type) admits `2.0`.
    let item = |quantity: Value| json!({"items": [{"product_id": pid(1).to_string(), "quantity": quantity}]});

    // Act
    let whole = send(
        shop([5, 5]).router(),
        json(request(Method::POST, "/v1/stock/check"), &item(json!(2.0))),
    )
    .await;
    let fraction = send(
        Mocks::touching_no_stock().router(),
        json(request(Method::POST, "/v1/stock/check"), &item(json!(2.5))),
    )
    .await;

    // Assert
    assert_eq!(whole.status, 200, "{}", whole.text());
    assert_eq!(whole.json::<Value>()["items"][0]["requested"], 2);
    let problem = fraction.assert_problem(422, "invalid-request");
    assert_eq!(problem["errors"][0]["field"], "items[0].quantity");
}
