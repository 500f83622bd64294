//! The two middlewares of routing: [`route`] forwards a checkout to its owner, [`admit`] takes
//! in what a peer forwarded.
//!
//! A forwarded request carries three headers only peers may set: the routing secret, the
//! forwarding process's deadline (so that the owner commits nothing after the buyer was told
//! "timeout": the guarantee of [`Deadline`]) and the buyer's address (so that the owner's
//! abuse limits count the buyer, not the peer). Without the right secret they grant nothing,
//! and every one of them is taken off before a handler sees the request.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::counter;
use serde::Deserialize;
use uuid::Uuid;

use super::Peers;
use super::bundle::{Queued, Unsent};
use super::secret::{CLIENT, DEADLINE, TOKEN};
use crate::idempotency::BODY_LIMIT;
use crate::middleware::Deadline;
use crate::problem::ApiError;
use crate::rate_limit::client_address;
use crate::state::AppState;

/// A request another process forwarded here: it is handled here, never forwarded again. What
/// the forwarding process said is kept only when it showed the routing secret.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FromPeer {
    /// The buyer's address, for the abuse limits.
    pub client: Option<IpAddr>,
    /// How long the forwarding process still had until its request and commit deadlines.
    pub deadline: Option<(Duration, Duration)>,
}

/// Takes the peer headers off every request; on one that carries the routing token, leaves a
/// [`FromPeer`] with what a verified peer said.
pub async fn admit(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let headers = request.headers_mut();
    let token = headers.remove(TOKEN);
    let deadline = headers.remove(DEADLINE);
    let client = headers.remove(CLIENT);
    if let Some(token) = token {
        let verified =
            state.peers.as_ref().is_some_and(|peers| peers.secret.admits(token.as_bytes()));
        let from = if verified {
            FromPeer {
                client: client.as_ref().and_then(|v| v.to_str().ok()?.parse().ok()),
                deadline: deadline.as_ref().and_then(parse_deadline),
            }
        } else {
            // A peer with another secret, or a caller trying one: served here, as anyone. Only
            // worth a warning where peers are configured (a misconfigured one).
            if state.peers.is_some() {
                tracing::warn!("a request carried a routing token that is not this process's");
            }
            FromPeer::default()
        };
        request.extensions_mut().insert(from);
    }
    next.run(request).await
}

/// Forwards a checkout of a product selling fast ([`Peers::is_hot`]) to the process that owns
/// its lead product (the smallest product id in the cart) and relays the answer; handles it here
/// when the product is not selling fast, when this process owns it, when it came from a peer, or
/// when the cart cannot be read (the handler then says what is wrong with it).
/// A forwarded checkout travels with the others forwarded to the same owner meanwhile, in one
/// request ([`super::bundle`]).
/// A peer that refuses the connection never saw the request: it is handled here, and the peer
/// passed over for a moment. One that fails after the request left may have placed the order:
/// 503 `service-unavailable`, as when the database fails mid-commit (a retry under the same
/// `Idempotency-Key` is answered with the order if it was placed).
pub async fn route(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match &state.peers {
        Some(peers) if request.extensions().get::<FromPeer>().is_none() => {
            let trust_forwarded_for = state.settings.rate_limits.trust_forwarded_for;
            // Boxed: the forwarding path's state would otherwise ride (and move) in every
            // checkout's future, routing on or off.
            Box::pin(route_among(peers, trust_forwarded_for, request, next)).await
        }
        _ => next.run(request).await,
    }
}

