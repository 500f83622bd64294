//! One buyer: checks out carts one after another on its own connection until the run's end, and
//! pays or cancels a share of what it won.
//!
//! A buyer stops by itself: at the deadline, when the shared request budget is spent, or when
//! asked to (Ctrl-C). The checkout in flight at that moment is finished and counted, and so is the
//! payment or cancellation of an order it just won, so that the ledger matches the server.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use uuid::Uuid;

use crate::answer::{Order, Outcome};
use crate::api::Api;
use crate::cart::Picker;
use crate::tally::{Live, Tally, Units};

/// When the buyers start measuring and when they stop.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Checkouts started before this are warm-up: they count only for the invariant.
    pub measure_from: Instant,
    /// No checkout starts at or after this (duration mode).
    pub deadline: Option<Instant>,
    /// Measured checkout attempts across all buyers (request mode).
    pub budget: Option<u64>,
    pub quantity: u32,
    pub pay_share: f64,
    pub cancel_share: f64,
    /// Every checkout carries a fresh `Idempotency-Key`: the keyed path is measured.
    pub keyed: bool,
}

/// What all buyers share.
#[derive(Debug)]
pub struct Shared {
    pub api: Api,
    pub picker: Picker,
    /// The run's products; carts name them by index.
    pub products: Vec<Uuid>,
    pub index: HashMap<Uuid, usize>,
    pub plan: Plan,
    pub live: Live,
    /// Measured attempts claimed so far, against `plan.budget`.
    pub claimed: AtomicU64,
    /// Set on Ctrl-C: start nothing new.
    pub stop: AtomicBool,
}

/// What one buyer saw.
#[derive(Debug, Default)]
pub struct Seen {
    pub warmup: Tally,
    pub measured: Tally,
    /// Per product index.
    pub units: Vec<Units>,
    /// When the earliest won checkout started (for the expiry caveat).
    pub first_win: Option<Instant>,
    /// Lines in 201 answers naming a product this run did not create.
    pub foreign_lines: u64,
}

impl Seen {
    pub fn merge(&mut self, o: Self) {
        self.warmup.merge(&o.warmup);
        self.measured.merge(&o.measured);
        self.units.resize(self.units.len().max(o.units.len()), Units::default());
        self.units.iter_mut().zip(&o.units).for_each(|(a, b)| a.merge(b));
        self.first_win = match (self.first_win, o.first_win) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.foreign_lines += o.foreign_lines;
    }
}

/// Runs one buyer to the end of the plan.
pub async fn buy(shared: Arc<Shared>, seed: u64) -> Seen {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut seen = Seen { units: vec![Units::default(); shared.products.len()], ..Seen::default() };
    let plan = &shared.plan;
    loop {
        let started = Instant::now();
        if shared.stop.load(Ordering::Relaxed) || plan.deadline.is_some_and(|d| started >= d) {
            break;
        }
        let measured = started >= plan.measure_from;
        if measured
            && let Some(budget) = plan.budget
            && shared.claimed.fetch_add(1, Ordering::Relaxed) >= budget
        {
            break;
        }
        let lines: Vec<_> = (shared.picker.cart(&mut rng).into_iter())
            .map(|i| (shared.products[i], plan.quantity))
            .collect();
        let key = plan.keyed.then(|| Uuid::new_v4().simple().to_string());
        let (outcome, order) = shared.api.checkout(&lines, key.as_deref()).await;
        if measured {
            shared.live.add(outcome);
        }
        let tally = if measured { &mut seen.measured } else { &mut seen.warmup };
        tally.record_checkout(outcome, started.elapsed());
        let Some(order) = order else { continue };
        seen.first_win.get_or_insert(started);
        add_units(&shared, &mut seen, &order, |u, q| u.won += q);

        let roll: f64 = rng.random();
        if roll < plan.pay_share {
            let outcome = shared.api.settle(order.id, "pay").await;
            let tally = if measured { &mut seen.measured } else { &mut seen.warmup };
            tally.pays.add(outcome);
            if outcome == Outcome::Ok {
                add_units(&shared, &mut seen, &order, |u, q| u.paid += q);
            }
        } else if roll < plan.pay_share + plan.cancel_share {
            let outcome = shared.api.settle(order.id, "cancel").await;
            let tally = if measured { &mut seen.measured } else { &mut seen.warmup };
            tally.cancels.add(outcome);
            if outcome == Outcome::Ok {
                add_units(&shared, &mut seen, &order, |u, q| u.cancelled += q);
            }
        }
    }
    seen
}

/// Books every line of an answered order on its product.
fn add_units(shared: &Shared, seen: &mut Seen, order: &Order, book: impl Fn(&mut Units, u64)) {
    for line in &order.items {
        match shared.index.get(&line.product_id) {
            Some(&i) => book(&mut seen.units[i], line.quantity),
            None => seen.foreign_lines += 1,
        }
    }
}
