//! [`SeaOrmEventFeed`]: the event feed, read from the rows that hold the facts; the taking of
//! sequences by the transactions that write them ([`sequence`]); the relays' positions
//! ([`SeaOrmRelayCursors`]).

mod cursors;
mod retention;
pub(crate) mod sequence;

pub use cursors::SeaOrmRelayCursors;
pub use retention::SeaOrmEventRetention;

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use domain::event::{Event, EventBody, Sequence, StockEvent, order_as_of};
use domain::ports::{EventFeed, StoreError};
use domain::{OrderStatus, StockCount};
use sea_orm::prelude::Uuid;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, ExprTrait, QueryFilter, QueryOrder,
};

use crate::IDS_PER_QUERY;
use crate::entities::{corrupt, low_stock_thresholds, orders, products, stock_movements};
use crate::error::store_error;
use crate::order::SeaOrmOrderRepository;

/// [`EventFeed`] over SeaORM. Read-only: it may be given a replica's pool.
#[derive(Debug, Clone)]
pub struct SeaOrmEventFeed {
    db: DatabaseConnection,
    /// Reads orders with their lines, as the order port does.
    orders: SeaOrmOrderRepository,
}

impl SeaOrmEventFeed {
    /// An adapter sharing `db`'s pool.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { orders: SeaOrmOrderRepository::new(db.clone()), db }
    }

    async fn stock_events(&self, after: i64, upto: i64) -> Result<Vec<Event>, StoreError> {
        use stock_movements::{Column, Entity};
        let rows = Entity::find()
            .filter(Column::Sequence.gt(after))
            .filter(Column::Sequence.lte(upto))
            .all(&self.db)
            .await
            .map_err(store_error)?;
        let thresholds = self.thresholds(&rows, upto).await?;
        let mut events = Vec::with_capacity(rows.len());
        for row in rows {
            let threshold = thresholds.at(row.product_id, row.sequence.unwrap_or(0));
            let event = stock_event(row, threshold)?;
            // A change that crossed levels is followed by its `stock.low`, `stock.out` or
            // `stock.back_in`, derived from the same row (and sharing its sequence): nothing
            // more is written.
            let (sequence, time) = (event.sequence, event.time);
            let crossed = match &event.body {
                EventBody::Stock(stock) => {
                    stock.crossings().into_iter().map(|level| (level, stock.clone())).collect()
                }
                _ => Vec::new(),
            };
            events.push(event);
            events.extend(crossed.into_iter().map(|(level, stock)| Event {
                sequence,
                time,
                body: EventBody::StockLevel(level, stock),
            }));
        }
        Ok(events)
    }

    /// The low-stock threshold settings of the products of `rows` made before `upto`.
    async fn thresholds(
        &self,
        rows: &[stock_movements::Model],
        upto: i64,
    ) -> Result<Thresholds, StoreError> {
        use low_stock_thresholds::{Column, Entity};
        let products: Vec<Uuid> =
            rows.iter().map(|row| row.product_id).collect::<HashSet<_>>().into_iter().collect();
        let mut thresholds = Thresholds::default();
        for slice in products.chunks(IDS_PER_QUERY) {
            let settings = Entity::find()
                .filter(Column::ProductId.is_in(slice.iter().copied()))
                .filter(Column::FromSequence.lt(upto))
                .order_by_asc(Column::FromSequence)
                .all(&self.db)
                .await
                .map_err(store_error)?;
            for setting in settings {
                let threshold = setting
                    .threshold
                    .map(StockCount::new)
                    .transpose()
                    .map_err(|e| corrupt("low_stock_thresholds", setting.product_id, e))?;
                let history = thresholds.0.entry(setting.product_id).or_default();
                history.push((setting.from_sequence, threshold));
            }
        }
        Ok(thresholds)
    }

    async fn order_events(&self, after: i64, upto: i64) -> Result<Vec<Event>, StoreError> {
        use orders::{Column, Entity};
        let in_range = |column: Column| column.gt(after).and(column.lte(upto));
        let rows = Entity::find()
            .filter(
                Condition::any()
                    .add(in_range(Column::ReservedSequence))
                    .add(in_range(Column::SettledSequence)),
            )
            .all(&self.db)
            .await
            .map_err(store_error)?;
        let placed: Vec<_> =
            rows.iter().map(|row| (row.reserved_sequence, row.settled_sequence)).collect();
        let orders = self.orders.with_lines(rows).await?;
        let mut events = Vec::new();
        for (order, (reserved, settled)) in orders.into_iter().zip(placed) {
            let record = order.record();
            let id = record.id;
            if let Some(sequence) = reserved.filter(|s| (after + 1..=upto).contains(s)) {
                let reserved = order_as_of(&order, OrderStatus::Reserved)
                    .map_err(|e| corrupt("orders", id, e))?;
                events.push(Event {
                    sequence: feed_position(sequence, "orders", id)?,
                    time: record.created_at,
                    body: EventBody::Order(reserved),
                });
            }
            if let Some(sequence) = settled.filter(|s| (after + 1..=upto).contains(s)) {
                let time = match record.status {
                    OrderStatus::Paid => record.paid_at,
                    OrderStatus::Cancelled => record.cancelled_at,
                    OrderStatus::Expired => record.expired_at,
                    OrderStatus::Reserved => None,
                };
                let time = time.ok_or_else(|| {
                    corrupt("orders", id, "a settlement event on an order with no settlement time")
                })?;
                events.push(Event {
                    sequence: feed_position(sequence, "orders", id)?,
                    time,
                    body: EventBody::Order(order.clone()),
                });
            }
        }
        Ok(events)
    }

    async fn product_events(&self, after: i64, upto: i64) -> Result<Vec<Event>, StoreError> {
        use products::{Column, Entity};
        let rows = Entity::find()
            .filter(Column::CreatedSequence.gt(after))
            .filter(Column::CreatedSequence.lte(upto))
            .all(&self.db)
            .await
            .map_err(store_error)?;
        rows.into_iter()
            .map(|row| {
                let sequence =
                    feed_position(row.created_sequence.unwrap_or(0), "products", row.id)?;
                // As created: a new product owes nothing.
                let product = row.into_domain(0)?;
                Ok(Event { sequence, time: product.created_at, body: EventBody::Product(product) })
            })
            .collect()
    }
}

