//! The command line of `checkout-api`: flags with environment fallbacks.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use application::RetryPolicy;
use application::checkout::{Batching, CheckoutConfig};
use application::events::Events;
use application::extend::HoldConfig;
use chrono::TimeDelta;
use clap::{Args, Parser, Subcommand};

use domain::webhook::RetryPolicy as WebhookRetry;
use url::Url;

use crate::peers::{self, PeerSettings, RoutingError};
use crate::rate_limit::{Budget, RateLimitSettings};
use crate::state::Settings;
use crate::telemetry::LogFormat;
use crate::webhooks::{SenderSettings, WebhookSettings};

/// A checkout service that never oversells.
#[derive(Debug, Parser)]
#[command(name = "checkout-api", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Apply pending migrations and serve HTTP (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Recompute every product's stock from the ledger and the orders; exit 1 on drift.
    ///
    /// Read-only, and safe while servers run: it reads one snapshot. Exit codes: 0 nothing
    /// drifted, 1 drift found, 2 the reconciliation could not run.
    Reconcile {
        /// Print the report as JSON (the shape of `GET /v1/admin/reconciliation`) instead of a
        /// table.
        #[arg(long)]
        json: bool,
    },
    /// Manage API clients: the credentials other systems call with, each with its scopes.
    #[command(subcommand)]
    Clients(ClientsCommand),
}

/// `checkout-api clients …`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum ClientsCommand {
    /// Make a client and print its key (the only time it is shown).
    Create {
        /// What people call it (1 to 100 characters).
        #[arg(long)]
        name: String,
        /// A scope it gets; repeat for several (catalog:write, stock:write, stock:ledger,
        /// orders:pay, orders:cancel, customers:assert, events:read, webhooks:manage,
        /// admin:reconcile, clients:manage).
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// Print `{"id","name","scopes","key",…}` as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List every client, revoked ones included (never their keys).
    List {
        /// Print `{"items":[…]}` as JSON, the shape of `GET /v1/clients`.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a client: its key is refused from the next request on, by every server.
    Revoke {
        /// The client's id.
        id: String,
    },
}

/// The stock-write strategy, as the command line spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StockWritesArg {
    /// `UPDATE … WHERE version = <read>`.
    CompareAndSwap,
    /// `UPDATE … SET reserved = reserved + n … WHERE on_hand - reserved >= n`.
    Guarded,
}

/// The embedded default: created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/checkout.db";

