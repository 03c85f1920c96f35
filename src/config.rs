//! Settings, read once from the environment (and a `.env` file where present)
//! into a typed [`Config`]. A bad value stops start-up with a message naming
//! the variable and what it accepts.
//!
//! | variable | default | what |
//! |---|---|---|
//! | `DATABASE_URL` | unset: embedded | PostgreSQL to use; unset runs a private one under `FULEXO_DATA_DIR` |
//! | `REDIS_URL` | unset | Redis for the shared cache; unset caches in process only |
//! | `JWT_SECRET` | generated under `FULEXO_DATA_DIR` (not in production) | HS256 secret tokens are signed with |
//! | `LISTEN_ADDR` | `127.0.0.1:8080` | address the HTTP server binds |
//! | `FULEXO_ENV` | `development` | `development` or `production` |
//! | `FULEXO_DATA_DIR` | `.data` | embedded PostgreSQL and generated secrets |
//! | `DATABASE_POOL_SIZE` | `25` | connections in the pool (the platform guide's `connection_limit`) |
//! | `DATABASE_POOL_TIMEOUT` | `10s` | longest wait for a pooled connection (the guide's `pool_timeout`) |
//! | `DATABASE_STATEMENT_TIMEOUT` | `10s` | PostgreSQL `statement_timeout` of every pooled connection |
//! | `DATALOADER_DELAY` | `2ms` | how long a DataLoader gathers keys before sending one statement |
//! | `REQUEST_BODY_LIMIT` | `2MB` | largest request body accepted |
//! | `GRAPHIQL_DEMO_TENANT` | `demo` (unset in production) | tenant whose token `/graphiql` pre-fills |
//! | `CACHE_ENABLED` | `true` | resolver-level caching on or off |
//! | `CACHE_L1_CAPACITY` | `100MB` | in-process cache size (by the values' encoded size) |
//! | `CACHE_L1_TTL` | `60s` | longest an entry stays in process |
//! | `CACHE_TTL` | `300s` | an entry's life in Redis, unless its resolver says otherwise |
//! | `CACHE_KEY_PREFIX` | `fulexo` | first part of every Redis key and channel |
//! | `CACHE_WARM_INTERVAL` | `15m` | how often the dashboard keys are recomputed (`0s`: never) |
//! | `PERSISTED_QUERIES` | `allow_all` (`log_unknown` in production) | which free-form documents run: `allow_all`, `log_unknown`, `safelist`, `ids_only` |
//! | `PERSISTED_RELOAD_INTERVAL` | `5s` | how often registered documents are checked for changes |
//! | `REDIS_POOL_SIZE` | `4` | Redis connections |
//! | `REDIS_TIMEOUT` | `25ms` | longest a Redis command may take before the cache answers without it |
//!
//! Durations take units (`250ms`, `10s`); sizes take `KB`/`MB`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use secrecy::SecretString;

use crate::persisted::SafelistMode;

