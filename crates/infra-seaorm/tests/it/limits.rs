//! Purchase limits through the real checkout use case and these adapters: one customer's
//! concurrent checkouts meet on the customer's counter row, whatever process runs them, and a
//! cancelled or expired order gives its units back.

use std::sync::Arc;
use std::time::Duration;

use application::CartLine;
use application::cancel::{Cancel, CancelCommand};
use application::checkout::{CheckedOut, Checkout, CheckoutCommand, CheckoutConfig, CheckoutError};
use application::expire::{ExpireDue, ExpireDueCommand};
use chrono::TimeDelta;
use domain::access::Actor;
use domain::limits::{LimitsPatch, PurchaseKey, PurchaseLimit};
use domain::ports::{ProductRepository, PurchaseCounters};
use domain::{CustomerId, ProductId, ProductPatch};
use infra_seaorm::StockWrites;

use crate::fixtures::{product, qty, stock};
use crate::ledger::assert_ledger_matches;
use crate::race::{Commits, checkouts, checkouts_with, patient, ports};
use crate::support::{TestDb, on_every_backend};

fn customer(name: &str) -> CustomerId {
    name.parse().expect("a customer id")
}

/// A product with `on_hand` units and at most `per_customer` per customer.
async fn limited(db: &TestDb, sku: &str, on_hand: i64, per_customer: i64) -> ProductId {
    let id = product(db, sku, on_hand).await.0.id;
    let limit = PurchaseLimit::new(per_customer).expect("a limit");
    let limits = LimitsPatch { per_order: None, per_customer: Some(Some(limit)) };
    let patch = ProductPatch { limits, low_stock_threshold: None, backorders: None };
    db.adapters.products.update(id, patch).await.expect("set the limit").expect("found");
    id
}

/// `who` buys `n` units of `product_id`, asserted by a client with `customers:assert`.
async fn buy(
    checkout: &Checkout,
    who: &CustomerId,
    product_id: ProductId,
    n: i64,
) -> Result<CheckedOut, CheckoutError> {
    checkout
        .execute(CheckoutCommand {
            location_ids: Vec::new(),
            lines: vec![CartLine { product_id, quantity: qty(n) }],
            customer_id: Some(who.clone()),
            asserts_customer: true,
            actor: Actor::Admin,
            idempotency: None,
            deadline: None,
        })
        .await
}

/// What the counter of (`who`, `product_id`) holds.
async fn counted(db: &TestDb, who: &CustomerId, product_id: ProductId) -> i64 {
    let key = PurchaseKey { customer_id: who.clone(), product_id };
    let counters = infra_seaorm::SeaOrmPurchaseCounters::new(db.db.clone());
    let found = counters.get_many(std::slice::from_ref(&key)).await.expect("read counters");
    found.into_iter().find(|(k, _)| *k == key).map_or(0, |(_, units)| units)
}

/// Fifty checkouts of one unit by one customer, all at once, spread over `checkouts`.
async fn fifty_at_once(
    checkouts: &[Arc<Checkout>],
    who: &CustomerId,
    product_id: ProductId,
) -> (usize, usize) {
    let tasks: Vec<_> = (0..50)
        .zip(checkouts.iter().cycle())
        .map(|(_, checkout)| {
            let (checkout, who) = (Arc::clone(checkout), who.clone());
            tokio::spawn(async move { buy(&checkout, &who, product_id, 1).await })
        })
        .collect();
    let (mut won, mut limited) = (0, 0);
    for task in tasks {
        match task.await.expect("a buyer task") {
            Ok(_) => won += 1,
            Err(CheckoutError::LimitExceeded(limits)) => {
                assert_eq!(limits[0].limit.get(), 2);
                limited += 1;
            }
            Err(other) => panic!("every answer is an order or a limit: {other:?}"),
        }
    }
    (won, limited)
}

on_every_backend!(fifty_checkouts_of_one_customer_against_a_limit_of_two_reserve_exactly_two);
on_every_backend!(the_same_race_over_three_processes_reserves_exactly_two);
on_every_backend!(cancelling_and_expiring_give_units_back_to_the_limit);

async fn fifty_checkouts_of_one_customer_against_a_limit_of_two_reserve_exactly_two(db: &TestDb) {
    race(db, Commits::Alone).await;
}

async fn the_same_race_over_three_processes_reserves_exactly_two(db: &TestDb) {
    race(db, Commits::Grouped { processes: 3 }).await;
}

async fn race(db: &TestDb, commits: Commits) {
    let product_id = limited(db, "LIMITED-1", 100, 2).await;
    let alice = customer("alice@example.com");

    let (won, refused) =
        fifty_at_once(&checkouts(db, StockWrites::Guarded, commits), &alice, product_id).await;

    assert_eq!((won, refused), (2, 48), "exactly the limit, whoever ran them");
    assert_eq!(stock(db, product_id).await.reserved().get(), 2);
    assert_eq!(counted(db, &alice, product_id).await, 2);
    // Another customer has a limit of their own.
    let bob = customer("bob");
    let checkout = &checkouts(db, StockWrites::Guarded, Commits::Alone)[0];
    buy(checkout, &bob, product_id, 2).await.expect("bob's own two");
    assert_ledger_matches(db, product_id).await;
}

async fn cancelling_and_expiring_give_units_back_to_the_limit(db: &TestDb) {
    let product_id = limited(db, "LIMITED-2", 100, 2).await;
    let alice = customer("alice");
    // Reservations that run out in a second, so that the sweeper's use case can expire one.
    let config = CheckoutConfig { reservation_ttl: TimeDelta::seconds(1), retry: patient() };
    let checkout = &checkouts_with(db, StockWrites::Guarded, Commits::Alone, config)[0];
    let first = buy(checkout, &alice, product_id, 1).await.expect("first");
    buy(checkout, &alice, product_id, 1).await.expect("second");
    assert!(matches!(
        buy(checkout, &alice, product_id, 1).await,
        Err(CheckoutError::LimitExceeded(_))
    ));

    let cancel = Cancel::new(ports(db, StockWrites::Guarded), patient());
    let command = CancelCommand { order_id: first.order.id(), actor: Actor::Admin };
    cancel.execute(command).await.expect("cancelled");
    assert_eq!(counted(db, &alice, product_id).await, 1, "the cancelled unit is given back");
    buy(checkout, &alice, product_id, 1).await.expect("bought again after the cancellation");

    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let expire = ExpireDue::new(ports(db, StockWrites::Guarded), patient());
    let report = expire.execute(ExpireDueCommand { limit: 100 }).await.expect("expired");
    assert_eq!(report.expired.len(), 2, "both held orders ran out");
    assert_eq!(counted(db, &alice, product_id).await, 0, "expired units are given back");
    buy(checkout, &alice, product_id, 2).await.expect("the whole limit again");
    assert_eq!(stock(db, product_id).await.reserved().get(), 2);
    assert_ledger_matches(db, product_id).await;
}
