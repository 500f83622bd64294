//! What a checkout answers: the order it created, or why it refused the cart.

use domain::limits::LimitExceeded;
use domain::ports::BoxError;
use domain::{CartError, LocationId, Order, OrderError, ProductId, Shortage};

/// A successful checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedOut {
    /// The new order, `reserved` until paid, cancelled or expired.
    pub order: Order,
    /// Attempts it took (1 without contention); the HTTP layer counts retries from it.
    pub attempts: u32,
    /// Orders committed in the same transaction, this one included (1 without group commit).
    pub batch_orders: usize,
}

/// Why a checkout was refused.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// The cart is empty, too large, or asks too much of one product.
    #[error(transparent)]
    InvalidCart(#[from] CartError),
    /// Some products do not exist; all of them are listed, in id order.
    #[error("unknown products: {0:?}")]
    UnknownProducts(Vec<ProductId>),
    /// The checkout names locations that do not exist; all of them are listed, in the order
    /// given.
    #[error("unknown locations: {0:?}")]
    UnknownLocations(Vec<LocationId>),
    /// The cart cannot be priced (products in different currencies, or an absurd total).
    #[error("the cart cannot be priced")]
    Unpriceable(#[source] OrderError),
    /// Some products are short; every short product is listed, in id order, with the units
    /// for sale over its eligible locations together. Nothing was reserved.
    #[error("{} products are short", .0.len())]
    InsufficientStock(Vec<Shortage>),
    /// The cart breaks purchase limits: per order, or per customer counting what the customer
    /// already holds reserved or paid. Every broken limit is listed, in product-id order.
    /// Nothing was reserved.
    #[error("{} purchase limits would be exceeded", .0.len())]
    LimitExceeded(Vec<LimitExceeded>),
    /// The cart holds a product with a per-customer limit, and the checkout names no customer
    /// its caller vouches for (a client with `customers:assert`): the limit could be dodged by
    /// naming another customer, so the checkout is refused. `product_id` is one such product.
    #[error("product {product_id} has a per-customer limit: the customer must be asserted")]
    CustomerNotAsserted {
        /// A product of the cart with a per-customer limit.
        product_id: ProductId,
        /// Whether the caller may assert customers (then it only forgot to name one).
        may_assert: bool,
        /// Whether the caller presented no credential at all (else it is a client without
        /// `customers:assert`).
        anonymous: bool,
    },
    /// Concurrent checkouts kept winning the race for the same stock.
    #[error("the stock kept changing; gave up after {attempts} attempts")]
    Contended {
        /// Attempts made.
        attempts: u32,
    },
    /// The request's idempotency claim was taken over (it ran past the stale window, and a
    /// retry with the same key took the key): nothing was written for it; the request holding
    /// the key now answers for it.
    #[error("the idempotency key is now held by another request")]
    IdempotencyClaimLost,
    /// The checkout's deadline passed before its commit could be made: nothing was reserved,
    /// and a retry starts afresh.
    #[error("the checkout ran past its deadline; nothing was reserved")]
    TimedOut,
    /// Too many checkouts are already waiting for the same lane: refused at once, without
    /// touching the store, rather than queued past the caller's timeout. Retry shortly.
    #[error("too many checkouts are waiting; try again shortly")]
    Overloaded,
    /// The store failed. Not retried.
    #[error("the checkout could not be recorded")]
    Unavailable(#[source] BoxError),
}
