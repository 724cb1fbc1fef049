//! Which send jobs are due in a scheduler slot, including catch-up of unfinished runs.
//!
//! The scheduler runs hourly (EventBridge Scheduler, Asia/Tokyo). For the slot's Japan date and
//! hour it enqueues:
//! * every shard of every enabled municipality whose delivery hour is this hour;
//! * **catch-up**: every shard of an earlier-hour municipality whose run for today is not
//!   completed, as long as the slot is at most [`CATCH_UP_HOURS`] after the delivery hour and
//!   not later than [`LAST_SEND_HOUR`].
//!
//! Past that cap an unfinished run is *reported* (metric + log, see [`SlotPlan::late`]), never
//! sent blindly: a morning message arriving at night helps nobody, and LINE's retry key, which
//! is what makes a resend safe, is only honoured for 24 hours. The cap keeps every resend
//! within 15 hours of the first attempt.
//!
//! The **sending window** ([`SENDING_HOURS`]) is defined here once and used by the scheduler
//! (what it enqueues), the sender ([`may_send_now`]: what it refuses) and
//! `Municipality::validate` (which delivery hours a town may choose), so a town can never be
//! configured for an hour whose jobs the sender would refuse.

use crate::model::{Municipality, RunKey, RunRecord, RunStatus, SendJob};
use chrono::{DateTime, NaiveDate, Timelike, Utc};
use kizuna_core::calendar::JAPAN;
use std::collections::HashMap;
use std::ops::RangeInclusive;

/// Hours after the delivery hour during which unfinished runs are retried automatically.
pub const CATCH_UP_HOURS: u8 = 8;
/// The first hour (Japan time) a push may start: a delivery date begins at midnight, and the
/// sender sends only on the delivery date itself. (Hours before 6:00 are allowed but warned
/// about by `kizuna municipality add`: they may wake parents.)
pub const FIRST_SEND_HOUR: u8 = 0;
/// No push is started after this hour (Japan time), i.e. none from 22:00: parents are not
/// woken by a late message.
pub const LAST_SEND_HOUR: u8 = 21;
/// The hours (Japan time) in which pushes are started, and so the delivery hours a
/// municipality may choose: a job of any other hour would be enqueued and refused.
pub const SENDING_HOURS: RangeInclusive<u8> = FIRST_SEND_HOUR..=LAST_SEND_HOUR;

/// Whether a push may be started in `hour` (0–23, Japan time).
pub fn is_sending_hour(hour: u8) -> bool {
    SENDING_HOURS.contains(&hour)
}

/// The Japan date and hour a scheduler invocation stands for, from its *scheduled* time
/// (not the wall clock: a delayed or retried invocation still serves its own slot).
pub fn slot_of(scheduled_time: DateTime<Utc>) -> (NaiveDate, u8) {
    let local = scheduled_time.with_timezone(&JAPAN);
    (local.date_naive(), local.hour() as u8)
}

/// What one slot should do.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SlotPlan {
    pub jobs: Vec<SendJob>,
    /// Runs of `date` that are unfinished and past the catch-up window: to be reported.
    pub late: Vec<RunKey>,
}

/// Plans the slot `(date, hour)` for `municipalities`, given today's run records.
pub fn plan_slot(
    municipalities: &[Municipality],
    date: NaiveDate,
    hour: u8,
    runs_today: &[RunRecord],
) -> SlotPlan {
    let status: HashMap<(&str, u16), RunStatus> = runs_today
        .iter()
        .filter(|r| r.key.date == date)
        .map(|r| ((r.key.municipality.as_str(), r.key.shard), r.status))
        .collect();
    let mut plan = SlotPlan::default();
    for m in municipalities.iter().filter(|m| m.enabled) {
        if hour < m.delivery_hour {
            continue;
        }
        let lateness = hour - m.delivery_hour;
        let last_catch_up = (m.delivery_hour + CATCH_UP_HOURS).min(LAST_SEND_HOUR);
        for shard in m.shards() {
            let done = status.get(&(m.id.as_str(), shard.index)) == Some(&RunStatus::Completed);
            let job = SendJob {
                municipality: m.id.clone(),
                date,
                shard,
                attempt: u32::from(lateness),
            };
            if done {
                // Finished already (e.g. EventBridge retried this slot's invocation).
                continue;
            } else if is_sending_hour(hour) && (lateness == 0 || hour <= last_catch_up) {
                plan.jobs.push(job);
            } else if hour == (last_catch_up + 1).max(m.delivery_hour) {
                // Reported once, in the first slot past the window. A delivery hour outside
                // the sending window (a record written before `validate` refused it) is
                // reported at that hour instead of being enqueued for the sender to refuse.
                plan.late.push(RunKey {
                    municipality: m.id.clone(),
                    date,
                    shard: shard.index,
                });
            }
        }
    }
    plan
}

