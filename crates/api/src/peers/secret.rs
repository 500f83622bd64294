//! The routing secret, and the headers that only peers showing it may set.

use axum::http::{HeaderName, HeaderValue};
use subtle::ConstantTimeEq;

/// The routing secret.
pub(super) const TOKEN: HeaderName = HeaderName::from_static("checkout-peer-token");
/// Milliseconds the forwarding process had left until its request and its commit deadline,
/// space-separated.
pub(super) const DEADLINE: HeaderName = HeaderName::from_static("checkout-peer-deadline");
/// The buyer's address, as the forwarding process took it for its abuse limits.
pub(super) const CLIENT: HeaderName = HeaderName::from_static("checkout-peer-client");

/// What processes show each other on what they forward ([`TOKEN`]).
#[derive(Clone)]
pub struct Secret(HeaderValue);

impl Secret {
    /// `text` as a secret, or `None` when it cannot travel in a header.
    pub(super) fn new(text: &str) -> Option<Self> {
        HeaderValue::from_str(text).ok().map(Self)
    }

    /// The secret as the value of [`TOKEN`].
    pub(super) fn header(&self) -> &HeaderValue {
        &self.0
    }

    /// Whether `token` is the secret (in constant time).
    pub(super) fn admits(&self, token: &[u8]) -> bool {
        bool::from(self.0.as_bytes().ct_eq(token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_secret_is_admitted() {
        let secret = Secret::new("a-routing-secret-of-some-length").expect("text");
        assert!(secret.admits(b"a-routing-secret-of-some-length"));
        assert!(!secret.admits(b"a-routing-secret-of-some-lengtH"));
        assert!(!secret.admits(b""));
        assert!(Secret::new("two\nlines").is_none());
    }
}
