//! The flash sale: far more buyers than units, all at once. Never a unit more than on hand is
//! reserved; with enough retries every buyer gets a definite answer, sold or sold out.

use std::collections::BTreeMap;

use api::cli::{Config, StockWritesArg};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::client::Api;

const UNITS: i64 = 50;
const BUYERS: usize = 300;

on_both_backends!(pooled: with_enough_retries_exactly_fifty_of_three_hundred_buyers_get_a_unit, patient);
on_both_backends!(pooled: with_guarded_writes_exactly_fifty_of_three_hundred_buyers_get_a_unit, guarded);
on_both_backends!(pooled: under_the_default_retry_policy_a_flash_sale_never_oversells);
on_both_backends!(pooled: without_group_commit_exactly_fifty_of_three_hundred_buyers_get_a_unit, alone);

/// Compare-and-swap writes (the seed's). Every lost race is a unit reserved by someone else,
/// so a buyer loses at most `UNITS` races before it reads the stock as gone: `UNITS + 1`
/// attempts can never run out.
fn patient(config: &mut Config) {
    config.retry_attempts = u32::try_from(UNITS + 1).expect("a small number");
    config.stock_writes = Some(StockWritesArg::CompareAndSwap);
}

/// Guarded delta writes, the default retry policy: buyers queue on the row instead of racing.
fn guarded(config: &mut Config) {
    config.stock_writes = Some(StockWritesArg::Guarded);
}

/// Guarded writes, every checkout committed on its own (group commit off).
fn alone(config: &mut Config) {
    config.group_commit_lanes = 0;
}

/// `BUYERS` concurrent checkouts of one unit each, tallied by (status, problem slug).
async fn rush(api: &Api, product: Uuid, label: &str) -> BTreeMap<(u16, String), usize> {
    let mut buyers = JoinSet::new();
    for _ in 0..BUYERS {
        let api = api.clone();
        buyers.spawn(async move { api.checkout(&[(product, 1)]).await.outcome() });
    }
    let mut tally = BTreeMap::new();
    for outcome in buyers.join_all().await {
        *tally.entry(outcome).or_default() += 1;
    }
    eprintln!("flash sale ({label}) on {:?}: {tally:?}", api.backend);
    tally
}

async fn with_enough_retries_exactly_fifty_of_three_hundred_buyers_get_a_unit(api: Api) {
    exactly_the_units_on_hand_are_sold(api, "compare-and-swap, 51 attempts").await;
}

async fn with_guarded_writes_exactly_fifty_of_three_hundred_buyers_get_a_unit(api: Api) {
    exactly_the_units_on_hand_are_sold(api, "guarded, 10 attempts").await;
}

async fn without_group_commit_exactly_fifty_of_three_hundred_buyers_get_a_unit(api: Api) {
    exactly_the_units_on_hand_are_sold(api, "guarded, one commit per checkout").await;
}

async fn exactly_the_units_on_hand_are_sold(api: Api, label: &str) {
    // Arrange
    let product = api.create_product("FLASH-1", UNITS).await;

    // Act
    let tally = rush(&api, product, label).await;

    // Assert
    let expected = BTreeMap::from([
        ((201, String::new()), 50),
        ((409, "insufficient-stock".to_owned()), BUYERS - 50),
    ]);
    assert_eq!(tally, expected, "(status, problem) → count");
    let stock = api.stock(product).await;
    assert_eq!((stock.on_hand, stock.reserved, stock.available), (UNITS, UNITS, 0));
    assert_eq!(stock.version, 1 + UNITS, "one version per sale, none for a refusal");
}

async fn under_the_default_retry_policy_a_flash_sale_never_oversells(api: Api) {
    // Arrange
    let product = api.create_product("FLASH-2", UNITS).await;

    // Act
    let tally = rush(&api, product, "the defaults").await;

    // Assert: buyers who lost too many races are told to come back (503), nobody else is.
    let count =
        |status: u16, slug: &str| tally.get(&(status, slug.to_owned())).copied().unwrap_or(0);
    let sold = count(201, "");
    let answered = sold + count(409, "insufficient-stock") + count(503, "contention");
    assert_eq!(answered, BUYERS, "only 201, 409 insufficient-stock or 503 contention: {tally:?}");
    let stock = api.stock(product).await;
    assert!(sold <= 50, "{sold} sold of {UNITS}");
    let sold = i64::try_from(sold).expect("a small number");
    assert_eq!((stock.on_hand, stock.reserved, stock.version), (UNITS, sold, 1 + sold));
}
