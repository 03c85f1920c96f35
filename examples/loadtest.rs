//! Load test of a fulexo service with the frontend's contract operations
//! (`tests/contract/operations`): throughput, latency percentiles and error
//! rate per operation, checked against budgets given on the command line.
//!
//! Each client (virtual user) runs a closed loop: it sends an operation,
//! waits for the whole answer, checks it (HTTP 200, JSON, no `errors`) and
//! sends the next. The default workload mixes the operations as the frontend
//! does: OrdersPage 35 %, OrderDetail 30 %, OrderStats, UndeliveredShipments
//! and SearchOrders 10 % each, UpdateOrderStatus and CreateShipment 2.5 %
//! each; `--operation` runs one alone. Latencies are those of every request,
//! failed ones included (what a user waited), in an HDR histogram (µs, three
//! significant figures). A mutation refused with `BAD_USER_INPUT` because
//! its order moved on meanwhile is a conflict, not an error.
//!
//! The mutations change data for good: orders move forward (PENDING →
//! PROCESSING → PACKED → SHIPPED → DELIVERED) and collect shipments. Once no
//! order is left to move, UpdateOrderStatus's turns go to CreateShipment and
//! the report says so; re-seed the database to get movable orders back.
//!
//! In this process, on the bench database (seeded on first use, see
//! `support`), resolver cache off unless `--cache`:
//! `cargo run --release --example loadtest -- --clients 16 --duration 30s`
//!
//! Against a running service (plain HTTP), as the platform guide's k6 run:
//! `cargo run --release --example loadtest -- --url http://127.0.0.1:8080
//! --token "$(cargo run --release -- token --tenant demo --role MEMBER)"
//! --stages 30s:100,60s:100,30s:200,60s:200,30s:0 --budget-p95 all=500ms`
//!
//! A soak, memory sampled every 10 s (`--rss-every`; `--pid` names the
//! service's process with `--url`):
//! `cargo run --release --example loadtest -- --clients 64 --duration 10m`
//!
//! Exit status: 0 when every budget is met, 1 when one is missed, 2 when the
//! run cannot start (bad flags, unreachable service, refused token, no data).

// async-graphql's resolver futures nest deeper than the default limit.
#![recursion_limit = "256"]

#[path = "support/mod.rs"]
mod support;

use std::collections::{BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A request that has not answered by then is an error; a hung service
/// cannot stall the run for longer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Pages of `OrdersPage(first: 100)` walked at start-up for OrderDetail's
/// ids and SearchOrders' terms.
const ORDER_SAMPLE_PAGES: usize = 4;
/// The API's largest page.
const PAGE_SIZE: usize = 100;
/// Below this many movable orders the pool fetches the next page, so that
/// CreateShipment keeps spreading over many orders.
const MOVABLE_LOW_WATER: usize = 50;
/// How often the run prints where it is (on stderr).
const PROGRESS_EVERY: Duration = Duration::from_secs(10);
const TOKEN_HINT: &str = "get one with `cargo run --release -- token --tenant demo --role MEMBER`";

#[derive(Parser)]
#[command(about = "Load test of fulexo with the frontend's contract operations")]
struct Cli {
    /// The service's base URL or GraphQL endpoint, plain HTTP (e.g.
    /// http://127.0.0.1:8080). Without it the service runs in this process
    /// on the bench database.
    #[arg(long)]
    url: Option<String>,
    /// Bearer token for --url. In-process runs make their own.
    #[arg(long, env = "FULEXO_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Turn the resolver cache on in the in-process service (off by default,
    /// so the database is what is measured).
    #[arg(long, conflicts_with = "url")]
    cache: bool,
    /// `mix`, or one of OrdersPage, OrderDetail, OrderStats,
    /// UndeliveredShipments, SearchOrders, UpdateOrderStatus, CreateShipment.
    #[arg(long, value_name = "NAME", default_value = "mix", value_parser = parse_workload)]
    operation: Workload,
    /// Concurrent clients, each sending its next request once the last one
    /// answered.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    clients: u32,
    /// How long the measured run lasts, e.g. `30s`, `2m`.
    #[arg(long, default_value = "30s", value_parser = parse_positive_duration)]
    duration: Duration,
    /// Ramps instead of --clients/--duration: `DURATION:CLIENTS,…`, each
    /// stage moving linearly from the previous count (0 at first) to its own.
    #[arg(long, value_name = "STAGES", value_parser = parse_stages,
          conflicts_with_all = ["clients", "duration"])]
    stages: Option<Stages>,
    /// Unmeasured load before the run, at the clients it starts with (one
    /// before stages, which ramp up from none).
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    warmup: Duration,
    /// Highest p95 allowed, `OP=DURATION` (repeatable). OP is an operation,
    /// `all` (each operation) or `total` (all requests together).
    #[arg(long = "budget-p95", value_name = "OP=DURATION", value_parser = parse_budget)]
    budget_p95: Vec<LatencyBudget>,
    /// Highest p99 allowed, as --budget-p95.
    #[arg(long = "budget-p99", value_name = "OP=DURATION", value_parser = parse_budget)]
    budget_p99: Vec<LatencyBudget>,
    /// Largest share of failed requests allowed for each operation.
    #[arg(long, default_value_t = 0.01, value_parser = parse_rate)]
    max_error_rate: f64,
    /// Print the results as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// How often to sample the service's resident memory (RSS) during the
    /// measured run, for a soak: flat memory means nothing accumulates.
    #[arg(long, default_value = "10s", value_parser = parse_positive_duration)]
    rss_every: Duration,
    /// The service's process id, for --url on this machine (in-process runs
    /// sample their own process, service and clients together).
    #[arg(long, requires = "url")]
    pid: Option<u32>,
}

// ---------------------------------------------------------------------------
// Operations and the workload

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operation {
    OrdersPage,
    OrderDetail,
    OrderStats,
    UndeliveredShipments,
    SearchOrders,
    UpdateOrderStatus,
    CreateShipment,
}

impl Operation {
    const COUNT: usize = 7;
    /// In the report's order; `self as usize` indexes it.
    const ALL: [Operation; Self::COUNT] = [
        Self::OrdersPage,
        Self::OrderDetail,
        Self::OrderStats,
        Self::UndeliveredShipments,
        Self::SearchOrders,
        Self::UpdateOrderStatus,
        Self::CreateShipment,
    ];

