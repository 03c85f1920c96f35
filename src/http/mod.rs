//! HTTP: the axum router and its layers ([`router`]), the GraphQL endpoint
//! ([`graphql`]), authentication, content negotiation, health and GraphiQL.

pub mod auth;
pub mod graphiql;
pub mod graphql;
pub mod health;
pub mod media;
pub mod metrics;

use axum::Router;
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::trace::TraceLayer;

use crate::app::AppState;

/// Responses smaller than this are sent as they are: compressing them
/// costs more time than it saves bytes (the platform guide's threshold).
const COMPRESSION_THRESHOLD: u16 = 1024;

/// The service's routes (contract: `../shared/contract/README.md`).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphiql", get(graphiql::graphiql))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .br(true)
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(COMPRESSION_THRESHOLD))),
        )
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
