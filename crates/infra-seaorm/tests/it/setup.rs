//! Opening the database: URL schemes, and the SQLite settings every pooled connection must
//! carry for concurrent writers to queue instead of failing.

use std::time::{Duration, Instant};

use domain::access::Actor;
use domain::ports::{StockRepository, StoreError};
use infra_seaorm::SetupError;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};

use crate::fixtures::{product, qty, t0};
use crate::support::{Backend, TestDb, run};

#[tokio::test]
async fn an_unknown_url_scheme_is_refused() {
    let err = infra_seaorm::connect("redis://127.0.0.1/0").await.expect_err("not a database");
    assert!(matches!(&err, SetupError::UnsupportedScheme(s) if s == "redis"), "{err:?}");
}

#[tokio::test]
async fn a_sqlite_url_with_its_own_create_mode_opens_a_new_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (name, suffix) in [("a.db", "?mode=rwc"), ("b.db", "")] {
        let url = format!("sqlite://{}{suffix}", dir.path().join(name).display());
        let db = infra_seaorm::connect(&url).await.unwrap_or_else(|e| panic!("{url}: {e}"));
        infra_seaorm::migrate(&db).await.expect("migrate");
        assert!(dir.path().join(name).exists(), "{url} created its file");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sqlite_connection_runs_wal_full_sync_foreign_keys_and_a_busy_timeout() {
    run(Backend::Sqlite, async |db: &TestDb| {
        // Four open transactions hold four distinct pooled connections at once.
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(db.db.begin().await.expect("begin"));
        }
        for txn in &held {
            assert_eq!(pragma::<String>(txn, "journal_mode").await, "wal");
            assert_eq!(pragma::<i64>(txn, "synchronous").await, 2, "FULL");
            assert_eq!(pragma::<i64>(txn, "foreign_keys").await, 1);
            assert_eq!(pragma::<i64>(txn, "busy_timeout").await, 5000);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_writer_kept_waiting_past_the_busy_timeout_gets_a_transaction_conflict() {
    run(Backend::Sqlite, async |db: &TestDb| {
        let (_, mut read) = product(db, "BUSY-1", 5).await;
        let immediate = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        let writer = db.db.begin_with_options(immediate).await.expect("take the write lock");
        let change = read.reserve(qty(1)).expect("reserve");
        let started = Instant::now();

        let err =
            db.adapters.stock.save(change, None, Actor::Admin, None, t0()).await.expect_err("busy");

        assert!(matches!(err, StoreError::TransactionConflict(_)), "{err:?}");
        assert!(started.elapsed() >= Duration::from_secs(4), "it waited for the lock first");
        writer.rollback().await.expect("release the write lock");
        db.adapters
            .stock
            .save(change, None, Actor::Admin, None, t0())
            .await
            .expect("the retry goes through");
    })
    .await;
}

async fn pragma<T: sea_orm::TryGetable>(txn: &DatabaseTransaction, name: &str) -> T {
    let row = txn.query_one_raw(sql(name)).await.expect("pragma").expect("a row");
    row.try_get_by_index(0).expect("a value")
}

fn sql(pragma: &str) -> sea_orm::Statement {
    sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, format!("PRAGMA {pragma}"))
}
