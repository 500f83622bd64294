//! Backorders through the real use cases and these adapters, on every backend: racing buyers
//! in three group-commit "processes" owe exactly the product's limit beyond its stock, and
//! deliveries racing cancellations of the orders owed never give a unit to a cancelled order
//! nor leave the counter apart from the orders.

use std::sync::Arc;

use application::CartLine;
use application::adjust_stock::{AdjustStock, AdjustStockCommand};
use application::cancel::{Cancel, CancelCommand};
use application::checkout::{Checkout, CheckoutCommand, CheckoutError};
use domain::access::Actor;
use domain::backorder::{BackorderLimit, BackorderPolicy};
use domain::ports::{OrderRepository, ProductRepository, StockRepository};
use domain::{LocationId, Order, OrderStatus, ProductId, ProductPatch};
use infra_seaorm::StockWrites;

use crate::fixtures::{assert_no_drift, product, qty};
use crate::race::{Commits, checkouts, patient, ports};
use crate::support::{TestDb, on_every_backend};

on_every_backend!(
    racing_buyers_owe_exactly_the_backorder_limit,
    deliveries_racing_cancellations_fill_only_live_orders,
    a_delivery_lessens_what_is_incoming_in_its_own_commit,
);

/// Allows `product` to owe up to `limit` units.
async fn allow(db: &TestDb, product: ProductId, limit: i64) {
    let limit = BackorderLimit::new(limit).expect("a limit");
    let patch =
        ProductPatch { backorders: Some(BackorderPolicy::Allow(limit)), ..Default::default() };
    db.adapters.products.update(product, patch).await.expect("patched").expect("a product");
}

fn command(product: ProductId, units: i64) -> CheckoutCommand {
    CheckoutCommand {
        lines: vec![CartLine { product_id: product, quantity: qty(units) }],
        customer_id: None,
        location_ids: Vec::new(),
        asserts_customer: false,
        actor: Actor::Admin,
        idempotency: None,
        deadline: None,
    }
}

/// The product's counter of units owed, as stored.
async fn counter(db: &TestDb, product: ProductId) -> i64 {
    let read = db.adapters.stock.backordered(&[product]).await.expect("read the counter");
    read.into_iter().map(|(_, units)| units).sum()
}

async fn racing_buyers_owe_exactly_the_backorder_limit(db: &TestDb) {
    // Arrange: 10 on hand, up to 7 owed.
    let (product, _) = product(db, "BACKORDER-RACE", 10).await;
    allow(db, product.id, 7).await;
    let checkouts: Vec<Arc<Checkout>> =
        checkouts(db, StockWrites::Guarded, Commits::Grouped { processes: 3 });

    // Act: 80 buyers of 1 to 3 units over three "processes", then one-unit buyers until
    // refused.
    let tasks: Vec<_> = (0..80_usize)
        .zip(checkouts.iter().cycle())
        .map(|(i, checkout)| {
            let checkout = Arc::clone(checkout);
            let units = 1 + (i % 3) as i64;
            tokio::spawn(async move { checkout.execute(command(product.id, units)).await })
        })
        .collect();
    let mut orders: Vec<Order> = Vec::new();
    for task in tasks {
        match task.await.expect("a buyer") {
            Ok(done) => orders.push(done.order),
            Err(CheckoutError::InsufficientStock(_)) => {}
            Err(other) => panic!("a definite answer, not {other:?}"),
        }
    }
    loop {
        match checkouts[0].execute(command(product.id, 1)).await {
            Ok(done) => orders.push(done.order),
            Err(CheckoutError::InsufficientStock(_)) => break,
            Err(other) => panic!("{other:?}"),
        }
    }

    // Assert: 10 held and 7 owed, exactly; the counter agrees with the orders as stored.
    let units: u32 = orders.iter().map(|o| o.lines()[0].quantity.get()).sum();
    let owed: u32 = orders.iter().map(|o| o.lines()[0].backordered).sum();
    assert_eq!((units, owed), (17, 7), "exactly on hand + limit sold");
    assert_eq!(counter(db, product.id).await, 7);
    let stock = db.adapters.stock.get(product.id, LocationId::DEFAULT).await.expect("read");
    let stock = stock.expect("a row");
    assert_eq!((stock.on_hand().get(), stock.reserved().get()), (10, 10));
    for order in &orders {
        let stored = db.adapters.orders.get(order.id()).await.expect("read").expect("stored");
        assert_eq!(&stored, order, "stored with what it owes");
    }
    assert_no_drift(db).await;
}