    /// The contract file's name, which is also the operation's name.
    fn name(self) -> &'static str {
        match self {
            Self::OrdersPage => "OrdersPage",
            Self::OrderDetail => "OrderDetail",
            Self::OrderStats => "OrderStats",
            Self::UndeliveredShipments => "UndeliveredShipments",
            Self::SearchOrders => "SearchOrders",
            Self::UpdateOrderStatus => "UpdateOrderStatus",
            Self::CreateShipment => "CreateShipment",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|operation| operation.name().eq_ignore_ascii_case(name))
    }

    fn is_mutation(self) -> bool {
        matches!(self, Self::UpdateOrderStatus | Self::CreateShipment)
    }

    /// Share of the frontend-like mix, in thousandths.
    fn mix_weight(self) -> u32 {
        match self {
            Self::OrdersPage => 350,
            Self::OrderDetail => 300,
            Self::OrderStats | Self::UndeliveredShipments | Self::SearchOrders => 100,
            Self::UpdateOrderStatus | Self::CreateShipment => 25,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Workload {
    Mix,
    Only(Operation),
}

impl Workload {
    fn pick(self, rng: &mut impl Rng) -> Operation {
        match self {
            Workload::Only(operation) => operation,
            Workload::Mix => Self::pick_from_mix(rng.random_range(0..1000)),
        }
    }

    /// The operation whose slice of the mix holds `ticket` (0..1000).
    fn pick_from_mix(mut ticket: u32) -> Operation {
        for operation in Operation::ALL {
            if ticket < operation.mix_weight() {
                return operation;
            }
            ticket -= operation.mix_weight();
        }
        Operation::OrdersPage
    }

    fn includes(self, operation: Operation) -> bool {
        self == Workload::Mix || self == Workload::Only(operation)
    }

    fn includes_mutations(self) -> bool {
        Operation::ALL
            .into_iter()
            .any(|operation| operation.is_mutation() && self.includes(operation))
    }

    fn describe(self) -> String {
        match self {
            Workload::Only(operation) => operation.name().to_owned(),
            Workload::Mix => {
                let shares: Vec<String> = Operation::ALL
                    .into_iter()
                    .map(|operation| {
                        let percent = f64::from(operation.mix_weight()) / 10.0;
                        format!("{} {percent}%", operation.name())
                    })
                    .collect();
                format!("mix ({})", shares.join(", "))
            }
        }
    }
}

fn parse_workload(text: &str) -> Result<Workload, String> {
    if text.eq_ignore_ascii_case("mix") {
        return Ok(Workload::Mix);
    }
    parse_operation(text).map(Workload::Only)
}

fn parse_operation(text: &str) -> Result<Operation, String> {
    Operation::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = Operation::ALL.iter().map(|op| op.name()).collect();
        format!("unknown operation `{text}`; expected {}", names.join(", "))
    })
}

// ---------------------------------------------------------------------------
// Load shape

#[derive(Clone, Copy, Debug, Serialize)]
struct Stage {
    #[serde(rename = "duration_s", serialize_with = "seconds")]
    duration: Duration,
    clients: u32,
}

#[derive(Clone, Debug)]
struct Stages(Vec<Stage>);

fn parse_stages(text: &str) -> Result<Stages, String> {
    let stages = text
        .split(',')
        .map(parse_stage)
        .collect::<Result<Vec<_>, _>>()?;
    if stages.iter().all(|stage| stage.duration.is_zero()) {
        return Err("the stages last no time at all".into());
    }
    Ok(Stages(stages))
}

fn parse_stage(text: &str) -> Result<Stage, String> {
    let (duration, clients) = text
        .trim()
        .split_once(':')
        .ok_or_else(|| format!("stage `{text}` is not DURATION:CLIENTS (e.g. 30s:100)"))?;
    Ok(Stage {
        duration: humantime::parse_duration(duration.trim())
            .map_err(|error| format!("stage `{text}`: {error}"))?,
        clients: clients
            .trim()
            .parse()
            .map_err(|_| format!("stage `{text}`: `{clients}` is not a number of clients"))?,
    })
}

fn parse_positive_duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(duration) if !duration.is_zero() => Ok(duration),
        Ok(_) => Err("must be longer than zero".into()),
        Err(error) => Err(error.to_string()),
    }
}

/// When a moment of the run falls.
#[derive(Clone, Copy)]
enum Phase {
    WarmUp,
    /// This long after the measured run began.
    Measured(Duration),
}

enum LoadShape {
    Constant { clients: u32, duration: Duration },
    Ramp(Vec<Stage>),
}

impl LoadShape {
    fn from_cli(cli: &Cli) -> Self {
        match &cli.stages {
            Some(Stages(stages)) => LoadShape::Ramp(stages.clone()),
            None => LoadShape::Constant {
                clients: cli.clients,
                duration: cli.duration,
            },
        }
    }

    fn measured_duration(&self) -> Duration {
        match self {
            LoadShape::Constant { duration, .. } => *duration,
            LoadShape::Ramp(stages) => stages.iter().map(|stage| stage.duration).sum(),
        }
    }

    fn clients_at(&self, phase: Phase) -> u32 {
        match phase {
            // Warms connections and caches without a burst the ramp would
            // then undo.
            Phase::WarmUp => self.clients_at(Phase::Measured(Duration::ZERO)).max(1),
            Phase::Measured(elapsed) => match self {
                LoadShape::Constant { clients, .. } => *clients,
                LoadShape::Ramp(stages) => ramp_clients_at(stages, elapsed),
            },
        }
    }

    fn describe(&self) -> String {
        match self {
            LoadShape::Constant { clients, duration } => format!(
                "{clients} clients for {}, closed loop",
                humantime::format_duration(*duration)
            ),
            LoadShape::Ramp(stages) => {
                let steps: Vec<String> = stages
                    .iter()
                    .map(|stage| {
                        format!(
                            "{}:{}",
                            humantime::format_duration(stage.duration),
                            stage.clients
                        )
                    })
                    .collect();
                format!(
                    "stages {} ({} in all, closed loop, clients adjusted once a second)",
                    steps.join(","),
                    humantime::format_duration(self.measured_duration())
                )
            }
        }
    }

    fn to_json(&self) -> Value {
        match self {
            LoadShape::Constant { clients, duration } => {
                json!({ "clients": clients, "duration_s": duration.as_secs_f64() })
            }
            LoadShape::Ramp(stages) => json!({ "stages": stages }),
        }
    }
}

