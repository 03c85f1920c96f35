//! What checking a request costs, per contract operation: the guard's
//! whole pass (bytes, tokens, parse, shape, validation with the cost) next
//! to what async-graphql alone would spend validating it, which every
//! request paid before the guard existed, a registered document's check
//! (its cost only) and a known text's (the same, its parse remembered). No
//! database: checking is CPU only.
//!
//! `cargo run --release --example guard`

// async-graphql's resolver futures nest deeper than the default limit.
#![recursion_limit = "256"]

#[path = "support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::Instant;

use async_graphql::{Request, Variables};
use fulexo::config::Limits;
use fulexo::graphql::{SchemaOptions, build_checking_schema};
use fulexo::guard::Guard;
use serde_json::json;

const ROUNDS: u32 = 2_000;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let options = SchemaOptions::default();
    let guard = Guard::new(
        Limits::default(),
        true,
        build_checking_schema(options, false),
        build_checking_schema(options, true),
        Default::default(),
    );
    let validator = build_checking_schema(options, false);
    let id = "T3JkZXI6MDE5M2QxYjAtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAw";
    let operations = [
        ("OrdersPage", json!({ "first": 100 })),
        ("SearchOrders", json!({ "q": "example", "first": 100 })),
        ("UndeliveredShipments", json!({ "first": 100 })),
        ("OrderDetail", json!({ "id": id })),
        ("NodeLookup", json!({ "id": id })),
        ("OrderStats", json!({ "days": 30 })),
    ];
    println!("{ROUNDS} rounds each; microseconds per request");
    println!(
        "{:<22} {:>12} {:>16} {:>12} {:>12}",
        "operation", "guard (all)", "validation only", "registered", "known text"
    );
    for (name, variables) in operations {
        let text = support::operation(name);
        let variables = Variables::from_json(variables);

        let started = Instant::now();
        for _ in 0..ROUNDS {
            let document = guard.parse(&text).unwrap();
            black_box(
                guard
                    .cost(&document, &variables, None, false)
                    .await
                    .unwrap(),
            );
        }
        let full = started.elapsed() / ROUNDS;

        let started = Instant::now();
        for _ in 0..ROUNDS {
            let request = Request::new(text.as_str()).variables(variables.clone());
            black_box(validator.execute(request).await);
        }
        let validation = started.elapsed() / ROUNDS;

        let parsed = guard.parse(&text).unwrap();
        let started = Instant::now();
        for _ in 0..ROUNDS {
            black_box(guard.cost(&parsed, &variables, None, true).await.unwrap());
        }
        let registered = started.elapsed() / ROUNDS;

        // A text seen before: its parse comes from the guard's memory.
        guard.remember(&text, &parsed);
        let started = Instant::now();
        for _ in 0..ROUNDS {
            let document = guard.known(&text).unwrap();
            black_box(guard.cost(&document, &variables, None, true).await.unwrap());
        }
        let known = started.elapsed() / ROUNDS;
        println!(
            "{name:<22} {:>12.1} {:>16.1} {:>12.1} {:>12.1}",
            full.as_secs_f64() * 1e6,
            validation.as_secs_f64() * 1e6,
            registered.as_secs_f64() * 1e6,
            known.as_secs_f64() * 1e6
        );
    }
}
