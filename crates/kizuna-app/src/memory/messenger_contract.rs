//! What the use cases rely on from a [`Messenger`], as checks any implementation must pass
//! (panicking like `assert!` when it does not): the in-memory messenger runs them in this
//! crate's tests, and `kizuna_line::LineMessenger` over the fake LINE server in the `tests/`
//! crate, so the fake the behaviour tests use cannot drift from the adapter on these points.
//!
//! Each check expects a channel that has sent nothing this month and whose quota is not
//! limited below 3 messages.

use crate::messaging::{Messenger, MessengerError, PushReceipt};
use crate::model::ChannelCredentials;
use kizuna_core::{LineUserId, Message};
use uuid::Uuid;

/// A push repeated with its retry key (the sender's retry after a lost answer, or a rerun's)
/// is delivered once: the repeat answers `AlreadyAccepted` with the first push's request id
/// and is not counted against the quota; a push with another key is a new delivery.
pub async fn a_push_repeated_with_its_retry_key_is_delivered_once(
    messenger: &dyn Messenger,
    channel: &ChannelCredentials,
    to: &LineUserId,
) {
    let messages = [Message::text("きょうのメッセージ")];
    messenger.check_access(channel).await.expect("access");
    let before = messenger
        .quota_consumption(channel)
        .await
        .expect("consumption");
    let key = Uuid::new_v4();
    let first = messenger.push(channel, to, &messages, key).await;
    let Ok(PushReceipt::Accepted {
        request_id: Some(request_id),
    }) = first
    else {
        panic!("a first push is accepted with a request id: {first:?}");
    };
    let again = messenger.push(channel, to, &messages, key).await;
    assert_eq!(
        again,
        Ok(PushReceipt::AlreadyAccepted {
            accepted_request_id: request_id
        }),
        "the repeat names the first push"
    );
    let counted = messenger
        .quota_consumption(channel)
        .await
        .expect("consumption");
    assert_eq!(counted, before + 1, "one counted message for both");

    let other = messenger.push(channel, to, &messages, Uuid::new_v4()).await;
    assert!(
        matches!(other, Ok(PushReceipt::Accepted { .. })),
        "another key is another delivery: {other:?}"
    );
    let counted = messenger
        .quota_consumption(channel)
        .await
        .expect("consumption");
    assert_eq!(counted, before + 2);
}

/// Credentials the service refuses (revoked) fail a push with `Unauthorized`, which is not
/// retryable: the sender stops the town's job at once. `check_access` may pass them (a
/// long-lived token is not checked until used) but never fails them otherwise.
pub async fn refused_credentials_are_unauthorized_and_not_retried(
    messenger: &dyn Messenger,
    refused: &ChannelCredentials,
    to: &LineUserId,
) {
    let access = messenger.check_access(refused).await;
    assert!(
        matches!(access, Ok(()) | Err(MessengerError::Unauthorized { .. })),
        "{access:?}"
    );
    let push = messenger
        .push(refused, to, &[Message::text("x")], Uuid::new_v4())
        .await;
    match push {
        Err(e @ MessengerError::Unauthorized { .. }) => assert!(!e.is_retryable()),
        other => panic!("a push with refused credentials is Unauthorized: {other:?}"),
    }
}
