//! Relative stock changes (admin): they move on-hand, never below what is reserved, and honour
//! `Idempotency-Key` without ever answering a caller who lacks the admin token.

use reqwest::{Method, RequestBuilder};
use serde_json::json;
use uuid::Uuid;

use super::client::Api;
use crate::support::Reply;

on_both_backends!(an_adjustment_moves_on_hand_and_its_retry_with_the_same_key_moves_nothing);
on_both_backends!(an_adjustment_below_the_reserved_units_is_409_insufficient_stock);
on_both_backends!(a_caller_without_the_token_gets_401_even_with_a_key_an_admin_used);

fn adjustment(api: &Api, product: Uuid, delta: i64) -> RequestBuilder {
    let path = format!("/v1/products/{product}/stock/adjustments");
    api.admin(Method::POST, &path).json(&json!({"delta": delta, "reason": "delivery"}))
}

async fn adjust_with_key(api: &Api, product: Uuid, delta: i64) -> Reply {
    api.send(adjustment(api, product, delta).header("idempotency-key", "delivery-7")).await
}

async fn an_adjustment_moves_on_hand_and_its_retry_with_the_same_key_moves_nothing(api: Api) {
    // Arrange
    let product = api.create_product("ADJUST-1", 10).await;

    // Act
    let first = adjust_with_key(&api, product, 5).await;
    let retry = adjust_with_key(&api, product, 5).await;

    // Assert
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.header("etag"), Some("\"2\""));
    assert!(retry.is_replay());
    assert_eq!((retry.status, retry.text()), (first.status, first.text()));
    let stock = api.stock(product).await;
    assert_eq!((stock.on_hand, stock.version), (15, 2), "moved once");
    let ledger = api.movements(product).await;
    assert_eq!((ledger[0].kind.as_str(), ledger[0].on_hand_delta), ("adjust", 5));
    assert_eq!(ledger[0].reason.as_deref(), Some("delivery"));
}

async fn an_adjustment_below_the_reserved_units_is_409_insufficient_stock(api: Api) {
    // Arrange
    let product = api.create_product("ADJUST-2", 10).await;
    api.reserve(&[(product, 4)]).await;

    // Act
    let reply = api.send(adjustment(&api, product, -7)).await;
    let zero = api.send(adjustment(&api, product, 0)).await;

    // Assert
    reply.assert_problem(409, "insufficient-stock");
    zero.assert_problem(422, "invalid-request");
    let stock = api.stock(product).await;
    assert_eq!((stock.on_hand, stock.reserved, stock.version), (10, 4, 2));
}

async fn a_caller_without_the_token_gets_401_even_with_a_key_an_admin_used(api: Api) {
    // Arrange
    let product = api.create_product("ADJUST-3", 10).await;
    assert_eq!(adjust_with_key(&api, product, 5).await.status, 200);
    let path = format!("/v1/products/{product}/stock/adjustments");
    let anonymous = |delta: i64| {
        api.request(Method::POST, &path)
            .header("idempotency-key", "delivery-7")
            .json(&json!({"delta": delta, "reason": "delivery"}))
    };

    // Act
    let same = api.send(anonymous(5)).await;
    let other = api.send(anonymous(6)).await;

    // Assert
    same.assert_problem(401, "unauthorized");
    assert!(!same.is_replay(), "the admin's answer must not be replayed to anyone");
    other.assert_problem(401, "unauthorized");
    assert_eq!(api.stock(product).await.on_hand, 15);
}
