//! The end-to-end harness: a fresh database per test ([`testkit::run`]), the real server over
//! it, in this process ([`TestServer`]) or as processes of their own ([`Server`]), and the
//! clean-up of both, also when the scenario panicked.

use std::future::Future;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use api::Application;
use api::cli::Config;
use testkit::{ApiProcess, Backend, TestDatabase};
use tokio::sync::oneshot;
use tokio::task::{JoinError, JoinHandle};

use super::client::{Api, TOKEN};

/// What the names of this suite's databases start with.
const PREFIX: &str = "e2e";

/// Generates a `sqlite` and a `postgres` test running the scenario `$case`, inside a module
/// named after it. Attributes written before the scenario's name (`#[ignore = "…"]`) go on both
/// tests.
///
/// - `on_both_backends!(case)`: `async fn case(api: Api)` against a server over a fresh
///   database; `on_both_backends!(case, configure)`: the same, the server adjusted by
///   `fn configure(&mut Config)` beside the scenario.
/// - `on_both_backends!(database: case)`: `async fn case(database: &TestDatabase)`, for a
///   scenario that starts (and kills) servers of its own over the fresh database.
/// - `on_both_backends!(pooled: …)`, any form above after `pooled:`: also a `pgbouncer` test,
///   PostgreSQL through the transaction pooler (`TEST_PGBOUNCER_URL`), the servers' statement
///   cache off.
macro_rules! on_both_backends {
    (@test [$($attr:tt)*] $name:ident, $backend:ident, $run:path, [$($arg:expr),*], $case:ident) => {
        $($attr)*
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            $run(Backend::$backend, $($arg,)* super::$case).await;
        }
    };
    (@emit $attrs:tt $case:ident, $run:path, $args:tt, [$($name:ident: $backend:ident),+]) => {
        mod $case {
            use testkit::Backend;

            $(on_both_backends!(@test $attrs $name, $backend, $run, $args, $case);)+
        }
    };
    ($(#[$attr:meta])* pooled: database: $case:ident) => {
        on_both_backends!(
            @emit [$(#[$attr])*] $case, crate::e2e::harness::on_database, [],
            [sqlite: Sqlite, postgres: Postgres, pgbouncer: PgBouncer]
        );
    };
    ($(#[$attr:meta])* pooled: $case:ident) => {
        on_both_backends!(
            @emit [$(#[$attr])*] $case, crate::e2e::harness::run, [crate::e2e::harness::as_is],
            [sqlite: Sqlite, postgres: Postgres, pgbouncer: PgBouncer]
        );
    };
    ($(#[$attr:meta])* pooled: $case:ident, $configure:ident) => {
        on_both_backends!(
            @emit [$(#[$attr])*] $case, crate::e2e::harness::run, [super::$configure],
            [sqlite: Sqlite, postgres: Postgres, pgbouncer: PgBouncer]
        );
    };
    ($(#[$attr:meta])* database: $case:ident) => {
        on_both_backends!(
            @emit [$(#[$attr])*] $case, crate::e2e::harness::on_database, [],
            [sqlite: Sqlite, postgres: Postgres]
        );
    };
    ($(#[$attr:meta])* $case:ident) => {
        on_both_backends!(
            @emit [$(#[$attr])*] $case, crate::e2e::harness::run, [crate::e2e::harness::as_is],
            [sqlite: Sqlite, postgres: Postgres]
        );
    };
    ($(#[$attr:meta])* $case:ident, $configure:ident) => {
        on_both_backends!(
            @emit [$(#[$attr])*] $case, crate::e2e::harness::run, [super::$configure],
            [sqlite: Sqlite, postgres: Postgres]
        );
    };
}

/// The configuration as given: every default, plus what the harness always sets.
pub fn as_is(_: &mut Config) {}

/// Runs `scenario` against a server on a fresh database of `backend`; stops the server and
/// removes the database afterwards even when the scenario panicked, then re-raises the panic.
/// Passes after saying so when the backend's server is not configured.
pub async fn run<S, F>(backend: Backend, configure: fn(&mut Config), scenario: S)
where
    S: FnOnce(Api) -> F + Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    on_database(backend, async move |database: &TestDatabase| {
        let started = Instant::now();
        let server = TestServer::start(backend, database.url(), configure).await;
        // A task of its own: the server is stopped before the scenario's panic goes on.
        let outcome = tokio::spawn(scenario(server.api.clone())).await;
        server.stop().await;
        eprintln!("{backend:?}: the scenario took {:?}", started.elapsed());
        if let Err(failure) = outcome {
            resume(failure);
        }
    })
    .await;
}

/// Runs `scenario` on a fresh database of `backend`, removed afterwards even when the scenario
/// panicked ([`testkit::run`]).
pub async fn on_database(backend: Backend, scenario: impl AsyncFnOnce(&TestDatabase)) {
    testkit::run(backend, PREFIX, scenario).await;
}

fn resume(failure: JoinError) -> ! {
    match failure.try_into_panic() {
        Ok(panic) => std::panic::resume_unwind(panic),
        Err(failure) => panic!("the scenario did not finish: {failure}"),
    }
}

/// A `checkout-api serve` process over a test database (see [`ApiProcess`]) and a client of
/// it; killed when dropped.
pub struct Server {
    pub api: Api,
    pub process: ApiProcess,
}

impl Server {
    /// Starts the binary over `database`, logging to `log`, with the test admin token and the
    /// extra settings `env`; returns once it is ready.
    pub async fn start(database: &TestDatabase, log: &Path, env: &[(&str, &str)]) -> Self {
        let mut settings = vec![("CHECKOUT_ADMIN_TOKEN", TOKEN)];
        if database.backend() == Backend::PgBouncer {
            settings.push(("DATABASE_STATEMENT_CACHE", "off"));
        }
        settings.extend_from_slice(env);
        let binary = env!("CARGO_BIN_EXE_checkout-api");
        let process = ApiProcess::start(binary, database.url(), log, &settings).await;
        Self { api: Api::new(database.backend(), process.addr()), process }
    }
}

/// Starts `count` server processes over `database`, one after the other (the first migrates
/// the fresh database, the others find it current), runs `scenario` with their clients, then
/// kills them; when the scenario panics, every server's log is printed before the panic goes
/// on.
pub async fn with_processes<F, Fut>(database: &TestDatabase, count: usize, scenario: F)
where
    F: FnOnce(Vec<Api>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_configured_processes(database, count, |_| Vec::new(), scenario).await;
}

/// [`with_processes`], the `n`th process started with the extra settings `env(n)`.
pub async fn with_configured_processes<E, F, Fut>(
    database: &TestDatabase,
    count: usize,
    env: E,
    scenario: F,
) where
    E: Fn(usize) -> Vec<(String, String)>,
    F: FnOnce(Vec<Api>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let logs = tempfile::tempdir().expect("a directory for the servers' logs");
    let log = |n: usize| logs.path().join(format!("server-{n}.log"));
    let mut servers = Vec::new();
    for n in 0..count {
        let settings = env(n);
        let settings: Vec<(&str, &str)> =
            settings.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        servers.push(Server::start(database, &log(n), &settings).await);
    }
    let apis: Vec<Api> = servers.iter().map(|s| s.api.clone()).collect();
    let outcome = tokio::spawn(scenario(apis)).await;
    drop(servers);
    if let Err(failure) = outcome {
        for n in 0..count {
            let text = std::fs::read_to_string(log(n)).unwrap_or_default();
            eprintln!("--- server {n}'s log:\n{text}");
        }
        resume(failure);
    }
}

/// A running server and the way to stop it.
pub struct TestServer {
    pub api: Api,
    shutdown: oneshot::Sender<()>,
    serving: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    pub async fn start(backend: Backend, database_url: &str, configure: fn(&mut Config)) -> Self {
        let mut config = Config::defaults();
        config.database_url = database_url.to_owned();
        config.bind = "127.0.0.1:0".parse().expect("an address");
        config.admin_token = Some(TOKEN.into());
        if backend == Backend::PgBouncer {
            config.database_statement_cache = false;
        }
        configure(&mut config);
        let app = Application::build(&config).await.expect("the server starts");
        let addr = app.local_addr().expect("a bound address");
        let (shutdown, stop) = oneshot::channel::<()>();
        let serving = tokio::spawn(app.run(async move {
            let _ = stop.await;
        }));
        Self { api: Api::new(backend, addr), shutdown, serving }
    }

    pub async fn stop(self) {
        let Self { api, shutdown, serving } = self;
        drop(api);
        let _ = shutdown.send(());
        match tokio::time::timeout(Duration::from_secs(10), serving).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(err))) => panic!("the server failed: {err}"),
            Ok(Err(err)) => panic!("the server task failed: {err}"),
            Err(_) => panic!("the server did not stop within 10 s of the shutdown signal"),
        }
    }
}

/// Runs `checkout-api <subcommand> <args>` over the database at `url` to its end.
pub async fn command(url: &str, subcommand: &str, args: &[&str]) -> Output {
    command_with(url, subcommand, args, &[]).await
}

/// [`command`] with the extra settings `env`.
pub async fn command_with(
    url: &str,
    subcommand: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_checkout-api"));
    command.arg(subcommand).args(args).env("DATABASE_URL", url).env("RUST_LOG", "error");
    command.envs(env.iter().copied());
    tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the command's thread")
        .expect("the binary runs")
}

/// A command's output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
