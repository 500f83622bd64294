//! The checkout use cases: one module per use case, each with its own command, result and
//! error, written against the domain's ports only.
//!
//! This crate decides *what happens* (check, reserve, commit, retry on conflict); the domain
//! decides *what is allowed* (the stock invariant, the order status machine); adapters decide
//! *how it is stored*. It never names a database, an HTTP type or an async runtime: waiting
//! between retries goes through the [`domain::ports::Clock`] port.
#![warn(missing_docs)]

pub mod access;
pub mod adjust_stock;
pub mod availability;
pub mod bulk_stock;
pub mod cancel;
mod cart;
pub mod checkout;
pub mod create_product;
pub mod events;
pub mod expire;
pub mod extend;
mod fill;
pub mod idempotency;
pub mod incoming;
pub mod leadership;
pub mod locations;
pub mod pay;
mod ports;
pub mod queries;
pub mod reconcile;
pub mod relay;
mod retry;
pub mod set_limits;
pub mod set_stock;
mod settle;
pub mod transfer;
pub mod webhook_relay;
pub mod webhooks;

pub use cart::CartLine;
pub use ports::Ports;
pub use retry::RetryPolicy;
pub use settle::SettleError;

#[cfg(test)]
mod test_support;
