//! Checkouts routed among processes (`--route-peers`): three real `checkout-api` processes that
//! know each other. A flash sale sent to all three in turn is placed by the owner of its
//! product, but for the first few checkouts each other process takes before it sees the
//! product selling fast, and sells exactly what there was; a keyed retry landing on another
//! process is answered from the first attempt; a peer that is down hands its products to the
//! others; the headers that carry a peer's deadline are obeyed only under the secret; and the
//! bundles forwarded checkouts travel in are taken only from a peer; and with
//! `--route-advertise` the answers name the owner.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use api::peers::{self, PeerSettings, Peers};
use api::wire::OrderView;
use reqwest::Method;
use serde_json::{Value, json};
use testkit::TestDatabase;
use tokio::task::JoinSet;
use url::Url;
use uuid::Uuid;

use super::client::{Api, cart};
use super::harness::with_configured_processes;

const SECRET: &str = "e2e-routing-secret-0123456789";
const UNITS: i64 = 60;
const BUYERS: usize = 300;

on_both_backends!(database: a_hot_products_orders_are_placed_by_its_owner);
on_both_backends!(database: a_peer_that_is_down_hands_its_products_to_the_others);
on_both_backends!(database: the_owner_limits_the_buyers_address_not_the_forwarding_peers);
on_both_backends!(database: the_owner_is_named_to_callers_only_when_asked);

/// `count` processes routing among `addrs` (the first `count` of them run; the rest are peers
/// that are down), each also given the settings `extra`.
async fn with_routed_processes<F, Fut>(
    database: &TestDatabase,
    count: usize,
    addrs: Vec<SocketAddr>,
    extra: &[(&str, &str)],
    scenario: F,
) where
    F: FnOnce(Vec<Api>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let peers = addrs.iter().map(|a| format!("http://{a}")).collect::<Vec<_>>().join(",");
    let env = |n: usize| {
        let mut env = vec![
            ("CHECKOUT_BIND".to_owned(), addrs[n].to_string()),
            ("CHECKOUT_ROUTE_PEERS".to_owned(), peers.clone()),
            ("CHECKOUT_ROUTE_SELF".to_owned(), format!("http://{}", addrs[n])),
            ("CHECKOUT_ROUTE_SECRET".to_owned(), SECRET.to_owned()),
        ];
        env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        env
    };
    with_configured_processes(database, count, env, scenario).await;
}

/// A product of `on_hand` units whose owner is `addrs[owner_index]`, created through `api`.
async fn product_owned_by(
    api: &Api,
    addrs: &[SocketAddr],
    owner_index: usize,
    on_hand: i64,
) -> Uuid {
    for n in 0..64 {
        let id = api.create_product(&format!("OWNED-{owner_index}-{n}"), on_hand).await;
        if owner(addrs, id) == addrs[owner_index] {
            return id;
        }
    }
    panic!("none of 64 products is owned by {}", addrs[owner_index]);
}

/// The owner of `product` among `addrs`, as every process computes it.
fn owner(addrs: &[SocketAddr], product: Uuid) -> SocketAddr {
    let url = |a: &SocketAddr| Url::parse(&format!("http://{a}")).expect("a URL");
    let settings = PeerSettings {
        peers: addrs.iter().map(url).collect(),
        own: url(&addrs[0]),
        secret: SECRET.into(),
        hot: 0,
        advertise: false,
    };
    let peers = Peers::new(Some(settings)).expect("valid").expect("routing on");
    peers.owner(product).map_or(addrs[0], |u| {
        addrs.iter().copied().find(|a| url(a) == *u).expect("one of the peers")
    })
}

/// Sells `product` to [`BUYERS`] buyers spread over `apis` in turn; returns (status, problem) →
/// count.
async fn sale(apis: &[Api], product: Uuid) -> BTreeMap<(u16, String), usize> {
    let mut buyers = JoinSet::new();
    for i in 0..BUYERS {
        let api = apis[i % apis.len()].clone();
        buyers.spawn(async move { api.checkout(&[(product, 1)]).await.outcome() });
    }
    let mut tally = BTreeMap::new();
    for outcome in buyers.join_all().await {
        *tally.entry(outcome).or_insert(0) += 1;
    }
    tally
}

fn sold_out() -> BTreeMap<(u16, String), usize> {
    BTreeMap::from([
        ((201, String::new()), UNITS as usize),
        ((409, "insufficient-stock".to_owned()), BUYERS - UNITS as usize),
    ])
}

/// The value of the counter sample `name{labels}` in a `/metrics` text, 0 when absent.
fn sample(metrics: &str, series: &str) -> f64 {
    metrics.lines().find_map(|line| line.strip_prefix(series)?.trim().parse().ok()).unwrap_or(0.0)
}

