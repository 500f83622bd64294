//! Three server processes on one database: the real `checkout-api` binary, started three
//! times, each with its own connection pool and group-commit lanes. A flash
//! sale and mixed carts are spread over all three at once; payments and cancellations go to a
//! process other than the one that took the order. Counts come out exact: nothing but the
//! versioned writes in the database keeps the processes from overselling.

use std::collections::{BTreeMap, HashMap};

use api::wire::OrderView;
use testkit::TestDatabase;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::client::Api;
use super::harness::with_processes;

const PROCESSES: usize = 3;
const HOT_UNITS: i64 = 100;
const HOT_BUYERS: usize = 600;
const MIXED_UNITS: i64 = 40;
const MIXED_CARTS: usize = 150;

on_both_backends!(pooled: database: three_processes_share_one_database);

async fn three_processes_share_one_database(database: &TestDatabase) {
    with_processes(database, PROCESSES, scenario).await;
}

async fn scenario(apis: Vec<Api>) {
    // Arrange
    let hot = apis[0].create_product("MULTI-HOT", HOT_UNITS).await;
    let mut mixed = Vec::new();
    for n in 0..5 {
        mixed.push(apis[1].create_product(&format!("MULTI-MIX-{n}"), MIXED_UNITS).await);
    }
    let carts: Vec<Vec<(Uuid, i64)>> = (0..MIXED_CARTS)
        .map(|i| {
            (0..1 + i % 3).map(|k| (mixed[(i * 7 + k * 3) % 5], 1 + ((i + k) % 3) as i64)).collect()
        })
        .collect();

    // Act: every buyer and every cart at once, spread over the processes.
    let mut buyers = JoinSet::new();
    let hot_carts = (0..HOT_BUYERS).map(|_| vec![(hot, 1)]);
    for (i, lines) in hot_carts.chain(carts.iter().cloned()).enumerate() {
        let api = apis[i % PROCESSES].clone();
        buyers.spawn(async move {
            let reply = api.checkout(&lines).await;
            let order = (reply.status == 201).then(|| reply.json::<OrderView>().id);
            (i, reply.outcome(), order)
        });
    }
    let mut answers = buyers.join_all().await;
    answers.sort_by_key(|(i, _, _)| *i);
    let (hot_answers, mixed_answers) = answers.split_at(HOT_BUYERS);

    // Assert: the flash sale sold exactly what there was, over all processes.
    let mut tally = BTreeMap::new();
    for (_, outcome, _) in hot_answers {
        *tally.entry(outcome.clone()).or_insert(0) += 1;
    }
    eprintln!("{PROCESSES} processes on {:?}, flash sale: {tally:?}", apis[0].backend);
    let expected = BTreeMap::from([
        ((201, String::new()), HOT_UNITS as usize),
        ((409, "insufficient-stock".to_owned()), HOT_BUYERS - HOT_UNITS as usize),
    ]);
    assert_eq!(tally, expected, "(status, problem) → count");

    // Assert: every mixed cart got an order or a definite refusal, and the stock holds exactly
    // the winning lines.
    let mut won_units: HashMap<Uuid, i64> = HashMap::new();
    let mut won_orders: HashMap<Uuid, i64> = HashMap::new();
    for ((i, outcome, _), cart) in mixed_answers.iter().zip(&carts) {
        match outcome.0 {
            201 => {
                for &(product, quantity) in cart {
                    *won_units.entry(product).or_default() += quantity;
                    *won_orders.entry(product).or_default() += 1;
                }
            }
            409 => assert_eq!(outcome.1, "insufficient-stock", "cart {i}"),
            _ => panic!("cart {i} got {outcome:?}"),
        }
    }
    for product in &mixed {
        let won = won_units.get(product).copied().unwrap_or_default();
        for api in &apis {
            let stock = api.stock(*product).await;
            assert_eq!(stock.reserved, won, "reserved is the sum of the winning lines");
            assert!(stock.reserved <= stock.on_hand);
            assert_eq!(stock.version, 1 + won_orders.get(product).copied().unwrap_or_default());
        }
    }

    // Act: pay every other hot order and cancel every fifth, each on another process than the
    // one that took it.
    let mut settled = JoinSet::new();
    for (n, (i, _, order)) in hot_answers.iter().filter(|(_, _, o)| o.is_some()).enumerate() {
        let (api, order) = (apis[(i + 1) % PROCESSES].clone(), order.expect("an order"));
        settled.spawn(async move {
            if n % 2 == 0 {
                (true, api.pay(order).await.status.as_u16())
            } else if n % 5 == 1 {
                (false, api.cancel(order).await.status.as_u16())
            } else {
                (false, 0)
            }
        });
    }
    let settled = settled.join_all().await;
    assert!(settled.iter().all(|&(_, status)| status == 200 || status == 0), "{settled:?}");
    let paid = settled.iter().filter(|&&(pay, s)| pay && s == 200).count() as i64;
    let cancelled = settled.iter().filter(|&&(pay, s)| !pay && s == 200).count() as i64;

    // Assert: every process sees the same, exact stock.
    for api in &apis {
        let stock = api.stock(hot).await;
        assert_eq!(
            (stock.on_hand, stock.reserved, stock.version),
            (HOT_UNITS - paid, HOT_UNITS - paid - cancelled, 1 + HOT_UNITS + paid + cancelled),
            "after {paid} payments and {cancelled} cancellations"
        );
        let report = api.reconciliation().await;
        assert!(report.drift.is_empty(), "no drift: {:?}", report.drift);
    }
}
