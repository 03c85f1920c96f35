//! Every operation of `../shared/contract/operations/` answers what SQL
//! says the data is.

use std::collections::BTreeMap;
use std::str::FromStr;

use bigdecimal::{BigDecimal, RoundingMode};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use fulexo::auth::Role;
use fulexo::graphql::ids::{GlobalId, NodeKind};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{DEMO, TestApp, instant, operation};

fn id(kind: NodeKind, uuid: Uuid) -> Value {
    json!(GlobalId::encode(kind, uuid).0)
}

fn opt_instant(value: Option<DateTime<Utc>>) -> Value {
    value.map_or(Value::Null, |value| json!(instant(value)))
}

/// The order's items and shipments as the OrdersPage operation selects them.
async fn page_relations(app: &TestApp, order: Uuid) -> (Value, Value) {
    let items = app
        .sql
        .query(
            "SELECT id, sku, name, quantity, unit_price::text FROM order_items
             WHERE order_id = $1 ORDER BY created_at, id",
            &[&order],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| {
            json!({
                "id": id(NodeKind::OrderItem, row.get(0)),
                "sku": row.get::<_, String>(1),
                "name": row.get::<_, String>(2),
                "quantity": row.get::<_, i32>(3),
                "unitPrice": row.get::<_, String>(4),
            })
        })
        .collect();
    let shipments = app
        .sql
        .query(
            "SELECT id, carrier, tracking_no, status::text, shipped_at FROM shipments
             WHERE order_id = $1 ORDER BY created_at, id",
            &[&order],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| {
            json!({
                "id": id(NodeKind::Shipment, row.get(0)),
                "carrier": row.get::<_, String>(1),
                "trackingNo": row.get::<_, Option<String>>(2),
                "status": row.get::<_, String>(3),
                "shippedAt": opt_instant(row.get(4)),
            })
        })
        .collect();
    (Value::Array(items), Value::Array(shipments))
}

/// OrdersPage's edges' nodes for these SQL rows.
async fn expected_page(app: &TestApp, rows: &[tokio_postgres::Row]) -> Vec<Value> {
    let mut nodes = Vec::new();
    for row in rows {
        let order: Uuid = row.get("id");
        let (items, shipments) = page_relations(app, order).await;
        nodes.push(json!({
            "id": id(NodeKind::Order, order),
            "externalOrderNo": row.get::<_, Option<String>>("external_order_no"),
            "status": row.get::<_, String>("status"),
            "total": row.get::<_, String>("total"),
            "currency": row.get::<_, String>("currency"),
            "customerEmail": row.get::<_, Option<String>>("customer_email"),
            "createdAt": instant(row.get("created_at")),
            "confirmedAt": opt_instant(row.get("confirmed_at")),
            "items": items,
            "shipments": shipments,
        }));
    }
    nodes
}

const ORDER_COLUMNS: &str = "id, external_order_no, status::text AS status, total::text AS total, \
    currency, customer_email, created_at, confirmed_at";

#[tokio::test]
async fn orders_page_answers_the_newest_orders_with_their_items_and_shipments() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Member).await;
    let tenant = app.tenant(DEMO);

    let data = app
        .data(&token, &operation("OrdersPage"), json!({ "first": 25 }))
        .await;

    let rows = app
        .sql
        .query(
            &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT 25"),
            &[&tenant.0],
        )
        .await
        .unwrap();
    let nodes: Vec<Value> = data["orders"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"].clone())
        .collect();
    assert_eq!(nodes.len(), 25);
    assert_eq!(nodes, expected_page(&app, &rows).await);
    assert_eq!(data["orders"]["pageInfo"]["hasNextPage"], json!(true));
    let last_cursor = data["orders"]["edges"][24]["cursor"].clone();
    assert_eq!(data["orders"]["pageInfo"]["endCursor"], last_cursor);
}

#[tokio::test]
async fn orders_page_filters_by_status() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Member).await;
    let tenant = app.tenant(DEMO);

    let data = app
        .data(
            &token,
            &operation("OrdersPage"),
            json!({ "first": 100, "status": ["PENDING", "PROCESSING"] }),
        )
        .await;

    let rows = app
        .sql
        .query(
            &format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE tenant_id = $1
                 AND status IN ('PENDING', 'PROCESSING') ORDER BY created_at DESC, id DESC LIMIT 100"
            ),
            &[&tenant.0],
        )
        .await
        .unwrap();
    assert!(!rows.is_empty(), "the seed has open orders");
    let nodes: Vec<Value> = data["orders"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"].clone())
        .collect();
    assert_eq!(nodes, expected_page(&app, &rows).await);
}

