//! Unit tests of [`Order`] and its status machine.

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;
use crate::access::Actor;
use crate::hostile::integer;
use crate::{Currency, Quantity};

fn pid(n: u128) -> ProductId {
    ProductId::new(Uuid::from_u128(n)).expect("id")
}

fn eur(amount: i64) -> Money {
    Money::new(amount, Currency::new("EUR").expect("currency")).expect("money")
}

fn at(minute: u32) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, minute, 0).single().expect("time")
}

fn q(n: i64) -> Quantity {
    Quantity::new(n).expect("quantity")
}

/// An order of 2 × product 1 (€2.50) and 1 × product 2 (€10), placed at 12:00, due at 12:15.
fn placed() -> Order {
    let cart = Cart::new([(pid(1), q(1)), (pid(2), q(1)), (pid(1), q(1))]).expect("cart");
    let prices = |id: ProductId| if id == pid(1) { Some(eur(250)) } else { Some(eur(1000)) };
    Order::place(
        OrderId::new(Uuid::from_u128(9)).expect("id"),
        &cart,
        prices,
        None,
        at(0),
        TimeDelta::minutes(15),
        Actor::Anonymous,
    )
    .expect("order")
}

#[test]
fn placing_merges_lines_prices_them_and_sums_the_total() {
    let order = placed();
    let record = order.record();
    assert_eq!(record.status, OrderStatus::Reserved);
    assert_eq!(record.lines.len(), 2);
    assert_eq!(
        record.lines[0],
        OrderLine {
            product_id: pid(1),
            quantity: q(2),
            unit_price: eur(250),
            allocations: vec![at_location(1, 2)],
            backordered: 0,
        }
    );
    assert_eq!(record.total, eur(1500));
    assert_eq!((record.created_at, record.expires_at), (at(0), at(15)));
    assert_eq!(order.version(), Version::INITIAL);
}

#[test]
fn a_product_without_a_price_cannot_be_ordered() {
    let cart = Cart::new([(pid(1), q(1))]).expect("cart");
    let err = Order::place(
        OrderId::new(Uuid::from_u128(9)).expect("id"),
        &cart,
        |_| None,
        None,
        at(0),
        TimeDelta::minutes(1),
        Actor::Anonymous,
    );
    assert_eq!(err, Err(OrderError::Unpriced(pid(1))));
}

#[test]
fn a_cart_in_two_currencies_cannot_be_ordered() {
    let cart = Cart::new([(pid(1), q(1)), (pid(2), q(1))]).expect("cart");
    let usd = Money::new(1, Currency::new("USD").expect("currency")).expect("money");
    let prices = |id: ProductId| if id == pid(1) { Some(eur(1)) } else { Some(usd) };
    let err = Order::place(
        OrderId::new(Uuid::from_u128(9)).expect("id"),
        &cart,
        prices,
        None,
        at(0),
        TimeDelta::minutes(1),
        Actor::Anonymous,
    );
    assert!(matches!(err, Err(OrderError::Money(MoneyError::CurrencyMismatch { .. }))));
}

#[test]
fn paying_a_reservation_in_time_marks_it_paid_and_bumps_the_version() {
    let mut order = placed();
    let change = order.pay(at(5), Actor::Admin).expect("payable").expect("a change");
    assert_eq!(change, OrderChange::Updated { expected: Version::INITIAL, order: order.clone() });
    assert_eq!(order.record().status, OrderStatus::Paid);
    assert_eq!(order.record().paid_at, Some(at(5)));
    assert_eq!(order.record().placed_by, Some(Actor::Anonymous));
    assert_eq!(order.record().settled_by, Some(Actor::Admin));
    assert_eq!(order.version(), Version::INITIAL.next());
}

#[test]
fn paying_twice_is_a_no_op() {
    let mut order = placed();
    order.pay(at(5), Actor::Admin).expect("payable");
    assert_eq!(order.pay(at(6), Actor::Admin), Ok(None));
}

#[test]
fn paying_an_expired_reservation_is_refused_even_before_the_sweeper_ran() {
    let mut order = placed();
    assert_eq!(
        order.pay(at(15), Actor::Admin),
        Err(TransitionError::NotPayable { status: OrderStatus::Expired })
    );
    assert_eq!(order.record().status, OrderStatus::Reserved, "nothing changed");
}

#[test]
fn a_reservation_reads_as_expired_once_due() {
    let order = placed();
    assert_eq!(order.status_at(at(14)), OrderStatus::Reserved);
    assert_eq!(order.status_at(at(15)), OrderStatus::Expired);
}

