//! The sweeper's query (reserved orders whose time is up, oldest expiry first) and its write
//! (a batch of expiries in one transaction, the orders' transitions as one statement).

use chrono::TimeDelta;
use domain::access::Actor;
use domain::event::EventType;
use domain::ports::{Changeset, OrderRepository, StoreError, UnitOfWork};
use domain::{Order, OrderId, OrderStatus, ProductId, Timestamp};

use crate::events::assert_feed_is_whole;
use crate::fixtures::{checkout, product, qty, stock, t0};
use crate::support::{TestDb, on_every_backend};

on_every_backend!(
    only_due_reserved_orders_are_due_for_expiry,
    a_batch_of_expiries_with_one_stale_order_writes_none_and_names_it,
);

async fn only_due_reserved_orders_are_due_for_expiry(db: &TestDb) {
    let (product, _) = product(db, "EX-1", 100).await;
    let at = |minutes| t0() + TimeDelta::minutes(minutes);
    // Every order is held for 15 minutes from its checkout.
    let due_second = checkout(db, &[(product.id, 1)], at(0)).await; // expires at 15
    let due_first = checkout(db, &[(product.id, 1)], at(-5)).await; // expires at 10
    let not_yet = checkout(db, &[(product.id, 1)], at(10)).await; // expires at 25
    let mut paid = checkout(db, &[(product.id, 1)], at(-10)).await; // expires at 5, but paid
    let mut held = stock(db, product.id).await;
    let sale = held.sell(qty(1)).expect("sell");
    let pay = paid.pay(at(-9), Actor::Admin).expect("payable").expect("a change");
    db.adapters
        .unit_of_work
        .commit(Changeset::new(vec![sale], Some(pay), at(-9)))
        .await
        .expect("pay");

    let due = db.adapters.orders.due_for_expiry(at(15), 10).await.expect("due");
    let first = db.adapters.orders.due_for_expiry(at(15), 1).await.expect("due");

    assert_eq!(
        ids(&due),
        vec![due_first.id(), due_second.id()],
        "oldest expiry first, at or before now"
    );
    assert_eq!(due, vec![due_first.clone(), due_second], "with their lines");
    assert_eq!(ids(&first), vec![due_first.id()]);
    assert!(!ids(&due).contains(&not_yet.id()));
}

fn ids(orders: &[Order]) -> Vec<OrderId> {
    orders.iter().map(Order::id).collect()
}

async fn a_batch_of_expiries_with_one_stale_order_writes_none_and_names_it(db: &TestDb) {
    let (product, _) = product(db, "EX-2", 10).await;
    let mut placed = Vec::new();
    for _ in 0..4 {
        placed.push(checkout(db, &[(product.id, 1)], t0()).await);
    }
    let due = t0() + TimeDelta::minutes(20);
    // The third order is paid after the sweeper read it.
    let mut paid = placed[2].clone();
    let sale = stock(db, product.id).await.sell(qty(1)).expect("sell");
    let pay =
        paid.pay(t0() + TimeDelta::minutes(1), Actor::Admin).expect("payable").expect("a change");
    let uow = &db.adapters.unit_of_work;
    uow.commit(Changeset::new(vec![sale], Some(pay), t0())).await.expect("pay");
    let stale = uow.commit_all(expiries(db, product.id, &placed[..3], due).await).await;
    let fresh = uow.commit_all(expiries(db, product.id, &placed[..2], due).await).await;

    let err = stale.expect_err("a stale order");
    assert!(matches!(err, StoreError::OrderConflict(id) if id == placed[2].id()), "{err:?}");
    fresh.expect("the batch without it");
    let mut statuses = Vec::new();
    for order in &placed {
        let stored = db.adapters.orders.get(order.id()).await.expect("get").expect("stored");
        statuses.push((stored.status_at(t0()), stored.version().get()));
    }
    let (expired, reserved, paid) =
        (OrderStatus::Expired, OrderStatus::Reserved, OrderStatus::Paid);
    assert_eq!(statuses, vec![(expired, 2), (expired, 2), (paid, 2), (reserved, 1)]);
    let after = stock(db, product.id).await;
    assert_eq!((after.on_hand().get(), after.reserved().get()), (9, 1));
    // The batch's one UPDATE gave each order its own event; the refused batch took none.
    let events = assert_feed_is_whole(db, &[product.id]).await;
    let mut expired: Vec<_> = (events.iter())
        .filter(|e| e.event_type() == EventType::OrderExpired)
        .map(|e| (e.subject(), e.time))
        .collect();
    expired.sort();
    let mut expected = vec![(placed[0].id().as_uuid(), due), (placed[1].id().as_uuid(), due)];
    expected.sort();
    assert_eq!(expired, expected);
}

/// The expiry of each of `orders` at `due`, each giving back its one unit of `product` out of
/// the stock as stored now: the batch the sweeper would commit.
async fn expiries(
    db: &TestDb,
    product: ProductId,
    orders: &[Order],
    due: Timestamp,
) -> Vec<Changeset> {
    let mut held = stock(db, product).await;
    orders
        .iter()
        .map(|order| {
            let mut order = order.clone();
            let change = order.expire(due).expect("due");
            let released = held.expire(qty(1)).expect("reserved");
            Changeset::new(vec![released], Some(change), due)
        })
        .collect()
}
