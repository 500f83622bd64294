//! `POST /v1/stock/bulk`: an ERP's sync of many rows, each applied or refused on its own while
//! checkouts hold reservations, and idempotent under a key.

use std::time::Instant;

use api::wire::StockView;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use super::client::Api;
use crate::support::Reply;

on_both_backends!(every_row_gets_its_own_exact_outcome);
on_both_backends!(bad_requests_write_nothing);
on_both_backends!(a_thousand_rows_in_one_request);

async fn bulk(api: &Api, key: Option<&str>, body: &Value) -> Reply {
    let mut request = api.admin(Method::POST, "/v1/stock/bulk").json(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    api.send(request).await
}

async fn every_row_gets_its_own_exact_outcome(api: Api) {
    // Arrange: two products, one with 3 units reserved by a checkout.
    let a = api.create_product("BULK-A", 10).await;
    let b = api.create_product("BULK-B", 10).await;
    api.reserve(&[(b, 3)]).await;
    let (b_now, _) = api.stock_and_etag(b).await;
    let body = json!({"reason": "ERP sync", "rows": [
        {"product_id": a, "on_hand": 25, "if_version": 1},
        {"product_id": b, "on_hand": 2},
        {"product_id": Uuid::now_v7(), "delta": 5},
        {"product_id": b, "on_hand": 40, "if_version": 1},
        {"product_id": b, "delta": 7},
        {"product_id": a, "delta": -30},
        {"product_id": b, "on_hand": 12, "if_version": b_now.version + 1},
    ]});

    // Act
    let reply = bulk(&api, Some("erp-sync-1"), &body).await;
    let again = bulk(&api, Some("erp-sync-1"), &body).await;

    // Assert: one outcome per row, in order.
    assert_eq!(reply.status, 200, "{}", reply.text());
    let results = reply.json::<Value>()["results"].as_array().cloned().unwrap_or_default();
    let statuses: Vec<_> = results.iter().map(|r| r["status"].as_u64().unwrap_or(0)).collect();
    assert_eq!(statuses, [200, 409, 404, 412, 200, 409, 200]);
    let slug = |i: usize| {
        results[i]["problem"]["type"]
            .as_str()
            .unwrap_or_default()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        [slug(1), slug(2), slug(3), slug(5)],
        ["below-reserved", "product-not-found", "version-mismatch", "insufficient-stock"]
    );
    assert_eq!(results[3]["problem"]["current_version"], json!(b_now.version));
    assert_eq!(results[0]["stock"]["on_hand"], 25);
    assert_eq!(
        (&results[6]["stock"]["on_hand"], &results[6]["stock"]["reserved"]),
        (&json!(12), &json!(3))
    );
    let a_now: StockView = api.stock(a).await;
    let b_after: StockView = api.stock(b).await;
    assert_eq!((a_now.on_hand, a_now.version), (25, 2));
    assert_eq!((b_after.on_hand, b_after.reserved, b_after.version), (12, 3, b_now.version + 2));
    // The replay answers the same and writes nothing again.
    assert_eq!(again.status, 200);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json::<Value>(), reply.json::<Value>());
    assert_eq!(api.stock(b).await.version, b_after.version);
    let ledger = api.movements(b).await;
    assert_eq!(ledger[0].reason.as_deref(), Some("ERP sync"));
    assert!(api.reconciliation().await.drift.is_empty());
}

async fn bad_requests_write_nothing(api: Api) {
    let a = api.create_product("BULK-BAD", 10).await;
    let row = json!({"product_id": a, "delta": 1});
    let too_many = json!({"rows": vec![row.clone(); 1_001]});
    let cases = [
        json!({"rows": []}),
        too_many,
        json!({"rows": [row.clone(), {"product_id": a, "delta": 0}]}),
        json!({"rows": [row.clone(), {"product_id": a, "on_hand": 1, "delta": 1}]}),
        json!({"rows": [row.clone(), {"product_id": a}]}),
        json!({"rows": [row.clone(), {"product_id": a, "delta": 1, "if_version": 1}]}),
        json!({"rows": [row.clone(), {"product_id": "nope", "on_hand": 1}]}),
        json!({"rows": [row.clone(), {"product_id": a, "on_hand": -1}]}),
        json!({"rows": [row.clone(), {"product_id": a, "on_hand": 1, "if_version": 0}]}),
        json!({"rows": [row.clone(), {"product_id": a, "location": "x", "delta": 1}]}),
    ];
    for body in cases {
        let reply = bulk(&api, None, &body).await;
        reply.assert_problem(422, "invalid-request");
    }
    let huge =
        json!({"rows": vec![json!({"product_id": a, "delta": 1, "pad": "x".repeat(300)}); 1_000]});
    assert_eq!(bulk(&api, None, &huge).await.status, 413);
    let anonymous =
        api.send(api.request(Method::POST, "/v1/stock/bulk").json(&json!({"rows": [row]}))).await;
    anonymous.assert_problem(401, "unauthorized");
    assert_eq!(api.stock(a).await.version, 1, "nothing was written");
}

async fn a_thousand_rows_in_one_request(api: Api) {
    let mut products = Vec::new();
    for n in 0..1_000 {
        products.push(api.create_product(&format!("BULK-{n:04}"), 10).await);
    }
    let rows: Vec<Value> = products
        .iter()
        .enumerate()
        .map(|(n, id)| {
            if n % 2 == 0 {
                json!({"product_id": id, "on_hand": 50, "if_version": 1})
            } else {
                json!({"product_id": id, "delta": 5})
            }
        })
        .collect();
    let started = Instant::now();
    let reply = bulk(&api, Some("thousand"), &json!({"rows": rows})).await;
    let took = started.elapsed();
    assert_eq!(reply.status, 200, "{}", reply.text());
    let results = reply.json::<Value>()["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 1_000);
    assert!(results.iter().all(|r| r["status"] == 200));
    eprintln!("1,000 bulk rows on {:?} (debug build) in {took:?}", api.backend);
    assert_eq!(api.stock(products[0]).await.on_hand, 50);
    assert_eq!(api.stock(products[1]).await.on_hand, 15);
    assert!(api.reconciliation().await.drift.is_empty());
}
