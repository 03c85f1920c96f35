//! Resolver-level caching: one mechanism, two layers.
//!
//! A resolver declares a [`CachePolicy`] (its name, its TTL, whether the
//! answer depends on the role) and calls [`Cache::get_or_load`] with its
//! arguments, the [`Tag`]s its value depends on, and the loader. By-id
//! DataLoaders use [`Cache::load_many`]. Lookups go to the in-process layer
//! (L1, moka, bounded by the values' size), then Redis (L2, optional), then
//! the loader:
//!
//! - concurrent misses of one key run the loader once per process (moka's
//!   single flight) and once across processes (a short Redis lock; the
//!   others wait briefly, then read what the winner stored);
//! - a hit close to its expiry refreshes the value in the background with
//!   probability rising as expiry nears (XFetch), so a hot key never
//!   expires under load;
//! - TTLs get up to 10% jitter, so keys written together expire apart;
//! - writes call [`Cache::invalidate`] after they commit: the tags'
//!   entries are deleted from Redis and their versions raised, and every
//!   process drops its copies (pub/sub) before the write's response leaves;
//! - a value computed before a write is never stored after it (each tag's
//!   version is read before computing and checked when storing).
//!
//! Without `REDIS_URL`, L1 alone; when Redis fails, L1 alone until it
//! answers again (see `redis`).

pub mod keys;
pub mod redis;
pub mod warm;

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::Rng;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use uuid::Uuid;

pub use keys::{Keys, Tag};
use redis::Redis;

use crate::auth::Role;
use crate::config::CacheConfig;
use crate::db::TenantId;
use crate::error::AppError;
use crate::metrics::{CacheMetrics, Layer, Outcome};

/// XFetch's beta: 1 is the paper's default; larger refreshes earlier.
const XFETCH_BETA: f64 = 1.0;
/// Longest a computation may hold its cross-instance lock. Our loaders
/// answer in milliseconds; a crashed holder frees the key after this.
const LOCK_TTL: Duration = Duration::from_secs(5);
/// How long an instance that lost the lock waits for the winner's value
/// before computing it itself.
const LOCK_WAIT: Duration = Duration::from_millis(1500);
const LOCK_POLL: Duration = Duration::from_millis(20);
/// How long a write waits for the other instances to confirm they dropped
/// their copies; past it, they drop them a moment later anyway.
const ACK_WAIT: Duration = Duration::from_millis(250);

/// How a resolver's results are cached.
#[derive(Debug)]
pub struct CachePolicy {
    /// The resolver's name, in keys and metrics.
    pub resolver: &'static str,
    /// Life in Redis; `None` uses `CACHE_TTL`.
    pub ttl: Option<Duration>,
    /// Whether the answer depends on the caller's role (then the role is
    /// part of the key).
    pub per_role: bool,
}

/// Whose value it is.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    pub tenant: TenantId,
    pub role: Role,
}

/// What Redis holds: the value, when it expires, and how long it took to
/// compute (XFetch needs both).
#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    value: T,
    /// Unix ms.
    expires_at: i64,
    /// ms.
    delta: u32,
}

/// What the process holds.
#[derive(Clone)]
struct L1Entry {
    value: Arc<dyn Any + Send + Sync>,
    size: u32,
    expires_at: i64,
    delta: u32,
    /// The versions of the entry's tags when its computation began.
    generations: Arc<[(String, u64)]>,
    l1_ttl: Duration,
}

impl L1Entry {
    /// The value, as the type its resolver stored.
    fn value<T: Clone + 'static>(&self) -> Result<T, AppError> {
        self.value
            .downcast_ref::<T>()
            .cloned()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("cached value of another type")))
    }

    /// XFetch: recompute when `now - delta * beta * ln(rand) >= expiry`.
    fn should_refresh_early(&self) -> bool {
        let random: f64 = rand::rng().random_range(f64::MIN_POSITIVE..1.0);
        let now = chrono::Utc::now().timestamp_millis() as f64;
        now - f64::from(self.delta) * XFETCH_BETA * random.ln() >= self.expires_at as f64
    }
}

struct L1Expiry;

impl moka::Expiry<String, L1Entry> for L1Expiry {
    fn expire_after_create(
        &self,
        _key: &String,
        entry: &L1Entry,
        _at: std::time::Instant,
    ) -> Option<Duration> {
        Some(entry.l1_ttl)
    }
}

