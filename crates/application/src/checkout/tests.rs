//! Checkout against mocked ports.

use domain::access::Actor;
use domain::ports::StoreError;
use domain::{MovementKind, OrderStatus};

use super::*;
use crate::test_support::{
    Mocks, count, eur, line, pid, q, recording, sleeping_clock, stock, unlimited,
};
use crate::{CartLine, RetryPolicy};

fn command(lines: Vec<CartLine>) -> CheckoutCommand {
    CheckoutCommand {
        lines,
        customer_id: None,
        location_ids: Vec::new(),
        asserts_customer: false,
        actor: Actor::Anonymous,
        idempotency: None,
        deadline: None,
    }
}

fn checkout(mocks: Mocks, max_attempts: u32) -> Checkout {
    let retry = RetryPolicy { max_attempts, ..RetryPolicy::default() };
    Checkout::new(mocks.into_ports(), CheckoutConfig { retry, ..CheckoutConfig::default() })
}

#[tokio::test]
async fn a_cart_in_stock_is_reserved_and_its_order_created_in_one_commit() {
    let mut mocks = Mocks::new();
    mocks
        .stock
        .expect_get_many_for_sale()
        .times(1)
        .returning(|_| Ok(unlimited(vec![stock(1, 10, 0, 1), stock(2, 3, 1, 7)])));
    let commits = recording(&mut mocks.unit_of_work);

    let done = checkout(mocks, 3)
        .execute(command(vec![line(2, 2), line(1, 1)]))
        .await
        .expect("checked out");

    assert_eq!(done.attempts, 1);
    let record = done.order.record();
    assert_eq!(record.status, OrderStatus::Reserved);
    assert_eq!(record.total, eur(100 + 2 * 200));
    let commits = commits.lock().expect("lock");
    let [changeset] = commits.as_slice() else { panic!("one commit, got {}", commits.len()) };
    let reserved: Vec<_> = changeset
        .stock()
        .iter()
        .map(|c| (c.product_id(), c.kind(), c.reserved_delta(), c.expected_version().get()))
        .collect();
    assert_eq!(
        reserved,
        vec![(pid(1), MovementKind::Reserve, 1, 1), (pid(2), MovementKind::Reserve, 2, 7)]
    );
    assert_eq!(changeset.order_id(), Some(done.order.id()));
}

#[tokio::test]
async fn duplicate_lines_are_summed_into_one_reservation_and_one_order_line() {
    let mut mocks = Mocks::new();
    mocks
        .stock
        .expect_get_many_for_sale()
        .withf(|ids| ids == [pid(1)])
        .returning(|_| Ok(unlimited(vec![stock(1, 10, 0, 1)])));
    let commits = recording(&mut mocks.unit_of_work);

    let done = checkout(mocks, 3)
        .execute(command(vec![line(1, 2), line(1, 3)]))
        .await
        .expect("checked out");

    assert_eq!(done.order.lines().len(), 1);
    assert_eq!(done.order.lines()[0].quantity, q(5));
    assert_eq!(commits.lock().expect("lock")[0].stock()[0].reserved_delta(), 5);
}

#[tokio::test]
async fn insufficient_stock_lists_every_short_product_and_never_commits() {
    let mut mocks = Mocks::new();
    mocks.stock.expect_get_many_for_sale().returning(|_| {
        Ok(unlimited(vec![stock(1, 1, 0, 1), stock(2, 5, 5, 2), stock(3, 9, 0, 1)]))
    });
    mocks.unit_of_work.expect_commit_all().times(0);

    let lines = vec![line(1, 2), line(2, 1), line(3, 1)];
    let err = checkout(mocks, 3).execute(command(lines)).await.expect_err("short");

    let CheckoutError::InsufficientStock(shortages) = err else { panic!("{err:?}") };
    let found: Vec<_> =
        shortages.iter().map(|s| (s.product_id, s.requested, s.available)).collect();
    assert_eq!(found, vec![(pid(1), q(2), count(1)), (pid(2), q(1), count(0))]);
}

