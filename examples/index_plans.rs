//! Which index the planner picks, on its own, for each statement the
//! service sends, on a large database (the statements of
//! `tests/api/indexes.rs`, which checks the same with sequential scans off
//! on small data).
//!
//! `DATABASE_URL=postgres://postgres@127.0.0.1/fulexo_1m cargo run --release --example index_plans`
//! (seed it first: `fulexo seed --tenants 10 --orders 100000`).

// async-graphql's resolver futures nest deeper than the default limit.
#![recursion_limit = "256"]

use chrono::{Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use fulexo::db::explain::{Explain, indexes_in};
use fulexo::db::models::audit_log::AuditLogPage;
use fulexo::db::models::order::{OrderPage, OrderSort};
use fulexo::db::models::shipment::ShipmentPage;
use fulexo::db::models::{DailyOrderStats, Invoice, OrderItem, Shipment, User};
use fulexo::db::{OrderStatus, TenantId};
use serde_json::Value;
use tokio_postgres::NoTls;
use uuid::Uuid;

async fn show<Q>(connection: &mut AsyncPgConnection, statement: &str, query: Q)
where
    Q: diesel::query_builder::QueryFragment<diesel::pg::Pg> + Send,
{
    let plan: Value = Explain::analyze(query)
        .get_result(connection)
        .await
        .unwrap();
    let time = plan[0]["Execution Time"].as_f64().unwrap_or_default();
    println!(
        "{statement:<44} {time:>8.2} ms   {}",
        indexes_in(&plan).join(", ")
    );
}

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("set DATABASE_URL to a seeded database");
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    let tenant = TenantId(
        client
            .query_one("SELECT id FROM tenants WHERE slug = 'demo'", &[])
            .await
            .unwrap()
            .get(0),
    );
    let order_ids: Vec<Uuid> = client
        .query(
            "SELECT id FROM orders WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 100",
            &[&tenant.0],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let counts = client
        .query_one(
            "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM tenants)",
            &[],
        )
        .await
        .unwrap();
    println!(
        "{} orders of {} tenants; plans for tenant `demo`\n",
        counts.get::<_, i64>(0),
        counts.get::<_, i64>(1)
    );

    let mut connection = AsyncPgConnection::establish(&url).await.unwrap();
    let connection = &mut connection;
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
    show(
        connection,
        "items of 100 orders (loader)",
        OrderItem::for_orders_query(tenant, &order_ids),
    )
    .await;
    show(
        connection,
        "shipments of 100 orders (loader)",
        Shipment::for_orders_query(tenant, &order_ids),
    )
    .await;
    show(
        connection,
        "invoices of 100 orders (loader)",
        Invoice::for_orders_query(tenant, &order_ids),
    )
    .await;
    show(connection, "OrdersPage(first: 50)", page.query(tenant)).await;
    show(
        connection,
        "OrdersPage(status: PENDING|PROCESSING)",
        OrderPage {
            statuses: Some(&open),
            ..page.clone()
        }
        .query(tenant),
    )
    .await;
    show(
        connection,
        "OrdersPage(status: PACKED)",
        OrderPage {
            statuses: Some(&packed),
            ..page.clone()
        }
        .query(tenant),
    )
    .await;
    show(
        connection,
        "SearchOrders(q: \"olga.lopez39@\")",
        OrderPage {
            customer_email_contains: Some("olga.lopez39@"),
            ..page.clone()
        }
        .query(tenant),
    )
    .await;
    show(
        connection,
        "OrderStats(days: 30)",
        DailyOrderStats::query(tenant, Utc::now().date_naive(), 30),
    )
    .await;
    show(
        connection,
        "UndeliveredShipments(carrier: DHL)",
        ShipmentPage {
            undelivered: true,
            carrier: Some("DHL"),
            ..shipments.clone()
        }
        .query(tenant),
    )
    .await;
    show(
        connection,
        "shipments shipped on one day 60 days ago",
        ShipmentPage {
            shipped_from: Some(Utc::now() - Duration::days(60)),
            shipped_until: Some(Utc::now() - Duration::days(59)),
            ..shipments.clone()
        }
        .query(tenant),
    )
    .await;
    show(
        connection,
        "auditLogs(statusChangedTo: CANCELLED)",
        AuditLogPage {
            status_changed_to: Some(OrderStatus::Cancelled),
            limit: 21,
            ..AuditLogPage::default()
        }
        .query(tenant),
    )
    .await;
    show(
        connection,
        "token --email admin@demo.example.com",
        User::find_by_email_query(tenant, "admin@demo.example.com"),
    )
    .await;
}
