//! Prints the running schema's SDL: `cargo run --example print_schema > schema.graphql`.

// async-graphql's resolver futures nest deeper than the default limit.
#![recursion_limit = "256"]

fn main() {
    print!("{}", fulexo::graphql::sdl());
}
