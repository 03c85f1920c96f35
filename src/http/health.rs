//! `/healthz` (the process answers) and `/readyz` (PostgreSQL answers and
//! every migration is applied; Redis is not consulted: the service works
//! without it).

use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::json;

use crate::app::AppState;
use crate::db::migrations;

/// Longest a readiness probe waits: probes are retried, and a probe that
/// hangs is worse than a 503.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    let check = async {
        let mut connection = state
            .database
            .get()
            .await
            .map_err(|error| error.to_string())?;
        match migrations::all_applied(&mut connection).await {
            Ok(true) => Ok(()),
            Ok(false) => Err("migrations pending: run `fulexo migrate`".to_owned()),
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "readiness check failed");
                Err("database unavailable".to_owned())
            }
        }
    };
    match tokio::time::timeout(READY_TIMEOUT, check).await {
        Ok(Ok(())) => (StatusCode::OK, axum::Json(json!({ "status": "ready" }))).into_response(),
        Ok(Err(reason)) => unready(&reason),
        Err(_) => unready("database did not answer in time"),
    }
}

fn unready(reason: &str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({ "status": "unavailable", "reason": reason })),
    )
        .into_response()
}
