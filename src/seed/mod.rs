//! `fulexo seed`: loads a deterministic, realistic data set with
//! PostgreSQL's `COPY`, in one transaction (an interrupted load leaves
//! nothing behind).
//!
//! The rows are generated on a blocking thread while PostgreSQL ingests the
//! previous chunk. Tenants' days are interleaved oldest first, so that the
//! tables' physical order follows time, as it does in production where all
//! tenants' orders arrive together (the BRIN indexes rely on it).
//! tokio-postgres does the `COPY`: diesel-async has no `COPY FROM`.

mod copy;
pub mod generate;

use std::fmt;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use chrono::{DateTime, DurationRound, Utc};
use futures_util::SinkExt;
use indicatif::{ProgressBar, ProgressStyle};
use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::{Client, NoTls, Transaction};

use copy::BulkTable;
use generate::{HISTORY_DAYS, TenantPlan};

/// Rows are sent to PostgreSQL in chunks of about this size.
const CHUNK_BYTES: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub tenants: u32,
    /// Orders per tenant.
    pub orders: u32,
    /// The data set ends at this instant; dates spread over the year before.
    pub now: DateTime<Utc>,
    /// Replace the seeded tenants' data if they exist.
    pub replace: bool,
}

/// What a load wrote, and how fast.
#[derive(Debug, Clone, Default)]
pub struct SeedReport {
    pub tenants: u32,
    pub rows: [(&'static str, u64); 4],
    pub elapsed: Duration,
}

impl SeedReport {
    pub fn orders(&self) -> u64 {
        self.rows[0].1
    }
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.elapsed.as_secs_f64();
        write!(f, "seeded {} tenants:", self.tenants)?;
        for (table, rows) in self.rows {
            write!(f, " {rows} {table},")?;
        }
        write!(
            f,
            " in {seconds:.1} s ({:.0} orders/s)",
            self.orders() as f64 / seconds.max(f64::EPSILON)
        )
    }
}

/// The default end of the data: the start of the current UTC hour, so that
/// runs within the hour give identical data.
pub fn default_now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(chrono::Duration::hours(1))
        .unwrap_or(now)
}

/// Whether the database has no tenant yet (a fresh embedded database).
pub async fn is_empty(url: &SecretString) -> anyhow::Result<bool> {
    let client = connect(url).await?;
    let row = client
        .query_one("SELECT NOT EXISTS (SELECT 1 FROM tenants)", &[])
        .await?;
    Ok(row.get(0))
}

pub async fn run(
    url: &SecretString,
    options: &SeedOptions,
    progress: bool,
) -> anyhow::Result<SeedReport> {
    let started = Instant::now();
    let mut client = connect(url).await?;
    let plans: Vec<TenantPlan> = (0..options.tenants)
        .map(|index| TenantPlan::new(index, options.orders, options.now))
        .collect();
    let bar = progress_bar(
        progress,
        u64::from(options.tenants) * u64::from(options.orders) * 4,
    );

    let transaction = client.transaction().await?;
    remove_existing(&transaction, &plans, options.replace).await?;
    load_fixed_rows(&transaction, &plans).await?;
    let mut report = SeedReport {
        tenants: options.tenants,
        ..SeedReport::default()
    };
    for (slot, table) in BulkTable::ALL.into_iter().enumerate() {
        bar.set_message(table.name());
        let rows = load_table(&transaction, table, options, &bar).await?;
        report.rows[slot] = (table.name(), rows);
    }
    transaction.commit().await.context("committing the seed")?;
    bar.finish_and_clear();
    // Fresh statistics, so that the planner picks the indexes the data
    // now calls for.
    client.batch_execute("ANALYZE").await?;
    report.elapsed = started.elapsed();
    Ok(report)
}

async fn connect(url: &SecretString) -> anyhow::Result<Client> {
    let (client, connection) = tokio_postgres::connect(url.expose_secret(), NoTls)
        .await
        .context("connecting to PostgreSQL")?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(%error, "seed connection closed");
        }
    });
    Ok(client)
}

