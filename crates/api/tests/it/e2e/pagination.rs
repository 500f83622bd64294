//! The product list is keyset-paginated by id: `limit`, `after`, and `next` until `null`.

use api::wire::ProductsPage;
use reqwest::Method;
use uuid::Uuid;

use super::client::Api;

on_both_backends!(following_next_visits_every_product_once_in_id_order);
on_both_backends!(an_out_of_range_limit_or_a_bad_cursor_is_422);

async fn following_next_visits_every_product_once_in_id_order(api: Api) {
    // Arrange
    let mut created = Vec::new();
    for n in 0..5 {
        created.push(api.create_product(&format!("PAGE-{n}"), 1).await);
    }
    created.sort();

    // Act
    let mut pages: Vec<Vec<Uuid>> = Vec::new();
    let mut after: Option<Uuid> = None;
    loop {
        let cursor = after.map(|id| format!("&after={id}")).unwrap_or_default();
        let reply =
            api.send(api.request(Method::GET, &format!("/v1/products?limit=2{cursor}"))).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let page: ProductsPage = reply.json();
        pages.push(page.items.iter().map(|p| p.id).collect());
        match page.next {
            Some(next) if pages.len() < 10 => after = Some(next),
            _ => break,
        }
    }

    // Assert
    let sizes: Vec<_> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(pages.concat(), created, "every product once, by id");
}

async fn an_out_of_range_limit_or_a_bad_cursor_is_422(api: Api) {
    for query in ["limit=0", "limit=101", "limit=ten", "after=not-a-uuid", "page=2"] {
        // Act
        let reply = api.send(api.request(Method::GET, &format!("/v1/products?{query}"))).await;

        // Assert
        assert_eq!(reply.status, 422, "{query}: {}", reply.text());
        reply.assert_problem(422, "invalid-request");
    }
}
