//! Stock in several locations through the real use cases and these adapters, on every backend:
//! a rush over three locations sells exactly what they hold together and takes no location
//! below zero, transfers race checkouts without moving a reserved unit, and the database's own
//! guard keeps a safety stock raised after the read.

use std::collections::BTreeMap;
use std::sync::Arc;

use application::CartLine;
use application::checkout::{Checkout, CheckoutCommand, CheckoutError};
use application::transfer::{TransferCommand, TransferError, TransferStock};
use domain::access::Actor;
use domain::ports::{Changeset, LocationRepository, StockRepository, StoreError, UnitOfWork};
use domain::{Location, LocationCode, LocationId, Order, ProductId, ProductStock, StockCount};
use infra_seaorm::StockWrites;
use infra_seaorm::system::UuidV7Ids;

use crate::fixtures::{assert_no_drift, product, qty, t0};
use crate::race::{Commits, checkouts, patient, ports};
use crate::support::{TestDb, on_every_backend};

on_every_backend!(
    two_hundred_buyers_over_three_locations_take_exactly_their_thirty_units,
    transfers_racing_checkouts_never_move_a_reserved_unit,
    the_guarded_write_keeps_a_safety_stock_raised_after_the_read,
);

/// A new location of priority `priority`, stored.
async fn location(db: &TestDb, code: &str, priority: i64) -> LocationId {
    use domain::ports::IdGenerator;
    let code = LocationCode::new(code).expect("a code");
    let location = Location::new(UuidV7Ids.location_id(), code, "Gudang", priority).expect("ok");
    db.adapters.locations.create(location.clone()).await.expect("create the location");
    location.id()
}

/// `units` delivered to `product` at `at` (its row opened first).
async fn deliver(db: &TestDb, product: ProductId, at: LocationId, units: i64) -> ProductStock {
    let mut row = db.adapters.stock.open(product, at, t0()).await.expect("open the row");
    let delivery = row.adjust(units).expect("a delivery");
    db.adapters.stock.save(delivery, None, Actor::Admin, None, t0()).await.expect("deliver")
}

/// Every row of `product`, by location.
async fn rows(db: &TestDb, product: ProductId) -> BTreeMap<LocationId, ProductStock> {
    let rows = db.adapters.stock.get_many(&[product]).await.expect("read the rows");
    rows.into_iter().map(|row| (row.location_id(), row)).collect()
}

/// Units the orders hold per location; asserts each line's allocations add up.
fn held(orders: &[Order]) -> BTreeMap<LocationId, i64> {
    let mut held = BTreeMap::new();
    for order in orders {
        for line in order.lines() {
            let sum: u32 = line.allocations.iter().map(|a| a.quantity.get()).sum();
            assert_eq!(sum, line.quantity.get(), "allocations add up to the line");
            for a in &line.allocations {
                *held.entry(a.location_id).or_default() += i64::from(a.quantity.get());
            }
        }
    }
    held
}

fn command(lines: Vec<CartLine>, location_ids: Vec<LocationId>) -> CheckoutCommand {
    CheckoutCommand {
        lines,
        customer_id: None,
        location_ids,
        asserts_customer: false,
        actor: Actor::Admin,
        idempotency: None,
        deadline: None,
    }
}

async fn two_hundred_buyers_over_three_locations_take_exactly_their_thirty_units(db: &TestDb) {
    // Arrange
    let (product, _) = product(db, "LOC-RUSH", 10).await;
    let (north, south) = (location(db, "north", 1).await, location(db, "south", 2).await);
    deliver(db, product.id, north, 10).await;
    deliver(db, product.id, south, 10).await;
    let checkouts: Vec<Arc<Checkout>> =
        checkouts(db, StockWrites::Guarded, Commits::Grouped { processes: 3 });

    // Act: 200 buyers of 1 to 5 units over three "processes", a third with preferences.
    let tasks: Vec<_> = (0..200_usize)
        .zip(checkouts.iter().cycle())
        .map(|(i, checkout)| {
            let checkout = Arc::clone(checkout);
            let lines =
                vec![CartLine { product_id: product.id, quantity: qty(1 + (i % 5) as i64) }];
            let prefer = if i % 3 == 1 { vec![south, north] } else { Vec::new() };
            tokio::spawn(async move { checkout.execute(command(lines, prefer)).await })
        })
        .collect();
    let mut orders = Vec::new();
    for task in tasks {
        match task.await.expect("a buyer") {
            Ok(done) => orders.push(done.order),
            Err(CheckoutError::InsufficientStock(_)) => {}
            Err(other) => panic!("a definite answer, not {other:?}"),
        }
    }
    loop {
        let one = vec![CartLine { product_id: product.id, quantity: qty(1) }];
        match checkouts[0].execute(command(one, Vec::new())).await {
            Ok(done) => orders.push(done.order),
            Err(CheckoutError::InsufficientStock(_)) => break,
            Err(other) => panic!("{other:?}"),
        }
    }

    // Assert
    let rows = rows(db, product.id).await;
    for row in rows.values() {
        assert_eq!((row.on_hand().get(), row.reserved().get()), (10, 10), "{row:?}");
    }
    let all = held(&orders);
    assert_eq!(all, BTreeMap::from([(LocationId::DEFAULT, 10), (north, 10), (south, 10)]));
    for order in &orders {
        use domain::ports::OrderRepository;
        let stored = db.adapters.orders.get(order.id()).await.expect("read").expect("stored");
        assert_eq!(&stored, order, "stored with its allocations");
    }
    assert_no_drift(db).await;
}

