//! `tenant_rate_limits`: tenants whose rate limit is not the default.

use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::TenantId;
use crate::db::schema::tenant_rate_limits;

/// Every tenant's own limit, in cost units per minute.
pub async fn all(connection: &mut AsyncPgConnection) -> QueryResult<Vec<(TenantId, u64)>> {
    let rows: Vec<(Uuid, i64)> = tenant_rate_limits::table
        .select((
            tenant_rate_limits::tenant_id,
            tenant_rate_limits::cost_per_minute,
        ))
        .load(connection)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(tenant, limit)| (TenantId(tenant), u64::try_from(limit).unwrap_or(1)))
        .collect())
}

/// Sets `tenant`'s limit; `None` returns it to the default.
pub async fn set(
    connection: &mut AsyncPgConnection,
    tenant: TenantId,
    cost_per_minute: Option<u64>,
) -> QueryResult<()> {
    match cost_per_minute {
        Some(limit) => {
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            diesel::insert_into(tenant_rate_limits::table)
                .values((
                    tenant_rate_limits::tenant_id.eq(tenant.0),
                    tenant_rate_limits::cost_per_minute.eq(limit),
                ))
                .on_conflict(tenant_rate_limits::tenant_id)
                .do_update()
                .set((
                    tenant_rate_limits::cost_per_minute
                        .eq(excluded(tenant_rate_limits::cost_per_minute)),
                    tenant_rate_limits::updated_at.eq(diesel::dsl::now),
                ))
                .execute(connection)
                .await?;
        }
        None => {
            diesel::delete(tenant_rate_limits::table.find(tenant.0))
                .execute(connection)
                .await?;
        }
    }
    Ok(())
}
