//! `POST /v1/orders/{id}/pay|cancel` over mocked ports: the order's status decides, and a
//! refused transition writes nothing.

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::{Method, header};
use domain::access::Actor;
use domain::{Cart, Currency, Money, Order, OrderId, Quantity};
use uuid::Uuid;

use super::mocks::{Mocks, TOKEN, empty, now, product_id, request, send, stock};
use crate::support::Reply;

fn order_id() -> OrderId {
    OrderId::new(Uuid::from_u128(0xA1)).expect("an id")
}

/// A reservation of 3 units of [`product_id`], placed [`now`].
fn reserved() -> Order {
    let cart = Cart::new([(product_id(), Quantity::new(3).expect("3"))]).expect("a cart");
    let price = |_| Money::new(250, Currency::new("EUR").ok()?).ok();
    Order::place(
        order_id(),
        &cart,
        price,
        None,
        now(),
        chrono::TimeDelta::minutes(15),
        Actor::Admin,
    )
    .expect("an order")
}

async fn post(mocks: Mocks, action: &str) -> Reply {
    let path = format!("/v1/orders/{}/{action}", order_id().as_uuid());
    let as_admin =
        request(Method::POST, &path).header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    send(mocks.router(), empty(as_admin)).await
}

#[tokio::test]
async fn paying_a_cancelled_order_is_409_and_commits_nothing() {
    // Arrange
    let mut cancelled = reserved();
    cancelled.cancel(now(), Actor::Admin).expect("a reservation can be cancelled");
    let mut mocks = Mocks::touching_no_stock();
    mocks.orders.expect_get().returning(move |_| Ok(Some(cancelled.clone())));

    // Act
    let reply = post(mocks, "pay").await;

    // Assert
    reply.assert_problem(409, "order-not-payable");
}

#[tokio::test]
async fn cancelling_a_paid_order_is_409_and_commits_nothing() {
    // Arrange
    let mut paid = reserved();
    paid.pay(now(), Actor::Admin).expect("a reservation can be paid");
    let mut mocks = Mocks::touching_no_stock();
    mocks.orders.expect_get().returning(move |_| Ok(Some(paid.clone())));

    // Act
    let reply = post(mocks, "cancel").await;

    // Assert
    reply.assert_problem(409, "order-not-cancellable");
}

#[tokio::test]
async fn paying_an_order_another_request_paid_between_its_two_reads_is_a_no_op() {
    // Arrange: the first read of the order predates a concurrent payment, the stock read
    // (3 sold, nothing reserved) follows it; any later read sees the order paid.
    let mut paid = reserved();
    paid.pay(now(), Actor::Admin).expect("a reservation can be paid");
    let reads = AtomicUsize::new(0);
    let mut mocks = Mocks::touching_no_stock();
    mocks.orders.expect_get().returning(move |_| {
        let first = reads.fetch_add(1, Ordering::SeqCst) == 0;
        Ok(Some(if first { reserved() } else { paid.clone() }))
    });
    mocks.stock.expect_get_many().returning(|_| Ok(vec![stock(7, 0, 3)]));
    mocks.clock.expect_sleep().returning(|_| ());

    // Act
    let reply = post(mocks, "pay").await;

    // Assert
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json::<serde_json::Value>()["status"], "paid");
}
