//! The resolver cache's effect on `OrderStats(days: 30)` and `OrderDetail`,
//! at 16 concurrent clients: without the cache, with Redis only (L1 turned
//! off with `CACHE_L1_TTL=0s`), and with both layers. Prints throughput,
//! latency and each layer's hit ratio.
//!
//! `cargo run --profile production --example cache` (Redis at `BENCH_REDIS_URL`,
//! default `redis://127.0.0.1:6379`).

// async-graphql's resolver futures nest deeper than the default limit.
#![recursion_limit = "256"]

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use fulexo::metrics::{Layer, Outcome};
use serde_json::json;
use tokio_postgres::NoTls;
use uuid::Uuid;

#[tokio::main]
async fn main() {
    let clients: usize = support::env_or("BENCH_CLIENTS", "16").parse().unwrap();
    let seconds: u64 = support::env_or("BENCH_SECONDS", "8").parse().unwrap();
    let redis = support::env_or("BENCH_REDIS_URL", "redis://127.0.0.1:6379");
    let database = support::bench_database().await;

    let (client, connection) = tokio_postgres::connect(&database, NoTls).await.unwrap();
    tokio::spawn(connection);
    let order: Uuid = client
        .query_one(
            "SELECT o.id FROM orders o JOIN tenants t ON t.id = o.tenant_id
             WHERE t.slug = 'demo' AND EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = o.id)
             ORDER BY o.created_at DESC LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let order_id =
        fulexo::graphql::ids::GlobalId::encode(fulexo::graphql::ids::NodeKind::Order, order).0;

    let operations = [
        (
            "OrderStats(days: 30)",
            "orderStats",
            json!({ "query": include_str!("../tests/contract/operations/OrderStats.graphql"), "variables": { "days": 30 } }),
        ),
        (
            "OrderDetail",
            "order",
            json!({ "query": include_str!("../tests/contract/operations/OrderDetail.graphql"), "variables": { "id": order_id } }),
        ),
    ];
    println!("{clients} clients, {seconds} s per run");
    for (mode, settings) in [
        ("no cache", vec![("CACHE_ENABLED", "false".to_owned())]),
        (
            "L2 only",
            vec![
                ("REDIS_URL", redis.clone()),
                ("CACHE_L1_TTL", "0s".to_owned()),
            ],
        ),
        ("L1 + L2", vec![("REDIS_URL", redis.clone())]),
    ] {
        for (label, resolver, body) in &operations {
            // A prefix of its own: every run starts cold.
            let prefix = format!("bench-{}", Uuid::new_v4().simple());
            let mut vars: Vec<(&str, &str)> =
                settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
            vars.push(("CACHE_KEY_PREFIX", &prefix));
            vars.push(("CACHE_WARM_INTERVAL", "0s"));
            let app = support::spawn_app(&database, &vars).await;
            let token = support::demo_token(&database, &app.state.jwt).await;
            let report = support::load(
                &app.address,
                &token,
                body.clone(),
                clients,
                Duration::from_secs(seconds),
            )
            .await;
            let metrics = app.state.cache.metrics();
            let ratio = |layer| {
                let hits = metrics.count(layer, Outcome::Hit, resolver);
                let misses = metrics.count(layer, Outcome::Miss, resolver);
                if hits + misses == 0 {
                    "-".to_owned()
                } else {
                    format!(
                        "{:.2}% of {}",
                        100.0 * hits as f64 / (hits + misses) as f64,
                        hits + misses
                    )
                }
            };
            println!(
                "{}   L1 hits {}   L2 hits {}",
                report.line(&format!("{label}, {mode}")),
                ratio(Layer::L1),
                ratio(Layer::L2)
            );
        }
    }
}
