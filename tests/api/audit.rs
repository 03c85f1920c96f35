//! GraphQL over HTTP conformance: the `graphql-http` package's server
//! audits (the spec's reference checks), run with Node.js against the real
//! service. Every MUST passes, and so does every SHOULD.

use fulexo::auth::Role;
use serde_json::Value;

use crate::helpers::{DEMO, TestApp};

#[tokio::test]
async fn every_graphql_over_http_audit_passes() {
    let node_dir = crate::helpers::node_clients();
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Admin).await;
    let url = app.url("/graphql");

    let output = tokio::process::Command::new("node")
        .arg("audit.mjs")
        .arg(&url)
        .arg(&token)
        .current_dir(node_dir)
        .output()
        .await
        .expect("running node");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let results: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert!(results.len() > 30, "the audits ran: {results:?}");
    let failed: Vec<String> = results
        .iter()
        .filter(|result| result["status"] != "ok")
        .map(|result| {
            format!(
                "{} {} ({}): {}",
                result["id"], result["name"], result["status"], result["reason"]
            )
        })
        .collect();
    assert!(
        failed.is_empty(),
        "audits not passed:\n{}",
        failed.join("\n")
    );
    eprintln!("{} graphql-http audits passed", results.len());
}