#[tokio::test]
async fn products_not_for_sale_are_their_own_error_and_nothing_is_committed() {
    let mut mocks = Mocks::new();
    mocks.stock.expect_get_many_for_sale().returning(|_| Ok(unlimited(vec![stock(1, 10, 0, 1)])));
    mocks.unit_of_work.expect_commit_all().times(0);

    let err = checkout(mocks, 3)
        .execute(command(vec![line(9, 1), line(1, 1), line(8, 1)]))
        .await
        .expect_err("unknown");

    assert!(
        matches!(&err, CheckoutError::UnknownProducts(ids) if *ids == [pid(8), pid(9)]),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_order_is_priced_by_the_read_it_is_committed_on() {
    let mut mocks = Mocks::new();
    mocks.clock = sleeping_clock(1);
    let mut reads = 0;
    mocks.stock.expect_get_many_for_sale().times(2).returning(move |_| {
        reads += 1;
        let mut rows = unlimited(vec![stock(1, 10, 0, reads)]);
        // The price changed between the two reads.
        rows[0].price = eur(100 * reads);
        Ok(rows)
    });
    let mut commits = 0;
    mocks.unit_of_work.expect_commit_all().times(2).returning(move |batch| {
        commits += 1;
        match commits {
            1 => Err(StoreError::StockConflict(batch[0].stock()[0].product_id())),
            _ => Ok(()),
        }
    });

    let done = checkout(mocks, 3).execute(command(vec![line(1, 3)])).await.expect("second try");

    assert_eq!(done.order.record().total, eur(3 * 200));
    assert_eq!(done.order.lines()[0].unit_price, eur(200));
}

#[tokio::test]
async fn an_empty_cart_is_invalid_before_any_port_is_called() {
    let err = checkout(Mocks::new(), 3).execute(command(vec![])).await.expect_err("empty");
    assert!(matches!(err, CheckoutError::InvalidCart(domain::CartError::Empty)));
}

#[tokio::test]
async fn a_version_conflict_reloads_and_retries_until_it_wins() {
    let mut mocks = Mocks::new();
    mocks.clock = sleeping_clock(1);
    let mut reads = 0;
    mocks.stock.expect_get_many_for_sale().times(2).returning(move |_| {
        reads += 1;
        Ok(unlimited(vec![stock(1, 10, reads, reads)]))
    });
    let mut commits = 0;
    mocks.unit_of_work.expect_commit_all().times(2).returning(move |batch| {
        commits += 1;
        let c = &batch[0];
        match commits {
            1 => Err(StoreError::StockConflict(c.stock()[0].product_id())),
            _ => {
                assert_eq!(c.stock()[0].expected_version().get(), 2, "written over the fresh read");
                Ok(())
            }
        }
    });

    let done =
        checkout(mocks, 3).execute(command(vec![line(1, 1)])).await.expect("second try wins");

    assert_eq!(done.attempts, 2);
}

#[tokio::test]
async fn conflicts_on_every_attempt_give_contended() {
    let mut mocks = Mocks::new();
    mocks.clock = sleeping_clock(2);
    mocks
        .stock
        .expect_get_many_for_sale()
        .times(3)
        .returning(|_| Ok(unlimited(vec![stock(1, 10, 0, 1)])));
    mocks
        .unit_of_work
        .expect_commit_all()
        .times(3)
        .returning(|_| Err(StoreError::TransactionConflict("deadlock detected".into())));

    let err = checkout(mocks, 3).execute(command(vec![line(1, 1)])).await.expect_err("contended");

    assert!(matches!(err, CheckoutError::Contended { attempts: 3 }));
}

#[tokio::test]
async fn an_unavailable_store_is_not_retried() {
    let mut mocks = Mocks::new();
    mocks
        .stock
        .expect_get_many_for_sale()
        .times(1)
        .returning(|_| Ok(unlimited(vec![stock(1, 10, 0, 1)])));
    mocks
        .unit_of_work
        .expect_commit_all()
        .times(1)
        .returning(|_| Err(StoreError::unavailable("connection refused")));

    let err = checkout(mocks, 5).execute(command(vec![line(1, 1)])).await.expect_err("down");

    assert!(matches!(err, CheckoutError::Unavailable(_)));
}

/// Mocks that know product 1 (no limits) and product 2, at most 3 per order and 2 per
/// customer, both with plenty of stock.
fn limited_catalogue() -> Mocks {
    use domain::limits::{PurchaseLimit, PurchaseLimits};
    let mut mocks = Mocks::new();
    mocks.stock.expect_get_many_for_sale().returning(|_| {
        let limited = PurchaseLimits {
            per_order: Some(PurchaseLimit::new(3).expect("limit")),
            per_customer: Some(PurchaseLimit::new(2).expect("limit")),
        };
        let mut rows = unlimited(vec![stock(1, 100, 0, 1), stock(2, 100, 0, 1)]);
        rows[1].limits = limited;
        Ok(rows)
    });
    mocks
}

fn asserted(lines: Vec<CartLine>, customer: &str) -> CheckoutCommand {
    CheckoutCommand {
        customer_id: Some(customer.parse().expect("customer")),
        asserts_customer: true,
        ..command(lines)
    }
}

#[tokio::test]
async fn a_line_over_the_per_order_limit_is_refused_and_nothing_reserved() {
    let mut mocks = limited_catalogue();
    mocks.unit_of_work.expect_commit_all().times(0);
    let err = checkout(mocks, 3).execute(command(vec![line(2, 4)])).await.expect_err("refused");
    let CheckoutError::LimitExceeded(limits) = err else { panic!("{err:?}") };
    assert_eq!((limits[0].limit.get(), limits[0].already, limits[0].requested), (3, 0, 4));
}

#[tokio::test]
async fn a_per_customer_limit_needs_a_customer_the_caller_asserts() {
    let anonymous = command(vec![line(2, 1)]);
    let err = checkout(limited_catalogue(), 3).execute(anonymous).await.expect_err("refused");
    assert!(matches!(err, CheckoutError::CustomerNotAsserted { may_assert: false, .. }), "{err:?}");

    let unnamed = CheckoutCommand { asserts_customer: true, ..command(vec![line(2, 1)]) };
    let err = checkout(limited_catalogue(), 3).execute(unnamed).await.expect_err("refused");
    assert!(matches!(err, CheckoutError::CustomerNotAsserted { may_assert: true, .. }), "{err:?}");

    let labelled = CheckoutCommand {
        customer_id: Some("alice".parse().expect("customer")),
        ..command(vec![line(2, 1)])
    };
    let err = checkout(limited_catalogue(), 3).execute(labelled).await.expect_err("refused");
    assert!(matches!(err, CheckoutError::CustomerNotAsserted { may_assert: false, .. }), "{err:?}");
}

#[tokio::test]
async fn what_the_customer_already_holds_counts_against_the_limit() {
    use domain::limits::PurchaseKey;
    let mut mocks = limited_catalogue();
    mocks
        .purchases
        .expect_get_many()
        .returning(|keys| Ok(keys.iter().map(|k: &PurchaseKey| (k.clone(), 1)).collect()));
    let commits = recording(&mut mocks.unit_of_work);
    let use_case = checkout(mocks, 3);

    let err = use_case.execute(asserted(vec![line(2, 2)], "alice")).await.expect_err("over");
    let CheckoutError::LimitExceeded(limits) = err else { panic!("{err:?}") };
    assert_eq!((limits[0].limit.get(), limits[0].already, limits[0].requested), (2, 1, 2));
    assert!(commits.lock().expect("lock").is_empty(), "nothing reserved");

    let done = use_case.execute(asserted(vec![line(2, 1), line(1, 5)], "alice")).await;
    let order = done.expect("within the limit").order;
    assert!(order.record().customer.as_ref().is_some_and(|c| c.asserted));
    let commits = commits.lock().expect("lock");
    let purchases: Vec<_> = commits[0]
        .purchases()
        .into_iter()
        .map(|d| (d.key.product_id, d.units, d.limit.map(|l| l.get())))
        .collect();
    assert_eq!(purchases, vec![(pid(1), 5, None), (pid(2), 1, Some(2))]);
}

fn lid(n: u128) -> domain::LocationId {
    domain::LocationId::new(uuid::Uuid::from_u128(300 + n)).expect("id")
}

/// Product 1 at location 1 (priority 0, 2 units), location 2 (priority 5, 10 units) and
/// location 3 (priority 1, 4 units, 1 kept back as safety stock).
fn three_shelves(mocks: &mut Mocks) {
    use domain::ports::StockForSale;
    mocks.stock.expect_get_many_for_sale().returning(|_| {
        let row = |n, on_hand, priority| {
            let stock = domain::ProductStock::new_at(pid(1), lid(n), count(on_hand));
            let (limits, backorder_limit) = (Default::default(), None);
            StockForSale { stock, priority, price: eur(100), limits, backorder_limit }
        };
        let mut kept = row(3, 4, 1);
        let _ = kept.stock.set_safety_stock(count(1));
        Ok(vec![row(1, 2, 0), row(2, 10, 5), kept])
    });
}

#[tokio::test]
async fn a_line_one_location_cannot_serve_is_split_by_priority_keeping_safety_stock() {
    let mut mocks = Mocks::new();
    three_shelves(&mut mocks);
    let commits = recording(&mut mocks.unit_of_work);

    let done = checkout(mocks, 3).execute(command(vec![line(1, 7)])).await.expect("14 for sale");

    let held: Vec<_> = done.order.lines()[0]
        .allocations
        .iter()
        .map(|a| (a.location_id, a.quantity.get()))
        .collect();
    assert_eq!(held, [(lid(1), 2), (lid(2), 2), (lid(3), 3)], "in location order");
    let commits = commits.lock().expect("lock");
    let rows: Vec<_> =
        commits[0].stock().iter().map(|c| (c.location_id(), c.reserved_delta())).collect();
    assert_eq!(rows, [(lid(1), 2), (lid(2), 2), (lid(3), 3)], "in (product, location) order");
    assert!(
        matches!(commits[0].order(), Some(domain::order::OrderChange::Created(o)) if *o == done.order)
    );
}

#[tokio::test]
async fn a_preference_list_limits_the_locations_and_a_shortage_counts_all_of_them() {
    let mut mocks = Mocks::new();
    three_shelves(&mut mocks);
    let known = |ids: &[u128]| {
        ids.iter()
            .map(|n| {
                let code = domain::LocationCode::new(&format!("l{n}")).expect("code");
                domain::Location::new(lid(*n), code, "L", 0).expect("location")
            })
            .collect::<Vec<_>>()
    };
    mocks.locations.expect_list().returning(move || Ok(known(&[1, 2, 3])));
    mocks.unit_of_work.expect_commit_all().times(0);
    let use_case = checkout(mocks, 3);
    let only = |ids: Vec<domain::LocationId>, n| CheckoutCommand {
        location_ids: ids,
        ..command(vec![line(1, n)])
    };

    let short = use_case.execute(only(vec![lid(3), lid(1)], 6)).await.expect_err("3 + 2 for sale");
    let unknown = use_case.execute(only(vec![lid(1), lid(9)], 1)).await.expect_err("no location 9");

    let CheckoutError::InsufficientStock(shortages) = short else { panic!("{short:?}") };
    assert_eq!((shortages[0].requested.get(), shortages[0].available.get()), (6, 5));
    assert!(matches!(unknown, CheckoutError::UnknownLocations(ids) if ids == [lid(9)]));
}
