//! The physical floor: PostgreSQL itself running the statements the
//! service sends for each of the frontend's reads (`OrdersPage(first: 50)`,
//! `OrderDetail`, `OrderStats(days: 30)`, `UndeliveredShipments(first: 50)`,
//! `SearchOrders(first: 20)`), with `pgbench -M prepared`, next to the
//! service's own run of the operation, at 1, 16 and 64 clients, on the same
//! data, one right after the other.
//!
//! The statements are captured from the service (its connections record
//! what they send while one request of each operation runs), so the floor
//! replays exactly its SQL and binds (as pgbench variables: parameters,
//! as the service sends them). Statements the service sent in one pipeline
//! (a page's items and shipments; an order with its items, shipments and
//! invoices), as its connection's instrumentation saw them, go in one
//! pipeline (`\startpipeline`) here too. The resolver cache is off: both
//! sides reach the database on every request.
//!
//! `cargo run --profile production --example floor` (the service as it is
//! deployed, `Cargo.toml`; settings: `BENCH_DATABASE_URL`,
//! `BENCH_SECONDS` per run, default 10, `BENCH_CLIENTS`, default `1,16,64`,
//! `BENCH_OPERATIONS`, default all five, e.g. `OrdersPage,OrderDetail`;
//! `pgbench` on the `PATH`).

// async-graphql's resolver futures nest deeper than the default limit.
#![recursion_limit = "256"]

#[path = "support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

/// One statement of a request, ready for pgbench.
struct Statement {
    /// The SQL with `$n` replaced by `:name` variables.
    sql: String,
    /// `(name, value)` for `pgbench -D`.
    variables: Vec<(String, String)>,
    /// Statements of one level run in one pipeline, as the service sent
    /// them; a level runs after the one before (its binds came from that
    /// one's rows).
    level: usize,
}

/// What one side measured at one client count.
struct Figures {
    throughput: f64,
    p50: Duration,
    p99: Duration,
}

#[tokio::main]
async fn main() {
    let seconds: u64 = support::env_or("BENCH_SECONDS", "10").parse().unwrap();
    let clients: Vec<usize> = support::env_or("BENCH_CLIENTS", "1,16,64")
        .split(',')
        .map(|count| {
            count
                .trim()
                .parse()
                .expect("BENCH_CLIENTS: counts, e.g. 1,16,64")
        })
        .collect();
    let duration = Duration::from_secs(seconds);
    let database = support::bench_database().await;
    // The default pool (25): pgbench's 64 connections and the pool's must
    // fit in PostgreSQL's max_connections (100).
    let app = support::spawn_app(&database, &[("CACHE_ENABLED", "false")]).await;
    let token = support::demo_token(&database, &app.state.jwt).await;
    let http = reqwest::Client::new();

    let operations = operations(&http, &app.address, &token).await;
    let wanted = support::env_or("BENCH_OPERATIONS", "");
    let wanted: Vec<&str> = wanted
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .collect();

    let orders = count_orders(&database).await;
    println!(
        "{orders} orders; {seconds} s per run; service in this process (cache off) vs pgbench -M prepared\n"
    );
    println!(
        "{:<20} {:>7} | {:>9} {:>8} {:>8} | {:>9} {:>8} {:>8} | {:>10} {:>9}",
        "operation",
        "clients",
        "req/s",
        "p50 ms",
        "p99 ms",
        "floor tx/s",
        "p50 ms",
        "p99 ms",
        "throughput",
        "p99"
    );
    for (name, body) in &operations {
        if !wanted.is_empty() && !wanted.contains(name) {
            continue;
        }
        let capture = app.state.database.capture();
        capture.start();
        post(&http, &app.address, &token, body).await;
        let mut level = 0;
        let statements: Vec<Statement> = capture
            .stop()
            .iter()
            .enumerate()
            .map(|(index, captured)| {
                if index > 0 && !captured.pipelined {
                    level += 1;
                }
                statement(index, &captured.text, level)
            })
            .collect();
        let script = pgbench_script(name, &statements);
        for &count in &clients {
            let floor = pgbench(&database, &script, &statements, count, seconds);
            let report = support::load(&app.address, &token, body.clone(), count, duration).await;
            let service = Figures {
                throughput: report.throughput(),
                p50: report.percentile(0.5),
                p99: report.percentile(0.99),
            };
            println!(
                "{name:<20} {count:>7} | {:>9.0} {:>8.2} {:>8.2} | {:>9.0} {:>8.2} {:>8.2} | {:>9.0}% {:>8.1}x",
                service.throughput,
                millis(service.p50),
                millis(service.p99),
                floor.throughput,
                millis(floor.p50),
                millis(floor.p99),
                100.0 * service.throughput / floor.throughput,
                service.p99.as_secs_f64() / floor.p99.as_secs_f64()
            );
        }
        println!(
            "  {} statements; pgbench script {}",
            statements.len(),
            script.display()
        );
    }
}

