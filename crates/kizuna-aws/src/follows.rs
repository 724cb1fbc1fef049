//! [`FollowTally`] on the `webhook_events` table, beside the event ids it deduplicates.
//!
//! Two kinds of item, both keyed in the table's one string key with a prefix no LINE event id
//! has (a ULID has no `#`):
//! * the tally, `tally#{municipality}#{YYYY-MM}`: one number per [`FollowChange`], kept
//!   [`TALLY_RETENTION_DAYS`] after the month's last event;
//! * a marker per counted event, `counted#{webhookEventId}`, kept as long as event ids are
//!   ([`EVENT_RETENTION_DAYS`]).
//!
//! One transaction writes the marker (only if absent) and adds one to the tally, so an event
//! is counted once whatever is redelivered, retried or raced. The webhook role already puts
//! and updates items of this table; no new table or permission is needed.

use crate::batch::existing_items;
use crate::error::{cancelled_transaction, store_error, Cancelled};
use crate::item::{n, opt_n, opt_s, s, ttl_after, Item};
use crate::schema::events::{COUNTED_PREFIX, EXPIRES_AT, PK, TALLY_PREFIX};
use crate::schema::{EVENT_RETENTION_DAYS, TALLY_RETENTION_DAYS};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use chrono::{DateTime, NaiveDate, Utc};
use kizuna_app::model::{month_key, FollowChange, FollowCounts};
use kizuna_app::ports::{FollowTally, StoreError, StoreResult};
use kizuna_core::MunicipalityId;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct DynamoFollowTally {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoFollowTally {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

/// The key of a town's tally for the month of `on`.
pub fn tally_key(municipality: &MunicipalityId, on: NaiveDate) -> String {
    format!("{TALLY_PREFIX}{}#{}", municipality.as_str(), month_key(on))
}

#[async_trait]
impl FollowTally for DynamoFollowTally {
    async fn count_once(
        &self,
        municipality: &MunicipalityId,
        on: NaiveDate,
        change: FollowChange,
        event_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let corrupt = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Corrupt(e.to_string());
        let marker = Put::builder()
            .table_name(&self.table)
            .item(PK, s(format!("{COUNTED_PREFIX}{event_id}")))
            .item(EXPIRES_AT, n(ttl_after(now, EVENT_RETENTION_DAYS)))
            // Expiry compared here, not left to TTL, as for the event claims.
            .condition_expression("attribute_not_exists(#id) OR #exp < :now_s")
            .expression_attribute_names("#id", PK)
            .expression_attribute_names("#exp", EXPIRES_AT)
            .expression_attribute_values(":now_s", n(now.timestamp()))
            .build()
            .map_err(corrupt)?;
        let tally = Update::builder()
            .table_name(&self.table)
            .key(PK, s(tally_key(municipality, on)))
            .update_expression("ADD #count :one SET #exp = :exp")
            .expression_attribute_names("#count", change.key())
            .expression_attribute_names("#exp", EXPIRES_AT)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":exp", n(ttl_after(now, TALLY_RETENTION_DAYS)))
            .build()
            .map_err(corrupt)?;
        let result = self
            .client
            .transact_write_items()
            // The marker first: its cancellation reason is the first one.
            .transact_items(TransactWriteItem::builder().put(marker).build())
            .transact_items(TransactWriteItem::builder().update(tally).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) => match cancelled_transaction(&e) {
                // The marker is there: the event was counted already.
                Some(Cancelled::FirstConditionFailed) => Ok(false),
                // Another invocation is counting the same event right now: retryable, and the
                // retry will find the marker.
                Some(Cancelled::Retryable) => Err(StoreError::Throttled),
                None => Err(store_error("TransactWriteItems follow tally", e)),
            },
        }
    }

    async fn counts(
        &self,
        municipality: &MunicipalityId,
        months: &[NaiveDate],
    ) -> StoreResult<Vec<FollowCounts>> {
        let keys: Vec<String> = months.iter().map(|m| tally_key(municipality, *m)).collect();
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        let attributes: Vec<&str> = [PK]
            .into_iter()
            .chain(FollowChange::ALL.map(FollowChange::key))
            .collect();
        let items = existing_items(
            &self.client,
            &self.table,
            unique
                .into_iter()
                .map(|k| Item::from([(PK.to_owned(), s(k))]))
                .collect(),
            &attributes,
            "BatchGetItem follow tally",
        )
        .await?;
        let found: HashMap<String, FollowCounts> = items
            .iter()
            .filter_map(|item| {
                let key = opt_s(item, PK)?;
                let mut counts = FollowCounts::default();
                for change in FollowChange::ALL {
                    *counts.get_mut(change) = opt_n(item, change.key()).unwrap_or(0);
                }
                Some((key, counts))
            })
            .collect();
        Ok(keys
            .iter()
            .map(|k| found.get(k).copied().unwrap_or_default())
            .collect())
    }
}
