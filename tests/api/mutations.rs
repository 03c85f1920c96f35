//! The mutations: what they write (the row and its audit entry, in one
//! transaction) and what they refuse (writing nothing).

use fulexo::auth::Role;
use fulexo::graphql::ids::{GlobalId, NodeKind};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{DEMO, TestApp, error_code, operation};

/// A new order of the demo tenant in `status`, and its global id.
async fn order_in(app: &TestApp, status: &str) -> (Uuid, String) {
    let order = app.insert_order(DEMO, status).await;
    (order, GlobalId::encode(NodeKind::Order, order).0)
}

/// Everything a refused mutation could have touched.
async fn snapshot(app: &TestApp) -> Value {
    let row = app
        .sql
        .query_one(
            "SELECT (SELECT count(*) FROM audit_logs), (SELECT count(*) FROM shipments),
                    (SELECT md5(string_agg(id::text || status::text || updated_at::text, ',' ORDER BY id)) FROM orders)",
            &[],
        )
        .await
        .unwrap();
    json!([
        row.get::<_, i64>(0),
        row.get::<_, i64>(1),
        row.get::<_, String>(2)
    ])
}

#[tokio::test]
async fn confirming_an_order_writes_the_status_and_its_audit_entry() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Member).await;
    let (order, id) = order_in(&app, "PENDING").await;

    let data = app
        .data(
            &token,
            &operation("UpdateOrderStatus"),
            json!({ "id": id, "status": "PROCESSING" }),
        )
        .await;

    let row = app
        .sql
        .query_one(
            "SELECT status::text, confirmed_at, updated_at FROM orders WHERE id = $1",
            &[&order],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "PROCESSING");
    let confirmed_at: Option<chrono::DateTime<chrono::Utc>> = row.get(1);
    assert!(confirmed_at.is_some(), "leaving PENDING confirms the order");
    assert_eq!(
        data["updateOrderStatus"]["order"],
        json!({ "id": id, "status": "PROCESSING", "updatedAt": crate::helpers::instant(row.get(2)) })
    );

    let audit = app
        .sql
        .query_one(
            "SELECT entity_type, entity_id, action, changes, actor_id FROM audit_logs
             WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1",
            &[&app.tenant(DEMO).0],
        )
        .await
        .unwrap();
    let member: Uuid = app
        .sql
        .query_one(
            "SELECT id FROM users WHERE tenant_id = $1 AND role = 'MEMBER'",
            &[&app.tenant(DEMO).0],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(audit.get::<_, String>(0), "order");
    assert_eq!(audit.get::<_, Uuid>(1), order);
    assert_eq!(audit.get::<_, String>(2), "update_status");
    let changes: Value = audit.get(3);
    assert_eq!(
        changes["before"],
        json!({ "status": "PENDING", "confirmedAt": null })
    );
    assert_eq!(changes["after"]["status"], json!("PROCESSING"));
    assert!(changes["after"]["confirmedAt"].is_string());
    assert_eq!(audit.get::<_, Option<Uuid>>(4), Some(member));
}

