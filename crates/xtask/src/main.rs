//! `cargo xtask test`: runs the whole test suite.
//!
//! It makes sure the databases the backend tests need answer (starting the local PostgreSQL and
//! MariaDB when they are installed but down), exports `TEST_POSTGRES_URL` / `TEST_MYSQL_URL`,
//! and runs every test of the workspace and of the out-of-workspace mock consumer. On a laptop
//! without those servers the backend tests run on SQLite only and say what they skipped; under
//! CI (`CI` set) a missing server is an error, because the race proofs must run on all three.
//! It also starts PgBouncer in transaction-pooling mode in front of PostgreSQL (installing
//! Debian's package when missing) and exports `TEST_PGBOUNCER_URL` for the pooled tests.
//! Last, schemathesis fuzzes the running server against its OpenAPI document
//! (`tests/schemathesis/run.sh`); without python3 it is skipped, except under CI.

use std::net::{SocketAddr, TcpStream};
use std::process::{Command, ExitCode};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// A database server some tests need.
struct Server {
    label: &'static str,
    env: &'static str,
    url: &'static str,
    port: u16,
    /// How this machine's image starts it when it is installed but not running.
    start: &'static str,
}

const SERVERS: [Server; 2] = [
    Server {
        label: "PostgreSQL",
        env: "TEST_POSTGRES_URL",
        url: "postgres://postgres@127.0.0.1:5432/postgres",
        port: 5432,
        start: "command -v pg_ctlcluster >/dev/null && \
                pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    },
    Server {
        label: "MariaDB",
        env: "TEST_MYSQL_URL",
        url: "mysql://root@127.0.0.1:3306/mysql",
        port: 3306,
        start: "test -x /usr/sbin/mariadbd && \
                start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd",
    },
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask test [extra args for cargo test]");
            ExitCode::from(2)
        }
    }
}

fn test(extra: &[String]) -> ExitCode {
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
    let mut cargo = Command::new(env!("CARGO"));
    for server in &SERVERS {
        if std::env::var_os(server.env).is_some() {
            println!("xtask: {} from {} as given", server.label, server.env);
            continue;
        }
        if ensure_up(server) {
            cargo.env(server.env, server.url);
            println!("xtask: {} answers on 127.0.0.1:{}", server.label, server.port);
        } else if ci {
            eprintln!("xtask: {} is not reachable and CI needs it", server.label);
            return ExitCode::FAILURE;
        } else {
            println!("xtask: {} is not reachable: its backend tests will be SKIPPED", server.label);
        }
    }
    if !pooler(&mut cargo, ci) {
        return ExitCode::FAILURE;
    }
    let workspace = cargo.args(["test", "--workspace"]).args(extra);
    if !run(workspace) {
        return ExitCode::FAILURE;
    }
    // The mock consumer is its own workspace; sharing the target directory reuses our builds.
    let mut consumer = Command::new(env!("CARGO"));
    consumer.args(["test", "--manifest-path", "crates/mock-consumer/Cargo.toml"]);
    consumer.args(["--target-dir", "target"]);
    if !run(&mut consumer) {
        return ExitCode::FAILURE;
    }
    if schemathesis(ci) { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Hostile input against the served OpenAPI document (`tests/schemathesis/run.sh`), which needs
/// python3 with pip and venv to install schemathesis. Without them it is SKIPPED, except under
/// CI, where it must run.
fn schemathesis(ci: bool) -> bool {
    let python = ["-m pip --version", "-m venv --help"].iter().all(|args| {
        Command::new("sh")
            .args(["-c", &format!("python3 {args} >/dev/null 2>&1")])
            .status()
            .is_ok_and(|s| s.success())
    });
    if !python {
        if ci {
            eprintln!("xtask: python3 with pip and venv is missing and CI needs schemathesis");
            return false;
        }
        println!("xtask: python3 with pip and venv is missing: schemathesis is SKIPPED");
        return true;
    }
    run(Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/schemathesis/run.sh")))
}

/// Where the tests reach PostgreSQL through PgBouncer (transaction pooling), started by
/// `tests/pgbouncer/start.sh`.
const PGBOUNCER_URL: &str = "postgres://postgres@127.0.0.1:6433/postgres";

/// Starts PgBouncer in front of the local PostgreSQL for the `pooled:` end-to-end tests (the
/// script installs Debian's package when missing) and exports `TEST_PGBOUNCER_URL`. Without it
/// those tests are SKIPPED, except under CI, where it is an error.
fn pooler(cargo: &mut Command, ci: bool) -> bool {
    if std::env::var_os("TEST_PGBOUNCER_URL").is_some() {
        println!("xtask: PgBouncer from TEST_PGBOUNCER_URL as given");
        return true;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/pgbouncer/start.sh");
    // In front of the local PostgreSQL only; without it, its own tests were already skipped.
    if answers(SERVERS[0].port) && run(Command::new("bash").arg(script)) {
        cargo.env("TEST_PGBOUNCER_URL", PGBOUNCER_URL);
        println!("xtask: PgBouncer (transaction pooling) answers on 127.0.0.1:6433");
        true
    } else if ci {
        eprintln!("xtask: PgBouncer could not be started and CI needs it");
        false
    } else {
        println!("xtask: PgBouncer could not be started: the pooled tests will be SKIPPED");
        true
    }
}

/// Whether the server answers, after starting it if it was down and can be started here.
fn ensure_up(server: &Server) -> bool {
    if answers(server.port) {
        return true;
    }
    println!("xtask: {} is down; trying to start it", server.label);
    let started = Command::new("sh").args(["-c", server.start]).status();
    if !started.is_ok_and(|s| s.success()) {
        return false;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if answers(server.port) {
            return true;
        }
        sleep(Duration::from_millis(500));
    }
    false
}

fn answers(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
}

fn run(command: &mut Command) -> bool {
    match command.status() {
        Ok(status) => status.success(),
        Err(err) => {
            eprintln!("xtask: cannot run {command:?}: {err}");
            false
        }
    }
}
