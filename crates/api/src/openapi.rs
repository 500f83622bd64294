//! The OpenAPI 3.1 document, assembled from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document's frame; paths and schemas come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Checkout API",
        description = "A checkout that never oversells: stock checks, all-or-nothing reservations \
                       under optimistic concurrency, payment, cancellation and expiry. Errors are \
                       RFC 9457 application/problem+json.",
    ),
    modifiers(&AdminToken),
    tags(
        (name = "products", description = "The catalogue"),
        (name = "stock", description = "Stock, its conditional updates and its ledger"),
        (name = "checkout", description = "Availability and checkout"),
        (name = "orders", description = "Orders: read, pay, cancel"),
        (name = "admin", description = "Audits of the whole store"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

/// Declares the bearer token of the admin endpoints.
struct AdminToken;

impl Modify for AdminToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