async fn a_hot_products_orders_are_placed_by_its_owner(database: &TestDatabase) {
    let addrs: Vec<SocketAddr> = (0..3).map(|_| testkit::free_addr()).collect();
    let scenario_addrs = addrs.clone();
    with_routed_processes(database, 3, addrs, &[], move |apis| async move {
        // Arrange
        let hot = apis[0].create_product("ROUTED-HOT", UNITS).await;
        let owner = owner(&scenario_addrs, hot);

        // Act
        let tally = sale(&apis, hot).await;

        // Assert: exactly what there was. Each other process handled the product's first
        // checkouts itself, until it had led 8 of its latest 64 (`--route-hot`), and forwarded
        // every later one to the owner.
        assert_eq!(tally, sold_out(), "(status, problem) → count");
        let series = |route: &str| format!("checkout_routes_total{{route=\"{route}\"}}");
        let created = "checkouts_total{outcome=\"created\"}";
        let (mut by_owner, mut elsewhere) = (0.0, 0.0);
        for (api, addr) in apis.iter().zip(&scenario_addrs) {
            let metrics = api.metrics().await;
            if *addr == owner {
                assert_eq!(sample(&metrics, &series("forwarded")), 0.0, "the owner forwards none");
                by_owner = sample(&metrics, created);
            } else {
                let cold = peers::DEFAULT_HOT as f64;
                assert_eq!(sample(&metrics, &series("here")), cold, "{addr}: {metrics}");
                let rest = (BUYERS / 3) as f64 - cold;
                assert_eq!(sample(&metrics, &series("forwarded")), rest, "{addr}: {metrics}");
                assert!(sample(&metrics, created) <= cold, "{addr} placed only its first ones");
                elsewhere += sample(&metrics, created);
                // They travelled in bundles, at most as many as there were checkouts.
                let bundles = sample(&metrics, "checkout_forward_bundles_total");
                assert!((1.0..=rest).contains(&bundles), "{addr}: {bundles} bundles");
            }
        }
        assert_eq!(by_owner + elsewhere, UNITS as f64);
        let stock = apis[1].stock(hot).await;
        assert_eq!((stock.on_hand, stock.reserved, stock.available), (UNITS, UNITS, 0));

        // A keyed checkout retried on another process: one order, the first answer replayed.
        let fresh = apis[0].create_product("ROUTED-KEYED", 5).await;
        let first = apis[0].checkout_with_key("routed-key-1", &[(fresh, 2)]).await;
        let again = apis[2].checkout_with_key("routed-key-1", &[(fresh, 2)]).await;
        assert_eq!(first.status, 201, "{}", first.text());
        assert_eq!(first.header("checkout-owner"), None, "peers stay private by default");
        assert_eq!(again.status, 201, "{}", again.text());
        assert_eq!(first.json::<OrderView>().id, again.json::<OrderView>().id);
        assert_eq!(apis[1].stock(fresh).await.reserved, 2);

        // A caller cannot hand itself a peer's deadline without the secret…
        let expired = |api: &Api, secret: &str| {
            api.request(Method::POST, "/v1/checkout")
                .header("checkout-peer-token", secret)
                .header("checkout-peer-deadline", "0 0")
                .json(&cart(&[(fresh, 1)]))
        };
        let spoofed = apis[1].send(expired(&apis[1], "not-the-secret-at-all")).await;
        assert_eq!(spoofed.status, 201, "{}", spoofed.text());
        // …while a peer's is kept: this one had run out, so nothing is reserved for it.
        let late = apis[1].send(expired(&apis[1], SECRET)).await;
        assert_eq!(late.status, 503, "{}", late.text());
        assert_eq!(apis[1].stock(fresh).await.reserved, 3);

        // Bundles of forwarded checkouts are taken only from a peer showing the secret; each
        // checkout in one is answered as if it had come alone.
        let bundle = |secret: &str| {
            let item = json!({
                "headers": [["content-type", "application/json"]],
                "deadline": null,
                "client": "10.9.8.7",
                "body": cart(&[(fresh, 1)]),
            });
            (apis[1].request(Method::POST, peers::BUNDLE_PATH))
                .header("checkout-peer-token", secret)
                .json(&json!([item, item]))
        };
        let refused = apis[1].send(bundle("not-the-secret-at-all")).await;
        assert_eq!(refused.status, 404, "{}", refused.text());
        let answered = apis[1].send(bundle(SECRET)).await;
        assert_eq!(answered.status, 200, "{}", answered.text());
        let answers: Vec<Value> = answered.json();
        let statuses: Vec<_> = answers.iter().map(|answer| answer["status"].clone()).collect();
        assert_eq!(statuses, [json!(201), json!(201)], "{answers:?}");
        assert_eq!(apis[1].stock(fresh).await.reserved, 5);
        apis[0].assert_no_drift().await;
    })
    .await;
}

