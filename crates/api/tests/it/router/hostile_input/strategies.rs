//! Strategies of hostile requests: JSON text that is almost right (each field any JSON value,
//! a number no `i64` holds, a nil or broken id), any JSON at all, arbitrary bytes, deep
//! nesting, and odd headers, query strings and path segments.

use std::fmt;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use proptest::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use super::super::mocks::{TOKEN, product_id};

/// One generated request, kept as data so that a failure prints it readably.
#[derive(Clone)]
pub struct Hostile {
    pub method: Method,
    pub uri: String,
    pub headers: Vec<(HeaderName, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl fmt::Debug for Hostile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} {}", self.method, self.uri)?;
        for (name, value) in &self.headers {
            writeln!(f, "{name}: {}", String::from_utf8_lossy(value))?;
        }
        write!(f, "\n{}", String::from_utf8_lossy(&self.body))
    }
}

impl Hostile {
    /// The request, or `None` when no client could send it (a URI or header value the HTTP
    /// library refuses). Headers whose value cannot be sent are left out.
    pub fn request(&self) -> Option<Request<Body>> {
        let mut builder = Request::builder().method(self.method.clone()).uri(self.uri.as_str());
        for (name, value) in &self.headers {
            if let Ok(value) = HeaderValue::from_bytes(value) {
                builder = builder.header(name, value);
            }
        }
        builder.body(Body::from(self.body.clone())).ok()
    }

    /// Everything the client sent, lower case: what the answer may legitimately echo.
    pub fn text(&self) -> String {
        let mut text = self.uri.clone();
        for (_, value) in &self.headers {
            text.push_str(&String::from_utf8_lossy(value));
        }
        text.push_str(&String::from_utf8_lossy(&self.body));
        text.to_lowercase()
    }
}

/// A request `method path` with `body` and any of the optional headers that are `Some`.
pub fn hostile(
    method: Method,
    uri: String,
    body: Vec<u8>,
    headers: Vec<(&'static str, Option<Vec<u8>>)>,
) -> Hostile {
    let headers = headers
        .into_iter()
        .filter_map(|(name, value)| Some((HeaderName::from_static(name), value?)))
        .collect();
    Hostile { method, uri, headers, body }
}

/// The field names the service knows, so that generated objects often hit them.
const FIELDS: [&str; 14] = [
    "items",
    "product_id",
    "quantity",
    "customer_id",
    "sku",
    "name",
    "price",
    "amount",
    "currency",
    "initial_stock",
    "on_hand",
    "delta",
    "reason",
    "limit",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![prop::sample::select(&FIELDS[..]).prop_map(str::to_owned), any::<String>()]
}

/// Any JSON value: every type, numbers at the edges, strings of any unicode (control
/// characters included), UUIDs, arrays and objects nested a few levels.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::from)),
        any::<String>().prop_map(Value::from),
        uuid().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

fn uuid() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<u128>().prop_map(|n| Uuid::from_u128(n).to_string()),
        1 => Just(Uuid::nil().to_string()),
        1 => any::<u128>().prop_map(|n| Uuid::from_u128(n).simple().to_string().to_uppercase()),
        1 => "[0-9a-fA-F-]{30,40}",
    ]
}

/// JSON text of any value for one field, including numbers `serde_json::Value` cannot hold.
pub fn anything() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => json_value().prop_map(|v| v.to_string()),
        1 => "-?[0-9]{1,40}(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,5})?",
    ]
}

/// JSON text of a count: mostly a small valid one (so that the other fields get their
/// turn), else the edges of every bound the service has, any `i64`, or anything.
pub fn count() -> impl Strategy<Value = String> {
    let edges = [
        i64::MIN,
        -1_000_000_000_001,
        -1,
        0,
        1,
        999_999,
        1_000_000,
        1_000_001,
        1_000_000_000_000,
        1_000_000_000_001,
        i64::MAX,
    ];
    prop_oneof![
        12 => (1..=5i64).prop_map(|n| n.to_string()),
        2 => prop::sample::select(edges.to_vec()).prop_map(|n| n.to_string()),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => anything(),
    ]
}

/// JSON text of an id: a UUID (nil, upper case, broken) as a string, or anything.
pub fn id() -> impl Strategy<Value = String> {
    let valid = any::<u128>().prop_map(|n| Uuid::from_u128(n.max(1)).to_string());
    prop_oneof![
        12 => valid.prop_map(|id| Value::from(id).to_string()),
        2 => uuid().prop_map(|id| Value::from(id).to_string()),
        1 => anything(),
    ]
}

/// JSON text of a string field: any text, sometimes very long, or anything.
pub fn text(valid: &'static str) -> impl Strategy<Value = String> {
    let string = prop_oneof![
        6 => Just(valid.to_owned()),
        2 => any::<String>(),
        1 => (any::<char>(), 0..20_000usize).prop_map(|(c, n)| c.to_string().repeat(n)),
    ];
    prop_oneof![8 => string.prop_map(|s| Value::from(s).to_string()), 1 => anything()]
}