async fn route_among(
    peers: &Peers,
    trust_forwarded_for: bool,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return ApiError::PayloadTooLarge.into_response();
    };
    let here = |parts: Parts, body: Bytes| next.run(Request::from_parts(parts, Body::from(body)));
    let Some(hot) = lead_product(&body).filter(|&product| peers.is_hot(product)) else {
        counter!("checkout_routes_total", "route" => "here").increment(1);
        return here(parts, body).await;
    };
    let Some(owner) = peers.owner(hot).cloned() else {
        counter!("checkout_routes_total", "route" => "here").increment(1);
        let mut response = here(parts, body).await;
        peers.advertise(&mut response, None);
        return response;
    };
    let deadline = parts.extensions.get::<Deadline>().map(|d| (d.request, d.commit));
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let client = client_address(trust_forwarded_for, peer, &parts.headers);
    let Some((checkout, answer)) =
        Queued::new(&end_to_end(&parts.headers), deadline, client, &body)
    else {
        counter!("checkout_routes_total", "route" => "here").increment(1);
        return here(parts, body).await;
    };
    let sent = match peers.bundle_to(&owner, checkout) {
        // A dropped reply: the sending task is gone (the process is stopping).
        Ok(()) => answer.await.unwrap_or_else(|_| Err(Unsent::Lost("no answer".into()))),
        Err(unsent) => Err(unsent),
    };
    match sent {
        Ok(mut response) => {
            counter!("checkout_routes_total", "route" => "forwarded").increment(1);
            peers.advertise(&mut response, Some(&owner));
            response
        }
        Err(Unsent::Refused) => {
            tracing::warn!(peer = %owner, "a peer refused forwarded checkouts; handled here");
            peers.skip(&owner);
            counter!("checkout_routes_total", "route" => "fallback").increment(1);
            here(parts, body).await
        }
        Err(Unsent::Full) => {
            counter!("checkout_routes_total", "route" => "fallback").increment(1);
            here(parts, body).await
        }
        Err(Unsent::Lost(why)) => {
            counter!("checkout_routes_total", "route" => "failed").increment(1);
            ApiError::Unavailable(format!("forwarding to {owner} failed: {why}").into())
                .into_response()
        }
    }
}

/// The smallest product id of a checkout body, or `None` when the body is not a cart (the
/// handler then answers with the exact problem).
fn lead_product(body: &[u8]) -> Option<Uuid> {
    #[derive(Deserialize)]
    struct Cart {
        items: Vec<Item>,
    }
    #[derive(Deserialize)]
    struct Item {
        product_id: Uuid,
    }
    let cart: Cart = serde_json::from_slice(body).ok()?;
    cart.items.iter().map(|item| item.product_id).min()
}

/// `headers` without those of one connection (RFC 9110 §7.6.1) and those the next hop sets
/// itself (`Host`, `Content-Length`).
fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let mut kept = headers.clone();
    for name in [
        header::CONNECTION,
        HeaderName::from_static("keep-alive"),
        header::PROXY_AUTHENTICATE,
        header::PROXY_AUTHORIZATION,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
        header::HOST,
        header::CONTENT_LENGTH,
    ] {
        kept.remove(name);
    }
    kept
}

fn parse_deadline(value: &HeaderValue) -> Option<(Duration, Duration)> {
    let (request, commit) = value.to_str().ok()?.split_once(' ')?;
    let ms = |s: &str| s.parse().ok().map(Duration::from_millis);
    Some((ms(request)?, ms(commit)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lead_product_is_the_smallest_id_of_the_cart() {
        let (a, b) = (Uuid::from_u128(7), Uuid::from_u128(3));
        let body = format!(
            r#"{{"items":[{{"product_id":"{a}","quantity":1}},{{"product_id":"{b}","quantity":2}}],"customer_id":"c"}}"#
        );
        assert_eq!(lead_product(body.as_bytes()), Some(b));
        assert_eq!(lead_product(br#"{"items":[]}"#), None);
        assert_eq!(lead_product(br#"{"items":[{"product_id":"nope"}]}"#), None);
        assert_eq!(lead_product(b"not json"), None);
    }

    #[test]
    fn a_deadline_header_reads_back_or_not_at_all() {
        let value = HeaderValue::from_static("2500 2250");
        let expected = (Duration::from_millis(2500), Duration::from_millis(2250));
        assert_eq!(parse_deadline(&value), Some(expected));
        for bad in ["", "2500", "a b", "1 -2", "1  2"] {
            assert_eq!(parse_deadline(&HeaderValue::from_static(bad)), None, "{bad:?}");
        }
    }

    #[test]
    fn hop_by_hop_headers_are_not_forwarded() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        headers.insert(header::HOST, HeaderValue::from_static("a:1"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        headers.insert("idempotency-key", HeaderValue::from_static("k"));
        let kept = end_to_end(&headers);
        assert_eq!(kept.len(), 2);
        assert!(kept.contains_key(header::AUTHORIZATION) && kept.contains_key("idempotency-key"));
    }
}
