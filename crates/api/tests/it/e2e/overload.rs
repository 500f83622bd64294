//! Under overload: no buyer told "failed" holds a reservation, a stuck lock holder is answered
//! in time, and a burst far above what the server can take is shed at once with bounded
//! queues and flat memory.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use api::cli::Config;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, TransactionTrait, Value};
use testkit::{Backend, TestDatabase};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::client::Api;
use super::harness::{Server, TestServer, on_database};
use crate::support::Reply;

on_both_backends!(database: a_lock_held_past_the_timeout_leaves_no_reservation_nobody_was_told_of);
on_both_backends!(database: without_group_commit_a_lock_held_past_the_timeout_loses_no_connection);
on_both_backends!(database: payments_and_cancellations_cut_by_the_timeout_are_made_once_when_retried);
on_both_backends!(database: a_burst_far_above_capacity_is_shed_at_once_with_flat_memory);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_held_past_the_timeout_on_mariadb() {
    on_database(
        Backend::MariaDb,
        a_lock_held_past_the_timeout_leaves_no_reservation_nobody_was_told_of,
    )
    .await;
}

/// How long another session holds the hot product's row lock (on SQLite: the write lock).
const HOLD: Duration = Duration::from_secs(3);
/// The server's request timeout in this test.
const TIMEOUT: Duration = Duration::from_secs(1);

/// How soon after the lock is gone a timed-out request's key is let go at the latest: the
/// release's retry pause (250 ms at most) and its own wait for SQLite's lock (250 ms), with
/// slack for a loaded CI machine.
const SETTLE: Duration = Duration::from_millis(1_500);

/// One answer a buyer got: status, problem slug, how long it took, the order if one was
/// placed, when it was asked.
type Told = (u16, String, Duration, Option<Uuid>, Instant);

async fn a_lock_held_past_the_timeout_leaves_no_reservation_nobody_was_told_of(
    database: &TestDatabase,
) {
    let server = TestServer::start(database.backend(), database.url(), timing_out).await;
    bounded(buyers_wait_out_a_held_lock(database, server)).await;
}

/// The same without group commit (`--group-commit-lanes 0`): each checkout commits inside its
/// request, so the request timeout cuts statements while they wait for the lock, and the
/// database later fails them (its lock timeout). Every connection they leave behind must go
/// back to the pool or be closed: a hard close over TLS used to wait for the server to speak,
/// forever, and each one cost the pool a connection for good, until every request timed out
/// and the server could not stop (vendor/README.md, `sqlx-core`'s rustls flush).
async fn without_group_commit_a_lock_held_past_the_timeout_loses_no_connection(
    database: &TestDatabase,
) {
    let server = TestServer::start(database.backend(), database.url(), |config| {
        timing_out(config);
        config.group_commit_lanes = 0;
    })
    .await;
    bounded(buyers_wait_out_a_held_lock(database, server)).await;
}

/// The server's settings in these tests: requests stopped after [`TIMEOUT`].
fn timing_out(config: &mut Config) {
    config.request_timeout = u32::try_from(TIMEOUT.as_secs()).expect("seconds");
}

/// Runs `scenario`, failing if it has not finished in a minute (about ten times what it takes):
/// callers who never get a final answer mean the server lost its connections.
async fn bounded(scenario: impl Future<Output = ()>) {
    if tokio::time::timeout(Duration::from_secs(60), scenario).await.is_err() {
        panic!("no final answer within a minute: the server lost its connections");
    }
}

