//! The lost update that oversold stock, and the versioned write that stops it, side by side.
//!
//! `cargo run -p infra-seaorm --example oversell [DATABASE_URL]` (default: a temporary SQLite
//! file). With a PostgreSQL or MariaDB URL, the sale runs in a throwaway `oversell_<uuid>`
//! database created on that server and dropped afterwards. Both sales put 100 buyers on a product with 20 units:
//! 1. naive: read the counters, then `UPDATE … SET reserved = <read + 1>` with no version
//!    guard and no transaction around read and write (the seed's code): two buyers who read
//!    the same count both write the same number, both are told "yes", one unit is held once;
//! 2. versioned: the adapter's `UPDATE … WHERE version = <read>`; a buyer who lost the race
//!    reads again and decides again.

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use domain::access::Actor;
use domain::ports::{
    Changeset, Clock, IdGenerator, ProductRepository, StockRepository, UnitOfWork,
};
use domain::{
    Currency, LocationId, Money, Product, ProductId, ProductName, ProductStock, Quantity, Sku,
    StockCount, StockError,
};
use infra_seaorm::system::{SystemClock, UuidV7Ids};
use infra_seaorm::{DatabaseConnection, SeaOrmAdapters, connect, migrate};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

const UNITS: i64 = 20;
const BUYERS: usize = 100;

type BoxError = Box<dyn Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let dir = tempfile::tempdir()?;
    let (url, server) = match std::env::args().nth(1) {
        Some(url) if !url.starts_with("sqlite:") => {
            let server = connect(&url).await?;
            let name = format!("oversell_{}", uuid::Uuid::now_v7().simple());
            server.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
            (with_database(&url, &name), Some((server, name)))
        }
        Some(url) => (url, None),
        None => (format!("sqlite://{}", dir.path().join("oversell.db").display()), None),
    };
    let db = connect(&url).await?;
    migrate(&db).await?;
    let adapters = Arc::new(SeaOrmAdapters::new(&db));
    println!("{BUYERS} buyers, {UNITS} units in stock, {:?}", db.get_database_backend());

    let product_id = new_product(&adapters).await?;
    let buyers = (0..BUYERS).map(|_| tokio::spawn(naive_buyer(db.clone(), product_id)));
    report("naive read-modify-write", &adapters, product_id, count_yes(buyers).await?).await?;

    let product_id = new_product(&adapters).await?;
    let buyers = (0..BUYERS).map(|_| tokio::spawn(versioned_buyer(adapters.clone(), product_id)));
    report("versioned write", &adapters, product_id, count_yes(buyers).await?).await?;

    db.close().await?;
    if let Some((server, name)) = server {
        server.execute_unprepared(&format!("DROP DATABASE {name}")).await?;
    }
    Ok(())
}

/// The server URL `url` with its database path replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, ""), |(base, query)| (base, query));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let server = base[authority..].find('/').map_or(base, |slash| &base[..authority + slash]);
    if query.is_empty() { format!("{server}/{name}") } else { format!("{server}/{name}?{query}") }
}

/// The seed's checkout: nothing ties the write to what was read.
async fn naive_buyer(db: DatabaseConnection, product_id: ProductId) -> Result<bool, BoxError> {
    let id = product_id.as_uuid();
    let read = sql(
        &db,
        "SELECT on_hand, reserved FROM product_stock WHERE product_id = $1",
        vec![id.into()],
    );
    let row = db.query_one_raw(read).await?.ok_or("no stock row")?;
    let (on_hand, reserved): (i64, i64) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
    if on_hand - reserved < 1 {
        return Ok(false);
    }
    // Payment checks, a slow network: anything between read and write widens the window.
    tokio::time::sleep(Duration::from_millis(2)).await;
    let write = "UPDATE product_stock SET reserved = $1 WHERE product_id = $2";
    db.execute_raw(sql(&db, write, vec![(reserved + 1).into(), id.into()])).await?;
    Ok(true)
}

/// The adapter's checkout: the write names the version it read; a loser reads again.
async fn versioned_buyer(adapters: Arc<SeaOrmAdapters>, id: ProductId) -> Result<bool, BoxError> {
    loop {
        let mut stock = adapters.stock.get(id, LocationId::DEFAULT).await?.ok_or("no stock row")?;
        let change = match stock.reserve(Quantity::new(1)?) {
            Ok(change) => change,
            Err(StockError::Insufficient(_)) => return Ok(false),
            Err(other) => return Err(other.into()),
        };
        tokio::time::sleep(Duration::from_millis(2)).await;
        let changeset = Changeset::new(vec![change], None, SystemClock.now());
        match adapters.unit_of_work.commit(changeset).await {
            Ok(()) => return Ok(true),
            Err(err) if err.is_conflict() => continue,
            Err(err) => return Err(err.into()),
        }
    }
}

async fn count_yes(
    buyers: impl Iterator<Item = tokio::task::JoinHandle<Result<bool, BoxError>>>,
) -> Result<i64, BoxError> {
    let mut yes = 0;
    for buyer in buyers.collect::<Vec<_>>() {
        yes += i64::from(buyer.await??);
    }
    Ok(yes)
}

async fn report(
    label: &str,
    adapters: &SeaOrmAdapters,
    id: ProductId,
    yes: i64,
) -> Result<(), BoxError> {
    let stored = adapters.stock.get(id, LocationId::DEFAULT).await?.ok_or("no stock row")?;
    println!(
        "{label:>24}: {yes:>3} buyers told yes, {} units reserved in the database, oversold by {}",
        stored.reserved(),
        yes - UNITS
    );
    Ok(())
}

async fn new_product(adapters: &SeaOrmAdapters) -> Result<ProductId, BoxError> {
    let id = UuidV7Ids.product_id();
    let product = Product {
        id,
        sku: Sku::new(format!("OVERSELL-{}", id.as_uuid().simple()))?,
        name: ProductName::new("Kaos Merah")?,
        price: Money::new(1999, Currency::new("EUR")?)?,
        limits: domain::limits::PurchaseLimits::default(),
        low_stock_threshold: None,
        backorders: domain::backorder::BackorderPolicy::Deny,
        backordered: domain::StockCount::ZERO,
        created_at: SystemClock.now(),
    };
    let stock = ProductStock::new(id, StockCount::new(UNITS)?);
    adapters.products.create(product, stock, Actor::Admin).await?;
    Ok(id)
}

/// `text` with `$n` placeholders, in the backend's own placeholder syntax.
fn sql(db: &DatabaseConnection, text: &str, values: Vec<Value>) -> Statement {
    let backend = db.get_database_backend();
    let text = match backend {
        DbBackend::Postgres => text.to_owned(),
        _ => {
            (1..=values.len()).fold(text.to_owned(), |text, n| text.replace(&format!("${n}"), "?"))
        }
    };
    Statement::from_sql_and_values(backend, text, values)
}
