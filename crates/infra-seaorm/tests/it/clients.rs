//! API clients: found by the digest of their key and by nothing else, revoked once (the first
//! revocation's time stays), one digest per client; and idempotency keys in their longest,
//! caller-scoped form fit the widened column.

use std::time::Duration;

use chrono::TimeDelta;
use domain::ClientId;
use domain::access::{Actor, ApiClient, ClientName, Scope, Scopes};
use domain::ports::{
    ApiClientStore, Claim, IdempotencyKey, IdempotencyStore, KeyDigest, StoreError,
};
use infra_seaorm::SeaOrmIdempotencyStore;
use uuid::Uuid;

use crate::fixtures::t0;
use crate::support::{TestDb, on_every_backend};

on_every_backend!(
    a_client_is_found_by_its_digest_and_listed_oldest_first,
    a_revocation_keeps_its_first_time_and_an_unknown_client_is_none,
    two_clients_never_share_a_digest,
    the_longest_key_of_a_client_is_claimed,
);

fn client(n: u128, name: &str, scopes: &[Scope], minute: i64) -> ApiClient {
    ApiClient {
        id: ClientId::new(Uuid::from_u128(n)).expect("id"),
        name: ClientName::new(name).expect("name"),
        scopes: scopes.iter().copied().collect(),
        key_hint: format!("ck_{n:08x}"),
        created_at: t0() + TimeDelta::minutes(minute),
        revoked_at: None,
    }
}

async fn a_client_is_found_by_its_digest_and_listed_oldest_first(db: &TestDb) {
    let store = &db.adapters.clients;
    let (payments, erp) = (client(1, "payments", &[Scope::OrdersPay], 1), client(2, "erp", &[], 0));
    store.create(&payments, KeyDigest([1; 32])).await.expect("created");
    store.create(&erp, KeyDigest([2; 32])).await.expect("created");

    let found = store.find(KeyDigest([1; 32])).await.expect("asked");
    let missing = store.find(KeyDigest([3; 32])).await.expect("asked");
    let listed = store.list().await.expect("listed");

    assert_eq!(found, Some((payments.clone(), KeyDigest([1; 32]))));
    assert_eq!(missing, None);
    assert_eq!(listed, vec![erp, payments]);
}

async fn a_revocation_keeps_its_first_time_and_an_unknown_client_is_none(db: &TestDb) {
    let store = &db.adapters.clients;
    let payments = client(1, "payments", &[Scope::OrdersPay, Scope::OrdersCancel], 0);
    store.create(&payments, KeyDigest([1; 32])).await.expect("created");
    let (first, later) = (t0() + TimeDelta::hours(1), t0() + TimeDelta::hours(2));

    let revoked = store.revoke(payments.id, first).await.expect("revoked");
    let again = store.revoke(payments.id, later).await.expect("revoked");
    let unknown = store.revoke(ClientId::new(Uuid::from_u128(9)).expect("id"), first).await;

    let expected = ApiClient { revoked_at: Some(first), ..payments };
    assert_eq!(revoked, Some(expected.clone()));
    assert_eq!(again, Some(expected.clone()), "the first revocation stays on record");
    assert_eq!(unknown.expect("asked"), None);
    let found = store.find(KeyDigest([1; 32])).await.expect("asked").expect("still found");
    assert!(!found.0.is_active(), "found, and known to be revoked");
}

async fn two_clients_never_share_a_digest(db: &TestDb) {
    let store = &db.adapters.clients;
    store.create(&client(1, "a", &[], 0), KeyDigest([7; 32])).await.expect("created");

    let second = store
        .create(&client(2, "b", &Scopes::ALL.iter().collect::<Vec<_>>(), 0), KeyDigest([7; 32]))
        .await;

    assert!(matches!(second, Err(StoreError::Unavailable(_))), "{second:?}");
    assert_eq!(store.list().await.expect("listed").len(), 1);
}

async fn the_longest_key_of_a_client_is_claimed(db: &TestDb) {
    let store = SeaOrmIdempotencyStore::new(db.db.clone());
    let caller = Actor::Client(ClientId::new(Uuid::from_u128(u128::MAX >> 4)).expect("id"));
    let longest = IdempotencyKey::of(caller, &"k".repeat(IdempotencyKey::MAX_LEN)).expect("key");
    assert!(longest.as_str().len() > IdempotencyKey::MAX_LEN);

    let claimed = store.claim(&longest, "fp", t0(), Duration::from_secs(60)).await.expect("stored");
    let again = store.claim(&longest, "fp", t0(), Duration::from_secs(60)).await.expect("asked");

    assert!(matches!(claimed, Claim::Acquired(_)), "{claimed:?}");
    assert!(!matches!(again, Claim::Acquired(_)), "the key is one key: {again:?}");
}
