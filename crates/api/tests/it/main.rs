//! The one integration-test binary of the `api` crate.
//!
//! - [`router`]: the HTTP surface over mocked ports, driven with `oneshot` (no database, no
//!   socket): status mapping, problem bodies, authentication, conditional requests.
//! - [`e2e`]: the real server (`Application::build` on `127.0.0.1:0`) driven with reqwest, each
//!   scenario written once and run on SQLite and, when `TEST_POSTGRES_URL` names a server, on
//!   PostgreSQL.
//! - [`support`]: what both share: the answer type and the table of malformed requests.

mod e2e;
mod router;
mod support;
