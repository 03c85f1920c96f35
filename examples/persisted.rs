//! A registered `OrdersPage` called by id against the same document sent
//! in full, side by side, at 16 concurrent clients: what skipping parsing
//! and validation saves.
//!
//! `cargo run --release --example persisted`

// async-graphql's resolver futures nest deeper than the default limit.
#![recursion_limit = "256"]

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use fulexo::persisted::normalize::sha256_hex;
use secrecy::SecretString;
use serde_json::json;

#[tokio::main]
async fn main() {
    let clients: usize = support::env_or("BENCH_CLIENTS", "16").parse().unwrap();
    let seconds: u64 = support::env_or("BENCH_SECONDS", "8").parse().unwrap();
    let database = support::bench_database().await;
    let query = include_str!("../tests/contract/operations/OrdersPage.graphql");
    let manifest = json!({
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{ "id": sha256_hex(query), "name": "OrdersPage", "type": "query", "body": query }],
    });
    fulexo::persisted::import(
        &SecretString::from(database.clone()),
        &manifest.to_string(),
        Some("bench"),
    )
    .await
    .unwrap();
    let app = support::spawn_app(&database, &[]).await;
    let token = support::demo_token(&database, &app.state.jwt).await;

    println!("{clients} clients, {seconds} s per run");
    for first in [50, 5] {
        let variables = json!({ "first": first });
        for (label, body) in [
            (
                "document sent in full",
                json!({ "query": query, "variables": variables }),
            ),
            (
                "registered, by documentId",
                json!({ "documentId": format!("sha256:{}", sha256_hex(query)), "variables": variables }),
            ),
        ] {
            let report = support::load(
                &app.address,
                &token,
                body,
                clients,
                Duration::from_secs(seconds),
            )
            .await;
            println!(
                "{}",
                report.line(&format!("OrdersPage(first: {first}), {label}"))
            );
        }
    }
}
