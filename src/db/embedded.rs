//! A private PostgreSQL for development, when `DATABASE_URL` is not set:
//! the machine's own PostgreSQL binaries, a cluster under the data folder
//! (created on first use), a free port on 127.0.0.1, trust auth.
//!
//! Written here rather than taken from a crate: `postgresql_embedded` runs
//! `initdb` as the current user, which PostgreSQL refuses for root (how this
//! project's machines and CI run), and pulls sqlx and an HTTP client in
//! beside our stack; `pgtemp` handles root but makes a new throw-away cluster
//! on every start, so demo data and writes would not survive a restart.
//!
//! A server this process started is stopped by [`EmbeddedPostgres::stop`]; a
//! server already running on the folder (another `fulexo` process, or one
//! left by a crash) is used as it is and left running.

use std::path::{Path, PathBuf};
use std::process::Output;

use anyhow::{Context, bail};
use secrecy::SecretString;
use sha2::Digest;
use tokio::process::Command;

/// The database the service uses inside the private cluster.
const DATABASE: &str = "fulexo";
/// The cluster's superuser (trust auth, local connections only).
const SUPERUSER: &str = "postgres";
/// When run as root, `initdb` and `postgres` run as this system user.
const SYSTEM_USER: &str = "postgres";

/// A running private PostgreSQL.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    cluster_dir: PathBuf,
    port: u16,
    started_here: bool,
}

impl EmbeddedPostgres {
    /// Starts (or finds running) the cluster under `data_dir/postgres`,
    /// creating it on first use, and makes sure its database exists.
    pub async fn start(data_dir: &Path) -> anyhow::Result<Self> {
        let bin_dir = find_bin_dir()?;
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating the data folder {}", data_dir.display()))?;
        let data_dir = data_dir
            .canonicalize()
            .with_context(|| format!("resolving {}", data_dir.display()))?;
        let cluster_dir = cluster_dir(&data_dir).await?;

        if !cluster_dir.join("PG_VERSION").exists() {
            init_cluster(&bin_dir, &cluster_dir).await?;
        }
        let server = match running_port(&bin_dir, &cluster_dir).await? {
            Some(port) => {
                tracing::info!(port, "using the embedded PostgreSQL already running");
                Self {
                    bin_dir,
                    cluster_dir,
                    port,
                    started_here: false,
                }
            }
            None => {
                let port = free_port()?;
                let server = Self {
                    bin_dir,
                    cluster_dir,
                    port,
                    started_here: true,
                };
                server.start_server().await?;
                server
            }
        };
        server.create_database().await?;
        Ok(server)
    }

    /// The URL of the service's database in this cluster.
    pub fn url(&self) -> SecretString {
        SecretString::from(self.url_of(DATABASE))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn url_of(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }

    /// Stops the server if this process started it (`pg_ctl stop -m fast`:
    /// open sessions are ended, committed data is safe).
    pub async fn stop(self) -> anyhow::Result<()> {
        if !self.started_here {
            return Ok(());
        }
        let pg_ctl = self.bin_dir.join("pg_ctl");
        let cluster = self.cluster_dir.to_string_lossy().into_owned();
        run(as_cluster_owner(&pg_ctl).args(["stop", "-D", &cluster, "-m", "fast", "-w"]))
            .await
            .context("stopping the embedded PostgreSQL")?;
        tracing::info!("embedded PostgreSQL stopped");
        Ok(())
    }

    async fn start_server(&self) -> anyhow::Result<()> {
        let pg_ctl = self.bin_dir.join("pg_ctl");
        // Inside the cluster: wherever the cluster is, its owner can write there.
        let log = self.cluster_dir.join("server.log");
        // Unix sockets off: the project path may exceed the 107-byte socket
        // path limit, and TCP on loopback is what the URL uses anyway.
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories=''",
            self.port
        );
        tracing::info!(port = self.port, "starting the embedded PostgreSQL");
        run(as_cluster_owner(&pg_ctl).args([
            "start",
            "-D",
            &self.cluster_dir.to_string_lossy(),
            "-l",
            &log.to_string_lossy(),
            "-w",
            "-t",
            "60",
            "-o",
            &options,
        ]))
        .await
        .with_context(|| format!("starting the embedded PostgreSQL (see {})", log.display()))?;
        Ok(())
    }

    async fn create_database(&self) -> anyhow::Result<()> {
        let (client, connection) =
            tokio_postgres::connect(&self.url_of("postgres"), tokio_postgres::NoTls)
                .await
                .context("connecting to the embedded PostgreSQL")?;
        let connection = tokio::spawn(connection);
        let exists = client
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&DATABASE])
            .await?
            .is_some();
        if !exists {
            client
                .batch_execute(&format!("CREATE DATABASE {DATABASE}"))
                .await
                .context("creating the embedded database")?;
        }
        drop(client);
        let _ = connection.await;
        Ok(())
    }
}

