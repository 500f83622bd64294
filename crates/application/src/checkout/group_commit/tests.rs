//! Group commit against mocked ports: buyers are queued first (each buyer's future polled until
//! it waits for its answer, while the test holds every lane's turn, as a commit in flight
//! would), then the lane's worker runs, so what shares a commit is decided by the test, not by
//! timing.

use std::pin::Pin;

use futures::lock::OwnedMutexGuard;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use domain::access::Actor;
use domain::ports::{Changeset, ClaimToken, IdempotencyKey, KeyClaim, MockIdGenerator, StoreError};

use super::*;
use crate::checkout::{Checkout, CheckoutCommand, CheckoutConfig};
use crate::test_support::{Mocks, line, oid, pid, sleeping_clock, stock, unlimited};
use crate::{CartLine, RetryPolicy};

type Answer = Result<CheckedOut, CheckoutError>;
type Buyer<'a> = Pin<Box<dyn Future<Output = Answer> + Send + 'a>>;

/// Mocks that hand out orders 1, 2, 3… and read `stocks` (the products for sale).
fn shop(stocks: Vec<domain::ProductStock>) -> Mocks {
    let mut mocks = Mocks::new();
    let mut ids = MockIdGenerator::new();
    let mut next = 0;
    ids.expect_order_id().returning(move || {
        next += 1;
        oid(next)
    });
    mocks.ids = ids;
    mocks.stock.expect_get_many_for_sale().returning(move |_| Ok(unlimited(stocks.clone())));
    mocks
}

/// Records each batch a mocked unit of work commits.
fn batches(mocks: &mut Mocks) -> Arc<Mutex<Vec<Vec<Changeset>>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    mocks.unit_of_work.expect_commit_all().returning(move |batch| {
        sink.lock().expect("lock").push(batch);
        Ok(())
    });
    seen
}

/// A checkout's lane workers, not yet running, and its lanes' turns, held until they run.
struct Idle {
    workers: Vec<BatchWorker>,
    turns: Vec<OwnedMutexGuard<()>>,
}

fn batched(mocks: Mocks) -> (Checkout, Idle) {
    batched_in(mocks, Batching::default())
}

fn batched_in(mocks: Mocks, batching: Batching) -> (Checkout, Idle) {
    let retry = RetryPolicy { max_attempts: 3, ..RetryPolicy::default() };
    let config = CheckoutConfig { retry, ..CheckoutConfig::default() };
    let (checkout, workers) = Checkout::batched(mocks.into_ports(), config, batching);
    let turns = hold(&checkout);
    (checkout, Idle { workers, turns })
}

/// Takes every lane's turn: a buyer then queues instead of committing alone.
fn hold(checkout: &Checkout) -> Vec<OwnedMutexGuard<()>> {
    (checkout.lanes.as_ref().expect("batched").lanes.iter())
        .map(|lane| lane.turn.try_lock_owned().expect("a lane nobody commits on"))
        .collect()
}

fn buyer(checkout: &Checkout, lines: Vec<CartLine>) -> Buyer<'_> {
    Box::pin(checkout.execute(CheckoutCommand {
        lines,
        customer_id: None,
        location_ids: Vec::new(),
        asserts_customer: false,
        actor: Actor::Anonymous,
        idempotency: None,
        deadline: None,
    }))
}

