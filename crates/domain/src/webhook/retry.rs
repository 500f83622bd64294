//! When a failed delivery is tried again: exponential backoff with jitter, then a final
//! failure.

use std::time::Duration;

/// Exponential backoff: after the n-th failed attempt, wait `first × 2ⁿ⁻¹` (at most `longest`),
/// shortened by up to half at random so that deliveries that failed together (a receiver's
/// outage) do not all come back at the same instant; after `attempts` attempts, give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failure.
    pub first: Duration,
    /// The longest wait.
    pub longest: Duration,
    /// Attempts in all, the first included; the last failure is final.
    pub attempts: u32,
}

impl Default for RetryPolicy {
    /// 1 s, 2 s, 4 s … up to an hour between attempts, 15 attempts: about five and a half
    /// hours of trying before the failure is final, enough for a receiver's deploy or a short
    /// outage.
    fn default() -> Self {
        Self { first: Duration::from_secs(1), longest: Duration::from_secs(3_600), attempts: 15 }
    }
}

impl RetryPolicy {
    /// The wait after `made` failed attempts, or `None` when that was the last one. `jitter`
    /// in `[0, 1)` picks the point in the window `[wait / 2, wait]`.
    #[must_use]
    pub fn wait_after(&self, made: u32, jitter: f64) -> Option<Duration> {
        if made == 0 || made >= self.attempts {
            return None;
        }
        let doublings = (made - 1).min(31);
        let wait = self.first.saturating_mul(1 << doublings).min(self.longest);
        let jitter = if jitter.is_finite() { jitter.clamp(0.0, 1.0) } else { 0.0 };
        Some(wait.mul_f64(1.0 - jitter / 2.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_longest_and_jitter_takes_at_most_half() {
        let policy = RetryPolicy {
            first: Duration::from_secs(1),
            longest: Duration::from_secs(10),
            attempts: 6,
        };
        let waits: Vec<_> = (1..=6).map(|n| policy.wait_after(n, 0.0)).collect();
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(waits, vec![secs(1), secs(2), secs(4), secs(8), secs(10), None]);
        assert_eq!(policy.wait_after(3, 0.999_999).map(|w| w.as_millis()), Some(2_000));
        assert_eq!(policy.wait_after(3, 0.5), Some(Duration::from_secs(3)));
        assert_eq!(policy.wait_after(3, f64::NAN), secs(4));
        assert_eq!(policy.wait_after(0, 0.0), None);
        let huge = RetryPolicy { attempts: u32::MAX, ..RetryPolicy::default() };
        assert_eq!(huge.wait_after(200, 0.0), Some(Duration::from_secs(3_600)));
    }
}
