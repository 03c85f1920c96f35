//! Generated documents and variables thrown at the service: whatever they
//! are (valid, nearly valid, nonsense), the answer is never a 5xx, never
//! a panic, and every error carries a contract code. Bounded by
//! `FUZZ_CASES` (default 2000: seconds, well under a minute).

use std::time::{Duration, Instant};

use fulexo::auth::Role;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::helpers::{DEMO, TestApp};

const CODES: [&str; 8] = [
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "BAD_USER_INPUT",
    "QUERY_TOO_COMPLEX",
    "QUERY_TOO_DEEP",
    "RATE_LIMITED",
    "PERSISTED_QUERY_NOT_FOUND",
    "INTERNAL_SERVER_ERROR",
];

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "orders",
        "order",
        "node",
        "shipments",
        "auditLogs",
        "orderStats",
        "orderStatusCounts",
        "topProducts",
        "edges",
        "items",
        "invoices",
        "product",
        "id",
        "status",
        "total",
        "number",
        "cursor",
        "pageInfo",
        "hasNextPage",
        "endCursor",
        "totalCount",
        "count",
        "day",
        "orderCount",
        "__typename",
        "__schema",
        "__type",
        "types",
        "fields",
        "ofType",
        "name",
        "kind",
        "bogus",
        "updateOrderStatus",
        "createShipment",
        "shipment",
        "carrier",
        "trackingNo",
    ])
    .prop_map(str::to_owned)
}

fn argument_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (-5i32..120).prop_map(|n| n.to_string()),
        any::<String>().prop_map(|text| serde_json::to_string(&text).unwrap()),
        "[A-Z_]{1,12}",
        Just("$v".to_owned()),
        Just("null".to_owned()),
        Just("\"T3JkZXI6MDE5\"".to_owned()),
        any::<f64>().prop_map(|n| format!("{n:?}")),
        Just("true".to_owned()),
    ];
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| format!("[{}]", items.join(", "))),
            prop::collection::vec((name(), inner), 0..3).prop_map(|fields| {
                let fields: Vec<String> = fields
                    .into_iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect();
                format!("{{ {} }}", fields.join(", "))
            }),
        ]
    })
}

fn field() -> impl Strategy<Value = String> {
    let arguments = prop::collection::vec(
        (
            prop::sample::select(vec![
                "first", "after", "id", "days", "filter", "orderBy", "input", "name",
            ]),
            argument_value(),
        ),
        0..3,
    )
    .prop_map(|arguments| {
        if arguments.is_empty() {
            String::new()
        } else {
            let arguments: Vec<String> = arguments
                .into_iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            format!("({})", arguments.join(", "))
        }
    });
    let directive = prop_oneof![
        Just(String::new()),
        Just(" @include(if: true)".to_owned()),
        Just(" @skip(if: $v)".to_owned()),
        Just(" @bogus".to_owned()),
    ];
    (prop::option::of("[a-z]{1,3}"), name(), arguments, directive).prop_map(
        |(alias, name, arguments, directive)| match alias {
            Some(alias) => format!("{alias}: {name}{arguments}{directive}"),
            None => format!("{name}{arguments}{directive}"),
        },
    )
}

fn selection_set() -> impl Strategy<Value = String> {
    let leaf = prop::collection::vec(field(), 1..4)
        .prop_map(|fields| format!("{{ {} }}", fields.join(" ")));
    leaf.prop_recursive(8, 64, 4, |inner| {
        prop::collection::vec(
            prop_oneof![
                3 => (field(), inner.clone()).prop_map(|(field, set)| format!("{field} {set}")),
                2 => field(),
                1 => (prop::sample::select(vec!["Order", "Shipment", "Invoice", "QueryRoot"]), inner)
                    .prop_map(|(on, set)| format!("... on {on} {set}")),
            ],
            1..4,
        )
        .prop_map(|items| format!("{{ {} }}", items.join(" ")))
    })
}

