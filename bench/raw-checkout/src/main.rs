//! The raw-SQL limit the checkout service is measured against: the transactions of
//! `bench/pgbench/checkout3.sql` (`spread`) and `hot_guarded.sql` (`hot`), sent straight
//! through sqlx (no ORM, no use case, no HTTP) by C tokio tasks looping until a deadline.
//!
//! `cargo run --release -p raw-checkout -- --url URL --clients C
//! --seconds S --scenario spread|hot [--products N] [--json PATH]`
//!
//! URL must name a fresh database: a new SQLite file (`sqlite:///tmp/raw/a.db`) or an empty
//! PostgreSQL database the caller created (this program never creates or drops databases).
//! It is migrated, then seeded with N products whose ids are those of `bench/pgbench/seed.sql`,
//! so pgbench can run on the same database afterwards (`-D nproducts=N`); on a used database
//! the seed fails on the products' primary key. The pool is the service's ([`connect`]): 4
//! SQLite connections, sqlx's default of 10 on PostgreSQL; clients beyond that queue for a
//! connection, as the service's requests do.

use std::{error::Error, path::PathBuf, time::Duration};

use application::checkout::CheckoutConfig;
use chrono::Utc;
use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use infra_seaorm::{connect, migrate};
use rand::{SeedableRng, rngs::StdRng, seq::index};
use sea_orm::DbBackend;
use sea_orm::sqlx::{self, PgPool, SqlitePool, sqlite::SqliteError};
use tokio::time::Instant;
use uuid::Uuid;

type BoxError = Box<dyn Error + Send + Sync>;

/// Never runs out during a run, so every failure is contention, not a shortage.
const ON_HAND: i64 = 100_000_000_000;
const EXPIRY: chrono::TimeDelta = CheckoutConfig::DEFAULT_RESERVATION_TTL;

// One SQL text for both backends: sqlx binds `$n` by number on SQLite too.
const SEED_PRODUCT: &str = "INSERT INTO products (id, sku, name, price_amount, currency, \
     created_at) VALUES ($1, $2, $3, 1999, 'EUR', $4)";
const SEED_STOCK: &str = "INSERT INTO product_stock (product_id, on_hand, reserved, version, \
     updated_at, location_id) VALUES ($1, $2, 0, 1, $3, $4)";
// RETURNING hands the ledger row the version actually stored (pgbench writes a constant 2)
// without a round trip; no row back means the guard failed.
const RESERVE: &str = "UPDATE product_stock SET reserved = reserved + 1, version = version + 1, \
     updated_at = $1 WHERE product_id = $2 AND location_id = $3 AND on_hand - reserved >= 1 \
     RETURNING version";
const HOT: &str = "UPDATE product_stock SET reserved = reserved + 1, version = version + 1, \
     updated_at = $1 WHERE product_id = $2 AND location_id = $3 AND on_hand - reserved >= 1";
const ORDER: &str = "INSERT INTO orders (id, status, total_amount, currency, customer_id, \
     created_at, expires_at, version) VALUES ($1, 'reserved', 5997, 'EUR', NULL, $2, $3, 1)";
const LINES: &str = "INSERT INTO order_lines (order_id, product_id, quantity, \
     unit_price_amount, currency) VALUES ($1, $2, 1, 1999, 'EUR'), ($1, $3, 1, 1999, 'EUR'), \
     ($1, $4, 1, 1999, 'EUR')";
const MOVEMENTS: &str = "INSERT INTO stock_movements (product_id, kind, on_hand_delta, \
     reserved_delta, version, order_id, reason, at, location_id) VALUES \
     ($2, 'reserve', 0, 1, $5, $1, NULL, $8, $9), ($3, 'reserve', 0, 1, $6, $1, NULL, $8, $9), \
     ($4, 'reserve', 0, 1, $7, $1, NULL, $8, $9)";
/// Every row is at the default location (`domain::LocationId::DEFAULT`, made by the
/// migrations), as a shop with one location has it.
const LOCATION: Uuid = Uuid::from_u128(1);

