//! HTTP behaviour: authentication, content negotiation and status codes,
//! GET, batches, compression, limits, health and GraphiQL.

use std::io::Read;

use fulexo::auth::Role;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, ALLOW, CONTENT_ENCODING, CONTENT_TYPE, ETAG, VARY};
use serde_json::{Value, json};

use crate::helpers::{DEMO, TestApp, error_code, operation};

const TYPENAME: &str = "{ __typename }";

#[tokio::test]
async fn requests_without_a_valid_token_get_401_and_no_data() {
    let app = TestApp::spawn().await;
    let valid = app.token(DEMO, Role::Admin).await;
    let forged = {
        let mut parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
        parts[2] = "c2lnbmF0dXJl".into();
        parts.join(".")
    };
    let other_secret = fulexo::auth::JwtKeys::new(&"another secret".to_owned().into())
        .issue(
            fulexo::auth::Viewer {
                user_id: uuid::Uuid::now_v7(),
                tenant: app.tenant(DEMO),
                role: Role::Admin,
            },
            std::time::Duration::from_secs(60),
        )
        .unwrap();
    for authorization in [
        None,
        Some("Bearer".to_owned()),
        Some("Bearer not.a.token".to_owned()),
        Some(format!("Basic {valid}")),
        Some(format!("Bearer {forged}")),
        Some(format!("Bearer {other_secret}")),
    ] {
        let mut request = app
            .http
            .post(app.url("/graphql"))
            .json(&json!({ "query": operation("OrdersPage"), "variables": { "first": 1 } }));
        if let Some(authorization) = &authorization {
            request = request.header("authorization", authorization);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{authorization:?}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "UNAUTHENTICATED");
        assert!(body.get("data").is_none());
    }
}

