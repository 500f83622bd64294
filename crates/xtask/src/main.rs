//! `cargo xtask test`: runs the whole test suite.
//!
//! It makes sure the databases the backend tests need answer (starting the local PostgreSQL and
//! MariaDB when they are installed but down), exports `TEST_POSTGRES_URL` / `TEST_MYSQL_URL`,
//! and runs every test of the workspace and of the out-of-workspace mock consumer. On a laptop
//! without those servers the backend tests run on SQLite only and say what they skipped; under
//! CI (`CI` set) a missing server is an error, because the race proofs must run on all three.
//! It also starts PgBouncer in transaction-pooling mode in front of PostgreSQL (installing
//! Debian's package when missing), a PostgreSQL primary with a streaming replica, and NATS with
//! JetStream when none answers (installing Debian's nats-server), and exports their URLs
//! (`TEST_PGBOUNCER_URL`, `TEST_REPLICA_PRIMARY_URL`, `TEST_REPLICA_URL`, `TEST_NATS_URL`).
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
    if !helpers(&mut cargo, ci) {
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

/// A part some tests need beside the database servers, started by a script of its own.
struct Helper {
    label: &'static str,
    /// Relative to the workspace root.
    script: &'static str,
    /// What it exports for the tests when it is up.
    env: &'static [(&'static str, &'static str)],
    /// Whether it fronts the machine's PostgreSQL (whose own tests were skipped when down).
    fronts_postgres: bool,
}

const HELPERS: [Helper; 3] = [
    // In front of the machine's PostgreSQL: the `pooled:` end-to-end tests.
    Helper {
        label: "PgBouncer (transaction pooling) on 127.0.0.1:6433",
        script: "tests/pgbouncer/start.sh",
        env: &[("TEST_PGBOUNCER_URL", "postgres://postgres@127.0.0.1:6433/postgres")],
        fronts_postgres: true,
    },
    // A pair of its own: the replica test of DATABASE_READ_URL.
    Helper {
        label: "a PostgreSQL primary (5434) with a streaming replica (5435)",
        script: "tests/replica/start.sh",
        env: &[
            ("TEST_REPLICA_PRIMARY_URL", "postgres://postgres@127.0.0.1:5434/postgres"),
            ("TEST_REPLICA_URL", "postgres://postgres@127.0.0.1:5435/postgres"),
        ],
        fronts_postgres: false,
    },
    // The broker of the event relay (`--nats-url`).
    Helper {
        label: "NATS with JetStream on 127.0.0.1:4222",
        script: "tests/nats/start.sh",
        env: &[("TEST_NATS_URL", "nats://127.0.0.1:4222")],
        fronts_postgres: false,
    },
];

/// Starts the [`HELPERS`] (the scripts install Debian's PgBouncer when missing) and exports
/// their variables. One that cannot start has its tests SKIPPED, except under CI, where it is
/// an error. A helper whose variables are given is used as it is.
fn helpers(cargo: &mut Command, ci: bool) -> bool {
    for helper in &HELPERS {
        if helper.env.iter().all(|(var, _)| std::env::var_os(var).is_some()) {
            println!("xtask: {} as given", helper.label);
            continue;
        }
        let script = format!("{}/../../{}", env!("CARGO_MANIFEST_DIR"), helper.script);
        let fronted_is_up = !helper.fronts_postgres || answers(SERVERS[0].port);
        if fronted_is_up && run(Command::new("bash").arg(script)) {
            cargo.envs(helper.env.iter().copied());
            println!("xtask: {} answers", helper.label);
        } else if ci {
            eprintln!("xtask: {} could not be started and CI needs it", helper.label);
            return false;
        } else {
            println!("xtask: {} could not be started: its tests will be SKIPPED", helper.label);
        }
    }
    true
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
