//! A private PostgreSQL cluster for the tests of one test process, and a fresh database per fixture.
//!
//! The first test that needs it runs `initdb` and `pg_ctl start` (as the `postgres` user when the tests
//! run as root: PostgreSQL refuses to run as root) into `/tmp/ququ-pg-<pid>`, listening on a Unix socket
//! there and nowhere else. Statics are never dropped when a Rust process exits, so the cluster is stopped
//! by a watchdog started beside it: a shell holding the read end of a pipe whose write end only this
//! process has. When the process ends, however it ends, the kernel closes that end; the watchdog reads
//! end-of-file, stops the cluster (`pg_ctl stop -m immediate`: nothing in it is worth keeping) and
//! removes its directory. It ignores SIGINT, so a Ctrl-C on `cargo test` still cleans up.
//!
//! No PostgreSQL installed is a failure, not a skip: set `QUQU_PG_BIN` to the directory holding `initdb`
//! and `pg_ctl`, or put them on `PATH`, or install Debian's `postgresql` (found under
//! `/usr/lib/postgresql/<version>/bin`).

use std::path::PathBuf;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

#[cfg(test)]
use super::PgStore;
#[cfg(test)]
use crate::storage::conformance::Fixture;

/// The test process's cluster: the one global of the PostgreSQL tests.
static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

/// A running cluster; stopped by its watchdog when the process ends.
#[derive(Debug)]
pub struct Cluster {
    /// Where it lives and listens.
    dir: PathBuf,
    /// Where `pg_ctl` is, and whether it runs as the postgres user.
    bin: PathBuf,
    as_root: bool,
    /// How it was started: for speed, durable, or with TLS.
    kind: Kind,
    /// The watchdog's pipe: never written, only held until the process ends.
    _watchdog: Mutex<ChildStdin>,
    /// The number of the next database made.
    next_db: AtomicU64,
}

/// The cluster, started on first use. Panics, saying why, if it cannot start.
pub fn cluster() -> &'static Cluster {
    match CLUSTER.get_or_init(|| Cluster::start(Kind::Fast)) {
        Ok(cluster) => cluster,
        Err(why) => panic!("the PostgreSQL tests need a PostgreSQL server: {why}"),
    }
}

/// The cluster, started on first use as PostgreSQL runs by default: a commit returns once its WAL is
/// written (`synchronous_commit = on`; the other tests' cluster does not wait, which is faster and
/// loses the last commits when it crashes). For a test binary that crashes it: call this before
/// anything else starts the cluster.
pub fn durable_cluster() -> &'static Cluster {
    match CLUSTER.get_or_init(|| Cluster::start(Kind::Durable)) {
        Ok(cluster) if cluster.kind == Kind::Durable => cluster,
        Ok(_) => {
            panic!("the test cluster was started without durable commits before this was asked")
        }
        Err(why) => panic!("the PostgreSQL tests need a PostgreSQL server: {why}"),
    }
}

/// The cluster, started on first use listening on a TCP port of loopback as well, with TLS: its
/// certificate names `localhost` (not `127.0.0.1`) and is signed by the CA in [`Cluster::ca_file`].
/// Over TCP it takes only TLS connections, with the password [`TLS_PASSWORD`]. For the test binary of
/// TLS to PostgreSQL: call this before anything else starts the cluster.
pub fn tls_cluster() -> &'static Cluster {
    let port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("no free port: {e}"))
    };
    match CLUSTER.get_or_init(|| Cluster::start(Kind::Tls { port: port()? })) {
        Ok(cluster) if matches!(cluster.kind, Kind::Tls { .. }) => cluster,
        Ok(_) => panic!("the test cluster was started without TLS before this was asked"),
        Err(why) => panic!("the PostgreSQL tests need a PostgreSQL server: {why}"),
    }
}

/// The superuser's password over TCP on the [`tls_cluster`] (on its Unix socket, none is asked).
pub const TLS_PASSWORD: &str = "ququ-tls-test";

/// How a cluster runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Commits return before their WAL is written.
    Fast,
    /// Commits wait for their WAL (see [`durable_cluster`]).
    Durable,
    /// Also on a loopback TCP port, TLS only (see [`tls_cluster`]).
    Tls { port: u16 },
}

