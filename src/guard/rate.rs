//! Rate limits on cost: a token bucket of cost units per tenant and per
//! token, refilled continuously at its limit per minute. The buckets live
//! in Redis, so that every instance draws from the same ones (one script
//! checks and takes from both atomically; the tenant is the keys' hash
//! tag, so both sit in one cluster slot). When Redis does not answer, each
//! instance falls back to buckets of its own: a tenant may then spend up
//! to its limit on every instance, which is better than refusing everyone
//! or no one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use fred::types::Value;

use crate::auth::Viewer;
use crate::cache::keys::Keys;
use crate::cache::redis::Redis;
use crate::config::RateLimits;
use crate::db::models::tenant_rate_limit;
use crate::db::{Database, TenantId};

const MINUTE_MS: f64 = 60_000.0;

/// Takes `ARGV[1]` units from every bucket `KEYS[i]` (capacity and
/// per-minute refill `ARGV[i + 1]`) if each has enough, or from none.
/// A request costing more than a whole bucket passes when the bucket is
/// full, leaving it in debt. Returns `{1, remaining}` (the least left in
/// any bucket) or `{0, wait_ms}`.
const TAKE: &str = r#"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local cost = tonumber(ARGV[1])
local levels = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local capacity = tonumber(ARGV[i + 1])
  local per_ms = capacity / 60000
  local state = redis.call('HMGET', key, 'level', 'at')
  local level = tonumber(state[1]) or capacity
  local at = tonumber(state[2]) or now
  level = math.min(capacity, level + math.max(0, now - at) * per_ms)
  levels[i] = level
  local needed = math.min(cost, capacity)
  if level < needed then
    wait = math.max(wait, (needed - level) / per_ms)
  end
end
if wait > 0 then
  return {0, math.ceil(wait)}
end
local remaining = nil
for i, key in ipairs(KEYS) do
  local capacity = tonumber(ARGV[i + 1])
  local level = levels[i] - cost
  redis.call('HSET', key, 'level', tostring(level), 'at', now)
  redis.call('PEXPIRE', key, math.ceil((capacity - level) / (capacity / 60000)) + 1000)
  if remaining == nil or level < remaining then
    remaining = level
  end
end
return {1, math.floor(math.max(0, remaining))}
"#;

/// What the limiter decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Taken; the least left in the request's buckets.
    Allowed { remaining: u64 },
    /// Not taken: enough will be back after this long.
    Limited { retry_after: Duration },
}

/// The limiter shared by an instance's requests.
#[derive(Clone)]
pub struct RateLimiter(Arc<Inner>);

struct Inner {
    config: RateLimits,
    redis: Option<Redis>,
    keys: Keys,
    /// Tenants with their own limit (`tenant_rate_limits`).
    overrides: RwLock<HashMap<TenantId, u64>>,
    local: Mutex<HashMap<String, LocalBucket>>,
}

/// Local buckets above this many are swept of full ones.
const LOCAL_SWEEP_AT: usize = 10_000;

struct LocalBucket {
    level: f64,
    at: Instant,
}

impl RateLimiter {
    pub fn new(config: RateLimits, redis: Option<Redis>, keys: Keys) -> Self {
        Self(Arc::new(Inner {
            config,
            redis,
            keys,
            overrides: RwLock::default(),
            local: Mutex::default(),
        }))
    }

    pub fn enabled(&self) -> bool {
        self.0.config.enabled
    }

    /// The tenant's limit per minute.
    pub fn tenant_limit(&self, tenant: TenantId) -> u64 {
        self.0
            .overrides
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .get(&tenant)
            .copied()
            .unwrap_or(self.0.config.tenant_per_minute)
    }

    /// Reads the tenants' own limits.
    pub async fn reload(&self, database: &Database) -> anyhow::Result<()> {
        let mut connection = database.get().await?;
        let overrides = tenant_rate_limit::all(&mut connection).await?;
        *self
            .0
            .overrides
            .write()
            .unwrap_or_else(|poison| poison.into_inner()) = overrides.into_iter().collect();
        Ok(())
    }

