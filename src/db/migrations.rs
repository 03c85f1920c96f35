//! The migrations of `migrations/`, embedded in the binary and applied by
//! `fulexo migrate`, by `fulexo serve` at start, and by the tests.

use anyhow::Context;
use diesel::Connection;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use secrecy::{ExposeSecret, SecretString};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Applies the pending migrations, each in its own transaction, and returns
/// the versions it applied.
pub async fn run_pending(url: &SecretString) -> anyhow::Result<Vec<String>> {
    let url = url.expose_secret().to_owned();
    // diesel's migration harness is synchronous: run it off the async
    // workers, on a connection that blocks on this runtime.
    tokio::task::spawn_blocking(move || {
        let mut connection = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .context("connecting to PostgreSQL to migrate")?;
        let applied = connection
            .run_pending_migrations(MIGRATIONS)
            .map_err(|error| anyhow::anyhow!("applying migrations: {error}"))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    })
    .await
    .context("the migration task stopped")?
}

/// Whether every embedded migration has been applied (`/readyz`).
pub async fn all_applied(connection: &mut AsyncPgConnection) -> anyhow::Result<bool> {
    use diesel::sql_types::Text;
    use diesel_async::RunQueryDsl;

    #[derive(diesel::QueryableByName)]
    struct Version {
        #[diesel(sql_type = Text)]
        version: String,
    }

    let applied: Vec<Version> = diesel::sql_query("SELECT version FROM __diesel_schema_migrations")
        .load(connection)
        .await?;
    let applied: std::collections::HashSet<String> =
        applied.into_iter().map(|v| v.version).collect();
    let expected = diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .map_err(|error| anyhow::anyhow!("reading embedded migrations: {error}"))?;
    Ok(expected
        .iter()
        .all(|migration| applied.contains(&migration.name().version().to_string())))
}
