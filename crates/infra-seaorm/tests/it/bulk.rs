//! `StockRepository::save_many`, the write of a bulk sync: many products' changes in one
//! transaction (on PostgreSQL in a few multi-row statements), all or nothing, each guarded as
//! its one-row form is.

use domain::ports::{Changeset, StockRepository, StoreError};
use domain::{ProductStock, StockCount};

use crate::fixtures::{product, stock, t0};
use crate::ledger::assert_ledger_matches;
use crate::support::{TestDb, on_every_backend};

on_every_backend!(a_bulk_of_counts_and_deltas_lands_whole_with_its_ledger);
on_every_backend!(one_stale_row_writes_nothing_of_the_bulk);

async fn products(db: &TestDb, n: usize) -> Vec<ProductStock> {
    let mut stocks = Vec::new();
    for i in 0..n {
        stocks.push(product(db, &format!("SAVE-MANY-{i}"), 10).await.1);
    }
    stocks
}

fn changes(stocks: &mut [ProductStock]) -> Vec<Changeset> {
    stocks
        .iter_mut()
        .enumerate()
        .map(|(i, stock)| {
            let change = if i % 2 == 0 {
                stock.set_on_hand(StockCount::new(20 + i as i64).expect("a count"))
            } else {
                stock.adjust(3)
            };
            Changeset::new(vec![change.expect("a change")], None, t0())
        })
        .collect()
}

async fn a_bulk_of_counts_and_deltas_lands_whole_with_its_ledger(db: &TestDb) {
    let mut stocks = products(db, 40).await;
    let changesets = changes(&mut stocks);

    let stored = db.adapters.stock.save_many(changesets).await.expect("saved");

    let mut expected = stocks.clone();
    expected.sort_by_key(ProductStock::product_id);
    assert_eq!(stored, expected, "each product as computed, in product-id order");
    for saved in &stocks {
        assert_eq!(&stock(db, saved.product_id()).await, saved);
        assert_ledger_matches(db, saved.product_id()).await;
    }
}

async fn one_stale_row_writes_nothing_of_the_bulk(db: &TestDb) {
    let mut stocks = products(db, 40).await;
    let before = stocks.clone();
    // Someone else counts product 10's shelf first: the bulk's count of it is stale.
    let mut other = before[10];
    let count = other.set_on_hand(StockCount::new(99).expect("a count")).expect("a change");
    db.adapters
        .stock
        .save_many(vec![Changeset::new(vec![count], None, t0())])
        .await
        .expect("saved");
    let changesets = changes(&mut stocks);

    let err = db.adapters.stock.save_many(changesets).await.expect_err("a stale row");

    assert!(
        matches!(err, StoreError::StockConflict(id) if id == before[10].product_id()),
        "{err:?}"
    );
    for (i, original) in before.iter().enumerate() {
        let now = stock(db, original.product_id()).await;
        let want = if i == 10 { other } else { *original };
        assert_eq!(now, want, "nothing of the bulk was written");
    }
}
