//! The run's own products: created through the admin API before the clock starts, and their
//! stock read back after the last buyer stopped.
//!
//! SKUs are `LG-<run id>-<n>`, so runs never share products and never touch anyone else's.

use tokio::task::JoinSet;
use uuid::Uuid;

use crate::answer::Stock;
use crate::api::{Api, ApiError};

/// Parallel admin calls while setting up and reading back: enough to make 100,000 products
/// quick, few enough not to look like load.
const SETUP_WORKERS: usize = 8;

/// The SKU of product `n` of run `run_id`.
#[must_use]
pub fn sku(run_id: &str, n: usize) -> String {
    format!("LG-{run_id}-{n}")
}

/// Creates `count` products of `initial_stock` units; their ids in SKU order.
///
/// # Errors
/// The first creation that failed (e.g. 401 for a wrong admin token).
pub async fn create(
    api: &Api,
    run_id: &str,
    count: usize,
    initial_stock: u64,
) -> Result<Vec<Uuid>, ApiError> {
    let ids = for_each_strided(count, |i| {
        let (api, sku) = (api.clone(), sku(run_id, i));
        async move { api.create_product(&sku, initial_stock).await }
    })
    .await;
    ids.into_iter().collect()
}

/// The stock of every product, in order; a failure is kept as its reason.
pub async fn read_back(api: &Api, products: &[Uuid]) -> Vec<Result<Stock, String>> {
    for_each_strided(products.len(), |i| {
        let (api, id) = (api.clone(), products[i]);
        async move { api.stock(id).await.map_err(|e| e.to_string()) }
    })
    .await
}

/// Runs `call(i)` for every `i` in `0..count` on a few tasks and returns the results in order.
async fn for_each_strided<T, F, Fut>(count: usize, call: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let workers = SETUP_WORKERS.min(count).max(1);
    let mut set = JoinSet::new();
    for w in 0..workers {
        let calls: Vec<_> = (w..count).step_by(workers).map(|i| (i, call(i))).collect();
        set.spawn(async move {
            let mut done = Vec::with_capacity(calls.len());
            for (i, fut) in calls {
                done.push((i, fut.await));
            }
            done
        });
    }
    let mut slots: Vec<Option<T>> = (0..count).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        // Nothing aborts these tasks, so a join error is a panic: pass it on rather than
        // return a list with holes in it.
        let done = joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        for (i, value) in done {
            slots[i] = Some(value);
        }
    }
    slots.into_iter().flatten().collect()
}
