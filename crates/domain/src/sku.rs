//! Stock-keeping units: the shop's own short code for a product, unique across the catalogue.

use std::fmt;
use std::str::FromStr;

/// Why a string is not a SKU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkuError {
    /// Empty, or longer than [`Sku::MAX_LEN`].
    #[error("a SKU has 1 to {max} characters", max = Sku::MAX_LEN)]
    Length,
    /// A character outside ASCII letters, digits, `-`, `_` and `.`.
    #[error("a SKU may contain only ASCII letters, digits, '-', '_' and '.'")]
    Charset,
}

/// A SKU: 1 to 64 ASCII letters, digits, `-`, `_` or `.`.
///
/// The charset is narrow on purpose: SKUs end up in URLs, CSV exports and label printers, where
/// spaces and non-ASCII letters cause trouble.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sku(String);

impl Sku {
    /// The longest SKU accepted (and the width of the database column).
    pub const MAX_LEN: usize = 64;

    /// The one constructor.
    ///
    /// # Errors
    /// [`SkuError::Length`] when empty or too long, [`SkuError::Charset`] for any other character.
    pub fn new(value: impl Into<String>) -> Result<Self, SkuError> {
        let value = value.into();
        if value.is_empty() || value.len() > Self::MAX_LEN {
            return Err(SkuError::Length);
        }
        if !value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
            return Err(SkuError::Charset);
        }
        Ok(Self(value))
    }

    /// The SKU as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Sku {
    type Err = SkuError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::hostile::text;

    #[test]
    fn a_plain_code_is_a_sku() {
        assert_eq!(Sku::new("TSHIRT-RED_XL.2").expect("valid").as_str(), "TSHIRT-RED_XL.2");
    }

    #[test]
    fn empty_and_overlong_codes_are_refused() {
        assert_eq!(Sku::new(""), Err(SkuError::Length));
        assert_eq!(Sku::new("A".repeat(65)), Err(SkuError::Length));
        assert!(Sku::new("A".repeat(64)).is_ok());
    }

    #[test]
    fn spaces_and_non_ascii_are_refused() {
        assert_eq!(Sku::new("RED SHIRT"), Err(SkuError::Charset));
        assert_eq!(Sku::new("KAOS-MERAH-É"), Err(SkuError::Charset));
    }

    proptest! {
        /// A SKU is exactly a string of 1 to 64 allowed characters; it reads back unchanged
        /// through `as_str`, `Display` and `FromStr`. Anything else is the matching error.
        #[test]
        fn any_text_is_a_sku_that_round_trips_or_the_matching_error(
            raw in prop_oneof![text(), "[A-Za-z0-9._-]{0,70}", "[A-Za-z0-9._ é/-]{1,64}"]
        ) {
            let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
            match Sku::new(raw.as_str()) {
                Ok(sku) => {
                    prop_assert_eq!(sku.as_str(), raw.as_str());
                    prop_assert_eq!(sku.to_string(), raw.as_str());
                    prop_assert_eq!(sku.as_str().parse::<Sku>(), Ok(sku.clone()));
                    prop_assert!((1..=Sku::MAX_LEN).contains(&raw.len()));
                    prop_assert!(raw.bytes().all(allowed));
                }
                Err(SkuError::Length) => {
                    prop_assert!(raw.is_empty() || raw.len() > Sku::MAX_LEN);
                }
                Err(SkuError::Charset) => {
                    prop_assert!((1..=Sku::MAX_LEN).contains(&raw.len()));
                    prop_assert!(!raw.bytes().all(allowed));
                }
            }
        }
    }
}