/// Per-process versions of tags, raised by every invalidation seen here or
/// announced by another process; an L1 entry whose tags moved is stale.
struct Generations {
    versions: moka::sync::Cache<String, u64>,
}

impl Generations {
    fn new(l1_ttl: Duration) -> Self {
        // A version is forgotten only after every entry made before it
        // was raised has expired from L1 (forgetting resets it to 0).
        Self {
            versions: moka::sync::Cache::builder()
                .time_to_idle(l1_ttl * 2 + Duration::from_secs(1))
                .build(),
        }
    }

    fn key(tenant: TenantId, tag: &str) -> String {
        format!("{tenant}|{tag}")
    }

    fn snapshot(&self, tenant: TenantId, tags: &[String]) -> Arc<[(String, u64)]> {
        tags.iter()
            .map(|tag| {
                let key = Self::key(tenant, tag);
                let version = self.versions.get(&key).unwrap_or(0);
                (key, version)
            })
            .collect()
    }

    fn current(&self, snapshot: &[(String, u64)]) -> bool {
        snapshot
            .iter()
            .all(|(key, version)| self.versions.get(key).unwrap_or(0) == *version)
    }

    fn raise(&self, tenant: TenantId, tags: &[String]) {
        for tag in tags {
            let key = Self::key(tenant, tag);
            let next = self.versions.get(&key).unwrap_or(0) + 1;
            self.versions.insert(key, next);
        }
    }
}

/// A write's invalidation, as announced to the other processes.
#[derive(Serialize, Deserialize)]
struct Invalidation {
    id: Uuid,
    tenant: Uuid,
    tags: Vec<String>,
}

struct CacheInner {
    config: CacheConfig,
    keys: Keys,
    l1: moka::future::Cache<String, L1Entry>,
    redis: Option<Redis>,
    generations: Generations,
    refreshing: Mutex<std::collections::HashSet<String>>,
    acks: Mutex<HashMap<Uuid, Arc<AckWait>>>,
    metrics: CacheMetrics,
}

struct AckWait {
    received: std::sync::atomic::AtomicU64,
    notify: Notify,
}

/// The cache; cheap to clone.
#[derive(Clone)]
pub struct Cache(Arc<CacheInner>);

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("redis", &self.0.redis.is_some())
            .finish()
    }
}

impl Cache {
    /// The cache of one process. `schema_version` goes into every key.
    pub fn new(
        config: CacheConfig,
        redis: Option<Redis>,
        schema_version: &str,
        metrics: CacheMetrics,
    ) -> Self {
        let l1 = moka::future::Cache::builder()
            .max_capacity(config.l1_capacity_bytes)
            .weigher(|_key: &String, entry: &L1Entry| entry.size)
            .expire_after(L1Expiry)
            .build();
        let cache = Self(Arc::new(CacheInner {
            keys: Keys::new(&config.key_prefix, schema_version),
            generations: Generations::new(config.l1_ttl),
            config,
            l1,
            redis,
            refreshing: Mutex::new(Default::default()),
            acks: Mutex::new(HashMap::new()),
            metrics,
        }));
        cache.listen();
        cache
    }

    pub fn keys(&self) -> &Keys {
        &self.0.keys
    }

    pub fn redis(&self) -> Option<&Redis> {
        self.0.redis.as_ref()
    }

    pub fn metrics(&self) -> &CacheMetrics {
        &self.0.metrics
    }

    /// Whether resolvers are cached at all (`CACHE_ENABLED`).
    pub fn enabled(&self) -> bool {
        self.0.config.enabled
    }

    /// Subscribes to the other processes' invalidations and confirmations.
    fn listen(&self) {
        let Some(redis) = &self.0.redis else { return };
        let invalidations = self.0.keys.channel("invalidate");
        let acks = self.0.keys.channel("ack");
        let weak = Arc::downgrade(&self.0);
        let ack_channel = acks.clone();
        let invalidation_channel = invalidations.clone();
        redis.subscribe(vec![invalidations, acks], move |channel, text| {
            let Some(inner) = weak.upgrade() else { return };
            let cache = Cache(inner);
            if channel == invalidation_channel {
                if let Ok(message) = serde_json::from_str::<Invalidation>(&text) {
                    cache
                        .0
                        .generations
                        .raise(TenantId(message.tenant), &message.tags);
                    let ack_channel = ack_channel.clone();
                    tokio::spawn(async move {
                        if let Some(redis) = &cache.0.redis {
                            redis.publish(&ack_channel, message.id.to_string()).await;
                        }
                    });
                }
            } else if let Ok(id) = text.parse::<Uuid>()
                && let Some(wait) = cache
                    .0
                    .acks
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(&id)
            {
                wait.received
                    .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                wait.notify.notify_waiters();
            }
        });
    }

