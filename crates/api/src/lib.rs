//! The HTTP face of the checkout service: a thin axum layer over the application's use cases.
//!
//! A handler extracts, parses into domain types, calls one use case and maps the result; wire
//! types live in [`wire`], the one mapping of errors to RFC 9457 problems in `problem`, and
//! only `bootstrap` (the composition root) knows which database adapters run underneath.
//!
//! Public are only what the binary and the tests need: the [`router`] over an [`AppState`],
//! the [`cli`] settings, the [`wire`] types a client reads, the running [`Application`] and
//! [`run`], the binary's whole behaviour.

mod access;
mod bootstrap;
pub mod cli;
mod clients;
mod extract;
mod idempotency;
mod metrics;
mod middleware;
mod nats;
mod openapi;
mod pacing;
pub mod peers;
mod problem;
pub mod rate_limit;
mod reconcile;
mod relay;
pub mod router;
mod routes;
mod run;
pub mod state;
mod sweeper;
mod telemetry;
mod webhooks;
pub mod wire;

pub use bootstrap::{Application, BootError};
pub use router::router;
pub use run::run;
pub use state::{AppState, Readiness, Settings};
