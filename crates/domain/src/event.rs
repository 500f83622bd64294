//! Events: what other systems of a shop learn from the checkout, one per stock movement, order
//! transition and product creation, numbered in the order their transactions committed.
//!
//! An event is not a second copy of the fact it reports: a stock event is the ledger entry of
//! that change, an order event is the order as that transition left it, a product event is the
//! product. What makes them a feed is the [`Sequence`] each one is given in the transaction
//! that made the change (see `docs/architecture.md`, "The event feed").

use std::fmt;

use crate::{
    LocationId, MovementKind, Order, OrderError, OrderStatus, Product, StockCount, StockMovement,
    Timestamp,
};

/// A position in the feed: the first event committed is 1, and every later one is the next
/// number, with no gaps, in commit order. 0 is the position before the first event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Sequence(i64);

impl Sequence {
    /// Before the first event.
    pub const START: Self = Self(0);

    /// A position; `None` below 0.
    #[must_use]
    pub fn new(value: i64) -> Option<Self> {
        (value >= 0).then_some(Self(value))
    }

    /// The number.
    #[must_use]
    pub fn get(self) -> i64 {
        self.0
    }

    /// The position `n` events later (saturating).
    #[must_use]
    pub fn plus(self, n: i64) -> Self {
        Self(self.0.saturating_add(n.max(0)))
    }
}

