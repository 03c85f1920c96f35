//! The integration tests: one binary, one harness ([`helpers`]), one
//! module per area. Each test runs the real service against the real
//! PostgreSQL, on a database of its own.

mod helpers;

mod amounts;
mod audit;
mod audit_feed;
mod bad_input;
mod binary;
mod cache;
mod contract_operations;
mod doctor;
mod fuzz;
mod http;
mod indexes;
mod limits;
mod mutations;
mod observability;
mod pagination;
mod persisted;
mod pool;
mod rate_limits;
mod resolution;
mod schema;
mod seed;
mod shipments;
mod statements;
mod tenancy;
