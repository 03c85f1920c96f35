//! Resolver-level caching against real Redis and PostgreSQL: hits, tenant
//! separation, invalidation across instances, single flight, Redis failing
//! mid-test, and keys that always name their tenant.

use std::collections::HashSet;
use std::time::Duration;

use fred::prelude::*;
use fulexo::auth::Role;
use fulexo::graphql::ids::{GlobalId, NodeKind};
use fulexo::metrics::{Layer, Outcome};
use serde_json::{Value, json};

use crate::helpers::{DEMO, OTHER, RedisServer, TestApp, operation, shared_redis, vars};

const COUNTS: &str = "{ orderStatusCounts { status count } }";

fn hits(app: &TestApp, layer: Layer, resolver: &str) -> u64 {
    app.state
        .cache
        .metrics()
        .count(layer, Outcome::Hit, resolver)
}

fn loads(app: &TestApp, resolver: &str) -> u64 {
    app.state
        .cache
        .metrics()
        .loads
        .get_or_create(&fulexo::metrics::RedisLabels {
            operation: resolver.to_owned(),
        })
        .get()
}

#[tokio::test]
async fn a_value_read_twice_comes_from_the_cache_the_second_time_and_differs_per_tenant() {
    let redis = shared_redis();
    let app = TestApp::spawn_with(&vars(&redis)).await;
    let demo = app.token(DEMO, Role::Viewer).await;
    let other = app.token(OTHER, Role::Viewer).await;
    let stats = operation("OrderStats");

    let before = app.statements();
    let first = app.data(&demo, &stats, json!({ "days": 30 })).await;
    let computed = app.statements() - before;
    let second = app.data(&demo, &stats, json!({ "days": 30 })).await;
    assert!(computed >= 1);
    assert_eq!(
        app.statements() - before,
        computed,
        "the second read sent no statement"
    );
    assert_eq!(first, second);
    assert_eq!(hits(&app, Layer::L1, "orderStats"), 1);

    // Another tenant: its own value, computed from its own orders.
    let before = app.statements();
    let theirs = app.data(&other, &stats, json!({ "days": 30 })).await;
    assert!(app.statements() > before, "another tenant's read is a miss");
    assert_ne!(theirs, first);

    // Another instance (a fresh L1) finds the value in Redis.
    let second_instance = app.another_instance(&vars(&redis)).await;
    let before = second_instance.statements();
    let from_redis = second_instance
        .data(&demo, &stats, json!({ "days": 30 }))
        .await;
    assert_eq!(from_redis, first);
    assert_eq!(second_instance.statements(), before);
    assert_eq!(hits(&second_instance, Layer::L2, "orderStats"), 1);
}

