//! The few calls the generator makes to checkout-api.
//!
//! Requests go to the base URLs given on the command line, in turn (several server processes
//! over one database share the load that way): redirects are not followed and proxies are
//! ignored, and only loopback hosts are accepted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::{Client, Response, StatusCode, Url};
use serde_json::json;
use uuid::Uuid;

use crate::answer::{self, Created, Order, Outcome, Stock};

/// A setup or read call that did not give the expected answer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0} is not a loopback http(s) URL; the generator only drives a local server")]
    NotLoopback(String),
    #[error("{path}: {source}")]
    Transport { path: String, source: reqwest::Error },
    #[error("{path} answered {status}: {body}")]
    Status { path: String, status: StatusCode, body: String },
}

/// A keep-alive HTTP/1.1 client of one server, or of several taken in turn.
#[derive(Debug, Clone)]
pub struct Api {
    http: Client,
    /// Never empty.
    bases: Arc<[Url]>,
    /// The request count, which picks the next base.
    turn: Arc<AtomicUsize>,
    credentials: Credentials,
    /// With `--follow-owner`: the server each product's answers named as its owner.
    owners: Option<Arc<Mutex<HashMap<Uuid, Url>>>>,
}

/// What the load generator authenticates with.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// The admin token: creates products, and pays and cancels when there is no API key.
    pub admin_token: Option<String>,
    /// An API client's key for paying and cancelling.
    pub api_key: Option<String>,
    /// Send the API key on checkouts too.
    pub key_on_checkout: bool,
}

impl Credentials {
    /// Who pays and cancels: the API key, else the admin token.
    fn settler(&self) -> Option<&str> {
        self.api_key.as_deref().or(self.admin_token.as_deref())
    }

    /// Who checks out: the API key when asked to, else nobody.
    fn buyer(&self) -> Option<&str> {
        self.api_key.as_deref().filter(|_| self.key_on_checkout)
    }
}

impl Api {
    /// A client for `base_urls` (at least one), taken in turn, with room for `connections` idle
    /// keep-alive connections to each.
    ///
    /// # Errors
    /// When a URL is not an http(s) URL of a loopback host, or the client cannot be built.
    pub fn new(
        base_urls: &[String],
        credentials: Credentials,
        connections: usize,
        timeout: Duration,
    ) -> Result<Self, ApiError> {
        let bases = base_urls
            .iter()
            .map(|base_url| {
                let not_loopback = || ApiError::NotLoopback(base_url.clone());
                let base = Url::parse(base_url).map_err(|_| not_loopback())?;
                if is_local(&base) { Ok(base) } else { Err(not_loopback()) }
            })
            .collect::<Result<Arc<[Url]>, _>>()?;
        if bases.is_empty() {
            return Err(ApiError::NotLoopback(String::new()));
        }
        let http = Client::builder()
            .http1_only()
            .pool_max_idle_per_host(connections)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .tcp_nodelay(true)
            .timeout(timeout)
            .build()
            .map_err(|source| ApiError::Transport { path: base_urls.join(","), source })?;
        Ok(Self { http, bases, turn: Arc::default(), credentials, owners: None })
    }

    /// The same client, sending each product's checkouts to the server its answers name as
    /// its owner (`Checkout-Owner`), once one has.
    #[must_use]
    pub fn following_owners(mut self) -> Self {
        self.owners = Some(Arc::default());
        self
    }

    /// The checkout URL for a cart led by `lead`: its owner's when known, else the next
    /// server's in turn.
    fn checkout_url(&self, lead: Option<Uuid>) -> Url {
        let owners = self.owners.as_ref().zip(lead);
        let owner = owners.and_then(|(owners, lead)| {
            owners.lock().unwrap_or_else(PoisonError::into_inner).get(&lead).cloned()
        });
        match owner {
            Some(base) => base.join("/v1/checkout").unwrap_or(base),
            None => self.url("/v1/checkout"),
        }
    }

