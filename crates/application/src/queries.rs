//! Read-side queries: products with their stock, a stock's ledger, an order as a reader should
//! see it. They decide nothing, so they share one module and one error instead of one each.

use domain::incoming::Incoming;
use domain::ports::{BoxError, StoreError};
use domain::{
    Location, LocationId, Order, OrderId, OrderStatus, Product, ProductId, ProductStock,
    StockMovement, StockTotals,
};

use crate::Ports;

/// Why a query could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// No such product.
    #[error("product {0} not found")]
    ProductNotFound(ProductId),
    /// The product has no stock at this location (or there is no such location).
    #[error("product {0} has no stock at location {1}")]
    StockNotFound(ProductId, LocationId),
    /// No such order.
    #[error("order {0} not found")]
    OrderNotFound(OrderId),
    /// The store failed.
    #[error("the store is unavailable")]
    Unavailable(#[source] BoxError),
}

impl From<StoreError> for QueryError {
    fn from(err: StoreError) -> Self {
        Self::Unavailable(err.into())
    }
}

/// A product with its current stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductWithStock {
    /// The product.
    pub product: Product,
    /// Its stock over all locations, with each location's row.
    pub stock: StockTotals,
}

/// One page of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPage {
    /// The products, in id order.
    pub items: Vec<ProductWithStock>,
    /// The id to pass as `after` for the next page; `None` on the last page.
    pub next: Option<ProductId>,
}

/// An order with the status a reader should see now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    /// The order as stored.
    pub order: Order,
    /// Its effective status: a reservation past `expires_at` reads as `expired` even before
    /// the sweeper has released it.
    pub status: OrderStatus,
}

/// The read-side queries.
pub struct Queries {
    ports: Ports,
}

impl Queries {
    /// The queries over `ports`.
    #[must_use]
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    /// One product with its stock.
    ///
    /// # Errors
    /// [`QueryError::ProductNotFound`], [`QueryError::Unavailable`].
    #[tracing::instrument(skip_all, fields(product_id = %id))]
    pub async fn product(&self, id: ProductId) -> Result<ProductWithStock, QueryError> {
        let product = self.ports.products.get(id).await?.ok_or(QueryError::ProductNotFound(id))?;
        let stock = self.stock(id).await?;
        Ok(ProductWithStock { product, stock })
    }

    /// Up to `limit` products after `after`, in id order, with their stock.
    ///
    /// # Errors
    /// [`QueryError::Unavailable`].
    #[tracing::instrument(skip(self))]
    pub async fn products(
        &self,
        after: Option<ProductId>,
        limit: u32,
    ) -> Result<ProductPage, QueryError> {
        // One more than asked tells whether a next page exists without a count query.
        let mut products = self.ports.products.list(after, limit.saturating_add(1)).await?;
        let more = products.len() > limit as usize;
        products.truncate(limit as usize);
        let ids: Vec<_> = products.iter().map(|p| p.id).collect();
        let mut stocks = StockTotals::per_product(self.ports.stock.get_many(&ids).await?);
        let items = products
            .into_iter()
            .filter_map(|product| {
                let at = stocks.iter().position(|s| s.product_id() == product.id)?;
                Some(ProductWithStock { product, stock: stocks.swap_remove(at) })
            })
            .collect::<Vec<_>>();
        let next = if more { items.last().map(|i| i.product.id) } else { None };
        Ok(ProductPage { items, next })
    }

    /// One product's stock, over all its locations.
    ///
    /// # Errors
    /// [`QueryError::ProductNotFound`], [`QueryError::Unavailable`].
    #[tracing::instrument(skip_all, fields(product_id = %id))]
    pub async fn stock(&self, id: ProductId) -> Result<StockTotals, QueryError> {
        StockTotals::new(self.ports.stock.get_many(&[id]).await?)
            .ok_or(QueryError::ProductNotFound(id))
    }

