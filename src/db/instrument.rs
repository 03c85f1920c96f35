//! What each pooled connection reports: every statement it sends (counted,
//! for `/metrics` and for the tests that prove a request's statement count)
//! and how long each took, by kind and table.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use diesel::connection::{Instrumentation, InstrumentationEvent};

use crate::metrics::{DbMetrics, StatementLabels};

/// The tables a statement label may name (bounded: one series per table).
const TABLES: [&str; 12] = [
    "audit_logs",
    "invoices",
    "order_items",
    "orders",
    "persisted_clients",
    "persisted_documents",
    "persisted_registry",
    "products",
    "shipments",
    "tenant_rate_limits",
    "tenants",
    "users",
];

/// The statements sent while capturing is on (`examples/floor` replays the
/// very statements a request sends with `pgbench`, pipelined as they were).
#[derive(Debug, Clone, Default)]
pub struct StatementCapture {
    on: Arc<AtomicBool>,
    statements: Arc<Mutex<Vec<CapturedStatement>>>,
}

/// One statement a connection sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedStatement {
    /// The SQL, then `-- binds: [...]`.
    pub text: String,
    /// Sent while the statement before it on its connection was still
    /// unanswered: in the same pipeline.
    pub pipelined: bool,
}

impl StatementCapture {
    /// Starts recording, forgetting what was recorded before.
    pub fn start(&self) {
        self.lock().clear();
        self.on.store(true, Ordering::Release);
    }

    /// Stops recording; the statements sent meanwhile, in the order they
    /// were sent.
    pub fn stop(&self) -> Vec<CapturedStatement> {
        self.on.store(false, Ordering::Release);
        std::mem::take(&mut *self.lock())
    }

    fn record(&self, text: &str, pipelined: bool) {
        if self.on.load(Ordering::Acquire) {
            self.lock().push(CapturedStatement {
                text: text.to_owned(),
                pipelined,
            });
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<CapturedStatement>> {
        self.statements
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

/// One connection's instrumentation.
pub struct StatementTimer {
    statements: Arc<AtomicU64>,
    metrics: DbMetrics,
    capture: StatementCapture,
    /// Statements sent and not yet answered, oldest first: a pipelining
    /// connection answers in the order it sent.
    in_flight: VecDeque<(Instant, StatementLabels)>,
}

impl StatementTimer {
    pub fn new(statements: Arc<AtomicU64>, metrics: DbMetrics, capture: StatementCapture) -> Self {
        Self {
            statements,
            metrics,
            capture,
            in_flight: VecDeque::new(),
        }
    }
}

impl Instrumentation for StatementTimer {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                self.statements.fetch_add(1, Ordering::Relaxed);
                let sql = query.to_string();
                self.capture.record(&sql, !self.in_flight.is_empty());
                self.in_flight
                    .push_back((Instant::now(), statement_labels(&sql)));
            }
            InstrumentationEvent::FinishQuery { .. } => {
                if let Some((started, labels)) = self.in_flight.pop_front() {
                    self.metrics
                        .statement_duration
                        .get_or_create(&labels)
                        .observe(started.elapsed().as_secs_f64());
                }
            }
            _ => {}
        }
    }
}

/// A statement's kind, and the first table it reads or writes.
pub fn statement_labels(sql: &str) -> StatementLabels {
    let lower = sql.trim_start().to_ascii_lowercase();
    let kind = match lower.split_whitespace().next().unwrap_or_default() {
        "select" | "with" => "select",
        "insert" => "insert",
        "update" => "update",
        "delete" => "delete",
        _ => "other",
    };
    let table = ["from ", "into ", "update "]
        .iter()
        .filter_map(|keyword| {
            let at = lower.find(keyword)?;
            Some((at, &lower[at + keyword.len()..]))
        })
        .min_by_key(|(at, _)| *at)
        .and_then(|(_, rest)| {
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '"' | '.'))
                .filter(|c| *c != '"')
                .collect();
            let name = name.rsplit('.').next().unwrap_or_default().to_owned();
            TABLES.iter().find(|table| **table == name).copied()
        })
        .unwrap_or("other");
    StatementLabels { kind, table }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_labelled_by_kind_and_first_table() {
        let labels = |sql| {
            let labels = statement_labels(sql);
            (labels.kind, labels.table)
        };
        assert_eq!(
            labels(r#"SELECT "orders"."id" FROM "orders" WHERE "orders"."tenant_id" = $1"#),
            ("select", "orders")
        );
        assert_eq!(
            labels(r#"INSERT INTO "audit_logs" ("id") VALUES ($1)"#),
            ("insert", "audit_logs")
        );
        assert_eq!(
            labels(r#"UPDATE "orders" SET "status" = $1"#),
            ("update", "orders")
        );
        assert_eq!(
            labels("WITH days AS (SELECT day FROM generate_series(1, 2) day) SELECT * FROM orders"),
            ("select", "other")
        );
        assert_eq!(
            labels("SELECT * FROM public.order_items oi"),
            ("select", "order_items")
        );
        assert_eq!(labels("SET statement_timeout = 1"), ("other", "other"));
    }
}
