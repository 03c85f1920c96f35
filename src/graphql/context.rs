//! What a resolver knows about its request: who is asking, the database,
//! and the request's own loaders. Attached to each request (never to the
//! schema) by `http::graphql`.

use async_graphql::Context;

use crate::auth::Viewer;
use crate::cache::{Cache, Scope};
use crate::db::{Database, Reads};
use crate::error::{AppError, gql};
use crate::graphql::loaders::Loaders;
use crate::metrics::BusinessMetrics;

pub struct RequestCtx {
    pub viewer: Viewer,
    /// The pool, for writes (each in its own transaction).
    pub database: Database,
    /// Where reads run: one shared connection for a query.
    pub reads: Reads,
    pub cache: Cache,
    pub loaders: Loaders,
    /// What the mutations count for `/metrics`.
    pub business: BusinessMetrics,
    /// Whether plain objects may answer as JSON text (`graphql::plain`):
    /// not when the document merges fields.
    pub plain_as_text: bool,
}

impl RequestCtx {
    /// The request's context; absent only if the handler forgot it, which is
    /// an internal error.
    pub fn of<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Self> {
        ctx.data::<Self>()
            .map_err(|_| gql(AppError::internal(anyhow::anyhow!("RequestCtx missing"))))
    }

    /// Whose cached values this request reads.
    pub fn scope(&self) -> Scope {
        Scope {
            tenant: self.viewer.tenant,
            role: self.viewer.role,
        }
    }

    /// The caller, if they may write; `FORBIDDEN` for read-only roles.
    pub fn writer(&self) -> Result<Viewer, AppError> {
        if self.viewer.role.can_write() {
            Ok(self.viewer)
        } else {
            Err(AppError::Forbidden(format!(
                "a {} token cannot run mutations",
                self.viewer.role.as_str()
            )))
        }
    }
}