    fn ttl(&self, policy: &CachePolicy) -> Duration {
        policy.ttl.unwrap_or(self.0.config.default_ttl)
    }

    /// `ttl` plus up to 10%, so that keys written together expire apart.
    fn jittered(ttl: Duration) -> Duration {
        ttl.mul_f64(1.0 + rand::rng().random_range(0.0..0.1))
    }

    /// The resolver's value for `args`: from L1, L2, or `load`.
    pub async fn get_or_load<T, F, Fut>(
        &self,
        policy: &'static CachePolicy,
        scope: Scope,
        args: &impl Serialize,
        tags: Vec<Tag>,
        load: F,
    ) -> Result<T, AppError>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, AppError>> + Send + 'static,
    {
        if !self.enabled() {
            return load().await;
        }
        let key = self.entry_key(policy, scope, args);
        let tags: Vec<String> = tags.iter().map(Tag::render).collect();
        if let Some(entry) = self.l1_get(&key).await
            && let Some(value) = entry.value.downcast_ref::<T>()
        {
            self.0
                .metrics
                .record(Layer::L1, Outcome::Hit, policy.resolver);
            if entry.should_refresh_early() {
                self.refresh_in_background(policy, scope.tenant, key, tags, load);
            }
            return Ok(value.clone());
        }
        self.0
            .metrics
            .record(Layer::L1, Outcome::Miss, policy.resolver);

        let this = self.clone();
        let fill_key = key.clone();
        let entry = self
            .0
            .l1
            .try_get_with(key, async move {
                this.fill(policy, scope.tenant, fill_key, tags, load).await
            })
            .await
            .map_err(|error| error.duplicate())?;
        entry.value()
    }

    /// The key of a resolver's value for `args`, as its policy says (the
    /// role only where the answer depends on it).
    fn entry_key(
        &self,
        policy: &'static CachePolicy,
        scope: Scope,
        args: &impl Serialize,
    ) -> String {
        self.0.keys.entry(
            scope.tenant,
            policy.resolver,
            policy.per_role.then_some(scope.role),
            args,
        )
    }

    /// Recomputes and stores a value now, whatever is cached (warming).
    pub async fn refresh<T, F, Fut>(
        &self,
        policy: &'static CachePolicy,
        scope: Scope,
        args: &impl Serialize,
        tags: Vec<Tag>,
        load: F,
    ) -> Result<T, AppError>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, AppError>> + Send + 'static,
    {
        if !self.enabled() {
            return load().await;
        }
        let key = self.entry_key(policy, scope, args);
        let tags: Vec<String> = tags.iter().map(Tag::render).collect();
        let entry = self
            .compute(policy, scope.tenant, &key, &tags, load)
            .await?;
        let value = entry.value();
        self.0.l1.insert(key, entry).await;
        value
    }

    /// An L1 entry, if present and none of its tags moved since.
    async fn l1_get(&self, key: &str) -> Option<L1Entry> {
        let entry = self.0.l1.get(key).await?;
        if self.0.generations.current(&entry.generations) {
            Some(entry)
        } else {
            self.0.l1.invalidate(key).await;
            None
        }
    }

