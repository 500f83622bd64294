//! [`Api`]: a typed client of one running server. Helpers for the steps scenarios repeat
//! (create a product, read its stock, check out) return typed views and assert their success;
//! anything whose outcome is under test comes back as a raw [`Reply`].

use std::net::{IpAddr, SocketAddr};

use api::wire::{
    EventsPage, IssuedClientView, MovementView, MovementsPage, OrderView, ProductView,
    ReconciliationView, StockView,
};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use testkit::Backend;
use uuid::Uuid;

use crate::support::Reply;

/// The admin token of every test server.
pub const TOKEN: &str = "test-token";

/// A client of one server. Cloning is cheap (one connection pool).
#[derive(Clone)]
pub struct Api {
    pub backend: Backend,
    base: String,
    http: reqwest::Client,
}

/// `{"items": [{"product_id", "quantity"}…]}`.
pub fn cart(lines: &[(Uuid, i64)]) -> Value {
    let items: Vec<_> = lines
        .iter()
        .map(|(id, quantity)| json!({"product_id": id, "quantity": quantity}))
        .collect();
    json!({ "items": items })
}

impl Api {
    pub fn new(backend: Backend, addr: SocketAddr) -> Self {
        Self { backend, base: format!("http://{addr}"), http: reqwest::Client::new() }
    }

    /// A client of the same server whose connections come from `local` (any 127.x.y.z on
    /// Linux's loopback), for abuse limits counted per address.
    pub fn with_address(&self, local: IpAddr) -> Self {
        let http = reqwest::Client::builder().local_address(local).build().expect("a client");
        Self { http, ..self.clone() }
    }

    /// A request to `path` on this server.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    /// A request carrying the admin token.
    pub fn admin(&self, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(TOKEN)
    }

    /// A request carrying `credential` (an API key, or anything a test wants to present).
    pub fn with_key(&self, credential: &str, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(credential)
    }

    /// `POST /v1/clients` with the admin token: a client with `scopes`, and its key.
    pub async fn create_client(&self, name: &str, scopes: &[&str]) -> IssuedClientView {
        let body = json!({"name": name, "scopes": scopes});
        let reply = self.send(self.admin(Method::POST, "/v1/clients").json(&body)).await;
        assert_eq!(reply.status, 201, "create client {name}: {}", reply.text());
        reply.json()
    }

    /// `DELETE /v1/clients/{id}` with the admin token, which must answer 204.
    pub async fn revoke_client(&self, id: Uuid) {
        let reply = self.send(self.admin(Method::DELETE, &format!("/v1/clients/{id}"))).await;
        assert_eq!(reply.status, 204, "revoke {id}: {}", reply.text());
    }

    /// Sends and reads the whole answer.
    pub async fn send(&self, request: RequestBuilder) -> Reply {
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("a complete body").to_vec();
        Reply { status, headers, body }
    }

    /// Creates a product with `on_hand` units and returns its id.
    pub async fn create_product(&self, sku: &str, on_hand: i64) -> Uuid {
        let body = json!({
            "sku": sku,
            "name": format!("Product {sku}"),
            "price": {"amount": 1999, "currency": "EUR"},
            "initial_stock": on_hand,
        });
        let reply = self.send(self.admin(Method::POST, "/v1/products").json(&body)).await;
        assert_eq!(reply.status, 201, "create {sku}: {}", reply.text());
        reply.json::<ProductView>().id
    }

    /// The stock of `product` and its ETag.
    pub async fn stock_and_etag(&self, product: Uuid) -> (StockView, String) {
        let reply =
            self.send(self.request(Method::GET, &format!("/v1/products/{product}/stock"))).await;
        assert_eq!(reply.status, 200, "stock of {product}: {}", reply.text());
        let etag = reply.header("etag").expect("an ETag").to_owned();
        (reply.json(), etag)
    }

    /// The stock of `product`.
    pub async fn stock(&self, product: Uuid) -> StockView {
        self.stock_and_etag(product).await.0
    }

