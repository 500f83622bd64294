//! Reconciliation's figures: after a clean history every product's counters agree with its
//! ledger and its orders; a hand edit of any one witness is reported on exactly the product it
//! touched, as the invariant it breaks; and figures read while checkouts commit come from one
//! snapshot, so they never show drift that was not there.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::TimeDelta;
use domain::access::Actor;
use domain::ports::{Changeset, IdGenerator, Reconciliation, StockRepository, UnitOfWork};
use domain::{
    Cart, Discrepancy, Drift, LedgerTotals, LocationId, Order, OrderChange, ProductId, StockCount,
    StockFigures, StoredStock, Timestamp,
};
use infra_seaorm::system::UuidV7Ids;
use sea_orm::Value;

use crate::fixtures::{checkout, minutes, price, product, qty, stock, t0};
use crate::support::{TestDb, on_every_backend};

on_every_backend!(
    after_checkouts_payments_cancellations_expiries_and_stock_edits_nothing_drifted,
    each_hand_edit_is_reported_on_its_product_as_the_invariant_it_breaks,
    figures_read_while_checkouts_commit_never_show_drift,
);

#[derive(Debug, Clone, Copy)]
enum Settle {
    Pay,
    Cancel,
    Expire,
}

/// Settles `order` at `at` the way the use cases do: the order's transition and the matching
/// stock movement of every line, in one commit.
async fn settle(db: &TestDb, mut order: Order, how: Settle, at: Timestamp) {
    let mut changes = Vec::new();
    for line in order.lines() {
        let mut held = stock(db, line.product_id).await;
        let change = match how {
            Settle::Pay => held.sell(line.quantity),
            Settle::Cancel => held.release(line.quantity),
            Settle::Expire => held.expire(line.quantity),
        };
        changes.push(change.expect("the order's units are reserved"));
    }
    let transition = match how {
        Settle::Pay => order.pay(at, Actor::Admin).expect("payable"),
        Settle::Cancel => order.cancel(at, Actor::Admin).expect("cancellable"),
        Settle::Expire => Some(order.expire(at).expect("expirable")),
    };
    let changeset = Changeset::new(changes, transition, at);
    db.adapters.unit_of_work.commit(changeset).await.expect("settle");
}

async fn figures(db: &TestDb) -> BTreeMap<ProductId, StockFigures> {
    let figures = db.adapters.reconciliation.stock_figures().await.expect("figures");
    figures.into_iter().map(|f| (f.product_id, f)).collect()
}

async fn after_checkouts_payments_cancellations_expiries_and_stock_edits_nothing_drifted(
    db: &TestDb,
) {
    // Arrange
    let at = |minutes| t0() + TimeDelta::minutes(minutes);
    let (a, _) = product(db, "RC-A", 10).await;
    let (b, _) = product(db, "RC-B", 6).await;
    let (untouched, _) = product(db, "RC-C", 3).await;
    let (empty, _) = product(db, "RC-D", 0).await;
    let paid = checkout(db, &[(a.id, 2), (b.id, 1)], at(0)).await;
    settle(db, paid, Settle::Pay, at(1)).await;
    let cancelled = checkout(db, &[(a.id, 3)], at(2)).await;
    settle(db, cancelled, Settle::Cancel, at(3)).await;
    let expired = checkout(db, &[(b.id, 2)], at(4)).await;
    settle(db, expired, Settle::Expire, at(20)).await;
    // Past its expiry but not swept: still stored as reserved, still holding its unit.
    checkout(db, &[(a.id, 1)], at(-60)).await;
    checkout(db, &[(b.id, 1)], at(21)).await;
    // Group commit: two orders of A in one UPDATE, two ledger entries.
    let mut read = stock(db, a.id).await;
    let carts = [2, 1].map(|n| {
        let cart = Cart::new([(a.id, qty(n))]).expect("cart");
        let change = read.reserve(qty(n)).expect("fits");
        let order = Order::place(
            UuidV7Ids.order_id(),
            &cart,
            |_| Some(price()),
            None,
            at(22),
            minutes(15),
            Actor::Admin,
        )
        .expect("order");
        Changeset::new(vec![change], Some(OrderChange::Created(order)), at(22))
    });
    db.adapters.unit_of_work.commit_all(carts.into()).await.expect("a batch");
    let mut read = stock(db, a.id).await;
    let delivery = read.adjust(5).expect("adjust");
    db.adapters
        .stock
        .save(delivery, Some("delivery".into()), Actor::Admin, None, at(23))
        .await
        .expect("adjust");
    let mut read = stock(db, b.id).await;
    let count = read.set_on_hand(StockCount::new(4).expect("count")).expect("set");
    db.adapters
        .stock
        .save(count, Some("shelf count".into()), Actor::Admin, None, at(24))
        .await
        .expect("set");

    // Act
    let figures = figures(db).await;

    // Assert
    let ids: Vec<_> = figures.keys().copied().collect();
    let mut expected = vec![a.id, b.id, untouched.id, empty.id];
    expected.sort();
    assert_eq!(ids, expected, "every product, once");
    let drift: Vec<_> = figures.values().cloned().filter_map(Drift::find).collect();
    assert_eq!(drift, vec![], "nothing drifted");
    // A: 10 - 2 sold + 5 delivered; 1 overdue + 3 batched held; restock, reserve, sell,
    // reserve, release, reserve, 2 batched reserves, adjust.
    let stored = StoredStock { on_hand: 13, reserved: 4, version: 9 };
    let ledger = LedgerTotals { on_hand: 13, reserved: 4, version: 9, entries: 9 };
    let expected_a = StockFigures {
        product_id: a.id,
        location_id: LocationId::DEFAULT,
        stored: Some(stored),
        ledger: Some(ledger),
        reserved_by_orders: 4,
        backordered: 0,
        backordered_by_orders: 0,
    };
    assert_eq!(figures[&a.id], expected_a);
    assert_eq!(figures[&empty.id].ledger.map(|l| (l.on_hand, l.entries)), Some((0, 1)));
}

