//! The race proof: the seed's lost update, attempted through the real checkout use case and
//! these adapters with a real connection pool, and defeated. Concurrent buyers get exactly as
//! many units as exist, every other buyer a definite "insufficient stock", and the counters,
//! versions and ledger agree afterwards.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use application::checkout::{
    Batching, CheckedOut, Checkout, CheckoutCommand, CheckoutConfig, CheckoutError,
};
use application::{CartLine, Ports, RetryPolicy};
use domain::ProductId;
use domain::access::Actor;
use domain::ports::OrderRepository;
use infra_seaorm::system::{SystemClock, UuidV7Ids};
use infra_seaorm::{SeaOrmAdapters, SeaOrmIdempotencyStore, StockWrites};

use crate::events::assert_feed_is_whole;
use crate::fixtures::{product, qty, stock};
use crate::ledger::assert_ledger_matches;
use crate::support::{TestDb, on_every_backend};

/// A buyer loses a race only to a buyer who won units, so the stock on sale bounds the
/// conflicts one buyer can meet; the spare attempts absorb transaction-level aborts. Generous on
/// purpose: this proof wants a definite answer from every buyer, not a 503.
pub(crate) fn patient() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 500,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(20),
    }
}

/// How the racing checkouts commit.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Commits {
    /// Each checkout in its own transaction, through one use case.
    Alone,
    /// Group commit, through `processes` independent use cases (each with its own lanes, as
    /// separate server processes have) sharing the database.
    Grouped { processes: usize },
}

/// The real use case(s) over this backend's adapters, writing stock as `writes` says.
pub(crate) fn checkouts(db: &TestDb, writes: StockWrites, commits: Commits) -> Vec<Arc<Checkout>> {
    let config = CheckoutConfig { retry: patient(), ..CheckoutConfig::default() };
    checkouts_with(db, writes, commits, config)
}

/// [`checkouts`] with `config`.
pub(crate) fn checkouts_with(
    db: &TestDb,
    writes: StockWrites,
    commits: Commits,
    config: CheckoutConfig,
) -> Vec<Arc<Checkout>> {
    match commits {
        Commits::Alone => vec![Arc::new(Checkout::new(ports(db, writes), config))],
        Commits::Grouped { processes } => (0..processes)
            .map(|_| {
                // Small batches and two lanes, so that a race of a few hundred buyers makes many
                // batches that meet on the same rows.
                let batching = Batching { lanes: 2, max_orders: 16, ..Batching::default() };
                let (checkout, workers) = Checkout::batched(ports(db, writes), config, batching);
                for worker in workers {
                    tokio::spawn(worker);
                }
                Arc::new(checkout)
            })
            .collect(),
    }
}

pub(crate) fn ports(db: &TestDb, writes: StockWrites) -> Ports {
    let a = &SeaOrmAdapters::with_stock_writes(&db.db, writes);
    Ports {
        products: Arc::new(a.products.clone()),
        locations: Arc::new(a.locations.clone()),
        stock: Arc::new(a.stock.clone()),
        orders: Arc::new(a.orders.clone()),
        unit_of_work: Arc::new(a.unit_of_work.clone()),
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Ids),
        idempotency: Arc::new(SeaOrmIdempotencyStore::new(db.db.clone())),
        reconciliation: Arc::new(a.reconciliation.clone()),
        lease: Arc::new(a.lease.clone()),
        clients: Arc::new(a.clients.clone()),
        purchases: Arc::new(a.purchases.clone()),
        events: Arc::new(a.events.clone()),
        cursors: Arc::new(a.cursors.clone()),
        retention: Arc::new(a.retention.clone()),
        webhooks: Arc::new(a.webhooks.clone()),
    }
}

