//! Throughput of the frontend's `OrdersPage(first: 50)` against the real
//! PostgreSQL, at 16 concurrent clients, with the service in this process.
//!
//! `cargo run --release --example orders_page` (settings: `BENCH_CLIENTS`,
//! `BENCH_SECONDS`, `BENCH_DATABASE_URL`).

// async-graphql's resolver futures nest deeper than the default limit.
#![recursion_limit = "256"]

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use serde_json::json;

#[tokio::main]
async fn main() {
    let clients: usize = support::env_or("BENCH_CLIENTS", "16").parse().unwrap();
    let seconds: u64 = support::env_or("BENCH_SECONDS", "10").parse().unwrap();
    let database = support::bench_database().await;
    let app = support::spawn_app(&database, &[]).await;
    let token = support::demo_token(&database, &app.state.jwt).await;
    let query = include_str!("../tests/contract/operations/OrdersPage.graphql");

    println!(
        "OrdersPage(first: 50), {clients} clients, {seconds} s, {} tenants x {} orders",
        support::BENCH_TENANTS,
        support::BENCH_ORDERS
    );
    for (label, variables) in [
        ("OrdersPage(first: 50)", json!({ "first": 50 })),
        (
            "OrdersPage(first: 50, PENDING|PROCESSING)",
            json!({ "first": 50, "status": ["PENDING", "PROCESSING"] }),
        ),
    ] {
        let report = support::load(
            &app.address,
            &token,
            json!({ "query": query, "variables": variables }),
            clients,
            Duration::from_secs(seconds),
        )
        .await;
        println!("{}", report.line(label));
    }
}
