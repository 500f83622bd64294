//! The forwarding side: checkouts queue for their owner, and leave together.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use metrics::counter;
use serde_json::value::RawValue;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::{Answer, Item, MOST, PATH, as_text};
use crate::peers::secret::TOKEN;

/// The most bundles in flight to one owner at once. Two, so that the owner's next batch can
/// take a bundle while the one it answers is on its way back: with one, a forwarding process's
/// bundles rode every other batch.
const IN_FLIGHT: usize = 2;

/// The most checkouts waiting for the next bundle to one owner; one more is handled where it
/// arrived (a bound on memory, never reached while the owner answers).
const QUEUE: usize = 4_096;

/// Why a checkout sent in a bundle has no answer.
#[derive(Debug, Clone)]
pub(crate) enum Unsent {
    /// The owner refused the connection: it never saw the bundle.
    Refused,
    /// The bundle left and its answer did not come back: its checkouts may have been placed.
    Lost(String),
    /// The queue to that owner is full: not sent.
    Full,
}

/// A checkout waiting for the next bundle to its owner.
pub(crate) struct Queued {
    headers: Vec<(String, String)>,
    /// When the forwarding process stops waiting for it, and the last moment it may commit.
    deadline: Option<(Instant, Instant)>,
    client: Option<IpAddr>,
    body: Box<RawValue>,
    reply: oneshot::Sender<Result<Response, Unsent>>,
}

impl Queued {
    /// A checkout to forward, or `None` when it cannot travel in a bundle: a header value
    /// that is not visible ASCII (a bundle carries text), or a body that is not JSON (the
    /// handler here then says what is wrong with it).
    pub(crate) fn new(
        headers: &HeaderMap,
        deadline: Option<(Instant, Instant)>,
        client: Option<IpAddr>,
        body: &[u8],
    ) -> Option<(Self, oneshot::Receiver<Result<Response, Unsent>>)> {
        let headers = as_text(headers).collect::<Option<_>>()?;
        let body = RawValue::from_string(String::from_utf8(body.to_vec()).ok()?).ok()?;
        let (reply, answer) = oneshot::channel();
        Some((Self { headers, deadline, client, body, reply }, answer))
    }

    /// What travels, with the deadlines as time left at `now`; and where its answer goes.
    pub(super) fn leave(self, now: Instant) -> (Item, oneshot::Sender<Result<Response, Unsent>>) {
        let left = |at: Instant| u64::try_from(at.saturating_duration_since(now).as_millis());
        let deadline = self
            .deadline
            .and_then(|(request, commit)| Some((left(request).ok()?, left(commit).ok()?)));
        let item = Item { headers: self.headers, deadline, client: self.client, body: self.body };
        (item, self.reply)
    }
}

/// The sending end of the bundles to one owner; the first checkout forwarded there starts the
/// task that sends them.
pub(crate) struct Outbox {
    queue: mpsc::Sender<Queued>,
}

impl Outbox {
    /// Starts sending bundles to `url` (a peer's base URL) with `client`, showing `secret`.
    pub(crate) fn start(client: reqwest::Client, url: &url::Url, secret: HeaderValue) -> Self {
        let (queue, queued) = mpsc::channel(QUEUE);
        let url = format!("{}{PATH}", url.as_str().trim_end_matches('/'));
        tokio::spawn(deliver(client, url, secret, queued));
        Self { queue }
    }

    /// Queues `checkout` for the next bundle; `Full` at once when too many wait.
    pub(crate) fn send(&self, checkout: Queued) -> Result<(), Unsent> {
        self.queue.try_send(checkout).map_err(|_| Unsent::Full)
    }
}

/// Sends what has queued as one bundle, waits for its answers and hands them out; until the
/// outbox is dropped.
async fn deliver(
    client: reqwest::Client,
    url: String,
    secret: HeaderValue,
    mut queue: mpsc::Receiver<Queued>,
) {
    let url: Arc<str> = url.into();
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut taken = Vec::with_capacity(MOST);
    loop {
        // The turn first, then whatever queued while waiting for it: that is the bundle.
        let Ok(turn) = Arc::clone(&in_flight).acquire_owned().await else { return };
        if queue.recv_many(&mut taken, MOST).await == 0 {
            return;
        }
        // A buyer who stopped waiting (their request timed out or they went away) before the
        // bundle left is not forwarded.
        let now = Instant::now();
        let (items, replies): (Vec<_>, Vec<_>) = (taken.drain(..))
            .filter(|queued| !queued.reply.is_closed())
            .map(|queued| queued.leave(now))
            .unzip();
        if items.is_empty() {
            continue;
        }
        counter!("checkout_forward_bundles_total").increment(1);
        let (client, url) = (client.clone(), Arc::clone(&url));
        let secret = secret.clone();
        tokio::spawn(async move {
            let answers = send(&client, &url, &secret, &items).await;
            drop(turn);
            answer(replies, answers);
        });
    }
}

/// Hands a bundle's answers out, or tells each of its checkouts why there is none.
fn answer(
    replies: Vec<oneshot::Sender<Result<Response, Unsent>>>,
    answers: Result<Vec<Answer>, Unsent>,
) {
    match answers {
        Ok(answers) if answers.len() == replies.len() => {
            for (reply, answer) in replies.into_iter().zip(answers) {
                let _ = reply.send(Ok(answer.into_response()));
            }
        }
        Ok(answers) => {
            let why = format!("{} answers to a bundle of {}", answers.len(), replies.len());
            for reply in replies {
                let _ = reply.send(Err(Unsent::Lost(why.clone())));
            }
        }
        Err(unsent) => {
            for reply in replies {
                let _ = reply.send(Err(unsent.clone()));
            }
        }
    }
}

/// Posts one bundle and reads its answers.
async fn send(
    client: &reqwest::Client,
    url: &str,
    secret: &HeaderValue,
    items: &[Item],
) -> Result<Vec<Answer>, Unsent> {
    let lost = |err: reqwest::Error| match err.is_connect() {
        true => Unsent::Refused,
        false => Unsent::Lost(err.to_string()),
    };
    let response = client.post(url).header(TOKEN, secret).json(items).send().await.map_err(lost)?;
    if response.status() != StatusCode::OK {
        return Err(Unsent::Lost(format!("the owner answered a bundle {}", response.status())));
    }
    response.json().await.map_err(lost)
}
