//! The daily retention purge: households that unfollowed more than
//! [`RETENTION_DAYS_AFTER_UNFOLLOW`] days ago are deleted, town by town.
//!
//! DynamoDB TTL deletes the same items for free, but "typically within a few days", and only
//! in a deployed table (moto and DynamoDB Local never expire anything). The privacy notice
//! promises a limit, so the purge keeps it to the day; TTL stays as the backstop. Each
//! delete is conditional on the household still being unfollowed, so a parent who follows
//! again while the purge runs keeps their data.

use crate::metrics;
#[cfg(doc)]
use crate::model::retention_ends;
use crate::model::RETENTION_DAYS_AFTER_UNFOLLOW;
use crate::ports::{HouseholdStore, MunicipalityDirectory, StoreError};
use chrono::{DateTime, Days, NaiveDate, Utc};
use kizuna_core::{today_in_japan, MunicipalityId};
use std::sync::Arc;
use tracing::{error, info};

#[derive(Clone)]
pub struct RetentionPorts {
    pub municipalities: Arc<dyn MunicipalityDirectory>,
    pub households: Arc<dyn HouseholdStore>,
}

/// What one purge did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PurgeReport {
    /// Households unfollowed before this date were deleted.
    pub cutoff: Option<NaiveDate>,
    pub deleted: u64,
    pub municipalities: usize,
    /// Municipalities whose purge failed; retried by the next day's run.
    pub failed: Vec<MunicipalityId>,
}

pub struct RetentionPurge {
    ports: RetentionPorts,
}

/// Households unfollowed before this date are past their retention on `today`: their
/// [`retention_ends`] is today or earlier (the same day DynamoDB TTL's `expires_at` names).
pub fn purge_cutoff(today: NaiveDate) -> NaiveDate {
    today
        .checked_sub_days(Days::new(RETENTION_DAYS_AFTER_UNFOLLOW - 1))
        .unwrap_or(NaiveDate::MIN)
}

impl RetentionPurge {
    pub fn new(ports: RetentionPorts) -> Self {
        Self { ports }
    }

    /// Purges every municipality, disabled ones included (a disabled town's parents are
    /// owed the same limit). One town failing does not stop the others; the run is an error
    /// only when the municipalities cannot be listed at all.
    pub async fn run(&self, now: DateTime<Utc>) -> Result<PurgeReport, StoreError> {
        let cutoff = purge_cutoff(today_in_japan(now));
        let municipalities = self.ports.municipalities.list().await?;
        let mut report = PurgeReport {
            cutoff: Some(cutoff),
            municipalities: municipalities.len(),
            ..PurgeReport::default()
        };
        for municipality in &municipalities {
            match self
                .ports
                .households
                .purge_unfollowed_before(&municipality.id, cutoff)
                .await
            {
                Ok(deleted) => {
                    report.deleted += deleted;
                    if deleted > 0 {
                        info!(
                            municipality = municipality.id.as_str(),
                            deleted, "households past their retention deleted"
                        );
                    }
                    metrics::emit(
                        municipality.id.as_str(),
                        now,
                        &[(metrics::HOUSEHOLDS_PURGED, deleted as f64)],
                    );
                }
                Err(e) => {
                    error!(municipality = municipality.id.as_str(), error = %e, "retention purge failed; the next daily run retries");
                    metrics::emit(
                        municipality.id.as_str(),
                        now,
                        &[(metrics::RETENTION_PURGE_FAILED, 1.0)],
                    );
                    report.failed.push(municipality.id.clone());
                }
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_is_the_retention_period_before_today() {
        let today = NaiveDate::from_ymd_opt(2027, 7, 1).unwrap();
        let cutoff = purge_cutoff(today);
        assert_eq!(cutoff, NaiveDate::from_ymd_opt(2027, 1, 3).unwrap());
        // The last day purged today is the one whose retention ends today…
        let last_purged = cutoff.pred_opt().unwrap();
        assert_eq!(crate::model::retention_ends(last_purged), today);
        // …and the cutoff day itself is kept until tomorrow.
        assert_eq!(
            crate::model::retention_ends(cutoff),
            today.succ_opt().unwrap()
        );
    }
}