#[test]
fn cancelling_is_allowed_once_and_then_a_no_op_but_never_after_payment() {
    let mut order = placed();
    assert!(order.cancel(at(1), Actor::Admin).expect("cancellable").is_some());
    assert_eq!(order.cancel(at(2), Actor::Admin), Ok(None));
    assert_eq!(
        order.pay(at(3), Actor::Admin),
        Err(TransitionError::NotPayable { status: OrderStatus::Cancelled })
    );

    let mut paid = placed();
    paid.pay(at(1), Actor::Admin).expect("payable");
    assert_eq!(
        paid.cancel(at(2), Actor::Admin),
        Err(TransitionError::NotCancellable { status: OrderStatus::Paid })
    );
}

#[test]
fn expiry_happens_only_to_due_reservations() {
    let mut order = placed();
    assert_eq!(order.expire(at(14)), Err(TransitionError::NotDue { expires_at: at(15) }));
    assert!(order.expire(at(15)).is_ok());
    assert_eq!(order.record().expired_at, Some(at(15)));
    assert_eq!(
        order.expire(at(16)),
        Err(TransitionError::NotExpirable { status: OrderStatus::Expired })
    );
}

#[test]
fn an_extension_adds_the_lifetime_up_to_the_maximum_hold_and_bumps_the_version() {
    // Placed at 12:00, due at 12:15, held at most until 12:40.
    let (by, max_hold) = (TimeDelta::minutes(15), TimeDelta::minutes(40));
    let mut order = placed();

    let first = order.extend(at(10), by, max_hold).expect("extendable");
    assert_eq!(order.expires_at(), at(30));
    assert_eq!(first, OrderChange::Updated { expected: Version::INITIAL, order: order.clone() });
    order.extend(at(20), by, max_hold).expect("extendable");
    assert_eq!(order.expires_at(), at(40), "capped at the maximum hold");
    assert_eq!(
        order.extend(at(21), by, max_hold),
        Err(TransitionError::NotExtendable { status: OrderStatus::Reserved, expires_at: at(40) })
    );
    assert_eq!(order.version(), Version::INITIAL.next().next());
    assert_eq!(order.record().status, OrderStatus::Reserved);
}

#[test]
fn only_a_reservation_within_its_lifetime_is_extended() {
    let (by, max_hold) = (TimeDelta::minutes(15), TimeDelta::minutes(60));
    let mut due = placed();
    assert_eq!(
        due.extend(at(15), by, max_hold),
        Err(TransitionError::NotExtendable { status: OrderStatus::Expired, expires_at: at(15) })
    );
    let mut paid = placed();
    paid.pay(at(1), Actor::Admin).expect("payable");
    let refused = paid.extend(at(2), by, max_hold);
    assert!(matches!(
        refused,
        Err(TransitionError::NotExtendable { status: OrderStatus::Paid, .. })
    ));
    assert_eq!(due.version(), Version::INITIAL, "a refusal changes nothing");
}

#[test]
fn restoring_checks_lines_and_total() {
    let good = placed().record().clone();
    assert!(Order::restore(good.clone()).is_ok());

    let mut doubled = good.clone();
    doubled.lines.push(doubled.lines[0].clone());
    assert_eq!(Order::restore(doubled), Err(OrderError::Lines));

    let wrong_total = OrderRecord { total: eur(1), ..good };
    assert_eq!(Order::restore(wrong_total), Err(OrderError::Total));
}

#[test]
fn statuses_round_trip_through_their_names() {
    for status in OrderStatus::ALL {
        assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
    }
}

/// A cart over products 1 to 8 with quantities up to the maximum.
fn cart() -> impl Strategy<Value = Cart> {
    let line = (1..=8u128, prop_oneof![1..=5i64, 1..=i64::from(Quantity::MAX)]);
    prop::collection::vec(line, 1..12).prop_map(|lines| {
        let mut merged = std::collections::BTreeMap::<u128, i64>::new();
        for (n, qty) in lines {
            let sum = merged.entry(n).or_default();
            *sum = (*sum + qty).min(Quantity::MAX.into());
        }
        Cart::new(merged.into_iter().map(|(n, qty)| (pid(n), q(qty)))).expect("cart")
    })
}

/// A price (or none) per product 1 to 8: mostly euros, sometimes another currency, amounts
/// up to `i64::MAX`.
fn prices() -> impl Strategy<Value = Vec<Option<Money>>> {
    let code = prop_oneof![8 => Just("EUR"), 1 => Just("USD")];
    let amount = prop_oneof![0..=10_000i64, 0..=i64::MAX, Just(i64::MAX)];
    let price = (code, amount).prop_map(|(code, amount)| {
        Money::new(amount, Currency::new(code).expect("currency")).expect("money")
    });
    prop::collection::vec(prop::option::weighted(0.95, price), 8)
}

