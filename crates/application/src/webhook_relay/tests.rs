use std::sync::Mutex;

use chrono::TimeDelta;
use domain::event::{Event, EventBody, Sequence};
use domain::ports::{MockWebhookSender, StoreError};
use domain::webhook::{
    AttemptOutcome, DeliveryId, DeliveryStatus, TypeFilter, WebhookId, WebhookSecret, WebhookUrl,
};
use uuid::Uuid;

use super::*;
use crate::test_support::{Mocks, product, t0};

fn subscription(types: &[&str]) -> Subscription {
    Subscription {
        id: WebhookId::new(Uuid::from_u128(5)).unwrap(),
        url: WebhookUrl::parse("https://hooks.example.com/in", false).unwrap(),
        types: TypeFilter::parse(types).unwrap(),
        secret: WebhookSecret::from_key(&[1; 32]),
        created_at: t0(),
        start: Sequence::START,
    }
}

fn settings() -> RelaySettings {
    RelaySettings {
        retry: RetryPolicy {
            first: Duration::from_secs(2),
            longest: Duration::from_secs(60),
            attempts: 3,
        },
        render: |event| event.id(),
        jitter: || 0.0,
    }
}

/// A pending delivery `n` about `subject`, after `attempts` attempts.
fn delivery(n: i64, subject: u128, attempts: u32) -> Delivery {
    Delivery {
        id: DeliveryId::new(n).unwrap(),
        subscription: subscription(&["stock.*"]).id,
        event: NewDelivery {
            event_id: format!("e{n}"),
            event_type: domain::event::EventType::StockChanged,
            sequence: Sequence::new(n).unwrap(),
            occurred_at: t0() - TimeDelta::seconds(3),
            subject: Uuid::from_u128(subject),
            payload: "{}".into(),
        },
        status: DeliveryStatus::Pending,
        attempts,
        next_attempt_at: Some(t0()),
        last_attempt_at: None,
        response_status: None,
        last_error: None,
        created_at: t0(),
        delivered_at: None,
    }
}

/// The attempts recorded, by delivery id.
type Recorded = Arc<Mutex<Vec<(i64, Attempt)>>>;

/// Mocks that lead, have nothing new on the feed, and hand out `due`; the attempts recorded
/// are collected.
fn leading(due: Vec<Delivery>) -> (Mocks, Recorded) {
    let mut mocks = Mocks::new();
    mocks.lease.expect_try_acquire().returning(|_, _, _, _| Ok(true));
    mocks.webhooks.expect_position().returning(|_| Ok(Some(Sequence::new(10).unwrap())));
    mocks.events.expect_after().returning(|_, _| Ok(Vec::new()));
    mocks.events.expect_head().returning(|| Ok(Sequence::new(10).unwrap()));
    mocks.events.expect_purged_through().returning(|| Ok(Sequence::START));
    mocks.webhooks.expect_due().times(1).returning(move |_, _, _| Ok(due.clone()));
    let recorded = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&recorded);
    mocks.webhooks.expect_record().returning(move |id, attempt| {
        sink.lock().unwrap().push((id.get(), attempt.clone()));
        Ok(())
    });
    let sink = Arc::clone(&recorded);
    mocks.webhooks.expect_record_delivered().times(..=1).returning(move |delivered, at| {
        for (id, status) in delivered {
            let outcome = AttemptOutcome::Delivered { status: *status };
            sink.lock().unwrap().push((id.get(), Attempt { at, outcome, retry_at: None }));
        }
        Ok(())
    });
    (mocks, recorded)
}

async fn step(mocks: Mocks, sender: MockWebhookSender, types: &[&str]) -> WebhookStep {
    let ports = mocks.into_ports();
    let leadership = Leadership::new(ports.clone(), "webhook:5", "me", TimeDelta::seconds(30));
    let relay = WebhookRelay::new(&ports, Arc::new(sender), settings());
    relay.step(&subscription(types), &leadership, Duration::from_secs(10)).await
}

#[tokio::test]
async fn a_subjects_chain_stops_at_its_first_failure_and_other_subjects_go_on() {
    // Subject 1: deliveries 1, 2, 4; subject 2: deliveries 3, 5.
    let due = vec![delivery(1, 1, 0), delivery(2, 1, 0), delivery(3, 2, 1), delivery(4, 1, 0), {
        delivery(5, 2, 0)
    }];
    let (mocks, recorded) = leading(due);
    let sent = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&sent);
    let mut sender = MockWebhookSender::new();
    sender.expect_send().returning(move |_, d| {
        log.lock().unwrap().push(d.id.get());
        match d.id.get() {
            2 => AttemptOutcome::Refused { status: 503 },
            _ => AttemptOutcome::Delivered { status: 204 },
        }
    });
    let WebhookStep::Worked(round) = step(mocks, sender, &["stock.*"]).await else {
        panic!("not worked")
    };
    assert_eq!((round.taken, round.delivered, round.retrying, round.failed), (0, 3, 1, 0));
    assert_eq!(round.lag, Some(Duration::from_secs(3)));
    let mut sent = sent.lock().unwrap().clone();
    sent.sort_unstable();
    assert_eq!(sent, vec![1, 2, 3, 5], "4 waits behind 2, its subject's failure");
    let recorded = recorded.lock().unwrap();
    let mut ids: Vec<i64> = recorded.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    assert_eq!(ids, vec![1, 2, 3, 5], "the failure on its own, the successes in one write");
    let (_, retry) = recorded.iter().find(|(id, _)| *id == 2).unwrap();
    assert_eq!(retry.retry_at, Some(t0() + TimeDelta::seconds(2)), "first backoff");
    assert_eq!(retry.status(), DeliveryStatus::Pending);
}

