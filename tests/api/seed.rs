//! `fulexo seed`: the same arguments give the same data, in any database.

use chrono::{DateTime, Utc};
use fulexo::db::migrations;
use fulexo::seed::{self, SeedOptions};
use secrecy::SecretString;

use crate::helpers::{TestDatabase, client_for};

/// A digest of every seeded table's rows.
async fn digest(url: &str) -> Vec<String> {
    let sql = client_for(url).await;
    let mut digests = Vec::new();
    for table in [
        "tenants",
        "users",
        "products",
        "orders",
        "order_items",
        "shipments",
        "invoices",
    ] {
        let row = sql
            .query_one(
                &format!(
                    "SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t.id)) FROM {table} t"
                ),
                &[],
            )
            .await
            .unwrap();
        digests.push(format!(
            "{table}: {} {}",
            row.get::<_, i64>(0),
            row.get::<_, String>(1)
        ));
    }
    digests
}

async fn seeded(
    now: DateTime<Utc>,
    replace: bool,
    database: Option<&TestDatabase>,
) -> Option<TestDatabase> {
    let fresh = match database {
        Some(_) => None,
        None => Some(TestDatabase::empty().await),
    };
    let url = SecretString::from(database.or(fresh.as_ref()).unwrap().url.clone());
    migrations::run_pending(&url).await.unwrap();
    let options = SeedOptions {
        tenants: 2,
        orders: 300,
        now,
        replace,
    };
    seed::run(&url, &options, false).await.unwrap();
    fresh
}

#[tokio::test]
async fn the_same_arguments_give_the_same_rows() {
    let now: DateTime<Utc> = "2026-06-01T12:00:00Z".parse().unwrap();
    let first = seeded(now, false, None).await.unwrap();
    let second = seeded(now, false, None).await.unwrap();
    let digest_first = digest(&first.url).await;
    assert_eq!(digest_first, digest(&second.url).await);
    assert!(
        digest_first[3].starts_with("orders: 600 "),
        "{digest_first:?}"
    );

    // Seeding again needs --replace, and then gives the same rows again.
    let url = SecretString::from(first.url.clone());
    let options = SeedOptions {
        tenants: 2,
        orders: 300,
        now,
        replace: false,
    };
    let error = seed::run(&url, &options, false).await.unwrap_err();
    assert!(format!("{error:#}").contains("--replace"), "{error:#}");
    seeded(now, true, Some(&first)).await;
    assert_eq!(digest(&first.url).await, digest_first);
}
