//! Exactly once: buyers check out with their own `Idempotency-Key` each while something breaks
//! under them — the server is killed with SIGKILL and restarted, or every PostgreSQL connection
//! is cut (by the fault proxy and by `pg_terminate_backend`) — and every request that got no
//! answer or a 5xx is retried with its key after the stale-claim window. Orders whose commit
//! landed although their answer was lost (the key's effect is in the same transaction) are
//! answered from the database, not made again: the database holds exactly one order per key
//! that was answered 201, and no order that no client was told about.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use api::wire::OrderView;
use reqwest::Method;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use testkit::{Backend, TestDatabase};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::client::Api;
use super::fault_proxy::FaultProxy;
use super::harness::{Server, TestServer, on_database};

const PRODUCTS: usize = 3;
const UNITS: i64 = 100_000;
const BUYERS: usize = 16;

on_both_backends!(database: a_retried_key_never_makes_a_second_order_across_a_kill);

/// A 2 s request timeout makes an unfinished claim stale after 4 s (twice the timeout).
const QUICK_STALE: [(&str, &str); 1] = [("CHECKOUT_REQUEST_TIMEOUT", "2")];
/// Longer than the stale window of [`QUICK_STALE`].
const PAST_STALE: Duration = Duration::from_secs(5);

/// What one keyed request got back.
#[derive(Debug)]
enum Outcome {
    Placed(Uuid),
    /// A 5xx, or no answer at all: the client cannot know whether the order exists.
    Unknown,
}

/// Every keyed request: its key, the body it was sent with, and what came back.
type Requests = BTreeMap<String, (Value, Outcome)>;

/// When a buyer stops.
#[derive(Clone, Copy)]
enum Until {
    /// After a few requests got no answer at all (the server is gone).
    ConnectionsFail,
    /// At this moment.
    Deadline(Instant),
}

async fn a_retried_key_never_makes_a_second_order_across_a_kill(database: &TestDatabase) {
    let logs = tempfile::tempdir().expect("a directory for the servers' logs");
    let first = Server::start(database, &logs.path().join("first.log"), &QUICK_STALE).await;
    let products = products(&first.api).await;

    // Act: keyed checkouts as fast as they come; the server dies under them.
    let load = keyed_load(&first.api, &products, Until::ConnectionsFail);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    drop(first); // SIGKILL, then wait
    let mut requests = load.join_all().await.into_iter().flatten().collect();

    // Restart, wait out the stale window, retry every request whose outcome is unknown.
    let second = Server::start(database, &logs.path().join("second.log"), &QUICK_STALE).await;
    tokio::time::sleep(PAST_STALE).await;
    let retried = retry_unknown(&second.api, &mut requests).await;

    // Assert
    let label = format!("exactly once across a kill on {:?}", database.backend());
    one_order_per_key(&second.api, &products, &requests, retried, &label).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_key_never_makes_a_second_order_across_cut_connections() {
    on_database(Backend::Postgres, async |database: &TestDatabase| {
        let (proxy, url) = FaultProxy::in_front_of(database).await;
        let server =
            TestServer::start(Backend::Postgres, &url, |config| config.request_timeout = 2).await;
        let products = products(&server.api).await;
        let admin = sea_orm::Database::connect(std::env::var("TEST_POSTGRES_URL").expect("set"))
            .await
            .expect("an admin connection");

        // Act: keyed checkouts for 5 s while every server connection is cut at random moments,
        // alternately by the proxy and by the server's own pg_terminate_backend.
        let deadline = Instant::now() + Duration::from_secs(5);
        let load = keyed_load(&server.api, &products, Until::Deadline(deadline));
        let (mut cuts, mut terminated) = (0, 0_u64);
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(
                100 + u64::from(Uuid::new_v4().as_u128() as u8),
            ))
            .await;
            if cuts % 2 == 0 {
                proxy.cut_all();
            } else {
                let sql = format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = '{}' AND pid <> pg_backend_pid()",
                    database.name()
                );
                terminated +=
                    admin.execute_unprepared(&sql).await.expect("terminate").rows_affected();
            }
            cuts += 1;
        }
        let mut requests = load.join_all().await.into_iter().flatten().collect();
        tokio::time::sleep(PAST_STALE).await;
        let retried = retry_unknown(&server.api, &mut requests).await;

        // Assert
        let (proxy_cuts, severed) = proxy.faults();
        let label = format!(
            "exactly once across cut connections ({proxy_cuts} proxy cuts ending {severed} \
             connections, {terminated} backends terminated)"
        );
        assert!(cuts >= 10, "faults were injected: {cuts}");
        one_order_per_key(&server.api, &products, &requests, retried, &label).await;
        admin.close().await.expect("close the admin connection");
        server.stop().await;
    })
    .await;
}

