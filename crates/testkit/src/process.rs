//! The `checkout-api` binary as a process of its own: what several servers sharing one
//! database, or a server killed mid-load, need and an in-process server cannot give.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `checkout-api serve` process on a free port of 127.0.0.1; killed (SIGKILL, then waited
/// for) when dropped, so dropping it mid-load is a crash.
pub struct ApiProcess {
    child: Child,
    addr: SocketAddr,
}

/// A port of 127.0.0.1 the system just handed out and took back: free unless another process
/// grabs it in between, which a server's readiness wait would then report.
///
/// # Panics
///
/// When no port is free.
#[must_use]
pub fn free_addr() -> SocketAddr {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|probe| probe.local_addr())
        .expect("a free port")
        .port();
    SocketAddr::from(([127, 0, 0, 1], port))
}

impl ApiProcess {
    /// Starts `binary serve` over `database_url` with its stdout and stderr in the file `log`,
    /// and waits until `GET /readyz` answers 200. `env` adds settings, or overrides the
    /// defaults: JSON logs at `warn`, a free port (`CHECKOUT_BIND`, for processes that must
    /// know each other's addresses before they start: see [`free_addr`]). The binary's path is
    /// the caller's to give (a test of the `api` crate has
    /// `env!("CARGO_BIN_EXE_checkout-api")`), which keeps this crate free of a dependency on
    /// `api`.
    ///
    /// # Panics
    ///
    /// When the binary cannot start, exits before it is ready, or is not ready within 60 s.
    pub async fn start(
        binary: impl AsRef<Path>,
        database_url: &str,
        log: &Path,
        env: &[(&str, &str)],
    ) -> Self {
        let binary = binary.as_ref();
        let addr = env
            .iter()
            .find(|(name, _)| *name == "CHECKOUT_BIND")
            .map_or_else(free_addr, |(_, addr)| addr.parse().expect("CHECKOUT_BIND: an address"));
        let log_file = File::create(log).expect("a log file");
        let child = Command::new(binary)
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("CHECKOUT_BIND", addr.to_string())
            .env("CHECKOUT_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("the log file"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|err| panic!("start {}: {err}", binary.display()));
        let mut process = Self { child, addr };
        process.wait_until_ready(log).await;
        process
    }

    /// The address the process serves on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The process's resident memory in KiB (Linux), for tests that watch it stay flat.
    pub fn resident_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    async fn wait_until_ready(&mut self, log: &Path) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let addr = self.addr;
            if tokio::task::spawn_blocking(move || answers_ready(addr)).await.unwrap_or(false) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(log).unwrap_or_default();
                panic!("the server exited ({status}) before it was ready; its log:\n{log}");
            }
            assert!(Instant::now() < deadline, "a server was not ready within 60 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for ApiProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `GET /readyz` on `addr` answers 200. One bare HTTP/1.1 exchange is enough to read a
/// status line, and keeps an HTTP client out of the builds of the suites that never start a
/// server.
fn answers_ready(addr: SocketAddr) -> bool {
    let probe = || -> std::io::Result<bool> {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let request = format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes())?;
        let mut status_line = [0_u8; 12];
        stream.read_exact(&mut status_line)?;
        Ok(&status_line == b"HTTP/1.1 200")
    };
    probe().unwrap_or(false)
}
