//! The test harness: [`TestApp::spawn`] gives each test its own database
//! (a copy of a migrated and seeded template, dropped afterwards) and the
//! real service on a free port, talking to the real PostgreSQL.
//!
//! The PostgreSQL server comes from `TEST_DATABASE_URL` (default:
//! `postgres://postgres@127.0.0.1:5432/postgres`, a superuser able to
//! create databases).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use fulexo::AppState;
use fulexo::auth::{JwtKeys, Role, Viewer};
use fulexo::config::Config;
use fulexo::db::{Database, TenantId, migrations};
use fulexo::seed::{self, SeedOptions};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use tokio_postgres::NoTls;
use uuid::Uuid;

/// The template's data set: three tenants, enough orders for several pages
/// and a month of dashboard.
pub const SEED_TENANTS: u32 = 3;
pub const SEED_ORDERS: u32 = 400;
/// The tenants of the seed, by slug.
pub const DEMO: &str = "demo";
pub const OTHER: &str = "nordic-home";

const TEMPLATE_PREFIX: &str = "fulexo_test_template_";

pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `server_url` with another database name.
pub fn database_url(name: &str) -> String {
    let server = server_url();
    let base = server
        .rsplit_once('/')
        .map_or(server.as_str(), |(base, _)| base);
    format!("{base}/{name}")
}

pub async fn admin_client() -> tokio_postgres::Client {
    client_for(&server_url()).await
}

pub async fn client_for(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|error| panic!("connecting to {url}: {error} (is PostgreSQL running?)"));
    tokio::spawn(connection);
    client
}

/// The template's name changes with the migrations and the seed, so a
/// stale template from an older checkout is never used; the day is in it so
/// that the seed's dates stay recent.
fn template_name(tenants: u32, orders: u32) -> String {
    let mut hash = Sha256::new();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")).unwrap() {
        let path = entry.unwrap().path();
        hash.update(path.file_name().unwrap().as_encoded_bytes());
        for file in ["up.sql", "down.sql"] {
            hash.update(std::fs::read(path.join(file)).unwrap_or_default());
        }
    }
    hash.update(format!("{tenants}x{orders}"));
    for file in ["generate.rs", "copy.rs", "mod.rs"] {
        let path = format!("{}/src/seed/{file}", env!("CARGO_MANIFEST_DIR"));
        hash.update(std::fs::read(path).unwrap_or_default());
    }
    let digest = hex::encode(&hash.finalize()[..6]);
    format!("{TEMPLATE_PREFIX}{digest}_{}", Utc::now().format("%Y%m%d"))
}

static TEMPLATES: Mutex<Vec<(u32, u32, String)>> = Mutex::const_new(Vec::new());

/// Migrates and seeds a template of `tenants` x `orders` once per process.
/// Processes running at once (nextest) take turns through an advisory
/// lock; the template is built under a temporary name and renamed when
/// complete, so a crash never leaves a half-built template behind a valid
/// name.
async fn template(tenants: u32, orders: u32) -> String {
    let mut templates = TEMPLATES.lock().await;
    if let Some((_, _, name)) = templates
        .iter()
        .find(|(t, o, _)| (*t, *o) == (tenants, orders))
    {
        return name.clone();
    }
    let name = template_name(tenants, orders);
    let admin = admin_client().await;
    admin
        .execute("SELECT pg_advisory_lock(7277001)", &[])
        .await
        .unwrap();
    let exists = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .unwrap()
        .is_some();
    if !exists {
        build_template(&admin, &name, tenants, orders).await;
    }
    admin
        .execute("SELECT pg_advisory_unlock(7277001)", &[])
        .await
        .unwrap();
    templates.push((tenants, orders, name.clone()));
    name
}

async fn build_template(admin: &tokio_postgres::Client, name: &str, tenants: u32, orders: u32) {
    // Templates of other days are dropped: nothing uses them any more.
    let today = Utc::now().format("%Y%m%d").to_string();
    let stale = admin
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE 'fulexo\\_test\\_template\\_%' AND datname NOT LIKE '%' || $1",
            &[&today],
        )
        .await
        .unwrap();
    for row in stale {
        let stale: String = row.get(0);
        let _ = admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{stale}\" WITH (FORCE)"))
            .await;
    }
    let building = format!("{name}_building");
    for statement in [
        format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"),
        format!("CREATE DATABASE \"{building}\""),
    ] {
        admin.batch_execute(&statement).await.unwrap();
    }
    let url = SecretString::from(database_url(&building));
    migrations::run_pending(&url)
        .await
        .expect("migrating the template");
    let options = SeedOptions {
        tenants,
        orders,
        now: seed::default_now(),
        replace: false,
    };
    seed::run(&url, &options, false)
        .await
        .expect("seeding the template");
    // The seed's connections are closed, but their backends may still be
    // exiting: a template must have no session.
    for statement in [
        format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{building}'"
        ),
        format!("ALTER DATABASE \"{building}\" RENAME TO \"{name}\""),
    ] {
        admin.batch_execute(&statement).await.unwrap();
    }
}

