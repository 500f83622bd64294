//! Access beyond the route table (`access_table.rs`): keys kept only as digests, revocation
//! seen at once by another process, malformed credentials, bad client definitions, idempotency
//! keys per client, actors on record, abuse limits, and the `clients` command.

use std::num::NonZeroU32;
use std::process::Output;
use std::time::Duration;

use api::cli::Config;
use api::wire::{ClientsPage, IssuedClientView, MovementView, OrderView};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use testkit::TestDatabase;

use super::client::{Api, cart};
use super::harness::{Server, TestServer, as_is, command, text};

on_both_backends!(database: the_keys_table_holds_no_plaintext_key);
on_both_backends!(database: a_revoke_in_one_process_is_refused_by_another);
on_both_backends!(malformed_authorization_is_401_on_every_route);
on_both_backends!(client_creation_refuses_unknown_scopes_and_overlong_names);
on_both_backends!(two_clients_with_the_same_idempotency_key_get_their_own_orders);
on_both_backends!(actors_are_on_record_in_orders_and_the_ledger, short_reservations);
on_both_backends!(checkouts_past_a_clients_or_an_addresss_budget_are_429, tight_budgets);
on_both_backends!(forwarded_addresses_get_their_own_budget_only_when_trusted, trusted_proxy);
on_both_backends!(database: the_clients_cli_creates_lists_and_revokes);