impl fmt::Display for Sequence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What kind of change an event reports: its CloudEvents `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// A product's stock moved (one ledger entry).
    StockChanged,
    /// An order was placed and its units reserved.
    OrderReserved,
    /// An order was paid.
    OrderPaid,
    /// An order was cancelled.
    OrderCancelled,
    /// An order's reservation expired.
    OrderExpired,
    /// A product was created.
    ProductCreated,
    /// A change brought a product's available units to its low-stock threshold or below,
    /// from above it.
    StockLow,
    /// A change left a product with nothing available that had some before.
    StockOut,
    /// A change made units available again of a product that had none.
    StockBackIn,
}

impl EventType {
    /// Every type, in the contract's order.
    pub const ALL: [Self; 9] = [
        Self::StockChanged,
        Self::OrderReserved,
        Self::OrderPaid,
        Self::OrderCancelled,
        Self::OrderExpired,
        Self::ProductCreated,
        Self::StockLow,
        Self::StockOut,
        Self::StockBackIn,
    ];

    /// The type's name: `stock.changed`, `order.paid`, …
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StockChanged => "stock.changed",
            Self::OrderReserved => "order.reserved",
            Self::OrderPaid => "order.paid",
            Self::OrderCancelled => "order.cancelled",
            Self::OrderExpired => "order.expired",
            Self::ProductCreated => "product.created",
            Self::StockLow => "stock.low",
            Self::StockOut => "stock.out",
            Self::StockBackIn => "stock.back_in",
        }
    }

    /// The event an order's arrival at `status` makes.
    #[must_use]
    pub fn of_order(status: OrderStatus) -> Self {
        match status {
            OrderStatus::Reserved => Self::OrderReserved,
            OrderStatus::Paid => Self::OrderPaid,
            OrderStatus::Cancelled => Self::OrderCancelled,
            OrderStatus::Expired => Self::OrderExpired,
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stock event: the ledger entry and the counters it left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockEvent {
    /// The ledger entry (its version is the stock's version after the change).
    pub movement: StockMovement,
    /// The location whose stock moved.
    pub location_id: LocationId,
    /// Units on hand after the change.
    pub on_hand: StockCount,
    /// Units reserved after the change.
    pub reserved: StockCount,
    /// The location's safety stock after the change (units on hand not for sale).
    pub safety_stock: StockCount,
    /// The product's low-stock threshold in effect when the change was committed.
    pub low_stock_threshold: Option<StockCount>,
}

impl StockEvent {
    /// Units that could be sold at the location after the change.
    #[must_use]
    pub fn available(&self) -> i64 {
        (self.on_hand.get() - self.reserved.get() - self.safety_stock.get()).max(0)
    }

    /// Units that could be sold at the location before the change.
    #[must_use]
    pub fn available_before(&self) -> i64 {
        let delta = self.movement.on_hand_delta - self.movement.reserved_delta;
        (self.on_hand.get() - self.reserved.get() - self.safety_stock.get() - delta).max(0)
    }

    /// The levels this change crossed, in the order they were crossed:
    /// [`StockLevel::Low`] when it brought the available units from above the product's
    /// threshold to it or below, [`StockLevel::Out`] when it took the last available units
    /// (a change from above the threshold to zero crosses both), [`StockLevel::BackIn`] when
    /// it made units available where there were none (not for a product's first version). A
    /// function of the change alone, so the feed derives them from the ledger row without
    /// storing them twice. Levels are per stock row (product and location). A change of the
    /// safety stock crosses none: its entry keeps the new safety stock, not the old one.
    #[must_use]
    pub fn crossings(&self) -> Vec<StockLevel> {
        if self.movement.kind == MovementKind::SafetyStock {
            return Vec::new();
        }
        let (before, after) = (self.available_before(), self.available());
        let mut levels = Vec::new();
        if let Some(threshold) = self.low_stock_threshold.map(StockCount::get)
            && before > threshold
            && after <= threshold
        {
            levels.push(StockLevel::Low);
        }
        if before > 0 && after <= 0 {
            levels.push(StockLevel::Out);
        }
        if before <= 0 && after > 0 && self.movement.version.get() > 1 {
            levels.push(StockLevel::BackIn);
        }
        levels
    }

    /// The movement's kind.
    #[must_use]
    pub fn kind(&self) -> MovementKind {
        self.movement.kind
    }
}

/// A level of a product's available units that other systems act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StockLevel {
    /// At the threshold or below (`stock.low`).
    Low,
    /// None left (`stock.out`).
    Out,
    /// Some again after none (`stock.back_in`).
    BackIn,
}

/// What an event reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventBody {
    /// `stock.changed`.
    Stock(StockEvent),
    /// `stock.low`, `stock.out` or `stock.back_in`: the change that crossed the level. It shares that
    /// change's sequence and follows it in the feed.
    StockLevel(StockLevel, StockEvent),
    /// `order.*`: the order as the transition left it (see [`order_as_of`]).
    Order(Order),
    /// `product.created`.
    Product(Product),
}

/// One event of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Its position in the feed.
    pub sequence: Sequence,
    /// When the change was made.
    pub time: Timestamp,
    /// What it reports.
    pub body: EventBody,
}

impl Event {
    /// Its CloudEvents `type`.
    #[must_use]
    pub fn event_type(&self) -> EventType {
        match &self.body {
            EventBody::Stock(_) => EventType::StockChanged,
            EventBody::StockLevel(StockLevel::Low, _) => EventType::StockLow,
            EventBody::StockLevel(StockLevel::Out, _) => EventType::StockOut,
            EventBody::StockLevel(StockLevel::BackIn, _) => EventType::StockBackIn,
            EventBody::Order(order) => EventType::of_order(order.record().status),
            EventBody::Product(_) => EventType::ProductCreated,
        }
    }

    /// What it is about: the product (stock and product events) or the order.
    #[must_use]
    pub fn subject(&self) -> uuid::Uuid {
        match &self.body {
            EventBody::Stock(stock) | EventBody::StockLevel(_, stock) => {
                stock.movement.product_id.as_uuid()
            }
            EventBody::Order(order) => order.id().as_uuid(),
            EventBody::Product(product) => product.id.as_uuid(),
        }
    }

    /// Its identity, the same however often and by whichever process it is sent, so that a
    /// receiver can drop a repeat: `stock:<product>:<version>` (at the default location;
    /// `stock:<product>@<location>:<version>` elsewhere), `stock.out:<product>:<version>` (and
    /// `stock.low:…`, `stock.back_in:…`), `order:<order>:<status>`, `product:<product>`. Built
    /// from the fact, not from the sequence, so that it is stable even across a restore of the
    /// database.
    #[must_use]
    pub fn id(&self) -> String {
        match &self.body {
            EventBody::Stock(stock) => format!("stock:{}", row_version(stock)),
            EventBody::StockLevel(_, stock) => {
                format!("{}:{}", self.event_type(), row_version(stock))
            }
            EventBody::Order(order) => {
                format!("order:{}:{}", order.id(), order.record().status.as_str())
            }
            EventBody::Product(product) => format!("product:{}", product.id),
        }
    }
}

/// `<product>:<version>` of a change of the default location's row, `<product>@<location>:
/// <version>` of another location's: versions count per row, so the location is part of what
/// names a change (and a single-location shop's ids are those it had before locations).
fn row_version(stock: &StockEvent) -> String {
    let m = &stock.movement;
    if stock.location_id == LocationId::DEFAULT {
        format!("{}:{}", m.product_id, m.version.get())
    } else {
        format!("{}@{}:{}", m.product_id, stock.location_id, m.version.get())
    }
}

