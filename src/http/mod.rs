//! HTTP: the axum router and its layers ([`router`]), the GraphQL endpoint
//! ([`graphql`]), authentication, content negotiation, health and GraphiQL.

pub mod auth;
pub mod compress;
pub mod graphiql;
pub mod graphql;
pub mod health;
pub mod http_cache;
pub mod media;
pub mod metrics;
pub mod observe;
pub mod params;
pub mod security;

use axum::Router;
use axum::routing::get;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use crate::app::AppState;

/// Responses smaller than this are sent as they are: compressing them
/// costs more time than it saves bytes (the platform guide's threshold).
const COMPRESSION_THRESHOLD: u16 = 1024;
/// Level 2 of each encoder (`examples/compression`, on an `OrdersPage(first:
/// 50)` body of 38 kB): zstd, which current browsers ask for first,
/// compresses it in 43 µs (level 1) to 70 µs (level 3) to 26% of its
/// size; brotli 2 in 141 µs to
/// 25.7%, where brotli 4 took 239 µs for 25.2% and its default (11) took a
/// sixth of the benchmark's CPU. Every microsecond here is the service's
/// CPU, which PostgreSQL needs on a loaded host. GraphQL answers in zstd
/// are compressed by [`compress`], at its level 1.
const COMPRESSION_LEVEL: i32 = 2;

/// The service's routes (contract: `../shared/contract/README.md`).
pub fn router(state: AppState) -> Router {
    let graphql = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::observe,
        ));
    let api = security::api_headers(
        graphql
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
                .zstd(true)
                .quality(CompressionLevel::Precise(COMPRESSION_LEVEL))
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(COMPRESSION_THRESHOLD))),
        )
        // Every request gets an id (or keeps the one it came with), in its
        // log lines' span and in the response's `x-request-id`.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// The span of one request: method, path and the request id, so that every
/// log line of the request carries the id the client sees.
fn request_span(request: &http::Request<axum::body::Body>) -> tracing::Span {
    let id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %id,
    )
}
