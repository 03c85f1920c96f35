//! The service's Prometheus metrics, one registry per running service (so
//! that two services in one test process count apart), rendered by
//! `GET /metrics`.

use std::fmt::Write;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeLabelValue, EncodeMetric,
};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

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

/// Every metric of one service.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub cache: CacheMetrics,
    pub guard: GuardMetrics,
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
        registry.register_collector(Box::new(DatabaseCollector(database)));
        Self {
            registry,
            cache,
            guard,
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
        ] {
            let gauge = ConstGauge::new(i64::from(value));
            let metric = encoder.encode_descriptor(name, help, None, gauge.metric_type())?;
            gauge.encode(metric)?;
        }
        Ok(())
    }
}
