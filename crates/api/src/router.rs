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

use crate::idempotency::{self, BODY_LIMIT};
use crate::middleware::{
    admin_only, log_server_errors, panic_to_problem, problem_fallback, timeout,
};
use crate::openapi::{self, ApiDoc};
use crate::problem::ApiError;
use crate::routes::{checkout, ops, orders, products, reconciliation, stock};
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
    // Outermost: a caller without the token must neither claim an admin's key nor get its
    // stored answer replayed.
    let admin = |routes: UtoipaMethodRouter<AppState>| {
        routes.map(|post| post.route_layer(from_fn_with_state(state.clone(), admin_only)))
    };
    let (routes, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(admin(keyed(routes!(products::create_product))))
        .routes(routes!(products::list_products))
        .routes(routes!(products::get_product))
        .routes(routes!(stock::get_stock, stock::set_stock))
        .routes(routes!(stock::movements))
        .routes(routes!(checkout::check_stock))
        .routes(routes!(orders::get_order))
        .routes(keyed(routes!(orders::pay)))
        .routes(keyed(routes!(orders::cancel)))
        .routes(routes!(reconciliation::reconciliation))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .routes(keyed(routes!(checkout::checkout)))
        .routes(admin(keyed(routes!(stock::adjust_stock))))
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
        .layer(from_fn_with_state(state.clone(), timeout))
        .layer(DefaultBodyLimit::max(BODY_LIMIT));

    routes
        .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
        .fallback(|| async { ApiError::RouteNotFound })
        .layer(layers)
        .with_state(state)
}
