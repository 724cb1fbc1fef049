//! Batched reads (`BatchGetItem`) for "which of these are already done?" questions: the
//! webhook's redelivered events and the sender's already-sent deliveries. Both answers are
//! optimisations over a conditional write that stays the authority, so a key DynamoDB leaves
//! unanswered after a few tries (throttling) is simply left out.

use crate::error::store_error;
use crate::item::Item;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use kizuna_app::ports::{StoreError, StoreResult};
use std::time::Duration;

/// DynamoDB's limit of keys in one BatchGetItem request.
const BATCH_GET_MAX_KEYS: usize = 100;

/// How many times unprocessed keys are asked for again, with a growing pause.
const UNPROCESSED_RETRIES: u64 = 3;

/// The items of `keys` that exist (strongly consistent), with only the `attributes` named.
/// `keys` must not repeat a key (BatchGetItem refuses that). `operation` names the call in
/// errors.
pub(crate) async fn existing_items(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    keys: Vec<Item>,
    attributes: &[&str],
    operation: &'static str,
) -> StoreResult<Vec<Item>> {
    let projection: Vec<String> = (0..attributes.len()).map(|i| format!("#a{i}")).collect();
    let mut found = Vec::new();
    for chunk in keys.chunks(BATCH_GET_MAX_KEYS) {
        let mut request = KeysAndAttributes::builder()
            .set_keys(Some(chunk.to_vec()))
            .consistent_read(true);
        if !attributes.is_empty() {
            request = request.projection_expression(projection.join(", "));
            for (placeholder, name) in projection.iter().zip(attributes) {
                request = request.expression_attribute_names(placeholder, *name);
            }
        }
        let mut request = request
            .build()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        for round in 0..=UNPROCESSED_RETRIES {
            let out = client
                .batch_get_item()
                .request_items(table, request)
                .send()
                .await
                .map_err(|e| store_error(operation, e))?;
            found.extend(
                out.responses
                    .unwrap_or_default()
                    .remove(table)
                    .unwrap_or_default(),
            );
            match out.unprocessed_keys.and_then(|mut u| u.remove(table)) {
                Some(rest) if !rest.keys.is_empty() && round < UNPROCESSED_RETRIES => {
                    request = rest;
                    tokio::time::sleep(Duration::from_millis(50 << round)).await;
                }
                _ => break,
            }
        }
    }
    Ok(found)
}
