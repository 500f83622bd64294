//! Pay: payment was confirmed, so the order's reserved units are sold (they leave the shelf).

use domain::access::Actor;
use domain::ports::BoxError;
use domain::{Order, OrderId, OrderStatus, ProductStock, TransitionError};

use crate::settle::{SettleError, settle};
use crate::{Ports, RetryPolicy};

/// Confirm payment of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayCommand {
    /// The order paid for.
    pub order_id: OrderId,
    /// Who asks (the payment service's client, the admin token): on record in the order and
    /// its ledger entries.
    pub actor: Actor,
}

/// Why a payment could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum PayError {
    /// No such order.
    #[error("order {0} not found")]
    NotFound(OrderId),
    /// The order is cancelled or expired (its stock is back on sale).
    #[error("an order that is {status} cannot be paid")]
    NotPayable {
        /// Its effective status.
        status: OrderStatus,
    },
    /// Concurrent writers kept winning.
    #[error("the order kept changing; gave up after {attempts} attempts")]
    Contended {
        /// Attempts made.
        attempts: u32,
    },
    /// The store failed or holds inconsistent data.
    #[error("payment could not be recorded")]
    Unavailable(#[source] BoxError),
}

impl From<SettleError> for PayError {
    fn from(err: SettleError) -> Self {
        match err {
            SettleError::NotFound(id) => Self::NotFound(id),
            SettleError::Refused(TransitionError::NotPayable { status }) => {
                Self::NotPayable { status }
            }
            SettleError::Contended { attempts } => Self::Contended { attempts },
            other => Self::Unavailable(other.into()),
        }
    }
}

/// The pay use case. Paying an already paid order returns it unchanged.
pub struct Pay {
    ports: Ports,
    retry: RetryPolicy,
}

impl Pay {
    /// The use case over `ports`, retrying lost races as `retry` says.
    #[must_use]
    pub fn new(ports: Ports, retry: RetryPolicy) -> Self {
        Self { ports, retry }
    }

    /// Marks the order paid and sells its reserved units, atomically.
    ///
    /// # Errors
    /// See [`PayError`].
    #[tracing::instrument(skip(self), fields(order_id = %command.order_id))]
    pub async fn execute(&self, command: PayCommand) -> Result<Order, PayError> {
        settle(
            &self.ports,
            &self.retry,
            command.order_id,
            command.actor,
            Order::pay,
            ProductStock::sell,
        )
        .await
        .map_err(PayError::from)
    }
}

#[cfg(test)]
mod tests;
