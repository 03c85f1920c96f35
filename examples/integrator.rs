//! An integrator's round trip with registered documents: write an
//! operation, register it in a manifest, call it by id over GET, and
//! revalidate the answer with its ETag. Each step prints the command or
//! request an integrator would run by hand.
//!
//! `cargo run --example integrator` (uses `BENCH_DATABASE_URL`, default
//! `fulexo_bench` on the local PostgreSQL, seeded on first use).

// async-graphql's resolver futures nest deeper than the default limit.
#![recursion_limit = "256"]

#[path = "support/mod.rs"]
mod support;

use fulexo::persisted::normalize::sha256_hex;
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, ETAG, IF_NONE_MATCH};
use secrecy::SecretString;
use serde_json::{Value, json};

/// 1. The integrator's operation: their open orders, newest first.
const OPERATION: &str = "query IntegratorOpenOrders($first: Int!) {
  orders(first: $first, filter: { status: [PENDING, PROCESSING] }) {
    edges { node { id externalOrderNo status total currency createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let database = support::bench_database().await;

    // 2. The manifest, in Apollo's format (Relay's {"id": "document"} map
    //    works too), with the document's sha256 as its id.
    let id = sha256_hex(OPERATION);
    let manifest = json!({
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{ "id": id, "name": "IntegratorOpenOrders", "type": "query", "body": OPERATION }],
    });
    let path = std::env::temp_dir().join("integrator-manifest.json");
    std::fs::write(&path, serde_json::to_string_pretty(&manifest)?)?;
    println!("1. manifest written to {}", path.display());

    // 3. Registration: what the operator runs with the integrator's manifest.
    println!(
        "2. $ fulexo persisted import {} --client acme-integration",
        path.display()
    );
    let url = SecretString::from(database.clone());
    let (client, counts) =
        fulexo::persisted::import(&url, &manifest.to_string(), Some("acme-integration")).await?;
    println!(
        "   {client}: {} added, {} unchanged",
        counts.added, counts.unchanged
    );

    // 4. The service, and the integrator's token.
    let app = support::spawn_app(&database, &[("PERSISTED_QUERIES", "ids_only")]).await;
    let token = support::demo_token(&database, &app.state.jwt).await;
    println!("3. a token: $ fulexo token --tenant demo --role MEMBER");

    // 5. The call by id, over GET.
    let variables = json!({ "first": 3 }).to_string();
    let query = [
        ("documentId", format!("sha256:{id}")),
        ("variables", variables.clone()),
    ];
    println!(
        "4. $ curl -G {}/graphql -H 'Authorization: Bearer $TOKEN' --data-urlencode 'documentId=sha256:{id}' --data-urlencode 'variables={variables}'",
        app.address
    );
    let http = reqwest::Client::new();
    let response = http
        .get(format!("{}/graphql", app.address))
        .bearer_auth(&token)
        .query(&query)
        .send()
        .await?;
    let status = response.status();
    let etag = response.headers()[ETAG].to_str()?.to_owned();
    let cache_control = response.headers()[CACHE_CONTROL].to_str()?.to_owned();
    let body: Value = response.json().await?;
    println!("   {status}, ETag: {etag}, Cache-Control: {cache_control}");
    println!(
        "   {}",
        serde_json::to_string(&body["data"]["orders"]["edges"][0])?
    );

    // 6. Revalidation: the same request with the ETag; nothing changed, so
    //    no body comes back.
    println!("5. $ curl ... -H 'If-None-Match: {etag}'");
    let revalidated = http
        .get(format!("{}/graphql", app.address))
        .bearer_auth(&token)
        .query(&query)
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await?;
    println!("   {}", revalidated.status());
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);

    // 7. Free-form text is refused on this server (ids only).
    let refused = http
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&token)
        .json(&json!({ "query": OPERATION, "variables": { "first": 3 } }))
        .send()
        .await?;
    let status = refused.status();
    let body: Value = refused.json().await?;
    println!(
        "6. the same text sent in full: {status}, {}",
        body["errors"][0]["message"]
    );
    Ok(())
}
