//! The event feed: every change's event, numbered in commit order with no gaps, read back in
//! pages; and, from the race tests, the same under concurrent commits of several "processes".

use std::collections::BTreeMap;

use chrono::TimeDelta;
use domain::access::Actor;
use domain::event::{Event, EventBody, EventType, Sequence};
use domain::ports::{
    Changeset, EventFeed, ProductRepository, RelayCursors, StockRepository, UnitOfWork,
};
use domain::{OrderStatus, Product, ProductId, ProductPatch, StockCount};

use crate::fixtures::{checkout, new_product_id, product, product_with_threshold, qty, stock, t0};
use crate::support::{TestDb, on_every_backend};

on_every_backend!(
    every_change_is_an_event_in_commit_order,
    a_rolled_back_commit_takes_no_sequence,
    relay_positions_move_by_compare_and_swap,
    taking_the_last_units_is_stock_out_and_giving_them_back_is_back_in,
    stock_low_is_judged_by_the_threshold_in_force_when_the_change_committed,
    retention_purges_old_events_no_further_than_the_slowest_relay,
);

/// The whole feed read in small pages: sequences 1, 2, 3… up to the head (a derived stock
/// event repeating the sequence of the change it follows), each product's stock versions
/// consecutive from 1 to its stored version. Returns the events.
pub async fn assert_feed_is_whole(db: &TestDb, products: &[ProductId]) -> Vec<Event> {
    let feed = &db.adapters.events;
    let head = feed.head().await.expect("head");
    let (mut events, mut after) = (Vec::new(), Sequence::START);
    loop {
        let page = feed.after(after, 7).await.expect("a page");
        let Some(last) = page.last() else { break };
        after = last.sequence;
        events.extend(page);
    }
    let mut sequences: Vec<i64> = Vec::new();
    for (n, event) in events.iter().enumerate() {
        if let EventBody::StockLevel(_, stock) = &event.body {
            let before = n.checked_sub(1).map(|p| &events[p]);
            let follows = before.is_some_and(|b| {
                b.sequence == event.sequence && matches!(&b.body, EventBody::Stock(s) if s == stock)
            });
            assert!(follows, "a derived event follows its change: {event:?}");
        } else {
            sequences.push(event.sequence.get());
        }
    }
    assert_eq!(sequences, (1..=head.get()).collect::<Vec<_>>(), "dense, in order, to the head");
    let mut versions: BTreeMap<ProductId, Vec<i64>> = BTreeMap::new();
    for event in &events {
        if let EventBody::Stock(stock) = &event.body {
            versions
                .entry(stock.movement.product_id)
                .or_default()
                .push(stock.movement.version.get());
        }
    }
    for product in products {
        let stored = stock(db, *product).await;
        let seen = versions.remove(product).unwrap_or_default();
        assert_eq!(seen, (1..=stored.version().get()).collect::<Vec<_>>(), "versions of {product}");
    }
    events
}

