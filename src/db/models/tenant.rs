//! `tenants`: the merchants. Not tenant-owned, so no `TenantId` here.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::tenants;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tenants)]
pub struct Tenant {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl Tenant {
    pub async fn find_by_slug(
        connection: &mut AsyncPgConnection,
        slug: &str,
    ) -> QueryResult<Option<Self>> {
        tenants::table
            .filter(tenants::slug.eq(slug))
            .select(Self::as_select())
            .first(connection)
            .await
            .optional()
    }
}
