//! `invoices`: what was billed for an order.

use chrono::{DateTime, Utc};
use compact_str::CompactString;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::TenantId;
use crate::db::amount::Amount;
use crate::db::instrument::selecting;
use crate::db::schema::invoices;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = invoices)]
pub struct Invoice {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub order_id: Uuid,
    pub number: CompactString,
    pub total: Amount,
    pub currency: CompactString,
    pub issued_at: DateTime<Utc>,
}

impl Invoice {
    /// The invoices of these orders, each order's oldest first.
    pub async fn for_orders(
        mut connection: &AsyncPgConnection,
        tenant: TenantId,
        order_ids: &[Uuid],
    ) -> QueryResult<Vec<Self>> {
        selecting("invoices", || {
            Self::for_orders_query(tenant, order_ids).load(&mut connection)
        })
        .await
    }

    /// The statement of [`Self::for_orders`] (one per DataLoader batch, on
    /// the `order_id` index).
    pub fn for_orders_query(
        tenant: TenantId,
        order_ids: &[Uuid],
    ) -> invoices::BoxedQuery<'_, Pg, diesel::dsl::AsSelect<Self, Pg>> {
        invoices::table
            .filter(invoices::tenant_id.eq(tenant.0))
            .filter(invoices::order_id.eq_any(order_ids))
            .order((invoices::issued_at, invoices::id))
            .select(Self::as_select())
            .into_boxed()
    }

    pub async fn find_by_ids(
        mut connection: &AsyncPgConnection,
        tenant: TenantId,
        ids: &[Uuid],
    ) -> QueryResult<Vec<Self>> {
        selecting("invoices", || {
            invoices::table
                .filter(invoices::tenant_id.eq(tenant.0))
                .filter(invoices::id.eq_any(ids))
                .select(Self::as_select())
                .load(&mut connection)
        })
        .await
    }
}
