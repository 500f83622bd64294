//! The order status machine: `reserved -> paid | cancelled | expired`, and its refusals.

use crate::Timestamp;

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Stock is held; payment is awaited until `expires_at`.
    Reserved,
    /// Paid: the held stock was sold.
    Paid,
    /// Cancelled before payment: the held stock was released.
    Cancelled,
    /// Not paid in time: the held stock was released.
    Expired,
}

impl OrderStatus {
    /// Every status, in declaration order.
    pub const ALL: [Self; 4] = [Self::Reserved, Self::Paid, Self::Cancelled, Self::Expired];

    /// The stable lower-case name used in storage and on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reserved => "reserved",
            Self::Paid => "paid",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    /// The status named by [`OrderStatus::as_str`], if any.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A transition the status machine refuses. `status` is the order's effective status at the
/// time of the attempt (an unpaid order past its expiry counts as expired).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// Only a reserved order within its lifetime can be paid.
    #[error("an order that is {status} cannot be paid")]
    NotPayable {
        /// The order's effective status.
        status: OrderStatus,
    },
    /// Only a reserved order can be cancelled.
    #[error("an order that is {status} cannot be cancelled")]
    NotCancellable {
        /// The order's effective status.
        status: OrderStatus,
    },
    /// Only a reserved order can expire.
    #[error("an order that is {status} cannot expire")]
    NotExpirable {
        /// The order's stored status.
        status: OrderStatus,
    },
    /// Only a reserved order within its lifetime can be held longer, and only up to its
    /// maximum hold.
    #[error("an order that is {status} cannot be held longer (held until {expires_at})")]
    NotExtendable {
        /// The order's effective status.
        status: OrderStatus,
        /// When it runs out now.
        expires_at: Timestamp,
    },
    /// The order's lifetime has not run out yet.
    #[error("the reservation lasts until {expires_at}")]
    NotDue {
        /// When it will be due.
        expires_at: Timestamp,
    },
}
