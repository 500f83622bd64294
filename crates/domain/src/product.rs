//! [`Product`]: what the shop sells and at what price. Its stock lives in
//! [`crate::ProductStock`], which changes far more often.

use crate::{Money, ProductId, Sku, Timestamp};

/// Why a product's fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    /// The name is blank or longer than [`ProductName::MAX_CHARS`] characters.
    #[error("a product name has 1 to {max} characters and is not blank", max = ProductName::MAX_CHARS)]
    Name,
}

/// A product's display name: 1 to 200 characters, not blank, surrounding spaces trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProductName(String);

impl ProductName {
    /// The longest name accepted, in characters (the database column is as wide).
    pub const MAX_CHARS: usize = 200;

    /// The one constructor.
    ///
    /// # Errors
    /// [`ProductError::Name`] when blank or too long.
    pub fn new(value: &str) -> Result<Self, ProductError> {
        let trimmed = value.trim();
        let chars = trimmed.chars().count();
        if chars == 0 || chars > Self::MAX_CHARS || trimmed.chars().any(char::is_control) {
            return Err(ProductError::Name);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A product in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// Its identity.
    pub id: ProductId,
    /// The shop's code for it, unique in the catalogue.
    pub sku: Sku,
    /// What customers see.
    pub name: ProductName,
    /// The unit price charged at checkout.
    pub price: Money,
    /// When it was created.
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::hostile::text;

    #[test]
    fn names_are_trimmed() {
        assert_eq!(
            ProductName::new("  Kaos Merah ").map(|n| n.as_str().to_owned()),
            Ok("Kaos Merah".into())
        );
    }

    #[test]
    fn blank_overlong_and_control_character_names_are_refused() {
        assert_eq!(ProductName::new("   "), Err(ProductError::Name));
        assert_eq!(ProductName::new(&"é".repeat(201)), Err(ProductError::Name));
        assert!(ProductName::new(&"é".repeat(200)).is_ok());
        assert_eq!(ProductName::new("a\u{0}b"), Err(ProductError::Name));
    }

    proptest! {
        /// A name is the trimmed text when that is 1 to 200 characters without a control
        /// character; it is then a fixed point (building it again from itself gives itself).
        /// Anything else is `ProductError::Name`.
        #[test]
        fn any_text_is_a_trimmed_bounded_name_or_refused(
            raw in prop_oneof![text(), "[ \t]{0,3}\\PC{0,205}[ \t]{0,3}"]
        ) {
            let trimmed = raw.trim();
            let chars = trimmed.chars().count();
            let acceptable = (1..=ProductName::MAX_CHARS).contains(&chars)
                && !trimmed.chars().any(char::is_control);
            match ProductName::new(&raw) {
                Ok(name) => {
                    prop_assert!(acceptable, "accepted {:?}", raw);
                    prop_assert_eq!(name.as_str(), trimmed);
                    prop_assert_eq!(ProductName::new(name.as_str()), Ok(name.clone()));
                }
                Err(err) => {
                    prop_assert!(!acceptable, "refused {:?}", raw);
                    prop_assert_eq!(err, ProductError::Name);
                }
            }
        }
    }
}