/// Where the service listens unless `LISTEN_ADDR` says otherwise (contract).
pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:8080";
/// The platform guide's `connection_limit`.
pub const DEFAULT_POOL_SIZE: u32 = 25;
/// The platform guide's `pool_timeout`.
pub const DEFAULT_POOL_TIMEOUT: Duration = Duration::from_secs(10);
/// Long enough for the dashboard's aggregates over a large tenant, short
/// enough that a runaway statement frees its connection well before a client
/// gives up.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);
/// Measured with `cargo run --release --example loader_delay`: see README.
pub const DEFAULT_DATALOADER_DELAY: Duration = Duration::from_millis(2);
/// Apollo Router's default body limit.
pub const DEFAULT_REQUEST_BODY_LIMIT: usize = 2 * 1024 * 1024;
pub const DEFAULT_DATA_DIR: &str = ".data";
/// The platform guide's L1: 100 MB, 60 s; its L2: 300 s.
pub const DEFAULT_L1_CAPACITY: u64 = 100 * 1024 * 1024;
pub const DEFAULT_L1_TTL: Duration = Duration::from_secs(60);
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);
pub const DEFAULT_CACHE_KEY_PREFIX: &str = "fulexo";
/// The platform guide's warming schedule.
pub const DEFAULT_WARM_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// Enough for concurrent requests' cache calls on 2 cores; Redis itself is
/// single-threaded, more connections would only queue there.
pub const DEFAULT_REDIS_POOL_SIZE: usize = 4;
/// A local Redis answers in well under a millisecond and a remote one in a
/// few; past this, answering from PostgreSQL is the better deal.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(25);
pub const DEFAULT_DEMO_TENANT: &str = "demo";
/// The platform guide's API timeout: long enough for any page the limits
/// allow, short enough that a stuck request frees its connection.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether the service runs for developers or for real traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// Every setting the service reads.
#[derive(Debug, Clone)]
pub struct Config {
    /// `None` means: run the embedded PostgreSQL under `data_dir`.
    pub database_url: Option<SecretString>,
    pub redis_url: Option<SecretString>,
    /// `None` means: use (or create) the secret file under `data_dir`.
    pub jwt_secret: Option<SecretString>,
    pub listen_addr: SocketAddr,
    pub environment: Environment,
    pub data_dir: PathBuf,
    pub pool: PoolConfig,
    pub dataloader_delay: Duration,
    pub request_body_limit: usize,
    /// Tenant slug whose token `/graphiql` pre-fills; `None` pre-fills nothing.
    pub graphiql_demo_tenant: Option<String>,
    pub cache: CacheConfig,
    pub persisted_queries: SafelistMode,
    pub persisted_reload_interval: Duration,
    /// The document limits every free-form request is checked against.
    pub limits: Limits,
    pub rate_limits: RateLimits,
    /// A request still running after this is stopped and answered with an
    /// error.
    pub request_timeout: Duration,
    /// Whether `__schema` and `__type` answer (off by default in production).
    pub introspection: bool,
    /// Whether validation errors suggest names ("did you mean …"; off by
    /// default in production: they reveal the schema bit by bit).
    pub field_suggestions: bool,
    pub http: HttpConfig,
}

/// What a document may ask for: see the README's "Limits".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Cost units of one request, or of a batch's parts together.
    pub max_cost: usize,
    /// Nested fields, outside introspection.
    pub max_depth: usize,
    /// Nested fields under `__schema` or `__type`.
    pub max_introspection_depth: usize,
    /// Nested selection sets, fragments included.
    pub max_recursion: usize,
    pub max_aliases: usize,
    pub max_root_fields: usize,
    pub max_directives: usize,
    pub max_tokens: usize,
    pub max_document_bytes: usize,
    pub max_batch: usize,
}

impl Default for Limits {
    /// Set from what the contract's operations need at `first: 100` (see
    /// `tests/api/limits.rs`), with room for the frontend to grow, and from
    /// GraphiQL's introspection query.
    fn default() -> Self {
        Self {
            max_cost: 15_000,
            max_depth: 8,
            max_introspection_depth: 20,
            max_recursion: 24,
            max_aliases: 15,
            max_root_fields: 10,
            max_directives: 5,
            max_tokens: 1_000,
            max_document_bytes: 32 * 1024,
            max_batch: 10,
        }
    }
}

/// Cost units per minute a tenant, and one token, may spend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    pub enabled: bool,
    /// Every token of a tenant together (tenants may have their own,
    /// `tenant_rate_limits`).
    pub tenant_per_minute: u64,
    /// One token (one user's session or integration).
    pub token_per_minute: u64,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            enabled: true,
            tenant_per_minute: 3_000_000,
            token_per_minute: 1_000_000,
        }
    }
}

/// Response headers for browsers.
#[derive(Debug, Clone, Default)]
pub struct HttpConfig {
    /// Origins whose pages may call the API (`CORS_ALLOWED_ORIGINS`, comma
    /// separated, `*` for any); none by default.
    pub cors_allowed_origins: Vec<String>,
    /// `Strict-Transport-Security` max-age; sent only behind TLS, so off by
    /// default in development.
    pub hsts_max_age: Option<Duration>,
}

/// The resolver cache: in process (L1) and, with `REDIS_URL`, in Redis (L2).
#[derive(Debug, Clone)]
pub struct CacheConfig {
    pub enabled: bool,
    pub l1_capacity_bytes: u64,
    pub l1_ttl: Duration,
    pub default_ttl: Duration,
    pub key_prefix: String,
    pub warm_interval: Duration,
    pub redis_pool_size: usize,
    pub redis_timeout: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            l1_capacity_bytes: DEFAULT_L1_CAPACITY,
            l1_ttl: DEFAULT_L1_TTL,
            default_ttl: DEFAULT_CACHE_TTL,
            key_prefix: DEFAULT_CACHE_KEY_PREFIX.into(),
            warm_interval: DEFAULT_WARM_INTERVAL,
            redis_pool_size: DEFAULT_REDIS_POOL_SIZE,
            redis_timeout: DEFAULT_REDIS_TIMEOUT,
        }
    }
}

