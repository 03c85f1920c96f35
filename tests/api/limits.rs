//! Guardrails: every limit lets a document just under it through and
//! refuses one just over it with the contract's code; the contract's
//! operations at `first: 100` pass the defaults; GraphiQL's introspection
//! query too.

use fulexo::auth::Role;
use fulexo::config::Limits;
use fulexo::graphql::ids::{GlobalId, NodeKind};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{DEMO, TestApp, error_code, operation};

const INCLUDE_COST: &str = "Fulexo-Include-Cost";

/// POSTs with `Fulexo-Include-Cost`; the status and body.
async fn post_with_cost(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    let response = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .header(INCLUDE_COST, "true")
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

fn assert_refused(body: &Value, code: &str, mentions: &[&str]) {
    assert_eq!(error_code(body), code, "{body:#}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    for text in mentions {
        assert!(
            message.contains(text),
            "`{message}` should mention `{text}`"
        );
    }
    assert!(body.get("data").is_none(), "nothing runs: {body:#}");
}

fn assert_not_limited(body: &Value) {
    for error in body["errors"].as_array().into_iter().flatten() {
        let code = error["extensions"]["code"].as_str().unwrap_or_default();
        assert!(
            !matches!(
                code,
                "QUERY_TOO_COMPLEX" | "QUERY_TOO_DEEP" | "RATE_LIMITED"
            ),
            "{body:#}"
        );
    }
}

/// Every contract operation with its largest arguments, and the variables
/// to run it with.
async fn contract_operations_at_their_largest(app: &TestApp) -> Vec<(&'static str, Value)> {
    let token = app.token(DEMO, Role::Admin).await;
    let page = app
        .data(
            &token,
            "{ orders(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let order = page["orders"]["edges"][0]["node"]["id"].clone();
    vec![
        ("OrdersPage", json!({ "first": 100 })),
        ("SearchOrders", json!({ "q": "example", "first": 100 })),
        ("UndeliveredShipments", json!({ "first": 100 })),
        ("OrderDetail", json!({ "id": order })),
        ("NodeLookup", json!({ "id": order })),
        ("OrderStats", json!({ "days": 366 })),
        (
            "UpdateOrderStatus",
            json!({ "id": order, "status": "CANCELLED" }),
        ),
        (
            "CreateShipment",
            json!({ "orderId": order, "carrier": "DHL", "trackingNo": "LIMITS-1" }),
        ),
    ]
}

#[tokio::test]
async fn the_contract_operations_at_first_100_pass_the_default_limits() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Admin).await;
    let limit = Limits::default().max_cost;
    for (name, variables) in contract_operations_at_their_largest(&app).await {
        let (status, body) = post_with_cost(
            &app,
            &token,
            json!({ "query": operation(name), "variables": variables }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name}: {body:#}");
        assert_not_limited(&body);
        let cost = body["extensions"]["cost"]["estimated"].as_u64().unwrap();
        assert!(cost <= limit as u64, "{name} costs {cost}");
        assert_eq!(body["extensions"]["cost"]["limit"], json!(limit));
        println!("{name}: cost {cost}");
    }
}

#[tokio::test]
async fn the_cost_is_reported_only_when_asked_for() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let query = "{ orderStats(days: 30) { day orderCount } }";
    let (_, body) = post_with_cost(&app, &token, json!({ "query": query })).await;
    // orderStats: 1 + 30 days x (day + orderCount).
    assert_eq!(body["extensions"]["cost"]["estimated"], json!(61));
    assert!(body["extensions"]["cost"]["remaining"].as_u64().is_some());
    let (_, body) = app.graphql(&token, query, json!({})).await;
    assert!(body.get("extensions").is_none(), "{body:#}");
}

#[tokio::test]
async fn nesting_lists_inside_a_full_page_is_too_complex() {
    let query = "{ orders(first: 100) { edges { node { items { order { items { order { items { id } } } } } } } } }";
    // Too deep by default, and too costly whatever the depth limit.
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let (_, body) = app.graphql(&token, query, json!({})).await;
    assert_refused(&body, "QUERY_TOO_DEEP", &[]);
    let app = TestApp::spawn_with(&[("LIMIT_DEPTH", "20")]).await;
    let token = app.token(DEMO, Role::Viewer).await;
    let (status, body) = post_with_cost(&app, &token, json!({ "query": query })).await;
    assert_eq!(status, StatusCode::OK);
    let limit = Limits::default().max_cost;
    assert_refused(
        &body,
        "QUERY_TOO_COMPLEX",
        &["costs 1", &format!("the limit is {limit}")],
    );
    let query = "query($n: Int) { orders(first: $n) { edges { node { items { order { items { order { items { id } } } } } } } } }";
    // The cost follows the variables: the same document runs with `first: 5`.
    let (_, body) = app.graphql(&token, query, json!({ "n": 5 })).await;
    assert_not_limited(&body);
    assert!(body.get("errors").is_none(), "{body:#}");
    let (_, body) = app.graphql(&token, query, json!({ "n": 100 })).await;
    assert_refused(&body, "QUERY_TOO_COMPLEX", &["costs 1"]);
}

#[tokio::test]
async fn the_cost_limit_lets_a_query_at_the_limit_through_and_refuses_one_over() {
    let probe = TestApp::spawn().await;
    let token = probe.token(DEMO, Role::Viewer).await;
    let body = json!({ "query": operation("OrdersPage"), "variables": { "first": 100 } });
    let (_, answer) = post_with_cost(&probe, &token, body.clone()).await;
    let cost = answer["extensions"]["cost"]["estimated"].as_u64().unwrap();

    let at = cost.to_string();
    let app = TestApp::spawn_with(&[("LIMIT_COST", at.as_str())]).await;
    let token = app.token(DEMO, Role::Viewer).await;
    let (status, answer) = post_with_cost(&app, &token, body.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(answer.get("errors").is_none(), "{answer:#}");

    let under = (cost - 1).to_string();
    let app = TestApp::spawn_with(&[("LIMIT_COST", under.as_str())]).await;
    let token = app.token(DEMO, Role::Viewer).await;
    let (_, answer) = post_with_cost(&app, &token, body).await;
    assert_refused(
        &answer,
        "QUERY_TOO_COMPLEX",
        &[&format!("costs {cost}"), &format!("limit is {under}")],
    );
}

/// `node(id:)` on a shipment, its order, then `shipments { order { … } }`
/// `levels` times around `leaf`: cheap (5 shipments per order) however
/// deep.
fn deep_query(id: &str, levels: usize, leaf: &str) -> String {
    let mut inner = leaf.to_owned();
    for _ in 0..levels {
        inner = format!("shipments {{ order {{ {inner} }} }}");
    }
    format!("{{ node(id: \"{id}\") {{ ... on Shipment {{ order {{ {inner} }} }} }} }}")
}

#[tokio::test]
async fn depth_at_the_limit_passes_and_one_more_level_is_too_deep() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let id = GlobalId::encode(NodeKind::Shipment, Uuid::nil()).0;
    assert_eq!(
        Limits::default().max_depth,
        8,
        "the queries below are built for 8"
    );
    // node 1, order 2, shipments 3, order 4, shipments 5, order 6, then the leaf.
    let at_limit = deep_query(&id, 2, "shipments { id }");
    let (_, body) = app.graphql(&token, &at_limit, json!({})).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let over = deep_query(&id, 2, "shipments { order { id } }");
    let (_, body) = app.graphql(&token, &over, json!({})).await;
    assert_refused(&body, "QUERY_TOO_DEEP", &["more than 8 deep"]);
}

#[tokio::test]
async fn aliases_root_fields_and_directives_at_their_limits_pass_and_one_more_fails() {
    let app = TestApp::spawn_with(&[("LIMIT_DIRECTIVES", "2")]).await;
    let token = app.token(DEMO, Role::Viewer).await;
    let limits = Limits::default();

    let aliased = |count: usize| {
        let fields: Vec<String> = (0..count).map(|n| format!("a{n}: id")).collect();
        format!(
            "{{ orders(first: 1) {{ edges {{ node {{ {} }} }} }} }}",
            fields.join(" ")
        )
    };
    let (_, body) = app
        .graphql(&token, &aliased(limits.max_aliases), json!({}))
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let (_, body) = app
        .graphql(&token, &aliased(limits.max_aliases + 1), json!({}))
        .await;
    assert_refused(&body, "QUERY_TOO_COMPLEX", &["aliases"]);

    let roots = |count: usize| format!("{{ {} }}", "orderStatusCounts { count } ".repeat(count));
    let (_, body) = app
        .graphql(&token, &roots(limits.max_root_fields), json!({}))
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let (_, body) = app
        .graphql(&token, &roots(limits.max_root_fields + 1), json!({}))
        .await;
    assert_refused(&body, "QUERY_TOO_COMPLEX", &["root fields"]);

    // Only two directives apply to fields (`@include`, `@skip`); the
    // third is refused by the limit before validation sees the repetition.
    let (_, body) = app
        .graphql(
            &token,
            "{ orderStatusCounts @include(if: true) @skip(if: false) { count } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let (_, body) = app
        .graphql(
            &token,
            "{ orderStatusCounts @include(if: true) @skip(if: false) @include(if: true) { count } }",
            json!({}),
        )
        .await;
    assert_refused(&body, "QUERY_TOO_COMPLEX", &["3 directives", "limit is 2"]);
}

#[tokio::test]
async fn tokens_and_bytes_at_their_limits_pass_and_one_more_fails() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let limits = Limits::default();

    // `{ orders ( first : 0 filter : { status : [ … ] } ) { pageInfo {
    // hasNextPage } } }`: 22 tokens around the list's values.
    let with_tokens = |count: usize| {
        let statuses = vec!["PENDING"; count - 22].join(" ");
        format!(
            "{{ orders(first: 0, filter: {{ status: [{statuses}] }}) {{ pageInfo {{ hasNextPage }} }} }}"
        )
    };
    let (_, body) = app
        .graphql(&token, &with_tokens(limits.max_tokens), json!({}))
        .await;
    assert_not_limited(&body);
    assert!(body.get("errors").is_none(), "{body:#}");
    let (_, body) = app
        .graphql(&token, &with_tokens(limits.max_tokens + 1), json!({}))
        .await;
    assert_refused(
        &body,
        "QUERY_TOO_COMPLEX",
        &[&format!("{} tokens", limits.max_tokens + 1)],
    );

    // Comments are not tokens, but they are bytes.
    let with_bytes = |count: usize| {
        let query = "{ orderStatusCounts { count } }\n#";
        format!("{query}{}", "x".repeat(count - query.len()))
    };
    let (_, body) = app
        .graphql(&token, &with_bytes(limits.max_document_bytes), json!({}))
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let (_, body) = app
        .graphql(
            &token,
            &with_bytes(limits.max_document_bytes + 1),
            json!({}),
        )
        .await;
    assert_refused(
        &body,
        "QUERY_TOO_COMPLEX",
        &[&format!("{} bytes", limits.max_document_bytes + 1)],
    );
}

#[tokio::test]
async fn nesting_fragments_at_the_recursion_limit_passes_and_one_more_is_too_deep() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let max = Limits::default().max_recursion;
    // The operation's selection set is level 1; each inline fragment adds one.
    let nested = |levels: usize| {
        format!(
            "{{ {} __typename {} }}",
            "... on QueryRoot { ".repeat(levels - 1),
            "} ".repeat(levels - 1)
        )
    };
    let (_, body) = app.graphql(&token, &nested(max), json!({})).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let (_, body) = app.graphql(&token, &nested(max + 1), json!({})).await;
    assert_refused(&body, "QUERY_TOO_DEEP", &[&max.to_string()]);
}

