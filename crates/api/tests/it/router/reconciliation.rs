//! `GET /v1/admin/reconciliation` over a mocked reconciliation port: the report's JSON shape,
//! and a store that cannot answer.

use axum::http::{Method, header};
use domain::ports::StoreError;
use domain::{LedgerTotals, StockFigures, StoredStock};
use serde_json::{Value, json};

use super::mocks::{Mocks, TOKEN, empty, product_id, request, send};
use crate::support::Reply;

const PATH: &str = "/v1/admin/reconciliation";

async fn reconcile(mocks: Mocks) -> Reply {
    let builder =
        request(Method::GET, PATH).header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    send(mocks.router(), empty(builder)).await
}

#[tokio::test]
async fn the_report_lists_each_drifted_product_with_its_figures_and_problems() {
    // Arrange: the stored reserved count is one above what the ledger and the orders say.
    let mut mocks = Mocks::touching_no_stock();
    mocks.reconciliation.expect_stock_figures().times(1).returning(|| {
        Ok(vec![StockFigures {
            product_id: product_id(),
            location_id: domain::LocationId::DEFAULT,
            stored: Some(StoredStock { on_hand: 10, reserved: 4, version: 7 }),
            ledger: Some(LedgerTotals { on_hand: 10, reserved: 3, version: 7, entries: 7 }),
            reserved_by_orders: 3,
            backordered: 0,
            backordered_by_orders: 0,
        }])
    });

    // Act
    let reply = reconcile(mocks).await;

    // Assert
    assert_eq!(reply.status, 200, "{}", reply.text());
    let expected = json!({
        "products_checked": 1,
        "drift": [{
            "product_id": product_id().as_uuid(),
            "location_id": domain::LocationId::DEFAULT.as_uuid(),
            "stored": {"on_hand": 10, "reserved": 4, "version": 7},
            "ledger": {"on_hand": 10, "reserved": 3, "version": 7, "entries": 7},
            "reserved_by_orders": 3,
            "backordered": 0,
            "backordered_by_orders": 0,
            "problems": ["reserved-differs-from-ledger", "reserved-differs-from-orders"],
        }],
    });
    assert_eq!(reply.json::<Value>(), expected);
}

#[tokio::test]
async fn a_missing_stock_row_is_null_and_consistent_products_are_counted_not_listed() {
    // Arrange
    let mut mocks = Mocks::new();
    mocks.reconciliation.expect_stock_figures().returning(|| {
        let ledger = LedgerTotals { on_hand: 5, reserved: 0, version: 1, entries: 1 };
        let stored = StoredStock { on_hand: 5, reserved: 0, version: 1 };
        let clean = StockFigures {
            product_id: domain::ProductId::new(uuid::Uuid::from_u128(1)).expect("an id"),
            location_id: domain::LocationId::DEFAULT,
            stored: Some(stored),
            ledger: Some(ledger),
            reserved_by_orders: 0,
            backordered: 0,
            backordered_by_orders: 0,
        };
        let stockless = StockFigures { product_id: product_id(), stored: None, ..clean.clone() };
        Ok(vec![clean, stockless])
    });

    // Act
    let reply = reconcile(mocks).await;

    // Assert
    let report: Value = reply.json();
    assert_eq!(report["products_checked"], 2);
    assert_eq!(report["drift"].as_array().map(Vec::len), Some(1), "{report}");
    assert_eq!(report["drift"][0]["stored"], Value::Null);
    assert_eq!(report["drift"][0]["problems"], json!(["missing-stock"]));
}

#[tokio::test]
async fn a_store_that_cannot_answer_is_503() {
    // Arrange
    let mut mocks = Mocks::new();
    mocks
        .reconciliation
        .expect_stock_figures()
        .returning(|| Err(StoreError::unavailable("connection refused")));

    // Act
    let reply = reconcile(mocks).await;

    // Assert
    let problem = reply.assert_problem(503, "service-unavailable");
    assert!(!problem.to_string().contains("refused"), "no internal text: {problem}");
}
