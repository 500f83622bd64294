//! Group commit for checkouts: one transaction for every checkout that queued while the
//! previous one was being written.
//!
//! On a hot product every checkout needs the same row lock, and each holds it until its commit
//! reaches the disk: one sale per disk flush, however many buyers wait. Here checkouts are
//! routed to a small number of *lanes* by their cart's first product, so the buyers of one
//! product always meet in one lane. A lane's worker takes whatever has queued (at most
//! [`Batching::max_orders`]), reserves for all of it against one read of the stock, and
//! commits it as one transaction in which each product's row is written once. While that
//! commit is in flight the next batch queues up. A lone buyer finds the lane idle and is
//! written at once: there is no timer, so batching costs nothing without contention, and a
//! queued buyer waits for at most the commit in flight plus its own.
//!
//! Nothing here makes a batch correct across processes: the versioned write does. Another
//! process's batch on the same row either queues behind the row lock (guarded writes) or makes
//! this one conflict and retry from a fresh read (compare-and-swap).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::channel::{mpsc, oneshot};
use futures::future::BoxFuture;
use futures::{FutureExt, SinkExt, StreamExt};

use super::outcome::{CheckedOut, CheckoutError};
use super::reserver::{Pending, Reserver};

/// How checkouts are grouped into commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    /// Independent queues, each with at most one commit in flight: the most checkout
    /// transactions one process runs at once. At least 1.
    pub lanes: usize,
    /// The most checkouts in one transaction; also how many may queue in a lane before
    /// callers wait to enqueue. At least 1.
    pub max_orders: usize,
}

impl Default for Batching {
    /// 4 lanes of up to 64 orders: measured on two cores with PostgreSQL in
    /// `docs/benchmarks.md`.
    fn default() -> Self {
        Self { lanes: 4, max_orders: 64 }
    }
}

/// A lane's worker: a future that the composition root runs on its executor.
pub type BatchWorker = BoxFuture<'static, ()>;

type Reply = oneshot::Sender<Result<CheckedOut, CheckoutError>>;

/// The sending ends of the lanes.
pub(super) struct Lanes {
    senders: Vec<mpsc::Sender<(Pending, Reply)>>,
}

impl Lanes {
    /// Opens `batching.lanes` lanes and returns their workers.
    pub(super) fn start(reserver: &Arc<Reserver>, batching: Batching) -> (Self, Vec<BatchWorker>) {
        let max_orders = batching.max_orders.max(1);
        let (senders, workers) = (0..batching.lanes.max(1))
            .map(|_| {
                let (sender, receiver) = mpsc::channel(max_orders);
                let worker = work(Arc::clone(reserver), receiver, max_orders).boxed();
                (sender, worker)
            })
            .unzip();
        (Self { senders }, workers)
    }

    /// Queues `pending` on its lane and waits for its answer.
    pub(super) async fn submit(&self, pending: Pending) -> Result<CheckedOut, CheckoutError> {
        let lane = pending.lane(self.senders.len());
        let (reply, answer) = oneshot::channel();
        let mut sender = self.senders[lane].clone();
        if sender.send((pending, reply)).await.is_err() {
            return Err(CheckoutError::Unavailable("the checkout workers have stopped".into()));
        }
        // A dropped reply means the worker lost the batch (it panicked): whether the batch was
        // committed is unknown, which is what 503 and an idempotent retry are for.
        answer
            .await
            .unwrap_or_else(|_| Err(CheckoutError::Unavailable("the checkout batch failed".into())))
    }
}

/// A lane's loop: take what has queued, reserve and commit it, answer each buyer; until every
/// sender is gone.
async fn work(
    reserver: Arc<Reserver>,
    mut queue: mpsc::Receiver<(Pending, Reply)>,
    max_orders: usize,
) {
    while let Some(first) = queue.next().await {
        let mut batch = vec![first];
        while batch.len() < max_orders {
            // Only what is already queued: waiting for more would tax the lone buyer.
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        // A buyer who gave up (timed out, disconnected) is not reserved for.
        batch.retain(|(_, reply)| !reply.is_canceled());
        if batch.is_empty() {
            continue;
        }
        let (pending, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        match AssertUnwindSafe(reserver.reserve(pending)).catch_unwind().await {
            Ok(answers) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    // The buyer may have gone meanwhile; its order stands and expires unpaid.
                    let _ = reply.send(answer);
                }
            }
            // Dropping the replies tells each buyer; the lane keeps serving.
            Err(_) => tracing::error!(orders = replies.len(), "a checkout batch panicked"),
        }
    }
}

#[cfg(test)]
mod tests;
