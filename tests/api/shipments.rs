//! The shipments connection's filters beyond the carrier desk's.

use chrono::{DateTime, Duration, Utc};
use fulexo::auth::Role;
use fulexo::graphql::ids::{GlobalId, NodeKind};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{DEMO, TestApp, instant};

#[tokio::test]
async fn shipments_can_be_listed_by_when_they_shipped() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    let until = Utc::now() - Duration::days(20);
    let from = until - Duration::days(30);

    let data = app
        .data(
            &token,
            "query ($from: DateTime, $until: DateTime) {
               shipments(first: 100, filter: { shippedFrom: $from, shippedUntil: $until }) {
                 edges { node { id shippedAt } }
               }
             }",
            json!({ "from": instant(from), "until": instant(until) }),
        )
        .await;

    let expected: Vec<Value> = app
        .sql
        .query(
            "SELECT id FROM shipments WHERE tenant_id = $1 AND shipped_at >= $2 AND shipped_at < $3
             ORDER BY created_at DESC, id DESC LIMIT 100",
            &[&app.tenant(DEMO).0, &from, &until],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| json!(GlobalId::encode(NodeKind::Shipment, row.get::<_, Uuid>(0)).0))
        .collect();
    assert!(!expected.is_empty(), "the seed shipped parcels then");
    let edges = data["shipments"]["edges"].as_array().unwrap();
    let ids: Vec<Value> = edges
        .iter()
        .map(|edge| edge["node"]["id"].clone())
        .collect();
    assert_eq!(ids, expected);
    for edge in edges {
        let shipped: DateTime<Utc> = edge["node"]["shippedAt"].as_str().unwrap().parse().unwrap();
        assert!(shipped >= from && shipped < until);
    }
}
