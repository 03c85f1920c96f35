//! Bad input, every kind the issue lists: each gets a 4xx or a GraphQL
//! error with the contract's code and a message a person can act on;
//! none gets a 5xx, leaks an internal, or changes anything stored.

use fulexo::auth::Role;
use fulexo::graphql::ids::{GlobalId, NodeKind};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{DEMO, TestApp};

/// What a request sends: a raw body with its content type.
struct Case {
    name: &'static str,
    content_type: &'static str,
    body: Vec<u8>,
    status: StatusCode,
    code: &'static str,
    /// Words the message must hold, so that it says what to fix.
    mentions: &'static str,
}

fn json_case(
    name: &'static str,
    body: Value,
    status: StatusCode,
    code: &'static str,
    mentions: &'static str,
) -> Case {
    Case {
        name,
        content_type: "application/json",
        body: serde_json::to_vec(&body).unwrap(),
        status,
        code,
        mentions,
    }
}

/// Words that would betray the service's insides.
const LEAKS: [&str; 10] = [
    "SELECT",
    "sql",
    "postgres",
    "diesel",
    "panicked",
    "src/",
    "stack",
    "bb8",
    "127.0.0.1",
    "tokio",
];

#[tokio::test]
async fn every_kind_of_bad_input_gets_a_clear_error_and_changes_nothing() {
    let app = TestApp::spawn_with(&[("REQUEST_BODY_LIMIT", "64KB")]).await;
    let token = app.token(DEMO, Role::Admin).await;
    let order = app
        .data(
            &token,
            "{ orders(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await["orders"]["edges"][0]["node"]["id"]
        .clone();
    let before = stored(&app).await;
    let page = "query($first: Int, $after: String) { orders(first: $first, after: $after) { edges { cursor } } }";
    let create = "mutation($input: CreateShipmentInput!) { createShipment(input: $input) { shipment { id } } }";
    let bad = StatusCode::BAD_REQUEST;
    let ok = StatusCode::OK;

    let cases = vec![
        Case {
            name: "malformed JSON",
            content_type: "application/json",
            body: br#"{"query": "{ __typename }""#.to_vec(),
            status: bad,
            code: "BAD_USER_INPUT",
            mentions: "not valid JSON",
        },
        Case {
            name: "wrong content type",
            content_type: "text/plain",
            body: br#"{"query": "{ __typename }"}"#.to_vec(),
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "BAD_USER_INPUT",
            mentions: "application/json",
        },
        Case {
            name: "body over the size limit",
            content_type: "application/json",
            body: serde_json::to_vec(
                &json!({ "query": "{ __typename }", "variables": { "pad": "x".repeat(70_000) } }),
            )
            .unwrap(),
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "BAD_USER_INPUT",
            mentions: "limit",
        },
        Case {
            name: "invalid UTF-8",
            content_type: "application/json",
            body: b"{\"query\": \"{ __typename \xff\xfe }\"}".to_vec(),
            status: bad,
            code: "BAD_USER_INPUT",
            mentions: "JSON",
        },
        json_case(
            "unknown operation name",
            json!({ "query": "query A { __typename }", "operationName": "B" }),
            bad,
            "BAD_USER_INPUT",
            "B",
        ),
        json_case(
            "a syntax error",
            json!({ "query": "{ orders(first: ) }" }),
            bad,
            "BAD_USER_INPUT",
            "1:",
        ),
        json_case(
            "wrong variable type",
            json!({ "query": page, "variables": { "first": "ten" } }),
            bad,
            "BAD_USER_INPUT",
            "first",
        ),
        json_case(
            "an integer beyond 32 bits",
            json!({ "query": page, "variables": { "first": 99_999_999_999i64 } }),
            ok,
            "BAD_USER_INPUT",
            "2147483647",
        ),
        json_case(
            "first below 0",
            json!({ "query": page, "variables": { "first": -1 } }),
            ok,
            "BAD_USER_INPUT",
            "first",
        ),
        json_case(
            "first over 100",
            json!({ "query": page, "variables": { "first": 101 } }),
            ok,
            "BAD_USER_INPUT",
            "100",
        ),
        json_case(
            "a tampered cursor",
            json!({ "query": page, "variables": { "first": 5, "after": "b3JkZXI6dGFtcGVyZWQ" } }),
            ok,
            "BAD_USER_INPUT",
            "cursor",
        ),
        json_case(
            "an invalid id",
            json!({ "query": "query($id: ID!) { node(id: $id) { id } }", "variables": { "id": "not-an-id" } }),
            ok,
            "BAD_USER_INPUT",
            "id",
        ),
        json_case(
            "an id of another type",
            json!({ "query": "query($id: ID!) { order(id: $id) { id } }",
                    "variables": { "id": GlobalId::encode(NodeKind::Shipment, Uuid::nil()).0 } }),
            ok,
            "BAD_USER_INPUT",
            "id",
        ),
        json_case(
            "an unknown enum value",
            json!({ "query": "{ orders(first: 1, filter: { status: [SHIPPEDD] }) { edges { cursor } } }" }),
            bad,
            "BAD_USER_INPUT",
            "SHIPPEDD",
        ),
        json_case(
            "an unknown enum value in a variable",
            json!({ "query": "query($s: [OrderStatus!]) { orders(first: 1, filter: { status: $s }) { edges { cursor } } }",
                    "variables": { "s": ["shipped"] } }),
            bad,
            "BAD_USER_INPUT",
            "shipped",
        ),
        json_case(
            "a NUL byte in the document",
            json!({ "query": "{ __typename \u{0} }" }),
            bad,
            "BAD_USER_INPUT",
            "NUL",
        ),
        json_case(
            "a NUL byte in a variable of a write",
            json!({ "query": create, "variables": { "input": { "orderId": order, "carrier": "DHL", "trackingNo": "NUL\u{0}1" } } }),
            bad,
            "BAD_USER_INPUT",
            "NUL",
        ),
        json_case(
            "a NUL byte in a search",
            json!({ "query": "query($q: String!) { orders(first: 1, filter: { customerEmailContains: $q }) { edges { cursor } } }",
                    "variables": { "q": "\u{0}" } }),
            bad,
            "BAD_USER_INPUT",
            "NUL",
        ),
        json_case(
            "a write with a missing field",
            json!({ "query": create, "variables": { "input": { "orderId": order, "carrier": "DHL" } } }),
            bad,
            "BAD_USER_INPUT",
            "trackingNo",
        ),
        json_case(
            "a write to an unknown order",
            json!({ "query": create, "variables": { "input": {
                "orderId": GlobalId::encode(NodeKind::Order, Uuid::nil()).0, "carrier": "DHL", "trackingNo": "X1" } } }),
            ok,
            "BAD_USER_INPUT",
            "order",
        ),
        json_case(
            "JSON nested past any reason",
            json!({ "query": "{ __typename }", "variables": { "deep": nested(200) } }),
            bad,
            "BAD_USER_INPUT",
            "JSON",
        ),
    ];

    for case in cases {
        let response = app
            .http
            .post(app.url("/graphql"))
            .bearer_auth(&token)
            .header("content-type", case.content_type)
            .header("accept", "application/graphql-response+json")
            .body(case.body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, case.status, "{}: {text}", case.name);
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{}: not JSON: {text}", case.name));
        let errors = body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: {text}", case.name));
        assert_eq!(
            errors[0]["extensions"]["code"], case.code,
            "{}: {text}",
            case.name
        );
        let message = errors[0]["message"].as_str().unwrap();
        assert!(
            message
                .to_lowercase()
                .contains(&case.mentions.to_lowercase()),
            "{}: `{message}` should mention `{}`",
            case.name,
            case.mentions
        );
        for leak in LEAKS {
            assert!(
                !text.contains(leak),
                "{}: leaks `{leak}`: {text}",
                case.name
            );
        }
    }
    assert_eq!(stored(&app).await, before, "nothing stored changed");
}

/// Rows that a write would add to.
async fn stored(app: &TestApp) -> (i64, i64, i64) {
    (
        app.count("orders").await,
        app.count("shipments").await,
        app.count("audit_logs").await,
    )
}

fn nested(levels: usize) -> Value {
    (0..levels).fold(json!(1), |inner, _| json!([inner]))
}
