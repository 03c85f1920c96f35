//! [`AppError`]: every failure the service reports, each with its contract
//! code (`extensions.code`), its GraphQL form and its HTTP status.
//!
//! Low-level errors (diesel, the pool) are mapped once, where they are
//! handled; whatever is not a client's fault becomes [`AppError::Internal`],
//! which is logged with its source chain and shown only as "internal error".

use std::sync::Arc;

use async_graphql::ErrorExtensions;
use http::StatusCode;

/// The codes of `../shared/contract/README.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    BadUserInput,
    QueryTooComplex,
    QueryTooDeep,
    RateLimited,
    PersistedQueryNotFound,
    InternalServerError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::QueryTooComplex => "QUERY_TOO_COMPLEX",
            Self::QueryTooDeep => "QUERY_TOO_DEEP",
            Self::RateLimited => "RATE_LIMITED",
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::InternalServerError => "INTERNAL_SERVER_ERROR",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("authentication required: send `Authorization: Bearer <token>` with a valid token")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadUserInput(String),
    /// The pool had no free connection within its timeout: the client may
    /// retry, and nothing about the database is revealed.
    #[error("the service is busy: no database connection was free in time; retry shortly")]
    DatabaseBusy,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::BadUserInput(_) => ErrorCode::BadUserInput,
            Self::DatabaseBusy | Self::Internal(_) => ErrorCode::InternalServerError,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::BadUserInput(_) => StatusCode::BAD_REQUEST,
            Self::DatabaseBusy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A copy, for errors shared by several waiters (a cache's single
    /// flight hands one error to each); an internal error's source becomes
    /// its text, which is all that is ever logged of it.
    pub fn duplicate(&self) -> Self {
        match self {
            Self::Unauthenticated => Self::Unauthenticated,
            Self::Forbidden(message) => Self::Forbidden(message.clone()),
            Self::BadUserInput(message) => Self::BadUserInput(message.clone()),
            Self::DatabaseBusy => Self::DatabaseBusy,
            Self::Internal(source) => Self::Internal(anyhow::anyhow!("{source:#}")),
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadUserInput(message.into())
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }

    /// Logs what the client will not see. Called once, where the error
    /// becomes a response.
    fn log(&self) {
        match self {
            Self::Internal(source) => {
                tracing::error!(error = format!("{source:#}"), "internal error")
            }
            Self::DatabaseBusy => tracing::warn!("database pool exhausted"),
            _ => {}
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Internal(error.into())
    }
}

impl From<bb8::RunError<diesel_async::pooled_connection::PoolError>> for AppError {
    fn from(error: bb8::RunError<diesel_async::pooled_connection::PoolError>) -> Self {
        match error {
            bb8::RunError::TimedOut => Self::DatabaseBusy,
            bb8::RunError::User(error) => Self::Internal(error.into()),
        }
    }
}

impl ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        self.log();
        async_graphql::Error::new(self.to_string())
            .extend_with(|_, extensions| extensions.set("code", self.code().as_str()))
    }
}

/// DataLoader errors must be `Clone`: one failed batch answers every key.
#[derive(Debug, Clone)]
pub struct SharedError(pub Arc<AppError>);

impl From<AppError> for SharedError {
    fn from(error: AppError) -> Self {
        Self(Arc::new(error))
    }
}

impl ErrorExtensions for SharedError {
    fn extend(&self) -> async_graphql::Error {
        self.0.extend()
    }
}

/// Shorthand for resolvers: `result.map_err(gql)?` keeps the contract code
/// (a plain `?` would turn the error's text into a code-less GraphQL error).
pub fn gql(error: impl ErrorExtensions) -> async_graphql::Error {
    error.extend()
}

pub type AppResult<T> = Result<T, AppError>;