    /// `PUT …/stock` as an admin, with `If-Match: if_match` when given.
    pub async fn set_stock(&self, product: Uuid, if_match: Option<&str>, on_hand: i64) -> Reply {
        let mut request = self.admin(Method::PUT, &format!("/v1/products/{product}/stock"));
        if let Some(etag) = if_match {
            request = request.header("if-match", etag);
        }
        self.send(request.json(&json!({ "on_hand": on_hand }))).await
    }

    /// The ledger of `product`, newest first.
    pub async fn movements(&self, product: Uuid) -> Vec<MovementView> {
        let path = format!("/v1/products/{product}/stock/movements");
        let reply = self.send(self.admin(Method::GET, &path)).await;
        assert_eq!(reply.status, 200, "movements of {product}: {}", reply.text());
        reply.json::<MovementsPage>().items
    }

    /// `GET /v1/events?after=…&limit=…&wait=…` with the admin token, which must answer.
    pub async fn events(&self, after: i64, limit: u32, wait: u32) -> EventsPage {
        let path = format!("/v1/events?after={after}&limit={limit}&wait={wait}");
        let reply = self.send(self.admin(Method::GET, &path)).await;
        assert_eq!(reply.status, 200, "events after {after}: {}", reply.text());
        reply.json::<EventsPage>()
    }

    /// The whole event feed from the beginning, in pages of 1,000.
    pub async fn whole_feed(&self) -> Vec<api::wire::CloudEvent> {
        let (mut events, mut after) = (Vec::new(), 0);
        loop {
            let page = self.events(after, 1000, 0).await;
            if page.items.is_empty() {
                return events;
            }
            after = page.next;
            events.extend(page.items);
        }
    }

    /// `GET /metrics`, as text.
    pub async fn metrics(&self) -> String {
        self.send(self.request(Method::GET, "/metrics")).await.text()
    }

    /// `POST /v1/checkout` of `lines`.
    pub async fn checkout(&self, lines: &[(Uuid, i64)]) -> Reply {
        self.send(self.request(Method::POST, "/v1/checkout").json(&cart(lines))).await
    }

    /// `POST /v1/checkout` of `lines` with an `Idempotency-Key`.
    pub async fn checkout_with_key(&self, key: &str, lines: &[(Uuid, i64)]) -> Reply {
        let request = self.request(Method::POST, "/v1/checkout").header("idempotency-key", key);
        self.send(request.json(&cart(lines))).await
    }

    /// A checkout that must succeed; returns its order.
    pub async fn reserve(&self, lines: &[(Uuid, i64)]) -> OrderView {
        let reply = self.checkout(lines).await;
        assert_eq!(reply.status, 201, "checkout: {}", reply.text());
        reply.json()
    }

    /// `GET /v1/orders/{id}`, which must exist.
    pub async fn order(&self, id: Uuid) -> OrderView {
        let reply = self.send(self.request(Method::GET, &format!("/v1/orders/{id}"))).await;
        assert_eq!(reply.status, 200, "order {id}: {}", reply.text());
        reply.json()
    }

    /// `POST /v1/orders/{id}/pay`.
    pub async fn pay(&self, id: Uuid) -> Reply {
        self.send(self.admin(Method::POST, &format!("/v1/orders/{id}/pay"))).await
    }

    /// `GET /v1/admin/reconciliation`, which must answer.
    pub async fn reconciliation(&self) -> ReconciliationView {
        let reply = self.send(self.admin(Method::GET, "/v1/admin/reconciliation")).await;
        assert_eq!(reply.status, 200, "reconciliation: {}", reply.text());
        reply.json()
    }

    /// Asserts that reconciliation finds no drift, listing the problems when it does.
    pub async fn assert_no_drift(&self) {
        let report = self.reconciliation().await;
        let problems: Vec<_> = report.drift.iter().map(|d| &d.problems).collect();
        assert!(report.drift.is_empty(), "drift: {problems:?}");
    }

    /// `POST /v1/orders/{id}/cancel`.
    pub async fn cancel(&self, id: Uuid) -> Reply {
        self.send(self.admin(Method::POST, &format!("/v1/orders/{id}/cancel"))).await
    }
}
