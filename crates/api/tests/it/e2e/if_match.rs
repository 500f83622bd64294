//! Setting stock is conditional: `If-Match` must name the current version (its ETag).

use super::client::Api;

on_both_backends!(setting_stock_without_if_match_is_428_and_changes_nothing);
on_both_backends!(setting_stock_over_a_stale_etag_is_412_and_over_the_current_one_200);
on_both_backends!(setting_on_hand_below_the_reserved_units_is_409_below_reserved);

async fn setting_stock_without_if_match_is_428_and_changes_nothing(api: Api) {
    // Arrange
    let product = api.create_product("ETAG-1", 10).await;

    // Act
    let reply = api.set_stock(product, None, 4).await;

    // Assert
    reply.assert_problem(428, "precondition-required");
    let stock = api.stock(product).await;
    assert_eq!((stock.on_hand, stock.version), (10, 1));
}

async fn setting_stock_over_a_stale_etag_is_412_and_over_the_current_one_200(api: Api) {
    // Arrange: someone else's checkout moves the stock on after we read it.
    let product = api.create_product("ETAG-2", 10).await;
    let (seen, stale) = api.stock_and_etag(product).await;
    assert_eq!(stale, format!("\"{}\"", seen.version));
    api.reserve(&[(product, 1)]).await;

    // Act
    let refused = api.set_stock(product, Some(&stale), 4).await;
    let (_, current) = api.stock_and_etag(product).await;
    let accepted = api.set_stock(product, Some(&current), 4).await;

    // Assert
    let problem = refused.assert_problem(412, "version-mismatch");
    assert_eq!(problem["current_version"], 2);
    assert_eq!(
        (problem["current"]["on_hand"].as_i64(), problem["current"]["reserved"].as_i64()),
        (Some(10), Some(1))
    );
    assert_eq!(accepted.status, 200, "{}", accepted.text());
    assert_eq!(accepted.header("etag"), Some("\"3\""));
    let stock = api.stock(product).await;
    assert_eq!((stock.on_hand, stock.reserved, stock.available, stock.version), (4, 1, 3, 3));
}

async fn setting_on_hand_below_the_reserved_units_is_409_below_reserved(api: Api) {
    // Arrange
    let product = api.create_product("ETAG-3", 10).await;
    api.reserve(&[(product, 3)]).await;
    let (_, current) = api.stock_and_etag(product).await;

    // Act
    let reply = api.set_stock(product, Some(&current), 2).await;

    // Assert
    reply.assert_problem(409, "below-reserved");
    let stock = api.stock(product).await;
    assert_eq!((stock.on_hand, stock.reserved, stock.version), (10, 3, 2));
}