/// The frontend's reads with the variables the load generator's mix gives
/// them: the order and the search term come from the first page.
async fn operations(
    http: &reqwest::Client,
    address: &str,
    token: &str,
) -> Vec<(&'static str, Value)> {
    let request = |name: &str, variables: Value| json!({ "query": support::operation(name), "variables": variables });
    let page = request("OrdersPage", json!({ "first": 50 }));
    let answer = post(http, address, token, &page).await;
    let first = &answer["data"]["orders"]["edges"][0]["node"];
    let term = first["customerEmail"]
        .as_str()
        .and_then(support::search_term)
        .expect("the first order has a customer e-mail");
    vec![
        ("OrdersPage", page),
        (
            "OrderDetail",
            request("OrderDetail", json!({ "id": first["id"] })),
        ),
        ("OrderStats", request("OrderStats", json!({ "days": 30 }))),
        (
            "UndeliveredShipments",
            request("UndeliveredShipments", json!({ "first": 50 })),
        ),
        (
            "SearchOrders",
            request("SearchOrders", json!({ "q": term, "first": 20 })),
        ),
    ]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// A captured statement (`SQL -- binds: [...]`) as pgbench runs it, in
/// pipeline `level`.
fn statement(index: usize, captured: &str, level: usize) -> Statement {
    let (sql, binds) = captured
        .rsplit_once(" -- binds: ")
        .unwrap_or((captured, "[]"));
    let binds = match parse_value(&mut binds.trim().chars().peekable()) {
        Bind::List(binds) => binds,
        other => vec![other],
    };
    let mut sql = sql.to_owned();
    let mut variables = Vec::new();
    // `$10` before `$1`.
    for (position, bind) in binds.iter().enumerate().rev() {
        let name = format!("s{index}_{}", position + 1);
        sql = sql.replace(&format!("${}", position + 1), &format!(":{name}"));
        variables.push((name, bind.as_text()));
    }
    Statement {
        sql,
        variables,
        level,
    }
}

/// A bind as diesel's debug output prints it.
#[derive(Debug)]
enum Bind {
    Scalar(String),
    Text(String),
    List(Vec<Bind>),
}

impl Bind {
    /// PostgreSQL's text form, for a parameter.
    fn as_text(&self) -> String {
        match self {
            Self::Scalar(text) | Self::Text(text) => text.clone(),
            Self::List(items) => {
                let items: Vec<String> = items
                    .iter()
                    .map(|item| match item {
                        Self::Text(text) => {
                            format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
                        }
                        other => other.as_text(),
                    })
                    .collect();
                format!("{{{}}}", items.join(","))
            }
        }
    }
}

fn parse_value(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Bind {
    while chars.peek().is_some_and(|c| c.is_whitespace()) {
        chars.next();
    }
    match chars.peek() {
        Some('[') => {
            chars.next();
            let mut items = Vec::new();
            loop {
                while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    chars.next();
                    return Bind::List(items);
                }
                if chars.peek().is_none() {
                    return Bind::List(items);
                }
                items.push(parse_value(chars));
            }
        }
        Some('"') => {
            chars.next();
            let mut text = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => text.extend(chars.next()),
                    '"' => break,
                    c => text.push(c),
                }
            }
            Bind::Text(text)
        }
        _ => {
            let mut text = String::new();
            while let Some(&c) = chars.peek() {
                if c == ',' || c == ']' {
                    break;
                }
                text.push(c);
                chars.next();
            }
            Bind::Scalar(text.trim().to_owned())
        }
    }
}

/// The pgbench script of one request: its levels in order, each level's
/// statements in one pipeline.
fn pgbench_script(name: &str, statements: &[Statement]) -> PathBuf {
    let mut script = String::new();
    let levels = statements.iter().map(|s| s.level + 1).max().unwrap_or(0);
    for level in 0..levels {
        let group: Vec<&Statement> = statements.iter().filter(|s| s.level == level).collect();
        if group.len() > 1 {
            script.push_str("\\startpipeline\n");
        }
        for statement in &group {
            let _ = writeln!(script, "{};", statement.sql);
        }
        if group.len() > 1 {
            script.push_str("\\endpipeline\n");
        }
    }
    let path = std::env::temp_dir().join(format!("fulexo-floor-{name}.sql"));
    std::fs::write(&path, script).expect("writing the pgbench script");
    path
}

/// Runs pgbench; throughput and latency percentiles from its
/// per-transaction log.
fn pgbench(
    database: &str,
    script: &PathBuf,
    statements: &[Statement],
    clients: usize,
    seconds: u64,
) -> Figures {
    let log_dir = std::env::temp_dir().join(format!("fulexo-floor-log-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&log_dir);
    std::fs::create_dir_all(&log_dir).unwrap();
    let mut command = Command::new("pgbench");
    command
        .args(["-n", "-M", "prepared", "-l"])
        .arg(format!("--log-prefix={}", log_dir.join("tx").display()))
        .args(["-c", &clients.to_string()])
        .args(["-j", &clients.clamp(1, 2).to_string()])
        .args(["-T", &seconds.to_string()])
        .arg("-f")
        .arg(script);
    for statement in statements {
        for (name, value) in &statement.variables {
            command.arg("-D").arg(format!("{name}={value}"));
        }
    }
    let output = command
        .arg(database)
        .output()
        .expect("running pgbench (install PostgreSQL's client programs)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "pgbench failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let throughput = stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
        .expect("pgbench printed no tps");
    let mut latencies: Vec<u64> = Vec::new();
    for entry in std::fs::read_dir(&log_dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        // client_id transaction_no time_us script_no epoch epoch_us
        latencies.extend(
            text.lines()
                .filter_map(|line| line.split_whitespace().nth(2)?.parse::<u64>().ok()),
        );
    }
    let _ = std::fs::remove_dir_all(&log_dir);
    latencies.sort_unstable();
    let percentile = |p: f64| {
        let index = ((latencies.len().max(1) - 1) as f64 * p).round() as usize;
        Duration::from_micros(latencies.get(index).copied().unwrap_or_default())
    };
    Figures {
        throughput,
        p50: percentile(0.5),
        p99: percentile(0.99),
    }
}

async fn count_orders(database: &str) -> i64 {
    let (client, connection) = tokio_postgres::connect(database, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .query_one("SELECT count(*) FROM orders", &[])
        .await
        .unwrap()
        .get(0)
}

async fn post(http: &reqwest::Client, address: &str, token: &str, body: &Value) -> Value {
    let answer: Value = http
        .post(format!("{address}/graphql"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(answer.get("errors").is_none(), "{answer}");
    answer
}
