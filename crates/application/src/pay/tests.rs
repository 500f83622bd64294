//! Pay against mocked ports.

use chrono::TimeDelta;
use domain::access::Actor;
use domain::order::OrderChange;
use domain::ports::StoreError;
use domain::{MovementKind, Version};

use super::*;
use crate::test_support::{Mocks, around_order, moves, oid, pid, reserved_order, stock, t0};

fn pay(mocks: Mocks) -> Pay {
    Pay::new(mocks.into_ports(), RetryPolicy::default())
}

#[tokio::test]
async fn paying_sells_exactly_the_reserved_units_with_the_order_in_one_commit() {
    let order = reserved_order(&[(1, 2), (2, 1)]);
    let stocks = vec![stock(1, 10, 2, 5), stock(2, 1, 1, 3)];
    let (mocks, commits) = around_order(order, stocks, t0() + TimeDelta::minutes(1));

    let paid = pay(mocks)
        .execute(PayCommand { order_id: oid(1), actor: Actor::Admin })
        .await
        .expect("paid");

    assert_eq!(paid.record().status, OrderStatus::Paid);
    let commits = commits.lock().expect("lock");
    assert_eq!(commits.len(), 1);
    assert_eq!(
        moves(&commits[0]),
        vec![(pid(1), MovementKind::Sell, -2, -2), (pid(2), MovementKind::Sell, -1, -1)]
    );
    let Some(OrderChange::Updated { expected, order }) = commits[0].order() else { panic!() };
    assert_eq!((*expected, order.version()), (Version::INITIAL, Version::INITIAL.next()));
}

#[tokio::test]
async fn paying_an_expired_order_is_refused_and_writes_nothing() {
    let order = reserved_order(&[(1, 1)]);
    let (mocks, commits) = around_order(order, vec![], t0() + TimeDelta::minutes(15));

    let err = pay(mocks)
        .execute(PayCommand { order_id: oid(1), actor: Actor::Admin })
        .await
        .expect_err("expired");

    assert!(matches!(err, PayError::NotPayable { status: OrderStatus::Expired }));
    assert!(commits.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn paying_a_paid_order_again_is_a_no_op() {
    let mut order = reserved_order(&[(1, 1)]);
    order.pay(t0(), Actor::Admin).expect("payable");
    let (mocks, commits) = around_order(order, vec![], t0());

    let again = pay(mocks)
        .execute(PayCommand { order_id: oid(1), actor: Actor::Admin })
        .await
        .expect("no-op");

    assert_eq!(again.record().status, OrderStatus::Paid);
    assert!(commits.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_payment_that_loses_the_race_to_a_cancellation_sees_it_and_is_refused() {
    let mut mocks = Mocks::new();
    let mut reads = 0;
    mocks.orders.expect_get().times(2).returning(move |_| {
        reads += 1;
        let mut order = reserved_order(&[(1, 1)]);
        if reads == 2 {
            order.cancel(t0(), Actor::Admin).expect("cancellable");
        }
        Ok(Some(order))
    });
    mocks.stock.expect_get_many().returning(|_| Ok(vec![stock(1, 1, 1, 2)]));
    mocks
        .unit_of_work
        .expect_commit()
        .times(1)
        .returning(|_| Err(StoreError::OrderConflict(oid(1))));
    mocks.clock = crate::test_support::sleeping_clock(1);

    let err = pay(mocks)
        .execute(PayCommand { order_id: oid(1), actor: Actor::Admin })
        .await
        .expect_err("cancelled");

    assert!(matches!(err, PayError::NotPayable { status: OrderStatus::Cancelled }));
}

#[tokio::test]
async fn an_unknown_order_is_not_found() {
    let mut mocks = Mocks::new();
    mocks.orders.expect_get().returning(|_| Ok(None));
    let err = pay(mocks)
        .execute(PayCommand { order_id: oid(7), actor: Actor::Admin })
        .await
        .expect_err("unknown");
    assert!(matches!(err, PayError::NotFound(id) if id == oid(7)));
}