async fn transfers_racing_checkouts_never_move_a_reserved_unit(db: &TestDb) {
    // Arrange
    let (product, _) = product(db, "LOC-TRANSFER", 20).await;
    let store = location(db, "store", 5).await;
    let checkouts = checkouts(db, StockWrites::Guarded, Commits::Grouped { processes: 2 });
    let transfers = Arc::new(TransferStock::new(ports(db, StockWrites::Guarded), patient()));

    // Act
    let mut sold = Vec::new();
    let mut moved = Vec::new();
    for i in 0..70 {
        if i % 7 >= 3 {
            let checkout = Arc::clone(&checkouts[i % 2]);
            let lines = vec![CartLine { product_id: product.id, quantity: qty(1) }];
            sold.push(tokio::spawn(
                async move { checkout.execute(command(lines, Vec::new())).await },
            ));
        } else {
            let transfers = Arc::clone(&transfers);
            let move_one = TransferCommand {
                product_id: product.id,
                from: LocationId::DEFAULT,
                to: store,
                quantity: qty(1),
                reason: None,
                actor: Actor::Admin,
                idempotency: None,
            };
            moved.push(tokio::spawn(async move { transfers.execute(move_one).await }));
        }
    }
    let mut orders = 0;
    for task in sold {
        match task.await.expect("a buyer") {
            Ok(_) => orders += 1,
            Err(CheckoutError::InsufficientStock(_)) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    let mut arrived = 0;
    for task in moved {
        match task.await.expect("a transfer") {
            Ok(_) => arrived += 1,
            Err(TransferError::InsufficientStock(_)) => {}
            Err(other) => panic!("{other:?}"),
        }
    }

    // Assert
    eprintln!("{:?}: {orders} sold, {arrived} transferred", db.backend);
    assert_eq!(orders, 20, "every unit sold once, wherever it went");
    let rows = rows(db, product.id).await;
    let total: i64 = rows.values().map(|r| r.on_hand().get()).sum();
    let reserved: i64 = rows.values().map(|r| r.reserved().get()).sum();
    assert_eq!((total, reserved), (20, 20));
    assert_eq!(rows.get(&store).map_or(0, |r| r.on_hand().get()), arrived);
    assert_no_drift(db).await;
}

async fn the_guarded_write_keeps_a_safety_stock_raised_after_the_read(db: &TestDb) {
    // Arrange: 10 units read with no safety stock; then 8 are kept back.
    let (other, _) = product(db, "LOC-SAFETY-2", 10).await;
    let (product, _) = product(db, "LOC-SAFETY", 10).await;
    let stale = db.adapters.stock.get(product.id, LocationId::DEFAULT).await.expect("read");
    let mut stale = stale.expect("a row");
    let mut counted = stale;
    let raise = counted.set_safety_stock(StockCount::new(8).expect("count"));
    db.adapters.stock.save(raise, None, Actor::Admin, None, t0()).await.expect("raise");

    // Act: a reservation of 5 decided on the stale read (alone, then next to another row).
    let reserve = stale.reserve(qty(5)).expect("5 of 10 looked free");
    let alone = db.adapters.unit_of_work.commit(Changeset::new(vec![reserve], None, t0())).await;
    let mut beside = db.adapters.stock.get(other.id, LocationId::DEFAULT).await.expect("read");
    let beside = beside.as_mut().expect("a row").adjust(1).expect("a delivery");
    let together =
        db.adapters.stock.save_many(vec![Changeset::new(vec![reserve, beside], None, t0())]).await;

    // Assert: refused both ways (one row, and PostgreSQL's multi-row UPDATE); nothing written.
    assert!(matches!(alone, Err(StoreError::StockConflict(id)) if id == product.id), "{alone:?}");
    assert!(matches!(together, Err(StoreError::StockConflict(_))), "{together:?}");
    let row = db.adapters.stock.get(product.id, LocationId::DEFAULT).await.expect("read");
    let row = row.expect("a row");
    assert_eq!((row.on_hand().get(), row.reserved().get(), row.safety_stock().get()), (10, 0, 8));
    assert_no_drift(db).await;
}
