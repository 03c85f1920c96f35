//! The dashboard's daily order statistics, computed in one SQL statement with
//! window functions (the platform guide's `orderStats`).

use bigdecimal::BigDecimal;
use chrono::NaiveDate;
use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Date, Double, Int4, Int8, Nullable, Numeric, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::TenantId;

/// One UTC day of the window.
#[derive(
    Debug, Clone, PartialEq, diesel::QueryableByName, serde::Serialize, serde::Deserialize,
)]
pub struct DailyOrderStats {
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    #[diesel(sql_type = Int8)]
    pub order_count: i64,
    #[diesel(sql_type = Numeric)]
    pub revenue: BigDecimal,
    #[diesel(sql_type = Nullable<Numeric>)]
    pub avg_order_value: Option<BigDecimal>,
    #[diesel(sql_type = Nullable<Numeric>)]
    pub median_value: Option<BigDecimal>,
    #[diesel(sql_type = Int8)]
    pub cumulative_orders: i64,
    #[diesel(sql_type = Double)]
    pub moving_avg_7d: f64,
}

/// Orders are counted by the UTC day of `confirmed_at`; the window is
/// `today` and the `days - 1` days before it. Days without orders are
/// generated, so the window has no gaps and the running figures count them.
///
/// The condition listing every status is always true; it is there for the
/// planner: with it, idx_orders_list_covering `(tenant_id, status,
/// confirmed_at)` is read as six range scans, one per status, index-only
/// (total is included). Without it the planner ANDs a BRIN or b-tree scan
/// of all the tenant's orders with a heap scan, 4x slower on a million
/// orders (migrations/*_drop_orders_confirmed_brin). The range is on
/// `confirmed_at` itself, not on its day, for the same reason.
const ORDER_STATS_SQL: &str = r#"
WITH window_days AS (
    SELECT day::date AS day
    FROM generate_series($2::date - ($3 - 1), $2::date, interval '1 day') AS day
),
per_day AS (
    SELECT (confirmed_at AT TIME ZONE 'UTC')::date AS day,
           count(*) AS order_count,
           sum(total) AS revenue,
           avg(total) AS avg_order_value,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY total) AS median_value
    FROM orders
    WHERE tenant_id = $1
      AND status IN ('PENDING', 'PROCESSING', 'PACKED', 'SHIPPED', 'DELIVERED', 'CANCELLED')
      AND confirmed_at >= ($2::date - ($3 - 1))::timestamp AT TIME ZONE 'UTC'
      AND confirmed_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'
    GROUP BY 1
)
SELECT w.day,
       coalesce(p.order_count, 0) AS order_count,
       coalesce(p.revenue, 0) AS revenue,
       round(p.avg_order_value, 2) AS avg_order_value,
       round(p.median_value::numeric, 2) AS median_value,
       sum(coalesce(p.order_count, 0)) OVER (ORDER BY w.day)::int8 AS cumulative_orders,
       avg(coalesce(p.order_count, 0)) OVER (
           ORDER BY w.day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW
       )::float8 AS moving_avg_7d
FROM window_days w
LEFT JOIN per_day p USING (day)
ORDER BY w.day DESC
"#;

impl DailyOrderStats {
    /// `days` rows, newest first, ending with `today` (a UTC date).
    pub async fn for_window(
        mut connection: &AsyncPgConnection,
        tenant: TenantId,
        today: NaiveDate,
        days: i32,
    ) -> QueryResult<Vec<Self>> {
        Self::query(tenant, today, days).load(&mut connection).await
    }

    /// The statement of [`Self::for_window`].
    pub fn query(
        tenant: TenantId,
        today: NaiveDate,
        days: i32,
    ) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
        diesel::sql_query(ORDER_STATS_SQL)
            .into_boxed()
            .bind::<SqlUuid, _>(tenant.0)
            .bind::<Date, _>(today)
            .bind::<Int4, _>(days)
    }
}
