//! The dashboard's figures (`orderStats`, `orderStatusCounts`,
//! `topProducts`): computed in SQL, cached per tenant through the one
//! caching mechanism. Shared by the resolvers and the cache warmer.

use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cache::{Cache, CachePolicy, Scope, Tag};
use crate::db::models::product::ProductSales;
use crate::db::models::{DailyOrderStats, Order, Product};
use crate::db::{OrderStatus, Reads};
use crate::error::{AppError, AppResult};

/// orderStats: the default TTL; a day's figures move only with writes,
/// which invalidate them.
pub static ORDER_STATS: CachePolicy = CachePolicy {
    resolver: "orderStats",
    ttl: None,
    per_role: false,
};

pub static STATUS_COUNTS: CachePolicy = CachePolicy {
    resolver: "orderStatusCounts",
    ttl: None,
    per_role: false,
};

/// topProducts: its window slides with the clock, which no write
/// announces; 10 minutes of drift is invisible in a 7-day ranking.
pub static TOP_PRODUCTS: CachePolicy = CachePolicy {
    resolver: "topProducts",
    ttl: Some(Duration::from_secs(600)),
    per_role: false,
};

/// Whether to serve from the cache or to recompute now (warming).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    Cached,
    Refresh,
}

/// One tenant's dashboard.
pub struct Dashboard<'a> {
    pub reads: &'a Reads,
    pub cache: &'a Cache,
    pub scope: Scope,
}

impl Dashboard<'_> {
    async fn fetch<T, F, Fut>(
        &self,
        read: Read,
        policy: &'static CachePolicy,
        args: &impl Serialize,
        load: F,
    ) -> AppResult<T>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        F: FnOnce(Reads) -> Fut + Send + 'static,
        Fut: Future<Output = AppResult<T>> + Send + 'static,
    {
        let reads = self.reads.clone();
        let load = move || load(reads);
        let tags = vec![Tag::Aggregates];
        // Boxed: the cache's futures hold their Redis round trips, which
        // would otherwise make the query root's future (every request's,
        // moved as it is boxed and polled) that much larger.
        match read {
            Read::Cached => {
                Box::pin(self.cache.get_or_load(policy, self.scope, args, tags, load)).await
            }
            Read::Refresh => {
                Box::pin(self.cache.refresh(policy, self.scope, args, tags, load)).await
            }
        }
    }

    /// One row per UTC day of the window ending today, newest first.
    pub async fn order_stats(&self, days: i32, read: Read) -> AppResult<Vec<DailyOrderStats>> {
        let tenant = self.scope.tenant;
        let today = Utc::now().date_naive();
        // Today is part of the key: at midnight the window moves.
        self.fetch(
            read,
            &ORDER_STATS,
            &(days, today),
            move |reads| async move {
                let connection = reads.get().await?;
                Ok(DailyOrderStats::for_window(&connection, tenant, today, days).await?)
            },
        )
        .await
    }

    /// Orders per status, every status listed (0 where none).
    pub async fn status_counts(&self, read: Read) -> AppResult<Vec<(OrderStatus, i64)>> {
        let tenant = self.scope.tenant;
        self.fetch(read, &STATUS_COUNTS, &(), move |reads| async move {
            let connection = reads.get().await?;
            let counts = Order::count_by_status(&connection, tenant).await?;
            Ok(OrderStatus::ALL
                .into_iter()
                .map(|status| {
                    let count = counts
                        .iter()
                        .find(|(counted, _)| *counted == status)
                        .map_or(0, |(_, count)| *count);
                    (status, count)
                })
                .collect())
        })
        .await
    }

    /// The products on most order items of the last `days` days.
    pub async fn top_products(
        &self,
        days: i32,
        first: i32,
        read: Read,
    ) -> AppResult<Vec<ProductSales>> {
        let tenant = self.scope.tenant;
        self.fetch(
            read,
            &TOP_PRODUCTS,
            &(days, first),
            move |reads| async move {
                let connection = reads.get().await?;
                let since = Utc::now() - chrono::Duration::days(i64::from(days));
                Product::top_sellers(&connection, tenant, since, i64::from(first))
                    .await
                    .map_err(AppError::from)
            },
        )
        .await
    }
}
