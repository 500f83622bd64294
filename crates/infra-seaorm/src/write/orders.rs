//! The orders of a commit: new ones as multi-row INSERTs, transitions as versioned UPDATEs,
//! one statement per group of orders that make the same transition (an expiry batch).

use domain::access::Actor;
use domain::ports::{Changeset, StoreError};
use domain::{OrderChange, OrderId, OrderRecord, OrderStatus, Timestamp, Version};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};

use super::rows::Inserts;
use crate::IDS_PER_QUERY;
use crate::entities::{order_line_allocations, order_lines, orders};
use crate::error::store_error;

/// How many events the order changes of `changesets` make: one per new order
/// (`order.reserved`) and one per settlement (`order.paid|cancelled|expired`); an extension,
/// which leaves the order reserved, makes none.
pub(super) fn events_of(changesets: &[Changeset]) -> usize {
    (changesets.iter().filter_map(Changeset::order))
        .filter(|change| match change {
            OrderChange::Created(_) => true,
            OrderChange::Updated { order, .. } => order.record().status != OrderStatus::Reserved,
            // A fill changes neither status nor expiry; its stock movements are its events.
            OrderChange::Filled { .. } => false,
        })
        .count()
}

/// Whether the order changes of `changesets` include a transition (payment, cancellation,
/// expiry or extension), whose UPDATE is written before the inserts and may carry a sequence.
pub(super) fn settles(changesets: &[Changeset]) -> bool {
    (changesets.iter().filter_map(Changeset::order))
        .any(|change| matches!(change, OrderChange::Updated { .. }))
}

/// New orders added to `inserts` (orders, then their lines and allocations; the caller runs
/// them), fills and transitions written now, one UPDATE per group of orders that go the same
/// way (see [`update_orders`]). Their events are numbered from `first_sequence`,
/// [`events_of`] of them (new orders' as offsets, when the inserts take their sequences: see
/// [`Inserts::take_sequences`]).
pub(super) async fn write_orders(
    txn: &impl ConnectionTrait,
    changesets: &[Changeset],
    first_sequence: i64,
    inserts: &mut Inserts,
) -> Result<(), StoreError> {
    let mut created = Vec::new();
    let mut transitions: Vec<(Transition<'_>, Vec<Settled>)> = Vec::new();
    let mut fills = Vec::new();
    let mut next = first_sequence;
    let mut take = || {
        next += 1;
        next - 1
    };
    for change in changesets.iter().filter_map(Changeset::order) {
        match change {
            OrderChange::Created(order) => created.push((order, take())),
            OrderChange::Updated { expected, order } => {
                let (key, id) = Transition::of(*expected, order.record());
                let sequence = (order.record().status != OrderStatus::Reserved).then(&mut take);
                match transitions.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, ids)) => ids.push((id, sequence)),
                    None => transitions.push((key, vec![(id, sequence)])),
                }
            }
            OrderChange::Filled { expected, order, product_id, .. } => {
                fills.push((*expected, order, *product_id));
            }
        }
    }
    for (expected, order, product_id) in fills {
        write_fill(txn, expected, order, product_id).await?;
    }
    for (transition, ids) in &transitions {
        for chunk in ids.chunks(IDS_PER_QUERY) {
            update_orders(txn, transition, chunk).await?;
        }
    }
    add_created(&created, inserts);
    Ok(())
}

/// The new orders of `changesets` added to `inserts`, as [`write_orders`] adds them, numbered
/// from `first_sequence` (as offsets when the inserts take their sequences): for a commit whose
/// only order changes are new orders, which writes nothing else of them.
pub(super) fn add_new_orders(changesets: &[Changeset], first_sequence: i64, inserts: &mut Inserts) {
    let created: Vec<_> = (changesets.iter().filter_map(Changeset::order))
        .filter_map(|change| match change {
            OrderChange::Created(order) => Some(order),
            _ => None,
        })
        .zip(first_sequence..)
        .collect();
    add_created(&created, inserts);
}

/// New orders, each with its event's sequence, added to `inserts`: orders, then their lines
/// and allocations.
fn add_created(created: &[(&domain::Order, i64)], inserts: &mut Inserts) {
    let rows: Vec<_> =
        created.iter().map(|(order, sequence)| orders::active_model(order, *sequence)).collect();
    inserts.add_numbered(&rows, Some(orders::Column::ReservedSequence));
    let lines: Vec<_> = created
        .iter()
        .flat_map(|(order, _)| {
            order.lines().iter().map(|line| order_lines::active_model(order.id(), line))
        })
        .collect();
    inserts.add(&lines);
    // Where each line's units are held: what payment, cancellation and expiry settle.
    let allocations: Vec<_> = (created.iter())
        .flat_map(|(order, _)| order_line_allocations::active_models(order.id(), order.lines()))
        .collect();
    inserts.add(&allocations);
}

