//! The real server over a real database, driven through HTTP. Each scenario is an
//! `async fn(Api)` written once; [`on_both_backends!`] runs it on SQLite and PostgreSQL.

#[macro_use]
mod harness;
mod client;

mod access;
mod access_table;
mod adjustments;
mod backorders;
mod bulk;
mod carts;
mod catalogue;
mod crash;
mod events;
mod exactly_once;
mod expiry;
mod expiry_backlog;
mod fault_proxy;
mod faults;
mod flash_sale;
mod holds;
mod idempotency;
mod if_match;
mod limits;
mod locations;
mod malformed_input;
mod nats;
mod operations;
mod order_lifecycle;
mod overload;
mod pagination;
mod pooler;
mod processes;
mod reconciliation;
mod replica;
mod routing;
mod stock_views;
mod webhook_receiver;
mod webhooks;
