//! `/v1/admin/reconciliation`: every product's stock checked against its ledger and its orders.

use axum::Json;
use axum::extract::State;

use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::ReconciliationView;

/// Recompute every product's stock from the ledger and the orders and list the products whose
/// stored counters drifted (admin). Read-only; 200 whether or not anything drifted.
#[utoipa::path(get, path = "/v1/admin/reconciliation", tag = "admin",
    responses(
        (status = 200, body = ReconciliationView),
        (status = 503, description = "service-unavailable"),
    ))]
pub async fn reconciliation(
    State(state): State<AppState>,
) -> Result<Json<ReconciliationView>, ApiError> {
    let report = state.services.reconcile.execute().await?;
    Ok(Json(ReconciliationView::from(&report)))
}
