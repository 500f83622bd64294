//! PostgreSQL behind a transaction pooler (PgBouncer, `pool_mode = transaction`), which hands
//! a server connection to another client between transactions: with the statement cache off,
//! every command of the binary works through it, start-up migrations included. The races of
//! the other suites that are marked `pooled:` run through it too.

use testkit::{Backend, TestDatabase};

use super::harness::{Server, command_with, on_database, text};

const CACHE_OFF: [(&str, &str); 1] = [("DATABASE_STATEMENT_CACHE", "off")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_serve_and_reconcile_work_through_a_transaction_pooler() {
    on_database(Backend::PgBouncer, async |database: &TestDatabase| {
        let url = database.url();

        // Act: migrate a fresh database through the pooler.
        let migrated = command_with(url, "migrate", &[], &CACHE_OFF).await;

        // Assert
        assert_eq!(migrated.status.code(), Some(0), "{}", text(&migrated.stderr));

        // Act: serve (its start-up migrations find the schema current), sell, pay, cancel.
        let logs = tempfile::tempdir().expect("a directory for the server's log");
        let server = Server::start(database, &logs.path().join("server.log"), &[]).await;
        let api = &server.api;
        let product = api.create_product("POOLED-1", 5).await;
        let kept = api.checkout(&[(product, 2)]).await;
        let dropped = api.checkout(&[(product, 1)]).await;
        let short = api.checkout(&[(product, 3)]).await;

        // Assert
        assert_eq!(
            [kept.status, dropped.status, short.status].map(|s| s.as_u16()),
            [201, 201, 409]
        );
        let kept: api::wire::OrderView = kept.json();
        let dropped: api::wire::OrderView = dropped.json();
        assert_eq!(api.pay(kept.id).await.status, 200);
        assert_eq!(api.cancel(dropped.id).await.status, 200);
        let stock = api.stock(product).await;
        assert_eq!((stock.on_hand, stock.reserved, stock.available), (3, 0, 3));
        drop(server);

        // Act: audit through the pooler.
        let audit = command_with(url, "reconcile", &[], &CACHE_OFF).await;

        // Assert
        assert_eq!(audit.status.code(), Some(0), "{}{}", text(&audit.stdout), text(&audit.stderr));
        assert_eq!(text(&audit.stdout).trim(), "1 product(s) checked: no drift");
    })
    .await;
}