/// How the PostgreSQL pool is sized and how long it waits.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    pub max_size: u32,
    pub connection_timeout: Duration,
    pub statement_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_size: DEFAULT_POOL_SIZE,
            connection_timeout: DEFAULT_POOL_TIMEOUT,
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
        }
    }
}

impl Config {
    /// Reads `.env` (if any) and then the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(error) if error.not_found() => {}
            Err(error) => return Err(error).context("reading .env"),
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any variable source (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let var = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let environment = match var("FULEXO_ENV").as_deref() {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(other) => {
                bail!("FULEXO_ENV must be `development` or `production`, not `{other}`")
            }
        };
        let jwt_secret = var("JWT_SECRET").map(SecretString::from);
        if environment == Environment::Production && jwt_secret.is_none() {
            bail!("JWT_SECRET must be set when FULEXO_ENV=production");
        }
        let graphiql_demo_tenant = match var("GRAPHIQL_DEMO_TENANT") {
            Some(slug) => Some(slug),
            None if environment == Environment::Development => Some(DEFAULT_DEMO_TENANT.into()),
            None => None,
        };

        let production = environment == Environment::Production;
        let defaults = Limits::default();
        let limit = |name: &str, default: usize| {
            parse(&var, name, default, |v| {
                let value: usize = v.parse().context("expected a whole number")?;
                anyhow::ensure!(value > 0, "expected at least 1");
                Ok(value)
            })
        };
        let limits = Limits {
            max_cost: limit("LIMIT_COST", defaults.max_cost)?,
            max_depth: limit("LIMIT_DEPTH", defaults.max_depth)?,
            max_introspection_depth: limit(
                "LIMIT_INTROSPECTION_DEPTH",
                defaults.max_introspection_depth,
            )?,
            max_recursion: limit("LIMIT_RECURSION", defaults.max_recursion)?,
            max_aliases: limit("LIMIT_ALIASES", defaults.max_aliases)?,
            max_root_fields: limit("LIMIT_ROOT_FIELDS", defaults.max_root_fields)?,
            max_directives: limit("LIMIT_DIRECTIVES", defaults.max_directives)?,
            max_tokens: limit("LIMIT_TOKENS", defaults.max_tokens)?,
            max_document_bytes: parse(
                &var,
                "LIMIT_DOCUMENT_SIZE",
                defaults.max_document_bytes,
                byte_size,
            )?,
            max_batch: limit("LIMIT_BATCH", defaults.max_batch)?,
        };
        let rate_defaults = RateLimits::default();
        let per_minute = |name: &str, default: u64| {
            parse(&var, name, default, |v| {
                let value: u64 = v.parse().context("expected cost units per minute")?;
                anyhow::ensure!(value > 0, "expected at least 1");
                Ok(value)
            })
        };
        let rate_limits = RateLimits {
            enabled: parse(&var, "RATE_LIMIT_ENABLED", true, boolean)?,
            tenant_per_minute: per_minute(
                "RATE_LIMIT_TENANT_PER_MINUTE",
                rate_defaults.tenant_per_minute,
            )?,
            token_per_minute: per_minute(
                "RATE_LIMIT_TOKEN_PER_MINUTE",
                rate_defaults.token_per_minute,
            )?,
        };
        let http = HttpConfig {
            cors_allowed_origins: parse(&var, "CORS_ALLOWED_ORIGINS", Vec::new(), |origins| {
                origins
                    .split(',')
                    .map(str::trim)
                    .filter(|origin| !origin.is_empty())
                    .map(|origin| {
                        let valid = origin == "*"
                            || ((origin.starts_with("https://") || origin.starts_with("http://"))
                                && http::HeaderValue::from_str(origin).is_ok()
                                && !origin.ends_with('/'));
                        anyhow::ensure!(
                            valid,
                            "`{origin}` is not an origin: expected e.g. https://app.example.com (no path), or *"
                        );
                        Ok(origin.to_owned())
                    })
                    .collect()
            })?,
            hsts_max_age: match var("HSTS_MAX_AGE") {
                Some(value) if value.trim() == "off" => None,
                Some(value) => Some(
                    duration(value.trim())
                        .with_context(|| format!("invalid HSTS_MAX_AGE=`{value}` (or `off`)"))?,
                ),
                None if production => Some(Duration::from_secs(365 * 24 * 3600)),
                None => None,
            },
        };

        Ok(Self {
            limits,
            rate_limits,
            request_timeout: parse(&var, "REQUEST_TIMEOUT", DEFAULT_REQUEST_TIMEOUT, duration)?,
            introspection: parse(&var, "INTROSPECTION_ENABLED", !production, boolean)?,
            field_suggestions: parse(&var, "FIELD_SUGGESTIONS", !production, boolean)?,
            http,
            database_url: var("DATABASE_URL").map(SecretString::from),
            redis_url: var("REDIS_URL").map(SecretString::from),
            jwt_secret,
            listen_addr: parse(&var, "LISTEN_ADDR", DEFAULT_LISTEN_ADDR.parse()?, |v| {
                v.parse().context("expected host:port, e.g. 127.0.0.1:8080")
            })?,
            environment,
            data_dir: var("FULEXO_DATA_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            pool: PoolConfig {
                max_size: parse(&var, "DATABASE_POOL_SIZE", DEFAULT_POOL_SIZE, |v| {
                    let size: u32 = v.parse().context("expected a whole number")?;
                    anyhow::ensure!(size > 0, "expected at least 1");
                    Ok(size)
                })?,
                connection_timeout: parse(
                    &var,
                    "DATABASE_POOL_TIMEOUT",
                    DEFAULT_POOL_TIMEOUT,
                    duration,
                )?,
                statement_timeout: parse(
                    &var,
                    "DATABASE_STATEMENT_TIMEOUT",
                    DEFAULT_STATEMENT_TIMEOUT,
                    duration,
                )?,
            },
            dataloader_delay: parse(&var, "DATALOADER_DELAY", DEFAULT_DATALOADER_DELAY, duration)?,
            request_body_limit: parse(
                &var,
                "REQUEST_BODY_LIMIT",
                DEFAULT_REQUEST_BODY_LIMIT,
                byte_size,
            )?,
            graphiql_demo_tenant,
            persisted_queries: parse(
                &var,
                "PERSISTED_QUERIES",
                match environment {
                    Environment::Development => SafelistMode::AllowAll,
                    Environment::Production => SafelistMode::LogUnknown,
                },
                |value| {
                    SafelistMode::parse(value)
                        .context("expected allow_all, log_unknown, safelist or ids_only")
                },
            )?,
            persisted_reload_interval: parse(
                &var,
                "PERSISTED_RELOAD_INTERVAL",
                Duration::from_secs(5),
                duration,
            )?,
            cache: CacheConfig {
                enabled: parse(&var, "CACHE_ENABLED", true, boolean)?,
                l1_capacity_bytes: parse(&var, "CACHE_L1_CAPACITY", DEFAULT_L1_CAPACITY, |v| {
                    byte_size(v).map(|size| size as u64)
                })?,
                l1_ttl: parse(&var, "CACHE_L1_TTL", DEFAULT_L1_TTL, duration)?,
                default_ttl: parse(&var, "CACHE_TTL", DEFAULT_CACHE_TTL, duration)?,
                key_prefix: var("CACHE_KEY_PREFIX")
                    .unwrap_or_else(|| DEFAULT_CACHE_KEY_PREFIX.into()),
                warm_interval: parse(&var, "CACHE_WARM_INTERVAL", DEFAULT_WARM_INTERVAL, duration)?,
                redis_pool_size: parse(&var, "REDIS_POOL_SIZE", DEFAULT_REDIS_POOL_SIZE, |v| {
                    let size: usize = v.parse().context("expected a whole number")?;
                    anyhow::ensure!(size > 0, "expected at least 1");
                    Ok(size)
                })?,
                redis_timeout: parse(&var, "REDIS_TIMEOUT", DEFAULT_REDIS_TIMEOUT, duration)?,
            },
        })
    }
}

