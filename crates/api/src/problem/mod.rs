//! RFC 9457 problem details: the one shape every error response takes, and [`ApiError`], the
//! one place where what went wrong becomes a status, a stable `type` and a message.
//!
//! Messages are rebuilt here from the error's data, never copied from an inner error's
//! `Display`, so no SQL, driver text or stack detail can reach a client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::access::Scope;
use domain::limits::LimitExceeded;
use domain::ports::BoxError;
use domain::{LocationId, OrderStatus, ProductId, ProductStock, Shortage, StockCount};
use serde::Serialize;
use utoipa::ToSchema;

use crate::wire::{FieldError, LimitView, LocationStockView, ShortageView};

mod mapping;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";
/// The challenge of a 401 without a credential.
const BEARER: &str = r#"Bearer realm="checkout""#;
/// Prefix of every problem `type`; the slug follows.
pub const PROBLEM_BASE: &str = "https://checkout.example/problems/";

/// An RFC 9457 problem with this service's extension members.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A stable URI naming the problem; ends in the problem's slug.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary, the same for every occurrence of the problem.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What happened this time.
    pub detail: String,
    /// Invalid fields (`invalid-request`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// Every short product (`insufficient-stock` at checkout).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shortages: Option<Vec<ShortageView>>,
    /// Unknown products (`unknown-product`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>, format = Uuid)]
    pub product_ids: Option<Vec<uuid::Uuid>>,
    /// The stock's version now (`version-mismatch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
    /// The stock now (`version-mismatch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<LocationStockView>,
    /// Every purchase limit the cart would break (`purchase-limit-exceeded`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<Vec<LimitView>>,
    /// The scope the credential lacks (`insufficient-scope`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_scope: Option<&'static str>,
    /// Scope names that do not exist (`invalid-request` when creating an API client).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_scopes: Option<Vec<String>>,
    /// The first sequence the event feed still holds (`cursor-expired`): resume with
    /// `after=earliest - 1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earliest: Option<i64>,
}

/// Why a request is not authenticated (401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unauthenticated {
    /// No `Authorization` header, and the route needs one.
    Missing,
    /// An `Authorization` header that is not `Bearer <credential>` in visible ASCII.
    Malformed,
    /// A bearer credential that is neither the admin token nor an active client's key.
    Unknown,
}