    /// One product's stock at one location.
    ///
    /// # Errors
    /// [`QueryError::ProductNotFound`] for an unknown product, [`QueryError::StockNotFound`]
    /// when it has no stock there, [`QueryError::Unavailable`].
    #[tracing::instrument(skip_all, fields(product_id = %id, location_id = %location))]
    pub async fn stock_at(
        &self,
        id: ProductId,
        location: LocationId,
    ) -> Result<ProductStock, QueryError> {
        if let Some(stock) = self.ports.stock.get(id, location).await? {
            return Ok(stock);
        }
        self.stock(id).await?;
        Err(QueryError::StockNotFound(id, location))
    }

    /// What is on its way of one product, per location, in location-id order.
    ///
    /// # Errors
    /// [`QueryError::ProductNotFound`], [`QueryError::Unavailable`].
    #[tracing::instrument(skip_all, fields(product_id = %id))]
    pub async fn incoming(&self, id: ProductId) -> Result<Vec<Incoming>, QueryError> {
        let incoming = self.ports.stock.incoming(id).await?;
        if incoming.is_empty() {
            // Nothing recorded, or no such product: tell them apart.
            self.stock(id).await?;
        }
        Ok(incoming)
    }

    /// Every location, by priority.
    ///
    /// # Errors
    /// [`QueryError::Unavailable`].
    #[tracing::instrument(skip_all)]
    pub async fn locations(&self) -> Result<Vec<Location>, QueryError> {
        Ok(self.ports.locations.list().await?)
    }

    /// One product's ledger, newest first, at most `limit` entries.
    ///
    /// # Errors
    /// [`QueryError::ProductNotFound`], [`QueryError::Unavailable`].
    #[tracing::instrument(skip_all, fields(product_id = %id))]
    pub async fn movements(
        &self,
        id: ProductId,
        limit: u32,
    ) -> Result<Vec<StockMovement>, QueryError> {
        self.stock(id).await?;
        Ok(self.ports.stock.movements(id, limit).await?)
    }

    /// One order, with its effective status.
    ///
    /// # Errors
    /// [`QueryError::OrderNotFound`], [`QueryError::Unavailable`].
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn order(&self, id: OrderId) -> Result<OrderView, QueryError> {
        let order = self.ports.orders.get(id).await?.ok_or(QueryError::OrderNotFound(id))?;
        let status = order.status_at(self.ports.clock.now());
        Ok(OrderView { order, status })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::test_support::{Mocks, clock_at, oid, pid, product, reserved_order, stock, t0};

    #[tokio::test]
    async fn a_page_reports_the_next_cursor_only_when_more_remain() {
        let mut mocks = Mocks::new();
        mocks
            .products
            .expect_list()
            .withf(|after, limit| after.is_none() && *limit == 3)
            .returning(|_, _| Ok(vec![product(1), product(2), product(3)]));
        mocks.stock.expect_get_many().returning(|ids| {
            Ok(ids.iter().map(|id| stock(id.as_uuid().as_u128(), 5, 0, 1)).collect())
        });
        let page = Queries::new(mocks.into_ports()).products(None, 2).await.expect("page");
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.next, Some(pid(2)));
    }

    #[tokio::test]
    async fn a_reservation_past_its_expiry_reads_as_expired() {
        let mut mocks = Mocks::new();
        mocks.clock = clock_at(t0() + TimeDelta::minutes(16), 0);
        mocks.orders.expect_get().returning(|_| Ok(Some(reserved_order(&[(1, 1)]))));
        let view = Queries::new(mocks.into_ports()).order(oid(1)).await.expect("order");
        assert_eq!(view.status, OrderStatus::Expired);
        assert_eq!(view.order.record().status, OrderStatus::Reserved, "not yet swept");
    }

    #[tokio::test]
    async fn the_ledger_of_an_unknown_product_is_not_found() {
        let mut mocks = Mocks::new();
        mocks.stock.expect_get_many().returning(|_| Ok(Vec::new()));
        mocks.stock.expect_movements().times(0);
        let err = Queries::new(mocks.into_ports()).movements(pid(9), 10).await.expect_err("404");
        assert!(matches!(err, QueryError::ProductNotFound(id) if id == pid(9)));
    }
}
