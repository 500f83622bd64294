//! Reading counters out of the server's Prometheus text exposition (`GET /metrics`).
//!
//! Deliberately simple: a sample line is `name{labels} value [timestamp]` or `name value`; every
//! label set of the asked-for name is summed. Histograms and comments are skipped.

/// Server counters that explain retries, read before and after a run.
pub const VERSION_CONFLICTS: &str = "checkout_version_conflicts_total";
/// See [`VERSION_CONFLICTS`].
pub const RETRIES: &str = "checkout_retries_total";

/// The sum of every sample of `name`, or `None` when the text has none.
///
/// A counter that was never incremented is often not exported at all, so callers treat `None`
/// as zero.
#[must_use]
pub fn counter(text: &str, name: &str) -> Option<f64> {
    let mut sum = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name_end = line.find(|c: char| c == '{' || c.is_whitespace()).unwrap_or(line.len());
        if &line[..name_end] != name {
            continue;
        }
        let rest = &line[name_end..];
        // Label values may not contain a newline, so the last `}` closes the label set.
        let rest = if rest.starts_with('{') {
            rest.rfind('}').map_or("", |i| &rest[i + 1..])
        } else {
            rest
        };
        if let Some(value) = rest.split_whitespace().next().and_then(|v| v.parse::<f64>().ok()) {
            *sum.get_or_insert(0.0) += value;
        }
    }
    sum
}

/// How much a counter grew between two scrapes, as a whole number (a missing counter is zero;
/// a counter that went down means the server restarted, and counts from zero).
#[must_use]
pub fn growth(before: &str, after: &str, name: &str) -> u64 {
    let before = counter(before, name).unwrap_or(0.0);
    let after = counter(after, name).unwrap_or(0.0);
    let grown = if after >= before { after - before } else { after };
    // Counters here are integers far below 2^53; rounding only guards against float dust.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let grown = grown.round().max(0.0) as u64;
    grown
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRAPE: &str = "\
# HELP checkout_version_conflicts_total Version conflicts.
# TYPE checkout_version_conflicts_total counter
checkout_version_conflicts_total 42
checkout_retries_total{route=\"/v1/checkout\"} 3
checkout_retries_total{route=\"/v1/other\",note=\"a } b\"} 4 1700000000000
checkouts_total{outcome=\"created\"} 10
checkout_version_conflicts_total_extra 1000
http_requests_duration_seconds_bucket{le=\"0.005\"} 7
";

    #[test]
    fn an_unlabelled_counter_is_read() {
        assert_eq!(counter(SCRAPE, VERSION_CONFLICTS), Some(42.0));
    }

    #[test]
    fn every_label_set_is_summed_and_timestamps_are_ignored() {
        assert_eq!(counter(SCRAPE, RETRIES), Some(7.0));
    }

    #[test]
    fn a_longer_name_with_the_same_prefix_is_not_matched() {
        assert_eq!(counter(SCRAPE, "checkouts"), None);
        assert_eq!(counter(SCRAPE, "checkouts_total"), Some(10.0));
    }

    #[test]
    fn a_missing_counter_grows_from_zero() {
        assert_eq!(growth("", SCRAPE, VERSION_CONFLICTS), 42);
        assert_eq!(growth(SCRAPE, "", RETRIES), 0);
    }

    #[test]
    fn growth_is_the_difference_of_two_scrapes() {
        let later = SCRAPE.replace(" 42", " 50");
        assert_eq!(growth(SCRAPE, &later, VERSION_CONFLICTS), 8);
    }

    #[test]
    fn float_values_are_accepted() {
        assert_eq!(counter("x_total 1.5e3\n", "x_total"), Some(1500.0));
    }
}
