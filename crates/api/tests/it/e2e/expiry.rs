//! A reservation nobody pays for expires, and its units are back on sale within seconds.

use std::time::{Duration, Instant};

use api::cli::Config;

use super::client::Api;

on_both_backends!(an_unpaid_reservation_expires_and_its_units_go_back_on_sale, short_expiry);

/// Reservations live one second; the sweeper looks every 100 ms.
fn short_expiry(config: &mut Config) {
    config.reservation_ttl = 1;
    config.sweep_interval_ms = 100;
}

async fn an_unpaid_reservation_expires_and_its_units_go_back_on_sale(api: Api) {
    // Arrange
    let product = api.create_product("EXPIRE-1", 5).await;
    let order = api.reserve(&[(product, 2)]).await;
    assert_eq!(order.expires_at - order.created_at, chrono::TimeDelta::seconds(1));
    assert_eq!(api.stock(product).await.reserved, 2);

    // Act: wait for the sweeper, at most 3 s past the checkout.
    let deadline = Instant::now() + Duration::from_secs(3);
    let stock = loop {
        let stock = api.stock(product).await;
        if stock.reserved == 0 || Instant::now() > deadline {
            break stock;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // Assert
    assert_eq!((stock.on_hand, stock.reserved, stock.available), (5, 0, 5), "released within 3 s");
    let expired = api.order(order.id).await;
    assert_eq!(expired.status, "expired");
    assert!(expired.expired_at.is_some(), "the sweeper recorded when");
    api.pay(order.id).await.assert_problem(409, "order-not-payable");
    api.cancel(order.id).await.assert_problem(409, "order-not-cancellable");
    let ledger = api.movements(product).await;
    let expiry = ledger.iter().find(|m| m.kind == "expire").expect("an expire entry in the ledger");
    assert_eq!((expiry.on_hand_delta, expiry.reserved_delta), (0, -2));
    assert_eq!(expiry.order_id, Some(order.id));
    assert_eq!(ledger.first().map(|m| m.kind.as_str()), Some("expire"), "newest first");
}
