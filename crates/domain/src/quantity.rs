//! Counts of units: how many a customer asks for ([`Quantity`]) and how many a shelf holds
//! ([`StockCount`]).

use std::fmt;

/// Why a number is not a quantity or a stock count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// Outside 1 to [`Quantity::MAX`].
    #[error("a quantity is a whole number from 1 to {max}", max = Quantity::MAX)]
    OutOfRange,
    /// Negative, or above [`StockCount::MAX`].
    #[error("a stock count is a whole number from 0 to {max}", max = StockCount::MAX)]
    StockOutOfRange,
}

/// How many units of one product a cart line asks for: 1 to 1,000,000.
///
/// The upper bound keeps sums of a cart's lines far from overflow and refuses numbers no shop
/// sells in one order; it is also the bound the HTTP contract documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quantity(u32);

impl Quantity {
    /// The largest quantity one line (or one product's merged lines) may ask for.
    pub const MAX: u32 = 1_000_000;

    /// The one constructor.
    ///
    /// # Errors
    /// [`QuantityError::OutOfRange`] for 0, negatives and anything above [`Self::MAX`].
    pub fn new(value: i64) -> Result<Self, QuantityError> {
        match u32::try_from(value) {
            Ok(v) if (1..=Self::MAX).contains(&v) => Ok(Self(v)),
            _ => Err(QuantityError::OutOfRange),
        }
    }

    /// The quantity as a number.
    #[must_use]
    pub fn get(self) -> u32 {
        self.0
    }

    /// The sum of two quantities, still within range.
    ///
    /// # Errors
    /// [`QuantityError::OutOfRange`] when the sum exceeds [`Self::MAX`].
    pub fn checked_add(self, other: Self) -> Result<Self, QuantityError> {
        Self::new(i64::from(self.0) + i64::from(other.0))
    }
}

impl TryFrom<i64> for Quantity {
    type Error = QuantityError;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A number of units on a shelf or held for orders: never negative.
///
/// Capped at 10^12 so that every count survives a trip through JSON (JavaScript clients lose
/// precision above 2^53) and sums of a few counts never overflow an `i64` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct StockCount(i64);

impl StockCount {
    /// The largest count stored.
    pub const MAX: i64 = 1_000_000_000_000;
    /// No units.
    pub const ZERO: Self = Self(0);

    /// The one constructor.
    ///
    /// # Errors
    /// [`QuantityError::StockOutOfRange`] for negatives and anything above [`Self::MAX`].
    pub fn new(value: i64) -> Result<Self, QuantityError> {
        if (0..=Self::MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(QuantityError::StockOutOfRange)
        }
    }

    /// The count as a number (never negative).
    #[must_use]
    pub fn get(self) -> i64 {
        self.0
    }

    /// This count moved by `delta`, if the result is still a valid count.
    #[must_use]
    pub fn shifted(self, delta: i64) -> Option<Self> {
        self.0.checked_add(delta).and_then(|v| Self::new(v).ok())
    }
}

impl From<Quantity> for StockCount {
    fn from(q: Quantity) -> Self {
        Self(i64::from(q.0))
    }
}

impl TryFrom<i64> for StockCount {
    type Error = QuantityError;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl fmt::Display for StockCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::hostile::integer;

    #[test]
    fn quantities_run_from_one_to_a_million() {
        assert_eq!(Quantity::new(1).map(Quantity::get), Ok(1));
        assert_eq!(Quantity::new(1_000_000).map(Quantity::get), Ok(1_000_000));
        for bad in [0, -1, 1_000_001, 1_000_000_000_000_000, i64::MIN] {
            assert_eq!(Quantity::new(bad), Err(QuantityError::OutOfRange), "{bad}");
        }
    }

    #[test]
    fn adding_quantities_past_the_maximum_is_refused() {
        let big = Quantity::new(600_000).expect("valid");
        assert_eq!(big.checked_add(big), Err(QuantityError::OutOfRange));
    }

    #[test]
    fn stock_counts_are_never_negative() {
        assert_eq!(StockCount::new(-1), Err(QuantityError::StockOutOfRange));
        assert_eq!(StockCount::new(0), Ok(StockCount::ZERO));
        assert_eq!(StockCount::new(5).expect("valid").shifted(-6), None);
        assert_eq!(StockCount::new(StockCount::MAX).expect("valid").shifted(1), None);
    }

    proptest! {
        /// Any number is a quantity holding exactly that number when it is 1 to a million, and
        /// `OutOfRange` otherwise; the extremes of `i64` included.
        #[test]
        fn any_number_is_a_quantity_in_range_or_out_of_range(n in integer(&[1, Quantity::MAX.into()])) {
            match Quantity::new(n) {
                Ok(q) => {
                    prop_assert!((1..=i64::from(Quantity::MAX)).contains(&n));
                    prop_assert_eq!(i64::from(q.get()), n);
                    prop_assert_eq!(q.to_string(), n.to_string());
                    prop_assert_eq!(Quantity::try_from(n), Ok(q));
                }
                Err(err) => {
                    prop_assert!(!(1..=i64::from(Quantity::MAX)).contains(&n));
                    prop_assert_eq!(err, QuantityError::OutOfRange);
                }
            }
        }

        /// Two quantities add up exactly when the sum is still a quantity.
        #[test]
        fn quantities_add_up_exactly_or_refuse(a in 1..=i64::from(Quantity::MAX), b in 1..=i64::from(Quantity::MAX)) {
            let (qa, qb) = (Quantity::new(a).expect("valid"), Quantity::new(b).expect("valid"));
            let sum = qa.checked_add(qb);
            if a + b <= i64::from(Quantity::MAX) {
                prop_assert_eq!(sum.map(Quantity::get), Ok(u32::try_from(a + b).expect("small")));
            } else {
                prop_assert_eq!(sum, Err(QuantityError::OutOfRange));
            }
        }

        /// Any number is a stock count when it is 0 to 10^12, and a count moved by any delta is
        /// a count exactly when the (unbounded) result is: no overflow at the extremes.
        #[test]
        fn stock_counts_stay_in_range_whatever_they_are_built_or_moved_by(
            n in integer(&[0, StockCount::MAX]),
            delta in integer(&[-StockCount::MAX, StockCount::MAX]),
        ) {
            let in_range = |v: i128| (0..=i128::from(StockCount::MAX)).contains(&v);
            match StockCount::new(n) {
                Ok(count) => {
                    prop_assert!(in_range(n.into()));
                    prop_assert_eq!(count.get(), n);
                    prop_assert_eq!(count.to_string(), n.to_string());
                    let moved = i128::from(n) + i128::from(delta);
                    match count.shifted(delta) {
                        Some(after) => prop_assert_eq!(i128::from(after.get()), moved),
                        None => prop_assert!(!in_range(moved)),
                    }
                }
                Err(err) => {
                    prop_assert!(!in_range(n.into()));
                    prop_assert_eq!(err, QuantityError::StockOutOfRange);
                }
            }
        }
    }
}
