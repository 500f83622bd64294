//! Webhooks end to end: subscriptions by API; every wanted event delivered signed (checked by
//! the receiver with the Standard Webhooks library), in order per subject, though the receiver
//! refuses attempts and the delivering process is killed; a final failure holds back its
//! subject's later events for its subscription only, until re-driven; bad requests are
//! problems.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::{Duration, Instant};

use api::cli::Config;
use api::wire::{CloudEvent, DeliveriesPage, IssuedWebhookView, WebhookView, WebhooksPage};
use reqwest::Method;
use serde_json::json;
use testkit::TestDatabase;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::client::Api;
use super::harness::Server;
use super::webhook_receiver::{Receiver, Refusals};

on_both_backends!(database: every_event_arrives_signed_and_in_order_though_attempts_fail_and_a_process_dies);
on_both_backends!(
    a_final_failure_holds_back_its_subject_for_its_subscription_until_re_driven,
    quick_retries
);
on_both_backends!(webhook_requests_are_checked_and_secrets_shown_once);

/// Private targets allowed (the receiver is on loopback), retries after 50 ms, two attempts.
fn quick_retries(config: &mut Config) {
    config.webhooks_allow_private = true;
    config.webhooks_first_retry_ms = 50;
    config.webhooks_attempts = 2;
}

async fn subscribe(api: &Api, url: &str, types: &[&str]) -> IssuedWebhookView {
    let reply = api
        .send(api.admin(Method::POST, "/v1/webhooks").json(&json!({"url": url, "types": types})))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()
}

