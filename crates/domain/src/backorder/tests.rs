//! Unit tests of backorders: the limit, the counters' deltas, the room a batch shares, the
//! allocation that owes what the locations lack, and the fill of an order's units owed.

use chrono::{TimeDelta, TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::access::Actor;
use crate::allocation::{Allocation, Candidate, LineAllocation, Policy, allocate_with_backorders};
use crate::{
    Cart, Currency, FillError, LocationId, Money, Order, OrderId, ProductStock, Quantity,
    StockCount, Timestamp,
};

fn pid(n: u128) -> ProductId {
    ProductId::new(Uuid::from_u128(n)).expect("id")
}

fn location(n: u128) -> LocationId {
    LocationId::new(Uuid::from_u128(n)).expect("id")
}

fn q(n: i64) -> Quantity {
    Quantity::new(n).expect("quantity")
}

fn count(n: i64) -> StockCount {
    StockCount::new(n).expect("count")
}

fn limit(n: i64) -> BackorderLimit {
    BackorderLimit::new(n).expect("limit")
}

fn at() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).single().expect("time")
}

/// An order of `quantity` of product 1, `owed` of them backordered, the rest held at the
/// default location.
fn owing(quantity: i64, owed: u32) -> Order {
    let cart = Cart::new([(pid(1), q(quantity))]).expect("cart");
    let price = Money::new(500, Currency::new("EUR").expect("currency")).expect("money");
    let order = Order::place(
        OrderId::new(Uuid::from_u128(77)).expect("id"),
        &cart,
        |_| Some(price),
        None,
        at(),
        TimeDelta::minutes(15),
        Actor::Anonymous,
    )
    .expect("order");
    let held = quantity - i64::from(owed);
    let allocations = if held > 0 {
        vec![Allocation { location_id: LocationId::DEFAULT, quantity: q(held) }]
    } else {
        Vec::new()
    };
    order
        .allocated(vec![LineAllocation { product_id: pid(1), allocations, backordered: owed }])
        .expect("adds up")
}

#[test]
fn limits_run_from_one_to_a_billion() {
    assert_eq!(BackorderLimit::new(1).map(BackorderLimit::get), Ok(1));
    assert_eq!(BackorderLimit::new(1_000_000_000).map(BackorderLimit::get), Ok(1_000_000_000));
    for bad in [0, -1, 1_000_000_001, i64::MAX] {
        assert_eq!(BackorderLimit::new(bad), Err(BackorderLimitError), "{bad}");
    }
    assert_eq!(BackorderPolicy::of(None), BackorderPolicy::Deny);
    assert_eq!(BackorderPolicy::of(Some(limit(5))).limit(), Some(limit(5)));
    let names = (BackorderPolicy::Deny.as_str(), BackorderPolicy::Allow(limit(1)).as_str());
    assert_eq!(names, ("deny", "allow"));
}

#[test]
fn a_new_order_owes_its_backordered_units_and_a_cancellation_gives_them_back() {
    let mut order = owing(5, 3);
    assert_eq!(order.lines()[0].held(), 2);
    let created = OrderChange::Created(order.clone());
    let owed = |units| BackorderDelta { product_id: pid(1), units, limit: None };
    assert_eq!(created.backorders(), [owed(3)]);

    let cancelled = order.cancel(at(), Actor::Admin).expect("cancellable").expect("a change");
    assert_eq!(cancelled.backorders(), [owed(-3)]);

    let mut paid = owing(5, 3);
    let change = paid.pay(at(), Actor::Admin).expect("payable").expect("a change");
    assert_eq!(change.backorders(), [], "a paid order still owes its units");
    assert_eq!(OrderChange::Created(owing(2, 0)).backorders(), [], "nothing owed");
}

