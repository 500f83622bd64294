//! Create product: add a product to the catalogue with its initial stock.

use domain::access::Actor;
use domain::backorder::BackorderPolicy;
use domain::limits::PurchaseLimits;
use domain::ports::{BoxError, StoreError};
use domain::{Money, Product, ProductName, ProductStock, Sku, StockCount};

use crate::Ports;

/// Create a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateProductCommand {
    /// The shop's code, unique in the catalogue.
    pub sku: Sku,
    /// The display name.
    pub name: ProductName,
    /// The unit price.
    pub price: Money,
    /// Units on the shelf from the start.
    pub initial_stock: StockCount,
    /// How many units one order, and one customer, may hold.
    pub limits: PurchaseLimits,
    /// At or below this many available units, a change is followed by `stock.low`.
    pub low_stock_threshold: Option<StockCount>,
    /// Whether it may be sold beyond stock (preorders), and how far.
    pub backorders: BackorderPolicy,
    /// Who creates it, on record in the initial stock's ledger entry.
    pub actor: Actor,
}

/// Why the product was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateProductError {
    /// Another product has this SKU.
    #[error("a product with SKU {0} already exists")]
    DuplicateSku(Sku),
    /// The store failed.
    #[error("the product could not be stored")]
    Unavailable(#[source] BoxError),
}

/// The create-product use case.
pub struct CreateProduct {
    ports: Ports,
}

impl CreateProduct {
    /// The use case over `ports`.
    #[must_use]
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    /// Stores the product, its stock at version 1 and a `restock` ledger entry, atomically.
    ///
    /// # Errors
    /// See [`CreateProductError`].
    #[tracing::instrument(skip_all, fields(sku = %command.sku))]
    pub async fn execute(
        &self,
        command: CreateProductCommand,
    ) -> Result<(Product, ProductStock), CreateProductError> {
        let product = Product {
            id: self.ports.ids.product_id(),
            sku: command.sku,
            name: command.name,
            price: command.price,
            limits: command.limits,
            low_stock_threshold: command.low_stock_threshold,
            backorders: command.backorders,
            backordered: StockCount::ZERO,
            created_at: self.ports.clock.now(),
        };
        let stock = ProductStock::new(product.id, command.initial_stock);
        match self.ports.products.create(product.clone(), stock, command.actor).await {
            Ok(()) => Ok((product, stock)),
            Err(StoreError::DuplicateSku(sku)) => Err(CreateProductError::DuplicateSku(sku)),
            Err(err) => Err(CreateProductError::Unavailable(err.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Mocks, count, eur, pid};

    fn command() -> CreateProductCommand {
        CreateProductCommand {
            sku: Sku::new("KAOS-1").expect("sku"),
            name: ProductName::new("Kaos").expect("name"),
            price: eur(1999),
            initial_stock: count(50),
            limits: PurchaseLimits::default(),
            low_stock_threshold: None,
            backorders: BackorderPolicy::Deny,
            actor: Actor::Admin,
        }
    }

    #[tokio::test]
    async fn a_new_product_starts_with_its_stock_at_version_one() {
        let mut mocks = Mocks::new();
        mocks.ids.expect_product_id().return_const(pid(42));
        mocks
            .products
            .expect_create()
            .withf(|p, s, _| p.id == pid(42) && s.on_hand() == count(50) && s.version().get() == 1)
            .times(1)
            .returning(|_, _, _| Ok(()));
        let (product, stock) =
            CreateProduct::new(mocks.into_ports()).execute(command()).await.expect("created");
        assert_eq!((product.id, stock.available()), (pid(42), count(50)));
    }

    #[tokio::test]
    async fn a_taken_sku_is_refused() {
        let mut mocks = Mocks::new();
        mocks.ids.expect_product_id().return_const(pid(42));
        mocks.products.expect_create().returning(|p, _, _| Err(StoreError::DuplicateSku(p.sku)));
        let err = CreateProduct::new(mocks.into_ports()).execute(command()).await.expect_err("dup");
        assert!(matches!(err, CreateProductError::DuplicateSku(_)));
    }
}
