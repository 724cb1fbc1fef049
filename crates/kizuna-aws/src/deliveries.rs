use crate::batch::existing_items;
use crate::error::{cancelled_transaction, store_error, Cancelled};
use crate::item::{get_n, get_s, millis_to_utc, n, opt_bool, opt_n, opt_s, s, ttl_after, Item};
use crate::paging::{query_all, Keep};
use crate::runs::run_record_update;
use crate::schema::deliveries::{
    ATTEMPT, CLAIMED, EXPIRES_AT, FAILED, FAILURE_REASON, LEASE_EXPIRES_AT, MESSAGE_COUNT, PK,
    REQUEST_ID, RETRYABLE, SENT, SK, STATUS,
};
use crate::schema::{ledger_dates_possibly_held, LEDGER_RETENTION_DAYS};
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update, WriteRequest,
};
use chrono::{DateTime, NaiveDate, Utc};
use kizuna_app::model::{DeliveryRecord, DeliveryState, RunKey};
use kizuna_app::ports::{
    DeliveryLedger, DeliveryOutcome, PageCommit, ShardLease, ShardProgress, StoreError,
    StoreResult, MAX_OUTCOMES_PER_COMMIT,
};
use kizuna_core::{LineUserId, MunicipalityId};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// [`DeliveryLedger`] on the `deliveries` table: PK `"{municipality}#{YYYY-MM-DD}"`, SK the
/// LINE user id; one lease item per send job in the same partition. Items expire
/// [`LEDGER_RETENTION_DAYS`] after their last write.
/// DynamoDB's limit of requests in one BatchWriteItem.
const BATCH_WRITE_MAX: usize = 25;
/// How many times unprocessed deletes are sent again before giving up as throttled.
const UNPROCESSED_RETRIES: u64 = 3;

