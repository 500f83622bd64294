//! `checkout-api`: serve (the default), migrate, or reconcile; see [`api::run`].

use std::process::ExitCode;

use api::cli::Cli;
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The runtime is built here rather than by `#[tokio::main]` so that its thread count can
    // be a setting (`--worker-threads`); without it, tokio's default (one per core).
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if let Some(threads) = cli.config.worker_threads {
        runtime.worker_threads(usize::from(threads));
    }
    match runtime.build() {
        Ok(runtime) => runtime.block_on(api::run(cli)),
        Err(err) => {
            eprintln!("checkout-api: cannot start the async runtime: {err}");
            ExitCode::FAILURE
        }
    }
}