/// Where the cluster lives: `data_dir/postgres`, unless we are root and
/// the `postgres` system user cannot reach the project (a checkout under
/// `/root` or a private temporary folder). Then the cluster lives in that
/// user's home, one per project, and `data_dir/postgres` links to it:
/// changing the permissions of the user's folders is not ours to do.
async fn cluster_dir(data_dir: &Path) -> anyhow::Result<PathBuf> {
    let in_project = data_dir.join("postgres");
    if !is_root() || system_user_can_reach(data_dir).await {
        return Ok(in_project);
    }
    if let Ok(target) = std::fs::read_link(&in_project) {
        return Ok(target);
    }
    let digest = hex::encode(&sha2::Sha256::digest(in_project.as_os_str().as_encoded_bytes())[..8]);
    let home = PathBuf::from("/var/lib/postgresql/fulexo");
    let outside = home.join(digest);
    tracing::info!(
        cluster = %outside.display(),
        "the postgres system user cannot reach the project folder: keeping the embedded cluster in its home"
    );
    std::fs::create_dir_all(&outside).with_context(|| format!("creating {}", outside.display()))?;
    chown_to_system_user(&home).await?;
    if !in_project.exists() {
        std::os::unix::fs::symlink(&outside, &in_project).with_context(|| {
            format!("linking {} to {}", in_project.display(), outside.display())
        })?;
    }
    Ok(outside)
}

async fn system_user_can_reach(dir: &Path) -> bool {
    Command::new("runuser")
        .args(["-u", SYSTEM_USER, "--", "test", "-x"])
        .arg(dir)
        .status()
        .await
        .is_ok_and(|status| status.success())
}

/// `initdb` into `cluster_dir`, owned by the system user when we are root.
async fn init_cluster(bin_dir: &Path, cluster_dir: &Path) -> anyhow::Result<()> {
    tracing::info!(path = %cluster_dir.display(), "creating the embedded PostgreSQL cluster");
    std::fs::create_dir_all(cluster_dir)?;
    if is_root() {
        chown_to_system_user(cluster_dir).await?;
    }
    run(as_cluster_owner(&bin_dir.join("initdb")).args([
        "-D",
        &cluster_dir.to_string_lossy(),
        "-U",
        SUPERUSER,
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C.UTF-8",
    ]))
    .await
    .context("initdb failed for the embedded PostgreSQL")?;
    Ok(())
}

/// The port of a server already running on `cluster_dir`, if any.
async fn running_port(bin_dir: &Path, cluster_dir: &Path) -> anyhow::Result<Option<u16>> {
    let status = as_cluster_owner(&bin_dir.join("pg_ctl"))
        .args(["status", "-D", &cluster_dir.to_string_lossy()])
        .output()
        .await
        .context("running pg_ctl status")?;
    if !status.status.success() {
        return Ok(None);
    }
    // postmaster.pid: pid, data dir, start time, port, ... (one per line).
    let pid_file = std::fs::read_to_string(cluster_dir.join("postmaster.pid"))
        .context("reading postmaster.pid of the running embedded PostgreSQL")?;
    let port = pid_file
        .lines()
        .nth(3)
        .and_then(|line| line.trim().parse().ok())
        .context("postmaster.pid has no port")?;
    Ok(Some(port))
}

/// `PG_BIN_DIR`, else `pg_config --bindir`, else the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian's layout).
fn find_bin_dir() -> anyhow::Result<PathBuf> {
    if let Ok(dir) = std::env::var("PG_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Ok(output) = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
        && output.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    candidates.sort();
    match candidates.pop() {
        Some((_, bin)) => Ok(bin),
        None => bail!(
            "no PostgreSQL server binaries found (initdb, pg_ctl): install them \
             (`apt-get install -y postgresql`), set PG_BIN_DIR, or set DATABASE_URL"
        ),
    }
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// PostgreSQL refuses to run as root: as root, run its programs as the
/// system user instead.
fn as_cluster_owner(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", SYSTEM_USER, "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

async fn chown_to_system_user(path: &Path) -> anyhow::Result<()> {
    run(Command::new("chown")
        .arg("-R")
        .arg(format!("{SYSTEM_USER}:"))
        .arg(path))
    .await
    .with_context(|| {
        format!(
            "giving {} to the `{SYSTEM_USER}` user (PostgreSQL cannot run as root; \
             create that user or run as another user)",
            path.display()
        )
    })
    .map(drop)
}

async fn run(command: &mut Command) -> anyhow::Result<Output> {
    let output = command
        .kill_on_drop(true)
        .output()
        .await
        .context("running a PostgreSQL program")?;
    if !output.status.success() {
        bail!(
            "{}{}",
            String::from_utf8_lossy(&output.stderr).trim(),
            String::from_utf8_lossy(&output.stdout).trim()
        );
    }
    Ok(output)
}
