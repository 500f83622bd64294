//! [`SeaOrmIdempotencyStore`]: idempotency keys in the `idempotency_keys` table.
//!
//! The primary key is the lock: of two processes claiming one key, exactly one INSERT
//! succeeds. Claims run outside explicit transactions, because on PostgreSQL a failed INSERT
//! would poison the transaction it ran in. The effect of a keyed request is recorded by
//! [`record_effects`] inside the transaction of the effect itself.

use std::time::Duration;

use async_trait::async_trait;
use domain::Timestamp;
use domain::ports::{
    Changeset, Claim, ClaimToken, Effect, IdempotencyKey, IdempotencyStore, KeyClaim, StoreError,
    StoredResponse,
};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, SqlErr};
use uuid::Uuid;

use crate::entities::idempotency_keys::{self as keys, COMPLETED, IN_PROGRESS};
use crate::error::store_error;

/// A claim that keeps losing to deletes and takeovers gives up after this many rounds; each
/// round needs another process to act in between, so this is never reached in practice.
const MAX_ROUNDS: usize = 5;

/// [`IdempotencyStore`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmIdempotencyStore {
    db: DatabaseConnection,
}

impl SeaOrmIdempotencyStore {
    /// An adapter sharing `db`'s pool.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Inserts the claim; `false` when the key exists.
    async fn insert(
        &self,
        key: &str,
        fingerprint: &str,
        token: ClaimToken,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let row = keys::ActiveModel {
            key: Set(key.to_owned()),
            fingerprint: Set(fingerprint.to_owned()),
            state: Set(IN_PROGRESS.to_owned()),
            response_status: Set(None),
            response_body: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            claim_token: Set(Some(token.as_uuid().to_string())),
            effect: Set(None),
        };
        match keys::Entity::insert(row).exec_without_returning(&self.db).await {
            Ok(_) => Ok(true),
            Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                Ok(false)
            }
            Err(err) => Err(store_error(err)),
        }
    }

    /// Takes over a stale claim under a new token, if nobody else did first and nothing was
    /// committed under it meanwhile.
    async fn take_over(
        &self,
        stale: &keys::Model,
        fingerprint: &str,
        token: ClaimToken,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let result = keys::Entity::update_many()
            .col_expr(keys::Column::Fingerprint, Expr::value(fingerprint))
            .col_expr(keys::Column::ClaimToken, Expr::value(token.as_uuid().to_string()))
            .col_expr(keys::Column::CreatedAt, Expr::value(now))
            .col_expr(keys::Column::UpdatedAt, Expr::value(now))
            .filter(keys::Column::Key.eq(stale.key.as_str()))
            .filter(keys::Column::State.eq(IN_PROGRESS))
            .filter(keys::Column::Effect.is_null())
            .filter(keys::Column::UpdatedAt.eq(stale.updated_at))
            .exec(&self.db)
            .await
            .map_err(store_error)?;
        Ok(result.rows_affected == 1)
    }
}

#[async_trait]
impl IdempotencyStore for SeaOrmIdempotencyStore {
    #[tracing::instrument(skip_all)]
    async fn claim(
        &self,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: Timestamp,
        stale_after: Duration,
    ) -> Result<Claim, StoreError> {
        let stale_before =
            now - chrono::TimeDelta::from_std(stale_after).unwrap_or(chrono::TimeDelta::MAX);
        // Time-ordered, so a log line's tokens sort by when they were taken.
        let token = ClaimToken::new(Uuid::now_v7());
        for _ in 0..MAX_ROUNDS {
            if self.insert(key.as_str(), fingerprint, token, now).await? {
                return Ok(Claim::Acquired(token));
            }
            let found =
                keys::Entity::find_by_id(key.as_str()).one(&self.db).await.map_err(store_error)?;
            // Purged between our insert and read: try the insert again.
            let Some(row) = found else { continue };
            if row.state == COMPLETED {
                let status = row.response_status.and_then(|s| u16::try_from(s).ok()).unwrap_or(500);
                let body = row.response_body.unwrap_or_default().into_bytes();
                return Ok(Claim::Completed {
                    fingerprint: row.fingerprint,
                    response: StoredResponse { status, body },
                });
            }
            if let Some(text) = &row.effect {
                let effect = Effect::parse(text).ok_or_else(|| {
                    StoreError::unavailable(format!("unreadable idempotency effect {text:?}"))
                })?;
                return Ok(Claim::Committed { fingerprint: row.fingerprint, effect });
            }
            if row.updated_at > stale_before {
                return Ok(Claim::InProgress { fingerprint: row.fingerprint });
            }
            if self.take_over(&row, fingerprint, token, now).await? {
                tracing::warn!(key = %key, "took over a stale idempotency claim");
                return Ok(Claim::Acquired(token));
            }
        }
        Err(StoreError::TransactionConflict("the idempotency key kept changing".into()))
    }