async fn every_change_is_an_event_in_commit_order(db: &TestDb) {
    let (product, _) = product(db, "EV-1", 10).await;
    let later = |minutes| t0() + TimeDelta::minutes(minutes);
    let mut to_pay = checkout(db, &[(product.id, 3)], later(1)).await;
    let mut to_cancel = checkout(db, &[(product.id, 2)], later(2)).await;
    let mut read = stock(db, product.id).await;
    let sale = read.sell(qty(3)).expect("sell");
    let pay = to_pay.pay(later(4), Actor::Admin).expect("payable").expect("a change");
    db.adapters
        .unit_of_work
        .commit(Changeset::new(vec![sale], Some(pay), later(4)))
        .await
        .expect("pay");
    let release = read.release(qty(2)).expect("release");
    let cancel = to_cancel.cancel(later(5), Actor::Admin).expect("cancellable").expect("a change");
    db.adapters
        .unit_of_work
        .commit(Changeset::new(vec![release], Some(cancel), later(5)))
        .await
        .expect("cancel");
    let mut read = stock(db, product.id).await;
    let count = read.set_on_hand(StockCount::new(9).expect("count")).expect("set");
    db.adapters.stock.save(count, None, Actor::Admin, None, later(6)).await.expect("set");

    let events = assert_feed_is_whole(db, &[product.id]).await;
    let types: Vec<_> = events.iter().map(|e| e.event_type().as_str()).collect();
    assert_eq!(
        types,
        [
            "product.created",
            "stock.changed", // restock, version 1
            "stock.changed", // reserve 3
            "order.reserved",
            "stock.changed", // reserve 2
            "order.reserved",
            "stock.changed", // sell 3
            "order.paid",
            "stock.changed", // release 2
            "order.cancelled",
            "stock.changed", // set to 9
        ]
    );
    // Each stock event carries the counters its change left.
    let counters: Vec<_> = (events.iter())
        .filter_map(|e| match &e.body {
            EventBody::Stock(s) => Some((s.on_hand.get(), s.reserved.get(), s.available())),
            _ => None,
        })
        .collect();
    assert_eq!(counters, [(10, 0, 10), (10, 3, 7), (10, 5, 5), (7, 2, 5), (7, 0, 7), (9, 0, 9)]);
    // The paid order's reservation event shows it as it was reserved; its payment, as paid.
    let of_paid: Vec<_> = (events.iter())
        .filter_map(|e| match &e.body {
            EventBody::Order(o) if o.id() == to_pay.id() => Some((e.event_type(), o.record())),
            _ => None,
        })
        .collect();
    assert_eq!(of_paid.len(), 2);
    assert_eq!(of_paid[0].0, EventType::OrderReserved);
    assert_eq!((of_paid[0].1.status, of_paid[0].1.paid_at), (OrderStatus::Reserved, None));
    assert_eq!((of_paid[1].0, of_paid[1].1.paid_at), (EventType::OrderPaid, Some(later(4))));
    assert_eq!(events[7].time, later(4), "an order event's time is its transition's");
    assert_eq!(events[7].id(), format!("order:{}:paid", to_pay.id()));
    // A page from the middle, and past the head.
    let page = db.adapters.events.after(Sequence::new(3).unwrap(), 2).await.expect("page");
    assert_eq!(page.iter().map(|e| e.sequence.get()).collect::<Vec<_>>(), [4, 5]);
    let past = db.adapters.events.after(Sequence::new(11).unwrap(), 100).await.expect("page");
    assert!(past.is_empty());
}

async fn taking_the_last_units_is_stock_out_and_giving_them_back_is_back_in(db: &TestDb) {
    let (product, _) = product(db, "EV-4", 2).await;
    let mut order = checkout(db, &[(product.id, 2)], t0()).await;
    let mut read = stock(db, product.id).await;
    let released = read.release(qty(2)).expect("release");
    let cancel = order.cancel(t0(), Actor::Admin).expect("cancellable").expect("a change");
    db.adapters
        .unit_of_work
        .commit(Changeset::new(vec![released], Some(cancel), t0()))
        .await
        .expect("cancel");

    let events = assert_feed_is_whole(db, &[product.id]).await;
    let seen: Vec<_> = events.iter().map(|e| (e.sequence.get(), e.event_type().as_str())).collect();
    assert_eq!(
        seen,
        [
            (1, "product.created"),
            (2, "stock.changed"),
            (3, "stock.changed"),
            (3, "stock.out"),
            (4, "order.reserved"),
            (5, "stock.changed"),
            (5, "stock.back_in"),
            (6, "order.cancelled"),
        ]
    );
    assert_eq!(events[3].id(), format!("stock.out:{}:2", product.id));
    assert_eq!(events[6].id(), format!("stock.back_in:{}:3", product.id));
    // A page of one sequence holds the change and its derived event.
    let page = db.adapters.events.after(Sequence::new(2).unwrap(), 1).await.expect("page");
    assert_eq!(page.len(), 2);
}

