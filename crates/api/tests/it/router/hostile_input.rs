//! Hostile input, generated: arbitrary bytes, arbitrary JSON (wrong types, huge numbers, deep
//! nesting, any unicode), odd headers, query strings and path segments, sent through the whole
//! router over mocks that never write stock. Whatever comes in, the answer is a 2xx, or a 4xx
//! `application/problem+json` whose `status` member agrees with the status line: never a 5xx
//! (a panic, a mock called unexpectedly included: the router turns panics into 500s), never
//! internal text.

mod strategies;

use axum::Router;
use axum::http::Method;
use chrono::TimeZone;
use domain::limits::{PurchaseLimit, PurchaseLimits};
use domain::ports::{Claim, ClaimToken, StockForSale};
use domain::{
    Currency, Money, OrderId, Product, ProductId, ProductName, ProductStock, Sku, StockCount,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;
use uuid::Uuid;

use self::strategies::{
    Hostile, array, authorization, body, content_type, count, hostile, id, idempotency_key, object,
    product_segment, query, text,
};
use super::mocks::{Mocks, TOKEN, product_id, send, stock_of};
use crate::support::Reply;
use crate::support::reply::PROBLEM_JSON;

/// Requests per property; all of them together take a few seconds.
const CASES: u32 = 256;

/// Text that would betray internals: libraries, SQL, panics, Rust type names.
const LEAKS: [&str; 11] = [
    "serde",
    "sqlx",
    "sea_orm",
    "select ",
    "insert into",
    "panicked",
    "unwrap",
    "mock",
    "backtrace",
    ".rs:",
    "struct ",
];

/// A product of the mocked catalogue: €15, or for one id in 8 a price that overflows any
/// quantity above 2.
fn product(id: ProductId) -> Product {
    let amount = if id.as_uuid().as_u128() % 8 == 1 { i64::MAX / 3 } else { 1_500 };
    Product {
        id,
        sku: Sku::new("KAOS-MERAH-M").expect("a sku"),
        name: ProductName::new("Kaos merah, M").expect("a name"),
        price: Money::new(amount, Currency::new("EUR").expect("EUR")).expect("a price"),
        limits: domain::limits::PurchaseLimits::default(),
        low_stock_threshold: None,
        backorders: domain::backorder::BackorderPolicy::Deny,
        backordered: domain::StockCount::ZERO,
        created_at: chrono::Utc.timestamp_opt(1_764_072_000, 0).single().expect("a time"),
    }
}

/// Purchase limits: for one id in 8 (another than [`product`]'s), at most 3 per order and 2 per
/// customer, so that hostile carts meet both limits and the customer assertion.
fn limits(id: ProductId) -> PurchaseLimits {
    if id.as_uuid().as_u128() % 8 != 2 {
        return PurchaseLimits::default();
    }
    PurchaseLimits {
        per_order: Some(PurchaseLimit::new(3).expect("a limit")),
        per_customer: Some(PurchaseLimit::new(2).expect("a limit")),
    }
}

/// Stock whose every unit is held for orders, at version 7: no cart fits, no adjustment is
/// possible, and only a shelf count of exactly 10^12 over `If-Match: "7"` could be written.
fn all_reserved(id: ProductId) -> ProductStock {
    stock_of(id, StockCount::MAX, StockCount::MAX, 7)
}

/// Mocks that answer every read (every product exists; see [`product`], [`all_reserved`]; no
/// order exists; idempotency keys are free) and fail on any stock write.
fn quiet() -> Mocks {
    let mut mocks = Mocks::touching_no_stock();
    mocks.products.expect_get().returning(|id| Ok(Some(product(id))));
    mocks
        .products
        .expect_get_many()
        .returning(|ids| Ok(ids.iter().copied().map(product).collect()));
    mocks.products.expect_list().returning(|_, _| Ok(vec![product(product_id())]));
    mocks.products.expect_create().returning(|_, _, _| Ok(()));
    mocks.stock.expect_get().returning(|id, _| Ok(Some(all_reserved(id))));
    mocks
        .stock
        .expect_get_many()
        .returning(|ids| Ok(ids.iter().copied().map(all_reserved).collect()));
    mocks.stock.expect_get_many_for_sale().returning(|ids| {
        let row = |id| StockForSale {
            stock: all_reserved(id),
            priority: 0,
            price: product(id).price,
            limits: limits(id),
            backorder_limit: None,
        };
        Ok(ids.iter().map(|&id| row(id)).collect())
    });
    mocks.products.expect_update().returning(|id, patch| {
        Ok(Some(Product { limits: patch.limits.apply(limits(id)), ..product(id) }))
    });
    mocks.stock.expect_movements().returning(|_, _| Ok(vec![]));
    mocks.orders.expect_get().returning(|_| Ok(None));
    mocks.ids.expect_product_id().returning(product_id);
    mocks.ids.expect_order_id().returning(|| OrderId::new(Uuid::from_u128(1)).expect("an id"));
    mocks
        .idempotency
        .expect_claim()
        .returning(|_, _, _, _| Ok(Claim::Acquired(ClaimToken::new(uuid::Uuid::from_u128(1)))));
    mocks.idempotency.expect_complete().returning(|_, _, _| Ok(()));
    mocks.idempotency.expect_release().returning(|_| Ok(()));
    mocks
}

/// Sends `cases` requests drawn from `requests` through one router over [`quiet`] mocks and
/// checks every answer with [`well_behaved`]; `skip` leaves out requests that are legitimate
/// writes.
fn holds_for(requests: impl Strategy<Value = Hostile>, skip: impl Fn(&Hostile) -> bool) {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let router: Router = runtime.block_on(async { quiet().router() });
    let config = Config { cases: CASES, failure_persistence: None, ..Config::default() };
    let result = TestRunner::new(config).run(&requests, |hostile| {
        if skip(&hostile) {
            return Err(TestCaseError::reject("a legitimate write"));
        }
        let Some(request) = hostile.request() else {
            return Err(TestCaseError::reject("no client can send this"));
        };
        let reply = runtime.block_on(send(router.clone(), request));
        well_behaved(&reply, &hostile.text())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// A 2xx with a JSON body, or a 4xx problem with `type`, `title` and a `status` equal to the
/// status line (and, for `invalid-request`, `errors` of `{field, message}`); no leaked text
/// that the request itself did not contain.
fn well_behaved(reply: &Reply, sent: &str) -> Result<(), TestCaseError> {
    let status = reply.status.as_u16();
    let text = reply.text();
    prop_assert!(matches!(status, 200..=299 | 400..=499), "status {}: {}", status, text);
    let lower = text.to_lowercase();
    for leak in LEAKS {
        prop_assert!(!lower.contains(leak) || sent.contains(leak), "{:?} leaked: {}", leak, text);
    }
    let body: Value = serde_json::from_slice(&reply.body)
        .map_err(|err| TestCaseError::fail(format!("not JSON ({err}): {text}")))?;
    if status < 400 {
        return Ok(());
    }
    let content_type = reply.header("content-type").unwrap_or_default();
    prop_assert!(content_type.starts_with(PROBLEM_JSON), "content-type {}", content_type);
    let problem_type = body["type"].as_str().unwrap_or_default();
    prop_assert!(problem_type.contains("/problems/"), "type: {}", text);
    prop_assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()), "title: {}", text);
    prop_assert_eq!(&body["status"], &Value::from(status), "status member: {}", text);
    if problem_type.ends_with("/invalid-request") {
        let errors = body["errors"].as_array().map(Vec::as_slice).unwrap_or_default();
        let named = |e: &Value| e["field"].is_string() && e["message"].is_string();
        prop_assert!(!errors.is_empty() && errors.iter().all(named), "errors: {}", text);
    }
    Ok(())
}

fn cart_line() -> BoxedStrategy<String> {
    prop_oneof![
        12 => object(vec![("product_id", id().boxed()), ("quantity", count().boxed())]),
        1 => strategies::anything(),
    ]
    .boxed()
}

#[test]
fn checkout_answers_any_body_with_a_2xx_or_a_4xx_problem() {
    let shaped = object(vec![("items", array(cart_line()).boxed()), ("customer_id", id().boxed())]);
    let requests = (body(shaped.boxed()), content_type(), idempotency_key()).prop_map(
        |(body, content_type, key)| {
            let headers = vec![("content-type", content_type), ("idempotency-key", key)];
            hostile(Method::POST, "/v1/checkout".into(), body, headers)
        },
    );
    holds_for(requests, |_| false);
}

#[test]
fn checking_stock_answers_any_body_with_a_2xx_or_a_4xx_problem() {
    let shaped = object(vec![("items", array(cart_line()).boxed())]);
    let requests = (body(shaped.boxed()), content_type()).prop_map(|(body, content_type)| {
        hostile(Method::POST, "/v1/stock/check".into(), body, vec![("content-type", content_type)])
    });
    holds_for(requests, |_| false);
}

#[test]
fn creating_a_product_answers_any_body_with_a_2xx_or_a_4xx_problem() {
    let price = object(vec![("amount", count().boxed()), ("currency", text("EUR").boxed())]);
    let shaped = object(vec![
        ("sku", text("KAOS-MERAH-M").boxed()),
        ("name", text("Kaos merah, M").boxed()),
        ("price", prop_oneof![4 => price, 1 => strategies::anything()].boxed()),
        ("initial_stock", count().boxed()),
        ("max_per_order", count().boxed()),
        ("max_per_customer", count().boxed()),
    ]);
    let requests = (body(shaped.boxed()), content_type(), authorization()).prop_map(
        |(body, content_type, auth)| {
            let headers = vec![("content-type", content_type), ("authorization", auth)];
            hostile(Method::POST, "/v1/products".into(), body, headers)
        },
    );
    holds_for(requests, |_| false);
}

#[test]
fn patching_a_product_answers_any_body_with_a_2xx_or_a_4xx_problem() {
    let shaped =
        object(vec![("max_per_order", count().boxed()), ("max_per_customer", count().boxed())]);
    let requests = (product_segment(), body(shaped.boxed()), content_type(), authorization())
        .prop_map(|(id, body, content_type, auth)| {
            let headers = vec![("content-type", content_type), ("authorization", auth)];
            hostile(Method::PATCH, format!("/v1/products/{id}"), body, headers)
        });
    holds_for(requests, |_| false);
}

#[test]
fn setting_stock_answers_any_body_and_if_match_with_a_2xx_or_a_4xx_problem() {
    let shaped = object(vec![("on_hand", count().boxed())]);
    let if_match = prop_oneof![
        3 => count().prop_map(|n| Some(format!("\"{n}\"").into_bytes())),
        1 => Just(Some(b"\"7\"".to_vec())),
        1 => Just(None),
        1 => prop::collection::vec(any::<u8>(), 0..20).prop_map(Some),
    ];
    let requests =
        (product_segment(), body(shaped.boxed()), content_type(), authorization(), if_match)
            .prop_map(|(id, body, content_type, auth, if_match)| {
                let headers = vec![
                    ("content-type", content_type),
                    ("authorization", auth),
                    ("if-match", if_match),
                ];
                hostile(Method::PUT, format!("/v1/products/{id}/stock"), body, headers)
            });
    // A shelf count of exactly 10^12 over the current version is a legitimate write.
    let is_the_one_write = |h: &Hostile| {
        h.text().contains("\"7\"")
            && serde_json::from_slice::<Value>(&h.body)
                .is_ok_and(|v| v["on_hand"] == StockCount::MAX)
    };
    holds_for(requests, is_the_one_write);
}

#[test]
fn adjusting_stock_answers_any_body_with_a_2xx_or_a_4xx_problem() {
    let shaped = object(vec![("delta", count().boxed()), ("reason", text("delivery").boxed())]);
    let requests = (
        product_segment(),
        body(shaped.boxed()),
        content_type(),
        authorization(),
        idempotency_key(),
    )
        .prop_map(|(id, body, content_type, auth, key)| {
            let headers = vec![
                ("content-type", content_type),
                ("authorization", auth),
                ("idempotency-key", key),
            ];
            hostile(Method::POST, format!("/v1/products/{id}/stock/adjustments"), body, headers)
        });
    holds_for(requests, |_| false);
}

#[test]
fn listings_answer_any_query_with_a_2xx_or_a_4xx_problem() {
    let requests = (any::<bool>(), product_segment(), query()).prop_map(|(ledger, id, query)| {
        let auth = Some(format!("Bearer {TOKEN}").into_bytes());
        let path = if ledger {
            format!("/v1/products/{id}/stock/movements")
        } else {
            "/v1/products".into()
        };
        hostile(Method::GET, format!("{path}?{query}"), vec![], vec![("authorization", auth)])
    });
    holds_for(requests, |_| false);
}

#[test]
fn reading_answers_any_path_id_with_a_2xx_or_a_4xx_problem() {
    let paths =
        prop::sample::select(vec!["/v1/products/{}", "/v1/products/{}/stock", "/v1/orders/{}"]);
    let requests = (paths, product_segment())
        .prop_map(|(path, id)| hostile(Method::GET, path.replace("{}", &id), vec![], vec![]));
    holds_for(requests, |_| false);
}
