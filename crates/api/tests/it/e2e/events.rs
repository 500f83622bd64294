//! The event feed across three server processes: a reader follows `next` while checkouts,
//! payments and cancellations race on all three, and must end up with every event exactly
//! once, sequences dense, each product's stock versions consecutive, and the same list a
//! reader from the beginning gets afterwards. A reader that skipped an event committed late
//! (the classic outbox bug) would miss a sequence or a version here.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use api::wire::{CloudEvent, OrderView};
use testkit::TestDatabase;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::client::Api;
use super::harness::with_processes;

const PROCESSES: usize = 3;
const HOT_UNITS: i64 = 60;
const HOT_BUYERS: usize = 200;
const MIXED_UNITS: i64 = 30;
const MIXED_CARTS: usize = 120;
/// Small pages, so that the reader takes many steps while the writes go on.
const PAGE: u32 = 25;

on_both_backends!(pooled: database: a_feed_followed_during_three_processes_writes_skips_nothing);
on_both_backends!(bad_feed_requests_are_problems_and_a_long_poll_wakes_on_a_commit);
on_both_backends!(a_product_running_low_is_a_stock_low_event_at_its_threshold);
on_both_backends!(
    a_reader_behind_the_retention_gets_410_and_where_the_feed_begins,
    short_retention
);

/// Events kept one second; the sweeper passes every 10 ms (it purges every 600 passes).
fn short_retention(config: &mut api::cli::Config) {
    config.events_retention = 1;
    config.sweep_interval_ms = 10;
}

