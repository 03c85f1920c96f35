//! [`AppState`]: what every request shares: settings, the pool, the
//! schema, the token keys. Built once by [`AppState::new`]; tests build it
//! the same way.

use std::ops::Deref;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::auth::{JwtKeys, Role, Viewer};
use crate::cache::Cache;
use crate::cache::redis::Redis;
use crate::config::Config;
use crate::db::models::{Tenant, User};
use crate::db::{Database, TenantId};
use crate::graphql::{AppSchema, SchemaOptions, build_checking_schema, build_executing_schema};
use crate::guard::Guard;
use crate::guard::rate::RateLimiter;
use crate::metrics::Metrics;
use crate::persisted::Documents;
use crate::persisted::apq::ApqStore;

#[derive(Clone)]
pub struct AppState(Arc<AppInner>);

pub struct AppInner {
    pub config: Config,
    pub database: Database,
    /// Runs documents, once [`Guard`] has checked them.
    pub schema: AppSchema,
    pub guard: Guard,
    pub rate_limiter: RateLimiter,
    pub jwt: JwtKeys,
    /// Whose token `/graphiql` pre-fills; `None` when there is no demo tenant.
    pub demo_viewer: Option<Viewer>,
    pub cache: Cache,
    pub metrics: Metrics,
    pub documents: Documents,
}

impl Deref for AppState {
    type Target = AppInner;

    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl AppState {
    pub async fn new(config: Config, database: Database, jwt: JwtKeys) -> anyhow::Result<Self> {
        let demo_viewer = match &config.graphiql_demo_tenant {
            Some(slug) => demo_viewer(&database, slug).await?,
            None => None,
        };
        let options = SchemaOptions {
            introspection: config.introspection,
            field_suggestions: config.field_suggestions,
        };
        let schema = build_executing_schema(options);
        let metrics = Metrics::new(database.clone());
        let guard = Guard::new(
            config.limits.clone(),
            config.introspection,
            build_checking_schema(options, false),
            build_checking_schema(options, true),
            metrics.guard.clone(),
        );
        let redis = match &config.redis_url {
            Some(url) => Some(Redis::connect(url, &config.cache, metrics.cache.clone())?),
            None => None,
        };
        let cache = Cache::new(
            config.cache.clone(),
            redis.clone(),
            &schema_version(&schema.sdl()),
            metrics.cache.clone(),
        );
        let documents = Documents::new(
            build_checking_schema(options, false),
            database.clone(),
            config.persisted_queries,
            ApqStore::new(redis.clone(), cache.keys().clone()),
        );
        documents.reload_if_changed().await?;
        let rate_limiter =
            RateLimiter::new(config.rate_limits.clone(), redis, cache.keys().clone());
        rate_limiter.reload(&database).await?;
        Ok(Self(Arc::new(AppInner {
            config,
            database,
            schema,
            guard,
            rate_limiter,
            jwt,
            demo_viewer,
            cache,
            metrics,
            documents,
        })))
    }
}

/// The demo tenant's administrator, so that GraphiQL can try mutations too.
async fn demo_viewer(database: &Database, slug: &str) -> anyhow::Result<Option<Viewer>> {
    let mut connection = database.get().await?;
    let Some(tenant) = Tenant::find_by_slug(&mut connection, slug).await? else {
        tracing::info!(slug, "no demo tenant: /graphiql starts without a token");
        return Ok(None);
    };
    let tenant = TenantId(tenant.id);
    let user = User::first_with_role(&mut connection, tenant, Role::Admin).await?;
    Ok(user.map(|user| Viewer {
        user_id: user.id,
        tenant,
        role: Role::Admin,
    }))
}

/// Changes whenever the shape of a cached value may: the schema and the
/// service's version, hashed.
fn schema_version(sdl: &str) -> String {
    let digest = Sha256::new()
        .chain_update(sdl.as_bytes())
        .chain_update(env!("CARGO_PKG_VERSION").as_bytes())
        .finalize();
    hex::encode(&digest[..6])
}
