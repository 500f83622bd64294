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
//! A buyer who finds its lane idle (nothing queued, no commit in flight) commits its checkout
//! in its own task, as a batch of one, rather than handing it to the worker and waiting to be
//! handed the answer back: the same reservation and commit, without the two wake-ups between
//! tasks (on two cores, often of the other thread). Whoever commits holds the lane's *turn*,
//! so a lane still has at most one commit in flight: the worker waits for the turn before it
//! forms a batch, and what queues meanwhile joins that batch. A caller that stops waiting
//! (its request timed out, or its client went away) does not cut its commit short: what is
//! left of it is handed to the lane's worker, which finishes it as it would have finished a
//! batch. A commit cut between its statements would leave its transaction and connection to
//! however the driver copes with a future dropped mid-query, which is exactly what the worker
//! exists to avoid.
//!
//! Under overload a checkout is refused at once ([`CheckoutError::Overloaded`], a 503 with
//! `Retry-After`) rather than queued past its caller's timeout: when the queue ahead of it
//! would take longer to work off, at the lane's recent pace, than its deadline leaves, or when
//! the lane already holds [`Batching::queue`] checkouts (the bound on memory). A checkout whose
//! caller stopped waiting (its deadline passed, or it went away) is dropped when its batch is
//! formed, and the store refuses to commit a changeset past its deadline (see
//! [`Reserver::reserve`]): a buyer told "failed" holds no reservation.
//!
//! Nothing here makes a batch correct across processes: the versioned write does. Another
//! process's batch on the same row either queues behind the row lock (guarded writes) or makes
//! this one conflict and retry from a fresh read (compare-and-swap).

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use async_channel::{Receiver, Sender, TrySendError};
use futures::channel::oneshot;
use futures::future::BoxFuture;
use futures::lock::{Mutex, OwnedMutexGuard};
use futures::{FutureExt, StreamExt};

use self::pace::Pace;
use super::outcome::{CheckedOut, CheckoutError};
use super::reserver::{Pending, Reserver};

/// How checkouts are grouped into commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    /// Independent queues, each with at most one commit in flight: the most checkout
    /// transactions one process runs at once. At least 1.
    pub lanes: usize,
    /// The most checkouts in one transaction. At least 1.
    pub max_orders: usize,
    /// The most checkouts that may wait in one lane's queue (besides the batch being
    /// committed); one more is refused at once with [`CheckoutError::Overloaded`]. A bound on
    /// memory: a checkout is refused earlier when the queue ahead of it would outlast its
    /// deadline. At least 1.
    pub queue: usize,
    /// Whether a buyer who finds its lane idle commits in its own task rather than through the
    /// lane's worker (see the module's docs). Worth it where a commit is a few round trips
    /// (PostgreSQL: two for a lone checkout); where it is a dozen (SQLite, each statement a
    /// hop to its driver's thread) every wake-up of the commit polls the caller's whole request
    /// stack instead of the worker's small loop, and a lone checkout measured 3-5 % slower.
    /// The composition root sets it per backend.
    pub alone_when_idle: bool,
}

impl Batching {
    /// How many checkouts may wait per lane unless configured otherwise: a bound on memory
    /// (a few megabytes per lane), set above the connections one server is expected to hold.
    /// Refusing earlier only makes clients that ignore `Retry-After` come straight back: on two
    /// cores an open-loop offer of 4x a hot product's capacity over 4,000 connections made
    /// 580 orders/s with a 2,048 bound, against 4,877/s with an unbounded queue (the churn of
    /// refusals took the CPU; docs/reliability.md). The deadline estimate is what sheds load.
    pub const DEFAULT_QUEUE: usize = 8_192;
}

impl Default for Batching {
    /// One lane of up to 256 orders, with a queue of [`Batching::DEFAULT_QUEUE`], a lone buyer
    /// committing in its own task. One lane,
    /// because every commit that records events ends by taking the one event-sequence row
    /// (the feed's order), so the commits of one database are serial at their end however
    /// many lanes run: more lanes only made their batches smaller and their row locks collide
    /// (spread carts on PostgreSQL, 64 clients: 2,815 orders/s with 4 lanes, 4,058 with one;
    /// `docs/benchmarks.md`, run 16). Up to 256, because past 64 clients larger batches are
    /// what keeps the throughput from falling (512 clients: 4,848 with 64, 5,537 with 256).
    fn default() -> Self {
        Self { lanes: 1, max_orders: 256, queue: Self::DEFAULT_QUEUE, alone_when_idle: true }
    }
}

/// A lane's worker: a future that the composition root runs on its executor.
pub type BatchWorker = BoxFuture<'static, ()>;

