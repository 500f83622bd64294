//! The OpenAPI 3.1 document, assembled from the handlers' annotations.

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{Modify, OpenApi};

use domain::access::Scope;

use crate::problem::{PROBLEM_JSON, Problem};

/// The name of the bearer security scheme: an API client's key or the admin token.
pub const SCHEME: &str = "bearer";

/// The document's frame; paths and schemas come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Checkout API",
        description = "A checkout that never oversells: stock checks, all-or-nothing reservations \
                       under optimistic concurrency, payment, cancellation and expiry. Errors are \
                       RFC 9457 application/problem+json.",
    ),
    components(schemas(Problem)),
    modifiers(&BearerCredential, &ProblemBodies),
    tags(
        (name = "products", description = "The catalogue"),
        (name = "stock", description = "Stock, its conditional updates and its ledger"),
        (name = "checkout", description = "Availability and checkout"),
        (name = "orders", description = "Orders: read, pay, cancel"),
        (name = "admin", description = "Audits of the whole store"),
        (name = "clients", description = "API clients: who may call, with which scopes"),
        (name = "events", description = "The event feed: every change, in commit order"),
        (name = "webhooks", description = "Webhook subscriptions: events POSTed, signed, to your URL"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

/// Declares the bearer credential: an API client's key or the admin token. Each guarded
/// operation names the one scope it needs (see [`crate::access::scoped`]).
struct BearerCredential;

impl Modify for BearerCredential {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scopes: Vec<_> = Scope::ALL.iter().map(|s| format!("`{s}`")).collect();
        let description = format!(
            "An API client's key (`ck_…`, made with `checkout-api clients create` or \
             `POST /v1/clients`) or the admin token, which holds every scope. A guarded \
             operation names the scope it needs; scopes: {}. Without a credential: 401; with one \
             lacking the scope: 403 `insufficient-scope`.",
            scopes.join(", ")
        );
        let scheme =
            HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(description));
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(SCHEME, SecurityScheme::Http(scheme.build()));
    }
}

/// Gives every error response the one problem body: handlers declare an error by status and
/// description only (`(status = 409, description = "insufficient-stock …")`), and this says
/// once, for all of them, that its body is an RFC 9457 [`Problem`] as `application/problem+json`.
struct ProblemBodies;

impl Modify for ProblemBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for operation in operations(openapi) {
            for (status, response) in &mut operation.responses.responses {
                let RefOr::T(response) = response else { continue };
                let is_error = status.starts_with('4') || status.starts_with('5');
                if is_error && response.content.is_empty() {
                    let body = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem")));
                    response.content.insert(PROBLEM_JSON.into(), RefOr::T(body.build()));
                }
            }
        }
    }
}

/// Marks every link that names a whole request body (a cart of the product just created) as
/// meaning exactly that body: `x-schemathesis: {"merge_body": false}`. Without it schemathesis
/// merges the link's cart into a generated one, whose other lines name products that do not
/// exist, and its stateful tests almost never get past checkout to the order.
pub fn links_replace_bodies(openapi: &mut utoipa::openapi::OpenApi) {
    for operation in operations(openapi) {
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

/// Every operation of the document, whatever its method.
fn operations(openapi: &mut utoipa::openapi::OpenApi) -> impl Iterator<Item = &mut Operation> {
    openapi.paths.paths.values_mut().flat_map(operations_of)
}

/// Every operation of one path, whatever its method.
pub fn operations_of(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch]
        .into_iter()
        .flatten()
}