/// A JSON object of `members` (each left out 1 time in 10) and up to two extra members.
pub fn object(
    members: Vec<(&'static str, BoxedStrategy<String>)>,
) -> impl Strategy<Value = String> {
    let members: Vec<_> = members
        .into_iter()
        .map(|(name, value)| prop::option::weighted(0.95, value).prop_map(move |v| (name, v)))
        .collect();
    let extra = prop::collection::vec((key(), anything()), 0..=2);
    let extra = prop_oneof![8 => Just(vec![]), 1 => extra];
    (members, extra).prop_map(|(members, extra)| {
        let known = members.into_iter().filter_map(|(name, v)| Some((name.to_owned(), v?)));
        let all: Vec<_> = known
            .chain(extra)
            .map(|(name, value)| format!("{}:{value}", Value::from(name)))
            .collect();
        format!("{{{}}}", all.join(","))
    })
}

/// JSON text of an array of `item`s: usually a few, sometimes around the 100-product limit.
pub fn array(item: BoxedStrategy<String>) -> impl Strategy<Value = String> {
    let items = prop_oneof![
        12 => prop::collection::vec(item.clone(), 1..4),
        1 => prop::collection::vec(item.clone(), 0..12),
        1 => prop::collection::vec(item, 95..110),
    ];
    prop_oneof![12 => items.prop_map(|items| format!("[{}]", items.join(","))), 1 => anything()]
}

/// A body around a `shaped` document: the document, the document cut or with one byte
/// replaced, any JSON, arbitrary bytes, or nesting far past any parser's recursion limit.
pub fn body(shaped: BoxedStrategy<String>) -> impl Strategy<Value = Vec<u8>> {
    let mutated = (shaped.clone(), any::<prop::sample::Index>(), any::<u8>(), any::<bool>())
        .prop_map(|(text, at, byte, cut)| {
            let mut bytes = text.into_bytes();
            if !bytes.is_empty() {
                let i = at.index(bytes.len());
                if cut { bytes.truncate(i) } else { bytes[i] = byte }
            }
            bytes
        });
    let nested = (1..3_000usize, prop::sample::select(&["[", "{\"items\":"][..]), any::<bool>())
        .prop_map(|(depth, open, closed)| {
            let close = if open == "[" { "]" } else { "}" };
            let tail = if closed { close.repeat(depth) } else { String::new() };
            format!("{}1{tail}", open.repeat(depth)).into_bytes()
        });
    prop_oneof![
        12 => shaped.prop_map(String::into_bytes),
        2 => mutated,
        2 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..256),
        1 => nested,
    ]
}

/// A `Content-Type`: mostly JSON, sometimes another, a strange or no header.
pub fn content_type() -> impl Strategy<Value = Option<Vec<u8>>> {
    let others = [
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/merge-patch+json",
        "application/problem+json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ];
    prop_oneof![
        24 => Just(Some(b"application/json".to_vec())),
        2 => prop::sample::select(others.to_vec()).prop_map(|t| Some(t.as_bytes().to_vec())),
        1 => Just(None),
        1 => prop::collection::vec(any::<u8>(), 0..40).prop_map(Some),
    ]
}

/// An `Authorization` header: mostly the admin token, sometimes none or a wrong one.
pub fn authorization() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        24 => Just(Some(format!("Bearer {TOKEN}").into_bytes())),
        1 => Just(None),
        1 => "(Bearer )?[ -~]{0,12}".prop_map(|t| Some(t.into_bytes())),
    ]
}

/// An `Idempotency-Key`: usually none, else a plausible key or arbitrary bytes.
pub fn idempotency_key() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        4 => Just(None),
        1 => "[!-~]{1,40}".prop_map(|k| Some(k.into_bytes())),
        1 => prop::collection::vec(any::<u8>(), 0..300).prop_map(Some),
    ]
}

/// A path segment that should be a product id: usually the mocked product, else anything,
/// percent-encoded.
pub fn product_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(product_id().to_string()),
        1 => uuid(),
        1 => any::<String>().prop_map(|s| encode(s.as_bytes())),
        1 => prop::collection::vec(any::<u8>(), 0..80).prop_map(|b| encode(&b)),
    ]
    .prop_filter("a non-empty segment", |s| !s.is_empty())
}

/// A query string: known and unknown keys with any values (percent-encoded, `+` for
/// spaces), or raw text with stray `%`, `&` and `=`.
pub fn query() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        4 => prop::sample::select(&["limit", "after"][..]).prop_map(str::to_owned),
        1 => any::<String>(),
    ];
    let value = prop_oneof![
        4 => count().prop_map(|n| n.trim_matches('"').to_owned()),
        2 => uuid(),
        1 => any::<String>(),
    ];
    let pair = (name, prop::option::of(value)).prop_map(|(name, value)| match value {
        Some(value) => format!("{}={}", encode(name.as_bytes()), encode(value.as_bytes())),
        None => encode(name.as_bytes()),
    });
    prop_oneof![
        6 => prop::collection::vec(pair, 0..3).prop_map(|pairs| pairs.join("&")),
        1 => "[A-Za-z0-9&=%+._~!$'()*,;:@/?-]{0,60}",
    ]
}

/// Percent-encodes every byte but the unreserved ones; spaces become `+`.
fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
