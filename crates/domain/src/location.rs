//! Stock locations: the warehouses and stores a shop keeps stock in (contract: `POST
//! /v1/locations` `{"code","name","priority"}` → `{"id","code","name","priority","active"}`).
//! A store has at least the default location (code `default`, priority 0), which holds all
//! stock of a single-location shop. Which location serves a checkout is [`crate::allocation`]'s.

use crate::LocationId;
use crate::product::display_name;

/// Why a location's code is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a location code has 1 to {max} characters, each an ASCII letter, digit, '-', '_' or '.'",
    max = LocationCode::MAX_CHARS
)]
pub struct LocationCodeError;

/// A location's short, stable handle for people and integrations (`default`, `wh-jakarta-1`):
/// 1 to 64 ASCII letters, digits, `-`, `_` or `.`, kept as written. Unique per store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocationCode(String);

impl LocationCode {
    /// The longest code accepted, in characters.
    pub const MAX_CHARS: usize = 64;
    /// The code of the location every store has from the start.
    pub const DEFAULT: &'static str = "default";

    /// The one constructor.
    ///
    /// # Errors
    /// [`LocationCodeError`] when empty, too long, or holding any other character.
    pub fn new(value: &str) -> Result<Self, LocationCodeError> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        let fits = (1..=Self::MAX_CHARS).contains(&value.len());
        if fits && value.chars().all(allowed) {
            Ok(Self(value.to_owned()))
        } else {
            Err(LocationCodeError)
        }
    }

    /// The code as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for LocationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a location's name or priority is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    /// The name is blank, too long or holds a control character.
    #[error("a location name has 1 to {max} characters, is not blank and holds no control character", max = Location::MAX_NAME_CHARS)]
    Name,
    /// The priority is outside the accepted range.
    #[error("a location priority is between {min} and {max}", min = -Location::MAX_PRIORITY, max = Location::MAX_PRIORITY)]
    Priority,
}

/// A place stock is kept in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    id: LocationId,
    code: LocationCode,
    name: String,
    priority: i32,
    active: bool,
}

impl Location {
    /// The longest name accepted, in characters (the product-name rules).
    pub const MAX_NAME_CHARS: usize = 100;
    /// The largest priority, either way: ample room for ranking, and far from `i32`'s ends.
    pub const MAX_PRIORITY: i32 = 1_000_000;

    /// A new, active location. Lower priorities are served first (see
    /// [`crate::allocation::Policy::ByPriority`]).
    ///
    /// # Errors
    /// [`LocationError::Name`] for a blank, over-long or control-character name (surrounding
    /// whitespace is trimmed), [`LocationError::Priority`] past [`Self::MAX_PRIORITY`] either
    /// way.
    pub fn new(
        id: LocationId,
        code: LocationCode,
        name: &str,
        priority: i64,
    ) -> Result<Self, LocationError> {
        let name = display_name(name, Self::MAX_NAME_CHARS).ok_or(LocationError::Name)?;
        let priority = i32::try_from(priority)
            .ok()
            .filter(|p| p.abs() <= Self::MAX_PRIORITY)
            .ok_or(LocationError::Priority)?;
        Ok(Self { id, code, name, priority, active: true })
    }

    /// The location as stored, `active` or not (an inactive location is kept for its history
    /// but serves no checkout).
    ///
    /// # Errors
    /// As [`Self::new`].
    pub fn restore(
        id: LocationId,
        code: LocationCode,
        name: &str,
        priority: i64,
        active: bool,
    ) -> Result<Self, LocationError> {
        Ok(Self { active, ..Self::new(id, code, name, priority)? })
    }

    /// Its id.
    #[must_use]
    pub fn id(&self) -> LocationId {
        self.id
    }

    /// Its code.
    #[must_use]
    pub fn code(&self) -> &LocationCode {
        &self.code
    }

    /// Its name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its priority: lower is served first.
    #[must_use]
    pub fn priority(&self) -> i32 {
        self.priority
    }

    /// Whether it serves checkouts.
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.active
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn id() -> LocationId {
        LocationId::new(Uuid::from_u128(7)).expect("not nil")
    }

    #[test]
    fn codes_of_letters_digits_and_separators_are_kept_as_written() {
        for code in ["default", "WH-Jakarta_1", "store.12", &"x".repeat(64)] {
            assert_eq!(LocationCode::new(code).expect(code).as_str(), code);
        }
    }

    #[test]
    fn other_codes_are_refused() {
        for code in ["", " default", "gudang utama", "wh/1", "é", &"x".repeat(65), "a\u{0}"] {
            assert_eq!(LocationCode::new(code), Err(LocationCodeError), "{code:?}");
        }
    }

    #[test]
    fn a_new_location_is_active_with_its_name_trimmed() {
        let code = LocationCode::new("wh-1").expect("a code");

        let location = Location::new(id(), code.clone(), "  Gudang Utama ", -5).expect("valid");

        assert_eq!((location.code(), location.name()), (&code, "Gudang Utama"));
        assert_eq!((location.priority(), location.is_active()), (-5, true));
    }

    #[test]
    fn blank_names_and_far_priorities_are_refused() {
        let code = LocationCode::new("wh-1").expect("a code");
        assert_eq!(Location::new(id(), code.clone(), " \u{200B} ", 0), Err(LocationError::Name));
        assert_eq!(
            Location::new(id(), code.clone(), "ok", 1_000_001),
            Err(LocationError::Priority)
        );
        assert_eq!(Location::new(id(), code, "ok", i64::MIN), Err(LocationError::Priority));
    }

    #[test]
    fn a_stored_location_keeps_whether_it_is_active() {
        let code = LocationCode::new("old-store").expect("a code");

        let location = Location::restore(id(), code, "Old store", 3, false).expect("valid");

        assert!(!location.is_active());
    }
}
