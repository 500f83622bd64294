//! Throwaway databases for the tests: a temporary SQLite file, or a uniquely named database
//! created on the PostgreSQL / MariaDB server named by the environment, dropped afterwards.

use std::any::Any;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm_migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend};

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
    MariaDb,
}

/// Runs `body` against a fresh, empty database of `backend`, then removes that database even
/// when `body` panicked. Returns without running `body` when the server URL is not configured.
pub async fn with_db<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
            let db = Database::connect(&url).await.expect("connect to SQLite");
            resume(run_isolated(db, body).await);
        }
        Backend::Postgres => with_server_db("TEST_POSTGRES_URL", "PostgreSQL", body).await,
        Backend::MariaDb => with_server_db("TEST_MYSQL_URL", "MariaDB", body).await,
    }
}

async fn with_server_db<F, Fut>(var: &str, label: &str, body: F)
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Ok(server_url) = std::env::var(var) else {
        eprintln!("SKIPPED: {label} backend not tested, {var} is not set");
        return;
    };
    let admin = Database::connect(&server_url).await.expect("connect to the test server");
    let name = unique_name();
    let (create, drop) = match admin.get_database_backend() {
        // WITH (FORCE) ends any connection the pool failed to close, so the drop cannot hang.
        DbBackend::Postgres => (
            format!("CREATE DATABASE {name}"),
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        ),
        _ => (
            format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"),
            format!("DROP DATABASE IF EXISTS {name}"),
        ),
    };
    admin.execute_unprepared(&create).await.expect("create the test database");
    let outcome = match Database::connect(&with_database(&server_url, &name)).await {
        Ok(db) => run_isolated(db, body).await,
        Err(err) => Err(Err(format!("connect to {name}: {err}"))),
    };
    admin.execute_unprepared(&drop).await.expect("drop the test database");
    admin.close().await.expect("close the admin connection");
    resume(outcome);
}

/// How a test body ended: fine, or the panic it raised, or a message.
type Outcome = Result<(), Result<Box<dyn Any + Send>, String>>;

/// Runs `body` in its own task so that a failed assertion comes back as a value: the
/// connection is closed, and the caller drops the database, before the panic is resumed.
async fn run_isolated<F, Fut>(db: DatabaseConnection, body: F) -> Outcome
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let outcome = tokio::spawn(body(db.clone())).await;
    db.close().await.expect("close the test connection");
    outcome.map_err(|err| err.try_into_panic().map_err(|err| format!("test task failed: {err}")))
}

fn resume(outcome: Outcome) {
    match outcome {
        Ok(()) => {}
        Err(Ok(panic)) => std::panic::resume_unwind(panic),
        Err(Err(message)) => panic!("{message}"),
    }
}

/// `mig_<pid>_<nanos>_<n>`: unique across concurrent test processes and the tests of one
/// process, and a plain identifier on both servers (no quoting needed).
fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("mig_{}_{nanos}_{n}", std::process::id())
}

/// Replaces (or adds) the database path of a server URL, keeping any `?query`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{server}/{name}{query}")
}

#[test]
fn with_database_swaps_only_the_path() {
    assert_eq!(with_database("mysql://root@127.0.0.1:3306", "x"), "mysql://root@127.0.0.1:3306/x");
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "x"),
        "postgres://postgres@127.0.0.1:5432/x?sslmode=disable"
    );
}