    /// Remembers the owner an answer named for `lead` in `owner`, when it is one of this
    /// client's servers; forgets it when it is not.
    fn learn(&self, lead: Option<Uuid>, owner: Option<&reqwest::header::HeaderValue>) {
        let (Some(owners), Some(lead), Some(owner)) = (&self.owners, lead, owner) else { return };
        let named = (owner.to_str().ok().and_then(|value| Url::parse(value).ok()))
            .filter(|url| self.bases.contains(url));
        let mut owners = owners.lock().unwrap_or_else(PoisonError::into_inner);
        match named {
            Some(url) => owners.insert(lead, url),
            None => owners.remove(&lead),
        };
    }

    /// Forgets `lead`'s owner (it could not be reached): its checkouts take turns again until
    /// an answer names one.
    fn forget(&self, lead: Option<Uuid>) {
        if let (Some(owners), Some(lead)) = (&self.owners, lead) {
            owners.lock().unwrap_or_else(PoisonError::into_inner).remove(&lead);
        }
    }

    /// `path` on the next server in turn.
    fn url(&self, path: &str) -> Url {
        let base = &self.bases[self.turn.fetch_add(1, Ordering::Relaxed) % self.bases.len()];
        // Paths are ours and absolute, so joining cannot leave the base's host.
        base.join(path).unwrap_or_else(|_| base.clone())
    }

    /// Creates a product with `initial_stock` units and returns its id.
    ///
    /// # Errors
    /// Anything but a 201.
    pub async fn create_product(&self, sku: &str, initial_stock: u64) -> Result<Uuid, ApiError> {
        let body = json!({"sku": sku, "name": format!("load test {sku}"),
            "price": {"amount": 1000, "currency": "IDR"}, "initial_stock": initial_stock});
        let mut request = self.http.post(self.url("/v1/products")).json(&body);
        if let Some(token) = &self.credentials.admin_token {
            request = request.bearer_auth(token);
        }
        let answer = expect(request.send().await, "/v1/products", StatusCode::CREATED).await?;
        let created: Created = read_json(answer, "/v1/products").await?;
        Ok(created.id)
    }

    /// One checkout of `lines` (product, quantity), under the Idempotency-Key `key` if any: the
    /// order when it was won.
    pub async fn checkout(
        &self,
        lines: &[(Uuid, u32)],
        key: Option<&str>,
    ) -> (Outcome, Option<Order>) {
        let items: Vec<_> =
            lines.iter().map(|(id, q)| json!({"product_id": id, "quantity": q})).collect();
        // The cart's lead product, as the servers route it: its smallest product id.
        let lead = lines.iter().map(|(id, _)| *id).min();
        let mut request = self.http.post(self.checkout_url(lead)).json(&json!({"items": items}));
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        if let Some(credential) = self.credentials.buyer() {
            request = request.bearer_auth(credential);
        }
        let sent = request.send();
        let Ok(answer) = sent.await else {
            self.forget(lead);
            return (Outcome::Transport, None);
        };
        self.learn(lead, answer.headers().get("checkout-owner"));
        if answer.status() != StatusCode::CREATED {
            return (classify(answer).await, None);
        }
        match answer.bytes().await {
            Ok(body) => match serde_json::from_slice::<Order>(&body) {
                Ok(order) => (Outcome::Ok, Some(order)),
                Err(_) => (Outcome::Other, None),
            },
            Err(_) => (Outcome::Transport, None),
        }
    }

    /// Pays (`"pay"`) or cancels (`"cancel"`) an order.
    pub async fn settle(&self, order: Uuid, action: &str) -> Outcome {
        let url = self.url(&format!("/v1/orders/{order}/{action}"));
        let mut request = self.http.post(url);
        if let Some(credential) = self.credentials.settler() {
            request = request.bearer_auth(credential);
        }
        match request.send().await {
            Ok(answer) if answer.status() == StatusCode::OK => match answer.bytes().await {
                Ok(_) => Outcome::Ok,
                Err(_) => Outcome::Transport,
            },
            Ok(answer) => classify(answer).await,
            Err(_) => Outcome::Transport,
        }
    }