async fn products(api: &Api) -> Vec<Uuid> {
    let mut products = Vec::new();
    for n in 0..PRODUCTS {
        products.push(api.create_product(&format!("ONCE-{n}"), UNITS).await);
    }
    products
}

/// [`BUYERS`] buyers sending keyed checkouts of one unit until `until`.
fn keyed_load(
    api: &Api,
    products: &[Uuid],
    until: Until,
) -> JoinSet<Vec<(String, (Value, Outcome))>> {
    let mut buyers = JoinSet::new();
    for buyer in 0..BUYERS {
        let (api, products) = (api.clone(), products.to_vec());
        buyers.spawn(async move { keyed_buyer(&api, buyer, &products, until).await });
    }
    buyers
}

/// One buyer's keyed checkouts: each key with the body it was sent with and what came back.
async fn keyed_buyer(
    api: &Api,
    buyer: usize,
    products: &[Uuid],
    until: Until,
) -> Vec<(String, (Value, Outcome))> {
    let mut requests = Vec::new();
    let mut failed = 0;
    for n in 0.. {
        match until {
            Until::ConnectionsFail if failed > 3 => break,
            Until::Deadline(deadline) if Instant::now() >= deadline => break,
            _ => {}
        }
        let key = format!("buyer-{buyer}-{n}");
        let product = products[(buyer + n) % products.len()];
        let body = json!({"items": [{"product_id": product, "quantity": 1}]});
        let request = api.request(Method::POST, "/v1/checkout").header("idempotency-key", &key);
        let outcome = match request.json(&body).send().await {
            Ok(reply) if reply.status() == 201 => {
                Outcome::Placed(reply.json::<OrderView>().await.expect("an order").id)
            }
            Ok(reply) => {
                let status = reply.status();
                assert!(status.is_server_error(), "a live server answered {status}");
                Outcome::Unknown
            }
            Err(_) => {
                failed += 1;
                Outcome::Unknown
            }
        };
        requests.push((key, (body, outcome)));
    }
    requests
}

/// Retries every request whose outcome is unknown, with its key and body, until it is
/// answered 201; returns how many of those answers were replayed (the first request's commit
/// had landed) rather than placed afresh.
async fn retry_unknown(api: &Api, requests: &mut Requests) -> (usize, usize) {
    let (mut replayed, mut fresh) = (0, 0);
    for (key, (body, outcome)) in requests.iter_mut() {
        if matches!(outcome, Outcome::Placed(_)) {
            continue;
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        let reply = loop {
            let request = api.request(Method::POST, "/v1/checkout").header("idempotency-key", key);
            let reply = api.send(request.json(&*body)).await;
            // A connection the faults left broken may still fail a retry: retry it again.
            if reply.status != 503 || Instant::now() > deadline {
                break reply;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(reply.status, 201, "the retry of {key}: {}", reply.text());
        if reply.header("idempotent-replayed") == Some("true") {
            replayed += 1;
        } else {
            fresh += 1;
        }
        *outcome = Outcome::Placed(reply.json::<OrderView>().id);
    }
    (replayed, fresh)
}

/// Every key was answered with its own order, and the orders in the database are exactly those.
async fn one_order_per_key(
    api: &Api,
    products: &[Uuid],
    requests: &Requests,
    (replayed, fresh): (usize, usize),
    label: &str,
) {
    let told: BTreeSet<Uuid> = requests
        .values()
        .map(|(_, outcome)| match outcome {
            Outcome::Placed(id) => *id,
            Outcome::Unknown => unreachable!("every request was retried"),
        })
        .collect();
    let mut reserved = 0;
    for product in products {
        reserved += api.stock(*product).await.reserved;
    }
    eprintln!(
        "{label}: {} keyed requests, {} unanswered or 5xx, retried with their keys: {replayed} \
         replayed from a commit that had landed, {fresh} placed afresh; {reserved} units \
         reserved for {} orders told",
        requests.len(),
        replayed + fresh,
        told.len()
    );
    assert!(requests.len() > replayed + fresh, "the load was running when the faults hit");
    assert_eq!(told.len(), requests.len(), "one order per key, no order for two keys");
    assert_eq!(reserved, told.len() as i64, "one unit per order told, and no order untold");
    for id in told.iter().take(20) {
        assert_eq!(api.order(*id).await.status, "reserved");
    }
    let report = api.reconciliation().await;
    assert!(report.drift.is_empty(), "no drift: {:?}", report.drift);
}
