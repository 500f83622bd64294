//! The composition root: the only module that names the database adapters. It turns a
//! [`Config`] into a running service: connect, migrate, build the adapters and use cases,
//! bind, serve, sweep, and stop gracefully.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use application::Ports;
use application::access::Access;
use application::leadership::Leadership;
use application::reconcile::{Reconcile, ReconcileError, ReconciliationReport};
use async_trait::async_trait;
use axum::ServiceExt;
use axum::extract::Request;
use infra_seaorm::system::{SystemClock, UuidV7Ids};
use infra_seaorm::{
    DatabaseConnection, PoolOptions, SeaOrmAdapters, SeaOrmIdempotencyStore, SetupError,
    StockWrites, Waits,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::cli::{Config, StockWritesArg, sqlite_dir};
use crate::nats::NatsSettings;
use crate::peers::{Peers, RoutingError, Unbundle};
use crate::rate_limit::RateLimits;
use crate::router::router;
use crate::state::{AppState, Readiness};
use crate::webhooks::{self, WebhookSettings};
use crate::{metrics, relay, sweeper};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("cannot create the database directory {0}")]
    DataDir(String, #[source] io::Error),
    #[error(transparent)]
    Database(#[from] SetupError),
    #[error("cannot listen on {0}")]
    Bind(SocketAddr, #[source] io::Error),
    /// Only the schemes are kept: URLs carry passwords.
    #[error(
        "DATABASE_READ_URL names a {replica}: database but DATABASE_URL a {primary}: one; \
         a read replica is a copy of the same backend"
    )]
    ReplicaBackend { primary: String, replica: String },
    #[error("cannot open the read replica (DATABASE_READ_URL)")]
    Replica(#[source] SetupError),
    #[error(transparent)]
    Routing(#[from] RoutingError),
}

/// Connects to the configured database and applies pending migrations. A server passes its
/// request timeout: every statement's waits are then bounded within it ([`Waits::within`]);
/// `checkout-api migrate` passes none, and a migration may wait as long as it must.
///
/// # Errors
/// [`BootError::DataDir`] or [`BootError::Database`].
pub async fn connect_and_migrate(
    config: &Config,
    request_timeout: Option<Duration>,
) -> Result<DatabaseConnection, BootError> {
    if let Some(dir) = sqlite_dir(&config.database_url) {
        std::fs::create_dir_all(&dir)
            .map_err(|e| BootError::DataDir(dir.display().to_string(), e))?;
    }
    let db = connect(config, &config.database_url, request_timeout).await?;
    infra_seaorm::migrate(&db).await?;
    Ok(db)
}

/// Opens a pool over `url` with `config`'s pool settings, every statement's waits bounded
/// within `request_timeout` if given.
async fn connect(
    config: &Config,
    url: &str,
    request_timeout: Option<Duration>,
) -> Result<DatabaseConnection, SetupError> {
    let pool = PoolOptions {
        size: config.database_pool_size,
        waits: request_timeout.map(Waits::within),
        statement_cache: config.database_statement_cache,
    };
    infra_seaorm::connect_with_pool(url, pool).await
}

/// The backend a database URL names, by its scheme (`postgresql` is `postgres`).
fn backend_of(url: &str) -> String {
    match url.split_once(':').map_or(url, |(scheme, _)| scheme) {
        "postgresql" => "postgres".to_owned(),
        scheme => scheme.to_owned(),
    }
}

/// Opens the read replica at `url`: a copy of `config`'s database, so of its backend. It is
/// only read from: never migrated, and whatever it lags is its readers'.
async fn connect_replica(
    config: &Config,
    url: &str,
    request_timeout: Duration,
) -> Result<DatabaseConnection, BootError> {
    let (primary, replica) = (backend_of(&config.database_url), backend_of(url));
    if primary != replica {
        return Err(BootError::ReplicaBackend { primary, replica });
    }
    connect(config, url, Some(request_timeout)).await.map_err(BootError::Replica)
}

/// Why a reconciliation could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileRunError {
    #[error(transparent)]
    Database(#[from] SetupError),
    #[error("cannot reconcile the stock")]
    Reconcile(#[from] ReconcileError),
}

/// Connects and runs one reconciliation. It neither migrates nor creates a directory: an audit
/// changes nothing, and a database that is not there is a failure to report, not to repair.
///
/// # Errors
/// [`ReconcileRunError`].
pub async fn reconcile(config: &Config) -> Result<ReconciliationReport, ReconcileRunError> {
    let db = connect(config, &config.database_url, None).await?;
    let report = Reconcile::new(ports(&db, config.stock_writes)).execute().await;
    if let Err(err) = db.close().await {
        tracing::warn!(%err, "closing the database pool failed");
    }
    Ok(report?)
}

/// API-client management over `config`'s database, for `checkout-api clients`: migrated
/// first, so that it works on a database no server has started on yet. Close the returned
/// connection when done.
///
/// # Errors
/// See [`BootError`].
pub async fn access(config: &Config) -> Result<(Access, DatabaseConnection), BootError> {
    let db = connect_and_migrate(config, None).await?;
    // Management never identifies callers, so the root credential here is one nobody knows.
    let access = Access::new(ports(&db, config.stock_writes), &random_token());
    Ok((access, db))
}

/// Readiness is "the database answers a ping", and the read replica too when there is one
/// (without it the catalogue's reads fail).
struct DatabaseReadiness {
    primary: DatabaseConnection,
    replica: Option<DatabaseConnection>,
}

#[async_trait]
impl Readiness for DatabaseReadiness {
    async fn ready(&self) -> bool {
        // A probe must answer promptly even while the database is unreachable.
        let answers = async |db: &DatabaseConnection| {
            let ping = tokio::time::timeout(Duration::from_secs(2), db.ping());
            matches!(ping.await, Ok(Ok(())))
        };
        answers(&self.primary).await
            && match &self.replica {
                Some(replica) => answers(replica).await,
                None => true,
            }
    }
}

/// The ports over one database.
#[must_use]
pub fn ports(db: &DatabaseConnection, writes: Option<StockWritesArg>) -> Ports {
    let writes = match writes {
        Some(StockWritesArg::CompareAndSwap) => StockWrites::CompareAndSwap,
        Some(StockWritesArg::Guarded) => StockWrites::Guarded,
        None => StockWrites::default(),
    };
    let adapters = SeaOrmAdapters::with_stock_writes(db, writes);
    Ports {
        products: Arc::new(adapters.products),
        locations: Arc::new(adapters.locations),
        stock: Arc::new(adapters.stock),
        orders: Arc::new(adapters.orders),
        unit_of_work: Arc::new(adapters.unit_of_work),
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Ids),
        idempotency: Arc::new(SeaOrmIdempotencyStore::new(db.clone())),
        reconciliation: Arc::new(adapters.reconciliation),
        lease: Arc::new(adapters.lease),
        clients: Arc::new(adapters.clients),
        purchases: Arc::new(adapters.purchases),
        events: Arc::new(adapters.events),
        cursors: Arc::new(adapters.cursors),
        retention: Arc::new(adapters.retention),
        webhooks: Arc::new(adapters.webhooks),
    }
}

/// A bound, ready-to-run service.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    db: DatabaseConnection,
    /// The read replica's pool, when `DATABASE_READ_URL` names one.
    replica: Option<DatabaseConnection>,
    sweep_interval: Duration,
    leadership: Leadership,
    /// The primary's ports, for the event relay.
    ports: Ports,
    /// Where the relay sends events, when `--nats-url` is set.
    nats: Option<NatsSettings>,
    /// How webhooks are delivered.
    webhooks: WebhookSettings,
}

impl Application {
    /// Connects, migrates, wires everything and binds `config.bind` (port 0 picks a free one).
    ///
    /// # Errors
    /// See [`BootError`].
    pub async fn build(config: &Config) -> Result<Self, BootError> {
        let mut settings = config.settings();
        // A lone buyer commits in its own task on PostgreSQL only, where its commit is two
        // round trips; on SQLite (measured) and MariaDB it is a dozen, each waking the whole
        // request, and the lane's worker takes them (see `Batching::alone_when_idle`).
        if let Some(batching) = &mut settings.group_commit {
            batching.alone_when_idle = backend_of(&config.database_url) == "postgres";
        }
        // Settings first: a process that cannot route should not migrate anything.
        let peers = Peers::new(config.peers()?)?;
        let db = connect_and_migrate(config, Some(settings.request_timeout)).await?;
        let admin_token = config.admin_token.clone().unwrap_or_else(|| {
            let token = random_token();
            eprintln!("checkout-api: no admin token configured; this run's token is {token}");
            token
        });
        let replica = match &config.database_read_url {
            Some(url) => Some(connect_replica(config, url, settings.request_timeout).await?),
            None => None,
        };
        let readiness =
            Arc::new(DatabaseReadiness { primary: db.clone(), replica: replica.clone() });
        let ports = ports(&db, config.stock_writes);
        let replica_ports =
            replica.as_ref().map(|replica| self::ports(replica, config.stock_writes));
        let (state, workers) =
            AppState::new(&ports, replica_ports.as_ref(), settings, &admin_token, readiness);
        let state = state.with_peers(peers);
        // Group commit's lanes: tasks of this runtime, ending when the state (and with it the
        // checkout use case) is dropped.
        for worker in workers {
            tokio::spawn(worker);
        }
        let listener =
            TcpListener::bind(config.bind).await.map_err(|e| BootError::Bind(config.bind, e))?;
        metrics::handle();
        let sweep_interval = Duration::from_millis(u64::from(config.sweep_interval_ms));
        let leadership = sweeper::leadership(&ports, sweep_interval);
        let nats = config.nats_url.clone().map(|url| NatsSettings {
            url,
            stream: config.nats_stream.clone(),
            subject_prefix: config.nats_subject_prefix.clone(),
        });
        let webhooks = config.webhooks();
        Ok(Self { listener, state, db, replica, sweep_interval, leadership, ports, nats, webhooks })
    }

    /// Where it listens.
    ///
    /// # Errors
    /// When the socket has no local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The admin token in force.
    #[must_use]
    pub fn admin_token(&self) -> &str {
        &self.state.admin_token
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish, stops the
    /// sweeper and closes the pool.
    ///
    /// # Errors
    /// When serving fails.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> io::Result<()> {
        let stop = CancellationToken::new();
        let sweep =
            sweeper::run(self.state.clone(), self.leadership, self.sweep_interval, stop.clone());
        let sweeper = tokio::spawn(sweep);
        let webhooks = tokio::spawn(webhooks::run(self.ports.clone(), self.webhooks, stop.clone()));
        let relay =
            (self.nats).map(|nats| tokio::spawn(relay::run(self.ports, nats, stop.clone())));
        tracing::info!(addr = %self.listener.local_addr()?, "serving");
        if let Some(limits) = self.state.rate_limits.clone() {
            tokio::spawn(forget_idle_buckets(limits, stop.clone()));
        }
        // In front of the whole router: a bundle of forwarded checkouts is run through all of
        // it, one checkout at a time.
        let secret = self.state.peers.as_ref().map(|peers| peers.secret());
        let app = Unbundle::new(router(self.state), secret);
        // The peer's address, for the per-address abuse limit.
        let app = ServiceExt::<Request>::into_make_service_with_connect_info::<SocketAddr>(app);
        let served = axum::serve(self.listener, app).with_graceful_shutdown(shutdown).await;
        stop.cancel();
        if let Err(err) = sweeper.await {
            tracing::warn!(%err, "the sweeper ended abnormally");
        }
        if let Some(relay) = relay
            && let Err(err) = relay.await
        {
            tracing::warn!(%err, "the event relay ended abnormally");
        }
        if let Err(err) = webhooks.await {
            tracing::warn!(%err, "the webhook relay ended abnormally");
        }
        for db in std::iter::once(self.db).chain(self.replica) {
            if let Err(err) = db.close().await {
                tracing::warn!(%err, "closing a database pool failed");
            }
        }
        tracing::info!("stopped");
        served
    }
}

/// Every minute, drops the abuse limits' buckets that are full again, until `stop`.
async fn forget_idle_buckets(limits: Arc<RateLimits>, stop: CancellationToken) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = every.tick() => limits.forget_idle(),
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}

/// 244 random bits from two v4 UUIDs, as 64 hex characters.
fn random_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}
