//! `checkout-api reconcile`: one reconciliation, printed for a person (a table) or for a
//! program (JSON, the shape of `GET /v1/admin/reconciliation`), and an exit code a cron job can
//! act on: 0 nothing drifted, 1 drift found, 2 the reconciliation could not run.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use application::reconcile::ReconciliationReport;
use domain::{Drift, LedgerTotals, StoredStock};

use crate::bootstrap;
use crate::cli::Config;
use crate::problem::error_chain;
use crate::wire::ReconciliationView;

/// Nothing drifted.
pub const CLEAN: u8 = 0;
/// At least one product drifted.
pub const DRIFT: u8 = 1;
/// No report: the database could not be reached or read (or stdout could not be written).
/// Distinct from [`DRIFT`], so that a cron job never mistakes an outage for drift, or the
/// other way round.
pub const FAILED: u8 = 2;

/// Runs the `reconcile` command and returns its exit code.
pub async fn run(config: &Config, json: bool) -> ExitCode {
    let report = match bootstrap::reconcile(config).await {
        Ok(report) => report,
        Err(err) => {
            eprintln!("checkout-api: {}", error_chain(&err));
            return ExitCode::from(FAILED);
        }
    };
    let text = if json { json_report(&report) } else { Ok(table(&report)) };
    let written = text
        .map_err(|e| e.to_string())
        .and_then(|text| writeln!(std::io::stdout().lock(), "{text}").map_err(|e| e.to_string()));
    match written {
        Err(err) => {
            eprintln!("checkout-api: cannot print the report: {err}");
            ExitCode::from(FAILED)
        }
        Ok(()) if report.is_clean() => ExitCode::from(CLEAN),
        Ok(()) => ExitCode::from(DRIFT),
    }
}

fn json_report(report: &ReconciliationReport) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&ReconciliationView::from(report))
}

/// The report as a table, one drifted product per row.
#[must_use]
pub fn table(report: &ReconciliationReport) -> String {
    let (checked, drifted) = (report.products_checked, report.drift.len());
    if report.is_clean() {
        return format!("{checked} product(s) checked: no drift");
    }
    let mut text = format!("{checked} product(s) checked: {drifted} drifted\n");
    let _ = writeln!(
        text,
        "{:<36}  {:<14}  {:<18}  {:>6}  problems",
        "product", "stored", "ledger", "orders"
    );
    for drift in &report.drift {
        let _ = writeln!(text, "{}", row(drift));
    }
    text.push_str(
        "stored: on hand/reserved/version; ledger: the same summed (entries); \
         orders: units held by reserved orders",
    );
    text
}

fn row(drift: &Drift) -> String {
    let figures = drift.figures();
    let stored = figures.stored.map_or_else(
        || "-".to_owned(),
        |s: StoredStock| format!("{}/{}/{}", s.on_hand, s.reserved, s.version),
    );
    let ledger = figures.ledger.map_or_else(
        || "-".to_owned(),
        |l: LedgerTotals| format!("{}/{}/{} ({})", l.on_hand, l.reserved, l.version, l.entries),
    );
    let problems: Vec<_> = drift.discrepancies().iter().map(|d| d.as_str()).collect();
    format!(
        "{:<36}  {stored:<14}  {ledger:<18}  {:>6}  {}",
        drift.product_id().to_string(),
        figures.reserved_by_orders,
        problems.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use domain::{ProductId, StockFigures};
    use uuid::Uuid;

    use super::*;

    fn figures(n: u128, stored_reserved: i64) -> StockFigures {
        StockFigures {
            product_id: ProductId::new(Uuid::from_u128(n)).expect("id"),
            location_id: domain::LocationId::DEFAULT,
            stored: Some(StoredStock { on_hand: 10, reserved: stored_reserved, version: 4 }),
            ledger: Some(LedgerTotals { on_hand: 10, reserved: 3, version: 4, entries: 4 }),
            reserved_by_orders: 3,
            backordered: 0,
            backordered_by_orders: 0,
        }
    }

    #[test]
    fn a_clean_report_is_one_line() {
        let report = ReconciliationReport { products_checked: 7, drift: vec![] };
        assert_eq!(table(&report), "7 product(s) checked: no drift");
    }

    #[test]
    fn a_drifted_product_is_a_row_with_its_figures_and_problems() {
        let missing = StockFigures { stored: None, ..figures(2, 3) };
        let drift = [figures(1, 4), missing].into_iter().filter_map(Drift::find).collect();
        let report = ReconciliationReport { products_checked: 9, drift };

        let text = table(&report);

        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines[0], "9 product(s) checked: 2 drifted");
        assert!(lines[1].starts_with("product "), "{text}");
        assert!(
            lines[2]
                .starts_with("00000000-0000-0000-0000-000000000001  10/4/4          10/3/4 (4)"),
            "{text}"
        );
        assert!(
            lines[2].ends_with("reserved-differs-from-ledger, reserved-differs-from-orders"),
            "{text}"
        );
        assert!(lines[3].contains("  -  "), "a missing stock row: {text}");
        assert!(lines[3].ends_with("missing-stock, reserved-differs-from-orders"), "{text}");
        assert_eq!(lines.len(), 5, "{text}");
    }
}
