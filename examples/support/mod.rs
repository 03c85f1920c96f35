//! What the benchmarks share: a seeded database, the service running in
//! this process, tokens, and a closed-loop load generator that prints its
//! figures.
//!
//! The database is `BENCH_DATABASE_URL` (default: `fulexo_bench` on the
//! local PostgreSQL, created, migrated and seeded on first use).

#![allow(dead_code)]

use std::time::{Duration, Instant};

use fulexo::AppState;
use fulexo::auth::{JwtKeys, Role, Viewer};
use fulexo::config::Config;
use fulexo::db::{Database, TenantId, migrations};
use fulexo::seed::{self, SeedOptions};
use secrecy::SecretString;
use serde_json::Value;
use tokio_postgres::NoTls;

/// The issue's data set for the floor comparison (#6): 10 tenants x
/// 100,000 orders, seeded in about two and a half minutes.
pub const BENCH_TENANTS: u32 = 10;
pub const BENCH_ORDERS: u32 = 100_000;

/// The frontend's operation `name`, from the contract.
pub fn operation(name: &str) -> String {
    let path = format!(
        "{}/tests/contract/operations/{name}.graphql",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// What the support desk types: the name in the address, without the
/// digits and domain that set one customer apart (`kasia.novak` of
/// `kasia.novak395@web.de`), so that a search finds several orders.
pub fn search_term(email: &str) -> Option<String> {
    let (local, _) = email.split_once('@')?;
    let name = local.trim_end_matches(|c: char| c.is_ascii_digit());
    (!name.is_empty()).then(|| name.to_owned())
}

pub fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// The benchmark database, seeded with `BENCH_TENANTS` x `BENCH_ORDERS` the
/// first time.
pub async fn bench_database() -> String {
    let url = env_or(
        "BENCH_DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/fulexo_bench",
    );
    let (base, name) = url.rsplit_once('/').expect("a database URL");
    let (admin, connection) = tokio_postgres::connect(&format!("{base}/postgres"), NoTls)
        .await
        .expect("connecting to PostgreSQL");
    tokio::spawn(connection);
    let exists = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .unwrap()
        .is_some();
    if !exists {
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap();
    }
    let secret = SecretString::from(url.clone());
    migrations::run_pending(&secret).await.expect("migrating");
    if seed::is_empty(&secret).await.unwrap() {
        eprintln!("seeding {name}: {BENCH_TENANTS} tenants x {BENCH_ORDERS} orders");
        let options = SeedOptions {
            tenants: BENCH_TENANTS,
            orders: BENCH_ORDERS,
            now: seed::default_now(),
            replace: false,
        };
        let report = seed::run(&secret, &options, true).await.expect("seeding");
        eprintln!("{report}");
    }
    url
}

/// The service on 127.0.0.1, in this process, with `vars` as settings.
pub struct RunningApp {
    pub address: String,
    pub state: AppState,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        // Stops serving; the pool closes with the last AppState.
        self.server.abort();
    }
}

pub async fn spawn_app(database_url: &str, vars: &[(&str, &str)]) -> RunningApp {
    let mut settings: std::collections::HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    settings.insert("DATABASE_URL".into(), database_url.to_owned());
    settings.insert("JWT_SECRET".into(), "bench".into());
    // Limits and Redis may be set for a run (`RATE_LIMIT_ENABLED=true
    // RATE_LIMIT_TOKEN_PER_MINUTE=…` measures the rate limiter's own cost).
    for (name, value) in std::env::vars() {
        if name.starts_with("RATE_LIMIT_") || name.starts_with("LIMIT_") || name == "REDIS_URL" {
            settings.entry(name).or_insert(value);
        }
    }
    // Otherwise a benchmark spends far more than any client's budget.
    settings
        .entry("RATE_LIMIT_ENABLED".into())
        .or_insert_with(|| "false".into());
    let config = Config::from_lookup(|name| settings.get(name).cloned()).unwrap();
    let database =
        Database::connect(&SecretString::from(database_url.to_owned()), &config.pool).unwrap();
    let jwt = JwtKeys::new(config.jwt_secret.as_ref().unwrap());
    let state = AppState::new(config, database, jwt).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let router = fulexo::router(state.clone());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    RunningApp {
        address,
        state,
        server,
    }
}

/// A member token of the seed's first tenant.
pub async fn demo_token(database_url: &str, jwt: &JwtKeys) -> String {
    let (client, connection) = tokio_postgres::connect(database_url, NoTls).await.unwrap();
    tokio::spawn(connection);
    let row = client
        .query_one(
            "SELECT u.id, u.tenant_id FROM users u JOIN tenants t ON t.id = u.tenant_id
             WHERE t.slug = 'demo' AND u.role = 'MEMBER'",
            &[],
        )
        .await
        .unwrap();
    let viewer = Viewer {
        user_id: row.get(0),
        tenant: TenantId(row.get(1)),
        role: Role::Member,
    };
    jwt.issue(viewer, Duration::from_secs(3600)).unwrap()
}

/// What a load run measured.
pub struct LoadReport {
    pub requests: u64,
    /// Including the warm-up's.
    pub all_requests: u64,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
}

impl LoadReport {
    pub fn throughput(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted.get(index).copied().unwrap_or_default()
    }

    pub fn line(&self, label: &str) -> String {
        format!(
            "{label:<34} {:>8.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} requests)",
            self.throughput(),
            self.percentile(0.5).as_secs_f64() * 1e3,
            self.percentile(0.99).as_secs_f64() * 1e3,
            self.requests
        )
    }
}

/// The `Accept-Encoding` of current browsers (Chrome, Firefox).
pub const BROWSER_ENCODINGS: &str = "gzip, deflate, br, zstd";

/// An HTTP client for load: it asks for `encodings` (a browser's by
/// default) and hands bodies over as sent, for [`answer_body`] to
/// decompress.
/// reqwest's own decompression sets up a new zstd context for every
/// response: `perf` put that at an eighth of a load client's CPU, taken
/// from the service it shares the machine with.
pub fn http_client(builder: reqwest::ClientBuilder, encodings: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT_ENCODING,
        encodings.parse().expect("an Accept-Encoding value"),
    );
    builder
        .default_headers(headers)
        .no_gzip()
        .no_brotli()
        .no_zstd()
        .no_deflate()
        .build()
        .expect("building the HTTP client")
}