/// Every setting, from flags or the environment. Global, so that `checkout-api --bind …` and
/// `checkout-api serve --bind …` both work.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database URL: sqlite://…, postgres://… or mysql://…. Default: a SQLite file under ./data/.
    #[arg(long, env = "DATABASE_URL", global = true, default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// A streaming replica of the database (PostgreSQL): the catalogue, stock and ledger reads
    /// clients ask for are served from it, and may lag the primary by its replication delay.
    /// Orders, and every decision a write takes, stay on the primary. See docs/scaling.md.
    #[arg(long, env = "DATABASE_READ_URL", global = true, hide_env_values = true)]
    pub database_read_url: Option<String>,
    /// A NATS server with JetStream: every event of the feed is published there, on
    /// `<prefix>.<type>.<subject id>` with `Nats-Msg-Id` = the event's id, by one server
    /// process at a time (a lease), from where the last one stopped. Unset: no relay.
    #[arg(long, env = "CHECKOUT_NATS_URL", global = true)]
    pub nats_url: Option<String>,
    /// The JetStream stream the events are stored in, created when missing.
    #[arg(long, env = "CHECKOUT_NATS_STREAM", global = true, default_value = "CHECKOUT")]
    pub nats_stream: String,
    /// The first token of every event subject; the stream takes `<prefix>.>`.
    #[arg(long, env = "CHECKOUT_NATS_SUBJECT_PREFIX", global = true, default_value = "checkout")]
    pub nats_subject_prefix: String,
    /// Connections in the database pool. Default: the backend's (10 for PostgreSQL and
    /// MariaDB, 4 for a SQLite file).
    #[arg(long, env = "DATABASE_POOL_SIZE", global = true, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub database_pool_size: Option<u32>,
    /// Whether each database connection keeps its prepared statements for reuse. `off` behind
    /// a transaction pooler (PgBouncer's `pool_mode = transaction` before 1.21): every
    /// statement is then sent unnamed and run in one round trip. See docs/scaling.md.
    #[arg(long, env = "DATABASE_STATEMENT_CACHE", global = true, value_name = "on|off",
          default_value = "on", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub database_statement_cache: bool,
    /// Address to listen on.
    #[arg(long, env = "CHECKOUT_BIND", global = true, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Threads that serve requests and run the checkout workers. Default: one per core. On a
    /// host that also runs the database, fewer leave it its share: on two cores shared with
    /// PostgreSQL, one thread made more orders/s than two (on SQLite fewer; see
    /// docs/benchmarks.md, run 18).
    #[arg(long, env = "CHECKOUT_WORKER_THREADS", global = true,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub worker_threads: Option<u16>,
    /// Bearer token of the admin endpoints. Without one, a random token is made and printed once.
    #[arg(long, env = "CHECKOUT_ADMIN_TOKEN", global = true, hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Seconds a reservation waits for payment before it expires.
    #[arg(long, env = "CHECKOUT_RESERVATION_TTL", global = true,
          default_value_t = seconds(CheckoutConfig::DEFAULT_RESERVATION_TTL.to_std().ok()),
          value_parser = clap::value_parser!(u32).range(1..))]
    pub reservation_ttl: u32,
    /// Seconds a reservation may be held at most, counted from its checkout: `POST
    /// /v1/orders/{id}/extend` adds the reservation lifetime to its expiry up to this.
    #[arg(long, env = "CHECKOUT_MAX_HOLD", global = true,
          default_value_t = seconds(HoldConfig::DEFAULT_MAX_HOLD.to_std().ok()),
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_hold: u32,
    /// Seconds a reader of `GET /v1/events` may wait for new events at most (its `wait`, 0 to
    /// 30, is cut to this): below the idle timeout of any proxy in front.
    #[arg(long, env = "CHECKOUT_EVENTS_MAX_WAIT", global = true,
          default_value_t = seconds(Some(Events::MAX_WAIT)),
          value_parser = clap::value_parser!(u32).range(0..=30))]
    pub events_max_wait: u32,
    /// Seconds events stay in the event feed (`GET /v1/events`, the relays, the webhooks); older
    /// ones are purged once every relay and subscription has taken them (the ledger and the
    /// orders stay). A reader behind the purge gets 410 `cursor-expired`. 0 keeps them all.
    #[arg(long, env = "CHECKOUT_EVENTS_RETENTION", global = true,
          default_value_t = seconds(Some(Settings::DEFAULT_EVENTS_RETENTION)))]
    pub events_retention: u32,
    /// Let webhook subscriptions target loopback and private addresses (a receiver on this host
    /// or inside your network). Off by default: a client of the API could otherwise make the
    /// service call into the network it runs in.
    #[arg(long, env = "CHECKOUT_WEBHOOKS_ALLOW_PRIVATE", global = true)]
    pub webhooks_allow_private: bool,
    /// Seconds one webhook delivery may take (connecting included) before it counts as failed.
    #[arg(long, env = "CHECKOUT_WEBHOOKS_TIMEOUT", global = true, default_value = "10",
          value_parser = clap::value_parser!(u32).range(1..=10))]
    pub webhooks_timeout: u32,
    /// The most webhook deliveries in flight at once in one server process.
    #[arg(long, env = "CHECKOUT_WEBHOOKS_CONCURRENCY", global = true, default_value = "16",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub webhooks_concurrency: u32,
    /// Attempts per webhook delivery (the first included) before it fails for good.
    #[arg(long, env = "CHECKOUT_WEBHOOKS_ATTEMPTS", global = true,
          default_value_t = WebhookRetry::default().attempts,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub webhooks_attempts: u32,
    /// Milliseconds before a failed webhook delivery is first retried; each later wait doubles
    /// (up to an hour), less up to half of it at random.
    #[arg(long, env = "CHECKOUT_WEBHOOKS_FIRST_RETRY_MS", global = true,
          default_value_t = u32::try_from(WebhookRetry::default().first.as_millis()).unwrap_or(u32::MAX),
          value_parser = clap::value_parser!(u32).range(10..))]
    pub webhooks_first_retry_ms: u32,
    /// Seconds delivered webhook deliveries stay in the delivery log.
    #[arg(long, env = "CHECKOUT_WEBHOOKS_RETENTION", global = true, default_value = "604800",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub webhooks_retention: u32,
    /// Seconds a request may run before it is stopped.
    #[arg(long, env = "CHECKOUT_REQUEST_TIMEOUT", global = true,
          default_value_t = seconds(Some(Settings::DEFAULT_REQUEST_TIMEOUT)),
          value_parser = clap::value_parser!(u32).range(1..))]
    pub request_timeout: u32,
    /// Attempts a write that loses a race gets (the first included) before the client is told
    /// 503 `contention`. A buyer loses at most one race per unit someone else reserved.
    #[arg(long, env = "CHECKOUT_RETRY_ATTEMPTS", global = true,
          default_value_t = RetryPolicy::default().max_attempts,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub retry_attempts: u32,
    /// Seconds an idempotency key and its answer are kept (a retry with the key within this
    /// time never acts twice); older keys are purged by the sweeper.
    #[arg(long, env = "CHECKOUT_IDEMPOTENCY_RETENTION", global = true,
          default_value_t = seconds(Some(Settings::DEFAULT_IDEMPOTENCY_RETENTION)),
          value_parser = clap::value_parser!(u32).range(1..))]
    pub idempotency_retention: u32,
    /// Milliseconds between two sweeps for expired reservations.
    #[arg(long, env = "CHECKOUT_SWEEP_INTERVAL_MS", global = true, default_value = "1000",
          value_parser = clap::value_parser!(u32).range(10..))]
    pub sweep_interval_ms: u32,
    /// How stock rows are written: a `guarded` delta whose WHERE clause re-checks the stock on
    /// the locked row, or `compare-and-swap` over the version read (the seed's). Both bump the
    /// version on every write. Default: the adapter's, guarded (measured faster and without
    /// 503s under contention, see docs/benchmarks.md).
    #[arg(long, env = "CHECKOUT_STOCK_WRITES", global = true, value_enum)]
    pub stock_writes: Option<StockWritesArg>,
    /// Group commit: checkouts that arrive while another is being committed are reserved
    /// together and written in one transaction. This many independent queues (a cart queues by
    /// its first product, so a hot product's buyers meet in one); 0 commits every checkout on
    /// its own. Default: 1 (every commit ends on the one event-sequence row, so one database's
    /// commits are serial at their end anyway; more lanes only make smaller batches whose row
    /// locks collide). See docs/benchmarks.md, run 16.
    #[arg(long, env = "CHECKOUT_GROUP_COMMIT_LANES", global = true,
          default_value_t = u32::try_from(Batching::default().lanes).unwrap_or(u32::MAX),
          value_parser = clap::value_parser!(u32).range(0..=256))]
    pub group_commit_lanes: u32,
    /// The most checkouts group commit writes in one transaction.
    #[arg(long, env = "CHECKOUT_GROUP_COMMIT_MAX_ORDERS", global = true,
          default_value_t = u32::try_from(Batching::default().max_orders).unwrap_or(u32::MAX),
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub group_commit_max_orders: u32,
    /// The most checkouts that may wait in one group-commit lane; past it a checkout is refused
    /// at once with 503 `overloaded` and `Retry-After` (load shedding) instead of queueing
    /// past its timeout.
    #[arg(long, env = "CHECKOUT_GROUP_COMMIT_QUEUE", global = true,
          default_value_t = u32::try_from(Batching::DEFAULT_QUEUE).unwrap_or(u32::MAX),
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub group_commit_queue: u32,
    /// Abuse limit: checkouts per second each API client may make (a token bucket per client;
    /// 429 `rate-limited` past it). Unset: unlimited. Per server process.
    #[arg(long, env = "CHECKOUT_RATE_PER_CLIENT", global = true)]
    pub checkout_rate_per_client: Option<NonZeroU32>,
    /// The bucket of `--checkout-rate-per-client`: checkouts admitted at once after a quiet
    /// spell. Default: one second's worth.
    #[arg(long, env = "CHECKOUT_BURST_PER_CLIENT", global = true)]
    pub checkout_burst_per_client: Option<NonZeroU32>,
    /// Abuse limit: checkouts per second each anonymous caller's IP address may make. Unset:
    /// unlimited. Per server process.
    #[arg(long, env = "CHECKOUT_RATE_PER_IP", global = true)]
    pub checkout_rate_per_ip: Option<NonZeroU32>,
    /// The bucket of `--checkout-rate-per-ip`. Default: one second's worth.
    #[arg(long, env = "CHECKOUT_BURST_PER_IP", global = true)]
    pub checkout_burst_per_ip: Option<NonZeroU32>,
    /// Take an anonymous caller's address from the last `X-Forwarded-For` entry (the one your
    /// proxy appended) instead of the TCP peer. Only behind a proxy that sets it: otherwise a
    /// client picks its own address.
    #[arg(long, env = "CHECKOUT_TRUST_FORWARDED_FOR", global = true)]
    pub trust_forwarded_for: bool,
    /// Route each checkout to the process that owns its cart's lead product, so that one
    /// product's buyers share one group commit whatever process the load balancer picked: every
    /// process's base URL, this one's included, comma-separated, the same on every process.
    /// Unset: each process handles what it receives.
    #[arg(long, env = "CHECKOUT_ROUTE_PEERS", global = true, value_delimiter = ',')]
    pub route_peers: Vec<Url>,
    /// This process's base URL, as written in `--route-peers`.
    #[arg(long, env = "CHECKOUT_ROUTE_SELF", global = true)]
    pub route_self: Option<Url>,
    /// The secret processes show each other on a forwarded checkout (at least 16 bytes, the
    /// same on every process); it lets a peer pass on the buyer's deadline and address.
    #[arg(long, env = "CHECKOUT_ROUTE_SECRET", global = true, hide_env_values = true)]
    pub route_secret: Option<String>,
    /// How many of this process's latest 64 checkouts must have led with a product before its
    /// checkouts are forwarded to their owner (a product selling fast); 0 forwards every one.
    #[arg(long, env = "CHECKOUT_ROUTE_HOT", global = true, default_value_t = peers::DEFAULT_HOT)]
    pub route_hot: usize,
    /// Tell callers which process owns a product selling fast: the answers to its checkouts
    /// carry `Checkout-Owner` with that process's URL (as in `--route-peers`), so that a client
    /// that can reach the processes directly (a storefront's backend) sends the product's next
    /// checkouts there and saves the hop. Off: the peers' URLs stay private.
    #[arg(long, env = "CHECKOUT_ROUTE_ADVERTISE", global = true, value_name = "on|off",
          default_value = "off", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub route_advertise: bool,
    /// Log format.
    #[arg(long, env = "CHECKOUT_LOG_FORMAT", global = true, value_enum, default_value = "pretty")]
    pub log_format: LogFormat,
}