/// Polls each buyer once: it validates its cart and queues, then waits for the worker.
async fn queue_all(buyers: &mut [Buyer<'_>]) {
    for buyer in buyers {
        assert!(futures::poll!(buyer.as_mut()).is_pending(), "queued, waiting for its answer");
    }
}

/// Runs every lane's worker and waits for every buyer's answer; returns the answers and the
/// workers' tasks.
async fn serve(
    idle: Idle,
    buyers: Vec<Buyer<'_>>,
) -> (Vec<Answer>, Vec<tokio::task::JoinHandle<()>>) {
    let Idle { workers, turns } = idle;
    let tasks = workers.into_iter().map(tokio::spawn).collect();
    drop(turns);
    (futures::future::join_all(buyers).await, tasks)
}

#[tokio::test]
async fn buyers_queued_together_share_one_commit_and_the_last_unit_goes_to_the_first() {
    let mut mocks = shop(vec![stock(1, 3, 0, 5)]);
    let seen = batches(&mut mocks);
    let (checkout, workers) = batched(mocks);
    let mut buyers = vec![
        buyer(&checkout, vec![line(1, 2)]),
        buyer(&checkout, vec![line(1, 2)]),
        buyer(&checkout, vec![line(1, 1)]),
    ];
    queue_all(&mut buyers).await;

    let (answers, workers) = serve(workers, buyers).await;

    let [first, second, third] = answers.as_slice() else { panic!("three answers") };
    let first = first.as_ref().expect("fits");
    assert_eq!(first.batch_orders, 2);
    assert!(matches!(
        second,
        Err(CheckoutError::InsufficientStock(s)) if s[0].available.get() == 1
    ));
    assert_eq!(third.as_ref().expect("fits in what is left").order.id(), oid(3));
    let chain: Vec<_> = {
        let seen = seen.lock().expect("lock");
        let [batch] = seen.as_slice() else { panic!("one commit, got {}", seen.len()) };
        batch
            .iter()
            .map(|c| {
                let change = c.stock()[0];
                (c.order_id(), change.reserved_delta(), change.expected_version().get())
            })
            .collect()
    };
    assert_eq!(chain, vec![(Some(oid(1)), 2, 5), (Some(oid(3)), 1, 6)], "a chain from v5");
    drop(answers);
    drop(checkout);
    for worker in workers {
        worker.await.expect("a worker ends once its checkout is gone");
    }
}

#[tokio::test]
async fn a_lost_race_decides_the_whole_batch_again_from_a_fresh_read() {
    let mut mocks = shop(vec![]);
    mocks.clock = sleeping_clock(1);
    mocks.stock.checkpoint();
    let mut reads = 0;
    mocks.stock.expect_get_many_for_sale().times(2).returning(move |_| {
        reads += 1;
        // Between the two reads another process sold 2 of the 3 units.
        Ok(unlimited(vec![if reads == 1 { stock(1, 3, 0, 1) } else { stock(1, 3, 2, 2) }]))
    });
    let mut commits = 0;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    mocks.unit_of_work.expect_commit_all().times(2).returning(move |batch| {
        commits += 1;
        if commits == 1 {
            return Err(StoreError::StockConflict(pid(1)));
        }
        sink.lock().expect("lock").push(batch);
        Ok(())
    });
    let (checkout, workers) = batched(mocks);
    let mut buyers = vec![buyer(&checkout, vec![line(1, 1)]), buyer(&checkout, vec![line(1, 1)])];
    queue_all(&mut buyers).await;

    let (answers, _) = serve(workers, buyers).await;

    assert_eq!(answers[0].as_ref().expect("the first still fits").attempts, 2);
    assert!(matches!(answers[1], Err(CheckoutError::InsufficientStock(_))));
    assert_eq!(seen.lock().expect("lock")[0].len(), 1);
}

#[tokio::test]
async fn a_buyer_who_gave_up_before_its_turn_is_not_reserved_for() {
    let mut mocks = shop(vec![stock(1, 5, 0, 1)]);
    let seen = batches(&mut mocks);
    let (checkout, workers) = batched(mocks);
    let mut buyers = vec![buyer(&checkout, vec![line(1, 1)]), buyer(&checkout, vec![line(1, 4)])];
    queue_all(&mut buyers).await;
    drop(buyers.pop());

    let (answers, _) = serve(workers, buyers).await;

    assert_eq!(answers[0].as_ref().expect("served").batch_orders, 1);
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].len(), 1, "only the buyer still waiting");
}

#[tokio::test]
async fn carts_of_different_first_products_may_take_different_lanes_and_all_are_served() {
    let mut mocks = shop(vec![stock(1, 5, 0, 1), stock(2, 5, 0, 1), stock(3, 5, 0, 1)]);
    let seen = batches(&mut mocks);
    let (checkout, workers) = batched_in(mocks, Batching { lanes: 4, ..Batching::default() });
    let mut buyers = vec![
        buyer(&checkout, vec![line(1, 1), line(2, 1)]),
        buyer(&checkout, vec![line(2, 1)]),
        buyer(&checkout, vec![line(3, 1)]),
    ];
    queue_all(&mut buyers).await;

    let (answers, _) = serve(workers, buyers).await;

    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    // Products 1, 2 and 3 fall in lanes 1, 2 and 3 of 4: three commits.
    let orders: usize = seen.lock().expect("lock").iter().map(Vec::len).sum();
    assert_eq!((seen.lock().expect("lock").len(), orders), (3, 3));
}

