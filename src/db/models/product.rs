//! `products`: a tenant's catalogue.

use chrono::{DateTime, Utc};
use compact_str::CompactString;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::TenantId;
use crate::db::amount::Amount;
use crate::db::instrument::selecting;
use crate::db::schema::{order_items, products};

#[derive(
    Debug,
    Clone,
    Queryable,
    Selectable,
    Insertable,
    QueryableByName,
    serde::Serialize,
    serde::Deserialize,
)]
#[diesel(table_name = products)]
pub struct Product {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub sku: CompactString,
    pub name: CompactString,
    pub price: Amount,
    pub created_at: DateTime<Utc>,
}

/// A product and how often it sold in a window.
#[derive(Debug, Clone, diesel::QueryableByName, serde::Serialize, serde::Deserialize)]
pub struct ProductSales {
    #[diesel(embed)]
    pub product: Product,
    /// Order items naming the product.
    #[diesel(sql_type = diesel::sql_types::Int8)]
    pub order_items: i64,
    /// Units sold.
    #[diesel(sql_type = diesel::sql_types::Int8)]
    pub quantity: i64,
}

/// Items of the window on `order_items (tenant_id, created_at) INCLUDE
/// (sku, quantity)`, then their products by `(tenant_id, sku)`.
const TOP_SELLERS_SQL: &str = r#"
SELECT p.id, p.tenant_id, p.sku, p.name, p.price, p.created_at,
       count(*) AS order_items, sum(i.quantity)::int8 AS quantity
FROM order_items i
JOIN products p ON p.tenant_id = i.tenant_id AND p.sku = i.sku
WHERE i.tenant_id = $1 AND i.created_at >= $2
GROUP BY p.id
ORDER BY order_items DESC, quantity DESC, p.id
LIMIT $3
"#;

impl Product {
    /// The products sold most (by order items) since `since`.
    pub async fn top_sellers(
        mut connection: &AsyncPgConnection,
        tenant: TenantId,
        since: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<Vec<ProductSales>> {
        use diesel::sql_types::{Int8, Timestamptz, Uuid as SqlUuid};
        diesel::sql_query(TOP_SELLERS_SQL)
            .bind::<SqlUuid, _>(tenant.0)
            .bind::<Timestamptz, _>(since)
            .bind::<Int8, _>(limit)
            .load(&mut connection)
            .await
    }

    pub async fn find_by_ids(
        mut connection: &AsyncPgConnection,
        tenant: TenantId,
        ids: &[Uuid],
    ) -> QueryResult<Vec<Self>> {
        selecting("products", || {
            products::table
                .filter(products::tenant_id.eq(tenant.0))
                .filter(products::id.eq_any(ids))
                .select(Self::as_select())
                .load(&mut connection)
        })
        .await
    }

    /// The products the items of these orders name, in one statement that
    /// needs no item read first (so it can go out with the items'): the
    /// SKUs come from a subquery on `order_items`.
    pub async fn for_orders(
        mut connection: &AsyncPgConnection,
        tenant: TenantId,
        order_ids: &[Uuid],
    ) -> QueryResult<Vec<Self>> {
        let skus = order_items::table
            .filter(order_items::tenant_id.eq(tenant.0))
            .filter(order_items::order_id.eq_any(order_ids))
            .select(order_items::sku);
        selecting("products", || {
            products::table
                .filter(products::tenant_id.eq(tenant.0))
                .filter(products::sku.eq_any(skus))
                .select(Self::as_select())
                .load(&mut connection)
        })
        .await
    }

    /// The products these SKUs name; SKUs without a product are absent.
    pub async fn find_by_skus(
        mut connection: &AsyncPgConnection,
        tenant: TenantId,
        skus: &[CompactString],
    ) -> QueryResult<Vec<Self>> {
        selecting("products", || {
            products::table
                .filter(products::tenant_id.eq(tenant.0))
                .filter(products::sku.eq_any(skus))
                .select(Self::as_select())
                .load(&mut connection)
        })
        .await
    }
}