#[tokio::test]
async fn invalid_transitions_unknown_ids_and_viewers_are_refused_without_writing() {
    let app = TestApp::spawn().await;
    let member = app.token(DEMO, Role::Member).await;
    let viewer = app.token(DEMO, Role::Viewer).await;
    let (_, delivered) = order_in(&app, "DELIVERED").await;
    let (_, cancelled) = order_in(&app, "CANCELLED").await;
    let (_, pending) = order_in(&app, "PENDING").await;
    let unknown = GlobalId::encode(NodeKind::Order, Uuid::now_v7()).0;
    let shipment_id = GlobalId::encode(NodeKind::Shipment, Uuid::now_v7()).0;
    let before = snapshot(&app).await;

    let cases = [
        (&member, &delivered, "PENDING", "BAD_USER_INPUT"),
        (&member, &delivered, "CANCELLED", "BAD_USER_INPUT"),
        (&member, &cancelled, "PROCESSING", "BAD_USER_INPUT"),
        (&member, &pending, "DELIVERED", "BAD_USER_INPUT"),
        (&member, &unknown, "PROCESSING", "BAD_USER_INPUT"),
        (&member, &shipment_id, "PROCESSING", "BAD_USER_INPUT"),
        (
            &member,
            &"garbage".to_owned(),
            "PROCESSING",
            "BAD_USER_INPUT",
        ),
        (&viewer, &pending, "PROCESSING", "FORBIDDEN"),
    ];
    for (token, id, status, code) in cases {
        let (status_code, body) = app
            .graphql(
                token,
                &operation("UpdateOrderStatus"),
                json!({ "id": id, "status": status }),
            )
            .await;
        assert_eq!(status_code, 200);
        assert_eq!(error_code(&body), code, "{id} -> {status}: {body}");
        assert!(body["data"].is_null(), "{body}");
    }
    let (_, body) = app
        .graphql(
            &viewer,
            &operation("CreateShipment"),
            json!({ "orderId": pending, "carrier": "DHL", "trackingNo": "VIEWER-1" }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn setting_the_current_status_again_changes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Member).await;
    let (_, id) = order_in(&app, "SHIPPED").await;
    let before = snapshot(&app).await;
    let data = app
        .data(
            &token,
            &operation("UpdateOrderStatus"),
            json!({ "id": id, "status": "SHIPPED" }),
        )
        .await;
    assert_eq!(
        data["updateOrderStatus"]["order"]["status"],
        json!("SHIPPED")
    );
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn creating_a_shipment_writes_it_with_its_audit_entry_and_shows_it_on_the_order() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Admin).await;
    let (order, id) = order_in(&app, "PACKED").await;
    let audit_before = app.count("audit_logs").await;

    let data = app
        .data(
            &token,
            &operation("CreateShipment"),
            json!({ "orderId": id, "carrier": " DHL ", "trackingNo": "JD-TEST-0001" }),
        )
        .await;

    let shipment = &data["createShipment"]["shipment"];
    let shipment_id = GlobalId::decode(shipment["id"].as_str().unwrap()).unwrap();
    assert_eq!(shipment_id.kind, NodeKind::Shipment);
    let row = app
        .sql
        .query_one(
            "SELECT order_id, carrier, tracking_no, status::text, tenant_id FROM shipments WHERE id = $1",
            &[&shipment_id.id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Uuid>(0), order);
    assert_eq!(row.get::<_, String>(1), "DHL", "the carrier is trimmed");
    assert_eq!(row.get::<_, String>(2), "JD-TEST-0001");
    assert_eq!(row.get::<_, String>(3), "LABEL_CREATED");
    assert_eq!(row.get::<_, Uuid>(4), app.tenant(DEMO).0);
    assert_eq!(shipment["carrier"], json!("DHL"));
    assert_eq!(shipment["status"], json!("LABEL_CREATED"));
    assert_eq!(shipment["order"]["id"], json!(id));
    let listed: Vec<&Value> = shipment["order"]["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert!(
        listed
            .iter()
            .any(|s| s["trackingNo"] == json!("JD-TEST-0001")),
        "{listed:?}"
    );

    assert_eq!(app.count("audit_logs").await, audit_before + 1);
    let changes: Value = app
        .sql
        .query_one(
            "SELECT changes FROM audit_logs WHERE entity_id = $1 AND entity_type = 'shipment' AND action = 'create'",
            &[&shipment_id.id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(changes["before"], Value::Null);
    assert_eq!(changes["after"]["trackingNo"], json!("JD-TEST-0001"));
}

#[tokio::test]
async fn a_tracking_number_the_carrier_already_uses_is_refused() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Admin).await;
    let (_, id) = order_in(&app, "PACKED").await;
    let (carrier, tracking): (String, String) = {
        let row = app
            .sql
            .query_one(
                "SELECT carrier, tracking_no FROM shipments WHERE tenant_id = $1 AND tracking_no IS NOT NULL LIMIT 1",
                &[&app.tenant(DEMO).0],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    let before = snapshot(&app).await;

    let (_, body) = app
        .graphql(
            &token,
            &operation("CreateShipment"),
            json!({ "orderId": id, "carrier": carrier, "trackingNo": tracking }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&tracking)
    );
    assert_eq!(snapshot(&app).await, before);

    // The same number with another carrier is another parcel.
    let other_carrier = if carrier == "UPS" { "GLS" } else { "UPS" };
    app.data(
        &token,
        &operation("CreateShipment"),
        json!({ "orderId": id, "carrier": other_carrier, "trackingNo": tracking }),
    )
    .await;
}

#[tokio::test]
async fn shipments_for_closed_orders_and_blank_labels_are_refused() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Admin).await;
    let (_, cancelled) = order_in(&app, "CANCELLED").await;
    let (_, packed) = order_in(&app, "PACKED").await;
    let before = snapshot(&app).await;
    for (order, carrier, tracking) in [
        (&cancelled, "DHL", "NEW-1"),
        (&packed, "  ", "NEW-2"),
        (&packed, "DHL", ""),
        (&packed, "DHL", "bad\u{0}number"),
        (&packed, &"x".repeat(101), "NEW-3"),
    ] {
        let (_, body) = app
            .graphql(
                &token,
                &operation("CreateShipment"),
                json!({ "orderId": order, "carrier": carrier, "trackingNo": tracking }),
            )
            .await;
        assert_eq!(
            error_code(&body),
            "BAD_USER_INPUT",
            "{carrier}/{tracking}: {body}"
        );
    }
    assert_eq!(snapshot(&app).await, before);
}
