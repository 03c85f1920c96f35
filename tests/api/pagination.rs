//! Keyset pagination: walking every page returns every row once, in order,
//! even while rows are inserted; bad cursors and page sizes are refused.

use fulexo::auth::Role;
use fulexo::graphql::ids::{GlobalId, NodeKind};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{DEMO, TestApp, error_code, operation};

const ORDERS_BY: &str = "query ($first: Int!, $after: String, $orderBy: OrderOrder) {
  orders(first: $first, after: $after, orderBy: $orderBy) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}";

/// Follows `endCursor` until `hasNextPage` is false; returns the ids seen.
async fn walk(app: &TestApp, token: &str, first: i32, order_by: Value) -> Vec<Value> {
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .data(
                token,
                ORDERS_BY,
                json!({ "first": first, "after": after, "orderBy": order_by }),
            )
            .await;
        let connection = &data["orders"];
        let edges = connection["edges"].as_array().unwrap();
        assert!(edges.len() <= first as usize);
        ids.extend(edges.iter().map(|edge| edge["node"]["id"].clone()));
        assert_eq!(
            connection["pageInfo"]["hasPreviousPage"],
            json!(!after.is_null())
        );
        if connection["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        assert_eq!(
            edges.len(),
            first as usize,
            "a page before the last is full"
        );
        after = connection["pageInfo"]["endCursor"].clone();
    }
    ids
}

async fn expected(app: &TestApp, order: &str) -> Vec<Value> {
    app.sql
        .query(
            &format!("SELECT id FROM orders WHERE tenant_id = $1 ORDER BY {order}"),
            &[&app.tenant(DEMO).0],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| json!(GlobalId::encode(NodeKind::Order, row.get::<_, Uuid>(0)).0))
        .collect()
}

#[tokio::test]
async fn walking_all_pages_returns_every_order_once_newest_first() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let ids = walk(&app, &token, 37, Value::Null).await;
    assert_eq!(ids, expected(&app, "created_at DESC, id DESC").await);
}

#[tokio::test]
async fn walking_by_total_in_both_directions_returns_every_order_once() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let ascending = walk(
        &app,
        &token,
        50,
        json!({ "field": "TOTAL", "direction": "ASC" }),
    )
    .await;
    assert_eq!(ascending, expected(&app, "total ASC, id ASC").await);
    let descending = walk(&app, &token, 100, json!({ "field": "TOTAL" })).await;
    assert_eq!(descending, expected(&app, "total DESC, id DESC").await);
}

#[tokio::test]
async fn a_cursor_stays_valid_while_orders_are_inserted() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let first = app.data(&token, ORDERS_BY, json!({ "first": 10 })).await;
    let cursor = first["orders"]["pageInfo"]["endCursor"].clone();

    // A new order arrives at the top of the list.
    app.sql
        .execute(
            "INSERT INTO orders (id, tenant_id, status, total, currency, created_at, updated_at)
             VALUES (gen_random_uuid(), $1, 'PENDING', 10, 'EUR', now(), now())",
            &[&app.tenant(DEMO).0],
        )
        .await
        .unwrap();

    let second = app
        .data(&token, ORDERS_BY, json!({ "first": 10, "after": cursor }))
        .await;
    let all = expected(&app, "created_at DESC, id DESC").await;
    let second_ids: Vec<Value> = second["orders"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"]["id"].clone())
        .collect();
    // Rows 11..20 of the list as it was: shifted by one in the new list.
    assert_eq!(second_ids, all[11..21].to_vec());
}

#[tokio::test]
async fn page_sizes_outside_zero_to_a_hundred_are_bad_input() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    for first in [-1, 101, 1000] {
        let (_, body) = app
            .graphql(&token, &operation("OrdersPage"), json!({ "first": first }))
            .await;
        assert_eq!(
            error_code(&body),
            "BAD_USER_INPUT",
            "first: {first}: {body}"
        );
    }
    let data = app
        .data(&token, &operation("OrdersPage"), json!({ "first": 0 }))
        .await;
    assert_eq!(data["orders"]["edges"], json!([]));
    assert_eq!(data["orders"]["pageInfo"]["hasNextPage"], json!(true));
}

#[tokio::test]
async fn tampered_and_foreign_cursors_are_bad_input() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let by_total = app
        .data(
            &token,
            ORDERS_BY,
            json!({ "first": 1, "orderBy": { "field": "TOTAL" } }),
        )
        .await;
    let total_cursor = by_total["orders"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let shipments = app
        .data(
            &token,
            "{ shipments(first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let shipment_cursor = shipments["shipments"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();

    for cursor in [
        "not-a-cursor".to_owned(),
        "b3JkZXJ8Y3JlYXRlZF9hdHwxfG5vdC1hLXV1aWQ".to_owned(),
        total_cursor,
        shipment_cursor,
        format!(
            "{}x",
            by_total["orders"]["pageInfo"]["endCursor"]
                .as_str()
                .unwrap()
        ),
    ] {
        let (_, body) = app
            .graphql(
                &token,
                &operation("OrdersPage"),
                json!({ "first": 5, "after": cursor }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{cursor}: {body}");
        assert!(body["data"]["orders"].is_null() || body.get("data").is_none());
    }
}