#[tokio::test]
async fn search_orders_finds_email_substrings_ignoring_case() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Member).await;
    let tenant = app.tenant(DEMO);

    let data = app
        .data(
            &token,
            &operation("SearchOrders"),
            json!({ "q": "NOWAK", "first": 100 }),
        )
        .await;

    let expected: Vec<Value> = app
        .sql
        .query(
            "SELECT id, customer_email, status::text, total::text, currency, created_at FROM orders
             WHERE tenant_id = $1 AND lower(customer_email) LIKE '%nowak%'
             ORDER BY created_at DESC, id DESC LIMIT 100",
            &[&tenant.0],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| {
            json!({ "node": {
                "id": id(NodeKind::Order, row.get(0)),
                "customerEmail": row.get::<_, String>(1),
                "status": row.get::<_, String>(2),
                "total": row.get::<_, String>(3),
                "currency": row.get::<_, String>(4),
                "createdAt": instant(row.get(5)),
            }})
        })
        .collect();
    assert!(!expected.is_empty(), "the seed has customers named Nowak");
    assert_eq!(data["orders"]["edges"], Value::Array(expected));
    let matching: i64 = app
        .sql
        .query_one(
            "SELECT count(*) FROM orders WHERE tenant_id = $1 AND lower(customer_email) LIKE '%nowak%'",
            &[&tenant.0],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        data["orders"]["pageInfo"]["hasNextPage"],
        json!(matching > 100)
    );
}

#[tokio::test]
async fn a_search_for_wildcards_matches_them_literally() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Member).await;
    let data = app
        .data(
            &token,
            &operation("SearchOrders"),
            json!({ "q": "%", "first": 10 }),
        )
        .await;
    assert_eq!(data["orders"]["edges"], json!([]));
}

#[tokio::test]
async fn undelivered_shipments_lists_a_carriers_open_parcels_with_their_orders() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Member).await;
    let tenant = app.tenant(DEMO);

    let data = app
        .data(
            &token,
            &operation("UndeliveredShipments"),
            json!({ "first": 100, "carrier": "DHL" }),
        )
        .await;

    let expected: Vec<Value> = app
        .sql
        .query(
            "SELECT s.id, s.carrier, s.tracking_no, s.status::text, s.shipped_at,
                    o.id, o.external_order_no, o.customer_email, o.status::text
             FROM shipments s JOIN orders o ON o.id = s.order_id
             WHERE s.tenant_id = $1 AND s.status <> 'DELIVERED' AND s.carrier = 'DHL'
             ORDER BY s.created_at DESC, s.id DESC LIMIT 100",
            &[&tenant.0],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| {
            json!({ "node": {
                "id": id(NodeKind::Shipment, row.get(0)),
                "carrier": row.get::<_, String>(1),
                "trackingNo": row.get::<_, Option<String>>(2),
                "status": row.get::<_, String>(3),
                "shippedAt": opt_instant(row.get(4)),
                "order": {
                    "id": id(NodeKind::Order, row.get(5)),
                    "externalOrderNo": row.get::<_, Option<String>>(6),
                    "customerEmail": row.get::<_, Option<String>>(7),
                    "status": row.get::<_, String>(8),
                },
            }})
        })
        .collect();
    assert!(!expected.is_empty(), "the seed has undelivered DHL parcels");
    assert_eq!(data["shipments"]["edges"], Value::Array(expected));
}