#[tokio::test]
async fn the_last_attempt_fails_for_good() {
    let (mocks, recorded) = leading(vec![delivery(1, 1, 2)]);
    let mut sender = MockWebhookSender::new();
    sender.expect_send().returning(|_, _| AttemptOutcome::Unreachable { error: "timeout".into() });
    let WebhookStep::Worked(round) = step(mocks, sender, &["stock.*"]).await else {
        panic!("not worked")
    };
    assert_eq!((round.retrying, round.failed), (0, 1));
    assert_eq!(recorded.lock().unwrap()[0].1.status(), DeliveryStatus::Failed);
}

#[tokio::test]
async fn the_wanted_events_of_a_page_are_taken_by_compare_and_swap() {
    let mut mocks = Mocks::new();
    mocks.lease.expect_try_acquire().returning(|_, _, _, _| Ok(true));
    mocks.webhooks.expect_position().returning(|_| Ok(Some(Sequence::new(3).unwrap())));
    let page = vec![
        Event {
            sequence: Sequence::new(4).unwrap(),
            time: t0(),
            body: EventBody::Product(product(1)),
        },
        Event {
            sequence: Sequence::new(5).unwrap(),
            time: t0(),
            body: EventBody::Product(product(2)),
        },
    ];
    mocks.events.expect_after().returning(move |_, _| Ok(page.clone()));
    mocks.events.expect_purged_through().returning(|| Ok(Sequence::START));
    mocks
        .webhooks
        .expect_enqueue()
        .withf(|_, from, to, wanted, _| {
            from.get() == 3 && to.get() == 5 && wanted.len() == 2 && wanted[1].sequence.get() == 5
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    mocks.webhooks.expect_due().returning(|_, _, _| Ok(Vec::new()));
    let WebhookStep::Worked(round) =
        step(mocks, MockWebhookSender::new(), &["product.created"]).await
    else {
        panic!("not worked")
    };
    assert_eq!(round.taken, 2);
}

#[tokio::test]
async fn unwanted_events_move_the_position_without_deliveries() {
    let mut mocks = Mocks::new();
    mocks.lease.expect_try_acquire().returning(|_, _, _, _| Ok(true));
    mocks.webhooks.expect_position().returning(|_| Ok(Some(Sequence::START)));
    let page = vec![Event {
        sequence: Sequence::new(1).unwrap(),
        time: t0(),
        body: EventBody::Product(product(1)),
    }];
    mocks.events.expect_after().returning(move |_, _| Ok(page.clone()));
    mocks.events.expect_purged_through().returning(|| Ok(Sequence::START));
    mocks
        .webhooks
        .expect_enqueue()
        .withf(|_, _, to, wanted, _| to.get() == 1 && wanted.is_empty())
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    mocks.webhooks.expect_due().returning(|_, _, _| Ok(Vec::new()));
    let WebhookStep::Worked(round) = step(mocks, MockWebhookSender::new(), &["order.paid"]).await
    else {
        panic!("not worked")
    };
    assert!(round.idle());
}

#[tokio::test]
async fn a_removed_subscription_is_gone_and_a_follower_does_nothing() {
    let mut mocks = Mocks::new();
    mocks.lease.expect_try_acquire().returning(|_, _, _, _| Ok(true));
    mocks.webhooks.expect_position().returning(|_| Ok(None));
    assert!(matches!(step(mocks, MockWebhookSender::new(), &["stock.*"]).await, WebhookStep::Gone));

    let mut mocks = Mocks::new();
    mocks.lease.expect_try_acquire().returning(|_, _, _, _| Ok(false));
    mocks.webhooks.expect_position().never();
    assert!(matches!(
        step(mocks, MockWebhookSender::new(), &["stock.*"]).await,
        WebhookStep::NotLeading
    ));

    let mut mocks = Mocks::new();
    mocks.lease.expect_try_acquire().returning(|_, _, _, _| Ok(true));
    mocks.webhooks.expect_position().returning(|_| Err(StoreError::unavailable("down")));
    assert!(matches!(
        step(mocks, MockWebhookSender::new(), &["stock.*"]).await,
        WebhookStep::Failed(_)
    ));
}
