//! The GraphQL API: the schema ([`build_schema`]), its root types
//! ([`query`], [`mutation`]), one module per object type, the request
//! context and loaders, and the scalars, ids and cursors.

pub mod audit_log;
pub mod context;
pub mod cursor;
pub mod ids;
pub mod invoice;
pub mod loaders;
pub mod mutation;
pub mod node;
pub mod order;
pub mod order_item;
pub mod order_stats;
pub mod prefetch;
pub mod product;
pub mod query;
pub mod scalars;
pub mod shipment;

use async_graphql::{EmptySubscription, Schema, ValidationMode};

use crate::persisted::extension::ValidateOnly;

pub use context::RequestCtx;
pub use loaders::Loaders;
pub use mutation::MutationRoot;
pub use query::QueryRoot;

pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// The schema. It holds no per-request or per-tenant data: that comes
/// with each request ([`RequestCtx`]).
pub fn build_schema() -> AppSchema {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription).finish()
}

/// The schema that runs registered documents: the same types, but only
/// the checks that depend on the request (fragment cycles, cache hints,
/// cost and depth) run, as the spec's validation rules already passed when
/// the document was registered.
pub fn build_trusted_schema() -> AppSchema {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .validation_mode(ValidationMode::Fast)
        .finish()
}

/// The schema that validates documents to register them, without running
/// them.
pub fn build_validation_schema() -> AppSchema {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .extension(ValidateOnly)
        .finish()
}

/// The schema's SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    build_schema().sdl()
}
