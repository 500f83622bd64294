//! Unit tests of [`Access`] and [`Caller`].

use std::sync::{Arc, Mutex};

use domain::ClientId;
use domain::access::{Actor, ApiClient, ClientName, Scope, Scopes};
use domain::ports::{KeyDigest, StoreError};
use uuid::Uuid;

use super::*;
use crate::test_support::{Mocks, t0};

fn cid(n: u128) -> ClientId {
    ClientId::new(Uuid::from_u128(n)).expect("id")
}

fn payments() -> ApiClient {
    ApiClient {
        id: cid(7),
        name: ClientName::new("payments").expect("name"),
        scopes: [Scope::OrdersPay].into_iter().collect(),
        key_hint: "ck_00000000".into(),
        created_at: t0(),
        revoked_at: None,
    }
}

/// Access over a store holding `client` under `key`'s digest.
fn holding(client: ApiClient, key: &str) -> Access {
    let mut mocks = Mocks::new();
    let stored = digest(key);
    mocks
        .clients
        .expect_find()
        .returning(move |d| Ok((d == stored).then(|| (client.clone(), stored))));
    Access::new(mocks.into_ports(), "root-token")
}

#[tokio::test]
async fn a_new_key_is_returned_once_and_only_its_digest_is_stored() {
    let mut mocks = Mocks::new();
    mocks.ids.expect_client_id().return_const(cid(7));
    mocks.ids.expect_secret().return_const([0xAB; 32]);
    let stored: Arc<Mutex<Vec<KeyDigest>>> = Arc::default();
    let sink = Arc::clone(&stored);
    mocks.clients.expect_create().times(1).returning(move |_, d| {
        sink.lock().expect("lock").push(d);
        Ok(())
    });
    let access = Access::new(mocks.into_ports(), "root-token");

    let name = ClientName::new("payments").expect("name");
    let issued = access.create(name, Scopes::NONE).await.expect("created");

    assert_eq!(issued.key, format!("ck_{}", "ab".repeat(32)));
    assert_eq!(issued.client.key_hint, "ck_abababab");
    assert_eq!(issued.client.id, cid(7));
    assert_eq!(*stored.lock().expect("lock"), vec![digest(&issued.key)]);
}

#[tokio::test]
async fn the_admin_token_is_the_root_and_a_clients_key_names_the_client() {
    let key = format!("ck_{}", "01".repeat(32));
    let access = holding(payments(), &key);

    let admin = access.identify("root-token").await.expect("admin");
    assert_eq!(admin.actor(), Actor::Admin);
    assert!(Scope::ALL.into_iter().all(|s| admin.authorize(s).is_ok()));

    let client = access.identify(&key).await.expect("client");
    assert_eq!(client.actor(), Actor::Client(cid(7)));
    assert_eq!(client.authorize(Scope::OrdersPay), Ok(()));
    assert_eq!(
        client.authorize(Scope::OrdersCancel),
        Err(Denied::MissingScope(Scope::OrdersCancel))
    );
}

#[tokio::test]
async fn unknown_near_miss_and_revoked_credentials_name_nobody() {
    let key = format!("ck_{}", "01".repeat(32));
    let revoked = ApiClient { revoked_at: Some(t0()), ..payments() };
    let access = holding(revoked, &key);
    for presented in [key.as_str(), "root-token ", "root", "ck_", "ck_0101", ""] {
        let refused = access.identify(presented).await;
        assert!(matches!(refused, Err(IdentifyError::Unknown)), "{presented:?}");
    }
}

#[tokio::test]
async fn a_store_that_cannot_answer_is_no_refusal() {
    let mut mocks = Mocks::new();
    mocks.clients.expect_find().returning(|_| Err(StoreError::unavailable("down")));
    let access = Access::new(mocks.into_ports(), "root-token");
    let failed = access.identify(&format!("ck_{}", "01".repeat(32))).await;
    assert!(matches!(failed, Err(IdentifyError::Unavailable(_))));
}

#[tokio::test]
async fn revoking_an_unknown_client_is_not_found() {
    let mut mocks = Mocks::new();
    mocks.clients.expect_revoke().returning(|_, _| Ok(None));
    let access = Access::new(mocks.into_ports(), "root-token");
    assert!(matches!(access.revoke(cid(3)).await, Err(AccessError::NotFound(id)) if id == cid(3)));
}

#[test]
fn an_anonymous_caller_is_asked_for_a_credential_not_told_it_lacks_a_scope() {
    assert_eq!(Caller::anonymous().authorize(Scope::OrdersPay), Err(Denied::Unauthenticated));
    assert_eq!(Caller::anonymous().actor(), Actor::Anonymous);
}