#[tokio::test]
async fn fragments_spread_exponentially_are_refused_before_validation_expands_them() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    // F0 has one field; every Fn spreads F(n-1) four times: F12 is 4^12
    // (16 million) fields, in a document of 12 levels and 300 bytes.
    let mut fragments = vec!["fragment F0 on Order { id }".to_owned()];
    for n in 1..=12 {
        fragments.push(format!(
            "fragment F{n} on Order {{ ...F{m} ...F{m} ...F{m} ...F{m} }}",
            m = n - 1
        ));
    }
    let query = format!(
        "{{ orders(first: 1) {{ edges {{ node {{ ...F12 }} }} }} }} {}",
        fragments.join(" ")
    );
    let started = std::time::Instant::now();
    let (_, body) = app.graphql(&token, &query, json!({})).await;
    assert_refused(&body, "QUERY_TOO_COMPLEX", &["expands to more than"]);
    // Refused after a bounded walk, not after 2^30 fields.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[tokio::test]
async fn graphiql_introspection_passes_and_deeper_introspection_does_not() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let introspection = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/graphiql_introspection.graphql"
    ))
    .unwrap();
    let data = app.data(&token, &introspection, json!({})).await;
    assert_eq!(data["__schema"]["queryType"]["name"], json!("QueryRoot"));

    let max = Limits::default().max_introspection_depth;
    // __schema, types, then `ofType` until one past the limit.
    let deep = format!(
        "{{ __schema {{ types {{ {} name {} }} }} }}",
        "ofType { ".repeat(max - 1),
        "} ".repeat(max - 1)
    );
    let (_, body) = app.graphql(&token, &deep, json!({})).await;
    assert_refused(&body, "QUERY_TOO_DEEP", &["introspection"]);
}

