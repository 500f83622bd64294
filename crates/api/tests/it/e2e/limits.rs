//! Purchase limits over HTTP: a shop's backend (a client with `customers:assert`) checks out for
//! its logged-in customers, and a per-customer limit holds however many checkouts one customer
//! fires at once, on one server process or three; cancellation and expiry give units back.

use std::collections::BTreeMap;

use api::cli::Config;
use api::wire::{OrderView, ProductView};
use reqwest::Method;
use serde_json::{Value, json};
use testkit::TestDatabase;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::client::{Api, cart};
use super::harness::Server;
use crate::support::Reply;

on_both_backends!(a_customers_fifty_checkouts_get_exactly_the_limit);
on_both_backends!(limits_are_checked_and_changed_as_the_contract_says);
on_both_backends!(expired_units_count_no_more, one_second_holds);
on_both_backends!(database: three_processes_hold_one_customer_to_the_limit);

/// A product of `on_hand` units with `limits` (`{"max_per_order": …, "max_per_customer": …}`).
async fn limited_product(api: &Api, sku: &str, on_hand: i64, limits: Value) -> Uuid {
    let mut body = json!({
        "sku": sku,
        "name": format!("Limited {sku}"),
        "price": {"amount": 4999, "currency": "EUR"},
        "initial_stock": on_hand,
    });
    body.as_object_mut()
        .expect("an object")
        .extend(limits.as_object().cloned().unwrap_or_default());
    let reply = api.send(api.admin(Method::POST, "/v1/products").json(&body)).await;
    assert_eq!(reply.status, 201, "create {sku}: {}", reply.text());
    reply.json::<ProductView>().id
}

/// The shop's backend: checks out for the customers it has logged in.
async fn storefront(api: &Api) -> String {
    api.create_client("storefront", &["customers:assert"]).await.key
}

async fn buy(api: &Api, key: &str, customer: &str, lines: &[(Uuid, i64)]) -> Reply {
    let mut body = cart(lines);
    body["customer_id"] = json!(customer);
    api.send(api.with_key(key, Method::POST, "/v1/checkout").json(&body)).await
}

/// Fires `n` checkouts of one unit for `customer` at once, spread over `apis`; tallies the
/// answers by (status, problem).
async fn at_once(
    apis: &[Api],
    key: &str,
    customer: &str,
    product: Uuid,
    n: usize,
) -> BTreeMap<(u16, String), usize> {
    let mut buyers = JoinSet::new();
    for i in 0..n {
        let (api, key, customer) =
            (apis[i % apis.len()].clone(), key.to_owned(), customer.to_owned());
        buyers.spawn(async move { buy(&api, &key, &customer, &[(product, 1)]).await.outcome() });
    }
    let mut tally = BTreeMap::new();
    for outcome in buyers.join_all().await {
        *tally.entry(outcome).or_insert(0) += 1;
    }
    tally
}

fn exactly(won: usize, refused: usize) -> BTreeMap<(u16, String), usize> {
    BTreeMap::from([
        ((201, String::new()), won),
        ((409, "purchase-limit-exceeded".to_owned()), refused),
    ])
}

async fn a_customers_fifty_checkouts_get_exactly_the_limit(api: Api) {
    // Arrange
    let product = limited_product(&api, "DROP-1", 100, json!({"max_per_customer": 2})).await;
    let key = storefront(&api).await;

    // Act
    let tally = at_once(std::slice::from_ref(&api), &key, "alice", product, 50).await;

    // Assert
    assert_eq!(tally, exactly(2, 48), "(status, problem) → count");
    assert_eq!(api.stock(product).await.reserved, 2);
    let refused = buy(&api, &key, "alice", &[(product, 1)]).await;
    refused.assert_problem(409, "purchase-limit-exceeded");
    let limits = &refused.json::<Value>()["limits"][0];
    assert_eq!(
        (&limits["kind"], &limits["limit"], &limits["already"], &limits["requested"]),
        (&json!("per_customer"), &json!(2), &json!(2), &json!(1))
    );
    assert_eq!(buy(&api, &key, "bob", &[(product, 2)]).await.status, 201, "bob's own limit");
    assert!(api.reconciliation().await.drift.is_empty());
}

