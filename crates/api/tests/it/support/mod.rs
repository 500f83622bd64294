//! Shared by the router and end-to-end tests.

pub mod malformed;
pub mod reply;

pub use reply::Reply;
