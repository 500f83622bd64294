//! Which locations serve a cart: the allocation policy of multi-location stock, pure.
//!
//! A shop keeps stock in several locations (warehouses, stores). A checkout names the products
//! and quantities; the policy decides, per product, which locations give how many units, given
//! what each eligible location has for sale at that moment. The rules:
//!
//! - **Order of locations.** [`Policy::ByPriority`] (the default) takes locations by their
//!   priority, lowest number first (the default location has priority 0);
//!   [`Policy::MostAvailable`] takes the location with the most units for sale first;
//!   [`Policy::Preference`] takes only the locations the caller listed, in the caller's order.
//!   Ties are broken by priority, then by location id, so the same inputs always give the same
//!   allocation.
//! - **Split lines.** A line one location cannot serve is filled from the next one in order,
//!   and so on: the order's line then has several allocations.
//! - **All or nothing.** When any product of the cart cannot be served by its eligible locations
//!   together, nothing is allocated, and every such product is reported as a [`Shortage`] with
//!   the total available over its eligible locations (not only the first location's, the
//!   mistake that made Medusa refuse carts its other locations could serve).
//!
//! What a location has for sale is `on_hand − reserved − safety_stock`, computed by the caller
//! from the rows it read ([`Candidate::available`]); this module never sees a negative count.
//! The allocation decides nothing durable: the unit of work writes each allocated location's
//! row with its own versioned, guarded update, so a race lost after allocating is a conflict
//! that allocates again from a fresh read, never an oversold location.

use std::cmp::Reverse;
use std::collections::HashSet;

pub use crate::order::{Allocation, LineAllocation};
use crate::{Cart, LocationId, ProductId, Quantity, Shortage, StockCount};

/// How a cart's lines are spread over locations.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Policy {
    /// Every eligible location, lowest priority number first.
    #[default]
    ByPriority,
    /// Every eligible location, the one with the most units for sale first.
    MostAvailable,
    /// Only these locations, in this order (the checkout's `location_ids`); a location listed
    /// twice counts once, at its first place.
    Preference(Vec<LocationId>),
}

/// One location's offer of one product, as read for this checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// The location.
    pub location_id: LocationId,
    /// Its priority: lower numbers are served first under [`Policy::ByPriority`].
    pub priority: i32,
    /// The units it has for sale: on hand, less reserved, less its safety stock (never below
    /// zero).
    pub available: StockCount,
}

/// Allocates every line of `cart` from the candidates `offers(product)` returns (the active
/// locations that stock it, each with what it has for sale), following `policy`.
///
/// # Errors
/// Every product its eligible locations cannot serve together, each with the units asked for
/// and the total available over those locations; then nothing is allocated.
pub fn allocate(
    cart: &Cart,
    policy: &Policy,
    offers: impl FnMut(ProductId) -> Vec<Candidate>,
) -> Result<Vec<LineAllocation>, Vec<Shortage>> {
    allocate_with_backorders(cart, policy, offers, |_| 0)
}

/// [`allocate`], where a product short of stock may owe the rest of its line: up to
/// `room(product)` units (what its backorder limit leaves, see [`crate::backorder`]). Such a
/// line takes every unit its eligible locations have for sale first, then owes the rest
/// ([`LineAllocation::backordered`]).
///
/// # Errors
/// Every product that its eligible locations and its room cannot serve together, each with
/// the units asked for and what could be had (the total available over those locations plus
/// the room); then nothing is allocated.
pub fn allocate_with_backorders(
    cart: &Cart,
    policy: &Policy,
    mut offers: impl FnMut(ProductId) -> Vec<Candidate>,
    room: impl Fn(ProductId) -> u32,
) -> Result<Vec<LineAllocation>, Vec<Shortage>> {
    let mut lines = Vec::new();
    let mut shortages = Vec::new();
    for (product_id, requested) in cart.lines() {
        let ordered = in_order(offers(product_id), policy);
        let room = room(product_id);
        match take(&ordered, requested, room) {
            Some((allocations, backordered)) => {
                lines.push(LineAllocation { product_id, allocations, backordered });
            }
            None => {
                let could = total(&ordered).get().saturating_add(i64::from(room));
                let available = StockCount::new(could.min(StockCount::MAX)).unwrap_or_default();
                shortages.push(Shortage { product_id, requested, available });
            }
        }
    }
    if shortages.is_empty() { Ok(lines) } else { Err(shortages) }
}