fn hex_digest(key: &str) -> String {
    Sha256::digest(key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

async fn the_keys_table_holds_no_plaintext_key(database: &TestDatabase) {
    // Arrange
    let server = TestServer::start(database.backend(), database.url(), as_is).await;
    let mut issued = Vec::new();
    for (name, scopes) in [("payments", &["orders:pay"][..]), ("erp", &["stock:write"]), ("x", &[])]
    {
        issued.push(server.api.create_client(name, scopes).await);
    }
    server.stop().await;

    // Act: every column of every row, as text.
    let db = sea_orm::Database::connect(database.url()).await.expect("connect");
    let (columns_sql, rows_sql) = match database.backend() {
        backend if backend.is_postgres() => (
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_name = 'api_clients' ORDER BY 1",
            "SELECT row_to_json(c)::text FROM api_clients c",
        ),
        _ => (
            "SELECT name FROM pragma_table_info('api_clients') ORDER BY 1",
            "SELECT json_object('id', hex(id), 'name', name, \
             'scopes', scopes, 'key_hint', key_hint, 'key_digest', key_digest, \
             'created_at', created_at, 'revoked_at', revoked_at) FROM api_clients",
        ),
    };
    let texts = |sql: &str| {
        let db = &db;
        let statement = Statement::from_string(db.get_database_backend(), sql.to_owned());
        async move {
            let rows = db.query_all_raw(statement).await.expect("a query");
            rows.iter().map(|r| r.try_get_by_index::<String>(0).expect("text")).collect::<Vec<_>>()
        }
    };
    let columns = texts(columns_sql).await;
    let rows = texts(rows_sql).await;
    db.close().await.expect("close");

    // Assert
    let expected = ["created_at", "id", "key_digest", "key_hint", "name", "revoked_at", "scopes"];
    assert_eq!(columns, expected, "a new column must be added to this test's row text");
    assert_eq!(rows.len(), 3);
    let stored = rows.join("\n");
    for client in &issued {
        let secret = client.key.trim_start_matches("ck_");
        assert!(!stored.contains(secret), "the key {} is stored: {stored}", client.key_hint);
        // Not even a long piece of it: only the 8-digit hint.
        assert!(!stored.contains(&secret[..16]), "{stored}");
        assert!(stored.contains(&hex_digest(&client.key)), "its digest is: {stored}");
        assert!(client.key.starts_with(&client.key_hint) && client.key_hint.len() == 11);
    }
}

async fn a_revoke_in_one_process_is_refused_by_another(database: &TestDatabase) {
    // Arrange: two server processes over one database.
    let logs = tempfile::tempdir().expect("a directory for the logs");
    let first = Server::start(database, &logs.path().join("first.log"), &[]).await;
    let second = Server::start(database, &logs.path().join("second.log"), &[]).await;
    let (a, b) = (&first.api, &second.api);
    let product = a.create_product("REVOKE-1", 10).await;
    let payments = a.create_client("payments", &["orders:pay"]).await;
    let pay = |api: &Api, order: &OrderView| {
        api.with_key(&payments.key, Method::POST, &format!("/v1/orders/{}/pay", order.id))
    };
    let before = a.reserve(&[(product, 1)]).await;
    assert_eq!(b.send(pay(b, &before)).await.status, 200, "the key works on the other process");
    let after = a.reserve(&[(product, 1)]).await;

    // Act
    a.revoke_client(payments.id).await;
    let refused = b.send(pay(b, &after)).await;

    // Assert
    refused.assert_problem(401, "unauthorized");
    assert_eq!(b.order(after.id).await.status, "reserved", "nothing was paid");
    let listed: ClientsPage = b.send(b.admin(Method::GET, "/v1/clients")).await.json();
    assert!(listed.items.iter().any(|c| c.id == payments.id && c.revoked_at.is_some()));
}

async fn malformed_authorization_is_401_on_every_route(api: Api) {
    let product = api.create_product("MALFORMED-AUTH", 5).await;
    let order = api.reserve(&[(product, 1)]).await;
    let routes = [
        (Method::GET, "/healthz".to_owned()),
        (Method::GET, format!("/v1/products/{product}")),
        (Method::POST, format!("/v1/orders/{}/pay", order.id)),
        (Method::GET, "/v1/clients".to_owned()),
        (Method::GET, "/docs/".to_owned()),
    ];
    let malformed: [&[u8]; 8] = [
        b"Bearer",
        b"Bearer ",
        b"Basic dGVzdC10b2tlbjo=",
        b"test-token",
        b"Bearer test-token extra",
        b"Bearer \xff\xfe",
        b"Token test-token",
        b"Bearer ck_",
    ];
    for (method, path) in &routes {
        for value in malformed {
            // Act
            let header = HeaderValue::from_bytes(value).expect("a header value");
            let reply =
                api.send(api.request(method.clone(), path).header(AUTHORIZATION, header)).await;

            // Assert
            assert_eq!(reply.status, 401, "{method} {path} with {value:?}: {}", reply.text());
            reply.assert_problem(401, "unauthorized");
            assert!(reply.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer")));
        }
    }
    assert_eq!(api.order(order.id).await.status, "reserved");
}

async fn client_creation_refuses_unknown_scopes_and_overlong_names(api: Api) {
    let create = |body: Value| api.admin(Method::POST, "/v1/clients").json(&body);

    // Act
    let unknown = api
        .send(create(
            json!({"name": "payments", "scopes": ["orders:pay", "orders:refund", "root"]}),
        ))
        .await;
    let long = api.send(create(json!({"name": "n".repeat(101), "scopes": ["orders:pay"]}))).await;
    let blank = api.send(create(json!({"name": " \u{200B} ", "scopes": ["nope"]}))).await;
    let extra = api.send(create(json!({"name": "x", "scopes": [], "key": "ck_mine"}))).await;

    // Assert
    let problem = unknown.assert_problem(422, "invalid-request");
    assert_eq!(problem["unknown_scopes"], json!(["orders:refund", "root"]));
    assert!(problem["detail"].as_str().unwrap_or_default().contains("orders:refund"));
    let problem = long.assert_problem(422, "invalid-request");
    assert_eq!(problem["errors"][0]["field"], "name");
    let problem = blank.assert_problem(422, "invalid-request");
    let fields: Vec<_> =
        problem["errors"].as_array().expect("errors").iter().map(|e| e["field"].clone()).collect();
    assert_eq!(fields, [json!("name"), json!("scopes")]);
    extra.assert_problem(422, "invalid-request");
    let listed: ClientsPage = api.send(api.admin(Method::GET, "/v1/clients")).await.json();
    assert!(listed.items.is_empty(), "nothing was created: {:?}", listed.items);
}

async fn two_clients_with_the_same_idempotency_key_get_their_own_orders(api: Api) {
    // Arrange
    let product = api.create_product("KEYS-PER-CLIENT", 10).await;
    let (first, second) =
        (api.create_client("shop-a", &[]).await, api.create_client("shop-b", &[]).await);
    let checkout = |credential: Option<&str>| {
        let request =
            api.request(Method::POST, "/v1/checkout").header("idempotency-key", "same-key");
        let request = match credential {
            Some(key) => request.bearer_auth(key),
            None => request,
        };
        api.send(request.json(&cart(&[(product, 1)])))
    };

    // Act
    let by_first = checkout(Some(&first.key)).await;
    let by_second = checkout(Some(&second.key)).await;
    let by_nobody = checkout(None).await;
    let first_again = checkout(Some(&first.key)).await;

    // Assert
    let ids: Vec<String> = [&by_first, &by_second, &by_nobody]
        .iter()
        .map(|reply| {
            assert_eq!(reply.status, 201, "{}", reply.text());
            assert!(!reply.is_replay(), "a first use of the key by this caller");
            reply.json::<OrderView>().id.to_string()
        })
        .collect();
    assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2], "{ids:?}");
    assert!(first_again.is_replay(), "the first client's retry replays its own answer");
    assert_eq!(first_again.json::<OrderView>().id.to_string(), ids[0]);
    assert_eq!(api.stock(product).await.reserved, 3);
}

fn short_reservations(config: &mut Config) {
    config.reservation_ttl = 1;
    config.sweep_interval_ms = 100;
}

async fn actors_are_on_record_in_orders_and_the_ledger(api: Api) {
    // Arrange
    let product = api.create_product("ACTORS", 10).await;
    let payments = api.create_client("payments", &["orders:pay"]).await;
    let shop = api.create_client("storefront", &[]).await;
    let as_payments = format!("client:{}", payments.id);
    let as_shop = format!("client:{}", shop.id);

    // Act: an anonymous order paid by the payment service; the storefront's order cancelled by
    // the admin; an anonymous order left to expire.
    let paid = api.reserve(&[(product, 1)]).await;
    let path = format!("/v1/orders/{}/pay", paid.id);
    assert_eq!(api.send(api.with_key(&payments.key, Method::POST, &path)).await.status, 200);
    let request =
        api.with_key(&shop.key, Method::POST, "/v1/checkout").json(&cart(&[(product, 2)]));
    let cancelled: OrderView = api.send(request).await.json();
    assert_eq!(api.cancel(cancelled.id).await.status, 200);
    let expired = api.reserve(&[(product, 3)]).await;
    let mut waited = Duration::ZERO;
    while api.order(expired.id).await.settled_by.is_none() && waited < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += Duration::from_millis(100);
    }

    // Assert
    let actors = |order: &OrderView| (order.placed_by.clone(), order.settled_by.clone());
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(actors(&api.order(paid.id).await), (some("anonymous"), Some(as_payments.clone())));
    assert_eq!(actors(&api.order(cancelled.id).await), (Some(as_shop.clone()), some("admin")));
    assert_eq!(actors(&api.order(expired.id).await), (some("anonymous"), some("system")));
    let ledger: Vec<(String, Option<String>)> = api
        .movements(product)
        .await
        .iter()
        .rev()
        .map(|m: &MovementView| (m.kind.clone(), m.actor.clone()))
        .collect();
    let expected = [
        ("restock", some("admin")),
        ("reserve", some("anonymous")),
        ("sell", Some(as_payments)),
        ("reserve", Some(as_shop)),
        ("release", some("admin")),
        ("reserve", some("anonymous")),
        ("expire", some("system")),
    ];
    let expected: Vec<_> = expected.into_iter().map(|(k, a)| (k.to_owned(), a)).collect();
    assert_eq!(ledger, expected);
}