#[tokio::test]
async fn a_buyer_whose_key_was_taken_over_is_left_out_and_the_rest_of_the_batch_commits() {
    // Buyer 1's claim went stale and a retry took the key: the commit names it, and the batch
    // is decided again without buyer 1, whose order is never written.
    let mut mocks = shop(vec![stock(1, 5, 0, 1)]);
    let lost = KeyClaim::new(
        IdempotencyKey::new("slow").expect("key"),
        ClaimToken::new(uuid::Uuid::from_u128(1)),
    );
    let held = KeyClaim::new(
        IdempotencyKey::new("fresh").expect("key"),
        ClaimToken::new(uuid::Uuid::from_u128(2)),
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let lost_key = lost.key().clone();
    mocks.unit_of_work.expect_commit_all().times(2).returning(move |batch| {
        let keys: Vec<_> =
            batch.iter().filter_map(|c| c.key().map(|k| k.claim.key().clone())).collect();
        sink.lock().expect("lock").push(keys.clone());
        if keys.contains(&lost_key) {
            Err(StoreError::ClaimsLost(vec![lost_key.clone()]))
        } else {
            Ok(())
        }
    });
    let (checkout, workers) = batched(mocks);
    let keyed = |claim: &KeyClaim| CheckoutCommand {
        lines: vec![line(1, 1)],
        customer_id: None,
        location_ids: Vec::new(),
        asserts_customer: false,
        actor: Actor::Anonymous,
        idempotency: Some(claim.clone()),
        deadline: None,
    };
    let mut buyers: Vec<Buyer<'_>> =
        vec![Box::pin(checkout.execute(keyed(&lost))), Box::pin(checkout.execute(keyed(&held)))];
    queue_all(&mut buyers).await;

    let (answers, _) = serve(workers, buyers).await;

    assert!(matches!(answers[0], Err(CheckoutError::IdempotencyClaimLost)), "{:?}", answers[0]);
    let placed = answers[1].as_ref().expect("the other buyer is served");
    assert_eq!((placed.order.id(), placed.batch_orders), (oid(2), 1));
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen, vec![vec![lost.key().clone(), held.key().clone()], vec![held.key().clone()]]);
}

/// A buyer of product 1 who stops waiting at `deadline`.
fn waiting_until(checkout: &Checkout, deadline: Instant) -> Buyer<'_> {
    let command = CheckoutCommand {
        lines: vec![line(1, 1)],
        customer_id: None,
        location_ids: Vec::new(),
        asserts_customer: false,
        actor: Actor::Anonymous,
        idempotency: None,
        deadline: Some(deadline),
    };
    Box::pin(checkout.execute(command))
}

#[tokio::test]
async fn a_buyer_whose_deadline_passed_in_the_queue_is_not_reserved_for() {
    let mut mocks = shop(vec![stock(1, 3, 0, 5)]);
    let seen = batches(&mut mocks);
    let (checkout, workers) = batched(mocks);
    let now = Instant::now();
    let mut buyers = vec![
        waiting_until(&checkout, now + std::time::Duration::from_millis(20)),
        waiting_until(&checkout, now + std::time::Duration::from_secs(60)),
    ];
    queue_all(&mut buyers).await;
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;

    let (answers, _) = serve(workers, buyers).await;

    assert!(matches!(answers[0], Err(CheckoutError::TimedOut)), "{:?}", answers[0]);
    assert_eq!(answers[1].as_ref().expect("still waiting: served").order.id(), oid(2));
    let seen = seen.lock().expect("lock");
    let orders: Vec<_> = seen.iter().flatten().map(Changeset::order_id).collect();
    assert_eq!(orders, vec![Some(oid(2))], "only the buyer still waiting is committed");
    assert!(seen[0][0].deadline().is_some(), "the store re-checks the deadline at its commit");
}

