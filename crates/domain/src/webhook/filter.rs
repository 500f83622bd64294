//! Which events a subscription wants.

use crate::event::EventType;

/// Why a list of event types is not a subscription's filter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeFilterError {
    /// No pattern at all.
    #[error("name at least one event type")]
    Empty,
    /// A pattern that names no event type.
    #[error("{0:?} names no event type (a type such as order.paid, or a family such as stock.*)")]
    Unknown(String),
    /// More patterns than [`TypeFilter::MAX_PATTERNS`].
    #[error("at most 32 event types or families")]
    TooMany,
}

/// The events a subscription wants: exact types (`order.paid`) and families (`stock.*`: every
/// type that starts with `stock.`), as the contract spells them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeFilter {
    patterns: Vec<String>,
}

impl TypeFilter {
    /// The most patterns one subscription may name (there are far fewer types).
    pub const MAX_PATTERNS: usize = 32;

    /// The filter of `patterns`, each of which must name at least one type.
    ///
    /// # Errors
    /// [`TypeFilterError::Empty`], or [`TypeFilterError::Unknown`] naming the first pattern
    /// that matches no type.
    pub fn parse<S: AsRef<str>>(patterns: &[S]) -> Result<Self, TypeFilterError> {
        if patterns.is_empty() {
            return Err(TypeFilterError::Empty);
        }
        if patterns.len() > Self::MAX_PATTERNS {
            return Err(TypeFilterError::TooMany);
        }
        let patterns: Vec<String> = patterns.iter().map(|p| p.as_ref().to_owned()).collect();
        if let Some(unknown) =
            patterns.iter().find(|p| !EventType::ALL.iter().any(|t| matches(p, *t)))
        {
            return Err(TypeFilterError::Unknown(unknown.clone()));
        }
        Ok(Self { patterns })
    }

    /// Whether the subscription wants events of `event_type`.
    #[must_use]
    pub fn wants(&self, event_type: EventType) -> bool {
        self.patterns.iter().any(|p| matches(p, event_type))
    }

    /// The patterns, as given.
    #[must_use]
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}

fn matches(pattern: &str, event_type: EventType) -> bool {
    match pattern.strip_suffix(".*") {
        Some(family) => {
            event_type.as_str().strip_prefix(family).is_some_and(|r| r.starts_with('.'))
        }
        None => pattern == event_type.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_take_exact_types_and_families() {
        let filter = TypeFilter::parse(&["stock.*", "order.paid"]).unwrap();
        assert!(filter.wants(EventType::StockChanged));
        assert!(filter.wants(EventType::StockOut));
        assert!(filter.wants(EventType::OrderPaid));
        assert!(!filter.wants(EventType::OrderReserved));
        assert!(!filter.wants(EventType::ProductCreated));
        assert_eq!(TypeFilter::parse::<&str>(&[]), Err(TypeFilterError::Empty));
        assert_eq!(
            TypeFilter::parse(&["order.*", "stok.*"]),
            Err(TypeFilterError::Unknown("stok.*".into()))
        );
        assert!(TypeFilter::parse(&["order"]).is_err(), "a family needs its .*");
        assert!(TypeFilter::parse(&["stock.changed.*"]).is_err());
    }
}
