//! The in-memory messenger held to the messenger contract, and its scripted faults.

use super::contract::user;
use super::messaging::*;
use super::messenger_contract;
use crate::messaging::{Messenger, MessengerError, MonthlyQuota, PushReceipt, WebhookForwarder};
use crate::model::{ChannelCredentials, ChannelSecret, ChannelToken};
use kizuna_core::Message;
use std::time::Duration;
use uuid::Uuid;

fn channel(id: &str) -> ChannelCredentials {
    ChannelCredentials {
        channel_id: id.into(),
        channel_secret: ChannelSecret::new("secret"),
        channel_access_token: Some(ChannelToken::new("long-lived")),
    }
}

fn hello() -> Vec<Message> {
    vec![Message::text("こんにちは")]
}

#[tokio::test]
async fn the_in_memory_messenger_meets_the_contract() {
    let messenger = InMemoryMessenger::default();
    messenger_contract::a_push_repeated_with_its_retry_key_is_delivered_once(
        &messenger,
        &channel("1001"),
        &user(1),
    )
    .await;
    messenger.revoke("1002");
    messenger_contract::refused_credentials_are_unauthorized_and_not_retried(
        &messenger,
        &channel("1002"),
        &user(1),
    )
    .await;
}

#[tokio::test]
async fn scripted_faults_answer_in_order_recipients_first_and_then_stop() {
    // Gets: user 2's own fault before the per-call ones; each fault once; then delivery.
    let messenger = InMemoryMessenger::default();
    let ch = channel("1001");
    messenger.fail_next_pushes(
        1,
        LineFault::RateLimited {
            retry_after: Some(Duration::from_secs(3)),
        },
    );
    messenger.fail_next_pushes(1, LineFault::ServerError(503));
    messenger.fail_pushes_to(&user(2), 1, LineFault::not_a_friend());
    let push = |n: u32| {
        let messenger = &messenger;
        let ch = &ch;
        async move { messenger.push(ch, &user(n), &hello(), Uuid::new_v4()).await }
    };
    let refused = push(2).await.unwrap_err();
    assert!(matches!(refused, MessengerError::Rejected { .. }));
    assert!(!refused.is_retryable());
    assert_eq!(
        push(1).await,
        Err(MessengerError::RateLimited {
            retry_after: Some(Duration::from_secs(3)),
            detail: "LINE rate limit exceeded (429, monthly limit: false)".into()
        })
    );
    let server = push(1).await.unwrap_err();
    assert_eq!(server.to_string(), "LINE server error (503)");
    assert!(server.is_retryable());
    assert!(matches!(push(1).await, Ok(PushReceipt::Accepted { .. })));
    assert!(matches!(push(2).await, Ok(PushReceipt::Accepted { .. })));
    assert_eq!(messenger.push_calls().len(), 5);
    assert_eq!(messenger.deliveries().len(), 2);
    assert_eq!(messenger.counted_messages("1001"), 2);
}

#[tokio::test]
async fn a_lost_answer_is_a_delivery_that_its_retry_key_keeps_single() {
    // Gets: the push is delivered although the port says `Unavailable`; the retry with the
    // same key is `AlreadyAccepted`, not a second delivery; a retry with a new key would be.
    let messenger = InMemoryMessenger::default();
    let ch = channel("1001");
    let key = Uuid::new_v4();
    messenger.fail_next_pushes(1, LineFault::AnswerLost);
    let lost = messenger.push(&ch, &user(1), &hello(), key).await;
    assert!(
        matches!(lost, Err(MessengerError::Unavailable { .. })),
        "{lost:?}"
    );
    assert_eq!(messenger.deliveries_to(&user(1)).len(), 1);
    let retried = messenger.push(&ch, &user(1), &hello(), key).await;
    let first = messenger.deliveries()[0].request_id.clone();
    assert_eq!(
        retried,
        Ok(PushReceipt::AlreadyAccepted {
            accepted_request_id: first
        })
    );
    assert_eq!(messenger.deliveries_to(&user(1)).len(), 1);
    messenger
        .push(&ch, &user(1), &hello(), Uuid::new_v4())
        .await
        .unwrap();
    assert_eq!(messenger.deliveries_by_recipient()[&user(1)], 2);
}

