//! Which products go into a cart: the scenario's choice, as indices into the run's product list.
//!
//! Pure and seeded, so the distributions can be tested without a server.

use rand::Rng;
use rand::seq::index;
use rand_distr::{Distribution, Zipf};

use crate::cli::Scenario;

/// Chooses the distinct products of each cart.
#[derive(Debug, Clone)]
pub struct Picker {
    products: usize,
    /// Distinct products per cart; never more than `products`.
    lines: usize,
    /// Present for the zipf scenario only.
    zipf: Option<Zipf<f64>>,
}

impl Picker {
    /// A picker for `products` products and `lines` lines per cart (capped by `products`).
    ///
    /// # Errors
    /// When there are no products or the Zipf exponent is unusable.
    pub fn new(
        scenario: Scenario,
        products: usize,
        lines: usize,
        exponent: f64,
    ) -> Result<Self, String> {
        if products == 0 || lines == 0 {
            return Err("a cart needs at least one product and one line".into());
        }
        let (products, zipf) = match scenario {
            Scenario::Hot => (1, None),
            Scenario::Spread => (products, None),
            Scenario::Zipf => {
                // Zipf works on f64 ranks; product counts are far below 2^53, so this is exact.
                #[allow(clippy::cast_precision_loss)]
                let zipf = Zipf::new(products as f64, exponent).map_err(|e| e.to_string())?;
                (products, Some(zipf))
            }
        };
        Ok(Self { products, lines: lines.min(products), zipf })
    }

    /// The product indices of one cart: distinct, in `0..products`.
    pub fn cart<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<usize> {
        match &self.zipf {
            None => index::sample(rng, self.products, self.lines).into_vec(),
            Some(zipf) => self.zipf_cart(zipf, rng),
        }
    }

    fn zipf_cart<R: Rng + ?Sized>(&self, zipf: &Zipf<f64>, rng: &mut R) -> Vec<usize> {
        let mut chosen = Vec::with_capacity(self.lines);
        // Drawing until the cart has distinct products could take very long with a steep
        // exponent and a cart nearly as wide as the catalogue (the tail is almost never drawn),
        // so the draws are bounded and the rest is filled with the most popular products left.
        for _ in 0..self.lines * 64 {
            if chosen.len() == self.lines {
                return chosen;
            }
            // Samples are whole numbers in 1..=products: rank 1 is index 0.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let product = (zipf.sample(rng) as usize).clamp(1, self.products) - 1;
            if !chosen.contains(&product) {
                chosen.push(product);
            }
        }
        let mut fill = 0..self.products;
        while chosen.len() < self.lines {
            let next = fill.find(|p| !chosen.contains(p)).unwrap_or_default();
            chosen.push(next);
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn counts(picker: &Picker, carts: usize) -> Vec<usize> {
        let mut rng = StdRng::seed_from_u64(7);
        let mut seen = vec![0; picker.products];
        for _ in 0..carts {
            let cart = picker.cart(&mut rng);
            let mut distinct = cart.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), cart.len(), "products in a cart are distinct");
            assert_eq!(cart.len(), picker.lines);
            cart.iter().for_each(|&p| seen[p] += 1);
        }
        seen
    }

    #[test]
    fn hot_always_takes_the_one_product() {
        let picker = Picker::new(Scenario::Hot, 50, 3, 1.0).unwrap();
        assert_eq!(counts(&picker, 100), vec![100]);
    }

    #[test]
    fn spread_covers_every_product_about_evenly() {
        let picker = Picker::new(Scenario::Spread, 10, 3, 1.0).unwrap();
        let seen = counts(&picker, 10_000);
        // 30,000 picks over 10 products: 3,000 each, give or take a few percent.
        assert!(seen.iter().all(|&n| (2_700..3_300).contains(&n)), "{seen:?}");
    }

    #[test]
    fn lines_are_capped_by_the_number_of_products() {
        let picker = Picker::new(Scenario::Spread, 2, 5, 1.0).unwrap();
        assert_eq!(counts(&picker, 10), vec![10, 10]);
    }

    #[test]
    fn zipf_favours_low_ranks_by_the_exponent() {
        let picker = Picker::new(Scenario::Zipf, 100, 1, 1.0).unwrap();
        let seen = counts(&picker, 50_000);
        assert!(seen.windows(2).take(5).all(|w| w[0] > w[1]), "{seen:?}");
        // With s = 1, rank 1 is drawn twice as often as rank 2.
        #[allow(clippy::cast_precision_loss)]
        let ratio = seen[0] as f64 / seen[1] as f64;
        assert!((1.8..2.2).contains(&ratio), "ratio {ratio}");
    }

    #[test]
    fn a_steep_zipf_still_fills_a_wide_cart() {
        let picker = Picker::new(Scenario::Zipf, 20, 20, 8.0).unwrap();
        assert_eq!(counts(&picker, 20), vec![20; 20]);
    }

    #[test]
    fn a_negative_exponent_is_refused() {
        assert!(Picker::new(Scenario::Zipf, 10, 1, -1.0).is_err());
    }
}
