//! Access: who may do what. An [`ApiClient`] is a calling system (the payment service, a
//! warehouse, an ERP) with its own secret key and only the [`Scope`]s it needs; every change
//! the service writes names its [`Actor`].
//!
//! ```
//! use domain::access::{Actor, Scope, Scopes};
//!
//! let payments: Scopes = "orders:pay orders:cancel".parse()?;
//! assert!(payments.contains(Scope::OrdersPay));
//! assert!(!payments.contains(Scope::StockWrite));
//! assert_eq!(payments.to_string(), "orders:pay orders:cancel");
//! assert!(Scopes::ALL.contains(Scope::ClientsManage));
//!
//! assert_eq!(Actor::parse("admin"), Some(Actor::Admin));
//! assert_eq!(Actor::Anonymous.to_string(), "anonymous");
//! # Ok::<(), domain::access::UnknownScopes>(())
//! ```

mod client;
mod scope;

pub use client::{Actor, ApiClient, ClientName, ClientNameError};
pub use scope::{Scope, Scopes, UnknownScopes};
