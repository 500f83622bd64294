//! Record incoming stock: how many units of a product are on their way to a location, and when
//! the shop expects them (see [`domain::incoming`]). A later record replaces the earlier one;
//! deliveries to the location lessen it on their own.

use domain::incoming::Incoming;
use domain::ports::{BoxError, StoreError};
use domain::{LocationId, ProductId};

use crate::Ports;

/// Why the record was refused.
#[derive(Debug, thiserror::Error)]
pub enum RecordIncomingError {
    /// No such product.
    #[error("product {0} not found")]
    ProductNotFound(ProductId),
    /// No such location.
    #[error("location {0} not found")]
    LocationNotFound(LocationId),
    /// The store failed.
    #[error("the incoming stock could not be stored")]
    Unavailable(#[source] BoxError),
}

/// The record-incoming use case.
pub struct RecordIncoming {
    ports: Ports,
}

impl RecordIncoming {
    /// The use case over `ports`.
    #[must_use]
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    /// Records `incoming` as what is now on its way to its location; returns it.
    ///
    /// # Errors
    /// See [`RecordIncomingError`].
    #[tracing::instrument(skip_all, fields(product_id = %incoming.product_id))]
    pub async fn execute(&self, incoming: Incoming) -> Result<Incoming, RecordIncomingError> {
        match self.ports.stock.set_incoming(incoming, self.ports.clock.now()).await {
            Ok(()) => Ok(incoming),
            Err(StoreError::ProductNotFound(id)) => Err(RecordIncomingError::ProductNotFound(id)),
            Err(StoreError::LocationNotFound(id)) => Err(RecordIncomingError::LocationNotFound(id)),
            Err(err) => Err(RecordIncomingError::Unavailable(err.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::StockCount;

    use super::*;
    use crate::test_support::{Mocks, pid};

    #[tokio::test]
    async fn a_record_is_stored_and_a_missing_location_is_named() {
        let mut mocks = Mocks::new();
        mocks.stock.expect_set_incoming().returning(|incoming, _| {
            if incoming.location_id == LocationId::DEFAULT {
                Ok(())
            } else {
                Err(StoreError::LocationNotFound(incoming.location_id))
            }
        });
        let use_case = RecordIncoming::new(mocks.into_ports());
        let incoming = Incoming {
            product_id: pid(1),
            location_id: LocationId::DEFAULT,
            quantity: StockCount::new(12).expect("count"),
            expected_at: None,
        };
        assert_eq!(use_case.execute(incoming).await.expect("stored"), incoming);
        let elsewhere = LocationId::new(uuid::Uuid::from_u128(9)).expect("id");
        let refused = use_case.execute(Incoming { location_id: elsewhere, ..incoming }).await;
        assert!(
            matches!(refused, Err(RecordIncomingError::LocationNotFound(id)) if id == elsewhere)
        );
    }
}