/// Clients `elapsed` into the stages: each stage moves linearly from the
/// previous stage's count (none before the first) to its own.
fn ramp_clients_at(stages: &[Stage], elapsed: Duration) -> u32 {
    let (mut from, mut stage_start) = (0u32, Duration::ZERO);
    for stage in stages {
        let stage_end = stage_start + stage.duration;
        if elapsed < stage_end {
            let progress = (elapsed - stage_start).as_secs_f64() / stage.duration.as_secs_f64();
            let clients = f64::from(from) + (f64::from(stage.clients) - f64::from(from)) * progress;
            return clients.round() as u32;
        }
        from = stage.clients;
        stage_start = stage_end;
    }
    from
}

// ---------------------------------------------------------------------------
// Budgets

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BudgetScope {
    EachOperation,
    Total,
    Operation(Operation),
}

#[derive(Clone, Debug)]
struct LatencyBudget {
    scope: BudgetScope,
    limit: Duration,
}

fn parse_budget(text: &str) -> Result<LatencyBudget, String> {
    let (scope, limit) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not OP=DURATION (e.g. OrdersPage=500ms)"))?;
    let scope = match scope.trim() {
        name if name.eq_ignore_ascii_case("all") => BudgetScope::EachOperation,
        name if name.eq_ignore_ascii_case("total") => BudgetScope::Total,
        name => BudgetScope::Operation(parse_operation(name)?),
    };
    let limit = humantime::parse_duration(limit.trim()).map_err(|error| error.to_string())?;
    Ok(LatencyBudget { scope, limit })
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!("`{text}` is not a rate between 0 and 1")),
    }
}

#[derive(Clone, Copy)]
enum Quantile {
    P95,
    P99,
}

impl Quantile {
    fn label(self) -> &'static str {
        match self {
            Quantile::P95 => "p95",
            Quantile::P99 => "p99",
        }
    }

    fn of(self, figures: &Figures) -> f64 {
        match self {
            Quantile::P95 => figures.p95_ms,
            Quantile::P99 => figures.p99_ms,
        }
    }
}

struct Budgets {
    p95: Vec<LatencyBudget>,
    p99: Vec<LatencyBudget>,
    max_error_rate: f64,
}

impl Budgets {
    fn from_cli(cli: &Cli) -> Self {
        Budgets {
            p95: cli.budget_p95.clone(),
            p99: cli.budget_p99.clone(),
            max_error_rate: cli.max_error_rate,
        }
    }

    /// A budget for an operation the run never sends could never be judged.
    fn check_against(&self, workload: Workload) -> Result<(), String> {
        for budget in self.p95.iter().chain(&self.p99) {
            if let BudgetScope::Operation(operation) = budget.scope
                && !workload.includes(operation)
            {
                return Err(format!(
                    "a budget names {}, which `--operation {}` never sends",
                    operation.name(),
                    workload.describe()
                ));
            }
        }
        Ok(())
    }

    /// What the run missed, one readable line each.
    fn missed(&self, report: &Report) -> Vec<String> {
        let mut missed = Vec::new();
        if report.total.requests == 0 {
            missed.push("no request completed in the measured run".to_owned());
        }
        for (quantile, budgets) in [(Quantile::P95, &self.p95), (Quantile::P99, &self.p99)] {
            for budget in budgets {
                for figures in report.judged_by(budget.scope) {
                    missed.extend(figures.latency_miss(quantile, budget.limit));
                }
            }
        }
        for figures in &report.operations {
            missed.extend(figures.error_rate_miss(self.max_error_rate));
        }
        missed
    }
}

// ---------------------------------------------------------------------------
// Talking to the service

/// The body of a GraphQL request; borrowed, so that the hot loop does not
/// copy the documents.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GraphQlRequest<'a> {
    query: &'a str,
    operation_name: &'a str,
    variables: &'a Value,
}

/// Only what checking an answer needs; `data` is skipped, not built.
#[derive(Deserialize)]
struct AnswerErrors {
    errors: Option<Vec<GraphQlError>>,
}

#[derive(Deserialize)]
struct GraphQlError {
    message: String,
    #[serde(default)]
    path: Vec<Value>,
    extensions: Option<ErrorExtensions>,
}

#[derive(Deserialize)]
struct ErrorExtensions {
    code: Option<String>,
}

impl GraphQlError {
    fn code(&self) -> Option<&str> {
        self.extensions.as_ref()?.code.as_deref()
    }

    /// A resolver refused the input after the request was accepted: for a
    /// mutation that means the order was not (or no longer) in a state that
    /// allows it. Errors without a path are request errors (a malformed
    /// document or variables), which are this program's fault, not a race.
    fn is_state_conflict(&self) -> bool {
        self.code() == Some("BAD_USER_INPUT") && !self.path.is_empty()
    }
}

/// How one request went.
enum Outcome {
    Answered,
    /// A mutation refused because its order moved on meanwhile.
    Conflict(String),
    Failed(String),
}

fn classify(operation: Operation, status: StatusCode, body: &[u8]) -> Outcome {
    if status != StatusCode::OK {
        return Outcome::Failed(format!("HTTP {status}: {}", snippet(body)));
    }
    let answer: AnswerErrors = match serde_json::from_slice(body) {
        Ok(answer) => answer,
        Err(error) => {
            return Outcome::Failed(format!("not a JSON answer ({error}): {}", snippet(body)));
        }
    };
    let errors = answer.errors.unwrap_or_default();
    if errors.is_empty() {
        Outcome::Answered
    } else if operation.is_mutation() && errors.iter().all(GraphQlError::is_state_conflict) {
        Outcome::Conflict(describe_errors(&errors))
    } else {
        Outcome::Failed(describe_errors(&errors))
    }
}

fn describe_errors(errors: &[GraphQlError]) -> String {
    let described: Vec<String> = errors
        .iter()
        .map(|error| format!("{}: {}", error.code().unwrap_or("no code"), error.message))
        .collect();
    described.join("; ")
}

/// The start of a body, for messages.
fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(200).collect()
}

/// An error with its causes: reqwest's own text rarely says what failed.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

/// The contract documents, indexed by `Operation as usize`.
struct Documents(Vec<String>);

impl Documents {
    fn load() -> Result<Self, String> {
        let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/contract/operations");
        Operation::ALL
            .into_iter()
            .map(|operation| {
                let path = format!("{folder}/{}.graphql", operation.name());
                std::fs::read_to_string(&path)
                    .map_err(|error| format!("cannot read the contract document {path}: {error}"))
            })
            .collect::<Result<_, _>>()
            .map(Documents)
    }

    fn get(&self, operation: Operation) -> &str {
        &self.0[operation as usize]
    }
}

struct Api {
    http: reqwest::Client,
    endpoint: Url,
    token: String,
    documents: Documents,
}

