//! Webhooks: subscriptions stored and read back whole; a page of the feed recorded by moving
//! the position by compare-and-swap, its deliveries in feed order; what is due held back per
//! subject; attempts recorded, failures re-driven, old deliveries purged; the log paged.

use chrono::TimeDelta;
use domain::Timestamp;
use domain::event::{EventType, Sequence};
use domain::ports::WebhookStore;
use domain::webhook::{
    Attempt, AttemptOutcome, Delivery, DeliveryId, DeliveryQuery, DeliveryStatus, NewDelivery,
    Subscription, TypeFilter, WebhookId, WebhookSecret, WebhookUrl,
};
use uuid::Uuid;

use crate::fixtures::t0;
use crate::support::{TestDb, on_every_backend};

on_every_backend!(
    subscriptions_are_created_listed_read_and_deleted_with_their_deliveries,
    enqueue_moves_the_position_by_compare_and_swap,
    due_deliveries_are_held_back_per_subject,
    attempts_move_a_delivery_from_pending_to_delivered_or_failed,
    failed_deliveries_are_redriven_one_or_all,
    only_delivered_deliveries_older_than_the_cut_are_purged,
    the_log_pages_newest_first_and_filters_by_status,
    successes_are_recorded_together,
    many_subjects_held_back_at_once_still_leave_the_others_due,
);

fn at(n: i64) -> Sequence {
    Sequence::new(n).expect("a sequence")
}

fn later(seconds: i64) -> Timestamp {
    t0() + TimeDelta::seconds(seconds)
}

fn subject(n: i64) -> Uuid {
    Uuid::from_u64_pair(0x5B1E_C700, u64::try_from(n).expect("a positive number"))
}

/// A subscription made at `later(second)`, the feed's head then at `start`.
fn subscription(n: u8, url: &str, types: &[&str], second: i64, start: i64) -> Subscription {
    Subscription {
        id: WebhookId::new(Uuid::now_v7()).expect("an id"),
        url: WebhookUrl::parse(url, true).expect("a URL"),
        types: TypeFilter::parse(types).expect("types"),
        secret: WebhookSecret::from_key(&[n; 32]),
        created_at: later(second),
        start: at(start),
    }
}

/// A stored subscription to every stock event, from the feed's start.
async fn stored(db: &TestDb, n: u8) -> Subscription {
    let subscription = subscription(n, "https://hooks.example.com/in", &["stock.*"], 0, 0);
    db.adapters.webhooks.create(&subscription).await.expect("create");
    subscription
}

