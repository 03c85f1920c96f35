//! `fulexo doctor`: the platform guide's troubleshooting queries, run
//! against the database and summarised for a person (or as JSON for a
//! script): the slowest statements (`pg_stat_statements`, when installed),
//! unused and missing indexes, dead-tuple bloat, the service's connections
//! against its pool, and PostgreSQL's buffer cache hit ratio.

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tokio_postgres::{Client, NoTls};

/// Tables smaller than this are read sequentially on purpose: no index is
/// "missing" on them.
const MISSING_INDEX_MIN_ROWS: i64 = 10_000;
/// Dead tuples past this share of a table's rows are worth a `VACUUM`.
const BLOAT_DEAD_RATIO: f64 = 0.2;

#[derive(Debug, Serialize)]
pub struct Report {
    /// `None` when `pg_stat_statements` is not installed.
    pub slowest_statements: Option<Vec<SlowStatement>>,
    pub unused_indexes: Vec<UnusedIndex>,
    pub missing_indexes: Vec<SequentialScans>,
    pub bloat: Vec<Bloat>,
    pub pool: PoolUse,
    pub cache: CacheHitRatio,
}

#[derive(Debug, Serialize)]
pub struct SlowStatement {
    pub query: String,
    pub calls: i64,
    pub mean_ms: f64,
    pub total_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct UnusedIndex {
    pub table: String,
    pub index: String,
    pub size_bytes: i64,
}

#[derive(Debug, Serialize)]
pub struct SequentialScans {
    pub table: String,
    pub rows: i64,
    pub sequential_scans: i64,
    pub rows_read_sequentially: i64,
    pub index_scans: i64,
}

#[derive(Debug, Serialize)]
pub struct Bloat {
    pub table: String,
    pub live_rows: i64,
    pub dead_rows: i64,
    pub dead_ratio: f64,
    pub table_bytes: i64,
    pub indexes_bytes: i64,
}

#[derive(Debug, Serialize)]
pub struct PoolUse {
    /// The service's connections (`application_name = 'fulexo'`), by state.
    pub active: i64,
    pub idle: i64,
    pub idle_in_transaction: i64,
    pub waiting_on_locks: i64,
    /// The pool's configured size, per instance.
    pub pool_size: u32,
    pub max_connections: i64,
}

#[derive(Debug, Serialize)]
pub struct CacheHitRatio {
    /// Share of table reads served from shared buffers; `None` before any.
    pub tables: Option<f64>,
    pub indexes: Option<f64>,
}

/// Runs every check against `url`.
pub async fn examine(url: &SecretString, pool_size: u32) -> anyhow::Result<Report> {
    let (client, connection) = tokio_postgres::connect(url.expose_secret(), NoTls)
        .await
        .context("connecting to PostgreSQL (check DATABASE_URL)")?;
    tokio::spawn(connection);
    Ok(Report {
        slowest_statements: slowest_statements(&client).await?,
        unused_indexes: unused_indexes(&client).await?,
        missing_indexes: missing_indexes(&client).await?,
        bloat: bloat(&client).await?,
        pool: pool_use(&client, pool_size).await?,
        cache: cache_hit_ratio(&client).await?,
    })
}

async fn slowest_statements(client: &Client) -> anyhow::Result<Option<Vec<SlowStatement>>> {
    let installed = client
        .query_opt(
            "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'",
            &[],
        )
        .await?
        .is_some();
    if !installed {
        return Ok(None);
    }
    // Only this database's statements; the view fails when the library
    // is not preloaded, which is reported as not installed.
    let rows = match client
        .query(
            "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 160), calls,
                    mean_exec_time, total_exec_time
             FROM pg_stat_statements
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
             ORDER BY mean_exec_time DESC LIMIT 10",
            &[],
        )
        .await
    {
        Ok(rows) => rows,
        Err(_) => return Ok(None),
    };
    Ok(Some(
        rows.iter()
            .map(|row| SlowStatement {
                query: row.get(0),
                calls: row.get(1),
                mean_ms: row.get(2),
                total_ms: row.get(3),
            })
            .collect(),
    ))
}

async fn unused_indexes(client: &Client) -> anyhow::Result<Vec<UnusedIndex>> {
    // Unique indexes enforce rules whether or not they are read.
    let rows = client
        .query(
            "SELECT s.relname, s.indexrelname, pg_relation_size(s.indexrelid)
             FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
             WHERE s.idx_scan = 0 AND NOT i.indisunique
             ORDER BY pg_relation_size(s.indexrelid) DESC",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| UnusedIndex {
            table: row.get(0),
            index: row.get(1),
            size_bytes: row.get(2),
        })
        .collect())
}

async fn missing_indexes(client: &Client) -> anyhow::Result<Vec<SequentialScans>> {
    let rows = client
        .query(
            "SELECT relname, n_live_tup, seq_scan, seq_tup_read, coalesce(idx_scan, 0)
             FROM pg_stat_user_tables
             WHERE n_live_tup >= $1 AND seq_scan > coalesce(idx_scan, 0)
             ORDER BY seq_tup_read DESC",
            &[&MISSING_INDEX_MIN_ROWS],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| SequentialScans {
            table: row.get(0),
            rows: row.get(1),
            sequential_scans: row.get(2),
            rows_read_sequentially: row.get(3),
            index_scans: row.get(4),
        })
        .collect())
}

