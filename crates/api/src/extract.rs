//! Extractors whose rejections are our own problems: JSON bodies, query strings, path ids,
//! `If-Match`, and the admin token.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use domain::{ClientId, LocationId, OrderId, ProductId, Version};
use serde::de::DeserializeOwned;

use crate::problem::ApiError;
use crate::wire::FieldError;

/// A JSON body, deserialized with the path of any field that does not fit.
#[derive(Debug)]
pub struct ValidJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ValidJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|err| match err {
            BytesRejection::FailedToBufferBody(_) => ApiError::PayloadTooLarge,
            _ => ApiError::InvalidJson("the body could not be read".into()),
        })?;
        parse_json(&bytes).map(Self)
    }
}

/// Parses a JSON document: syntax errors are 400, misfitting fields 422 with their path. Every
/// request body is an object: serde would also fill a struct from an array of its fields in
/// order (`[null, null]` as a `PATCH` of two optional fields), which the schema does not allow.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        // Still a syntax error first (400), as for any other body.
        return match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            Err(err) if !err.is_data() => Err(ApiError::InvalidJson(err.to_string())),
            _ => Err(ApiError::InvalidRequest(vec![FieldError::new(
                "body",
                "invalid type: an array, expected an object",
            )])),
        };
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." { "body".to_owned() } else { path };
                ApiError::InvalidRequest(vec![FieldError::new(field, data_message(&inner))])
            }
            _ => ApiError::InvalidJson(inner.to_string()),
        }
    })
}

/// serde's message without its " at line L column C" tail, which means nothing next to a path,
/// and with what was expected in JSON's words: a client is told "an object", never the name of
/// one of our Rust types (`struct CheckoutRequest`).
fn data_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let text = text.rfind(" at line ").map_or(text.as_str(), |cut| &text[..cut]);
    // The last ", expected " is serde's own: the client's text, if echoed, comes before it.
    match text.rsplit_once(", expected ") {
        Some((found, expected)) => format!("{found}, expected {}", in_json_terms(expected)),
        None => text.to_owned(),
    }
}

fn in_json_terms(expected: &str) -> &str {
    match expected {
        e if e.starts_with("struct ") => "an object",
        "i64" | "u64" | "i32" | "u32" => "a whole number",
        e => e,
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(Ok(value)) = headers.get(header::CONTENT_TYPE).map(|v| v.to_str()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A query string deserialized into `T`; any misfit is a 422 `invalid-request`.
#[derive(Debug)]
pub struct ValidQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ValidQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(Self)
            .map_err(|err| ApiError::InvalidRequest(vec![FieldError::new("query", err)]))
    }
}

/// Parses a path segment as a product id (400 `invalid-id` otherwise).
pub fn product_id(raw: &str) -> Result<ProductId, ApiError> {
    raw.parse().map_err(|_| ApiError::InvalidId(truncated(raw)))
}

/// Parses a path segment as a location id (400 `invalid-id` otherwise).
pub fn location_id(raw: &str) -> Result<LocationId, ApiError> {
    raw.parse().map_err(|_| ApiError::InvalidId(truncated(raw)))
}

/// Parses a path segment as an order id (400 `invalid-id` otherwise).
pub fn order_id(raw: &str) -> Result<OrderId, ApiError> {
    raw.parse().map_err(|_| ApiError::InvalidId(truncated(raw)))
}

/// Parses a path segment as an API client id (400 `invalid-id` otherwise).
pub fn client_id(raw: &str) -> Result<ClientId, ApiError> {
    raw.parse().map_err(|_| ApiError::InvalidId(truncated(raw)))
}

/// Parses a path segment as a webhook subscription id (400 `invalid-id` otherwise).
pub fn webhook_id(raw: &str) -> Result<domain::webhook::WebhookId, ApiError> {
    raw.parse().map_err(|_| ApiError::InvalidId(truncated(raw)))
}

/// Parses a path segment as a delivery id (400 `invalid-id` otherwise).
pub fn delivery_id(raw: &str) -> Result<domain::webhook::DeliveryId, ApiError> {
    raw.parse::<i64>()
        .ok()
        .and_then(domain::webhook::DeliveryId::new)
        .ok_or_else(|| ApiError::InvalidId(truncated(raw)))
}

/// Echoing a client's text back is fine; echoing 10 KiB of it is not.
fn truncated(raw: &str) -> String {
    raw.chars().take(64).collect()
}

/// What `If-Match` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current stock (RFC 9110 §13.1.1).
    Any,
    /// `"<version>"`: that version only.
    Version(Version),
    /// A tag we never issue (weak, unquoted, not a version): matches nothing.
    Never,
}

/// The precondition of `If-Match`; 428 when absent.
pub fn if_match(headers: &HeaderMap) -> Result<IfMatch, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Err(ApiError::PreconditionRequired);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(IfMatch::Any);
    }
    // A strong ETag is quoted; a weak one (W/"…") never matches a strong comparison.
    let parsed =
        text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).and_then(|t| t.parse().ok());
    Ok(parsed.map_or(IfMatch::Never, IfMatch::Version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::MoneyJson;

    #[test]
    fn whole_numbers_may_be_written_as_floats_but_fractions_are_refused() {
        let money = |amount: &str| {
            parse_json::<MoneyJson>(format!(r#"{{"amount":{amount},"currency":"EUR"}}"#).as_bytes())
                .map(|m| m.amount)
        };
        assert_eq!(money("12").ok(), Some(12));
        assert_eq!(money("12.0").ok(), Some(12));
        assert_eq!(money("-3e2").ok(), Some(-300));
        // Exact as f64 only when parsed with correct rounding (serde_json's float_roundtrip).
        assert_eq!(money("3895320293104590.0").ok(), Some(3_895_320_293_104_590));
        assert!(money("12.5").is_err());
        assert!(money("9223372036854775808.0").is_err());
        assert!(money("9223372036854775808").is_err());
    }

    #[test]
    fn a_body_is_an_object_never_an_array_of_the_fields() {
        let patch = |body: &str| parse_json::<crate::wire::UpdateProductRequest>(body.as_bytes());
        assert!(patch(r#"{"max_per_order": null}"#).is_ok());
        let array = patch(" [null, null]").expect_err("an array");
        assert!(
            matches!(&array, ApiError::InvalidRequest(errors) if errors.len() == 1),
            "{array:?}"
        );
        assert!(
            matches!(patch("[null,"), Err(ApiError::InvalidJson(_))),
            "a syntax error stays 400"
        );
    }
}
