//! Expiry against mocked ports.

use std::sync::{Arc, Mutex};

use chrono::TimeDelta;
use domain::access::Actor;
use domain::ports::{Changeset, StoreError};
use domain::{Cart, MovementKind};

use super::*;
use crate::test_support::{
    Mocks, around_order, clock_at, moves, oid, pid, product, q, reserved_order, stock, t0,
};

fn due_now() -> domain::Timestamp {
    t0() + TimeDelta::minutes(15)
}

#[tokio::test]
async fn expiry_releases_exactly_what_each_due_order_reserved() {
    let order = reserved_order(&[(1, 2), (2, 5)]);
    let due = order.clone();
    let stocks = vec![stock(1, 2, 2, 3), stock(2, 9, 6, 4)];
    let (mut mocks, commits) = around_order(order, stocks, due_now());
    mocks
        .orders
        .expect_due_for_expiry()
        .withf(|&now, &limit| now == due_now() && limit == 10)
        .returning(move |_, _| Ok(vec![due.clone()]));

    let report = ExpireDue::new(mocks.into_ports(), RetryPolicy::default())
        .execute(ExpireDueCommand { limit: 10 })
        .await
        .expect("ran");

    assert_eq!(report, ExpiryReport { expired: vec![oid(1)], skipped: 0, failed: 0 });
    assert_eq!(
        moves(&commits.lock().expect("lock")[0]),
        vec![(pid(1), MovementKind::Expire, 0, -2), (pid(2), MovementKind::Expire, 0, -5)]
    );
}

#[tokio::test]
async fn an_order_paid_meanwhile_is_skipped_without_writing() {
    let due = reserved_order(&[(1, 1)]);
    let mut paid = due.clone();
    paid.pay(t0(), Actor::Admin).expect("payable");
    let (mut mocks, commits) = around_order(paid, vec![], due_now());
    mocks.orders.expect_due_for_expiry().returning(move |_, _| Ok(vec![due.clone()]));

    let report = ExpireDue::new(mocks.into_ports(), RetryPolicy::default())
        .execute(ExpireDueCommand { limit: 10 })
        .await
        .expect("ran");

    assert_eq!(report, ExpiryReport { expired: vec![], skipped: 1, failed: 0 });
    assert!(commits.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn an_unavailable_store_stops_the_run() {
    let (mut mocks, _) = around_order(reserved_order(&[(1, 1)]), vec![], due_now());
    mocks.orders.expect_due_for_expiry().returning(|_, _| Err(StoreError::unavailable("down")));

    let err = ExpireDue::new(mocks.into_ports(), RetryPolicy::default())
        .execute(ExpireDueCommand { limit: 10 })
        .await
        .expect_err("down");

    assert!(matches!(err, ExpireError::Unavailable(_)));
}

/// A reserved order `oid(n)` placed at [`t0`] for the given (product, quantity)s.
fn order(n: u128, lines: &[(u128, i64)]) -> Order {
    let cart = Cart::new(lines.iter().map(|&(p, k)| (pid(p), q(k)))).expect("cart");
    let price = |id: ProductId| Some(product(id.as_uuid().as_u128()).price);
    Order::place(oid(n), &cart, price, None, t0(), TimeDelta::minutes(15), Actor::Anonymous)
        .expect("order")
}

/// Mocks over `orders` (each returned by `get` by id, all of them due) and `stocks`.
fn around(orders: &[Order], stocks: Vec<ProductStock>, sleeps: usize) -> Mocks {
    let mut mocks = Mocks::new();
    mocks.clock = clock_at(due_now(), sleeps);
    let stored = orders.to_vec();
    mocks
        .orders
        .expect_get()
        .returning(move |id| Ok(stored.iter().find(|o| o.id() == id).cloned()));
    mocks.stock.expect_get_many().returning(move |_| Ok(stocks.clone()));
    mocks
}

/// Records the batches committed by `commit_all`; a single `commit` is not expected.
fn recording_batches(mocks: &mut Mocks) -> Arc<Mutex<Vec<Vec<Changeset>>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    mocks.unit_of_work.expect_commit_all().returning(move |batch| {
        sink.lock().expect("lock").push(batch);
        Ok(())
    });
    seen
}

#[tokio::test]
async fn due_orders_are_expired_in_one_commit_writing_each_product_as_one_chain() {
    let due = vec![order(1, &[(1, 2)]), order(2, &[(1, 3), (2, 1)]), order(3, &[(2, 4)])];
    let mut mocks = around(&due, vec![stock(1, 10, 5, 7), stock(2, 10, 5, 3)], 0);
    mocks.orders.expect_due_for_expiry().returning(move |_, _| Ok(due.clone()));
    let batches = recording_batches(&mut mocks);

    let report = ExpireDue::new(mocks.into_ports(), RetryPolicy::default())
        .execute(ExpireDueCommand { limit: 10 })
        .await
        .expect("ran");

    assert_eq!(
        report,
        ExpiryReport { expired: vec![oid(1), oid(2), oid(3)], skipped: 0, failed: 0 }
    );
    let batches = batches.lock().expect("lock");
    assert_eq!(batches.len(), 1, "one transaction for the whole batch");
    let chains = domain::ports::chain_stock_changes(&batches[0]).expect("each product a chain");
    let reserved: Vec<_> = chains
        .iter()
        .map(|(id, chain)| (*id, chain.iter().map(|(c, _)| c.after().reserved().get()).collect()))
        .collect();
    let default = domain::LocationId::DEFAULT;
    assert_eq!(reserved, vec![((pid(1), default), vec![3, 0]), ((pid(2), default), vec![4, 0])]);
}

#[tokio::test]
async fn an_order_the_stock_disagrees_with_is_skipped_and_the_others_expire() {
    // Order 1 says it holds 4 units of product 1, of which only 3 are reserved at all.
    let due = vec![order(1, &[(1, 4)]), order(2, &[(2, 1)])];
    let mut mocks = around(&due, vec![stock(1, 10, 3, 7), stock(2, 10, 5, 3)], 0);
    mocks.orders.expect_due_for_expiry().returning(move |_, _| Ok(due.clone()));
    let batches = recording_batches(&mut mocks);

    let report = ExpireDue::new(mocks.into_ports(), RetryPolicy::default())
        .execute(ExpireDueCommand { limit: 10 })
        .await
        .expect("ran");

    assert_eq!(report, ExpiryReport { expired: vec![oid(2)], skipped: 1, failed: 1 });
    let batches = batches.lock().expect("lock");
    assert_eq!(batches[0].iter().map(Changeset::order_id).collect::<Vec<_>>(), vec![Some(oid(2))]);
}

#[tokio::test]
async fn an_order_whose_write_fails_is_skipped_and_the_others_expire_one_by_one() {
    let due = vec![order(1, &[(1, 1)]), order(2, &[(2, 1)]), order(3, &[(2, 2)])];
    let mut mocks = around(&due, vec![stock(1, 10, 5, 7), stock(2, 10, 5, 3)], 0);
    mocks.orders.expect_due_for_expiry().returning(move |_, _| Ok(due.clone()));
    // The batch fails on order 1's row, and so does order 1 alone; the others go through.
    mocks
        .unit_of_work
        .expect_commit_all()
        .times(1)
        .returning(|_| Err(StoreError::unavailable("check")));
    let written = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&written);
    mocks.unit_of_work.expect_commit().returning(move |changeset| match changeset.order_id() {
        Some(id) if id == oid(1) => Err(StoreError::unavailable("a CHECK constraint refused it")),
        id => {
            sink.lock().expect("lock").push(id);
            Ok(())
        }
    });

    let report = ExpireDue::new(mocks.into_ports(), RetryPolicy::default())
        .execute(ExpireDueCommand { limit: 10 })
        .await
        .expect("one order failing is not a failed run");

    assert_eq!(report, ExpiryReport { expired: vec![oid(2), oid(3)], skipped: 1, failed: 1 });
    assert_eq!(*written.lock().expect("lock"), vec![Some(oid(2)), Some(oid(3))]);
}

