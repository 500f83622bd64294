//! Idempotent requests: the first request with a key runs and its answer is kept; a retry with
//! the same key and the same content gets that answer back without running again.
//!
//! What "the same content" means (a fingerprint) and what an answer is (status and bytes) is
//! the caller's business; this module only enforces the rules around the stored key.
//!
//! A request that runs gets a [`KeyClaim`]; a use case that commits under it records its
//! effect in the same transaction (see [`domain::ports::KeyEffect`]). A retry of a request
//! whose effect committed but whose answer was lost is told to [`Begin::Rebuild`] the answer
//! from that effect: it never runs twice.

use std::time::Duration;

use domain::ports::{Claim, Effect, IdempotencyKey, KeyClaim, StoreError, StoredResponse};

use crate::Ports;

/// What to do with a request that carries a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// Run it under this claim, then call [`Idempotency::finish`] or [`Idempotency::abandon`].
    Run(KeyClaim),
    /// Send this stored answer back; do not run anything.
    Replay(StoredResponse),
    /// The first request committed this effect but its answer was never stored: answer from
    /// the effect; do not run anything.
    Rebuild(Effect),
}

/// Why a keyed request must not run.
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    /// The first request with this key is still running.
    #[error("a request with this idempotency key is still in progress")]
    InUse,
    /// The key was used before for a different request.
    #[error("this idempotency key was used for a different request")]
    Reused,
    /// The store failed.
    #[error("the idempotency store is unavailable")]
    Unavailable(#[source] StoreError),
}

/// The idempotency rules over the [`domain::ports::IdempotencyStore`] port.
pub struct Idempotency {
    ports: Ports,
    stale_after: Duration,
}

impl Idempotency {
    /// The rules over `ports`. A claim older than `stale_after` whose request never finished
    /// (its process died) may be taken over; make it comfortably longer than the request
    /// timeout, or a slow request could be run twice.
    #[must_use]
    pub fn new(ports: Ports, stale_after: Duration) -> Self {
        Self { ports, stale_after }
    }

    /// Claims `key` for a request whose content digests to `fingerprint`.
    ///
    /// # Errors
    /// See [`IdempotencyError`].
    #[tracing::instrument(skip_all, fields(%key))]
    pub async fn begin(
        &self,
        key: &IdempotencyKey,
        fingerprint: &str,
    ) -> Result<Begin, IdempotencyError> {
        let now = self.ports.clock.now();
        let claim = self.ports.idempotency.claim(key, fingerprint, now, self.stale_after).await;
        match claim.map_err(IdempotencyError::Unavailable)? {
            Claim::Acquired(token) => Ok(Begin::Run(KeyClaim::new(key.clone(), token))),
            Claim::InProgress { fingerprint: first }
            | Claim::Committed { fingerprint: first, .. }
            | Claim::Completed { fingerprint: first, .. }
                if first != fingerprint =>
            {
                Err(IdempotencyError::Reused)
            }
            Claim::InProgress { .. } => Err(IdempotencyError::InUse),
            Claim::Committed { effect, .. } => Ok(Begin::Rebuild(effect)),
            Claim::Completed { response, .. } => Ok(Begin::Replay(response)),
        }
    }

    /// Keeps the answer for replays. A failure is logged, not returned: the answer has been
    /// decided and the client must get it; the claim then stays in progress until it goes
    /// stale.
    #[tracing::instrument(skip_all, fields(key = %claim.key(), status = response.status))]
    pub async fn finish(&self, claim: &KeyClaim, response: StoredResponse) {
        let now = self.ports.clock.now();
        if let Err(err) = self.ports.idempotency.complete(claim, response, now).await {
            let key = claim.key();
            tracing::error!(error = &err as &dyn std::error::Error, %key, "cannot store answer");
        }
    }

    /// Forgets the claim of a request that failed transiently, so that a retry runs afresh —
    /// unless its effect committed after all (a lost answer), which the retry then rebuilds.
    /// One attempt; returns whether it was made (`false`: the store failed, logged).
    #[tracing::instrument(skip_all, fields(key = %claim.key()))]
    pub async fn abandon(&self, claim: &KeyClaim) -> bool {
        match self.ports.idempotency.release(claim).await {
            Ok(()) => true,
            Err(err) => {
                let key = claim.key();
                tracing::warn!(error = &err as &dyn std::error::Error, %key, "cannot release key");
                false
            }
        }
    }

