//! What the server's answers mean to the generator: the few wire types it reads, and how a
//! status (with the problem `type` where the status alone is ambiguous) counts in the report.

use serde::Deserialize;
use uuid::Uuid;

/// How an answer counts in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 201 for a checkout, 200 for pay and cancel.
    Ok,
    /// 409 `insufficient-stock`.
    InsufficientStock,
    /// 503 `contention`: the server's retries kept losing.
    Contention,
    /// Any other 4xx (including other 409s such as `order-not-payable`).
    Other4xx,
    /// Any 5xx other than `contention`.
    Server5xx,
    /// No answer: connection, timeout or body read failed.
    Transport,
    /// A status outside the above, or a success whose body could not be read.
    Other,
}

/// One line of an order as the server answered it.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderLine {
    pub product_id: Uuid,
    pub quantity: u64,
}

/// The parts of an order view the generator needs.
#[derive(Debug, Clone, Deserialize)]
pub struct Order {
    pub id: Uuid,
    pub items: Vec<OrderLine>,
}

/// A stock view.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Stock {
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

#[derive(Deserialize)]
struct Problem {
    #[serde(rename = "type", default)]
    kind: String,
}

#[derive(Deserialize)]
pub struct Created {
    pub id: Uuid,
}

/// Sorts a non-success answer by status and, for 409 and 503, by its problem `type`.
#[must_use]
pub fn classify(status: u16, body: &[u8]) -> Outcome {
    let kind = serde_json::from_slice::<Problem>(body).map(|p| p.kind).unwrap_or_default();
    match status {
        409 if kind.ends_with("/insufficient-stock") => Outcome::InsufficientStock,
        503 if kind.ends_with("/contention") => Outcome::Contention,
        400..=499 => Outcome::Other4xx,
        500..=599 => Outcome::Server5xx,
        _ => Outcome::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(slug: &str) -> Vec<u8> {
        format!(r#"{{"type":"https://example.test/problems/{slug}","title":"t","status":0}}"#)
            .into_bytes()
    }

    #[test]
    fn the_problem_type_separates_stock_from_other_conflicts() {
        assert_eq!(classify(409, &problem("insufficient-stock")), Outcome::InsufficientStock);
        assert_eq!(classify(409, &problem("order-not-payable")), Outcome::Other4xx);
        assert_eq!(classify(409, b"not json"), Outcome::Other4xx);
    }

    #[test]
    fn only_a_contention_problem_is_contention() {
        assert_eq!(classify(503, &problem("contention")), Outcome::Contention);
        assert_eq!(classify(503, &problem("unavailable")), Outcome::Server5xx);
        assert_eq!(classify(500, &problem("contention")), Outcome::Server5xx);
    }

    #[test]
    fn other_statuses_fall_into_their_class() {
        assert_eq!(classify(422, b""), Outcome::Other4xx);
        assert_eq!(classify(302, b""), Outcome::Other);
        assert_eq!(classify(200, b""), Outcome::Other);
    }
}