/// The eligible candidates in the order `policy` takes them.
fn in_order(mut candidates: Vec<Candidate>, policy: &Policy) -> Vec<Candidate> {
    let tie = |c: &Candidate| (c.priority, c.location_id);
    match policy {
        Policy::ByPriority => candidates.sort_by_key(tie),
        Policy::MostAvailable => candidates.sort_by_key(|c| (Reverse(c.available), tie(c))),
        Policy::Preference(preferred) => {
            let mut seen = HashSet::new();
            let ranked = preferred.iter().filter(|id| seen.insert(**id));
            return ranked
                .filter_map(|id| candidates.iter().find(|c| c.location_id == *id).copied())
                .collect();
        }
    }
    candidates
}

/// Fills `requested` from `ordered`, first location first, owing at most `room` units of
/// what they lack; `None` when they cannot together. Returns the allocations and the units
/// owed.
fn take(ordered: &[Candidate], requested: Quantity, room: u32) -> Option<(Vec<Allocation>, u32)> {
    let mut missing = i64::from(requested.get());
    let mut allocations = Vec::new();
    for candidate in ordered {
        if missing == 0 {
            break;
        }
        let here = missing.min(candidate.available.get());
        // Zero-stock locations give nothing and get no allocation.
        if let Ok(quantity) = Quantity::new(here) {
            allocations.push(Allocation { location_id: candidate.location_id, quantity });
            missing -= here;
        }
    }
    let owed = u32::try_from(missing).ok()?;
    (owed <= room).then_some((allocations, owed))
}