async fn bloat(client: &Client) -> anyhow::Result<Vec<Bloat>> {
    let rows = client
        .query(
            "SELECT relname, n_live_tup, n_dead_tup,
                    pg_table_size(relid), pg_indexes_size(relid)
             FROM pg_stat_user_tables
             ORDER BY n_dead_tup DESC",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| {
            let (live, dead): (i64, i64) = (row.get(1), row.get(2));
            Bloat {
                table: row.get(0),
                live_rows: live,
                dead_rows: dead,
                dead_ratio: if live + dead == 0 {
                    0.0
                } else {
                    dead as f64 / (live + dead) as f64
                },
                table_bytes: row.get(3),
                indexes_bytes: row.get(4),
            }
        })
        .collect())
}

async fn pool_use(client: &Client, pool_size: u32) -> anyhow::Result<PoolUse> {
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE state = 'active'),
                    count(*) FILTER (WHERE state = 'idle'),
                    count(*) FILTER (WHERE state LIKE 'idle in transaction%'),
                    count(*) FILTER (WHERE wait_event_type = 'Lock'),
                    current_setting('max_connections')::bigint
             FROM pg_stat_activity
             WHERE application_name = 'fulexo' AND datname = current_database()",
            &[],
        )
        .await?;
    Ok(PoolUse {
        active: row.get(0),
        idle: row.get(1),
        idle_in_transaction: row.get(2),
        waiting_on_locks: row.get(3),
        pool_size,
        max_connections: row.get(4),
    })
}

async fn cache_hit_ratio(client: &Client) -> anyhow::Result<CacheHitRatio> {
    let row = client
        .query_one(
            "SELECT sum(heap_blks_hit)::float8, sum(heap_blks_read)::float8,
                    sum(idx_blks_hit)::float8, sum(idx_blks_read)::float8
             FROM pg_statio_user_tables",
            &[],
        )
        .await?;
    let ratio = |hit: Option<f64>, read: Option<f64>| match (hit, read) {
        (Some(hit), Some(read)) if hit + read > 0.0 => Some(hit / (hit + read)),
        _ => None,
    };
    Ok(CacheHitRatio {
        tables: ratio(row.get(0), row.get(1)),
        indexes: ratio(row.get(2), row.get(3)),
    })
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "Slowest statements (mean time)")?;
        match &self.slowest_statements {
            None => writeln!(
                f,
                "  pg_stat_statements is not installed: add it to shared_preload_libraries, restart PostgreSQL, then CREATE EXTENSION pg_stat_statements"
            )?,
            Some(statements) if statements.is_empty() => writeln!(f, "  none recorded yet")?,
            Some(statements) => {
                for statement in statements {
                    writeln!(
                        f,
                        "  {:>9.2} ms mean {:>9} calls  {}",
                        statement.mean_ms, statement.calls, statement.query
                    )?;
                }
            }
        }

        writeln!(
            f,
            "\nUnused indexes (never scanned since statistics were reset)"
        )?;
        if self.unused_indexes.is_empty() {
            writeln!(f, "  none")?;
        }
        for index in &self.unused_indexes {
            writeln!(
                f,
                "  {:<40} on {:<20} {:>10}",
                index.index,
                index.table,
                megabytes(index.size_bytes)
            )?;
        }

        writeln!(
            f,
            "\nPossibly missing indexes (tables of {MISSING_INDEX_MIN_ROWS}+ rows read sequentially more than by index)"
        )?;
        if self.missing_indexes.is_empty() {
            writeln!(f, "  none")?;
        }
        for table in &self.missing_indexes {
            writeln!(
                f,
                "  {:<20} {} sequential scans read {} rows; {} index scans ({} rows)",
                table.table,
                table.sequential_scans,
                table.rows_read_sequentially,
                table.index_scans,
                table.rows
            )?;
        }

        writeln!(
            f,
            "\nBloat (dead rows; VACUUM above {:.0}%)",
            BLOAT_DEAD_RATIO * 100.0
        )?;
        for table in &self.bloat {
            let flag = if table.dead_ratio > BLOAT_DEAD_RATIO {
                "  <- vacuum"
            } else {
                ""
            };
            writeln!(
                f,
                "  {:<26} {:>10} live {:>9} dead ({:>5.1}%)  table {:>10}  indexes {:>10}{flag}",
                table.table,
                table.live_rows,
                table.dead_rows,
                table.dead_ratio * 100.0,
                megabytes(table.table_bytes),
                megabytes(table.indexes_bytes)
            )?;
        }

        let pool = &self.pool;
        writeln!(f, "\nThe service's connections (application_name = fulexo)")?;
        writeln!(
            f,
            "  {} active, {} idle, {} idle in a transaction, {} waiting on locks; pool size {} per instance, max_connections {}",
            pool.active,
            pool.idle,
            pool.idle_in_transaction,
            pool.waiting_on_locks,
            pool.pool_size,
            pool.max_connections
        )?;
        if pool.active >= i64::from(pool.pool_size) {
            writeln!(
                f,
                "  saturated: every connection is busy; raise DATABASE_POOL_SIZE or find the slow statements above"
            )?;
        }

        writeln!(f, "\nPostgreSQL buffer cache hit ratio")?;
        let percent = |ratio: Option<f64>| {
            ratio.map_or("no reads yet".to_owned(), |r| format!("{:.2}%", r * 100.0))
        };
        writeln!(
            f,
            "  tables {}, indexes {} (below 99% on a hot working set: more shared_buffers)",
            percent(self.cache.tables),
            percent(self.cache.indexes)
        )
    }
}

fn megabytes(bytes: i64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}
