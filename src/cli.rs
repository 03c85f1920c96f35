//! The command line of `../shared/contract/README.md`: `serve` (the
//! default), `migrate`, `seed`, `token`.

use std::time::Duration;

use clap::{Parser, Subcommand};
use fulexo::auth::Role;
use fulexo::config::Config;
use fulexo::db::DatabaseTarget;
use fulexo::db::migrations;
use fulexo::seed::{self, SeedOptions};
use fulexo::{server, token};

#[derive(Debug, Parser)]
#[command(name = "fulexo", version, about = "Fulexo's GraphQL API")]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the service (the default).
    Serve,
    /// Applies the pending migrations.
    Migrate,
    /// Loads a deterministic, realistic data set: N tenants, each with N
    /// orders and their items, shipments and invoices.
    Seed {
        #[arg(long, default_value_t = 3)]
        tenants: u32,
        #[arg(long, default_value_t = 10_000)]
        orders: u32,
        /// The instant the data ends at (RFC 3339). Dates spread over the
        /// year before it; the same arguments and `--now` give the same rows.
        /// Defaults to the start of the current UTC hour.
        #[arg(long)]
        now: Option<chrono::DateTime<chrono::Utc>>,
        /// Delete the seeded tenants' data first, if they exist.
        #[arg(long)]
        replace: bool,
    },
    /// Prints a valid token for a tenant's user.
    Token {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
        #[arg(long, default_value = "ADMIN")]
        role: Role,
        /// The user's e-mail (default: the tenant's first user with `role`).
        #[arg(long)]
        email: Option<String>,
        /// How long the token is valid, e.g. `30m`, `24h`.
        #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
        ttl: Duration,
    },
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        let config = Config::from_env()?;
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => server::serve(config).await,
            Command::Migrate => {
                let target = DatabaseTarget::open(&config).await?;
                let applied = migrations::run_pending(&target.url).await?;
                if applied.is_empty() {
                    println!("migrations: up to date");
                } else {
                    println!("migrations applied: {}", applied.join(", "));
                }
                target.close().await
            }
            Command::Seed {
                tenants,
                orders,
                now,
                replace,
            } => {
                let target = DatabaseTarget::open(&config).await?;
                migrations::run_pending(&target.url).await?;
                let options = SeedOptions {
                    tenants,
                    orders,
                    now: now.unwrap_or_else(seed::default_now),
                    replace,
                };
                let report = seed::run(&target.url, &options, true).await?;
                println!("{report}");
                target.close().await
            }
            Command::Token {
                tenant,
                role,
                email,
                ttl,
            } => {
                let target = DatabaseTarget::open(&config).await?;
                let token =
                    token::issue(&config, &target.url, &tenant, role, email.as_deref(), ttl)
                        .await?;
                println!("{token}");
                target.close().await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_valid() {
        super::Cli::command().debug_assert();
    }
}
