//! Identifiers: UUIDs wrapped so that a product id can never be passed where an order id is due.
//!
//! New ids come from the [`crate::ports::IdGenerator`] port (UUID v7 in production), so this
//! module never reads a clock or a random source.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// Why a string or UUID is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The text is not a UUID in any of its usual spellings.
    #[error("not a valid UUID")]
    Malformed,
    /// The nil UUID (all zeros) names nothing; it usually betrays an uninitialised value.
    #[error("the nil UUID is not an identifier")]
    Nil,
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// The one constructor: any UUID but the nil one.
            ///
            /// # Errors
            /// [`IdError::Nil`] for the nil UUID.
            pub fn new(uuid: Uuid) -> Result<Self, IdError> {
                if uuid.is_nil() { Err(IdError::Nil) } else { Ok(Self(uuid)) }
            }

            /// The wrapped UUID.
            #[must_use]
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(Uuid::try_parse(s).map_err(|_| IdError::Malformed)?)
            }
        }

        impl TryFrom<Uuid> for $name {
            type Error = IdError;

            fn try_from(uuid: Uuid) -> Result<Self, Self::Error> {
                Self::new(uuid)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

uuid_id!(
    /// Identifies a product (and, with a [`LocationId`], one of its stock rows).
    ProductId
);
uuid_id!(
    /// Identifies an order.
    OrderId
);
uuid_id!(
    /// Identifies an API client: a calling system with its own key and scopes.
    ClientId
);
uuid_id!(
    /// Identifies a stock location: a warehouse, a store, a supplier's dropship stock.
    LocationId
);

impl LocationId {
    /// The location every store has from the start (code `default`): it holds the stock of a
    /// single-location shop, and every stock row from before locations existed. Its id is fixed,
    /// so every database (and the migration that created it) agrees on it.
    pub const DEFAULT: Self = Self(Uuid::from_u128(1));
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::hostile::text;

    #[test]
    fn a_hyphenated_uuid_parses_and_prints_back_the_same() {
        let text = "0192f4a0-7b3c-7def-8123-456789abcdef";
        let id: ProductId = text.parse().expect("valid");
        assert_eq!(id.to_string(), text);
    }

    #[test]
    fn garbage_is_malformed() {
        assert_eq!("not-a-uuid".parse::<OrderId>(), Err(IdError::Malformed));
    }

    #[test]
    fn the_nil_uuid_is_refused() {
        assert_eq!(ProductId::new(Uuid::nil()), Err(IdError::Nil));
        assert_eq!("00000000-0000-0000-0000-000000000000".parse::<OrderId>(), Err(IdError::Nil));
    }

    proptest! {
        /// Every UUID but the nil one is an id, and its text parses back to the same id.
        #[test]
        fn every_non_nil_uuid_is_an_id_that_round_trips_through_its_text(bits in any::<u128>()) {
            let uuid = Uuid::from_u128(bits);
            match ProductId::new(uuid) {
                Ok(id) => {
                    prop_assert_eq!(id.as_uuid(), uuid);
                    prop_assert_eq!(id.to_string().parse::<ProductId>(), Ok(id));
                    prop_assert_eq!(OrderId::try_from(uuid).map(|o| o.as_uuid()), Ok(uuid));
                }
                Err(err) => prop_assert!(bits == 0 && err == IdError::Nil),
            }
        }

        /// Any text parses to an id that prints as the canonical form of the same UUID, or is
        /// refused with a typed error: never a panic, never the nil UUID.
        #[test]
        fn any_text_is_an_id_or_a_typed_error(raw in text()) {
            match raw.parse::<OrderId>() {
                Ok(id) => {
                    prop_assert!(!id.as_uuid().is_nil());
                    prop_assert_eq!(Uuid::try_parse(&raw).ok(), Some(id.as_uuid()));
                    prop_assert_eq!(id.to_string().parse::<OrderId>(), Ok(id));
                }
                Err(IdError::Nil) => prop_assert_eq!(Uuid::try_parse(&raw).ok(), Some(Uuid::nil())),
                Err(IdError::Malformed) => prop_assert!(Uuid::try_parse(&raw).is_err()),
            }
        }
    }
}
