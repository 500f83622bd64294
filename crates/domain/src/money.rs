//! Money: integer minor units in one ISO 4217 currency, with arithmetic that refuses to guess.

use std::fmt;
use std::str::FromStr;

use crate::Quantity;

/// Why an amount or a currency is refused, or a sum cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not an ISO 4217 alphabetic code (such as `EUR` or `IDR`).
    #[error("'{0}' is not an ISO 4217 currency code")]
    UnknownCurrency(String),
    /// Prices and totals are never negative.
    #[error("an amount of money is never negative")]
    Negative,
    /// Adding or multiplying amounts of two different currencies.
    #[error("cannot combine {left} and {right}")]
    CurrencyMismatch {
        /// The currency of the left operand.
        left: Currency,
        /// The currency of the right operand.
        right: Currency,
    },
    /// The result does not fit in 64 bits of minor units.
    #[error("the amount is too large")]
    Overflow,
}

/// An ISO 4217 currency, checked against the standard's list (the `iso_currency` crate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// The one constructor, from the three-letter code. Codes are upper case, as the standard
    /// writes them.
    ///
    /// # Errors
    /// [`MoneyError::UnknownCurrency`] for anything that is not a current ISO 4217 code.
    pub fn new(code: &str) -> Result<Self, MoneyError> {
        iso_currency::Currency::from_code(code)
            .map(Self)
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_owned()))
    }

    /// The three-letter code, such as `EUR`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.0.code()
    }
}

impl FromStr for Currency {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A non-negative amount in minor units (cents, sen, …) of one currency.
///
/// Integers, never floats: 0.1 + 0.2 must be 0.3 on an invoice.
///
/// ```
/// use domain::{Currency, Money, MoneyError, Quantity};
///
/// let eur = Currency::new("EUR")?;
/// let price = Money::new(1_999, eur)?; // 19.99 EUR
/// let line = price.times(Quantity::new(3)?)?;
/// assert_eq!(line.checked_add(Money::new(3, eur)?)?, Money::new(6_000, eur)?);
///
/// let yen = Money::new(500, Currency::new("JPY")?)?;
/// assert!(matches!(price.checked_add(yen), Err(MoneyError::CurrencyMismatch { .. })));
/// assert_eq!(Money::new(-1, eur), Err(MoneyError::Negative));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    /// Minor units; never negative.
    amount: i64,
    currency: Currency,
}

impl Money {
    /// The one constructor.
    ///
    /// # Errors
    /// [`MoneyError::Negative`] for a negative amount.
    pub fn new(amount: i64, currency: Currency) -> Result<Self, MoneyError> {
        if amount < 0 {
            return Err(MoneyError::Negative);
        }
        Ok(Self { amount, currency })
    }

    /// Nothing, in the given currency: the start of a sum.
    #[must_use]
    pub fn zero(currency: Currency) -> Self {
        Self { amount: 0, currency }
    }

    /// The amount in minor units.
    #[must_use]
    pub fn amount(&self) -> i64 {
        self.amount
    }