    /// [`Idempotency::abandon`], retried until it is made or the claim would go stale anyway:
    /// for a claim whose release must not be lost because the store was busy at that moment
    /// (SQLite's write lock held by another session) or briefly away, which would otherwise
    /// answer the client's retries 409 "in use" for the whole stale window.
    pub async fn abandon_until_stale(&self, claim: &KeyClaim) {
        let window =
            chrono::TimeDelta::from_std(self.stale_after).unwrap_or(chrono::TimeDelta::MAX);
        let give_up = self.ports.clock.now() + window;
        let mut pause = Duration::from_millis(50);
        while !self.abandon(claim).await {
            if self.ports.clock.now() >= give_up {
                tracing::error!(key = %claim.key(), "gave up releasing key; it goes stale");
                return;
            }
            self.ports.clock.sleep(pause).await;
            // A quarter of a second at most: a client's retry should find the key free soon
            // after the store is back, and one DELETE attempt per claim is cheap.
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }

    /// Deletes keys older than `keep`; returns how many.
    ///
    /// # Errors
    /// [`IdempotencyError::Unavailable`].
    #[tracing::instrument(skip(self))]
    pub async fn purge(&self, keep: chrono::TimeDelta) -> Result<u64, IdempotencyError> {
        let before = self.ports.clock.now() - keep;
        self.ports.idempotency.purge(before).await.map_err(IdempotencyError::Unavailable)
    }
}

#[cfg(test)]
mod tests {
    use domain::ports::ClaimToken;

    use super::*;
    use crate::test_support::Mocks;

    fn key() -> IdempotencyKey {
        IdempotencyKey::new("k-1").expect("key")
    }

    async fn begin_with(found: Claim, fingerprint: &str) -> Result<Begin, IdempotencyError> {
        let mut mocks = Mocks::new();
        mocks.idempotency.expect_claim().return_once(move |_, _, _, _| Ok(found));
        Idempotency::new(mocks.into_ports(), Duration::from_secs(60))
            .begin(&key(), fingerprint)
            .await
    }

    fn token() -> ClaimToken {
        ClaimToken::new(uuid::Uuid::from_u128(7))
    }

    #[tokio::test]
    async fn a_free_key_runs_the_request_under_the_token_of_its_claim() {
        let begun = begin_with(Claim::Acquired(token()), "a").await.expect("run");
        assert_eq!(begun, Begin::Run(KeyClaim::new(key(), token())));
    }

    #[tokio::test]
    async fn a_key_whose_effect_committed_without_an_answer_is_rebuilt_never_run_again() {
        let effect = Effect::OrderPlaced(crate::test_support::oid(3));
        let found = Claim::Committed { fingerprint: "a".into(), effect };
        assert_eq!(begin_with(found.clone(), "a").await.expect("rebuild"), Begin::Rebuild(effect));
        assert!(matches!(begin_with(found, "b").await, Err(IdempotencyError::Reused)));
    }

    #[tokio::test]
    async fn a_finished_key_with_the_same_content_replays_the_answer() {
        let response = StoredResponse { status: 201, body: b"{}".to_vec() };
        let found = Claim::Completed { fingerprint: "a".into(), response: response.clone() };
        assert_eq!(begin_with(found, "a").await.expect("replay"), Begin::Replay(response));
    }

    #[tokio::test]
    async fn a_key_reused_for_other_content_is_refused_even_while_running() {
        let response = StoredResponse { status: 201, body: vec![] };
        let done = Claim::Completed { fingerprint: "a".into(), response };
        assert!(matches!(begin_with(done, "b").await, Err(IdempotencyError::Reused)));
        let running = Claim::InProgress { fingerprint: "a".into() };
        assert!(matches!(begin_with(running, "b").await, Err(IdempotencyError::Reused)));
    }

    #[tokio::test]
    async fn a_key_in_progress_with_the_same_content_is_in_use() {
        let running = Claim::InProgress { fingerprint: "a".into() };
        assert!(matches!(begin_with(running, "a").await, Err(IdempotencyError::InUse)));
    }

    #[tokio::test]
    async fn a_release_the_store_refuses_is_retried_until_it_is_made() {
        let mut mocks = Mocks::new();
        mocks.clock = crate::test_support::sleeping_clock(2);
        let mut refusals = 2;
        mocks.idempotency.expect_release().times(3).returning(move |_| {
            if refusals == 0 {
                return Ok(());
            }
            refusals -= 1;
            Err(StoreError::TransactionConflict("database is locked".into()))
        });
        let idempotency = Idempotency::new(mocks.into_ports(), Duration::from_secs(60));

        idempotency.abandon_until_stale(&KeyClaim::new(key(), token())).await;
    }

    #[tokio::test]
    async fn a_release_that_never_succeeds_gives_up_once_the_claim_is_stale() {
        let mut mocks = Mocks::new();
        let mut clock = domain::ports::MockClock::new();
        let start = crate::test_support::t0();
        let mut reads = 0;
        // Each reading of the clock is 40 s later: the 60 s stale window has passed by the
        // second refusal.
        clock.expect_now().returning(move || {
            reads += 1;
            start + chrono::TimeDelta::seconds(40 * (reads - 1))
        });
        clock.expect_sleep().times(1).returning(|_| ());
        mocks.clock = clock;
        mocks
            .idempotency
            .expect_release()
            .times(2)
            .returning(|_| Err(StoreError::unavailable("down")));
        let idempotency = Idempotency::new(mocks.into_ports(), Duration::from_secs(60));

        idempotency.abandon_until_stale(&KeyClaim::new(key(), token())).await;
    }
}
