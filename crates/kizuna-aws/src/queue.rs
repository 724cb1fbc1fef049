use crate::error::store_error;
use async_trait::async_trait;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use kizuna_app::model::SendJob;
use kizuna_app::ports::{SendQueue, StoreError, StoreResult};

/// SQS accepts at most 10 messages per batch.
const BATCH: usize = 10;

/// [`SendQueue`] on SQS: one JSON [`SendJob`] per message, sent in batches of 10.
#[derive(Debug, Clone)]
pub struct SqsSendQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsSendQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    /// Sends one batch; returns the entries SQS refused for a reason worth retrying.
    async fn send_batch(
        &self,
        entries: Vec<SendMessageBatchRequestEntry>,
    ) -> StoreResult<Vec<SendMessageBatchRequestEntry>> {
        let out = self
            .client
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries.clone()))
            .send()
            .await
            .map_err(|e| store_error("SendMessageBatch", e))?;
        let mut retry = Vec::new();
        for failure in out.failed() {
            if failure.sender_fault() {
                return Err(StoreError::Unavailable(format!(
                    "SendMessageBatch refused a job: {}",
                    failure.code()
                )));
            }
            if let Some(entry) = entries.iter().find(|e| e.id() == failure.id()) {
                retry.push(entry.clone());
            }
        }
        Ok(retry)
    }
}

#[async_trait]
impl SendQueue for SqsSendQueue {
    async fn enqueue(&self, jobs: &[SendJob]) -> StoreResult<()> {
        for chunk in jobs.chunks(BATCH) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, job) in chunk.iter().enumerate() {
                let body = serde_json::to_string(job)
                    .map_err(|e| StoreError::Corrupt(format!("send job: {e}")))?;
                let entry = SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body)
                    .build()
                    .map_err(|e| StoreError::Corrupt(format!("send job entry: {e}")))?;
                entries.push(entry);
            }
            // One retry of entries that failed on SQS's side; a second failure is reported.
            let retry = self.send_batch(entries).await?;
            if !retry.is_empty() && !self.send_batch(retry).await?.is_empty() {
                return Err(StoreError::Unavailable(
                    "SendMessageBatch failed twice for some jobs".into(),
                ));
            }
        }
        Ok(())
    }
}