    /// The currency.
    #[must_use]
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The sum of two amounts of the same currency.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] across currencies, [`MoneyError::Overflow`] past `i64`.
    pub fn checked_add(self, other: Self) -> Result<Self, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            });
        }
        let amount = self.amount.checked_add(other.amount).ok_or(MoneyError::Overflow)?;
        Ok(Self { amount, currency: self.currency })
    }

    /// This amount times a quantity: the price of a cart line.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`] past `i64`.
    pub fn times(self, quantity: Quantity) -> Result<Self, MoneyError> {
        let amount =
            self.amount.checked_mul(i64::from(quantity.get())).ok_or(MoneyError::Overflow)?;
        Ok(Self { amount, currency: self.currency })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} (minor units)", self.amount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::hostile::{integer, text};

    fn money(amount: i64, code: &str) -> Money {
        Money::new(amount, Currency::new(code).expect("currency")).expect("money")
    }

    #[test]
    fn iso_codes_are_currencies_and_made_up_ones_are_not() {
        assert_eq!(Currency::new("IDR").map(|c| c.code()), Ok("IDR"));
        assert_eq!(Currency::new("XYZ"), Err(MoneyError::UnknownCurrency("XYZ".into())));
        assert!(Currency::new("eur").is_err(), "codes are upper case");
    }

    #[test]
    fn negative_amounts_are_refused() {
        let eur = Currency::new("EUR").expect("currency");
        assert_eq!(Money::new(-1, eur), Err(MoneyError::Negative));
    }

    #[test]
    fn amounts_of_one_currency_add_up() {
        assert_eq!(money(150, "EUR").checked_add(money(250, "EUR")), Ok(money(400, "EUR")));
    }

    #[test]
    fn adding_two_currencies_is_an_error() {
        let err = money(1, "EUR").checked_add(money(1, "USD")).expect_err("mismatch");
        assert!(matches!(err, MoneyError::CurrencyMismatch { .. }));
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        assert_eq!(money(i64::MAX, "EUR").checked_add(money(1, "EUR")), Err(MoneyError::Overflow));
        let q = Quantity::new(1_000_000).expect("quantity");
        assert_eq!(money(i64::MAX / 2, "EUR").times(q), Err(MoneyError::Overflow));
        assert_eq!(money(25, "EUR").times(q), Ok(money(25_000_000, "EUR")));
    }

    /// A few currencies, to mix in sums.
    fn currency() -> impl Strategy<Value = Currency> {
        prop::sample::select(vec!["EUR", "USD", "IDR", "JPY", "KWD"])
            .prop_map(|code| Currency::new(code).expect("currency"))
    }

    /// Any non-negative amount, the largest ones often.
    fn amount() -> impl Strategy<Value = i64> {
        integer(&[i64::MAX / 2]).prop_map(|n| n.checked_abs().unwrap_or(i64::MAX))
    }

    proptest! {
        /// Any text is a currency whose code is that very text, or `UnknownCurrency`.
        #[test]
        fn any_text_is_a_currency_with_that_code_or_unknown(
            raw in prop_oneof![text(), "[A-Z]{3}", "[A-Za-z]{2,4}"]
        ) {
            match Currency::new(&raw) {
                Ok(currency) => {
                    prop_assert_eq!(currency.code(), raw.as_str());
                    prop_assert_eq!(currency.to_string().parse::<Currency>(), Ok(currency));
                }
                Err(err) => prop_assert!(matches!(err, MoneyError::UnknownCurrency(_))),
            }
        }

        /// Any non-negative amount is money holding exactly that amount; negatives are refused.
        #[test]
        fn any_amount_is_money_or_negative(amount in integer(&[0]), currency in currency()) {
            match Money::new(amount, currency) {
                Ok(money) => {
                    prop_assert!(amount >= 0);
                    prop_assert_eq!((money.amount(), money.currency()), (amount, currency));
                }
                Err(err) => prop_assert!(amount < 0 && err == MoneyError::Negative),
            }
        }

        /// Sums and line prices are exact, or typed errors (mismatch, overflow): never a wrap,
        /// never a panic, whatever the amounts.
        #[test]
        fn arithmetic_is_exact_or_refused(
            (a, b) in (amount(), amount()),
            (ca, cb) in (currency(), currency()),
            q in 1..=i64::from(Quantity::MAX),
        ) {
            let (x, y) = (Money::new(a, ca).expect("money"), Money::new(b, cb).expect("money"));
            let fits = |v: i128| i64::try_from(v).ok();
            match (x.checked_add(y), fits(i128::from(a) + i128::from(b))) {
                (Ok(sum), Some(expected)) => prop_assert_eq!((sum.amount(), sum.currency()), (expected, ca)),
                (Err(MoneyError::CurrencyMismatch { left, right }), _) => prop_assert_eq!((left, right), (ca, cb)),
                (Err(MoneyError::Overflow), None) => prop_assert_eq!(ca, cb),
                (result, expected) => prop_assert!(false, "{:?} + {:?} = {:?}, want {:?}", x, y, result, expected),
            }
            let quantity = Quantity::new(q).expect("quantity");
            match (x.times(quantity), fits(i128::from(a) * i128::from(q))) {
                (Ok(price), Some(expected)) => prop_assert_eq!(price.amount(), expected),
                (Err(MoneyError::Overflow), None) => {}
                (result, expected) => prop_assert!(false, "{:?} × {} = {:?}, want {:?}", x, q, result, expected),
            }
        }
    }
}
