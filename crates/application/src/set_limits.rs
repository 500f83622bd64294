//! Set limits: change how many units of a product one order, and one customer, may hold, the
//! level at which it is running low (`stock.low`), and how many units it may owe to orders
//! (its backorder policy).
//!
//! The next checkout reads the new limits. A per-customer limit counts what customers already
//! hold (every asserted purchase is counted, limited or not; see [`domain::limits`]), so a
//! limit set during a sale applies at once to those who bought before it.

use domain::ports::BoxError;
use domain::{Product, ProductId, ProductPatch};

use crate::Ports;

/// Why the limits were not changed.
#[derive(Debug, thiserror::Error)]
pub enum SetLimitsError {
    /// No such product.
    #[error("product {0} not found")]
    NotFound(ProductId),
    /// The store failed.
    #[error("the limits could not be stored")]
    Unavailable(#[source] BoxError),
}

/// The set-limits use case.
pub struct SetLimits {
    ports: Ports,
}

impl SetLimits {
    /// The use case over `ports`.
    #[must_use]
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    /// Changes the settings `patch` names; returns the product as stored.
    ///
    /// # Errors
    /// See [`SetLimitsError`].
    #[tracing::instrument(skip_all, fields(product_id = %product_id))]
    pub async fn execute(
        &self,
        product_id: ProductId,
        patch: ProductPatch,
    ) -> Result<Product, SetLimitsError> {
        match self.ports.products.update(product_id, patch).await {
            Ok(Some(product)) => Ok(product),
            Ok(None) => Err(SetLimitsError::NotFound(product_id)),
            Err(err) => Err(SetLimitsError::Unavailable(err.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::limits::{LimitsPatch, PurchaseLimit};

    use super::*;
    use crate::test_support::{Mocks, pid, product};

    #[tokio::test]
    async fn the_patch_goes_to_the_store_and_an_unknown_product_is_not_found() {
        let two = PurchaseLimit::new(2).expect("limit");
        let limits = LimitsPatch { per_order: None, per_customer: Some(Some(two)) };
        let patch = ProductPatch { limits, low_stock_threshold: None, backorders: None };
        let mut mocks = Mocks::new();
        mocks.products.expect_update().returning(move |id, got| {
            Ok((id == pid(1))
                .then(|| Product { limits: got.limits.apply(product(1).limits), ..product(1) }))
        });
        let use_case = SetLimits::new(mocks.into_ports());

        let stored = use_case.execute(pid(1), patch).await.expect("stored");
        assert_eq!(stored.limits.per_customer, Some(two));
        let missing = use_case.execute(pid(2), patch).await.expect_err("unknown");
        assert!(matches!(missing, SetLimitsError::NotFound(id) if id == pid(2)));
    }
}
