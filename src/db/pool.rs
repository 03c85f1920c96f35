//! The bb8 pool of diesel-async connections. Each new connection gets the
//! service's `application_name` and `statement_timeout`, and reports every
//! statement it sends ([`instrument`](super::instrument)).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use anyhow::Context;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures_util::FutureExt;
use secrecy::{ExposeSecret, SecretString};

use crate::config::PoolConfig;
use crate::db::instrument::{StatementCapture, StatementTimer};
use crate::error::AppError;
use crate::metrics::DbMetrics;

pub type DbPool = bb8::Pool<AsyncDieselConnectionManager<AsyncPgConnection>>;
pub type DbConnection<'a> =
    bb8::PooledConnection<'a, AsyncDieselConnectionManager<AsyncPgConnection>>;

/// The pool and what it has sent.
#[derive(Clone, Debug)]
pub struct Database {
    pool: DbPool,
    statements: Arc<AtomicU64>,
    metrics: DbMetrics,
    capture: StatementCapture,
    /// Requests waiting for a connection now.
    waiting: Arc<AtomicI64>,
    max_size: u32,
}

/// Counts a wait for a connection while it lasts, however it ends.
struct Waiting<'a>(&'a AtomicI64);

impl<'a> Waiting<'a> {
    fn start(counter: &'a AtomicI64) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Database {
    /// Builds the pool; connections are opened lazily, so this does not fail
    /// when PostgreSQL is down (`/readyz` says so instead).
    pub fn connect(url: &SecretString, config: &PoolConfig) -> anyhow::Result<Self> {
        let statements = Arc::new(AtomicU64::new(0));
        let metrics = DbMetrics::default();
        let setup_statements = statements.clone();
        let setup_metrics = metrics.clone();
        let capture = StatementCapture::default();
        let setup_capture = capture.clone();
        let statement_timeout_ms = config.statement_timeout.as_millis();
        let mut manager_config = ManagerConfig::<AsyncPgConnection>::default();
        manager_config.custom_setup = Box::new(move |url| {
            let statements = setup_statements.clone();
            let metrics = setup_metrics.clone();
            let capture = setup_capture.clone();
            async move {
                let mut connection = AsyncPgConnection::establish(url).await?;
                connection
                    .batch_execute(&format!(
                        "SET application_name = 'fulexo'; SET statement_timeout = {statement_timeout_ms}"
                    ))
                    .await
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                connection.set_instrumentation(StatementTimer::new(statements, metrics, capture));
                Ok(connection)
            }
            .boxed()
        });
        // A connection whose server went away is flagged broken by
        // tokio-postgres; a test query on every checkout would add a round
        // trip to each DataLoader batch for no gain.
        manager_config.recycling_method = RecyclingMethod::Fast;
        let manager =
            AsyncDieselConnectionManager::new_with_config(url.expose_secret(), manager_config);
        let pool = bb8::Pool::builder()
            .max_size(config.max_size)
            .connection_timeout(config.connection_timeout)
            .build_unchecked(manager);
        Ok(Self {
            pool,
            statements,
            metrics,
            capture,
            waiting: Arc::default(),
            max_size: config.max_size,
        })
    }

    /// A connection, or [`AppError::DatabaseBusy`] once the pool timeout
    /// has passed: a request never waits without bound.
    pub async fn get(&self) -> Result<DbConnection<'_>, AppError> {
        let _waiting = Waiting::start(&self.waiting);
        Ok(self.pool.get().await?)
    }

    /// An owned connection, for work that outlives a borrow of the pool
    /// (DataLoaders run on spawned tasks).
    pub async fn get_owned(
        &self,
    ) -> Result<
        bb8::PooledConnection<'static, AsyncDieselConnectionManager<AsyncPgConnection>>,
        AppError,
    > {
        let _waiting = Waiting::start(&self.waiting);
        Ok(self.pool.get_owned().await?)
    }

    /// Statements sent through this pool since it was built.
    pub fn statements_sent(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    pub fn state(&self) -> bb8::State {
        self.pool.state()
    }

    /// Requests waiting for a connection now.
    pub fn waiting(&self) -> u32 {
        u32::try_from(self.waiting.load(Ordering::Relaxed)).unwrap_or(0)
    }

    pub fn max_size(&self) -> u32 {
        self.max_size
    }

    /// Records the statements this pool's connections send, on demand.
    pub fn capture(&self) -> &StatementCapture {
        &self.capture
    }

    /// Statement timings and DataLoader batch sizes, for `/metrics`.
    pub fn metrics(&self) -> &DbMetrics {
        &self.metrics
    }

    /// Opens one connection now: start-up fails early, with the reason,
    /// when the database cannot be reached.
    pub async fn check(&self) -> anyhow::Result<()> {
        let mut connection = self
            .pool
            .dedicated_connection()
            .await
            .context("connecting to PostgreSQL (is it running, and is DATABASE_URL right?)")?;
        connection.batch_execute("SELECT 1").await?;
        Ok(())
    }
}
