//! Response headers for browsers: what a page may do with the API's
//! answers (security headers), and which other origins' pages may call it
//! (CORS). Both come from settings ([`HttpConfig`]); the defaults are the
//! strict ones.

use std::time::Duration;

use axum::Router;
use http::header::{
    AUTHORIZATION, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH, REFERRER_POLICY,
    RETRY_AFTER, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::{HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::HttpConfig;
use crate::http::graphql::INCLUDE_COST_HEADER;

/// How long a browser may reuse a CORS preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(3600);

/// The API's answers are data, never pages: nothing in them may load or
/// run, and no page may frame them. (GraphiQL, a page, is outside this.)
pub fn api_headers<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(SetResponseHeaderLayer::overriding(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    ))
}

/// Headers on every response, and CORS when origins are allowed.
pub fn layers<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    config: &HttpConfig,
) -> Router<S> {
    let mut router = router
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ));
    if let Some(max_age) = config.hsts_max_age
        && let Ok(value) =
            HeaderValue::from_str(&format!("max-age={}; includeSubDomains", max_age.as_secs()))
    {
        router = router.layer(SetResponseHeaderLayer::overriding(
            STRICT_TRANSPORT_SECURITY,
            value,
        ));
    }
    if let Some(cors) = cors(&config.cors_allowed_origins) {
        router = router.layer(cors);
    }
    router
}

/// `None` when no other origin may call the API (browsers then allow
/// same-origin pages only). The origins were checked when the settings
/// were read.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow_origin = if origins.iter().any(|origin| origin == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                AUTHORIZATION,
                CONTENT_TYPE,
                IF_NONE_MATCH,
                HeaderName::from_static(INCLUDE_COST_HEADER),
            ])
            .expose_headers([ETAG, RETRY_AFTER])
            .max_age(PREFLIGHT_MAX_AGE),
    )
}