fn parse<T>(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
    parse: impl Fn(&str) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    match var(name) {
        None => Ok(default),
        Some(value) => parse(value.trim()).with_context(|| format!("invalid {name}=`{value}`")),
    }
}

fn duration(value: &str) -> anyhow::Result<Duration> {
    humantime::parse_duration(value).context("expected a duration such as `500ms` or `10s`")
}

fn boolean(value: &str) -> anyhow::Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => bail!("expected true or false"),
    }
}

fn byte_size(value: &str) -> anyhow::Result<usize> {
    let upper = value.to_ascii_uppercase();
    let (number, unit) = match upper.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => upper.split_at(at),
        None => (upper.as_str(), ""),
    };
    let number: usize = number
        .parse()
        .context("expected a size such as `512KB` or `2MB`")?;
    let unit = match unit.trim() {
        "" | "B" => 1,
        "KB" | "K" | "KIB" => 1024,
        "MB" | "M" | "MIB" => 1024 * 1024,
        other => bail!("unknown size unit `{other}`: use B, KB or MB"),
    };
    Ok(number * unit)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn an_empty_environment_gives_the_documented_defaults() {
        let config = config(&[]).unwrap();
        assert!(config.database_url.is_none());
        assert_eq!(config.listen_addr.to_string(), DEFAULT_LISTEN_ADDR);
        assert_eq!(config.pool.max_size, 25);
        assert_eq!(config.pool.connection_timeout, Duration::from_secs(10));
        assert_eq!(config.graphiql_demo_tenant.as_deref(), Some("demo"));
        assert_eq!(config.environment, Environment::Development);
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let error = config(&[("DATABASE_POOL_TIMEOUT", "soon")]).unwrap_err();
        assert!(format!("{error:#}").contains("DATABASE_POOL_TIMEOUT"));
        let error = config(&[("DATABASE_POOL_SIZE", "0")]).unwrap_err();
        assert!(format!("{error:#}").contains("DATABASE_POOL_SIZE"));
    }

    #[test]
    fn production_requires_a_secret_and_prefills_no_token() {
        assert!(config(&[("FULEXO_ENV", "production")]).is_err());
        let config = config(&[("FULEXO_ENV", "production"), ("JWT_SECRET", "s")]).unwrap();
        assert_eq!(config.graphiql_demo_tenant, None);
    }

    #[test]
    fn production_turns_off_introspection_and_suggestions_unless_asked() {
        let development = config(&[]).unwrap();
        assert!(development.introspection && development.field_suggestions);
        assert_eq!(development.http.hsts_max_age, None);
        let production = config(&[("FULEXO_ENV", "production"), ("JWT_SECRET", "s")]).unwrap();
        assert!(!production.introspection && !production.field_suggestions);
        assert!(production.http.hsts_max_age.is_some());
        let asked = config(&[
            ("FULEXO_ENV", "production"),
            ("JWT_SECRET", "s"),
            ("INTROSPECTION_ENABLED", "true"),
        ])
        .unwrap();
        assert!(asked.introspection);
    }

    #[test]
    fn cors_origins_are_checked() {
        let config = config(&[(
            "CORS_ALLOWED_ORIGINS",
            "https://app.example.com, http://localhost:5173",
        )])
        .unwrap();
        assert_eq!(
            config.http.cors_allowed_origins,
            ["https://app.example.com", "http://localhost:5173"]
        );
        let error = super::Config::from_lookup(|name| {
            (name == "CORS_ALLOWED_ORIGINS").then(|| "app.example.com/path".into())
        })
        .unwrap_err();
        assert!(format!("{error:#}").contains("CORS_ALLOWED_ORIGINS"));
    }

    #[test]
    fn limits_are_read_and_checked() {
        let config = config(&[("LIMIT_COST", "500"), ("LIMIT_DOCUMENT_SIZE", "8KB")]).unwrap();
        assert_eq!(config.limits.max_cost, 500);
        assert_eq!(config.limits.max_document_bytes, 8 * 1024);
        assert_eq!(config.limits.max_depth, Limits::default().max_depth);
        let error = super::Config::from_lookup(|name| (name == "LIMIT_DEPTH").then(|| "0".into()))
            .unwrap_err();
        assert!(format!("{error:#}").contains("LIMIT_DEPTH"));
    }

    #[test]
    fn sizes_accept_units() {
        assert_eq!(byte_size("2MB").unwrap(), 2 * 1024 * 1024);
        assert_eq!(byte_size("512kb").unwrap(), 512 * 1024);
        assert_eq!(byte_size("100").unwrap(), 100);
        assert!(byte_size("2GB").is_err());
    }
}