#[tokio::test]
async fn a_commit_refused_as_overdue_for_one_buyer_is_made_without_it() {
    let mut mocks = shop(vec![stock(1, 3, 0, 5)]);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    mocks.unit_of_work.expect_commit_all().times(2).returning(move |batch| {
        let orders: Vec<_> = batch.iter().filter_map(Changeset::order_id).collect();
        sink.lock().expect("lock").push(orders.clone());
        // The store found the first buyer's deadline passed while it waited for the row lock.
        if orders.contains(&oid(1)) { Err(StoreError::Overdue(vec![oid(1)])) } else { Ok(()) }
    });
    let (checkout, workers) = batched(mocks);
    let later = Instant::now() + std::time::Duration::from_secs(60);
    let mut buyers = vec![waiting_until(&checkout, later), waiting_until(&checkout, later)];
    queue_all(&mut buyers).await;

    let (answers, _) = serve(workers, buyers).await;

    assert!(matches!(answers[0], Err(CheckoutError::TimedOut)), "{:?}", answers[0]);
    let placed = answers[1].as_ref().expect("the other buyer is served");
    assert_eq!((placed.order.id(), placed.batch_orders), (oid(2), 1));
    assert_eq!(*seen.lock().expect("lock"), vec![vec![oid(1), oid(2)], vec![oid(2)]]);
}

#[tokio::test]
async fn a_full_lane_refuses_at_once_without_touching_the_store() {
    let mocks = shop(vec![stock(1, 3, 0, 5)]);
    let retry = RetryPolicy { max_attempts: 3, ..RetryPolicy::default() };
    let config = CheckoutConfig { retry, ..CheckoutConfig::default() };
    let batching = Batching { lanes: 1, max_orders: 64, queue: 2, ..Batching::default() };
    // No commit is expected: the workers never run while the lane fills.
    let (checkout, _workers) = Checkout::batched(mocks.into_ports(), config, batching);
    let _turns = hold(&checkout);
    let mut buyers = vec![buyer(&checkout, vec![line(1, 1)]), buyer(&checkout, vec![line(1, 1)])];
    queue_all(&mut buyers).await;

    let refused = buyer(&checkout, vec![line(1, 1)]).await;

    assert!(matches!(refused, Err(CheckoutError::Overloaded)), "{refused:?}");
}

#[tokio::test]
async fn a_buyer_the_queue_ahead_would_outlast_is_refused_at_once() {
    let mocks = shop(vec![stock(1, 100, 0, 5)]);
    let config = CheckoutConfig::default();
    // Batches of one order: every buyer ahead is a batch of its own.
    let batching = Batching { lanes: 1, max_orders: 1, queue: 64, ..Batching::default() };
    // No commit is expected: the workers never run while the lane fills.
    let (checkout, _workers) = Checkout::batched(mocks.into_ports(), config, batching);
    let _turns = hold(&checkout);
    for lane in &checkout.lanes.as_ref().expect("batched").lanes {
        lane.pace.record(std::time::Duration::from_millis(100));
    }
    let now = Instant::now();
    let later = now + std::time::Duration::from_secs(60);
    let mut queued = vec![waiting_until(&checkout, later), waiting_until(&checkout, later)];
    queue_all(&mut queued).await;

    // Two batches ahead at 100 ms each: 200 ms, past a deadline 150 ms away.
    let refused = waiting_until(&checkout, now + std::time::Duration::from_millis(150)).await;
    let mut patient = vec![waiting_until(&checkout, later)];

    assert!(matches!(refused, Err(CheckoutError::Overloaded)), "{refused:?}");
    queue_all(&mut patient).await;
}

#[tokio::test]
async fn a_buyer_who_finds_the_lane_idle_commits_alone_in_its_own_task() {
    let mut mocks = shop(vec![stock(1, 3, 0, 5)]);
    let seen = batches(&mut mocks);
    let retry = RetryPolicy { max_attempts: 3, ..RetryPolicy::default() };
    let config = CheckoutConfig { retry, ..CheckoutConfig::default() };
    // The workers never run: only the buyer's own task can commit.
    let (checkout, _workers) = Checkout::batched(mocks.into_ports(), config, Batching::default());

    let alone = std::time::Duration::from_secs(5);
    let placed = tokio::time::timeout(alone, buyer(&checkout, vec![line(1, 2)]))
        .await
        .expect("answered without the worker")
        .expect("fits");

    assert_eq!((placed.order.id(), placed.batch_orders), (oid(1), 1));
    assert_eq!(seen.lock().expect("lock").len(), 1, "one commit");
    // The turn is free again: the next lone buyer commits alone too.
    let next = buyer(&checkout, vec![line(1, 1)]).await.expect("fits in what is left");
    assert_eq!(next.order.id(), oid(2));
}

