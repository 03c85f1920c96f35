//! What compressing one response costs: a real `OrdersPage(first: 50)`
//! body (and `OrderDetail`'s) compressed with the encoder settings the
//! service could use, single-threaded, printing time per response and the
//! compressed size.
//!
//! `br 4, streaming window 22` is what a streaming encoder does when it does
//! not know the body's length (tower-http's `CompressionLayer`): it sets up
//! a 4 MiB window for every response. A buffered GraphQL body's length is
//! known, so the window can fit it.
//!
//! `cargo run --release --example compression`

// async-graphql's resolver futures nest deeper than the default limit.
#![recursion_limit = "256"]

#[path = "support/mod.rs"]
mod support;

use std::io::Write;
use std::time::{Duration, Instant};

use brotli::enc::BrotliEncoderParams;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::json;

/// One encoder setting, applied to the body it closes over.
type Compress<'a> = dyn Fn() -> Vec<u8> + 'a;

fn brotli(body: &[u8], quality: i32, lgwin: i32, size_hint: usize) -> Vec<u8> {
    let params = BrotliEncoderParams {
        quality,
        lgwin,
        size_hint,
        ..BrotliEncoderParams::default()
    };
    let mut writer = brotli::CompressorWriter::with_params(Vec::new(), 4096, &params);
    writer.write_all(body).unwrap();
    writer.into_inner()
}

fn gzip(body: &[u8], level: u32) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::new(level));
    encoder.write_all(body).unwrap();
    encoder.finish().unwrap()
}

/// Mean time of `compress` over about half a second, and its output size.
fn measure(compress: &Compress) -> (Duration, usize) {
    let size = compress().len();
    let started = Instant::now();
    let mut runs = 0u32;
    while started.elapsed() < Duration::from_millis(500) {
        std::hint::black_box(compress());
        runs += 1;
    }
    (started.elapsed() / runs, size)
}

#[tokio::main]
async fn main() {
    let database = support::bench_database().await;
    let app = support::spawn_app(&database, &[("CACHE_ENABLED", "false")]).await;
    let token = support::demo_token(&database, &app.state.jwt).await;
    let http = reqwest::Client::new();
    let post = |body: serde_json::Value| {
        http.post(format!("{}/graphql", app.address))
            .bearer_auth(&token)
            .header("accept-encoding", "identity")
            .json(&body)
            .send()
    };
    let page = post(json!({
        "query": support::operation("OrdersPage"),
        "variables": { "first": 50 },
    }))
    .await
    .unwrap()
    .bytes()
    .await
    .unwrap();
    let first_order = serde_json::from_slice::<serde_json::Value>(&page).unwrap()["data"]["orders"]
        ["edges"][0]["node"]["id"]
        .clone();
    let detail = post(json!({
        "query": support::operation("OrderDetail"),
        "variables": { "id": first_order },
    }))
    .await
    .unwrap()
    .bytes()
    .await
    .unwrap();

    for (name, body) in [("OrdersPage(first: 50)", &page), ("OrderDetail", &detail)] {
        let len = body.len();
        println!("{name}: {len} bytes of JSON");
        let settings: [(&str, Box<Compress>); 12] = [
            (
                "br 4, streaming window 22",
                Box::new(|| brotli(body, 4, 22, 0)),
            ),
            (
                "br 4, window fitted to the body",
                Box::new(|| brotli(body, 4, window_for(len), len)),
            ),
            (
                "br 1, window fitted to the body",
                Box::new(|| brotli(body, 1, window_for(len), len)),
            ),
            (
                "br 2, window fitted to the body",
                Box::new(|| brotli(body, 2, window_for(len), len)),
            ),
            (
                "br 3, window fitted to the body",
                Box::new(|| brotli(body, 3, window_for(len), len)),
            ),
            (
                "br 5, window fitted to the body",
                Box::new(|| brotli(body, 5, window_for(len), len)),
            ),
            ("gzip 1", Box::new(|| gzip(body, 1))),
            ("gzip 4", Box::new(|| gzip(body, 4))),
            ("gzip 6", Box::new(|| gzip(body, 6))),
            (
                "zstd 1",
                Box::new(|| zstd::encode_all(&body[..], 1).unwrap()),
            ),
            (
                "zstd 3",
                Box::new(|| zstd::encode_all(&body[..], 3).unwrap()),
            ),
            (
                "zstd 4",
                Box::new(|| zstd::encode_all(&body[..], 4).unwrap()),
            ),
        ];
        for (label, compress) in &settings {
            let (time, size) = measure(compress.as_ref());
            println!(
                "  {label:<34} {:>8.1} µs   {size:>7} bytes ({:.1}% of the JSON)",
                time.as_secs_f64() * 1e6,
                size as f64 * 100.0 / len as f64
            );
        }
    }
}

/// The smallest brotli window (10 to 22 bits) holding `len` bytes.
fn window_for(len: usize) -> i32 {
    (10..=22)
        .find(|bits| (1usize << bits) - 16 >= len)
        .unwrap_or(22)
}
