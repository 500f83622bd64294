//! Group commit for the hop: a process sends the checkouts it forwards to one owner in one
//! request (a *bundle*), and the owner runs all of a bundle's checkouts through its own router
//! at once, so that they join one batch of its group commit and are answered in one response.
//!
//! Why: each forwarded request costs both servers a request's work, most of it in the kernel's
//! TCP path; a bundle pays it once for everything it carries (four routed processes, hot
//! product: the servers' CPU per order fell by a quarter at 256 clients and by a tenth at 64;
//! docs/scaling.md). As in group commit there is no timer: a checkout forwarded while fewer
//! than two bundles are in flight to its owner leaves at once; one forwarded while two are
//! leaves with whatever else queued when the first of them is answered.
//!
//! Each checkout of a bundle is still a request of its own at the owner: the same path, the
//! same checks (its credential, its idempotency key, the buyer's abuse limit), and the deadline
//! and address the forwarding process gave it, under the routing secret as for a single
//! forwarded request ([`super::forward`]).

mod outbox;
mod unbundle;

use std::net::{IpAddr, SocketAddr};

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::secret::{CLIENT, DEADLINE, TOKEN};
pub(crate) use outbox::{Outbox, Queued, Unsent};
pub use unbundle::Unbundle;

/// Where an owner takes bundles. Not part of the API: anyone without the routing secret is
/// told there is no such route.
pub const PATH: &str = "/internal/peers/checkouts";

/// The path each checkout of a bundle is run on at the owner: only checkouts are forwarded.
const CHECKOUT_PATH: &str = "/v1/checkout";

/// The most checkouts in one bundle: a batch's worth (group commit's batches of a hot product
/// held 30 to 50 at 64 clients on two cores).
const MOST: usize = 64;

/// A checkout as it travels in a bundle.
#[derive(Debug, Serialize, Deserialize)]
struct Item {
    /// The buyer's end-to-end headers (credential, idempotency key, content type…).
    headers: Vec<(String, String)>,
    /// Milliseconds the forwarding process had left until the request's deadline and the
    /// commit's, when the bundle left.
    deadline: Option<(u64, u64)>,
    /// The buyer's address, for the owner's abuse limit.
    client: Option<IpAddr>,
    /// The checkout's body: a JSON cart (the forwarding process read its lead product from it).
    body: Box<RawValue>,
}

/// What the owner answered one checkout of a bundle.
#[derive(Debug, Serialize, Deserialize)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_GATEWAY);
        append_text(response.headers_mut(), self.headers);
        response
    }
}

impl Item {
    /// The checkout as a request of its own, as a forwarded one would have arrived.
    fn into_request(
        self,
        token: &HeaderValue,
        connection: Option<ConnectInfo<SocketAddr>>,
    ) -> Request {
        let mut request = Request::new(Body::from(self.body.get().to_owned()));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = Uri::from_static(CHECKOUT_PATH);
        let headers = request.headers_mut();
        append_text(headers, self.headers);
        headers.insert(TOKEN, token.clone());
        if let Some((request, commit)) = self.deadline {
            let value = format!("{request} {commit}");
            headers.insert(DEADLINE, HeaderValue::from_str(&value).expect("digits and a space"));
        }
        if let Some(client) = self.client {
            headers.insert(CLIENT, HeaderValue::from_str(&client.to_string()).expect("an address"));
        }
        if let Some(connection) = connection {
            request.extensions_mut().insert(connection);
        }
        request
    }
}

impl Answer {
    /// What travels back of `response`: the status, the headers that are text, the body.
    async fn read(response: Response) -> Self {
        let (parts, body) = response.into_parts();
        let headers = (as_text(&parts.headers))
            .filter_map(|pair| pair.filter(|(name, _)| name != header::CONTENT_LENGTH.as_str()))
            .collect();
        // The router's answers are JSON (an order or a problem), read whole.
        let body = match to_bytes(body, usize::MAX).await {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(err) => {
                tracing::warn!(%err, "a bundled checkout's answer could not be read");
                String::new()
            }
        };
        Self { status: parts.status.as_u16(), headers, body }
    }
}

/// `headers` as the text pairs a bundle carries: `None` for a value that is not visible ASCII.
fn as_text(headers: &HeaderMap) -> impl Iterator<Item = Option<(String, String)>> + '_ {
    (headers.iter())
        .map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
}

/// Appends the text pairs a bundle carried to `headers` (any that is not a header is dropped:
/// both ends are this code, so there are none).
fn append_text(headers: &mut HeaderMap, pairs: Vec<(String, String)>) {
    for (name, value) in pairs {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.append(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn a_checkout_travels_with_its_headers_deadline_and_address() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert("idempotency-key", HeaderValue::from_static("k-1"));
        let now = Instant::now();
        let deadline = (now + Duration::from_millis(900), now + Duration::from_millis(800));
        let body =
            br#"{"items":[{"product_id":"00000000-0000-0000-0000-000000000001","quantity":1}]}"#;
        let client = Some("10.0.0.7".parse().unwrap());
        let (queued, _answer) = Queued::new(&headers, Some(deadline), client, body).unwrap();
        let (item, _reply) = queued.leave(now);
        let wire = serde_json::to_vec(&[item]).unwrap();
        let items: Vec<Item> = serde_json::from_slice(&wire).unwrap();
        let token = HeaderValue::from_static("a-routing-secret-of-some-length");
        let request = items.into_iter().next().unwrap().into_request(&token, None);
        assert_eq!(request.uri().path(), CHECKOUT_PATH);
        assert_eq!(request.method(), Method::POST);
        let headers = request.headers();
        assert_eq!(headers["idempotency-key"], "k-1");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(headers[TOKEN], token);
        assert_eq!(headers[DEADLINE], "900 800");
        assert_eq!(headers[CLIENT], "10.0.0.7");
    }

    #[test]
    fn what_a_bundle_cannot_carry_is_handled_where_it_arrived() {
        let mut headers = HeaderMap::new();
        headers.insert("x-note", HeaderValue::from_bytes(b"caf\xe9").unwrap());
        assert!(Queued::new(&headers, None, None, b"{}").is_none(), "a header that is not text");
        assert!(Queued::new(&HeaderMap::new(), None, None, b"not json").is_none());
        assert!(Queued::new(&HeaderMap::new(), None, None, b"{}").is_some());
    }

    #[tokio::test]
    async fn an_answer_keeps_its_status_headers_and_body() {
        let response = (
            StatusCode::CONFLICT,
            [(header::CONTENT_TYPE, "application/problem+json"), (header::RETRY_AFTER, "1")],
            r#"{"type":"about:blank"}"#,
        )
            .into_response();
        let answer = Answer::read(response).await;
        let wire = serde_json::to_string(&answer).unwrap();
        let back: Answer = serde_json::from_str(&wire).unwrap();
        let response = back.into_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/problem+json");
        let body = to_bytes(response.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], br#"{"type":"about:blank"}"#);
    }
}
