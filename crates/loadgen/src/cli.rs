//! Command-line options: which server, how many buyers, what they buy, and for how long.
//!
//! Parsing and the cross-option checks live here; nothing here talks to the network.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use serde::Serialize;

use crate::span::Span;

/// Which products the buyers go for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// Every cart takes distinct products uniformly at random from `--products`.
    Spread,
    /// Every cart takes the same single product: the flash sale.
    Hot,
    /// Distinct products by Zipf popularity rank (product 0 is the most wanted).
    Zipf,
}

/// Drive a running checkout-api with concurrent buyers, then check that stock adds up.
#[derive(Debug, Clone, Parser, Serialize)]
#[command(name = "checkout-loadgen", version, max_term_width = 100)]
pub struct Args {
    /// Server to drive; several, separated by commas, are taken in turn request by request
    /// (server processes sharing one database). Only loopback hosts are accepted (127.0.0.0/8,
    /// ::1, localhost).
    #[arg(long, value_delimiter = ',', default_value = "http://127.0.0.1:8080")]
    pub base_url: Vec<String>,

    /// Admin token, needed to create this run's products.
    #[arg(long, env = "CHECKOUT_ADMIN_TOKEN", hide_env_values = true)]
    #[serde(skip)]
    pub admin_token: Option<String>,

    /// An API client's key (`ck_…`), sent to pay and cancel (scopes `orders:pay`,
    /// `orders:cancel`); without it the admin token is sent. Make one with
    /// `checkout-api clients create --name loadgen --scope orders:pay --scope orders:cancel`.
    #[arg(long, env = "CHECKOUT_API_KEY", hide_env_values = true)]
    #[serde(skip)]
    pub api_key: Option<String>,

    /// Send the API key on checkouts too: each checkout is then that client's (its actor on
    /// record, its idempotency namespace, its rate limit), at the price of the key's lookup.
    #[arg(long, requires = "api_key")]
    pub key_on_checkout: bool,

    /// Send a product's checkouts to the server its answers name in `Checkout-Owner` (servers
    /// started with `--route-advertise`), as a storefront's backend would, instead of taking
    /// the servers in turn; a checkout of a product not yet named still takes its turn.
    #[arg(long)]
    pub follow_owner: bool,

    /// Concurrent buyers, each on its own keep-alive connection.
    #[arg(short = 'c', long, default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: u32,

    /// How long to run (10s, 2m, ...). The default when --requests is not given is 10s.
    #[arg(long, conflicts_with = "requests")]
    pub duration: Option<Span>,

    /// Stop after this many checkout attempts instead of after a duration.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub requests: Option<u64>,

    /// Which products the buyers go for.
    #[arg(long, value_enum, default_value_t = Scenario::Spread)]
    pub scenario: Scenario,

    /// Products to create for spread and zipf (hot always uses one).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub products: u32,

    /// Lines per cart, each a distinct product (capped by the number of products).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub lines: u32,

    /// Units per cart line.
    #[arg(long, default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub quantity: u32,

    /// Share (0..1) of won orders that the buyer then pays.
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    pub pay_share: f64,

    /// Share (0..1) of won orders that the buyer then cancels (pay-share + cancel-share <= 1).
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    pub cancel_share: f64,

    /// On-hand units each created product starts with.
    #[arg(long, default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u64).range(0..=1_000_000_000_000))]
    pub initial_stock: u64,

    /// Zipf exponent s (>= 0; 0 is uniform, larger is more skewed).
    #[arg(long, default_value_t = 1.0)]
    pub zipf_exponent: f64,

    /// Write the result as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,

    /// Seed for the buyers' random choices (random when absent; the report shows it).
    #[arg(long)]
    pub seed: Option<u64>,

    /// Load before measuring starts; it still counts for the invariant check.
    #[arg(long)]
    pub warmup: Option<Span>,

    /// The server's reservation lifetime, to tell whether expiry may have released stock.
    #[arg(long, default_value_t = 900)]
    pub reservation_ttl_secs: u64,

    /// Give up on a single request after this long (counted as a transport error).
    #[arg(long, default_value = "30s")]
    pub request_timeout: Span,

    /// Send a fresh Idempotency-Key with every checkout, to measure the keyed path (the key's
    /// claim, its effect written in the checkout's transaction, the answer kept).
    #[arg(long)]
    pub idempotency_keys: bool,
}

fn share(text: &str) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|_| format!("`{text}` is not a number"))?;
    if (0.0..=1.0).contains(&value) { Ok(value) } else { Err("must be between 0 and 1".into()) }
}

impl Args {
    /// The duration when no request count was asked for.
    pub const DEFAULT_DURATION: Duration = Duration::from_secs(10);

    /// Checks that involve more than one option.
    ///
    /// # Errors
    /// A message for the user when the options contradict each other.
    pub fn validate(&self) -> Result<(), String> {
        if self.pay_share + self.cancel_share > 1.0 + f64::EPSILON {
            return Err("--pay-share plus --cancel-share must not exceed 1".into());
        }
        if !(self.zipf_exponent.is_finite() && self.zipf_exponent >= 0.0) {
            return Err("--zipf-exponent must be a finite number >= 0".into());
        }
        if self.request_timeout.0.is_zero() {
            return Err("--request-timeout must be above zero".into());
        }
        Ok(())
    }

    /// Products this run creates: one for the hot scenario.
    #[must_use]
    pub fn product_count(&self) -> usize {
        match self.scenario {
            Scenario::Hot => 1,
            Scenario::Spread | Scenario::Zipf => self.products as usize,
        }
    }

    /// Lines per cart after capping by the number of products.
    #[must_use]
    pub fn lines_per_cart(&self) -> usize {
        (self.lines as usize).min(self.product_count())
    }

    /// How long the measured phase runs, or `None` when it is bounded by --requests.
    #[must_use]
    pub fn run_for(&self) -> Option<Duration> {
        match (self.duration, self.requests) {
            (Some(span), _) => Some(span.0),
            (None, Some(_)) => None,
            (None, None) => Some(Self::DEFAULT_DURATION),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &[&str]) -> Result<Args, String> {
        let args = Args::try_parse_from(["checkout-loadgen"].iter().chain(extra))
            .map_err(|e| e.to_string())?;
        args.validate().map(|()| args)
    }

    #[test]
    fn defaults_run_ten_seconds_of_spread() {
        let args = parse(&[]).unwrap();
        assert_eq!(args.run_for(), Some(Duration::from_secs(10)));
        assert_eq!(args.scenario, Scenario::Spread);
        assert_eq!(args.product_count(), 100);
    }

    #[test]
    fn hot_uses_one_product_and_one_line() {
        let args = parse(&["--scenario", "hot", "--products", "50", "--lines", "3"]).unwrap();
        assert_eq!((args.product_count(), args.lines_per_cart()), (1, 1));
    }

    #[test]
    fn a_request_count_replaces_the_duration() {
        assert_eq!(parse(&["--requests", "500"]).unwrap().run_for(), None);
        assert!(parse(&["--requests", "5", "--duration", "3s"]).is_err());
    }

    #[test]
    fn shares_must_fit_in_one() {
        assert!(parse(&["--pay-share", "0.6", "--cancel-share", "0.4"]).is_ok());
        assert!(parse(&["--pay-share", "0.7", "--cancel-share", "0.4"]).is_err());
        assert!(parse(&["--pay-share", "1.5"]).is_err());
    }
}
