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

/// Every node of a JSON plan (and every other object in it), in plan order.
pub fn plan_nodes(plan: &serde_json::Value) -> Vec<&serde_json::Map<String, serde_json::Value>> {
    fn walk<'a>(
        plan: &'a serde_json::Value,
        found: &mut Vec<&'a serde_json::Map<String, serde_json::Value>>,
    ) {
        match plan {
            serde_json::Value::Object(node) => {
                found.push(node);
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

/// The names of the indexes a JSON plan reads, in plan order.
pub fn indexes_in(plan: &serde_json::Value) -> Vec<String> {
    plan_nodes(plan)
        .into_iter()
        .filter_map(|node| node.get("Index Name")?.as_str().map(str::to_owned))
        .collect()
}

/// The tables a JSON plan reads with a sequential scan.
pub fn sequential_scans_in(plan: &serde_json::Value) -> Vec<String> {
    plan_nodes(plan)
        .into_iter()
        .filter(|node| node.get("Node Type").and_then(|kind| kind.as_str()) == Some("Seq Scan"))
        .filter_map(|node| node.get("Relation Name")?.as_str().map(str::to_owned))
        .collect()
}

impl<Q> QueryId for Explain<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> Query for Explain<Q> {
    type SqlType = Json;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_readers_find_indexes_and_sequential_scans_at_any_depth() {
        let plan = serde_json::json!([{ "Plan": {
            "Node Type": "Nested Loop",
            "Plans": [
                { "Node Type": "Seq Scan", "Relation Name": "orders" },
                { "Node Type": "Index Scan", "Relation Name": "order_items",
                  "Index Name": "order_items_order_id_idx",
                  "Plans": [{ "Node Type": "Index Only Scan", "Index Name": "orders_pkey" }] }
            ]
        }}]);
        assert_eq!(
            indexes_in(&plan),
            ["order_items_order_id_idx", "orders_pkey"]
        );
        assert_eq!(sequential_scans_in(&plan), ["orders"]);
    }
}