/// 32 buyers check out the hot product of `server` while another session holds its row lock
/// for [`HOLD`], past the request timeout; every answer is a 201 or a 503 in time, every buyer
/// ends with an order, every reserved unit is one a buyer was told of, and the server stops.
async fn buyers_wait_out_a_held_lock(database: &TestDatabase, server: TestServer) {
    let api = server.api.clone();
    let hot = api.create_product("LOCK-HOT", 100).await;
    let holder = Database::connect(database.url()).await.expect("a second session");
    let lock = holder.begin().await.expect("begin");
    lock.execute_raw(lock_row(holder.get_database_backend(), hot)).await.expect("lock the row");
    let released_at = Instant::now() + HOLD;

    // Act: 32 buyers, half of them with an Idempotency-Key, check out one unit each and retry
    // every 503 (the keyed ones with the same key) until they get a final answer.
    let mut buyers = JoinSet::new();
    for n in 0..32 {
        let api = api.clone();
        let key = (n % 2 == 0).then(|| format!("lock-{n}-{}", Uuid::new_v4()));
        buyers.spawn(async move { buy_until_final(&api, key.as_deref(), hot).await });
    }
    tokio::time::sleep_until(released_at.into()).await;
    lock.rollback().await.expect("let the row go");
    let told: Vec<Vec<Told>> = buyers.join_all().await;

    // Assert
    let all: Vec<&Told> = told.iter().flatten().collect();
    let timed_out = all.iter().filter(|(status, ..)| *status == 503).count();
    let placed: BTreeSet<Uuid> = all.iter().filter_map(|(.., order, _)| *order).collect();
    assert!(timed_out >= 32, "every buyer waited past the timeout at least once: {timed_out}");
    for (status, slug, took, _, at) in &all {
        // On SQLite the other session's write lock also keeps a timed-out request from
        // letting its key go; the release is retried and made once the lock is gone.
        let in_use = (*status, slug.as_str()) == (409, "idempotency-key-in-use");
        assert!(
            matches!(*status, 201 | 503) || in_use && *at < released_at + SETTLE,
            "only 201 or 503 (a key in use only while the lock is held): {status} {slug}"
        );
        // In time: the timeout plus scheduling slack on a loaded CI machine, well short of
        // the 3 s the lock is held.
        assert!(*took < TIMEOUT + Duration::from_secs(1), "answered in time: {took:?}");
    }
    for answers in &told {
        let (status, ..) = answers.last().expect("an answer");
        assert_eq!(*status, 201, "every buyer ends with an order once the lock is gone");
    }
    let stock = api.stock(hot).await;
    assert_eq!(
        stock.reserved,
        i64::try_from(placed.len()).expect("a count"),
        "every reserved unit is an order some buyer was given ({} answers, {timed_out} 503s)",
        all.len()
    );
    assert!(api.reconciliation().await.drift.is_empty(), "the ledger agrees");
    holder.close().await.expect("close");
    server.stop().await;
}

/// Payments and cancellations run inside their request: a row lock held past the request
/// timeout cuts them mid-statement. Each caller is told 503 in time, nothing is half-written,
/// every retry once the lock is gone ends the order as asked exactly once, and the server keeps
/// its connections (it still sells, and it stops).
async fn payments_and_cancellations_cut_by_the_timeout_are_made_once_when_retried(
    database: &TestDatabase,
) {
    let server = TestServer::start(database.backend(), database.url(), timing_out).await;
    bounded(settle_orders_past_a_held_lock(database, server)).await;
}

/// How many orders are paid, and how many cancelled, in
/// [`payments_and_cancellations_cut_by_the_timeout_are_made_once_when_retried`].
const SETTLED: usize = 8;

