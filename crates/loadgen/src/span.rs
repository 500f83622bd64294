//! Lengths of time as typed on the command line (`10s`, `500ms`, `2m`, `1.5h`, or bare seconds).
//!
//! A `Span` serialises as seconds (a float) so that the JSON result needs no unit parsing.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Serialize, Serializer};

/// A non-negative length of time read from text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span(pub Duration);

impl Span {
    /// Longer than any sensible load run: a typo such as `10h` for `10s` still parses, but a
    /// nonsense figure (`1e30s`) is refused rather than turned into a never-ending run.
    const MAX: Duration = Duration::from_secs(7 * 24 * 3600);
}

impl FromStr for Span {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let value: f64 = number
            .parse()
            .map_err(|_| format!("`{text}` is not a duration (try 10s, 500ms, 2m, 1h)"))?;
        let seconds = match unit.trim() {
            "" | "s" | "sec" | "secs" => value,
            "ms" => value / 1_000.0,
            "m" | "min" | "mins" => value * 60.0,
            "h" => value * 3_600.0,
            other => return Err(format!("unknown unit `{other}` in `{text}` (use ms, s, m or h)")),
        };
        let duration = Duration::try_from_secs_f64(seconds)
            .map_err(|_| format!("`{text}` is not a usable duration"))?;
        if duration > Self::MAX {
            return Err(format!("`{text}` is longer than a week"));
        }
        Ok(Self(duration))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.0.as_secs_f64())
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.0.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(text: &str) -> Result<Duration, String> {
        text.parse::<Span>().map(|s| s.0)
    }

    #[test]
    fn bare_numbers_are_seconds() {
        assert_eq!(span("10"), Ok(Duration::from_secs(10)));
        assert_eq!(span(" 7 "), Ok(Duration::from_secs(7)));
    }

    #[test]
    fn every_unit_is_understood() {
        assert_eq!(span("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(span("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(span("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(span("2min"), Ok(Duration::from_secs(120)));
        assert_eq!(span("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(span("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(span("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn garbage_negative_and_huge_values_are_refused() {
        for bad in ["", "s", "ten", "10x", "-5s", "1.2.3s", "1e3s", "999999h"] {
            assert!(span(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn a_span_serialises_as_seconds() {
        let json = serde_json::to_string(&Span(Duration::from_millis(2500))).unwrap();
        assert_eq!(json, "2.5");
    }
}
