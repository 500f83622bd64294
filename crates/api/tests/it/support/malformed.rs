//! The table of malformed requests: each must be refused with its own 4xx problem, before any
//! stock is read or written. The router tests run it over mocks, the end-to-end tests over a
//! real database.

use axum::http::Method;
use serde_json::json;
use uuid::Uuid;

/// One malformed request and the problem it must get.
#[derive(Debug, Clone)]
pub struct Malformed {
    pub name: &'static str,
    pub method: Method,
    pub path: String,
    /// Whether to send `Content-Type: application/json`.
    pub json: bool,
    pub body: Vec<u8>,
    pub status: u16,
    pub slug: &'static str,
}

fn checkout(
    name: &'static str,
    body: impl Into<Vec<u8>>,
    status: u16,
    slug: &'static str,
) -> Malformed {
    Malformed {
        name,
        method: Method::POST,
        path: "/v1/checkout".into(),
        json: true,
        body: body.into(),
        status,
        slug,
    }
}

fn cart_of_one(product: Uuid, quantity: serde_json::Value) -> Vec<u8> {
    json!({"items": [{"product_id": product, "quantity": quantity}]}).to_string().into_bytes()
}

/// Every malformed request, around an otherwise valid cart of `product`.
pub fn cases(product: Uuid) -> Vec<Malformed> {
    let valid = cart_of_one(product, json!(1));
    let distinct: Vec<_> =
        (0..101).map(|_| json!({"product_id": Uuid::new_v4(), "quantity": 1})).collect();
    // Valid JSON that is simply too long: whitespace is insignificant, size is not.
    let mut oversized = b"{\"items\": [".to_vec();
    oversized.resize(64 * 1024 + 1, b' ');
    oversized.extend_from_slice(b"]}");
    vec![
        checkout("bad JSON", &b"{\"items\": [{\"product_id\": "[..], 400, "invalid-json"),
        Malformed {
            json: false,
            ..checkout("no content type", valid.clone(), 415, "unsupported-media-type")
        },
        checkout("an empty cart", &br#"{"items": []}"#[..], 422, "invalid-request"),
        checkout("quantity 0", cart_of_one(product, json!(0)), 422, "invalid-request"),
        checkout("a negative quantity", cart_of_one(product, json!(-3)), 422, "invalid-request"),
        checkout(
            "quantity 10^15",
            cart_of_one(product, json!(1_000_000_000_000_000_i64)),
            422,
            "invalid-request",
        ),
        checkout("a string quantity", cart_of_one(product, json!("1")), 422, "invalid-request"),
        checkout(
            "a product id that is not a UUID",
            &br#"{"items": [{"product_id": "not-a-uuid", "quantity": 1}]}"#[..],
            422,
            "invalid-request",
        ),
        checkout(
            "an unknown field",
            json!({"items": [{"product_id": product, "quantity": 1}], "coupon": "FREE"})
                .to_string(),
            422,
            "invalid-request",
        ),
        checkout(
            "101 distinct products",
            json!({"items": distinct}).to_string(),
            422,
            "invalid-request",
        ),
        checkout("a body over 64 KiB", oversized, 413, "payload-too-large"),
        Malformed {
            method: Method::GET,
            path: "/v1/products/not-a-uuid/stock".into(),
            json: false,
            body: vec![],
            ..checkout("a path id that is not a UUID", vec![], 400, "invalid-id")
        },
        Malformed {
            method: Method::GET,
            path: "/v1/no-such-thing".into(),
            json: false,
            body: vec![],
            ..checkout("an unknown route", vec![], 404, "not-found")
        },
        Malformed {
            method: Method::DELETE,
            ..checkout("a wrong method", valid, 405, "method-not-allowed")
        },
    ]
}
