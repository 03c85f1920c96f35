//! Persisted documents: Apollo's automatic persisted queries, registered
//! documents from Apollo and Relay manifests called by every id form, the
//! safelist modes, and HTTP caching of GET answers.

use fulexo::auth::Role;
use fulexo::graphql::ids::{GlobalId, NodeKind};
use fulexo::persisted::normalize::sha256_hex;
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, ETAG, IF_NONE_MATCH, VARY};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::{DEMO, OTHER, TestApp, error_code, operation, shared_redis, vars};

const TYPENAME: &str = "query Typename { __typename }";

fn apq(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(
    app: &TestApp,
    token: &str,
    body: Value,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let response = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.json().await.unwrap())
}

async fn get(
    app: &TestApp,
    token: &str,
    query: &[(&str, String)],
    etag: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .http
        .get(app.url("/graphql"))
        .bearer_auth(token)
        .query(query);
    if let Some(etag) = etag {
        request = request.header(IF_NONE_MATCH, etag);
    }
    request.send().await.unwrap()
}

/// Registers `documents` (Apollo format) for `client` on the app's database.
async fn import_apollo(
    app: &TestApp,
    client: &str,
    documents: &[(&str, String)],
) -> fulexo::db::models::persisted_document::ImportCounts {
    let operations: Vec<Value> = documents
        .iter()
        .map(|(name, body)| json!({ "id": sha256_hex(body), "name": name, "type": "query", "body": body }))
        .collect();
    let manifest = json!({ "format": "apollo-persisted-query-manifest", "version": 1, "operations": operations });
    import(app, &manifest.to_string(), Some(client)).await
}

async fn import(
    app: &TestApp,
    manifest: &str,
    client: Option<&str>,
) -> fulexo::db::models::persisted_document::ImportCounts {
    let url: &SecretString = app.state.config.database_url.as_ref().unwrap();
    fulexo::persisted::import(url, manifest, client)
        .await
        .unwrap()
        .1
}

#[tokio::test]
async fn the_apq_round_trip_misses_registers_and_hits() {
    let redis = shared_redis();
    let app = TestApp::spawn_with(&vars(&redis)).await;
    let token = app.token(DEMO, Role::Viewer).await;
    let hash = sha256_hex(TYPENAME);

    // A hash alone, unknown: the client is asked for the text.
    let (status, headers, body) = post(&app, &token, json!({ "extensions": apq(&hash) })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["errors"][0]["message"],
        json!("PersistedQueryNotFound")
    );
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(headers[CACHE_CONTROL], "no-store");

    // The text with its hash runs, and is stored.
    let (_, _, body) = post(
        &app,
        &token,
        json!({ "query": TYPENAME, "extensions": apq(&hash) }),
    )
    .await;
    assert_eq!(body, json!({ "data": { "__typename": "QueryRoot" } }));
    let (_, _, body) = post(&app, &token, json!({ "extensions": apq(&hash) })).await;
    assert_eq!(body, json!({ "data": { "__typename": "QueryRoot" } }));

    // Another instance sharing Redis knows it too.
    let other_instance = app.another_instance(&vars(&redis)).await;
    let (_, _, body) = post(&other_instance, &token, json!({ "extensions": apq(&hash) })).await;
    assert_eq!(body, json!({ "data": { "__typename": "QueryRoot" } }));

    // Over GET, in the APQ form.
    let response = get(
        &app,
        &token,
        &[("extensions", apq(&hash).to_string())],
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "data": { "__typename": "QueryRoot" } })
    );
}