impl Api {
    fn new(endpoint: Url, token: String, documents: Documents) -> Result<Self, String> {
        let http = support::http_client(
            reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .connect_timeout(Duration::from_secs(5)),
            support::BROWSER_ENCODINGS,
        );
        Ok(Api {
            http,
            endpoint,
            token,
            documents,
        })
    }

    async fn post(
        &self,
        operation: Operation,
        variables: &Value,
    ) -> Result<(StatusCode, bytes::Bytes), String> {
        let request = GraphQlRequest {
            query: self.documents.get(operation),
            operation_name: operation.name(),
            variables,
        };
        let response = self
            .http
            .post(self.endpoint.clone())
            .bearer_auth(&self.token)
            .json(&request)
            .send()
            .await
            .map_err(|error| error_chain(&error))?;
        let status = response.status();
        Ok((status, support::answer_body(response).await?))
    }

    /// One measured request.
    async fn send(&self, operation: Operation, variables: &Value) -> Outcome {
        match self.post(operation, variables).await {
            Ok((status, body)) => classify(operation, status, &body),
            Err(error) => Outcome::Failed(error),
        }
    }

    /// An unmeasured query whose `data` the run needs; the error says what
    /// to do about it.
    async fn fetch(&self, operation: Operation, variables: &Value) -> Result<Value, String> {
        let (status, body) = self
            .post(operation, variables)
            .await
            .map_err(|error| format!("cannot reach {}: {error}", self.endpoint))?;
        if status == StatusCode::UNAUTHORIZED {
            return Err(format!(
                "{} refused the token (HTTP 401): {TOKEN_HINT}",
                self.endpoint
            ));
        }
        if let Outcome::Failed(reason) = classify(operation, status, &body) {
            return Err(format!(
                "{} from {}: {reason}",
                operation.name(),
                self.endpoint
            ));
        }
        let mut answer: Value = serde_json::from_slice(&body).map_err(|error| error.to_string())?;
        Ok(answer["data"].take())
    }

    /// One page of `OrdersPage`, newest first, optionally of some statuses.
    async fn orders_page(
        &self,
        after: Option<&str>,
        statuses: Option<&[&str]>,
    ) -> Result<OrdersPage, String> {
        let variables = json!({ "first": PAGE_SIZE, "after": after, "status": statuses });
        let data = self.fetch(Operation::OrdersPage, &variables).await?;
        OrdersPage::from_data(&data)
            .ok_or_else(|| format!("OrdersPage answered an unexpected shape: {data}"))
    }
}

struct OrderNode {
    id: String,
    status: String,
    customer_email: Option<String>,
}

struct OrdersPage {
    orders: Vec<OrderNode>,
    /// Where the next page starts, if there is one.
    next: Option<String>,
}

