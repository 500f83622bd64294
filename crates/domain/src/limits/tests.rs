//! Unit tests of purchase limits: the per-order check, the batch tally, and the counter moves
//! an order change makes.

use chrono::{TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;
use crate::access::Actor;
use crate::hostile::integer;
use crate::ports::Changeset;
use crate::{Currency, Money, Order, OrderId, Quantity, Timestamp};

fn pid(n: u128) -> ProductId {
    ProductId::new(Uuid::from_u128(n)).expect("id")
}

fn limit(n: i64) -> PurchaseLimit {
    PurchaseLimit::new(n).expect("limit")
}

fn cart(lines: &[(u128, i64)]) -> Cart {
    Cart::new(lines.iter().map(|&(p, n)| (pid(p), Quantity::new(n).expect("quantity"))))
        .expect("cart")
}

fn alice() -> CustomerId {
    "alice".parse().expect("customer")
}

fn at() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).single().expect("time")
}

fn order_for(customer: Option<Customer>, lines: &[(u128, i64)]) -> Order {
    let price = Money::new(100, Currency::new("EUR").expect("currency")).expect("money");
    Order::place(
        OrderId::new(Uuid::from_u128(7)).expect("id"),
        &cart(lines),
        |_| Some(price),
        customer,
        at(),
        TimeDelta::minutes(15),
        Actor::Anonymous,
    )
    .expect("order")
}

#[test]
fn a_limit_is_a_positive_whole_number_up_to_a_billion() {
    assert_eq!(PurchaseLimit::new(0), Err(LimitError));
    assert_eq!(PurchaseLimit::new(-1), Err(LimitError));
    assert_eq!(PurchaseLimit::new(PurchaseLimit::MAX + 1), Err(LimitError));
    assert_eq!(limit(PurchaseLimit::MAX).get(), 1_000_000_000);
    assert_eq!(limit(1).get(), 1);
}

#[test]
fn the_per_order_limit_names_every_line_above_it() {
    let limits = |id: ProductId| {
        let per_order = if id == pid(3) { None } else { Some(limit(2)) };
        Some(PurchaseLimits { per_order, per_customer: None })
    };
    let excess = per_order_excess(&cart(&[(1, 2), (2, 3), (3, 50)]), limits);
    assert_eq!(
        excess,
        vec![LimitExceeded {
            product_id: pid(2),
            kind: LimitKind::PerOrder,
            limit: limit(2),
            already: 0,
            requested: 3
        }]
    );
}

#[test]
fn a_tally_takes_carts_until_the_limit_and_counts_nothing_of_a_refused_cart() {
    let mut tally =
        PurchaseTally::new([(PurchaseKey { customer_id: alice(), product_id: pid(1) }, 1)]);
    let limit_of = |id: ProductId| (id == pid(1)).then(|| limit(2));

    assert_eq!(tally.take(&alice(), &cart(&[(1, 1), (2, 9)]), limit_of), Ok(()));
    let refused = tally.take(&alice(), &cart(&[(1, 1)]), limit_of);
    assert_eq!(
        refused,
        Err(vec![LimitExceeded {
            product_id: pid(1),
            kind: LimitKind::PerCustomer,
            limit: limit(2),
            already: 2,
            requested: 1
        }])
    );
    let bob: CustomerId = "bob".parse().expect("customer");
    assert_eq!(tally.take(&bob, &cart(&[(1, 2)]), limit_of), Ok(()), "limits are per customer");
}

#[test]
fn only_an_asserted_customers_order_moves_counters_and_cancelling_gives_the_units_back() {
    let asserted = Some(Customer { id: alice(), asserted: true });
    let mut order = order_for(asserted, &[(1, 2), (2, 1)]);
    let placed = OrderChange::Created(order.clone());
    let units: Vec<_> = placed.purchases().iter().map(|d| (d.key.product_id, d.units)).collect();
    assert_eq!(units, vec![(pid(1), 2), (pid(2), 1)]);

    let changeset = Changeset::new(Vec::new(), Some(placed), at()).within(vec![(pid(1), limit(3))]);
    let limits: Vec<_> = changeset.purchases().iter().map(|d| d.limit).collect();
    assert_eq!(limits, vec![Some(limit(3)), None]);

    let cancelled = order.cancel(at(), Actor::Admin).expect("cancellable").expect("a change");
    let units: Vec<_> = cancelled.purchases().iter().map(|d| d.units).collect();
    assert_eq!(units, vec![-2, -1]);

    let labelled = Some(Customer { id: alice(), asserted: false });
    assert!(OrderChange::Created(order_for(labelled, &[(1, 2)])).purchases().is_empty());
    assert!(OrderChange::Created(order_for(None, &[(1, 2)])).purchases().is_empty());
}

#[test]
fn paying_leaves_the_counters_as_they_are() {
    let mut order = order_for(Some(Customer { id: alice(), asserted: true }), &[(1, 2)]);
    let paid = order.pay(at(), Actor::Admin).expect("payable").expect("a change");
    assert!(paid.purchases().is_empty());
}

#[test]
fn sums_are_per_counter_in_key_order_with_the_smallest_limit() {
    let key = |p| PurchaseKey { customer_id: alice(), product_id: pid(p) };
    let deltas = [
        PurchaseDelta { key: key(2), units: 1, limit: Some(limit(5)) },
        PurchaseDelta { key: key(1), units: 2, limit: None },
        PurchaseDelta { key: key(2), units: 3, limit: Some(limit(4)) },
    ];
    assert_eq!(
        sum_purchases(&deltas),
        vec![
            PurchaseDelta { key: key(1), units: 2, limit: None },
            PurchaseDelta { key: key(2), units: 4, limit: Some(limit(4)) },
        ]
    );
}

proptest! {
    /// Any integer is a limit exactly when it is within 1..=MAX.
    #[test]
    fn any_integer_is_a_limit_or_refused(n in integer(&[PurchaseLimit::MAX])) {
        prop_assert_eq!(PurchaseLimit::new(n).is_ok(), (1..=PurchaseLimit::MAX).contains(&n));
    }

    /// However carts of one customer arrive, a tally never lets them hold more than the limit,
    /// and refuses a cart only when it would pass it.
    #[test]
    fn a_tally_never_passes_the_limit(max in 1i64..20, carts in prop::collection::vec(1i64..8, 1..30)) {
        let mut tally = PurchaseTally::default();
        let limit_of = |_| Some(limit(max));
        let mut held = 0;
        for n in carts {
            match tally.take(&alice(), &cart(&[(1, n)]), limit_of) {
                Ok(()) => held += n,
                Err(exceeded) => prop_assert!(held + n > max && exceeded[0].already == held),
            }
            prop_assert!(held <= max);
        }
    }
}
