//! Reads from a streaming replica (`DATABASE_READ_URL`), made by pg_basebackup
//! (`tests/replica/start.sh`): the catalogue, stock and ledger a client reads come from the
//! replica, so they may lag; orders and every checkout's decision come from the primary. With
//! the replica's replay paused, checkouts still sell exactly what the primary has, orders are
//! readable at once, and the stock read shows the replica's older state until replay resumes.

use std::time::{Duration, Instant};

use api::wire::{OrderView, StockView};
use reqwest::Method;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use testkit::{Backend, TestDatabase};
use uuid::Uuid;

use super::client::Api;
use super::harness::{Server, command_with, on_database, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogue_reads_come_from_the_replica_and_checkouts_decide_on_the_primary() {
    on_database(Backend::Replicated, async |database: &TestDatabase| {
        let replica_url = testkit::replica_url(database).expect("TEST_REPLICA_URL is set");
        // CREATE DATABASE reaches the replica by replay: wait for it, and undo any pause an
        // earlier, failed run left behind.
        let replica = connect_when_there(&replica_url).await;
        replay(&replica, "resume").await;
        let logs = tempfile::tempdir().expect("a directory for the server's log");
        let log = logs.path().join("server.log");
        let server = Server::start(database, &log, &[("DATABASE_READ_URL", &replica_url)]).await;
        let api = &server.api;

        // Arrange: a product of 3 units, as the replica sees it too; then replay stops.
        let product = api.create_product("REPLICA-1", 3).await;
        let seen = eventually(api, product, |s| s.available == 3).await;
        assert_eq!(seen.version, 1);
        replay(&replica, "pause").await;

        // Act: four buyers of one unit each.
        let mut answers = Vec::new();
        for _ in 0..4 {
            answers.push(api.checkout(&[(product, 1)]).await);
        }

        // Assert: decided on the primary: three sold, the fourth refused.
        let statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
        assert_eq!(statuses, [201, 201, 201, 409]);
        for answer in &answers[..3] {
            // Orders are read from the primary: there at once.
            let order = answer.json::<OrderView>();
            assert_eq!(api.order(order.id).await.id, order.id);
        }
        // The stock a client reads is the paused replica's: the product as it was created.
        let stale = read_stock(api, product).await.expect("the replica has the product");
        assert_eq!((stale.reserved, stale.available, stale.version), (0, 3, 1));

        // Act: replay resumes.
        replay(&replica, "resume").await;

        // Assert: the reads catch up with what the primary committed, ledger included.
        let fresh = eventually(api, product, |s| s.version == 4).await;
        assert_eq!((fresh.on_hand, fresh.reserved, fresh.available), (3, 3, 0));
        let ledger = api.movements(product).await;
        assert_eq!(ledger.len(), 4, "the creation and three reservations");
        drop(server);
        replica.close().await.expect("close the replica connection");
    })
    .await;
}

/// `pg_wal_replay_<action>()` on the replica.
async fn replay(replica: &DatabaseConnection, action: &str) {
    let sql = format!("SELECT pg_wal_replay_{action}()");
    replica.execute_unprepared(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A connection to the replica's copy of the database, once replay has created it.
async fn connect_when_there(url: &str) -> DatabaseConnection {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match Database::connect(url).await {
            Ok(db) => return db,
            Err(err) => assert!(Instant::now() < deadline, "the replica never had it: {err}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `GET …/stock`: the view, or `None` while the replica has not got the product yet.
async fn read_stock(api: &Api, product: Uuid) -> Option<StockView> {
    let path = format!("/v1/products/{product}/stock");
    let reply = api.send(api.request(Method::GET, &path)).await;
    match reply.status.as_u16() {
        200 => Some(reply.json()),
        404 => None,
        other => panic!("{path}: {other} {}", reply.text()),
    }
}

/// The stock as read, once it satisfies `wanted` (within 30 s).
async fn eventually(api: &Api, product: Uuid, wanted: impl Fn(&StockView) -> bool) -> StockView {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let read = read_stock(api, product).await;
        match read {
            Some(stock) if wanted(&stock) => return stock,
            _ => assert!(Instant::now() < deadline, "the reads never caught up: {read:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_read_replica_of_another_backend_is_refused_at_start() {
    // Arrange
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let replica = [("DATABASE_READ_URL", "postgres://postgres@127.0.0.1:1/x")];

    // Act
    let output = command_with(&url, "serve", &[], &replica).await;

    // Assert
    assert_eq!(output.status.code(), Some(1));
    let said = text(&output.stderr);
    assert!(said.contains("DATABASE_READ_URL names a postgres: database"), "{said}");
    assert!(!said.contains("127.0.0.1:1"), "no URL in the message: {said}");
}
