//! Command-line entry of the migrator: `up`, `down`, `status`, `fresh`, … against
//! `DATABASE_URL` (or `-u URL`), as in every sea-orm-migration project.

use sea_orm_migration::prelude::*;

#[tokio::main]
async fn main() {
    cli::run_cli(migration::Migrator).await;
}