fn tight_budgets(config: &mut Config) {
    config.checkout_rate_per_client = NonZeroU32::new(1);
    config.checkout_burst_per_client = NonZeroU32::new(2);
    config.checkout_rate_per_ip = NonZeroU32::new(1);
    config.checkout_burst_per_ip = NonZeroU32::new(2);
}

async fn checkouts_past_a_clients_or_an_addresss_budget_are_429(api: Api) {
    // Arrange
    let product = api.create_product("LIMITED", 1_000).await;
    let (first, second) =
        (api.create_client("bot-a", &[]).await, api.create_client("bot-b", &[]).await);
    let checkout = |credential: Option<&str>, forwarded: Option<&str>| {
        let mut request = api.request(Method::POST, "/v1/checkout").json(&cart(&[(product, 1)]));
        if let Some(key) = credential {
            request = request.bearer_auth(key);
        }
        if let Some(address) = forwarded {
            request = request.header("x-forwarded-for", address);
        }
        api.send(request)
    };
    let statuses = async |credential: Option<&str>, forwarded: Option<&str>, n: usize| {
        let mut seen = Vec::new();
        for _ in 0..n {
            seen.push(checkout(credential, forwarded).await.status.as_u16());
        }
        seen
    };

    // Act and assert: a burst of 2 each, then 429; each bucket its own.
    assert_eq!(statuses(Some(&first.key), None, 2).await, [201, 201]);
    let limited = checkout(Some(&first.key), None).await;
    limited.assert_problem(429, "rate-limited");
    let wait: u64 =
        limited.header("retry-after").and_then(|s| s.parse().ok()).expect("Retry-After");
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    assert_eq!(statuses(Some(&second.key), None, 2).await, [201, 201], "another client's bucket");
    assert_eq!(statuses(None, None, 3).await, [201, 201, 429], "this address's bucket");
    // Not trusted: a forwarded address is the client's own claim and changes nothing.
    assert_eq!(statuses(None, Some("203.0.113.9"), 1).await, [429]);
    assert_eq!(
        statuses(Some(super::client::TOKEN), None, 5).await,
        [201; 5],
        "the admin is not limited"
    );
    assert_eq!(api.stock(product).await.reserved, 11, "a refused checkout reserves nothing");
}

