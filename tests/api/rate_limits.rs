//! Rate limits on cost: per tenant and per token, shared by every instance
//! through Redis, per instance when Redis is down, a tenant's own limit
//! from `tenant_rate_limits`.

use fulexo::auth::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{DEMO, RedisServer, TestApp, error_code, shared_redis, vars};

/// Costs 61: 1 + 30 days x 2 fields.
const QUERY: &str = "{ orderStats(days: 30) { day orderCount } }";

async fn ask(app: &TestApp, token: &str) -> (StatusCode, Option<u64>, Value) {
    let response = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": QUERY }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().parse().unwrap());
    (status, retry_after, response.json().await.unwrap())
}

/// Asks until refused; how many were answered.
async fn answered_until_limited(app: &TestApp, token: &str, at_most: usize) -> usize {
    for answered in 0..at_most {
        let (status, retry_after, body) = ask(app, token).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(error_code(&body), "RATE_LIMITED", "{body:#}");
            let message = body["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains("retry after"), "{message}");
            // The bucket refills a unit per second: the next 61 take a minute.
            let retry_after = retry_after.expect("Retry-After");
            assert!((1..=61).contains(&retry_after), "{retry_after}");
            return answered;
        }
        assert_eq!(status, StatusCode::OK, "{body:#}");
    }
    panic!("never limited after {at_most} requests");
}

#[tokio::test]
async fn instances_sharing_redis_share_the_tokens_budget() {
    let redis = shared_redis();
    // Room for 5 requests a minute per token.
    let mut settings = vars(&redis);
    settings.push(("RATE_LIMIT_TOKEN_PER_MINUTE", "310"));
    let first = TestApp::spawn_with(&settings).await;
    let second = first.another_instance(&settings).await;
    let token = first.token(DEMO, Role::Viewer).await;

    for _ in 0..3 {
        assert_eq!(ask(&first, &token).await.0, StatusCode::OK);
    }
    // The second instance sees what the first spent.
    assert_eq!(answered_until_limited(&second, &token, 10).await, 2);
    assert_eq!(ask(&first, &token).await.0, StatusCode::TOO_MANY_REQUESTS);
    // Another token of the tenant has its own budget.
    let other = first.token(DEMO, Role::Admin).await;
    assert_eq!(ask(&second, &other).await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_tenants_budget_is_shared_by_its_tokens_and_can_be_set_per_tenant() {
    let redis = shared_redis();
    let mut settings = vars(&redis);
    settings.push(("RATE_LIMIT_TENANT_PER_MINUTE", "250"));
    let app = TestApp::spawn_with(&settings).await;
    let viewer = app.token(DEMO, Role::Viewer).await;
    let admin = app.token(DEMO, Role::Admin).await;
    assert_eq!(ask(&app, &viewer).await.0, StatusCode::OK);
    assert_eq!(ask(&app, &admin).await.0, StatusCode::OK);
    assert_eq!(answered_until_limited(&app, &viewer, 10).await, 2);
    assert_eq!(ask(&app, &admin).await.0, StatusCode::TOO_MANY_REQUESTS);

    // Another tenant gets its own, larger limit.
    let other = "nordic-home";
    let tenant = app.tenant(other);
    app.sql
        .execute(
            "INSERT INTO tenant_rate_limits (tenant_id, cost_per_minute) VALUES ($1, 1000)",
            &[&tenant.0],
        )
        .await
        .unwrap();
    app.state
        .rate_limiter
        .reload(&app.state.database)
        .await
        .unwrap();
    assert_eq!(app.state.rate_limiter.tenant_limit(tenant), 1000);
    let token = app.token(other, Role::Viewer).await;
    assert_eq!(answered_until_limited(&app, &token, 30).await, 16);
}

#[tokio::test]
async fn with_redis_down_each_instance_limits_on_its_own() {
    let mut redis = RedisServer::start().await;
    let url = redis.url();
    let settings = [
        ("REDIS_URL", url.as_str()),
        ("RATE_LIMIT_TOKEN_PER_MINUTE", "310"),
    ];
    let first = TestApp::spawn_with(&settings).await;
    let second = first.another_instance(&settings).await;
    let token = first.token(DEMO, Role::Viewer).await;
    redis.stop().await;

    // Each instance allows the token its whole budget, then refuses.
    assert_eq!(answered_until_limited(&first, &token, 10).await, 5);
    assert_eq!(answered_until_limited(&second, &token, 10).await, 5);
}
