//! `checkout-loadgen`: drives a running checkout-api with concurrent buyers over HTTP/1.1
//! keep-alive, then checks that the server's stock agrees with the answers the buyers received.
//!
//! Exit codes: 0 the invariant holds, 1 it failed, 2 the run could not be carried out.

mod answer;
mod api;
mod buyer;
mod cart;
mod catalog;
mod cli;
mod invariant;
mod progress;
mod prom;
mod report;
mod run;
mod span;
mod tally;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

#[tokio::main]
async fn main() -> ExitCode {
    let args = cli::Args::parse();
    if let Err(message) = args.validate() {
        cli::Args::command().error(clap::error::ErrorKind::ArgumentConflict, message).exit();
    }
    let json = args.json.clone();
    let report = match run::run(args).await {
        Ok(report) => report,
        Err(e) => {
            eprintln!("checkout-loadgen: {e}");
            return ExitCode::from(2);
        }
    };
    print!("{report}");
    if let Some(path) = json
        && let Err(e) = report.write_json(&path)
    {
        eprintln!("checkout-loadgen: cannot write {}: {e}", path.display());
        return ExitCode::from(2);
    }
    if report.invariant.holds { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