async fn settle_orders_past_a_held_lock(database: &TestDatabase, server: TestServer) {
    let api = server.api.clone();
    let product = api.create_product("LOCK-SETTLE", 100).await;
    let mut orders = Vec::new();
    for _ in 0..2 * SETTLED {
        orders.push(api.reserve(&[(product, 1)]).await.id);
    }
    let holder = Database::connect(database.url()).await.expect("a second session");
    let lock = holder.begin().await.expect("begin");
    lock.execute_raw(lock_row(holder.get_database_backend(), product)).await.expect("lock the row");
    let released_at = Instant::now() + HOLD;

    // Act: half the orders paid, half cancelled, each retried on every 503 until final.
    let mut settling = JoinSet::new();
    for (n, order) in orders.iter().copied().enumerate() {
        let api = api.clone();
        settling.spawn(async move {
            let pay = n < SETTLED;
            let mut told = Vec::new();
            loop {
                let started = Instant::now();
                let reply = if pay { api.pay(order).await } else { api.cancel(order).await };
                told.push((reply.status.as_u16(), started.elapsed()));
                if reply.status != 503 {
                    return told;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    }
    tokio::time::sleep_until(released_at.into()).await;
    lock.rollback().await.expect("let the row go");
    let told: Vec<Vec<(u16, Duration)>> = settling.join_all().await;

    // Assert
    let cut = told.iter().flatten().filter(|(status, _)| *status == 503).count();
    assert!(cut >= 2 * SETTLED, "every call waited past the timeout at least once: {cut}");
    for (status, took) in told.iter().flatten() {
        assert!(matches!(*status, 200 | 503), "only 200 or 503: {status}");
        assert!(*took < TIMEOUT + Duration::from_secs(1), "answered in time: {took:?}");
    }
    for (n, order) in orders.iter().enumerate() {
        let expected = if n < SETTLED { "paid" } else { "cancelled" };
        assert_eq!(api.order(*order).await.status, expected, "order {n}");
    }
    let stock = api.stock(product).await;
    let settled = i64::try_from(SETTLED).expect("a count");
    assert_eq!((stock.on_hand, stock.reserved), (100 - settled, 0), "each sold or released once");
    let kinds: Vec<String> = api.movements(product).await.into_iter().map(|m| m.kind).collect();
    for kind in ["sell", "release"] {
        let made = kinds.iter().filter(|k| k.as_str() == kind).count();
        assert_eq!(made, SETTLED, "one {kind} entry per order in the ledger: {kinds:?}");
    }
    api.assert_no_drift().await;
    // Connections kept: the server still sells at once, and stops.
    let started = Instant::now();
    api.reserve(&[(product, 1)]).await;
    assert!(started.elapsed() < TIMEOUT, "a checkout after the storm: {:?}", started.elapsed());
    holder.close().await.expect("close");
    server.stop().await;
}

/// Checks out one unit of `product` until the answer is not a 503; returns every answer.
async fn buy_until_final(api: &Api, key: Option<&str>, product: Uuid) -> Vec<Told> {
    let mut told = Vec::new();
    loop {
        let started = Instant::now();
        let reply = match key {
            Some(key) => api.checkout_with_key(key, &[(product, 1)]).await,
            None => api.checkout(&[(product, 1)]).await,
        };
        let (status, slug) = reply.outcome();
        let retry = status == 503 || slug == "idempotency-key-in-use";
        told.push((status, slug, started.elapsed(), placed(&reply), started));
        if !retry {
            return told;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The order a 201 placed.
fn placed(reply: &Reply) -> Option<Uuid> {
    (reply.status == 201).then(|| reply.json::<serde_json::Value>()["id"].as_str()?.parse().ok())?
}

/// An UPDATE that changes nothing but takes `product`'s stock row lock.
fn lock_row(backend: DbBackend, product: Uuid) -> Statement {
    let placeholder = if backend == DbBackend::Postgres { "$1" } else { "?" };
    let sql =
        format!("UPDATE product_stock SET version = version WHERE product_id = {placeholder}");
    Statement::from_sql_and_values(backend, sql, [Value::from(product)])
}

/// Concurrent checkouts per burst: far above the 8 that may wait in the server's one lane.
const BURST: usize = 1_000;

async fn a_burst_far_above_capacity_is_shed_at_once_with_flat_memory(database: &TestDatabase) {
    let log = tempfile::NamedTempFile::new().expect("a log file");
    let settings = [("CHECKOUT_GROUP_COMMIT_LANES", "1"), ("CHECKOUT_GROUP_COMMIT_QUEUE", "8")];
    let server = Server::start(database, log.path(), &settings).await;
    let api = server.api.clone();
    // Each burst gets at least a queue's worth (8) of buyers through, so 16 units are gone
    // after two bursts at the latest: the third's buyers who get through are told 409.
    let hot = api.create_product("BURST-HOT", 16).await;

    let mut statuses = Vec::new();
    let mut resident = Vec::new();
    for _ in 0..3 {
        let mut burst = JoinSet::new();
        for _ in 0..BURST {
            let api = api.clone();
            burst.spawn(async move {
                let started = Instant::now();
                let reply = api.checkout(&[(hot, 1)]).await;
                (reply.outcome(), reply.header("retry-after").is_some(), started.elapsed())
            });
        }
        statuses.extend(burst.join_all().await);
        resident.push(server.process.resident_kib().expect("the server's memory"));
    }

    let count = |wanted: u16| statuses.iter().filter(|((status, _), ..)| *status == wanted).count();
    let (created, short, shed) = (count(201), count(409), count(503));
    eprintln!("{BURST} x 3: {created} 201, {short} 409, {shed} 503; resident KiB {resident:?}");
    assert_eq!(created + short + shed, 3 * BURST, "only 201, 409 and 503");
    let overloaded = statuses.iter().filter(|((_, slug), ..)| slug == "overloaded").count();
    assert!(overloaded > 0, "a full queue sheds load at once: 503 overloaded");
    for ((status, slug), retry_after, _) in &statuses {
        if *status == 503 {
            assert!(*retry_after, "a shed request says when to come back ({slug})");
        }
    }
    assert!(short > 0, "the product sold out");
    let stock = api.stock(hot).await;
    assert_eq!(stock.reserved, i64::try_from(created).expect("a count"), "reserved = 201s");
    let growth = resident[2].saturating_sub(resident[0]);
    assert!(growth < 32 * 1024, "memory stays flat across bursts: {resident:?} KiB");
}
