//! Unit and property tests of [`ProductStock`].

use proptest::prelude::*;
use uuid::Uuid;

use super::*;

fn product() -> ProductId {
    ProductId::new(Uuid::from_u128(7)).expect("id")
}

fn stock(on_hand: i64) -> ProductStock {
    ProductStock::new(product(), StockCount::new(on_hand).expect("count"))
}

fn qty(n: i64) -> Quantity {
    Quantity::new(n).expect("quantity")
}

#[test]
fn reserving_holds_units_and_bumps_the_version() {
    let mut s = stock(10);
    let change = s.reserve(qty(3)).expect("enough");
    assert_eq!((s.on_hand().get(), s.reserved().get(), s.available().get()), (10, 3, 7));
    assert_eq!(s.version(), Version::INITIAL.next());
    assert_eq!(change.expected_version(), Version::INITIAL);
    assert_eq!(
        (change.kind(), change.on_hand_delta(), change.reserved_delta()),
        (MovementKind::Reserve, 0, 3)
    );
}

#[test]
fn reserving_more_than_available_is_rejected_with_the_shortfall() {
    let mut s = stock(5);
    s.reserve(qty(4)).expect("enough");
    let before = s;
    let err = s.reserve(qty(2)).expect_err("short");
    let expected = Shortage {
        product_id: product(),
        requested: qty(2),
        available: StockCount::new(1).expect("count"),
    };
    assert_eq!(err, StockError::Insufficient(expected));
    assert_eq!(s, before, "a refused operation changes nothing");
}

#[test]
fn selling_takes_units_off_the_shelf_and_out_of_the_reservation() {
    let mut s = stock(5);
    s.reserve(qty(2)).expect("enough");
    let change = s.sell(qty(2)).expect("reserved");
    assert_eq!((s.on_hand().get(), s.reserved().get()), (3, 0));
    assert_eq!((change.on_hand_delta(), change.reserved_delta()), (-2, -2));
}

#[test]
fn releasing_and_expiring_give_units_back_with_their_own_ledger_kinds() {
    let mut s = stock(5);
    s.reserve(qty(4)).expect("enough");
    assert_eq!(s.release(qty(1)).expect("reserved").kind(), MovementKind::Release);
    assert_eq!(s.expire(qty(3)).expect("reserved").kind(), MovementKind::Expire);
    assert_eq!((s.on_hand().get(), s.reserved().get()), (5, 0));
}

#[test]
fn releasing_more_than_reserved_is_refused() {
    let mut s = stock(5);
    s.reserve(qty(1)).expect("enough");
    assert!(matches!(s.release(qty(2)), Err(StockError::NotReserved { .. })));
    assert!(matches!(s.sell(qty(2)), Err(StockError::NotReserved { .. })));
}

#[test]
fn setting_on_hand_below_reserved_is_refused() {
    let mut s = stock(10);
    s.reserve(qty(6)).expect("enough");
    let err = s.set_on_hand(StockCount::new(5).expect("count")).expect_err("below");
    assert_eq!(
        err,
        StockError::BelowReserved { on_hand: 5, reserved: StockCount::new(6).expect("count") }
    );
    let change = s.set_on_hand(StockCount::new(6).expect("count")).expect("equal is fine");
    assert_eq!((change.kind(), change.on_hand_delta()), (MovementKind::Set, -4));
}

#[test]
fn adjusting_moves_on_hand_but_never_below_reserved() {
    let mut s = stock(3);
    s.reserve(qty(2)).expect("enough");
    assert_eq!(s.adjust(0), Err(StockError::ZeroAdjustment));
    assert!(matches!(s.adjust(-2), Err(StockError::BelowReserved { on_hand: 1, .. })));
    assert!(matches!(s.adjust(-10), Err(StockError::BelowReserved { on_hand: -7, .. })));
    assert_eq!(s.adjust(StockCount::MAX), Err(StockError::OutOfRange));
    assert_eq!(s.adjust(7).map(|c| c.after().on_hand().get()), Ok(10));
}

#[test]
fn a_change_is_one_step_of_one_product() {
    let mut s = stock(10);
    let change = s.reserve(qty(4)).expect("enough");
    assert_eq!(change.after(), s);
    assert_eq!(change.after().version(), change.before().version().next());
    assert_eq!(change.after().product_id(), change.before().product_id());
}

