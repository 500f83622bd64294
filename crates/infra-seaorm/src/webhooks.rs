//! [`SeaOrmWebhookStore`]: webhook subscriptions in `webhook_subscriptions`, their deliveries
//! (the delivery log) in `webhook_deliveries`.
//!
//! Two rules carry the relay's guarantees. A page of the feed is recorded by moving the
//! subscription's `position` by compare-and-swap and inserting its deliveries in the same
//! transaction ([`WebhookStore::enqueue`]): two processes can never both record one page. And a
//! delivery is handed out only when no earlier delivery of its subject failed for good or waits
//! for a retry ([`WebhookStore::due`]): deliveries of one subject go out in feed order, as a
//! chain the relay sends one after the other.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use domain::Timestamp;
use domain::event::Sequence;
use domain::ports::{StoreError, WebhookStore};
use domain::webhook::{
    Attempt, Delivery, DeliveryId, DeliveryQuery, DeliveryStatus, NewDelivery, Subscription,
    WebhookId,
};
use sea_orm::prelude::Uuid;
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::IDS_PER_QUERY;
use crate::entities::{webhook_deliveries as deliveries, webhook_subscriptions as subscriptions};
use crate::error::store_error;
use crate::transaction::{begin_write, finish};

/// The most subjects held back that `due` excludes in its statement; past it, it filters.
const BLOCKERS_IN_SQL: usize = 200;
/// Pages of 1,000 due deliveries `due` looks through when it filters.
const BLOCKED_PAGES: usize = 20;

/// Rows per multi-row INSERT of deliveries: 16 columns × 500 rows stays far below SQLite's
/// 32,766 bound parameters.
const ROWS_PER_INSERT: usize = 500;

/// [`WebhookStore`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmWebhookStore {
    db: DatabaseConnection,
}

