//! The event relay to NATS JetStream (`--nats-url`), against the NATS server of the machine
//! (`TEST_NATS_URL`, started by `tests/nats/start.sh`): two server processes, the one relaying
//! killed with SIGKILL in the middle of a load, and the stream ends up holding every event of
//! the feed exactly once, on its subject, with its id as `Nats-Msg-Id`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use api::wire::CloudEvent;
use async_nats::jetstream;
use reqwest::Method;
use testkit::TestDatabase;
use tokio::task::JoinSet;

use super::harness::Server;

on_both_backends!(database: every_event_reaches_jetstream_once_though_the_relaying_process_dies);

async fn every_event_reaches_jetstream_once_though_the_relaying_process_dies(
    database: &TestDatabase,
) {
    let Some(url) = std::env::var("TEST_NATS_URL").ok() else {
        eprintln!("SKIPPED: TEST_NATS_URL is not set (tests/nats/start.sh)");
        return;
    };
    // A stream and subjects of this test's own: tests run at once on one NATS server.
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (stream, prefix) = (format!("T{tag}"), format!("t{tag}"));
    let env = [
        ("CHECKOUT_NATS_URL", url.as_str()),
        ("CHECKOUT_NATS_STREAM", stream.as_str()),
        ("CHECKOUT_NATS_SUBJECT_PREFIX", prefix.as_str()),
    ];
    let logs = tempfile::tempdir().expect("a directory for the servers' logs");
    let first = Server::start(database, &logs.path().join("first.log"), &env).await;
    let product = first.api.create_product("NATS-1", 1_000).await;
    // The first process relays (it has sent the product's events) before the second starts.
    wait_for(Duration::from_secs(20), || async {
        first.api.metrics().await.contains("events_relayed_total{relay=\"nats\"}")
    })
    .await
    .expect("the first process relays");
    let second = Server::start(database, &logs.path().join("second.log"), &env).await;

    // Act: buyers on both processes; the relaying one is killed under them.
    let mut buyers = JoinSet::new();
    for api in [first.api.clone(), second.api.clone()] {
        for _ in 0..8 {
            let api = api.clone();
            buyers.spawn(async move {
                for _ in 0..25 {
                    let reply = api
                        .request(Method::POST, "/v1/checkout")
                        .json(
                            &serde_json::json!({"items": [{"product_id": product, "quantity": 1}]}),
                        )
                        .send()
                        .await;
                    if reply.is_err() {
                        return; // the process died
                    }
                }
            });
        }
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    drop(first); // SIGKILL
    buyers.join_all().await;
    let survivor = &second.api;

    // Assert: the stream catches up with the feed, then holds each event once.
    let feed = survivor.whole_feed().await;
    assert!(feed.len() > 10, "the load made events: {}", feed.len());
    let client = async_nats::connect(url.as_str()).await.expect("NATS");
    let jetstream = jetstream::new(client);
    let mut handle = jetstream.get_stream(&stream).await.expect("the relay created the stream");
    let caught_up = wait_for(Duration::from_secs(40), || {
        let handle = handle.clone();
        let expected = feed.len() as u64;
        async move {
            let mut handle = handle;
            handle.info().await.is_ok_and(|info| info.state.messages >= expected)
        }
    })
    .await;
    let stored = handle.info().await.expect("stream info").state.messages;
    assert!(caught_up.is_some(), "{stored} of {} events reached the stream", feed.len());
    assert_eq!(stored, feed.len() as u64, "each event once: repeats dropped by Nats-Msg-Id");
    let mut ids = HashSet::new();
    for (n, event) in (1..=stored).zip(&feed) {
        let message = handle.get_raw_message(n).await.expect("a stored message");
        let id = message.headers.get("Nats-Msg-Id").map(|v| v.to_string());
        assert_eq!(id.as_deref(), Some(event.id.as_str()), "in feed order");
        let subject = format!("{prefix}.{}.{}", event.event_type, event.subject);
        assert_eq!(message.subject.as_str(), subject);
        let body: CloudEvent = serde_json::from_slice(&message.payload).expect("a CloudEvent");
        assert_eq!((body.sequence, body.id.as_str()), (event.sequence, event.id.as_str()));
        ids.insert(event.id.clone());
    }
    assert_eq!(ids.len(), feed.len());
    jetstream.delete_stream(&stream).await.expect("the test's stream is deleted");
}

/// Polls `ready` every 100 ms until it holds (`Some`) or `within` has passed (`None`).
async fn wait_for<F, Fut>(within: Duration, ready: F) -> Option<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if ready().await {
            return Some(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}