/// Each product's low-stock threshold settings, oldest first, with the position each applies
/// after.
#[derive(Default)]
struct Thresholds(HashMap<Uuid, Vec<(i64, Option<StockCount>)>>);

impl Thresholds {
    /// The threshold in force for `product`'s change at `sequence`: the latest setting made
    /// before it.
    fn at(&self, product: Uuid, sequence: i64) -> Option<StockCount> {
        let history = self.0.get(&product)?;
        history
            .iter()
            .rev()
            .find(|(from, _)| *from < sequence)
            .and_then(|(_, threshold)| *threshold)
    }
}

fn stock_event(
    row: stock_movements::Model,
    low_stock_threshold: Option<StockCount>,
) -> Result<Event, StoreError> {
    let id = row.id;
    let count = |value: Option<i64>| {
        let value =
            value.ok_or_else(|| corrupt("stock_movements", id, "an event without counters"))?;
        StockCount::new(value).map_err(|e| corrupt("stock_movements", id, e))
    };
    let sequence = feed_position(row.sequence.unwrap_or(0), "stock_movements", id)?;
    let (on_hand, reserved) = (count(row.on_hand)?, count(row.reserved)?);
    // Entries from before locations kept no safety stock: there was none.
    let safety_stock = count(Some(row.safety_stock.unwrap_or(0)))?;
    let movement = row.into_domain()?;
    Ok(Event {
        sequence,
        time: movement.at,
        body: EventBody::Stock(StockEvent {
            location_id: movement.location_id,
            movement,
            on_hand,
            reserved,
            safety_stock,
            low_stock_threshold,
        }),
    })
}

fn feed_position(
    value: i64,
    table: &'static str,
    key: impl std::fmt::Display,
) -> Result<Sequence, StoreError> {
    Sequence::new(value)
        .filter(|s| *s > Sequence::START)
        .ok_or_else(|| corrupt(table, key, format!("feed sequence {value}")))
}

#[async_trait]
impl EventFeed for SeaOrmEventFeed {
    async fn head(&self) -> Result<Sequence, StoreError> {
        let last = sequence::head(&self.db).await?;
        Sequence::new(last).ok_or_else(|| corrupt("event_sequence", 1, format!("last {last}")))
    }

    async fn purged_through(&self) -> Result<Sequence, StoreError> {
        let purged = sequence::purged_through(&self.db).await?;
        Sequence::new(purged)
            .ok_or_else(|| corrupt("event_sequence", 1, format!("purged_through {purged}")))
    }

    #[tracing::instrument(skip_all, fields(%after, limit))]
    async fn after(&self, after: Sequence, limit: u32) -> Result<Vec<Event>, StoreError> {
        // Every sequence up to the head read first is committed (sequences are taken under a
        // row lock held to the commit), so the statements below, each reading the store as it
        // is when it starts, see every event of the range: no snapshot needed, none skipped.
        let head = self.head().await?;
        let upto = after.plus(i64::from(limit)).min(head).get();
        let after = after.get();
        if upto <= after {
            return Ok(Vec::new());
        }
        let mut events = self.stock_events(after, upto).await?;
        events.extend(self.order_events(after, upto).await?);
        events.extend(self.product_events(after, upto).await?);
        // Stable: a derived stock event stays after the change it shares its sequence with.
        events.sort_by_key(|event| event.sequence);
        Ok(events)
    }
}
