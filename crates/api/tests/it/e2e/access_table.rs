//! Every route against every kind of credential: no credential, a wrong key, a revoked key, a
//! key without the route's scope, a key with it, and the admin token. The table below is the
//! contract's "Access" section written out; the test also checks that the served OpenAPI
//! document lists exactly these operations with exactly these scopes, so a new route cannot
//! be added without deciding (here) who may call it.

use std::collections::BTreeMap;

use api::wire::IssuedClientView;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use uuid::Uuid;

use super::client::{Api, cart};
use crate::support::Reply;

on_both_backends!(every_route_answers_each_credential_as_its_scope_says);

/// (method, path, the scope it needs or `None` when open, its answer to an allowed caller).
const ROUTES: [(&str, &str, Option<&str>, u16); 37] = [
    ("GET", "/healthz", None, 200),
    ("GET", "/readyz", None, 200),
    ("GET", "/metrics", None, 200),
    ("GET", "/v1/products", None, 200),
    ("POST", "/v1/products", Some("catalog:write"), 201),
    ("GET", "/v1/products/{id}", None, 200),
    ("PATCH", "/v1/products/{id}", Some("catalog:write"), 200),
    ("GET", "/v1/products/{id}/stock", None, 200),
    ("PUT", "/v1/products/{id}/stock", Some("stock:write"), 200),
    ("POST", "/v1/products/{id}/stock/adjustments", Some("stock:write"), 200),
    ("GET", "/v1/products/{id}/stock/movements", Some("stock:ledger"), 200),
    ("POST", "/v1/locations", Some("catalog:write"), 201),
    ("GET", "/v1/locations", None, 200),
    ("GET", "/v1/products/{id}/stock/locations/{location_id}", None, 200),
    ("PUT", "/v1/products/{id}/stock/locations/{location_id}", Some("stock:write"), 200),
    ("PUT", "/v1/products/{id}/stock/locations/{location_id}/incoming", Some("stock:write"), 200),
    ("GET", "/v1/products/{id}/incoming", None, 200),
    ("POST", "/v1/transfers", Some("stock:write"), 201),
    ("POST", "/v1/stock/bulk", Some("stock:write"), 200),
    ("POST", "/v1/stock/check", None, 200),
    ("POST", "/v1/checkout", None, 201),
    ("GET", "/v1/orders/{id}", None, 200),
    ("POST", "/v1/orders/{id}/pay", Some("orders:pay"), 200),
    ("POST", "/v1/orders/{id}/cancel", Some("orders:cancel"), 200),
    ("POST", "/v1/orders/{id}/extend", Some("orders:pay"), 200),
    ("GET", "/v1/admin/reconciliation", Some("admin:reconcile"), 200),
    ("GET", "/v1/events", Some("events:read"), 200),
    ("POST", "/v1/clients", Some("clients:manage"), 201),
    ("GET", "/v1/clients", Some("clients:manage"), 200),
    ("DELETE", "/v1/clients/{id}", Some("clients:manage"), 204),
    ("POST", "/v1/webhooks", Some("webhooks:manage"), 201),
    ("GET", "/v1/webhooks", Some("webhooks:manage"), 200),
    ("GET", "/v1/webhooks/{id}", Some("webhooks:manage"), 200),
    ("DELETE", "/v1/webhooks/{id}", Some("webhooks:manage"), 204),
    ("GET", "/v1/webhooks/{id}/deliveries", Some("webhooks:manage"), 200),
    ("POST", "/v1/webhooks/{id}/deliveries/retry", Some("webhooks:manage"), 200),
    // No failed delivery to re-drive: the allowed caller hears 409, past the guard.
    ("POST", "/v1/webhooks/{id}/deliveries/{delivery_id}/retry", Some("webhooks:manage"), 409),
];

/// Served outside the OpenAPI document, and open.
const DOCUMENT_ROUTES: [(&str, &str); 2] = [("GET", "/openapi.json"), ("GET", "/docs/")];

