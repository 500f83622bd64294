//! Test data: products, stock and orders made through the adapters themselves, at fixed times.

use chrono::{TimeDelta, TimeZone, Utc};
use domain::access::Actor;
use domain::ports::{Changeset, IdGenerator, ProductRepository, StockRepository, UnitOfWork};
use domain::{
    Cart, Currency, LocationId, Money, Order, Product, ProductId, ProductName, ProductStock,
    Quantity, Sku, StockCount, Timestamp,
};
use infra_seaorm::system::UuidV7Ids;

use crate::support::TestDb;

/// A fixed instant, on a whole second: MariaDB's `timestamp` columns keep whole seconds.
pub fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).single().expect("a valid instant")
}

pub fn minutes(n: i64) -> TimeDelta {
    TimeDelta::minutes(n)
}

pub fn qty(n: i64) -> Quantity {
    Quantity::new(n).expect("a quantity")
}

pub fn new_product_id() -> ProductId {
    UuidV7Ids.product_id()
}

pub fn price() -> Money {
    Money::new(1999, Currency::new("EUR").expect("EUR")).expect("a price")
}

/// A product with `on_hand` units, stored through the product port.
pub async fn product(db: &TestDb, sku: &str, on_hand: i64) -> (Product, ProductStock) {
    product_with_threshold(db, sku, on_hand, None).await
}

/// A product with `on_hand` units and a low-stock threshold, stored through the product port.
pub async fn product_with_threshold(
    db: &TestDb,
    sku: &str,
    on_hand: i64,
    low_stock_threshold: Option<i64>,
) -> (Product, ProductStock) {
    let low_stock_threshold = low_stock_threshold.map(|t| StockCount::new(t).expect("a count"));
    let product = Product {
        id: new_product_id(),
        sku: Sku::new(sku).expect("a SKU"),
        name: ProductName::new("Kaos Merah").expect("a name"),
        price: price(),
        limits: domain::limits::PurchaseLimits::default(),
        low_stock_threshold,
        backorders: domain::backorder::BackorderPolicy::Deny,
        backordered: StockCount::ZERO,
        created_at: t0(),
    };
    let stock = ProductStock::new(product.id, StockCount::new(on_hand).expect("a count"));
    db.adapters
        .products
        .create(product.clone(), stock, Actor::Admin)
        .await
        .expect("create the product");
    (product, stock)
}

/// Reads the stock of `product_id`, which must exist.
pub async fn stock(db: &TestDb, product_id: ProductId) -> ProductStock {
    db.adapters
        .stock
        .get(product_id, LocationId::DEFAULT)
        .await
        .expect("read stock")
        .expect("a stock row")
}

/// Places an order for `lines` at `now` (fresh stock reads, one commit), held for 15 minutes.
pub async fn checkout(db: &TestDb, lines: &[(ProductId, i64)], now: Timestamp) -> Order {
    let cart = Cart::new(lines.iter().map(|&(id, n)| (id, qty(n)))).expect("a cart");
    let mut changes = Vec::new();
    for (product_id, quantity) in cart.lines() {
        let mut stock = stock(db, product_id).await;
        changes.push(stock.reserve(quantity).expect("enough stock"));
    }
    let order = Order::place(
        UuidV7Ids.order_id(),
        &cart,
        |_| Some(price()),
        None,
        now,
        minutes(15),
        Actor::Admin,
    )
    .expect("an order");
    let changeset = Changeset::new(changes, Some(domain::OrderChange::Created(order.clone())), now);
    db.adapters.unit_of_work.commit(changeset).await.expect("commit the checkout");
    order
}

/// Asserts that reconciliation finds every row's figures in agreement.
pub async fn assert_no_drift(db: &TestDb) {
    use domain::ports::Reconciliation;
    let figures = db.adapters.reconciliation.stock_figures().await.expect("figures");
    let drift: Vec<_> = figures.into_iter().filter_map(domain::Drift::find).collect();
    assert_eq!(drift, vec![], "nothing drifted");
}

/// A checkout of `n` units of each of `stocks`' products, reserved from them as they are read:
/// the order and its changeset.
pub fn reserve_each(stocks: &mut [ProductStock], n: i64) -> (Order, Changeset) {
    let cart = Cart::new(stocks.iter().map(|s| (s.product_id(), qty(n)))).expect("cart");
    let order = placed(&cart);
    let changes = stocks.iter_mut().map(|s| s.reserve(qty(n)).expect("reserve")).collect();
    let changeset =
        Changeset::new(changes, Some(domain::OrderChange::Created(order.clone())), t0());
    (order, changeset)
}

/// An order for `cart` at the fixture price, placed at [`t0`] by the admin, for 15 minutes.
pub fn placed(cart: &Cart) -> Order {
    Order::place(
        UuidV7Ids.order_id(),
        cart,
        |_| Some(price()),
        None,
        t0(),
        minutes(15),
        Actor::Admin,
    )
    .expect("order")
}