async fn a_peer_that_is_down_hands_its_products_to_the_others(database: &TestDatabase) {
    // Three peers named, two running: the third's port is free and nobody listens there.
    let addrs: Vec<SocketAddr> = (0..3).map(|_| testkit::free_addr()).collect();
    let scenario_addrs = addrs.clone();
    with_routed_processes(database, 2, addrs, &[], move |apis| async move {
        // Arrange: a product the missing peer owns.
        let product = product_owned_by(&apis[0], &scenario_addrs, 2, UNITS).await;

        // Act
        let tally = sale(&apis, product).await;

        // Assert: sold exactly once each, by the processes that are up.
        assert_eq!(tally, sold_out(), "(status, problem) → count");
        for api in &apis {
            let metrics = api.metrics().await;
            let fallback = sample(&metrics, "checkout_routes_total{route=\"fallback\"}");
            assert!(fallback >= 1.0, "the missing peer was tried and passed over: {metrics}");
        }
        apis[0].assert_no_drift().await;
    })
    .await;
}

async fn the_owner_limits_the_buyers_address_not_the_forwarding_peers(database: &TestDatabase) {
    // Two anonymous checkouts at once per address, then one a second.
    // Every checkout forwarded, the first ones of a product too (`--route-hot 0`).
    let budget = [
        ("CHECKOUT_RATE_PER_IP", "1"),
        ("CHECKOUT_BURST_PER_IP", "2"),
        ("CHECKOUT_ROUTE_HOT", "0"),
    ];
    let addrs: Vec<SocketAddr> = (0..2).map(|_| testkit::free_addr()).collect();
    let scenario_addrs = addrs.clone();
    with_routed_processes(database, 2, addrs, &budget, move |apis| async move {
        // Arrange: the second process owns the product; buyers come from two addresses.
        let product = product_owned_by(&apis[0], &scenario_addrs, 1, 100).await;
        let buyer = |api: &Api, last: u8| api.with_address([127, 0, 0, last].into());
        let status = async |api: Api| api.checkout(&[(product, 1)]).await.status.as_u16();

        // Act and assert: the first process forwards the buyer's two checkouts, and the owner
        // counts them against the buyer (127.0.0.2), not against the first process (127.0.0.1).
        assert_eq!(status(buyer(&apis[0], 2)).await, 201);
        assert_eq!(status(buyer(&apis[0], 2)).await, 201);
        assert_eq!(status(buyer(&apis[1], 2)).await, 429, "the same buyer, straight to the owner");
        assert_eq!(status(buyer(&apis[0], 3)).await, 201, "another buyer through the same peer");
        assert_eq!(apis[1].stock(product).await.reserved, 3);
    })
    .await;
}

async fn the_owner_is_named_to_callers_only_when_asked(database: &TestDatabase) {
    // Every checkout routed (`--route-hot 0`), and the owner named on its answer.
    let settings = [("CHECKOUT_ROUTE_HOT", "0"), ("CHECKOUT_ROUTE_ADVERTISE", "on")];
    let addrs: Vec<SocketAddr> = (0..2).map(|_| testkit::free_addr()).collect();
    let scenario_addrs = addrs.clone();
    with_routed_processes(database, 2, addrs, &settings, move |apis| async move {
        // Arrange
        let product = product_owned_by(&apis[0], &scenario_addrs, 1, 10).await;
        let owner = format!("http://{}/", scenario_addrs[1]);

        // Act: one checkout through the other process, one straight to the owner.
        let forwarded = apis[0].checkout(&[(product, 1)]).await;
        let direct = apis[1].checkout(&[(product, 1)]).await;

        // Assert: both name the owner, so a client can skip the hop next time.
        assert_eq!(forwarded.status, 201, "{}", forwarded.text());
        assert_eq!(direct.status, 201, "{}", direct.text());
        assert_eq!(forwarded.header("checkout-owner"), Some(owner.as_str()));
        assert_eq!(direct.header("checkout-owner"), Some(owner.as_str()));
        let metrics = apis[0].metrics().await;
        assert_eq!(sample(&metrics, "checkout_routes_total{route=\"forwarded\"}"), 1.0);
        assert_eq!(apis[1].stock(product).await.reserved, 2);
    })
    .await;
}
