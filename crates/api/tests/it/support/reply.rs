//! [`Reply`]: one HTTP answer, fully read, whichever way it was obtained (`oneshot` or a real
//! socket), with the assertions every test makes on problems.

use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A status, its headers and its body.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as text, for messages and non-JSON answers.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body deserialized into `T`; panics with the body when it does not fit.
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!("{} is not the expected JSON ({err}): {}", self.status, self.text())
        })
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the answer was replayed from an earlier request with the same idempotency key.
    pub fn is_replay(&self) -> bool {
        self.header("idempotent-replayed") == Some("true")
    }

    /// The last segment of the problem `type`, or `""` when the answer is not a problem.
    pub fn slug(&self) -> String {
        if !self.is_problem() {
            return String::new();
        }
        let problem: Value = self.json();
        let problem_type = problem["type"].as_str().unwrap_or_default();
        problem_type.rsplit('/').next().unwrap_or_default().to_owned()
    }

    /// `(status, slug)`: the pair most assertions compare.
    pub fn outcome(&self) -> (u16, String) {
        (self.status.as_u16(), self.slug())
    }

    fn is_problem(&self) -> bool {
        self.header(header::CONTENT_TYPE.as_str()).is_some_and(|ct| ct.starts_with(PROBLEM_JSON))
    }

    /// Asserts an RFC 9457 problem: this status, `application/problem+json`, a `type` ending in
    /// `slug`, and a `status` member that agrees with the status line. Returns the body.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, slug: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.text());
        assert!(self.is_problem(), "content-type {:?}; body: {}", self.headers, self.text());
        let problem: Value = self.json();
        let expected_type = format!("/problems/{slug}");
        let problem_type = problem["type"].as_str().unwrap_or_default();
        assert!(problem_type.ends_with(&expected_type), "type {problem_type:?}, want …{slug}");
        assert_eq!(problem["status"], status, "the status member");
        problem
    }
}
