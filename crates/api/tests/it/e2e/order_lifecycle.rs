//! After checkout: paying sells the reserved units, cancelling releases them, and each order
//! ends in one state only.

use api::wire::OrderView;
use tokio::task::JoinSet;

use super::client::Api;

on_both_backends!(paying_sells_the_reserved_units_once_and_a_paid_order_cannot_be_cancelled);
on_both_backends!(cancelling_releases_the_reserved_units_and_a_cancelled_order_cannot_be_paid);
on_both_backends!(pooled: racing_payments_and_cancellations_settle_an_order_exactly_once);

async fn paying_sells_the_reserved_units_once_and_a_paid_order_cannot_be_cancelled(api: Api) {
    // Arrange
    let product = api.create_product("LIFE-1", 10).await;
    let order = api.reserve(&[(product, 3)]).await;

    // Act
    let paid = api.pay(order.id).await;
    let paid_again = api.pay(order.id).await;
    let cancelled = api.cancel(order.id).await;

    // Assert
    assert_eq!(paid.status, 200, "{}", paid.text());
    assert_eq!(paid.json::<OrderView>().status, "paid");
    assert_eq!(paid_again.status, 200, "paying twice is a no-op: {}", paid_again.text());
    assert_eq!(paid_again.json::<OrderView>().status, "paid");
    cancelled.assert_problem(409, "order-not-cancellable");
    let stock = api.stock(product).await;
    assert_eq!((stock.on_hand, stock.reserved, stock.available), (7, 0, 7), "3 sold");
    assert_eq!(stock.version, 3, "reserve, sell; the repeated pay wrote nothing");
    assert_eq!(api.order(order.id).await.status, "paid");
}

async fn cancelling_releases_the_reserved_units_and_a_cancelled_order_cannot_be_paid(api: Api) {
    // Arrange
    let product = api.create_product("LIFE-2", 10).await;
    let order = api.reserve(&[(product, 4)]).await;

    // Act
    let cancelled = api.cancel(order.id).await;
    let cancelled_again = api.cancel(order.id).await;
    let paid = api.pay(order.id).await;

    // Assert
    assert_eq!(cancelled.status, 200, "{}", cancelled.text());
    assert_eq!(cancelled.json::<OrderView>().status, "cancelled");
    assert_eq!(
        cancelled_again.status,
        200,
        "cancelling twice is a no-op: {}",
        cancelled_again.text()
    );
    paid.assert_problem(409, "order-not-payable");
    let stock = api.stock(product).await;
    assert_eq!((stock.on_hand, stock.reserved, stock.available), (10, 0, 10), "released, not sold");
    assert_eq!(stock.version, 3, "reserve, release");
    assert_eq!(api.order(order.id).await.status, "cancelled");
}

async fn racing_payments_and_cancellations_settle_an_order_exactly_once(api: Api) {
    // Arrange
    let product = api.create_product("LIFE-3", 10).await;
    let order = api.reserve(&[(product, 3)]).await;

    // Act
    let mut racers = JoinSet::new();
    for n in 0..20 {
        let api = api.clone();
        racers.spawn(async move {
            let reply =
                if n % 2 == 0 { api.pay(order.id).await } else { api.cancel(order.id).await };
            (n % 2 == 0, reply.outcome())
        });
    }
    let outcomes = racers.join_all().await;

    // Assert: one settle write; every payer and every canceller is told its outcome.
    let settled = api.order(order.id).await.status;
    let stock = api.stock(product).await;
    let on_hand = if settled == "paid" { 7 } else { 10 };
    assert_eq!((stock.on_hand, stock.reserved, stock.version), (on_hand, 0, 3), "{settled}");
    let (paid, cancelled) = match settled.as_str() {
        "paid" => ((200, ""), (409, "order-not-cancellable")),
        "cancelled" => ((409, "order-not-payable"), (200, "")),
        other => panic!("the order is {other}"),
    };
    let wrong: Vec<_> = outcomes
        .into_iter()
        .filter(|(pays, outcome)| {
            let (status, slug) = if *pays { paid } else { cancelled };
            *outcome != (status, slug.to_owned())
        })
        .collect();
    assert!(wrong.is_empty(), "settled as {settled}; (pays?, answer) that disagree: {wrong:?}");
}