    #[tracing::instrument(skip_all)]
    async fn complete(
        &self,
        claim: &KeyClaim,
        response: StoredResponse,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        keys::Entity::update_many()
            .col_expr(keys::Column::State, Expr::value(COMPLETED))
            .col_expr(keys::Column::ResponseStatus, Expr::value(i32::from(response.status)))
            .col_expr(
                keys::Column::ResponseBody,
                Expr::value(String::from_utf8_lossy(&response.body).into_owned()),
            )
            .col_expr(keys::Column::UpdatedAt, Expr::value(now))
            .filter(keys::Column::Key.eq(claim.key().as_str()))
            .filter(keys::Column::ClaimToken.eq(token_text(claim)))
            .exec(&self.db)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn release(&self, claim: &KeyClaim) -> Result<(), StoreError> {
        keys::Entity::delete_many()
            .filter(keys::Column::Key.eq(claim.key().as_str()))
            .filter(keys::Column::ClaimToken.eq(token_text(claim)))
            .filter(keys::Column::State.eq(IN_PROGRESS))
            // A failure after the commit (a lost answer) must not forget what was committed.
            .filter(keys::Column::Effect.is_null())
            .exec(&self.db)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn purge(&self, before: Timestamp) -> Result<u64, StoreError> {
        let result = keys::Entity::delete_many()
            .filter(keys::Column::CreatedAt.lt(before))
            .exec(&self.db)
            .await
            .map_err(store_error)?;
        Ok(result.rows_affected)
    }
}

fn token_text(claim: &KeyClaim) -> String {
    claim.token().as_uuid().to_string()
}

/// Records, inside the transaction `txn` of the changesets' effects, what each keyed changeset
/// commits under its key, in key order (so that two commits lock the same keys in one order).
///
/// # Errors
/// [`StoreError::ClaimsLost`] naming every key whose claim is no longer held (taken over as
/// stale, or completed): the caller then rolls the whole transaction back, so nothing of it is
/// written.
pub(crate) async fn record_effects(
    txn: &impl ConnectionTrait,
    changesets: &[Changeset],
    at: Timestamp,
) -> Result<(), StoreError> {
    let mut keyed: Vec<_> = changesets.iter().filter_map(Changeset::key).collect();
    keyed.sort_by(|a, b| a.claim.key().as_str().cmp(b.claim.key().as_str()));
    let mut lost = Vec::new();
    for key in keyed {
        let result = keys::Entity::update_many()
            .col_expr(keys::Column::Effect, Expr::value(key.effect.to_text()))
            .col_expr(keys::Column::UpdatedAt, Expr::value(at))
            .filter(keys::Column::Key.eq(key.claim.key().as_str()))
            .filter(keys::Column::ClaimToken.eq(token_text(&key.claim)))
            .filter(keys::Column::State.eq(IN_PROGRESS))
            .filter(keys::Column::Effect.is_null())
            .exec(txn)
            .await
            .map_err(store_error)?;
        if result.rows_affected != 1 {
            lost.push(key.claim.key().clone());
        }
    }
    if lost.is_empty() { Ok(()) } else { Err(StoreError::ClaimsLost(lost)) }
}
