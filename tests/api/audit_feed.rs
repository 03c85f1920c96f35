//! `auditLogs`: the tenant's writes, newest first, for administrators.

use fulexo::auth::Role;
use fulexo::graphql::ids::{GlobalId, NodeKind};
use serde_json::json;

use crate::helpers::{DEMO, OTHER, TestApp, error_code, operation};

const FEED: &str = "query ($filter: AuditLogFilter, $first: Int) {
  auditLogs(first: $first, filter: $filter) {
    edges { node { entityType entityId action changes actorId } }
    pageInfo { hasNextPage }
  }
}";

#[tokio::test]
async fn the_feed_shows_each_write_newest_first_and_filters_by_status() {
    let app = TestApp::spawn().await;
    let admin = app.token(DEMO, Role::Admin).await;
    let first = GlobalId::encode(NodeKind::Order, app.insert_order(DEMO, "PENDING").await).0;
    let second = GlobalId::encode(NodeKind::Order, app.insert_order(DEMO, "PENDING").await).0;
    for (id, status) in [
        (&first, "PROCESSING"),
        (&second, "CANCELLED"),
        (&first, "PACKED"),
    ] {
        app.data(
            &admin,
            &operation("UpdateOrderStatus"),
            json!({ "id": id, "status": status }),
        )
        .await;
    }

    let data = app.data(&admin, FEED, json!({ "first": 10 })).await;
    let edges = data["auditLogs"]["edges"].as_array().unwrap();
    let seen: Vec<_> = edges
        .iter()
        .map(|edge| {
            (
                edge["node"]["entityId"].as_str().unwrap(),
                edge["node"]["changes"]["after"]["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (first.as_str(), "PACKED"),
            (second.as_str(), "CANCELLED"),
            (first.as_str(), "PROCESSING")
        ]
    );
    assert_eq!(edges[0]["node"]["entityType"], json!("order"));
    assert_eq!(
        edges[0]["node"]["changes"]["before"],
        json!({ "status": "PROCESSING" })
    );

    let cancelled = app
        .data(
            &admin,
            FEED,
            json!({ "filter": { "statusChangedTo": "CANCELLED" } }),
        )
        .await;
    let edges = cancelled["auditLogs"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["entityId"], json!(second));

    let of_first = app
        .data(&admin, FEED, json!({ "filter": { "entityId": first } }))
        .await;
    assert_eq!(of_first["auditLogs"]["edges"].as_array().unwrap().len(), 2);

    // Another tenant's administrator sees none of it.
    let other = app.token(OTHER, Role::Admin).await;
    let data = app.data(&other, FEED, json!({})).await;
    assert_eq!(data["auditLogs"]["edges"], json!([]));
}

#[tokio::test]
async fn the_feed_is_for_administrators_only() {
    let app = TestApp::spawn().await;
    for role in [Role::Member, Role::Viewer] {
        let token = app.token(DEMO, role).await;
        let (_, body) = app.graphql(&token, FEED, json!({})).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{role:?}: {body}");
    }
}
