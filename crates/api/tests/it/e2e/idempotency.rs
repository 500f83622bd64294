//! `Idempotency-Key` on checkout: a retry replays the first answer and reserves nothing more;
//! the key cannot be reused for another cart; concurrent duplicates make one order. Pay, cancel
//! and product creation honour keys too.

use std::collections::BTreeSet;

use api::wire::OrderView;
use tokio::task::JoinSet;

use super::client::Api;

on_both_backends!(pooled: the_same_key_and_cart_replay_the_first_answer_and_reserve_once);
on_both_backends!(pooled: the_same_key_with_another_cart_is_422_and_reserves_nothing_more);
on_both_backends!(pooled: twenty_concurrent_requests_with_one_key_make_exactly_one_order);
on_both_backends!(pooled: pay_cancel_and_product_creation_replay_their_first_answer_under_a_key);

async fn the_same_key_and_cart_replay_the_first_answer_and_reserve_once(api: Api) {
    // Arrange
    let product = api.create_product("IDEM-1", 10).await;
    let first = api.checkout_with_key("order-42", &[(product, 2)]).await;
    assert_eq!(first.status, 201, "{}", first.text());

    // Act
    let again = api.checkout_with_key("order-42", &[(product, 2)]).await;

    // Assert
    assert_eq!((again.status, again.text()), (first.status, first.text()));
    assert!(again.is_replay(), "Idempotent-Replayed: {:?}", again.headers);
    assert!(!first.is_replay());
    assert_eq!(again.header("location"), first.header("location"));
    let stock = api.stock(product).await;
    assert_eq!((stock.reserved, stock.version), (2, 2), "reserved once");
}

async fn the_same_key_with_another_cart_is_422_and_reserves_nothing_more(api: Api) {
    // Arrange
    let product = api.create_product("IDEM-2", 10).await;
    let first = api.checkout_with_key("order-43", &[(product, 2)]).await;
    assert_eq!(first.status, 201, "{}", first.text());

    // Act
    let other = api.checkout_with_key("order-43", &[(product, 3)]).await;

    // Assert
    other.assert_problem(422, "idempotency-key-reused");
    let stock = api.stock(product).await;
    assert_eq!((stock.reserved, stock.version), (2, 2));
}

async fn twenty_concurrent_requests_with_one_key_make_exactly_one_order(api: Api) {
    // Arrange
    let product = api.create_product("IDEM-3", 10).await;

    // Act
    let mut clients = JoinSet::new();
    for _ in 0..20 {
        let api = api.clone();
        clients.spawn(async move { api.checkout_with_key("order-44", &[(product, 3)]).await });
    }
    let replies = clients.join_all().await;

    // Assert
    let mut orders = BTreeSet::new();
    let mut originals = 0;
    for reply in &replies {
        match reply.outcome() {
            (201, _) => {
                originals += usize::from(!reply.is_replay());
                orders.insert(reply.json::<OrderView>().id);
            }
            (409, slug) if slug == "idempotency-key-in-use" => {}
            other => panic!("unexpected {other:?}: {}", reply.text()),
        }
    }
    assert_eq!(originals, 1, "one request ran; the others waited or replayed");
    assert_eq!(orders.len(), 1, "every 201 names the same order");
    let stock = api.stock(product).await;
    assert_eq!((stock.reserved, stock.version), (3, 2), "the stock moved once");
}

async fn pay_cancel_and_product_creation_replay_their_first_answer_under_a_key(api: Api) {
    use reqwest::Method;

    let keyed = |method: Method, path: &str, key: &str| {
        api.admin(method, path).header("idempotency-key", key)
    };
    // Product creation: the retry is the first 201, not a 409 duplicate-sku.
    let body = serde_json::json!({"sku": "IDEM-P", "name": "Kaos",
        "price": {"amount": 1500, "currency": "IDR"}, "initial_stock": 5});
    let created = api.send(keyed(Method::POST, "/v1/products", "new-1").json(&body)).await;
    let again = api.send(keyed(Method::POST, "/v1/products", "new-1").json(&body)).await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!((again.status, again.text()), (created.status, created.text()));
    assert!(again.is_replay(), "Idempotent-Replayed: {:?}", again.headers);
    let product: api::wire::ProductView = created.json();

    // Pay and cancel: the retry replays the first answer.
    for (action, key) in [("pay", "pay-1"), ("cancel", "cancel-1")] {
        let order = api.reserve(&[(product.id, 1)]).await.id;
        let path = format!("/v1/orders/{order}/{action}");
        let first = api.send(keyed(Method::POST, &path, key)).await;
        let again = api.send(keyed(Method::POST, &path, key)).await;
        assert_eq!(first.status, 200, "{action}: {}", first.text());
        assert_eq!((again.status, again.text()), (first.status, first.text()), "{action}");
        assert!(again.is_replay(), "{action} Idempotent-Replayed: {:?}", again.headers);
        // The same key on another order is another request.
        let other = api.reserve(&[(product.id, 1)]).await.id;
        let reused = api.send(keyed(Method::POST, &format!("/v1/orders/{other}/{action}"), key));
        reused.await.assert_problem(422, "idempotency-key-reused");
    }
    let stock = api.stock(product.id).await;
    assert_eq!((stock.on_hand, stock.reserved), (4, 2), "one sold, one released, two held");
}
