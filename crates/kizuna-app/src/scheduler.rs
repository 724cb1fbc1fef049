//! The hourly scheduler: turns a scheduled slot into send jobs on the queue.

use crate::metrics;
use crate::model::{RunCounts, RunStatus, RunUpdate, SendJob};
use crate::ports::{MunicipalityDirectory, RunRecords, SendQueue, StoreError};
use crate::schedule::{plan_slot, slot_of};
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;
use tracing::{error, info};

#[derive(Clone)]
pub struct SchedulerPorts {
    pub municipalities: Arc<dyn MunicipalityDirectory>,
    pub runs: Arc<dyn RunRecords>,
    pub queue: Arc<dyn SendQueue>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotReport {
    pub date: NaiveDate,
    pub hour: u8,
    pub jobs: Vec<SendJob>,
    pub late: usize,
}

pub struct Scheduler {
    ports: SchedulerPorts,
}

impl Scheduler {
    pub fn new(ports: SchedulerPorts) -> Self {
        Self { ports }
    }

    /// Enqueues the jobs of the slot that `scheduled_time` stands for. Safe to run twice for
    /// one slot (EventBridge retries, an operator): the delivery ledger makes a duplicate job
    /// send nothing twice, and completed runs are not enqueued again.
    pub async fn run_slot(
        &self,
        scheduled_time: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<SlotReport, StoreError> {
        let (date, hour) = slot_of(scheduled_time);
        let municipalities = self.ports.municipalities.list().await?;
        let runs = self.ports.runs.list_for_date(date).await?;
        let plan = plan_slot(&municipalities, date, hour, &runs);
        self.ports.queue.enqueue(&plan.jobs).await?;
        for late in &plan.late {
            error!(
                municipality = late.municipality.as_str(),
                date = %late.date,
                shard = late.shard,
                "daily run did not complete within the catch-up window; not sent (see docs/operations.md)"
            );
            metrics::emit(
                late.municipality.as_str(),
                now,
                &[(metrics::MUNICIPALITY_RUN_LATE, 1.0)],
            );
            self.ports
                .runs
                .upsert(
                    late,
                    &RunUpdate {
                        status: RunStatus::Failed,
                        add: RunCounts::default(),
                        notices: Default::default(),
                        note: Some("late: not completed within the catch-up window".into()),
                    },
                    now,
                )
                .await?;
        }
        info!(%date, hour, jobs = plan.jobs.len(), late = plan.late.len(), "slot scheduled");
        Ok(SlotReport {
            date,
            hour,
            jobs: plan.jobs,
            late: plan.late.len(),
        })
    }
}

/// The scheduler on the in-memory stores: the behaviours the moto-based tests in `tests/`
/// check end to end (`fanout.rs`, `concurrency.rs`), here in milliseconds, plus its failure
/// paths.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::InMemoryStores;
    use crate::model::{Municipality, RunKey, Shard};
    use crate::ports::{MunicipalityDirectory, RunRecords};
    use chrono::{Duration as ChronoDuration, TimeZone};
    use kizuna_core::{MunicipalityId, JAPAN};

    fn town(id: &str, delivery_hour: u8, shards: u16) -> Municipality {
        let id = MunicipalityId::parse(id).unwrap();
        let mut m = Municipality::new(id, "テスト町", delivery_hour);
        m.send_shards = shards;
        m
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 1, 12).unwrap()
    }

    /// The scheduled time of the slot `hour`:00 Japan time on `date`.
    fn slot(date: NaiveDate, hour: u8) -> DateTime<Utc> {
        let local = date.and_hms_opt(u32::from(hour), 0, 0).unwrap();
        JAPAN
            .from_local_datetime(&local)
            .unwrap()
            .with_timezone(&Utc)
    }

    /// The stores with `towns` in the directory, and a scheduler on them.
    async fn setup(towns: &[Municipality]) -> (InMemoryStores, Scheduler) {
        let stores = InMemoryStores::new();
        for m in towns {
            stores.municipalities.put(m).await.unwrap();
        }
        let scheduler = Scheduler::new(stores.scheduler_ports());
        (stores, scheduler)
    }

    /// Runs the slot `hour` of today, as EventBridge would at that time.
    async fn run(scheduler: &Scheduler, hour: u8) -> Result<SlotReport, StoreError> {
        scheduler
            .run_slot(slot(today(), hour), slot(today(), hour))
            .await
    }

    fn key(id: &str, shard: u16) -> RunKey {
        RunKey {
            municipality: MunicipalityId::parse(id).unwrap(),
            date: today(),
            shard,
        }
    }

