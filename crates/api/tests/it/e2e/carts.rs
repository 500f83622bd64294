//! Multi-line carts are all or nothing: one short product and nothing is reserved.

use api::wire::AvailabilityView;
use reqwest::Method;
use uuid::Uuid;

use super::client::{Api, cart};

on_both_backends!(pooled: a_cart_with_two_short_products_lists_both_and_reserves_nothing);
on_both_backends!(pooled: a_cart_that_fits_reserves_every_line_in_one_step);
on_both_backends!(pooled: a_cart_naming_an_unknown_product_is_422_listing_it_and_reserves_nothing);
on_both_backends!(pooled: checking_a_cart_sums_its_lines_and_reserves_nothing);

/// Three products with 5, 2 and 1 units.
async fn three_products(api: &Api) -> [Uuid; 3] {
    [
        api.create_product("CART-A", 5).await,
        api.create_product("CART-B", 2).await,
        api.create_product("CART-C", 1).await,
    ]
}

async fn a_cart_with_two_short_products_lists_both_and_reserves_nothing(api: Api) {
    // Arrange
    let [a, b, c] = three_products(&api).await;

    // Act
    let reply = api.checkout(&[(a, 3), (b, 3), (c, 2)]).await;

    // Assert
    let problem = reply.assert_problem(409, "insufficient-stock");
    let mut shortages: Vec<(String, i64, i64)> = problem["shortages"]
        .as_array()
        .expect("shortages")
        .iter()
        .map(|s| {
            let id = s["product_id"].as_str().unwrap_or_default().to_owned();
            (id, s["requested"].as_i64().unwrap_or(-1), s["available"].as_i64().unwrap_or(-1))
        })
        .collect();
    shortages.sort();
    let mut expected = vec![(b.to_string(), 3, 2), (c.to_string(), 2, 1)];
    expected.sort();
    assert_eq!(shortages, expected);
    for (product, on_hand) in [(a, 5), (b, 2), (c, 1)] {
        let stock = api.stock(product).await;
        assert_eq!((stock.on_hand, stock.reserved, stock.version), (on_hand, 0, 1), "{product}");
    }
}

async fn a_cart_that_fits_reserves_every_line_in_one_step(api: Api) {
    // Arrange
    let [a, b, c] = three_products(&api).await;

    // Act
    let order = api.reserve(&[(a, 3), (b, 2), (c, 1), (a, 1)]).await;

    // Assert: lines of one product are merged.
    assert_eq!(order.status, "reserved");
    assert_eq!(order.items.len(), 3);
    assert_eq!(order.total.amount, 7 * 1999);
    for (product, reserved) in [(a, 4), (b, 2), (c, 1)] {
        let stock = api.stock(product).await;
        assert_eq!((stock.reserved, stock.version), (reserved, 2), "{product}");
    }
}

async fn a_cart_naming_an_unknown_product_is_422_listing_it_and_reserves_nothing(api: Api) {
    // Arrange
    let [a, ..] = three_products(&api).await;
    let unknown = Uuid::new_v4();

    // Act
    let reply = api.checkout(&[(a, 1), (unknown, 1)]).await;

    // Assert
    let problem = reply.assert_problem(422, "unknown-product");
    assert_eq!(problem["product_ids"], serde_json::json!([unknown]));
    let stock = api.stock(a).await;
    assert_eq!((stock.reserved, stock.version), (0, 1));
}

async fn checking_a_cart_sums_its_lines_and_reserves_nothing(api: Api) {
    // Arrange
    let [a, b, _] = three_products(&api).await;
    let lines = cart(&[(a, 3), (b, 2), (a, 3)]);

    // Act
    let reply = api.send(api.request(Method::POST, "/v1/stock/check").json(&lines)).await;

    // Assert
    assert_eq!(reply.status, 200, "{}", reply.text());
    let check: AvailabilityView = reply.json();
    assert!(!check.all_available);
    let mut items: Vec<_> =
        check.items.iter().map(|i| (i.product_id, i.requested, i.available, i.ok)).collect();
    items.sort_unstable();
    let mut expected = vec![(a, 6, 5, false), (b, 2, 2, true)];
    expected.sort_unstable();
    assert_eq!(items, expected);
    assert_eq!(api.stock(a).await.version, 1);
}
