//! `EXPLAIN (FORMAT JSON)` of any diesel query, binds included: how the
//! index tests see the plans of the very statements the service sends.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::Json;

/// The plan of `Q`, as one JSON value.
#[derive(Debug, Clone)]
pub struct Explain<Q> {
    query: Q,
    analyze: bool,
}

impl<Q> Explain<Q> {
    /// The planner's plan, without running the statement.
    pub fn plan(query: Q) -> Self {
        Self {
            query,
            analyze: false,
        }
    }

    /// The plan as run, with timings (`EXPLAIN ANALYZE`: the statement runs).
    pub fn analyze(query: Q) -> Self {
        Self {
            query,
            analyze: true,
        }
    }
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Explain<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        out.push_sql(if self.analyze {
            "EXPLAIN (ANALYZE, FORMAT JSON) "
        } else {
            "EXPLAIN (FORMAT JSON) "
        });
        self.query.walk_ast(out.reborrow())
    }
}

/// The names of the indexes a JSON plan reads, in plan order.
pub fn indexes_in(plan: &serde_json::Value) -> Vec<String> {
    fn walk(plan: &serde_json::Value, found: &mut Vec<String>) {
        match plan {
            serde_json::Value::Object(node) => {
                if let Some(serde_json::Value::String(name)) = node.get("Index Name") {
                    found.push(name.clone());
                }
                node.values().for_each(|child| walk(child, found));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|child| walk(child, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(plan, &mut found);
    found
}

impl<Q> QueryId for Explain<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> Query for Explain<Q> {
    type SqlType = Json;
}