    /// Records the run of `id`'s `shard` today as a sender would leave it.
    async fn record_run(stores: &InMemoryStores, id: &str, shard: u16, status: RunStatus) {
        let update = RunUpdate {
            status,
            add: RunCounts {
                sent: 5,
                ..Default::default()
            },
            notices: Default::default(),
            note: None,
        };
        let at = slot(today(), 7);
        stores
            .runs
            .upsert(&key(id, shard), &update, at)
            .await
            .unwrap();
    }

    /// (town, shard index, shard count, attempt) of each job, in order.
    fn described(jobs: &[SendJob]) -> Vec<(String, u16, u16, u32)> {
        jobs.iter()
            .map(|j| {
                let m = j.municipality.as_str().to_owned();
                (m, j.shard.index, j.shard.count, j.attempt)
            })
            .collect()
    }

    #[tokio::test]
    async fn each_town_is_enqueued_at_its_own_hour_one_job_per_shard() {
        // Gets: at 8:00 only the 8 o'clock town, one first-attempt job per shard for today,
        // the same jobs in the report and on the queue, and no run record written.
        let (stores, scheduler) = setup(&[town("b-town", 8, 3), town("c-town", 9, 1)]).await;
        let report = run(&scheduler, 8).await.unwrap();
        let b = |shard| ("b-town".to_owned(), shard, 3, 0);
        assert_eq!(described(&report.jobs), [b(0), b(1), b(2)]);
        assert!(report.jobs.iter().all(|j| j.date == today()));
        assert_eq!((report.date, report.hour, report.late), (today(), 8, 0));
        assert_eq!(stores.queue.jobs(), report.jobs);
        assert!(stores.runs.all().is_empty());

        // Gets: nothing before a town's hour.
        let (stores, scheduler) = setup(&[town("c-town", 9, 1)]).await;
        assert!(run(&scheduler, 8).await.unwrap().jobs.is_empty());
        assert!(stores.queue.jobs().is_empty());
    }

