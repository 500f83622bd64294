//! Stock in several locations, end to end: a rush of buyers over three locations never takes a
//! location below zero and sells exactly what they hold together; transfers racing checkouts
//! never move a reserved unit; a safety stock is never sold; and the books still balance.

use std::collections::BTreeMap;

use api::wire::{LocationStockView, OrderView, StockView};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::client::{Api, cart};

/// The default location's fixed id.
const DEFAULT: Uuid = Uuid::from_u128(1);

on_both_backends!(pooled: two_hundred_buyers_over_three_locations_take_exactly_their_thirty_units, as_is);
on_both_backends!(transfers_racing_checkouts_never_move_a_reserved_unit);
on_both_backends!(a_safety_stock_is_never_sold_nor_transferred);

fn as_is(_: &mut api::cli::Config) {}

/// A new location; returns its id.
async fn location(api: &Api, code: &str, priority: i64) -> Uuid {
    let body = json!({"code": code, "name": code, "priority": priority});
    let reply = api.send(api.admin(Method::POST, "/v1/locations").json(&body)).await;
    assert_eq!(reply.status, 201, "location: {}", reply.text());
    Uuid::parse_str(reply.json::<Value>()["id"].as_str().expect("an id")).expect("a uuid")
}

/// A delivery of `units` of `product` to `at`.
async fn deliver(api: &Api, product: Uuid, at: Uuid, units: i64) {
    let body = json!({"delta": units, "location_id": at, "reason": "delivery"});
    let path = format!("/v1/products/{product}/stock/adjustments");
    let reply = api.send(api.admin(Method::POST, &path).json(&body)).await;
    assert_eq!(reply.status, 200, "delivery: {}", reply.text());
}

/// `POST /v1/checkout` of `units` of `product` from `locations` (all, by priority, when empty).
async fn buy(api: &Api, product: Uuid, units: i64, locations: &[Uuid]) -> crate::support::Reply {
    let mut body = cart(&[(product, units)]);
    if !locations.is_empty() {
        body["location_ids"] = json!(locations);
    }
    api.send(api.request(Method::POST, "/v1/checkout").json(&body)).await
}

/// A transfer of `units` of `product`.
async fn transfer(
    api: &Api,
    product: Uuid,
    from: Uuid,
    to: Uuid,
    units: i64,
) -> crate::support::Reply {
    let body = json!({
        "product_id": product, "from_location_id": from, "to_location_id": to, "quantity": units,
    });
    api.send(api.admin(Method::POST, "/v1/transfers").json(&body)).await
}

/// Each location's row of `stock`, by location id.
fn rows(stock: &StockView) -> BTreeMap<Uuid, LocationStockView> {
    stock.locations.iter().map(|row| (row.location_id, row.clone())).collect()
}

/// The units each order holds per location, summed over `orders`; asserts that every line's
/// allocations add up to its quantity.
fn held(orders: &[OrderView]) -> BTreeMap<Uuid, i64> {
    let mut held = BTreeMap::new();
    for order in orders {
        for line in &order.items {
            let sum: u32 = line.allocations.iter().map(|a| a.quantity).sum();
            assert_eq!(sum, line.quantity, "order {}: allocations add up to the line", order.id);
            for a in &line.allocations {
                *held.entry(a.location_id).or_default() += i64::from(a.quantity);
            }
        }
    }
    held
}