const SCOPES: [&str; 10] = [
    "catalog:write",
    "stock:write",
    "stock:ledger",
    "orders:pay",
    "orders:cancel",
    "customers:assert",
    "events:read",
    "webhooks:manage",
    "admin:reconcile",
    "clients:manage",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credential {
    Nothing,
    WrongKey,
    RevokedKey,
    KeyWithoutScope,
    KeyWithScope,
    AdminToken,
}

const CREDENTIALS: [Credential; 6] = [
    Credential::Nothing,
    Credential::WrongKey,
    Credential::RevokedKey,
    Credential::KeyWithoutScope,
    Credential::KeyWithScope,
    Credential::AdminToken,
];

/// What a caller presenting `credential` must get from a route needing `scope` that answers
/// `allowed` to whoever may call it.
fn expected(credential: Credential, scope: Option<&str>, allowed: u16) -> u16 {
    match (credential, scope) {
        (Credential::WrongKey | Credential::RevokedKey, _) => 401,
        (Credential::Nothing, Some(_)) => 401,
        (Credential::KeyWithoutScope, Some(_)) => 403,
        _ => allowed,
    }
}

/// The keys of the run: per scope one client with only it and one with every other scope; a
/// client with no scope (for open routes); a revoked client that had every scope.
struct Keys {
    only: BTreeMap<&'static str, String>,
    all_but: BTreeMap<&'static str, String>,
    none: String,
    revoked: String,
}

impl Keys {
    async fn issue(api: &Api) -> Self {
        let mut only = BTreeMap::new();
        let mut all_but = BTreeMap::new();
        for scope in SCOPES {
            only.insert(scope, api.create_client(&format!("only {scope}"), &[scope]).await.key);
            let others: Vec<_> = SCOPES.into_iter().filter(|s| *s != scope).collect();
            all_but.insert(scope, api.create_client(&format!("no {scope}"), &others).await.key);
        }
        let none = api.create_client("no scope", &[]).await.key;
        let doomed: IssuedClientView = api.create_client("revoked", &SCOPES).await;
        api.revoke_client(doomed.id).await;
        Self { only, all_but, none, revoked: doomed.key }
    }

    fn present(&self, credential: Credential, scope: Option<&str>) -> Option<String> {
        let scoped = |keys: &BTreeMap<&str, String>| {
            scope.map_or_else(|| self.none.clone(), |s| keys[s].clone())
        };
        match credential {
            Credential::Nothing => None,
            Credential::WrongKey => Some(format!("ck_{}", "0".repeat(64))),
            Credential::RevokedKey => Some(self.revoked.clone()),
            Credential::KeyWithoutScope => Some(scoped(&self.all_but)),
            Credential::KeyWithScope => Some(scoped(&self.only)),
            Credential::AdminToken => Some(super::client::TOKEN.to_owned()),
        }
    }
}

async fn every_route_answers_each_credential_as_its_scope_says(api: Api) {
    // Arrange
    let document: Value = api.send(api.request(Method::GET, "/openapi.json")).await.json();
    assert_eq!(declared(&document), table(), "the OpenAPI document and this table disagree");
    let keys = Keys::issue(&api).await;
    let product = api.create_product("ACCESS-TABLE", 1_000_000).await;
    let mut failures = Vec::new();
    let rows = ROUTES
        .iter()
        .copied()
        .chain(DOCUMENT_ROUTES.iter().map(|&(method, path)| (method, path, None, 200)));

    for (method, path, scope, allowed) in rows {
        for credential in CREDENTIALS {
            // Act
            let request = build(&api, method, path, product).await;
            let request = match keys.present(credential, scope) {
                Some(presented) => request.bearer_auth(presented),
                None => request,
            };
            let reply = api.send(request).await;

            // Assert (collected: one run shows every cell that is wrong)
            let want = expected(credential, scope, allowed);
            if let Err(why) = check(&reply, want, scope) {
                failures.push(format!("{method} {path} with {credential:?}: {why}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} cell(s) wrong:\n{}", failures.len(), failures.join("\n"));
}

/// The request of one cell: path parameters filled with things that exist (a fresh order for
/// each payment or cancellation, a fresh client for each revocation), a valid body.
async fn build(api: &Api, method: &str, path: &str, product: Uuid) -> RequestBuilder {
    let method: Method = method.parse().expect("a method");
    let concrete = if path.starts_with("/v1/orders/{id}") {
        path.replace("{id}", &api.reserve(&[(product, 1)]).await.id.to_string())
    } else if path.starts_with("/v1/clients/{id}") {
        path.replace("{id}", &api.create_client("to revoke", &[]).await.id.to_string())
    } else if path.starts_with("/v1/webhooks/{id}") {
        let made = api.admin(Method::POST, "/v1/webhooks").json(&webhook());
        let made: Value = api.send(made).await.json();
        let id = made["id"].as_str().expect("a webhook id").to_owned();
        path.replace("{id}", &id).replace("{delivery_id}", "1")
    } else {
        path.replace("{id}", &product.to_string()).replace("{location_id}", DEFAULT_LOCATION)
    };
    let request = api.request(method.clone(), &concrete);
    let body = match (method.as_str(), path) {
        ("POST", "/v1/products") => Some(json!({
            "sku": format!("T-{}", Uuid::new_v4().simple()), "name": "table",
            "price": {"amount": 100, "currency": "EUR"}, "initial_stock": 5,
        })),
        ("PUT", "/v1/products/{id}/stock/locations/{location_id}/incoming") => {
            Some(json!({"quantity": 12}))
        }
        ("PUT", _) => Some(json!({"on_hand": 1_000_000})),
        ("PATCH", "/v1/products/{id}") => Some(json!({"max_per_order": 1000})),
        ("POST", "/v1/stock/bulk") => Some(json!({"rows": [{"product_id": product, "delta": 1}]})),
        ("POST", "/v1/products/{id}/stock/adjustments") => Some(json!({"delta": 1})),
        ("POST", "/v1/stock/check" | "/v1/checkout") => Some(cart(&[(product, 1)])),
        ("POST", "/v1/clients") => Some(json!({"name": "made in the table", "scopes": []})),
        ("POST", "/v1/webhooks") => Some(webhook()),
        ("POST", "/v1/locations") => Some(location()),
        ("POST", "/v1/transfers") => {
            let made: Value =
                api.send(api.admin(Method::POST, "/v1/locations").json(&location())).await.json();
            Some(json!({
                "product_id": product, "from_location_id": DEFAULT_LOCATION,
                "to_location_id": made["id"], "quantity": 1,
            }))
        }
        _ => None,
    };
    let request = if method == Method::PUT { request.header("if-match", "*") } else { request };
    match body {
        Some(body) => request.json(&body),
        None => request,
    }
}

/// The default location's fixed id.
const DEFAULT_LOCATION: &str = "00000000-0000-0000-0000-000000000001";

/// A new location with a code of its own.
fn location() -> Value {
    json!({"code": format!("L-{}", Uuid::new_v4().simple()), "name": "table", "priority": 5})
}

/// A subscription no delivery will reach (nothing resolves here), to a public-looking URL.
fn webhook() -> Value {
    json!({"url": "https://hooks.example.com/table", "types": ["order.paid"]})
}

fn check(reply: &Reply, want: u16, scope: Option<&str>) -> Result<(), String> {
    let got = reply.status.as_u16();
    if got != want {
        return Err(format!("{got} instead of {want}: {}", reply.text()));
    }
    match want {
        401 => {
            let challenge = reply.header("www-authenticate").unwrap_or_default();
            if !challenge.starts_with("Bearer") {
                return Err(format!("401 without a Bearer challenge ({challenge:?})"));
            }
            expect_slug(reply, "unauthorized")
        }
        403 => {
            expect_slug(reply, "insufficient-scope")?;
            let required = reply.json::<Value>()["required_scope"].clone();
            if required != json!(scope) {
                return Err(format!("required_scope {required} instead of {scope:?}"));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn expect_slug(reply: &Reply, slug: &str) -> Result<(), String> {
    let got = reply.slug();
    if got == slug { Ok(()) } else { Err(format!("slug {got:?} instead of {slug:?}")) }
}

/// (METHOD path) → the scope this table says it needs.
fn table() -> BTreeMap<String, Option<String>> {
    ROUTES
        .iter()
        .map(|(method, path, scope, _)| (format!("{method} {path}"), scope.map(str::to_owned)))
        .collect()
}

/// (METHOD path) → the scope the document's security requirement names.
fn declared(document: &Value) -> BTreeMap<String, Option<String>> {
    let mut found = BTreeMap::new();
    let paths = document["paths"].as_object().expect("paths");
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("a path item") {
            let scope = operation["security"][0]["bearer"][0].as_str().map(str::to_owned);
            found.insert(format!("{} {path}", method.to_uppercase()), scope);
        }
    }
    found
}
