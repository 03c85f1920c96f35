//! Every index of the contract serves a statement the service really
//! sends: each case builds the statement with the service's own query
//! builder (binds included) and reads the planner's choice from `EXPLAIN`.
//!
//! The test database is small, so sequential scans are turned off for the
//! session: the planner must then find the index usable for the statement
//! as written (a predicate it can prove, an operator class that fits). The
//! choices on a million orders, where the planner picks these indexes on
//! its own, are in the README.

use chrono::{Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use fulexo::db::explain::{Explain, indexes_in, sequential_scans_in};
use fulexo::db::models::audit_log::AuditLogPage;
use fulexo::db::models::order::{OrderKey, OrderPage, OrderSort};
use fulexo::db::models::shipment::ShipmentPage;
use fulexo::db::models::{DailyOrderStats, Invoice, Order, OrderItem, Shipment, User};
use fulexo::db::{OrderStatus, TenantId};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{DEMO, TestApp, TestDatabase};

async fn plan_indexes<Q>(connection: &mut AsyncPgConnection, query: Q) -> Vec<String>
where
    Q: diesel::query_builder::QueryFragment<diesel::pg::Pg> + Send,
{
    indexes_in(&plan(connection, query).await)
}

macro_rules! assert_uses {
    ($connection:expr, $index:literal, $query:expr) => {
        let used = plan_indexes($connection, $query).await;
        assert!(
            used.iter().any(|name| name == $index),
            "{} not used; the plan reads {used:?}",
            $index
        );
    };
}

#[tokio::test]
async fn the_service_queries_use_the_contract_indexes() {
    // Larger than the other tests' data, so that an index beats scanning
    // a tenant's share of a table for the loaders' batches.
    let app = TestApp::spawn_on(TestDatabase::seeded_with(3, 4000).await, &[]).await;
    let tenant: TenantId = app.tenant(DEMO);
    // An audit feed of many confirmations and a few cancellations, for
    // the GIN index to find the latter among the former.
    let order = app.insert_order(DEMO, "PENDING").await;
    tokio_postgres::Client::execute(
        &app.sql,
        "INSERT INTO audit_logs (tenant_id, entity_type, entity_id, action, changes, created_at)
         SELECT $1, 'order', $2, 'update_status',
                jsonb_build_object('before', jsonb_build_object('status', 'PENDING'),
                                   'after', jsonb_build_object('status', CASE WHEN n % 1000 = 0 THEN 'CANCELLED' ELSE 'PROCESSING' END)),
                now()
         FROM generate_series(1, 5000) AS n",
        &[&tenant.0, &order],
    )
    .await
    .unwrap();
    app.sql.batch_execute("VACUUM ANALYZE").await.unwrap();
    let order_ids: Vec<Uuid> = app
        .sql
        .query(
            "SELECT id FROM orders WHERE tenant_id = $1 LIMIT 100",
            &[&tenant.0],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let email: String = app
        .sql
        .query_one(
            "SELECT email FROM users WHERE tenant_id = $1 LIMIT 1",
            &[&tenant.0],
        )
        .await
        .unwrap()
        .get(0);

    // A cursor in the middle of the tenant's orders, for later pages.
    let middle = app
        .sql
        .query_one(
            "SELECT id, created_at FROM orders WHERE tenant_id = $1
             ORDER BY created_at DESC, id DESC OFFSET 2000 LIMIT 1",
            &[&tenant.0],
        )
        .await
        .unwrap();
    let later = OrderKey::CreatedAt(middle.get(1), middle.get(0));
    // The name the tenant's customers share most, as the support desk
    // types it (`kasia.novak` of `kasia.novak395@web.de`).
    let common_name: String = app
        .sql
        .query_one(
            "SELECT regexp_replace(split_part(customer_email, '@', 1), '[0-9]+$', '')
             FROM orders WHERE tenant_id = $1 AND customer_email IS NOT NULL
             GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
            &[&tenant.0],
        )
        .await
        .unwrap()
        .get(0);

    let url = app.state.config.database_url.clone().unwrap();
    let mut connection = AsyncPgConnection::establish(secrecy::ExposeSecret::expose_secret(&url))
        .await
        .unwrap();
    connection
        .batch_execute("SET enable_seqscan = off")
        .await
        .unwrap();
    let connection = &mut connection;

    let page = OrderPage {
        statuses: None,
        customer_email_contains: None,
        sort: OrderSort::CreatedAt,
        descending: true,
        after: None,
        limit: 51,
    };
    let open = [OrderStatus::Pending, OrderStatus::Processing];
    let packed = [OrderStatus::Packed];
    let shipments = ShipmentPage {
        undelivered: false,
        carrier: None,
        statuses: None,
        shipped_from: None,
        shipped_until: None,
        after: None,
        limit: 51,
    };

    // The loaders' batches.
    assert_uses!(
        connection,
        "order_items_order_id_idx",
        OrderItem::for_orders_query(tenant, &order_ids)
    );
    assert_uses!(
        connection,
        "shipments_order_id_idx",
        Shipment::for_orders_query(tenant, &order_ids)
    );
    assert_uses!(
        connection,
        "invoices_order_id_idx",
        Invoice::for_orders_query(tenant, &order_ids)
    );
    // OrderDetail's order.
    assert_uses!(
        connection,
        "orders_pkey",
        Order::find_by_ids_query(tenant, &order_ids[..1])
    );
    // OrdersPage: the default order, the open orders, a rarer status; first
    // pages and later ones (after a cursor).
    assert_uses!(connection, "orders_tenant_created_idx", page.query(tenant));
    assert_uses!(
        connection,
        "orders_tenant_created_idx",
        OrderPage {
            after: Some(later.clone()),
            ..page.clone()
        }
        .query(tenant)
    );
    assert_uses!(
        connection,
        "idx_orders_pending",
        OrderPage {
            statuses: Some(&open),
            after: Some(later.clone()),
            ..page.clone()
        }
        .query(tenant)
    );
    assert_uses!(
        connection,
        "idx_orders_pending",
        OrderPage {
            statuses: Some(&open),
            ..page.clone()
        }
        .query(tenant)
    );
    assert_uses!(
        connection,
        "idx_orders_list_covering",
        OrderPage {
            statuses: Some(&packed),
            ..page.clone()
        }
        .query(tenant)
    );
    // SearchOrders: a text in few e-mails goes to the trigram index; a
    // name in many walks the newest orders until the page is full, which
    // the planner only sees with customer_email's larger statistics target
    // (migration 8; with the default it estimates 1 order for the name,
    // which about 35 of this tenant's 4,000 have). The page is short for
    // these few orders: on the bench's 100,000 a tenant, 21 rows walk.
    assert_uses!(
        connection,
        "idx_orders_email_trgm",
        OrderPage {
            customer_email_contains: Some("olga.lopez3"),
            ..page.clone()
        }
        .query(tenant)
    );
    assert_uses!(
        connection,
        "orders_tenant_created_idx",
        OrderPage {
            customer_email_contains: Some(&common_name),
            limit: 5,
            ..page.clone()
        }
        .query(tenant)
    );
    // OrderStats, index-only (idx_orders_confirmed_brin served it 4x
    // slower and was dropped: see its migration).
    assert_uses!(
        connection,
        "idx_orders_list_covering",
        DailyOrderStats::query(tenant, Utc::now().date_naive(), 30)
    );
    // UndeliveredShipments for a carrier; shipments shipped in a window.
    assert_uses!(
        connection,
        "idx_shipments_undelivered",
        ShipmentPage {
            undelivered: true,
            carrier: Some("DHL"),
            ..shipments.clone()
        }
        .query(tenant)
    );
    assert_uses!(
        connection,
        "idx_shipments_shipped_brin",
        ShipmentPage {
            shipped_from: Some(Utc::now() - Duration::days(7)),
            shipped_until: Some(Utc::now()),
            ..shipments.clone()
        }
        .query(tenant)
    );
    // auditLogs(filter: {statusChangedTo: CANCELLED}).
    assert_uses!(
        connection,
        "idx_audit_logs_changes_gin",
        AuditLogPage {
            status_changed_to: Some(OrderStatus::Cancelled),
            limit: 21,
            ..AuditLogPage::default()
        }
        .query(tenant)
    );
    // fulexo token --email.
    assert_uses!(
        connection,
        "idx_users_email_hash",
        User::find_by_email_query(tenant, &email)
    );

    // With the planner choosing on its own (sequential scans allowed), no
    // statement on orders reads the whole table: OrderStats(days: 30)
    // included, which reads a month of one tenant's orders.
    connection
        .batch_execute("SET enable_seqscan = on")
        .await
        .unwrap();
    let statements: [(&str, Value); 4] = [
        (
            "OrderStats(days: 30)",
            plan(
                connection,
                DailyOrderStats::query(tenant, Utc::now().date_naive(), 30),
            )
            .await,
        ),
        ("OrdersPage", plan(connection, page.query(tenant)).await),
        (
            "OrdersPage after a cursor",
            plan(
                connection,
                OrderPage {
                    after: Some(later.clone()),
                    ..page.clone()
                }
                .query(tenant),
            )
            .await,
        ),
        (
            "OrderDetail's order",
            plan(
                connection,
                Order::find_by_ids_query(tenant, &order_ids[..1]),
            )
            .await,
        ),
    ];
    for (statement, plan) in statements {
        let scanned = sequential_scans_in(&plan);
        assert!(
            !scanned.iter().any(|table| table == "orders"),
            "{statement} scans the whole orders table: {plan}"
        );
    }
}

async fn plan<Q>(connection: &mut AsyncPgConnection, query: Q) -> Value
where
    Q: diesel::query_builder::QueryFragment<diesel::pg::Pg> + Send,
{
    Explain::plan(query).get_result(connection).await.unwrap()
}
