//! The shared layer (L2): Redis through fred, set up so that a slow, dead or
//! refusing Redis costs a request a few milliseconds at most and fails
//! nothing.
//!
//! fred's defaults suit a client that must not lose commands, not a cache:
//! no command timeout, an unbounded queue of commands while reconnecting,
//! no reconnection policy, and a first connection that must succeed. Here
//! every command has a short timeout and fails fast while disconnected, the
//! queue is bounded, reconnection backs off exponentially for ever, and
//! start-up does not wait for Redis. A circuit breaker skips Redis entirely
//! after consecutive failures and probes it again a second later.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use fred::clients::{Pool, SubscriberClient};
use fred::prelude::*;
use fred::types::config::Options;
use secrecy::{ExposeSecret, SecretString};

use crate::config::CacheConfig;
use crate::metrics::CacheMetrics;

/// Consecutive failures that open the breaker.
const FAILURES_TO_OPEN: u32 = 3;
/// How long an open breaker skips Redis before one request probes it.
const OPEN_FOR: Duration = Duration::from_secs(1);
/// Commands waiting for a connection beyond this many fail at once
/// (fred's default queue is unbounded and grows for as long as Redis is away).
const COMMAND_BUFFER: usize = 1024;
/// Reconnection: 100 ms, doubling, at most 5 s apart, for ever.
const RECONNECT_MIN_MS: u32 = 100;
const RECONNECT_MAX_MS: u32 = 5_000;

/// Stores `ARGV[1]` at `KEYS[1]` for `ARGV[2]` ms and adds the key to its
/// tags' sets (`KEYS[2..n+1]`), unless a tag's version (`KEYS[n+2..]`) is no
/// longer the one read before computing the value (`ARGV[4..]`): a value
/// computed before a write is never stored after it.
const SET_IF_FRESH: &str = r#"
local n = tonumber(ARGV[3])
for i = 1, n do
  local current = redis.call('GET', KEYS[1 + n + i]) or '0'
  if current ~= ARGV[3 + i] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
for i = 1, n do
  redis.call('SADD', KEYS[1 + i], KEYS[1])
  if redis.call('PTTL', KEYS[1 + i]) < tonumber(ARGV[2]) then
    redis.call('PEXPIRE', KEYS[1 + i], ARGV[2])
  end
end
return 1
"#;

