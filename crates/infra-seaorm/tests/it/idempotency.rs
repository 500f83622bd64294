//! Idempotency keys: the effect of a keyed request is recorded in the transaction of the effect,
//! so a committed request is never run again, and a request whose stale claim was taken over
//! can no longer commit under it.

use std::time::Duration;

use domain::access::Actor;
use domain::ports::{
    Changeset, Claim, Effect, IdempotencyKey, IdempotencyStore, KeyClaim, KeyEffect,
    OrderRepository, StockRepository, StoreError, StoredResponse, UnitOfWork,
};
use domain::{Cart, Order, OrderChange, ProductId};
use infra_seaorm::SeaOrmIdempotencyStore;

use crate::fixtures::{placed, product, qty, stock, t0};
use crate::support::{TestDb, on_every_backend};

on_every_backend!(
    an_effect_committed_under_a_key_outlives_a_release_and_is_found_by_the_retry,
    a_request_whose_stale_claim_was_taken_over_commits_nothing_under_it,
    a_batch_with_a_lost_claim_writes_nothing_and_names_that_key,
    an_adjustment_under_a_key_records_its_effect_and_a_lost_claim_writes_nothing,
);

const FRESH: Duration = Duration::from_secs(3600);

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::new(text).expect("a key")
}

/// Claims `text` at `t0() + seconds`; the key must be free or stale.
async fn claim(store: &SeaOrmIdempotencyStore, text: &str, seconds: i64) -> KeyClaim {
    let at = t0() + chrono::TimeDelta::seconds(seconds);
    match store.claim(&key(text), "fp", at, Duration::from_secs(60)).await.expect("claim") {
        Claim::Acquired(token) => KeyClaim::new(key(text), token),
        other => panic!("expected to acquire {text}, found {other:?}"),
    }
}

/// A checkout of one unit of `product_id` under `claim`, not yet committed.
async fn keyed_checkout(
    db: &TestDb,
    product_id: ProductId,
    claim: &KeyClaim,
) -> (Order, Changeset) {
    let cart = Cart::new([(product_id, qty(1))]).expect("a cart");
    let change = stock(db, product_id).await.reserve(qty(1)).expect("in stock");
    let order = placed(&cart);
    let changeset = Changeset::new(vec![change], Some(OrderChange::Created(order.clone())), t0())
        .with_key(KeyEffect { claim: claim.clone(), effect: Effect::OrderPlaced(order.id()) });
    (order, changeset)
}

async fn an_effect_committed_under_a_key_outlives_a_release_and_is_found_by_the_retry(db: &TestDb) {
    let store = SeaOrmIdempotencyStore::new(db.db.clone());
    let (product, _) = product(db, "IK-1", 5).await;
    let first = claim(&store, "pay-1", 0).await;
    let (order, changeset) = keyed_checkout(db, product.id, &first).await;
    db.adapters.unit_of_work.commit(changeset).await.expect("commit");

    // The answer is lost after the commit (a 503, a cut connection): the key is released...
    store.release(&first).await.expect("release");

    // ...yet the retry, however late, finds what was committed and runs nothing.
    for stale_after in [FRESH, Duration::ZERO] {
        let later = t0() + chrono::TimeDelta::hours(1);
        let found = store.claim(&key("pay-1"), "fp", later, stale_after).await.expect("claim");
        let expected =
            Claim::Committed { fingerprint: "fp".into(), effect: Effect::OrderPlaced(order.id()) };
        assert_eq!(found, expected, "stale after {stale_after:?}");
    }
    // Completing stores the answer, which then replays as usual.
    let answer = StoredResponse { status: 201, body: b"{}".to_vec() };
    store.complete(&first, answer.clone(), t0()).await.expect("complete");
    let found = store.claim(&key("pay-1"), "fp", t0(), FRESH).await.expect("claim");
    assert_eq!(found, Claim::Completed { fingerprint: "fp".into(), response: answer });
}

