//! `fulexo serve`: migrate, load demo data into a fresh embedded database,
//! then serve until SIGTERM or ctrl-c, letting in-flight requests finish.

use anyhow::Context;
use tokio::net::TcpListener;

use crate::app::AppState;
use crate::auth::{self, JwtKeys};
use crate::cache;
use crate::config::Config;
use crate::db::{Database, DatabaseTarget, migrations};
use crate::seed::{self, SeedOptions};

/// The demo data of a fresh embedded database: a few tenants, tens of
/// thousands of orders (loads in seconds).
const DEMO_TENANTS: u32 = 3;
const DEMO_ORDERS_PER_TENANT: u32 = 10_000;
/// How soon a tenant's new rate limit (`fulexo rate-limit`) applies.
const RATE_LIMIT_RELOAD_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let target = DatabaseTarget::open(&config).await?;
    let result = serve_on(&config, &target).await;
    target.close().await?;
    result
}

async fn serve_on(config: &Config, target: &DatabaseTarget) -> anyhow::Result<()> {
    let applied = migrations::run_pending(&target.url).await?;
    if !applied.is_empty() {
        tracing::info!(versions = ?applied, "migrations applied");
    }
    if target.is_embedded() && seed::is_empty(&target.url).await? {
        tracing::info!("fresh embedded database: loading demo data");
        let options = SeedOptions {
            tenants: DEMO_TENANTS,
            orders: DEMO_ORDERS_PER_TENANT,
            now: seed::default_now(),
            replace: false,
        };
        let report = seed::run(&target.url, &options, true).await?;
        tracing::info!("{report}");
    }

    let database = Database::connect(&target.url, &config.pool)?;
    database.check().await?;
    let secret = auth::resolve_secret(config.jwt_secret.as_ref(), &config.data_dir)?;
    let state = AppState::new(config.clone(), database, JwtKeys::new(&secret)).await?;
    match state.cache.redis() {
        None => tracing::info!("REDIS_URL is not set: caching in process only"),
        Some(redis) => {
            if redis
                .wait_connected(std::time::Duration::from_secs(2))
                .await
            {
                tracing::info!("caching in process and in Redis");
            } else {
                tracing::warn!("Redis does not answer: caching in process until it does");
            }
        }
    }
    if config.cache.enabled {
        cache::warm::spawn(
            state.database.clone(),
            state.cache.clone(),
            config.cache.warm_interval,
        );
    }

    state
        .rate_limiter
        .spawn_reload(state.database.clone(), RATE_LIMIT_RELOAD_INTERVAL);

    let listener = TcpListener::bind(config.listen_addr)
        .await
        .with_context(|| {
            format!(
                "binding {} (set LISTEN_ADDR to use another address)",
                config.listen_addr
            )
        })?;
    let address = listener.local_addr()?;
    tracing::info!(%address, "serving");
    println!("GraphQL:  http://{address}/graphql");
    println!("GraphiQL: http://{address}/graphiql");
    if let Some(viewer) = state.demo_viewer {
        let token = state
            .jwt
            .issue(viewer, std::time::Duration::from_secs(24 * 3600))?;
        println!("Demo token (24 h): {token}");
    }
    axum::serve(listener, crate::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving HTTP")?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on ctrl-c or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
