//! Cancel against mocked ports.

use domain::MovementKind;
use domain::access::Actor;

use super::*;
use crate::test_support::{around_order, moves, oid, pid, reserved_order, stock, t0};

#[tokio::test]
async fn cancelling_releases_exactly_what_was_reserved() {
    let order = reserved_order(&[(1, 3), (2, 1)]);
    let stocks = vec![stock(1, 10, 5, 9), stock(2, 1, 1, 2)];
    let (mocks, commits) = around_order(order, stocks, t0());

    let cancelled = Cancel::new(mocks.into_ports(), RetryPolicy::default())
        .execute(CancelCommand { order_id: oid(1), actor: Actor::Admin })
        .await
        .expect("cancelled");

    assert_eq!(cancelled.record().status, OrderStatus::Cancelled);
    assert_eq!(
        moves(&commits.lock().expect("lock")[0]),
        vec![(pid(1), MovementKind::Release, 0, -3), (pid(2), MovementKind::Release, 0, -1)]
    );
}

#[tokio::test]
async fn a_paid_order_cannot_be_cancelled() {
    let mut order = reserved_order(&[(1, 1)]);
    order.pay(t0(), Actor::Admin).expect("payable");
    let (mocks, commits) = around_order(order, vec![], t0());

    let err = Cancel::new(mocks.into_ports(), RetryPolicy::default())
        .execute(CancelCommand { order_id: oid(1), actor: Actor::Admin })
        .await
        .expect_err("paid");

    assert!(matches!(err, CancelError::NotCancellable { status: OrderStatus::Paid }));
    assert!(commits.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn stock_that_does_not_hold_the_reservation_is_reported_not_hidden() {
    let order = reserved_order(&[(1, 3)]);
    let (mocks, commits) = around_order(order, vec![stock(1, 10, 2, 9)], t0());

    let err = Cancel::new(mocks.into_ports(), RetryPolicy::default())
        .execute(CancelCommand { order_id: oid(1), actor: Actor::Admin })
        .await
        .expect_err("inconsistent");

    assert!(matches!(err, CancelError::Unavailable(_)));
    assert!(commits.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn an_order_read_just_before_a_racing_payment_is_retried_and_then_refused() {
    // First read: still reserved; the stock read then already shows the racing payment's sale.
    // The order is read again to tell a lost race from real disagreement: it moved on.
    let mut mocks = crate::test_support::Mocks::new();
    mocks.clock = crate::test_support::sleeping_clock(1);
    let mut reads = 0;
    mocks.orders.expect_get().times(3).returning(move |_| {
        reads += 1;
        let mut order = reserved_order(&[(1, 1)]);
        if reads > 1 {
            order.pay(t0(), Actor::Admin).expect("payable");
        }
        Ok(Some(order))
    });
    mocks.stock.expect_get_many().times(1).returning(|_| Ok(vec![stock(1, 4, 0, 3)]));
    mocks.unit_of_work.expect_commit().times(0);

    let err = Cancel::new(mocks.into_ports(), RetryPolicy::default())
        .execute(CancelCommand { order_id: oid(1), actor: Actor::Admin })
        .await
        .expect_err("paid meanwhile");

    assert!(matches!(err, CancelError::NotCancellable { status: OrderStatus::Paid }));
}