    /// An L1 miss: L2, else the loader under the cross-instance lock.
    async fn fill<T, F, Fut>(
        &self,
        policy: &'static CachePolicy,
        tenant: TenantId,
        key: String,
        tags: Vec<String>,
        load: F,
    ) -> Result<L1Entry, AppError>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, AppError>> + Send + 'static,
    {
        if let Some(redis) = &self.0.redis {
            if let Some(entry) = self.l2_get::<T>(redis, policy, tenant, &key, &tags).await {
                return Ok(entry);
            }
            let token = Uuid::new_v4().to_string();
            let lock = Keys::lock(&key);
            match redis.lock(&lock, &token, LOCK_TTL).await {
                Some(true) => {
                    let entry = self.compute(policy, tenant, &key, &tags, load).await;
                    redis.unlock(&lock, &token).await;
                    return entry;
                }
                Some(false) => {
                    // Another instance computes it: wait for its value.
                    let started = Instant::now();
                    while started.elapsed() < LOCK_WAIT {
                        tokio::time::sleep(LOCK_POLL).await;
                        if let Some(Some(bytes)) = redis.get(&key).await
                            && let Some(entry) =
                                self.decode::<T>(policy, tenant, &bytes, &tags, true)
                        {
                            return Ok(entry);
                        }
                    }
                }
                None => {}
            }
        }
        self.compute(policy, tenant, &key, &tags, load).await
    }