type Reply = oneshot::Sender<Result<CheckedOut, CheckoutError>>;

/// The right to commit a lane's next batch: held by its worker while it forms and commits a
/// batch, or by a buyer committing alone (see [`Lanes::submit`]).
type Turn = Arc<Mutex<()>>;

/// What is left of a commit whose caller stopped waiting, for the lane's worker to finish.
type Orphan = BoxFuture<'static, ()>;

/// The sending end of a lane, its recent pace, its turn, and where a buyer committing alone
/// hands over a commit it stopped waiting for.
struct Lane {
    sender: Sender<(Pending, Reply)>,
    pace: Arc<Pace>,
    turn: Turn,
    orphans: Sender<Orphan>,
}

/// The sending ends of the lanes, and the reserver a buyer who finds its lane idle commits with.
pub(super) struct Lanes {
    lanes: Vec<Lane>,
    reserver: Arc<Reserver>,
    /// See [`Batching::alone_when_idle`].
    alone_when_idle: bool,
}

impl Lanes {
    /// Opens `batching.lanes` lanes and returns their workers.
    pub(super) fn start(reserver: &Arc<Reserver>, batching: Batching) -> (Self, Vec<BatchWorker>) {
        let max_orders = batching.max_orders.max(1);
        let (lanes, workers) = (0..batching.lanes.max(1))
            .map(|_| {
                // Exactly `queue` messages, however many callers send (a futures channel adds
                // one slot per sender clone, which made it unbounded).
                let (sender, receiver) = async_channel::bounded(batching.queue.max(1));
                let pace = Arc::new(Pace::new(max_orders));
                let turn = Turn::default();
                // Unbounded, yet never more than one: an orphan holds the lane's turn.
                let (orphans, adopted) = async_channel::unbounded();
                let worker = Worker {
                    reserver: Arc::clone(reserver),
                    queue: receiver,
                    max_orders,
                    pace: Arc::clone(&pace),
                    turn: Arc::clone(&turn),
                };
                let worker = futures::future::join(worker.run(), finish_orphans(adopted));
                (Lane { sender, pace, turn, orphans }, worker.map(drop).boxed())
            })
            .unzip();
        let alone_when_idle = batching.alone_when_idle;
        (Self { lanes, reserver: Arc::clone(reserver), alone_when_idle }, workers)
    }

    /// Commits `pending` at once in this task when its lane is idle; else queues it on its lane
    /// and waits for its answer, or refuses it at once when the queue ahead of it would outlast
    /// its deadline, or is full.
    pub(super) async fn submit(&self, pending: Pending) -> Result<CheckedOut, CheckoutError> {
        let lane = &self.lanes[pending.lane(self.lanes.len())];
        let now = Instant::now();
        if pending.overdue(now) {
            return Err(CheckoutError::TimedOut);
        }
        let queued = lane.sender.len();
        // Nothing queued and the turn free: no one to wait for, and no one who could have
        // joined a batch. (A worker that has taken a buyer off the queue but not yet the turn
        // waits for this one commit.)
        if self.alone_when_idle
            && queued == 0
            && let Some(turn) = lane.turn.try_lock_owned()
        {
            let reserver = Arc::clone(&self.reserver);
            let pace = Arc::clone(&lane.pace);
            let commit = commit_alone(reserver, pace, pending, turn).boxed();
            return Uncut { commit: Some(commit), orphans: &lane.orphans }.await;
        }
        if pending.overdue(now + lane.pace.wait_for(queued)) {
            return Err(CheckoutError::Overloaded);
        }
        let (reply, answer) = oneshot::channel();
        match lane.sender.try_send((pending, reply)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(CheckoutError::Overloaded),
            Err(TrySendError::Closed(_)) => {
                return Err(CheckoutError::Unavailable("the checkout workers have stopped".into()));
            }
        }
        // A dropped reply means the worker lost the batch (it panicked): whether the batch was
        // committed is unknown, which is what 503 and an idempotent retry are for.
        answer
            .await
            .unwrap_or_else(|_| Err(CheckoutError::Unavailable("the checkout batch failed".into())))
    }
}

/// Reserves and commits `pending` alone, as a batch of one, holding its lane's `turn`: the
/// worker's work without the hand-over. A panic is answered as the worker answers one, with
/// [`CheckoutError::Unavailable`].
async fn commit_alone(
    reserver: Arc<Reserver>,
    pace: Arc<Pace>,
    pending: Pending,
    turn: OwnedMutexGuard<()>,
) -> Result<CheckedOut, CheckoutError> {
    let answers = reserve_paced(&reserver, &pace, vec![pending]).await;
    drop(turn);
    match answers {
        Some(mut answers) => answers.pop().unwrap_or_else(|| {
            Err(CheckoutError::Unavailable("a checkout went unanswered".into()))
        }),
        None => Err(CheckoutError::Unavailable("the checkout batch failed".into())),
    }
}

