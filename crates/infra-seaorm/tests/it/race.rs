//! Concurrent buyers racing for the last units: exactly as many win as there are units, and
//! the counters and the ledger agree afterwards.

use std::sync::Arc;
use std::time::Instant;

use domain::ports::{
    Changeset, IdGenerator, OrderRepository, StockRepository, StoreError, UnitOfWork,
};
use domain::{Cart, Order, OrderChange, ProductId, StockError};
use infra_seaorm::SeaOrmAdapters;
use infra_seaorm::system::UuidV7Ids;

use crate::fixtures::{minutes, price, product, qty, stock, t0};
use crate::ledger::assert_ledger_matches;
use crate::support::{TestDb, on_every_backend};

const UNITS: i64 = 50;
const BUYERS: usize = 200;
/// A buyer loses a race only to a buyer who won a unit, so 50 units bound the conflicts one
/// buyer can meet; the spare attempts absorb transaction-level conflicts (busy, deadlock).
const ATTEMPTS: usize = 100;

on_every_backend!(two_hundred_buyers_racing_for_fifty_units_get_exactly_fifty);

async fn two_hundred_buyers_racing_for_fifty_units_get_exactly_fifty(db: &TestDb) {
    let (product, _) = product(db, "RACE-1", UNITS).await;
    let adapters = Arc::new(db.adapters.clone());
    let started = Instant::now();

    let buyers: Vec<_> =
        (0..BUYERS).map(|_| tokio::spawn(buy_one(Arc::clone(&adapters), product.id))).collect();
    let mut outcomes = Vec::new();
    for buyer in buyers {
        outcomes.push(buyer.await.expect("a buyer task"));
    }

    let elapsed = started.elapsed();
    let winners: Vec<Order> = outcomes.iter().filter_map(|buyer| buyer.order.clone()).collect();
    let attempts: usize = outcomes.iter().map(|buyer| buyer.attempts).sum();
    let aborted: usize = outcomes.iter().map(|buyer| buyer.aborted).sum();
    eprintln!(
        "race on {:?}: {BUYERS} buyers, {UNITS} units, {} winners, {attempts} commits tried \
         ({aborted} aborted by the database), {elapsed:?}",
        db.backend,
        winners.len()
    );
    assert_eq!(winners.len(), UNITS as usize, "exactly one buyer per unit");
    let stored = stock(db, product.id).await;
    assert_eq!(stored.reserved().get(), UNITS);
    assert_eq!(stored.version().get(), 1 + UNITS);
    assert_ledger_matches(db, product.id).await;
    for order in &winners {
        assert_eq!(db.adapters.orders.get(order.id()).await.expect("get").as_ref(), Some(order));
    }
}

/// What one buyer got, and what it took.
struct Buyer {
    /// The order, when the buyer got a unit.
    order: Option<Order>,
    /// Commits tried.
    attempts: usize,
    /// Commits the database aborted (`TransactionConflict`) rather than the version guard.
    aborted: usize,
}

/// One buyer: read, reserve one unit, commit a checkout; on a conflict, read again.
async fn buy_one(adapters: Arc<SeaOrmAdapters>, product_id: ProductId) -> Buyer {
    let cart = Cart::new([(product_id, qty(1))]).expect("cart");
    let mut aborted = 0;
    for attempt in 1..=ATTEMPTS {
        let mut read = adapters.stock.get(product_id).await.expect("read").expect("stock");
        let change = match read.reserve(qty(1)) {
            Ok(change) => change,
            Err(StockError::Insufficient(_)) => {
                return Buyer { order: None, attempts: attempt - 1, aborted };
            }
            Err(other) => panic!("unexpected {other:?}"),
        };
        let order =
            Order::place(UuidV7Ids.order_id(), &cart, |_| Some(price()), None, t0(), minutes(15))
                .expect("order");
        let changeset =
            Changeset::new(vec![change], Some(OrderChange::Created(order.clone())), t0());
        match adapters.unit_of_work.commit(changeset).await {
            Ok(()) => return Buyer { order: Some(order), attempts: attempt, aborted },
            Err(StoreError::TransactionConflict(_)) => aborted += 1,
            Err(err) if err.is_conflict() => continue,
            Err(err) => panic!("commit failed: {err:?}"),
        }
    }
    panic!("no decision after {ATTEMPTS} attempts");
}