async fn each_hand_edit_is_reported_on_its_product_as_the_invariant_it_breaks(db: &TestDb) {
    // Arrange: eight products, each with 5 on hand and one order holding 1 unit.
    let mut ids = Vec::new();
    for n in 0..8 {
        let (product, _) = product(db, &format!("RT-{n}"), 5).await;
        let order = checkout(db, &[(product.id, 1)], t0()).await;
        ids.push((product.id, order.id()));
    }
    let edits: [(&str, &[Discrepancy]); 7] = [
        (
            "UPDATE product_stock SET reserved = reserved + 1 WHERE product_id = $1",
            &[Discrepancy::ReservedDiffersFromLedger, Discrepancy::ReservedDiffersFromOrders],
        ),
        (
            "UPDATE product_stock SET on_hand = on_hand + 1 WHERE product_id = $1",
            &[Discrepancy::OnHandDiffersFromLedger],
        ),
        (
            "UPDATE product_stock SET version = version + 1 WHERE product_id = $1",
            &[Discrepancy::VersionDiffersFromLedger],
        ),
        ("DELETE FROM stock_movements WHERE product_id = $1", &[Discrepancy::MissingLedger]),
        (
            "DELETE FROM product_stock WHERE product_id = $1",
            &[Discrepancy::MissingStock, Discrepancy::ReservedDiffersFromOrders],
        ),
        // A copy of the initial restock that moves nothing: only the entry count shows it.
        (
            "INSERT INTO stock_movements (product_id, kind, on_hand_delta, reserved_delta, version, at) \
             SELECT product_id, kind, 0, 0, version, at FROM stock_movements \
             WHERE product_id = $1 AND version = 1",
            &[Discrepancy::LedgerEntriesDifferFromVersion],
        ),
        // The order, not the stock: paid by hand without selling its unit.
        (
            "UPDATE orders SET status = 'paid' WHERE id = $1",
            &[Discrepancy::ReservedDiffersFromOrders],
        ),
    ];
    let mut expected = BTreeMap::new();
    for (&(product_id, order_id), (sql, broken)) in ids.iter().zip(edits) {
        let id = if sql.contains("orders") { order_id.as_uuid() } else { product_id.as_uuid() };
        let values = vec![Value::from(id)];
        assert!(db.execute(sql, values).await.expect(sql) >= 1, "{sql} changed nothing");
        expected.insert(product_id, broken.to_vec());
    }

    // Act
    let figures = figures(db).await;

    // Assert
    assert_eq!(figures.len(), 8, "the stockless product is still named by its ledger");
    let found: BTreeMap<_, _> = figures
        .values()
        .cloned()
        .filter_map(Drift::find)
        .map(|drift| (drift.product_id(), drift.discrepancies().to_vec()))
        .collect();
    assert_eq!(found, expected, "the untouched product is not listed");
    let (raised, _) = ids[0];
    let stored = StoredStock { on_hand: 5, reserved: 2, version: 2 };
    assert_eq!(figures[&raised].stored, Some(stored));
    assert_eq!(figures[&raised].ledger.map(|l| l.reserved), Some(1));
    assert_eq!(figures[&raised].reserved_by_orders, 1);
}

async fn figures_read_while_checkouts_commit_never_show_drift(db: &TestDb) {
    // Arrange
    let mut products = Vec::new();
    for n in 0..3 {
        products.push(product(db, &format!("RS-{n}"), 1_000).await.0.id);
    }
    let orders = 60;
    let done = AtomicBool::new(false);

    // Act: checkouts of every product commit one after the other while figures are read.
    let buying = async {
        for n in 0..orders {
            let lines: Vec<_> = products.iter().map(|&id| (id, 1 + n % 3)).collect();
            checkout(db, &lines, t0()).await;
        }
        done.store(true, Ordering::Release);
    };
    let auditing = async {
        let mut reads = 0;
        while !done.load(Ordering::Acquire) {
            let figures = db.adapters.reconciliation.stock_figures().await.expect("figures");
            let drift: Vec<_> = figures.into_iter().filter_map(Drift::find).collect();
            assert_eq!(drift, vec![], "a snapshot never shows drift");
            reads += 1;
        }
        reads
    };
    let ((), reads) = tokio::join!(buying, auditing);

    // Assert
    assert!(reads > 1, "the figures were read while the checkouts ran ({reads} reads)");
    let figures = figures(db).await;
    assert!(figures.values().all(|f| f.stored.is_some_and(|s| s.version == 1 + orders)));
}