#[tokio::test]
async fn order_detail_answers_every_field_and_relation() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Member).await;
    let tenant = app.tenant(DEMO);
    // An order with shipments, an invoice, and an item whose SKU has no
    // product (so `product` must be null for it).
    let order: Uuid = app
        .sql
        .query_one(
            "SELECT o.id FROM orders o WHERE o.tenant_id = $1
               AND EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = o.id)
               AND EXISTS (SELECT 1 FROM invoices i WHERE i.order_id = o.id)
               AND EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id AND i.sku LIKE 'LEGACY-%')
               AND EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id AND i.sku LIKE 'SKU-%')
             ORDER BY o.created_at LIMIT 1",
            &[&tenant.0],
        )
        .await
        .expect("the seed has an order with everything")
        .get(0);

    let data = app
        .data(
            &token,
            &operation("OrderDetail"),
            json!({ "id": id(NodeKind::Order, order) }),
        )
        .await;

    let row = app
        .sql
        .query_one(
            "SELECT bl_order_id, external_order_no, status::text, total::text, currency, customer_email,
                    created_at, confirmed_at, updated_at FROM orders WHERE id = $1",
            &[&order],
        )
        .await
        .unwrap();
    let items: Vec<Value> = app
        .sql
        .query(
            "SELECT i.id, i.sku, i.name, i.quantity, i.unit_price::text, p.id, p.sku, p.name, p.price::text
             FROM order_items i LEFT JOIN products p ON p.tenant_id = i.tenant_id AND p.sku = i.sku
             WHERE i.order_id = $1 ORDER BY i.created_at, i.id",
            &[&order],
        )
        .await
        .unwrap()
        .iter()
        .map(|item| {
            let product = match item.get::<_, Option<Uuid>>(5) {
                None => Value::Null,
                Some(product) => json!({
                    "id": id(NodeKind::Product, product),
                    "sku": item.get::<_, String>(6),
                    "name": item.get::<_, String>(7),
                    "price": item.get::<_, String>(8),
                }),
            };
            json!({
                "id": id(NodeKind::OrderItem, item.get(0)),
                "sku": item.get::<_, String>(1),
                "name": item.get::<_, String>(2),
                "quantity": item.get::<_, i32>(3),
                "unitPrice": item.get::<_, String>(4),
                "product": product,
            })
        })
        .collect();
    let shipments: Vec<Value> = app
        .sql
        .query(
            "SELECT id, carrier, tracking_no, status::text, shipped_at, delivered_at FROM shipments
             WHERE order_id = $1 ORDER BY created_at, id",
            &[&order],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| {
            json!({
                "id": id(NodeKind::Shipment, row.get(0)),
                "carrier": row.get::<_, String>(1),
                "trackingNo": row.get::<_, Option<String>>(2),
                "status": row.get::<_, String>(3),
                "shippedAt": opt_instant(row.get(4)),
                "deliveredAt": opt_instant(row.get(5)),
            })
        })
        .collect();
    let invoices: Vec<Value> = app
        .sql
        .query(
            "SELECT id, number, total::text, currency, issued_at FROM invoices
             WHERE order_id = $1 ORDER BY issued_at, id",
            &[&order],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| {
            json!({
                "id": id(NodeKind::Invoice, row.get(0)),
                "number": row.get::<_, String>(1),
                "total": row.get::<_, String>(2),
                "currency": row.get::<_, String>(3),
                "issuedAt": instant(row.get(4)),
            })
        })
        .collect();
    let expected = json!({ "order": {
        "id": id(NodeKind::Order, order),
        "blOrderId": row.get::<_, Option<i64>>(0).map(|id| id.to_string()),
        "externalOrderNo": row.get::<_, Option<String>>(1),
        "status": row.get::<_, String>(2),
        "total": row.get::<_, String>(3),
        "currency": row.get::<_, String>(4),
        "customerEmail": row.get::<_, Option<String>>(5),
        "createdAt": instant(row.get(6)),
        "confirmedAt": opt_instant(row.get(7)),
        "updatedAt": instant(row.get(8)),
        "items": items,
        "shipments": shipments,
        "invoices": invoices,
    }});
    assert_eq!(data, expected);
    assert!(
        data["order"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|item| item["product"].is_null())
    );
}

#[tokio::test]
async fn node_lookup_resolves_every_node_type() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Member).await;
    let tenant = app.tenant(DEMO);
    let one = |sql: &'static str| {
        let app = &app;
        async move { app.sql.query_one(sql, &[&tenant.0]).await.unwrap() }
    };

    let order =
        one("SELECT id, status::text, total::text FROM orders WHERE tenant_id = $1 LIMIT 1").await;
    let shipment = one(
        "SELECT id, carrier, tracking_no, status::text FROM shipments WHERE tenant_id = $1 LIMIT 1",
    )
    .await;
    let item = one("SELECT id, sku, quantity FROM order_items WHERE tenant_id = $1 LIMIT 1").await;
    let product = one("SELECT id, sku, name FROM products WHERE tenant_id = $1 LIMIT 1").await;
    let invoice =
        one("SELECT id, number, total::text FROM invoices WHERE tenant_id = $1 LIMIT 1").await;

    let cases = [
        (
            id(NodeKind::Order, order.get(0)),
            json!({ "__typename": "Order", "orderStatus": order.get::<_, String>(1), "total": order.get::<_, String>(2) }),
        ),
        (
            id(NodeKind::Shipment, shipment.get(0)),
            json!({ "__typename": "Shipment", "carrier": shipment.get::<_, String>(1),
                    "trackingNo": shipment.get::<_, Option<String>>(2), "shipmentStatus": shipment.get::<_, String>(3) }),
        ),
        (
            id(NodeKind::OrderItem, item.get(0)),
            json!({ "__typename": "OrderItem", "sku": item.get::<_, String>(1), "quantity": item.get::<_, i32>(2) }),
        ),
        (
            id(NodeKind::Product, product.get(0)),
            json!({ "__typename": "Product", "sku": product.get::<_, String>(1), "name": product.get::<_, String>(2) }),
        ),
        (
            id(NodeKind::Invoice, invoice.get(0)),
            json!({ "__typename": "Invoice", "number": invoice.get::<_, String>(1), "total": invoice.get::<_, String>(2) }),
        ),
    ];
    for (node_id, fields) in cases {
        let data = app
            .data(&token, &operation("NodeLookup"), json!({ "id": node_id }))
            .await;
        let mut expected = fields.as_object().unwrap().clone();
        expected.insert("id".into(), node_id.clone());
        for (key, value) in expected {
            assert_eq!(data["node"][&key], value, "{key} of {node_id}");
        }
    }
}