#[test]
fn changes_that_follow_each_other_span_from_the_first_state_to_the_last() {
    let mut s = stock(10);
    let first = s.reserve(qty(4)).expect("enough");
    let second = s.sell(qty(3)).expect("reserved");
    let third = s.adjust(5).expect("in range");
    assert!(second.follows(&first) && third.follows(&second));

    let span = StockSpan::new([&first, &second, &third]).expect("a chain");
    assert_eq!((span.before(), span.after(), span.steps()), (first.before(), s, 3));
    assert_eq!((span.product_id(), span.expected_version()), (product(), Version::INITIAL));
    assert_eq!((span.on_hand_delta(), span.reserved_delta()), (2, 1));
    assert_eq!(StockSpan::new([&second]).map(|one| one.after()), Some(second.after()));
}

#[test]
fn changes_that_do_not_follow_each_other_span_nothing() {
    let mut s = stock(10);
    let first = s.reserve(qty(4)).expect("enough");
    let second = s.reserve(qty(1)).expect("enough");
    let mut other = ProductStock::new(ProductId::new(Uuid::from_u128(8)).expect("id"), s.on_hand());
    let elsewhere = other.reserve(qty(1)).expect("enough");

    assert!(!first.follows(&second), "out of order");
    assert_eq!(StockSpan::new([&second, &first]), None, "out of order");
    assert_eq!(StockSpan::new([&first, &first]), None, "twice");
    assert_eq!(StockSpan::new([&first, &elsewhere]), None, "another product");
    assert_eq!(StockSpan::new([]), None, "no change");
}

#[test]
fn restoring_an_over_reserved_row_is_refused() {
    let five = StockCount::new(5).expect("count");
    let six = StockCount::new(6).expect("count");
    assert!(ProductStock::restore(product(), six, five, Version::INITIAL).is_ok());
    assert!(matches!(
        ProductStock::restore(product(), five, six, Version::INITIAL),
        Err(StockError::Inconsistent { .. })
    ));
}

/// One step of a random history of a stock.
#[derive(Debug, Clone)]
enum Op {
    Reserve(i64),
    Release(i64),
    Expire(i64),
    Sell(i64),
    Set(i64),
    Adjust(i64),
}

impl Op {
    fn run(&self, s: &mut ProductStock) -> Result<StockChange, StockError> {
        match *self {
            Op::Reserve(n) => s.reserve(qty(n)),
            Op::Release(n) => s.release(qty(n)),
            Op::Expire(n) => s.expire(qty(n)),
            Op::Sell(n) => s.sell(qty(n)),
            Op::Set(n) => s.set_on_hand(StockCount::new(n).expect("count")),
            Op::Adjust(n) => s.adjust(n),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1..50i64).prop_map(Op::Reserve),
        (1..50i64).prop_map(Op::Release),
        (1..50i64).prop_map(Op::Expire),
        (1..50i64).prop_map(Op::Sell),
        (0..200i64).prop_map(Op::Set),
        (-100..100i64).prop_map(Op::Adjust),
    ]
}

