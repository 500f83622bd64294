//! Leadership: which of several server processes does a job that one at a time should do (the
//! sweeper's), decided by a named lease in the store ([`domain::ports::Lease`]).
//!
//! The leader renews its lease every time it asks, so it keeps it while it lives; when it dies
//! or stalls, the lease lapses after one term and the next process to ask takes over. Nothing
//! correct rests on there being one leader: the job's writes are versioned anyway, so two
//! leaders for a moment (clocks apart, a pause longer than the term) only race.

use chrono::TimeDelta;
use domain::ports::BoxError;

use crate::Ports;

/// Why the lease could not be asked for.
#[derive(Debug, thiserror::Error)]
pub enum LeadershipError {
    /// The store failed; whoever asked should not lead until it answers again.
    #[error("the store is unavailable")]
    Unavailable(#[source] BoxError),
}

/// One process's claim to lead one job.
pub struct Leadership {
    ports: Ports,
    name: String,
    holder: String,
    term: TimeDelta,
}

impl Leadership {
    /// `holder`'s claim to the lease `name`, each renewal holding it for `term`. `holder` must
    /// be unique to this process (a random id): two processes under one name would both lead.
    #[must_use]
    pub fn new(
        ports: Ports,
        name: impl Into<String>,
        holder: impl Into<String>,
        term: TimeDelta,
    ) -> Self {
        Self { ports, name: name.into(), holder: holder.into(), term }
    }

    /// Takes the lease, or renews it for another term from now; whether this process leads.
    ///
    /// # Errors
    /// [`LeadershipError::Unavailable`] when the store fails.
    #[tracing::instrument(skip(self), fields(name = %self.name, holder = %self.holder))]
    pub async fn try_lead(&self) -> Result<bool, LeadershipError> {
        let now = self.ports.clock.now();
        let until = now + self.term;
        (self.ports.lease.try_acquire(&self.name, &self.holder, until, now).await)
            .map_err(|err| LeadershipError::Unavailable(err.into()))
    }

    /// Gives the lease up (when this process holds it), so that another process leads from its
    /// next attempt instead of after the lease lapses: for a process that stops cleanly.
    ///
    /// # Errors
    /// [`LeadershipError::Unavailable`] when the store fails; the lease then lapses on its own.
    #[tracing::instrument(skip(self), fields(name = %self.name, holder = %self.holder))]
    pub async fn step_down(&self) -> Result<(), LeadershipError> {
        let now = self.ports.clock.now();
        (self.ports.lease.release(&self.name, &self.holder, now).await)
            .map_err(|err| LeadershipError::Unavailable(err.into()))
    }
}

#[cfg(test)]
mod tests {
    use domain::ports::StoreError;

    use super::*;
    use crate::test_support::{Mocks, t0};

    fn leadership(mocks: Mocks) -> Leadership {
        Leadership::new(mocks.into_ports(), "sweeper", "me", TimeDelta::seconds(10))
    }

    #[tokio::test]
    async fn asking_takes_or_renews_the_lease_for_one_term_from_now() {
        let mut mocks = Mocks::new();
        mocks
            .lease
            .expect_try_acquire()
            .withf(|name, holder, &until, &now| {
                (name, holder, until, now) == ("sweeper", "me", t0() + TimeDelta::seconds(10), t0())
            })
            .times(1)
            .returning(|_, _, _, _| Ok(true));

        assert!(leadership(mocks).try_lead().await.expect("asked"));
    }

    #[tokio::test]
    async fn a_lease_held_elsewhere_is_not_leadership_and_a_failure_is_an_error() {
        let mut held = Mocks::new();
        held.lease.expect_try_acquire().returning(|_, _, _, _| Ok(false));
        let mut down = Mocks::new();
        down.lease.expect_try_acquire().returning(|_, _, _, _| Err(StoreError::unavailable("x")));

        assert!(!leadership(held).try_lead().await.expect("asked"));
        assert!(matches!(leadership(down).try_lead().await, Err(LeadershipError::Unavailable(_))));
    }

    #[tokio::test]
    async fn stepping_down_ends_the_lease_now() {
        let mut mocks = Mocks::new();
        mocks
            .lease
            .expect_release()
            .withf(|name, holder, &now| (name, holder, now) == ("sweeper", "me", t0()))
            .times(1)
            .returning(|_, _, _| Ok(()));

        leadership(mocks).step_down().await.expect("released");
    }
}