    async fn l2_get<T>(
        &self,
        redis: &Redis,
        policy: &'static CachePolicy,
        tenant: TenantId,
        key: &str,
        tags: &[String],
    ) -> Option<L1Entry>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let bytes = redis.get(key).await.flatten();
        let entry = bytes.and_then(|bytes| self.decode::<T>(policy, tenant, &bytes, tags, true));
        if entry.is_none() {
            self.0
                .metrics
                .record(Layer::L2, Outcome::Miss, policy.resolver);
        }
        entry
    }

    /// An L2 value as an L1 entry (a hit), or `None` if it does not decode
    /// (another version's shape: a miss).
    fn decode<T>(
        &self,
        policy: &CachePolicy,
        tenant: TenantId,
        bytes: &Bytes,
        tags: &[String],
        count_hit: bool,
    ) -> Option<L1Entry>
    where
        T: DeserializeOwned + Send + Sync + 'static,
    {
        let envelope: Envelope<T> = serde_json::from_slice(bytes).ok()?;
        if count_hit {
            self.0
                .metrics
                .record(Layer::L2, Outcome::Hit, policy.resolver);
        }
        let remaining = envelope.expires_at - chrono::Utc::now().timestamp_millis();
        let l1_ttl = self
            .0
            .config
            .l1_ttl
            .min(Duration::from_millis(remaining.max(0) as u64));
        Some(L1Entry {
            value: Arc::new(envelope.value),
            size: bytes.len() as u32,
            expires_at: envelope.expires_at,
            delta: envelope.delta,
            generations: self.0.generations.snapshot(tenant, tags),
            l1_ttl: Self::jittered(l1_ttl),
        })
    }

    /// Runs the loader and stores its value in Redis unless a write
    /// touched its tags meanwhile; returns the L1 entry.
    async fn compute<T, F, Fut>(
        &self,
        policy: &'static CachePolicy,
        tenant: TenantId,
        key: &str,
        tags: &[String],
        load: F,
    ) -> Result<L1Entry, AppError>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, AppError>> + Send + 'static,
    {
        let generations = self.0.generations.snapshot(tenant, tags);
        let tag_versions: Vec<String> = tags
            .iter()
            .map(|tag| self.0.keys.tag_version(tenant, tag))
            .collect();
        let versions = match &self.0.redis {
            Some(redis) => redis.mget(tag_versions.clone()).await,
            None => None,
        };

        let started = Instant::now();
        let value = load().await?;
        self.0.metrics.loaded(policy.resolver);
        let delta = started.elapsed().as_millis().min(u128::from(u32::MAX)) as u32;
        let ttl = Self::jittered(self.ttl(policy));
        let envelope = Envelope {
            value,
            expires_at: chrono::Utc::now().timestamp_millis() + ttl.as_millis() as i64,
            delta,
        };
        let bytes = Bytes::from(serde_json::to_vec(&envelope).map_err(AppError::internal)?);
        if let (Some(redis), Some(versions)) = (&self.0.redis, versions) {
            let versions: Vec<String> = versions
                .iter()
                .map(|version| {
                    version.as_ref().map_or_else(
                        || "0".to_owned(),
                        |bytes| String::from_utf8_lossy(bytes).into_owned(),
                    )
                })
                .collect();
            let members: Vec<String> = tags
                .iter()
                .map(|tag| self.0.keys.tag_members(tenant, tag))
                .collect();
            redis
                .set_if_fresh(key, bytes.clone(), ttl, &members, &tag_versions, &versions)
                .await;
        }
        Ok(L1Entry {
            value: Arc::new(envelope.value),
            size: bytes.len() as u32,
            expires_at: envelope.expires_at,
            delta,
            generations,
            l1_ttl: Self::jittered(self.0.config.l1_ttl.min(ttl)),
        })
    }

    /// XFetch's early refresh: one at a time per key, off the request.
    fn refresh_in_background<T, F, Fut>(
        &self,
        policy: &'static CachePolicy,
        tenant: TenantId,
        key: String,
        tags: Vec<String>,
        load: F,
    ) where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, AppError>> + Send + 'static,
    {
        if !self
            .0
            .refreshing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.clone())
        {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            match this.compute(policy, tenant, &key, &tags, load).await {
                Ok(entry) => this.0.l1.insert(key.clone(), entry).await,
                Err(error) => {
                    tracing::warn!(%error, resolver = policy.resolver, "early refresh failed")
                }
            }
            this.0
                .refreshing
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&key);
        });
    }

    /// Values of a by-id loader: what L1 and L2 hold, and `load` for the
    /// rest (stored for next time). `tags_of` names each key's tags.
    pub async fn load_many<K, V, F, Fut>(
        &self,
        policy: &'static CachePolicy,
        tenant: TenantId,
        keys: &[K],
        tags_of: impl Fn(&K) -> Vec<Tag>,
        load: F,
    ) -> Result<HashMap<K, V>, AppError>
    where
        K: std::hash::Hash + Eq + Clone + ToString + Send + Sync + 'static,
        V: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        F: FnOnce(Vec<K>) -> Fut,
        Fut: Future<Output = Result<HashMap<K, V>, AppError>>,
    {
        if !self.enabled() {
            return load(keys.to_vec()).await;
        }
        let mut found = HashMap::with_capacity(keys.len());
        let mut missing = Vec::new();
        for key in keys {
            let cache_key = self
                .0
                .keys
                .loaded(tenant, policy.resolver, &key.to_string());
            let cached = self.l1_get(&cache_key).await;
            match cached
                .as_ref()
                .and_then(|entry| entry.value.downcast_ref::<V>())
            {
                Some(value) => {
                    self.0
                        .metrics
                        .record(Layer::L1, Outcome::Hit, policy.resolver);
                    found.insert(key.clone(), value.clone());
                }
                None => {
                    self.0
                        .metrics
                        .record(Layer::L1, Outcome::Miss, policy.resolver);
                    missing.push((
                        key.clone(),
                        cache_key,
                        tags_of(key).iter().map(Tag::render).collect::<Vec<_>>(),
                    ));
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }

        // One round trip for the values and their tags' versions.
        let snapshots: Vec<_> = missing
            .iter()
            .map(|(_, _, tags)| self.0.generations.snapshot(tenant, tags))
            .collect();
        let mut to_load = Vec::new();
        let mut versions: HashMap<String, String> = HashMap::new();
        if let Some(redis) = &self.0.redis {
            let tag_version_keys: Vec<String> = missing
                .iter()
                .flat_map(|(_, _, tags)| {
                    tags.iter().map(|tag| self.0.keys.tag_version(tenant, tag))
                })
                .collect();
            let mut request: Vec<String> = missing
                .iter()
                .map(|(_, cache_key, _)| cache_key.clone())
                .collect();
            request.extend(tag_version_keys.iter().cloned());
            let reply = redis.mget(request).await;
            for (index, (key, cache_key, tags)) in missing.iter().enumerate() {
                let value = reply.as_ref().and_then(|reply| reply[index].clone());
                match value.and_then(|bytes| self.decode::<V>(policy, tenant, &bytes, tags, true)) {
                    Some(entry) => {
                        if let Some(value) = entry.value.downcast_ref::<V>() {
                            found.insert(key.clone(), value.clone());
                        }
                        self.0.l1.insert(cache_key.clone(), entry).await;
                    }
                    None => {
                        self.0
                            .metrics
                            .record(Layer::L2, Outcome::Miss, policy.resolver);
                        to_load.push(index);
                    }
                }
            }
            if let Some(reply) = &reply {
                for (offset, version_key) in tag_version_keys.iter().enumerate() {
                    let version = reply[missing.len() + offset].as_ref().map_or_else(
                        || "0".to_owned(),
                        |bytes| String::from_utf8_lossy(bytes).into_owned(),
                    );
                    versions.insert(version_key.clone(), version);
                }
            }
        } else {
            to_load = (0..missing.len()).collect();
        }
        if to_load.is_empty() {
            return Ok(found);
        }

        let started = Instant::now();
        let loaded = load(
            to_load
                .iter()
                .map(|&index| missing[index].0.clone())
                .collect(),
        )
        .await?;
        self.0.metrics.loaded(policy.resolver);
        let delta = started.elapsed().as_millis().min(u128::from(u32::MAX)) as u32;
        for index in to_load {
            let (key, cache_key, tags) = &missing[index];
            // Keys without a value are not cached: the loader has nothing
            // to say about them, so asking again costs little.
            let Some(value) = loaded.get(key) else {
                continue;
            };
            let ttl = Self::jittered(self.ttl(policy));
            let envelope = Envelope {
                value: value.clone(),
                expires_at: chrono::Utc::now().timestamp_millis() + ttl.as_millis() as i64,
                delta,
            };
            let Ok(bytes) = serde_json::to_vec(&envelope).map(Bytes::from) else {
                continue;
            };
            if let Some(redis) = &self.0.redis
                && !versions.is_empty()
            {
                let tag_versions: Vec<String> = tags
                    .iter()
                    .map(|tag| self.0.keys.tag_version(tenant, tag))
                    .collect();
                let expected: Vec<String> = tag_versions
                    .iter()
                    .map(|key| versions.get(key).cloned().unwrap_or_else(|| "0".to_owned()))
                    .collect();
                let members: Vec<String> = tags
                    .iter()
                    .map(|tag| self.0.keys.tag_members(tenant, tag))
                    .collect();
                redis
                    .set_if_fresh(
                        cache_key,
                        bytes.clone(),
                        ttl,
                        &members,
                        &tag_versions,
                        &expected,
                    )
                    .await;
            }
            let entry = L1Entry {
                value: Arc::new(envelope.value),
                size: bytes.len() as u32,
                expires_at: envelope.expires_at,
                delta,
                generations: snapshots[index].clone(),
                l1_ttl: Self::jittered(self.0.config.l1_ttl.min(ttl)),
            };
            self.0.l1.insert(cache_key.clone(), entry).await;
            found.insert(key.clone(), value.clone());
        }
        Ok(found)
    }

    /// Drops what a committed write touched, everywhere: this process's
    /// copies at once, Redis's entries, and the other processes' copies
    /// (announced over pub/sub; waits briefly for their confirmations so
    /// that the writer's next read, on any instance, sees the write).
    pub async fn invalidate(&self, tenant: TenantId, tags: &[Tag]) {
        if !self.enabled() {
            return;
        }
        let tags: Vec<String> = tags.iter().map(Tag::render).collect();
        self.0.generations.raise(tenant, &tags);
        let Some(redis) = &self.0.redis else { return };
        let members: Vec<String> = tags
            .iter()
            .map(|tag| self.0.keys.tag_members(tenant, tag))
            .collect();
        let versions: Vec<String> = tags
            .iter()
            .map(|tag| self.0.keys.tag_version(tenant, tag))
            .collect();
        if !redis.invalidate(&members, &versions).await {
            tracing::warn!(%tenant, ?tags, "invalidation not sent to Redis: other instances keep their copies until they expire");
            return;
        }
        let message = Invalidation {
            id: Uuid::new_v4(),
            tenant: tenant.0,
            tags,
        };
        let wait = Arc::new(AckWait {
            received: std::sync::atomic::AtomicU64::new(0),
            notify: Notify::new(),
        });
        self.0
            .acks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(message.id, wait.clone());
        let text = serde_json::to_string(&message).unwrap_or_default();
        if let Some(receivers) = redis
            .publish(&self.0.keys.channel("invalidate"), text)
            .await
        {
            let confirmed = async {
                loop {
                    let notified = wait.notify.notified();
                    if wait.received.load(std::sync::atomic::Ordering::Acquire) >= receivers {
                        break;
                    }
                    notified.await;
                }
            };
            if tokio::time::timeout(ACK_WAIT, confirmed).await.is_err() {
                tracing::debug!(
                    receivers,
                    "not every instance confirmed an invalidation in time"
                );
            }
        }
        self.0
            .acks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&message.id);
    }
}
