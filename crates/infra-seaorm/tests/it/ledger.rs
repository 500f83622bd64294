//! The stock ledger and the database's own guards: every change leaves one ledger row whose
//! deltas add up to the counters, and CHECK constraints refuse an oversold row even from raw
//! SQL that bypasses the domain.

use chrono::TimeDelta;
use domain::access::Actor;
use domain::ports::{Changeset, StockRepository, UnitOfWork};
use domain::{ProductId, StockCount};
use sea_orm::Value;

use crate::fixtures::{checkout, product, qty, stock, t0};
use crate::support::{TestDb, on_every_backend};

on_every_backend!(
    every_change_has_a_ledger_row_and_the_ledger_sums_to_the_counters,
    check_constraints_refuse_an_oversold_or_negative_row_from_raw_sql,
);

async fn every_change_has_a_ledger_row_and_the_ledger_sums_to_the_counters(db: &TestDb) {
    let (product, _) = product(db, "LG-1", 10).await;
    let later = |minutes| t0() + TimeDelta::minutes(minutes);
    let mut to_pay = checkout(db, &[(product.id, 3)], later(1)).await;
    let mut to_cancel = checkout(db, &[(product.id, 2)], later(2)).await;
    let mut read = stock(db, product.id).await;
    let delivery = read.adjust(5).expect("adjust");
    db.adapters
        .stock
        .save(delivery, Some("delivery".into()), Actor::Admin, None, later(3))
        .await
        .expect("adjust");
    let mut read = stock(db, product.id).await;
    let sale = read.sell(qty(3)).expect("sell");
    let pay = to_pay.pay(later(4), Actor::Admin).expect("payable").expect("a change");
    db.adapters
        .unit_of_work
        .commit(Changeset::new(vec![sale], Some(pay), later(4)))
        .await
        .expect("pay");
    let release = read.release(qty(2)).expect("release");
    let cancel = to_cancel.cancel(later(5), Actor::Admin).expect("cancellable").expect("a change");
    db.adapters
        .unit_of_work
        .commit(Changeset::new(vec![release], Some(cancel), later(5)))
        .await
        .expect("cancel");
    let mut read = stock(db, product.id).await;
    let count = read.set_on_hand(StockCount::new(9).expect("count")).expect("set");
    db.adapters
        .stock
        .save(count, Some("shelf count".into()), Actor::Admin, None, later(6))
        .await
        .expect("set");

    let stored = stock(db, product.id).await;
    assert_eq!((stored.on_hand().get(), stored.reserved().get()), (9, 0));
    assert_ledger_matches(db, product.id).await;
    let ledger = db.adapters.stock.movements(product.id, 100).await.expect("ledger");
    let kinds: Vec<_> = ledger.iter().rev().map(|m| m.kind.as_str()).collect();
    assert_eq!(kinds, ["restock", "reserve", "reserve", "adjust", "sell", "release", "set"]);
    assert_eq!(ledger[2].order_id, Some(to_pay.id()), "the sale points at its order");
    assert_eq!(ledger[3].reason.as_deref(), Some("delivery"));
}

/// One ledger row per version, and the ledger's deltas add up to the stored counters.
pub async fn assert_ledger_matches(db: &TestDb, product_id: ProductId) {
    let stored = stock(db, product_id).await;
    let ledger = db.adapters.stock.movements(product_id, u32::MAX).await.expect("ledger");
    let on_hand: i64 = ledger.iter().map(|m| m.on_hand_delta).sum();
    let reserved: i64 = ledger.iter().map(|m| m.reserved_delta).sum();
    assert_eq!((on_hand, reserved), (stored.on_hand().get(), stored.reserved().get()));
    let versions: Vec<i64> = ledger.iter().rev().map(|m| m.version.get()).collect();
    let expected: Vec<i64> = (1..=stored.version().get()).collect();
    assert_eq!(versions, expected, "one ledger row per version, none missing");
}

async fn check_constraints_refuse_an_oversold_or_negative_row_from_raw_sql(db: &TestDb) {
    let (product, _) = product(db, "CK-1", 5).await;
    let id = || vec![Value::from(product.id.as_uuid())];

    let over = "UPDATE product_stock SET reserved = on_hand + 1 WHERE product_id = $1";
    let negative_on_hand =
        "UPDATE product_stock SET on_hand = -1, reserved = 0 WHERE product_id = $1";
    let negative_reserved = "UPDATE product_stock SET reserved = -1 WHERE product_id = $1";
    for sql in [over, negative_on_hand, negative_reserved] {
        let err = db.execute(sql, id()).await.expect_err(sql);
        assert!(err.to_string().contains("ck_product_stock_"), "{sql}: {err}");
    }

    let full = "UPDATE product_stock SET reserved = on_hand WHERE product_id = $1";
    assert_eq!(db.execute(full, id()).await.expect("a full reservation is valid"), 1);
}
