//! Prometheus metrics: request latency, checkout outcomes, lost races, expiries, which
//! process sweeps.
//!
//! The recorder is process-global (the `metrics` facade's design); it is installed once, the
//! first time anything asks for it, so several servers in one test process share it.

use std::sync::OnceLock;
use std::time::Instant;

use application::checkout::{CheckedOut, CheckoutError};
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

const REQUEST_SECONDS: &str = "http_request_duration_seconds";
/// From half a millisecond (a cached read) to ten seconds (a request about to time out).
const BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the recorder (once) and returns the handle that renders it.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new();
        let builder = match builder
            .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.into()), &BUCKETS)
        {
            Ok(with_buckets) => with_buckets,
            Err(err) => {
                tracing::warn!(%err, "latency buckets refused; latency is exported as a summary");
                PrometheusBuilder::new()
            }
        };
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics will be empty");
        }
        handle
    })
}

/// The text exposition.
pub fn render() -> String {
    handle().render()
}

/// Middleware: one latency observation per request, by route template (never the raw path,
/// which would make one series per id) and status.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    histogram!(REQUEST_SECONDS, "method" => method, "route" => route, "status" => status)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Counts a checkout's outcome, its retries, the version conflicts it ran into (every attempt
/// but a successful last one lost a race), and the size of the commit it was part of.
pub fn record_checkout(result: &Result<CheckedOut, CheckoutError>) {
    let (outcome, attempts, conflicts) = match result {
        Ok(done) => ("created", done.attempts, done.attempts.saturating_sub(1)),
        Err(CheckoutError::InsufficientStock(_)) => ("insufficient_stock", 1, 0),
        Err(CheckoutError::UnknownProducts(_)) => ("unknown_product", 1, 0),
        Err(CheckoutError::UnknownLocations(_)) => ("invalid", 1, 0),
        Err(CheckoutError::LimitExceeded(_)) => ("purchase_limit_exceeded", 1, 0),
        Err(CheckoutError::CustomerNotAsserted { .. }) => ("customer_not_asserted", 1, 0),
        Err(CheckoutError::InvalidCart(_) | CheckoutError::Unpriceable(_)) => ("invalid", 1, 0),
        Err(CheckoutError::Contended { attempts }) => ("contended", *attempts, *attempts),
        Err(CheckoutError::Unavailable(_)) => ("unavailable", 1, 0),
        Err(CheckoutError::IdempotencyClaimLost) => ("claim_lost", 1, 0),
        Err(CheckoutError::TimedOut) => ("timed_out", 1, 0),
        // Shed before any attempt: the queue ahead would have outlasted its deadline, or was full.
        Err(CheckoutError::Overloaded) => ("overloaded", 0, 0),
    };
    counter!("checkouts_total", "outcome" => outcome).increment(1);
    counter!("checkout_retries_total").increment(u64::from(attempts.saturating_sub(1)));
    counter!("checkout_version_conflicts_total").increment(u64::from(conflicts));
    if let Ok(done) = result {
        // How many orders shared this one's commit: group commit at work (1 without it).
        histogram!("checkout_batch_orders").record(done.batch_orders as f64);
    }
}

/// Counts reservations the sweeper expired, and due ones it could not expire (skipped and
/// logged; the next pass tries them again, so one order may be counted several times).
pub fn record_expired(count: usize, failed: u32) {
    counter!("reservations_expired_total").increment(count as u64);
    counter!("reservation_expiry_failures_total").increment(u64::from(failed));
}

/// Whether this process holds the sweeper's lease (1) or not (0).
pub fn record_sweeper_leading(leading: bool) {
    gauge!("sweeper_leading").set(if leading { 1.0 } else { 0.0 });
}

/// Counts events a relay sent, and how old the oldest of them was when sent (its lag).
pub fn record_relayed(relay: &str, events: usize, oldest_age: std::time::Duration) {
    counter!("events_relayed_total", "relay" => relay.to_owned()).increment(events as u64);
    record_relay_lag(relay, oldest_age);
}

/// How far behind the feed a relay is: the age of the oldest event it had not sent yet when it
/// last sent a page (0 when it last found nothing new).
pub fn record_relay_lag(relay: &str, lag: std::time::Duration) {
    gauge!("events_relay_lag_seconds", "relay" => relay.to_owned()).set(lag.as_secs_f64());
}

/// Counts a relay's failed steps (the broker or the store failed; the page is sent again).
pub fn record_relay_failure(relay: &str) {
    counter!("events_relay_failures_total", "relay" => relay.to_owned()).increment(1);
}

/// Counts checkouts refused by an abuse limit (429 `rate-limited`).
pub fn rate_limited() {
    counter!("checkouts_total", "outcome" => "rate_limited").increment(1);
}

/// Counts a webhook step's attempts by outcome (`delivered`, `retry`: failed and to be tried
/// again, `failed`: the last attempt failed) and records its lag: how long the oldest due
/// delivery had waited since its event was committed (the outbox lag of that subscription).
pub fn record_webhook_round(webhook: &str, round: &application::webhook_relay::Round) {
    for (outcome, count) in
        [("delivered", round.delivered), ("retry", round.retrying), ("failed", round.failed)]
    {
        if count > 0 {
            counter!("webhook_deliveries_total", "webhook" => webhook.to_owned(), "outcome" => outcome)
                .increment(count as u64);
        }
    }
    if let Some(lag) = round.lag {
        gauge!("webhook_lag_seconds", "webhook" => webhook.to_owned()).set(lag.as_secs_f64());
    }
}