/// Whether a sender may still push for `date` at `now`: only on that Japan date, and not after
/// [`LAST_SEND_HOUR`]. A job redelivered later than that is recorded, not sent.
pub fn may_send_now(date: NaiveDate, now: DateTime<Utc>) -> bool {
    let local = now.with_timezone(&JAPAN);
    local.date_naive() == date && is_sending_hour(local.hour() as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use kizuna_core::MunicipalityId;

    fn muni(id: &str, hour: u8, shards: u16) -> Municipality {
        let mut m = Municipality::new(MunicipalityId::parse(id).unwrap(), "テスト町", hour);
        m.send_shards = shards;
        m
    }

    fn run(id: &str, date: NaiveDate, shard: u16, status: RunStatus) -> RunRecord {
        RunRecord {
            notices: Default::default(),
            key: RunKey {
                municipality: MunicipalityId::parse(id).unwrap(),
                date,
                shard,
            },
            status,
            counts: Default::default(),
            note: None,
            updated_at: Utc::now(),
        }
    }

    use kizuna_core::testing::date as d;

    #[test]
    fn slot_comes_from_the_scheduled_time_in_japan() {
        // 2027-01-01 22:00 UTC is 2027-01-02 07:00 in Japan.
        let t = Utc.with_ymd_and_hms(2027, 1, 1, 22, 0, 0).unwrap();
        assert_eq!(slot_of(t), (d(2027, 1, 2), 7));
    }

    #[test]
    fn each_municipality_is_due_at_its_own_hour() {
        let ms = [muni("a", 7, 1), muni("b", 8, 2), muni("c", 9, 1)];
        let plan = plan_slot(
            &ms,
            d(2027, 1, 2),
            8,
            &[run("a", d(2027, 1, 2), 0, RunStatus::Completed)],
        );
        let ids: Vec<_> = plan
            .jobs
            .iter()
            .map(|j| (j.municipality.as_str(), j.shard.index, j.attempt))
            .collect();
        assert_eq!(ids, vec![("b", 0, 0), ("b", 1, 0)]);
        assert!(plan.late.is_empty());
    }

    #[test]
    fn unfinished_runs_are_caught_up_then_reported() {
        let date = d(2027, 1, 2);
        let ms = [muni("a", 7, 2)];
        let runs = [
            run("a", date, 0, RunStatus::Completed),
            run("a", date, 1, RunStatus::Failed),
        ];
        let p = plan_slot(&ms, date, 9, &runs);
        assert_eq!(p.jobs.len(), 1);
        assert_eq!((p.jobs[0].shard.index, p.jobs[0].attempt), (1, 2));
        // A shard with no record at all (the scheduler itself failed at 7:00) is caught up too.
        let p = plan_slot(&ms, date, 8, &runs[..1]);
        assert_eq!(p.jobs.len(), 1);
        // 7 + 8 = 15:00 is the last catch-up; 16:00 reports, 17:00 is silent.
        assert_eq!(plan_slot(&ms, date, 15, &runs).jobs.len(), 1);
        let p = plan_slot(&ms, date, 16, &runs);
        assert!(p.jobs.is_empty());
        assert_eq!(p.late.len(), 1);
        assert!(plan_slot(&ms, date, 17, &runs).late.is_empty());
    }

    #[test]
    fn nothing_starts_after_the_last_send_hour() {
        let date = d(2027, 1, 2);
        let ms = [muni("a", 18, 1)];
        assert_eq!(plan_slot(&ms, date, 21, &[]).jobs.len(), 1);
        let p = plan_slot(&ms, date, 22, &[]);
        assert!(p.jobs.is_empty());
        assert_eq!(p.late.len(), 1);
    }

    #[test]
    fn an_hour_outside_the_sending_window_is_reported_not_enqueued() {
        // A record stored before validation refused such hours: its job would be refused by
        // the sender every day, so the scheduler reports it once, at its hour.
        let date = d(2027, 1, 2);
        for hour in [22, 23] {
            let ms = [muni("a", hour, 2)];
            let p = plan_slot(&ms, date, hour, &[]);
            assert!(p.jobs.is_empty(), "{hour}: {p:?}");
            assert_eq!(p.late.len(), 2, "{hour}");
            if hour == 22 {
                assert!(plan_slot(&ms, date, 23, &[]).late.is_empty());
            }
        }
    }

    #[test]
    fn the_scheduler_enqueues_only_what_the_sender_accepts() {
        // Every (delivery hour in the window, slot hour) the scheduler enqueues is one the
        // sender sends in: the shared window, checked both ways round.
        let date = d(2027, 1, 2);
        for delivery in SENDING_HOURS {
            for slot in 0..24u8 {
                let p = plan_slot(&[muni("a", delivery, 1)], date, slot, &[]);
                let now = JAPAN
                    .with_ymd_and_hms(2027, 1, 2, u32::from(slot), 30, 0)
                    .unwrap()
                    .with_timezone(&Utc);
                if !p.jobs.is_empty() {
                    assert!(may_send_now(date, now), "{delivery} at {slot}");
                }
                if slot == delivery {
                    assert_eq!(p.jobs.len(), 1, "{delivery} is due at its own hour");
                }
            }
        }
        assert!(!is_sending_hour(22) && is_sending_hour(21) && is_sending_hour(0));
    }

    #[test]
    fn disabled_municipalities_are_not_scheduled() {
        let mut m = muni("a", 7, 1);
        m.enabled = false;
        assert!(plan_slot(&[m], d(2027, 1, 2), 7, &[]).jobs.is_empty());
    }

    #[test]
    fn senders_refuse_stale_dates() {
        let date = d(2027, 1, 2);
        assert!(may_send_now(
            date,
            Utc.with_ymd_and_hms(2027, 1, 1, 22, 0, 0).unwrap()
        ));
        assert!(!may_send_now(
            date,
            Utc.with_ymd_and_hms(2027, 1, 2, 13, 0, 0).unwrap()
        )); // 22:00 JST
        assert!(!may_send_now(
            date,
            Utc.with_ymd_and_hms(2027, 1, 3, 0, 0, 0).unwrap()
        ));
    }
}