async fn deliveries_racing_cancellations_fill_only_live_orders(db: &TestDb) {
    // Arrange: a preorder of 12 single units, nothing on hand.
    let (product, _) = product(db, "BACKORDER-FILL", 0).await;
    allow(db, product.id, 12).await;
    let checkout = &checkouts(db, StockWrites::Guarded, Commits::Grouped { processes: 1 })[0];
    let mut orders = Vec::new();
    for _ in 0..12 {
        orders.push(checkout.execute(command(product.id, 1)).await.expect("a preorder").order);
    }
    let ports = ports(db, StockWrites::Guarded);
    let adjust = Arc::new(AdjustStock::new(ports.clone(), patient()));
    let cancel = Arc::new(Cancel::new(ports, patient()));

    // Act: 8 deliveries of one unit race the cancellation of every other order.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let adjust = Arc::clone(&adjust);
        tasks.push(tokio::spawn(async move {
            let command = AdjustStockCommand {
                product_id: product.id,
                location_id: LocationId::DEFAULT,
                delta: 1,
                reason: Some("delivery".into()),
                actor: Actor::Admin,
                idempotency: None,
            };
            adjust.execute(command).await.map(|_| ()).map_err(|e| e.to_string())
        }));
    }
    for order in orders.iter().step_by(2) {
        let (cancel, order_id) = (Arc::clone(&cancel), order.id());
        tasks.push(tokio::spawn(async move {
            let command = CancelCommand { order_id, actor: Actor::Admin };
            cancel.execute(command).await.map(|_| ()).map_err(|e| e.to_string())
        }));
    }
    for task in tasks {
        task.await.expect("a task").expect("every delivery and cancellation succeeds");
    }

    // Assert: 6 live orders, 8 units arrived. Each delivery filled the oldest order owed when
    // it committed; a cancellation after a fill released a held unit (on sale then, not
    // refilled: only deliveries fill). Every other order is cancelled, so at least 4 live ones
    // are filled (eight fills in placement order reach four live orders before a fifth
    // cancelled one), and the filled ones are the oldest live ones: no live order still owes
    // while a younger one was filled. The stock holds exactly what the live orders hold
    // (reconciliation), and the counter is what they still owe.
    let mut live = Vec::new();
    for order in &orders {
        let stored = db.adapters.orders.get(order.id()).await.expect("read").expect("stored");
        let line = &stored.lines()[0];
        match stored.record().status {
            // Its line keeps where it was held, if filled, as a record; what the stock holds
            // for it (nothing) is reconciliation's to check, below.
            OrderStatus::Cancelled => {}
            OrderStatus::Reserved => {
                assert_eq!(line.backordered + line.held(), 1);
                live.push((stored.id(), line.held() == 1));
            }
            other => panic!("{other}"),
        }
    }
    live.sort();
    let filled: Vec<bool> = live.iter().map(|(_, filled)| *filled).collect();
    assert!(filled.windows(2).all(|w| w[0] || !w[1]), "oldest first: {filled:?}");
    let live_filled = u32::try_from(filled.iter().filter(|f| **f).count()).expect("small");
    let stock = db.adapters.stock.get(product.id, LocationId::DEFAULT).await.expect("read");
    let stock = stock.expect("a row");
    let owed_now = counter(db, product.id).await;
    assert!(
        (4..=6).contains(&live_filled),
        "{live_filled} live orders filled: {filled:?}, stock {stock:?}, counter {owed_now}"
    );
    let held = i64::from(live_filled);
    let counts = (stock.on_hand().get(), stock.reserved().get(), stock.available().get());
    assert_eq!(counts, (8, held, 8 - held));
    assert_eq!(counter(db, product.id).await, 6 - held, "what the live orders still owe");
    assert_no_drift(db).await;
}

async fn a_delivery_lessens_what_is_incoming_in_its_own_commit(db: &TestDb) {
    use domain::incoming::Incoming;
    use domain::ports::StoreError;

    // Arrange: 9 expected at the default location.
    let (product, mut stock) = product(db, "INCOMING-ADAPTER", 0).await;
    let expected = Incoming {
        product_id: product.id,
        location_id: LocationId::DEFAULT,
        quantity: domain::StockCount::new(9).expect("count"),
        expected_at: Some(crate::fixtures::t0()),
    };
    db.adapters.stock.set_incoming(expected, crate::fixtures::t0()).await.expect("recorded");

    // Act: 4 delivered, 1 broken (not a delivery), then 8 delivered.
    for delta in [4, -1, 8] {
        let change = stock.adjust(delta).expect("an adjustment");
        let at = crate::fixtures::t0();
        stock = db.adapters.stock.save(change, None, Actor::Admin, None, at).await.expect("saved");
    }

    // Assert: 9 - 4 = 5 after the first, never below 0 after the second delivery.
    let now = db.adapters.stock.incoming(product.id).await.expect("read");
    assert_eq!(now.len(), 1);
    assert_eq!((now[0].quantity.get(), now[0].expected_at), (0, expected.expected_at));
    let ghost = LocationId::new(uuid::Uuid::from_u128(0xdead)).expect("id");
    let refused = db
        .adapters
        .stock
        .set_incoming(Incoming { location_id: ghost, ..expected }, crate::fixtures::t0())
        .await;
    assert!(matches!(refused, Err(StoreError::LocationNotFound(id)) if id == ghost), "{refused:?}");
}
