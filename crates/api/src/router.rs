//! [`router`]: the whole HTTP surface as a pure function of the state.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state, map_response};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use domain::access::Scope;

use crate::access::{authenticate, scoped};
use crate::idempotency::{self, BODY_LIMIT, BULK_BODY_LIMIT};
use crate::middleware::{
    log_server_errors, panic_to_problem, problem_fallback, rate_limit, timeout,
};
use crate::openapi::{self, ApiDoc};
use crate::peers;
use crate::problem::ApiError;
use crate::routes::{
    checkout, clients, events, incoming, locations, ops, orders, products, reconciliation, stock,
    webhooks,
};
use crate::state::AppState;
use crate::{metrics, telemetry};

/// Every route, the OpenAPI document at `/openapi.json`, Swagger UI at `/docs`, and the
/// middleware stack.
pub fn router(state: AppState) -> Router {
    // The layers wrap the routed method alone (`MethodRouter::route_layer`), not the path: a
    // method the path does not serve is a plain 405, and claims no idempotency key.
    let keyed = |routes: UtoipaMethodRouter<AppState>| {
        routes.map(|post| {
            post.route_layer(from_fn_with_state(state.clone(), idempotency::middleware))
        })
    };
    // Outside the idempotency layer: a refused caller neither claims a key nor is answered
    // from one.
    let limited = |routes: UtoipaMethodRouter<AppState>| {
        routes.map(|post| post.route_layer(from_fn_with_state(state.clone(), rate_limit)))
    };
    // Outermost: a checkout for another process's product is forwarded before this process
    // limits or claims anything; its owner does both.
    let routed = |routes: UtoipaMethodRouter<AppState>| {
        routes.map(|post| post.route_layer(from_fn_with_state(state.clone(), peers::route)))
    };
    // Each guarded route names its scope here (`scoped`), which also declares it in OpenAPI;
    // a route without `scoped` is open to anonymous callers.
    let (routes, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(scoped(Scope::CatalogWrite, keyed(routes!(products::create_product))))
        .routes(routes!(products::list_products))
        .routes(routes!(products::get_product))
        .routes(scoped(Scope::CatalogWrite, routes!(products::update_product)))
        .routes(routes!(stock::get_stock))
        .routes(scoped(Scope::StockWrite, routes!(stock::set_stock)))
        .routes(scoped(Scope::StockLedger, routes!(stock::movements)))
        .routes(scoped(Scope::CatalogWrite, routes!(locations::create_location)))
        .routes(routes!(locations::list_locations))
        .routes(routes!(locations::get_location_stock))
        .routes(scoped(Scope::StockWrite, routes!(locations::set_location_stock)))
        .routes(scoped(Scope::StockWrite, routes!(incoming::set_incoming)))
        .routes(routes!(incoming::list_incoming))
        .routes(scoped(Scope::StockWrite, keyed(routes!(locations::transfer))))
        .routes(routes!(checkout::check_stock))
        .routes(routes!(orders::get_order))
        .routes(scoped(Scope::OrdersPay, keyed(routes!(orders::pay))))
        .routes(scoped(Scope::OrdersCancel, keyed(routes!(orders::cancel))))
        .routes(scoped(Scope::OrdersPay, keyed(routes!(orders::extend))))
        .routes(scoped(Scope::AdminReconcile, routes!(reconciliation::reconciliation)))
        .routes(scoped(Scope::EventsRead, routes!(events::events)))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .routes(routed(limited(keyed(routes!(checkout::checkout)))))
        .routes(scoped(Scope::StockWrite, keyed(routes!(stock::adjust_stock))))
        .routes(scoped(
            Scope::StockWrite,
            keyed(routes!(stock::bulk))
                .map(|post| post.route_layer(DefaultBodyLimit::max(BULK_BODY_LIMIT))),
        ))
        .routes(scoped(Scope::ClientsManage, routes!(clients::create_client)))
        .routes(scoped(Scope::ClientsManage, routes!(clients::list_clients)))
        .routes(scoped(Scope::ClientsManage, routes!(clients::revoke_client)))
        .routes(scoped(Scope::WebhooksManage, routes!(webhooks::create_webhook)))
        .routes(scoped(Scope::WebhooksManage, routes!(webhooks::list_webhooks)))
        .routes(scoped(Scope::WebhooksManage, routes!(webhooks::get_webhook)))
        .routes(scoped(Scope::WebhooksManage, routes!(webhooks::delete_webhook)))
        .routes(scoped(Scope::WebhooksManage, routes!(webhooks::deliveries)))
        .routes(scoped(Scope::WebhooksManage, routes!(webhooks::redrive_all)))
        .routes(scoped(Scope::WebhooksManage, routes!(webhooks::redrive_one)))
        .split_for_parts();
    openapi::links_replace_bodies(&mut openapi);

    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        // tower-http's own failure log would put every 503 `contention` (an expected answer)
        // at ERROR; `log_server_errors` logs real failures once, with their cause.
        .layer(TraceLayer::new_for_http().make_span_with(telemetry::request_span).on_failure(()))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(from_fn(metrics::track))
        .layer(map_response(problem_fallback))
        .layer(from_fn(log_server_errors))
        .layer(CatchPanicLayer::custom(panic_to_problem))
        // Before the timeout, which keeps a forwarding peer's deadline.
        .layer(from_fn_with_state(state.clone(), peers::admit))
        .layer(from_fn_with_state(state.clone(), timeout))
        // Every request learns its caller here, within its timeout: the guards, the
        // idempotency keys (kept per caller) and the handlers (which record who made a change)
        // read it. A bad credential is refused on every path, the docs included.
        .layer(from_fn_with_state(state.clone(), authenticate))
        .layer(DefaultBodyLimit::max(BODY_LIMIT));

    routes
        .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
        .fallback(|| async { ApiError::RouteNotFound })
        .layer(layers)
        .with_state(state)
}