async fn stock_low_is_judged_by_the_threshold_in_force_when_the_change_committed(db: &TestDb) {
    // 10 units, low at 3: 10 → 4 is not low, 4 → 3 is.
    let (product, _) = product_with_threshold(db, "EV-5", 10, Some(3)).await;
    checkout(db, &[(product.id, 6)], t0()).await;
    checkout(db, &[(product.id, 1)], t0()).await;
    let lows = |events: &[Event]| -> Vec<(i64, Option<i64>)> {
        events
            .iter()
            .filter(|e| e.event_type() == EventType::StockLow)
            .map(|e| match &e.body {
                EventBody::StockLevel(_, stock) => {
                    (stock.available(), stock.low_stock_threshold.map(StockCount::get))
                }
                other => panic!("{other:?}"),
            })
            .collect()
    };
    // The stock and order events: `product.created` renders the product as it is now (its
    // settings change; the stock events must not).
    let facts = |events: Vec<Event>| -> Vec<Event> {
        events.into_iter().filter(|e| e.event_type() != EventType::ProductCreated).collect()
    };
    let before = facts(assert_feed_is_whole(db, &[product.id]).await);
    assert_eq!(lows(&before), [(3, Some(3))]);
    let low = before.iter().find(|e| e.event_type() == EventType::StockLow).expect("stock.low");
    assert_eq!(low.id(), format!("stock.low:{}:3", product.id));

    // Raised to 8, then at once lowered to 2 (no change between: the later setting replaces
    // the earlier): the feed so far does not change.
    let set = |threshold: i64| ProductPatch {
        low_stock_threshold: Some(Some(StockCount::new(threshold).expect("a count"))),
        ..ProductPatch::default()
    };
    for threshold in [8, 2] {
        let stored = db.adapters.products.update(product.id, set(threshold)).await.expect("patch");
        let stored = stored.expect("the product");
        assert_eq!(stored.low_stock_threshold.map(StockCount::get), Some(threshold));
    }
    assert_eq!(facts(assert_feed_is_whole(db, &[product.id]).await), before, "history stays");

    // 3 → 2 crosses 2; after a raise to 8, 2 → 1 crosses nothing (it was below already).
    checkout(db, &[(product.id, 1)], t0()).await;
    db.adapters.products.update(product.id, set(8)).await.expect("patch");
    checkout(db, &[(product.id, 1)], t0()).await;
    let after = facts(assert_feed_is_whole(db, &[product.id]).await);
    assert_eq!(lows(&after), [(3, Some(3)), (2, Some(2))]);
    assert_eq!(after[..before.len()], before[..]);
    let last = after.iter().rev().find(|e| e.event_type() == EventType::StockChanged).unwrap();
    let EventBody::Stock(stock) = &last.body else { panic!("{last:?}") };
    assert_eq!(stock.low_stock_threshold.map(StockCount::get), Some(8));
}

