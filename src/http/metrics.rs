//! `GET /metrics`, in Prometheus text format.

use std::fmt::Write;

use axum::extract::State;
use axum::response::IntoResponse;
use http::header::CONTENT_TYPE;

use crate::app::AppState;

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let pool = state.database.state();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# HELP fulexo_db_statements_total SQL statements sent to PostgreSQL.\n\
         # TYPE fulexo_db_statements_total counter\n\
         fulexo_db_statements_total {}",
        state.database.statements_sent()
    );
    let _ = writeln!(
        text,
        "# HELP fulexo_db_pool_connections Connections held by the pool.\n\
         # TYPE fulexo_db_pool_connections gauge\n\
         fulexo_db_pool_connections{{state=\"idle\"}} {}\n\
         fulexo_db_pool_connections{{state=\"in_use\"}} {}",
        pool.idle_connections,
        pool.connections - pool.idle_connections
    );
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
}
