//! Cross-cutting middleware: every error is a problem, 5xx causes are logged once, requests
//! time out, panics become 500 problems, checkouts past an abuse limit get 429.

use std::any::Any;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::access::caller_of;
use crate::peers::FromPeer;
use crate::problem::{ApiError, PROBLEM_JSON, ServerErrorCause};
use crate::state::AppState;

/// Turns any error response that is not already a problem (axum's own 404, 405, 413, …) into
/// one, keeping headers such as `Allow`.
pub async fn problem_fallback(response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if status.as_u16() < 400 || is_problem {
        return response;
    }
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::RouteNotFound,
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
        StatusCode::REQUEST_TIMEOUT => ApiError::Timeout,
        // Bodies and queries go through our own extractors, so the one bare 400 axum answers
        // here is a path id that is not UTF-8 once percent-decoded: not a UUID either.
        StatusCode::BAD_REQUEST => ApiError::InvalidId("(not UTF-8)".into()),
        s if s.is_client_error() => ApiError::InvalidRequest(vec![]),
        _ => ApiError::Internal(format!("bare {status} response").into()),
    };
    let mut problem = error.into_response();
    if let Some(allow) = response.headers().get(header::ALLOW) {
        problem.headers_mut().insert(header::ALLOW, allow.clone());
    }
    problem
}

/// Logs the cause of every 5xx once, inside the request's span.
pub async fn log_server_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(ServerErrorCause(cause)) = response.extensions().get::<ServerErrorCause>() {
        tracing::error!(status = response.status().as_u16(), cause, "request failed");
    }
    response
}

/// When a request stops waiting, as a request extension for the handlers that must finish
/// before then.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    /// When the request is stopped and answered 503 `timeout`.
    pub request: Instant,
    /// The last moment a commit may be made for it: the request's deadline less a margin for
    /// the commit itself and the answer's way out, so that what commits in time is also
    /// answered in time.
    pub commit: Instant,
}

impl Deadline {
    /// The deadline of a request arriving `now` with `timeout` to run.
    #[must_use]
    pub fn after(now: Instant, timeout: Duration) -> Self {
        // A tenth of the timeout, at most a second: a commit's flush takes milliseconds, even
        // under load (docs/benchmarks.md), and a longer margin only shortens every request.
        let margin = (timeout / 10).min(Duration::from_secs(1));
        Self { request: now + timeout, commit: now + timeout - margin }
    }
}

/// Stops a request that runs longer than the configured timeout, and tells the handlers when
/// that will be ([`Deadline`]). Dropping the handler's future rolls back any transaction it had
/// open; a group-committed checkout is not committed past its deadline; an idempotency claim
/// is released (see [`crate::idempotency`]).
pub async fn timeout(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let now = Instant::now();
    let mut deadline = Deadline::after(now, state.settings.request_timeout);
    // Forwarded by a peer: no later than the peer's own, which is the buyer's.
    if let Some((request_left, commit_left)) =
        request.extensions().get::<FromPeer>().and_then(|from| from.deadline)
    {
        deadline.request = deadline.request.min(now + request_left);
        deadline.commit = deadline.commit.min(now + commit_left);
    }
    request.extensions_mut().insert(deadline);
    match tokio::time::timeout_at(deadline.request.into(), next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}

/// The checkout route's guard: 429 `rate-limited` when the caller's bucket is empty.
pub async fn rate_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(limits) = &state.rate_limits {
        let actor = caller_of(request.extensions()).0.actor();
        // A checkout another process forwarded counts against the buyer's address it saw.
        let forwarded = request.extensions().get::<FromPeer>().and_then(|from| from.client);
        let peer = forwarded
            .or_else(|| request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()));
        if let Err(retry_after) = limits.admit(actor, peer, request.headers()) {
            crate::metrics::rate_limited();
            return ApiError::RateLimited { retry_after }.into_response();
        }
    }
    next.run(request).await
}

/// A panic in a handler becomes a 500 problem; the panic message goes to the log only.
pub fn panic_to_problem(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    ApiError::Internal(format!("handler panicked: {message}").into()).into_response()
}
