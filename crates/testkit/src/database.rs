//! Throwaway databases: a SQLite file in a temporary directory, or a uniquely named database
//! created on the server that `TEST_POSTGRES_URL` / `TEST_MYSQL_URL` names. The database named
//! in such a URL is only used to connect; nothing else on the server is touched.

use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::sync::Once;

use futures::FutureExt;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbErr};
use tempfile::TempDir;
use uuid::Uuid;

use crate::Backend;

/// One test's empty database. [`TestDatabase::close`] removes it; dropping it without that
/// removes it too (see the `Drop` impl), so a test that panics midway leaves nothing behind.
pub struct TestDatabase {
    backend: Backend,
    name: String,
    url: String,
    /// `None` once removed, so that removing happens once.
    home: Option<Home>,
}

/// Where the database lives, i.e. what removing it means.
enum Home {
    /// Deleted with the directory.
    File(TempDir),
    /// Dropped with `drop_sql`, through a fresh connection to `server_url`.
    Server { server_url: String, drop_sql: String },
}

/// Runs `test` on a fresh database of `backend` named `<prefix>_<uuid>`, then removes the
/// database even when `test` panicked, and re-raises the panic. Passes without running `test`
/// when the backend's server is not configured (after saying so, see [`TestDatabase::create`]).
pub async fn run<T>(backend: Backend, prefix: &str, test: T)
where
    T: AsyncFnOnce(&TestDatabase),
{
    let Some(database) = TestDatabase::create(backend, prefix).await else { return };
    // The panic comes back as a value: the database is removed (with an error that can be
    // reported, unlike in `Drop`) before the panic goes on to fail the test.
    let outcome = AssertUnwindSafe(test(&database)).catch_unwind().await;
    database.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

impl TestDatabase {
    /// Creates an empty database of `backend` named `<prefix>_<uuid>`; `prefix` is a lowercase
    /// identifier that says which suite made it. `None` when the backend's server variable is
    /// not set: the test should then pass without running, and the first such test of a test
    /// binary says on the real stderr (libtest captures `eprintln!` of passing tests) that the
    /// backend's tests were SKIPPED.
    ///
    /// # Panics
    ///
    /// When `prefix` is not a lowercase identifier, or the server refuses to create the database.
    pub async fn create(backend: Backend, prefix: &str) -> Option<Self> {
        // A plain lowercase identifier needs no quoting on either server, and PostgreSQL keeps
        // it as written.
        let plain = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
        assert!(!prefix.is_empty() && prefix.chars().all(plain), "not a plain prefix: {prefix:?}");
        let name = format!("{prefix}_{}", Uuid::now_v7().simple());
        let Some(var) = backend.env_var() else {
            let dir = tempfile::tempdir().expect("a temporary directory");
            // No `?mode=`: whoever connects decides whether the file may be created.
            let url = format!("sqlite://{}", dir.path().join(format!("{name}.db")).display());
            return Some(Self { backend, name, url, home: Some(Home::File(dir)) });
        };
        let Some(server_url) = std::env::var(var).ok().filter(|url| !url.is_empty()) else {
            say_skipped(backend, var);
            return None;
        };
        let (create_sql, drop_sql) = match backend {
            // FORCE ends the connections a test left open (a killed server's, say), so the drop
            // cannot hang.
            Backend::Postgres | Backend::PgBouncer | Backend::Replicated => (
                format!("CREATE DATABASE {name}"),
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            ),
            Backend::Sqlite | Backend::MariaDb => (
                format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"),
                format!("DROP DATABASE IF EXISTS {name}"),
            ),
        };
        on_server(&server_url, &create_sql)
            .await
            .unwrap_or_else(|err| panic!("create the test database {name}: {err}"));
        let url = with_database(&server_url, &name);
        Some(Self { backend, name, url, home: Some(Home::Server { server_url, drop_sql }) })
    }

    /// The backend the database is on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database's name, `<prefix>_<uuid>` (for SQLite, the file's name without `.db`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL to connect to the database with: `sqlite://<file>` (without `?mode=`), or the
    /// server URL with its database replaced.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Removes the database: deletes the SQLite directory, or drops the server database.
    ///
    /// # Panics
    ///
    /// When the database cannot be removed.
    pub async fn close(mut self) {
        match self.home.take() {
            Some(Home::File(dir)) => dir.close().expect("remove the temporary directory"),
            Some(Home::Server { server_url, drop_sql }) => on_server(&server_url, &drop_sql)
                .await
                .unwrap_or_else(|err| panic!("drop the test database {}: {err}", self.name)),
            None => {}
        }
    }
}

impl Drop for TestDatabase {
    /// Removes the database when [`TestDatabase::close`] did not: a test that created it by
    /// hand and then panicked still leaves nothing behind.
    fn drop(&mut self) {
        // A temporary directory deletes itself when dropped, here.
        let Some(Home::Server { server_url, drop_sql }) = self.home.take() else { return };
        // `drop` cannot await, and blocking on the test's runtime could deadlock (on a
        // current-thread runtime it is this very thread): a thread of its own with a runtime
        // of its own depends on neither.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| err.to_string())?;
            runtime.block_on(on_server(&server_url, &drop_sql)).map_err(|err| err.to_string())
        })
        .join();
        let failure = match dropped {
            Ok(Ok(())) => return,
            Ok(Err(err)) => err,
            Err(_) => "the dropping thread panicked".to_owned(),
        };
        // No panic: this may run while a panic unwinds, where a second one aborts the process.
        let _ = writeln!(
            std::io::stderr(),
            "testkit: the test database {} was left on the server: {failure}",
            self.name
        );
    }
}

/// Runs one statement through a connection of its own to `server_url`, closed afterwards.
async fn on_server(server_url: &str, sql: &str) -> Result<(), DbErr> {
    let mut options = ConnectOptions::new(server_url);
    options.max_connections(1).sqlx_logging(false);
    let admin = Database::connect(options).await?;
    let done = admin.execute_unprepared(sql).await.map(|_| ());
    admin.close().await?;
    done
}

/// Says once per backend and test binary that the backend's tests passed without running.
fn say_skipped(backend: Backend, var: &str) {
    static SAID: [Once; 5] = [const { Once::new() }; 5];
    SAID[backend as usize].call_once(|| {
        // The real stderr: libtest captures `eprintln!` of passing tests, and this must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: the {} tests did not run ({var} is not set)",
            backend.label()
        );
    });
}

/// `url` with its database path replaced by `name` (or given one), keeping any `?query`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(base, q)| (base, Some(q)));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let server = base[authority..].find('/').map_or(base, |slash| &base[..authority + slash]);
    match query {
        None => format!("{server}/{name}"),
        Some(query) => format!("{server}/{name}?{query}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn with_database_replaces_only_the_database_path() {
        let cases = [
            ("postgres://postgres@127.0.0.1:5432/postgres", "postgres://postgres@127.0.0.1:5432/x"),
            ("postgres://postgres@127.0.0.1:5432", "postgres://postgres@127.0.0.1:5432/x"),
            ("postgres://u:p@h/test?sslmode=disable", "postgres://u:p@h/x?sslmode=disable"),
            ("mysql://root@127.0.0.1:3306", "mysql://root@127.0.0.1:3306/x"),
            ("mysql://root@127.0.0.1:3306/mysql", "mysql://root@127.0.0.1:3306/x"),
        ];
        for (server, expected) in cases {
            assert_eq!(with_database(server, "x"), expected, "{server}");
        }
    }
}