async fn two_hundred_buyers_over_three_locations_take_exactly_their_thirty_units(api: Api) {
    // Arrange: 10 units at each of three locations (the default one first by priority).
    let product = api.create_product("MULTI-RUSH", 10).await;
    let (north, south) = (location(&api, "north", 1).await, location(&api, "south", 2).await);
    deliver(&api, product, north, 10).await;
    deliver(&api, product, south, 10).await;
    let everywhere = [DEFAULT, north, south];

    // Act: 200 buyers of 1 to 5 units at once; a third by priority, a third preferring the
    // south, a third limited to two locations.
    let mut buyers = JoinSet::new();
    for i in 0..200_usize {
        let api = api.clone();
        let units = 1 + (i % 5) as i64;
        let prefer: Vec<Uuid> = match i % 3 {
            0 => Vec::new(),
            1 => vec![south, DEFAULT, north],
            _ => vec![north, south],
        };
        buyers.spawn(async move {
            let reply = buy(&api, product, units, &prefer).await;
            (units, prefer, reply)
        });
    }
    let mut orders = Vec::new();
    let mut refused = 0;
    for (units, prefer, reply) in buyers.join_all().await {
        match reply.status.as_u16() {
            201 => {
                let order: OrderView = reply.json();
                let line = &order.items[0];
                assert_eq!(i64::from(line.quantity), units);
                let eligible = if prefer.is_empty() { everywhere.to_vec() } else { prefer };
                assert!(
                    line.allocations.iter().all(|a| eligible.contains(&a.location_id)),
                    "only eligible locations"
                );
                orders.push(order);
            }
            409 => {
                let problem: Value = reply.json();
                assert_eq!(
                    problem["type"].as_str().map(|t| t.ends_with("insufficient-stock")),
                    Some(true)
                );
                let available = problem["shortages"][0]["available"].as_i64().expect("available");
                assert!(
                    available < units,
                    "refused only when the eligible locations hold too little"
                );
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", reply.text()),
        }
    }
    // Whatever the rush left (units a larger buyer could not take), one-unit buyers take.
    loop {
        let reply = buy(&api, product, 1, &[]).await;
        if reply.status == 409 {
            break;
        }
        assert_eq!(reply.status, 201, "{}", reply.text());
        orders.push(reply.json());
    }

    // Assert: exactly the 30 units, 10 per location, each order's allocations add up.
    eprintln!("{} orders, {refused} refused in the rush", orders.len());
    let stock = api.stock(product).await;
    assert_eq!((stock.on_hand, stock.reserved, stock.available), (30, 30, 0));
    for row in rows(&stock).values() {
        assert_eq!((row.on_hand, row.reserved, row.available), (10, 10, 0), "{row:?}");
    }
    let all = held(&orders);
    assert_eq!(all, BTreeMap::from([(DEFAULT, 10), (north, 10), (south, 10)]));
    api.assert_no_drift().await;

    // Paying one order and cancelling another settle the locations they were allocated to.
    let (paid, cancelled) = (&orders[0], &orders[1]);
    assert_eq!(api.pay(paid.id).await.status, 200);
    assert_eq!(api.cancel(cancelled.id).await.status, 200);
    let after = rows(&api.stock(product).await);
    let sold = held(std::slice::from_ref(paid));
    let freed = held(std::slice::from_ref(cancelled));
    for at in everywhere {
        let (s, f) = (sold.get(&at).copied().unwrap_or(0), freed.get(&at).copied().unwrap_or(0));
        assert_eq!((after[&at].on_hand, after[&at].reserved), (10 - s, 10 - s - f), "at {at}");
    }
    api.assert_no_drift().await;
}

async fn transfers_racing_checkouts_never_move_a_reserved_unit(api: Api) {
    // Arrange: 20 units at the default location, a store with none.
    let product = api.create_product("MULTI-TRANSFER", 20).await;
    let store = location(&api, "store", 5).await;

    // Act: 40 one-unit buyers and 30 one-unit transfers to the store, all at once,
    // interleaved (a transfer first, then buyers and transfers in turn).
    let mut tasks = JoinSet::new();
    for i in 0..70 {
        let api = api.clone();
        tasks.spawn(async move {
            if i % 7 >= 3 {
                ("checkout", buy(&api, product, 1, &[]).await.status.as_u16())
            } else {
                ("transfer", transfer(&api, product, DEFAULT, store, 1).await.status.as_u16())
            }
        });
    }
    let mut tally: BTreeMap<(&str, u16), usize> = BTreeMap::new();
    for outcome in tasks.join_all().await {
        *tally.entry(outcome).or_default() += 1;
    }

    // Assert: every unit is still somewhere, exactly 20 sold, the store holds what arrived.
    eprintln!("transfers racing checkouts: {tally:?}");
    let sold = tally.get(&("checkout", 201)).copied().unwrap_or(0);
    let moved = tally.get(&("transfer", 201)).copied().unwrap_or(0);
    assert_eq!(sold, 20, "one unit per buyer while any is for sale anywhere: {tally:?}");
    assert_eq!(tally.get(&("checkout", 409)).copied().unwrap_or(0), 20);
    assert_eq!(moved + tally.get(&("transfer", 409)).copied().unwrap_or(0), 30, "{tally:?}");
    let stock = api.stock(product).await;
    assert_eq!((stock.on_hand, stock.reserved), (20, 20));
    let rows = rows(&stock);
    assert_eq!(rows[&store].on_hand, moved as i64);
    assert_eq!(rows[&DEFAULT].on_hand, 20 - moved as i64);
    assert!(rows.values().all(|row| row.reserved <= row.on_hand));
    api.assert_no_drift().await;
}

async fn a_safety_stock_is_never_sold_nor_transferred(api: Api) {
    // Arrange: 10 units, 3 of them kept back.
    let product = api.create_product("MULTI-SAFETY", 10).await;
    let path = format!("/v1/products/{product}/stock/locations/{DEFAULT}");
    let current = api.send(api.request(Method::GET, &path)).await;
    let etag = current.header("etag").expect("an etag").to_owned();
    let set =
        api.admin(Method::PUT, &path).header("if-match", etag).json(&json!({"safety_stock": 3}));
    let set = api.send(set).await;
    assert_eq!(set.status, 200, "{}", set.text());
    assert_eq!(set.json::<LocationStockView>().available, 7);
    let elsewhere = location(&api, "elsewhere", 9).await;

    // Act: 20 one-unit buyers at once, then a transfer of one unit.
    let mut buyers = JoinSet::new();
    for _ in 0..20 {
        let api = api.clone();
        buyers.spawn(async move { buy(&api, product, 1, &[]).await.status.as_u16() });
    }
    let statuses = buyers.join_all().await;
    let moved = transfer(&api, product, DEFAULT, elsewhere, 1).await;

    // Assert
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 7);
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 13);
    moved.assert_problem(409, "insufficient-stock");
    let row: LocationStockView = api.send(api.request(Method::GET, &path)).await.json();
    assert_eq!((row.on_hand, row.reserved, row.safety_stock, row.available), (10, 7, 3, 0));
    api.assert_no_drift().await;
}