#[test]
fn a_fill_moves_owed_units_to_the_delivering_location_and_takes_them_off_the_counter() {
    let mut order = owing(5, 3);
    let change = order.fill(pid(1), location(9), q(2)).expect("owed 3");
    let filled = BackorderDelta { product_id: pid(1), units: -2, limit: None };
    assert_eq!(change.backorders(), [filled]);
    let line = &order.lines()[0];
    assert_eq!(line.backordered, 1);
    let mut expected = vec![
        Allocation { location_id: LocationId::DEFAULT, quantity: q(2) },
        Allocation { location_id: location(9), quantity: q(2) },
    ];
    expected.sort_by_key(|a| a.location_id);
    assert_eq!(line.allocations, expected);
    assert_eq!(order.version(), crate::Version::INITIAL.next());
    assert!(Order::restore(order.record().clone()).is_ok(), "still adds up");

    // The default location again: the units join its allocation.
    order.fill(pid(1), LocationId::DEFAULT, q(1)).expect("owed 1");
    assert_eq!(order.lines()[0].backordered, 0);
    assert_eq!(order.lines()[0].sources()[0].quantity, q(3));

    let refused = order.fill(pid(1), LocationId::DEFAULT, q(1));
    let too_many = FillError::TooMany { product_id: pid(1), owed: 0, requested: 1 };
    assert_eq!(refused.err(), Some(too_many));
    let mut cancelled = owing(2, 1);
    cancelled.cancel(at(), Actor::Admin).expect("cancellable");
    let refused = cancelled.fill(pid(1), LocationId::DEFAULT, q(1));
    assert_eq!(refused.err(), Some(FillError::NotOwed(crate::OrderStatus::Cancelled)));
}

#[test]
fn a_wholly_backordered_line_holds_nothing_until_filled() {
    let order = owing(3, 3);
    assert_eq!(order.lines()[0].sources(), []);
    assert!(Order::restore(order.record().clone()).is_ok());
    let mut broken = order.record().clone();
    broken.lines[0].backordered = 4;
    assert!(Order::restore(broken).is_err(), "owes more than its quantity");
}

#[test]
fn a_short_line_takes_every_unit_for_sale_then_owes_the_rest_within_the_room() {
    let cart = Cart::new([(pid(1), q(7))]).expect("cart");
    let offers = |_| {
        vec![
            Candidate { location_id: location(2), priority: 1, available: count(3) },
            Candidate { location_id: location(3), priority: 2, available: count(1) },
        ]
    };
    let policy = Policy::ByPriority;
    let lines = allocate_with_backorders(&cart, &policy, offers, |_| 3).expect("7 = 4 + 3");
    assert_eq!(lines[0].backordered, 3);
    assert_eq!(lines[0].allocations.iter().map(|a| a.quantity.get()).sum::<u32>(), 4);

    let short = allocate_with_backorders(&cart, &policy, offers, |_| 2).expect_err("4 + 2 < 7");
    assert_eq!(short[0].available.get(), 6, "what could be had: in stock and the room");

    let in_stock = Cart::new([(pid(1), q(4))]).expect("cart");
    let lines = allocate_with_backorders(&in_stock, &policy, offers, |_| 3).expect("fits");
    assert_eq!(lines[0].backordered, 0, "nothing owed while stock serves");
}

#[test]
fn a_batch_shares_the_room_and_deltas_sum_per_product() {
    let mut room = BackorderRoom::new([(pid(1), limit(5), 2), (pid(2), limit(1), 4)]);
    assert_eq!((room.of(pid(1)), room.of(pid(2)), room.of(pid(3))), (3, 0, 0));
    room.take(pid(1), 2);
    room.take(pid(1), 2);
    assert_eq!(room.of(pid(1)), 0);

    let delta = |n, units, limit| BackorderDelta { product_id: pid(n), units, limit };
    let deltas = [
        delta(2, 2, None),
        delta(1, 3, Some(limit(9))),
        delta(2, -2, None),
        delta(1, -1, None),
        delta(1, 0, Some(limit(4))),
    ];
    assert_eq!(sum_backorders(&deltas), [delta(1, 2, Some(limit(4)))], "the smallest limit");
}

#[test]
fn an_owed_unit_is_held_ahead_of_the_safety_stock() {
    let mut stock = ProductStock::restore_at(
        pid(1),
        LocationId::DEFAULT,
        count(2),
        StockCount::ZERO,
        count(2),
        crate::Version::INITIAL,
    )
    .expect("row");
    assert!(stock.reserve(q(1)).is_err(), "nothing for sale");
    let change = stock.hold_owed(q(2)).expect("on hand");
    assert!(!crate::StockSpan::new([&change]).expect("span").takes_for_sale());
    assert_eq!(stock.reserved().get(), 2);
    assert!(stock.hold_owed(q(1)).is_err(), "never beyond on hand");
}
