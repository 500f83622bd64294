//! What goes in comes back out: products, stock, orders and ledger entries survive a trip
//! through every backend unchanged.

use domain::access::Actor;
use domain::ports::{OrderRepository, ProductRepository, StockRepository};
use domain::{LocationId, MovementKind, StockMovement, Version};

use crate::fixtures::{checkout, product, t0};
use crate::support::{TestDb, on_every_backend};

on_every_backend!(a_product_its_stock_and_an_order_read_back_as_written);

async fn a_product_its_stock_and_an_order_read_back_as_written(db: &TestDb) {
    let (product_a, stock_a) = product(db, "RT-A", 10).await;
    let (product_b, _) = product(db, "RT-B", 4).await;

    let order = checkout(db, &[(product_b.id, 3), (product_a.id, 2)], t0()).await;

    assert_eq!(db.adapters.products.get(product_a.id).await.expect("get"), Some(product_a.clone()));
    let stored = db.adapters.orders.get(order.id()).await.expect("get order");
    assert_eq!(stored, Some(order.clone()));
    let stock = db
        .adapters
        .stock
        .get(product_a.id, LocationId::DEFAULT)
        .await
        .expect("get")
        .expect("stock");
    assert_eq!((stock.on_hand().get(), stock.reserved().get()), (10, 2));
    assert_eq!(stock.version(), stock_a.version().next());
    let ledger = db.adapters.stock.movements(product_a.id, 10).await.expect("movements");
    let reserve = StockMovement {
        actor: Some(Actor::Admin),
        product_id: product_a.id,
        location_id: LocationId::DEFAULT,
        kind: MovementKind::Reserve,
        on_hand_delta: 0,
        reserved_delta: 2,
        version: Version::new(2).expect("version"),
        order_id: Some(order.id()),
        reason: None,
        at: t0(),
    };
    let restock = StockMovement {
        kind: MovementKind::Restock,
        on_hand_delta: 10,
        reserved_delta: 0,
        version: Version::INITIAL,
        order_id: None,
        ..reserve.clone()
    };
    assert_eq!(ledger, vec![reserve, restock], "newest first");
    let unknown = crate::fixtures::new_product_id();
    assert_eq!(db.adapters.products.get(unknown).await.expect("get"), None);
    assert_eq!(db.adapters.stock.get(unknown, LocationId::DEFAULT).await.expect("get"), None);
    let many = db.adapters.stock.get_many(&[product_a.id, unknown]).await.expect("get_many");
    assert_eq!(many, vec![stock], "unknown ids are left out");
}
