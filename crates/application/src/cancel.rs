//! Cancel: the customer gave up before paying, so the order's reserved units go back on sale.

use domain::access::Actor;
use domain::ports::BoxError;
use domain::{Order, OrderId, OrderStatus, ProductStock, TransitionError};

use crate::settle::{SettleError, settle};
use crate::{Ports, RetryPolicy};

/// Cancel an unpaid order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelCommand {
    /// The order to cancel.
    pub order_id: OrderId,
    /// Who asks (the payment service's client, the admin token): on record in the order and
    /// its ledger entries.
    pub actor: Actor,
}

/// Why an order could not be cancelled.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    /// No such order.
    #[error("order {0} not found")]
    NotFound(OrderId),
    /// The order is paid (or already expired).
    #[error("an order that is {status} cannot be cancelled")]
    NotCancellable {
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
    #[error("the cancellation could not be recorded")]
    Unavailable(#[source] BoxError),
}

impl From<SettleError> for CancelError {
    fn from(err: SettleError) -> Self {
        match err {
            SettleError::NotFound(id) => Self::NotFound(id),
            SettleError::Refused(TransitionError::NotCancellable { status }) => {
                Self::NotCancellable { status }
            }
            SettleError::Contended { attempts } => Self::Contended { attempts },
            other => Self::Unavailable(other.into()),
        }
    }
}

/// The cancel use case. Cancelling an already cancelled order returns it unchanged.
pub struct Cancel {
    ports: Ports,
    retry: RetryPolicy,
}

impl Cancel {
    /// The use case over `ports`, retrying lost races as `retry` says.
    #[must_use]
    pub fn new(ports: Ports, retry: RetryPolicy) -> Self {
        Self { ports, retry }
    }

    /// Marks the order cancelled and releases exactly the units it reserved, atomically.
    ///
    /// # Errors
    /// See [`CancelError`].
    #[tracing::instrument(skip(self), fields(order_id = %command.order_id))]
    pub async fn execute(&self, command: CancelCommand) -> Result<Order, CancelError> {
        settle(
            &self.ports,
            &self.retry,
            command.order_id,
            command.actor,
            Order::cancel,
            ProductStock::release,
        )
        .await
        .map_err(CancelError::from)
    }
}

#[cfg(test)]
mod tests;