fn trusted_proxy(config: &mut Config) {
    tight_budgets(config);
    config.trust_forwarded_for = true;
}

async fn forwarded_addresses_get_their_own_budget_only_when_trusted(api: Api) {
    let product = api.create_product("BEHIND-PROXY", 100).await;
    let checkout = |forwarded: &str| {
        let request =
            api.request(Method::POST, "/v1/checkout").header("x-forwarded-for", forwarded);
        api.send(request.json(&cart(&[(product, 1)])))
    };
    let mut seen = Vec::new();
    // The proxy appends the caller's address last; what the caller sent before it is ignored.
    for forwarded in ["1.1.1.1, 198.51.100.7", "2.2.2.2, 198.51.100.7", "3.3.3.3, 198.51.100.7"] {
        seen.push(checkout(forwarded).await.status.as_u16());
    }
    seen.push(checkout("198.51.100.8").await.status.as_u16());
    assert_eq!(seen, [201, 201, 429, 201]);
}

async fn clients_command(url: &str, args: &[&str]) -> Output {
    command(url, "clients", args).await
}

async fn the_clients_cli_creates_lists_and_revokes(database: &TestDatabase) {
    let url = database.url();

    // Act: made before any server ran on the database (the command migrates it).
    let created =
        clients_command(url, &["create", "--name", "payments", "--scope", "orders:pay", "--json"])
            .await;
    let refused =
        clients_command(url, &["create", "--name", "x", "--scope", "orders:refund"]).await;

    // Assert
    assert_eq!(created.status.code(), Some(0), "{}", text(&created.stderr));
    let issued: IssuedClientView = serde_json::from_slice(&created.stdout).expect("JSON");
    assert_eq!(
        (issued.name.as_str(), issued.scopes.clone()),
        ("payments", vec!["orders:pay".to_owned()])
    );
    assert!(issued.key.starts_with("ck_") && issued.key.len() == 67, "{}", issued.key);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("orders:refund"), "{}", text(&refused.stderr));

    // The key works over HTTP, and stops working once revoked from the command line.
    let server = TestServer::start(database.backend(), url, as_is).await;
    let api = server.api.clone();
    let product = api.create_product("CLI-KEY", 5).await;
    let (one, two) = (api.reserve(&[(product, 1)]).await, api.reserve(&[(product, 1)]).await);
    let pay = |order: &OrderView| {
        api.with_key(&issued.key, Method::POST, &format!("/v1/orders/{}/pay", order.id))
    };
    assert_eq!(api.send(pay(&one)).await.status, 200);
    let listed = clients_command(url, &["list", "--json"]).await;
    let page: ClientsPage = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert_eq!(page.items.len(), 1);
    assert!(!text(&listed.stdout).contains(&issued.key), "a list never shows keys");
    let table = text(&clients_command(url, &["list"]).await.stdout);
    assert!(table.contains(&issued.key_hint) && table.contains("active"), "{table}");
    let revoked = clients_command(url, &["revoke", &issued.id.to_string()]).await;
    assert_eq!(revoked.status.code(), Some(0), "{}", text(&revoked.stderr));
    api.send(pay(&two)).await.assert_problem(401, "unauthorized");
    let unknown = clients_command(url, &["revoke", &uuid::Uuid::new_v4().to_string()]).await;
    assert_eq!(unknown.status.code(), Some(1));
    server.stop().await;
}
