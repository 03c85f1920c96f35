//! Which index the planner picks, on its own, for each statement the
//! service sends, on a large database (the statements of
//! `tests/api/indexes.rs`, which checks the same with sequential scans off
//! on small data), and how long each takes: the median of `PLAN_RUNS`
//! (default 5) `EXPLAIN ANALYZE` runs, after one unmeasured run, planning
//! and execution apart.
//!
//! When the database holds the partitioned copies of `orders` that
//! `examples/partition_orders.sql` builds (by month, by tenant), each
//! statement also runs on them (`search_path` picks the table) and the
//! layouts are printed side by side, with how many partitions each plan
//! reads.
//!
//! `DATABASE_URL=postgres://postgres@127.0.0.1/fulexo_10m cargo run --release --example index_plans`
//! (seed it first: `fulexo seed --tenants 10 --orders 1000000`).

// async-graphql's resolver futures nest deeper than the default limit.
#![recursion_limit = "256"]

use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use fulexo::db::explain::{Explain, indexes_in, plan_nodes};
use fulexo::db::models::audit_log::AuditLogPage;
use fulexo::db::models::order::{OrderKey, OrderPage, OrderSort};
use fulexo::db::models::shipment::ShipmentPage;
use fulexo::db::models::{DailyOrderStats, Invoice, Order, OrderItem, Shipment, User};
use fulexo::db::{OrderStatus, TenantId};
use serde_json::Value;
use tokio_postgres::NoTls;
use uuid::Uuid;

/// A table layout a statement runs on: the schema holding its `orders`.
#[derive(Clone, Copy, PartialEq)]
struct Layout {
    schema: &'static str,
    heading: &'static str,
}

const PLAIN: Layout = Layout {
    schema: "public",
    heading: "index",
};
/// The copies `examples/partition_orders.sql` builds.
const PARTITIONED: [Layout; 2] = [
    Layout {
        schema: "by_month",
        heading: "partitioned by month",
    },
    Layout {
        schema: "by_tenant",
        heading: "partitioned by tenant",
    },
];

impl Layout {
    fn search_path(self) -> String {
        format!("SET search_path TO {}, public", self.schema)
    }
}

/// What the runs of one statement on one layout measured.
struct Timing {
    planning_ms: f64,
    execution_ms: f64,
    indexes: Vec<String>,
    /// Partitions of `orders` the plan reads.
    partitions: usize,
}

struct Planner {
    connection: AsyncPgConnection,
    layouts: Vec<Layout>,
    runs: usize,
}

impl Planner {
    /// Runs the statement `query()` builds on every layout and prints a line.
    async fn show<Q>(&mut self, statement: &str, query: impl Fn() -> Q)
    where
        Q: diesel::query_builder::QueryFragment<diesel::pg::Pg> + Send,
    {
        let mut line = format!("{statement:<44}");
        for layout in self.layouts.clone() {
            self.connection
                .batch_execute(&layout.search_path())
                .await
                .unwrap();
            let timing = self.time(&query).await;
            let plan = if layout == PLAIN {
                format!("{:<36}", timing.indexes.join(", "))
            } else {
                format!("{:<21}", format!("{} partitions", timing.partitions))
            };
            line += &format!(
                " | {:>8.3} {:>6.3} ms  {plan}",
                timing.execution_ms, timing.planning_ms
            );
        }
        println!("{}", line.trim_end());
    }

    async fn time<Q>(&mut self, query: &impl Fn() -> Q) -> Timing
    where
        Q: diesel::query_builder::QueryFragment<diesel::pg::Pg> + Send,
    {
        let mut plans = Vec::new();
        // The first run warms the caches and is not counted.
        for _ in 0..=self.runs {
            let plan: Value = Explain::analyze(query())
                .get_result(&mut self.connection)
                .await
                .unwrap();
            plans.push(plan);
        }
        plans.remove(0);
        let median = |field: &str| {
            let mut values: Vec<f64> = plans
                .iter()
                .map(|plan| plan[0][field].as_f64().unwrap_or_default())
                .collect();
            values.sort_by(f64::total_cmp);
            values[values.len() / 2]
        };
        let last = plans.last().expect("at least one run");
        let mut indexes = indexes_in(last);
        indexes.dedup();
        Timing {
            planning_ms: median("Planning Time"),
            execution_ms: median("Execution Time"),
            partitions: partitions_in(last),
            indexes,
        }
    }
}

