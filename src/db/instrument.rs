//! What each pooled connection reports: every statement it sends (counted,
//! for `/metrics` and for the tests that prove a request's statement count)
//! and how long each took, by kind and table.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use diesel::connection::{DebugQuery, Instrumentation, InstrumentationEvent};

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

tokio::task_local! {
    /// The labels of the one statement the current future sends, where its
    /// code knows them ([`selecting`]).
    static KNOWN: StatementLabels;
}

/// Sends `statement`'s one `SELECT`, whose first table is `table`, with its
/// labels known: diesel would otherwise build the statement's SQL a second
/// time, for its debug view, only for the labels to be read off it (15% of
/// an `OrderDetail`'s instructions). diesel-async reports a statement when
/// its future is made, so the labels are known while `statement` makes it
/// and while it runs. Debug builds still read the labels off the SQL, and
/// panic where the two differ.
pub async fn selecting<F: Future>(table: &'static str, statement: impl FnOnce() -> F) -> F::Output {
    debug_assert!(TABLES.contains(&table), "unknown table {table}");
    let labels = StatementLabels {
        kind: "select",
        table,
    };
    let running = KNOWN.sync_scope(labels.clone(), statement);
    KNOWN.scope(labels, running).await
}

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

    fn is_on(&self) -> bool {
        self.on.load(Ordering::Acquire)
    }

    fn record(&self, text: &str, pipelined: bool) {
        if self.is_on() {
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
                // The whole text only while capturing; otherwise the SQL
                // up to its binds, and only when the labels are not known.
                let text = self.capture.is_on().then(|| query.to_string());
                if let Some(text) = &text {
                    self.capture.record(text, !self.in_flight.is_empty());
                }
                let read = || match &text {
                    Some(text) => statement_labels(text),
                    None => statement_labels(&sql_of(query)),
                };
                let labels = match KNOWN.try_with(StatementLabels::clone) {
                    Ok(known) => {
                        if cfg!(debug_assertions) {
                            assert_eq!(known, read(), "labels given for {query}");
                        }
                        known
                    }
                    Err(_) => read(),
                };
                self.in_flight.push_back((Instant::now(), labels));
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

/// The SQL of a statement without its binds: diesel's text of a statement
/// ends with `-- binds: [...]`, each bind formatted with `Debug` (50 ids
/// for a page's items), which the labels do not need.
fn sql_of(query: &dyn DebugQuery) -> String {
    /// Keeps what is written up to the binds, then stops the formatting.
    struct UntilBinds(String);

    impl fmt::Write for UntilBinds {
        fn write_str(&mut self, text: &str) -> fmt::Result {
            match text.find(BINDS) {
                Some(at) => {
                    self.0.push_str(&text[..at]);
                    Err(fmt::Error)
                }
                None if text.starts_with(BINDS.trim_start()) => Err(fmt::Error),
                None => {
                    self.0.push_str(text);
                    Ok(())
                }
            }
        }
    }

    const BINDS: &str = " -- binds: ";
    let mut sql = UntilBinds(String::new());
    // Stopped on purpose at the binds: the error is expected.
    let _ = fmt::write(&mut sql, format_args!("{query}"));
    sql.0
}

/// A statement's kind, and the first table it reads or writes.
pub fn statement_labels(sql: &str) -> StatementLabels {
    let sql = sql.trim_start();
    let first = sql
        .split(|c: char| c.is_ascii_whitespace() || c == '(')
        .next()
        .unwrap_or_default();
    let kind = ["select", "with", "insert", "update", "delete"]
        .into_iter()
        .find(|kind| first.eq_ignore_ascii_case(kind))
        .map_or("other", |kind| if kind == "with" { "select" } else { kind });
    // diesel writes keywords in capitals; a copy in lower case only for
    // the SQL written by hand in another case.
    let table = first_table(sql, ["FROM ", "INTO ", "UPDATE "])
        .or_else(|| first_table(&sql.to_ascii_lowercase(), ["from ", "into ", "update "]))
        .unwrap_or("other");
    StatementLabels { kind, table }
}

/// The known table after the first of `keywords` in `sql`.
fn first_table(sql: &str, keywords: [&str; 3]) -> Option<&'static str> {
    keywords
        .into_iter()
        .filter_map(|keyword| {
            let at = sql.find(keyword)?;
            Some((at, &sql[at + keyword.len()..]))
        })
        .min_by_key(|(at, _)| *at)
        .and_then(|(_, rest)| table_named(rest))
}

/// The known table a statement names at the start of `text`
/// (`"orders" WHERE ...`, `public.order_items oi`).
fn table_named(text: &str) -> Option<&'static str> {
    let text = text.trim_start();
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '"' | '.')))
        .unwrap_or(text.len());
    let name = text[..end].rsplit('.').next()?.trim_matches('"');
    TABLES.iter().find(|table| **table == name).copied()
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
        assert_eq!(
            labels("select count(*) From \"shipments\" s"),
            ("select", "shipments")
        );
    }

    #[test]
    fn the_sql_of_a_statement_leaves_its_binds_out() {
        use diesel::prelude::*;

        use crate::db::schema::orders;
        let ids = [uuid::Uuid::nil(), uuid::Uuid::max()];
        let query = orders::table
            .filter(orders::id.eq_any(&ids[..]))
            .select(orders::id);
        let debug = diesel::debug_query::<diesel::pg::Pg, _>(&query);
        let full = debug.to_string();
        let sql = sql_of(&debug);
        assert!(
            full.starts_with(&sql) && full.contains(" -- binds: "),
            "{full}"
        );
        assert!(sql.contains("= ANY($1)") && !sql.contains("binds"), "{sql}");
        assert_eq!(statement_labels(&sql).table, "orders");
    }
}