/// The units for sale over `candidates`, capped at the largest count (a sum of many full
/// locations could pass it).
fn total(candidates: &[Candidate]) -> StockCount {
    let sum = candidates.iter().fold(0_i64, |sum, c| sum.saturating_add(c.available.get()));
    StockCount::new(sum.min(StockCount::MAX)).unwrap_or(StockCount::ZERO)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;
    use uuid::Uuid;

    use super::*;

    fn location(n: u128) -> LocationId {
        LocationId::new(Uuid::from_u128(n)).expect("not nil")
    }

    fn product(n: u128) -> ProductId {
        ProductId::new(Uuid::from_u128(1_000 + n)).expect("not nil")
    }

    fn qty(n: i64) -> Quantity {
        Quantity::new(n).expect("a quantity")
    }

    fn offer(loc: u128, priority: i32, available: i64) -> Candidate {
        let available = StockCount::new(available).expect("a count");
        Candidate { location_id: location(loc), priority, available }
    }

    fn taken(line: &LineAllocation) -> Vec<(LocationId, u32)> {
        line.allocations.iter().map(|a| (a.location_id, a.quantity.get())).collect()
    }

    /// Three locations: 1 (priority 0, 2 units), 2 (priority 5, 10 units), 3 (priority 1, 4).
    fn shelves(_: ProductId) -> Vec<Candidate> {
        vec![offer(1, 0, 2), offer(2, 5, 10), offer(3, 1, 4)]
    }

    #[test]
    fn by_priority_a_line_spills_from_the_first_location_to_the_next() {
        let cart = Cart::new([(product(1), qty(5))]).expect("a cart");

        let lines = allocate(&cart, &Policy::ByPriority, shelves).expect("enough in all");

        assert_eq!(taken(&lines[0]), [(location(1), 2), (location(3), 3)]);
    }

    #[test]
    fn most_available_takes_the_fullest_location_first() {
        let cart = Cart::new([(product(1), qty(12))]).expect("a cart");

        let lines = allocate(&cart, &Policy::MostAvailable, shelves).expect("enough in all");

        assert_eq!(taken(&lines[0]), [(location(2), 10), (location(3), 2)]);
    }

    #[test]
    fn a_preference_list_makes_only_its_locations_eligible_in_its_order() {
        let cart = Cart::new([(product(1), qty(5))]).expect("a cart");
        let policy = Policy::Preference(vec![location(3), location(1), location(3)]);

        let lines = allocate(&cart, &policy, shelves).expect("3 and 1 hold 6");

        assert_eq!(taken(&lines[0]), [(location(3), 4), (location(1), 1)]);
    }

    #[test]
    fn a_short_product_reports_the_total_over_its_eligible_locations() {
        let cart = Cart::new([(product(1), qty(7))]).expect("a cart");
        let policy = Policy::Preference(vec![location(1), location(3), location(9)]);

        let shortages = allocate(&cart, &policy, shelves).expect_err("1 and 3 hold 6");

        let expected = Shortage {
            product_id: product(1),
            requested: qty(7),
            available: StockCount::new(6).expect("a count"),
        };
        assert_eq!(shortages, [expected]);
    }

    #[test]
    fn a_cart_is_all_or_nothing_and_lists_every_short_product() {
        let stock: HashMap<ProductId, Vec<Candidate>> = HashMap::from([
            (product(1), vec![offer(1, 0, 5)]),
            (product(2), vec![offer(1, 0, 1), offer(2, 1, 1)]),
            (product(3), vec![]),
        ]);
        let cart = Cart::new([(product(1), qty(5)), (product(2), qty(3)), (product(3), qty(1))])
            .expect("a cart");

        let shortages = allocate(&cart, &Policy::ByPriority, |p| stock[&p].clone())
            .expect_err("2 and 3 are short");

        let short: Vec<_> = shortages.iter().map(|s| (s.product_id, s.available.get())).collect();
        assert_eq!(short, [(product(2), 2), (product(3), 0)]);
    }

    #[test]
    fn locations_with_nothing_for_sale_get_no_allocation() {
        let cart = Cart::new([(product(1), qty(3))]).expect("a cart");
        let offers = |_| vec![offer(1, 0, 0), offer(2, 1, 3)];

        let lines = allocate(&cart, &Policy::ByPriority, offers).expect("2 holds 3");

        assert_eq!(taken(&lines[0]), [(location(2), 3)]);
    }

    #[test]
    fn equal_priorities_are_taken_in_location_id_order() {
        let cart = Cart::new([(product(1), qty(2))]).expect("a cart");
        let offers = |_| vec![offer(7, 0, 1), offer(4, 0, 1)];

        let lines = allocate(&cart, &Policy::ByPriority, offers).expect("two units");

        assert_eq!(taken(&lines[0]), [(location(4), 1), (location(7), 1)]);
    }

    fn any_policy() -> impl Strategy<Value = Policy> {
        prop_oneof![
            Just(Policy::ByPriority),
            Just(Policy::MostAvailable),
            prop::collection::vec(1_u128..6, 0..6)
                .prop_map(|ids| Policy::Preference(ids.into_iter().map(location).collect())),
        ]
    }

    proptest! {
        /// Whatever the shelves and the policy: an allocation gives each product exactly its
        /// quantity, from eligible locations only, never more than a location has; a refusal
        /// happens exactly when the eligible locations together hold too little.
        #[test]
        fn allocations_sum_to_the_line_and_never_exceed_a_location(
            available in prop::collection::vec(0_i64..20, 5),
            priorities in prop::collection::vec(-3_i32..3, 5),
            wanted in 1_i64..60,
            policy in any_policy(),
        ) {
            let candidates: Vec<Candidate> = (0..5)
                .map(|i| offer(i as u128 + 1, priorities[i], available[i]))
                .collect();
            let eligible: Vec<LocationId> = match &policy {
                Policy::Preference(ids) => ids.clone(),
                _ => candidates.iter().map(|c| c.location_id).collect(),
            };
            let eligible_total: i64 = candidates
                .iter()
                .filter(|c| eligible.contains(&c.location_id))
                .map(|c| c.available.get())
                .sum();
            let cart = Cart::new([(product(1), qty(wanted))]).expect("a cart");

            match allocate(&cart, &policy, |_| candidates.clone()) {
                Ok(lines) => {
                    prop_assert!(wanted <= eligible_total);
                    let line = &lines[0];
                    let sum: i64 = line.allocations.iter().map(|a| i64::from(a.quantity.get())).sum();
                    prop_assert_eq!(sum, wanted);
                    for a in &line.allocations {
                        prop_assert!(eligible.contains(&a.location_id));
                        let shelf = candidates.iter().find(|c| c.location_id == a.location_id);
                        let shelf = shelf.expect("a candidate");
                        prop_assert!(i64::from(a.quantity.get()) <= shelf.available.get());
                    }
                }
                Err(shortages) => {
                    prop_assert!(wanted > eligible_total);
                    prop_assert_eq!(shortages[0].available.get(), eligible_total);
                }
            }
        }
    }
}