#[tokio::test]
async fn an_expired_token_is_renewed_for_a_push_but_fails_a_reply() {
    // Gets: as `LineMessenger`: the push goes out after one renewal; the reply is not
    // retried, so it fails `Unauthorized`; revoked credentials fail both.
    let messenger = InMemoryMessenger::default();
    let ch = channel("1001");
    messenger.fail_next_pushes(1, LineFault::TokenExpired);
    assert!(messenger
        .push(&ch, &user(1), &hello(), Uuid::new_v4())
        .await
        .is_ok());
    assert_eq!(messenger.token_renewals(), 1);
    assert_eq!(messenger.deliveries().len(), 1);
    messenger.fail_next_replies(1, LineFault::TokenExpired);
    let reply = messenger.reply(&ch, "token-1", &hello()).await;
    assert!(matches!(reply, Err(MessengerError::Unauthorized { .. })));
    messenger.fail_next_pushes(1, LineFault::CredentialsRevoked);
    let push = messenger
        .push(&ch, &user(1), &hello(), Uuid::new_v4())
        .await;
    assert!(matches!(push, Err(MessengerError::Unauthorized { .. })));
    assert_eq!(messenger.deliveries().len(), 1);
}

#[tokio::test]
async fn replies_are_recorded_once_per_reply_token() {
    // Gets: a reply token answers once; its second use is refused and not recorded.
    let messenger = InMemoryMessenger::default();
    let ch = channel("1001");
    messenger.reply(&ch, "token-1", &hello()).await.unwrap();
    let again = messenger.reply(&ch, "token-1", &hello()).await;
    assert!(matches!(again, Err(MessengerError::Rejected { .. })));
    assert_eq!(messenger.replies().len(), 1);
    assert_eq!(messenger.reply_calls(), 2);
    assert_eq!(messenger.reply_to("token-1"), hello());
    assert!(messenger.reply_to("token-2").is_empty());
}

#[tokio::test]
async fn the_monthly_quota_counts_deliveries_and_refuses_beyond_it() {
    // Gets: one counted message per push (not per message object); the push beyond the quota
    // is refused `MonthlyLimitReached`; a quota read can be made to fail.
    let messenger = InMemoryMessenger::default();
    let ch = channel("1001");
    assert_eq!(
        messenger.monthly_quota(&ch).await,
        Ok(MonthlyQuota::Unlimited)
    );
    messenger.set_monthly_quota("1001", MonthlyQuota::Limited(2));
    let two = vec![Message::text("a"), Message::text("b")];
    for n in 1..=2 {
        messenger
            .push(&ch, &user(n), &two, Uuid::new_v4())
            .await
            .unwrap();
    }
    assert_eq!(messenger.quota_consumption(&ch).await, Ok(2));
    let over = messenger.push(&ch, &user(3), &two, Uuid::new_v4()).await;
    assert!(matches!(
        over,
        Err(MessengerError::MonthlyLimitReached { .. })
    ));
    assert_eq!(messenger.deliveries().len(), 2);
    messenger.fail_next_quota_reads(1, LineFault::ServerError(500));
    assert!(messenger.monthly_quota(&ch).await.is_err());
    assert_eq!(
        messenger.monthly_quota(&ch).await,
        Ok(MonthlyQuota::Limited(2))
    );
}

#[tokio::test]
async fn a_hanging_push_never_answers() {
    // Gets: the call is counted as hanging and does not complete (a killed process).
    let messenger = InMemoryMessenger::default();
    messenger.fail_next_pushes(1, LineFault::Hang);
    let ch = channel("1001");
    let (to, messages) = (user(1), hello());
    let push = messenger.push(&ch, &to, &messages, Uuid::new_v4());
    let waited = tokio::time::timeout(Duration::from_millis(20), push).await;
    assert!(waited.is_err());
    assert_eq!(messenger.hanging(), 1);
    assert!(messenger.deliveries().is_empty());
}

#[tokio::test]
async fn the_forwarder_records_requests_and_answers_as_told() {
    let forwarder = InMemoryWebhookForwarder::default();
    assert_eq!(
        forwarder.forward("https://x/hook", b"{}", "sig").await,
        Ok(200)
    );
    forwarder.answer_with(Err("connection refused".into()));
    assert_eq!(
        forwarder.forward("https://x/hook", b"[]", "sig2").await,
        Err("connection refused".into())
    );
    let forwarded = forwarder.forwarded();
    assert_eq!(forwarded.len(), 2);
    assert_eq!(forwarded[1].body, b"[]");
    assert_eq!(forwarded[1].signature, "sig2");
}
