//! The `fulexo` binary as a newcomer and an operator run it: the embedded
//! default (no `DATABASE_URL`), `fulexo token` beside it or before it, and
//! a graceful shutdown that lets in-flight requests finish.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fulexo::auth::{JwtKeys, Role, Viewer};
use fulexo::db::TenantId;
use fulexo::graphql::ids::{GlobalId, NodeKind};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use uuid::Uuid;

use crate::helpers::{DEMO, TestDatabase, client_for, operation};

const BINARY: &str = env!("CARGO_BIN_EXE_fulexo");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A data folder readable by its owner only, as a checkout under `/root`
/// or in `mktemp -d` is: when the tests run as root, the embedded server
/// (which runs as the `postgres` user) cannot reach it and must cope.
fn data_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fulexo-test-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir.join("data")
}

/// Starts `fulexo` with a clean environment plus `vars`, and waits for it
/// to print its GraphiQL address.
async fn start(vars: &[(&str, String)]) -> Child {
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .envs(vars.iter().map(|(name, value)| (*name, value)))
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.starts_with("GraphiQL:") {
                return;
            }
        }
        panic!("fulexo exited before serving");
    };
    tokio::time::timeout(Duration::from_secs(300), ready)
        .await
        .expect("fulexo did not start serving");
    // Keep draining stdout so that the child never blocks writing.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    child
}

fn terminate(child: &Child) {
    let pid = child.id().expect("running") as libc::pid_t;
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
}

async fn query(address: &str, token: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{address}/graphql"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn without_database_url_it_serves_demo_data_from_a_private_postgres() {
    let data = data_dir();
    let port = free_port();
    let address = format!("http://127.0.0.1:{port}");
    let vars = [
        ("FULEXO_DATA_DIR", data.display().to_string()),
        ("LISTEN_ADDR", format!("127.0.0.1:{port}")),
    ];
    let mut server = start(&vars).await;

    // GraphiQL's token reads the demo data.
    let page = reqwest::get(format!("{address}/graphiql"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = page
        .split("Bearer ")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap();
    let body = query(
        &address,
        token,
        json!({ "query": "{ orders(first: 3) { edges { node { id } } } }" }),
    )
    .await;
    assert_eq!(
        body["data"]["orders"]["edges"].as_array().unwrap().len(),
        3,
        "{body}"
    );

    // `fulexo token` finds the running private server and signs with the
    // same generated secret.
    let output = Command::new(BINARY)
        .args(["token", "--tenant", DEMO, "--role", "VIEWER"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(vars.iter().map(|(name, value)| (*name, value)))
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let viewer_token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let body = query(
        &address,
        &viewer_token,
        json!({ "query": "{ orderStats(days: 7) { orderCount } }" }),
    )
    .await;
    assert_eq!(
        body["data"]["orderStats"].as_array().unwrap().len(),
        7,
        "{body}"
    );

    terminate(&server);
    let status = tokio::time::timeout(Duration::from_secs(60), server.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
    // The private server stopped with it.
    let pid_file = data.join("postgres/postmaster.pid");
    assert!(
        !pid_file.exists(),
        "the private PostgreSQL is still running"
    );
    let _ = std::fs::remove_dir_all(&data);
}

/// `fulexo token` before anything was served or seeded: the private server
/// it starts has no tenants yet. It says so and what to do, and stops the
/// server it started rather than leaving it running.
#[tokio::test]
async fn token_on_a_fresh_data_folder_says_to_seed_and_stops_its_postgres() {
    let data = data_dir();
    let output = Command::new(BINARY)
        .args(["token", "--tenant", DEMO])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("FULEXO_DATA_DIR", data.display().to_string())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("no tenant `{DEMO}`: seed one with `fulexo seed`")),
        "{stderr}"
    );
    assert!(
        !data.join("postgres/postmaster.pid").exists(),
        "the private PostgreSQL is still running"
    );
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_request_finish() {
    let database = TestDatabase::seeded().await;
    let secret = Uuid::new_v4().to_string();
    let port = free_port();
    let address = format!("http://127.0.0.1:{port}");
    let mut server = start(&[
        ("DATABASE_URL", database.url.clone()),
        ("JWT_SECRET", secret.clone()),
        ("LISTEN_ADDR", format!("127.0.0.1:{port}")),
    ])
    .await;

    let sql = client_for(&database.url).await;
    let user = sql
        .query_one(
            "SELECT u.id, u.tenant_id FROM users u JOIN tenants t ON t.id = u.tenant_id
             WHERE t.slug = $1 AND u.role = 'ADMIN'",
            &[&DEMO],
        )
        .await
        .unwrap();
    let token = JwtKeys::new(&secret.into())
        .issue(
            Viewer {
                user_id: user.get(0),
                tenant: TenantId(user.get(1)),
                role: Role::Admin,
            },
            Duration::from_secs(60),
        )
        .unwrap();
    let order: Uuid = sql
        .query_one(
            "SELECT id FROM orders WHERE tenant_id = $1 AND status = 'SHIPPED' LIMIT 1",
            &[&user.get::<_, Uuid>(1)],
        )
        .await
        .unwrap()
        .get(0);

    // Hold the order's row lock, so that the mutation waits inside the
    // service until we let go.
    let lock = client_for(&database.url).await;
    lock.batch_execute(&format!(
        "BEGIN; SELECT 1 FROM orders WHERE id = '{order}' FOR UPDATE"
    ))
    .await
    .unwrap();
    let id = GlobalId::encode(NodeKind::Order, order).0;
    let in_flight = tokio::spawn({
        let (address, token) = (address.clone(), token.clone());
        async move {
            query(
                &address,
                &token,
                json!({ "query": operation("UpdateOrderStatus"), "variables": { "id": id, "status": "DELIVERED" } }),
            )
            .await
        }
    });
    // Wait until the service's statement is blocked on the lock.
    loop {
        let waiting: i64 = sql
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if waiting > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    terminate(&server);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        server.try_wait().unwrap().is_none(),
        "the server quit with a request in flight"
    );

    lock.batch_execute("ROLLBACK").await.unwrap();
    let body = in_flight.await.unwrap();
    assert_eq!(
        body["data"]["updateOrderStatus"]["order"]["status"],
        json!("DELIVERED"),
        "{body}"
    );
    let status = tokio::time::timeout(Duration::from_secs(30), server.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
}
