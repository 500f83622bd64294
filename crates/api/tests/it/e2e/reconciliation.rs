//! Reconciliation end to end: the admin endpoint after a real history, and the
//! `checkout-api reconcile` command's exit codes on a clean database, after a hand edit of the
//! stock, and without a database.

use std::process::Output;

use api::Application;
use api::cli::Config;
use api::wire::ReconciliationView;
use reqwest::Method;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use testkit::{Backend, TestDatabase};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::client::{Api, TOKEN};
use super::harness::{command, text};

on_both_backends!(after_checkouts_payments_cancellations_and_adjustments_nothing_drifted);
on_both_backends!(the_reconciliation_needs_the_admin_token);
on_both_backends!(database: reconcile_exits_0_when_clean_and_1_after_a_hand_edit);

async fn after_checkouts_payments_cancellations_and_adjustments_nothing_drifted(api: Api) {
    // Arrange
    let (shirt, mug) =
        (api.create_product("RECON-1", 10).await, api.create_product("RECON-2", 4).await);
    history(&api, shirt, mug).await;

    // Act
    let reply = api.send(api.admin(Method::GET, "/v1/admin/reconciliation")).await;

    // Assert
    assert_eq!(reply.status, 200, "{}", reply.text());
    let report: ReconciliationView = reply.json();
    assert_eq!(report.products_checked, 2);
    assert!(report.drift.is_empty(), "{}", reply.text());
}

async fn the_reconciliation_needs_the_admin_token(api: Api) {
    for bearer in [None, Some("wrong")] {
        // Arrange
        let mut request = api.request(Method::GET, "/v1/admin/reconciliation");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }

        // Act
        let reply = api.send(request).await;

        // Assert
        reply.assert_problem(401, "unauthorized");
    }
}

/// Reservations of both products, one paid, one cancelled, one left open, and a delivery.
async fn history(api: &Api, shirt: Uuid, mug: Uuid) {
    let paid = api.reserve(&[(shirt, 2), (mug, 1)]).await;
    let cancelled = api.reserve(&[(shirt, 3)]).await;
    api.reserve(&[(mug, 2), (shirt, 1)]).await;
    assert_eq!(api.pay(paid.id).await.status, 200);
    assert_eq!(api.cancel(cancelled.id).await.status, 200);
    let delivery = api
        .admin(Method::POST, &format!("/v1/products/{mug}/stock/adjustments"))
        .json(&serde_json::json!({"delta": 6, "reason": "delivery"}));
    assert_eq!(api.send(delivery).await.status, 200);
}

#[tokio::test]
async fn reconcile_exits_2_when_the_database_cannot_be_opened() {
    // Arrange
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("missing").join("x.db").display());

    // Act
    let output = reconcile(&url, &[]).await;

    // Assert
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty(), "no report: {}", text(&output.stdout));
    assert!(!dir.path().join("missing").exists(), "an audit creates nothing");
}

async fn reconcile_exits_0_when_clean_and_1_after_a_hand_edit(database: &TestDatabase) {
    let (backend, url) = (database.backend(), database.url());

    // Arrange: a history written by the real server, which is then stopped.
    let (shirt, mug) = with_server(backend, url, async |api: Api| {
        let ids = (api.create_product("CMD-1", 10).await, api.create_product("CMD-2", 4).await);
        history(&api, ids.0, ids.1).await;
        ids
    })
    .await;

    // Act
    let clean = reconcile(url, &[]).await;

    // Assert
    assert_eq!(clean.status.code(), Some(0), "{}{}", text(&clean.stdout), text(&clean.stderr));
    assert_eq!(text(&clean.stdout).trim(), "2 product(s) checked: no drift");

    // Arrange: one unit reserved by hand, behind the ledger's and the orders' back.
    let sql = match backend {
        Backend::Sqlite | Backend::MariaDb => {
            "UPDATE product_stock SET reserved = reserved + 1 WHERE product_id = ?"
        }
        Backend::Postgres | Backend::PgBouncer | Backend::Replicated => {
            "UPDATE product_stock SET reserved = reserved + 1 WHERE product_id = $1"
        }
    };
    let db = sea_orm::Database::connect(url).await.expect("connect");
    let backend_kind: DbBackend = db.get_database_backend();
    let edit = Statement::from_sql_and_values(backend_kind, sql, [shirt.into()]);
    assert_eq!(db.execute_raw(edit).await.expect("the hand edit").rows_affected(), 1);
    db.close().await.expect("close");

    // Act
    let table = reconcile(url, &[]).await;
    let json = reconcile(url, &["--json"]).await;

    // Assert
    assert_eq!(table.status.code(), Some(1), "{}{}", text(&table.stdout), text(&table.stderr));
    let shown = text(&table.stdout);
    assert!(shown.starts_with("2 product(s) checked: 1 drifted"), "{shown}");
    assert!(shown.contains(&shirt.to_string()) && !shown.contains(&mug.to_string()), "{shown}");
    assert_eq!(json.status.code(), Some(1), "{}", text(&json.stderr));
    let report: ReconciliationView = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!((report.products_checked, report.drift.len()), (2, 1));
    let drift = &report.drift[0];
    assert_eq!(drift.product_id, shirt);
    assert_eq!(drift.problems, ["reserved-differs-from-ledger", "reserved-differs-from-orders"]);
    assert_eq!(drift.stored.map(|s| s.reserved), Some(2), "the open order's 1, plus 1 by hand");
    assert_eq!((drift.ledger.map(|l| l.reserved), drift.reserved_by_orders), (Some(1), 1));
}

/// Runs `scenario` against a server on `url`, then stops the server.
async fn with_server<T>(backend: Backend, url: &str, scenario: impl AsyncFnOnce(Api) -> T) -> T {
    let mut config = Config::defaults();
    config.database_url = url.to_owned();
    config.bind = "127.0.0.1:0".parse().expect("an address");
    config.admin_token = Some(TOKEN.into());
    let app = Application::build(&config).await.expect("the server starts");
    let api = Api::new(backend, app.local_addr().expect("a bound address"));
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(app.run(async move {
        let _ = stopped.await;
    }));
    let result = scenario(api).await;
    let _ = stop.send(());
    serving.await.expect("the server task").expect("the server stops cleanly");
    result
}

/// `checkout-api reconcile <args>` over `url`, run to completion.
async fn reconcile(url: &str, args: &[&str]) -> Output {
    command(url, "reconcile", args).await
}