async fn a_request_whose_stale_claim_was_taken_over_commits_nothing_under_it(db: &TestDb) {
    let store = SeaOrmIdempotencyStore::new(db.db.clone());
    let (product, _) = product(db, "IK-2", 5).await;
    let slow = claim(&store, "slow-1", 0).await;
    // Past the stale window with nothing committed: a retry takes the key over.
    let retry = claim(&store, "slow-1", 120).await;
    assert_ne!(slow.token(), retry.token(), "a takeover is a new claim");

    let (late, changeset) = keyed_checkout(db, product.id, &slow).await;
    let err = db.adapters.unit_of_work.commit(changeset).await.expect_err("the claim is lost");

    assert!(matches!(&err, StoreError::ClaimsLost(keys) if keys == &[key("slow-1")]), "{err:?}");
    assert_eq!(db.adapters.orders.get(late.id()).await.expect("get"), None, "no order");
    assert_eq!(stock(db, product.id).await.reserved().get(), 0, "no stock held");
    // The first holder can neither release nor complete the key any more.
    store.release(&slow).await.expect("release");
    let gone = StoredResponse { status: 503, body: vec![] };
    store.complete(&slow, gone, t0()).await.expect("complete");
    let slow_key = key("slow-1");
    let found = store.claim(&slow_key, "fp", t0() + chrono::TimeDelta::seconds(121), FRESH);
    let found = found.await.expect("claim");
    assert_eq!(found, Claim::InProgress { fingerprint: "fp".into() });
    // The request that holds it now commits.
    let (order, changeset) = keyed_checkout(db, product.id, &retry).await;
    db.adapters.unit_of_work.commit(changeset).await.expect("the holder commits");
    assert!(db.adapters.orders.get(order.id()).await.expect("get").is_some());
}

async fn a_batch_with_a_lost_claim_writes_nothing_and_names_that_key(db: &TestDb) {
    let store = SeaOrmIdempotencyStore::new(db.db.clone());
    let (a, _) = product(db, "IK-3", 5).await;
    let (b, _) = product(db, "IK-4", 5).await;
    let lost = claim(&store, "lost-1", 0).await;
    claim(&store, "lost-1", 120).await;
    let held = claim(&store, "held-1", 120).await;
    let (first, one) = keyed_checkout(db, a.id, &lost).await;
    let (second, two) = keyed_checkout(db, b.id, &held).await;

    let err = db.adapters.unit_of_work.commit_all(vec![one, two]).await.expect_err("lost");

    assert!(matches!(&err, StoreError::ClaimsLost(keys) if keys == &[key("lost-1")]), "{err:?}");
    for order in [first, second] {
        assert_eq!(db.adapters.orders.get(order.id()).await.expect("get"), None, "no order");
    }
    let held_key = key("held-1");
    let found = store.claim(&held_key, "fp", t0() + chrono::TimeDelta::seconds(121), FRESH);
    assert_eq!(
        found.await.expect("claim"),
        Claim::InProgress { fingerprint: "fp".into() },
        "the held key's effect was rolled back with the batch"
    );
}

async fn an_adjustment_under_a_key_records_its_effect_and_a_lost_claim_writes_nothing(db: &TestDb) {
    let store = SeaOrmIdempotencyStore::new(db.db.clone());
    let (product, _) = product(db, "IK-5", 5).await;
    let effect = Effect::StockAdjusted(product.id);
    let keyed = |claim: &KeyClaim| Some(KeyEffect { claim: claim.clone(), effect });

    // A delivery under a key, whose answer is then lost: the retry finds the effect.
    let first = claim(&store, "delivery-1", 0).await;
    let delivery = stock(db, product.id).await.adjust(10).expect("adjust");
    db.adapters.stock.save(delivery, None, Actor::Admin, keyed(&first), t0()).await.expect("save");
    store.release(&first).await.expect("release");
    let found = store.claim(&key("delivery-1"), "fp", t0(), Duration::ZERO).await.expect("claim");
    assert_eq!(found, Claim::Committed { fingerprint: "fp".into(), effect });

    // A delivery whose stale claim was taken over writes nothing.
    let slow = claim(&store, "delivery-2", 0).await;
    claim(&store, "delivery-2", 120).await;
    let late = stock(db, product.id).await.adjust(10).expect("adjust");
    let err = db
        .adapters
        .stock
        .save(late, None, Actor::Admin, keyed(&slow), t0())
        .await
        .expect_err("lost");
    assert!(
        matches!(&err, StoreError::ClaimsLost(keys) if keys == &[key("delivery-2")]),
        "{err:?}"
    );
    assert_eq!(stock(db, product.id).await.on_hand().get(), 15, "one delivery only");
}
