//! What `checkout-api` does with its command line: serve (the default), migrate, reconcile,
//! or manage API clients.

use std::process::ExitCode;

use crate::bootstrap::{Application, connect_and_migrate, shutdown_signal};
use crate::cli::{Cli, Command};
use crate::problem::error_chain;
use crate::{clients, reconcile, telemetry};

/// Runs `cli`'s command to its end and says how it went as the process's exit code.
pub async fn run(cli: Cli) -> ExitCode {
    telemetry::init(cli.config.log_format);
    let config = &cli.config;
    let outcome: Result<(), Box<dyn std::error::Error>> =
        match cli.command.unwrap_or(Command::Serve) {
            // Its own exit codes: 1 means drift, so a failure must say 2.
            Command::Reconcile { json } => return reconcile::run(config, json).await,
            Command::Clients(command) => return clients::run(config, command).await,
            Command::Migrate => {
                connect_and_migrate(config, None).await.map(|_| ()).map_err(|e| e.into())
            }
            Command::Serve => match Application::build(config).await {
                Ok(app) => app.run(shutdown_signal()).await.map_err(Into::into),
                Err(err) => Err(err.into()),
            },
        };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("checkout-api: {}", error_chain(err.as_ref()));
            ExitCode::FAILURE
        }
    }
}
