//! The malformed-request table against the real server: each gets its problem, and the stock
//! and its ledger are exactly as they were.

use super::client::Api;
use crate::support::malformed::cases;

on_both_backends!(malformed_requests_are_refused_and_leave_the_stock_untouched);

async fn malformed_requests_are_refused_and_leave_the_stock_untouched(api: Api) {
    // Arrange
    let product = api.create_product("MALFORMED-1", 10).await;

    for case in cases(product) {
        // Act
        let mut request = api.request(case.method.clone(), &case.path).body(case.body.clone());
        if case.json {
            request = request.header("content-type", "application/json");
        }
        let reply = api.send(request).await;

        // Assert
        let expected = (case.status, case.slug.to_owned());
        assert_eq!(reply.outcome(), expected, "{}: {}", case.name, reply.text());
        reply.assert_problem(case.status, case.slug);
    }
    let stock = api.stock(product).await;
    assert_eq!((stock.on_hand, stock.reserved, stock.version), (10, 0, 1));
    let kinds: Vec<_> = api.movements(product).await.into_iter().map(|m| m.kind).collect();
    assert_eq!(kinds, ["restock"], "only the initial stock is in the ledger");
}
