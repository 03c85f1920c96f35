//! Automatic persisted queries' documents: in process first, then in Redis
//! (shared by every instance) when there is one. Per tenant.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::cache::Keys;
use crate::cache::redis::Redis;
use crate::db::TenantId;

/// How long Redis keeps a document nobody sent again: clients send the
/// full text again after a miss, so forgetting costs one round trip.
const REDIS_TTL: Duration = Duration::from_secs(24 * 3600);
/// Documents kept in process (a few KB each).
const L1_ENTRIES: u64 = 10_000;
const L1_TTL: Duration = Duration::from_secs(3600);

#[derive(Clone)]
pub struct ApqStore {
    l1: moka::future::Cache<String, Arc<str>>,
    redis: Option<Redis>,
    keys: Keys,
}

impl ApqStore {
    pub fn new(redis: Option<Redis>, keys: Keys) -> Self {
        Self {
            l1: moka::future::Cache::builder()
                .max_capacity(L1_ENTRIES)
                .time_to_idle(L1_TTL)
                .build(),
            redis,
            keys,
        }
    }

    pub async fn get(&self, tenant: TenantId, hash: &str) -> Option<Arc<str>> {
        let key = self.keys.apq(tenant, hash);
        if let Some(text) = self.l1.get(&key).await {
            return Some(text);
        }
        let bytes = self.redis.as_ref()?.get(&key).await.flatten()?;
        let text: Arc<str> = String::from_utf8(bytes.to_vec()).ok()?.into();
        self.l1.insert(key, text.clone()).await;
        Some(text)
    }

    /// Stores a document under its hash (already checked to be its own).
    pub async fn put(&self, tenant: TenantId, hash: &str, text: &str) {
        let key = self.keys.apq(tenant, hash);
        if let Some(redis) = &self.redis {
            redis
                .set(&key, Bytes::copy_from_slice(text.as_bytes()), REDIS_TTL)
                .await;
        }
        self.l1.insert(key, text.into()).await;
    }
}
