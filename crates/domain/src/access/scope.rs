//! [`Scope`]: one right a credential may hold, and [`Scopes`]: a set of them.

use std::fmt;
use std::str::FromStr;

/// One right. The names are the contract's (`docs/api-contract.md`, "Access").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Create products and stock locations, change products.
    CatalogWrite,
    /// Set, adjust and transfer stock.
    StockWrite,
    /// Read the stock ledger.
    StockLedger,
    /// Mark an order paid.
    OrdersPay,
    /// Cancel an unpaid order.
    OrdersCancel,
    /// Name the verified customer of a checkout.
    CustomersAssert,
    /// Read the event feed.
    EventsRead,
    /// Manage webhook subscriptions.
    WebhooksManage,
    /// Run the reconciliation audit.
    AdminReconcile,
    /// Create, list and revoke API clients.
    ClientsManage,
}

impl Scope {
    /// Every scope, in declaration order.
    pub const ALL: [Self; 10] = [
        Self::CatalogWrite,
        Self::StockWrite,
        Self::StockLedger,
        Self::OrdersPay,
        Self::OrdersCancel,
        Self::CustomersAssert,
        Self::EventsRead,
        Self::WebhooksManage,
        Self::AdminReconcile,
        Self::ClientsManage,
    ];

    /// The stable name on the wire and in storage.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CatalogWrite => "catalog:write",
            Self::StockWrite => "stock:write",
            Self::StockLedger => "stock:ledger",
            Self::OrdersPay => "orders:pay",
            Self::OrdersCancel => "orders:cancel",
            Self::CustomersAssert => "customers:assert",
            Self::EventsRead => "events:read",
            Self::WebhooksManage => "webhooks:manage",
            Self::AdminReconcile => "admin:reconcile",
            Self::ClientsManage => "clients:manage",
        }
    }

    /// The scope named `name`, if any (names are exact: lower case, no spaces).
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Names that are not scopes, every one of them, so that a caller can fix them all at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope(s): {}", .0.join(", "))]
pub struct UnknownScopes(pub Vec<String>);

/// A set of scopes. Its text is the names in [`Scope::ALL`] order, separated by one space (the
/// form OAuth 2.0 uses for `scope`), which is also how stores keep it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Scopes(u16);

impl Scopes {
    /// No scope at all.
    pub const NONE: Self = Self(0);
    /// Every scope: the root credential's.
    pub const ALL: Self = Self((1 << Scope::ALL.len()) - 1);

    /// The set of the scopes named, refusing every name that is not one.
    ///
    /// # Errors
    /// [`UnknownScopes`] listing each unknown name once, in the order given.
    pub fn parse_all<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, UnknownScopes> {
        let mut scopes = Self::NONE;
        let mut unknown: Vec<String> = Vec::new();
        for name in names {
            match Scope::parse(name) {
                Some(scope) => scopes.0 |= scope.bit(),
                None if !unknown.iter().any(|u| u == name) => unknown.push(name.to_owned()),
                None => {}
            }
        }
        if unknown.is_empty() { Ok(scopes) } else { Err(UnknownScopes(unknown)) }
    }

    /// Whether `scope` is in the set.
    #[must_use]
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The scopes in the set, in [`Scope::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().fold(0, |bits, scope| bits | scope.bit()))
    }
}

impl FromStr for Scopes {
    type Err = UnknownScopes;

    /// Names separated by whitespace.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse_all(text.split_whitespace())
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn every_scope_round_trips_through_its_name() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("Orders:Pay"), None, "names are exact");
        assert_eq!(Scope::ALL.into_iter().collect::<Scopes>(), Scopes::ALL);
    }

    #[test]
    fn unknown_names_are_all_listed_once() {
        let refused = Scopes::parse_all(["orders:pay", "orders:refund", "root", "orders:refund"]);
        assert_eq!(refused, Err(UnknownScopes(vec!["orders:refund".into(), "root".into()])));
        assert_eq!(Scopes::parse_all([]), Ok(Scopes::NONE));
    }

    proptest! {
        /// Any set prints as names that parse back to the same set.
        #[test]
        fn any_set_round_trips_through_its_text(bits in 0u16..(1 << Scope::ALL.len())) {
            let scopes = Scopes(bits);
            prop_assert_eq!(scopes.to_string().parse::<Scopes>(), Ok(scopes));
            prop_assert_eq!(scopes.iter().count(), bits.count_ones() as usize);
        }
    }
}
