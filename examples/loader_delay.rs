//! How long a DataLoader should gather keys (`DATALOADER_DELAY`).
//!
//! Connections prime their pages' relations (`graphql::prefetch`), so
//! `OrdersPage` does not depend on the delay; what does is a request whose
//! lookups meet only in the loader: here 20 aliased `order(id:)` lookups,
//! each with items, products and shipments (4 statements when batching
//! works). For each delay: statements per request, then throughput and
//! latency at 16 clients.
//!
//! `cargo run --release --example loader_delay`

// async-graphql's resolver futures nest deeper than the default limit.
#![recursion_limit = "256"]

#[path = "support/mod.rs"]
mod support;

use std::fmt::Write;
use std::time::Duration;

use fulexo::graphql::ids::{GlobalId, NodeKind};
use serde_json::json;
use tokio_postgres::NoTls;
use uuid::Uuid;

const LOOKUPS: usize = 20;

#[tokio::main]
async fn main() {
    let clients: usize = support::env_or("BENCH_CLIENTS", "16").parse().unwrap();
    let seconds: u64 = support::env_or("BENCH_SECONDS", "5").parse().unwrap();
    let database = support::bench_database().await;

    let (client, connection) = tokio_postgres::connect(&database, NoTls).await.unwrap();
    tokio::spawn(connection);
    let ids: Vec<Uuid> = client
        .query(
            "SELECT o.id FROM orders o JOIN tenants t ON t.id = o.tenant_id WHERE t.slug = 'demo'
             ORDER BY o.created_at DESC LIMIT $1",
            &[&(LOOKUPS as i64)],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut query = String::from("query {");
    for (n, id) in ids.iter().enumerate() {
        let id = GlobalId::encode(NodeKind::Order, *id).0;
        let _ = write!(
            query,
            " o{n}: order(id: \"{id}\") {{ status items {{ sku product {{ name }} }} shipments {{ trackingNo }} }}"
        );
    }
    query.push_str(" }");
    let body = json!({ "query": query });

    println!(
        "{LOOKUPS} aliased order lookups with items, products and shipments; {clients} clients, {seconds} s"
    );
    for delay in ["50us", "100us", "250us", "500us", "1ms", "2ms", "5ms"] {
        let app = support::spawn_app(&database, &[("DATALOADER_DELAY", delay)]).await;
        let token = support::demo_token(&database, &app.state.jwt).await;
        let alone = support::load(
            &app.address,
            &token,
            body.clone(),
            1,
            Duration::from_secs(2),
        )
        .await;
        let before = app.state.database.statements_sent();
        let report = support::load(
            &app.address,
            &token,
            body.clone(),
            clients,
            Duration::from_secs(seconds),
        )
        .await;
        let under_load =
            (app.state.database.statements_sent() - before) as f64 / report.all_requests as f64;
        println!(
            "{}   {under_load:.2} statements/request; alone: p50 {:.2} ms",
            report.line(&format!("delay {delay}")),
            alone.percentile(0.5).as_secs_f64() * 1e3
        );
    }
}
