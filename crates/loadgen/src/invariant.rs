//! The end-of-run verdict: does the server's stock agree with the answers the buyers received?
//!
//! Per product, with `won`, `paid` and `cancelled` the units seen in successful answers:
//! `reserved == won - paid - cancelled`, `initial - on_hand == paid`, `0 <= reserved <= on_hand`
//! and `available == on_hand - reserved`. Expiry releases reservations without the generator
//! seeing it, so when it may have happened the first equation weakens to `<=`.

use serde::Serialize;

use crate::answer::Stock;
use crate::tally::Units;

/// One product's expectation and observation.
#[derive(Debug, Clone)]
pub struct Observed {
    pub label: String,
    pub initial: u64,
    pub units: Units,
    /// `Err` with the reason when the stock could not be read.
    pub stock: Result<Stock, String>,
}

/// The verdict, as printed and written to JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub holds: bool,
    pub products_checked: usize,
    /// Reservations older than the server's TTL may have expired during the run.
    pub expiry_possible: bool,
    pub violations: Vec<String>,
}

/// Listing more than this many product violations helps nobody; the rest are counted.
const MAX_LISTED: usize = 20;

/// Judges the run: every product's arithmetic, plus no 5xx, no transport error and no foreign
/// product in any answer.
#[must_use]
pub fn judge(
    products: &[Observed],
    errors: u64,
    foreign_lines: u64,
    expiry_possible: bool,
) -> Verdict {
    let mut violations = Vec::new();
    if errors > 0 {
        violations.push(format!("{errors} answers were 5xx or transport errors"));
    }
    if foreign_lines > 0 {
        violations
            .push(format!("{foreign_lines} order lines named products this run did not create"));
    }
    let mut failed = products.iter().filter_map(|p| check(p, expiry_possible).map(|v| (p, v)));
    for (p, why) in failed.by_ref().take(MAX_LISTED) {
        violations.push(format!("{}: {why}", p.label));
    }
    let more = failed.count();
    if more > 0 {
        violations.push(format!("... and {more} more products"));
    }
    Verdict {
        holds: violations.is_empty(),
        products_checked: products.len(),
        expiry_possible,
        violations,
    }
}

/// What is wrong with one product, if anything.
fn check(p: &Observed, expiry_possible: bool) -> Option<String> {
    let s = match &p.stock {
        Ok(s) => s,
        Err(why) => return Some(format!("stock unreadable: {why}")),
    };
    let (won, paid, cancelled) = (wide(p.units.won), wide(p.units.paid), wide(p.units.cancelled));
    let expected_reserved = won - paid - cancelled;
    let (on_hand, reserved, available) =
        (i128::from(s.on_hand), i128::from(s.reserved), i128::from(s.available));
    let mut wrong = Vec::new();
    if !(0 <= reserved && reserved <= on_hand) {
        wrong.push(format!("reserved {reserved} outside 0..={on_hand} (on hand)"));
    }
    if available != on_hand - reserved {
        wrong.push(format!("available {available} != on hand {on_hand} - reserved {reserved}"));
    }
    let reserved_ok =
        if expiry_possible { reserved <= expected_reserved } else { reserved == expected_reserved };
    if !reserved_ok {
        wrong.push(format!(
            "reserved {reserved} but won {won} - paid {paid} - cancelled {cancelled} = {expected_reserved}"
        ));
    }
    let sold = wide(p.initial) - on_hand;
    if sold != paid {
        wrong.push(format!(
            "initial {} - on hand {on_hand} = {sold} sold, but {paid} paid",
            p.initial
        ));
    }
    (!wrong.is_empty()).then(|| wrong.join("; "))
}

/// Units as a signed number wide enough that no difference can overflow.
fn wide(units: u64) -> i128 {
    i128::from(units)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(
        initial: u64,
        won: u64,
        paid: u64,
        cancelled: u64,
        on_hand: i64,
        reserved: i64,
    ) -> Observed {
        Observed {
            label: "P".into(),
            initial,
            units: Units { won, paid, cancelled },
            stock: Ok(Stock { on_hand, reserved, available: on_hand - reserved }),
        }
    }

    #[test]
    fn a_consistent_product_holds() {
        let v = judge(&[product(100, 30, 10, 5, 90, 15)], 0, 0, false);
        assert!(v.holds, "{:?}", v.violations);
        assert_eq!(v.products_checked, 1);
    }

    #[test]
    fn a_reservation_the_buyers_never_won_is_reported() {
        let v = judge(&[product(100, 30, 10, 5, 90, 16)], 0, 0, false);
        assert!(!v.holds);
        assert!(v.violations[0].contains("reserved 16 but won 30"), "{:?}", v.violations);
    }

    #[test]
    fn stock_sold_without_a_payment_is_reported() {
        let v = judge(&[product(100, 30, 10, 5, 89, 15)], 0, 0, false);
        assert!(v.violations[0].contains("11 sold, but 10 paid"), "{:?}", v.violations);
    }

    #[test]
    fn expiry_lets_reserved_fall_short_but_never_exceed() {
        assert!(judge(&[product(100, 30, 10, 5, 90, 0)], 0, 0, true).holds);
        assert!(!judge(&[product(100, 30, 10, 5, 90, 16)], 0, 0, true).holds);
        assert!(!judge(&[product(100, 30, 10, 5, 90, 0)], 0, 0, false).holds);
    }

    #[test]
    fn broken_bounds_and_available_are_reported() {
        let mut p = product(10, 20, 0, 0, 10, 20);
        p.stock = Ok(Stock { on_hand: 10, reserved: 20, available: 5 });
        let v = judge(&[p], 0, 0, false);
        assert!(v.violations[0].contains("outside 0..=10"), "{:?}", v.violations);
        assert!(v.violations[0].contains("available 5"), "{:?}", v.violations);
    }

    #[test]
    fn server_errors_and_unreadable_stock_fail_the_run() {
        assert!(!judge(&[product(1, 0, 0, 0, 1, 0)], 1, 0, false).holds);
        assert!(!judge(&[product(1, 0, 0, 0, 1, 0)], 0, 2, false).holds);
        let mut p = product(1, 0, 0, 0, 1, 0);
        p.stock = Err("404".into());
        assert!(!judge(&[p], 0, 0, false).holds);
    }

    #[test]
    fn long_lists_are_cut() {
        let many = vec![product(1, 0, 0, 0, 0, 0); 50];
        let v = judge(&many, 0, 0, false);
        assert_eq!(v.violations.len(), MAX_LISTED + 1);
        assert!(v.violations[MAX_LISTED].contains("30 more"));
    }
}
