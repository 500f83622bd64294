//! `/v1/clients`: create, list and revoke API clients (scope `clients:manage`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::extract::{ValidJson, client_id};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::wire::{ClientView, ClientsPage, CreateClientRequest, IssuedClientView};

/// Make an API client with the scopes it needs. The answer holds its key, the only time it is
/// ever shown: only its SHA-256 digest is stored.
#[utoipa::path(post, path = "/v1/clients", tag = "clients",
    request_body = CreateClientRequest,
    responses(
        (status = 201, body = IssuedClientView),
        (status = 400, description = "invalid-json"),
        (status = 415, description = "unsupported-media-type"),
        (status = 422, description = "invalid-request: a blank or over-long name, or unknown scopes (listed in unknown_scopes)"),
        (status = 503, description = "service-unavailable"),
    ))]
pub async fn create_client(
    State(state): State<AppState>,
    ValidJson(request): ValidJson<CreateClientRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let (name, scopes) = request.parse()?;
    let issued = state.services.access.create(name, scopes).await?;
    Ok((StatusCode::CREATED, Json(IssuedClientView::from(&issued))))
}

/// Every API client, revoked ones included, oldest first. No keys.
#[utoipa::path(get, path = "/v1/clients", tag = "clients",
    responses(
        (status = 200, body = ClientsPage),
        (status = 503, description = "service-unavailable"),
    ))]
pub async fn list_clients(State(state): State<AppState>) -> Result<Json<ClientsPage>, ApiError> {
    let clients = state.services.access.list().await?;
    Ok(Json(ClientsPage { items: clients.iter().map(ClientView::from).collect() }))
}

/// Revoke an API client: its key is refused from the next request on, by every server
/// process. Revoking again changes nothing (204).
#[utoipa::path(delete, path = "/v1/clients/{id}", tag = "clients",
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 204, description = "revoked"),
        (status = 400, description = "invalid-id"),
        (status = 404, description = "client-not-found"),
        (status = 503, description = "service-unavailable"),
    ))]
pub async fn revoke_client(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.services.access.revoke(client_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
