//! Fulexo's GraphQL API: tenants' orders, items, shipments and invoices.
//!
//! - [`config`]: settings from the environment.
//! - [`auth`]: tokens and who is asking.
//! - [`db`]: PostgreSQL: pool, migrations, models, the embedded server.
//! - [`graphql`]: the schema, its types, loaders and scalars.
//! - [`cache`]: resolver-level caching, in process and in Redis.
//! - [`dashboard`]: the dashboard's figures, cached.
//! - [`metrics`]: the Prometheus registry behind `/metrics`.
//! - [`persisted`]: registered documents, APQ and the safelist.
//! - [`http`]: the axum router, the GraphQL endpoint, health, GraphiQL.
//! - [`app`]: the state shared by all requests.
//! - [`server`], [`seed`], [`token`]: what the `fulexo` subcommands run.
//! - [`error`]: every failure and its contract code.

// async-graphql's resolver futures nest deeply; see `main.rs`.
#![recursion_limit = "256"]

pub mod app;
pub mod auth;
pub mod cache;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod doctor;
pub mod error;
pub mod graphql;
pub mod guard;
pub mod http;
pub mod metrics;
pub mod persisted;
pub mod seed;
pub mod server;
pub mod token;

pub use app::AppState;
pub use http::router;

/// mimalloc instead of glibc's malloc: a GraphQL response is thousands of
/// small allocations, and glibc's malloc and free were a fifth of the CPU
/// of the `OrdersPage` benchmark (see README, Measurements).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
