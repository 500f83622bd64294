//! [`ApiClientStore`]: where API clients and the digests of their keys are kept.

use async_trait::async_trait;

use super::StoreError;
use crate::access::ApiClient;
use crate::{ClientId, Timestamp};

/// The SHA-256 digest of an API key: all a store ever holds of the key itself. Keys carry 256
/// random bits, so a fast hash is enough; a slow password hash would only slow every request.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyDigest(pub [u8; 32]);

impl std::fmt::Debug for KeyDigest {
    /// Never printed whole: a digest is not the key, but it names it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyDigest({:02x}{:02x}…)", self.0[0], self.0[1])
    }
}

/// API clients, found by the digest of their key. No cache may stand in front of
/// [`ApiClientStore::find`]: a revocation must be seen by the next request of every process.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ApiClientStore: Send + Sync {
    /// Stores a new client and its key's digest.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store fails.
    async fn create(&self, client: &ApiClient, digest: KeyDigest) -> Result<(), StoreError>;

    /// The client whose key has `digest`, revoked or not, with the digest as stored (for the
    /// caller's constant-time comparison).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store fails.
    async fn find(&self, digest: KeyDigest) -> Result<Option<(ApiClient, KeyDigest)>, StoreError>;

    /// Every client, revoked ones included, oldest first.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store fails.
    async fn list(&self) -> Result<Vec<ApiClient>, StoreError>;

    /// Revokes client `id` at `at` (a client already revoked keeps its first revocation time)
    /// and returns it, or `None` when there is no such client.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store fails.
    async fn revoke(&self, id: ClientId, at: Timestamp) -> Result<Option<ApiClient>, StoreError>;
}