#[tokio::test]
async fn a_document_is_never_stored_under_a_hash_that_is_not_its_own() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let wrong = sha256_hex("query Other { __typename }");
    let (status, _, body) = post(
        &app,
        &token,
        json!({ "query": TYPENAME, "extensions": apq(&wrong) }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let (_, _, body) = post(&app, &token, json!({ "extensions": apq(&wrong) })).await;
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND");
    // APQ documents are per tenant: another tenant cannot probe them.
    let hash = sha256_hex(TYPENAME);
    post(
        &app,
        &token,
        json!({ "query": TYPENAME, "extensions": apq(&hash) }),
    )
    .await;
    let other = app.token(OTHER, Role::Viewer).await;
    let (_, _, body) = post(&app, &other, json!({ "extensions": apq(&hash) })).await;
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND");
}

#[tokio::test]
async fn manifests_in_both_formats_import_idempotently_and_run_by_every_id_form() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let orders_page = operation("OrdersPage");
    let stats = operation("OrderStats");

    let counts = import_apollo(
        &app,
        "web",
        &[
            ("OrdersPage", orders_page.clone()),
            ("OrderStats", stats.clone()),
        ],
    )
    .await;
    assert_eq!((counts.added, counts.unchanged), (2, 0));
    let again = import_apollo(
        &app,
        "web",
        &[
            ("OrdersPage", orders_page.clone()),
            ("OrderStats", stats.clone()),
        ],
    )
    .await;
    assert_eq!(
        (again.added, again.changed, again.unchanged, again.removed),
        (0, 0, 2, 0)
    );

    let relay = json!({ "relay-orders-1": orders_page, "relay-typename-2": TYPENAME }).to_string();
    let counts = import(&app, &relay, Some("ios")).await;
    assert_eq!(counts.added, 2);
    assert_eq!(import(&app, &relay, Some("ios")).await.unchanged, 2);

    let expected = app.data(&token, &orders_page, json!({ "first": 3 })).await;
    let hash = sha256_hex(&orders_page);
    let variables = json!({ "first": 3 });
    for body in [
        json!({ "documentId": format!("sha256:{hash}"), "variables": variables }),
        json!({ "documentId": hash, "variables": variables }),
        json!({ "doc_id": "relay-orders-1", "variables": variables }),
        json!({ "id": "relay-orders-1", "variables": variables }),
        json!({ "extensions": apq(&hash), "variables": variables }),
    ] {
        let (status, _, answer) = post(&app, &token, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(answer["data"], expected, "{body}");
    }
    for query in [
        vec![("documentId", format!("sha256:{hash}"))],
        vec![("doc_id", "relay-orders-1".to_owned())],
        vec![("id", "relay-orders-1".to_owned())],
        vec![("extensions", apq(&hash).to_string())],
    ] {
        let mut query = query;
        query.push(("variables", variables.to_string()));
        let response = get(&app, &token, &query, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{query:?}");
        assert_eq!(
            response.json::<Value>().await.unwrap()["data"],
            expected,
            "{query:?}"
        );
    }

    // An id nobody registered.
    let (status, headers, body) = post(&app, &token, json!({ "documentId": "sha256:00" })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(headers[CACHE_CONTROL], "no-store");

    // A revoked client's documents stop running (at the registry's next
    // reload, which services run every few seconds).
    let url: &SecretString = app.state.config.database_url.as_ref().unwrap();
    let mut connection =
        <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(
            secrecy::ExposeSecret::expose_secret(url),
        )
        .await
        .unwrap();
    assert!(
        fulexo::db::models::persisted_document::PersistedClient::set_enabled(
            &mut connection,
            "ios",
            false
        )
        .await
        .unwrap()
    );
    app.state.documents.reload_if_changed().await.unwrap();
    let (status, _, _) = post(
        &app,
        &token,
        json!({ "doc_id": "relay-orders-1", "variables": variables }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = post(
        &app,
        &token,
        json!({ "documentId": format!("sha256:{hash}"), "variables": variables }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the web client's copy still runs");
}

#[tokio::test]
async fn an_invalid_manifest_imports_nothing() {
    let app = TestApp::spawn().await;
    let manifest =
        json!({ "a": "query A { __typename }", "b": "query B { noSuchField }" }).to_string();
    let url: &SecretString = app.state.config.database_url.as_ref().unwrap();
    let error = fulexo::persisted::import(url, &manifest, Some("bad"))
        .await
        .unwrap_err();
    assert!(format!("{error:#}").contains("b:"), "{error:#}");
    assert_eq!(app.count("persisted_documents").await, 0);
    let unnamed = fulexo::persisted::import(url, "{\"a\": \"{ __typename }\"}", None).await;
    assert!(format!("{:#}", unnamed.unwrap_err()).contains("--client"));
}

#[tokio::test]
async fn safelist_mode_runs_registered_documents_only() {
    let app = TestApp::spawn_with(&[("PERSISTED_QUERIES", "safelist")]).await;
    let token = app.token(DEMO, Role::Admin).await;
    let stats = operation("OrderStats");
    import_apollo(&app, "web", &[("OrderStats", stats.clone())]).await;

    // The registered text runs, however it is formatted.
    let reformatted = format!(
        "# the dashboard\n{}",
        stats.replace('\n', "\n\n  ").replace("days", "days ")
    );
    for query in [&stats, &reformatted] {
        let (status, _, body) = post(
            &app,
            &token,
            json!({ "query": query, "variables": { "days": 3 } }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["orderStats"].as_array().unwrap().len(), 3);
    }

    // Anything else is refused, and nothing runs.
    let order = GlobalId::encode(NodeKind::Order, app.insert_order(DEMO, "PENDING").await).0;
    let audit_before = app.count("audit_logs").await;
    for body in [
        json!({ "query": operation("OrdersPage"), "variables": { "first": 5 } }),
        json!({ "query": operation("UpdateOrderStatus"), "variables": { "id": order, "status": "PROCESSING" } }),
        json!({ "query": TYPENAME, "extensions": apq(&sha256_hex(TYPENAME)) }),
    ] {
        let (status, _, answer) = post(&app, &token, body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(error_code(&answer), "FORBIDDEN");
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("registered")
        );
    }
    assert_eq!(app.count("audit_logs").await, audit_before);
    // APQ registration is off: the refused text was not stored.
    let (_, _, body) = post(
        &app,
        &token,
        json!({ "extensions": apq(&sha256_hex(TYPENAME)) }),
    )
    .await;
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND");
}

#[tokio::test]
async fn ids_only_mode_refuses_free_form_text_even_when_registered() {
    let app = TestApp::spawn_with(&[("PERSISTED_QUERIES", "ids_only")]).await;
    let token = app.token(DEMO, Role::Viewer).await;
    let stats = operation("OrderStats");
    import_apollo(&app, "web", &[("OrderStats", stats.clone())]).await;
    let (status, _, body) = post(
        &app,
        &token,
        json!({ "query": stats, "variables": { "days": 2 } }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("documentId"),
        "{body}"
    );
    let (status, _, body) = post(
        &app,
        &token,
        json!({ "documentId": format!("sha256:{}", sha256_hex(&stats)), "variables": { "days": 2 } }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["orderStats"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_get_is_revalidated_with_its_etag_until_the_data_changes() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Admin).await;
    let detail = "query Detail($id: ID!) { order(id: $id) { id status updatedAt } }";
    import_apollo(&app, "web", &[("Detail", detail.to_owned())]).await;
    let order = GlobalId::encode(NodeKind::Order, app.insert_order(DEMO, "PENDING").await).0;
    let query = vec![
        ("documentId", format!("sha256:{}", sha256_hex(detail))),
        ("variables", json!({ "id": order }).to_string()),
    ];

    let first = get(&app, &token, &query, None).await;
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()[ETAG].to_str().unwrap().to_owned();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "a strong ETag: {etag}"
    );
    assert!(
        first.headers()[CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("private")
    );
    assert!(
        first.headers()[VARY]
            .to_str()
            .unwrap()
            .contains("Authorization")
    );

    let again = get(&app, &token, &query, Some(&etag)).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()[ETAG], etag.as_str());
    assert!(again.bytes().await.unwrap().is_empty());

    // Another tenant's token never gets a 304 for this ETag (the order is
    // missing for them, and the validator carries the tenant anyway).
    let other = app.token(OTHER, Role::Admin).await;
    let foreign = get(&app, &other, &query, Some(&etag)).await;
    assert_eq!(foreign.status(), StatusCode::OK);

    // A write changes the answer: 200 and a new ETag.
    let (_, headers, _) = post(
        &app,
        &token,
        json!({ "query": operation("UpdateOrderStatus"), "variables": { "id": order, "status": "PROCESSING" } }),
    )
    .await;
    assert_eq!(
        headers[CACHE_CONTROL], "no-store",
        "POST answers are never cacheable"
    );
    let changed = get(&app, &token, &query, Some(&etag)).await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(changed.headers()[ETAG].to_str().unwrap(), etag);
    assert_eq!(
        changed.json::<Value>().await.unwrap()["data"]["order"]["status"],
        json!("PROCESSING")
    );

    // Errors are never cacheable.
    let broken = get(&app, &token, &[("query", "{ nope }".to_owned())], None).await;
    assert_eq!(broken.headers()[CACHE_CONTROL], "no-store");
    assert!(broken.headers().get(ETAG).is_none());
}

#[tokio::test]
async fn dashboard_answers_may_be_cached_a_minute() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let response = get(
        &app,
        &token,
        &[("query", "{ orderStatusCounts { status count } }".to_owned())],
        None,
    )
    .await;
    assert_eq!(response.headers()[CACHE_CONTROL], "max-age=60, private");
    let response = get(
        &app,
        &token,
        &[(
            "query",
            "{ orders(first: 1) { edges { cursor } } }".to_owned(),
        )],
        None,
    )
    .await;
    assert_eq!(response.headers()[CACHE_CONTROL], "no-cache, private");
}

/// Apollo Client's own persisted query link, unchanged, over POST and GET:
/// its first request is the hash alone (a miss), its second the hash with
/// the text; a later query sends the hash alone and is a hit.
#[tokio::test]
async fn apollo_clients_persisted_query_link_works_unchanged() {
    let node_dir = crate::helpers::node_clients();
    let app = TestApp::spawn().await;
    // Persisted queries are per tenant: each run starts cold with its own.
    for (method, slug) in [("post", DEMO), ("get", OTHER)] {
        let token = app.token(slug, Role::Viewer).await;
        let expected = app
            .data(
                &token,
                "query ApolloOrders($first: Int!) { orders(first: $first) { edges { node { id status } } } }",
                json!({ "first": 2 }),
            )
            .await;
        let output = tokio::process::Command::new("node")
            .args(["apollo_apq.mjs", &app.url("/graphql"), &token, method])
            .current_dir(node_dir)
            .output()
            .await
            .expect("running node");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let lines: Vec<Value> = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let (exchanges, results) = lines.split_at(lines.len() - 1);
        let sent: Vec<(bool, bool)> = exchanges
            .iter()
            .map(|exchange| {
                (
                    exchange["sentQuery"] == json!(true),
                    exchange["body"]
                        .as_str()
                        .unwrap()
                        .contains("PersistedQueryNotFound"),
                )
            })
            .collect();
        // miss (hash alone), text sent, hit (hash alone)
        assert_eq!(
            sent,
            [(false, true), (true, false), (false, false)],
            "{method}: {exchanges:?}"
        );
        if method == "get" {
            assert_eq!(exchanges[0]["method"], json!("GET"));
        }
        // Apollo adds __typename to selections; compare what was asked.
        let ids = |data: &Value| -> Vec<Value> {
            data["orders"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|edge| edge["node"]["id"].clone())
                .collect()
        };
        assert_eq!(ids(&results[0]["first"]), ids(&expected));
        assert_eq!(ids(&results[0]["second"]), ids(&expected));
    }
}

#[tokio::test]
async fn registered_documents_are_costed_with_their_variables_like_any_other() {
    let app = TestApp::spawn_with(&[("LIMIT_COST", "2000")]).await;
    let token = app.token(DEMO, Role::Viewer).await;
    let page = operation("OrdersPage");
    import_apollo(&app, "web", &[("OrdersPage", page.clone())]).await;
    let id = format!("sha256:{}", sha256_hex(&page));

    let call = |first: u32| {
        app.http
            .post(app.url("/graphql"))
            .bearer_auth(&token)
            .header("Fulexo-Include-Cost", "1")
            .json(&json!({ "documentId": id, "variables": { "first": first } }))
            .send()
    };
    let body: Value = call(5).await.unwrap().json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body:#}");
    // 1 + 5 x 91 (a page's order with its items and shipments).
    assert_eq!(body["extensions"]["cost"]["estimated"], json!(456));
    let body: Value = call(100).await.unwrap().json().await.unwrap();
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body:#}");
}
