//! Checkout: reserve every unit of a cart and create the order that awaits payment, or refuse
//! the whole cart. This is where "never oversell" is decided.
//!
//! Path: validate the cart (merging lines per product) → price it → read every product's stock
//! with its version → reserve in the domain, collecting *every* shortage → commit the stock
//! changes and the order in one versioned write. When a concurrent checkout wrote one of the
//! stocks first, the commit conflicts, nothing is written, and the attempt starts over from a
//! fresh read, a bounded number of times.
//!
//! With group commit ([`Checkout::batched`]) the same path runs for several carts at once:
//! checkouts that arrive while a commit is in flight queue up, and the next commit reserves for
//! all of them in arrival order against one read, writing each product's row once for the
//! whole batch (see [`group_commit`]).

mod command;
mod group_commit;
mod outcome;
mod reserver;

use std::sync::Arc;

pub use self::command::{CheckoutCommand, CheckoutConfig};
use self::group_commit::Lanes;
pub use self::group_commit::{BatchWorker, Batching};
pub use self::outcome::{CheckedOut, CheckoutError};
use self::reserver::Reserver;
use crate::Ports;

/// The checkout use case.
pub struct Checkout {
    core: Arc<Reserver>,
    /// Group commit's queues, when checkouts are batched; `None` commits each on its own.
    lanes: Option<Lanes>,
}

impl Checkout {
    /// The use case over `ports`, committing every checkout in its own transaction.
    #[must_use]
    pub fn new(ports: Ports, config: CheckoutConfig) -> Self {
        Self { core: Arc::new(Reserver::new(ports, config)), lanes: None }
    }

    /// The use case over `ports` with group commit: concurrent checkouts are reserved and
    /// committed together, up to `batching.max_orders` per transaction. The returned workers
    /// do that work; the caller runs each of them on its executor (they end when the
    /// `Checkout` is dropped, after answering what was queued).
    #[must_use]
    pub fn batched(
        ports: Ports,
        config: CheckoutConfig,
        batching: Batching,
    ) -> (Self, Vec<BatchWorker>) {
        let core = Arc::new(Reserver::new(ports, config));
        let (lanes, workers) = Lanes::start(&core, batching);
        (Self { core, lanes: Some(lanes) }, workers)
    }

    /// Reserves the whole cart and creates its order, or reserves nothing.
    ///
    /// # Errors
    /// See [`CheckoutError`]; `InsufficientStock` is an answer, not a failure.
    #[tracing::instrument(skip_all, fields(lines = command.lines.len()))]
    pub async fn execute(&self, command: CheckoutCommand) -> Result<CheckedOut, CheckoutError> {
        let pending = self.core.prepare(command).await?;
        match &self.lanes {
            Some(lanes) => lanes.submit(pending).await,
            None => self.core.reserve(vec![pending]).await.pop().unwrap_or_else(|| {
                Err(CheckoutError::Unavailable("a checkout went unanswered".into()))
            }),
        }
    }
}

#[cfg(test)]
mod tests;
