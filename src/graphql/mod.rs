//! The GraphQL API: the schema ([`build_schema`]), its root types
//! ([`query`], [`mutation`]), one module per object type, the request
//! context and loaders, and the scalars, ids and cursors.

pub mod audit_log;
pub mod connection;
pub mod context;
pub mod cursor;
pub mod ids;
pub mod invoice;
pub mod json;
pub mod loaders;
pub mod mutation;
pub mod node;
pub mod order;
pub mod order_item;
pub mod order_stats;
pub mod plain;
pub mod prefetch;
pub mod product;
pub mod query;
pub mod scalars;
pub mod shipment;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder, ValidationMode};

use crate::guard::cost::CostProbe;

pub use context::RequestCtx;
pub use loaders::Loaders;
pub use mutation::MutationRoot;
pub use query::QueryRoot;

pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// What every schema of the service shares.
#[derive(Debug, Clone, Copy)]
pub struct SchemaOptions {
    pub introspection: bool,
    pub field_suggestions: bool,
}

impl Default for SchemaOptions {
    fn default() -> Self {
        Self {
            introspection: true,
            field_suggestions: true,
        }
    }
}

fn builder(options: SchemaOptions) -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    let mut builder = Schema::build(QueryRoot, MutationRoot, EmptySubscription);
    if !options.introspection {
        builder = builder.disable_introspection();
    }
    if !options.field_suggestions {
        builder = builder.disable_suggestions();
    }
    builder
}

/// The schema. It holds no per-request or per-tenant data: that comes
/// with each request ([`RequestCtx`]).
pub fn build_schema() -> AppSchema {
    builder(SchemaOptions::default()).finish()
}

/// The schema that runs requests. Every document it runs was validated
/// before (by [`build_checking_schema`], or when it was registered), so
/// only the checks that depend on the request run again (fragment cycles,
/// cache hints).
pub fn build_executing_schema(options: SchemaOptions) -> AppSchema {
    builder(options)
        .validation_mode(ValidationMode::Fast)
        .finish()
}

/// The schema that validates a document (fully, or only measuring it when
/// `fast`) and records its cost, without running it.
pub fn build_checking_schema(options: SchemaOptions, fast: bool) -> AppSchema {
    let mut builder = builder(options).extension(CostProbe);
    if fast {
        builder = builder.validation_mode(ValidationMode::Fast);
    }
    builder.finish()
}

/// The schema's SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    build_schema().sdl()
}