/// Deletes the entries of each tag set (`KEYS[1..n]`) and the set, and
/// raises the tag's version (`KEYS[n+1..]`).
const INVALIDATE: &str = r#"
local n = #KEYS / 2
for i = 1, n do
  local members = redis.call('SMEMBERS', KEYS[i])
  for j = 1, #members, 500 do
    redis.call('DEL', unpack(members, j, math.min(j + 499, #members)))
  end
  redis.call('DEL', KEYS[i])
  redis.call('INCR', KEYS[n + i])
  redis.call('PEXPIRE', KEYS[n + i], 86400000)
end
return 1
"#;

/// Deletes the lock `KEYS[1]` if it still holds this instance's token.
const UNLOCK: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"#;

/// Skips Redis after repeated failures; lets one request probe it later.
#[derive(Debug)]
struct Breaker {
    failures: AtomicU32,
    /// Unix ms until which Redis is skipped; 0 when closed.
    open_until: AtomicI64,
    probing: AtomicBool,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Breaker {
    fn new() -> Self {
        Self {
            failures: AtomicU32::new(0),
            open_until: AtomicI64::new(0),
            probing: AtomicBool::new(false),
        }
    }

    fn allows(&self) -> bool {
        let until = self.open_until.load(Ordering::Acquire);
        if until == 0 {
            return true;
        }
        // Half-open: one request at a time probes.
        now_ms() >= until && !self.probing.swap(true, Ordering::AcqRel)
    }
}

/// The Redis layer.
#[derive(Clone)]
pub struct Redis {
    pool: Pool,
    subscriber: SubscriberClient,
    options: Options,
    timeout: Duration,
    breaker: Arc<Breaker>,
    metrics: CacheMetrics,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis").finish_non_exhaustive()
    }
}

impl Redis {
    /// Builds the clients and starts connecting in the background: the
    /// service starts whether or not Redis answers.
    pub fn connect(
        url: &SecretString,
        config: &CacheConfig,
        metrics: CacheMetrics,
    ) -> anyhow::Result<Self> {
        let redis_config = Config::from_url(url.expose_secret())
            .map_err(|error| anyhow::anyhow!("REDIS_URL is not a Redis URL: {error}"))?;
        let mut builder = Builder::from_config(redis_config);
        builder
            .with_connection_config(|connection| {
                connection.connection_timeout = Duration::from_secs(2);
                connection.internal_command_timeout = Duration::from_secs(2);
                connection.max_command_attempts = 1;
                connection.max_command_buffer_len = COMMAND_BUFFER;
            })
            .with_performance_config(|performance| {
                performance.default_command_timeout = config.redis_timeout;
            })
            .set_policy(ReconnectPolicy::new_exponential(
                0,
                RECONNECT_MIN_MS,
                RECONNECT_MAX_MS,
                2,
            ));
        let pool = builder.build_pool(config.redis_pool_size)?;
        let subscriber = builder.build_subscriber_client()?;
        // connect(), not init(): init fails when Redis is down at start.
        pool.connect();
        subscriber.connect();
        metrics.redis_available.set(1);
        Ok(Self {
            pool,
            subscriber,
            options: Options {
                timeout: Some(config.redis_timeout),
                fail_fast: true,
                max_attempts: Some(1),
                ..Options::default()
            },
            timeout: config.redis_timeout,
            breaker: Arc::new(Breaker::new()),
            metrics,
        })
    }

    /// Waits (briefly) for the first connection, for a start-up log line.
    pub async fn wait_connected(&self, within: Duration) -> bool {
        tokio::time::timeout(within, self.pool.wait_for_connect())
            .await
            .is_ok_and(|result| result.is_ok())
    }

    /// Whether the breaker lets commands through now.
    pub fn available(&self) -> bool {
        self.breaker.open_until.load(Ordering::Acquire) == 0
    }

    /// Runs one command under the breaker and the timeout; `None` when
    /// Redis is skipped or fails (recorded, and logged on state changes).
    async fn run<T>(
        &self,
        operation: &'static str,
        command: impl std::future::Future<Output = Result<T, fred::error::Error>>,
    ) -> Option<T> {
        if !self.breaker.allows() {
            return None;
        }
        // fred's own timeout applies once the command is queued; this one
        // also bounds waiting for a pool slot.
        let outcome = tokio::time::timeout(self.timeout + Duration::from_millis(5), command).await;
        match outcome {
            Ok(Ok(value)) => {
                self.succeeded();
                Some(value)
            }
            Ok(Err(error)) => {
                self.failed(operation, &error.to_string());
                None
            }
            Err(_) => {
                self.failed(operation, "timed out");
                None
            }
        }
    }

    fn succeeded(&self) {
        self.breaker.failures.store(0, Ordering::Release);
        if self.breaker.open_until.swap(0, Ordering::AcqRel) != 0 {
            self.breaker.probing.store(false, Ordering::Release);
            self.metrics.redis_available.set(1);
            tracing::info!("Redis answers again: shared caching resumed");
        }
    }

    fn failed(&self, operation: &'static str, reason: &str) {
        self.metrics.redis_error(operation);
        self.breaker.probing.store(false, Ordering::Release);
        let failures = self.breaker.failures.fetch_add(1, Ordering::AcqRel) + 1;
        if failures >= FAILURES_TO_OPEN {
            let was = self
                .breaker
                .open_until
                .swap(now_ms() + OPEN_FOR.as_millis() as i64, Ordering::AcqRel);
            if was == 0 {
                self.metrics.redis_available.set(0);
                tracing::warn!(
                    operation,
                    reason,
                    "Redis unavailable: caching in process only until it answers"
                );
            }
        } else {
            tracing::debug!(operation, reason, "Redis command failed");
        }
    }

    fn client(&self) -> fred::clients::WithOptions<Client> {
        self.pool.next().with_options(&self.options)
    }

    pub async fn get(&self, key: &str) -> Option<Option<Bytes>> {
        self.run("get", self.client().get::<Option<Bytes>, _>(key))
            .await
    }

    /// Stores `value` under `key` for `ttl`.
    pub async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> bool {
        let client = self.client();
        let set = client.set::<(), _, _>(
            key,
            value,
            Some(Expiration::PX(ttl.as_millis() as i64)),
            None,
            false,
        );
        self.run("set", set).await.is_some()
    }

    /// Values of `keys`, in order (`None` for each missing one).
    pub async fn mget(&self, keys: Vec<String>) -> Option<Vec<Option<Bytes>>> {
        if keys.is_empty() {
            return Some(Vec::new());
        }
        if keys.len() == 1 {
            return self.get(&keys[0]).await.map(|value| vec![value]);
        }
        self.run("mget", self.client().mget::<Vec<Option<Bytes>>, _>(keys))
            .await
    }

    /// Stores `value` under `key` with its tags, unless one of the tags'
    /// versions moved past `versions`. Returns whether it was stored.
    pub async fn set_if_fresh(
        &self,
        key: &str,
        value: Bytes,
        ttl: Duration,
        tag_members: &[String],
        tag_versions: &[String],
        versions: &[String],
    ) -> bool {
        let mut keys = vec![key.to_owned()];
        keys.extend_from_slice(tag_members);
        keys.extend_from_slice(tag_versions);
        let mut args: Vec<Value> = vec![
            Value::Bytes(value),
            Value::Integer(ttl.as_millis() as i64),
            Value::Integer(tag_members.len() as i64),
        ];
        args.extend(versions.iter().map(|version| Value::from(version.as_str())));
        self.run(
            "set",
            self.client().eval::<i64, _, _, _>(SET_IF_FRESH, keys, args),
        )
        .await
        .is_some_and(|stored| stored == 1)
    }

    /// Deletes the tags' entries and raises their versions.
    pub async fn invalidate(&self, tag_members: &[String], tag_versions: &[String]) -> bool {
        let mut keys = tag_members.to_vec();
        keys.extend_from_slice(tag_versions);
        self.run(
            "invalidate",
            self.client()
                .eval::<i64, _, _, Vec<Value>>(INVALIDATE, keys, Vec::new()),
        )
        .await
        .is_some()
    }

    /// Takes the lock `key` for `ttl` if free (`Some(false)` when another
    /// instance holds it, `None` when Redis did not answer).
    pub async fn lock(&self, key: &str, token: &str, ttl: Duration) -> Option<bool> {
        let client = self.client();
        let set = client.set::<Option<String>, _, _>(
            key,
            token,
            Some(Expiration::PX(ttl.as_millis() as i64)),
            Some(SetOptions::NX),
            false,
        );
        self.run("lock", set).await.map(|reply| reply.is_some())
    }

    pub async fn unlock(&self, key: &str, token: &str) {
        let _ = self
            .run(
                "unlock",
                self.client().eval::<i64, _, _, _>(
                    UNLOCK,
                    vec![key.to_owned()],
                    vec![token.to_owned()],
                ),
            )
            .await;
    }

    /// Runs a Lua script of another module (the rate limiter's) under the
    /// same timeout and breaker.
    pub async fn eval<T>(
        &self,
        operation: &'static str,
        script: &'static str,
        keys: Vec<String>,
        args: Vec<Value>,
    ) -> Option<T>
    where
        T: FromValue + Send,
    {
        self.run(
            operation,
            self.client().eval::<T, _, _, _>(script, keys, args),
        )
        .await
    }

    /// Publishes `message`; returns how many subscribers received it.
    pub async fn publish(&self, channel: &str, message: String) -> Option<u64> {
        self.run(
            "publish",
            self.client().publish::<u64, _, _>(channel, message),
        )
        .await
    }

    /// Subscribes to `channels` and calls `handle` with each message's
    /// channel and text; subscribes again after every reconnection (fred
    /// tracks only subscriptions that succeeded, so one tried while Redis is
    /// down would otherwise never be made).
    pub fn subscribe(
        &self,
        channels: Vec<String>,
        handle: impl Fn(String, String) + Send + Sync + 'static,
    ) {
        let mut messages = self.subscriber.message_rx();
        tokio::spawn(async move {
            loop {
                match messages.recv().await {
                    Ok(message) => {
                        if let Ok(text) = message.value.convert::<String>() {
                            handle(message.channel.to_string(), text);
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "cache invalidation messages dropped");
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        let subscriber = self.subscriber.clone();
        tokio::spawn(async move {
            let mut reconnections = subscriber.reconnect_rx();
            loop {
                while let Err(error) = subscriber.subscribe(channels.clone()).await {
                    tracing::debug!(%error, "subscribing to cache invalidations failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                if reconnections.recv().await.is_err() {
                    break;
                }
            }
        });
    }
}
