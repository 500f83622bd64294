//! Bounded optimistic retries: when a versioned write loses a race, read again and decide again,
//! a few times, with jittered exponential backoff so that losers do not collide again in step.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use domain::ports::{Clock, StoreError};

/// How often and how patiently a use case retries a write that lost a race.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; at least 1.
    pub max_attempts: u32,
    /// The wait before the second attempt; later waits double, plus random jitter.
    pub min_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Ten attempts, waiting 1 ms doubling to 50 ms: under the flash-sale load this service is
    /// built for, a buyer who loses ten races in a row is better told to come back (503 with
    /// `Retry-After`) than kept waiting.
    fn default() -> Self {
        Self {
            max_attempts: 10,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(50),
        }
    }
}

/// Why a retried operation gave up.
#[derive(Debug)]
pub(crate) enum RetryError {
    /// Every attempt lost a race.
    Contended {
        /// How many attempts were made.
        attempts: u32,
    },
    /// A store failure that is not a lost race: not retried.
    Store(StoreError),
}

/// What a retried operation returns: its outcome and how many attempts it took.
pub(crate) struct Retried<T> {
    pub(crate) value: T,
    pub(crate) attempts: u32,
}

/// Runs `attempt` until it returns anything but a conflict, at most `policy.max_attempts` times.
///
/// `attempt` must re-read whatever it decides on: a retry that reuses stale state would only
/// lose again.
pub(crate) async fn retry_on_conflict<T, F, Fut>(
    policy: &RetryPolicy,
    clock: &dyn Clock,
    mut attempt: F,
) -> Result<Retried<T>, RetryError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let max_attempts = policy.max_attempts.max(1);
    let mut delays = ExponentialBuilder::new()
        .with_min_delay(policy.min_delay)
        .with_max_delay(policy.max_delay)
        .with_jitter()
        .without_max_times()
        .build();
    let mut attempts = 0;
    loop {
        attempts += 1;
        match attempt().await {
            Ok(value) => return Ok(Retried { value, attempts }),
            Err(err) if err.is_conflict() && attempts < max_attempts => {
                tracing::debug!(attempts, error = %err, "lost a race, retrying");
                clock.sleep(delays.next().unwrap_or(policy.max_delay)).await;
            }
            Err(err) if err.is_conflict() => {
                tracing::info!(attempts, error = %err, "still losing races, giving up");
                return Err(RetryError::Contended { attempts });
            }
            Err(err) => return Err(RetryError::Store(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::ProductId;
    use uuid::Uuid;

    use super::*;
    use crate::test_support::sleeping_clock;

    fn conflict() -> StoreError {
        StoreError::StockConflict(ProductId::new(Uuid::from_u128(1)).expect("id"))
    }

    #[tokio::test]
    async fn waits_between_attempts_and_stops_at_the_bound() {
        let policy = RetryPolicy { max_attempts: 3, ..RetryPolicy::default() };
        let clock = sleeping_clock(2);
        let result: Result<Retried<()>, _> =
            retry_on_conflict(&policy, &clock, || async { Err(conflict()) }).await;
        assert!(matches!(result, Err(RetryError::Contended { attempts: 3 })));
    }

    #[tokio::test]
    async fn a_failure_that_is_not_a_conflict_is_returned_at_once() {
        let clock = sleeping_clock(0);
        let result: Result<Retried<()>, _> =
            retry_on_conflict(&RetryPolicy::default(), &clock, || async {
                Err(StoreError::unavailable("down"))
            })
            .await;
        assert!(matches!(result, Err(RetryError::Store(StoreError::Unavailable(_)))));
    }
}
