//! A webhook receiver for the tests: an HTTP server on a loopback port that checks every
//! delivery's Standard Webhooks signature with the specification's own library, refuses some
//! attempts on purpose, and logs what it accepted, in order.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use api::wire::CloudEvent;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use tokio::task::JoinHandle;

/// When the receiver answers 503 instead of accepting.
#[derive(Debug, Clone, Copy)]
pub struct Refusals {
    /// Refuse the first this many attempts of every third event (by its id).
    pub first_attempts: u32,
    /// Wait this long before accepting (deliveries stay in flight a while).
    pub delay: Duration,
}

#[derive(Default)]
struct Inner {
    secret: Mutex<Option<String>>,
    attempts: Mutex<HashMap<String, u32>>,
    accepted: Mutex<Vec<CloudEvent>>,
    refused_subject: Mutex<Option<String>>,
    refused: AtomicUsize,
    bad_signatures: AtomicUsize,
    refusals: Mutex<Option<Refusals>>,
}

/// The running receiver; stops when dropped.
pub struct Receiver {
    /// Where to subscribe it: `http://127.0.0.1:<port>/hook`.
    pub url: String,
    inner: Arc<Inner>,
    server: JoinHandle<()>,
}

impl Receiver {
    pub async fn start(refusals: Refusals) -> Self {
        let inner = Arc::new(Inner::default());
        *inner.refusals.lock().unwrap() = Some(refusals);
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(Arc::clone(&inner));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let url = format!("http://{}/hook", listener.local_addr().expect("an address"));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the receiver serves");
        });
        Self { url, inner, server }
    }

    /// The subscription's secret, to check signatures with.
    pub fn trust(&self, secret: &str) {
        *self.inner.secret.lock().unwrap() = Some(secret.to_owned());
    }

    /// Refuse every attempt of events about `subject` (a product or order id), or stop.
    pub fn refuse_subject(&self, subject: Option<String>) {
        *self.inner.refused_subject.lock().unwrap() = subject;
    }

    /// Every accepted delivery, in the order accepted (repeats included).
    pub fn accepted(&self) -> Vec<CloudEvent> {
        self.inner.accepted.lock().unwrap().clone()
    }

    /// Attempts answered 503 on purpose.
    pub fn refused(&self) -> usize {
        self.inner.refused.load(Ordering::SeqCst)
    }

    /// Deliveries whose signature did not verify.
    pub fn bad_signatures(&self) -> usize {
        self.inner.bad_signatures.load(Ordering::SeqCst)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn receive(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let secret = inner.secret.lock().unwrap().clone();
    let verified = secret.is_some_and(|secret| {
        standardwebhooks::Webhook::new(&secret)
            .is_ok_and(|hook| hook.verify(&body, &headers).is_ok())
    });
    let Ok(event) = serde_json::from_slice::<CloudEvent>(&body) else {
        inner.bad_signatures.fetch_add(1, Ordering::SeqCst);
        return StatusCode::BAD_REQUEST;
    };
    let id_header = headers.get("webhook-id").and_then(|v| v.to_str().ok());
    if !verified || id_header != Some(event.id.as_str()) {
        inner.bad_signatures.fetch_add(1, Ordering::SeqCst);
        return StatusCode::UNAUTHORIZED;
    }
    let attempt = {
        let mut attempts = inner.attempts.lock().unwrap();
        let n = attempts.entry(event.id.clone()).or_default();
        *n += 1;
        *n
    };
    let rules = inner
        .refusals
        .lock()
        .unwrap()
        .unwrap_or(Refusals { first_attempts: 0, delay: Duration::ZERO });
    let picked = event.id.bytes().map(u32::from).sum::<u32>() % 3 == 0;
    let refused_subject =
        inner.refused_subject.lock().unwrap().as_deref() == Some(event.subject.as_str());
    if refused_subject || (picked && attempt <= rules.first_attempts) {
        inner.refused.fetch_add(1, Ordering::SeqCst);
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    tokio::time::sleep(rules.delay).await;
    inner.accepted.lock().unwrap().push(event);
    StatusCode::NO_CONTENT
}
