//! Prints the running schema's SDL: `cargo run --example print_schema > schema.graphql`.

fn main() {
    print!("{}", fulexo::graphql::sdl());
}
