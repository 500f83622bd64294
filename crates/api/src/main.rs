//! `checkout-api`: serve (the default) or migrate.

use std::process::ExitCode;

use api::bootstrap::{Application, connect_and_migrate, shutdown_signal};
use api::cli::{Cli, Command};
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    api::telemetry::init(cli.config.log_format);
    let outcome: Result<(), Box<dyn std::error::Error>> =
        match cli.command.unwrap_or(Command::Serve) {
            Command::Migrate => {
                connect_and_migrate(&cli.config.database_url, cli.config.database_pool_size)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.into())
            }
            Command::Serve => match Application::build(&cli.config).await {
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
