//! The optimistic-concurrency version carried by every stock row and order.

use std::fmt;
use std::str::FromStr;

/// Why a number is not a version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// Versions start at 1 and only grow.
    #[error("a version is a whole number of at least 1")]
    OutOfRange,
    /// The text is not a number.
    #[error("a version is a whole number")]
    Malformed,
}

/// How many times a row has been written: 1 when created, plus one per change.
///
/// A writer names the version it read; the store accepts the write only if that is still the
/// stored version, and then stores [`Version::next`]. This is what turns the seed's lost update
/// into a detectable conflict. It is also the stock's HTTP `ETag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(i64);

impl Version {
    /// The version of a row that has just been created.
    pub const INITIAL: Self = Self(1);

    /// The one constructor.
    ///
    /// # Errors
    /// [`VersionError::OutOfRange`] below 1.
    pub fn new(value: i64) -> Result<Self, VersionError> {
        if value >= 1 { Ok(Self(value)) } else { Err(VersionError::OutOfRange) }
    }

    /// The version as a number.
    #[must_use]
    pub fn get(self) -> i64 {
        self.0
    }

    /// The version a successful write stores.
    #[must_use]
    pub fn next(self) -> Self {
        // Saturating: 2^63 writes to one row will not happen; a panic on a request path would.
        Self(self.0.saturating_add(1))
    }
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s.parse().map_err(|_| VersionError::Malformed)?)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::hostile::{integer, text};

    #[test]
    fn versions_start_at_one_and_grow_by_one() {
        assert_eq!(Version::INITIAL.get(), 1);
        assert_eq!(Version::INITIAL.next().get(), 2);
        assert_eq!(Version::new(0), Err(VersionError::OutOfRange));
    }

    #[test]
    fn a_version_parses_from_its_text() {
        assert_eq!("7".parse::<Version>().map(Version::get), Ok(7));
        assert_eq!("seven".parse::<Version>(), Err(VersionError::Malformed));
    }

    proptest! {
        /// Any number from 1 up is a version that round-trips through its text and grows by
        /// one per write (saturating at the top, never panicking); anything below is refused.
        #[test]
        fn any_number_is_a_version_from_one_up(n in integer(&[1])) {
            match Version::new(n) {
                Ok(v) => {
                    prop_assert!(n >= 1);
                    prop_assert_eq!(v.get(), n);
                    prop_assert_eq!(v.to_string().parse::<Version>(), Ok(v));
                    prop_assert_eq!(v.next().get(), n.saturating_add(1));
                }
                Err(err) => prop_assert!(n < 1 && err == VersionError::OutOfRange),
            }
        }

        /// Any text is a version (whose text is the canonical number), or `Malformed` when it is
        /// not an `i64`, or `OutOfRange`.
        #[test]
        fn any_text_is_a_version_or_a_typed_error(
            raw in prop_oneof![text(), "[+-]?[0-9]{1,25}", "\\PC{0,3}[0-9]{1,3}\\PC{0,3}"]
        ) {
            match (raw.parse::<Version>(), raw.parse::<i64>()) {
                (Ok(v), Ok(n)) => prop_assert_eq!((v.get(), v.to_string()), (n, n.to_string())),
                (Err(VersionError::OutOfRange), Ok(n)) => prop_assert!(n < 1),
                (Err(VersionError::Malformed), Err(_)) => {}
                (parsed, number) => prop_assert!(false, "{:?} parsed as {:?} but as i64 {:?}", raw, parsed, number),
            }
        }
    }
}