/// A fill of one order's line (see [`domain::Order::fill`]): the order's version over the one
/// it was computed from, the line's units owed, and its allocation rows rewritten (none when
/// the line is held wholly at the default location, as at checkout).
async fn write_fill(
    txn: &impl ConnectionTrait,
    expected: Version,
    order: &domain::Order,
    product_id: domain::ProductId,
) -> Result<(), StoreError> {
    let id = order.id().as_uuid();
    let updated = orders::Entity::update_many()
        .col_expr(orders::Column::Version, Expr::value(order.version().get()))
        .filter(orders::Column::Id.eq(id))
        .filter(orders::Column::Version.eq(expected.get()))
        .exec(txn)
        .await
        .map_err(store_error)?;
    if updated.rows_affected != 1 {
        let found = orders::Entity::find_by_id(id).one(txn).await.map_err(store_error)?;
        return Err(match found {
            None => StoreError::OrderNotFound(order.id()),
            Some(_) => StoreError::OrderConflict(order.id()),
        });
    }
    let Some(line) = order.lines().iter().find(|line| line.product_id == product_id) else {
        return Err(StoreError::unavailable("a fill of a line the order does not have"));
    };
    let (order_id, product) = (id, product_id.as_uuid());
    order_lines::Entity::update_many()
        .col_expr(order_lines::Column::Backordered, Expr::value(i64::from(line.backordered)))
        .filter(order_lines::Column::OrderId.eq(order_id))
        .filter(order_lines::Column::ProductId.eq(product))
        .exec(txn)
        .await
        .map_err(store_error)?;
    order_line_allocations::Entity::delete_many()
        .filter(order_line_allocations::Column::OrderId.eq(order_id))
        .filter(order_line_allocations::Column::ProductId.eq(product))
        .exec(txn)
        .await
        .map_err(store_error)?;
    let rows = order_line_allocations::active_models(order.id(), std::slice::from_ref(line));
    if !rows.is_empty() {
        order_line_allocations::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

/// An order a transition writes, and its event's sequence (none for an extension).
type Settled = (OrderId, Option<i64>);

/// What a transition writes, apart from which order: orders whose transitions are equal (an
/// expiry batch: reserved at version 1, expired at the same instant) are written by one
/// statement. A transition changes the status and its timestamp, or (an extension) the expiry;
/// lines and total are fixed at checkout.
#[derive(Debug, PartialEq, Eq)]
struct Transition<'a> {
    expected: Version,
    version: Version,
    status: &'a str,
    /// The new expiry of an extension (an order updated while still reserved); `None` for a
    /// settlement, so that an expiry batch (each order with its own expiry) stays one group.
    extended_until: Option<Timestamp>,
    paid_at: Option<Timestamp>,
    cancelled_at: Option<Timestamp>,
    expired_at: Option<Timestamp>,
    settled_by: Option<Actor>,
}

impl<'a> Transition<'a> {
    fn of(expected: Version, order: &'a OrderRecord) -> (Self, OrderId) {
        let transition = Self {
            expected,
            version: order.version,
            status: order.status.as_str(),
            extended_until: (order.status == OrderStatus::Reserved).then_some(order.expires_at),
            paid_at: order.paid_at,
            cancelled_at: order.cancelled_at,
            expired_at: order.expired_at,
            settled_by: order.settled_by,
        };
        (transition, order.id)
    }
}

/// `UPDATE orders SET … WHERE id IN (…) AND version = <expected>`: every order of `ids` over
/// its expected version, or a conflict naming one that was not. A settlement also records each
/// order's event sequence (`CASE id WHEN … THEN …`: one statement for an expiry batch still).
async fn update_orders(
    txn: &impl ConnectionTrait,
    transition: &Transition<'_>,
    orders_and_sequences: &[Settled],
) -> Result<(), StoreError> {
    use orders::{Column, Entity};

    let ids: Vec<OrderId> = orders_and_sequences.iter().map(|(id, _)| *id).collect();
    let mut update = Entity::update_many();
    if let Some(until) = transition.extended_until {
        update = update.col_expr(Column::ExpiresAt, Expr::value(until));
    }
    let mut sequences = orders_and_sequences.iter().filter_map(|(id, s)| Some((*id, (*s)?)));
    if let Some((id, sequence)) = sequences.next() {
        let mut case = Expr::case(Column::Id.eq(id.as_uuid()), sequence);
        for (id, sequence) in sequences {
            case = case.case(Column::Id.eq(id.as_uuid()), sequence);
        }
        update = update.col_expr(Column::SettledSequence, case.into());
    }
    let updated = update
        .col_expr(Column::Status, Expr::value(transition.status))
        .col_expr(Column::PaidAt, Expr::value(transition.paid_at))
        .col_expr(Column::CancelledAt, Expr::value(transition.cancelled_at))
        .col_expr(Column::ExpiredAt, Expr::value(transition.expired_at))
        .col_expr(Column::SettledBy, Expr::value(transition.settled_by.map(|a| a.to_string())))
        .col_expr(Column::Version, Expr::value(transition.version.get()))
        .filter(Column::Id.is_in(ids.iter().map(OrderId::as_uuid)))
        .filter(Column::Version.eq(transition.expected.get()))
        .exec(txn)
        .await
        .map_err(store_error)?;
    if updated.rows_affected == ids.len() as u64 {
        return Ok(());
    }
    // Some order was written meanwhile (or is gone): name one, still in the transaction, which
    // the caller rolls back. A row in exactly the state this statement writes may be ours or a
    // concurrent writer's that did the same; when every row looks so, any of them will do, as
    // a conflict sends the caller back to read them all again.
    let found: Vec<_> = Entity::find()
        .filter(Column::Id.is_in(ids.iter().map(OrderId::as_uuid)))
        .all(txn)
        .await
        .map_err(store_error)?;
    let ours = |row: &orders::Model| {
        row.version == transition.version.get() && row.status == transition.status
    };
    let missed = ids.iter().find_map(|id| match found.iter().find(|row| row.id == id.as_uuid()) {
        None => Some(StoreError::OrderNotFound(*id)),
        Some(row) if ours(row) => None,
        Some(_) => Some(StoreError::OrderConflict(*id)),
    });
    Err(missed.unwrap_or_else(|| StoreError::OrderConflict(ids[0])))
}
