//! The router over mocked ports: `api::router(state).oneshot(request)`, no database. Every
//! port is a mockall mock, so a port call a test did not expect fails it.

mod auth_and_ops;
mod checkout;
mod conditional_stock;
mod hostile_input;
mod malformed_input;
mod mocks;
mod orders;
mod reconciliation;
