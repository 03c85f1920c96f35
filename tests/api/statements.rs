//! What a request costs in SQL statements does not grow with what it
//! returns: the loaders send one statement per relation, whatever the page
//! size. Counted by the pool's instrumentation (every statement each
//! pooled connection starts).

use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use fulexo::auth::Role;
use fulexo::db::OrderStatus;
use fulexo::db::models::order::{OrderKey, OrderPage, OrderSort};
use fulexo::db::models::shipment::{ShipmentKey, ShipmentPage};
use fulexo::db::models::{Order, Shipment};
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
    let id = GlobalId::encode(NodeKind::Order, app.shipped_order(DEMO).await).0;

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

/// How many statements PostgreSQL holds prepared on `connection` whose
/// text contains `fragment`.
async fn prepared_holding(connection: &mut AsyncPgConnection, fragment: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::Int8)]
        count: i64,
    }
    diesel::sql_query(
        "SELECT count(*) AS count FROM pg_prepared_statements WHERE strpos(statement, $1) > 0",
    )
    .bind::<diesel::sql_types::Text, _>(fragment)
    .get_result::<Count>(connection)
    .await
    .unwrap()
    .count
}

#[tokio::test]
async fn later_pages_filters_and_the_carrier_desk_stay_prepared() {
    // Conditions written as SQL (keyset cursors, status lists, the
    // undelivered literal) once made diesel-async prepare their statement
    // anew on every execution: a round trip more and a new plan each time.
    // Prepared once, the statement stays in the connection's cache.
    let app = TestApp::spawn().await;
    let tenant = app.tenant(DEMO);
    let url = app.state.config.database_url.clone().unwrap();
    let mut connection = AsyncPgConnection::establish(secrecy::ExposeSecret::expose_secret(&url))
        .await
        .unwrap();
    let statuses = [OrderStatus::Pending, OrderStatus::Packed];
    let later_page = OrderPage {
        statuses: Some(&statuses),
        customer_email_contains: None,
        sort: OrderSort::CreatedAt,
        descending: true,
        after: Some(OrderKey::CreatedAt(Utc::now(), Uuid::nil())),
        limit: 51,
    };
    let carrier_desk = ShipmentPage {
        undelivered: true,
        carrier: None,
        statuses: None,
        shipped_from: None,
        shipped_until: None,
        after: Some(ShipmentKey(Utc::now(), Uuid::nil())),
        limit: 51,
    };
    for _ in 0..3 {
        Order::page(&connection, tenant, &later_page).await.unwrap();
        Shipment::page(&connection, tenant, &carrier_desk)
            .await
            .unwrap();
    }

    assert_eq!(
        prepared_holding(&mut connection, "(orders.created_at, orders.id) < (").await,
        1
    );
    assert_eq!(
        prepared_holding(&mut connection, "shipments.status <> 'DELIVERED'").await,
        1
    );
}

/// Tables and pipelining of the statements a request sends: `true` where a
/// statement went out while the one before it on its connection was still
/// unanswered (one pipeline, one round trip).
async fn pipelines_of(
    app: &TestApp,
    token: &str,
    query: &str,
    variables: Value,
) -> Vec<(&'static str, bool)> {
    let capture = app.state.database.capture();
    capture.start();
    app.data(token, query, variables).await;
    capture
        .stop()
        .iter()
        .map(|statement| {
            let labels = fulexo::db::instrument::statement_labels(&statement.text);
            (labels.table, statement.pipelined)
        })
        .collect()
}

#[tokio::test]
async fn a_query_sends_what_it_reads_at_once_in_one_pipeline() {
    let app = TestApp::spawn_with(&[("CACHE_ENABLED", "false")]).await;
    let token = app.token(DEMO, Role::Member).await;
    let id = GlobalId::encode(NodeKind::Order, app.shipped_order(DEMO).await).0;

    // The order, then its items, their products, its shipments and invoices
    // in one round trip: the products' SKUs come from a subquery on the
    // items, not from the items read first.
    assert_eq!(
        pipelines_of(&app, &token, &operation("OrderDetail"), json!({ "id": id })).await,
        [
            ("orders", false),
            ("order_items", true),
            ("shipments", true),
            ("invoices", true),
            ("products", true),
        ]
    );
    // The page, then its items and shipments together.
    assert_eq!(
        pipelines_of(
            &app,
            &token,
            &operation("OrdersPage"),
            json!({ "first": 20 })
        )
        .await,
        [
            ("orders", false),
            ("order_items", false),
            ("shipments", true)
        ]
    );
}