/// A database of its own for one test, dropped when dropped.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// A copy of the seeded template.
    pub async fn seeded() -> Self {
        Self::seeded_with(SEED_TENANTS, SEED_ORDERS).await
    }

    /// A copy of a template seeded with `tenants` x `orders`.
    pub async fn seeded_with(tenants: u32, orders: u32) -> Self {
        let template = template(tenants, orders).await;
        Self::create(&format!("TEMPLATE \"{template}\"")).await
    }

    /// An empty database, without even the migrations.
    pub async fn empty() -> Self {
        Self::create("").await
    }

    async fn create(options: &str) -> Self {
        let name = format!("fulexo_test_{}", Uuid::new_v4().simple());
        let admin = admin_client().await;
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\" {options}"))
            .await
            .unwrap_or_else(|error| panic!("creating {name}: {error}"));
        let url = database_url(&name);
        Self { name, url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime: drop the database from a
        // thread of its own with its own runtime.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let admin = admin_client().await;
                let _ = admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await;
            });
        })
        .join();
    }
}

/// The service, running on its own database and port.
pub struct TestApp {
    pub address: String,
    pub state: AppState,
    pub http: reqwest::Client,
    /// A direct connection, for checking answers against SQL.
    pub sql: tokio_postgres::Client,
    tenants: HashMap<String, Uuid>,
    /// Dropped after the app: the database goes with it (`None` for a
    /// second instance, which shares the first one's).
    _database: Option<TestDatabase>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// With extra environment-style settings (e.g. a tiny pool).
    pub async fn spawn_with(vars: &[(&str, &str)]) -> Self {
        Self::spawn_on(TestDatabase::seeded().await, vars).await
    }

    /// On a given database.
    pub async fn spawn_on(database: TestDatabase, vars: &[(&str, &str)]) -> Self {
        let secret = Uuid::new_v4().to_string();
        let mut app = Self::start(&database.url, &secret, vars).await;
        app._database = Some(database);
        app
    }

    /// A second instance of the service on this one's database, with the
    /// same token secret (as two replicas behind a load balancer).
    pub async fn another_instance(&self, vars: &[(&str, &str)]) -> Self {
        let url =
            secrecy::ExposeSecret::expose_secret(self.state.config.database_url.as_ref().unwrap())
                .to_owned();
        let secret =
            secrecy::ExposeSecret::expose_secret(self.state.config.jwt_secret.as_ref().unwrap())
                .to_owned();
        Self::start(&url, &secret, vars).await
    }

    async fn start(database_url: &str, secret: &str, vars: &[(&str, &str)]) -> Self {
        let mut settings: HashMap<String, String> = vars
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        settings.insert("DATABASE_URL".into(), database_url.to_owned());
        settings
            .entry("DATABASE_POOL_SIZE".into())
            .or_insert_with(|| "10".into());
        settings.insert("JWT_SECRET".into(), secret.to_owned());
        let config = Config::from_lookup(|name| settings.get(name).cloned()).unwrap();
        let url = SecretString::from(database_url.to_owned());
        let pool = Database::connect(&url, &config.pool).unwrap();
        let jwt = JwtKeys::new(config.jwt_secret.as_ref().unwrap());
        let state = AppState::new(config, pool, jwt).await.unwrap();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let router = fulexo::router(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });

