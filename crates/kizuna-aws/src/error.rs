//! Mapping SDK errors onto [`StoreError`].

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use kizuna_app::ports::StoreError;

/// Error codes AWS services use for "slow down" (DynamoDB, S3, SQS, Secrets Manager).
const THROTTLING_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "RequestThrottled",
    "RequestThrottledException",
];

/// Why a `TransactWriteItems` was cancelled, where the caller gives it a meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cancelled {
    /// The first item's condition failed: the callers put the item whose condition means
    /// something (the lease, the "already counted" marker) first.
    FirstConditionFailed,
    /// A conflicting transaction or throttling: a retry may succeed.
    Retryable,
}

/// The cancellation of a failed transaction, if that is what the error is and its reasons
/// say one of the [`Cancelled`] cases; anything else is [`store_error`]'s to classify.
pub(crate) fn cancelled_transaction<R>(
    e: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> Option<Cancelled> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
        e.as_service_error()
    else {
        return None;
    };
    let codes: Vec<&str> = cancelled
        .cancellation_reasons()
        .iter()
        .filter_map(|r| r.code())
        .collect();
    if codes.first() == Some(&"ConditionalCheckFailed") {
        return Some(Cancelled::FirstConditionFailed);
    }
    codes
        .iter()
        .any(|c| {
            matches!(
                *c,
                "TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded"
            )
        })
        .then_some(Cancelled::Retryable)
}

/// Classifies an SDK error. `op` names the operation for the message (never item contents:
/// keys may hold LINE user ids).
pub(crate) fn store_error<E, R>(op: &'static str, err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::ServiceError(_) => classify_code(op, err.code(), err.message()),
        _ => StoreError::Unavailable(format!("{op}: {}", DisplayErrorContext(&err))),
    }
}

pub(crate) fn classify_code(op: &str, code: Option<&str>, message: Option<&str>) -> StoreError {
    match code {
        Some(c) if THROTTLING_CODES.contains(&c) => StoreError::Throttled,
        Some("ConditionalCheckFailedException") => StoreError::Conflict,
        Some("TransactionConflictException") => StoreError::Conflict,
        Some("ResourceNotFoundException" | "NoSuchKey" | "NoSuchBucket") => {
            // A missing table/bucket/secret at this level is a deployment problem, not a
            // missing item; callers that expect absence check the code before calling this.
            StoreError::Unavailable(format!(
                "{op}: {} ({})",
                code.unwrap_or_default(),
                message.unwrap_or("resource not found")
            ))
        }
        _ => StoreError::Unavailable(format!(
            "{op}: {} {}",
            code.unwrap_or("unknown error"),
            message.unwrap_or_default()
        )),
    }
}

pub(crate) fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_is_retryable_and_conditions_are_conflicts() {
        for code in [
            "ProvisionedThroughputExceededException",
            "ThrottlingException",
            "RequestLimitExceeded",
            "SlowDown",
        ] {
            let e = classify_code("PutItem", Some(code), None);
            assert_eq!(e, StoreError::Throttled);
            assert!(e.is_retryable());
        }
        let e = classify_code("PutItem", Some("ConditionalCheckFailedException"), None);
        assert_eq!(e, StoreError::Conflict);
        assert!(!e.is_retryable());
        let e = classify_code("Query", Some("InternalServerError"), Some("boom"));
        assert!(matches!(&e, StoreError::Unavailable(m) if m.contains("InternalServerError")));
        assert!(e.is_retryable());
    }
}