/// How many distinct partitions of `orders` (`orders_…`) the plan reads.
fn partitions_in(plan: &Value) -> usize {
    let mut found: Vec<&str> = plan_nodes(plan)
        .into_iter()
        .filter_map(|node| node.get("Relation Name")?.as_str())
        .filter(|name| name.starts_with("orders_"))
        .collect();
    found.sort_unstable();
    found.dedup();
    found.len()
}

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("set DATABASE_URL to a seeded database");
    let runs: usize = std::env::var("PLAN_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(5);
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    let tenant = TenantId(
        client
            .query_one("SELECT id FROM tenants WHERE slug = 'demo'", &[])
            .await
            .unwrap()
            .get(0),
    );
    let newest = client
        .query(
            "SELECT id, created_at FROM orders WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 100",
            &[&tenant.0],
        )
        .await
        .unwrap();
    let order_ids: Vec<Uuid> = newest.iter().map(|row| row.get(0)).collect();
    // A cursor half a year back, for a later page.
    let deep = client
        .query_one(
            "SELECT id, created_at FROM orders WHERE tenant_id = $1
             ORDER BY created_at DESC, id DESC OFFSET (SELECT count(*) / 2 FROM orders WHERE tenant_id = $1) LIMIT 1",
            &[&tenant.0],
        )
        .await
        .unwrap();
    let deep_cursor = OrderKey::CreatedAt(deep.get::<_, DateTime<Utc>>(1), deep.get(0));
    // The newest order's customer name as the support desk types it
    // (`maja.novak` of `maja.novak612@wp.pl`): the floor's and the load
    // mix's search, a text in many e-mails.
    let name: String = client
        .query_one(
            "SELECT regexp_replace(split_part(customer_email, '@', 1), '[0-9]+$', '')
             FROM orders WHERE tenant_id = $1 AND customer_email IS NOT NULL
             ORDER BY created_at DESC, id DESC LIMIT 1",
            &[&tenant.0],
        )
        .await
        .unwrap()
        .get(0);
    let mut layouts = vec![PLAIN];
    for layout in PARTITIONED {
        let present = client
            .query_opt(
                "SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'orders'",
                &[&layout.schema],
            )
            .await
            .unwrap()
            .is_some();
        if present {
            layouts.push(layout);
        }
    }
    let counts = client
        .query_one(
            "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM tenants)",
            &[],
        )
        .await
        .unwrap();
    println!(
        "{} orders of {} tenants; plans for tenant `demo`; median of {runs} runs",
        counts.get::<_, i64>(0),
        counts.get::<_, i64>(1)
    );
    let mut header = format!("{:<44}", "statement");
    for layout in &layouts {
        let width = if *layout == PLAIN { 36 } else { 21 };
        header += &format!(" |  exec ms plan ms  {:<width$}", layout.heading);
    }
    println!("{}", header.trim_end());

    let mut planner = Planner {
        connection: AsyncPgConnection::establish(&url).await.unwrap(),
        layouts,
        runs,
    };
    let page = OrderPage {
        statuses: None,
        customer_email_contains: None,
        sort: OrderSort::CreatedAt,
        descending: true,
        after: None,
        limit: 51,
    };
    let shipments = ShipmentPage {
        undelivered: false,
        carrier: None,
        statuses: None,
        shipped_from: None,
        shipped_until: None,
        after: None,
        limit: 51,
    };
    let open = [OrderStatus::Pending, OrderStatus::Processing];
    let packed = [OrderStatus::Packed];
    let one_order = &order_ids[..1];
    let deep_page = OrderPage {
        after: Some(deep_cursor.clone()),
        ..page.clone()
    };
    let open_page = OrderPage {
        statuses: Some(&open),
        ..page.clone()
    };
    let deep_open_page = OrderPage {
        statuses: Some(&open),
        after: Some(deep_cursor.clone()),
        ..page.clone()
    };
    let packed_page = OrderPage {
        statuses: Some(&packed),
        ..page.clone()
    };
    let deep_packed_page = OrderPage {
        statuses: Some(&packed),
        after: Some(deep_cursor.clone()),
        ..page.clone()
    };
    let search_page = OrderPage {
        customer_email_contains: Some("olga.lopez39@"),
        ..page.clone()
    };
    let name_page = OrderPage {
        customer_email_contains: Some(&name),
        limit: 21,
        ..page.clone()
    };
    let undelivered_dhl = ShipmentPage {
        undelivered: true,
        carrier: Some("DHL"),
        ..shipments.clone()
    };
    let shipped_one_day = ShipmentPage {
        shipped_from: Some(Utc::now() - Duration::days(60)),
        shipped_until: Some(Utc::now() - Duration::days(59)),
        ..shipments.clone()
    };
    let cancellations = AuditLogPage {
        status_changed_to: Some(OrderStatus::Cancelled),
        limit: 21,
        ..AuditLogPage::default()
    };

    // OrdersPage: the first page, a page half a year back, with and
    // without a status filter, and the page's relations.
    planner
        .show("OrdersPage(first: 50)", || page.query(tenant))
        .await;
    planner
        .show("OrdersPage, a page half a year back", || {
            deep_page.query(tenant)
        })
        .await;
    planner
        .show("OrdersPage(status: PENDING|PROCESSING)", || {
            open_page.query(tenant)
        })
        .await;
    planner
        .show("  the same, half a year back", || {
            deep_open_page.query(tenant)
        })
        .await;
    planner
        .show("OrdersPage(status: PACKED)", || packed_page.query(tenant))
        .await;
    planner
        .show("  the same, half a year back", || {
            deep_packed_page.query(tenant)
        })
        .await;
    planner
        .show("items of 100 orders (loader)", || {
            OrderItem::for_orders_query(tenant, &order_ids)
        })
        .await;
    planner
        .show("shipments of 100 orders (loader)", || {
            Shipment::for_orders_query(tenant, &order_ids)
        })
        .await;
    planner
        .show("invoices of 100 orders (loader)", || {
            Invoice::for_orders_query(tenant, &order_ids)
        })
        .await;
    // OrderDetail: the order, then its relations.
    planner
        .show("OrderDetail: the order", || {
            Order::find_by_ids_query(tenant, one_order)
        })
        .await;
    planner
        .show("OrderDetail: its items", || {
            OrderItem::for_orders_query(tenant, one_order)
        })
        .await;
    planner
        .show("OrderDetail: its shipments", || {
            Shipment::for_orders_query(tenant, one_order)
        })
        .await;
    planner
        .show("OrderDetail: its invoices", || {
            Invoice::for_orders_query(tenant, one_order)
        })
        .await;
    planner
        .show("SearchOrders(q: \"olga.lopez39@\")", || {
            search_page.query(tenant)
        })
        .await;
    planner
        .show(&format!("SearchOrders(q: \"{name}\", first: 20)"), || {
            name_page.query(tenant)
        })
        .await;
    planner
        .show("OrderStats(days: 30)", || {
            DailyOrderStats::query(tenant, Utc::now().date_naive(), 30)
        })
        .await;
    planner
        .show("UndeliveredShipments(carrier: DHL)", || {
            undelivered_dhl.query(tenant)
        })
        .await;
    planner
        .show("shipments shipped on one day 60 days ago", || {
            shipped_one_day.query(tenant)
        })
        .await;
    planner
        .show("auditLogs(statusChangedTo: CANCELLED)", || {
            cancellations.query(tenant)
        })
        .await;
    planner
        .show("token --email admin@demo.example.com", || {
            User::find_by_email_query(tenant, "admin@demo.example.com")
        })
        .await;
}
