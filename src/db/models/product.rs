//! `products`: a tenant's catalogue.

use bigdecimal::BigDecimal;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::TenantId;
use crate::db::schema::products;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = products)]
pub struct Product {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub sku: String,
    pub name: String,
    pub price: BigDecimal,
    pub created_at: DateTime<Utc>,
}

impl Product {
    pub async fn find_by_ids(
        connection: &mut AsyncPgConnection,
        tenant: TenantId,
        ids: &[Uuid],
    ) -> QueryResult<Vec<Self>> {
        products::table
            .filter(products::tenant_id.eq(tenant.0))
            .filter(products::id.eq_any(ids))
            .select(Self::as_select())
            .load(connection)
            .await
    }

    /// The products these SKUs name; SKUs without a product are absent.
    pub async fn find_by_skus(
        connection: &mut AsyncPgConnection,
        tenant: TenantId,
        skus: &[String],
    ) -> QueryResult<Vec<Self>> {
        products::table
            .filter(products::tenant_id.eq(tenant.0))
            .filter(products::sku.eq_any(skus))
            .select(Self::as_select())
            .load(connection)
            .await
    }
}
