//! Stock versions as strong ETags, and `PUT …/stock` guarded by `If-Match`: 428 without it,
//! 412 with a version that is not current, a save only over the current one.

use axum::http::{Method, header};
use serde_json::json;

use super::mocks::{Mocks, TOKEN, empty, json, product_id, request, send, stock};
use crate::support::Reply;

fn stock_path() -> String {
    format!("/v1/products/{}/stock", product_id())
}

/// `PUT …/stock` with the admin token, `{"on_hand": on_hand}` and `If-Match: if_match`.
async fn put_stock(mocks: Mocks, if_match: Option<&str>, on_hand: i64) -> Reply {
    let mut builder = request(Method::PUT, &stock_path())
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    if let Some(etag) = if_match {
        builder = builder.header(header::IF_MATCH, etag);
    }
    send(mocks.router(), json(builder, &json!({"on_hand": on_hand}))).await
}

/// Mocks whose stock reads as `stock(on_hand, reserved, version)` and is never written.
fn stored_at(on_hand: i64, reserved: i64, version: i64) -> Mocks {
    let mut mocks = Mocks::touching_no_stock();
    mocks.stock.expect_get_many().returning(move |_| Ok(vec![stock(on_hand, reserved, version)]));
    mocks
}

#[tokio::test]
async fn stock_carries_its_version_as_a_strong_etag() {
    // Arrange
    let mocks = stored_at(5, 2, 7);

    // Act
    let reply = send(mocks.router(), empty(request(Method::GET, &stock_path()))).await;

    // Assert
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("etag"), Some("\"7\""));
    let body: serde_json::Value = reply.json();
    assert_eq!((body["on_hand"].as_i64(), body["reserved"].as_i64()), (Some(5), Some(2)));
    assert_eq!((body["available"].as_i64(), body["version"].as_i64()), (Some(3), Some(7)));
}

#[tokio::test]
async fn setting_stock_without_if_match_is_428_and_reads_nothing() {
    // Arrange
    let mut mocks = Mocks::touching_no_stock();
    mocks.stock.expect_get_many().times(0);

    // Act
    let reply = put_stock(mocks, None, 4).await;

    // Assert
    reply.assert_problem(428, "precondition-required");
}

#[tokio::test]
async fn setting_stock_over_a_stale_version_is_412_with_the_current_stock() {
    // Act
    let reply = put_stock(stored_at(5, 2, 7), Some("\"6\""), 4).await;

    // Assert
    let problem = reply.assert_problem(412, "version-mismatch");
    assert_eq!(problem["current_version"], 7);
    assert_eq!(problem["current"]["on_hand"], 5);
    assert_eq!(problem["current"]["version"], 7);
}

#[tokio::test]
async fn an_etag_that_was_never_issued_never_matches() {
    for etag in ["W/\"7\"", "7", "\"seven\"", "\"0\""] {
        // Act
        let reply = put_stock(stored_at(5, 2, 7), Some(etag), 4).await;

        // Assert
        assert_eq!(reply.status, 412, "If-Match: {etag}");
        let problem = reply.assert_problem(412, "version-mismatch");
        assert_eq!(problem["current_version"], 7, "If-Match: {etag}");
    }
}

#[tokio::test]
async fn setting_stock_over_the_current_version_saves_it_and_returns_the_next_etag() {
    // Arrange
    let mut mocks = Mocks::new();
    mocks.stock.expect_get_many().returning(|_| Ok(vec![stock(5, 2, 7)]));
    mocks
        .stock
        .expect_save_many()
        .withf(|changesets| {
            let change = &changesets[0].stock()[0];
            change.expected_version().get() == 7 && change.after().on_hand().get() == 9
        })
        .times(1)
        .returning(|changesets| Ok(vec![changesets[0].stock()[0].after()]));

    // Act
    let reply = put_stock(mocks, Some("\"7\""), 9).await;

    // Assert
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("etag"), Some("\"8\""));
    let body: serde_json::Value = reply.json();
    assert_eq!((body["on_hand"].as_i64(), body["available"].as_i64()), (Some(9), Some(7)));
}

#[tokio::test]
async fn if_match_any_matches_whatever_version_the_stock_is_at() {
    // Arrange: RFC 9110 §13.1.1, `*` matches any current representation.
    let mut mocks = Mocks::new();
    mocks.stock.expect_get_many().returning(|_| Ok(vec![stock(5, 2, 7)]));
    mocks
        .stock
        .expect_save_many()
        .withf(|changesets| changesets[0].stock()[0].expected_version().get() == 7)
        .times(1)
        .returning(|changesets| Ok(vec![changesets[0].stock()[0].after()]));

    // Act
    let reply = put_stock(mocks, Some("*"), 9).await;

    // Assert
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("etag"), Some("\"8\""));
}

#[tokio::test]
async fn setting_on_hand_below_the_reserved_units_is_409_and_saves_nothing() {
    // Act
    let reply = put_stock(stored_at(5, 2, 7), Some("\"7\""), 1).await;

    // Assert
    reply.assert_problem(409, "below-reserved");
}

#[tokio::test]
async fn an_invalid_count_is_422_whatever_version_it_names_and_reads_nothing() {
    // Before, an If-Match that could never match was answered 412 before the body was checked.
    for etag in ["*", "\"7\"", "W/\"7\""] {
        // Arrange
        let mut mocks = Mocks::touching_no_stock();
        mocks.stock.expect_get_many().times(0);

        // Act
        let reply = put_stock(mocks, Some(etag), 1_000_000_000_001).await;

        // Assert
        let problem = reply.assert_problem(422, "invalid-request");
        assert_eq!(problem["errors"][0]["field"], "on_hand", "If-Match: {etag}");
    }
}

#[tokio::test]
async fn a_method_the_adjustments_do_not_serve_is_405_even_without_the_token() {
    // Arrange: the admin and idempotency layers wrap POST alone.
    let mut mocks = Mocks::touching_no_stock();
    mocks.idempotency.expect_claim().times(0);
    let path = format!("{}/adjustments", stock_path());
    let request = request(Method::TRACE, &path).header("idempotency-key", "key-1");

    // Act
    let reply = send(mocks.router(), json(request, &json!({"delta": 1}))).await;

    // Assert
    reply.assert_problem(405, "method-not-allowed");
}
