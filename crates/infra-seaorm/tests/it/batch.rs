//! Group commit's write: several checkouts in one transaction, each product's row written once
//! for all of them, the ledger still one entry per order line.

use std::collections::HashMap;

use domain::access::Actor;
use domain::ports::{
    Changeset, EventFeed, OrderRepository, StockRepository, StoreError, UnitOfWork,
};
use domain::{Cart, Order, OrderChange, ProductId, ProductStock};
use infra_seaorm::{SeaOrmUnitOfWork, StockWrites};

use crate::events::assert_feed_is_whole;
use crate::fixtures::{placed, product, qty, stock, t0};
use crate::support::{TestDb, on_every_backend};

on_every_backend!(
    a_batch_advances_each_row_once_by_its_orders_and_keeps_one_ledger_entry_per_line,
    the_same_batch_written_with_guarded_updates_stores_the_same,
    a_batch_with_one_stale_row_writes_none_of_its_orders,
    a_batch_too_large_for_one_statement_is_stored_and_numbered_whole,
);

/// Reserves each cart in turn out of `stocks` (chaining the changes of a product) and returns
/// the orders and their changesets.
fn reserve_in_turn(
    stocks: &mut HashMap<ProductId, ProductStock>,
    carts: &[Vec<(ProductId, i64)>],
) -> (Vec<Order>, Vec<Changeset>) {
    carts
        .iter()
        .map(|lines| {
            let cart = Cart::new(lines.iter().map(|&(id, n)| (id, qty(n)))).expect("cart");
            let changes = cart
                .lines()
                .map(|(id, n)| stocks.get_mut(&id).expect("known").reserve(n).expect("fits"))
                .collect();
            let order = placed(&cart);
            let changeset =
                Changeset::new(changes, Some(OrderChange::Created(order.clone())), t0());
            (order, changeset)
        })
        .unzip()
}

async fn two_products(db: &TestDb) -> (ProductId, ProductId, HashMap<ProductId, ProductStock>) {
    let (a, a_stock) = product(db, "BATCH-A", 10).await;
    let (b, b_stock) = product(db, "BATCH-B", 10).await;
    (a.id, b.id, HashMap::from([(a.id, a_stock), (b.id, b_stock)]))
}

async fn a_batch_advances_each_row_once_by_its_orders_and_keeps_one_ledger_entry_per_line(
    db: &TestDb,
) {
    batch_of_three(db, &db.adapters.unit_of_work).await;
}

async fn the_same_batch_written_with_guarded_updates_stores_the_same(db: &TestDb) {
    batch_of_three(db, &SeaOrmUnitOfWork::with_stock_writes(db.db.clone(), StockWrites::Guarded))
        .await;
}

async fn batch_of_three(db: &TestDb, unit_of_work: &SeaOrmUnitOfWork) {
    let (a, b, mut stocks) = two_products(db).await;
    let carts = [vec![(a, 2)], vec![(a, 1), (b, 3)], vec![(b, 1)]];
    let (orders, changesets) = reserve_in_turn(&mut stocks, &carts);

    unit_of_work.commit_all(changesets).await.expect("one commit for three orders");

    let (stored_a, stored_b) = (stock(db, a).await, stock(db, b).await);
    assert_eq!((stored_a.reserved().get(), stored_a.version().get()), (3, 3), "two orders on A");
    assert_eq!((stored_b.reserved().get(), stored_b.version().get()), (4, 3), "two orders on B");
    let ledger = |id| async move {
        let mut entries = db.adapters.stock.movements(id, 10).await.expect("ledger");
        entries.reverse();
        entries
            .into_iter()
            .skip(1)
            .map(|m| (m.reserved_delta, m.version.get(), m.order_id))
            .collect::<Vec<_>>()
    };
    let ids: Vec<_> = orders.iter().map(|o| Some(o.id())).collect();
    assert_eq!(ledger(a).await, vec![(2, 2, ids[0]), (1, 3, ids[1])]);
    assert_eq!(ledger(b).await, vec![(3, 2, ids[1]), (1, 3, ids[2])]);
    for order in &orders {
        let stored = db.adapters.orders.get(order.id()).await.expect("get");
        assert_eq!(stored.as_ref(), Some(order), "every order stored with its lines");
    }
}

async fn a_batch_with_one_stale_row_writes_none_of_its_orders(db: &TestDb) {
    let (a, b, mut stocks) = two_products(db).await;
    let (orders, changesets) = reserve_in_turn(&mut stocks, &[vec![(a, 1)], vec![(b, 1)]]);
    let mut meanwhile = stock(db, b).await;
    let concurrent = meanwhile.adjust(1).expect("adjust");
    db.adapters
        .stock
        .save(concurrent, None, Actor::Admin, None, t0())
        .await
        .expect("a concurrent write");

    let err = db.adapters.unit_of_work.commit_all(changesets).await.expect_err("stale B");

    assert!(matches!(err, StoreError::StockConflict(id) if id == b), "{err:?}");
    for order in &orders {
        assert_eq!(db.adapters.orders.get(order.id()).await.expect("get"), None, "no order");
    }
    let stored_a = stock(db, a).await;
    assert_eq!((stored_a.reserved().get(), stored_a.version().get()), (0, 1), "A untouched");
}

/// 40 carts of 100 lines: about 80,000 values to insert, more than one PostgreSQL statement
/// takes, so the inserts go as several statements and take their feed sequences in a round
/// trip of their own before them (one statement takes them itself). Every row is stored and
/// the feed stays dense and in order either way.
async fn a_batch_too_large_for_one_statement_is_stored_and_numbered_whole(db: &TestDb) {
    let (mut stocks, mut ids) = (HashMap::new(), Vec::new());
    for n in 0..100 {
        let (made, made_stock) = product(db, &format!("HUGE-{n}"), 50).await;
        stocks.insert(made.id, made_stock);
        ids.push(made.id);
    }
    let cart: Vec<_> = ids.iter().map(|&id| (id, 1)).collect();
    let (orders, changesets) = reserve_in_turn(&mut stocks, &vec![cart; 40]);

    db.adapters.unit_of_work.commit_all(changesets).await.expect("one commit of 4,000 lines");

    assert_feed_is_whole(db, &ids).await;
    // Two events per product made, one per line reserved, one per order placed.
    assert_eq!(db.adapters.events.head().await.expect("head").get(), 200 + 4_000 + 40);
    for order in [&orders[0], &orders[39]] {
        let stored = db.adapters.orders.get(order.id()).await.expect("get");
        assert_eq!(stored.as_ref(), Some(order), "stored with its 100 lines");
    }
    let one = stock(db, ids[57]).await;
    assert_eq!((one.reserved().get(), one.version().get()), (40, 41), "40 orders on each row");
}
