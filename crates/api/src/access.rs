//! Who is calling, and whether they may: the one place routes are guarded.
//!
//! [`authenticate`] wraps every route: it reads `Authorization: Bearer <credential>` once and
//! leaves the [`Caller`] in the request (anonymous without a header; 401 for a malformed,
//! unknown or revoked credential, on any route, so that a misconfigured client learns it at
//! once instead of silently acting anonymously). [`scoped`] guards a route with one scope,
//! declared next to the route in the router, and writes the same requirement into the OpenAPI
//! operation, so the document cannot disagree with what is enforced.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use domain::access::Scope;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Ref, RefOr, ResponseBuilder};
use utoipa_axum::router::UtoipaMethodRouter;

use application::access::{Denied, IdentifyError};

use crate::openapi::{SCHEME, operations_of};
use crate::problem::{ApiError, PROBLEM_JSON, Unauthenticated};
use crate::state::AppState;

/// The caller of a request, as [`authenticate`] identified it. Handlers take it to record who
/// made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller(pub application::access::Caller);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(caller_of(&parts.extensions))
    }
}

/// The caller [`authenticate`] left in `extensions`; anonymous where it did not run (a test
/// that mounts a handler alone).
pub fn caller_of(extensions: &axum::http::Extensions) -> Caller {
    extensions.get::<Caller>().copied().unwrap_or(Caller(application::access::Caller::anonymous()))
}

/// Identifies the caller of every request (see the module docs).
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = match bearer(request.headers()) {
        Ok(None) => application::access::Caller::anonymous(),
        Ok(Some(credential)) => match state.services.access.identify(credential).await {
            Ok(caller) => caller,
            Err(IdentifyError::Unknown) => {
                return ApiError::Unauthorized(Unauthenticated::Unknown).into_response();
            }
            Err(IdentifyError::Unavailable(err)) => {
                return ApiError::Unavailable(err).into_response();
            }
        },
        Err(malformed) => return ApiError::Unauthorized(malformed).into_response(),
    };
    request.extensions_mut().insert(Caller(caller));
    next.run(request).await
}

/// The bearer credential of `headers`, if any: `Bearer` (any case), one space or more, then
/// visible ASCII without spaces (RFC 6750's `b64token` and then some).
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, Unauthenticated> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| Unauthenticated::Malformed)?;
    let (scheme, credential) = text.split_once(' ').ok_or(Unauthenticated::Malformed)?;
    let credential = credential.trim_start_matches(' ');
    let visible = !credential.is_empty() && credential.bytes().all(|b| b.is_ascii_graphic());
    if scheme.eq_ignore_ascii_case("bearer") && visible {
        Ok(Some(credential))
    } else {
        Err(Unauthenticated::Malformed)
    }
}

/// Refuses a caller without `scope`: 401 when anonymous, 403 `insufficient-scope` otherwise.
async fn require(State(scope): State<Scope>, request: Request, next: Next) -> Response {
    match caller_of(request.extensions()).0.authorize(scope) {
        Ok(()) => next.run(request).await,
        Err(Denied::Unauthenticated) => {
            ApiError::Unauthorized(Unauthenticated::Missing).into_response()
        }
        Err(Denied::MissingScope(scope)) => ApiError::InsufficientScope(scope).into_response(),
    }
}

/// `routes` guarded by `scope`: enforced on the routed methods (outside any layer already on
/// them, so a caller without the scope neither claims an idempotency key nor is answered from
/// one), and declared on their OpenAPI operations with the 401 and 403 they may answer.
pub fn scoped(scope: Scope, routes: UtoipaMethodRouter<AppState>) -> UtoipaMethodRouter<AppState> {
    let (schemas, mut paths, method_router) = routes;
    for operation in paths.paths.values_mut().flat_map(operations_of) {
        declare(operation, scope);
    }
    (schemas, paths, method_router.route_layer(from_fn_with_state(scope, require)))
}

fn declare(operation: &mut Operation, scope: Scope) {
    operation.security = Some(vec![SecurityRequirement::new(SCHEME, [scope.as_str()])]);
    let problem = || ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
    let answers = [
        (
            "401",
            "unauthorized: no credential, or one that is malformed, unknown or revoked".to_owned(),
        ),
        ("403", format!("insufficient-scope: the credential lacks `{scope}`")),
    ];
    for (status, description) in answers {
        let response =
            ResponseBuilder::new().description(description).content(PROBLEM_JSON, problem());
        operation.responses.responses.insert(status.into(), RefOr::T(response.build()));
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with(value: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_bytes(value).expect("header"));
        headers
    }

    #[test]
    fn a_bearer_credential_is_read_and_anything_else_is_malformed() {
        assert_eq!(bearer(&HeaderMap::new()), Ok(None));
        assert_eq!(bearer(&with(b"Bearer ck_abc")), Ok(Some("ck_abc")));
        assert_eq!(bearer(&with(b"bearer  ck_abc")), Ok(Some("ck_abc")));
        for bad in [
            &b"Bearer"[..],
            b"Bearer ",
            b"Basic dXNlcjpwdw==",
            b"Bearer a b",
            b"ck_abc",
            b"Bearer \xff",
        ] {
            assert_eq!(bearer(&with(bad)), Err(Unauthenticated::Malformed), "{bad:?}");
        }
    }
}
