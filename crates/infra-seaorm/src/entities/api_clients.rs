//! `api_clients`: calling systems, their scopes and the digest of their key, and the
//! translation to and from [`domain::access::ApiClient`].

use std::fmt::Write as _;

use domain::ClientId;
use domain::access::{ApiClient, ClientName, Scopes};
use domain::ports::{KeyDigest, StoreError};
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;

use super::corrupt;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// [`Scopes`]' text: names separated by spaces.
    pub scopes: String,
    pub key_hint: String,
    /// Lower-case hex of the key's SHA-256 digest (unique).
    pub key_digest: String,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub(crate) fn into_domain(self) -> Result<(ApiClient, KeyDigest), StoreError> {
        let id = self.id;
        let client = ApiClient {
            id: ClientId::new(id).map_err(|e| corrupt("api_clients", id, e))?,
            name: ClientName::new(&self.name).map_err(|e| corrupt("api_clients", id, e))?,
            scopes: self.scopes.parse::<Scopes>().map_err(|e| corrupt("api_clients", id, e))?,
            key_hint: self.key_hint,
            created_at: self.created_at,
            revoked_at: self.revoked_at,
        };
        let digest = from_hex(&self.key_digest)
            .ok_or_else(|| corrupt("api_clients", id, "key digest is not 64 hex digits"))?;
        Ok((client, digest))
    }
}

/// The whole row of a new client.
pub(crate) fn active_model(client: &ApiClient, digest: KeyDigest) -> ActiveModel {
    ActiveModel {
        id: Set(client.id.as_uuid()),
        name: Set(client.name.as_str().to_owned()),
        scopes: Set(client.scopes.to_string()),
        key_hint: Set(client.key_hint.clone()),
        key_digest: Set(to_hex(digest)),
        created_at: Set(client.created_at),
        revoked_at: Set(client.revoked_at),
    }
}

/// The digest as stored: 64 lower-case hex digits, comparable as text on every backend.
pub(crate) fn to_hex(digest: KeyDigest) -> String {
    digest.0.iter().fold(String::with_capacity(64), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

fn from_hex(text: &str) -> Option<KeyDigest> {
    if text.len() != 64 {
        return None;
    }
    let mut bytes = [0; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(KeyDigest(bytes))
}