/// Real operations' shapes with generated arguments: most of these run.
fn near_valid() -> impl Strategy<Value = String> {
    let number = prop_oneof![4 => -5i64..120, 1 => any::<i64>()];
    let text = any::<String>().prop_map(|text| serde_json::to_string(&text).unwrap());
    (
        prop::sample::select(vec![
            "{ orders(first: #N) { edges { cursor node { id status total items { sku quantity product { name } } shipments { carrier } } } pageInfo { hasNextPage endCursor } } }",
            "{ orders(first: #N, after: #S) { edges { node { id } } } }",
            "{ orders(first: #N, filter: { customerEmailContains: #S }, orderBy: { field: TOTAL }) { edges { node { customerEmail } } } }",
            "query($v: Int) { orders(first: $v) { edges { node { id invoices { id } } } } }",
            "{ orderStats(days: #N) { day orderCount revenue medianValue movingAvg7d } }",
            "{ topProducts(days: #N, first: #N) { quantity orderItemCount product { sku } } }",
            "{ orderStatusCounts { status count } }",
            "{ node(id: #S) { id ... on Order { status } } }",
            "{ order(id: #S) { id } }",
            "{ shipments(first: #N, filter: { carrier: #S, undelivered: true }) { edges { node { id order { id } } } } }",
            "{ auditLogs(first: #N) { edges { node { id action } } } }",
            "{ __typename a: __typename }",
        ]),
        number,
        text,
    )
        .prop_map(|(template, number, text)| {
            template
                .replace("#N", &number.to_string())
                .replace("#S", &text)
        })
}

fn document() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => near_valid(),
        6 => (
            prop::sample::select(vec!["", "query", "query Q($v: Int)", "query($v: String!)", "mutation M($v: ID)", "subscription"]),
            selection_set(),
        )
            .prop_map(|(head, set)| format!("{head} {set}")),
        1 => any::<String>(),
        1 => "[{}()\\[\\]:$@!.a-z0-9 \"#]{0,200}",
    ]
}

fn variables() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(|n| json!({ "v": n })),
        any::<String>().prop_map(|text| json!({ "v": text })),
        Just(json!({ "v": [1, "two", null, { "x": 3 }] })),
        Just(json!("not an object")),
    ]
}

#[test]
fn generated_documents_never_get_a_5xx_or_an_uncoded_error() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (app, token) = runtime.block_on(async {
        let app = TestApp::spawn().await;
        let token = app.token(DEMO, Role::Admin).await;
        (app, token)
    });
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(2000);
    let started = Instant::now();
    // How many cases ran something: the generator must reach execution,
    // not only the parser.
    let executed = std::cell::Cell::new(0u32);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(document(), variables(), any::<bool>()),
            |(document, variables, as_get)| {
                let (status, text) = runtime.block_on(async {
                    let request = if as_get {
                        app.http.get(app.url("/graphql")).query(&[
                            ("query", document.as_str()),
                            ("variables", &variables.to_string()),
                        ])
                    } else {
                        app.http
                            .post(app.url("/graphql"))
                            .json(&json!({ "query": document, "variables": variables }))
                    };
                    let response = request.bearer_auth(&token).send().await.unwrap();
                    (response.status(), response.text().await.unwrap())
                });
                prop_assert!(!status.is_server_error(), "{status} for {document}: {text}");
                let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                if body.get("data").is_some_and(|data| !data.is_null()) {
                    executed.set(executed.get() + 1);
                }
                prop_assert!(
                    body.is_object(),
                    "{status} not a JSON object for {document}: {text}"
                );
                for error in body["errors"].as_array().into_iter().flatten() {
                    let code = error["extensions"]["code"].as_str().unwrap_or_default();
                    prop_assert!(CODES.contains(&code), "{code:?} for {document}: {text}");
                    prop_assert!(
                        code != "INTERNAL_SERVER_ERROR",
                        "internal error for {document}: {text}"
                    );
                }
                Ok(())
            },
        )
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "bounded: {:?}",
        started.elapsed()
    );
    eprintln!("{cases} cases, {} executed", executed.get());
    assert!(
        executed.get() > cases / 20,
        "only {} cases executed",
        executed.get()
    );
}
