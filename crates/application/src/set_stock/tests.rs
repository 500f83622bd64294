//! Set stock against mocked ports.

use domain::MovementKind;

use domain::access::Actor;

use super::*;
use crate::test_support::{Mocks, count, pid, stock};

fn command(expected_version: i64, on_hand: i64) -> SetStockCommand {
    SetStockCommand {
        product_id: pid(1),
        location_id: None,
        expected_version: Some(Version::new(expected_version).expect("version")),
        on_hand: Some(count(on_hand)),
        safety_stock: None,
        reason: Some("shelf count".into()),
        actor: Actor::Admin,
    }
}

#[tokio::test]
async fn a_count_over_the_current_version_is_written_as_a_set_movement() {
    let mut mocks = Mocks::new();
    mocks.stock.expect_get_many().returning(|_| Ok(vec![stock(1, 10, 2, 4)]));
    mocks
        .stock
        .expect_save_many()
        .withf(|c| {
            let c = &c[0].stock()[0];
            c.kind() == MovementKind::Set
                && c.expected_version().get() == 4
                && c.on_hand_delta() == -3
        })
        .times(1)
        .returning(|c| Ok(vec![c[0].stock()[0].after()]));

    let after = SetStock::new(mocks.into_ports()).execute(command(4, 7)).await.expect("set");

    assert_eq!((after.on_hand(), after.version().get()), (count(7), 5));
}

#[tokio::test]
async fn a_stale_version_is_refused_with_the_current_stock() {
    let mut mocks = Mocks::new();
    mocks.stock.expect_get_many().returning(|_| Ok(vec![stock(1, 10, 2, 5)]));
    mocks.stock.expect_save_many().times(0);

    let err = SetStock::new(mocks.into_ports()).execute(command(4, 7)).await.expect_err("stale");

    assert!(
        matches!(err, SetStockError::VersionMismatch { current } if current == stock(1, 10, 2, 5))
    );
}

#[tokio::test]
async fn a_count_below_reserved_is_refused() {
    let mut mocks = Mocks::new();
    mocks.stock.expect_get_many().returning(|_| Ok(vec![stock(1, 10, 6, 4)]));
    mocks.stock.expect_save_many().times(0);

    let err = SetStock::new(mocks.into_ports()).execute(command(4, 5)).await.expect_err("below");

    assert!(matches!(err, SetStockError::BelowReserved { reserved, .. } if reserved == count(6)));
}

#[tokio::test]
async fn losing_the_write_race_reports_the_winner_state() {
    let mut mocks = Mocks::new();
    let mut reads = 0;
    mocks.stock.expect_get_many().times(2).returning(move |_| {
        reads += 1;
        Ok(vec![if reads == 1 { stock(1, 10, 0, 4) } else { stock(1, 12, 0, 5) }])
    });
    mocks
        .stock
        .expect_save_many()
        .returning(|c| Err(StoreError::StockConflict(c[0].stock()[0].product_id())));

    let err = SetStock::new(mocks.into_ports()).execute(command(4, 7)).await.expect_err("lost");

    assert!(
        matches!(err, SetStockError::VersionMismatch { current } if current.version().get() == 5)
    );
}

#[tokio::test]
async fn any_version_counts_over_a_concurrent_write_instead_of_refusing() {
    // `If-Match: *`: the first write loses a race, the second goes over the fresh version.
    let mut mocks = Mocks::new();
    let mut reads = 0;
    mocks.stock.expect_get_many().times(2).returning(move |_| {
        reads += 1;
        Ok(vec![stock(1, 10, 2, 3 + reads)])
    });
    let mut writes = 0;
    mocks.stock.expect_save_many().times(2).returning(move |c| {
        writes += 1;
        if writes == 1 {
            Err(StoreError::StockConflict(pid(1)))
        } else {
            Ok(vec![c[0].stock()[0].after()])
        }
    });
    let any = SetStockCommand { expected_version: None, ..command(1, 7) };

    let after = SetStock::new(mocks.into_ports()).execute(any).await.expect("set");

    assert_eq!((after.on_hand(), after.version().get()), (count(7), 6));
}

#[tokio::test]
async fn a_product_kept_at_several_locations_needs_the_location_counted() {
    let mut mocks = Mocks::new();
    let elsewhere = domain::LocationId::new(uuid::Uuid::from_u128(50)).expect("id");
    mocks.stock.expect_get_many().returning(move |_| {
        Ok(vec![stock(1, 10, 2, 4), ProductStock::new_at(pid(1), elsewhere, count(3))])
    });
    mocks.stock.expect_save_many().times(0);

    let err = SetStock::new(mocks.into_ports()).execute(command(4, 7)).await.expect_err("which?");

    assert!(matches!(err, SetStockError::LocationRequired(id) if id == pid(1)));
}

#[tokio::test]
async fn a_count_and_a_safety_stock_are_one_commit_of_the_named_location() {
    let mut mocks = Mocks::new();
    mocks.stock.expect_get().returning(|_, _| Ok(Some(stock(1, 10, 2, 4))));
    mocks
        .stock
        .expect_save_many()
        .withf(|c| {
            let kinds: Vec<_> = c[0].stock().iter().map(|s| s.kind()).collect();
            kinds == [MovementKind::Set, MovementKind::SafetyStock]
        })
        .times(1)
        .returning(|c| Ok(vec![c[0].stock()[1].after()]));
    let both = SetStockCommand {
        location_id: Some(domain::LocationId::DEFAULT),
        safety_stock: Some(count(3)),
        ..command(4, 12)
    };

    let after = SetStock::new(mocks.into_ports()).execute(both).await.expect("set");

    assert_eq!(
        (after.on_hand(), after.safety_stock(), after.available()),
        (count(12), count(3), count(7))
    );
    assert_eq!(after.version().get(), 6, "two steps");
}

#[tokio::test]
async fn a_command_that_changes_nothing_answers_the_row_and_opens_none() {
    let mut mocks = Mocks::new();
    let elsewhere = domain::LocationId::new(uuid::Uuid::from_u128(51)).expect("id");
    mocks.stock.expect_get().returning(move |_, location| {
        Ok((location == domain::LocationId::DEFAULT).then(|| stock(1, 10, 2, 4)))
    });
    mocks.stock.expect_get_many().returning(|_| Ok(vec![stock(1, 10, 2, 4)]));
    mocks.stock.expect_open().times(0);
    mocks.stock.expect_save_many().times(0);
    let use_case = SetStock::new(mocks.into_ports());
    let nothing = |location, version| SetStockCommand {
        location_id: Some(location),
        on_hand: None,
        ..command(version, 0)
    };

    let same = use_case.execute(nothing(domain::LocationId::DEFAULT, 4)).await.expect("as it is");
    let stale = use_case.execute(nothing(domain::LocationId::DEFAULT, 3)).await.expect_err("old");
    let missing = use_case.execute(nothing(elsewhere, 4)).await.expect_err("no row there");

    assert_eq!(same, stock(1, 10, 2, 4));
    assert!(matches!(stale, SetStockError::VersionMismatch { .. }));
    assert!(matches!(missing, SetStockError::StockNotFound(_, at) if at == elsewhere));
}
