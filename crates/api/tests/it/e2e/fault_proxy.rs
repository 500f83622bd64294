//! A test-only TCP proxy that injects database faults: it forwards every connection to the real
//! server and, on command, cuts all of them at once (mid-query and mid-transaction included) or
//! refuses new ones, the way a network partition or a database restart looks to the service.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The proxy; stops listening when dropped.
pub struct FaultProxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    accepting: JoinHandle<()>,
}

struct Shared {
    up: AtomicBool,
    /// Bumped by every cut; each connection ends when it changes.
    cuts: watch::Sender<u64>,
    /// Connections that were open when a cut ended them.
    severed: AtomicU64,
}

impl FaultProxy {
    /// A proxy in front of the local PostgreSQL, and `database`'s URL through it.
    pub async fn in_front_of(database: &testkit::TestDatabase) -> (Self, String) {
        const POSTGRES: &str = "127.0.0.1:5432";
        let proxy = Self::start(POSTGRES.parse().expect("an address")).await;
        let url = database.url().replacen(POSTGRES, &proxy.addr.to_string(), 1);
        assert_ne!(url, database.url(), "TEST_POSTGRES_URL names {POSTGRES}");
        (proxy, url)
    }

    /// Listens on a free local port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().expect("a local address");
        let shared = Arc::new(Shared {
            up: AtomicBool::new(true),
            cuts: watch::channel(0).0,
            severed: AtomicU64::new(0),
        });
        let accepting = tokio::spawn(accept(listener, upstream, Arc::clone(&shared)));
        Self { addr, shared, accepting }
    }

    /// Ends every open connection now.
    pub fn cut_all(&self) {
        self.shared.cuts.send_modify(|n| *n += 1);
    }

    /// Down: every open connection is cut and new ones are closed at once. Up: forwarding again.
    pub fn set_up(&self, up: bool) {
        self.shared.up.store(up, Ordering::SeqCst);
        if !up {
            self.cut_all();
        }
    }

    /// How many cuts were made, and how many open connections they ended.
    pub fn faults(&self) -> (u64, u64) {
        (*self.shared.cuts.borrow(), self.shared.severed.load(Ordering::SeqCst))
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accepting.abort();
        self.cut_all();
    }
}

async fn accept(listener: TcpListener, upstream: SocketAddr, shared: Arc<Shared>) {
    while let Ok((client, _)) = listener.accept().await {
        if !shared.up.load(Ordering::SeqCst) {
            drop(client);
            continue;
        }
        tokio::spawn(forward(client, upstream, Arc::clone(&shared)));
    }
}

async fn forward(mut client: TcpStream, upstream: SocketAddr, shared: Arc<Shared>) {
    let mut cuts = shared.cuts.subscribe();
    cuts.borrow_and_update();
    let Ok(mut server) = TcpStream::connect(upstream).await else { return };
    tokio::select! {
        _ = copy_bidirectional(&mut client, &mut server) => {}
        _ = cuts.changed() => {
            shared.severed.fetch_add(1, Ordering::SeqCst);
        }
    }
    // Dropping both streams closes them: to each side the other just vanished.
}
