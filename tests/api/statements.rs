//! What a request costs in SQL statements does not grow with what it
//! returns: the loaders send one statement per relation, whatever the page
//! size. Counted by the pool's instrumentation (every statement each
//! pooled connection starts).

use fulexo::auth::Role;
use fulexo::graphql::ids::{GlobalId, NodeKind};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{DEMO, TestApp, operation};

/// Statements one request sends.
async fn statements_of(app: &TestApp, token: &str, query: &str, variables: Value) -> u64 {
    let before = app.statements();
    app.data(token, query, variables).await;
    app.statements() - before
}

#[tokio::test]
async fn orders_page_sends_the_same_statements_for_ten_orders_or_a_hundred() {
    // Uncached: the orders' relations would come from the cache after the
    // first page, and this counts what the loaders send.
    let app = TestApp::spawn_with(&[("CACHE_ENABLED", "false")]).await;
    let token = app.token(DEMO, Role::Member).await;
    let page = operation("OrdersPage");
    // Warm the pool so that connection set-up is not counted.
    statements_of(&app, &token, &page, json!({ "first": 100 })).await;

    let ten = statements_of(&app, &token, &page, json!({ "first": 10 })).await;
    let hundred = statements_of(&app, &token, &page, json!({ "first": 100 })).await;

    assert_eq!(ten, hundred);
    // The page, its items, its shipments.
    assert_eq!(hundred, 3);
}

#[tokio::test]
async fn order_detail_and_undelivered_shipments_batch_their_relations() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Member).await;
    let order: Uuid = app
        .sql
        .query_one(
            "SELECT id FROM orders WHERE tenant_id = $1 LIMIT 1",
            &[&app.tenant(DEMO).0],
        )
        .await
        .unwrap()
        .get(0);
    let id = GlobalId::encode(NodeKind::Order, order).0;

    // The order, its items, the items' products, its shipments, its invoices.
    assert_eq!(
        statements_of(&app, &token, &operation("OrderDetail"), json!({ "id": id })).await,
        5
    );

    let shipments = operation("UndeliveredShipments");
    let five = statements_of(&app, &token, &shipments, json!({ "first": 5 })).await;
    let hundred = statements_of(&app, &token, &shipments, json!({ "first": 100 })).await;
    // The page, and the orders of all its shipments.
    assert_eq!((five, hundred), (2, 2));
}

#[tokio::test]
async fn a_lookup_alone_loads_at_once_and_lookups_side_by_side_share_batches() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Member).await;
    let orders: Vec<Uuid> = app
        .sql
        .query(
            "SELECT id FROM orders WHERE tenant_id = $1 ORDER BY created_at LIMIT 2",
            &[&app.tenant(DEMO).0],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let ids: Vec<String> = orders
        .iter()
        .map(|order| GlobalId::encode(NodeKind::Order, *order).0)
        .collect();
    let relations = "items { sku product { name } } shipments { trackingNo } invoices { number }";

    // node(id:) of an order, alone: the order, its items, their products,
    // its shipments, its invoices, as OrderDetail.
    let node =
        format!("query($id: ID!) {{ node(id: $id) {{ id ... on Order {{ {relations} }} }} }}");
    assert_eq!(
        statements_of(&app, &token, &node, json!({ "id": ids[0] })).await,
        5
    );

    // Two aliased lookups: the loaders still gather both orders' keys, one
    // statement per relation for the two.
    let two = format!(
        "query($a: ID!, $b: ID!) {{ a: order(id: $a) {{ id {relations} }} b: order(id: $b) {{ id {relations} }} }}"
    );
    assert_eq!(
        statements_of(&app, &token, &two, json!({ "a": ids[0], "b": ids[1] })).await,
        5
    );
}