impl Cluster {
    fn start(kind: Kind) -> Result<Cluster, String> {
        let bin = find_bin()?;
        let dir = PathBuf::from(format!("/tmp/ququ-pg-{}", std::process::id()));
        // A directory left by a process that had this pid before (its watchdog was killed too).
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let as_root = run(Command::new("id").arg("-u"))?.trim() == "0";
        if as_root {
            run(Command::new("chown").arg("postgres:").arg(&dir))?;
        }
        // The command line of a PostgreSQL program, as the postgres user if we are root.
        let pg = |program: &str| {
            let path = bin.join(program);
            if as_root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(path);
                c
            } else {
                Command::new(path)
            }
        };
        let data = dir.join("data");
        // The watchdog first, so that whatever happens next, the directory goes with the process.
        let stop = pg("pg_ctl");
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(
                "trap '' INT TERM HUP; cat >/dev/null; \
                 \"$@\" -D \"$DATA\" stop -m immediate >/dev/null 2>&1; rm -rf \"$DIR\"",
            )
            .arg("watchdog")
            .arg(stop.get_program())
            .args(stop.get_args())
            .env("DATA", &data)
            .env("DIR", &dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start the watchdog shell: {e}"))?;
        let Some(pipe) = watchdog.stdin else {
            return Err("the watchdog has no stdin".into());
        };
        run(pg("initdb").arg("-D").arg(&data).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ]))?;
        if let Kind::Tls { .. } = kind {
            make_tls_files(&dir, &data)?;
            if as_root {
                run(Command::new("chown")
                    .arg("postgres:")
                    .arg(data.join("server.crt"))
                    .arg(data.join("server.key"))
                    .arg(data.join("pg_hba.conf")))?;
            }
        }
        let cluster = Cluster {
            dir,
            bin,
            as_root,
            kind,
            _watchdog: Mutex::new(pipe),
            next_db: AtomicU64::new(1),
        };
        run(&mut cluster.pg_ctl("start"))?;
        if let Kind::Tls { .. } = kind {
            let mut admin = postgres::Client::connect(&cluster.url("postgres"), postgres::NoTls)
                .map_err(|e| format!("cannot connect to the test cluster: {e}"))?;
            admin
                .batch_execute(&format!("ALTER ROLE postgres PASSWORD '{TLS_PASSWORD}'"))
                .map_err(|e| format!("cannot set the password: {e}"))?;
        }
        Ok(cluster)
    }

    /// `pg_ctl <action>` on the cluster, waiting for it to finish; a stop is immediate (a crash).
    fn pg_ctl(&self, action: &str) -> Command {
        let path = self.bin.join("pg_ctl");
        let mut c = if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        c.arg("-D")
            .arg(self.dir.join("data"))
            .arg("-l")
            .arg(self.dir.join("log"))
            .args(["-w", "-o"])
            .arg(format!(
                "-c unix_socket_directories={} -c fsync=off -c synchronous_commit={} \
                 -c full_page_writes=off -c max_connections=300 {}",
                self.dir.display(),
                if self.kind == Kind::Durable {
                    "on"
                } else {
                    "off"
                },
                match self.kind {
                    Kind::Tls { port } => format!(
                        "-c listen_addresses=127.0.0.1 -c port={port} -c ssl=on \
                         -c password_encryption=scram-sha-256"
                    ),
                    Kind::Fast | Kind::Durable => "-c listen_addresses=''".into(),
                }
            ))
            .arg(action);
        if action == "stop" {
            c.args(["-m", "immediate"]);
        }
        c
    }

    /// Stops the cluster as a crash would (`-m immediate`: every connection cut, no shutdown
    /// checkpoint). For the one test of a database that goes away under the servers; it is the whole
    /// process's cluster, so that test has a test binary of its own.
    pub fn crash(&self) {
        run(&mut self.pg_ctl("stop")).unwrap_or_else(|e| panic!("cannot stop the cluster: {e}"));
    }

    /// Starts the cluster again after [`Cluster::crash`], recovering from its WAL.
    pub fn start_again(&self) {
        run(&mut self.pg_ctl("start")).unwrap_or_else(|e| panic!("cannot start the cluster: {e}"));
    }
}

impl Cluster {
    /// The connection string of database `db` over TCP to the [`tls_cluster`] at `host` (`localhost`,
    /// the name in its certificate, or `127.0.0.1`), with `settings` after it (`sslmode=…`).
    pub fn tcp_url(&self, db: &str, host: &str, settings: &str) -> String {
        let Kind::Tls { port } = self.kind else {
            panic!("only the TLS cluster listens on TCP");
        };
        format!(
            "host={host} port={port} user=postgres password={TLS_PASSWORD} dbname={db} {settings}"
        )
    }

