//! Instructions the service executes per request, counted by valgrind's
//! callgrind: the same figure from run to run (within half a percent),
//! where throughput on a shared machine moves by 10-20%, so that a change
//! of a few percent shows.
//!
//! The production build of `fulexo` (`Cargo.toml`) runs under `valgrind --tool=callgrind` as its
//! own process on the bench database (cache off, one request at a time);
//! for each operation, 30 unmeasured requests, then the counters are zeroed,
//! `BENCH_REQUESTS` (default 200) requests are sent one after the other, and
//! the counters are dumped: the dump's total over the requests is the
//! figure. The dumps stay in the folder printed at the end, for
//! `callgrind_annotate --inclusive=yes` to say where the instructions went.
//!
//! `cargo build --profile production && cargo run --profile production --example instructions`
//! (`BENCH_OPERATIONS`: `OrdersPage,OrderDetail,UndeliveredShipments` by
//! default; valgrind on the `PATH`: `apt-get install valgrind`).

// async-graphql's resolver futures nest deeper than the default limit.
#![recursion_limit = "256"]

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fulexo::auth::JwtKeys;
use secrecy::SecretString;
use serde_json::{Value, json};

const SECRET: &str = "instructions-bench";
const WARM_UP: usize = 30;

/// The service under callgrind; killed when dropped.
struct Measured {
    child: Child,
    address: String,
}

impl Drop for Measured {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::main]
async fn main() {
    let requests: usize = support::env_or("BENCH_REQUESTS", "200").parse().unwrap();
    let wanted = support::env_or(
        "BENCH_OPERATIONS",
        "OrdersPage,OrderDetail,UndeliveredShipments",
    );
    let database = support::bench_database().await;
    let binary = service_binary();
    let dumps = std::env::temp_dir().join(format!("fulexo-callgrind-{}", std::process::id()));
    std::fs::create_dir_all(&dumps).unwrap();

    let service = start(&binary, &database, &dumps).await;
    let token = support::demo_token(&database, &JwtKeys::new(&SecretString::from(SECRET))).await;
    let http = reqwest::Client::builder()
        .default_headers(
            [(
                reqwest::header::ACCEPT_ENCODING,
                support::BROWSER_ENCODINGS.parse().unwrap(),
            )]
            .into_iter()
            .collect(),
        )
        .build()
        .unwrap();
    let send = |body: Value| {
        let request = http
            .post(format!("{}/graphql", service.address))
            .bearer_auth(&token)
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            assert!(response.status().is_success(), "{}", response.status());
            let answer: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
            assert!(answer.get("errors").is_none(), "{answer}");
            answer
        }
    };

    let page = json!({ "query": support::operation("OrdersPage"), "variables": { "first": 50 } });
    let first = send(page.clone()).await["data"]["orders"]["edges"][0]["node"]["id"].clone();
    let operations = [
        ("OrdersPage", page),
        (
            "OrderDetail",
            json!({ "query": support::operation("OrderDetail"), "variables": { "id": first } }),
        ),
        (
            "UndeliveredShipments",
            json!({ "query": support::operation("UndeliveredShipments"), "variables": { "first": 50 } }),
        ),
    ];
    println!(
        "{requests} requests per operation, one at a time, service under callgrind (cache off)"
    );
    let mut dump = 0;
    for (name, body) in operations {
        if !wanted.split(',').any(|wanted| wanted.trim() == name) {
            continue;
        }
        for _ in 0..WARM_UP {
            send(body.clone()).await;
        }
        callgrind_control("-z", &service.child);
        for _ in 0..requests {
            send(body.clone()).await;
        }
        callgrind_control("-d", &service.child);
        dump += 1;
        let file = dumps.join(format!("callgrind.{}.{dump}", service.child.id()));
        let total = total_instructions(&file);
        println!(
            "{name:<22} {:>12} instructions/request   ({})",
            total / requests as u64,
            file.display()
        );
    }
}

/// `fulexo` next to this example's own binary (`target/production/`, or the
/// folder of whichever profile built it).
fn service_binary() -> PathBuf {
    let examples = std::env::current_exe().unwrap();
    let binary = examples
        .parent()
        .and_then(Path::parent)
        .map(|release| release.join("fulexo"))
        .unwrap();
    assert!(
        binary.exists(),
        "{} is missing: build it first with `cargo build --profile production`",
        binary.display()
    );
    binary
}

async fn start(binary: &Path, database: &str, dumps: &Path) -> Measured {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!(
            "--callgrind-out-file={}/callgrind.%p",
            dumps.display()
        ))
        .arg(binary)
        .arg("serve")
        .env("DATABASE_URL", database)
        .env("JWT_SECRET", SECRET)
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("CACHE_ENABLED", "false")
        .env("RATE_LIMIT_ENABLED", "false")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("running valgrind (install it: apt-get install valgrind)");
    let service = Measured {
        child,
        address: format!("http://127.0.0.1:{port}"),
    };
    // Under valgrind the service starts in tens of seconds.
    let started = Instant::now();
    let health = format!("{}/healthz", service.address);
    while reqwest::get(&health).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "the service did not answer under valgrind within 3 minutes"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    service
}

fn callgrind_control(option: &str, service: &Child) {
    let status = Command::new("callgrind_control")
        .arg(option)
        .arg(service.id().to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("running callgrind_control");
    assert!(status.success(), "callgrind_control {option} failed");
}

/// The `totals:` line of a callgrind dump, written once the dump is whole.
fn total_instructions(file: &Path) -> u64 {
    let started = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(file)
            && let Some(total) = text
                .lines()
                .find_map(|line| line.strip_prefix("totals: "))
                .and_then(|total| total.trim().parse().ok())
        {
            return total;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no callgrind dump at {}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