#[derive(Debug, Clone)]
pub struct DynamoDeliveryLedger {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

pub(crate) fn ledger_pk(municipality: &MunicipalityId, date: NaiveDate) -> String {
    format!("{}#{}", municipality.as_str(), date.format("%Y-%m-%d"))
}

fn key(municipality: &MunicipalityId, date: NaiveDate, user: &LineUserId) -> Item {
    Item::from([
        (PK.to_owned(), s(ledger_pk(municipality, date))),
        (SK.to_owned(), s(user.as_str())),
    ])
}

fn record(
    municipality: &MunicipalityId,
    date: NaiveDate,
    item: &Item,
) -> StoreResult<DeliveryRecord> {
    let user = LineUserId::parse(get_s(item, SK)?)
        .map_err(|_| StoreError::Corrupt("ledger user id".into()))?;
    let state = match get_s(item, STATUS)? {
        CLAIMED => DeliveryState::Claimed {
            lease_expires_at: millis_to_utc(get_n(item, LEASE_EXPIRES_AT)?)?,
        },
        SENT => DeliveryState::Sent {
            request_id: opt_s(item, REQUEST_ID).unwrap_or_default(),
            message_count: opt_n(item, MESSAGE_COUNT).unwrap_or(0),
        },
        FAILED => DeliveryState::Failed {
            reason: opt_s(item, FAILURE_REASON).unwrap_or_default(),
            retryable: opt_bool(item, RETRYABLE).unwrap_or(false),
        },
        other => return Err(StoreError::Corrupt(format!("ledger status {other:?}"))),
    };
    Ok(DeliveryRecord {
        municipality: municipality.clone(),
        date,
        user,
        attempt: get_n(item, ATTEMPT)?,
        state,
    })
}

impl DynamoDeliveryLedger {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

/// Sort key of a send job's lease in the date's ledger partition. `~` sorts after every LINE
/// user id (`U…`), and no user id starts with it.
const LEASE_SK_PREFIX: &str = "~shard#";
const LEASE_OWNER: &str = "lease_owner";
const RESUME: &str = "resume";
const RESUME_PAGE: &str = "resume_page";
const COUNTED_PAGES: &str = "counted_pages";
const LEASED: &str = "leased";
const DONE: &str = "done";

fn lease_key(key: &RunKey) -> Item {
    Item::from([
        (PK.to_owned(), s(ledger_pk(&key.municipality, key.date))),
        (
            SK.to_owned(),
            s(format!("{LEASE_SK_PREFIX}{:03}", key.shard)),
        ),
    ])
}

/// The stored item of one outcome: a whole ledger entry, written unconditionally (only the
/// lease holder writes a job's entries).
fn outcome_item(
    municipality: &MunicipalityId,
    date: NaiveDate,
    outcome: &DeliveryOutcome,
    now: DateTime<Utc>,
) -> Item {
    let mut item = key(municipality, date, &outcome.user);
    item.insert(ATTEMPT.into(), n(outcome.attempt));
    item.insert(EXPIRES_AT.into(), n(ttl_after(now, LEDGER_RETENTION_DAYS)));
    match &outcome.state {
        DeliveryState::Sent {
            request_id,
            message_count,
        } => {
            item.insert(STATUS.into(), s(SENT));
            item.insert(REQUEST_ID.into(), s(request_id));
            item.insert(MESSAGE_COUNT.into(), n(*message_count));
        }
        DeliveryState::Failed { reason, retryable } => {
            item.insert(STATUS.into(), s(FAILED));
            item.insert(FAILURE_REASON.into(), s(reason));
            item.insert(RETRYABLE.into(), AttributeValue::Bool(*retryable));
        }
        DeliveryState::Claimed { lease_expires_at } => {
            item.insert(STATUS.into(), s(CLAIMED));
            item.insert(
                LEASE_EXPIRES_AT.into(),
                n(lease_expires_at.timestamp_millis()),
            );
        }
    }
    item
}

/// Maps a failed transaction: the lease check failing means another sender holds the job.
fn transaction_error<R: std::fmt::Debug>(
    e: aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError, R>,
) -> StoreError {
    match cancelled_transaction(&e) {
        Some(Cancelled::FirstConditionFailed) => StoreError::Conflict,
        Some(Cancelled::Retryable) => StoreError::Throttled,
        None => store_error("TransactWriteItems page commit", e),
    }
}

#[async_trait]
impl DeliveryLedger for DynamoDeliveryLedger {
    async fn acquire_shard(
        &self,
        run: &RunKey,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> StoreResult<ShardLease> {
        let now_ms = now.timestamp_millis();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(lease_key(run)))
            .update_expression("SET #status = :leased, #owner = :me, #lease = :until, #exp = :exp")
            .condition_expression(
                "attribute_not_exists(#pk) OR (#status <> :done AND \
                 (attribute_not_exists(#owner) OR #lease < :now OR #owner = :me))",
            )
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#owner", LEASE_OWNER)
            .expression_attribute_names("#lease", LEASE_EXPIRES_AT)
            .expression_attribute_names("#exp", EXPIRES_AT)
            .expression_attribute_values(":leased", s(LEASED))
            .expression_attribute_values(":done", s(DONE))
            .expression_attribute_values(":me", s(owner))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":until", n(now_ms + lease.as_millis() as i64))
            .expression_attribute_values(":exp", n(ttl_after(now, LEDGER_RETENTION_DAYS)))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => Ok(ShardLease::Acquired(match out.attributes {
                None => ShardProgress::default(),
                Some(old) => ShardProgress {
                    resumed: true,
                    resume: opt_s(&old, RESUME),
                    resume_page: opt_n(&old, RESUME_PAGE).unwrap_or(0),
                    counted_pages: opt_n(&old, COUNTED_PAGES).unwrap_or(0),
                },
            })),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let status = failed.item().and_then(|old| opt_s(old, STATUS));
                    Ok(match status.as_deref() {
                        Some(DONE) => ShardLease::Done,
                        _ => ShardLease::HeldByOther,
                    })
                }
                _ => Err(store_error("UpdateItem acquire send job", e)),
            },
        }
    }

    async fn commit(
        &self,
        run: &RunKey,
        owner: &str,
        commit: &PageCommit,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> StoreResult<()> {
        if commit.outcomes.len() > MAX_OUTCOMES_PER_COMMIT {
            return Err(StoreError::Corrupt(format!(
                "a commit takes at most {MAX_OUTCOMES_PER_COMMIT} outcomes"
            )));
        }
        let mut set = vec!["#lease = :until"];
        let mut remove = Vec::new();
        let mut lease_update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(lease_key(run)))
            .condition_expression("#owner = :me")
            .expression_attribute_names("#owner", LEASE_OWNER)
            .expression_attribute_names("#lease", LEASE_EXPIRES_AT)
            .expression_attribute_values(":me", s(owner))
            .expression_attribute_values(
                ":until",
                n(now.timestamp_millis() + lease.as_millis() as i64),
            );
        if let Some(pages) = commit.counted_pages {
            set.push("#counted = :counted");
            lease_update = lease_update
                .expression_attribute_names("#counted", COUNTED_PAGES)
                .expression_attribute_values(":counted", n(pages));
        }
        if let Some((cursor, page)) = &commit.resume {
            set.push("#rpage = :rpage");
            lease_update = lease_update
                .expression_attribute_names("#rpage", RESUME_PAGE)
                .expression_attribute_values(":rpage", n(*page))
                .expression_attribute_names("#resume", RESUME);
            match cursor {
                Some(cursor) => {
                    set.push("#resume = :resume");
                    lease_update = lease_update.expression_attribute_values(":resume", s(cursor));
                }
                None => remove.push("#resume"),
            }
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let lease_update = lease_update
            .update_expression(expression)
            .build()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let record = run_record_update(run, &commit.run, now);
        let record_update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(record.key))
            .update_expression(record.expression)
            .set_expression_attribute_names(Some(record.names))
            .set_expression_attribute_values(Some(record.values))
            .build()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        // The lease check comes first: its cancellation reason is the first one.
        let mut items = vec![
            TransactWriteItem::builder().update(lease_update).build(),
            TransactWriteItem::builder().update(record_update).build(),
        ];
        for outcome in &commit.outcomes {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(outcome_item(
                    &run.municipality,
                    run.date,
                    outcome,
                    now,
                )))
                .build()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map_err(transaction_error)?;
        Ok(())
    }

    async fn release_shard(&self, run: &RunKey, owner: &str, done: bool) -> StoreResult<()> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(lease_key(run)))
            .condition_expression("#owner = :me")
            .expression_attribute_names("#owner", LEASE_OWNER)
            .expression_attribute_names("#lease", LEASE_EXPIRES_AT)
            .expression_attribute_values(":me", s(owner));
        request = if done {
            // The cursor may hold a LINE user id: it goes as soon as it is of no use.
            request
                .update_expression("SET #status = :done REMOVE #owner, #lease, #resume")
                .expression_attribute_names("#status", STATUS)
                .expression_attribute_names("#resume", RESUME)
                .expression_attribute_values(":done", s(DONE))
        } else {
            request.update_expression("REMOVE #owner, #lease")
        };
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => Ok(()),
                _ => Err(store_error("UpdateItem release send job", e)),
            },
        }
    }

    async fn get(
        &self,
        municipality: &MunicipalityId,
        date: NaiveDate,
        user: &LineUserId,
    ) -> StoreResult<Option<DeliveryRecord>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(municipality, date, user)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem delivery", e))?;
        out.item
            .map(|item| record(municipality, date, &item))
            .transpose()
    }

    async fn list(
        &self,
        municipality: &MunicipalityId,
        date: NaiveDate,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s(ledger_pk(municipality, date)));
        query_all(query, "Query deliveries", |item| {
            if get_s(&item, SK)?.starts_with(LEASE_SK_PREFIX) {
                return Ok(Keep::Skip);
            }
            Ok(Keep::Value(record(municipality, date, &item)?))
        })
        .await
    }

    async fn records_among(
        &self,
        municipality: &MunicipalityId,
        date: NaiveDate,
        users: &[LineUserId],
    ) -> StoreResult<HashMap<LineUserId, DeliveryRecord>> {
        // BatchGetItem refuses a request that names one key twice.
        let mut seen = HashSet::new();
        let keys = users
            .iter()
            .filter(|u| seen.insert(*u))
            .map(|u| key(municipality, date, u))
            .collect();
        let items = existing_items(
            &self.client,
            &self.table,
            keys,
            &[
                PK,
                SK,
                STATUS,
                ATTEMPT,
                LEASE_EXPIRES_AT,
                REQUEST_ID,
                MESSAGE_COUNT,
                FAILURE_REASON,
                RETRYABLE,
            ],
            "BatchGetItem deliveries",
        )
        .await?;
        items
            .iter()
            .map(|item| record(municipality, date, item).map(|r| (r.user.clone(), r)))
            .collect()
    }

    /// One BatchWriteItem of DeleteRequests for every date that may still hold an item of
    /// this user (deleting a key that does not exist is not an error), unprocessed requests
    /// retried a few times with a growing pause.
    async fn forget_user(
        &self,
        municipality: &MunicipalityId,
        user: &LineUserId,
        around: NaiveDate,
    ) -> StoreResult<()> {
        let mut requests: Vec<WriteRequest> = Vec::new();
        for date in ledger_dates_possibly_held(around) {
            let delete = DeleteRequest::builder()
                .set_key(Some(key(municipality, date, user)))
                .build()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            requests.push(WriteRequest::builder().delete_request(delete).build());
        }
        // BatchWriteItem takes at most 25 requests; the window is 8 dates.
        for chunk in requests.chunks(BATCH_WRITE_MAX) {
            let mut pending = chunk.to_vec();
            for round in 0..=UNPROCESSED_RETRIES {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| store_error("BatchWriteItem forget ledger user", e))?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
                if round == UNPROCESSED_RETRIES {
                    return Err(StoreError::Throttled);
                }
                tokio::time::sleep(Duration::from_millis(50 << round)).await;
            }
        }
        Ok(())
    }
}
