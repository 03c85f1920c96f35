//! The service's Prometheus metrics, one registry per running service (so
//! that two services in one test process count apart), rendered by
//! `GET /metrics`.

use std::collections::HashSet;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeLabelValue, EncodeMetric,
};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::db::Database;

/// Which cache layer answered (or did not).
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq, EncodeLabelValue)]
pub enum Layer {
    L1,
    L2,
}

#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq, EncodeLabelValue)]
pub enum Outcome {
    Hit,
    Miss,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabels {
    pub layer: Layer,
    pub outcome: Outcome,
    pub resolver: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RedisLabels {
    pub operation: String,
}

/// The cache's counters.
#[derive(Debug, Clone, Default)]
pub struct CacheMetrics {
    pub lookups: Family<CacheLabels, Counter>,
    pub redis_errors: Family<RedisLabels, Counter>,
    /// 1 while Redis answers, 0 while the cache runs without it.
    pub redis_available: Gauge,
    /// Times the loader of a cached value ran (misses that computed).
    pub loads: Family<RedisLabels, Counter>,
}

impl CacheMetrics {
    pub fn record(&self, layer: Layer, outcome: Outcome, resolver: &str) {
        self.lookups
            .get_or_create(&CacheLabels {
                layer,
                outcome,
                resolver: resolver.to_owned(),
            })
            .inc();
    }

    /// The count so far, e.g. for a benchmark's hit ratio.
    pub fn count(&self, layer: Layer, outcome: Outcome, resolver: &str) -> u64 {
        self.lookups
            .get_or_create(&CacheLabels {
                layer,
                outcome,
                resolver: resolver.to_owned(),
            })
            .get()
    }

    pub fn redis_error(&self, operation: &str) {
        self.redis_errors
            .get_or_create(&RedisLabels {
                operation: operation.to_owned(),
            })
            .inc();
    }

    pub fn loaded(&self, resolver: &str) {
        self.loads
            .get_or_create(&RedisLabels {
                operation: resolver.to_owned(),
            })
            .inc();
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusalLabels {
    /// The contract code answered (`QUERY_TOO_COMPLEX`, `QUERY_TOO_DEEP`,
    /// `RATE_LIMITED`), or `TIMEOUT` for a request stopped at its deadline.
    pub reason: &'static str,
}

/// What the guardrails refused, and what admitted requests cost: the
/// figures to tune the limits by.
#[derive(Debug, Clone)]
pub struct GuardMetrics {
    pub refused: Family<RefusalLabels, Counter>,
    pub cost: Histogram,
}

impl Default for GuardMetrics {
    fn default() -> Self {
        Self {
            refused: Family::default(),
            // 1 to ~260000 cost units, ×4 per bucket.
            cost: Histogram::new(exponential_buckets(1.0, 4.0, 10)),
        }
    }
}

impl GuardMetrics {
    pub fn refused(&self, reason: &'static str) {
        self.refused.get_or_create(&RefusalLabels { reason }).inc();
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The operation's name (`(anonymous)`, `(batch)`, or `(other)` past
    /// [`MAX_OPERATION_NAMES`] distinct names).
    pub operation: String,
    /// `ok`, `client_error`, `server_error`, `rate_limited` or `timeout`.
    pub outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabels {
    pub code: String,
}

/// Operation names are the clients' to choose: past this many distinct
/// ones, new names are counted as `(other)` so that a client cannot grow
/// the metrics without bound.
pub const MAX_OPERATION_NAMES: usize = 200;

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Request latencies in seconds: 0.5 ms to about 16 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// GraphQL requests: how long they took and how they ended, and the
/// errors they answered with.
#[derive(Debug, Clone)]
pub struct GraphQLMetrics {
    pub duration: HistogramFamily<RequestLabels>,
    pub errors: Family<CodeLabels, Counter>,
    operations: Arc<Mutex<HashSet<String>>>,
}

impl Default for GraphQLMetrics {
    fn default() -> Self {
        Self {
            duration: Family::new_with_constructor(latency_histogram),
            errors: Family::default(),
            operations: Arc::default(),
        }
    }
}

impl GraphQLMetrics {
    pub fn observe(&self, operation: Option<&str>, outcome: &'static str, elapsed: Duration) {
        let operation = match operation {
            None => "(anonymous)".to_owned(),
            Some(name) => {
                let mut known = self
                    .operations
                    .lock()
                    .unwrap_or_else(|poison| poison.into_inner());
                if known.contains(name) {
                    name.to_owned()
                } else if known.len() < MAX_OPERATION_NAMES {
                    known.insert(name.to_owned());
                    name.to_owned()
                } else {
                    "(other)".to_owned()
                }
            }
        };
        self.duration
            .get_or_create(&RequestLabels { operation, outcome })
            .observe(elapsed.as_secs_f64());
    }

    pub fn error(&self, code: &str) {
        self.errors
            .get_or_create(&CodeLabels {
                code: code.to_owned(),
            })
            .inc();
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OrderLabels {
    /// `updateOrderStatus` or `createShipment`.
    pub mutation: &'static str,
    /// The order's status after the write.
    pub status: &'static str,
}

/// Orders the mutations wrote to.
#[derive(Debug, Clone, Default)]
pub struct BusinessMetrics {
    pub orders: Family<OrderLabels, Counter>,
}

impl BusinessMetrics {
    pub fn order_processed(&self, mutation: &'static str, status: &'static str) {
        self.orders
            .get_or_create(&OrderLabels { mutation, status })
            .inc();
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatementLabels {
    /// `select`, `insert`, `update`, `delete` or `other`.
    pub kind: &'static str,
    /// The first table the statement names, or `other`.
    pub table: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LoaderLabels {
    pub loader: &'static str,
}

/// What the pool's connections and the DataLoaders report; built with the
/// pool, registered with the service's metrics.
#[derive(Debug, Clone)]
pub struct DbMetrics {
    pub statement_duration: HistogramFamily<StatementLabels>,
    pub batch_size: HistogramFamily<LoaderLabels>,
}

impl Default for DbMetrics {
    fn default() -> Self {
        Self {
            // 0.1 ms to about 3 s, doubling.
            statement_duration: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.0001, 2.0, 16))
            }),
            // 1 to 256 keys.
            batch_size: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(1.0, 2.0, 9))
            }),
        }
    }
}

impl DbMetrics {
    pub fn batch(&self, loader: &'static str, keys: usize) {
        self.batch_size
            .get_or_create(&LoaderLabels { loader })
            .observe(keys as f64);
    }
}

/// Every metric of one service.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub cache: CacheMetrics,
    pub guard: GuardMetrics,
    pub graphql: GraphQLMetrics,
    pub business: BusinessMetrics,
}

impl Metrics {
    pub fn new(database: Database) -> Self {
        let cache = CacheMetrics::default();
        let mut registry = Registry::with_prefix("fulexo");
        registry.register(
            "cache_lookups",
            "Cache lookups by layer, outcome and resolver",
            cache.lookups.clone(),
        );
        registry.register(
            "cache_loads",
            "Cached values computed from PostgreSQL, by resolver",
            cache.loads.clone(),
        );
        registry.register(
            "cache_redis_errors",
            "Redis commands that failed or timed out, by operation",
            cache.redis_errors.clone(),
        );
        registry.register(
            "cache_redis_available",
            "1 while Redis answers; 0 while the cache runs in process only",
            cache.redis_available.clone(),
        );
        let guard = GuardMetrics::default();
        registry.register(
            "requests_refused",
            "Requests refused by a limit, by reason",
            guard.refused.clone(),
        );
        registry.register(
            "request_cost",
            "Cost of the requests admitted, in cost units",
            guard.cost.clone(),
        );
        let graphql = GraphQLMetrics::default();
        registry.register_with_unit(
            "graphql_request_duration",
            "GraphQL requests by operation and outcome",
            Unit::Seconds,
            graphql.duration.clone(),
        );
        registry.register(
            "graphql_errors",
            "Errors answered, by contract code",
            graphql.errors.clone(),
        );
        let business = BusinessMetrics::default();
        registry.register(
            "orders_processed",
            "Orders written by a mutation, by mutation and resulting status",
            business.orders.clone(),
        );
        let db = database.metrics();
        registry.register_with_unit(
            "db_statement_duration",
            "SQL statements by kind and table",
            Unit::Seconds,
            db.statement_duration.clone(),
        );
        registry.register(
            "dataloader_batch_size",
            "Keys per DataLoader batch, by loader",
            db.batch_size.clone(),
        );
        registry.register_collector(Box::new(DatabaseCollector(database)));
        Self {
            registry,
            cache,
            guard,
            graphql,
            business,
        }
    }

    /// The text exposition format (OpenMetrics, which Prometheus reads).
    pub fn render(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            let _ = writeln!(text, "# EOF");
        }
        text
    }
}

/// The pool's figures, read at each scrape.
#[derive(Debug)]
struct DatabaseCollector(Database);

impl Collector for DatabaseCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let statements = ConstCounter::new(self.0.statements_sent());
        let metric = encoder.encode_descriptor(
            "db_statements",
            "SQL statements sent to PostgreSQL",
            None,
            statements.metric_type(),
        )?;
        statements.encode(metric)?;
        let state = self.0.state();
        for (name, help, value) in [
            (
                "db_pool_connections_idle",
                "Idle pooled connections",
                state.idle_connections,
            ),
            (
                "db_pool_connections_in_use",
                "Pooled connections in use",
                state.connections - state.idle_connections,
            ),
            (
                "db_pool_connections_max",
                "The pool's size",
                self.0.max_size(),
            ),
            (
                "db_pool_waiting",
                "Requests waiting for a pooled connection",
                self.0.waiting(),
            ),
        ] {
            let gauge = ConstGauge::new(i64::from(value));
            let metric = encoder.encode_descriptor(name, help, None, gauge.metric_type())?;
            gauge.encode(metric)?;
        }
        Ok(())
    }
}