impl OrdersPage {
    fn from_data(data: &Value) -> Option<Self> {
        let connection = &data["orders"];
        let orders = connection["edges"]
            .as_array()?
            .iter()
            .map(|edge| {
                let node = &edge["node"];
                Some(OrderNode {
                    id: node["id"].as_str()?.to_owned(),
                    status: node["status"].as_str()?.to_owned(),
                    customer_email: node["customerEmail"].as_str().map(str::to_owned),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let page_info = &connection["pageInfo"];
        let next = match page_info["hasNextPage"].as_bool()? {
            true => Some(page_info["endCursor"].as_str()?.to_owned()),
            false => None,
        };
        Some(OrdersPage { orders, next })
    }
}

// ---------------------------------------------------------------------------
// What the requests are about

/// Real ids and e-mail fragments of the token's tenant, so that reads find
/// something, as a user's would.
struct Fixtures {
    order_ids: Vec<String>,
    search_terms: Vec<String>,
}

impl Fixtures {
    async fn load(api: &Api) -> Result<Self, String> {
        let mut order_ids = Vec::new();
        let mut search_terms = BTreeSet::new();
        let mut after = None;
        for _ in 0..ORDER_SAMPLE_PAGES {
            let page = api.orders_page(after.as_deref(), None).await?;
            for order in page.orders {
                search_terms.extend(
                    order
                        .customer_email
                        .as_deref()
                        .and_then(support::search_term),
                );
                order_ids.push(order.id);
            }
            after = page.next;
            if after.is_none() {
                break;
            }
        }
        if order_ids.is_empty() || search_terms.is_empty() {
            return Err("the token's tenant has no orders (with e-mails) to read: \
                        seed the database (`cargo run --release -- seed`)"
                .into());
        }
        Ok(Fixtures {
            order_ids,
            search_terms: search_terms.into_iter().collect(),
        })
    }
}

/// The legal forward moves UpdateOrderStatus makes.
const TRANSITIONS: [(&str, &str); 4] = [
    ("PENDING", "PROCESSING"),
    ("PROCESSING", "PACKED"),
    ("PACKED", "SHIPPED"),
    ("SHIPPED", "DELIVERED"),
];
const MOVABLE_STATUSES: [&str; 4] = ["PENDING", "PROCESSING", "PACKED", "SHIPPED"];

fn next_status(status: &str) -> Option<&'static str> {
    TRANSITIONS
        .iter()
        .find(|(from, _)| *from == status)
        .map(|(_, to)| *to)
}

/// An order that can still move forward, as this run last left it.
struct Movable {
    id: String,
    status: &'static str,
}

impl Movable {
    fn from_node(node: OrderNode) -> Option<Self> {
        let status = MOVABLE_STATUSES
            .into_iter()
            .find(|status| *status == node.status)?;
        Some(Movable {
            id: node.id,
            status,
        })
    }

    /// The status this order moves to next.
    fn next_status(&self) -> &'static str {
        next_status(self.status).unwrap_or("DELIVERED")
    }

    /// The order after its move, if it can move again.
    fn moved(self) -> Option<Self> {
        let status = self.next_status();
        next_status(status)
            .is_some()
            .then_some(Movable { status, ..self })
    }
}

/// The orders the mutations work on. An order being moved is out of the
/// queue, so two clients never race each other over it: a conflict means
/// someone else moved it.
struct MovableOrders {
    state: tokio::sync::Mutex<MovableState>,
}

struct MovableState {
    queue: VecDeque<Movable>,
    /// Where the next page of movable orders starts (`None`: at the first).
    next_page: Option<String>,
    /// The last page was fetched (or fetching failed): there is no more.
    fetched_all: bool,
    /// Why fetching more stopped early, for the report.
    problem: Option<String>,
}

impl MovableOrders {
    fn empty() -> Self {
        MovableOrders {
            state: tokio::sync::Mutex::new(MovableState {
                queue: VecDeque::new(),
                next_page: None,
                fetched_all: false,
                problem: None,
            }),
        }
    }

    async fn load(api: &Api) -> Self {
        let pool = Self::empty();
        pool.state.lock().await.fetch_more(api).await;
        pool
    }

    async fn is_empty(&self) -> bool {
        self.state.lock().await.queue.is_empty()
    }

    async fn problem(&self) -> Option<String> {
        self.state.lock().await.problem.clone()
    }

    /// The next order to move, fetching more when few are left.
    async fn take(&self, api: &Api) -> Option<Movable> {
        let mut state = self.state.lock().await;
        if state.queue.len() < MOVABLE_LOW_WATER && !state.fetched_all {
            state.fetch_more(api).await;
        }
        state.queue.pop_front()
    }

    /// Back at the end of the queue after a move.
    async fn give_back(&self, order: Movable) {
        self.state.lock().await.queue.push_back(order);
    }

    /// A movable order to add a shipment to; it stays in the queue.
    async fn any(&self, rng: &mut impl Rng) -> Option<String> {
        let state = self.state.lock().await;
        if state.queue.is_empty() {
            return None;
        }
        let index = rng.random_range(0..state.queue.len());
        Some(state.queue[index].id.clone())
    }
}

impl MovableState {
    async fn fetch_more(&mut self, api: &Api) {
        match api
            .orders_page(self.next_page.as_deref(), Some(&MOVABLE_STATUSES))
            .await
        {
            Ok(page) => {
                let movable = page.orders.into_iter().filter_map(Movable::from_node);
                self.queue.extend(movable);
                self.fetched_all = page.next.is_none();
                self.next_page = page.next;
            }
            Err(reason) => {
                // Retrying on every mutation would add load the report does
                // not show; the queue's orders keep the run going.
                self.fetched_all = true;
                self.problem = Some(reason);
            }
        }
    }
}

/// Tracking numbers no other run has used: the carrier's number must be new
/// in the tenant, and process ids come back.
struct TrackingNumbers {
    prefix: String,
    next: AtomicU64,
}

impl TrackingNumbers {
    fn new() -> Self {
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        TrackingNumbers {
            prefix: format!("LT-{}-{started}", std::process::id()),
            next: AtomicU64::new(1),
        }
    }

    fn next(&self) -> String {
        format!(
            "{}-{}",
            self.prefix,
            self.next.fetch_add(1, Ordering::Relaxed)
        )
    }
}

// ---------------------------------------------------------------------------
// Measuring

/// Latency of one operation's requests, and how they ended.
#[derive(Clone)]
struct OperationStats {
    /// Microseconds.
    latency: Histogram<u64>,
    errors: u64,
    conflicts: u64,
    first_error: Option<String>,
    first_conflict: Option<String>,
}

impl OperationStats {
    fn new() -> Self {
        // One microsecond to an hour, far beyond REQUEST_TIMEOUT.
        let latency = Histogram::new_with_bounds(1, 3_600_000_000, 3)
            .expect("constant histogram bounds are valid");
        OperationStats {
            latency,
            errors: 0,
            conflicts: 0,
            first_error: None,
            first_conflict: None,
        }
    }

    fn record(&mut self, latency: Duration, outcome: Outcome) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency.saturating_record(micros.max(1));
        match outcome {
            Outcome::Answered => {}
            Outcome::Conflict(reason) => {
                self.conflicts += 1;
                self.first_conflict.get_or_insert(reason);
            }
            Outcome::Failed(reason) => {
                self.errors += 1;
                self.first_error.get_or_insert(reason);
            }
        }
    }

    fn merge(&mut self, other: OperationStats) {
        self.latency
            .add(&other.latency)
            .expect("histograms with the same bounds add up");
        self.errors += other.errors;
        self.conflicts += other.conflicts;
        self.first_error = self.first_error.take().or(other.first_error);
        self.first_conflict = self.first_conflict.take().or(other.first_conflict);
    }
}

/// Per operation, indexed by `Operation as usize`.
struct Stats(Vec<OperationStats>);

impl Stats {
    fn new() -> Self {
        Stats(vec![OperationStats::new(); Operation::COUNT])
    }

    fn record(&mut self, operation: Operation, latency: Duration, outcome: Outcome) {
        self.0[operation as usize].record(latency, outcome);
    }

    fn merge(&mut self, other: Stats) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            mine.merge(theirs);
        }
    }

    fn all_operations(&self) -> OperationStats {
        let mut total = OperationStats::new();
        for operation in &self.0 {
            total.merge(operation.clone());
        }
        total
    }
}

/// What every client shares.
struct Run {
    api: Api,
    workload: Workload,
    fixtures: Fixtures,
    movable: MovableOrders,
    tracking_numbers: TrackingNumbers,
    /// Requests that start earlier are warm-up.
    measure_from: Instant,
    /// No request starts later.
    until: Instant,
    completed: AtomicU64,
    /// UpdateOrderStatus turns that ran CreateShipment: no order to move.
    transitions_unavailable: AtomicU64,
}

/// A request ready to go, and the order it moves, if any.
struct Prepared {
    operation: Operation,
    variables: Value,
    moving: Option<Movable>,
}

impl Run {
    fn phase(&self, at: Instant) -> Phase {
        match at.checked_duration_since(self.measure_from) {
            Some(elapsed) => Phase::Measured(elapsed),
            None => Phase::WarmUp,
        }
    }

    /// Picks the variables (and for mutations the order), outside the
    /// measured time.
    async fn prepare(&self, operation: Operation, rng: &mut impl Rng) -> Prepared {
        let variables = match operation {
            Operation::OrdersPage | Operation::UndeliveredShipments => json!({ "first": 50 }),
            Operation::OrderStats => json!({ "days": 30 }),
            Operation::OrderDetail => json!({ "id": pick(&self.fixtures.order_ids, rng) }),
            Operation::SearchOrders => {
                json!({ "q": pick(&self.fixtures.search_terms, rng), "first": 20 })
            }
            Operation::UpdateOrderStatus => return self.prepare_transition(rng).await,
            Operation::CreateShipment => return self.prepare_shipment(rng).await,
        };
        Prepared {
            operation,
            variables,
            moving: None,
        }
    }