/// Everything that can go wrong in a request, as the client will be told.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 422 `invalid-request`: every invalid field, by JSON path.
    #[error("invalid request")]
    InvalidRequest(Vec<FieldError>),
    /// 400 `invalid-json`: the body is not JSON, or not of the expected shape.
    #[error("malformed JSON")]
    InvalidJson(String),
    /// 415 `unsupported-media-type`: a body that is not `application/json`.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 413 `payload-too-large`: a body over the limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 400 `invalid-id`: a path id that is not a UUID.
    #[error("invalid id")]
    InvalidId(String),
    /// 401 `unauthorized`: no credential where one is needed, or one that is malformed,
    /// unknown or revoked; answered with `WWW-Authenticate: Bearer`.
    #[error("unauthorized")]
    Unauthorized(Unauthenticated),
    /// 403 `insufficient-scope`: a known credential without the route's scope, named in
    /// `required_scope`.
    #[error("insufficient scope")]
    InsufficientScope(Scope),
    /// 422 `invalid-request`: scope names that do not exist, listed in `unknown_scopes`.
    #[error("unknown scopes")]
    UnknownScopes(Vec<String>),
    /// 404 `client-not-found`.
    #[error("client not found")]
    ClientNotFound(String),
    /// 410 `cursor-expired`: the feed no longer holds the events after the position asked
    /// for; it begins at `earliest`.
    #[error("cursor expired")]
    CursorExpired(i64),
    /// 404 `webhook-not-found`.
    #[error("webhook not found")]
    WebhookNotFound(String),
    /// 409 `delivery-not-failed`: a re-drive of a delivery that is not a failed one of the
    /// subscription.
    #[error("delivery not failed")]
    DeliveryNotFailed(i64),
    /// 429 `rate-limited`: the caller's request budget is spent; retry after `Retry-After`
    /// seconds.
    #[error("rate limited")]
    RateLimited {
        /// Whole seconds until a request would be admitted (at least 1).
        retry_after: u64,
    },
    /// 404 `product-not-found`.
    #[error("product not found")]
    ProductNotFound(ProductId),
    /// 404 `location-not-found`.
    #[error("location not found")]
    LocationNotFound(LocationId),
    /// 404 `stock-not-found`: the product exists but has no stock row at the location.
    #[error("stock not found")]
    StockNotFound(ProductId, LocationId),
    /// 409 `duplicate-location-code`: a location with this code exists.
    #[error("duplicate location code")]
    DuplicateLocationCode(String),
    /// 409 `location-required`: a version 1 shelf count of a product kept at several
    /// locations; the count must name the location.
    #[error("location required")]
    LocationRequired(ProductId),
    /// 404 `order-not-found`.
    #[error("order not found")]
    OrderNotFound(String),
    /// 409 `duplicate-sku`: a product with this SKU exists.
    #[error("duplicate sku")]
    DuplicateSku(String),
    /// 422 `unknown-product`: a cart names products that do not exist, all listed.
    #[error("unknown products")]
    UnknownProducts(Vec<ProductId>),
    /// 409 `insufficient-stock`: every short product of a cart, listed.
    #[error("insufficient stock")]
    InsufficientStock(Vec<Shortage>),
    /// 409 `purchase-limit-exceeded`: every purchase limit a cart would break, listed.
    #[error("purchase limit exceeded")]
    PurchaseLimitExceeded(Vec<LimitExceeded>),
    /// A cart with a per-customer limit from a caller who may not vouch for the customer:
    /// 401 `unauthorized` (with `WWW-Authenticate: Bearer`) for an anonymous caller, 403
    /// `insufficient-scope` (`customers:assert`) for a client without the scope.
    #[error("customer not asserted")]
    CustomerNotAsserted {
        /// A product of the cart with a per-customer limit.
        product_id: ProductId,
        /// Whether the caller presented no credential.
        anonymous: bool,
    },
    /// 409 `insufficient-stock`: an adjustment would take on-hand below what is reserved.
    #[error("adjustment below reserved")]
    AdjustmentBelowReserved {
        /// What on-hand would have become.
        on_hand: i64,
        /// Units reserved for orders.
        reserved: StockCount,
    },
    /// 409 `below-reserved`: a shelf count below what is reserved.
    #[error("below reserved")]
    BelowReserved {
        /// The count asked for.
        on_hand: StockCount,
        /// Units reserved for orders.
        reserved: StockCount,
    },
    /// 428 `precondition-required`: a conditional write without `If-Match`.
    #[error("precondition required")]
    PreconditionRequired,
    /// 412 `version-mismatch`: `If-Match` names an old version; the current stock is shown.
    #[error("version mismatch")]
    VersionMismatch(ProductStock),
    /// 409 `order-not-payable`: the order is not reserved any more.
    #[error("order not payable")]
    NotPayable(OrderStatus),
    /// 409 `order-not-cancellable`: the order is paid, cancelled or expired.
    #[error("order not cancellable")]
    NotCancellable(OrderStatus),
    /// 409 `order-not-extendable`: the order is not reserved any more, or is held as long as
    /// it may be.
    #[error("order not extendable")]
    NotExtendable(OrderStatus),
    /// 503 `contention`: concurrent writers kept winning; retry after `Retry-After`.
    #[error("contention")]
    Contention {
        /// Attempts made.
        attempts: u32,
    },
    /// 409 `idempotency-key-in-use`: the first request with this key is still running.
    #[error("idempotency key in use")]
    IdempotencyKeyInUse,
    /// 422 `idempotency-key-reused`: the key was used for a different request.
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// 409 `bulk-already-applied`: a bulk sync under this key was applied by an earlier request
    /// whose answer was lost (its process stopped before storing it).
    #[error("bulk already applied")]
    BulkAlreadyApplied,
    /// 404 `not-found`: no such route.
    #[error("not found")]
    RouteNotFound,
    /// 405 `method-not-allowed`.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 503 `timeout`: the request ran past the request timeout and was stopped.
    #[error("request timeout")]
    Timeout,
    /// 503 `overloaded`: too many requests are already waiting; refused at once (nothing was
    /// done), retry after `Retry-After`.
    #[error("overloaded")]
    Overloaded,
    /// 503 `service-unavailable`: a dependency (the database) failed; worth retrying later.
    #[error("service unavailable")]
    Unavailable(#[source] BoxError),
    /// 500 `internal`: a bug or corrupt data; logged with its cause, never shown.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

/// The cause of a 5xx, kept in the response's extensions for the logging middleware.
#[derive(Debug, Clone)]
pub struct ServerErrorCause(pub String);

impl ApiError {
    /// Status, slug and title.
    fn kind(&self) -> (StatusCode, &'static str, &'static str) {
        use StatusCode as S;
        match self {
            Self::InvalidRequest(_) => {
                (S::UNPROCESSABLE_ENTITY, "invalid-request", "Invalid request")
            }
            Self::InvalidJson(_) => (S::BAD_REQUEST, "invalid-json", "Malformed JSON"),
            Self::UnsupportedMediaType => {
                (S::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported media type")
            }
            Self::PayloadTooLarge => {
                (S::PAYLOAD_TOO_LARGE, "payload-too-large", "Payload too large")
            }
            Self::InvalidId(_) => (S::BAD_REQUEST, "invalid-id", "Invalid id"),
            Self::Unauthorized(_) | Self::CustomerNotAsserted { anonymous: true, .. } => {
                (S::UNAUTHORIZED, "unauthorized", "Unauthorized")
            }
            Self::InsufficientScope(_) | Self::CustomerNotAsserted { anonymous: false, .. } => {
                (S::FORBIDDEN, "insufficient-scope", "Insufficient scope")
            }
            Self::UnknownScopes(_) => {
                (S::UNPROCESSABLE_ENTITY, "invalid-request", "Invalid request")
            }
            Self::ClientNotFound(_) => (S::NOT_FOUND, "client-not-found", "Client not found"),
            Self::WebhookNotFound(_) => (S::NOT_FOUND, "webhook-not-found", "Webhook not found"),
            Self::CursorExpired(_) => (S::GONE, "cursor-expired", "Cursor expired"),
            Self::DeliveryNotFailed(_) => {
                (S::CONFLICT, "delivery-not-failed", "Delivery not failed")
            }
            Self::RateLimited { .. } => (S::TOO_MANY_REQUESTS, "rate-limited", "Rate limited"),
            Self::ProductNotFound(_) => (S::NOT_FOUND, "product-not-found", "Product not found"),
            Self::LocationNotFound(_) => (S::NOT_FOUND, "location-not-found", "Location not found"),
            Self::StockNotFound(..) => (S::NOT_FOUND, "stock-not-found", "Stock not found"),
            Self::DuplicateLocationCode(_) => {
                (S::CONFLICT, "duplicate-location-code", "Duplicate location code")
            }
            Self::LocationRequired(_) => (S::CONFLICT, "location-required", "Location required"),
            Self::OrderNotFound(_) => (S::NOT_FOUND, "order-not-found", "Order not found"),
            Self::DuplicateSku(_) => (S::CONFLICT, "duplicate-sku", "Duplicate SKU"),
            Self::UnknownProducts(_) => {
                (S::UNPROCESSABLE_ENTITY, "unknown-product", "Unknown product")
            }
            Self::InsufficientStock(_) | Self::AdjustmentBelowReserved { .. } => {
                (S::CONFLICT, "insufficient-stock", "Insufficient stock")
            }
            Self::BelowReserved { .. } => (S::CONFLICT, "below-reserved", "Below reserved"),
            Self::PurchaseLimitExceeded(_) => {
                (S::CONFLICT, "purchase-limit-exceeded", "Purchase limit exceeded")
            }
            Self::PreconditionRequired => {
                (S::PRECONDITION_REQUIRED, "precondition-required", "Precondition required")
            }
            Self::VersionMismatch(_) => {
                (S::PRECONDITION_FAILED, "version-mismatch", "Version mismatch")
            }
            Self::NotPayable(_) => (S::CONFLICT, "order-not-payable", "Order not payable"),
            Self::NotCancellable(_) => {
                (S::CONFLICT, "order-not-cancellable", "Order not cancellable")
            }
            Self::NotExtendable(_) => (S::CONFLICT, "order-not-extendable", "Order not extendable"),
            Self::Contention { .. } => (S::SERVICE_UNAVAILABLE, "contention", "Contention"),
            Self::IdempotencyKeyInUse => {
                (S::CONFLICT, "idempotency-key-in-use", "Idempotency key in use")
            }
            Self::IdempotencyKeyReused => {
                (S::UNPROCESSABLE_ENTITY, "idempotency-key-reused", "Idempotency key reused")
            }
            Self::BulkAlreadyApplied => {
                (S::CONFLICT, "bulk-already-applied", "Bulk sync already applied")
            }
            Self::RouteNotFound => (S::NOT_FOUND, "not-found", "Not found"),
            Self::MethodNotAllowed => {
                (S::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed")
            }
            Self::Timeout => (S::SERVICE_UNAVAILABLE, "timeout", "Request timed out"),
            Self::Overloaded => (S::SERVICE_UNAVAILABLE, "overloaded", "Overloaded"),
            Self::Unavailable(_) => {
                (S::SERVICE_UNAVAILABLE, "service-unavailable", "Service unavailable")
            }
            Self::Internal(_) => (S::INTERNAL_SERVER_ERROR, "internal", "Internal error"),
        }
    }

    /// The slug of the problem `type` (the table test reads it; answers carry it in `type`).
    #[cfg(test)]
    #[must_use]
    pub fn slug(&self) -> &'static str {
        self.kind().1
    }

    /// The status code.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.kind().0
    }

    fn detail(&self) -> String {
        match self {
            Self::InvalidRequest(errors) => format!("{} field(s) are invalid", errors.len()),
            Self::InvalidJson(why) => format!("the body is not valid JSON: {why}"),
            Self::UnsupportedMediaType => "send the body as Content-Type: application/json".into(),
            Self::PayloadTooLarge => {
                "request bodies are limited to 64 KiB (256 KiB for a bulk stock sync)".into()
            }
            Self::InvalidId(id) => format!("'{id}' is not a UUID"),
            Self::Unauthorized(Unauthenticated::Missing) => {
                "this endpoint needs Authorization: Bearer <API key or admin token>".into()
            }
            Self::Unauthorized(Unauthenticated::Malformed) => {
                "the Authorization header must be 'Bearer <credential>'".into()
            }
            Self::Unauthorized(Unauthenticated::Unknown) => {
                "the credential is unknown or revoked".into()
            }
            Self::InsufficientScope(scope) => {
                format!("this credential lacks the scope '{scope}' this endpoint needs")
            }
            Self::UnknownScopes(names) => format!("unknown scope(s): {}", names.join(", ")),
            Self::CustomerNotAsserted { product_id, .. } => format!(
                "product {product_id} has a per-customer limit: only a client with the scope \
                 'customers:assert' may buy it, for the customer it names"
            ),
            Self::PurchaseLimitExceeded(limits) => {
                format!("the cart exceeds {} purchase limit(s)", limits.len())
            }
            Self::ClientNotFound(id) => format!("API client {id} does not exist"),
            Self::WebhookNotFound(id) => format!("webhook subscription {id} does not exist"),
            Self::CursorExpired(earliest) => format!(
                "the events after this position were purged (--events-retention); the feed \
                 begins at sequence {earliest}: continue with after={}, after re-reading the \
                 state you follow",
                earliest - 1
            ),
            Self::DeliveryNotFailed(id) => format!(
                "delivery {id} is not a failed delivery of this subscription; only failed \
                 deliveries are re-driven"
            ),
            Self::RateLimited { retry_after } => {
                format!("too many requests from this caller; retry in {retry_after} s")
            }
            Self::ProductNotFound(id) => format!("product {id} does not exist"),
            Self::LocationNotFound(id) => format!("location {id} does not exist"),
            Self::StockNotFound(product, location) => {
                format!("product {product} has no stock at location {location}")
            }
            Self::DuplicateLocationCode(code) => {
                format!("a location with code '{code}' already exists")
            }
            Self::LocationRequired(id) => format!(
                "product {id} is kept at several locations: count one of them with PUT \
                 /v1/products/{id}/stock/locations/{{location_id}}"
            ),
            Self::OrderNotFound(id) => format!("order {id} does not exist"),
            Self::DuplicateSku(sku) => format!("a product with SKU '{sku}' already exists"),
            Self::UnknownProducts(ids) => format!("{} product(s) do not exist", ids.len()),
            Self::InsufficientStock(s) => {
                format!("{} product(s) do not have enough stock", s.len())
            }
            Self::AdjustmentBelowReserved { on_hand, reserved } => format!(
                "on-hand would become {on_hand}, below the {reserved} unit(s) reserved for orders"
            ),
            Self::BelowReserved { on_hand, reserved } => {
                format!("on-hand {on_hand} is below the {reserved} unit(s) reserved for orders")
            }
            Self::PreconditionRequired => "send If-Match with the stock's current ETag".into(),
            Self::VersionMismatch(current) => {
                format!("the stock changed; it is now at version {}", current.version())
            }
            Self::NotPayable(status) => format!("the order is {status} and cannot be paid"),
            Self::NotExtendable(OrderStatus::Reserved) => {
                "the order is held as long as it may be (the maximum hold)".into()
            }
            Self::NotExtendable(status) => {
                format!("the order is {status} and cannot be held longer")
            }
            Self::NotCancellable(status) => {
                format!("the order is {status} and cannot be cancelled")
            }
            Self::Contention { attempts } => {
                format!("the stock kept changing under {attempts} attempt(s); retry shortly")
            }
            Self::IdempotencyKeyInUse => "the first request with this key is still running".into(),
            Self::IdempotencyKeyReused => "this key was used for a different request".into(),
            Self::BulkAlreadyApplied => "an earlier request with this key applied this bulk sync; \
                its per-row answer was lost with the process that made it: read the stock to see \
                the result, and do not send it again"
                .into(),
            Self::RouteNotFound => "no such resource".into(),
            Self::MethodNotAllowed => "this resource does not support that method".into(),
            Self::Timeout => "the request took too long and was stopped; retry".into(),
            Self::Overloaded => "too many requests are waiting; nothing was done, retry".into(),
            Self::Unavailable(_) => "a dependency is unavailable; retry shortly".into(),
            Self::Internal(_) => "an unexpected error occurred".into(),
        }
    }

    /// The problem body.
    #[must_use]
    pub fn problem(&self) -> Problem {
        let (status, slug, title) = self.kind();
        let mut problem = Problem {
            problem_type: format!("{PROBLEM_BASE}{slug}"),
            title,
            status: status.as_u16(),
            detail: self.detail(),
            errors: None,
            shortages: None,
            product_ids: None,
            current_version: None,
            current: None,
            limits: None,
            required_scope: None,
            unknown_scopes: None,
            earliest: None,
        };
        match self {
            Self::InvalidRequest(errors) => problem.errors = Some(errors.clone()),
            Self::InsufficientStock(s) => {
                problem.shortages = Some(s.iter().map(ShortageView::from).collect());
            }
            Self::UnknownProducts(ids) => {
                problem.product_ids = Some(ids.iter().map(ProductId::as_uuid).collect());
            }
            Self::InsufficientScope(scope) => problem.required_scope = Some(scope.as_str()),
            Self::CursorExpired(earliest) => problem.earliest = Some(*earliest),
            Self::CustomerNotAsserted { .. } => {
                problem.required_scope = Some(Scope::CustomersAssert.as_str());
            }
            Self::PurchaseLimitExceeded(limits) => {
                problem.limits = Some(limits.iter().map(LimitView::from).collect());
            }
            Self::UnknownScopes(names) => {
                problem.errors = Some(vec![FieldError::new(
                    "scopes",
                    format!("unknown scope(s): {}", names.join(", ")),
                )]);
                problem.unknown_scopes = Some(names.clone());
            }
            Self::VersionMismatch(current) => {
                problem.current_version = Some(current.version().get());
                problem.current = Some(LocationStockView::from(current));
            }
            _ => {}
        }
        problem
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        match &self {
            // RFC 6750: a missing credential is told the scheme; a bad one, that it is bad.
            Self::Unauthorized(Unauthenticated::Missing)
            | Self::CustomerNotAsserted { anonymous: true, .. } => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(BEARER));
            }
            Self::Unauthorized(_) => {
                let value =
                    HeaderValue::from_static(r#"Bearer realm="checkout", error="invalid_token""#);
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
            Self::RateLimited { retry_after } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            _ => {}
        }
        if let Self::Unavailable(cause) | Self::Internal(cause) = &self {
            response.extensions_mut().insert(ServerErrorCause(error_chain(cause.as_ref())));
        }
        response
    }
}

/// `error: cause: cause…`, for logs only.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests;