async fn retention_purges_old_events_no_further_than_the_slowest_relay(db: &TestDb) {
    use domain::ports::EventRetention;
    let at = |n| Sequence::new(n).unwrap();
    let sequences =
        |events: Vec<Event>| events.iter().map(|e| e.sequence.get()).collect::<Vec<_>>();
    // 1, 2 at t0 (product.created, its stock); 3, 4 ten minutes later (a reservation).
    let (product, _) = product(db, "RT-1", 5).await;
    checkout(db, &[(product.id, 1)], t0() + TimeDelta::minutes(10)).await;
    let (feed, retention, cursors) =
        (&db.adapters.events, &db.adapters.retention, &db.adapters.cursors);
    assert_eq!(feed.purged_through().await.expect("mark"), Sequence::START);
    assert!(cursors.advance("slow", Sequence::START, at(1)).await.expect("a relay at 1"));

    // Older than a minute after t0: 1 and 2, but the relay has taken only 1.
    let minute = t0() + TimeDelta::minutes(1);
    assert_eq!(retention.purge(minute).await.expect("purge"), at(1));
    assert_eq!(feed.purged_through().await.expect("mark"), at(1));
    assert_eq!(sequences(feed.after(Sequence::START, 100).await.expect("page")), [2, 3, 4]);

    // The relay moves on: 2 goes too, 3 and 4 are younger; purging again changes nothing.
    assert!(cursors.advance("slow", at(1), at(4)).await.expect("the relay moves"));
    assert_eq!(retention.purge(minute).await.expect("purge"), at(2));
    assert_eq!(retention.purge(minute).await.expect("again"), at(2));
    assert_eq!(sequences(feed.after(Sequence::START, 100).await.expect("page")), [3, 4]);

    // A product made at t0 + 20 min: its product.created (5) is numbered before its stock
    // (6), and goes with it, not with the older events before it.
    let young = Product {
        id: new_product_id(),
        sku: domain::Sku::new("RT-2").expect("a SKU"),
        created_at: t0() + TimeDelta::minutes(20),
        ..product.clone()
    };
    let stock = domain::ProductStock::new(young.id, StockCount::new(1).expect("a count"));
    db.adapters.products.create(young, stock, Actor::Admin).await.expect("created");
    assert!(cursors.advance("slow", at(4), at(6)).await.expect("the relay moves"));
    assert_eq!(retention.purge(t0() + TimeDelta::minutes(15)).await.expect("purge"), at(4));
    assert_eq!(sequences(feed.after(Sequence::START, 100).await.expect("page")), [5, 6]);

    // Everything older than next year: all of it; the head stays, the facts stay.
    let later = t0() + TimeDelta::days(365);
    assert_eq!(retention.purge(later).await.expect("purge"), at(6));
    assert!(feed.after(Sequence::START, 100).await.expect("page").is_empty());
    assert_eq!(feed.head().await.expect("head"), at(6));
    assert_eq!(db.adapters.stock.movements(product.id, 10).await.expect("ledger").len(), 2);
}

async fn a_rolled_back_commit_takes_no_sequence(db: &TestDb) {
    let (product, _) = product(db, "EV-2", 5).await;
    let order = checkout(db, &[(product.id, 1)], t0()).await;
    // A stale count (over the version read before it was first written) is refused and rolled
    // back: counts are compare-and-swap whatever the strategy.
    let (_, mut other) = crate::fixtures::product(db, "EV-3", 1).await;
    let count = other.set_on_hand(StockCount::new(4).expect("count")).expect("set");
    db.adapters.stock.save(count, None, Actor::Admin, None, t0()).await.expect("first");
    let again = db.adapters.stock.save(count, None, Actor::Admin, None, t0()).await;
    assert!(again.is_err(), "the same version twice conflicts");
    let events = assert_feed_is_whole(db, &[product.id]).await;
    assert_eq!(events.len(), 2 + 2 + 2 + 1, "two creations, a checkout and one count");
    assert!(events.iter().any(|e| e.id() == format!("order:{}:reserved", order.id())));
}

async fn relay_positions_move_by_compare_and_swap(db: &TestDb) {
    let cursors = &db.adapters.cursors;
    let at = |n| Sequence::new(n).unwrap();
    assert_eq!(cursors.position("nats").await.expect("position"), Sequence::START);
    assert!(cursors.advance("nats", Sequence::START, at(5)).await.expect("first advance"));
    assert!(!cursors.advance("nats", Sequence::START, at(6)).await.expect("stale first"));
    assert!(!cursors.advance("nats", at(4), at(6)).await.expect("stale"));
    assert_eq!(cursors.position("nats").await.expect("position"), at(5));
    assert_eq!(cursors.position("other").await.expect("another relay"), Sequence::START);
    // Several processes moving from one position at once: exactly one does.
    let moves = (0..6).map(|n| {
        let cursors = cursors.clone();
        tokio::spawn(async move { cursors.advance("nats", at(5), at(10 + n)).await })
    });
    let mut won = 0;
    for handle in moves {
        won += usize::from(handle.await.expect("a task").expect("an answer"));
    }
    assert_eq!(won, 1);
    assert!(cursors.position("nats").await.expect("position").get() >= 10);
}
