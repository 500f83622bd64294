//! Uses only what `domain` exports with the `mocks` feature: no workspace-internal helpers.

use std::sync::Arc;

use domain::ports::{MockStockRepository, StoreError};
use domain::{ProductId, ProductStock, StockCount, Version};
use mock_consumer::low_stock;
use uuid::Uuid;

fn id(n: u128) -> ProductId {
    ProductId::new(Uuid::from_u128(n)).expect("id")
}

fn stock(n: u128, on_hand: i64, reserved: i64) -> ProductStock {
    let count = |v| StockCount::new(v).expect("count");
    ProductStock::restore(id(n), count(on_hand), count(reserved), Version::INITIAL).expect("stock")
}

#[tokio::test]
async fn products_at_or_below_the_threshold_are_reported() {
    let mut repo = MockStockRepository::new();
    repo.expect_get_many()
        .times(1)
        .returning(|_| Ok(vec![stock(1, 10, 8), stock(2, 10, 0), stock(3, 3, 0)]));

    let low = low_stock(Arc::new(repo), &[id(1), id(2), id(3)], StockCount::new(3).expect("count"))
        .await
        .expect("answer");

    assert_eq!(low, vec![id(1), id(3)]);
}

#[tokio::test]
async fn repository_failures_are_passed_on() {
    let mut repo = MockStockRepository::new();
    repo.expect_get_many().returning(|_| Err(StoreError::unavailable("down")));

    let err = low_stock(Arc::new(repo), &[id(1)], StockCount::ZERO).await.expect_err("down");

    assert!(matches!(err, StoreError::Unavailable(_)));
}
