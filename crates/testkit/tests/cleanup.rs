//! What the suites rely on: a test's database is gone afterwards, whether the test passed,
//! panicked inside [`run`], or dropped its [`TestDatabase`] without closing it. SQLite always
//! runs; the servers run when `TEST_POSTGRES_URL` / `TEST_MYSQL_URL` name them.

use std::panic::AssertUnwindSafe;
use std::path::Path;

use futures::FutureExt;
use sea_orm::{ConnectionTrait, Database, Statement};
use testkit::{Backend, TestDatabase, run};

const BACKENDS: [Backend; 3] = [Backend::Sqlite, Backend::Postgres, Backend::MariaDb];

#[tokio::test]
async fn a_database_is_removed_after_a_passing_test() {
    for backend in BACKENDS {
        let mut seen = None;
        run(backend, "testkit", async |database: &TestDatabase| {
            assert!(exists(backend, database.name(), database.url()).await, "{backend:?}: created");
            seen = Some((database.name().to_owned(), database.url().to_owned()));
        })
        .await;
        if let Some((name, url)) = seen {
            assert!(!exists(backend, &name, &url).await, "{backend:?}: {name} was left behind");
        }
    }
}

#[tokio::test]
async fn a_database_is_removed_after_a_test_that_panicked() {
    for backend in BACKENDS {
        let mut seen = None;
        let outcome = AssertUnwindSafe(run(backend, "testkit", async |database: &TestDatabase| {
            seen = Some((database.name().to_owned(), database.url().to_owned()));
            panic!("the test fails midway");
        }))
        .catch_unwind()
        .await;
        if let Some((name, url)) = seen {
            assert!(outcome.is_err(), "{backend:?}: the panic goes on to fail the test");
            assert!(!exists(backend, &name, &url).await, "{backend:?}: {name} was left behind");
        }
    }
}

#[tokio::test]
async fn a_database_dropped_without_closing_is_removed_too() {
    for backend in BACKENDS {
        let Some(database) = TestDatabase::create(backend, "testkit").await else { continue };
        let (name, url) = (database.name().to_owned(), database.url().to_owned());
        assert!(exists(backend, &name, &url).await, "{backend:?}: created");
        drop(database);
        assert!(!exists(backend, &name, &url).await, "{backend:?}: {name} was left behind");
    }
}

#[tokio::test]
async fn names_are_unique_and_carry_the_prefix() {
    let first = TestDatabase::create(Backend::Sqlite, "testkit").await.expect("SQLite");
    let second = TestDatabase::create(Backend::Sqlite, "testkit").await.expect("SQLite");
    assert_ne!(first.name(), second.name());
    assert!(first.name().starts_with("testkit_"), "{}", first.name());
    assert!(first.url().starts_with("sqlite://") && first.url().ends_with(".db"));
    first.close().await;
    second.close().await;
}

/// Whether the database exists: the directory of the SQLite file `url` names (the file itself
/// appears only when a test connects), or the database `name` on the server.
async fn exists(backend: Backend, name: &str, url: &str) -> bool {
    let Some(var) = backend.env_var() else {
        let file = Path::new(url.strip_prefix("sqlite://").expect("a SQLite URL"));
        return file.parent().expect("a directory").exists();
    };
    let server =
        Database::connect(std::env::var(var).expect("the server URL")).await.expect("connect");
    let sql = match backend {
        backend if backend.is_postgres() => {
            format!("SELECT COUNT(*) FROM pg_database WHERE datname = '{name}'")
        }
        _ => {
            format!("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '{name}'")
        }
    };
    let stmt = Statement::from_string(server.get_database_backend(), sql);
    let row = server.query_one_raw(stmt).await.expect("query").expect("a row");
    let count: i64 = row.try_get_by_index(0).expect("a count");
    server.close().await.expect("close");
    count > 0
}
