//! A crash: the server is killed with SIGKILL in the middle of a load, restarted on the same
//! database, and reconciled. Whatever the dead process had committed is whole, whatever it had
//! not is absent (transactions), and the reservations it left unpaid still expire under the new
//! process's sweeper.

use std::time::{Duration, Instant};

use api::wire::OrderView;
use reqwest::Method;
use serde_json::json;
use tokio::task::JoinSet;
use uuid::Uuid;

use testkit::TestDatabase;

use super::harness::Server;

const UNITS: i64 = 10_000;
const BUYERS: usize = 16;

on_both_backends!(database: killed_under_load_then_restarted);

/// Reservations live 3 s and the sweeper looks every 200 ms, so expiry is seen within the test.
const SHORT_LIVED: [(&str, &str); 2] =
    [("CHECKOUT_RESERVATION_TTL", "3"), ("CHECKOUT_SWEEP_INTERVAL_MS", "200")];

async fn killed_under_load_then_restarted(database: &TestDatabase) {
    let backend = database.backend();
    let logs = tempfile::tempdir().expect("a directory for the servers' logs");
    let first = Server::start(database, &logs.path().join("first.log"), &SHORT_LIVED).await;
    let api = first.api.clone();
    let product = api.create_product("CRASH-1", UNITS).await;

    // Act: buyers check out as fast as they can; the server is killed under them.
    let mut buyers = JoinSet::new();
    for _ in 0..BUYERS {
        let api = api.clone();
        buyers.spawn(async move {
            let mut won = Vec::new();
            let mut failed = 0_usize;
            let body = json!({"items": [{"product_id": product, "quantity": 1}]});
            loop {
                match api.request(Method::POST, "/v1/checkout").json(&body).send().await {
                    Ok(reply) if reply.status() == 201 => {
                        won.push(reply.json::<OrderView>().await.expect("an order").id);
                    }
                    Ok(reply) => {
                        assert!(reply.status() == 503, "a live server answered {}", reply.status())
                    }
                    // The connection died with the server.
                    Err(_) => {
                        failed += 1;
                        if failed > 3 {
                            return won;
                        }
                    }
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    drop(first); // SIGKILL, then wait
    let won: Vec<Uuid> = buyers.join_all().await.into_iter().flatten().collect();
    assert!(!won.is_empty(), "the load was running when the server died");

    // Restart on the same database.
    let second = Server::start(database, &logs.path().join("second.log"), &SHORT_LIVED).await;
    let api = second.api.clone();
    let report = api.reconciliation().await;
    assert!(report.drift.is_empty(), "no drift after the crash: {:?}", report.drift);
    let stock = api.stock(product).await;
    eprintln!(
        "crash on {backend:?}: {} orders answered 201 before the kill, {} units reserved after it",
        won.len(),
        stock.reserved
    );
    assert!(stock.reserved >= won.len() as i64, "every 201 kept its reservation");

    // Assert: every unpaid reservation of the dead process expires under the new one.
    let deadline = Instant::now() + Duration::from_secs(30);
    while api.stock(product).await.reserved > 0 {
        assert!(Instant::now() < deadline, "reservations did not expire");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for order in &won {
        assert_eq!(api.order(*order).await.status, "expired");
    }
    let report = api.reconciliation().await;
    assert!(report.drift.is_empty(), "no drift after expiry: {:?}", report.drift);
    let stock = api.stock(product).await;
    assert_eq!((stock.on_hand, stock.reserved), (UNITS, 0));

    drop(second);
}
