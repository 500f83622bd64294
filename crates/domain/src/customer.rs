//! [`CustomerId`] and [`Customer`]: who an order is for, as the shop's other systems name them.

use std::fmt;
use std::str::FromStr;

/// Why a customer id is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a customer id has 1 to {max} characters, none of them a control character, and is not blank",
    max = CustomerId::MAX_CHARS
)]
pub struct CustomerIdError;

/// Identifies a customer; owned by another system (a shop's accounts, a CRM), so opaque here:
/// 1 to 255 characters, kept exactly as sent (no trimming, no case folding: `Alice` and `alice`
/// are two customers), none of them a control character, not all of them blank.
///
/// ```
/// use domain::CustomerId;
///
/// let id: CustomerId = "shopify:gid://Customer/42".parse().unwrap();
/// assert_eq!(id.as_str(), "shopify:gid://Customer/42");
/// assert!("a\u{7}b".parse::<CustomerId>().is_err());
/// assert!("   ".parse::<CustomerId>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomerId(String);

impl CustomerId {
    /// The longest id accepted, in characters (the database columns are as wide).
    pub const MAX_CHARS: usize = 255;

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for CustomerId {
    type Err = CustomerIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let count = s.chars().count();
        let fits = (1..=Self::MAX_CHARS).contains(&count);
        let visible = !s.chars().all(char::is_whitespace);
        if fits && visible && !s.chars().any(char::is_control) {
            Ok(Self(s.to_owned()))
        } else {
            Err(CustomerIdError)
        }
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The customer an order is for, and whether the caller vouched for it.
///
/// A buyer's browser may name any customer id, so such a name is a label and nothing more. A
/// client holding [`Scope::CustomersAssert`](crate::access::Scope::CustomersAssert) (the shop's
/// own backend, which has logged the customer in) *asserts* it: only asserted customers'
/// purchases are counted against per-customer limits (see [`crate::limits`]), and an order
/// remembers which it was, so that cancelling it gives back exactly what it counted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Customer {
    /// Who.
    pub id: CustomerId,
    /// Whether a client with `customers:assert` named it.
    pub asserted: bool,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::hostile::text;

    #[test]
    fn ids_are_kept_exactly_as_sent() {
        let id: CustomerId = " Alice ".parse().expect("id");
        assert_eq!(id.as_str(), " Alice ");
        assert_ne!(id, "alice".parse().expect("id"));
    }

    #[test]
    fn empty_blank_overlong_and_control_ids_are_refused() {
        for bad in ["", "  ", "\t", "a\nb", "a\u{0}b", "a\u{7f}"] {
            assert_eq!(bad.parse::<CustomerId>(), Err(CustomerIdError), "{bad:?}");
        }
        assert!("é".repeat(255).parse::<CustomerId>().is_ok());
        assert_eq!("é".repeat(256).parse::<CustomerId>(), Err(CustomerIdError));
    }

    proptest! {
        /// Any text is an id that prints back the same, or a typed refusal: never a panic.
        #[test]
        fn any_text_is_an_id_or_refused(raw in text()) {
            match raw.parse::<CustomerId>() {
                Ok(id) => {
                    prop_assert_eq!(id.as_str(), raw.as_str());
                    prop_assert!(!raw.chars().any(char::is_control));
                    prop_assert!((1..=255).contains(&raw.chars().count()));
                }
                Err(CustomerIdError) => prop_assert!(
                    raw.is_empty()
                        || raw.chars().count() > 255
                        || raw.chars().any(char::is_control)
                        || raw.chars().all(char::is_whitespace)
                ),
            }
        }
    }
}