        let sql = client_for(database_url).await;
        let tenants = sql
            .query("SELECT slug, id FROM tenants", &[])
            .await
            .unwrap()
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        Self {
            address,
            state,
            http: reqwest::Client::new(),
            sql,
            tenants,
            _database: None,
        }
    }

    pub fn tenant(&self, slug: &str) -> TenantId {
        TenantId(
            *self
                .tenants
                .get(slug)
                .unwrap_or_else(|| panic!("no tenant {slug}")),
        )
    }

    /// A token of the tenant's seeded user with `role`.
    pub async fn token(&self, slug: &str, role: Role) -> String {
        let tenant = self.tenant(slug);
        let row = self
            .sql
            .query_one(
                "SELECT id FROM users WHERE tenant_id = $1 AND role = $2",
                &[&tenant.0, &role.as_str()],
            )
            .await
            .unwrap();
        let viewer = Viewer {
            user_id: row.get(0),
            tenant,
            role,
        };
        self.state
            .jwt
            .issue(viewer, Duration::from_secs(600))
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// POSTs one operation; returns the status and the JSON body.
    pub async fn graphql(&self, token: &str, query: &str, variables: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// `graphql`, asserting a 200 answer without errors; returns `data`.
    pub async fn data(&self, token: &str, query: &str, variables: Value) -> Value {
        let (status, body) = self.graphql(token, query, variables).await;
        assert_eq!(status, StatusCode::OK, "{body:#}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// `GET /metrics`, as text.
    pub async fn metrics(&self) -> String {
        let response = self.http.get(self.url("/metrics")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.unwrap()
    }

    /// Statements the service has sent to PostgreSQL so far.
    pub fn statements(&self) -> u64 {
        self.state.database.statements_sent()
    }

    /// The id of one of the tenant's orders that has a shipment (so that
    /// not all its relations are empty).
    pub async fn shipped_order(&self, slug: &str) -> Uuid {
        self.sql
            .query_one(
                "SELECT order_id FROM shipments WHERE tenant_id = $1 ORDER BY id LIMIT 1",
                &[&self.tenant(slug).0],
            )
            .await
            .unwrap()
            .get(0)
    }

    /// A new order of the tenant, in `status`, with one item; its row id.
    pub async fn insert_order(&self, slug: &str, status: &str) -> Uuid {
        let id = Uuid::now_v7();
        let tenant = self.tenant(slug).0;
        self.sql
            .execute(
                "INSERT INTO orders (id, tenant_id, status, total, currency, customer_email, created_at, confirmed_at, updated_at)
                 VALUES ($1, $2, $3::text::order_status, 20.00, 'EUR', 'test@example.com', now(),
                         CASE WHEN $3 = 'PENDING' THEN NULL ELSE now() END, now())",
                &[&id, &tenant, &status],
            )
            .await
            .unwrap();
        self.sql
            .execute(
                "INSERT INTO order_items (id, tenant_id, order_id, sku, name, quantity, unit_price, created_at)
                 VALUES (gen_random_uuid(), $1, $2, 'SKU-00001', 'Test item', 2, 10.00, now())",
                &[&tenant, &id],
            )
            .await
            .unwrap();
        id
    }

    /// Rows of a table (for checking that nothing was written).
    pub async fn count(&self, table: &str) -> i64 {
        self.sql
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .unwrap()
            .get(0)
    }
}

/// The frontend's operation `name`, from the contract.
pub fn operation(name: &str) -> String {
    let path = format!(
        "{}/tests/contract/operations/{name}.graphql",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The first error's `extensions.code`.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<no code>")
}

/// An instant as the API sends it (RFC 3339 UTC, `Z`).
pub fn instant(value: DateTime<Utc>) -> String {
    value.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// The shared Redis of the machine, with a key prefix of the test's own so
/// that tests running at once never see each other's keys.
pub fn shared_redis() -> Vec<(&'static str, String)> {
    vec![
        (
            "REDIS_URL",
            std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()),
        ),
        (
            "CACHE_KEY_PREFIX",
            format!("test-{}", Uuid::new_v4().simple()),
        ),
    ]
}

/// `(name, value)` pairs as `spawn_with` takes them.
pub fn vars<'a>(pairs: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    pairs
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect()
}

/// A Redis server of the test's own, on a free port, that the test can stop
/// and start again.
pub struct RedisServer {
    pub port: u16,
    child: Option<tokio::process::Child>,
}

impl RedisServer {
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = Self { port, child: None };
        server.restart().await;
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server again on the same port, and waits until it answers.
    pub async fn restart(&mut self) {
        let child = tokio::process::Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &self.port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("running redis-server (install Redis to run the cache tests)");
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    /// Freezes (`SIGSTOP`) or thaws (`SIGCONT`) the server: connections stay
    /// open and commands get no answer, as with a Redis that hangs.
    pub fn freeze(&self, frozen: bool) {
        let pid = self
            .child
            .as_ref()
            .and_then(tokio::process::Child::id)
            .expect("running") as libc::pid_t;
        let signal = if frozen { libc::SIGSTOP } else { libc::SIGCONT };
        // SAFETY: signalling our own child process.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }

    /// Kills the server: connections drop, nothing is saved.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.unwrap();
        }
    }
}

/// The Node.js clients of `tests/http_audit` (graphql-http's audits, Apollo
/// Client), their npm packages installed once (pinned by
/// package-lock.json); returns their folder.
pub fn node_clients() -> &'static str {
    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/http_audit");
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let installed = ["graphql-http", "@apollo/client"].iter().all(|package| {
        std::path::Path::new(DIR)
            .join("node_modules")
            .join(package)
            .exists()
    });
    if !installed {
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(DIR)
            .status()
            .expect("running npm (install Node.js and npm to run these tests)");
        assert!(status.success(), "npm ci failed in {DIR}");
    }
    DIR
}
