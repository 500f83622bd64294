//! Backorders and preorders, end to end: racing buyers of a product that allows backorders
//! take exactly its stock plus its limit; a delivery (here to another location) fills the
//! oldest orders owed first, selling a paid order's units at once and holding a reserved
//! one's; a cancellation gives back what an order still owes; a preorder of a product with
//! nothing on hand works the same way; and the books balance after all of it.

use api::wire::{OrderView, ProductView};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::client::{Api, cart};

/// The default location's fixed id.
const DEFAULT: Uuid = Uuid::from_u128(1);

on_both_backends!(pooled: racing_buyers_take_exactly_stock_plus_the_backorder_limit);
on_both_backends!(a_preorder_and_the_policy_are_checked_at_the_edge);

async fn product(api: &Api, id: Uuid) -> ProductView {
    let reply = api.send(api.request(Method::GET, &format!("/v1/products/{id}"))).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

async fn patch(api: &Api, id: Uuid, body: Value) -> crate::support::Reply {
    api.send(api.admin(Method::PATCH, &format!("/v1/products/{id}")).json(&body)).await
}

async fn deliver(api: &Api, product: Uuid, at: Uuid, units: i64) {
    let body = json!({"delta": units, "location_id": at, "reason": "delivery"});
    let path = format!("/v1/products/{product}/stock/adjustments");
    let reply = api.send(api.admin(Method::POST, &path).json(&body)).await;
    assert_eq!(reply.status, 200, "delivery: {}", reply.text());
}

/// Units each order line owes, and asserts that its allocations and what it owes add up.
fn owed(order: &OrderView) -> u32 {
    let line = &order.items[0];
    let held: u32 = line.allocations.iter().map(|a| a.quantity).sum();
    assert_eq!(held + line.backordered, line.quantity, "order {} adds up", order.id);
    line.backordered
}

async fn racing_buyers_take_exactly_stock_plus_the_backorder_limit(api: Api) {
    // Arrange: 10 on hand, up to 5 more owed.
    let id = api.create_product("BACKORDER-RUSH", 10).await;
    let reply = patch(&api, id, json!({"backorder_limit": 5})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());

    // Act: 60 buyers of one unit at once.
    let mut buyers = JoinSet::new();
    for _ in 0..60 {
        let api = api.clone();
        buyers.spawn(async move { api.checkout(&[(id, 1)]).await });
    }
    let mut orders = Vec::new();
    for reply in buyers.join_all().await {
        match reply.status.as_u16() {
            201 => orders.push(reply.json::<OrderView>()),
            409 => {
                let problem = reply.json::<Value>();
                assert_eq!(
                    problem["type"].as_str().map(|t| t.ends_with("insufficient-stock")),
                    Some(true)
                );
                assert_eq!(
                    problem["shortages"][0]["available"], 0,
                    "nothing left, in stock or owed"
                );
            }
            other => panic!("unexpected {other}: {}", reply.text()),
        }
    }

    // Assert: exactly on hand + limit sold; 10 held, 5 owed.
    assert_eq!(orders.len(), 15, "exactly 10 in stock and 5 backordered");
    let owing: Vec<&OrderView> = orders.iter().filter(|o| owed(o) > 0).collect();
    assert_eq!(owing.len(), 5);
    let stock = api.stock(id).await;
    assert_eq!((stock.on_hand, stock.reserved, stock.available), (10, 10, 0));
    assert_eq!(product(&api, id).await.backordered, 5);
    api.assert_no_drift().await;

    // The oldest owing order is paid; then 3 units arrive at another location.
    let mut fifo: Vec<&OrderView> = owing.clone();
    fifo.sort_by_key(|o| o.id); // placement order: UUIDv7 ids, as the store fills them
    assert_eq!(api.pay(fifo[0].id).await.status, 200);
    let body = json!({"code": "north", "name": "North", "priority": 1});
    let reply = api.send(api.admin(Method::POST, "/v1/locations").json(&body)).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let north = Uuid::parse_str(reply.json::<Value>()["id"].as_str().expect("id")).expect("uuid");
    deliver(&api, id, north, 3).await;

    // The three oldest owing orders are filled at the north: the paid one's unit sold at
    // once, the two reserved ones' held there; the rest still owe.
    for (i, order) in fifo.iter().enumerate() {
        let now = api.order(order.id).await;
        let line = &now.items[0];
        if i < 3 {
            assert_eq!(line.backordered, 0, "order {i} filled");
            assert_eq!(line.allocations.len(), 1);
            assert_eq!((line.allocations[0].location_id, line.allocations[0].quantity), (north, 1));
        } else {
            assert_eq!(line.backordered, 1, "order {i} still owed");
        }
    }
    let stock = api.stock(id).await;
    let at =
        |location: Uuid| stock.locations.iter().find(|r| r.location_id == location).expect("row");
    assert_eq!((at(DEFAULT).on_hand, at(DEFAULT).reserved), (10, 10));
    assert_eq!((at(north).on_hand, at(north).reserved, at(north).available), (2, 2, 0));
    assert_eq!(product(&api, id).await.backordered, 2);

    // A cancellation gives back what its order still owes; the limit bounds what is owed at
    // any moment, so the filled and cancelled units are room again: 5 - 1 = 4.
    assert_eq!(api.cancel(fifo[4].id).await.status, 200);
    assert_eq!(product(&api, id).await.backordered, 1);
    let late = api.checkout(&[(id, 4)]).await;
    assert_eq!(late.status, 201, "{}", late.text());
    assert_eq!(late.json::<OrderView>().items[0].backordered, 4);
    assert_eq!(api.checkout(&[(id, 1)]).await.status, 409, "the limit is reached again");

    // Paying a filled reserved order sells its unit at the north.
    assert_eq!(api.pay(fifo[1].id).await.status, 200);
    let stock = api.stock(id).await;
    let north_row = stock.locations.iter().find(|r| r.location_id == north).expect("row");
    assert_eq!((north_row.on_hand, north_row.reserved), (1, 1));
    api.assert_no_drift().await;
}

async fn a_preorder_and_the_policy_are_checked_at_the_edge(api: Api) {
    // A preorder: nothing on hand, up to 2 owed, from the creation on.
    let body = json!({
        "sku": "PREORDER-1", "name": "Next season", "price": {"amount": 1000, "currency": "EUR"},
        "initial_stock": 0, "backorder_limit": 2,
    });
    let reply = api.send(api.admin(Method::POST, "/v1/products").json(&body)).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let created: ProductView = reply.json();
    assert_eq!((created.backorder_limit, created.backordered), (Some(2), 0));
    let id = created.id;

    let order = api.reserve(&[(id, 2)]).await;
    assert_eq!((order.items[0].backordered, order.items[0].allocations.len()), (2, 0));
    let refused = api.send(api.request(Method::POST, "/v1/checkout").json(&cart(&[(id, 1)]))).await;
    assert_eq!(refused.status, 409);
    assert_eq!(refused.json::<Value>()["shortages"][0]["available"], 0);

    // Denying further backorders keeps what is owed; a delivery still fills it.
    assert_eq!(patch(&api, id, json!({"backorder_limit": null})).await.status, 200);
    let view = product(&api, id).await;
    assert_eq!((view.backorder_limit, view.backordered), (None, 2));
    deliver(&api, id, DEFAULT, 5).await;
    assert_eq!(api.order(order.id).await.items[0].backordered, 0);
    let stock = api.stock(id).await;
    assert_eq!((stock.on_hand, stock.reserved, stock.available), (5, 2, 3));
    assert_eq!(product(&api, id).await.backordered, 0);

    // The limit is the policy: a whole number from 1 to a billion, or null; anything else is
    // a 422 naming the field (and the policy is not an input of its own).
    for body in [json!({"backorder_limit": 0}), json!({"backorder_limit": 1_000_000_001_i64})] {
        let reply = patch(&api, id, body.clone()).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.text());
        assert_eq!(reply.json::<Value>()["errors"][0]["field"], "backorder_limit", "{body}");
    }
    let reply = patch(&api, id, json!({"backorder_policy": "allow"})).await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    api.assert_no_drift().await;
}