    #[tokio::test]
    async fn disabled_towns_get_no_jobs() {
        // Gets: all day long, a disabled town enqueues nothing, at its hour or in catch-up,
        // and is never reported late; the enabled town of the same hour is enqueued and,
        // left unfinished, reported late once (at 16:00).
        let mut off = town("off-town", 7, 2);
        off.enabled = false;
        let (stores, scheduler) = setup(&[off, town("on-town", 7, 1)]).await;
        let mut late = 0;
        for hour in 0..=23 {
            let report = run(&scheduler, hour).await.unwrap();
            late += report.late;
            assert!(report
                .jobs
                .iter()
                .all(|j| j.municipality.as_str() == "on-town"));
        }
        assert_eq!(late, 1);
        assert!(stores
            .queue
            .jobs()
            .iter()
            .all(|j| j.municipality.as_str() == "on-town"));
        let recorded = stores.runs.all();
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0].key.municipality.as_str(), "on-town");
    }

    #[tokio::test]
    async fn an_unfinished_run_is_caught_up_in_a_later_slot_until_completed() {
        // Gets (as the moto test `an_unfinished_run_is_caught_up_in_a_later_slot`): the run
        // failed at 7:00 is enqueued again at 9:00 as attempt 2; once completed, 10:00
        // enqueues nothing.
        let (stores, scheduler) = setup(&[town("kizuna-town", 7, 1)]).await;
        let first = run(&scheduler, 7).await.unwrap();
        assert_eq!(described(&first.jobs), [("kizuna-town".into(), 0, 1, 0)]);
        record_run(&stores, "kizuna-town", 0, RunStatus::Failed).await;

        let caught_up = run(&scheduler, 9).await.unwrap();
        assert_eq!(
            described(&caught_up.jobs),
            [("kizuna-town".into(), 0, 1, 2)]
        );
        record_run(&stores, "kizuna-town", 0, RunStatus::Completed).await;

        assert!(run(&scheduler, 10).await.unwrap().jobs.is_empty());
        assert_eq!(stores.queue.take().len(), 2);
    }

    #[tokio::test]
    async fn only_the_unfinished_shards_of_a_town_are_caught_up() {
        // Gets: at 8:00, of a 7 o'clock town's three shards, the failed one and the one with
        // no record at all (its job never ran) are enqueued as attempt 1; the completed one
        // is not.
        let (stores, scheduler) = setup(&[town("big-city", 7, 3)]).await;
        record_run(&stores, "big-city", 0, RunStatus::Failed).await;
        record_run(&stores, "big-city", 1, RunStatus::Completed).await;
        let report = run(&scheduler, 8).await.unwrap();
        let job = |shard| ("big-city".to_owned(), shard, 3, 1);
        assert_eq!(described(&report.jobs), [job(0), job(2)]);
    }

    #[tokio::test]
    async fn yesterdays_completed_run_does_not_count_for_today() {
        // Gets: a run completed yesterday leaves today's job due.
        let (stores, scheduler) = setup(&[town("kizuna-town", 7, 1)]).await;
        let yesterday = RunKey {
            date: today() - ChronoDuration::days(1),
            ..key("kizuna-town", 0)
        };
        let completed = RunUpdate {
            status: RunStatus::Completed,
            add: RunCounts::default(),
            notices: Default::default(),
            note: None,
        };
        stores
            .runs
            .upsert(&yesterday, &completed, slot(today(), 0))
            .await
            .unwrap();
        assert_eq!(run(&scheduler, 7).await.unwrap().jobs.len(), 1);
    }

    #[tokio::test]
    async fn a_slot_run_twice_enqueues_its_jobs_twice_until_they_complete() {
        // Gets: two runs of one slot at once (an EventBridge retry racing the first) report
        // the same jobs and enqueue both copies, which the ledger makes harmless; a retry
        // after the runs completed enqueues nothing.
        let (stores, scheduler) = setup(&[town("kizuna-town", 7, 2)]).await;
        let (first, second) = tokio::join!(run(&scheduler, 7), run(&scheduler, 7));
        let (first, second) = (first.unwrap(), second.unwrap());
        assert_eq!(first, second);
        assert_eq!(first.jobs.len(), 2);
        assert_eq!(stores.queue.take().len(), 4);

        record_run(&stores, "kizuna-town", 0, RunStatus::Completed).await;
        record_run(&stores, "kizuna-town", 1, RunStatus::Completed).await;
        assert!(run(&scheduler, 7).await.unwrap().jobs.is_empty());
        assert!(stores.queue.jobs().is_empty());
    }

    #[tokio::test]
    async fn a_run_unfinished_past_the_catch_up_window_is_recorded_failed_once() {
        // Gets: a 7 o'clock town's unfinished shard is still enqueued at 15:00 (attempt 8),
        // then at 16:00 not enqueued but reported: its record becomes Failed with a note and
        // keeps its counts; the completed shard is left alone; 17:00 reports nothing more.
        let (stores, scheduler) = setup(&[town("kizuna-town", 7, 2)]).await;
        record_run(&stores, "kizuna-town", 0, RunStatus::Started).await;
        record_run(&stores, "kizuna-town", 1, RunStatus::Completed).await;

        let last_try = run(&scheduler, 15).await.unwrap();
        assert_eq!(described(&last_try.jobs), [("kizuna-town".into(), 0, 2, 8)]);

        let reported = run(&scheduler, 16).await.unwrap();
        assert!(reported.jobs.is_empty());
        assert_eq!(reported.late, 1);
        let late = stores
            .runs
            .get(&key("kizuna-town", 0))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(late.status, RunStatus::Failed);
        assert!(
            late.note.as_deref().is_some_and(|n| n.starts_with("late")),
            "{late:?}"
        );
        assert_eq!(late.counts.sent, 5, "the counts so far are kept");
        assert_eq!(late.updated_at, slot(today(), 16));
        let completed = stores
            .runs
            .get(&key("kizuna-town", 1))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(completed.status, RunStatus::Completed);

        let after = run(&scheduler, 17).await.unwrap();
        assert_eq!((after.jobs.len(), after.late), (0, 0));
        let unchanged = stores
            .runs
            .get(&key("kizuna-town", 0))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(unchanged, late);
    }

    #[tokio::test]
    async fn nothing_is_started_after_the_last_send_hour() {
        // Gets: an 18 o'clock town's unfinished run is caught up at 21:00 and reported at
        // 22:00 instead of being sent at night.
        let (stores, scheduler) = setup(&[town("night-town", 18, 1)]).await;
        assert_eq!(run(&scheduler, 21).await.unwrap().jobs.len(), 1);
        let at_22 = run(&scheduler, 22).await.unwrap();
        assert_eq!((at_22.jobs.len(), at_22.late), (0, 1));
        let record = stores
            .runs
            .get(&key("night-town", 0))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.status, RunStatus::Failed);
    }

    #[tokio::test]
    async fn the_slot_is_the_scheduled_times_japan_date_and_hour_not_the_clock() {
        // Gets: an invocation scheduled for 22:00 UTC (7:00 the next day in Japan) but run
        // three hours late serves the 7:00 slot of the Japan date.
        let (stores, scheduler) = setup(&[town("kizuna-town", 7, 1)]).await;
        let scheduled = Utc.with_ymd_and_hms(2027, 1, 11, 22, 0, 0).unwrap();
        let late_clock = scheduled + ChronoDuration::hours(3);
        let report = scheduler.run_slot(scheduled, late_clock).await.unwrap();
        assert_eq!((report.date, report.hour), (today(), 7));
        assert_eq!(stores.queue.jobs()[0].date, today());
        assert_eq!(stores.queue.jobs()[0].attempt, 0);
    }

    #[tokio::test]
    async fn a_store_failure_before_enqueueing_fails_the_slot_and_enqueues_nothing() {
        // Gets: the directory throttled, or the run records unavailable: the slot fails with
        // that (retryable) error, nothing is enqueued or written; the retry enqueues the jobs.
        let (stores, scheduler) = setup(&[town("kizuna-town", 7, 1)]).await;
        stores
            .municipalities
            .faults
            .fail_next(1, StoreError::Throttled);
        assert_eq!(run(&scheduler, 7).await, Err(StoreError::Throttled));
        let unavailable = StoreError::Unavailable("timeout".into());
        stores.runs.faults.fail_next(1, unavailable.clone());
        let failed = run(&scheduler, 7).await.unwrap_err();
        assert_eq!(failed, unavailable);
        assert!(failed.is_retryable());
        assert!(stores.queue.jobs().is_empty());
        assert!(stores.runs.all().is_empty());

        assert_eq!(run(&scheduler, 7).await.unwrap().jobs.len(), 1);
        assert_eq!(stores.queue.jobs().len(), 1);
    }

    #[tokio::test]
    async fn a_queue_failure_fails_the_slot_and_records_no_late_run() {
        // Gets: with the queue unavailable the slot fails before it reports anything late,
        // so the late run is reported by the retry, once.
        let towns = [town("due-town", 16, 1), town("late-town", 7, 1)];
        let (stores, scheduler) = setup(&towns).await;
        let down = StoreError::Unavailable("SQS 500".into());
        stores.queue.faults.fail_next(1, down.clone());
        assert_eq!(run(&scheduler, 16).await, Err(down));
        assert!(stores.runs.all().is_empty());

        let retried = run(&scheduler, 16).await.unwrap();
        assert_eq!((retried.jobs.len(), retried.late), (1, 1));
        assert_eq!(stores.queue.jobs()[0].municipality.as_str(), "due-town");
        assert_eq!(stores.runs.all().len(), 1);
    }

    #[tokio::test]
    async fn a_failure_recording_a_late_run_fails_the_slot_after_enqueueing() {
        // Gets: the due jobs are on the queue already when recording the late run fails; the
        // slot fails (so EventBridge retries), and the retry records the late run and
        // enqueues the due jobs again, which the delivery ledger makes harmless.
        let towns = [town("due-town", 16, 1), town("late-town", 7, 1)];
        let (stores, scheduler) = setup(&towns).await;
        // The first call (today's listing) succeeds; the late run's upsert fails.
        stores.runs.faults.fail_after(1, 1, StoreError::Throttled);
        assert_eq!(run(&scheduler, 16).await, Err(StoreError::Throttled));
        assert_eq!(stores.queue.jobs().len(), 1);
        assert!(stores.runs.all().is_empty());

        assert_eq!(run(&scheduler, 16).await.unwrap().late, 1);
        assert_eq!(stores.queue.jobs().len(), 2);
        let late = stores
            .runs
            .get(&key("late-town", 0))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(late.status, RunStatus::Failed);
    }

    #[tokio::test]
    async fn every_shard_of_every_due_town_is_one_job() {
        // Gets: several towns due at one hour, each with its own shard count, give exactly
        // one job per (town, shard), each shard valid for its count.
        let towns = [
            town("a-town", 8, 1),
            town("b-town", 8, 4),
            town("c-town", 8, 32),
        ];
        let (_stores, scheduler) = setup(&towns).await;
        let report = run(&scheduler, 8).await.unwrap();
        assert_eq!(report.jobs.len(), 1 + 4 + 32);
        let mut seen = std::collections::HashSet::new();
        for job in &report.jobs {
            assert!(
                Shard::new(job.shard.index, job.shard.count).is_ok(),
                "{job:?}"
            );
            assert!(
                seen.insert((job.municipality.clone(), job.shard.index)),
                "{job:?}"
            );
        }
    }
}
