//! Tenant isolation: every read and write is confined to the token's
//! tenant; another tenant's id behaves exactly like one that does not exist.

use fulexo::auth::Role;
use fulexo::graphql::ids::{GlobalId, NodeKind};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{DEMO, OTHER, TestApp, error_code, operation};

async fn one_id(app: &TestApp, table: &str, slug: &str) -> Uuid {
    app.sql
        .query_one(
            &format!("SELECT id FROM {table} WHERE tenant_id = $1 ORDER BY id LIMIT 1"),
            &[&app.tenant(slug).0],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn another_tenants_objects_look_like_missing_ones() {
    let app = TestApp::spawn().await;
    let intruder = app.token(OTHER, Role::Admin).await;
    for (table, kind) in [
        ("orders", NodeKind::Order),
        ("order_items", NodeKind::OrderItem),
        ("shipments", NodeKind::Shipment),
        ("invoices", NodeKind::Invoice),
        ("products", NodeKind::Product),
    ] {
        let id = GlobalId::encode(kind, one_id(&app, table, DEMO).await).0;
        let missing = GlobalId::encode(kind, Uuid::now_v7()).0;
        for id in [&id, &missing] {
            let data = app
                .data(&intruder, &operation("NodeLookup"), json!({ "id": id }))
                .await;
            assert_eq!(data, json!({ "node": null }), "{table}");
        }
    }
    let order = GlobalId::encode(NodeKind::Order, one_id(&app, "orders", DEMO).await).0;
    let data = app
        .data(&intruder, &operation("OrderDetail"), json!({ "id": order }))
        .await;
    assert_eq!(data, json!({ "order": null }));
}

#[tokio::test]
async fn lists_hold_only_the_callers_rows() {
    let app = TestApp::spawn().await;
    for slug in [DEMO, OTHER] {
        let token = app.token(slug, Role::Viewer).await;
        let tenant = app.tenant(slug).0;
        let data = app
            .data(&token, &operation("OrdersPage"), json!({ "first": 100 }))
            .await;
        let orders: Vec<Uuid> = data["orders"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|edge| {
                GlobalId::decode(edge["node"]["id"].as_str().unwrap())
                    .unwrap()
                    .id
            })
            .collect();
        let items: Vec<Uuid> = data["orders"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|edge| edge["node"]["items"].as_array().unwrap().clone())
            .map(|item| GlobalId::decode(item["id"].as_str().unwrap()).unwrap().id)
            .collect();
        assert_eq!(orders.len(), 100);
        let foreign_orders: i64 = app
            .sql
            .query_one(
                "SELECT count(*) FROM orders WHERE id = ANY($1) AND tenant_id <> $2",
                &[&orders, &tenant],
            )
            .await
            .unwrap()
            .get(0);
        let foreign_items: i64 = app
            .sql
            .query_one(
                "SELECT count(*) FROM order_items WHERE id = ANY($1) AND tenant_id <> $2",
                &[&items, &tenant],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!((foreign_orders, foreign_items), (0, 0));

        let data = app
            .data(
                &token,
                &operation("UndeliveredShipments"),
                json!({ "first": 100 }),
            )
            .await;
        for edge in data["shipments"]["edges"].as_array().unwrap() {
            let shipment = GlobalId::decode(edge["node"]["id"].as_str().unwrap())
                .unwrap()
                .id;
            let owner: Uuid = app
                .sql
                .query_one(
                    "SELECT tenant_id FROM shipments WHERE id = $1",
                    &[&shipment],
                )
                .await
                .unwrap()
                .get(0);
            assert_eq!(owner, tenant);
        }
    }
}

#[tokio::test]
async fn stats_count_only_the_callers_orders() {
    let app = TestApp::spawn().await;
    for slug in [DEMO, OTHER] {
        let token = app.token(slug, Role::Viewer).await;
        let data = app
            .data(&token, &operation("OrderStats"), json!({ "days": 366 }))
            .await;
        let total = data["orderStats"][0]["cumulativeOrders"].as_i64().unwrap();
        let expected: i64 = app
            .sql
            .query_one(
                "SELECT count(*) FROM orders WHERE tenant_id = $1 AND confirmed_at >= ((now() AT TIME ZONE 'UTC')::date - 365)::timestamp AT TIME ZONE 'UTC'",
                &[&app.tenant(slug).0],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(total, expected, "{slug}");
    }
}

#[tokio::test]
async fn mutations_on_another_tenants_order_change_nothing() {
    let app = TestApp::spawn().await;
    let intruder = app.token(OTHER, Role::Admin).await;
    let order = app.insert_order(DEMO, "PENDING").await;
    let id = GlobalId::encode(NodeKind::Order, order).0;
    let audit_before = app.count("audit_logs").await;
    let shipments_before = app.count("shipments").await;

    let (_, body) = app
        .graphql(
            &intruder,
            &operation("UpdateOrderStatus"),
            json!({ "id": id, "status": "PROCESSING" }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let (_, body) = app
        .graphql(
            &intruder,
            &operation("CreateShipment"),
            json!({ "orderId": id, "carrier": "DHL", "trackingNo": "INTRUDER-1" }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");

    let status: String = app
        .sql
        .query_one("SELECT status::text FROM orders WHERE id = $1", &[&order])
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "PENDING");
    assert_eq!(app.count("audit_logs").await, audit_before);
    assert_eq!(app.count("shipments").await, shipments_before);
    // The refusal reads exactly as for an id that does not exist.
    let missing = GlobalId::encode(NodeKind::Order, Uuid::now_v7()).0;
    let (_, unknown) = app
        .graphql(
            &intruder,
            &operation("UpdateOrderStatus"),
            json!({ "id": missing, "status": "PROCESSING" }),
        )
        .await;
    let shape = |body: &Value| {
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .replace(&id, "ID")
            .replace(&missing, "ID")
    };
    assert_eq!(
        shape(&body_for(&app, &intruder, &id).await),
        shape(&unknown)
    );
}

async fn body_for(app: &TestApp, token: &str, id: &str) -> Value {
    app.graphql(
        token,
        &operation("UpdateOrderStatus"),
        json!({ "id": id, "status": "PROCESSING" }),
    )
    .await
    .1
}