    async fn prepare_transition(&self, rng: &mut impl Rng) -> Prepared {
        let Some(order) = self.movable.take(&self.api).await else {
            self.transitions_unavailable.fetch_add(1, Ordering::Relaxed);
            return self.prepare_shipment(rng).await;
        };
        Prepared {
            operation: Operation::UpdateOrderStatus,
            variables: json!({ "id": order.id, "status": order.next_status() }),
            moving: Some(order),
        }
    }

    async fn prepare_shipment(&self, rng: &mut impl Rng) -> Prepared {
        // With no movable order left any order will do: the refusal is then
        // counted as a conflict, and the report says why.
        let order_id = match self.movable.any(rng).await {
            Some(id) => id,
            None => pick(&self.fixtures.order_ids, rng).to_owned(),
        };
        Prepared {
            operation: Operation::CreateShipment,
            variables: json!({
                "orderId": order_id,
                "carrier": "DHL",
                "trackingNo": self.tracking_numbers.next(),
            }),
            moving: None,
        }
    }

    /// A moved order goes back for its next move; one that failed or
    /// conflicted is in an unknown state and is dropped.
    async fn settle(&self, moving: Option<Movable>, outcome: &Outcome) {
        if let (Some(order), Outcome::Answered) = (moving, outcome)
            && let Some(moved) = order.moved()
        {
            self.movable.give_back(moved).await;
        }
    }
}

fn pick<'a>(items: &'a [String], rng: &mut impl Rng) -> &'a str {
    &items[rng.random_range(0..items.len())]
}

/// One client: send, wait for the answer, send again.
async fn client_loop(run: Arc<Run>, seed: u64, stop: Arc<AtomicBool>) -> Stats {
    // Seeded by client number: with the same flags each client picks the
    // same operations and ids run after run.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut stats = Stats::new();
    while !stop.load(Ordering::Relaxed) && Instant::now() < run.until {
        let operation = run.workload.pick(&mut rng);
        let Prepared {
            operation,
            variables,
            moving,
        } = run.prepare(operation, &mut rng).await;
        let started = Instant::now();
        let outcome = run.api.send(operation, &variables).await;
        let latency = started.elapsed();
        run.settle(moving, &outcome).await;
        run.completed.fetch_add(1, Ordering::Relaxed);
        if started >= run.measure_from {
            stats.record(operation, latency, outcome);
        }
    }
    stats
}

struct Client {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Stats>,
}

/// The running clients. Stopped ones finish their request; their figures
/// are collected at the end with everyone's.
struct Crew {
    run: Arc<Run>,
    active: Vec<Client>,
    stopped: Vec<tokio::task::JoinHandle<Stats>>,
    started: u64,
}

impl Crew {
    fn new(run: Arc<Run>) -> Self {
        Crew {
            run,
            active: Vec::new(),
            stopped: Vec::new(),
            started: 0,
        }
    }

    fn resize(&mut self, clients: u32) {
        let clients = clients as usize;
        while self.active.len() < clients {
            self.started += 1;
            let stop = Arc::new(AtomicBool::new(false));
            let task = tokio::spawn(client_loop(self.run.clone(), self.started, stop.clone()));
            self.active.push(Client { stop, task });
        }
        // Newest first, as k6 ramps down.
        while self.active.len() > clients {
            if let Some(client) = self.active.pop() {
                client.stop.store(true, Ordering::Relaxed);
                self.stopped.push(client.task);
            }
        }
    }

    async fn finish(mut self) -> Stats {
        self.resize(0);
        let mut stats = Stats::new();
        for task in self.stopped {
            stats.merge(task.await.expect("a client panicked"));
        }
        stats
    }
}

/// The resident memory of a process over the measured run, read from
/// `/proc/PID/status`.
struct Memory {
    pid: u32,
    every: Duration,
    samples: Vec<RssSample>,
}

#[derive(Serialize)]
struct RssSample {
    at_s: f64,
    rss_mib: f64,
}

impl Memory {
    fn new(pid: u32, every: Duration) -> Self {
        Self {
            pid,
            every,
            samples: Vec::new(),
        }
    }

    /// Samples when the next sample is due at `elapsed` into the run.
    fn sample_if_due(&mut self, elapsed: Duration) {
        if elapsed >= self.next_due() {
            self.sample(elapsed);
        }
    }

    fn sample(&mut self, elapsed: Duration) {
        if let Some(kib) = resident_kib(self.pid) {
            self.samples.push(RssSample {
                at_s: elapsed.as_secs_f64(),
                rss_mib: kib as f64 / 1024.0,
            });
        }
    }

    /// When the next sample is due, for the driver's sleep.
    fn next_due(&self) -> Duration {
        self.every * self.samples.len() as u32
    }

    fn print(&self) {
        let (Some(first), Some(last)) = (self.samples.first(), self.samples.last()) else {
            println!("memory: process {} could not be read", self.pid);
            return;
        };
        println!(
            "\nmemory (RSS of process {}, every {})",
            self.pid,
            humantime::format_duration(self.every)
        );
        for sample in &self.samples {
            println!("  {:>6.0} s  {:>8.1} MiB", sample.at_s, sample.rss_mib);
        }
        let peak = self
            .samples
            .iter()
            .map(|sample| sample.rss_mib)
            .fold(0.0, f64::max);
        println!(
            "  first {:.1} MiB, last {:.1} MiB ({:+.1} MiB), peak {:.1} MiB",
            first.rss_mib,
            last.rss_mib,
            last.rss_mib - first.rss_mib,
            peak
        );
    }
}

/// `VmRSS` of a process, in KiB (Linux).
fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Runs the warm-up and the measured run, adjusting the clients once a
/// second and sampling memory; returns the figures and how long the
/// measured run took.
async fn drive(run: Arc<Run>, shape: &LoadShape, memory: &mut Option<Memory>) -> (Stats, Duration) {
    let mut crew = Crew::new(run.clone());
    let mut next_progress = PROGRESS_EVERY;
    loop {
        let now = Instant::now();
        if now >= run.until {
            break;
        }
        let phase = run.phase(now);
        crew.resize(shape.clients_at(phase));
        if let (Phase::Measured(elapsed), Some(memory)) = (phase, memory.as_mut()) {
            memory.sample_if_due(elapsed);
        }
        if let Phase::Measured(elapsed) = phase
            && elapsed >= next_progress
        {
            eprintln!(
                "  {:>4} s  {:>5} clients  {:>9} requests",
                elapsed.as_secs(),
                crew.active.len(),
                run.completed.load(Ordering::Relaxed)
            );
            next_progress += PROGRESS_EVERY;
        }
        // The warm-up's end is a boundary too: it need not fall on a second.
        let boundary = if now < run.measure_from {
            run.measure_from
        } else {
            run.until
        };
        let mut wake = (now + Duration::from_secs(1)).min(boundary);
        if let Some(memory) = memory.as_ref() {
            wake = wake.min(run.measure_from + memory.next_due()).max(now);
        }
        tokio::time::sleep_until(wake.into()).await;
    }
    if let Some(memory) = memory.as_mut() {
        memory.sample(run.measure_from.elapsed());
    }
    let stats = crew.finish().await;
    // Until the last request answered: those in flight at the end count.
    (stats, run.measure_from.elapsed())
}