#[tokio::test]
async fn introspection_and_suggestions_can_be_turned_off() {
    let app = TestApp::spawn_with(&[
        ("INTROSPECTION_ENABLED", "false"),
        ("FIELD_SUGGESTIONS", "false"),
    ])
    .await;
    let token = app.token(DEMO, Role::Viewer).await;
    let (_, body) = app
        .graphql(&token, "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_refused(&body, "BAD_USER_INPUT", &["introspection is turned off"]);
    let (_, body) = app
        .graphql(&token, "{ ordres { totalCount } }", json!({}))
        .await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains("Did you mean"), "{message}");
    // `__typename` is not introspection: clients rely on it.
    let data = app.data(&token, "{ __typename }", json!({})).await;
    assert_eq!(data["__typename"], json!("QueryRoot"));

    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let (_, body) = app
        .graphql(&token, "{ ordres { totalCount } }", json!({}))
        .await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("Did you mean"), "{message}");
}

#[tokio::test]
async fn a_batch_counts_as_the_sum_of_its_parts_and_has_a_maximum_length() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let limits = Limits::default();
    let post = |body: Value| {
        app.http
            .post(app.url("/graphql"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let one = json!({ "query": "{ orderStatusCounts { count } }" });
    let response = post(Value::Array(vec![one.clone(); limits.max_batch]))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answers: Value = response.json().await.unwrap();
    assert_eq!(answers.as_array().unwrap().len(), limits.max_batch);
    let response = post(Value::Array(vec![one; limits.max_batch + 1]))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_refused(&body, "QUERY_TOO_COMPLEX", &["batch", "operations"]);

    // OrdersPage(100) fits alone; two of them do not fit together.
    let page = json!({ "query": operation("OrdersPage"), "variables": { "first": 100 } });
    let response = post(page.clone()).await.unwrap();
    let body: Value = response.json().await.unwrap();
    assert!(body.get("errors").is_none());
    let response = post(json!([page.clone(), page])).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_refused(&body, "QUERY_TOO_COMPLEX", &["the batch costs"]);
}

#[tokio::test]
async fn a_request_past_its_deadline_is_stopped_with_a_clear_error() {
    // Loaders wait a second before they batch: two lookups side by side
    // (one alone would not wait for others' keys) outlive a 200 ms deadline.
    let app =
        TestApp::spawn_with(&[("REQUEST_TIMEOUT", "200ms"), ("DATALOADER_DELAY", "1s")]).await;
    let token = app.token(DEMO, Role::Viewer).await;
    let id = GlobalId::encode(NodeKind::Order, Uuid::nil()).0;
    let started = std::time::Instant::now();
    let (status, body) = app
        .graphql(
            &token,
            "query($id: ID!) { a: order(id: $id) { id } b: order(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert!(started.elapsed() < std::time::Duration::from_millis(900));
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body:#}");
    assert_refused(&body, "INTERNAL_SERVER_ERROR", &["200ms", "stopped"]);
    // Requests that need no loader still run.
    let data = app.data(&token, "{ __typename }", json!({})).await;
    assert_eq!(data["__typename"], json!("QueryRoot"));
}

#[tokio::test]
async fn refusals_and_admitted_costs_are_counted_for_metrics() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let id = GlobalId::encode(NodeKind::Shipment, Uuid::nil()).0;
    let over = deep_query(&id, 2, "shipments { order { id } }");
    for _ in 0..2 {
        let (_, body) = app.graphql(&token, &over, json!({})).await;
        assert_refused(&body, "QUERY_TOO_DEEP", &[]);
    }
    app.data(
        &token,
        "{ orderStats(days: 30) { day orderCount } }",
        json!({}),
    )
    .await;
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("fulexo_requests_refused_total{reason=\"QUERY_TOO_DEEP\"} 2"),
        "{metrics}"
    );
    // One admitted request of cost 61, in the (16, 64] bucket.
    assert!(
        metrics.contains("fulexo_request_cost_sum 61.0"),
        "{metrics}"
    );
    assert!(metrics.contains("fulexo_request_cost_count 1"), "{metrics}");
}

#[tokio::test]
async fn a_document_seen_before_is_checked_again_against_its_new_variables() {
    // Known documents skip parsing and validation; what depends on the
    // variables must still be checked each time.
    let app = TestApp::spawn_with(&[("LIMIT_COST", "2000")]).await;
    let token = app.token(DEMO, Role::Viewer).await;
    let page = operation("OrdersPage");
    let send = |variables: Value| app.graphql(&token, &page, variables);

    assert!(app.state.guard.known(&page).is_none());
    let (status, first) = send(json!({ "first": 5 })).await;
    assert_eq!(status, StatusCode::OK, "{first:#}");
    assert!(first.get("errors").is_none(), "{first:#}");
    assert!(app.state.guard.known(&page).is_some(), "remembered");

    // The same text: a page too large for the cost limit,
    let (_, body) = send(json!({ "first": 100 })).await;
    assert_refused(&body, "QUERY_TOO_COMPLEX", &["costs", "2000"]);
    // a variable of the wrong type, a required one missing,
    let (_, body) = send(json!({ "first": "five" })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");
    let (_, body) = send(json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");
    // and a status that does not exist.
    let (_, body) = send(json!({ "first": 5, "status": ["LOST"] })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");

    // It still answers as the first time.
    let (_, again) = send(json!({ "first": 5 })).await;
    assert_eq!(again, first);

    // A document refused by validation is not remembered.
    let invalid = "{ orders(first: 5) { edges { node { nope } } } }";
    let (_, body) = app.graphql(&token, invalid, json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");
    assert!(app.state.guard.known(invalid).is_none());
}