fn progress_bar(show: bool, total: u64) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} seeding {msg:<12} [{bar:40}] {percent:>3}% {elapsed} (eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

async fn remove_existing(
    transaction: &Transaction<'_>,
    plans: &[TenantPlan],
    replace: bool,
) -> anyhow::Result<()> {
    let ids: Vec<uuid::Uuid> = plans.iter().map(|plan| plan.tenant.id).collect();
    let slugs: Vec<&str> = plans.iter().map(|plan| plan.tenant.slug.as_str()).collect();
    let existing: Vec<uuid::Uuid> = transaction
        .query(
            "SELECT id FROM tenants WHERE id = ANY($1) OR slug = ANY($2)",
            &[&ids, &slugs],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    if existing.is_empty() {
        return Ok(());
    }
    if !replace {
        bail!(
            "{} of these tenants already exist: run again with --replace to reload them",
            existing.len()
        );
    }
    for table in [
        "audit_logs",
        "invoices",
        "shipments",
        "order_items",
        "orders",
        "products",
        "users",
    ] {
        transaction
            .execute(
                &format!("DELETE FROM {table} WHERE tenant_id = ANY($1)"),
                &[&existing],
            )
            .await
            .with_context(|| format!("clearing {table}"))?;
    }
    transaction
        .execute("DELETE FROM tenants WHERE id = ANY($1)", &[&existing])
        .await?;
    Ok(())
}

async fn load_fixed_rows(
    transaction: &Transaction<'_>,
    plans: &[TenantPlan],
) -> anyhow::Result<()> {
    let mut tenants = String::new();
    let mut users = String::new();
    let mut products = String::new();
    for plan in plans {
        copy::encode_tenant(&plan.tenant, &mut tenants);
        plan.users
            .iter()
            .for_each(|user| copy::encode_user(user, &mut users));
        plan.products
            .iter()
            .for_each(|product| copy::encode_product(product, &mut products));
    }
    for (statement, rows) in [
        (
            "COPY tenants (id, slug, name, created_at) FROM STDIN",
            tenants,
        ),
        (
            "COPY users (id, tenant_id, email, role, created_at) FROM STDIN",
            users,
        ),
        (
            "COPY products (id, tenant_id, sku, name, price, created_at) FROM STDIN",
            products,
        ),
    ] {
        let sink = transaction.copy_in(statement).await?;
        futures_util::pin_mut!(sink);
        sink.send(Bytes::from(rows)).await?;
        sink.finish().await?;
    }
    Ok(())
}

/// Generates `table`'s rows on a blocking thread and streams them into
/// `COPY`; returns the number of rows.
async fn load_table(
    transaction: &Transaction<'_>,
    table: BulkTable,
    options: &SeedOptions,
    bar: &ProgressBar,
) -> anyhow::Result<u64> {
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<(Bytes, u64)>(4);
    let options = options.clone();
    let generator = tokio::task::spawn_blocking(move || {
        // Plans carry counters across days: each table starts them afresh,
        // so every table sees the same orders.
        let mut plans: Vec<TenantPlan> = (0..options.tenants)
            .map(|index| TenantPlan::new(index, options.orders, options.now))
            .collect();
        let mut chunk = String::with_capacity(CHUNK_BYTES + 4096);
        let mut rows = 0u64;
        let mut orders = 0u64;
        for day in 0..HISTORY_DAYS {
            for plan in &mut plans {
                let day_rows = plan.day(day, options.now);
                orders += day_rows.orders.len() as u64;
                rows += table.encode(&day_rows, &mut chunk) as u64;
                if chunk.len() >= CHUNK_BYTES {
                    let full =
                        std::mem::replace(&mut chunk, String::with_capacity(CHUNK_BYTES + 4096));
                    if sender.blocking_send((Bytes::from(full), orders)).is_err() {
                        return rows;
                    }
                    orders = 0;
                }
            }
        }
        let _ = sender.blocking_send((Bytes::from(chunk), orders));
        rows
    });

    let sink = transaction
        .copy_in(table.copy_statement())
        .await
        .with_context(|| format!("starting COPY into {}", table.name()))?;
    futures_util::pin_mut!(sink);
    while let Some((chunk, orders)) = receiver.recv().await {
        sink.send(chunk)
            .await
            .with_context(|| format!("COPY into {}", table.name()))?;
        bar.inc(orders);
    }
    sink.finish()
        .await
        .with_context(|| format!("finishing COPY into {}", table.name()))?;
    let rows = generator.await.context("the row generator stopped")?;
    tracing::debug!(table = table.name(), rows, "loaded");
    Ok(rows)
}
