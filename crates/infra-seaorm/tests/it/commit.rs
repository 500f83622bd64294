//! The atomic commit: every stock row, the order and the ledger, or none of them.

use chrono::TimeDelta;
use domain::access::Actor;
use domain::ports::{Changeset, OrderRepository, StockRepository, StoreError, UnitOfWork};
use domain::{Cart, OrderChange};
use infra_seaorm::{SeaOrmAdapters, StockWrites};

use crate::fixtures::{checkout, placed, product, qty, reserve_each, stock, t0};
use crate::support::{TestDb, on_every_backend};

on_every_backend!(
    a_commit_with_one_stale_line_among_three_writes_nothing,
    a_guarded_commit_whose_guard_fails_writes_nothing_not_even_a_sequence,
    an_order_transition_over_a_stale_version_is_an_order_conflict,
    an_order_transition_of_a_missing_order_is_order_not_found,
);

async fn a_commit_with_one_stale_line_among_three_writes_nothing(db: &TestDb) {
    let mut stocks = Vec::new();
    for sku in ["AT-1", "AT-2", "AT-3"] {
        stocks.push(product(db, sku, 5).await.1);
    }
    // The stale line is the last one the commit writes, so the first two were already
    // updated inside the transaction when the conflict is found.
    stocks.sort_by_key(|s| s.product_id());
    let stale_id = stocks[2].product_id();
    let mut meanwhile = stocks[2];
    let change = meanwhile.adjust(1).expect("adjust");
    db.adapters
        .stock
        .save(change, None, Actor::Admin, None, t0())
        .await
        .expect("a concurrent write");
    let cart = Cart::new(stocks.iter().map(|s| (s.product_id(), qty(2)))).expect("cart");
    let order = placed(&cart);
    let changes = stocks.iter_mut().map(|s| s.reserve(qty(2)).expect("reserve")).collect();
    let changeset = Changeset::new(changes, Some(OrderChange::Created(order.clone())), t0());

    let err = db.adapters.unit_of_work.commit(changeset).await.expect_err("stale line");

    assert!(matches!(err, StoreError::StockConflict(id) if id == stale_id), "{err:?}");
    assert_eq!(db.adapters.orders.get(order.id()).await.expect("get"), None, "no order");
    let lines = db.scalar("SELECT COUNT(*) FROM order_lines", vec![]).await;
    assert_eq!(lines, 0, "no order lines");
    for fresh in &stocks[..2] {
        let stored = stock(db, fresh.product_id()).await;
        assert_eq!((stored.reserved().get(), stored.version().get()), (0, 1), "stock untouched");
        let ledger = db.adapters.stock.movements(fresh.product_id(), 10).await.expect("ledger");
        assert_eq!(ledger.len(), 1, "only the initial restock");
    }
    assert_eq!(stock(db, stale_id).await, change.after(), "only the concurrent write");
}

async fn an_order_transition_over_a_stale_version_is_an_order_conflict(db: &TestDb) {
    let (product, _) = product(db, "OC-1", 5).await;
    let placed = checkout(db, &[(product.id, 2)], t0()).await;
    let now = t0() + TimeDelta::minutes(1);
    let (mut payer, mut canceller) = (placed.clone(), placed.clone());
    let mut held = stock(db, product.id).await;
    let sale = held.sell(qty(2)).expect("sell");
    let paid = payer.pay(now, Actor::Admin).expect("payable").expect("a change");
    db.adapters
        .unit_of_work
        .commit(Changeset::new(vec![sale], Some(paid), now))
        .await
        .expect("pay");

    let cancelled = canceller.cancel(now, Actor::Admin).expect("cancellable").expect("a change");
    let err = db
        .adapters
        .unit_of_work
        .commit(Changeset::new(vec![], Some(cancelled), now))
        .await
        .expect_err("stale order");

    assert!(matches!(err, StoreError::OrderConflict(id) if id == placed.id()), "{err:?}");
    assert_eq!(db.adapters.orders.get(placed.id()).await.expect("get"), Some(payer));
}

async fn an_order_transition_of_a_missing_order_is_order_not_found(db: &TestDb) {
    let (product, _) = product(db, "ON-1", 5).await;
    let cart = Cart::new([(product.id, qty(1))]).expect("cart");
    let mut never_stored = placed(&cart);
    let cancelled =
        never_stored.cancel(t0(), Actor::Admin).expect("cancellable").expect("a change");

    let err = db
        .adapters
        .unit_of_work
        .commit(Changeset::new(vec![], Some(cancelled), t0()))
        .await
        .expect_err("missing order");

    assert!(matches!(err, StoreError::OrderNotFound(id) if id == never_stored.id()), "{err:?}");
}

/// A guarded write re-checks the stock on the row as it is: a reservation computed from a read
/// that another buyer's reservation has since made too large fails whole (on PostgreSQL, as the
/// one statement that holds the whole commit; elsewhere, as a rolled-back transaction).
async fn a_guarded_commit_whose_guard_fails_writes_nothing_not_even_a_sequence(db: &TestDb) {
    let guarded = SeaOrmAdapters::with_stock_writes(&db.db, StockWrites::Guarded);
    let (first, _) = product(db, "GF-1", 5).await;
    let (second, _) = product(db, "GF-2", 3).await;
    let mut read = [stock(db, first.id).await, stock(db, second.id).await];
    let mut meanwhile = read[1];
    let taken = meanwhile.reserve(qty(2)).expect("reserve");
    guarded.stock.save(taken, None, Actor::Admin, None, t0()).await.expect("another buyer");
    let sequence_before = db.scalar("SELECT last FROM event_sequence", vec![]).await;
    let (order, changeset) = reserve_each(&mut read, 2);

    let err = guarded.unit_of_work.commit(changeset).await.expect_err("the guard fails");

    assert!(matches!(err, StoreError::StockConflict(id) if id == second.id), "{err:?}");
    assert_eq!(guarded.orders.get(order.id()).await.expect("get"), None, "no order");
    let lines = db.scalar("SELECT COUNT(*) FROM order_lines", vec![]).await;
    assert_eq!(lines, 0, "no order lines");
    let untouched = stock(db, first.id).await;
    assert_eq!((untouched.reserved().get(), untouched.version().get()), (0, 1), "first untouched");
    assert_eq!(stock(db, second.id).await, taken.after(), "only the other buyer's reservation");
    let ledger = guarded.stock.movements(first.id, 10).await.expect("ledger");
    assert_eq!(ledger.len(), 1, "only the initial restock");
    let sequence_after = db.scalar("SELECT last FROM event_sequence", vec![]).await;
    assert_eq!(sequence_after, sequence_before, "no sequence of the feed taken");
}