#[tokio::test]
async fn an_expired_token_gets_401() {
    let app = TestApp::spawn().await;
    let (status, body) = app.graphql(&expired_token(&app), TYPENAME, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

/// A token whose `exp` is an hour ago, signed with the app's secret.
fn expired_token(app: &TestApp) -> String {
    use jsonwebtoken::{EncodingKey, Header};
    let secret = app.state.config.jwt_secret.as_ref().unwrap();
    let now = jsonwebtoken::get_current_timestamp();
    let claims = json!({
        "sub": uuid::Uuid::now_v7(), "tenant_id": app.tenant(DEMO).0, "role": "ADMIN",
        "iat": now - 7200, "exp": now - 3600,
    });
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secrecy::ExposeSecret::expose_secret(secret).as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn the_response_media_type_follows_accept() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    for (accept, content_type) in [
        (None, "application/json; charset=utf-8"),
        (Some("*/*"), "application/json; charset=utf-8"),
        (Some("application/json"), "application/json; charset=utf-8"),
        (
            Some("application/graphql-response+json, application/json;q=0.9"),
            "application/graphql-response+json; charset=utf-8",
        ),
    ] {
        let mut request = app
            .http
            .post(app.url("/graphql"))
            .bearer_auth(&token)
            .json(&json!({ "query": TYPENAME }));
        if let Some(accept) = accept {
            request = request.header(ACCEPT, accept);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CONTENT_TYPE], content_type, "{accept:?}");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({ "data": { "__typename": "QueryRoot" } })
        );
    }
    let response = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .header(ACCEPT, "text/html")
        .json(&json!({ "query": TYPENAME }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn request_errors_are_400_under_the_graphql_media_type_and_200_under_json() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    for query in ["{ orders(first: 1) {", "{ noSuchField }"] {
        for (accept, status) in [
            ("application/graphql-response+json", StatusCode::BAD_REQUEST),
            ("application/json", StatusCode::OK),
        ] {
            let response = app
                .http
                .post(app.url("/graphql"))
                .bearer_auth(&token)
                .header(ACCEPT, accept)
                .json(&json!({ "query": query }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), status, "{query} with {accept}");
            let body: Value = response.json().await.unwrap();
            assert!(body.get("data").is_none(), "{body}");
            assert_eq!(error_code(&body), "BAD_USER_INPUT");
        }
    }
}

#[tokio::test]
async fn malformed_bodies_are_refused_with_4xx() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    for (content_type, body, status) in [
        ("application/json", "{\"query\": ", StatusCode::BAD_REQUEST),
        (
            "application/json",
            "{\"query\": 42}",
            StatusCode::BAD_REQUEST,
        ),
        ("application/json", "[]", StatusCode::BAD_REQUEST),
        (
            "application/json",
            "{\"query\": \"{a}\", \"variables\": [1]}",
            StatusCode::BAD_REQUEST,
        ),
        (
            "text/plain",
            "{ __typename }",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
    ] {
        let response = app
            .http
            .post(app.url("/graphql"))
            .bearer_auth(&token)
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{body}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = TestApp::spawn_with(&[("REQUEST_BODY_LIMIT", "1KB")]).await;
    let token = app.token(DEMO, Role::Viewer).await;
    let padding = " ".repeat(2048);
    let response = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": format!("{{ __typename {padding} }}") }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn get_runs_queries_with_variables_and_operation_name() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let document = "query A { __typename } query B($first: Int!) { orders(first: $first) { edges { cursor } } }";
    let response = app
        .http
        .get(app.url("/graphql"))
        .bearer_auth(&token)
        .query(&[
            ("query", document),
            ("operationName", "B"),
            ("variables", "{\"first\": 2}"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["data"]["orders"]["edges"].as_array().unwrap().len(),
        2,
        "{body}"
    );
}

#[tokio::test]
async fn mutations_over_get_are_refused_with_405_and_allow_post() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Admin).await;
    let audit_before = app.count("audit_logs").await;
    let response = app
        .http
        .get(app.url("/graphql"))
        .bearer_auth(&token)
        .query(&[
            ("query", operation("UpdateOrderStatus").as_str()),
            ("variables", "{\"id\": \"x\", \"status\": \"PENDING\"}"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()[ALLOW], "POST");
    assert_eq!(app.count("audit_logs").await, audit_before);

    // A document with a query and a mutation: the operation name decides.
    let document = "query Q { __typename } mutation M { __typename }";
    let status = |name: &'static str| {
        let request = app
            .http
            .get(app.url("/graphql"))
            .bearer_auth(&token)
            .query(&[("query", document), ("operationName", name)]);
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(status("Q").await, StatusCode::OK);
    assert_eq!(status("M").await, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn a_batch_answers_each_operation_in_order() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let response = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!([
            { "query": "query ($first: Int!) { orders(first: $first) { edges { cursor } } }", "variables": { "first": 3 } },
            { "query": TYPENAME },
            { "query": "{ nope }" },
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let answers = body.as_array().unwrap();
    assert_eq!(answers.len(), 3);
    assert_eq!(
        answers[0]["data"]["orders"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(answers[1], json!({ "data": { "__typename": "QueryRoot" } }));
    assert_eq!(error_code(&answers[2]), "BAD_USER_INPUT");
}

#[tokio::test]
async fn large_responses_are_compressed_and_small_ones_are_not() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let raw = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .build()
        .unwrap();
    let send = |encoding: &'static str, first: i32| {
        raw.post(app.url("/graphql"))
            .bearer_auth(&token)
            .header("accept-encoding", encoding)
            .json(&json!({ "query": operation("OrdersPage"), "variables": { "first": first } }))
            .send()
    };

    let gzip = send("gzip", 20).await.unwrap();
    assert_eq!(gzip.headers()[CONTENT_ENCODING], "gzip");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gzip.bytes().await.unwrap()[..])
        .read_to_string(&mut text)
        .unwrap();
    assert!(serde_json::from_str::<Value>(&text).unwrap()["data"]["orders"].is_object());

    let brotli = send("br", 20).await.unwrap();
    assert_eq!(brotli.headers()[CONTENT_ENCODING], "br");

    let small = raw
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .header("accept-encoding", "gzip, br")
        .json(&json!({ "query": TYPENAME }))
        .send()
        .await
        .unwrap();
    assert!(small.headers().get(CONTENT_ENCODING).is_none());
}

#[tokio::test]
async fn browsers_get_zstd_where_they_prefer_it_and_the_same_answer() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let raw = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_zstd()
        .build()
        .unwrap();
    let page = json!({ "query": operation("OrdersPage"), "variables": { "first": 20 } });
    let send = |encoding: &'static str| {
        raw.post(app.url("/graphql"))
            .bearer_auth(&token)
            .header("accept-encoding", encoding)
            .json(&page)
            .send()
    };

    let plain = send("identity").await.unwrap();
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    let plain = plain.bytes().await.unwrap();

    let zstd = send("gzip, deflate, br, zstd").await.unwrap();
    assert_eq!(zstd.headers()[CONTENT_ENCODING], "zstd");
    assert_eq!(zstd.headers()[VARY], "accept-encoding");
    let compressed = zstd.bytes().await.unwrap();
    assert!(compressed.len() < plain.len() / 2);
    assert_eq!(zstd::stream::decode_all(&compressed[..]).unwrap(), plain);

    // A client that prefers gzip gets gzip from the layer.
    let gzip = send("gzip;q=1, zstd;q=0.5").await.unwrap();
    assert_eq!(gzip.headers()[CONTENT_ENCODING], "gzip");

    // A GET answer keeps its validator when compressed.
    let url = format!(
        "{}?query={}&variables={}",
        app.url("/graphql"),
        form_urlencoded::byte_serialize(operation("OrdersPage").as_bytes()).collect::<String>(),
        form_urlencoded::byte_serialize(br#"{"first":20}"#).collect::<String>()
    );
    let get = raw
        .get(url)
        .bearer_auth(&token)
        .header("accept-encoding", "zstd")
        .send()
        .await
        .unwrap();
    assert_eq!(get.headers()[CONTENT_ENCODING], "zstd");
    assert!(get.headers().get(ETAG).is_some());
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(
        ready.json::<Value>().await.unwrap(),
        json!({ "status": "ready" })
    );
}

#[tokio::test]
async fn readiness_fails_when_migrations_are_pending() {
    let app = TestApp::spawn().await;
    app.sql
        .execute("DELETE FROM __diesel_schema_migrations WHERE version = (SELECT max(version) FROM __diesel_schema_migrations)", &[])
        .await
        .unwrap();
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn graphiql_comes_with_a_working_demo_token() {
    let app = TestApp::spawn().await;
    let page = app
        .http
        .get(app.url("/graphiql"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = page
        .split("Bearer ")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("the page carries a bearer token");
    let data = app
        .data(
            token,
            "{ orders(first: 1) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["orders"]["edges"].as_array().unwrap().len(), 1);
    let viewer = app.state.jwt.verify(token).unwrap();
    assert_eq!(viewer.tenant, app.tenant(DEMO));
}

#[tokio::test]
async fn metrics_report_the_statements_sent() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    app.data(&token, &operation("OrdersPage"), json!({ "first": 5 }))
        .await;
    let text = app.metrics().await;
    let line = text
        .lines()
        .find(|line| line.starts_with("fulexo_db_statements_total "))
        .unwrap();
    let reported: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(reported >= 3, "{line}");
}

#[tokio::test]
async fn responses_carry_security_headers_and_cors_follows_the_setting() {
    let app = TestApp::spawn().await;
    let response = app.http.get(app.url("/healthz")).send().await.unwrap();
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert!(headers.get("strict-transport-security").is_none());
    // GraphiQL is a page that loads its scripts: no API policy on it.
    let response = app.http.get(app.url("/graphiql")).send().await.unwrap();
    assert!(response.headers().get("content-security-policy").is_none());
    assert_eq!(response.headers()["x-frame-options"], "DENY");

    // No origin is allowed by default: a preflight gets no CORS headers.
    let preflight = |app: &TestApp, origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let response = preflight(&app, "https://app.example.com").await.unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let app = TestApp::spawn_with(&[
        ("CORS_ALLOWED_ORIGINS", "https://app.example.com"),
        ("HSTS_MAX_AGE", "1d"),
    ])
    .await;
    let response = preflight(&app, "https://app.example.com").await.unwrap();
    assert!(response.status().is_success());
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let allowed = response.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("fulexo-include-cost"));
    let response = preflight(&app, "https://evil.example.com").await.unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let response = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=86400; includeSubDomains"
    );
}
