//! Retention, end to end on moto: the daily purge the scheduler function runs
//! (`functions/scheduler`, task `purge`) deletes a household whose 180 days after an
//! unfollow have ended, to the day, and keeps one that followed again. The clock is shifted
//! as a deployed stack's would move, day by day.

use chrono::Days;
use kizuna_app::clock::Clock;
use kizuna_app::model::RETENTION_DAYS_AFTER_UNFOLLOW;
use kizuna_app::ports::HouseholdStore;
use kizuna_aws::compose;
use kizuna_core::LineUserId;
use kizuna_tests::stack::{stack_on, table_snapshot, user, Parent};

use kizuna_core::testing::date;

#[tokio::test]
async fn the_daily_purge_deletes_households_past_retention_and_keeps_those_who_came_back() {
    let unfollowed = date(2027, 1, 10);
    let stack = stack_on(unfollowed).await;
    let town = "kizuna-town";
    let leaving = Parent::new(&stack, town, user(1));
    let returning = Parent::new(&stack, town, user(2));
    let staying = Parent::new(&stack, town, user(3));
    for parent in [&leaving, &returning, &staying] {
        parent.register("2027/6/1").await;
    }
    leaving.unfollow().await;
    returning.unfollow().await;

    let purge = compose::retention_purge(&stack.config, &stack.clients);
    let households = compose::households(&stack.config, &stack.clients);
    let town_id = leaving.town.clone();
    let stored = |u: &str| {
        let households = households.clone();
        let town_id = town_id.clone();
        let u = LineUserId::parse(u).unwrap();
        async move { households.get(&town_id, &u).await.unwrap() }
    };

    // The day before the retention ends: nothing is deleted.
    let last_kept = unfollowed
        .checked_add_days(Days::new(RETENTION_DAYS_AFTER_UNFOLLOW - 1))
        .unwrap();
    stack.set_japan_time(last_kept, 3, 30);
    let report = purge.run(stack.clock.now()).await.unwrap();
    assert_eq!(report.deleted, 0, "kept until the 180th day");
    assert!(stored(&leaving.user).await.is_some());

    // The returning parent follows again before the limit.
    returning.follow().await;

    // The day the retention ends: the one still unfollowed is gone, the others are kept.
    let ends = last_kept.succ_opt().unwrap();
    stack.set_japan_time(ends, 3, 30);
    let report = purge.run(stack.clock.now()).await.unwrap();
    assert_eq!(report.deleted, 1);
    assert!(report.failed.is_empty());
    assert!(
        stored(&leaving.user).await.is_none(),
        "past retention: deleted"
    );
    assert!(
        stored(&returning.user).await.is_some(),
        "followed again: kept"
    );
    assert!(stored(&staying.user).await.is_some(), "never left: kept");
    for table in [
        &stack.config.tables.households,
        &stack.config.tables.deliveries,
        &stack.config.tables.events,
    ] {
        let items = table_snapshot(&stack, table).await;
        assert!(
            items.iter().all(|item| !item.contains(&leaving.user)),
            "{table} still holds the purged parent's id"
        );
    }

    // Running the purge again (a retried schedule) deletes nothing more.
    let again = purge.run(stack.clock.now()).await.unwrap();
    assert_eq!(again.deleted, 0);
}
