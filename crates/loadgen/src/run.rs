//! One run from start to verdict: create the products, start the clock and the buyers, wait for
//! every buyer to stop, read the server back, judge and report.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use uuid::Uuid;

use crate::api::{Api, ApiError, Credentials};
use crate::buyer::{self, Plan, Seen, Shared};
use crate::cart::Picker;
use crate::cli::Args;
use crate::invariant::{self, Observed};
use crate::report::{Latency, Report, ServerCounters};
use crate::{catalog, progress, prom};

/// Why a run could not be carried out (as opposed to a run whose invariant failed).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("{0}")]
    Setup(String),
}

/// Carries out the run that `args` describes.
///
/// # Errors
/// When the server cannot be reached or the products cannot be created.
pub async fn run(args: Args) -> Result<Report, RunError> {
    let buyers = args.concurrency as usize;
    let credentials = Credentials {
        admin_token: args.admin_token.clone(),
        api_key: args.api_key.clone(),
        key_on_checkout: args.key_on_checkout,
    };
    let mut api = Api::new(&args.base_url, credentials, buyers, args.request_timeout.0)?;
    if args.follow_owner {
        api = api.following_owners();
    }
    if args.admin_token.is_none() {
        return Err(RunError::Setup(
            "creating products needs --admin-token or CHECKOUT_ADMIN_TOKEN".into(),
        ));
    }
    let (count, lines) = (args.product_count(), args.lines_per_cart());
    let picker =
        Picker::new(args.scenario, count, lines, args.zipf_exponent).map_err(RunError::Setup)?;
    let run_id: String = Uuid::new_v4().simple().to_string().chars().take(12).collect();
    let seed = args.seed.unwrap_or_else(rand::random);

    eprintln!("run {run_id}: creating {count} products with {} units each", args.initial_stock);
    let products = catalog::create(&api, &run_id, count, args.initial_stock).await?;
    let index: HashMap<Uuid, usize> = products.iter().enumerate().map(|(i, id)| (*id, i)).collect();

    let started = Instant::now();
    let warmup = args.warmup.map_or(Duration::ZERO, |s| s.0);
    let measure_from = started + warmup;
    let plan = Plan {
        measure_from,
        deadline: args.run_for().map(|d| measure_from + d),
        budget: args.requests,
        quantity: args.quantity,
        pay_share: args.pay_share,
        cancel_share: args.cancel_share,
        keyed: args.idempotency_keys,
    };
    let shared = Arc::new(Shared {
        api: api.clone(),
        picker,
        products,
        index,
        plan,
        live: Default::default(),
        claimed: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    });

    // Without a warm-up the counters are read before the first request; with one, when
    // measuring starts (requests straddling that moment land on either side).
    let mut before = if warmup.is_zero() { Some(api.metrics().await?) } else { None };
    let mut tasks = JoinSet::new();
    for i in 0..buyers as u64 {
        tasks.spawn(buyer::buy(Arc::clone(&shared), seed.wrapping_add(i)));
    }
    let ticker = progress::spawn(Arc::clone(&shared), started);
    let interrupt = tokio::spawn(stop_on_ctrl_c(Arc::clone(&shared)));
    if before.is_none() {
        tokio::time::sleep_until(measure_from.into()).await;
        before = Some(api.metrics().await?);
    }
    let mut seen = Seen::default();
    while let Some(joined) = tasks.join_next().await {
        seen.merge(joined.map_err(|e| RunError::Setup(format!("a buyer failed: {e}")))?);
    }
    let ended = Instant::now();
    ticker.abort();
    interrupt.abort();

    let server = match api.metrics().await {
        Ok(after) => counters(&before.unwrap_or_default(), &after),
        Err(e) => {
            eprintln!("warning: /metrics unreadable after the run ({e}); server counters show 0");
            ServerCounters::default()
        }
    };
    let stocks = catalog::read_back(&api, &shared.products).await;
    let observed: Vec<_> = (stocks.into_iter().enumerate())
        .map(|(i, stock)| Observed {
            label: catalog::sku(&run_id, i),
            initial: args.initial_stock,
            units: seen.units.get(i).copied().unwrap_or_default(),
            stock,
        })
        .collect();
    let ttl = Duration::from_secs(args.reservation_ttl_secs);
    // A second of slack for the server's sweeper and clocks: better a caveat too many.
    let expiry_possible =
        seen.first_win.is_some_and(|t| t.elapsed() + Duration::from_secs(1) >= ttl);
    let errors = seen.warmup.errors() + seen.measured.errors();
    let verdict = invariant::judge(&observed, errors, seen.foreign_lines, expiry_possible);

    let m = &seen.measured;
    let secs = ended.saturating_duration_since(measure_from).as_secs_f64();
    let per_sec = |n: u64| if secs > 0.0 { to_f64(n) / secs } else { 0.0 };
    Ok(Report {
        run_id,
        scenario: args.scenario,
        seed,
        products: count,
        lines_per_cart: lines,
        duration_secs: secs,
        checkouts_attempted: m.checkouts.total(),
        orders_per_sec: per_sec(m.checkouts.ok),
        attempts_per_sec: per_sec(m.checkouts.total()),
        latency_us: Latency::of(&m.latency),
        status: m.checkouts,
        pays_done: m.pays.ok,
        cancels_done: m.cancels.ok,
        pays: m.pays,
        cancels: m.cancels,
        server,
        warmup_checkouts: seen.warmup.checkouts.total(),
        invariant: verdict,
        options: args,
    })
}

async fn stop_on_ctrl_c(shared: Arc<Shared>) {
    if tokio::signal::ctrl_c().await.is_ok() {
        eprintln!("interrupted: finishing the requests in flight, then checking the invariant");
        shared.stop.store(true, Ordering::Relaxed);
    }
}

fn counters(before: &str, after: &str) -> ServerCounters {
    ServerCounters {
        version_conflicts: prom::growth(before, after, prom::VERSION_CONFLICTS),
        retries: prom::growth(before, after, prom::RETRIES),
    }
}

fn to_f64(n: u64) -> f64 {
    // Counts stay far below 2^53.
    #[allow(clippy::cast_precision_loss)]
    let n = n as f64;
    n
}
