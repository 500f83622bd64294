//! `idempotency_keys`: one row per client key, claimed by its insert.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub fingerprint: String,
    /// `in_progress` or `completed`.
    pub state: String,
    pub response_status: Option<i32>,
    /// The stored answer; the HTTP layer only ever stores JSON text.
    pub response_body: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The token of the request holding an in-progress key; a takeover replaces it.
    pub claim_token: Option<String>,
    /// What the request committed under the key (`Effect::to_text`), written in the
    /// transaction of the effect: an in-progress key with an effect has happened.
    pub effect: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub(crate) const IN_PROGRESS: &str = "in_progress";
pub(crate) const COMPLETED: &str = "completed";
