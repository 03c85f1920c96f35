//! `GET /graphiql`: the playground, with a fresh token of the demo tenant
//! in its headers (development only), so that a newcomer's first query
//! just works.

use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use axum::extract::State;
use axum::response::Html;

use crate::app::AppState;

/// Long enough for an afternoon of exploring; a reload mints a new one.
const DEMO_TOKEN_TTL: Duration = Duration::from_secs(12 * 3600);

pub async fn graphiql(State(state): State<AppState>) -> Html<String> {
    let token = state
        .demo_viewer
        .and_then(|viewer| state.jwt.issue(viewer, DEMO_TOKEN_TTL).ok());
    let authorization = token.map(|token| format!("Bearer {token}"));
    let mut source = GraphiQLSource::build()
        .endpoint("/graphql")
        .title("Fulexo GraphQL");
    if let Some(authorization) = &authorization {
        source = source.header("Authorization", authorization);
    }
    Html(source.finish())
}
