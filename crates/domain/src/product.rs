//! [`Product`]: what the shop sells and at what price. Its stock lives in
//! [`crate::ProductStock`], which changes far more often.

use crate::backorder::BackorderPolicy;
use crate::limits::{LimitsPatch, PurchaseLimits};
use crate::{Money, ProductId, Sku, StockCount, Timestamp};

/// Why a product's fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    /// The name is blank (nothing visible once whitespace and invisible characters are left
    /// out), holds a control character, or is longer than [`ProductName::MAX_CHARS`]
    /// characters.
    #[error("a product name has 1 to {max} characters and is not blank", max = ProductName::MAX_CHARS)]
    Name,
}

/// A product's display name: 1 to 200 characters, at least one of them visible, none of them a
/// control character, surrounding whitespace trimmed.
///
/// "Visible" refuses names that would show as nothing in a shop window: only spaces, or only
/// zero-width and other invisible characters (see [`ProductName::new`]).
///
/// ```
/// use domain::{ProductError, ProductName};
///
/// let name = ProductName::new("  Kaos Merah ").unwrap();
/// assert_eq!(name.as_str(), "Kaos Merah");
///
/// assert_eq!(ProductName::new(" \u{200B}\u{FEFF} "), Err(ProductError::Name));
/// assert_eq!(ProductName::new(&"é".repeat(201)), Err(ProductError::Name));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProductName(String);

impl ProductName {
    /// The longest name accepted, in characters (the database column is as wide).
    pub const MAX_CHARS: usize = 200;

    /// The one constructor. Surrounding whitespace is trimmed; invisible characters inside a
    /// name with something visible are kept as they are.
    ///
    /// Invisible are whitespace, control characters, Unicode's format characters (general
    /// category Cf: soft hyphen, zero-width space, non-joiner and joiner, word joiner,
    /// byte-order mark, bidirectional controls, …) and its other default-ignorable code points
    /// (variation selectors, Hangul fillers, …).
    ///
    /// # Errors
    /// [`ProductError::Name`] when blank (nothing but invisible characters, or nothing at all),
    /// too long, or holding a control character.
    pub fn new(value: &str) -> Result<Self, ProductError> {
        display_name(value, Self::MAX_CHARS).map(Self).ok_or(ProductError::Name)
    }

    /// The name as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `value` trimmed, when it is a name people can read: at most `max_chars` characters, at least
/// one of them visible, none of them a control character. Product and client names follow it.
pub(crate) fn display_name(value: &str, max_chars: usize) -> Option<String> {
    let trimmed = value.trim();
    // `all` holds for the empty name too.
    let blank = trimmed.chars().all(is_invisible);
    let fits = trimmed.chars().count() <= max_chars;
    (!blank && fits && !trimmed.chars().any(char::is_control)).then(|| trimmed.to_owned())
}

/// Whether `c` shows nothing by itself: whitespace, a control character, a format character
/// (general category Cf) or another default-ignorable code point, as of Unicode 16.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            // Format characters (Cf).
            '\u{AD}'
                | '\u{600}'..='\u{605}'
                | '\u{61C}'
                | '\u{6DD}'
                | '\u{70F}'
                | '\u{890}'..='\u{891}'
                | '\u{8E2}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1343F}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                // Other default-ignorable code points: the combining grapheme joiner, Hangul
                // fillers, Khmer inherent vowels, variation selectors, unassigned ones reserved
                // as default-ignorable, and the tag block.
                | '\u{34F}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
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
    /// How many units one order, and one customer, may hold.
    pub limits: PurchaseLimits,
    /// At or below this many available units the product is running low: a change that brings
    /// it there from above is followed by a `stock.low` event. `None`: no such alert.
    pub low_stock_threshold: Option<StockCount>,
    /// Whether it may be sold beyond what its locations have, and how far.
    pub backorders: BackorderPolicy,
    /// Units owed to orders beyond stock now (within the policy's limit when it was taken;
    /// see [`crate::backorder`]). A store's read; a new product owes none.
    pub backordered: StockCount,
    /// When it was created.
    pub created_at: Timestamp,
}

/// A change of a product's sales settings (a `PATCH`): each field is left as it is (`None`),
/// removed (`Some(None)`) or set (`Some(Some(…))`); stores write the named fields only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(clippy::option_option)] // three states: keep, remove, set
pub struct ProductPatch {
    /// The purchase limits that change.
    pub limits: LimitsPatch,
    /// The new low-stock threshold, if it changes. It applies to the changes committed after
    /// it: the feed's events of earlier changes stay as they were.
    pub low_stock_threshold: Option<Option<StockCount>>,
    /// The new backorder policy, if it changes. Lowering a limit below what is owed refuses
    /// new backorders until deliveries fill enough; it takes nothing from orders.
    pub backorders: Option<BackorderPolicy>,
}

impl ProductPatch {
    /// Whether it changes nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
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

    #[test]
    fn names_with_nothing_visible_are_refused() {
        let invisible = [
            '\u{200B}',  // zero-width space
            '\u{200C}',  // zero-width non-joiner
            '\u{200D}',  // zero-width joiner
            '\u{2060}',  // word joiner
            '\u{FEFF}',  // byte-order mark
            '\u{AD}',    // soft hyphen
            '\u{202E}',  // right-to-left override
            '\u{2066}',  // left-to-right isolate
            '\u{E0041}', // tag latin capital letter a
            '\u{FE0F}',  // variation selector-16
            '\u{3164}',  // Hangul filler
            '\u{3000}',  // ideographic space
            '\u{A0}',    // no-break space
        ];
        for c in invisible {
            for name in [c.to_string(), format!(" {c}{c} "), format!("\u{200B}{c}\u{FEFF}")] {
                assert_eq!(ProductName::new(&name), Err(ProductError::Name), "{name:?}");
            }
        }
    }

    #[test]
    fn invisible_characters_beside_visible_ones_are_kept() {
        for name in ["\u{200B}Kaos", "Kaos\u{200D}Merah", "Kaos Merah\u{FE0F}", "\u{AD}a"] {
            assert_eq!(ProductName::new(name).map(|n| n.as_str().to_owned()), Ok(name.into()));
        }
    }

    proptest! {
        /// A name is the trimmed text when that is 1 to 200 characters without a control
        /// character, not all of them invisible; it is then a fixed point (building it again
        /// from itself gives itself). Anything else is `ProductError::Name`.
        #[test]
        fn any_text_is_a_trimmed_bounded_name_or_refused(
            raw in prop_oneof![text(), "[ \t]{0,3}\\PC{0,205}[ \t]{0,3}"]
        ) {
            let trimmed = raw.trim();
            let chars = trimmed.chars().count();
            let acceptable = (1..=ProductName::MAX_CHARS).contains(&chars)
                && !trimmed.chars().any(char::is_control)
                && !trimmed.chars().all(is_invisible);
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