/// The `n`-th event of the feed, about `subject`.
fn event(n: i64, subject: Uuid) -> NewDelivery {
    NewDelivery {
        event_id: format!("stock.changed:{subject}:{n}"),
        event_type: EventType::StockChanged,
        sequence: at(n),
        occurred_at: later(-60 + n),
        subject,
        payload: format!(r#"{{"n":{n}}}"#),
    }
}

/// Records `events` as the next page of `subscription`, at `later(0)`; returns their
/// deliveries, in the order given.
async fn enqueue(db: &TestDb, subscription: WebhookId, events: &[NewDelivery]) -> Vec<Delivery> {
    let store = &db.adapters.webhooks;
    let from = store.position(subscription).await.expect("position").expect("a subscription");
    let to = from.plus(i64::try_from(events.len()).expect("a count"));
    assert!(store.enqueue(subscription, from, to, events, later(0)).await.expect("enqueue"));
    let mut log = log(db, subscription).await;
    log.drain(..log.len() - events.len());
    log
}

/// Every delivery of `subscription`, oldest first.
async fn log(db: &TestDb, subscription: WebhookId) -> Vec<Delivery> {
    let query = DeliveryQuery { status: None, before: None, limit: 10_000 };
    let mut log = db.adapters.webhooks.deliveries(subscription, query).await.expect("the log");
    log.reverse();
    log
}

async fn one(db: &TestDb, delivery: &Delivery) -> Delivery {
    let log = log(db, delivery.subscription).await;
    log.into_iter().find(|d| d.id == delivery.id).expect("the delivery")
}

fn ids(deliveries: &[Delivery]) -> Vec<DeliveryId> {
    deliveries.iter().map(|d| d.id).collect()
}

fn attempt(seconds: i64, outcome: AttemptOutcome, retry_in: Option<i64>) -> Attempt {
    Attempt { at: later(seconds), outcome, retry_at: retry_in.map(|s| later(seconds + s)) }
}

fn refused(status: u16) -> AttemptOutcome {
    AttemptOutcome::Refused { status }
}

fn unreachable(error: &str) -> AttemptOutcome {
    AttemptOutcome::Unreachable { error: error.to_owned() }
}

fn delivered() -> AttemptOutcome {
    AttemptOutcome::Delivered { status: 204 }
}

async fn record(db: &TestDb, delivery: &Delivery, attempt: Attempt) {
    db.adapters.webhooks.record(delivery.id, &attempt).await.expect("record");
}

/// What is due at `later(seconds)`, at most `limit`: pending deliveries of `subscription`,
/// oldest first.
async fn due(db: &TestDb, subscription: WebhookId, seconds: i64, limit: u32) -> Vec<DeliveryId> {
    let due = db.adapters.webhooks.due(subscription, later(seconds), limit).await.expect("due");
    assert!(due.iter().all(|d| d.status == DeliveryStatus::Pending));
    assert!(due.iter().all(|d| d.subscription == subscription));
    assert!(due.windows(2).all(|w| w[0].id < w[1].id), "oldest first: {due:?}");
    ids(&due)
}

async fn subscriptions_are_created_listed_read_and_deleted_with_their_deliveries(db: &TestDb) {
    let store = &db.adapters.webhooks;
    // Made later but stored first: the list is by creation time.
    let second =
        subscription(2, "http://127.0.0.1:9000/hook?x=1", &["order.paid", "stock.*"], 60, 7);
    let first = subscription(1, "https://hooks.example.com/in", &["product.created"], 0, 3);
    store.create(&second).await.expect("create the second");
    store.create(&first).await.expect("create the first");
    assert_eq!(store.list().await.expect("list"), vec![first.clone(), second.clone()]);
    assert_eq!(store.get(second.id).await.expect("get"), Some(second.clone()));
    assert_eq!(second.types.patterns(), ["order.paid", "stock.*"]);
    assert_eq!(store.position(first.id).await.expect("position"), Some(at(3)));
    assert_eq!(store.position(second.id).await.expect("position"), Some(at(7)));

    let kept = enqueue(db, first.id, &[event(4, subject(1))]).await;
    enqueue(db, second.id, &[event(8, subject(1)), event(9, subject(2))]).await;
    assert!(store.delete(second.id).await.expect("delete"));
    assert_eq!(store.get(second.id).await.expect("get"), None);
    assert_eq!(store.position(second.id).await.expect("position"), None);
    assert_eq!(log(db, second.id).await, vec![]);
    let rows = db.scalar("SELECT COUNT(*) FROM webhook_deliveries", vec![]).await;
    assert_eq!(rows, 1, "the deleted subscription's deliveries are gone, the other's kept");
    assert_eq!(log(db, first.id).await, kept);
    assert!(!store.delete(second.id).await.expect("delete again"));
    assert_eq!(store.list().await.expect("list"), vec![first]);
}

async fn enqueue_moves_the_position_by_compare_and_swap(db: &TestDb) {
    let store = &db.adapters.webhooks;
    let subscription = stored(db, 1).await;
    let id = subscription.id;
    let page = [event(1, subject(1)), event(2, subject(2)), event(3, subject(1))];
    assert!(store.enqueue(id, at(0), at(3), &page, later(5)).await.expect("enqueue"));
    assert_eq!(store.position(id).await.expect("position"), Some(at(3)));
    let recorded = log(db, id).await;
    let events: Vec<_> = recorded.iter().map(|d| d.event.clone()).collect();
    assert_eq!(events, page, "ids ascend in the order given");
    let first = &recorded[0];
    assert_eq!(first.subscription, id);
    assert_eq!(first.status, DeliveryStatus::Pending);
    assert_eq!(first.attempts, 0);
    assert_eq!(first.next_attempt_at, Some(later(5)));
    assert_eq!(first.created_at, later(5));
    assert_eq!(
        (first.last_attempt_at, first.response_status, &first.last_error, first.delivered_at),
        (None, None, &None, None)
    );

    // A stale page and a page of a subscription that is gone write nothing.
    assert!(!store.enqueue(id, at(0), at(4), &[event(4, subject(3))], later(6)).await.unwrap());
    let gone = WebhookId::new(Uuid::now_v7()).expect("an id");
    assert!(!store.enqueue(gone, at(0), at(1), &[event(1, subject(3))], later(6)).await.unwrap());
    assert_eq!(store.position(id).await.expect("position"), Some(at(3)));
    assert_eq!(db.scalar("SELECT COUNT(*) FROM webhook_deliveries", vec![]).await, 3);

    // Two processes take the same page: exactly one records it, and the loser wrote nothing.
    let contenders = [
        (5, vec![event(4, subject(4)), event(5, subject(5))]),
        (6, vec![event(4, subject(6)), event(5, subject(6)), event(6, subject(7))]),
    ];
    let tasks = contenders.clone().map(|(to, page)| {
        let store = store.clone();
        tokio::spawn(async move { store.enqueue(id, at(3), at(to), &page, later(7)).await })
    });
    let mut won = Vec::new();
    for ((to, page), task) in contenders.into_iter().zip(tasks) {
        if task.await.expect("a task").expect("an answer") {
            won.push((to, page));
        }
    }
    assert_eq!(won.len(), 1, "exactly one enqueue from one position wins");
    let (to, page) = won.remove(0);
    assert_eq!(store.position(id).await.expect("position"), Some(at(to)));
    let events: Vec<_> = log(db, id).await.into_iter().map(|d| d.event).collect();
    assert_eq!(events[..3], recorded.iter().map(|d| d.event.clone()).collect::<Vec<_>>());
    assert_eq!(events[3..], page);

    // An empty page still moves the position.
    assert!(store.enqueue(id, at(to), at(40), &[], later(8)).await.expect("an empty page"));
    assert_eq!(store.position(id).await.expect("position"), Some(at(40)));
    assert_eq!(log(db, id).await.len(), 3 + page.len());

    // A page larger than one INSERT keeps its order across the statements.
    let big: Vec<_> = (41..=41 + 1_200).map(|n| event(n, subject(n % 7))).collect();
    let last = at(41 + 1_200);
    assert!(store.enqueue(id, at(40), last, &big, later(9)).await.expect("a big page"));
    let log = log(db, id).await;
    let events: Vec<_> = log[log.len() - big.len()..].iter().map(|d| d.event.clone()).collect();
    assert_eq!(events, big);
    assert!(log.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(store.position(id).await.expect("position"), Some(last));
}

async fn due_deliveries_are_held_back_per_subject(db: &TestDb) {
    let store = &db.adapters.webhooks;
    let [a, b, c, d, e] = [0xA, 0xB, 0xC, 0xD, 0xE].map(subject);
    // Another subscription's delivery of `a`, earlier than all below and waiting for its
    // retry, holds back nothing of this one.
    let other = stored(db, 2).await.id;
    let theirs = enqueue(db, other, &[event(1, a)]).await;
    record(db, &theirs[0], attempt(0, refused(500), Some(3_600))).await;

    let id = stored(db, 1).await.id;
    let page = [a, a, b, b, c, c, d, e, e, e];
    let page: Vec<_> = (1..).zip(page).map(|(n, subject)| event(n, subject)).collect();
    let recorded = enqueue(db, id, &page).await;
    let [a1, a2, b1, b2, c1, c2, d1, e1, e2, e3] = ids(&recorded)[..] else { panic!("ten") };
    let find = |delivery: DeliveryId| recorded.iter().find(|d| d.id == delivery).expect("ours");
    // e2 waits for a retry: it holds back e3, not e1 before it.
    record(db, find(e2), attempt(0, refused(503), Some(3_600))).await;

    // Each subject's chain: its first undelivered delivery and the due ones after it, up to
    // the first held back.
    assert_eq!(due(db, id, 0, 20).await, vec![a1, a2, b1, b2, c1, c2, d1, e1]);
    assert_eq!(due(db, id, 0, 3).await, vec![a1, a2, b1], "at most the limit, oldest first");
    let never_tried = vec![a1, a2, b1, b2, c1, c2, d1, e1];
    assert_eq!(due(db, id, -1, 20).await, never_tried, "never tried: due at once");

    // a1 waits for its retry: due a2 is held back, the other subjects are not.
    record(db, find(a1), attempt(10, refused(503), Some(600))).await;
    assert_eq!(due(db, id, 60, 20).await, vec![b1, b2, c1, c2, d1, e1]);
    // c1 failed for good: it holds back c2.
    record(db, find(c1), attempt(20, unreachable("connection refused"), None)).await;
    assert_eq!(due(db, id, 60, 20).await, vec![b1, b2, d1, e1]);
    // Delivered ones hold back nothing.
    for delivered_now in [b1, d1, e1] {
        record(db, find(delivered_now), attempt(30, delivered(), None)).await;
    }
    assert_eq!(due(db, id, 60, 20).await, vec![b2]);
    // a1's retry is due; a2 waits behind it until it is delivered.
    assert_eq!(due(db, id, 610, 20).await, vec![a1, b2]);
    record(db, find(a1), attempt(620, delivered(), None)).await;
    assert_eq!(due(db, id, 620, 20).await, vec![a2, b2]);
    assert_eq!(due(db, id, 620, 1).await, vec![a2]);
    // Re-driven, c1 is due again, and c2 behind it.
    assert_eq!(store.redrive(id, Some(c1), later(630)).await.expect("redrive"), 1);
    assert_eq!(due(db, id, 630, 20).await, vec![a2, b2, c1, c2]);
    // e2's retry is due: e2 alone, e3 after it.
    assert_eq!(due(db, id, 3_600, 20).await, vec![a2, b2, c1, c2, e2]);
    record(db, find(e2), attempt(3_600, delivered(), None)).await;
    assert_eq!(due(db, id, 3_600, 20).await, vec![a2, b2, c1, c2, e3]);
    assert_eq!(due(db, other, 0, 20).await, vec![], "the other subscription's waits");
    assert_eq!(due(db, other, 3_600, 20).await, vec![theirs[0].id]);
}

async fn attempts_move_a_delivery_from_pending_to_delivered_or_failed(db: &TestDb) {
    let id = stored(db, 1).await.id;
    let recorded = enqueue(db, id, &[event(1, subject(1)), event(2, subject(2))]).await;
    let (x, y) = (&recorded[0], &recorded[1]);

    record(db, x, attempt(30, refused(503), Some(60))).await;
    let retried = one(db, x).await;
    assert_eq!(retried.status, DeliveryStatus::Pending);
    assert_eq!(retried.attempts, 1);
    assert_eq!(retried.next_attempt_at, Some(later(90)));
    assert_eq!(retried.last_attempt_at, Some(later(30)));
    assert_eq!(retried.response_status, Some(503));
    assert_eq!(retried.last_error.as_deref(), Some("the receiver answered 503"));
    assert_eq!(retried.delivered_at, None);

    record(db, x, attempt(90, AttemptOutcome::Delivered { status: 200 }, None)).await;
    let done = one(db, x).await;
    assert_eq!(done.status, DeliveryStatus::Delivered);
    assert_eq!(done.attempts, 2);
    assert_eq!(done.next_attempt_at, None);
    assert_eq!(done.last_attempt_at, Some(later(90)));
    assert_eq!(done.response_status, Some(200));
    assert_eq!(done.last_error, None);
    assert_eq!(done.delivered_at, Some(later(90)));
    assert_eq!((done.event.clone(), done.created_at), (x.event.clone(), x.created_at));
    // A delivery no longer pending is left as it is.
    record(db, x, attempt(100, refused(500), Some(60))).await;
    assert_eq!(one(db, x).await, done);

    record(db, y, attempt(10, unreachable("connection refused"), None)).await;
    let failed = one(db, y).await;
    assert_eq!(failed.status, DeliveryStatus::Failed);
    assert_eq!(failed.attempts, 1);
    assert_eq!(failed.next_attempt_at, None);
    assert_eq!(failed.last_attempt_at, Some(later(10)));
    assert_eq!(failed.response_status, None);
    assert_eq!(failed.last_error.as_deref(), Some("connection refused"));
    assert_eq!(failed.delivered_at, None);
    // The longest error kept fits its column, multi-byte characters included.
    let z = &enqueue(db, id, &[event(3, subject(3))]).await[0];
    record(db, z, attempt(10, unreachable(&"é".repeat(900)), None)).await;
    assert_eq!(one(db, z).await.last_error, Some("é".repeat(Attempt::MAX_ERROR)));
}

async fn many_subjects_held_back_at_once_still_leave_the_others_due(db: &TestDb) {
    // 300 troubled subjects (more than the statement excludes itself), each with a retry
    // waiting and a delivery behind it; then 5 untroubled subjects.
    let id = stored(db, 1).await.id;
    let troubled: Vec<_> = (0..300)
        .flat_map(|n| [event(2 * n + 1, subject(n)), event(2 * n + 2, subject(n))])
        .collect();
    let recorded = enqueue(db, id, &troubled).await;
    for first in recorded.iter().step_by(2) {
        record(db, first, attempt(0, refused(503), Some(3_600))).await;
    }
    let fine: Vec<_> = (0..5).map(|n| event(601 + n, subject(1_000 + n))).collect();
    let fine = ids(&enqueue(db, id, &fine).await);
    assert_eq!(due(db, id, 60, 20).await, fine);
    assert_eq!(due(db, id, 60, 3).await, fine[..3]);
    // Once the retries are due, each troubled subject's retry comes alone, oldest first.
    let retries: Vec<_> = ids(&recorded).into_iter().step_by(2).take(20).collect();
    assert_eq!(due(db, id, 3_600, 20).await, retries);
}

async fn successes_are_recorded_together(db: &TestDb) {
    let store = &db.adapters.webhooks;
    let id = stored(db, 1).await.id;
    let recorded =
        enqueue(db, id, &(1..=4).map(|n| event(n, subject(n))).collect::<Vec<_>>()).await;
    // The fourth failed for good meanwhile: no longer pending, it is left alone.
    record(db, &recorded[3], attempt(5, unreachable("timed out"), None)).await;
    let accepted: Vec<(DeliveryId, u16)> =
        vec![(recorded[0].id, 204), (recorded[1].id, 200), (recorded[3].id, 204)];
    store.record_delivered(&accepted, later(20)).await.expect("record the successes");
    for (delivery, status) in [(&recorded[0], 204), (&recorded[1], 200)] {
        let done = one(db, delivery).await;
        assert_eq!(done.status, DeliveryStatus::Delivered);
        assert_eq!(done.attempts, 1);
        assert_eq!(done.response_status, Some(status));
        assert_eq!((done.delivered_at, done.last_attempt_at), (Some(later(20)), Some(later(20))));
        assert_eq!((done.next_attempt_at, done.last_error.as_deref()), (None, None));
    }
    assert_eq!(one(db, &recorded[2]).await.status, DeliveryStatus::Pending, "not named");
    let failed = one(db, &recorded[3]).await;
    assert_eq!((failed.status, failed.attempts), (DeliveryStatus::Failed, 1));
}

async fn failed_deliveries_are_redriven_one_or_all(db: &TestDb) {
    let store = &db.adapters.webhooks;
    let id = stored(db, 1).await.id;
    let other = stored(db, 2).await.id;
    let recorded =
        enqueue(db, id, &(1..=5).map(|n| event(n, subject(n))).collect::<Vec<_>>()).await;
    let theirs = enqueue(db, other, &[event(1, subject(1))]).await;
    for failed in [&recorded[0], &recorded[1], &recorded[2], &theirs[0]] {
        record(db, failed, attempt(10, unreachable("timed out"), None)).await;
    }
    record(db, &recorded[4], attempt(10, delivered(), None)).await;
    let [f1, f2, f3, pending, done] = ids(&recorded)[..] else { panic!("five deliveries") };

    assert_eq!(store.redrive(id, Some(f2), later(3_600)).await.expect("redrive"), 1);
    let again = one(db, &recorded[1]).await;
    assert_eq!(again.status, DeliveryStatus::Pending);
    assert_eq!(again.attempts, 0);
    assert_eq!(again.next_attempt_at, Some(later(3_600)));
    assert_eq!(again.last_error.as_deref(), Some("timed out"), "the log keeps why it failed");
    assert_eq!(store.redrive(id, Some(f2), later(3_600)).await.expect("again"), 0);
    assert_eq!(store.redrive(id, Some(pending), later(3_600)).await.expect("pending"), 0);
    assert_eq!(store.redrive(id, Some(done), later(3_600)).await.expect("delivered"), 0);
    assert_eq!(store.redrive(id, Some(theirs[0].id), later(3_600)).await.expect("theirs"), 0);

    assert_eq!(store.redrive(id, None, later(7_200)).await.expect("redrive all"), 2);
    let statuses: Vec<_> = log(db, id).await.iter().map(|d| (d.id, d.status, d.attempts)).collect();
    let pending_now = |id| (id, DeliveryStatus::Pending, 0);
    assert_eq!(
        statuses,
        vec![
            pending_now(f1),
            pending_now(f2),
            pending_now(f3),
            pending_now(pending),
            (done, DeliveryStatus::Delivered, 1),
        ]
    );
    assert_eq!(one(db, &recorded[0]).await.next_attempt_at, Some(later(7_200)));
    assert_eq!(one(db, &recorded[1]).await.next_attempt_at, Some(later(3_600)));
    assert_eq!(one(db, &theirs[0]).await.status, DeliveryStatus::Failed, "another's is kept");
    assert_eq!(store.redrive(id, None, later(7_200)).await.expect("none left"), 0);
}

async fn only_delivered_deliveries_older_than_the_cut_are_purged(db: &TestDb) {
    let store = &db.adapters.webhooks;
    let id = stored(db, 1).await.id;
    let other = stored(db, 2).await.id;
    let recorded =
        enqueue(db, id, &(1..=5).map(|n| event(n, subject(n))).collect::<Vec<_>>()).await;
    let theirs = enqueue(db, other, &[event(1, subject(1))]).await;
    record(db, &recorded[0], attempt(60, delivered(), None)).await;
    record(db, &recorded[1], attempt(300, delivered(), None)).await;
    record(db, &recorded[2], attempt(600, delivered(), None)).await;
    record(db, &recorded[3], attempt(10, unreachable("timed out"), None)).await;
    record(db, &theirs[0], attempt(120, delivered(), None)).await;

    assert_eq!(store.purge_delivered(later(300)).await.expect("purge"), 2, "at 60 and 120");
    assert_eq!(ids(&log(db, id).await), ids(&recorded[1..]));
    assert_eq!(log(db, other).await, vec![]);
    assert_eq!(store.purge_delivered(later(300)).await.expect("again"), 0);
    assert_eq!(store.purge_delivered(later(86_400)).await.expect("purge the rest"), 2);
    assert_eq!(ids(&log(db, id).await), ids(&recorded[3..]), "failed and pending stay");
}

async fn the_log_pages_newest_first_and_filters_by_status(db: &TestDb) {
    let store = &db.adapters.webhooks;
    let id = stored(db, 1).await.id;
    let other = stored(db, 2).await.id;
    let recorded =
        enqueue(db, id, &(1..=5).map(|n| event(n, subject(n))).collect::<Vec<_>>()).await;
    enqueue(db, other, &[event(1, subject(1))]).await;
    record(db, &recorded[0], attempt(10, delivered(), None)).await;
    record(db, &recorded[2], attempt(10, refused(410), None)).await;
    let [d1, d2, d3, d4, d5] = ids(&recorded)[..] else { panic!("five deliveries") };

    let page = async |status: Option<DeliveryStatus>, before: Option<DeliveryId>, limit: u32| {
        let query = DeliveryQuery { status, before, limit };
        ids(&store.deliveries(id, query).await.expect("a page"))
    };
    assert_eq!(page(None, None, 2).await, vec![d5, d4]);
    assert_eq!(page(None, Some(d4), 2).await, vec![d3, d2]);
    assert_eq!(page(None, Some(d2), 2).await, vec![d1]);
    assert_eq!(page(None, Some(d1), 2).await, vec![]);
    assert_eq!(page(None, None, 10).await, vec![d5, d4, d3, d2, d1]);
    let pending = Some(DeliveryStatus::Pending);
    assert_eq!(page(pending, None, 10).await, vec![d5, d4, d2]);
    assert_eq!(page(pending, Some(d4), 10).await, vec![d2]);
    assert_eq!(page(pending, None, 1).await, vec![d5]);
    assert_eq!(page(Some(DeliveryStatus::Failed), None, 10).await, vec![d3]);
    assert_eq!(page(Some(DeliveryStatus::Delivered), None, 10).await, vec![d1]);
    let full = store
        .deliveries(id, DeliveryQuery { status: None, before: Some(d2), limit: 1 })
        .await
        .expect("a page");
    assert_eq!(full[0].event, event(1, subject(1)), "the rows come back whole");
    assert_eq!(full[0].status, DeliveryStatus::Delivered);
}
