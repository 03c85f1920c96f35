//! Cache warming: at start and every `CACHE_WARM_INTERVAL`, the dashboard's
//! hot keys (`orderStatusCounts`, `topProducts(days: 7, first: 100)`,
//! `orderStats(days: 30)`) are recomputed for the tenants that had orders
//! in the last day, so that the first dashboard of the morning is a hit.

use std::time::Duration;

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::auth::Role;
use crate::cache::{Cache, Scope};
use crate::dashboard::{Dashboard, Read};
use crate::db::schema::{orders, tenants};
use crate::db::{Database, Reads, TenantId};
use crate::error::AppResult;

/// The tenants with an order created in the last day. One indexed probe per
/// tenant (`orders_tenant_created_idx`): every query filters on the tenant.
pub async fn active_tenants(database: &Database) -> AppResult<Vec<TenantId>> {
    let mut connection = database.get().await?;
    let since = Utc::now() - chrono::Duration::days(1);
    let all: Vec<uuid::Uuid> = tenants::table
        .select(tenants::id)
        .load(&mut connection)
        .await?;
    let mut active = Vec::new();
    for tenant in all {
        let recent: bool = diesel::select(diesel::dsl::exists(
            orders::table
                .filter(orders::tenant_id.eq(tenant))
                .filter(orders::created_at.ge(since)),
        ))
        .get_result(&mut connection)
        .await?;
        if recent {
            active.push(TenantId(tenant));
        }
    }
    Ok(active)
}

/// Recomputes the hot keys of every active tenant; returns how many
/// tenants were warmed.
pub async fn warm(database: &Database, cache: &Cache) -> AppResult<usize> {
    let tenants = active_tenants(database).await?;
    let reads = Reads::per_read(database);
    for &tenant in &tenants {
        let dashboard = Dashboard {
            reads: &reads,
            cache,
            // The dashboard's values do not depend on the role.
            scope: Scope {
                tenant,
                role: Role::Viewer,
            },
        };
        dashboard.status_counts(Read::Refresh).await?;
        dashboard.top_products(7, 100, Read::Refresh).await?;
        dashboard.order_stats(30, Read::Refresh).await?;
    }
    Ok(tenants.len())
}

/// Warms now and then every `interval`, until the process ends.
pub fn spawn(database: Database, cache: Cache, interval: Duration) {
    if interval.is_zero() {
        return;
    }
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match warm(&database, &cache).await {
                Ok(tenants) => tracing::info!(tenants, "cache warmed"),
                Err(error) => {
                    tracing::warn!(%error, "cache warming failed; retried at the next interval")
                }
            }
        }
    });
}
