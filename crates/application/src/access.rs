//! Access: API clients, their keys, and the one rule of who may do what.
//!
//! A caller is whoever presents a credential: nobody ([`Caller::anonymous`]), the admin token
//! (the root credential, every scope), or an API client's key. [`Access::identify`] turns a
//! presented bearer credential into a [`Caller`], and [`Caller::authorize`] answers whether it
//! may do what a [`Scope`] guards. Keys are shown once, when made, and stored only as a
//! SHA-256 digest; every identification reads the store, so a revocation holds for the very
//! next request of every server process.

mod caller;
mod key;

use std::sync::Arc;

use domain::ClientId;
use domain::access::{ApiClient, ClientName, Scopes};
use domain::ports::{BoxError, StoreError};
use subtle::ConstantTimeEq;

pub use caller::{Caller, Denied};
pub use key::{KEY_PREFIX, digest};

use crate::Ports;

/// A client just made, with its key: the only time the key is known outside the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedClient {
    /// The client as stored.
    pub client: ApiClient,
    /// Its secret key, `ck_` and 64 hex digits; never stored, never shown again.
    pub key: String,
}

/// Why a management step failed.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// No such client.
    #[error("API client {0} not found")]
    NotFound(ClientId),
    /// The store failed.
    #[error("the API clients could not be read or written")]
    Unavailable(#[source] BoxError),
}

/// Why a presented credential names no caller.
#[derive(Debug, thiserror::Error)]
pub enum IdentifyError {
    /// Neither the admin token nor the key of an active client: unknown, or revoked.
    #[error("the credential is unknown or revoked")]
    Unknown,
    /// The store could not say.
    #[error("the credential could not be checked")]
    Unavailable(#[source] BoxError),
}

impl From<StoreError> for AccessError {
    fn from(err: StoreError) -> Self {
        Self::Unavailable(err.into())
    }
}

/// API clients: identify callers, and create, list and revoke clients.
pub struct Access {
    ports: Ports,
    admin_token: Arc<str>,
}

impl Access {
    /// The use case over `ports`, with `admin_token` as the root credential.
    #[must_use]
    pub fn new(ports: Ports, admin_token: &str) -> Self {
        Self { ports, admin_token: admin_token.into() }
    }

    /// The caller a bearer credential names: the admin token, or an active client's key.
    ///
    /// # Errors
    /// [`IdentifyError::Unknown`] for anything else (a revoked key included),
    /// [`IdentifyError::Unavailable`] when the store cannot be asked.
    pub async fn identify(&self, presented: &str) -> Result<Caller, IdentifyError> {
        // Constant time: how long the comparison takes must not tell how much of a guess
        // matched.
        if bool::from(presented.as_bytes().ct_eq(self.admin_token.as_bytes())) {
            return Ok(Caller::admin());
        }
        if !presented.starts_with(KEY_PREFIX) {
            return Err(IdentifyError::Unknown);
        }
        let wanted = digest(presented);
        // The lookup is by digest, so its timing depends on the digest, which tells nothing
        // of the key; the comparison of the stored digest is constant-time all the same.
        match self.ports.clients.find(wanted).await {
            Ok(Some((client, stored))) if bool::from(stored.0.ct_eq(&wanted.0)) => {
                if client.is_active() {
                    Ok(Caller::client(&client))
                } else {
                    Err(IdentifyError::Unknown)
                }
            }
            Ok(_) => Err(IdentifyError::Unknown),
            Err(err) => Err(IdentifyError::Unavailable(err.into())),
        }
    }

    /// Makes a client with `scopes` and a fresh key.
    ///
    /// # Errors
    /// [`AccessError::Unavailable`] when it cannot be stored.
    #[tracing::instrument(skip(self), fields(name = name.as_str()))]
    pub async fn create(
        &self,
        name: ClientName,
        scopes: Scopes,
    ) -> Result<IssuedClient, AccessError> {
        let key = key::format(&self.ports.ids.secret());
        let client = ApiClient {
            id: self.ports.ids.client_id(),
            name,
            scopes,
            key_hint: key::hint(&key),
            created_at: self.ports.clock.now(),
            revoked_at: None,
        };
        self.ports.clients.create(&client, digest(&key)).await?;
        Ok(IssuedClient { client, key })
    }

    /// Every client, revoked ones included, oldest first. No keys.
    ///
    /// # Errors
    /// [`AccessError::Unavailable`] when the store fails.
    pub async fn list(&self) -> Result<Vec<ApiClient>, AccessError> {
        Ok(self.ports.clients.list().await?)
    }

    /// Revokes client `id`: its key is refused from the next request on, in every process.
    /// Revoking twice keeps the first revocation.
    ///
    /// # Errors
    /// [`AccessError::NotFound`] for an unknown id, [`AccessError::Unavailable`] when the
    /// store fails.
    #[tracing::instrument(skip(self))]
    pub async fn revoke(&self, id: ClientId) -> Result<ApiClient, AccessError> {
        let now = self.ports.clock.now();
        self.ports.clients.revoke(id, now).await?.ok_or(AccessError::NotFound(id))
    }
}

#[cfg(test)]
mod tests;
