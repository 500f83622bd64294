//! The `Idempotency-Key` middleware of `POST /v1/checkout` and stock adjustments.
//!
//! The first request with a key claims it in the database (one insert wins across all server
//! processes), runs, and stores its answer; a repeat with the same content gets that answer
//! back with `Idempotent-Replayed: true` and touches nothing. Transient failures (5xx, 401,
//! 415, timeouts) are not kept, nor is a claim whose request was stopped midway (it is
//! released as it is dropped), so the client's retry runs afresh — unless the request's effect
//! committed after all (the handler passes the claim, as a request extension, to a use case
//! that records its effect in its own transaction): then the retry's answer is rebuilt from
//! the effect, so a lost answer never turns into a second order.

use std::collections::BTreeMap;

use application::idempotency::Begin;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::ports::{Effect, IdempotencyKey, KeyClaim, StoredResponse};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::access::caller_of;
use crate::problem::ApiError;
use crate::routes::{checkout, stock};
use crate::state::AppState;
use crate::wire::FieldError;

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The header marking a replayed answer.
pub const REPLAYED: &str = "idempotent-replayed";
/// Request bodies are limited to this (64 KiB), but for a bulk stock sync's.
pub const BODY_LIMIT: usize = 64 * 1024;
/// A bulk stock sync's body limit: 1,000 rows of about 100 bytes, with room to spare.
pub const BULK_BODY_LIMIT: usize = 256 * 1024;
/// Headers that are part of an answer worth replaying.
const KEPT_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

/// What is stored for a key: the status, the headers that matter, the body text.
#[derive(Serialize, Deserialize)]
struct Envelope {
    headers: BTreeMap<String, String>,
    body: String,
}

/// The middleware.
pub async fn middleware(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(raw) = request.headers().get(IDEMPOTENCY_KEY) else {
        return next.run(request).await;
    };
    // Kept per caller: two clients' equal keys never meet.
    let caller = caller_of(request.extensions()).0.actor();
    let Some(key) = raw.to_str().ok().and_then(|text| IdempotencyKey::of(caller, text).ok()) else {
        let error = FieldError::new("Idempotency-Key", "1 to 255 visible ASCII characters");
        return ApiError::InvalidRequest(vec![error]).into_response();
    };
    let (parts, body) = request.into_parts();
    // Up to the largest route's limit: the route's own limit is applied again by its
    // extractor, which reads these bytes.
    let Ok(bytes) = to_bytes(body, BULK_BODY_LIMIT).await else {
        return ApiError::PayloadTooLarge.into_response();
    };
    let fingerprint = fingerprint(parts.method.as_str(), parts.uri.path(), &bytes);
    let claim = match state.services.idempotency.begin(&key, &fingerprint).await {
        Ok(Begin::Run(claim)) => claim,
        Ok(Begin::Replay(stored)) => return replay(stored),
        Ok(Begin::Rebuild(effect)) => return rebuild(&state, effect).await,
        Err(err) => return ApiError::from(err).into_response(),
    };
    let mut request = Request::from_parts(parts, Body::from(bytes));
    request.extensions_mut().insert(claim.clone());
    // From here the claim is released however this future ends: the timeout layer outside
    // drops it when the request runs too long, and hyper when the client goes away.
    let held = Held { state: state.clone(), claim: Some(claim) };
    let response = next.run(request).await;
    let response = settle(&state, held.claim(), response).await;
    held.disarm();
    response
}

/// Keeps `response` as the key's answer when it is final, or releases the claim.
async fn settle(state: &AppState, claim: &KeyClaim, response: Response) -> Response {
    let idempotency = &state.services.idempotency;
    if !worth_keeping(response.status()) {
        let_go(state, claim).await;
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        let_go(state, claim).await;
        return ApiError::Internal("the response body could not be buffered".into())
            .into_response();
    };
    let headers = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            Some((name.to_string(), parts.headers.get(name)?.to_str().ok()?.to_owned()))
        })
        .collect();
    let envelope = Envelope { headers, body: String::from_utf8_lossy(&bytes).into_owned() };
    match serde_json::to_vec(&envelope) {
        Ok(body) => {
            idempotency.finish(claim, StoredResponse { status: parts.status.as_u16(), body }).await
        }
        Err(_) => let_go(state, claim).await,
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Releases `claim` before answering when the store lets it at once; otherwise keeps trying
/// in the background ([`application::idempotency::Idempotency::abandon_until_stale`]) rather
/// than hold the answer back.
async fn let_go(state: &AppState, claim: &KeyClaim) {
    if !state.services.idempotency.abandon(claim).await {
        release_later(state.clone(), claim.clone());
    }
}

/// Releases `claim` from a task of its own, retried until it is made or the claim goes stale.
fn release_later(state: AppState, claim: KeyClaim) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move { state.services.idempotency.abandon_until_stale(&claim).await });
    }
}

