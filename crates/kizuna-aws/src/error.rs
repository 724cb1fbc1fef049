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