    /// The [`tls_cluster`]'s CA certificate (PEM), which signed its server certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// Another CA's certificate (PEM), which signed nothing of the cluster's.
    pub fn other_ca_file(&self) -> PathBuf {
        self.dir.join("other-ca.pem")
    }

    /// The connection string of database `db`.
    pub fn url(&self, db: &str) -> String {
        // The socket's name holds the port: the TLS cluster's is not the default.
        let port = match self.kind {
            Kind::Tls { port } => format!(" port={port}"),
            Kind::Fast | Kind::Durable => String::new(),
        };
        format!(
            "host={}{port} user=postgres dbname={db}",
            self.dir.display()
        )
    }

    /// A new empty database; its name.
    pub fn create_database(&self) -> String {
        let name = format!("t_{}", self.next_db.fetch_add(1, Ordering::Relaxed));
        let mut admin = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to the test cluster: {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        name
    }
}

/// The [`tls_cluster`]'s files: a CA (`ca.pem` in `dir`) and another (`other-ca.pem`); a server
/// certificate for `localhost` signed by the first, with its key, in the data directory; and a
/// `pg_hba.conf` that takes TLS connections only over TCP, each with a password.
fn make_tls_files(dir: &std::path::Path, data: &std::path::Path) -> Result<(), String> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let failed = |e: rcgen::Error| format!("cannot make the test certificates: {e}");
    let ca = |name: &str| -> Result<(CertificateParams, KeyPair, String), String> {
        let key = KeyPair::generate().map_err(failed)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let pem = params.self_signed(&key).map_err(failed)?.pem();
        Ok((params, key, pem))
    };
    let (params, key, ca_pem) = ca("Ququ test CA")?;
    let (_, _, other_pem) = ca("Another CA")?;
    let server_key = KeyPair::generate().map_err(failed)?;
    let server = CertificateParams::new(vec!["localhost".to_owned()])
        .map_err(failed)?
        .signed_by(&server_key, &Issuer::new(params, key))
        .map_err(failed)?;
    let write = |path: PathBuf, text: &str| {
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write(dir.join("ca.pem"), &ca_pem)?;
    write(dir.join("other-ca.pem"), &other_pem)?;
    write(data.join("server.crt"), &server.pem())?;
    let key_path = data.join("server.key");
    write(key_path.clone(), &server_key.serialize_pem())?;
    // PostgreSQL refuses a key others can read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("cannot restrict {}: {e}", key_path.display()))?;
    }
    write(
        data.join("pg_hba.conf"),
        "local all all trust\n\
         hostssl all all 127.0.0.1/32 scram-sha-256\n\
         hostnossl all all 127.0.0.1/32 reject\n",
    )
}

/// Where `initdb` and `pg_ctl` are.
fn find_bin() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("QUQU_PG_BIN") {
        let dir = PathBuf::from(dir);
        return if dir.join("initdb").is_file() {
            Ok(dir)
        } else {
            Err(format!("QUQU_PG_BIN={} has no initdb", dir.display()))
        };
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    if let Some(dir) = on_path.into_iter().find(|d| d.join("initdb").is_file()) {
        return Ok(dir);
    }
    // Debian keeps them out of PATH, one directory per major version: the newest.
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        "initdb was not found (not in QUQU_PG_BIN, PATH or /usr/lib/postgresql/*/bin): install \
         PostgreSQL (Debian: apt-get install postgresql) to run the cluster tests"
            .to_string()
    })
}

/// Runs `cmd` to its end; its standard output, or why it failed.
fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if !out.status.success() {
        return Err(format!(
            "{:?} {:?} failed ({}): {}",
            cmd.get_program(),
            cmd.get_args().collect::<Vec<_>>(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Now, on the wall clock, as a node's heartbeats are.
#[cfg(test)]
pub(crate) fn wall_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The conformance suite's stores: a database of each test's own in the process's cluster.
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct PgFixture {
    url: String,
}

#[cfg(test)]
impl PgFixture {
    pub(crate) fn new() -> Self {
        let cluster = cluster();
        PgFixture {
            url: cluster.url(&cluster.create_database()),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

#[cfg(test)]
impl Fixture for PgFixture {
    type Handle = PgStore;
    fn open(&self) -> PgStore {
        PgStore::open(&self.url, 4).unwrap()
    }
    fn node(&self, name: &str) -> PgStore {
        self.open().join(name, wall_millis()).unwrap()
    }
}