/// A claim that is released when dropped before [`Held::disarm`]: the request holding it was
/// stopped (timed out, or its client went away) before it could keep its answer or let the
/// key go, and a retry must not be told "in use" until the claim goes stale. The release
/// deletes only an in-progress claim of this token without an effect, so it is harmless when
/// the answer was kept meanwhile, and never forgets an order that committed after all.
struct Held {
    state: AppState,
    claim: Option<KeyClaim>,
}

impl Held {
    fn claim(&self) -> &KeyClaim {
        self.claim.as_ref().expect("held until disarmed")
    }

    /// The claim was finished or abandoned: nothing left to do on drop.
    fn disarm(mut self) {
        self.claim = None;
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // A dropped future cannot await: the release runs as a task of its own.
        if let Some(claim) = self.claim.take() {
            release_later(self.state.clone(), claim);
        }
    }
}

/// A digest of what was asked: method, path and the body, canonicalised when it is JSON so that
/// key order and whitespace do not make the same request look different.
fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let canonical = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|value| serde_json::to_vec(&value).ok())
        .unwrap_or_else(|| body.to_vec());
    let digest = Sha256::new()
        .chain_update(method)
        .chain_update([0])
        .chain_update(path)
        .chain_update([0])
        .chain_update(&canonical)
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Final answers are kept; failures a retry could turn around are not.
fn worth_keeping(status: StatusCode) -> bool {
    let transient = [
        StatusCode::UNAUTHORIZED,
        StatusCode::REQUEST_TIMEOUT,
        StatusCode::PAYLOAD_TOO_LARGE,
        // The fingerprint does not cover Content-Type: the corrected request has the same.
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        StatusCode::TOO_MANY_REQUESTS,
    ];
    status.is_success() || (status.is_client_error() && !transient.contains(&status))
}

fn replay(stored: StoredResponse) -> Response {
    let (Ok(status), Ok(envelope)) =
        (StatusCode::from_u16(stored.status), serde_json::from_slice::<Envelope>(&stored.body))
    else {
        return ApiError::Internal("a stored idempotent answer is unreadable".into())
            .into_response();
    };
    let mut response = (status, envelope.body).into_response();
    let headers = response.headers_mut();
    for (name, value) in &envelope.headers {
        if let (Ok(name), Ok(value)) =
            (HeaderName::try_from(name.as_str()), HeaderValue::from_str(value))
        {
            headers.insert(name, value);
        }
    }
    replayed(response)
}

/// The answer of a request whose effect committed but whose answer was never stored, rebuilt
/// from the effect as the first request gave it.
async fn rebuild(state: &AppState, effect: Effect) -> Response {
    match effect {
        Effect::OrderPlaced(id) => match state.services.queries.order(id).await {
            Ok(view) => replayed(checkout::placed(&view.order)),
            Err(err) => ApiError::from(err).into_response(),
        },
        // The stock as it is now, the adjustment (or transfer) in it: the figures of the moment
        // right after it are not kept.
        Effect::StockAdjusted(id) | Effect::StockTransferred(id) => {
            match state.services.queries.stock(id).await {
                Ok(current) => replayed(stock::with_etag(&current)),
                Err(err) => ApiError::from(err).into_response(),
            }
        }
        // A thousand rows' answers cannot be rebuilt from the stock as it is now: say that the
        // sync was applied, so that the sender does not send it again under a new key.
        Effect::StockSynced(_) => replayed(ApiError::BulkAlreadyApplied.into_response()),
    }
}

/// `response`, marked as the answer of an earlier request.
fn replayed(mut response: Response) -> Response {
    let replayed = HeaderValue::from_static("true");
    response.headers_mut().insert(HeaderName::from_static(REPLAYED), replayed);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_json_in_another_key_order_has_the_same_fingerprint() {
        let a =
            fingerprint("POST", "/v1/checkout", br#"{"items":[{"product_id":"x","quantity":1}]}"#);
        let b = fingerprint(
            "POST",
            "/v1/checkout",
            br#"{ "items": [ {"quantity":1, "product_id":"x"} ] }"#,
        );
        assert_eq!(a, b);
        assert_ne!(
            a,
            fingerprint("POST", "/v1/checkout", br#"{"items":[{"product_id":"x","quantity":2}]}"#)
        );
        assert_ne!(
            a,
            fingerprint("POST", "/v1/other", br#"{"items":[{"product_id":"x","quantity":1}]}"#)
        );
    }

    #[test]
    fn only_final_answers_are_kept() {
        assert!(worth_keeping(StatusCode::CREATED));
        assert!(worth_keeping(StatusCode::CONFLICT));
        assert!(worth_keeping(StatusCode::UNPROCESSABLE_ENTITY));
        assert!(!worth_keeping(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!worth_keeping(StatusCode::UNAUTHORIZED));
        assert!(!worth_keeping(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        assert!(!worth_keeping(StatusCode::INTERNAL_SERVER_ERROR));
    }
}
