//! Under overload: a commit past its requester's deadline writes nothing, and a statement
//! stuck behind a row lock gives up within its bounded wait as a lost race.

use std::time::{Duration, Instant};

use domain::ports::{OrderRepository, StoreError, UnitOfWork};
use infra_seaorm::{PoolOptions, SeaOrmAdapters, StockWrites, Waits};
use sea_orm::{ConnectionTrait, DatabaseTransaction, TransactionTrait, Value};

use crate::fixtures::{product, reserve_each, stock};
use crate::support::{TestDb, on_every_backend};

on_every_backend!(
    a_changeset_past_its_deadline_is_not_committed_nor_anything_of_its_batch,
    a_write_stuck_behind_a_row_lock_gives_up_within_its_wait_as_a_conflict,
    a_commit_whose_deadline_passes_while_it_waits_for_a_lock_writes_nothing,
);

/// Another session's transaction that holds `product`'s stock row lock (on SQLite: the write
/// lock) until it is let go.
async fn hold_row_lock(db: &TestDb, product: &domain::Product) -> DatabaseTransaction {
    let holder = db.db.begin().await.expect("begin");
    let lock = "UPDATE product_stock SET version = version WHERE product_id = $1";
    holder
        .execute_raw(db.statement(lock, vec![Value::from(product.id.as_uuid())]))
        .await
        .expect("take the row lock");
    holder
}

async fn a_changeset_past_its_deadline_is_not_committed_nor_anything_of_its_batch(db: &TestDb) {
    let (_, mut stock_a) = product(db, "DL-1", 5).await;
    let (gone, late) = reserve_each(std::slice::from_mut(&mut stock_a), 1);
    let (waiting, timely) = reserve_each(std::slice::from_mut(&mut stock_a), 1);
    let late = late.with_deadline(Instant::now());
    let timely = timely.with_deadline(Instant::now() + Duration::from_secs(60));

    let err = db.adapters.unit_of_work.commit_all(vec![late, timely]).await.expect_err("overdue");

    assert!(matches!(&err, StoreError::Overdue(ids) if ids == &[gone.id()]), "{err:?}");
    for order in [&gone, &waiting] {
        assert_eq!(db.adapters.orders.get(order.id()).await.expect("get"), None, "no order");
    }
    let stored = stock(db, stock_a.product_id()).await;
    assert_eq!((stored.reserved().get(), stored.version().get()), (0, 1), "stock untouched");
}

async fn a_write_stuck_behind_a_row_lock_gives_up_within_its_wait_as_a_conflict(db: &TestDb) {
    let (product, mut read) = product(db, "LW-1", 5).await;
    let waits = Waits { lock: Duration::from_secs(1), statement: Duration::from_secs(30) };
    let pool = PoolOptions { size: Some(2), waits: Some(waits), ..PoolOptions::default() };
    let bounded = infra_seaorm::connect_with_pool(&db.url, pool).await.expect("a bounded pool");
    let adapters = SeaOrmAdapters::with_stock_writes(&bounded, StockWrites::Guarded);
    // Another session holds the row lock (on SQLite: the write lock) and does not let go.
    let holder = hold_row_lock(db, &product).await;
    let (order, changeset) = reserve_each(std::slice::from_mut(&mut read), 1);

    let started = Instant::now();
    let err = adapters.unit_of_work.commit(changeset).await.expect_err("the lock is held");
    let waited = started.elapsed();

    holder.rollback().await.expect("let go");
    assert!(err.is_conflict(), "a lock wait that runs out is a lost race: {err:?}");
    // MariaDB counts its wait in whole seconds and checks it coarsely.
    assert!(waited >= Duration::from_millis(900), "it waited for the lock: {waited:?}");
    assert!(waited < Duration::from_secs(4), "and gave up within its bound: {waited:?}");
    assert_eq!(adapters.orders.get(order.id()).await.expect("get"), None, "nothing written");
    bounded.close().await.expect("close");
}

/// The deadline counts the commit's lock waits: a checkout that waited for a row lock until
/// its buyer had been told it timed out is not committed once the lock is let go (on
/// PostgreSQL, refused by the one statement that holds the commit, after its wait).
async fn a_commit_whose_deadline_passes_while_it_waits_for_a_lock_writes_nothing(db: &TestDb) {
    let (product, mut read) = product(db, "DW-1", 5).await;
    let adapters = SeaOrmAdapters::with_stock_writes(&db.db, StockWrites::Guarded);
    let holder = hold_row_lock(db, &product).await;
    let sequence_before = db.scalar("SELECT last FROM event_sequence", vec![]).await;
    let (order, changeset) = reserve_each(std::slice::from_mut(&mut read), 1);
    let changeset = changeset.with_deadline(Instant::now() + Duration::from_millis(300));

    let release = async {
        tokio::time::sleep(Duration::from_millis(900)).await;
        holder.rollback().await.expect("let go");
    };
    let (outcome, ()) = tokio::join!(adapters.unit_of_work.commit(changeset), release);

    let err = outcome.expect_err("past its deadline");
    assert!(matches!(&err, StoreError::Overdue(ids) if ids == &[order.id()]), "{err:?}");
    assert_eq!(adapters.orders.get(order.id()).await.expect("get"), None, "no order");
    let stored = stock(db, product.id).await;
    assert_eq!((stored.reserved().get(), stored.version().get()), (0, 1), "stock untouched");
    let sequence_after = db.scalar("SELECT last FROM event_sequence", vec![]).await;
    assert_eq!(sequence_after, sequence_before, "no sequence of the feed taken");
}
