//! `checkout-api clients create|list|revoke`: API clients from the command line, on the
//! database the server uses. `create` prints the key once; `--json` prints the shapes of
//! `POST /v1/clients` and `GET /v1/clients`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use domain::ClientId;
use domain::access::{ApiClient, ClientName, Scopes};

use crate::bootstrap;
use crate::cli::{ClientsCommand, Config};
use crate::problem::error_chain;
use crate::wire::{ClientView, ClientsPage, IssuedClientView};

/// Runs a `clients` command; 0 when done, 1 otherwise (with the reason on stderr).
pub async fn run(config: &Config, command: ClientsCommand) -> ExitCode {
    match execute(config, command).await {
        Ok(text) => match writeln!(std::io::stdout().lock(), "{text}") {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => fail(&format!("cannot print: {err}")),
        },
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("checkout-api: {message}");
    ExitCode::FAILURE
}

async fn execute(config: &Config, command: ClientsCommand) -> Result<String, String> {
    // Arguments first: a typo never opens (or creates) a database.
    let parsed = Parsed::from(command)?;
    let (access, db) = bootstrap::access(config).await.map_err(|e| error_chain(&e))?;
    let outcome = match parsed {
        Parsed::Create { name, scopes, json } => {
            access.create(name, scopes).await.map_err(|e| error_chain(&e)).and_then(|issued| {
                let view = IssuedClientView::from(&issued);
                if json { to_json(&view) } else { Ok(issued_text(&view)) }
            })
        }
        Parsed::List { json } => access.list().await.map_err(|e| error_chain(&e)).and_then(|all| {
            if json {
                to_json(&ClientsPage { items: all.iter().map(ClientView::from).collect() })
            } else {
                Ok(table(&all))
            }
        }),
        Parsed::Revoke { id } => access
            .revoke(id)
            .await
            .map(|client| format!("revoked {} ({})", client.id, client.name.as_str()))
            .map_err(|e| error_chain(&e)),
    };
    db.close().await.ok();
    outcome
}

/// A command with its arguments parsed into domain values.
enum Parsed {
    Create { name: ClientName, scopes: Scopes, json: bool },
    List { json: bool },
    Revoke { id: ClientId },
}

impl Parsed {
    fn from(command: ClientsCommand) -> Result<Self, String> {
        Ok(match command {
            ClientsCommand::Create { name, scopes, json } => Self::Create {
                name: ClientName::new(&name).map_err(|e| e.to_string())?,
                scopes: Scopes::parse_all(scopes.iter().map(String::as_str))
                    .map_err(|e| e.to_string())?,
                json,
            },
            ClientsCommand::List { json } => Self::List { json },
            ClientsCommand::Revoke { id } => {
                Self::Revoke { id: id.parse().map_err(|_| format!("'{id}' is not a client id"))? }
            }
        })
    }
}

fn to_json(value: &impl serde::Serialize) -> Result<String, String> {
    serde_json::to_string_pretty(value).map_err(|e| e.to_string())
}

fn issued_text(view: &IssuedClientView) -> String {
    format!(
        "created client {} ({}) with scopes: {}\nkey: {}\nThe key is shown this once; only its digest is stored.",
        view.id,
        view.name,
        if view.scopes.is_empty() { "(none)".to_owned() } else { view.scopes.join(" ") },
        view.key
    )
}

/// Every client, one per row.
fn table(clients: &[ApiClient]) -> String {
    let mut text = format!("{:<36}  {:<11}  {:<8}  {:<20}  scopes\n", "id", "key", "state", "name");
    for client in clients {
        let state = if client.is_active() { "active" } else { "revoked" };
        let _ = writeln!(
            text,
            "{:<36}  {:<11}  {state:<8}  {:<20}  {}",
            client.id.to_string(),
            client.key_hint,
            client.name.as_str(),
            client.scopes
        );
    }
    let _ = write!(text, "{} client(s)", clients.len());
    text
}