async fn a_reader_behind_the_retention_gets_410_and_where_the_feed_begins(api: Api) {
    use reqwest::Method;
    use std::time::{Duration, Instant};
    let old = api.create_product("OLD-1", 1).await; // sequences 1 and 2
    // New events keep coming (a product every 200 ms) until a purge has passed the old ones.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut made = 0;
    let expired = loop {
        made += 1;
        api.create_product(&format!("NEW-{made}"), 1).await;
        let reply = api.send(api.admin(Method::GET, "/v1/events?after=0")).await;
        if reply.status == 410 || Instant::now() > deadline {
            break reply;
        }
        assert_eq!(reply.status, 200, "{}", reply.text());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let problem = expired.assert_problem(410, "cursor-expired");
    let earliest = problem["earliest"].as_i64().expect("earliest");
    assert!(earliest > 2, "the old product's events went: {problem}");
    // From the mark on the feed is whole; one before it is expired too.
    let page = api.events(earliest - 1, 1000, 0).await;
    assert_eq!(page.earliest, earliest);
    assert_eq!(page.items.first().map(|e| e.sequence), Some(earliest));
    let behind =
        api.send(api.admin(Method::GET, &format!("/v1/events?after={}", earliest - 2))).await;
    behind.assert_problem(410, "cursor-expired");
    // The facts stay: the old product and its ledger.
    assert_eq!(api.movements(old).await.len(), 1);
}

async fn a_product_running_low_is_a_stock_low_event_at_its_threshold(api: Api) {
    use api::wire::ProductView;
    use reqwest::Method;
    use serde_json::json;
    let body = json!({
        "sku": "LOW-1", "name": "Running low", "price": {"amount": 100, "currency": "EUR"},
        "initial_stock": 5, "low_stock_threshold": 2,
    });
    let made = api.send(api.admin(Method::POST, "/v1/products").json(&body)).await;
    assert_eq!(made.status, 201, "{}", made.text());
    let product: ProductView = made.json();
    assert_eq!(product.low_stock_threshold, Some(2));
    let path = format!("/v1/products/{}", product.id);
    for bad in [json!({"low_stock_threshold": -1}), json!({"low_stock_threshold": "2"})] {
        let reply = api.send(api.admin(Method::PATCH, &path).json(&bad)).await;
        assert_eq!(reply.status, 422, "{bad}: {}", reply.text());
    }

    // 5 → 3: not low; 3 → 2: low; 2 → 0: out (not low again).
    for quantity in [2, 1, 2] {
        assert_eq!(api.checkout(&[(product.id, quantity)]).await.status, 201);
    }
    let levels: Vec<(String, i64, Option<i64>)> = api
        .events(0, 1000, 0)
        .await
        .items
        .into_iter()
        .filter(|e| e.event_type == "stock.low" || e.event_type == "stock.out")
        .map(|e| {
            (
                e.event_type,
                e.data["available"].as_i64().unwrap(),
                e.data["low_stock_threshold"].as_i64(),
            )
        })
        .collect();
    assert_eq!(
        levels,
        [("stock.low".to_owned(), 2, Some(2)), ("stock.out".to_owned(), 0, Some(2))]
    );

    // Removed: no more stock.low after a delivery and a new fall.
    let removed =
        api.send(api.admin(Method::PATCH, &path).json(&json!({"low_stock_threshold": null}))).await;
    assert_eq!(removed.json::<ProductView>().low_stock_threshold, None);
}

async fn bad_feed_requests_are_problems_and_a_long_poll_wakes_on_a_commit(api: Api) {
    use reqwest::Method;
    for (query, status, slug) in [
        ("after=-1", 422, "invalid-request"),
        ("limit=0", 422, "invalid-request"),
        ("limit=1001", 422, "invalid-request"),
        ("wait=31", 422, "invalid-request"),
        ("after=abc", 422, "invalid-request"),
        ("since=3", 422, "invalid-request"),
    ] {
        let reply = api.send(api.admin(Method::GET, &format!("/v1/events?{query}"))).await;
        assert_eq!(reply.outcome(), (status, slug.to_owned()), "{query}: {}", reply.text());
        reply.assert_problem(status, slug);
    }
    let anonymous = api.send(api.request(Method::GET, "/v1/events")).await;
    assert_eq!(anonymous.status, 401);
    let clerk = api.create_client("ledger reader", &["stock:ledger"]).await;
    let scoped = api.send(api.with_key(&clerk.key, Method::GET, "/v1/events")).await;
    assert_eq!(scoped.outcome(), (403, "insufficient-scope".to_owned()));

    // A reader waiting at the head is answered by the next commit, well before its wait ends.
    let head = api.events(0, 1000, 0).await.next;
    let waiting = {
        let api = api.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            (api.events(head, 10, 20).await, started.elapsed())
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let product = api.create_product("FEED-WAKE", 3).await;
    let (page, waited) = waiting.await.expect("the waiting reader");
    assert!(waited < std::time::Duration::from_secs(5), "woken after {waited:?}");
    assert_eq!(page.items.first().map(|e| e.event_type.as_str()), Some("product.created"));
    assert_eq!(page.items[0].subject, product.to_string());
    assert_eq!(page.items[0].sequence, head + 1);
}

async fn a_feed_followed_during_three_processes_writes_skips_nothing(database: &TestDatabase) {
    with_processes(database, PROCESSES, scenario).await;
}

/// Follows the feed on `api` from the beginning until `done` is set and a page comes back
/// empty; every event as read.
async fn follow(api: Api, done: Arc<AtomicBool>) -> Vec<CloudEvent> {
    let (mut after, mut read) = (0, Vec::new());
    loop {
        let finished = done.load(Ordering::SeqCst);
        let page = api.events(after, PAGE, u32::from(!finished)).await;
        let empty = page.items.is_empty();
        if let Some(last) = page.items.last() {
            assert_eq!(page.next, last.sequence, "next is the last item's sequence");
        } else {
            assert_eq!(page.next, after, "an empty page stays where it was");
        }
        after = page.next;
        read.extend(page.items);
        if finished && empty {
            return read;
        }
    }
}

async fn scenario(apis: Vec<Api>) {
    // Arrange: a reader following the feed from the start, on the first process.
    let done = Arc::new(AtomicBool::new(false));
    let reader = tokio::spawn(follow(apis[0].clone(), Arc::clone(&done)));
    let hot = apis[0].create_product("FEED-HOT", HOT_UNITS).await;
    let mut mixed = Vec::new();
    for n in 0..4 {
        mixed.push(
            apis[(n + 1) % PROCESSES].create_product(&format!("FEED-MIX-{n}"), MIXED_UNITS).await,
        );
    }
    let carts: Vec<Vec<(Uuid, i64)>> = (0..MIXED_CARTS)
        .map(|i| {
            (0..1 + i % 3).map(|k| (mixed[(i * 5 + k) % 4], 1 + ((i + k) % 2) as i64)).collect()
        })
        .collect();

    // Act: every buyer at once, over the three processes; then pay or cancel the hot orders on
    // another process than the one that took them.
    let mut buyers = JoinSet::new();
    let hot_carts = (0..HOT_BUYERS).map(|_| vec![(hot, 1)]);
    for (i, lines) in hot_carts.chain(carts).enumerate() {
        let api = apis[i % PROCESSES].clone();
        buyers.spawn(async move {
            let reply = api.checkout(&lines).await;
            assert!(matches!(reply.status.as_u16(), 201 | 409), "{}", reply.text());
            (reply.status == 201).then(|| (i, reply.json::<OrderView>().id))
        });
    }
    let orders: Vec<(usize, Uuid)> = buyers.join_all().await.into_iter().flatten().collect();
    let mut settled = JoinSet::new();
    for (n, &(i, order)) in orders.iter().enumerate() {
        let api = apis[(i + 1) % PROCESSES].clone();
        settled.spawn(async move {
            match n % 3 {
                0 => Some(("order.paid", order, api.pay(order).await.status.as_u16())),
                1 => Some(("order.cancelled", order, api.cancel(order).await.status.as_u16())),
                _ => None,
            }
        });
    }
    let settled: Vec<_> = settled.join_all().await.into_iter().flatten().collect();
    assert!(settled.iter().all(|(_, _, status)| *status == 200), "{settled:?}");
    done.store(true, Ordering::SeqCst);
    let followed = reader.await.expect("the reader");

    // Assert: dense sequences from 1, each event once; a stock.out or stock.back_in repeats the
    // sequence of the stock.changed it follows.
    let derived = |e: &CloudEvent| matches!(e.event_type.as_str(), "stock.out" | "stock.back_in");
    let sequences: Vec<i64> = followed.iter().filter(|e| !derived(e)).map(|e| e.sequence).collect();
    assert_eq!(sequences, (1..=sequences.len() as i64).collect::<Vec<_>>(), "dense, in order");
    for pair in followed.windows(2).filter(|pair| derived(&pair[1])) {
        assert_eq!(
            (pair[0].event_type.as_str(), pair[0].sequence),
            ("stock.changed", pair[1].sequence)
        );
        assert_eq!(pair[0].data, pair[1].data, "the change that crossed the level");
    }
    // The hot product sold out: its last unit's reservation is stock.out, and a cancellation
    // after it brings it back in.
    let hot_levels: Vec<(&str, i64)> = (followed.iter())
        .filter(|e| derived(e) && e.subject == hot.to_string())
        .map(|e| (e.event_type.as_str(), e.data["available"].as_i64().unwrap()))
        .collect();
    assert_eq!(hot_levels.first(), Some(&("stock.out", 0)), "{hot_levels:?}");
    assert!(hot_levels.iter().any(|(t, a)| *t == "stock.back_in" && *a > 0), "{hot_levels:?}");
    let ids: HashSet<&str> = followed.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), followed.len(), "every event id once");

    // Assert: a reader from the beginning afterwards, on another process, reads the same.
    let mut again = Vec::new();
    let mut after = 0;
    loop {
        let page = apis[2].events(after, 1000, 0).await;
        if page.items.is_empty() {
            break;
        }
        after = page.next;
        again.extend(page.items);
    }
    let key = |e: &CloudEvent| (e.sequence, e.id.clone(), e.event_type.clone());
    assert_eq!(
        again.iter().map(key).collect::<Vec<_>>(),
        followed.iter().map(key).collect::<Vec<_>>(),
        "the followed feed is the feed"
    );

    // Assert: every stock version of every product once, consecutive, ending at the stock.
    let mut versions: BTreeMap<Uuid, Vec<i64>> = BTreeMap::new();
    let mut last: HashMap<Uuid, (i64, i64)> = HashMap::new();
    for event in followed.iter().filter(|e| e.event_type == "stock.changed") {
        let product: Uuid = event.data["product_id"].as_str().unwrap().parse().unwrap();
        assert_eq!(event.subject, product.to_string());
        versions.entry(product).or_default().push(event.data["version"].as_i64().unwrap());
        let counters =
            (event.data["on_hand"].as_i64().unwrap(), event.data["reserved"].as_i64().unwrap());
        assert_eq!(event.data["available"].as_i64().unwrap(), counters.0 - counters.1);
        last.insert(product, counters);
    }
    assert_eq!(versions.len(), 5, "every product's stock moved");
    for (product, seen) in &versions {
        let stock = apis[1].stock(*product).await;
        assert_eq!(*seen, (1..=stock.version).collect::<Vec<_>>(), "versions of {product}");
        assert_eq!(last[product], (stock.on_hand, stock.reserved), "last counters of {product}");
    }

    // Assert: one product.created per product, order.reserved per order, and each payment
    // and cancellation, with the order view as that transition left it.
    let of_type =
        |t: &str| -> Vec<&CloudEvent> { followed.iter().filter(|e| e.event_type == t).collect() };
    let created: HashSet<String> =
        of_type("product.created").iter().map(|e| e.subject.clone()).collect();
    assert_eq!(created.len(), 5);
    assert!(created.contains(&hot.to_string()));
    let reserved = of_type("order.reserved");
    assert_eq!(reserved.len(), orders.len(), "order.reserved for every order");
    assert!(reserved.iter().all(|e| e.data["status"] == "reserved" && e.data["paid_at"].is_null()));
    let reserved: HashSet<&str> = reserved.iter().map(|e| e.subject.as_str()).collect();
    assert!(orders.iter().all(|(_, id)| reserved.contains(id.to_string().as_str())));
    for (event_type, order, _) in &settled {
        let found = of_type(event_type);
        let event = found.iter().find(|e| e.subject == order.to_string());
        let event = event.unwrap_or_else(|| panic!("{event_type} of {order}"));
        assert_eq!(event.data["status"], event_type.trim_start_matches("order."));
        assert_eq!(event.id, format!("order:{order}:{}", event_type.trim_start_matches("order.")));
    }
    let settlements = of_type("order.paid").len() + of_type("order.cancelled").len();
    assert_eq!(settlements, settled.len(), "no settlement event without a settlement");
    eprintln!(
        "{} events followed over {PROCESSES} processes on {:?}",
        followed.len(),
        apis[0].backend
    );
}
