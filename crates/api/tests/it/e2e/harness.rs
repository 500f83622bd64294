//! The end-to-end harness: a fresh database per test (see [`super::database`]), the real
//! server on `127.0.0.1:0` over it, and the clean-up of both, also when the scenario panicked.

use std::future::Future;
use std::time::{Duration, Instant};

use api::Application;
use api::cli::Config;
use tokio::sync::oneshot;
use tokio::task::{JoinError, JoinHandle};

use super::client::{Api, TOKEN};
use super::database::TestDatabase;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates a `sqlite` and a `postgres` test running the scenario `$case`, inside a module
/// named after it; `$configure` (a `fn(&mut Config)` beside the scenario) adjusts the server.
/// Attributes written before the scenario's name (`#[ignore = "…"]`) go on both tests.
macro_rules! on_both_backends {
    (@emit [$($attr:tt)*] $case:ident, $configure:path) => {
        mod $case {
            use crate::e2e::harness::{Backend, run};

            $($attr)*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(Backend::Sqlite, $configure, super::$case).await;
            }

            $($attr)*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run(Backend::Postgres, $configure, super::$case).await;
            }
        }
    };
    ($(#[$attr:meta])* $case:ident) => {
        on_both_backends!(@emit [$(#[$attr])*] $case, crate::e2e::harness::as_is);
    };
    ($(#[$attr:meta])* $case:ident, $configure:ident) => {
        on_both_backends!(@emit [$(#[$attr])*] $case, super::$configure);
    };
}

/// The configuration as given: every default, plus what the harness always sets.
pub fn as_is(_: &mut Config) {}

/// Runs `scenario` against a server on a fresh database of `backend`; removes the database
/// afterwards even when the scenario panicked, then re-raises the panic. Passes after saying
/// so when PostgreSQL is not configured.
pub async fn run<S, F>(backend: Backend, configure: fn(&mut Config), scenario: S)
where
    S: FnOnce(Api) -> F + Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let Some(database) = TestDatabase::create(backend).await else { return };
    let started = Instant::now();
    let url = database.url.clone();
    let outcome = tokio::spawn(async move {
        let server = TestServer::start(backend, &url, configure).await;
        let outcome = tokio::spawn(scenario(server.api.clone())).await;
        server.stop().await;
        outcome
    })
    .await;
    eprintln!("{backend:?}: the scenario took {:?}", started.elapsed());
    database.destroy().await;
    if let Err(failure) = outcome.and_then(|inner| inner) {
        resume(failure);
    }
}

fn resume(failure: JoinError) -> ! {
    match failure.try_into_panic() {
        Ok(panic) => std::panic::resume_unwind(panic),
        Err(failure) => panic!("the scenario did not finish: {failure}"),
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
