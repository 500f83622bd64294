//! `checkout-api`: serve (the default), migrate, or reconcile.

use std::process::ExitCode;

use api::bootstrap::{Application, connect_and_migrate, shutdown_signal};
use api::cli::{Cli, Command};
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    api::telemetry::init(cli.config.log_format);
    let config = &cli.config;
    let outcome: Result<(), Box<dyn std::error::Error>> = match cli
        .command
        .unwrap_or(Command::Serve)
    {
        // Its own exit codes: 1 means drift, so a failure must say 2.
        Command::Reconcile { json } => return api::reconcile::run(config, json).await,
        Command::Migrate => connect_and_migrate(&config.database_url, config.database_pool_size)
            .await
            .map(|_| ())
            .map_err(|e| e.into()),
        Command::Serve => match Application::build(config).await {
            Ok(app) => app.run(shutdown_signal()).await.map_err(Into::into),
            Err(err) => Err(err.into()),
        },
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("checkout-api: {}", api::problem::error_chain(err.as_ref()));
            ExitCode::FAILURE
        }
    }
}
