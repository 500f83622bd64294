//! What the service says about itself: its OpenAPI document, its docs, its metrics, its
//! health.

use api::cli::Config;
use reqwest::Method;
use serde_json::Value;

use super::client::Api;

on_both_backends!(the_openapi_document_is_version_3_1_and_lists_the_contract_paths);
on_both_backends!(the_interactive_docs_are_served_as_html);
on_both_backends!(metrics_count_checkouts_by_outcome);
on_both_backends!(health_and_readiness_answer_200);

/// Every path of the HTTP contract.
const CONTRACT_PATHS: [&str; 14] = [
    "/v1/products",
    "/v1/products/{id}",
    "/v1/products/{id}/stock",
    "/v1/products/{id}/stock/adjustments",
    "/v1/products/{id}/stock/movements",
    "/v1/stock/check",
    "/v1/checkout",
    "/v1/orders/{id}",
    "/v1/orders/{id}/pay",
    "/v1/orders/{id}/cancel",
    "/v1/admin/reconciliation",
    "/healthz",
    "/readyz",
    "/metrics",
];

async fn the_openapi_document_is_version_3_1_and_lists_the_contract_paths(api: Api) {
    // Act
    let reply = api.send(api.request(Method::GET, "/openapi.json")).await;

    // Assert
    assert_eq!(reply.status, 200, "{}", reply.text());
    let document: Value = reply.json();
    let version = document["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1"), "openapi {version:?}");
    let missing: Vec<_> =
        CONTRACT_PATHS.iter().filter(|path| document["paths"].get(**path).is_none()).collect();
    assert!(missing.is_empty(), "paths missing from the document: {missing:?}");
}

async fn the_interactive_docs_are_served_as_html(api: Api) {
    // Act
    let reply = api.send(api.request(Method::GET, "/docs/")).await;

    // Assert
    assert_eq!(reply.status, 200, "{}", reply.text());
    let content_type = reply.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/html"), "content-type {content_type:?}");
    assert!(reply.text().to_lowercase().contains("<html"), "{}", reply.text());
}

async fn metrics_count_checkouts_by_outcome(api: Api) {
    // Arrange
    let product = api.create_product("METRICS-1", 1).await;
    api.reserve(&[(product, 1)]).await;

    // Act
    let reply = api.send(api.request(Method::GET, "/metrics")).await;

    // Assert
    assert_eq!(reply.status, 200, "{}", reply.text());
    let text = reply.text();
    assert!(text.contains("checkouts_total{outcome=\"created\"}"), "{text}");
}

async fn health_and_readiness_answer_200(api: Api) {
    for path in ["/healthz", "/readyz"] {
        // Act
        let reply = api.send(api.request(Method::GET, path)).await;

        // Assert
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    }
}

on_both_backends!(without_a_configured_token_the_admin_endpoints_stay_closed, no_admin_token);

/// No `--admin-token`: the server makes up its own.
fn no_admin_token(config: &mut Config) {
    config.admin_token = None;
}

async fn without_a_configured_token_the_admin_endpoints_stay_closed(api: Api) {
    for bearer in [super::client::TOKEN, "", "None", "null"] {
        // Act
        let request = api.request(Method::POST, "/v1/products").bearer_auth(bearer);
        let reply = api.send(request.json(&serde_json::json!({}))).await;

        // Assert
        assert_eq!(reply.status, 401, "Bearer {bearer:?}: {}", reply.text());
        reply.assert_problem(401, "unauthorized");
    }
}
