//! The result of a run: a plain-text table for people and the same facts as JSON for tools.

use std::fmt::{self, Write as _};
use std::path::Path;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::cli::{Args, Scenario};
use crate::invariant::Verdict;
use crate::tally::Counts;

/// Checkout latency percentiles in microseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    pub samples: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
    pub mean: f64,
}

impl Latency {
    #[must_use]
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let at = |q| h.value_at_quantile(q);
        Self {
            samples: h.len(),
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            max: h.max(),
            mean: h.mean(),
        }
    }
}

/// Server-side counters, as the growth of `/metrics` over the measured phase.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ServerCounters {
    pub version_conflicts: u64,
    pub retries: u64,
}

/// Everything a run found out.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub run_id: String,
    pub scenario: Scenario,
    pub options: Args,
    pub seed: u64,
    pub products: usize,
    pub lines_per_cart: usize,
    /// Wall time of the measured phase, until the last in-flight request finished.
    pub duration_secs: f64,
    pub checkouts_attempted: u64,
    /// 201s per second.
    pub orders_per_sec: f64,
    pub attempts_per_sec: f64,
    pub latency_us: Latency,
    /// Checkout answers by outcome; `ok` is 201.
    pub status: Counts,
    pub pays_done: u64,
    pub cancels_done: u64,
    /// Pay and cancel answers by outcome; `ok` is 200.
    pub pays: Counts,
    pub cancels: Counts,
    pub server: ServerCounters,
    /// Checkouts attempted during the warm-up (not in the figures above).
    pub warmup_checkouts: u64,
    pub invariant: Verdict,
}

impl Report {
    /// Writes the JSON document to `path`.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write_json(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(path, text + "\n")
    }

    fn table(&self) -> Result<String, fmt::Error> {
        let (o, s, l) = (&self.options, &self.status, &self.latency_us);
        let mut t = String::new();
        let scenario = format!("{:?}", self.scenario).to_lowercase();
        writeln!(t, "run {} | scenario {scenario} | seed {}", self.run_id, self.seed)?;
        writeln!(
            t,
            "  {} products x {} initial, {} line(s) x {} unit(s), {} buyers, pay {} / cancel {}",
            self.products,
            o.initial_stock,
            self.lines_per_cart,
            o.quantity,
            o.concurrency,
            o.pay_share,
            o.cancel_share
        )?;
        let row = |t: &mut String, k: &str, v: String| writeln!(t, "{k:<20}{v}");
        row(
            &mut t,
            "duration",
            format!("{:.2} s (+ {} warm-up checkouts)", self.duration_secs, self.warmup_checkouts),
        )?;
        row(
            &mut t,
            "checkouts",
            format!("{:<12}{:.1} /s", self.checkouts_attempted, self.attempts_per_sec),
        )?;
        row(&mut t, "orders (201)", format!("{:<12}{:.1} /s", s.ok, self.orders_per_sec))?;
        row(
            &mut t,
            "latency (ms)",
            format!(
                "p50 {:.2} | p90 {:.2} | p99 {:.2} | max {:.2} | mean {:.2}",
                ms(l.p50),
                ms(l.p90),
                ms(l.p99),
                ms(l.max),
                l.mean / 1000.0
            ),
        )?;
        row(&mut t, "checkout answers", counts(s, "201"))?;
        row(&mut t, "pay answers", counts(&self.pays, "200"))?;
        row(&mut t, "cancel answers", counts(&self.cancels, "200"))?;
        row(
            &mut t,
            "server (/metrics)",
            format!(
                "version conflicts {} | retries {}",
                self.server.version_conflicts, self.server.retries
            ),
        )?;
        let v = &self.invariant;
        let verdict = if v.holds { "HOLDS" } else { "FAILED" };
        let caveat = if v.expiry_possible {
            " (reservations may have expired: reserved checked as <=)"
        } else {
            ""
        };
        row(
            &mut t,
            "invariant",
            format!("{verdict} over {} products{caveat}", v.products_checked),
        )?;
        for why in &v.violations {
            writeln!(t, "  - {why}")?;
        }
        Ok(t)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.table()?)
    }
}

fn ms(micros: u64) -> f64 {
    // Latencies are far below 2^53 µs, so the conversion is exact.
    #[allow(clippy::cast_precision_loss)]
    let micros = micros as f64;
    micros / 1000.0
}

fn counts(c: &Counts, ok: &str) -> String {
    format!(
        "{ok} {} | 409 {} | 503 {} | 4xx {} | 5xx {} | transport {} | other {}",
        c.ok,
        c.insufficient_stock,
        c.contention,
        c.other_4xx,
        c.server_5xx,
        c.transport_errors,
        c.other
    )
}