#[tokio::test]
async fn the_worker_waits_for_the_turn_and_takes_what_queued_meanwhile_in_one_batch() {
    let mut mocks = shop(vec![stock(1, 10, 0, 5)]);
    let seen = batches(&mut mocks);
    let (checkout, Idle { workers, turns }) = batched(mocks);
    let worker = tokio::spawn(workers.into_iter().next().expect("one lane"));
    let mut first = vec![buyer(&checkout, vec![line(1, 1)])];
    queue_all(&mut first).await;
    // The worker has the first buyer but not the turn (held here, as by a buyer committing
    // alone): nothing is committed, and the next buyers queue behind.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    let mut next = vec![buyer(&checkout, vec![line(1, 1)]), buyer(&checkout, vec![line(1, 1)])];
    queue_all(&mut next).await;
    assert!(seen.lock().expect("lock").is_empty(), "no commit without the turn");

    drop(turns);
    first.extend(next);
    let answers = futures::future::join_all(first).await;

    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    let sizes: Vec<_> = seen.lock().expect("lock").iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![3], "one batch of the three");
    drop(checkout);
    worker.await.expect("the worker ends once its checkout is gone");
}

/// A clock whose first backoff lasts until the test opens its gate.
struct Gated(Mutex<Option<oneshot::Receiver<()>>>);

#[async_trait::async_trait]
impl domain::ports::Clock for Gated {
    fn now(&self) -> domain::Timestamp {
        crate::test_support::t0()
    }

    async fn sleep(&self, _: std::time::Duration) {
        let gate = self.0.lock().expect("lock").take();
        if let Some(gate) = gate {
            let _ = gate.await;
        }
    }
}

#[tokio::test]
async fn a_commit_made_alone_is_finished_by_the_worker_when_its_caller_stops_waiting() {
    let mut mocks = shop(vec![stock(1, 3, 0, 5)]);
    let mut commits = 0;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    mocks.unit_of_work.expect_commit_all().times(3).returning(move |batch| {
        commits += 1;
        if commits == 1 {
            return Err(StoreError::StockConflict(pid(1)));
        }
        sink.lock().expect("lock").push(batch.len());
        Ok(())
    });
    let (open, gate) = oneshot::channel();
    let mut ports = mocks.into_ports();
    ports.clock = Arc::new(Gated(Mutex::new(Some(gate))));
    let (checkout, workers) =
        Checkout::batched(ports, CheckoutConfig::default(), Batching::default());
    let workers: Vec<_> = workers.into_iter().map(tokio::spawn).collect();
    // Alone on its lane, the buyer commits in its own task; its first attempt loses a race and
    // it waits out the backoff, holding the lane's turn.
    let mut gone = buyer(&checkout, vec![line(1, 1)]);
    assert!(futures::poll!(gone.as_mut()).is_pending(), "waiting out the backoff");

    drop(gone);
    open.send(()).expect("the backoff is waiting");
    let finished = async {
        while seen.lock().expect("lock").is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(5), finished)
        .await
        .expect("the worker finished the commit its caller left");

    // The turn is free again: the next buyer commits alone.
    let next = buyer(&checkout, vec![line(1, 1)]).await.expect("fits");
    assert_eq!(next.order.id(), oid(2));
    assert_eq!(*seen.lock().expect("lock"), vec![1, 1]);
    drop(checkout);
    for worker in workers {
        worker.await.expect("a worker ends once its checkout is gone");
    }
}

#[tokio::test]
async fn without_alone_when_idle_even_a_lone_buyer_waits_for_the_worker() {
    let mut mocks = shop(vec![stock(1, 3, 0, 5)]);
    let seen = batches(&mut mocks);
    let batching = Batching { alone_when_idle: false, ..Batching::default() };
    let (checkout, workers) =
        Checkout::batched(mocks.into_ports(), CheckoutConfig::default(), batching);
    let mut lone = vec![buyer(&checkout, vec![line(1, 1)])];
    queue_all(&mut lone).await;
    assert!(seen.lock().expect("lock").is_empty(), "nothing committed without the worker");

    let (answers, _) = serve(Idle { workers, turns: Vec::new() }, lone).await;

    assert_eq!(answers[0].as_ref().expect("fits").batch_orders, 1);
    assert_eq!(seen.lock().expect("lock").len(), 1);
}
