//! Expiry against mocked ports.

use chrono::TimeDelta;
use domain::MovementKind;
use domain::ports::StoreError;

use super::*;
use crate::test_support::{around_order, moves, oid, pid, reserved_order, stock, t0};

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

    assert_eq!(report, ExpiryReport { expired: vec![oid(1)], skipped: 0 });
    assert_eq!(
        moves(&commits.lock().expect("lock")[0]),
        vec![(pid(1), MovementKind::Expire, 0, -2), (pid(2), MovementKind::Expire, 0, -5)]
    );
}

#[tokio::test]
async fn an_order_paid_meanwhile_is_skipped_without_writing() {
    let due = reserved_order(&[(1, 1)]);
    let mut paid = due.clone();
    paid.pay(t0()).expect("payable");
    let (mut mocks, commits) = around_order(paid, vec![], due_now());
    mocks.orders.expect_due_for_expiry().returning(move |_, _| Ok(vec![due.clone()]));

    let report = ExpireDue::new(mocks.into_ports(), RetryPolicy::default())
        .execute(ExpireDueCommand { limit: 10 })
        .await
        .expect("ran");

    assert_eq!(report, ExpiryReport { expired: vec![], skipped: 1 });
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