async fn limits_are_checked_and_changed_as_the_contract_says(api: Api) {
    let product = limited_product(&api, "DROP-2", 50, json!({"max_per_order": 3})).await;
    let key = storefront(&api).await;
    let patch = |body: Value| {
        let path = format!("/v1/products/{product}");
        api.send(api.admin(Method::PATCH, &path).json(&body))
    };

    // A per-order limit applies to anyone, anonymous buyers included.
    let over = api.checkout(&[(product, 4)]).await;
    over.assert_problem(409, "purchase-limit-exceeded");
    assert_eq!(over.json::<Value>()["limits"][0]["kind"], "per_order");
    assert_eq!(api.checkout(&[(product, 3)]).await.status, 201);

    // A per-customer limit, set later, counts what the customer bought before it.
    let first = buy(&api, &key, "carol", &[(product, 2)]).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let patched = patch(json!({"max_per_customer": 3})).await;
    assert_eq!(patched.status, 200, "{}", patched.text());
    let view = patched.json::<ProductView>();
    assert_eq!(
        (view.max_per_order, view.max_per_customer),
        (Some(3), Some(3)),
        "untouched field kept"
    );
    buy(&api, &key, "carol", &[(product, 2)]).await.assert_problem(409, "purchase-limit-exceeded");
    assert_eq!(buy(&api, &key, "carol", &[(product, 1)]).await.status, 201);

    // Only a client that vouches for its customers may buy a product limited per customer.
    let anonymous = api.checkout(&[(product, 1)]).await;
    anonymous.assert_problem(401, "unauthorized");
    assert!(anonymous.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer")));
    let other = api.create_client("reports", &["orders:pay"]).await.key;
    let without_scope = buy(&api, &other, "carol", &[(product, 1)]).await;
    without_scope.assert_problem(403, "insufficient-scope");
    assert_eq!(without_scope.json::<Value>()["required_scope"], "customers:assert");
    let unnamed = api
        .send(api.with_key(&key, Method::POST, "/v1/checkout").json(&cart(&[(product, 1)])))
        .await;
    unnamed.assert_problem(422, "invalid-request");

    // Cancelling gives units back; paying keeps them counted.
    let order: OrderView = first.json();
    assert_eq!(order.customer_id.as_deref(), Some("carol"));
    assert!(order.customer_asserted);
    assert_eq!(api.cancel(order.id).await.status, 200);
    assert_eq!(buy(&api, &key, "carol", &[(product, 2)]).await.status, 201, "two units freed");

    // Removing the limit lifts it; bad limits and customer ids are 422, and write nothing.
    assert_eq!(patch(json!({"max_per_customer": null})).await.status, 200);
    assert_eq!(buy(&api, &key, "carol", &[(product, 3)]).await.status, 201);
    for bad in [
        json!({"max_per_order": 0}),
        json!({"max_per_customer": -1}),
        json!({"max_per_order": 1.5}),
    ] {
        let reply = patch(bad.clone()).await;
        assert!(matches!(reply.status.as_u16(), 400 | 422), "{bad}: {}", reply.text());
    }
    let control = buy(&api, &key, "car\u{7}ol", &[(product, 1)]).await;
    control.assert_problem(422, "invalid-request");
    let long = buy(&api, &key, &"x".repeat(256), &[(product, 1)]).await;
    long.assert_problem(422, "invalid-request");
    let stored = api.send(api.request(Method::GET, &format!("/v1/products/{product}"))).await;
    let stored = stored.json::<ProductView>();
    assert_eq!((stored.max_per_order, stored.max_per_customer), (Some(3), None));
    assert!(api.reconciliation().await.drift.is_empty());
}

fn one_second_holds(config: &mut Config) {
    config.reservation_ttl = 1;
    config.sweep_interval_ms = 50;
}

async fn expired_units_count_no_more(api: Api) {
    let product = limited_product(&api, "DROP-3", 10, json!({"max_per_customer": 2})).await;
    let key = storefront(&api).await;
    assert_eq!(buy(&api, &key, "dave", &[(product, 2)]).await.status, 201);
    buy(&api, &key, "dave", &[(product, 1)]).await.assert_problem(409, "purchase-limit-exceeded");

    // The sweeper expires the order within a few seconds; its units leave the limit with it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let reply = buy(&api, &key, "dave", &[(product, 2)]).await;
        if reply.status == 201 {
            break;
        }
        reply.assert_problem(409, "purchase-limit-exceeded");
        assert!(std::time::Instant::now() < deadline, "the expired order's units never came back");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn three_processes_hold_one_customer_to_the_limit(database: &TestDatabase) {
    let logs = tempfile::tempdir().expect("a directory for the servers' logs");
    let mut servers = Vec::new();
    for n in 0..3 {
        servers
            .push(Server::start(database, &logs.path().join(format!("server-{n}.log")), &[]).await);
    }
    let apis: Vec<Api> = servers.iter().map(|s| s.api.clone()).collect();
    let product =
        limited_product(&apis[0], "DROP-MULTI", 100, json!({"max_per_customer": 2})).await;
    let key = storefront(&apis[1]).await;

    let tally = at_once(&apis, &key, "erin", product, 60).await;

    assert_eq!(tally, exactly(2, 58), "(status, problem) → count over three processes");
    for api in &apis {
        assert_eq!(api.stock(product).await.reserved, 2);
    }
}
