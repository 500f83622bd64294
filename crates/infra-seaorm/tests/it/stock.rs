//! Versioned stock writes: a write moves the version on, and a write over a version that is no
//! longer stored (or a row that does not exist) is refused without writing anything.

use domain::access::Actor;
use domain::ports::{StockRepository, StoreError};
use domain::{ProductStock, StockCount};
use infra_seaorm::{SeaOrmAdapters, StockWrites};

use crate::fixtures::{new_product_id, product, qty, stock, t0};
use crate::support::{TestDb, on_every_backend};

on_every_backend!(
    a_write_bumps_the_version,
    a_stale_write_is_a_stock_conflict_and_writes_nothing,
    a_write_to_a_missing_row_is_product_not_found,
    a_guarded_delivery_never_lifts_the_stored_count_past_the_ceiling,
);

async fn a_write_bumps_the_version(db: &TestDb) {
    let (product, mut read) = product(db, "V-1", 5).await;

    let change = read.reserve(qty(2)).expect("reserve");
    db.adapters.stock.save(change, None, Actor::Admin, None, t0()).await.expect("save");

    let stored = stock(db, product.id).await;
    assert_eq!(stored, change.after());
    assert_eq!(stored.version().get(), 2);
}

async fn a_stale_write_is_a_stock_conflict_and_writes_nothing(db: &TestDb) {
    let (product, read) = product(db, "V-2", 5).await;
    let (mut first, mut second) = (read, read);
    let winner = first.reserve(qty(1)).expect("reserve");
    db.adapters
        .stock
        .save(winner, None, Actor::Admin, None, t0())
        .await
        .expect("the first write wins");

    let stale = second.reserve(qty(3)).expect("reserve");
    let err = db
        .adapters
        .stock
        .save(stale, None, Actor::Admin, None, t0())
        .await
        .expect_err("stale write");

    assert!(matches!(err, StoreError::StockConflict(id) if id == product.id), "{err:?}");
    assert_eq!(stock(db, product.id).await, winner.after(), "the loser wrote nothing");
    let ledger = db.adapters.stock.movements(product.id, 10).await.expect("movements");
    assert_eq!(ledger.len(), 2, "restock and the winner's reserve only");
}

async fn a_write_to_a_missing_row_is_product_not_found(db: &TestDb) {
    let missing = new_product_id();
    let mut ghost = ProductStock::new(missing, StockCount::new(5).expect("count"));
    let change = ghost.reserve(qty(1)).expect("reserve");

    let err = db
        .adapters
        .stock
        .save(change, None, Actor::Admin, None, t0())
        .await
        .expect_err("no such row");

    assert!(matches!(err, StoreError::ProductNotFound(id) if id == missing), "{err:?}");
}

async fn a_guarded_delivery_never_lifts_the_stored_count_past_the_ceiling(db: &TestDb) {
    let guarded = SeaOrmAdapters::with_stock_writes(&db.db, StockWrites::Guarded);
    let (product, read) = product(db, "V-CEIL", StockCount::MAX - 5).await;
    let (mut first, mut second) = (read, read);
    let delivery = first.adjust(5).expect("up to the ceiling");
    guarded.stock.save(delivery, None, Actor::Admin, None, t0()).await.expect("the first delivery");

    // Checked by the domain against the count it read, 5 under the ceiling: fine there.
    let late = second.adjust(5).expect("fits the count read");
    let err = guarded
        .stock
        .save(late, None, Actor::Admin, None, t0())
        .await
        .expect_err("past the ceiling");

    assert!(err.is_conflict(), "refused as a lost race, to be re-read: {err:?}");
    assert_eq!(stock(db, product.id).await.on_hand().get(), StockCount::MAX, "at the ceiling");
}
