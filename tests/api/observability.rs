//! What operators see: `/metrics` names every series the platform asks
//! for, by Prometheus conventions, and every response carries the request
//! id its log lines carry.

use fulexo::auth::Role;
use serde_json::json;

use crate::helpers::{DEMO, TestApp, operation};

#[tokio::test]
async fn metrics_name_requests_statements_batches_pool_cache_errors_and_orders() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Admin).await;
    let page = app
        .data(&token, &operation("OrdersPage"), json!({ "first": 5 }))
        .await;
    let order = page["orders"]["edges"][0]["node"]["id"].clone();
    app.data(&token, &operation("OrderDetail"), json!({ "id": order }))
        .await;
    let (_, body) = app.graphql(&token, "{ nope }", json!({})).await;
    assert!(body["errors"].is_array());
    let pending = app.insert_order(DEMO, "PENDING").await;
    let id =
        fulexo::graphql::ids::GlobalId::encode(fulexo::graphql::ids::NodeKind::Order, pending).0;
    app.data(
        &token,
        &operation("UpdateOrderStatus"),
        json!({ "id": id, "status": "PROCESSING" }),
    )
    .await;

    let metrics = app.metrics().await;
    for expected in [
        // Requests by operation and outcome, in seconds.
        "fulexo_graphql_request_duration_seconds_count{operation=\"OrdersPage\",outcome=\"ok\"} 1",
        "fulexo_graphql_request_duration_seconds_count{operation=\"OrderDetail\",outcome=\"ok\"} 1",
        "fulexo_graphql_request_duration_seconds_count{operation=\"(anonymous)\",outcome=\"client_error\"} 1",
        // Errors by code.
        "fulexo_graphql_errors_total{code=\"BAD_USER_INPUT\"} 1",
        // Statements by kind and table, in seconds.
        "fulexo_db_statement_duration_seconds_count{kind=\"select\",table=\"orders\"}",
        "fulexo_db_statement_duration_seconds_count{kind=\"insert\",table=\"audit_logs\"} 1",
        "fulexo_db_statements_total",
        // DataLoader batches.
        "fulexo_dataloader_batch_size_count{loader=\"ItemsByOrder\"}",
        // The pool.
        "fulexo_db_pool_connections_idle",
        "fulexo_db_pool_connections_in_use",
        "fulexo_db_pool_connections_max 10",
        "fulexo_db_pool_waiting 0",
        // The cache.
        "fulexo_cache_lookups_total{",
        "fulexo_cache_redis_available",
        // Orders written, by mutation and status.
        "fulexo_orders_processed_total{mutation=\"updateOrderStatus\",status=\"PROCESSING\"} 1",
        // Guardrails.
        "fulexo_request_cost_bucket",
    ] {
        assert!(
            metrics.contains(expected),
            "missing `{expected}` in:\n{metrics}"
        );
    }
}

#[tokio::test]
async fn operation_names_cannot_grow_the_metrics_without_bound() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    for n in 0..(fulexo::metrics::MAX_OPERATION_NAMES + 5) {
        app.data(&token, &format!("query Q{n} {{ __typename }}"), json!({}))
            .await;
    }
    let metrics = app.metrics().await;
    assert!(metrics.contains("operation=\"(other)\",outcome=\"ok\"} 5"));
    let names = metrics
        .lines()
        .filter(|line| line.starts_with("fulexo_graphql_request_duration_seconds_count"))
        .count();
    assert_eq!(names, fulexo::metrics::MAX_OPERATION_NAMES + 1);
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_the_clients_own() {
    let app = TestApp::spawn().await;
    let response = app.http.get(app.url("/healthz")).send().await.unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
    let response = app
        .http
        .get(app.url("/healthz"))
        .header("x-request-id", "client-chosen-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "client-chosen-1");
}
