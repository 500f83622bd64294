//! Code another team might write on top of our ports: a "low stock" alert for a warehouse app.

use std::sync::Arc;

use domain::ports::{StockRepository, StoreError};
use domain::{ProductId, StockCount};

/// Products among `ids` whose available stock is at or below `threshold`, in the given order.
///
/// # Errors
/// Whatever the repository reports.
pub async fn low_stock(
    stock: Arc<dyn StockRepository>,
    ids: &[ProductId],
    threshold: StockCount,
) -> Result<Vec<ProductId>, StoreError> {
    let stocks = stock.get_many(ids).await?;
    Ok(ids
        .iter()
        .copied()
        .filter(|id| stocks.iter().any(|s| s.product_id() == *id && s.available() <= threshold))
        .collect())
}