/// Reserves and commits `pending` (the caller holds its lane's turn), folding the time it took
/// into the lane's `pace`; `None`, logged, when it panicked: the lane keeps serving.
async fn reserve_paced(
    reserver: &Reserver,
    pace: &Pace,
    pending: Vec<Pending>,
) -> Option<Vec<Result<CheckedOut, CheckoutError>>> {
    let orders = pending.len();
    let started = Instant::now();
    let outcome = AssertUnwindSafe(reserver.reserve(pending)).catch_unwind().await;
    pace.record(started.elapsed());
    if outcome.is_err() {
        tracing::error!(orders, "a checkout batch panicked");
    }
    outcome.ok()
}

/// A commit made in its caller's task that its caller cannot cut short: dropped before it
/// finished, it hands what is left of the commit to its lane's worker (see the module's docs).
struct Uncut<'a> {
    commit: Option<BoxFuture<'static, Result<CheckedOut, CheckoutError>>>,
    orphans: &'a Sender<Orphan>,
}

impl Future for Uncut<'_> {
    type Output = Result<CheckedOut, CheckoutError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(commit) = self.commit.as_mut() else {
            return Poll::Ready(Err(CheckoutError::Unavailable(
                "a commit polled after its answer".into(),
            )));
        };
        let answer = std::task::ready!(commit.poll_unpin(cx));
        self.commit = None;
        Poll::Ready(answer)
    }
}

impl Drop for Uncut<'_> {
    fn drop(&mut self) {
        if let Some(commit) = self.commit.take() {
            // Closed only once the checkout itself is gone (shutting down): then the commit is
            // dropped here, as it would be with the worker's own future.
            let _ = self.orphans.try_send(commit.map(drop).boxed());
        }
    }
}

/// Finishes each commit handed over by a caller that stopped waiting for it; until every
/// sender is gone.
async fn finish_orphans(adopted: Receiver<Orphan>) {
    adopted.for_each_concurrent(None, |orphan| orphan).await;
}

/// A lane's worker: what it needs to form, commit and answer batches.
struct Worker {
    reserver: Arc<Reserver>,
    queue: Receiver<(Pending, Reply)>,
    max_orders: usize,
    pace: Arc<Pace>,
    turn: Turn,
}

impl Worker {
    /// Takes what has queued, once the lane's turn is free, reserves and commits it, answers
    /// each buyer; until every sender is gone.
    async fn run(self) {
        let Self { reserver, queue, max_orders, pace, turn } = self;
        while let Ok(first) = queue.recv().await {
            // A buyer committing alone finishes first; what queues meanwhile joins this batch.
            let _turn = turn.lock().await;
            let batch = drain(&queue, first, max_orders);
            commit_batch(&reserver, &pace, batch).await;
        }
    }
}

/// `first` and whatever else has queued, up to `max_orders` in all.
fn drain(
    queue: &Receiver<(Pending, Reply)>,
    first: (Pending, Reply),
    max_orders: usize,
) -> Vec<(Pending, Reply)> {
    let mut batch = vec![first];
    while batch.len() < max_orders {
        // Only what is already queued: waiting for more would tax the lone buyer.
        match queue.try_recv() {
            Ok(next) => batch.push(next),
            Err(_) => break,
        }
    }
    batch
}

/// Reserves and commits `batch` (the caller holds its lane's turn), and answers each buyer.
async fn commit_batch(reserver: &Reserver, pace: &Pace, batch: Vec<(Pending, Reply)>) {
    // A buyer who gave up (disconnected) or whose deadline passed while queued is not
    // reserved for; the store re-checks the deadline just before the commit.
    let now = Instant::now();
    let (batch, gone): (Vec<_>, Vec<_>) = batch
        .into_iter()
        .partition(|(pending, reply)| !reply.is_canceled() && !pending.overdue(now));
    for (_, reply) in gone {
        let _ = reply.send(Err(CheckoutError::TimedOut));
    }
    if batch.is_empty() {
        return;
    }
    let (pending, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    // A batch that panicked drops its replies, which tells each buyer.
    let Some(answers) = reserve_paced(reserver, pace, pending).await else { return };
    for (reply, answer) in replies.into_iter().zip(answers) {
        // The buyer may have gone meanwhile (its commit outlived its deadline): its order
        // stands, answered by the key's effect on a keyed retry, and expires unpaid otherwise.
        let _ = reply.send(answer);
    }
}

mod pace;
#[cfg(test)]
mod tests;
