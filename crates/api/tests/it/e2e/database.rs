//! One test's database: a SQLite file in a temporary directory, or a uniquely named
//! `e2e_<uuid>` database created on the `TEST_POSTGRES_URL` server and dropped afterwards. The
//! database named in that URL is only used to connect; nothing else on the server is touched.

use std::io::Write;
use std::sync::Once;

use sea_orm::{ConnectOptions, ConnectionTrait, DatabaseConnection};
use tempfile::TempDir;
use uuid::Uuid;

use super::harness::Backend;

/// One test's database and what removing it means.
pub struct TestDatabase {
    pub url: String,
    home: Home,
}

enum Home {
    File(TempDir),
    Server { admin: DatabaseConnection, name: String },
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite://{}", dir.path().join("e2e.db").display());
                Some(Self { url, home: Home::File(dir) })
            }
            Backend::Postgres => {
                let Ok(server_url) = std::env::var("TEST_POSTGRES_URL") else {
                    say_postgres_was_skipped();
                    return None;
                };
                let mut options = ConnectOptions::new(&server_url);
                options.max_connections(1).sqlx_logging(false);
                let admin = sea_orm::Database::connect(options).await.expect("the server answers");
                let name = format!("e2e_{}", Uuid::new_v4().simple());
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create the test database");
                Some(Self {
                    url: with_database(&server_url, &name),
                    home: Home::Server { admin, name },
                })
            }
        }
    }

    pub async fn destroy(self) {
        match self.home {
            Home::File(dir) => dir.close().expect("remove the temporary directory"),
            Home::Server { admin, name } => {
                // FORCE ends any connection the server's pool left behind, so this cannot hang.
                let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                admin.execute_unprepared(&drop).await.expect("drop the test database");
                admin.close().await.expect("close the admin connection");
            }
        }
    }
}

/// Says once per run, on the real stderr (libtest captures `eprintln!` of passing tests),
/// that the PostgreSQL variants passed without running.
fn say_postgres_was_skipped() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: the PostgreSQL end-to-end tests did not run (TEST_POSTGRES_URL is not set)"
        );
    });
}

/// `url` with its database path replaced by `name`, keeping any `?query`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let server = base[authority..].find('/').map_or(base, |slash| &base[..authority + slash]);
    match query {
        None => format!("{server}/{name}"),
        Some(query) => format!("{server}/{name}?{query}"),
    }
}

#[test]
fn only_the_database_path_of_the_server_url_is_replaced() {
    let cases = [
        ("postgres://postgres@127.0.0.1:5432/postgres", "postgres://postgres@127.0.0.1:5432/e2e_x"),
        ("postgres://postgres@127.0.0.1:5432", "postgres://postgres@127.0.0.1:5432/e2e_x"),
        ("postgres://u:p@h/test?sslmode=disable", "postgres://u:p@h/e2e_x?sslmode=disable"),
    ];
    for (server, expected) in cases {
        assert_eq!(with_database(server, "e2e_x"), expected);
    }
}
