//! The sweeper's query: reserved orders whose time is up, oldest expiry first.

use chrono::TimeDelta;
use domain::ports::{Changeset, OrderRepository, UnitOfWork};
use domain::{Order, OrderId};

use crate::fixtures::{checkout, product, qty, stock, t0};
use crate::support::{TestDb, on_every_backend};

on_every_backend!(only_due_reserved_orders_are_due_for_expiry);

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
    let pay = paid.pay(at(-9)).expect("payable").expect("a change");
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
