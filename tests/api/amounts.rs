//! Amounts read from and written to PostgreSQL's `numeric` in its binary
//! form (`db::amount`), checked against PostgreSQL's own reading and
//! writing of the same values.

use diesel::dsl::sql;
use diesel::sql_types::{Numeric, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use fulexo::db::amount::Amount;
use rand::{Rng, SeedableRng};

use crate::helpers::server_url;

async fn connection() -> AsyncPgConnection {
    AsyncPgConnection::establish(&server_url())
        .await
        .expect("connecting to PostgreSQL")
}

/// Edges of the base-10,000 digits, signs, and the column's extremes,
/// then random amounts across every magnitude `numeric(12, 2)` holds.
fn amounts() -> Vec<i64> {
    let mut cents = vec![
        0,
        1,
        5,
        10,
        50,
        99,
        100,
        101,
        9_999,
        10_000,
        10_001,
        12_990,
        999_900,
        1_000_000,
        100_000_000,
        100_000_001,
        999_999_999_999,
    ];
    let mut random = rand_chacha::ChaCha8Rng::seed_from_u64(6);
    for digits in 1..=12 {
        for _ in 0..8 {
            cents.push(random.random_range(0..10_i64.pow(digits)));
        }
    }
    let negatives: Vec<i64> = cents.iter().map(|cents| -cents).collect();
    cents.extend(negatives);
    cents
}

#[tokio::test]
async fn amounts_read_as_postgresql_writes_them() {
    let mut connection = connection().await;
    for cents in amounts() {
        let amount = Amount::from_cents(cents);
        let literal = format!("'{amount}'::numeric(12, 2)");
        let read: Amount = diesel::select(sql::<Numeric>(&literal))
            .get_result(&mut connection)
            .await
            .unwrap_or_else(|error| panic!("reading {literal}: {error}"));
        assert_eq!(read, amount, "{literal}");
        // Without a type modifier PostgreSQL keeps no trailing zeros.
        let bare = format!("'{amount}'::numeric + 0");
        let read: Amount = diesel::select(sql::<Numeric>(&bare))
            .get_result(&mut connection)
            .await
            .unwrap();
        assert_eq!(read, amount, "{bare}");
    }
}

#[tokio::test]
async fn amounts_are_written_as_postgresql_reads_them() {
    let mut connection = connection().await;
    for cents in amounts() {
        let amount = Amount::from_cents(cents);
        let (text, back): (String, Amount) = diesel::select((
            sql::<Text>("").bind::<Numeric, _>(amount).sql("::text"),
            sql::<Numeric>("").bind::<Numeric, _>(amount),
        ))
        .get_result(&mut connection)
        .await
        .unwrap_or_else(|error| panic!("writing {amount}: {error}"));
        assert_eq!(text, amount.to_string());
        assert_eq!(back, amount);
    }
}

#[tokio::test]
async fn numerics_that_are_no_amount_are_refused() {
    let mut connection = connection().await;
    for literal in ["0.001", "-12.345", "'NaN'", "1e30", "92233720368547758.08"] {
        let read = diesel::select(sql::<Numeric>(&format!("{literal}::numeric")))
            .get_result::<Amount>(&mut connection)
            .await;
        assert!(read.is_err(), "{literal} was read as {read:?}");
    }
}
