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
    /// Registered documents (trusted documents) of integrators and the
    /// frontend.
    Persisted {
        #[command(subcommand)]
        command: PersistedCommand,
    },
    /// Sets a tenant's rate limit (cost units per minute, shared by its
    /// tokens); every instance applies it within a minute.
    RateLimit {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
        /// The tenant's own limit.
        #[arg(long, conflicts_with = "default", required_unless_present = "default")]
        cost_per_minute: Option<u64>,
        /// Return the tenant to the service's default
        /// (RATE_LIMIT_TENANT_PER_MINUTE).
        #[arg(long)]
        default: bool,
    },
    /// The platform guide's troubleshooting queries: slowest statements,
    /// unused and missing indexes, bloat, pool saturation, cache hit ratio.
    Doctor {
        /// One JSON object, for scripts.
        #[arg(long)]
        json: bool,
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

#[derive(Debug, Subcommand)]
enum PersistedCommand {
    /// Registers a manifest's documents (Apollo's persisted query manifest,
    /// or Relay's id-to-document map): the client's documents become
    /// exactly the manifest's. Importing the same manifest again changes
    /// nothing.
    Import {
        /// The manifest (JSON).
        file: std::path::PathBuf,
        /// The client the manifest belongs to (default: its `clientName`).
        #[arg(long)]
        client: Option<String>,
    },
    /// Lists the clients, and with --documents their documents.
    List {
        #[arg(long)]
        documents: bool,
    },
    /// Lets a client's documents run again.
    Enable { client: String },
    /// Stops all of a client's documents from running.
    Revoke { client: String },
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        let config = Config::from_env()?;
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => server::serve(config).await,
            Command::Migrate => {
                DatabaseTarget::with(&config, async |url| {
                    let applied = migrations::run_pending(url).await?;
                    if applied.is_empty() {
                        println!("migrations: up to date");
                    } else {
                        println!("migrations applied: {}", applied.join(", "));
                    }
                    Ok(())
                })
                .await
            }
            Command::Seed {
                tenants,
                orders,
                now,
                replace,
            } => {
                DatabaseTarget::with(&config, async |url| {
                    migrations::run_pending(url).await?;
                    let options = SeedOptions {
                        tenants,
                        orders,
                        now: now.unwrap_or_else(seed::default_now),
                        replace,
                    };
                    let report = seed::run(url, &options, true).await?;
                    println!("{report}");
                    Ok(())
                })
                .await
            }
            Command::Persisted { command } => {
                DatabaseTarget::with(&config, async |url| {
                    migrations::run_pending(url).await?;
                    persisted_command(url, command).await
                })
                .await
            }
            Command::RateLimit {
                tenant,
                cost_per_minute,
                default: _,
            } => {
                DatabaseTarget::with(&config, async |url| {
                    migrations::run_pending(url).await?;
                    set_rate_limit(url, &tenant, cost_per_minute).await
                })
                .await?;
                match cost_per_minute {
                    Some(limit) => println!("{tenant}: {limit} cost units per minute"),
                    None => println!(
                        "{tenant}: the default ({} cost units per minute)",
                        config.rate_limits.tenant_per_minute
                    ),
                }
                Ok(())
            }
            Command::Doctor { json } => {
                let report = DatabaseTarget::with(&config, async |url| {
                    fulexo::doctor::examine(url, config.pool.max_size).await
                })
                .await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                } else {
                    print!("{report}");
                }
                Ok(())
            }
            Command::Token {
                tenant,
                role,
                email,
                ttl,
            } => {
                // Migrated first, so that a database without the schema yet
                // (a fresh embedded one) answers "no tenant: seed one", not
                // with a missing table.
                let token = DatabaseTarget::with(&config, async |url| {
                    migrations::run_pending(url).await?;
                    token::issue(&config, url, &tenant, role, email.as_deref(), ttl).await
                })
                .await?;
                println!("{token}");
                Ok(())
            }
        }
    }
}

async fn persisted_command(
    url: &secrecy::SecretString,
    command: PersistedCommand,
) -> anyhow::Result<()> {
    use diesel_async::{AsyncConnection, AsyncPgConnection};
    use fulexo::db::models::persisted_document::{PersistedClient, PersistedDocument};
    use secrecy::ExposeSecret;

    let connect = || async {
        AsyncPgConnection::establish(url.expose_secret())
            .await
            .map_err(|error| anyhow::anyhow!("connecting to PostgreSQL: {error}"))
    };
    match command {
        PersistedCommand::Import { file, client } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|error| anyhow::anyhow!("reading {}: {error}", file.display()))?;
            let (client, counts) = fulexo::persisted::import(url, &text, client.as_deref()).await?;
            println!(
                "{client}: {} added, {} changed, {} unchanged, {} removed",
                counts.added, counts.changed, counts.unchanged, counts.removed
            );
        }
        PersistedCommand::List { documents } => {
            let mut connection = connect().await?;
            let clients = PersistedClient::all(&mut connection).await?;
            let all = PersistedDocument::list(&mut connection, None).await?;
            if clients.is_empty() {
                println!(
                    "no registered documents: import a manifest with `fulexo persisted import FILE`"
                );
            }
            for client in clients {
                let owned: Vec<_> = all
                    .iter()
                    .filter(|document| document.client_name == client.name)
                    .collect();
                let state = if client.enabled { "enabled" } else { "revoked" };
                println!("{} ({state}): {} documents", client.name, owned.len());
                if documents {
                    for document in owned {
                        println!(
                            "  {}  sha256:{}  {}",
                            document.id,
                            document.sha256,
                            document.operation_name.as_deref().unwrap_or("-")
                        );
                    }
                }
            }
        }
        PersistedCommand::Enable { client } => {
            set_enabled(&mut connect().await?, &client, true).await?
        }
        PersistedCommand::Revoke { client } => {
            set_enabled(&mut connect().await?, &client, false).await?
        }
    }
    Ok(())
}

async fn set_rate_limit(
    url: &secrecy::SecretString,
    slug: &str,
    cost_per_minute: Option<u64>,
) -> anyhow::Result<()> {
    use diesel_async::{AsyncConnection, AsyncPgConnection};
    use fulexo::db::TenantId;
    use fulexo::db::models::{Tenant, tenant_rate_limit};
    use secrecy::ExposeSecret;

    if cost_per_minute == Some(0) {
        anyhow::bail!("--cost-per-minute must be at least 1 (use --default to remove a limit)");
    }
    let mut connection = AsyncPgConnection::establish(url.expose_secret())
        .await
        .map_err(|error| anyhow::anyhow!("connecting to PostgreSQL: {error}"))?;
    let tenant = Tenant::find_by_slug(&mut connection, slug)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no tenant `{slug}`: check the slug"))?;
    tenant_rate_limit::set(&mut connection, TenantId(tenant.id), cost_per_minute).await?;
    Ok(())
}

async fn set_enabled(
    connection: &mut diesel_async::AsyncPgConnection,
    client: &str,
    enabled: bool,
) -> anyhow::Result<()> {
    use fulexo::db::models::persisted_document::PersistedClient;
    if !PersistedClient::set_enabled(connection, client, enabled).await? {
        anyhow::bail!("no client `{client}`: `fulexo persisted list` shows the registered ones");
    }
    println!("{client}: {}", if enabled { "enabled" } else { "revoked" });
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_valid() {
        super::Cli::command().debug_assert();
    }
}