proptest! {
    /// No sequence of operations breaks `0 <= reserved <= on_hand`, and units are neither created
    /// nor lost: the counters always equal the sums of the accepted changes' deltas (the ledger).
    #[test]
    fn no_history_breaks_the_invariant_or_loses_a_unit(initial in 0..100i64, ops in prop::collection::vec(op(), 0..60)) {
        let mut s = stock(initial);
        let (mut ledger_on_hand, mut ledger_reserved, mut writes) = (initial, 0i64, 0i64);
        for op in ops {
            let before = s;
            match op.run(&mut s) {
                Ok(change) => {
                    prop_assert_eq!(change.before(), before);
                    prop_assert_eq!(change.after(), s);
                    ledger_on_hand += change.on_hand_delta();
                    ledger_reserved += change.reserved_delta();
                    writes += 1;
                }
                Err(_) => prop_assert_eq!(s, before, "a refused operation changes nothing"),
            }
            prop_assert!(s.reserved() <= s.on_hand());
            prop_assert_eq!(s.available().get(), s.on_hand().get() - s.reserved().get());
            prop_assert_eq!((s.on_hand().get(), s.reserved().get()), (ledger_on_hand, ledger_reserved));
            prop_assert_eq!(s.version().get(), 1 + writes);
        }
    }

    /// The accepted changes of any history span it: from the state the first was computed from
    /// to the final state, one step per change, with the summed deltas. Leaving out a change
    /// between two others breaks the span.
    #[test]
    fn the_changes_of_any_history_span_it(initial in 0..100i64, ops in prop::collection::vec(op(), 1..60), gap in any::<prop::sample::Index>()) {
        let mut s = stock(initial);
        let changes: Vec<_> = ops.iter().filter_map(|op| op.run(&mut s).ok()).collect();
        let span = StockSpan::new(&changes);
        prop_assert_eq!(span.is_some(), !changes.is_empty());
        if let Some(span) = span {
            prop_assert_eq!((span.before(), span.after()), (stock(initial), s));
            prop_assert_eq!(span.steps(), i64::try_from(changes.len()).expect("steps"));
            prop_assert_eq!(span.on_hand_delta(), changes.iter().map(StockChange::on_hand_delta).sum::<i64>());
            prop_assert_eq!(span.reserved_delta(), changes.iter().map(StockChange::reserved_delta).sum::<i64>());
        }
        if changes.len() >= 3 {
            let mut holed = changes.clone();
            holed.remove(1 + gap.index(changes.len() - 2));
            prop_assert_eq!(StockSpan::new(&holed), None);
        }
    }
}

fn located(on_hand: i64, safety: i64) -> ProductStock {
    let location = LocationId::new(Uuid::from_u128(9)).expect("id");
    let mut s = ProductStock::new_at(product(), location, StockCount::new(on_hand).expect("count"));
    let _ = s.set_safety_stock(StockCount::new(safety).expect("count"));
    s
}

#[test]
fn safety_stock_is_on_hand_but_never_for_sale() {
    let mut s = located(10, 3);
    assert_eq!(s.available().get(), 7);

    let refused = s.reserve(qty(8)).expect_err("3 of the 10 are kept back");
    assert!(
        matches!(refused, StockError::Insufficient(Shortage { available, .. }) if available.get() == 7)
    );
    let change = s.reserve(qty(7)).expect("the 7 for sale");

    assert!(change.before().key() == s.key() && s.location_id() != LocationId::DEFAULT);
    assert_eq!((s.on_hand().get(), s.reserved().get(), s.available().get()), (10, 7, 0));
}

#[test]
fn raising_the_safety_stock_leaves_reservations_alone_and_sales_go_through() {
    let mut s = located(10, 0);
    s.reserve(qty(8)).expect("in stock");

    let change = s.set_safety_stock(StockCount::new(5).expect("count"));
    assert_eq!(
        (change.kind(), change.on_hand_delta(), change.reserved_delta()),
        (MovementKind::SafetyStock, 0, 0)
    );
    assert_eq!(s.available(), StockCount::ZERO, "nothing for sale, never a debt");

    s.sell(qty(8)).expect("a held unit is sold whatever the safety stock");
    assert_eq!((s.on_hand().get(), s.available().get()), (2, 0));
}

#[test]
fn a_transfer_moves_only_units_for_sale() {
    let mut from = located(10, 2);
    from.reserve(qty(3)).expect("in stock");
    let mut to = stock(0);

    assert!(matches!(from.transfer_out(qty(6)), Err(StockError::Insufficient(_))));
    let out = from.transfer_out(qty(5)).expect("10 - 3 reserved - 2 safety");
    let inn = to.transfer_in(qty(5)).expect("room");

    assert_eq!((out.kind(), out.on_hand_delta()), (MovementKind::TransferOut, -5));
    assert_eq!((inn.kind(), inn.on_hand_delta()), (MovementKind::TransferIn, 5));
    assert_eq!((from.on_hand().get(), from.reserved().get(), to.on_hand().get()), (5, 3, 5));
    let spans = [StockSpan::new([&out]).expect("a span"), StockSpan::new([&inn]).expect("a span")];
    assert_eq!(
        spans.map(|s| s.takes_for_sale()),
        [true, false],
        "only the sender's guard keeps the safety stock"
    );
}
