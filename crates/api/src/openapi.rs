//! The OpenAPI 3.1 document, assembled from the handlers' annotations.

use utoipa::openapi::RefOr;
use utoipa::openapi::extensions::Extensions;
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

/// Marks every link that names a whole request body (a cart of the product just created) as
/// meaning exactly that body: `x-schemathesis: {"merge_body": false}`. Without it schemathesis
/// merges the link's cart into a generated one, whose other lines name products that do not
/// exist, and its stateful tests almost never get past checkout to the order.
pub fn links_replace_bodies(openapi: &mut utoipa::openapi::OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        let operations =
            [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            for response in operation.responses.responses.values_mut() {
                let RefOr::T(response) = response else { continue };
                for link in response.links.values_mut() {
                    let RefOr::T(link) = link else { continue };
                    if link.request_body.is_some() {
                        let extension = serde_json::json!({"merge_body": false});
                        link.extensions
                            .get_or_insert_with(Extensions::default)
                            .insert("x-schemathesis".into(), extension);
                    }
                }
            }
        }
    }
}
