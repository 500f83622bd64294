//! Extend: a payment is taking long (3-D Secure, a bank redirect), so the reservation is held
//! longer: its expiry moves one reservation lifetime later, never past a maximum hold from when
//! it was placed, so that a stalled payment cannot keep units off sale for ever.

use chrono::TimeDelta;
use domain::ports::{BoxError, Changeset, StoreError};
use domain::{Order, OrderId, OrderStatus, Timestamp, TransitionError};

use crate::retry::{RetryError, retry_on_conflict};
use crate::{Ports, RetryPolicy};

/// Hold an order's reservation longer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtendCommand {
    /// The order whose payment is pending.
    pub order_id: OrderId,
}

/// How far reservations may be extended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldConfig {
    /// What one extension adds: the reservation lifetime.
    pub step: TimeDelta,
    /// The longest an order may be held, counted from when it was placed.
    pub max_hold: TimeDelta,
}

impl HoldConfig {
    /// The longest hold unless configured otherwise: an hour, time for the slowest payment
    /// flows without keeping units off sale for an afternoon.
    pub const DEFAULT_MAX_HOLD: TimeDelta = TimeDelta::hours(1);
}

/// Why the reservation was not extended.
#[derive(Debug, thiserror::Error)]
pub enum ExtendError {
    /// No such order.
    #[error("order {0} not found")]
    NotFound(OrderId),
    /// Not reserved any more (paid, cancelled, expired), or already held as long as it may be.
    #[error("an order that is {status} cannot be held longer than {expires_at}")]
    NotExtendable {
        /// Its effective status.
        status: OrderStatus,
        /// When it runs out (or ran out).
        expires_at: Timestamp,
    },
    /// Concurrent writers kept winning.
    #[error("the order kept changing; gave up after {attempts} attempts")]
    Contended {
        /// Attempts made.
        attempts: u32,
    },
    /// The store failed.
    #[error("the extension could not be recorded")]
    Unavailable(#[source] BoxError),
}

/// The extend use case.
pub struct Extend {
    ports: Ports,
    retry: RetryPolicy,
    hold: HoldConfig,
}

impl Extend {
    /// The use case over `ports`, extending as `hold` says and retrying lost races as `retry`
    /// says.
    #[must_use]
    pub fn new(ports: Ports, retry: RetryPolicy, hold: HoldConfig) -> Self {
        Self { ports, retry, hold }
    }

    /// Moves the order's expiry later over the version it was read at. Racing the sweeper's
    /// expiry of the same order, exactly one of the two commits; the loser reads again.
    ///
    /// # Errors
    /// See [`ExtendError`].
    #[tracing::instrument(skip(self), fields(order_id = %command.order_id))]
    pub async fn execute(&self, command: ExtendCommand) -> Result<Order, ExtendError> {
        let id = command.order_id;
        let attempt = || async {
            let Some(mut order) = self.ports.orders.get(id).await? else {
                return Ok(Err(ExtendError::NotFound(id)));
            };
            let now = self.ports.clock.now();
            let change = match order.extend(now, self.hold.step, self.hold.max_hold) {
                Ok(change) => change,
                Err(TransitionError::NotExtendable { status, expires_at }) => {
                    return Ok(Err(ExtendError::NotExtendable { status, expires_at }));
                }
                Err(other) => return Err(StoreError::unavailable(other)),
            };
            self.ports.unit_of_work.commit(Changeset::new(Vec::new(), Some(change), now)).await?;
            Ok(Ok(order))
        };
        match retry_on_conflict(&self.retry, self.ports.clock.as_ref(), attempt).await {
            Ok(done) => done.value,
            Err(RetryError::Contended { attempts }) => Err(ExtendError::Contended { attempts }),
            Err(RetryError::Store(StoreError::OrderNotFound(id))) => Err(ExtendError::NotFound(id)),
            Err(RetryError::Store(err)) => Err(ExtendError::Unavailable(err.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::ports::StoreError;

    use super::*;
    use crate::test_support::{Mocks, clock_at, oid, recording, reserved_order, t0};

    fn extend(mocks: Mocks) -> Extend {
        let hold = HoldConfig { step: TimeDelta::minutes(15), max_hold: TimeDelta::minutes(40) };
        Extend::new(mocks.into_ports(), RetryPolicy::default(), hold)
    }

    #[tokio::test]
    async fn an_extension_commits_the_order_alone_over_its_version() {
        let mut mocks = Mocks::new();
        mocks.clock = clock_at(t0() + TimeDelta::minutes(10), 0);
        let order = reserved_order(&[(1, 2)]);
        mocks.orders.expect_get().returning(move |_| Ok(Some(order.clone())));
        let commits = recording(&mut mocks.unit_of_work);

        let extended = extend(mocks).execute(ExtendCommand { order_id: oid(1) }).await;

        let extended = extended.expect("extended");
        assert_eq!(extended.expires_at(), t0() + TimeDelta::minutes(30));
        let commits = commits.lock().expect("lock");
        assert_eq!(commits.len(), 1);
        assert!(commits[0].stock().is_empty(), "no stock moves");
        assert_eq!(commits[0].order_id(), Some(oid(1)));
    }

    #[tokio::test]
    async fn a_lost_race_with_the_sweeper_reads_again_and_finds_the_order_expired() {
        let mut mocks = Mocks::new();
        mocks.clock = clock_at(t0() + TimeDelta::minutes(14), 1);
        let mut expired = reserved_order(&[(1, 2)]);
        expired.expire(t0() + TimeDelta::minutes(15)).expect("due");
        let reserved = reserved_order(&[(1, 2)]);
        let mut reads = 0;
        mocks.orders.expect_get().returning(move |_| {
            reads += 1;
            Ok(Some(if reads == 1 { reserved.clone() } else { expired.clone() }))
        });
        mocks
            .unit_of_work
            .expect_commit()
            .times(1)
            .returning(|c| Err(StoreError::OrderConflict(c.order_id().expect("an order"))));

        let refused = extend(mocks).execute(ExtendCommand { order_id: oid(1) }).await;

        assert!(
            matches!(refused, Err(ExtendError::NotExtendable { status: OrderStatus::Expired, .. })),
            "{refused:?}"
        );
    }
}
