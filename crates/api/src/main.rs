//! `checkout-api`: serve (the default), migrate, or reconcile; see [`api::run`].

use std::process::ExitCode;

use api::cli::Cli;
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    api::run(Cli::parse()).await
}