/// Runs every cart concurrently, spread over `checkouts` in turn; answers come back in cart
/// order.
async fn race(
    checkouts: Vec<Arc<Checkout>>,
    carts: Vec<Vec<CartLine>>,
) -> Vec<Result<CheckedOut, CheckoutError>> {
    let tasks: Vec<_> = carts
        .into_iter()
        .zip(checkouts.iter().cycle())
        .map(|(lines, checkout)| {
            let checkout = Arc::clone(checkout);
            tokio::spawn(async move {
                checkout
                    .execute(CheckoutCommand {
                        location_ids: Vec::new(),
                        actor: Actor::Admin,
                        lines,
                        customer_id: None,
                        asserts_customer: false,
                        idempotency: None,
                        deadline: None,
                    })
                    .await
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(tasks.len());
    for task in tasks {
        answers.push(task.await.expect("a buyer task"));
    }
    answers
}

fn line(product_id: ProductId, quantity: i64) -> CartLine {
    CartLine { product_id, quantity: qty(quantity) }
}

on_every_backend!(
    two_hundred_buyers_of_fifty_units_get_fifty_orders_and_a_hundred_and_fifty_refusals
);
on_every_backend!(the_same_flash_sale_with_guarded_writes_is_just_as_exact);
on_every_backend!(the_flash_sale_group_committed_by_three_processes_is_just_as_exact);
on_every_backend!(group_commit_over_compare_and_swap_is_just_as_exact);

async fn two_hundred_buyers_of_fifty_units_get_fifty_orders_and_a_hundred_and_fifty_refusals(
    db: &TestDb,
) {
    flash_sale(db, StockWrites::CompareAndSwap, Commits::Alone).await;
}

async fn the_same_flash_sale_with_guarded_writes_is_just_as_exact(db: &TestDb) {
    flash_sale(db, StockWrites::Guarded, Commits::Alone).await;
}

async fn the_flash_sale_group_committed_by_three_processes_is_just_as_exact(db: &TestDb) {
    flash_sale(db, StockWrites::Guarded, Commits::Grouped { processes: 3 }).await;
}

async fn group_commit_over_compare_and_swap_is_just_as_exact(db: &TestDb) {
    flash_sale(db, StockWrites::CompareAndSwap, Commits::Grouped { processes: 3 }).await;
}

async fn flash_sale(db: &TestDb, writes: StockWrites, commits: Commits) {
    let (product, _) = product(db, "FLASH-1", 50).await;
    let carts = (0..200).map(|_| vec![line(product.id, 1)]).collect();
    let started = Instant::now();

    let answers = race(checkouts(db, writes, commits), carts).await;

    let winners: Vec<_> = answers.iter().filter_map(|a| a.as_ref().ok()).collect();
    let refused =
        answers.iter().filter(|a| matches!(a, Err(CheckoutError::InsufficientStock(_)))).count();
    let retries: u32 = winners.iter().map(|w| w.attempts - 1).sum();
    let commits_made = winners.iter().map(|w| 1.0 / w.batch_orders as f64).sum::<f64>();
    eprintln!(
        "flash sale on {:?} ({writes:?}, {commits:?}): {} orders in ~{commits_made:.0} commits, \
         {refused} refused, {retries} retries, {:?}",
        db.backend,
        winners.len(),
        started.elapsed()
    );
    assert_eq!((winners.len(), refused), (50, 150), "every answer is an order or a refusal");
    let stored = stock(db, product.id).await;
    assert_eq!((stored.on_hand().get(), stored.reserved().get()), (50, 50));
    assert_eq!(stored.version().get(), 1 + 50, "one version per sale, none lost");
    assert_ledger_matches(db, product.id).await;
    let events = assert_feed_is_whole(db, &[product.id]).await;
    assert_eq!(
        events.len(),
        2 + 2 * 50 + 1,
        "the product, its stock, a reservation per order, and stock.out at the fiftieth"
    );
    for won in winners {
        let order = db.adapters.orders.get(won.order.id()).await.expect("read");
        assert_eq!(order.as_ref(), Some(&won.order), "every order is stored as answered");
    }
}

on_every_backend!(mixed_carts_over_five_products_reserve_exactly_the_winning_lines);
on_every_backend!(mixed_carts_with_guarded_writes_reserve_exactly_the_winning_lines);
on_every_backend!(mixed_carts_group_committed_by_three_processes_reserve_exactly);

async fn mixed_carts_over_five_products_reserve_exactly_the_winning_lines(db: &TestDb) {
    mixed_carts(db, StockWrites::CompareAndSwap, Commits::Alone).await;
}

async fn mixed_carts_with_guarded_writes_reserve_exactly_the_winning_lines(db: &TestDb) {
    mixed_carts(db, StockWrites::Guarded, Commits::Alone).await;
}

async fn mixed_carts_group_committed_by_three_processes_reserve_exactly(db: &TestDb) {
    mixed_carts(db, StockWrites::Guarded, Commits::Grouped { processes: 3 }).await;
}

async fn mixed_carts(db: &TestDb, writes: StockWrites, commits: Commits) {
    let mut products = Vec::new();
    for n in 0..5 {
        products.push(product(db, &format!("MIX-{n}"), 20).await.0.id);
    }
    // A fixed, varied spread of carts: 1 to 3 distinct products, 1 to 3 units each.
    let carts: Vec<Vec<CartLine>> = (0..150usize)
        .map(|i| {
            (0..1 + i % 3)
                .map(|k| line(products[(i * 7 + k * 3) % 5], 1 + ((i + k) % 3) as i64))
                .collect()
        })
        .collect();

    let answers = race(checkouts(db, writes, commits), carts.clone()).await;

    let mut won_units: HashMap<ProductId, i64> = HashMap::new();
    let mut won_orders: HashMap<ProductId, i64> = HashMap::new();
    for (cart, answer) in carts.iter().zip(&answers) {
        match answer {
            Ok(_) => {
                for l in cart {
                    *won_units.entry(l.product_id).or_default() += i64::from(l.quantity.get());
                    *won_orders.entry(l.product_id).or_default() += 1;
                }
            }
            Err(CheckoutError::InsufficientStock(shortages)) => assert!(!shortages.is_empty()),
            Err(other) => panic!("a cart got neither an order nor a refusal: {other:?}"),
        }
    }
    for id in products {
        let stored = stock(db, id).await;
        let won = won_units.get(&id).copied().unwrap_or_default();
        assert_eq!(stored.reserved().get(), won, "reserved is the sum of the winning lines");
        assert!(stored.reserved() <= stored.on_hand(), "never more reserved than on the shelf");
        assert_eq!(stored.version().get(), 1 + won_orders.get(&id).copied().unwrap_or_default());
        assert_ledger_matches(db, id).await;
    }
}