on_both_backends!(incoming_units_are_recorded_per_location_and_deliveries_lessen_them);

async fn incoming_units_are_recorded_per_location_and_deliveries_lessen_them(api: Api) {
    // Arrange: 24 on their way to the north, expected on the 12th.
    let product = api.create_product("INCOMING-1", 0).await;
    let north = location(&api, "north", 1).await;
    let path = format!("/v1/products/{product}/stock/locations/{north}/incoming");
    let body = json!({"quantity": 24, "expected_at": "2026-12-12T09:00:00Z"});
    let reply = api.send(api.admin(Method::PUT, &path).json(&body)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json::<Value>()["quantity"], 24);

    // Act: 10 arrive there, and 3 at the default location (which expected none).
    deliver(&api, product, north, 10).await;
    deliver(&api, product, DEFAULT, 3).await;

    // Assert: 14 still to come at the north; nothing recorded elsewhere.
    let list = format!("/v1/products/{product}/incoming");
    let page: Value = api.send(api.request(Method::GET, &list)).await.json();
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["location_id"], json!(north));
    assert_eq!(items[0]["quantity"], 14);
    assert_eq!(items[0]["expected_at"], "2026-12-12T09:00:00Z");
    let stock = api.stock(product).await;
    assert_eq!((stock.on_hand, stock.available), (13, 13), "incoming is never for sale");

    // A delivery larger than what was expected stops at 0.
    deliver(&api, product, north, 20).await;
    let page: Value = api.send(api.request(Method::GET, &list)).await.json();
    assert_eq!(page["items"][0]["quantity"], 0);

    // Refusals: an unknown product or location 404, a negative quantity 422.
    let ghost = Uuid::now_v7();
    let unknown = format!("/v1/products/{product}/stock/locations/{ghost}/incoming");
    let reply = api.send(api.admin(Method::PUT, &unknown).json(&json!({"quantity": 1}))).await;
    assert_eq!(reply.status, 404, "{}", reply.text());
    let reply = api.send(api.request(Method::GET, &format!("/v1/products/{ghost}/incoming"))).await;
    assert_eq!(reply.status, 404, "{}", reply.text());
    let reply = api.send(api.admin(Method::PUT, &path).json(&json!({"quantity": -1}))).await;
    assert_eq!(reply.status, 422, "{}", reply.text());
}