#[tokio::test]
async fn a_store_that_fails_every_order_fails_the_run() {
    let due: Vec<_> = (1..=5).map(|n| order(n, &[(1, 1)])).collect();
    let mut mocks = around(&due, vec![stock(1, 10, 5, 7)], 0);
    mocks.orders.expect_due_for_expiry().returning(move |_, _| Ok(due.clone()));
    mocks.unit_of_work.expect_commit_all().returning(|_| Err(StoreError::unavailable("down")));
    mocks.unit_of_work.expect_commit().times(3).returning(|_| Err(StoreError::unavailable("down")));

    let err = ExpireDue::new(mocks.into_ports(), RetryPolicy::default())
        .execute(ExpireDueCommand { limit: 10 })
        .await
        .expect_err("down");

    assert!(matches!(err, ExpireError::Unavailable(_)));
}

#[tokio::test]
async fn a_lost_race_reads_and_decides_the_batch_again() {
    let (first, second) = (order(1, &[(1, 1)]), order(2, &[(1, 2)]));
    let mut mocks = around(&[first.clone(), second.clone()], vec![stock(1, 10, 5, 7)], 1);
    // Order 1 is paid between the first read and its commit: the second read no longer has it.
    let mut reads = vec![vec![second.clone()], vec![first, second]];
    mocks
        .orders
        .expect_due_for_expiry()
        .times(2)
        .returning(move |_, _| Ok(reads.pop().expect("a read")));
    let mut commits = 0;
    let batches = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&batches);
    mocks.unit_of_work.expect_commit_all().times(2).returning(move |batch| {
        commits += 1;
        if commits == 1 {
            return Err(StoreError::OrderConflict(oid(1)));
        }
        sink.lock().expect("lock").push(batch);
        Ok(())
    });

    let report = ExpireDue::new(mocks.into_ports(), RetryPolicy::default())
        .execute(ExpireDueCommand { limit: 10 })
        .await
        .expect("ran");

    assert_eq!(report, ExpiryReport { expired: vec![oid(2)], skipped: 1, failed: 0 });
    let batches = batches.lock().expect("lock");
    assert_eq!(batches[0].iter().map(Changeset::order_id).collect::<Vec<_>>(), vec![Some(oid(2))]);
}

#[test]
fn a_run_whose_orders_all_failed_found_a_batch_but_made_no_progress() {
    let failed = ExpiryReport { expired: vec![], skipped: 10, failed: 10 };
    let mixed = ExpiryReport { expired: vec![oid(1)], skipped: 9, failed: 8 };

    assert_eq!((failed.found(), failed.progress()), (10, 0));
    assert_eq!((mixed.found(), mixed.progress()), (10, 2));
}