#[tokio::test]
async fn a_write_through_one_instance_is_read_through_the_other() {
    let redis = shared_redis();
    let a = TestApp::spawn_with(&vars(&redis)).await;
    let b = a.another_instance(&vars(&redis)).await;
    let token = a.token(DEMO, Role::Member).await;
    let order = a.insert_order(DEMO, "PENDING").await;
    let id = GlobalId::encode(NodeKind::Order, order).0;
    let detail = "query ($id: ID!) { order(id: $id) { status } }";

    // B caches the counts and the order.
    let counts_before = b.data(&token, COUNTS, json!({})).await;
    let order_before = b.data(&token, detail, json!({ "id": id })).await;
    assert_eq!(order_before["order"]["status"], json!("PENDING"));
    b.data(&token, COUNTS, json!({})).await;
    assert!(
        hits(&b, Layer::L1, "orderStatusCounts") >= 1,
        "B serves the counts from its L1"
    );

    // A writes.
    a.data(
        &token,
        &operation("UpdateOrderStatus"),
        json!({ "id": id, "status": "PROCESSING" }),
    )
    .await;

    // B's next reads see it.
    let order_after = b.data(&token, detail, json!({ "id": id })).await;
    assert_eq!(order_after["order"]["status"], json!("PROCESSING"));
    let counts_after = b.data(&token, COUNTS, json!({})).await;
    let count = |counts: &Value, status: &str| {
        counts["orderStatusCounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["status"] == json!(status))
            .unwrap()["count"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(
        count(&counts_after, "PENDING"),
        count(&counts_before, "PENDING") - 1
    );
    assert_eq!(
        count(&counts_after, "PROCESSING"),
        count(&counts_before, "PROCESSING") + 1
    );
}

#[tokio::test]
async fn a_hundred_concurrent_requests_for_one_cold_key_run_its_loader_once() {
    let redis = shared_redis();
    let app = TestApp::spawn_with(&vars(
        &[&redis[..], &[("DATABASE_POOL_SIZE", "20".to_owned())]].concat(),
    ))
    .await;
    let token = app.token(DEMO, Role::Viewer).await;
    let stats = operation("OrderStats");

    let requests: Vec<_> = (0..100)
        .map(|_| app.graphql(&token, &stats, json!({ "days": 17 })))
        .collect();
    let answers = futures_util::future::join_all(requests).await;

    for (status, body) in &answers {
        assert_eq!(*status, 200);
        assert_eq!(body, &answers[0].1);
    }
    assert_eq!(loads(&app, "orderStats"), 1);
}

#[tokio::test]
async fn with_redis_stopped_every_operation_still_answers_and_hits_resume_after_it_returns() {
    let mut server = RedisServer::start().await;
    let settings = [
        ("REDIS_URL", server.url()),
        ("CACHE_KEY_PREFIX", "own".to_owned()),
    ];
    let app = TestApp::spawn_with(&vars(&settings)).await;
    let token = app.token(DEMO, Role::Admin).await;
    let order = GlobalId::encode(NodeKind::Order, app.insert_order(DEMO, "PACKED").await).0;
    let shipment: uuid::Uuid = app
        .sql
        .query_one(
            "SELECT id FROM shipments WHERE tenant_id = $1 LIMIT 1",
            &[&app.tenant(DEMO).0],
        )
        .await
        .unwrap()
        .get(0);
    let reads = [
        ("OrdersPage", json!({ "first": 20 })),
        ("SearchOrders", json!({ "q": "nowak", "first": 10 })),
        ("UndeliveredShipments", json!({ "first": 20 })),
        ("OrderDetail", json!({ "id": order })),
        (
            "NodeLookup",
            json!({ "id": GlobalId::encode(NodeKind::Shipment, shipment).0 }),
        ),
        ("OrderStats", json!({ "days": 30 })),
    ];
    let mut expected = Vec::new();
    for (name, variables) in &reads {
        expected.push(app.data(&token, &operation(name), variables.clone()).await);
    }

    // Redis hangs: commands time out instead of waiting for it. Both the
    // instance that cached the values (its L1 still has them) and a fresh
    // one (every cached read misses L1 and asks Redis) answer.
    server.freeze(true);
    let fresh = app.another_instance(&vars(&settings)).await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    for ((name, variables), expected) in reads.iter().zip(&expected) {
        let response = impatient
            .post(fresh.url("/graphql"))
            .bearer_auth(&token)
            .json(&json!({ "query": operation(name), "variables": variables }))
            .send()
            .await
            .unwrap_or_else(|error| panic!("{name} with Redis frozen: {error}"));
        let answer: Value = response.json().await.unwrap();
        assert_eq!(&answer["data"], expected, "{name} with Redis frozen");
    }
    // A key the connected instance has not cached: its Redis commands
    // are sent, get no answer, and time out.
    let response = impatient
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": operation("OrderStats"), "variables": { "days": 13 } }))
        .send()
        .await
        .expect("OrderStats with Redis frozen");
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer["data"]["orderStats"].as_array().map(Vec::len),
        Some(13),
        "{answer}"
    );
    server.freeze(false);

    server.stop().await;
    let fresh = app.another_instance(&vars(&settings)).await;
    for ((name, variables), expected) in reads.iter().zip(&expected) {
        for instance in [&app, &fresh] {
            let answer = instance
                .data(&token, &operation(name), variables.clone())
                .await;
            assert_eq!(&answer, expected, "{name} with Redis stopped");
        }
    }
    // Writes go on, and so do reads of what they changed.
    app.data(
        &token,
        &operation("UpdateOrderStatus"),
        json!({ "id": order, "status": "SHIPPED" }),
    )
    .await;
    app.data(
        &token,
        &operation("CreateShipment"),
        json!({ "orderId": order, "carrier": "DHL", "trackingNo": "REDIS-DOWN-1" }),
    )
    .await;
    let detail = app
        .data(&token, &operation("OrderDetail"), json!({ "id": order }))
        .await;
    assert_eq!(detail["order"]["status"], json!("SHIPPED"));
    let status = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200, "Redis is not part of readiness");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("fulexo_cache_redis_available 0"),
        "{metrics}"
    );

    server.restart().await;
    // Caching in Redis resumes by itself: a value stored by this instance
    // is read by a fresh one.
    let mut resumed = false;
    for _ in 0..100 {
        let days = json!({ "days": 11 });
        app.data(&token, &operation("OrderStats"), days.clone())
            .await;
        let fresh = app.another_instance(&vars(&settings)).await;
        fresh.data(&token, &operation("OrderStats"), days).await;
        if hits(&fresh, Layer::L2, "orderStats") == 1 {
            resumed = true;
            break;
        }
        // Not stored yet: let the next value expire from this L1.
        app.state
            .cache
            .invalidate(app.tenant(DEMO), &[fulexo::cache::Tag::Aggregates])
            .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(resumed, "no L2 hit after Redis came back");
}

#[tokio::test]
async fn every_key_written_to_redis_names_a_tenant() {
    let redis = shared_redis();
    let prefix = redis[1].1.clone();
    let app = TestApp::spawn_with(&vars(&redis)).await;
    let token = app.token(DEMO, Role::Admin).await;
    let order = GlobalId::encode(NodeKind::Order, app.insert_order(DEMO, "PENDING").await).0;
    for (name, variables) in [
        ("OrdersPage", json!({ "first": 20 })),
        ("OrderDetail", json!({ "id": order })),
        ("OrderStats", json!({ "days": 30 })),
        ("NodeLookup", json!({ "id": order })),
        (
            "UpdateOrderStatus",
            json!({ "id": order, "status": "PROCESSING" }),
        ),
        ("OrderDetail", json!({ "id": order })),
    ] {
        app.data(&token, &operation(name), variables).await;
    }
    app.data(&token, COUNTS, json!({})).await;
    app.data(
        &token,
        "{ topProducts { quantity product { sku } } }",
        json!({}),
    )
    .await;

    let client = Client::new(Config::from_url(&redis[0].1).unwrap(), None, None, None);
    client.init().await.unwrap();
    let mut keys: Vec<String> = Vec::new();
    let mut cursor = "0".to_owned();
    loop {
        let (next, batch): (String, Vec<String>) = client
            .custom(
                fred::types::CustomCommand::new_static("SCAN", None, false),
                vec![
                    cursor.clone(),
                    "MATCH".into(),
                    format!("{prefix}:*"),
                    "COUNT".into(),
                    "1000".into(),
                ],
            )
            .await
            .unwrap();
        keys.extend(batch);
        if next == "0" {
            break;
        }
        cursor = next;
    }
    assert!(keys.len() > 5, "the requests wrote keys: {keys:?}");
    let tenants: HashSet<String> = [DEMO, OTHER, "krakow-gear"]
        .iter()
        .map(|slug| format!("{prefix}:t:{{{}}}:", app.tenant(slug).0))
        .collect();
    for key in &keys {
        assert!(
            tenants.iter().any(|tenant| key.starts_with(tenant)),
            "{key} names no tenant"
        );
    }
    let _: () = client.quit().await.unwrap();
}

#[tokio::test]
async fn warming_computes_the_dashboard_of_tenants_active_in_the_last_day() {
    let redis = shared_redis();
    let app = TestApp::spawn_with(&vars(&redis)).await;
    // Only the demo tenant had an order in the last day.
    app.sql
        .execute(
            "UPDATE orders SET created_at = created_at - interval '2 days' WHERE created_at > now() - interval '1 day'",
            &[],
        )
        .await
        .unwrap();
    app.insert_order(DEMO, "PENDING").await;

    let warmed = fulexo::cache::warm::warm(&app.state.database, &app.state.cache)
        .await
        .unwrap();
    assert_eq!(warmed, 1);

    let token = app.token(DEMO, Role::Viewer).await;
    let before = app.statements();
    app.data(&token, &operation("OrderStats"), json!({ "days": 30 }))
        .await;
    app.data(&token, COUNTS, json!({})).await;
    app.data(
        &token,
        "{ topProducts(days: 7, first: 100) { quantity } }",
        json!({}),
    )
    .await;
    assert_eq!(
        app.statements(),
        before,
        "the dashboard was served from the warmed cache"
    );

    // A tenant with no recent order was not warmed.
    let other = app.token(OTHER, Role::Viewer).await;
    let before = app.statements();
    app.data(&other, COUNTS, json!({})).await;
    assert!(app.statements() > before);
}

#[tokio::test]
async fn a_cached_order_detail_reaches_no_database_and_shows_a_new_shipment_at_once() {
    let redis = shared_redis();
    let app = TestApp::spawn_with(&vars(&redis)).await;
    let token = app.token(DEMO, Role::Member).await;
    let order = app.insert_order(DEMO, "PROCESSING").await;
    let id = GlobalId::encode(NodeKind::Order, order).0;
    let detail = operation("OrderDetail");

    let first = app.data(&token, &detail, json!({ "id": id })).await;
    let before = app.statements();
    let second = app.data(&token, &detail, json!({ "id": id })).await;
    assert_eq!(
        app.statements(),
        before,
        "the second OrderDetail, relations included, sent no statement"
    );
    assert_eq!(first, second);
    assert_eq!(hits(&app, Layer::L1, "orderShipments"), 1);

    app.data(
        &token,
        &operation("CreateShipment"),
        json!({ "orderId": id, "carrier": "DHL", "trackingNo": "CACHE-0001" }),
    )
    .await;
    let after = app.data(&token, &detail, json!({ "id": id })).await;
    let tracking: Vec<&Value> = after["order"]["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|shipment| &shipment["trackingNo"])
        .collect();
    assert_eq!(
        tracking.len(),
        first["order"]["shipments"].as_array().unwrap().len() + 1
    );
    assert!(tracking.contains(&&json!("CACHE-0001")));
}
