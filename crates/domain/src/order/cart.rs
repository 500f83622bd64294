//! [`Cart`]: what a customer asks for, one merged quantity per product.

use std::collections::BTreeMap;

use crate::{ProductId, Quantity};

/// Why a list of cart lines is not a cart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    /// No lines at all.
    #[error("a cart has at least one line")]
    Empty,
    /// More distinct products than [`Cart::MAX_PRODUCTS`].
    #[error("a cart has at most {max} distinct products", max = Cart::MAX_PRODUCTS)]
    TooManyProducts,
    /// The lines of one product add up past [`Quantity::MAX`].
    #[error("the lines of product {0} add up to more than {max}", max = Quantity::MAX)]
    QuantityTooLarge(ProductId),
}

/// A cart: distinct products, each with the sum of the quantities asked for it, in product-id
/// order.
///
/// The order matters beyond tidiness: stores lock stock rows in this order, and a fixed lock
/// order is what keeps concurrent multi-product checkouts from deadlocking each other.
///
/// ```
/// use domain::{Cart, CartError, ProductId, Quantity};
/// # use uuid::Uuid;
/// # let (mug, shirt) = (ProductId::new(Uuid::from_u128(1))?, ProductId::new(Uuid::from_u128(2))?);
/// let units = Quantity::new;
///
/// let cart = Cart::new([(shirt, units(1)?), (mug, units(2)?), (shirt, units(3)?)])?;
/// assert_eq!(cart.lines().collect::<Vec<_>>(), [(mug, units(2)?), (shirt, units(4)?)]);
/// assert_eq!(cart.quantity_of(shirt), Some(units(4)?));
///
/// assert_eq!(Cart::new([]), Err(CartError::Empty));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cart(BTreeMap<ProductId, Quantity>);

impl Cart {
    /// The most distinct products one cart may hold.
    pub const MAX_PRODUCTS: usize = 100;

    /// The one constructor: merges lines of the same product.
    ///
    /// # Errors
    /// [`CartError::Empty`], [`CartError::TooManyProducts`], or
    /// [`CartError::QuantityTooLarge`] when one product's lines sum past [`Quantity::MAX`].
    pub fn new(lines: impl IntoIterator<Item = (ProductId, Quantity)>) -> Result<Self, CartError> {
        let mut merged = BTreeMap::new();
        for (product_id, quantity) in lines {
            let sum = match merged.get(&product_id) {
                Some(&seen) => Quantity::checked_add(seen, quantity)
                    .map_err(|_| CartError::QuantityTooLarge(product_id))?,
                None => quantity,
            };
            merged.insert(product_id, sum);
        }
        if merged.is_empty() {
            return Err(CartError::Empty);
        }
        if merged.len() > Self::MAX_PRODUCTS {
            return Err(CartError::TooManyProducts);
        }
        Ok(Self(merged))
    }

    /// The distinct products, in id order.
    pub fn product_ids(&self) -> impl ExactSizeIterator<Item = ProductId> + '_ {
        self.0.keys().copied()
    }

    /// Each product with its merged quantity, in id order.
    pub fn lines(&self) -> impl ExactSizeIterator<Item = (ProductId, Quantity)> + '_ {
        self.0.iter().map(|(&id, &q)| (id, q))
    }

    /// The merged quantity asked for one product, if the cart holds it.
    #[must_use]
    pub fn quantity_of(&self, product_id: ProductId) -> Option<Quantity> {
        self.0.get(&product_id).copied()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use uuid::Uuid;

    use super::*;

    fn id(n: u128) -> ProductId {
        ProductId::new(Uuid::from_u128(n)).expect("id")
    }

    fn q(n: i64) -> Quantity {
        Quantity::new(n).expect("quantity")
    }

    #[test]
    fn lines_of_one_product_are_summed_and_products_sorted() {
        let cart = Cart::new([(id(2), q(1)), (id(1), q(2)), (id(2), q(3))]).expect("cart");
        assert_eq!(cart.lines().collect::<Vec<_>>(), vec![(id(1), q(2)), (id(2), q(4))]);
    }

    #[test]
    fn an_empty_cart_is_refused() {
        assert_eq!(Cart::new([]), Err(CartError::Empty));
    }

    #[test]
    fn a_hundred_products_fit_and_a_hundred_and_one_do_not() {
        assert!(Cart::new((1..=100).map(|n| (id(n), q(1)))).is_ok());
        assert_eq!(Cart::new((1..=101).map(|n| (id(n), q(1)))), Err(CartError::TooManyProducts));
    }

    #[test]
    fn merged_lines_past_the_maximum_quantity_are_refused() {
        let big = q(Quantity::MAX.into());
        assert_eq!(
            Cart::new([(id(1), big), (id(1), q(1))]),
            Err(CartError::QuantityTooLarge(id(1)))
        );
    }

    /// Cart lines over a pool of `1..=150` products (small pools merge, large ones overflow
    /// the product limit), with quantities from 1 to the maximum.
    fn lines() -> impl Strategy<Value = Vec<(u128, i64)>> {
        let max = i64::from(Quantity::MAX);
        let quantity = prop_oneof![1..=10i64, 1..=max, Just(max)];
        (1..=150u128, prop::collection::vec((any::<u128>(), quantity), 0..250)).prop_map(
            |(pool, lines)| lines.into_iter().map(|(n, qty)| (1 + n % pool, qty)).collect(),
        )
    }

    proptest! {
        /// A cart holds each product once, in id order, with the sum of its lines; it is
        /// refused exactly when it is empty, some product's lines sum past the maximum, or it
        /// holds more than 100 products, each with its own error.
        #[test]
        fn a_cart_is_the_merged_lines_within_bounds_or_the_matching_error(lines in lines()) {
            let mut sums = BTreeMap::<u128, i64>::new();
            for &(n, qty) in &lines {
                *sums.entry(n).or_default() += qty;
            }
            let max = i64::from(Quantity::MAX);
            let result = Cart::new(lines.iter().map(|&(n, qty)| (id(n), q(qty))));
            match result {
                Ok(cart) => {
                    prop_assert!((1..=Cart::MAX_PRODUCTS).contains(&sums.len()));
                    let expected: Vec<_> = sums.iter().map(|(&n, &sum)| (id(n), q(sum))).collect();
                    prop_assert_eq!(cart.lines().collect::<Vec<_>>(), expected);
                }
                Err(CartError::Empty) => prop_assert!(lines.is_empty()),
                Err(CartError::QuantityTooLarge(product)) => {
                    prop_assert!(sums[&product.as_uuid().as_u128()] > max);
                }
                Err(CartError::TooManyProducts) => {
                    prop_assert!(sums.len() > Cart::MAX_PRODUCTS);
                    prop_assert!(sums.values().all(|&sum| sum <= max));
                }
            }
        }
    }
}