// ---------------------------------------------------------------------------
// Reporting

#[derive(Serialize)]
struct Figures {
    operation: String,
    requests: u64,
    throughput_rps: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    errors: u64,
    error_rate: f64,
    conflicts: u64,
    first_error: Option<String>,
    first_conflict: Option<String>,
}

impl Figures {
    fn new(label: &str, stats: &OperationStats, elapsed: Duration) -> Self {
        let latency = &stats.latency;
        let requests = latency.len();
        let millis = |micros: u64| micros as f64 / 1000.0;
        Figures {
            operation: label.to_owned(),
            requests,
            throughput_rps: requests as f64 / elapsed.as_secs_f64().max(f64::EPSILON),
            p50_ms: millis(latency.value_at_quantile(0.50)),
            p95_ms: millis(latency.value_at_quantile(0.95)),
            p99_ms: millis(latency.value_at_quantile(0.99)),
            max_ms: millis(latency.max()),
            errors: stats.errors,
            error_rate: if requests == 0 {
                0.0
            } else {
                stats.errors as f64 / requests as f64
            },
            conflicts: stats.conflicts,
            first_error: stats.first_error.clone(),
            first_conflict: stats.first_conflict.clone(),
        }
    }

    fn latency_miss(&self, quantile: Quantile, limit: Duration) -> Option<String> {
        let (label, budget) = (quantile.label(), humantime::format_duration(limit));
        if self.requests == 0 {
            return Some(format!(
                "{} {label}: no request measured (budget {budget})",
                self.operation
            ));
        }
        let measured = quantile.of(self);
        (measured > limit.as_secs_f64() * 1000.0).then(|| {
            format!(
                "{} {label} {measured:.2} ms > budget {budget}",
                self.operation
            )
        })
    }

    fn error_rate_miss(&self, max_error_rate: f64) -> Option<String> {
        (self.error_rate > max_error_rate).then(|| {
            format!(
                "{} error rate {:.2}% > budget {:.2}% ({} of {}; first: {})",
                self.operation,
                self.error_rate * 100.0,
                max_error_rate * 100.0,
                self.errors,
                self.requests,
                self.first_error.as_deref().unwrap_or("?")
            )
        })
    }

    fn table_row(&self) -> String {
        format!(
            "{:<22} {:>9} {:>9.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>7} {:>7.2}% {:>9}",
            self.operation,
            self.requests,
            self.throughput_rps,
            self.p50_ms,
            self.p95_ms,
            self.p99_ms,
            self.max_ms,
            self.errors,
            self.error_rate * 100.0,
            self.conflicts
        )
    }
}

const TABLE_HEADER: &str = "operation               requests     req/s    p50 ms    p95 ms    \
                            p99 ms    max ms  errors   error % conflicts";

struct Report {
    operations: Vec<Figures>,
    total: Figures,
    elapsed: Duration,
}

impl Report {
    fn new(stats: &Stats, workload: Workload, elapsed: Duration) -> Self {
        let operations = Operation::ALL
            .into_iter()
            .filter(|operation| {
                // CreateShipment also runs UpdateOrderStatus's turns when no
                // order is left to move.
                workload.includes(*operation) || !stats.0[*operation as usize].latency.is_empty()
            })
            .map(|operation| Figures::new(operation.name(), &stats.0[operation as usize], elapsed))
            .collect();
        Report {
            operations,
            total: Figures::new("total", &stats.all_operations(), elapsed),
            elapsed,
        }
    }

    /// The figures a budget of this scope is judged on.
    fn judged_by(&self, scope: BudgetScope) -> Vec<&Figures> {
        match scope {
            BudgetScope::EachOperation => self.operations.iter().collect(),
            BudgetScope::Total => vec![&self.total],
            BudgetScope::Operation(operation) => self
                .operations
                .iter()
                .filter(|figures| figures.operation == operation.name())
                .collect(),
        }
    }

    fn print_table(&self) {
        println!();
        println!("{TABLE_HEADER}");
        for figures in &self.operations {
            println!("{}", figures.table_row());
        }
        println!("{}", self.total.table_row());
        println!("measured for {:.1} s", self.elapsed.as_secs_f64());
        for figures in &self.operations {
            if let Some(error) = &figures.first_error {
                println!("first {} error: {error}", figures.operation);
            }
            if let Some(conflict) = &figures.first_conflict {
                println!("first {} conflict: {conflict}", figures.operation);
            }
        }
    }
}

/// How the run was set up, for the header and the JSON.
struct Settings {
    target: String,
    cache: Option<bool>,
    workload: Workload,
    warmup: Duration,
    fixtures: String,
}

impl Settings {
    fn print(&self, shape: &LoadShape) {
        println!("target    {}", self.target);
        if let Some(cache) = self.cache {
            println!(
                "cache     resolver cache {}",
                if cache { "on" } else { "off" }
            );
        }
        println!("workload  {}", self.workload.describe());
        println!("load      {}", shape.describe());
        println!("warm-up   {}", humantime::format_duration(self.warmup));
        println!("fixtures  {}", self.fixtures);
    }
}

fn results_json(
    settings: &Settings,
    shape: &LoadShape,
    report: &Report,
    memory: &Option<Memory>,
    notes: &[String],
    missed: &[String],
) -> Value {
    json!({
        "settings": {
            "target": settings.target,
            "cache": settings.cache,
            "workload": settings.workload.describe(),
            "load": shape.to_json(),
            "warmup_s": settings.warmup.as_secs_f64(),
        },
        "elapsed_s": report.elapsed.as_secs_f64(),
        "operations": report.operations,
        "total": report.total,
        "memory": memory.as_ref().map(|memory| json!({
            "pid": memory.pid,
            "every_s": memory.every.as_secs_f64(),
            "samples": memory.samples,
        })),
        "notes": notes,
        "missed_budgets": missed,
        "passed": missed.is_empty(),
    })
}

fn seconds<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}