impl SeaOrmWebhookStore {
    /// An adapter sharing `db`'s pool.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// Moves the position of `id` from `from` to `to`; `false` when it is not at `from` (or the
/// subscription is gone). In a transaction, the row stays locked to the commit, so a
/// concurrent enqueue from the same position waits and then finds it moved.
async fn move_position(
    txn: &impl ConnectionTrait,
    id: WebhookId,
    from: Sequence,
    to: Sequence,
) -> Result<bool, StoreError> {
    use subscriptions::{Column, Entity};
    let moved = Entity::update_many()
        .col_expr(Column::Position, Expr::value(to.get()))
        .filter(Column::Id.eq(id.as_uuid()))
        .filter(Column::Position.eq(from.get()))
        .exec(txn)
        .await
        .map_err(store_error)?;
    // Matched rows on every backend (sqlx asks MariaDB for CLIENT_FOUND_ROWS), so `from == to`
    // still counts.
    Ok(moved.rows_affected == 1)
}

/// Inserts `deliveries` in their order (multi-row INSERTs, in slices), so that their ids
/// ascend in that order.
async fn insert_pending(
    txn: &impl ConnectionTrait,
    id: WebhookId,
    deliveries: &[NewDelivery],
    now: Timestamp,
) -> Result<(), StoreError> {
    for chunk in deliveries.chunks(ROWS_PER_INSERT) {
        let rows = chunk.iter().map(|delivery| deliveries::pending(id, delivery, now));
        deliveries::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

fn to_domain(rows: Vec<deliveries::Model>) -> Result<Vec<Delivery>, StoreError> {
    rows.into_iter().map(deliveries::Model::into_domain).collect()
}

#[async_trait]
impl WebhookStore for SeaOrmWebhookStore {
    #[tracing::instrument(skip_all, fields(id = %subscription.id))]
    async fn create(&self, subscription: &Subscription) -> Result<(), StoreError> {
        subscriptions::Entity::insert(subscriptions::active_model(subscription))
            .exec_without_returning(&self.db)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn list(&self) -> Result<Vec<Subscription>, StoreError> {
        use subscriptions::{Column, Entity};
        let rows = Entity::find()
            .order_by_asc(Column::CreatedAt)
            .order_by_asc(Column::Id)
            .all(&self.db)
            .await
            .map_err(store_error)?;
        rows.into_iter().map(subscriptions::Model::into_domain).collect()
    }

    async fn get(&self, id: WebhookId) -> Result<Option<Subscription>, StoreError> {
        let row = subscriptions::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(store_error)?;
        row.map(subscriptions::Model::into_domain).transpose()
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn delete(&self, id: WebhookId) -> Result<bool, StoreError> {
        let txn = begin_write(&self.db).await?;
        let outcome = async {
            deliveries::Entity::delete_many()
                .filter(deliveries::Column::SubscriptionId.eq(id.as_uuid()))
                .exec(&txn)
                .await
                .map_err(store_error)?;
            let deleted = subscriptions::Entity::delete_by_id(id.as_uuid())
                .exec(&txn)
                .await
                .map_err(store_error)?;
            Ok(deleted.rows_affected == 1)
        }
        .await;
        finish(txn, outcome).await
    }

    async fn position(&self, id: WebhookId) -> Result<Option<Sequence>, StoreError> {
        use subscriptions::{Column, Entity};
        let position: Option<i64> = Entity::find_by_id(id.as_uuid())
            .select_only()
            .column(Column::Position)
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(store_error)?;
        position.map(|p| subscriptions::sequence(p, id.as_uuid())).transpose()
    }

    #[tracing::instrument(skip_all, fields(%id, %from, %to, deliveries = deliveries.len()))]
    async fn enqueue(
        &self,
        id: WebhookId,
        from: Sequence,
        to: Sequence,
        deliveries: &[NewDelivery],
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let txn = begin_write(&self.db).await?;
        // The position first: a process that lost the page writes nothing, and the row lock
        // taken here makes a concurrent enqueue of the same subscription wait for this one.
        let outcome = match move_position(&txn, id, from, to).await {
            Ok(true) => insert_pending(&txn, id, deliveries, now).await.map(|()| true),
            other => other,
        };
        if matches!(outcome, Ok(false)) {
            // Nothing was written; rolled back at once, to release the write lock now.
            if let Err(rollback) = txn.rollback().await {
                tracing::warn!(error = %rollback, "rollback failed");
            }
            return Ok(false);
        }
        finish(txn, outcome).await
    }

    async fn due(
        &self,
        id: WebhookId,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        use deliveries::{Column, Entity};
        // Two plain queries rather than one with a correlated NOT EXISTS: PostgreSQL planned
        // that one as a nested loop over every pending delivery whenever its statistics lagged
        // the table (a fresh or fast-growing one), seconds per call with a few thousand waiting
        // (measured). First what holds subjects back: per subject, its first delivery that
        // failed for good or waits for its retry (a range of the index on (subscription_id,
        // status, subject, id); few rows: one per troubled subject).
        let blockers: Vec<(Uuid, i64)> = Entity::find()
            .select_only()
            .column(Column::Subject)
            .column_as(Expr::col(Column::Id).min(), "first")
            .filter(Column::SubscriptionId.eq(id.as_uuid()))
            .filter(Column::Status.is_in([deliveries::RETRYING, DeliveryStatus::Failed.as_str()]))
            .group_by(Column::Subject)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(store_error)?;
        // Then the due deliveries, oldest first, without those after a blocker of their
        // subject (a due retry is its subject's first blocker, so it comes, alone). Due: never
        // tried or re-driven, or retrying and its time has come.
        let due = Condition::any()
            .add(Column::Status.eq(DeliveryStatus::Pending.as_str()))
            .add(Column::Status.eq(deliveries::RETRYING).and(Column::NextAttemptAt.lte(now)));
        let base = Entity::find()
            .filter(Column::SubscriptionId.eq(id.as_uuid()))
            .filter(due)
            .order_by_asc(Column::Id);
        if blockers.len() <= BLOCKERS_IN_SQL {
            let mut query = base.limit(u64::from(limit));
            for (subject, first) in &blockers {
                query = query.filter(
                    Condition::any().add(Column::Subject.ne(*subject)).add(Column::Id.lte(*first)),
                );
            }
            return to_domain(query.all(&self.db).await.map_err(store_error)?);
        }
        // Very many troubled subjects (a receiver down for a long while): filtered here, page
        // by page, rather than in a statement with thousands of conditions.
        let first_of: HashMap<Uuid, i64> = blockers.into_iter().collect();
        let mut found = Vec::new();
        let mut after = 0;
        for _ in 0..BLOCKED_PAGES {
            let page = base
                .clone()
                .filter(Column::Id.gt(after))
                .limit(Ord::max(u64::from(limit), 1_000))
                .all(&self.db)
                .await
                .map_err(store_error)?;
            let Some(last) = page.last().map(|row| row.id) else { break };
            after = last;
            found.extend(
                page.into_iter()
                    .filter(|row| first_of.get(&row.subject).is_none_or(|first| row.id <= *first)),
            );
            if found.len() >= limit as usize {
                found.truncate(limit as usize);
                break;
            }
        }
        to_domain(found)
    }

    #[tracing::instrument(skip_all, fields(%delivery, status = attempt.status().as_str()))]
    async fn record(&self, delivery: DeliveryId, attempt: &Attempt) -> Result<(), StoreError> {
        use deliveries::{Column, Entity};
        let status = attempt.status();
        let stored = match status {
            DeliveryStatus::Pending => deliveries::RETRYING,
            other => other.as_str(),
        };
        let mut update = Entity::update_many()
            .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
            .col_expr(Column::Status, Expr::value(stored))
            .col_expr(Column::NextAttemptAt, Expr::value(attempt.retry_at))
            .col_expr(Column::LastAttemptAt, Expr::value(Some(attempt.at)))
            .col_expr(Column::ResponseStatus, Expr::value(attempt.outcome.status().map(i32::from)))
            .col_expr(Column::LastError, Expr::value(attempt.outcome.error()));
        if status == DeliveryStatus::Delivered {
            update = update.col_expr(Column::DeliveredAt, Expr::value(Some(attempt.at)));
        }
        // Only a pending delivery: one re-driven or deleted meanwhile is left as it is.
        update
            .filter(Column::Id.eq(delivery.get()))
            .filter(
                Column::Status.is_in(deliveries::stored(DeliveryStatus::Pending).iter().copied()),
            )
            .exec(&self.db)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(deliveries = deliveries.len()))]
    async fn record_delivered(
        &self,
        deliveries: &[(DeliveryId, u16)],
        at: Timestamp,
    ) -> Result<(), StoreError> {
        use deliveries::{Column, Entity};
        // One UPDATE per HTTP status among them (nearly always one), in slices of ids.
        let mut by_status: BTreeMap<u16, Vec<i64>> = BTreeMap::new();
        for (delivery, status) in deliveries {
            by_status.entry(*status).or_default().push(delivery.get());
        }
        for (status, ids) in by_status {
            for slice in ids.chunks(IDS_PER_QUERY) {
                Entity::update_many()
                    .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
                    .col_expr(Column::Status, Expr::value(DeliveryStatus::Delivered.as_str()))
                    .col_expr(Column::NextAttemptAt, Expr::value(Option::<Timestamp>::None))
                    .col_expr(Column::LastAttemptAt, Expr::value(Some(at)))
                    .col_expr(Column::DeliveredAt, Expr::value(Some(at)))
                    .col_expr(Column::ResponseStatus, Expr::value(Some(i32::from(status))))
                    .col_expr(Column::LastError, Expr::value(Option::<String>::None))
                    .filter(Column::Id.is_in(slice.iter().copied()))
                    .filter(
                        Column::Status
                            .is_in(deliveries::stored(DeliveryStatus::Pending).iter().copied()),
                    )
                    .exec(&self.db)
                    .await
                    .map_err(store_error)?;
            }
        }
        Ok(())
    }

    async fn deliveries(
        &self,
        id: WebhookId,
        query: DeliveryQuery,
    ) -> Result<Vec<Delivery>, StoreError> {
        use deliveries::{Column, Entity};
        let mut select = Entity::find().filter(Column::SubscriptionId.eq(id.as_uuid()));
        if let Some(status) = query.status {
            select =
                select.filter(Column::Status.is_in(deliveries::stored(status).iter().copied()));
        }
        if let Some(before) = query.before {
            select = select.filter(Column::Id.lt(before.get()));
        }
        let rows = select
            .order_by_desc(Column::Id)
            .limit(u64::from(query.limit))
            .all(&self.db)
            .await
            .map_err(store_error)?;
        to_domain(rows)
    }

    #[tracing::instrument(skip_all, fields(%id, delivery = delivery.map(DeliveryId::get)))]
    async fn redrive(
        &self,
        id: WebhookId,
        delivery: Option<DeliveryId>,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        use deliveries::{Column, Entity};
        // The last attempt's time, status and error stay: the log still says why it failed.
        let mut update = Entity::update_many()
            .col_expr(Column::Status, Expr::value(DeliveryStatus::Pending.as_str()))
            .col_expr(Column::Attempts, Expr::value(0))
            .col_expr(Column::NextAttemptAt, Expr::value(Some(now)))
            .filter(Column::SubscriptionId.eq(id.as_uuid()))
            .filter(Column::Status.eq(DeliveryStatus::Failed.as_str()));
        if let Some(delivery) = delivery {
            update = update.filter(Column::Id.eq(delivery.get()));
        }
        let updated = update.exec(&self.db).await.map_err(store_error)?;
        Ok(updated.rows_affected)
    }

    #[tracing::instrument(skip_all)]
    async fn purge_delivered(&self, before: Timestamp) -> Result<u64, StoreError> {
        use deliveries::{Column, Entity};
        let deleted = Entity::delete_many()
            .filter(Column::Status.eq(DeliveryStatus::Delivered.as_str()))
            .filter(Column::DeliveredAt.lt(before))
            .exec(&self.db)
            .await
            .map_err(store_error)?;
        Ok(deleted.rows_affected)
    }
}