async fn deliveries(api: &Api, webhook: Uuid, query: &str) -> DeliveriesPage {
    let path = format!("/v1/webhooks/{webhook}/deliveries?{query}");
    let reply = api.send(api.admin(Method::GET, &path)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

async fn every_event_arrives_signed_and_in_order_though_attempts_fail_and_a_process_dies(
    database: &TestDatabase,
) {
    // Arrange: two processes, a receiver that refuses the first two attempts of every third
    // event and takes 5 ms to accept, a product, then the subscription.
    let receiver =
        Receiver::start(Refusals { first_attempts: 2, delay: Duration::from_millis(5) }).await;
    let env =
        [("CHECKOUT_WEBHOOKS_ALLOW_PRIVATE", "true"), ("CHECKOUT_WEBHOOKS_FIRST_RETRY_MS", "50")];
    let logs = tempfile::tempdir().expect("a directory for the servers' logs");
    let first = Server::start(database, &logs.path().join("first.log"), &env).await;
    let second = Server::start(database, &logs.path().join("second.log"), &env).await;
    let product = first.api.create_product("HOOK-1", 150).await;
    let hook = subscribe(&first.api, &receiver.url, &["stock.*", "order.*"]).await;
    receiver.trust(&hook.secret);

    // Act: buyers on both processes; once one of them delivers, it is killed under them, and
    // a third process starts (the restart).
    let mut buyers = JoinSet::new();
    for api in [first.api.clone(), second.api.clone()] {
        for _ in 0..8 {
            let api = api.clone();
            buyers.spawn(async move {
                let mut orders = Vec::new();
                for _ in 0..25 {
                    let Ok(reply) = api
                        .request(Method::POST, "/v1/checkout")
                        .json(&json!({"items": [{"product_id": product, "quantity": 1}]}))
                        .send()
                        .await
                    else {
                        break; // the process died
                    };
                    if reply.status() == 201
                        && let Ok(order) = reply.json::<serde_json::Value>().await
                    {
                        orders.push(order["id"].as_str().unwrap_or_default().to_owned());
                    }
                }
                orders
            });
        }
    }
    let leader = wait_for(Duration::from_secs(20), || async {
        for (n, api) in [&first.api, &second.api].into_iter().enumerate() {
            if api.metrics().await.contains("webhook_deliveries_total{") {
                return Some(n);
            }
        }
        None
    })
    .await
    .expect("one process delivers");
    let (killed, survivor) = if leader == 0 { (first, second) } else { (second, first) };
    drop(killed); // SIGKILL, deliveries in flight
    let restarted = Server::start(database, &logs.path().join("third.log"), &env).await;
    let orders: Vec<String> = buyers.join_all().await.into_iter().flatten().collect();
    for order in orders.iter().take(10) {
        let paid = survivor.api.pay(order.parse().expect("an order id")).await;
        assert_eq!(paid.status, 200, "{}", paid.text());
    }

    // Assert: every wanted event of the feed after the subscription arrives (the new leader
    // takes over within the lease's 30 s term), each subject's in feed order.
    let expected: Vec<CloudEvent> = survivor
        .api
        .whole_feed()
        .await
        .into_iter()
        .filter(|e| e.sequence > hook.start_sequence && !e.event_type.starts_with("product."))
        .collect();
    assert!(expected.iter().any(|e| e.event_type == "stock.out"), "the product sold out");
    assert!(expected.iter().any(|e| e.event_type == "order.paid"));
    let wanted: HashSet<&str> = expected.iter().map(|e| e.id.as_str()).collect();
    let arrived = wait_for(Duration::from_secs(90), || async {
        let got: HashSet<String> = receiver.accepted().into_iter().map(|e| e.id).collect();
        wanted.iter().all(|id| got.contains(*id)).then_some(())
    })
    .await;
    let accepted = receiver.accepted();
    let got: HashSet<&str> = accepted.iter().map(|e| e.id.as_str()).collect();
    let missing: Vec<_> = wanted.difference(&got).take(5).collect();
    assert!(
        arrived.is_some(),
        "{} of {} arrived; missing e.g. {missing:?}",
        got.len(),
        wanted.len()
    );
    assert_eq!(got, wanted, "only the wanted events, none twice as different ids");
    assert_eq!(receiver.bad_signatures(), 0, "every signature verifies");
    assert!(receiver.refused() > 0, "the receiver refused attempts");
    let repeats = accepted.len() - got.len();
    eprintln!(
        "{} events, {} refused attempts, {repeats} repeats",
        wanted.len(),
        receiver.refused()
    );
    assert_in_feed_order_per_subject(&expected, &accepted);

    // The delivery log agrees: every delivery delivered, none pending or failed.
    let log = deliveries(&restarted.api, hook.id, "status=delivered&limit=100").await;
    assert!(!log.items.is_empty());
    for status in ["pending", "failed"] {
        let left = deliveries(&restarted.api, hook.id, &format!("status={status}")).await;
        assert!(left.items.is_empty(), "{status}: {:?}", left.items.first());
    }
}

/// Each subject's events, in the order they were first accepted, are the feed's order.
fn assert_in_feed_order_per_subject(feed: &[CloudEvent], accepted: &[CloudEvent]) {
    let mut seen = HashSet::new();
    let mut arrived: HashMap<&str, Vec<&str>> = HashMap::new();
    for event in accepted {
        if seen.insert(event.id.as_str()) {
            arrived.entry(event.subject.as_str()).or_default().push(event.id.as_str());
        }
    }
    let mut in_feed: HashMap<&str, Vec<&str>> = HashMap::new();
    for event in feed {
        in_feed.entry(event.subject.as_str()).or_default().push(event.id.as_str());
    }
    for (subject, order) in &in_feed {
        assert_eq!(arrived.get(subject), Some(order), "subject {subject}");
    }
}

async fn a_final_failure_holds_back_its_subject_for_its_subscription_until_re_driven(api: Api) {
    // Arrange: two subscriptions to stock changes; the first one's receiver refuses product
    // P's events.
    let refusing = Receiver::start(Refusals { first_attempts: 0, delay: Duration::ZERO }).await;
    let other = Receiver::start(Refusals { first_attempts: 0, delay: Duration::ZERO }).await;
    let (p, q) = (api.create_product("HOLD-P", 10).await, api.create_product("HOLD-Q", 10).await);
    let held = subscribe(&api, &refusing.url, &["stock.changed"]).await;
    let free = subscribe(&api, &other.url, &["stock.changed"]).await;
    refusing.trust(&held.secret);
    other.trust(&free.secret);
    refusing.refuse_subject(Some(p.to_string()));

    // Act: P changes (its delivery fails twice: for good), then P and Q change again.
    adjust(&api, p, 1).await;
    let failed = wait_for(Duration::from_secs(20), || async {
        let page = deliveries(&api, held.id, "status=failed").await;
        page.items.into_iter().next()
    })
    .await
    .expect("P's first change fails for good");
    adjust(&api, p, 1).await;
    adjust(&api, q, 1).await;

    // Assert: Q's change reaches the first receiver, P's second waits behind the failure;
    // the other subscription gets all three.
    wait_for(Duration::from_secs(20), || async {
        (other.accepted().len() == 3 && refusing.accepted().len() == 1).then_some(())
    })
    .await
    .expect("the other subscription is not held back, nor is Q");
    assert_eq!(refusing.accepted()[0].subject, q.to_string());
    assert_eq!((failed.attempts, failed.response_status), (2, Some(503)));
    assert!(failed.last_error.as_deref().is_some_and(|e| e.contains("503")), "{failed:?}");
    // The receiver counts Q's event as it answers; the relay records the delivery a moment
    // later, so Q's may still read pending at first. P's second change stays pending.
    let pending = wait_for(Duration::from_secs(20), || async {
        let page = deliveries(&api, held.id, "status=pending").await;
        (page.items.len() == 1).then_some(page)
    })
    .await
    .expect("P's second change is held back, the only one pending");
    assert_eq!(pending.items[0].subject, p, "the one pending is P's");
    assert_eq!(pending.items[0].attempts, 0, "never tried");

    // Re-drive the failure once the receiver takes P again: P's two changes arrive, in order.
    refusing.refuse_subject(None);
    let path = format!("/v1/webhooks/{}/deliveries/{}/retry", held.id, failed.id);
    let redriven = api.send(api.admin(Method::POST, &path)).await;
    assert_eq!(redriven.status, 200, "{}", redriven.text());
    wait_for(Duration::from_secs(20), || async { (refusing.accepted().len() == 3).then_some(()) })
        .await
        .expect("the re-driven delivery and the one it held back arrive");
    let versions: Vec<i64> = refusing.accepted()[1..]
        .iter()
        .map(|e| {
            assert_eq!(e.subject, p.to_string());
            e.data["version"].as_i64().expect("a version")
        })
        .collect();
    assert_eq!(versions, vec![2, 3], "in order");
    let again = api.send(api.admin(Method::POST, &path)).await;
    again.assert_problem(409, "delivery-not-failed");

    // Removing a subscription removes its log.
    let one = format!("/v1/webhooks/{}", held.id);
    assert_eq!(api.send(api.admin(Method::DELETE, &one)).await.status, 204);
    api.send(api.admin(Method::GET, &one)).await.assert_problem(404, "webhook-not-found");
    let log = api.send(api.admin(Method::GET, &format!("{one}/deliveries"))).await;
    log.assert_problem(404, "webhook-not-found");
}

async fn webhook_requests_are_checked_and_secrets_shown_once(api: Api) {
    let post = |body: serde_json::Value| {
        let api = api.clone();
        async move { api.send(api.admin(Method::POST, "/v1/webhooks").json(&body)).await }
    };
    for (body, field) in [
        (json!({"url": "http://127.0.0.1:9000/in", "types": ["stock.*"]}), "url"),
        (json!({"url": "http://169.254.169.254/latest", "types": ["stock.*"]}), "url"),
        (json!({"url": "http://localhost/in", "types": ["stock.*"]}), "url"),
        (json!({"url": "ftp://hooks.example.com/in", "types": ["stock.*"]}), "url"),
        (json!({"url": "https://u:p@hooks.example.com/in", "types": ["stock.*"]}), "url"),
        (json!({"url": "not a url", "types": ["stock.*"]}), "url"),
        (json!({"url": "https://hooks.example.com/in", "types": []}), "types"),
        (json!({"url": "https://hooks.example.com/in", "types": ["stok.*"]}), "types"),
        (json!({"url": "https://hooks.example.com/in", "types": ["order"]}), "types"),
    ] {
        let reply = post(body.clone()).await;
        let problem = reply.assert_problem(422, "invalid-request");
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    for body in [json!({"url": "https://hooks.example.com/in"}), json!({"types": ["stock.*"]})] {
        let reply = post(body).await;
        assert!(reply.status.is_client_error(), "{}", reply.text());
    }
    let extra = post(json!({"url": "https://h.example.com/", "types": ["stock.*"], "x": 1})).await;
    assert!(extra.status.is_client_error());

    let made =
        post(json!({"url": "https://hooks.example.com/in", "types": ["stock.*", "order.paid"]}))
            .await;
    assert_eq!(made.status, 201, "{}", made.text());
    let made: IssuedWebhookView = made.json();
    assert!(made.secret.starts_with("whsec_"), "{}", made.secret);
    let one = format!("/v1/webhooks/{}", made.id);
    let read = api.send(api.admin(Method::GET, &one)).await;
    assert!(!read.text().contains(&made.secret), "the secret is shown once");
    let read: WebhookView = read.json();
    assert_eq!((read.url.as_str(), read.types.len()), ("https://hooks.example.com/in", 2));
    let listed: WebhooksPage = api.send(api.admin(Method::GET, "/v1/webhooks")).await.json();
    assert_eq!(listed.items.len(), 1);

    for (path, status, slug) in [
        ("/v1/webhooks/nope".to_owned(), 400, "invalid-id"),
        (format!("/v1/webhooks/{}", Uuid::new_v4()), 404, "webhook-not-found"),
        (format!("{one}/deliveries?status=bogus"), 422, "invalid-request"),
        (format!("{one}/deliveries?limit=0"), 422, "invalid-request"),
        (format!("{one}/deliveries?before=0"), 422, "invalid-request"),
    ] {
        api.send(api.admin(Method::GET, &path)).await.assert_problem(status, slug);
    }
    let retry = api.send(api.admin(Method::POST, &format!("{one}/deliveries/x/retry"))).await;
    retry.assert_problem(400, "invalid-id");
    let retry = api.send(api.admin(Method::POST, &format!("{one}/deliveries/9/retry"))).await;
    retry.assert_problem(409, "delivery-not-failed");
    let all = api.send(api.admin(Method::POST, &format!("{one}/deliveries/retry"))).await;
    assert_eq!(all.json::<serde_json::Value>()["redriven"], 0);

    let anonymous = api.send(api.request(Method::GET, "/v1/webhooks")).await;
    assert_eq!(anonymous.status, 401);
    let reader = api.create_client("feed reader", &["events:read"]).await;
    let scoped = api.send(api.with_key(&reader.key, Method::GET, "/v1/webhooks")).await;
    scoped.assert_problem(403, "insufficient-scope");
    assert_eq!(api.send(api.admin(Method::DELETE, &one)).await.status, 204);
    api.send(api.admin(Method::DELETE, &one)).await.assert_problem(404, "webhook-not-found");
}

async fn adjust(api: &Api, product: Uuid, delta: i64) {
    let path = format!("/v1/products/{product}/stock/adjustments");
    let reply = api
        .send(api.admin(Method::POST, &path).json(&json!({"delta": delta, "reason": "delivery"})))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

/// Polls `ready` every 100 ms until it answers `Some` or `within` has passed (`None`).
async fn wait_for<T, F, Fut>(within: Duration, ready: F) -> Option<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(value) = ready().await {
            return Some(value);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}
