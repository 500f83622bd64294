//! `/v1/admin/reconciliation`: every product's stock checked against its ledger and its orders.

use axum::Json;
use axum::extract::State;

use crate::extract::Admin;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::ReconciliationView;

/// Recompute every product's stock from the ledger and the orders and list the products whose
/// stored counters drifted (admin). Read-only; 200 whether or not anything drifted.
#[utoipa::path(get, path = "/v1/admin/reconciliation", tag = "admin",
    security(("admin_token" = [])),
    responses(
        (status = 200, body = ReconciliationView),
        (status = 401),
        (status = 503, description = "service-unavailable"),
    ))]
pub async fn reconciliation(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<ReconciliationView>, ApiError> {
    let report = state.services.reconcile.execute().await?;
    Ok(Json(ReconciliationView::from(&report)))
}
