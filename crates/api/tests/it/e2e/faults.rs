//! Database faults under load: the server reaches PostgreSQL through [`FaultProxy`], which cuts
//! every connection at random moments while buyers check out and pay. Every answer must be a
//! right one or a retryable 503, never a 500; afterwards every 201 has its order, the stock
//! reconciles with the ledger and the orders, and the server finds the database again by
//! itself once it is back (`/readyz` 503 → 200 without a restart).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use api::wire::OrderView;
use reqwest::Method;
use testkit::{Backend, TestDatabase};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::client::Api;
use super::fault_proxy::FaultProxy;
use super::harness::{TestServer, on_database};

const BUYERS: usize = 16;
const LOAD: Duration = Duration::from_secs(6);

/// What one buyer saw: each checkout's (status, problem slug, order id if 201), and each
/// payment's (order, status).
#[derive(Default)]
struct Seen {
    checkouts: Vec<(u16, String, Option<Uuid>)>,
    payments: Vec<(Uuid, u16)>,
}

/// A pseudo-random number from a fresh v4 UUID: enough to spread carts and fault timings.
fn random(below: u64) -> u64 {
    (Uuid::new_v4().as_u128() % u128::from(below)) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_cut_under_load_give_no_wrong_answer_and_no_drift() {
    on_database(Backend::Postgres, async |database: &TestDatabase| {
        let (proxy, url) = FaultProxy::in_front_of(database).await;

        let server = TestServer::start(Backend::Postgres, &url, |_| {}).await;
        under_faults(server.api.clone(), &proxy).await;
        server.stop().await;
    })
    .await;
}

async fn under_faults(api: Api, proxy: &FaultProxy) {
    // Arrange
    let hot = api.create_product("FAULT-HOT", 300).await;
    let mut mixed = Vec::new();
    for n in 0..4 {
        mixed.push(api.create_product(&format!("FAULT-MIX-{n}"), 1_000).await);
    }

    // Act: buyers check out (and pay every third order) while the proxy cuts every database
    // connection at random moments, 50 to 300 ms apart.
    let deadline = Instant::now() + LOAD;
    let mut buyers = JoinSet::new();
    for _ in 0..BUYERS {
        let (api, mixed) = (api.clone(), mixed.clone());
        buyers.spawn(async move {
            let mut seen = Seen::default();
            while Instant::now() < deadline {
                let lines: Vec<(Uuid, i64)> = if random(2) == 0 {
                    vec![(hot, 1)]
                } else {
                    let first = random(4) as usize;
                    vec![(mixed[first], 1), (mixed[(first + 1) % 4], 1 + random(3) as i64)]
                };
                let reply = api.checkout(&lines).await;
                let order = (reply.status == 201).then(|| reply.json::<OrderView>().id);
                let (status, slug) = reply.outcome();
                seen.checkouts.push((status, slug, order));
                if let Some(order) = order.filter(|_| seen.checkouts.len() % 3 == 0) {
                    seen.payments.push((order, api.pay(order).await.status.as_u16()));
                }
            }
            seen
        });
    }
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50 + random(250))).await;
        proxy.cut_all();
    }
    let seen: Vec<Seen> = buyers.join_all().await;

    // Assert: only right answers or retryable ones.
    let mut tally = BTreeMap::new();
    for (status, slug, _) in seen.iter().flat_map(|s| &s.checkouts) {
        *tally.entry((*status, slug.clone())).or_insert(0_usize) += 1;
    }
    let mut payments = BTreeMap::new();
    for (_, status) in seen.iter().flat_map(|s| &s.payments) {
        *payments.entry(*status).or_insert(0_usize) += 1;
    }
    let (cuts, severed) = proxy.faults();
    eprintln!(
        "faults: {cuts} cuts ended {severed} open connections; checkouts {tally:?}; \
         payments {payments:?}"
    );
    for (status, slug) in tally.keys() {
        assert!(
            matches!((status, slug.as_str()), (201, "") | (409, "insufficient-stock") | (503, _)),
            "a checkout answered {status} {slug}: {tally:?}"
        );
    }
    assert!(payments.keys().all(|s| *s == 200 || *s == 503), "payments: {payments:?}");
    assert!(tally.get(&(201, String::new())).is_some_and(|n| *n > 0), "some checkouts won");
    assert!(cuts >= 10, "faults were injected: {cuts}");

    // Act: the database goes away, then comes back.
    proxy.set_up(false);
    wait_for_readiness(&api, 503).await;
    proxy.set_up(true);
    wait_for_readiness(&api, 200).await;

    // Assert: every 201 has its order (paid when its payment said 200), and nothing drifted.
    let paid: BTreeMap<Uuid, u16> = seen.iter().flat_map(|s| s.payments.iter().copied()).collect();
    for order in seen.iter().flat_map(|s| &s.checkouts).filter_map(|(_, _, o)| *o) {
        let stored = api.order(order).await;
        let expected: &[&str] = match paid.get(&order) {
            Some(200) => &["paid"],
            _ => &["reserved", "paid"],
        };
        assert!(expected.contains(&stored.status.as_str()), "order {order}: {}", stored.status);
    }
    let report = api.reconciliation().await;
    assert!(report.drift.is_empty(), "no drift: {:?}", report.drift);
}

/// Polls `/readyz` until it answers `status`, for at most 30 s.
async fn wait_for_readiness(api: &Api, status: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = api.send(api.request(Method::GET, "/readyz")).await;
        if reply.status == status {
            return;
        }
        assert!(Instant::now() < deadline, "/readyz never answered {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
