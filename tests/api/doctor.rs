//! `fulexo doctor` on a database the service is using.

use fulexo::auth::Role;
use serde_json::json;

use crate::helpers::{DEMO, TestApp, operation};

#[tokio::test]
async fn the_doctor_reports_every_section_of_a_live_database() {
    let app = TestApp::spawn().await;
    let token = app.token(DEMO, Role::Viewer).await;
    app.data(&token, &operation("OrdersPage"), json!({ "first": 20 }))
        .await;
    app.sql.batch_execute("ANALYZE").await.unwrap();
    let url = app.state.config.database_url.clone().unwrap();

    let report = fulexo::doctor::examine(&url, app.state.database.max_size())
        .await
        .unwrap();
    // The service's own connections are counted, against its pool.
    assert!(
        report.pool.active + report.pool.idle >= 1,
        "{:?}",
        report.pool
    );
    assert_eq!(report.pool.pool_size, 10);
    assert!(report.pool.max_connections > 0);
    // Every table is listed for bloat, with its sizes.
    let orders = report
        .bloat
        .iter()
        .find(|table| table.table == "orders")
        .expect("orders");
    assert!(orders.live_rows > 0 && orders.table_bytes > 0 && orders.indexes_bytes > 0);
    // A fresh database has read nothing through most of its indexes yet;
    // unique ones are never listed (they enforce rules).
    assert!(!report.unused_indexes.is_empty());
    assert!(
        report
            .unused_indexes
            .iter()
            .all(|index| !index.index.ends_with("_pkey")),
        "{:?}",
        report.unused_indexes
    );
    // Other sessions' reads reach the statistics within a second or so:
    // a ratio may not exist yet, but is a ratio when it does.
    for ratio in [report.cache.tables, report.cache.indexes]
        .into_iter()
        .flatten()
    {
        assert!((0.0..=1.0).contains(&ratio));
    }

    let text = report.to_string();
    for section in [
        "Slowest statements",
        "Unused indexes",
        "Possibly missing indexes",
        "Bloat",
        "The service's connections",
        "buffer cache hit ratio",
    ] {
        assert!(text.contains(section), "{section} missing:\n{text}");
    }
    let json = serde_json::to_value(&report).unwrap();
    assert!(json["pool"]["pool_size"].is_number());
    assert!(json["bloat"].is_array());
}
