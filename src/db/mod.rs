//! PostgreSQL: the pool ([`pool`]), the embedded migrations
//! ([`migrations`]), a private server for development ([`embedded`]), the
//! generated [`schema`], the enums, and [`models`], one file per table.
//!
//! Every tenant-owned query takes a [`TenantId`]: there is no way to ask for
//! rows without saying whose.

pub mod amount;
pub mod embedded;
pub mod enums;
pub mod explain;
pub mod instrument;
pub mod migrations;
pub mod models;
pub mod pool;
pub mod predicate;
pub mod reads;
#[rustfmt::skip]
pub mod schema;

use uuid::Uuid;

pub use enums::{OrderStatus, ShipmentStatus};
pub use pool::{Database, DbConnection, DbPool};
pub use reads::{ReadConnection, Reads};

/// The tenant a query is confined to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(pub Uuid);

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The PostgreSQL a command works on: `DATABASE_URL`, or the embedded one.
pub struct DatabaseTarget {
    pub url: secrecy::SecretString,
    embedded: Option<embedded::EmbeddedPostgres>,
}

impl DatabaseTarget {
    /// `DATABASE_URL` if set, else starts (or finds running) the embedded
    /// PostgreSQL under the data folder.
    pub async fn open(config: &crate::config::Config) -> anyhow::Result<Self> {
        match &config.database_url {
            Some(url) => Ok(Self {
                url: url.clone(),
                embedded: None,
            }),
            None => {
                let server = embedded::EmbeddedPostgres::start(&config.data_dir).await?;
                Ok(Self {
                    url: server.url(),
                    embedded: Some(server),
                })
            }
        }
    }

    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// Runs `task` against the target, then stops the embedded server if
    /// this process started it, whether `task` succeeded or not: a command
    /// that fails leaves no server of its own behind. `task`'s error comes
    /// first; stopping's only when `task` succeeded.
    pub async fn with<T>(
        config: &crate::config::Config,
        task: impl AsyncFnOnce(&secrecy::SecretString) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let target = Self::open(config).await?;
        let result = task(&target.url).await;
        let closed = target.close().await;
        let value = result?;
        closed?;
        Ok(value)
    }

    /// Stops the embedded server if this process started it.
    pub async fn close(self) -> anyhow::Result<()> {
        match self.embedded {
            Some(server) => server.stop().await,
            None => Ok(()),
        }
    }
}
