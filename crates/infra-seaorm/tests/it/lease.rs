//! Named leases: of several processes asking at once exactly one holds the lease; the holder
//! renews it; another takes it over only once it lapsed.

use std::sync::Arc;

use chrono::TimeDelta;
use domain::ports::Lease;
use infra_seaorm::SeaOrmLease;
use tokio::task::JoinSet;

use crate::fixtures::t0;
use crate::support::{TestDb, on_every_backend};

on_every_backend!(
    of_holders_asking_at_once_exactly_one_gets_the_lease,
    the_holder_renews_and_nobody_else_takes_it_meanwhile,
    another_holder_takes_over_once_the_lease_lapsed,
    a_released_lease_is_taken_over_at_once_and_only_its_holder_releases_it,
);

fn seconds(n: i64) -> TimeDelta {
    TimeDelta::seconds(n)
}

async fn of_holders_asking_at_once_exactly_one_gets_the_lease(db: &TestDb) {
    // The first round races on creating the row; the second, a minute later (the lease has
    // lapsed), on taking it over.
    let lease = Arc::new(db.adapters.lease.clone());
    for (name, now) in [("fresh", t0()), ("fresh", t0() + seconds(60))] {
        let mut askers = JoinSet::new();
        for holder in 0..8 {
            let lease = Arc::clone(&lease);
            askers.spawn(async move {
                let holder = format!("process-{holder}");
                lease.try_acquire(name, &holder, now + seconds(10), now).await.expect("asked")
            });
        }
        let winners = askers.join_all().await.into_iter().filter(|&won| won).count();
        assert_eq!(winners, 1, "exactly one holder at {now}");
    }
}

async fn the_holder_renews_and_nobody_else_takes_it_meanwhile(db: &TestDb) {
    let lease: &SeaOrmLease = &db.adapters.lease;
    assert!(lease.try_acquire("sweeper", "a", t0() + seconds(10), t0()).await.expect("asked"));

    let renewed = lease.try_acquire("sweeper", "a", t0() + seconds(18), t0() + seconds(8)).await;
    // Past the first term, but within the renewed one.
    let taken = lease.try_acquire("sweeper", "b", t0() + seconds(22), t0() + seconds(12)).await;
    let again = lease.try_acquire("sweeper", "a", t0() + seconds(22), t0() + seconds(12)).await;

    assert!(renewed.expect("asked"), "the holder renews");
    assert!(!taken.expect("asked"), "the renewed lease has not lapsed");
    assert!(again.expect("asked"), "and is still the holder's");
    let other = lease.try_acquire("other", "b", t0() + seconds(22), t0() + seconds(12)).await;
    assert!(other.expect("asked"), "leases are independent by name");
}

async fn another_holder_takes_over_once_the_lease_lapsed(db: &TestDb) {
    let lease: &SeaOrmLease = &db.adapters.lease;
    assert!(lease.try_acquire("sweeper", "a", t0() + seconds(10), t0()).await.expect("asked"));

    let before = lease.try_acquire("sweeper", "b", t0() + seconds(19), t0() + seconds(9)).await;
    let after = lease.try_acquire("sweeper", "b", t0() + seconds(21), t0() + seconds(11)).await;
    let old_holder =
        lease.try_acquire("sweeper", "a", t0() + seconds(22), t0() + seconds(12)).await;

    assert!(!before.expect("asked"), "not before it lapsed");
    assert!(after.expect("asked"), "taken over once lapsed");
    assert!(!old_holder.expect("asked"), "the old holder lost it");
}

async fn a_released_lease_is_taken_over_at_once_and_only_its_holder_releases_it(db: &TestDb) {
    let lease: &SeaOrmLease = &db.adapters.lease;
    assert!(lease.try_acquire("sweeper", "a", t0() + seconds(10), t0()).await.expect("asked"));

    lease.release("sweeper", "b", t0() + seconds(1)).await.expect("not b's to release");
    let still_held = lease.try_acquire("sweeper", "b", t0() + seconds(12), t0() + seconds(2)).await;
    lease.release("sweeper", "a", t0() + seconds(3)).await.expect("released");
    let taken = lease.try_acquire("sweeper", "b", t0() + seconds(14), t0() + seconds(4)).await;

    assert!(!still_held.expect("asked"), "a release by another holder changes nothing");
    assert!(taken.expect("asked"), "taken at once, long before the first term ended");
}