/// `order` as it was when it reached `status`: an order read now may have moved on (a
/// reservation since paid), and its `order.reserved` event must still show the reservation.
/// Extensions move `expires_at` without an event, so a reservation shows its latest expiry.
///
/// # Errors
/// [`OrderError`] when the stored order does not restore (it did once, so only on corruption).
pub fn order_as_of(order: &Order, status: OrderStatus) -> Result<Order, OrderError> {
    let mut record = order.record().clone();
    if record.status == status {
        return Ok(order.clone());
    }
    record.status = status;
    if status == OrderStatus::Reserved {
        record.paid_at = None;
        record.cancelled_at = None;
        record.expired_at = None;
        record.settled_by = None;
    }
    Order::restore(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_start_at_zero_and_only_grow() {
        assert_eq!(Sequence::new(-1), None);
        assert_eq!(Sequence::new(0), Some(Sequence::START));
        assert_eq!(Sequence::START.plus(3).get(), 3);
        assert_eq!(Sequence::START.plus(-3), Sequence::START);
        assert_eq!(Sequence::new(i64::MAX).unwrap().plus(1).get(), i64::MAX);
    }

    #[test]
    fn every_order_status_has_its_event_type() {
        let names: Vec<_> =
            OrderStatus::ALL.iter().map(|s| EventType::of_order(*s).as_str()).collect();
        assert_eq!(names, ["order.reserved", "order.paid", "order.cancelled", "order.expired"]);
        let all: std::collections::HashSet<_> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(all.len(), 9, "the contract's nine types, each named once");
        assert!(all.contains("stock.low"));
    }

    fn change(on_hand: i64, reserved: i64, on_hand_delta: i64, reserved_delta: i64) -> StockEvent {
        let product_id = crate::ProductId::new(uuid::Uuid::from_u128(7)).unwrap();
        StockEvent {
            movement: StockMovement {
                product_id,
                location_id: LocationId::DEFAULT,
                kind: MovementKind::Reserve,
                on_hand_delta,
                reserved_delta,
                version: crate::Version::new(5).unwrap(),
                order_id: None,
                reason: None,
                actor: None,
                at: Timestamp::default(),
            },
            location_id: LocationId::DEFAULT,
            on_hand: StockCount::new(on_hand).unwrap(),
            reserved: StockCount::new(reserved).unwrap(),
            safety_stock: StockCount::ZERO,
            low_stock_threshold: None,
        }
    }

    fn with_threshold(threshold: i64, change: StockEvent) -> StockEvent {
        StockEvent { low_stock_threshold: Some(StockCount::new(threshold).unwrap()), ..change }
    }

    #[test]
    fn the_last_units_taken_is_out_and_the_first_units_back_are_back_in() {
        use StockLevel::{BackIn, Out};
        assert_eq!(change(5, 5, 0, 2).crossings(), vec![Out], "reserve the last 2");
        assert_eq!(change(5, 3, 0, 2).crossings(), vec![], "2 still available");
        assert_eq!(change(5, 4, 0, -1).crossings(), vec![BackIn], "a release");
        assert_eq!(change(3, 3, -2, -2).crossings(), vec![], "a sale changes nothing available");
        assert_eq!(change(10, 0, 10, 0).crossings(), vec![BackIn], "a delivery");
        assert_eq!(change(0, 0, -4, 0).crossings(), vec![Out], "a count to zero");
        assert_eq!(change(0, 0, 0, 0).crossings(), vec![]);
    }

    #[test]
    fn running_low_is_crossing_the_threshold_from_above() {
        use StockLevel::{BackIn, Low, Out};
        // 10 on hand, threshold 3.
        assert_eq!(with_threshold(3, change(10, 7, 0, 2)).crossings(), vec![Low], "5 → 3");
        assert_eq!(
            with_threshold(3, change(10, 8, 0, 1)).crossings(),
            vec![],
            "3 → 2: low already"
        );
        assert_eq!(with_threshold(3, change(10, 6, 0, 1)).crossings(), vec![], "5 → 4: above");
        assert_eq!(with_threshold(3, change(10, 10, 0, 10)).crossings(), vec![Low, Out], "10 → 0");
        assert_eq!(with_threshold(3, change(10, 9, 0, -1)).crossings(), vec![BackIn], "0 → 1");
        assert_eq!(with_threshold(3, change(10, 5, 0, -4)).crossings(), vec![], "1 → 5: not low");
        assert_eq!(with_threshold(0, change(10, 10, 0, 1)).crossings(), vec![Low, Out], "at zero");
    }

    #[test]
    fn a_change_is_named_by_its_row_so_two_locations_never_share_an_id() {
        let at = |location: LocationId| Event {
            sequence: Sequence::new(9).unwrap(),
            time: Timestamp::default(),
            body: EventBody::Stock(StockEvent { location_id: location, ..change(5, 0, 5, 0) }),
        };
        let elsewhere = LocationId::new(uuid::Uuid::from_u128(42)).unwrap();
        let product = "00000000-0000-0000-0000-000000000007";

        assert_eq!(
            at(LocationId::DEFAULT).id(),
            format!("stock:{product}:5"),
            "as before locations"
        );
        assert_eq!(at(elsewhere).id(), format!("stock:{product}@{elsewhere}:5"));
    }
}
