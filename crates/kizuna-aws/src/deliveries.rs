use crate::batch::existing_items;
use crate::error::store_error;
use crate::item::{get_n, get_s, millis_to_utc, n, opt_bool, opt_n, opt_s, s, ttl_after, Item};
use crate::schema::deliveries::{
    ATTEMPT, CLAIMED, EXPIRES_AT, FAILED, FAILURE_REASON, LEASE_EXPIRES_AT, MESSAGE_COUNT, PK,
    REQUEST_ID, RETRYABLE, SENT, SK, STATUS,
};
use crate::schema::{ledger_dates_possibly_held, LEDGER_RETENTION_DAYS};
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, ReturnValue, ReturnValuesOnConditionCheckFailure, WriteRequest,
};
use chrono::{DateTime, NaiveDate, Utc};
use kizuna_app::model::{DeliveryRecord, DeliveryState};
use kizuna_app::ports::{DeliveryLedger, LedgerClaim, StoreError, StoreResult};
use kizuna_core::{LineUserId, MunicipalityId};
use std::collections::HashSet;
use std::time::Duration;

/// [`DeliveryLedger`] on the `deliveries` table: PK `"{municipality}#{YYYY-MM-DD}"`, SK the
/// LINE user id. Items expire [`LEDGER_RETENTION_DAYS`] after their last claim.
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

#[async_trait]
impl DeliveryLedger for DynamoDeliveryLedger {
    async fn claim(
        &self,
        municipality: &MunicipalityId,
        date: NaiveDate,
        user: &LineUserId,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> StoreResult<LedgerClaim> {
        let now_ms = now.timestamp_millis();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(municipality, date, user)))
            .update_expression(
                "SET #status = :claimed, #lease = :lease, #exp = :exp, \
                 #attempt = if_not_exists(#attempt, :zero) + :one \
                 REMOVE #reason, #retryable",
            )
            .condition_expression(
                "attribute_not_exists(#pk) \
                 OR (#status = :claimed AND #lease < :now) \
                 OR (#status = :failed AND #retryable = :true)",
            )
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#lease", LEASE_EXPIRES_AT)
            .expression_attribute_names("#exp", EXPIRES_AT)
            .expression_attribute_names("#attempt", ATTEMPT)
            .expression_attribute_names("#reason", FAILURE_REASON)
            .expression_attribute_names("#retryable", RETRYABLE)
            .expression_attribute_values(":claimed", s(CLAIMED))
            .expression_attribute_values(":failed", s(FAILED))
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":lease", n(now_ms + lease.as_millis() as i64))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":exp", n(ttl_after(now, LEDGER_RETENTION_DAYS)))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => {
                let attempt = out
                    .attributes
                    .as_ref()
                    .map(|a| get_n(a, ATTEMPT))
                    .transpose()?
                    .unwrap_or(1);
                Ok(LedgerClaim::Acquired { attempt })
            }
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let status = failed.item().and_then(|old| opt_s(old, STATUS));
                    Ok(match status.as_deref() {
                        Some(SENT) => LedgerClaim::AlreadySent,
                        Some(FAILED) => LedgerClaim::FailedPermanently,
                        _ => LedgerClaim::LeasedByOther,
                    })
                }
                _ => Err(store_error("UpdateItem claim delivery", e)),
            },
        }
    }

    async fn mark_sent(
        &self,
        municipality: &MunicipalityId,
        date: NaiveDate,
        user: &LineUserId,
        request_id: &str,
        message_count: u32,
    ) -> StoreResult<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(municipality, date, user)))
            .update_expression(
                "SET #status = :sent, #request = :request, #count = :count \
                 REMOVE #lease, #reason, #retryable",
            )
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#request", REQUEST_ID)
            .expression_attribute_names("#count", MESSAGE_COUNT)
            .expression_attribute_names("#lease", LEASE_EXPIRES_AT)
            .expression_attribute_names("#reason", FAILURE_REASON)
            .expression_attribute_names("#retryable", RETRYABLE)
            .expression_attribute_values(":sent", s(SENT))
            .expression_attribute_values(":request", s(request_id))
            .expression_attribute_values(":count", n(message_count))
            .send()
            .await
            .map_err(|e| store_error("UpdateItem delivery sent", e));
        match result {
            Ok(_) => Ok(()),
            Err(StoreError::Conflict) => Err(StoreError::NotFound),
            Err(e) => Err(e),
        }
    }

    /// A delivery already marked sent is never downgraded to failed ([`StoreError::Conflict`]).
    async fn mark_failed(
        &self,
        municipality: &MunicipalityId,
        date: NaiveDate,
        user: &LineUserId,
        reason: &str,
        retryable: bool,
    ) -> StoreResult<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(municipality, date, user)))
            .update_expression(
                "SET #status = :failed, #reason = :reason, #retryable = :retryable REMOVE #lease",
            )
            .condition_expression("attribute_exists(#pk) AND #status <> :sent")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#reason", FAILURE_REASON)
            .expression_attribute_names("#retryable", RETRYABLE)
            .expression_attribute_names("#lease", LEASE_EXPIRES_AT)
            .expression_attribute_values(":failed", s(FAILED))
            .expression_attribute_values(":sent", s(SENT))
            .expression_attribute_values(":reason", s(reason))
            .expression_attribute_values(":retryable", AttributeValue::Bool(retryable))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    Err(match failed.item() {
                        Some(_) => StoreError::Conflict,
                        None => StoreError::NotFound,
                    })
                }
                _ => Err(store_error("UpdateItem delivery failed", e)),
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
        let mut all = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":pk", s(ledger_pk(municipality, date)))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| store_error("Query deliveries", e))?;
            for item in out.items.unwrap_or_default() {
                all.push(record(municipality, date, &item)?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(all);
            }
        }
    }

    async fn sent_among(
        &self,
        municipality: &MunicipalityId,
        date: NaiveDate,
        users: &[LineUserId],
    ) -> StoreResult<HashSet<LineUserId>> {
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
            &[SK, STATUS],
            "BatchGetItem deliveries",
        )
        .await?;
        let sent = items
            .iter()
            .filter(|item| opt_s(item, STATUS).as_deref() == Some(SENT))
            .filter_map(|item| opt_s(item, SK).and_then(|u| LineUserId::parse(&u).ok()))
            .collect();
        Ok(sent)
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