impl Config {
    /// The webhook relay's settings these flags ask for.
    #[must_use]
    pub fn webhooks(&self) -> WebhookSettings {
        WebhookSettings {
            sender: SenderSettings {
                allow_private: self.webhooks_allow_private,
                timeout: Duration::from_secs(u64::from(self.webhooks_timeout)),
                concurrency: self.webhooks_concurrency as usize,
            },
            retry: WebhookRetry {
                first: Duration::from_millis(u64::from(self.webhooks_first_retry_ms)),
                attempts: self.webhooks_attempts,
                ..WebhookRetry::default()
            },
            retention: Duration::from_secs(u64::from(self.webhooks_retention)),
        }
    }

    /// The use cases' settings these flags ask for.
    #[must_use]
    pub fn settings(&self) -> Settings {
        let lanes = self.group_commit_lanes as usize;
        Settings {
            reservation_ttl: TimeDelta::seconds(i64::from(self.reservation_ttl)),
            max_hold: TimeDelta::seconds(i64::from(self.max_hold)),
            request_timeout: Duration::from_secs(u64::from(self.request_timeout)),
            retry: RetryPolicy { max_attempts: self.retry_attempts, ..RetryPolicy::default() },
            group_commit: (lanes > 0).then_some(Batching {
                lanes,
                max_orders: self.group_commit_max_orders as usize,
                queue: self.group_commit_queue as usize,
                // Per backend, once connected (see `Application::build`).
                ..Batching::default()
            }),
            idempotency_retention: Duration::from_secs(u64::from(self.idempotency_retention)),
            events_max_wait: Duration::from_secs(u64::from(self.events_max_wait)),
            webhooks_allow_private: self.webhooks_allow_private,
            events_retention: (self.events_retention > 0)
                .then(|| Duration::from_secs(u64::from(self.events_retention))),
            rate_limits: RateLimitSettings {
                per_client: self.checkout_rate_per_client.map(|per_second| Budget {
                    per_second,
                    burst: self.checkout_burst_per_client.unwrap_or(per_second),
                }),
                per_ip: self.checkout_rate_per_ip.map(|per_second| Budget {
                    per_second,
                    burst: self.checkout_burst_per_ip.unwrap_or(per_second),
                }),
                trust_forwarded_for: self.trust_forwarded_for,
            },
        }
    }

