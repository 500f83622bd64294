//! Routing checkouts between server processes (off by default): every process knows the same
//! list of peers, and a checkout of a product selling fast is handled by the process that owns
//! its cart's lead product.
//!
//! Why: group commit coalesces the buyers of one product *within* a process. Spread over N
//! processes by a load balancer, a hot product's buyers form N batches a tenth of the size,
//! each paying a batch's fixed cost and queueing on the same stock row
//! (docs/scaling.md, "Many processes, measured"). Forwarded to one owner, they meet in one
//! batch again, whatever process the balancer picked. Only products selling fast are forwarded
//! ([`Peers::is_hot`]): a cart of products bought now and then gains nothing from meeting
//! others in one process (a batch is any checkouts that queued together, whatever their
//! products), and the hop costs about what a checkout costs its owner (docs/scaling.md).
//!
//! The owner is chosen by rendezvous hashing (the peer whose SHA-256 of its URL and the product
//! id is highest), so every process picks the same owner without talking to the others, and a
//! peer that cannot be reached is skipped for a moment, moving only its own products to their
//! next-best peer. Routing decides speed, never correctness: the database's versioned writes
//! keep every process from overselling, so a checkout handled by the "wrong" process is only a
//! smaller batch.

mod bundle;
mod forward;
mod secret;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use sha2::{Digest, Sha256};
use url::Url;
use uuid::Uuid;

use self::bundle::{Outbox, Queued, Unsent};
pub use bundle::{PATH as BUNDLE_PATH, Unbundle};
pub use forward::{FromPeer, admit, route};
pub use secret::Secret;

/// The fewest bytes a routing secret may have: it lets a caller choose its own deadline and
/// abuse-limit address, so it must not be guessable.
pub const MIN_SECRET_LEN: usize = 16;

/// The answer header naming the process that owns a product selling fast, with
/// `--route-advertise`: a client that can reach it sends the product's next checkouts there.
pub const OWNER: HeaderName = HeaderName::from_static("checkout-owner");

/// How long a peer that refused a connection is passed over before it is tried again.
const SKIP_UNREACHABLE: Duration = Duration::from_secs(2);

/// How many of this process's latest checkouts [`Peers::is_hot`] looks back on.
pub const RECENT: usize = 64;

/// The default of [`PeerSettings::hot`]: a product leading 8 of the latest 64 checkouts (one
/// in eight) is selling fast; a product of a catalogue of hundreds leads one or two.
pub const DEFAULT_HOT: usize = 8;

/// The routing settings (`--route-peers`, `--route-self`, `--route-secret`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerSettings {
    /// Every process's base URL, this one's included; the same list on every process.
    pub peers: Vec<Url>,
    /// This process's base URL, as written in `peers`.
    pub own: Url,
    /// What processes show each other on a forwarded request.
    pub secret: String,
    /// How many of this process's latest [`RECENT`] checkouts must have led with a product
    /// before its checkouts are forwarded; 0 forwards every one.
    pub hot: usize,
    /// Whether the answers to a hot product's checkouts name its owner (`Checkout-Owner`).
    pub advertise: bool,
}

/// Why the routing settings cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RoutingError {
    #[error("--route-self (CHECKOUT_ROUTE_SELF) is required with --route-peers")]
    NoOwnUrl,
    #[error("--route-self {0} is not one of --route-peers")]
    OwnUrlNotAPeer(String),
    #[error(
        "--route-secret (CHECKOUT_ROUTE_SECRET) of at least {MIN_SECRET_LEN} bytes is required \
         with --route-peers: the same on every process"
    )]
    WeakSecret,
    #[error(
        "--route-secret (CHECKOUT_ROUTE_SECRET) must be printable ASCII: it travels in a header"
    )]
    SecretNotText,
    #[error("--route-peers {0} is not an http:// or https:// base URL")]
    NotHttp(String),
    #[error("--route-hot {0} is more than the {RECENT} checkouts it counts among")]
    HotPastRecent(usize),
}

