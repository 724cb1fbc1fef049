use crate::batch::existing_items;
use crate::error::store_error;
use crate::item::{n, opt_s, s, ttl_after, Item};
use crate::schema::events::{DONE, EXPIRES_AT, IN_PROGRESS, LOCK_EXPIRES_AT, PK, STATUS};
use crate::schema::EVENT_RETENTION_DAYS;
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use chrono::{DateTime, Utc};
use kizuna_app::ports::{Claim, StoreError, StoreResult, WebhookEventLog};
use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

/// How long an `in_progress` claim blocks other invocations. Longer than the webhook
/// function's timeout, so a live invocation never loses its claim; short enough that an event
/// whose invocation crashed is processed by LINE's redelivery.
pub const DEFAULT_LOCK: Duration = Duration::from_secs(60);

/// [`WebhookEventLog`] on the `webhook_events` table: one conditional PutItem decides
/// (Powertools-idempotency style).
#[derive(Debug, Clone)]
pub struct DynamoWebhookEventLog {
    client: aws_sdk_dynamodb::Client,
    table: String,
    lock: Duration,
}

impl DynamoWebhookEventLog {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            lock: DEFAULT_LOCK,
        }
    }

    pub fn with_lock(mut self, lock: Duration) -> Self {
        self.lock = lock;
        self
    }

    fn key(event_id: &str) -> Item {
        Item::from([(PK.to_owned(), s(event_id))])
    }
}

#[async_trait]
impl WebhookEventLog for DynamoWebhookEventLog {
    async fn claim(&self, event_id: &str, now: DateTime<Utc>) -> StoreResult<Claim> {
        let now_ms = now.timestamp_millis();
        let lock_until = now_ms + self.lock.as_millis() as i64;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(event_id))
            .item(STATUS, s(IN_PROGRESS))
            .item(LOCK_EXPIRES_AT, n(lock_until))
            .item(EXPIRES_AT, n(ttl_after(now, EVENT_RETENTION_DAYS)))
            // Expiry is compared here, not left to TTL: TTL deletion lags by up to days.
            .condition_expression(
                "attribute_not_exists(#id) OR #exp < :now_s \
                 OR (#status = :in_progress AND #lock < :now_ms)",
            )
            .expression_attribute_names("#id", PK)
            .expression_attribute_names("#exp", EXPIRES_AT)
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#lock", LOCK_EXPIRES_AT)
            .expression_attribute_values(":now_s", n(now.timestamp()))
            .expression_attribute_values(":now_ms", n(now_ms))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            // The losing writer learns why from the same call, without a second read.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Acquired),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    let status = failed.item().and_then(|old| opt_s(old, STATUS));
                    Ok(match status.as_deref() {
                        Some(DONE) => Claim::AlreadyDone,
                        _ => Claim::InProgress,
                    })
                }
                _ => Err(store_error("PutItem webhook event", e)),
            },
        }
    }

    async fn complete(&self, event_id: &str) -> StoreResult<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(event_id)))
            .update_expression("SET #status = :done REMOVE #lock")
            .condition_expression("attribute_exists(#id)")
            .expression_attribute_names("#id", PK)
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#lock", LOCK_EXPIRES_AT)
            .expression_attribute_values(":done", s(DONE))
            .send()
            .await
            .map_err(|e| store_error("UpdateItem webhook event", e));
        match result {
            Ok(_) => Ok(()),
            Err(StoreError::Conflict) => Err(StoreError::NotFound),
            Err(e) => Err(e),
        }
    }

    async fn done_among(
        &self,
        event_ids: &[&str],
        now: DateTime<Utc>,
    ) -> StoreResult<HashSet<String>> {
        // BatchGetItem refuses a request that names one key twice.
        let unique: BTreeSet<&str> = event_ids.iter().copied().collect();
        let keys = unique.into_iter().map(Self::key).collect();
        let items = existing_items(
            &self.client,
            &self.table,
            keys,
            &[PK, STATUS, EXPIRES_AT],
            "BatchGetItem webhook events",
        )
        .await?;
        let mut done = HashSet::new();
        for item in items {
            let is_done = opt_s(&item, STATUS).as_deref() == Some(DONE);
            let expired = item
                .get(EXPIRES_AT)
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|at| at < now.timestamp());
            if let (true, false, Some(id)) = (is_done, expired, opt_s(&item, PK)) {
                done.insert(id);
            }
        }
        Ok(done)
    }

    async fn release(&self, event_id: &str) -> StoreResult<()> {
        // Only an in-progress claim is released: a completed event must stay completed.
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(event_id)))
            .condition_expression("#status = :in_progress")
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .send()
            .await
            .map_err(|e| store_error("DeleteItem webhook event", e));
        match result {
            Ok(_) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