/// What the reader should know besides the figures.
async fn notes(run: &Run) -> Vec<String> {
    let mut notes = Vec::new();
    let unavailable = run.transitions_unavailable.load(Ordering::Relaxed);
    if unavailable > 0 {
        notes.push(format!(
            "no order was left to move for {unavailable} UpdateOrderStatus turns; they ran \
             CreateShipment instead. Re-seed the database to get movable orders back."
        ));
    }
    if let Some(problem) = run.movable.problem().await {
        notes.push(format!("fetching more movable orders failed: {problem}"));
    }
    notes
}

// ---------------------------------------------------------------------------
// Start-up

/// The service under load and how to call it.
struct Target {
    endpoint: Url,
    token: String,
    description: String,
    /// Whether the in-process service caches resolvers; unknown for --url.
    cache: Option<bool>,
    /// Keeps the in-process service serving until the end.
    _app: Option<support::RunningApp>,
}

async fn target(cli: &Cli) -> Result<Target, String> {
    match &cli.url {
        Some(url) => remote_target(url, cli.token.clone()),
        None => in_process_target(cli.cache).await,
    }
}

fn remote_target(url: &str, token: Option<String>) -> Result<Target, String> {
    let token = token
        .filter(|token| !token.trim().is_empty())
        .ok_or_else(|| {
            format!("--url needs a token: pass --token or set FULEXO_TOKEN ({TOKEN_HINT})")
        })?;
    let endpoint = graphql_endpoint(url)?;
    Ok(Target {
        description: endpoint.to_string(),
        endpoint,
        token,
        cache: None,
        _app: None,
    })
}

/// `http://host:port` and `http://host:port/graphql` both mean the endpoint.
fn graphql_endpoint(url: &str) -> Result<Url, String> {
    let mut endpoint = Url::parse(url).map_err(|error| format!("--url `{url}`: {error}"))?;
    if endpoint.scheme() != "http" {
        return Err(format!(
            "--url `{url}`: this load test speaks plain http:// only (its HTTP client is built \
             without TLS); use the service's own port"
        ));
    }
    if !endpoint.path().ends_with("/graphql") {
        let path = format!("{}/graphql", endpoint.path().trim_end_matches('/'));
        endpoint.set_path(&path);
    }
    Ok(endpoint)
}

async fn in_process_target(cache: bool) -> Result<Target, String> {
    // `support` panics on what it cannot do (no PostgreSQL, no Redis); in a
    // task of its own that becomes an error message.
    let started = tokio::spawn(async move {
        let database = support::bench_database().await;
        let cache_setting = if cache { "true" } else { "false" };
        let app = support::spawn_app(&database, &[("CACHE_ENABLED", cache_setting)]).await;
        let token = support::demo_token(&database, &app.state.jwt).await;
        (database, app, token)
    })
    .await;
    let (database, app, token) = started.map_err(|_| {
        "could not start the service in this process (see the panic above): is PostgreSQL \
         running at BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/fulexo_bench)?"
            .to_owned()
    })?;
    // The database's name only: a URL may hold a password.
    let database_name = database.rsplit('/').next().unwrap_or("?").to_owned();
    Ok(Target {
        endpoint: graphql_endpoint(&app.address)?,
        token,
        description: format!(
            "in-process service at {} on database {database_name}",
            app.address
        ),
        cache: Some(cache),
        _app: Some(app),
    })
}

/// Prints why the run cannot start and exits with status 2.
fn exit_unable(reason: &str) -> ! {
    eprintln!("loadtest: {reason}");
    std::process::exit(2);
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let shape = LoadShape::from_cli(&cli);
    let budgets = Budgets::from_cli(&cli);
    if let Err(reason) = budgets.check_against(cli.operation) {
        exit_unable(&reason);
    }
    let documents = Documents::load().unwrap_or_else(|reason| exit_unable(&reason));
    let target = target(&cli)
        .await
        .unwrap_or_else(|reason| exit_unable(&reason));
    let api = Api::new(target.endpoint.clone(), target.token.clone(), documents)
        .unwrap_or_else(|reason| exit_unable(&reason));

    eprintln!("loadtest: reading orders to send requests about");
    let fixtures = Fixtures::load(&api)
        .await
        .unwrap_or_else(|reason| exit_unable(&reason));
    let movable = if cli.operation.includes_mutations() {
        MovableOrders::load(&api).await
    } else {
        MovableOrders::empty()
    };
    if cli.operation.includes_mutations() && movable.is_empty().await {
        let problem = movable.problem().await.unwrap_or_default();
        exit_unable(&format!(
            "no order of the tenant can still move (all DELIVERED or CANCELLED), so the \
             mutations have nothing to work on: re-seed the database, or run a read \
             --operation. {problem}"
        ));
    }
    let settings = Settings {
        target: target.description.clone(),
        cache: target.cache,
        workload: cli.operation,
        warmup: cli.warmup,
        fixtures: format!(
            "{} order ids, {} e-mail search terms",
            fixtures.order_ids.len(),
            fixtures.search_terms.len()
        ),
    };
    if !cli.json {
        settings.print(&shape);
    }

    let measure_from = Instant::now() + cli.warmup;
    let run = Arc::new(Run {
        api,
        workload: cli.operation,
        fixtures,
        movable,
        tracking_numbers: TrackingNumbers::new(),
        measure_from,
        until: measure_from + shape.measured_duration(),
        completed: AtomicU64::new(0),
        transitions_unavailable: AtomicU64::new(0),
    });
    let pid = match (&cli.url, cli.pid) {
        (None, _) => Some(std::process::id()),
        (Some(_), pid) => pid,
    };
    let mut memory = pid.map(|pid| Memory::new(pid, cli.rss_every));
    let (stats, elapsed) = drive(run.clone(), &shape, &mut memory).await;

    let report = Report::new(&stats, cli.operation, elapsed);
    let notes = notes(&run).await;
    let missed = budgets.missed(&report);
    if cli.json {
        println!(
            "{}",
            results_json(&settings, &shape, &report, &memory, &notes, &missed)
        );
    } else {
        report.print_table();
        if let Some(memory) = &memory {
            memory.print();
        }
        print_verdict(&notes, &missed);
    }
    if !missed.is_empty() {
        std::process::exit(1);
    }
}

fn print_verdict(notes: &[String], missed: &[String]) {
    for note in notes {
        println!("note: {note}");
    }
    if missed.is_empty() {
        println!("budgets: all met");
    } else {
        println!("missed budgets:");
        for miss in missed {
            println!("  {miss}");
        }
    }
}
