//! The HTTP face of the checkout service: a thin axum layer over the application's use cases.
//!
//! A handler extracts, parses into domain types, calls one use case and maps the result; wire
//! types live in [`wire`], the one mapping of errors to RFC 9457 problems in [`problem`], and
//! only [`bootstrap`] (the composition root) knows which database adapters run underneath.

pub mod bootstrap;
pub mod cli;
pub mod extract;
pub mod idempotency;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod problem;
pub mod reconcile;
pub mod router;
pub mod routes;
pub mod state;
pub mod sweeper;
pub mod telemetry;
pub mod wire;

pub use bootstrap::{Application, BootError};
pub use router::router;
pub use state::{AppState, Readiness, Settings};
