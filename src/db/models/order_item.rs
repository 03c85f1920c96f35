//! `order_items`: the lines of an order.

use chrono::{DateTime, Utc};
use compact_str::CompactString;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::TenantId;
use crate::db::amount::Amount;
use crate::db::instrument::selecting;
use crate::db::schema::order_items;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = order_items)]
pub struct OrderItem {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub order_id: Uuid,
    pub sku: CompactString,
    pub name: CompactString,
    pub quantity: i32,
    pub unit_price: Amount,
    pub created_at: DateTime<Utc>,
}

impl OrderItem {
    /// The items of these orders, each order's oldest first.
    pub async fn for_orders(
        mut connection: &AsyncPgConnection,
        tenant: TenantId,
        order_ids: &[Uuid],
    ) -> QueryResult<Vec<Self>> {
        selecting("order_items", || {
            Self::for_orders_query(tenant, order_ids).load(&mut connection)
        })
        .await
    }

    /// The statement of [`Self::for_orders`] (one per DataLoader batch, on
    /// the `order_id` index).
    pub fn for_orders_query(
        tenant: TenantId,
        order_ids: &[Uuid],
    ) -> order_items::BoxedQuery<'_, Pg, diesel::dsl::AsSelect<Self, Pg>> {
        order_items::table
            .filter(order_items::tenant_id.eq(tenant.0))
            .filter(order_items::order_id.eq_any(order_ids))
            .order((order_items::created_at, order_items::id))
            .select(Self::as_select())
            .into_boxed()
    }

    pub async fn find_by_ids(
        mut connection: &AsyncPgConnection,
        tenant: TenantId,
        ids: &[Uuid],
    ) -> QueryResult<Vec<Self>> {
        selecting("order_items", || {
            order_items::table
                .filter(order_items::tenant_id.eq(tenant.0))
                .filter(order_items::id.eq_any(ids))
                .select(Self::as_select())
                .load(&mut connection)
        })
        .await
    }
}