#[derive(Parser)]
struct Args {
    /// `sqlite://…` (a new file) or `postgres://…` (a fresh, empty database).
    #[arg(long)]
    url: String,
    #[arg(long, default_value_t = 4)]
    clients: usize,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    #[arg(long, value_enum)]
    scenario: Scenario,
    /// Products seeded; `spread` buys 3 distinct ones at random, `hot` only product 1.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(3..))]
    products: u64,
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum, Debug)]
enum Scenario {
    Spread,
    Hot,
}

/// The service's pool, as the concrete sqlx pool of its backend.
#[derive(Clone)]
enum Pools {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` once per backend with `$pool` bound to that backend's pool: the SQL is the
/// same, only the types differ, and sqlx's generic bounds would cost more lines than this.
macro_rules! with_pool {
    ($pools:expr, $pool:ident => $body:expr) => {
        match $pools {
            Pools::Sqlite($pool) => $body,
            Pools::Postgres($pool) => $body,
        }
    };
}

struct Tally {
    committed: u64,
    failures: u64,
    latency_us: Histogram<u64>,
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    // Checked before connecting: a database this program cannot drive is never migrated.
    let db = match args.url.split_once(':').map(|(scheme, _)| scheme) {
        Some("sqlite" | "postgres" | "postgresql") => connect(&args.url).await?,
        // MySQL has neither RETURNING nor `$n` placeholders.
        _ => return Err("only sqlite: and postgres: URLs are supported".into()),
    };
    migrate(&db).await?;
    let (pools, backend) = if db.get_database_backend() == DbBackend::Sqlite {
        (Pools::Sqlite(db.get_sqlite_connection_pool().clone()), "sqlite")
    } else {
        (Pools::Postgres(db.get_postgres_connection_pool().clone()), "postgres")
    };
    let seeded = seed(&pools, args.products).await;
    seeded.map_err(|err| format!("seeding failed (is the database fresh?): {err}"))?;
    // Open the connections before the clock starts, as pgbench does.
    with_pool!(&pools, pool => {
        let wanted = args.clients.min(pool.options().get_max_connections() as usize);
        let mut held = Vec::with_capacity(wanted);
        for _ in 0..wanted {
            held.push(pool.acquire().await?);
        }
    });

    let empty = Histogram::new_with_bounds(1, 60_000_000, 3)?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let tasks: Vec<_> = (0..args.clients)
        .map(|id| {
            let tally = Tally { committed: 0, failures: 0, latency_us: empty.clone() };
            tokio::spawn(client(pools.clone(), args.scenario, args.products, deadline, id, tally))
        })
        .collect();
    let mut total = Tally { committed: 0, failures: 0, latency_us: empty };
    for task in tasks {
        let tally = task.await??;
        total.committed += tally.committed;
        total.failures += tally.failures;
        total.latency_us.add(&tally.latency_us)?;
    }
    // Until the last task finished: a transaction begun before the deadline still counts.
    let elapsed = started.elapsed().as_secs_f64();

    let tps = total.committed as f64 / elapsed;
    let (clients, scenario) = (args.clients, format!("{:?}", args.scenario).to_lowercase());
    println!(
        "tps={tps:.1} failures={} clients={clients} scenario={scenario} backend={backend}",
        total.failures
    );
    if let Some(path) = args.json {
        let report = serde_json::json!({
            "backend": backend, "scenario": scenario, "clients": clients, "seconds": elapsed,
            "committed": total.committed, "failures": total.failures, "tps": tps,
            "latency_us": {
                "p50": total.latency_us.value_at_quantile(0.5),
                "p99": total.latency_us.value_at_quantile(0.99),
            },
        });
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)?;
    }
    Ok(())
}

/// One client: transactions back to back until the deadline. A lost race is counted and the
/// client goes on; any other error ends the run.
async fn client(
    pools: Pools,
    scenario: Scenario,
    products: u64,
    deadline: Instant,
    id: usize,
    mut tally: Tally,
) -> Result<Tally, sqlx::Error> {
    // Seeded by the client's index: a run's carts are the same from one run to the next.
    let mut rng = StdRng::seed_from_u64(id as u64);
    while Instant::now() < deadline {
        let started = Instant::now();
        let outcome = match scenario {
            Scenario::Spread => {
                let mut picked = [0; 3];
                for (n, i) in picked.iter_mut().zip(index::sample(&mut rng, products as usize, 3)) {
                    *n = i as u64 + 1;
                }
                // Rows locked in one global order: no deadlocks between checkouts.
                picked.sort_unstable();
                spread(&pools, picked.map(product_id)).await
            }
            Scenario::Hot => hot(&pools).await,
        };
        match outcome {
            Ok(()) => {
                tally.committed += 1;
                let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                tally.latency_us.saturating_record(micros);
            }
            Err(err) if is_contention(&err) => tally.failures += 1,
            Err(err) => return Err(err),
        }
    }
    Ok(tally)
}

/// The 3-line checkout, in one write transaction.
async fn spread(pools: &Pools, ids: [Uuid; 3]) -> Result<(), sqlx::Error> {
    let (order, now) = (Uuid::now_v7(), Utc::now());
    let begin = match pools {
        // Take the write lock up front, as the adapter does: a deferred BEGIN that upgrades
        // later fails with SQLITE_BUSY at once instead of waiting for the busy timeout.
        Pools::Sqlite(_) => "BEGIN IMMEDIATE",
        Pools::Postgres(_) => "BEGIN",
    };
    with_pool!(pools, pool => {
        let mut tx = pool.begin_with(begin).await?;
        let mut versions = [0_i64; 3];
        for (version, id) in versions.iter_mut().zip(ids) {
            *version = sqlx::query_scalar(RESERVE).bind(now).bind(id).bind(LOCATION).fetch_one(&mut *tx).await?;
        }
        sqlx::query(ORDER).bind(order).bind(now).bind(now + EXPIRY).execute(&mut *tx).await?;
        let lines = sqlx::query(LINES).bind(order).bind(ids[0]).bind(ids[1]).bind(ids[2]);
        lines.execute(&mut *tx).await?;
        let movements = sqlx::query(MOVEMENTS).bind(order).bind(ids[0]).bind(ids[1]).bind(ids[2]);
        let movements = movements.bind(versions[0]).bind(versions[1]).bind(versions[2]).bind(now).bind(LOCATION);
        movements.execute(&mut *tx).await?;
        tx.commit().await
    })
}

/// One guarded reservation of product 1, in its own (autocommit) transaction.
async fn hot(pools: &Pools) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    let done = with_pool!(pools, pool => {
        sqlx::query(HOT).bind(now).bind(product_id(1)).bind(LOCATION).execute(pool).await?.rows_affected()
    });
    // With ON_HAND units a failed guard means a broken seed: end the run, loudly.
    if done == 1 { Ok(()) } else { Err(sqlx::Error::RowNotFound) }
}

/// Products 1..=n with seed.sql's ids, names and price, and ON_HAND units each. A row at a
/// time (prepared once): 2N round trips are nothing beside a run, and simpler than batching.
async fn seed(pools: &Pools, products: u64) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    with_pool!(pools, pool => {
        let mut tx = pool.begin().await?;
        for n in 1..=products {
            let (id, sku, name) = (product_id(n), format!("RAW-{n}"), format!("raw baseline {n}"));
            let product = sqlx::query(SEED_PRODUCT).bind(id).bind(sku).bind(name).bind(now);
            product.execute(&mut *tx).await?;
            sqlx::query(SEED_STOCK).bind(id).bind(ON_HAND).bind(now).bind(LOCATION).execute(&mut *tx).await?;
        }
        tx.commit().await
    })
}

/// seed.sql's `'00000000-0000-7000-8000-' || lpad(to_hex(n), 12, '0')`. Bound as a `Uuid`,
/// which sqlx stores as the 16-byte blob the service uses on SQLite.
fn product_id(n: u64) -> Uuid {
    Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0000 | u128::from(n))
}

/// A lost race rather than a broken run: SQLite busy/locked (the busy timeout ran out), or a
/// PostgreSQL serialization failure, deadlock or lock timeout; the adapter's list.
fn is_contention(err: &sqlx::Error) -> bool {
    let Some(db) = err.as_database_error() else { return false };
    let Some(code) = db.code() else { return false };
    if db.try_downcast_ref::<SqliteError>().is_some() {
        // sqlx reports the extended result code; its low byte is the primary one.
        return code.parse::<i32>().is_ok_and(|code| matches!(code & 0xff, 5 | 6));
    }
    matches!(&*code, "40001" | "40P01" | "55P03")
}