    /// The stock of one product.
    ///
    /// # Errors
    /// Anything but a 200 with a stock view.
    pub async fn stock(&self, product: Uuid) -> Result<Stock, ApiError> {
        let path = format!("/v1/products/{product}/stock");
        let answer =
            expect(self.http.get(self.url(&path)).send().await, &path, StatusCode::OK).await?;
        read_json(answer, &path).await
    }

    /// The Prometheus text of `GET /metrics` of every server, one after the other, so that a
    /// counter read from it is the sum over the servers.
    ///
    /// # Errors
    /// Anything but a 200 from any of them.
    pub async fn metrics(&self) -> Result<String, ApiError> {
        let mut text = String::new();
        for base in self.bases.iter() {
            let url = base.join("/metrics").unwrap_or_else(|_| base.clone());
            let answer =
                expect(self.http.get(url).send().await, "/metrics", StatusCode::OK).await?;
            let scrape = answer
                .text()
                .await
                .map_err(|source| ApiError::Transport { path: "/metrics".into(), source })?;
            text.push_str(&scrape);
            text.push('\n');
        }
        Ok(text)
    }
}

/// An http(s) URL whose host is a loopback address or `localhost`.
fn is_local(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    loopback && matches!(url.scheme(), "http" | "https")
}

/// Sorts a non-success answer; reading the body to the end keeps the connection reusable.
async fn classify(answer: Response) -> Outcome {
    let status = answer.status().as_u16();
    match answer.bytes().await {
        Ok(body) => answer::classify(status, &body),
        Err(_) => Outcome::Transport,
    }
}

async fn expect(
    sent: reqwest::Result<Response>,
    path: &str,
    want: StatusCode,
) -> Result<Response, ApiError> {
    let answer = sent.map_err(|source| ApiError::Transport { path: path.into(), source })?;
    if answer.status() == want {
        return Ok(answer);
    }
    let status = answer.status();
    let body = answer.text().await.unwrap_or_default().chars().take(300).collect();
    Err(ApiError::Status { path: path.into(), status, body })
}

async fn read_json<T: serde::de::DeserializeOwned>(
    answer: Response,
    path: &str,
) -> Result<T, ApiError> {
    answer.json().await.map_err(|source| ApiError::Transport { path: path.into(), source })
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn a_product_goes_to_the_owner_its_answers_named_and_back_to_turns_when_it_fails() {
        let bases = ["http://127.0.0.1:9001".to_owned(), "http://127.0.0.1:9002".to_owned()];
        let api = Api::new(&bases, Credentials::default(), 1, Duration::from_secs(1))
            .expect("a client")
            .following_owners();
        let (hot, other) = (Some(Uuid::from_u128(1)), Some(Uuid::from_u128(2)));
        let second = "http://127.0.0.1:9002/v1/checkout";
        api.learn(hot, Some(&HeaderValue::from_static("http://127.0.0.1:9002/")));
        for _ in 0..4 {
            assert_eq!(api.checkout_url(hot).as_str(), second);
        }
        // Another product still takes turns.
        let turns: Vec<_> = (0..2).map(|_| api.checkout_url(other).to_string()).collect();
        assert_ne!(turns[0], turns[1]);
        // A name that is not one of this client's servers is not followed.
        api.learn(hot, Some(&HeaderValue::from_static("http://10.0.0.1:9002/")));
        assert_ne!(api.checkout_url(hot).as_str(), api.checkout_url(hot).as_str());
        api.learn(hot, Some(&HeaderValue::from_static("http://127.0.0.1:9002/")));
        api.forget(hot);
        assert_ne!(api.checkout_url(hot).as_str(), api.checkout_url(hot).as_str());
    }

    fn local(url: &str) -> bool {
        Url::parse(url).is_ok_and(|u| is_local(&u))
    }

    #[test]
    fn loopback_hosts_are_accepted() {
        for url in
            ["http://127.0.0.1:8080", "http://127.9.9.9/", "http://[::1]:80", "http://LocalHost:1"]
        {
            assert!(local(url), "{url}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for url in [
            "http://10.0.0.1:8080",
            "http://192.168.1.1",
            "http://example.com",
            "ftp://127.0.0.1",
            "nonsense",
        ] {
            assert!(!local(url), "{url}");
        }
    }
}
