//! The pool never makes a request wait without bound: when no connection
//! frees up within the pool timeout, the request fails with a clear error.

use std::time::{Duration, Instant};

use fulexo::auth::Role;
use serde_json::json;

use crate::helpers::{DEMO, TestApp, error_code, operation};

#[tokio::test]
async fn an_exhausted_pool_fails_requests_after_its_timeout() {
    let app = TestApp::spawn_with(&[
        ("DATABASE_POOL_SIZE", "1"),
        ("DATABASE_POOL_TIMEOUT", "300ms"),
    ])
    .await;
    let token = app.token(DEMO, Role::Member).await;
    // Hold the only connection.
    let held = app.state.database.get().await.unwrap();

    let started = Instant::now();
    let (status, body) = app
        .graphql(&token, &operation("OrdersPage"), json!({ "first": 5 }))
        .await;
    let waited = started.elapsed();

    assert_eq!(status, 200);
    assert_eq!(error_code(&body), "INTERNAL_SERVER_ERROR", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("busy"), "{message}");
    assert!(
        waited < Duration::from_secs(5),
        "the request waited {waited:?}"
    );

    drop(held);
    app.data(&token, &operation("OrdersPage"), json!({ "first": 5 }))
        .await;
}

#[tokio::test]
async fn a_query_reads_through_one_connection_whatever_it_asks_for() {
    // A second connection for any of these reads would wait out the pool
    // timeout: the one connection is the request's until it ends.
    let app = TestApp::spawn_with(&[
        ("DATABASE_POOL_SIZE", "1"),
        ("DATABASE_POOL_TIMEOUT", "2s"),
        ("CACHE_ENABLED", "false"),
    ])
    .await;
    let token = app.token(DEMO, Role::Member).await;
    let query = "{
        orders(first: 5) { edges { node { id items { sku product { name } } shipments { carrier } } } }
        shipments(first: 5) { edges { node { id order { id invoices { number } } } } }
        orderStats(days: 7) { day }
        orderStatusCounts { count }
        topProducts(days: 7, first: 3) { product { sku } }
    }";
    let started = Instant::now();
    let data = app.data(&token, query, json!({})).await;
    assert_eq!(data["orders"]["edges"].as_array().unwrap().len(), 5);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the request waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn pooled_connections_carry_the_statement_timeout() {
    let app = TestApp::spawn_with(&[("DATABASE_STATEMENT_TIMEOUT", "1500ms")]).await;
    let mut connection = app.state.database.get().await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        statement_timeout: String,
    }
    let setting: Setting = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query("SHOW statement_timeout"),
        &mut connection,
    )
    .await
    .unwrap();
    assert_eq!(setting.statement_timeout, "1500ms");
}
