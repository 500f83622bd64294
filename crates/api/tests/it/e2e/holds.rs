//! Holds that survive a slow payment: `POST /v1/orders/{id}/extend` moves a reservation's
//! expiry one lifetime later, up to the maximum hold, and never both it and the sweeper's
//! expiry of the same order win.

use std::time::Duration;

use api::cli::Config;
use api::wire::OrderView;
use chrono::{TimeDelta, Utc};
use reqwest::Method;
use tokio::task::JoinSet;

use super::client::Api;

on_both_backends!(an_extension_moves_the_expiry_up_to_the_maximum_hold, minute_holds);
on_both_backends!(an_extension_and_an_expiry_of_the_same_order_never_both_win, one_second_holds);

fn minute_holds(config: &mut Config) {
    config.reservation_ttl = 60;
    config.max_hold = 150;
}

async fn extend(api: &Api, order: &OrderView) -> crate::support::Reply {
    api.send(api.admin(Method::POST, &format!("/v1/orders/{}/extend", order.id))).await
}

async fn an_extension_moves_the_expiry_up_to_the_maximum_hold(api: Api) {
    // Arrange
    let product = api.create_product("HOLD-1", 5).await;
    let order = api.reserve(&[(product, 2)]).await;
    let placed = order.created_at;

    // Act
    let first = extend(&api, &order).await;
    let second = extend(&api, &order).await;
    let third = extend(&api, &order).await;

    // Assert
    assert_eq!(order.expires_at, placed + TimeDelta::seconds(60));
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.json::<OrderView>().expires_at, placed + TimeDelta::seconds(120));
    assert_eq!(second.json::<OrderView>().expires_at, placed + TimeDelta::seconds(150), "capped");
    third.assert_problem(409, "order-not-extendable");
    let stored = api.order(order.id).await;
    assert_eq!(
        (stored.status.as_str(), stored.expires_at),
        ("reserved", placed + TimeDelta::seconds(150))
    );
    assert_eq!(api.stock(product).await.reserved, 2, "an extension moves no stock");
    assert_eq!(api.pay(order.id).await.status, 200);
    extend(&api, &order).await.assert_problem(409, "order-not-extendable");
}

fn one_second_holds(config: &mut Config) {
    config.reservation_ttl = 1;
    config.max_hold = 60;
    config.sweep_interval_ms = 10;
}

const ORDERS: usize = 40;

async fn an_extension_and_an_expiry_of_the_same_order_never_both_win(api: Api) {
    // Arrange: orders that run out in a second, each extended at the very moment it runs out,
    // while the sweeper expires due orders every 10 ms.
    let product = api.create_product("HOLD-RACE", ORDERS as i64).await;
    let mut racers = JoinSet::new();
    for n in 0..ORDERS {
        let api = api.clone();
        racers.spawn(async move {
            // Spread over the second, so that some extensions come before, some at and some
            // after the sweeper's pass.
            tokio::time::sleep(Duration::from_millis((n * 25) as u64)).await;
            let order = api.reserve(&[(product, 1)]).await;
            let due = (order.expires_at - Utc::now()).to_std().unwrap_or_default();
            // From 20 ms before it runs out to 20 ms after, in steps of 10 ms.
            let offset = Duration::from_millis(10 * (n % 5) as u64);
            tokio::time::sleep((due + offset).saturating_sub(Duration::from_millis(20))).await;
            let reply = extend(&api, &order).await;
            (order, reply)
        });
    }

    // Act
    let raced = racers.join_all().await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;

    // Assert: an extension that won moved the expiry, and the order expired only after it; one
    // that lost found the order expired. Either way, one expiry, its units back.
    let mut won = 0;
    for (order, reply) in &raced {
        let stored = api.order(order.id).await;
        assert_eq!(stored.status, "expired", "{}", order.id);
        match reply.status.as_u16() {
            200 => {
                won += 1;
                let extended: OrderView = reply.json();
                assert_eq!(extended.expires_at, order.expires_at + TimeDelta::seconds(1));
                let expired_at = stored.expired_at.expect("an expiry time");
                assert!(
                    expired_at >= extended.expires_at,
                    "expired at {expired_at} before its extension ran out"
                );
            }
            409 => assert_eq!(reply.slug(), "order-not-extendable"),
            other => panic!("extend answered {other}: {}", reply.text()),
        }
    }
    eprintln!("{won} of {ORDERS} extensions won their race");
    let expiries = api.movements(product).await.iter().filter(|m| m.kind == "expire").count();
    assert_eq!(expiries, ORDERS, "one expiry per order");
    assert_eq!(api.stock(product).await.reserved, 0);
    assert!(api.reconciliation().await.drift.is_empty());
}