thread_local! {
    static ZSTD: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// A response's body as the service wrote it, undoing its
/// `Content-Encoding` (from a client of [`http_client`]): zstd with a
/// context each thread keeps, the others as reqwest would.
pub async fn answer_body(response: reqwest::Response) -> Result<bytes::Bytes, String> {
    use std::io::Read;
    let encoding = response
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .map(|value| value.to_str().unwrap_or("?").to_owned());
    let body = response
        .bytes()
        .await
        .map_err(|error| format!("reading the answer: {error}"))?;
    let mut text = Vec::new();
    let read = match encoding.as_deref() {
        None | Some("identity") => return Ok(body),
        Some("zstd") => return zstd_decoded(&body).map(bytes::Bytes::from),
        Some("gzip") => flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut text),
        Some("deflate") => flate2::read::ZlibDecoder::new(&body[..]).read_to_end(&mut text),
        Some("br") => brotli::Decompressor::new(&body[..], 4096).read_to_end(&mut text),
        Some(other) => return Err(format!("an answer in an unknown encoding `{other}`")),
    };
    read.map_err(|error| {
        format!(
            "a {} answer that does not decode: {error}",
            encoding.unwrap()
        )
    })?;
    Ok(text.into())
}

fn zstd_decoded(body: &[u8]) -> Result<Vec<u8>, String> {
    let broken =
        |error: &dyn std::fmt::Display| format!("a zstd answer that does not decode: {error}");
    match zstd::zstd_safe::get_frame_content_size(body) {
        Ok(Some(size)) => ZSTD.with(|decompressor| {
            let mut decompressor = decompressor.borrow_mut();
            if decompressor.is_none() {
                *decompressor =
                    Some(zstd::bulk::Decompressor::new().map_err(|error| broken(&error))?);
            }
            let decompressor = decompressor.as_mut().expect("set above");
            decompressor
                .decompress(body, usize::try_from(size).map_err(|error| broken(&error))?)
                .map_err(|error| broken(&error))
        }),
        // A frame that does not say its size (streamed).
        _ => zstd::stream::decode_all(body).map_err(|error| broken(&error)),
    }
}

/// What a load client reads of an answer: whether it has data and no
/// errors. The rest is parsed as JSON and skipped without building a tree:
/// the clients share the machine with the service, and a `Value` of a
/// 38 kB page cost them more CPU than anything else they do (a tenth of
/// the process under `perf`), as little as pgbench spends on its rows.
#[derive(serde::Deserialize)]
struct Answer {
    errors: Option<serde::de::IgnoredAny>,
    data: Option<serde::de::IgnoredAny>,
}

/// `clients` loops each sending `body` (a GraphQL request) for `duration`,
/// after a short warm-up. Every answer must be a 200 without errors.
pub async fn load(
    address: &str,
    token: &str,
    body: Value,
    clients: usize,
    duration: Duration,
) -> LoadReport {
    // BENCH_ENCODING: what the clients accept (by default what current
    // browsers send; `br`, `gzip` or `identity` for one alone).
    let http = http_client(
        reqwest::Client::builder().pool_max_idle_per_host(clients),
        &env_or("BENCH_ENCODING", BROWSER_ENCODINGS),
    );
    let url = format!("{address}/graphql");
    let run = |until: Instant| {
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (http, url, token, body) =
                (http.clone(), url.clone(), token.to_owned(), body.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < until {
                    let started = Instant::now();
                    let response = http
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    assert!(
                        response.status().is_success(),
                        "status {}",
                        response.status()
                    );
                    let body = answer_body(response).await.unwrap();
                    let answer: Answer = serde_json::from_slice(&body).unwrap();
                    assert!(
                        answer.errors.is_none() && answer.data.is_some(),
                        "{}",
                        String::from_utf8_lossy(&body)
                    );
                    latencies.push(started.elapsed());
                }
                latencies
            }));
        }
        tasks
    };
    let mut warm_up = 0;
    for task in run(Instant::now() + Duration::from_secs(1)) {
        warm_up += task.await.unwrap().len() as u64;
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    for task in run(started + duration) {
        latencies.extend(task.await.unwrap());
    }
    LoadReport {
        requests: latencies.len() as u64,
        all_requests: warm_up + latencies.len() as u64,
        elapsed: started.elapsed(),
        latencies,
    }
}