/// The dashboard, recomputed here from the raw rows: per UTC day of
/// `confirmed_at`, count, sum, mean and median, then the running figures.
#[tokio::test]
async fn order_stats_match_the_orders_confirmed_each_day() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Member).await;
    let tenant = app.tenant(DEMO);
    let days = 30;

    let data = app
        .data(&token, &operation("OrderStats"), json!({ "days": days }))
        .await;

    let today = Utc::now().date_naive();
    let first = today - Duration::days(days - 1);
    let mut totals: BTreeMap<NaiveDate, Vec<BigDecimal>> = BTreeMap::new();
    for row in app
        .sql
        .query(
            "SELECT confirmed_at, total::text FROM orders WHERE tenant_id = $1 AND confirmed_at IS NOT NULL",
            &[&tenant.0],
        )
        .await
        .unwrap()
    {
        let day = row.get::<_, DateTime<Utc>>(0).date_naive();
        if day >= first && day <= today {
            totals
                .entry(day)
                .or_default()
                .push(BigDecimal::from_str(row.get(1)).unwrap());
        }
    }
    assert!(totals.len() > 10, "the seed fills the month");

    let two = |value: BigDecimal| {
        value
            .with_scale_round(2, RoundingMode::HalfUp)
            .to_plain_string()
    };
    let mut expected = Vec::new();
    let mut cumulative = 0;
    let mut counts = Vec::new();
    for offset in 0..days {
        let day = first + Duration::days(offset);
        let mut day_totals = totals.get(&day).cloned().unwrap_or_default();
        day_totals.sort();
        let count = day_totals.len() as i64;
        cumulative += count;
        counts.push(count);
        let window = &counts[counts.len().saturating_sub(7)..];
        let moving = window.iter().sum::<i64>() as f64 / window.len() as f64;
        let revenue: BigDecimal = day_totals.iter().sum();
        let (average, median) = if count == 0 {
            (Value::Null, Value::Null)
        } else {
            let middle = day_totals.len() / 2;
            let median = if day_totals.len() % 2 == 1 {
                day_totals[middle].clone()
            } else {
                (&day_totals[middle - 1] + &day_totals[middle]) / BigDecimal::from(2)
            };
            (
                json!(two(&revenue / BigDecimal::from(count))),
                json!(two(median)),
            )
        };
        expected.push(json!({
            "day": day.format("%Y-%m-%d").to_string(),
            "orderCount": count,
            "revenue": two(revenue),
            "avgOrderValue": average,
            "medianValue": median,
            "cumulativeOrders": cumulative,
            "movingAvg7d": moving,
        }));
    }
    expected.reverse();

    let actual = data["orderStats"].as_array().unwrap();
    assert_eq!(actual.len(), days as usize);
    for (actual, expected) in actual.iter().zip(&expected) {
        let moving = actual["movingAvg7d"].as_f64().unwrap();
        assert!(
            (moving - expected["movingAvg7d"].as_f64().unwrap()).abs() < 1e-9,
            "{actual} vs {expected}"
        );
        let mut actual = actual.clone();
        actual["movingAvg7d"] = expected["movingAvg7d"].clone();
        assert_eq!(&actual, expected);
    }
}

#[tokio::test]
async fn order_stats_refuses_windows_outside_a_year() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Member).await;
    for days in [0, -1, 367] {
        let (_, body) = app
            .graphql(&token, &operation("OrderStats"), json!({ "days": days }))
            .await;
        assert_eq!(
            crate::helpers::error_code(&body),
            "BAD_USER_INPUT",
            "{body}"
        );
    }
}