/// What placing `cart` must fail with, worked out independently of `Order::place`: the first
/// unpriced product, then the lifetime, then the total line by line (overflow of a subtotal,
/// a currency other than the first line's, overflow of the sum).
fn expected_error(
    cart: &Cart,
    price_of: impl Fn(ProductId) -> Option<Money>,
    now: Timestamp,
    lifetime: TimeDelta,
) -> Option<OrderError> {
    if let Some((id, _)) = cart.lines().find(|&(id, _)| price_of(id).is_none()) {
        return Some(OrderError::Unpriced(id));
    }
    if lifetime <= TimeDelta::zero() || now.checked_add_signed(lifetime).is_none() {
        return Some(OrderError::Lifetime);
    }
    let first = cart.lines().next().and_then(|(id, _)| price_of(id))?.currency();
    let mut total = 0i128;
    for (id, qty) in cart.lines() {
        let price = price_of(id)?;
        let subtotal = i128::from(price.amount()) * i128::from(qty.get());
        total += subtotal;
        let error = if subtotal > i128::from(i64::MAX) {
            MoneyError::Overflow
        } else if price.currency() != first {
            MoneyError::CurrencyMismatch { left: first, right: price.currency() }
        } else if total > i128::from(i64::MAX) {
            MoneyError::Overflow
        } else {
            continue;
        };
        return Some(OrderError::Money(error));
    }
    None
}

proptest! {
    /// Placing any cart at any time with any lifetime and prices either gives a reserved
    /// order at version 1 whose lines are the cart's, priced, whose total is their exact sum,
    /// which expires `lifetime` after `now` and which `restore` accepts as it is; or exactly
    /// the first error that applies. Never a panic, never a wrapped total.
    #[test]
    fn placing_gives_a_consistent_order_or_the_first_error_that_applies(
        cart in cart(),
        prices in prices(),
        now in prop_oneof![0..=4_000_000_000i64, integer(&[])],
        lifetime in prop_oneof![-10_000..=10_000_000i64, integer(&[])],
    ) {
        let (Some(now), Some(lifetime)) =
            (DateTime::from_timestamp(now, 0), TimeDelta::try_milliseconds(lifetime))
        else {
            return Err(TestCaseError::reject("not a time"));
        };
        let price_of = |id: ProductId| prices[usize::try_from(id.as_uuid().as_u128() - 1).expect("small")];
        let id = OrderId::new(Uuid::from_u128(9)).expect("id");
        let placed = Order::place(id, &cart, price_of, None, now, lifetime, Actor::Anonymous);
        match (placed, expected_error(&cart, price_of, now, lifetime)) {
            (Ok(order), None) => {
                let record = order.record();
                prop_assert_eq!((record.status, order.version()), (OrderStatus::Reserved, Version::INITIAL));
                let lines: Vec<_> = cart
                    .lines()
                    .map(|(product_id, quantity)| (product_id, quantity, price_of(product_id)))
                    .collect();
                let got: Vec<_> =
                    record.lines.iter().map(|l| (l.product_id, l.quantity, Some(l.unit_price))).collect();
                prop_assert_eq!(got, lines);
                let sum: i128 = record
                    .lines
                    .iter()
                    .map(|l| i128::from(l.unit_price.amount()) * i128::from(l.quantity.get()))
                    .sum();
                prop_assert_eq!(i128::from(record.total.amount()), sum);
                prop_assert_eq!((record.created_at, record.expires_at), (now, now + lifetime));
                prop_assert!(!order.is_due(now));
                prop_assert_eq!(Order::restore(record.clone()), Ok(order.clone()));
            }
            (Err(err), Some(expected)) => prop_assert_eq!(err, expected),
            (placed, expected) => prop_assert!(false, "placed {:?}, expected {:?}", placed, expected),
        }
    }
}

fn at_location(n: u128, quantity: i64) -> crate::allocation::Allocation {
    let location_id = crate::LocationId::new(Uuid::from_u128(n)).expect("id");
    crate::allocation::Allocation { location_id, quantity: q(quantity) }
}

#[test]
fn allocating_gives_each_line_locations_that_add_up_to_its_quantity() {
    use crate::allocation::LineAllocation;
    let lines = |split: Vec<_>| {
        vec![
            LineAllocation { product_id: pid(1), allocations: split, backordered: 0 },
            LineAllocation {
                product_id: pid(2),
                allocations: vec![at_location(5, 1)],
                backordered: 0,
            },
        ]
    };

    let order =
        placed().allocated(lines(vec![at_location(5, 1), at_location(6, 1)])).expect("2 = 1 + 1");
    assert_eq!(order.lines()[0].sources(), [at_location(5, 1), at_location(6, 1)]);
    assert_eq!(Order::restore(order.record().clone()).as_ref(), Ok(&order));

    assert_eq!(placed().allocated(lines(vec![at_location(5, 1)])), Err(OrderError::Allocations));
    assert_eq!(placed().allocated(lines(vec![]).split_off(1)), Err(OrderError::Allocations));
    let unallocated = placed();
    assert_eq!(
        unallocated.lines()[0].sources(),
        [at_location(1, 2)],
        "all at the default location"
    );
}
