//! HTTP: the axum router and its layers ([`router`]), the GraphQL endpoint
//! ([`graphql`]), authentication, content negotiation, health and GraphiQL.

pub mod auth;
pub mod graphiql;
pub mod graphql;
pub mod health;
pub mod http_cache;
pub mod media;
pub mod metrics;
pub mod params;
pub mod security;

use axum::Router;
use axum::routing::get;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::trace::TraceLayer;

use crate::app::AppState;

/// Responses smaller than this are sent as they are: compressing them
/// costs more time than it saves bytes (the platform guide's threshold).
const COMPRESSION_THRESHOLD: u16 = 1024;
/// gzip 4 and brotli 4: brotli's default (11) took a sixth of the CPU of an
/// `OrdersPage` benchmark by itself; at 4 both stay cheap and brotli still
/// beats gzip 6 on size.
const COMPRESSION_LEVEL: CompressionLevel = CompressionLevel::Precise(4);

/// The service's routes (contract: `../shared/contract/README.md`).
pub fn router(state: AppState) -> Router {
    let api = security::api_headers(
        Router::new()
            .route("/graphql", get(graphql::get).post(graphql::post))
            .route("/healthz", get(health::healthz))
            .route("/readyz", get(health::readyz))
            .route("/metrics", get(metrics::metrics)),
    );
    let router = api.route("/graphiql", get(graphiql::graphiql));
    security::layers(router, &state.config.http)
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .br(true)
                .quality(COMPRESSION_LEVEL)
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(COMPRESSION_THRESHOLD))),
        )
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