    /// Reloads the tenants' own limits every `interval`, for ever.
    pub fn spawn_reload(&self, database: Database, interval: Duration) {
        let limiter = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                if let Err(error) = limiter.reload(&database).await {
                    tracing::warn!(error = %format!("{error:#}"), "reading tenant rate limits");
                }
            }
        });
    }

    /// Takes `cost` units from the viewer's tenant's bucket and its token's.
    pub async fn take(&self, viewer: &Viewer, token: &str, cost: u64) -> Decision {
        if !self.0.config.enabled {
            return Decision::Allowed {
                remaining: u64::MAX,
            };
        }
        let buckets = [
            (
                self.0.keys.rate_bucket(viewer.tenant, None),
                self.tenant_limit(viewer.tenant),
            ),
            (
                self.0.keys.rate_bucket(viewer.tenant, Some(token)),
                self.0.config.token_per_minute,
            ),
        ];
        if let Some(redis) = &self.0.redis
            && let Some(decision) = self.take_shared(redis, &buckets, cost).await
        {
            return decision;
        }
        self.take_local(&buckets, cost)
    }

    async fn take_shared(
        &self,
        redis: &Redis,
        buckets: &[(String, u64)],
        cost: u64,
    ) -> Option<Decision> {
        let keys = buckets.iter().map(|(key, _)| key.clone()).collect();
        let mut args = vec![Value::Integer(clamp_i64(cost))];
        args.extend(
            buckets
                .iter()
                .map(|(_, capacity)| Value::Integer(clamp_i64(*capacity))),
        );
        let reply: Vec<i64> = redis.eval("rate_limit", TAKE, keys, args).await?;
        match reply.as_slice() {
            [1, remaining] => Some(Decision::Allowed {
                remaining: u64::try_from(*remaining).unwrap_or(0),
            }),
            [0, wait_ms] => Some(Decision::Limited {
                retry_after: Duration::from_millis(u64::try_from(*wait_ms).unwrap_or(1000)),
            }),
            _ => None,
        }
    }

    /// The same algorithm as [`TAKE`], in this process.
    fn take_local(&self, buckets: &[(String, u64)], cost: u64) -> Decision {
        let now = Instant::now();
        let mut local = self
            .0
            .local
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if local.len() > LOCAL_SWEEP_AT {
            local.retain(|_, bucket| now.duration_since(bucket.at) < Duration::from_secs(60));
        }
        let cost = cost as f64;
        let mut levels = Vec::with_capacity(buckets.len());
        let mut wait_ms: f64 = 0.0;
        for (key, capacity) in buckets {
            let capacity = *capacity as f64;
            let per_ms = capacity / MINUTE_MS;
            let level = local.get(key).map_or(capacity, |bucket| {
                let elapsed = now.duration_since(bucket.at).as_secs_f64() * 1000.0;
                (bucket.level + elapsed * per_ms).min(capacity)
            });
            let needed = cost.min(capacity);
            if level < needed {
                wait_ms = wait_ms.max((needed - level) / per_ms);
            }
            levels.push(level);
        }
        if wait_ms > 0.0 {
            return Decision::Limited {
                retry_after: Duration::from_millis(wait_ms.ceil() as u64),
            };
        }
        let mut remaining = f64::MAX;
        for ((key, _), level) in buckets.iter().zip(levels) {
            let level = level - cost;
            remaining = remaining.min(level);
            local.insert(key.clone(), LocalBucket { level, at: now });
        }
        Decision::Allowed {
            remaining: remaining.max(0.0) as u64,
        }
    }
}

fn clamp_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn limiter(tenant_per_minute: u64, token_per_minute: u64) -> RateLimiter {
        RateLimiter::new(
            RateLimits {
                enabled: true,
                tenant_per_minute,
                token_per_minute,
            },
            None,
            Keys::new("test", "v"),
        )
    }

    fn viewer(tenant: u128) -> Viewer {
        Viewer {
            user_id: uuid::Uuid::from_u128(1),
            tenant: TenantId(uuid::Uuid::from_u128(tenant)),
            role: Role::Viewer,
        }
    }

    #[tokio::test]
    async fn the_local_bucket_refuses_past_the_limit_and_says_when_to_retry() {
        let limiter = limiter(1_000, 600);
        assert_eq!(
            limiter.take(&viewer(1), "a", 500).await,
            Decision::Allowed { remaining: 100 }
        );
        let Decision::Limited { retry_after } = limiter.take(&viewer(1), "a", 500).await else {
            panic!("over the token's limit");
        };
        // 400 units at 10 per second.
        assert!(retry_after > Duration::from_secs(39) && retry_after <= Duration::from_secs(40));
        // Another token of the tenant still has the tenant's remaining 500.
        assert!(matches!(
            limiter.take(&viewer(1), "b", 500).await,
            Decision::Allowed { .. }
        ));
        assert!(matches!(
            limiter.take(&viewer(1), "c", 1).await,
            Decision::Limited { .. }
        ));
        // Other tenants are untouched.
        assert!(matches!(
            limiter.take(&viewer(2), "a", 500).await,
            Decision::Allowed { .. }
        ));
    }

    #[tokio::test]
    async fn a_request_costing_more_than_the_bucket_passes_on_a_full_one() {
        let limiter = limiter(100, 100);
        assert_eq!(
            limiter.take(&viewer(1), "a", 250).await,
            Decision::Allowed { remaining: 0 }
        );
        assert!(matches!(
            limiter.take(&viewer(1), "a", 1).await,
            Decision::Limited { .. }
        ));
    }
}