/// The processes checkouts are routed among, and the client that forwards to them.
pub struct Peers {
    /// Sorted and without duplicates, so that every process sees the same list.
    members: Vec<Member>,
    /// This process's index in `members`.
    own: usize,
    secret: Secret,
    client: reqwest::Client,
    /// When `members`' unreachable-until times count from.
    epoch: Instant,
    hot: usize,
    advertise: bool,
    /// The lead products of this process's latest checkouts, a ring.
    recent: Mutex<Recent>,
}

struct Recent {
    leads: [Uuid; RECENT],
    next: usize,
}

struct Member {
    url: Url,
    /// Milliseconds after `Peers::epoch` until which this peer is passed over (0: never was).
    skip_until_ms: AtomicU64,
    /// The bundles to this peer, from the first checkout forwarded to it.
    outbox: OnceLock<Outbox>,
}

impl Peers {
    /// The peers `settings` name, or `None` when routing is off (no peers, or this process
    /// alone).
    ///
    /// # Errors
    /// See [`RoutingError`].
    pub fn new(settings: Option<PeerSettings>) -> Result<Option<Self>, RoutingError> {
        let Some(settings) = settings else { return Ok(None) };
        if let Some(bad) = settings.peers.iter().find(|url| !is_base_url(url)) {
            return Err(RoutingError::NotHttp(bad.to_string()));
        }
        if settings.secret.len() < MIN_SECRET_LEN {
            return Err(RoutingError::WeakSecret);
        }
        let secret = Secret::new(&settings.secret).ok_or(RoutingError::SecretNotText)?;
        if settings.hot > RECENT {
            return Err(RoutingError::HotPastRecent(settings.hot));
        }
        let mut urls = settings.peers;
        urls.sort();
        urls.dedup();
        let own = urls
            .binary_search(&settings.own)
            .map_err(|_| RoutingError::OwnUrlNotAPeer(settings.own.to_string()))?;
        if urls.len() < 2 {
            return Ok(None);
        }
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true)
            // A peer on another host that is down fails within this, and its checkouts are
            // then handled here (a refused connection fails at once).
            .connect_timeout(Duration::from_secs(1))
            .build()
            .expect("a TLS backend is compiled in");
        let members = urls
            .into_iter()
            .map(|url| Member { url, skip_until_ms: AtomicU64::new(0), outbox: OnceLock::new() })
            .collect();
        Ok(Some(Self {
            members,
            own,
            secret,
            client,
            epoch: Instant::now(),
            hot: settings.hot,
            advertise: settings.advertise,
            recent: Mutex::new(Recent { leads: [Uuid::nil(); RECENT], next: 0 }),
        }))
    }

    /// The peer that handles checkouts led by `product`, or `None` when it is this process.
    /// Peers that recently refused a connection are passed over.
    #[must_use]
    pub fn owner(&self, product: Uuid) -> Option<&Url> {
        let now = self.elapsed_ms();
        let reachable = |(i, member): &(usize, &Member)| {
            *i == self.own || member.skip_until_ms.load(Ordering::Relaxed) <= now
        };
        let (owner, member) = self
            .members
            .iter()
            .enumerate()
            .filter(reachable)
            .max_by_key(|(_, member)| score(&member.url, product))?;
        (owner != self.own).then_some(&member.url)
    }

    /// Counts a checkout led by `product`, and says whether that product is selling fast here:
    /// it led at least `hot` of this process's latest [`RECENT`] checkouts before this one.
    pub fn is_hot(&self, product: Uuid) -> bool {
        if self.hot == 0 {
            return true;
        }
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        let seen = recent.leads.iter().filter(|&&lead| lead == product).count();
        let next = recent.next;
        recent.leads[next] = product;
        recent.next = (next + 1) % RECENT;
        seen >= self.hot
    }

    /// Queues `checkout` for the next bundle to the peer at `url` (an owner [`Peers::owner`]
    /// named).
    fn bundle_to(&self, url: &Url, checkout: Queued) -> Result<(), Unsent> {
        let member = self.members.iter().find(|m| &m.url == url).ok_or(Unsent::Refused)?;
        let outbox = member
            .outbox
            .get_or_init(|| Outbox::start(self.client.clone(), url, self.secret.header().clone()));
        outbox.send(checkout)
    }

    /// Names the process that placed a hot product's checkout on its answer ([`OWNER`]):
    /// `owner`, or this process when `None`. Only with `--route-advertise`.
    fn advertise(&self, response: &mut Response, owner: Option<&Url>) {
        let url = owner.unwrap_or(&self.members[self.own].url);
        if self.advertise
            && let Ok(value) = HeaderValue::from_str(url.as_str())
        {
            response.headers_mut().insert(OWNER, value);
        }
    }

    /// Passes `url` over for a moment: it refused a connection.
    fn skip(&self, url: &Url) {
        if let Some(member) = self.members.iter().find(|m| &m.url == url) {
            let until = self.elapsed_ms() + SKIP_UNREACHABLE.as_millis() as u64;
            member.skip_until_ms.store(until, Ordering::Relaxed);
        }
    }

    /// The routing secret, for the owner's side of bundles ([`Unbundle`]).
    #[must_use]
    pub fn secret(&self) -> Secret {
        self.secret.clone()
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// A peer's weight for `product`: the first eight bytes of SHA-256(URL ‖ product id). Stable
/// across processes, builds and platforms, unlike the standard library's hasher.
fn score(url: &Url, product: Uuid) -> u64 {
    let digest =
        Sha256::new().chain_update(url.as_str()).chain_update(product.as_bytes()).finalize();
    u64::from_be_bytes(digest[..8].try_into().expect("a SHA-256 digest has 32 bytes"))
}

/// An `http(s)://host[:port]/` URL without a path, query or credentials: a checkout's path is
/// appended to it.
fn is_base_url(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https")
        && url.has_host()
        && url.path() == "/"
        && url.query().is_none()
        && url.username().is_empty()
        && url.password().is_none()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const SECRET: &str = "a-routing-secret-of-some-length";

    fn urls(ports: &[u16]) -> Vec<Url> {
        ports.iter().map(|p| Url::parse(&format!("http://127.0.0.1:{p}")).unwrap()).collect()
    }

    fn peers(all: &[u16], own: u16) -> Peers {
        let settings = PeerSettings {
            peers: urls(all),
            own: urls(&[own]).remove(0),
            secret: SECRET.into(),
            hot: DEFAULT_HOT,
            advertise: false,
        };
        Peers::new(Some(settings)).expect("valid settings").expect("routing on")
    }

    /// Which process each of `products` goes to, seen from `view`.
    fn owners(view: &Peers, products: &[Uuid]) -> Vec<Url> {
        products
            .iter()
            .map(|&p| view.owner(p).cloned().unwrap_or_else(|| view.members[view.own].url.clone()))
            .collect()
    }

    #[test]
    fn every_process_picks_the_same_owner_whatever_order_its_list_is_in() {
        let products: Vec<Uuid> = (0..200).map(|_| Uuid::new_v4()).collect();
        let views = [peers(&[1, 2, 3], 1), peers(&[3, 1, 2], 2), peers(&[2, 3, 1, 3], 3)];
        let first = owners(&views[0], &products);
        for view in &views[1..] {
            assert_eq!(owners(view, &products), first);
        }
    }

    #[test]
    fn products_spread_over_every_process() {
        let view = peers(&[1, 2, 3, 4], 1);
        let mut counts: HashMap<Url, usize> = HashMap::new();
        for owner in owners(&view, &(0..4000).map(|_| Uuid::new_v4()).collect::<Vec<_>>()) {
            *counts.entry(owner).or_default() += 1;
        }
        assert_eq!(counts.len(), 4);
        // 1,000 expected each; rendezvous hashing is uniform, so ±20 % is never crossed in
        // practice (about 6 standard deviations).
        assert!(counts.values().all(|&n| (800..=1200).contains(&n)), "{counts:?}");
    }

    #[test]
    fn an_unreachable_peer_moves_only_its_own_products_and_comes_back() {
        let view = peers(&[1, 2, 3], 1);
        let products: Vec<Uuid> = (0..300).map(|_| Uuid::new_v4()).collect();
        let before = owners(&view, &products);
        let gone = urls(&[3]).remove(0);
        view.skip(&gone);
        let after = owners(&view, &products);
        for (was, is) in before.iter().zip(&after) {
            assert_ne!(is, &gone);
            if was != &gone {
                assert_eq!(was, is, "a product of a reachable peer moved");
            }
        }
        assert!(before.contains(&gone));
        // Its time is up: back to the first choice.
        view.members[2].skip_until_ms.store(0, Ordering::Relaxed);
        assert_eq!(owners(&view, &products), before);
    }

    #[test]
    fn settings_that_cannot_route_are_refused() {
        let settings = |own: u16, secret: &str| {
            Some(PeerSettings {
                peers: urls(&[1, 2]),
                own: urls(&[own]).remove(0),
                secret: secret.into(),
                hot: DEFAULT_HOT,
                advertise: false,
            })
        };
        assert!(matches!(Peers::new(settings(9, SECRET)), Err(RoutingError::OwnUrlNotAPeer(_))));
        assert!(matches!(Peers::new(settings(1, "short")), Err(RoutingError::WeakSecret)));
        let line = settings(1, "a-routing-secret\nof-some-length");
        assert!(matches!(Peers::new(line), Err(RoutingError::SecretNotText)));
        let with_path = PeerSettings {
            peers: vec![Url::parse("http://127.0.0.1:1/v1").unwrap()],
            own: Url::parse("http://127.0.0.1:1/v1").unwrap(),
            secret: SECRET.into(),
            hot: DEFAULT_HOT,
            advertise: false,
        };
        assert!(matches!(Peers::new(Some(with_path)), Err(RoutingError::NotHttp(_))));
        // One process alone has no one to route to.
        let alone = PeerSettings {
            peers: urls(&[1]),
            own: urls(&[1]).remove(0),
            secret: SECRET.into(),
            hot: DEFAULT_HOT,
            advertise: false,
        };
        assert!(Peers::new(Some(alone)).expect("valid").is_none());
        assert!(Peers::new(None).expect("valid").is_none());
    }

    #[test]
    fn a_product_is_hot_once_it_leads_enough_of_the_latest_checkouts() {
        let view = peers(&[1, 2], 1);
        let hot = Uuid::new_v4();
        // Seen 8 times before: hot from the ninth on.
        let firsts: Vec<bool> = (0..10).map(|_| view.is_hot(hot)).collect();
        assert_eq!(firsts, [false, false, false, false, false, false, false, false, true, true]);
        // Pushed out of the window by a catalogue of others, each seen once: cold again.
        for _ in 0..RECENT {
            assert!(!view.is_hot(Uuid::new_v4()));
        }
        assert!(!view.is_hot(hot));
        let mut every = peers(&[1, 2], 1);
        every.hot = 0;
        assert!(every.is_hot(Uuid::new_v4()), "0 forwards every checkout");
        let too_many = PeerSettings {
            peers: urls(&[1, 2]),
            own: urls(&[1]).remove(0),
            secret: SECRET.into(),
            hot: RECENT + 1,
            advertise: false,
        };
        assert!(matches!(Peers::new(Some(too_many)), Err(RoutingError::HotPastRecent(65))));
    }
}
