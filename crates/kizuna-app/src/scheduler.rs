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
