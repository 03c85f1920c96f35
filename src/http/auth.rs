//! The bearer token of a request. Anything but a valid token is 401
//! `UNAUTHENTICATED` (not the 400 of axum's JWT example): the contract
//! gives no data without one.

use http::HeaderMap;
use http::header::AUTHORIZATION;

use crate::app::AppState;
use crate::auth::Viewer;
use crate::error::AppError;

pub fn bearer_viewer(state: &AppState, headers: &HeaderMap) -> Result<Viewer, AppError> {
    state.jwt.verify(bearer_token(headers)?)
}

/// The token of `Authorization: Bearer <token>`, unchecked.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, AppError> {
    let value = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or(AppError::Unauthenticated)?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or(AppError::Unauthenticated)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AppError::Unauthenticated);
    }
    Ok(token.trim())
}
