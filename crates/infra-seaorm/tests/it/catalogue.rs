//! The catalogue: SKUs are unique, and products page by id.

use domain::access::Actor;
use domain::ports::{ProductRepository, StockRepository, StoreError};
use domain::{LocationId, Product, ProductStock, StockCount};

use crate::fixtures::{new_product_id, product};
use crate::support::{TestDb, on_every_backend};

on_every_backend!(a_duplicate_sku_is_refused_and_writes_nothing, products_page_by_id);

async fn a_duplicate_sku_is_refused_and_writes_nothing(db: &TestDb) {
    let (first, _) = product(db, "DUP-1", 5).await;
    let second = Product { id: new_product_id(), ..first.clone() };
    let stock = ProductStock::new(second.id, StockCount::new(7).expect("count"));

    let err = db
        .adapters
        .products
        .create(second.clone(), stock, Actor::Admin)
        .await
        .expect_err("duplicate");

    assert!(matches!(&err, StoreError::DuplicateSku(sku) if *sku == first.sku), "{err:?}");
    assert_eq!(db.adapters.products.get(second.id).await.expect("get"), None);
    assert_eq!(db.adapters.stock.get(second.id, LocationId::DEFAULT).await.expect("get"), None);
    assert!(db.adapters.stock.movements(second.id, 10).await.expect("ledger").is_empty());
}

async fn products_page_by_id(db: &TestDb) {
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(product(db, &format!("PG-{n}"), 1).await.0.id);
    }
    ids.sort();

    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = db.adapters.products.list(after, 2).await.expect("list");
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        pages.push(page.iter().map(|p| p.id).collect::<Vec<_>>());
    }

    assert_eq!(pages, vec![ids[0..2].to_vec(), ids[2..4].to_vec(), ids[4..].to_vec()]);
    let some = db.adapters.products.get_many(&[ids[3], ids[1]]).await.expect("get_many");
    let mut some: Vec<_> = some.into_iter().map(|p| p.id).collect();
    some.sort();
    assert_eq!(some, vec![ids[1], ids[3]]);
}
