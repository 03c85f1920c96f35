//! Every GraphQL request's duration, by operation and outcome, and the
//! error codes it answered with, for `/metrics`. The handler leaves what it
//! knows ([`OperationName`], [`ErrorCodes`]) in the response's extensions;
//! this layer reads them once the response is built.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::StatusCode;

use crate::app::AppState;
use crate::error::ErrorCode;
use crate::http::graphql::{ErrorCodes, OperationName};

pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let response = next.run(request).await;
    let codes = response
        .extensions()
        .get::<ErrorCodes>()
        .map(|codes| codes.0.as_slice())
        .unwrap_or_default();
    let outcome = outcome(response.status(), codes);
    let operation = response
        .extensions()
        .get::<OperationName>()
        .map(|name| name.0.as_str());
    let metrics = &state.metrics.graphql;
    metrics.observe(operation, outcome, started.elapsed());
    for code in codes {
        metrics.error(code);
    }
    response
}

fn outcome(status: StatusCode, codes: &[String]) -> &'static str {
    let internal = ErrorCode::InternalServerError.as_str();
    match status {
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::GATEWAY_TIMEOUT => "timeout",
        status if status.is_server_error() => "server_error",
        _ if codes.iter().any(|code| code == internal) => "server_error",
        _ if !codes.is_empty() || status.is_client_error() => "client_error",
        _ => "ok",
    }
}
