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
