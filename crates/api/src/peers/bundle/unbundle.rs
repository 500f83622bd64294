//! The owner's side: a bundle's checkouts run through the router at once.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use axum::body::to_bytes;
use axum::extract::{ConnectInfo, Request};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use futures::future::{BoxFuture, Either, join_all};
use tower::{Service, ServiceExt};

use super::{Answer, Item, MOST, PATH};
use crate::idempotency::BODY_LIMIT;
use crate::peers::secret::{Secret, TOKEN};
use crate::problem::ApiError;

/// The owner's side: a service in front of the whole router that takes bundles from peers at
/// [`PATH`] and passes every other request through.
#[derive(Clone)]
pub struct Unbundle<S> {
    inner: S,
    /// The routing secret, when routing is on.
    secret: Option<Secret>,
}

impl<S> Unbundle<S> {
    /// `inner` (the router), taking bundles from peers showing `secret` when routing is on.
    pub fn new(inner: S, secret: Option<Secret>) -> Self {
        Self { inner, secret }
    }
}

impl<S> Service<Request> for Unbundle<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, BoxFuture<'static, Result<Response, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match &self.secret {
            Some(secret) if request.uri().path() == PATH => {
                let (inner, secret) = (self.inner.clone(), secret.clone());
                Either::Right(Box::pin(async move { Ok(unbundle(inner, &secret, request).await) }))
            }
            _ => Either::Left(self.inner.call(request)),
        }
    }
}

/// Runs a bundle's checkouts through `inner` at once and answers them in one response.
async fn unbundle<S>(inner: S, secret: &Secret, request: Request) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone,
{
    let token = request.headers().get(TOKEN).filter(|token| secret.admits(token.as_bytes()));
    let (Some(token), &Method::POST) = (token.cloned(), request.method()) else {
        return ApiError::RouteNotFound.into_response();
    };
    let connection = request.extensions().get::<ConnectInfo<SocketAddr>>().copied();
    let Ok(body) = to_bytes(request.into_body(), MOST * (BODY_LIMIT + 1024)).await else {
        return ApiError::PayloadTooLarge.into_response();
    };
    let items: Vec<Item> = match serde_json::from_slice(&body) {
        Ok(items) => items,
        Err(err) => return ApiError::InvalidJson(err.to_string()).into_response(),
    };
    let answers = join_all(items.into_iter().map(|item| {
        let request = item.into_request(&token, connection);
        let inner = inner.clone();
        async move {
            let response = inner.oneshot(request).await.unwrap_or_else(|never| match never {});
            Answer::read(response).await
        }
    }))
    .await;
    axum::Json(answers).into_response()
}