    /// The routing settings these flags ask for, `None` when `--route-peers` is unset.
    ///
    /// # Errors
    /// [`RoutingError::NoOwnUrl`] when peers are named but not this process.
    pub fn peers(&self) -> Result<Option<PeerSettings>, RoutingError> {
        if self.route_peers.is_empty() {
            return Ok(None);
        }
        let own = self.route_self.clone().ok_or(RoutingError::NoOwnUrl)?;
        Ok(Some(PeerSettings {
            peers: self.route_peers.clone(),
            own,
            secret: self.route_secret.clone().unwrap_or_default(),
            hot: self.route_hot,
            advertise: self.route_advertise,
        }))
    }

    /// The defaults, as if no flag or variable were given (for tests and embedding).
    #[must_use]
    pub fn defaults() -> Self {
        Cli::parse_from(["checkout-api"]).config
    }
}

/// Whole seconds of a default duration, for a flag's default.
fn seconds(duration: Option<Duration>) -> u32 {
    duration.and_then(|d| u32::try_from(d.as_secs()).ok()).unwrap_or(u32::MAX)
}

/// The directory a SQLite URL's file lives in, so it can be created before connecting.
#[must_use]
pub fn sqlite_dir(url: &str) -> Option<PathBuf> {
    let path = url.strip_prefix("sqlite://")?.split('?').next()?;
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    PathBuf::from(path).parent().filter(|p| !p.as_os_str().is_empty()).map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sqlite_directory_is_found_for_relative_and_absolute_paths() {
        assert_eq!(sqlite_dir(DEFAULT_DATABASE_URL), Some(PathBuf::from("data")));
        assert_eq!(sqlite_dir("sqlite:///var/lib/c/x.db"), Some(PathBuf::from("/var/lib/c")));
        assert_eq!(sqlite_dir("sqlite://x.db"), None);
        assert_eq!(sqlite_dir("postgres://h/db"), None);
    }

    #[test]
    fn serve_is_the_default_and_flags_parse() {
        let cli = Cli::try_parse_from(["checkout-api", "--database-url", "sqlite://x.db"])
            .expect("parse");
        assert!(cli.command.is_none());
        let cli = Cli::try_parse_from([
            "checkout-api",
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--reservation-ttl",
            "5",
        ])
        .expect("parse");
        assert_eq!(cli.command, Some(Command::Serve));
        assert_eq!(cli.config.reservation_ttl, 5);
        assert!(Cli::try_parse_from(["checkout-api", "serve", "--reservation-ttl", "0"]).is_err());
        assert_eq!(cli.config.retry_attempts, 10);
        assert!(Cli::try_parse_from(["checkout-api", "--retry-attempts", "0"]).is_err());
    }

    #[test]
    fn reconcile_takes_a_json_flag_and_the_global_settings() {
        let cli = Cli::try_parse_from(["checkout-api", "reconcile", "--database-url", "x"])
            .expect("parse");
        assert_eq!(cli.command, Some(Command::Reconcile { json: false }));
        assert_eq!(cli.config.database_url, "x");
        let cli = Cli::try_parse_from(["checkout-api", "reconcile", "--json"]).expect("parse");
        assert_eq!(cli.command, Some(Command::Reconcile { json: true }));
    }

    #[test]
    fn no_flag_gives_the_default_settings_on_every_backend() {
        let parse = |url: &str| {
            Cli::try_parse_from(["checkout-api", "--database-url", url]).expect("parse").config
        };
        assert_eq!(parse("postgres://h/db").settings(), Settings::default());
        assert_eq!(parse("sqlite://x.db").settings(), Settings::default());
        assert_eq!(parse("sqlite://x.db").stock_writes, None, "the adapter's default");
    }

    #[test]
    fn group_commit_lanes_default_to_one_unless_set() {
        let lanes = |args: &[&str]| {
            let args = ["checkout-api"].iter().chain(args).copied();
            Cli::try_parse_from(args).expect("parse").config.group_commit_lanes
        };
        assert_eq!(lanes(&["--database-url", "sqlite://x.db"]), 1);
        assert_eq!(lanes(&["--database-url", "postgres://h/db"]), 1);
        assert_eq!(lanes(&["--database-url", "sqlite://x.db", "--group-commit-lanes", "3"]), 3);
        assert_eq!(lanes(&["--database-url", "postgres://h/db", "--group-commit-lanes", "0"]), 0);
    }
}
