//! `LineMessenger`, the application's `Messenger` port over LINE, against the
//! contract-enforcing fake: the token cache it keeps and the one retry with a fresh token.

use fake_line::{Endpoint, FakeChannel, FakeLine, RunningFakeLine};
use kizuna_app::model::{ChannelCredentials, ChannelSecret, ChannelToken};
use kizuna_app::ports::{Messenger, MessengerError, MonthlyQuota, PushReceipt};
use kizuna_core::{LineUserId, Message};
use kizuna_line::{LineClient, LineMessenger};
use uuid::Uuid;

const CHANNEL: &str = "1660000002";
const SECRET: &str = "fedcba9876543210fedcba9876543210";
const TOKEN: &str = "long-lived-token-2";
const BOT: &str = "Uf0e1d2c3b4a5968778695a4b3c2d1e0e";
const USER: &str = "U4af4980629a1b2c3d4e5f6a7b8c9d0e2";

async fn start(quota: Option<u64>) -> (RunningFakeLine, LineMessenger) {
    let running = FakeLine::builder()
        .channel(FakeChannel {
            channel_id: CHANNEL.into(),
            channel_secret: SECRET.into(),
            access_tokens: vec![TOKEN.into()],
            bot_user_id: BOT.into(),
            monthly_quota: quota,
        })
        .build()
        .spawn()
        .await
        .expect("bind");
    let messenger = LineMessenger::new(LineClient::new(&running.base_url).expect("client"));
    (running, messenger)
}

fn stateless() -> ChannelCredentials {
    ChannelCredentials {
        channel_id: CHANNEL.into(),
        channel_secret: ChannelSecret::new(SECRET),
        channel_access_token: None,
    }
}

fn long_lived() -> ChannelCredentials {
    ChannelCredentials {
        channel_access_token: Some(ChannelToken::new(TOKEN)),
        ..stateless()
    }
}

fn user() -> LineUserId {
    LineUserId::parse(USER).unwrap()
}

fn hello() -> Vec<Message> {
    vec![Message::text("こんにちは")]
}

/// Gets: an accepted push, then the same retry key answered as already accepted (409) with
/// the first request's id; one delivery recorded.
#[tokio::test]
async fn a_push_is_accepted_once_per_retry_key() {
    let (fake, messenger) = start(None).await;
    let key = Uuid::new_v4();
    let first = messenger
        .push(&long_lived(), &user(), &hello(), key)
        .await
        .unwrap();
    let PushReceipt::Accepted {
        request_id: Some(request_id),
    } = first
    else {
        panic!("expected Accepted with a request id, got {first:?}");
    };
    let again = messenger
        .push(&long_lived(), &user(), &hello(), key)
        .await
        .unwrap();
    assert_eq!(
        again,
        PushReceipt::AlreadyAccepted {
            accepted_request_id: request_id
        }
    );
    assert_eq!(fake.recorded_pushes().len(), 1);
    assert!(fake.contract_violations().is_empty());
}

/// Gets: with stateless tokens, one token serves many calls (cached), and a token LINE
/// revoked is replaced by a freshly issued one inside the same push, which then goes out;
/// later pushes use the fresh token without issuing again.
#[tokio::test]
async fn a_revoked_stateless_token_is_replaced_within_the_push() {
    let (fake, messenger) = start(None).await;
    let creds = stateless();
    messenger.check_access(&creds).await.unwrap();
    messenger
        .push(&creds, &user(), &hello(), Uuid::new_v4())
        .await
        .unwrap();
    assert_eq!(fake.issued_token_count(CHANNEL), 1);

    fake.revoke_tokens(CHANNEL);
    let receipt = messenger
        .push(&creds, &user(), &hello(), Uuid::new_v4())
        .await
        .expect("sent with a fresh token");
    assert!(matches!(receipt, PushReceipt::Accepted { .. }));
    assert_eq!(fake.issued_token_count(CHANNEL), 2);
    messenger
        .push(&creds, &user(), &hello(), Uuid::new_v4())
        .await
        .unwrap();
    assert_eq!(
        fake.issued_token_count(CHANNEL),
        2,
        "the fresh token is cached"
    );
    assert_eq!(fake.recorded_pushes().len(), 3);
}

/// Gets: a long-lived token cannot be renewed, so its 401 is final at once (no token
/// issued, nothing sent); `check_access` does not call LINE for it.
#[tokio::test]
async fn a_revoked_long_lived_token_is_unauthorized_without_a_second_try() {
    let (fake, messenger) = start(None).await;
    fake.revoke_tokens(CHANNEL);
    messenger.check_access(&long_lived()).await.unwrap();
    let err = messenger
        .push(&long_lived(), &user(), &hello(), Uuid::new_v4())
        .await
        .unwrap_err();
    assert!(
        matches!(err, MessengerError::Unauthorized { .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_eq!(fake.issued_token_count(CHANNEL), 0);
    assert!(fake.recorded_pushes().is_empty());
}

/// Gets: a push refused with a fresh token too is `Unauthorized` after exactly two tries
/// (one fresh token issued), and the refused token is forgotten, so the next call issues
/// another; credentials LINE will not issue a token for are `Unauthorized` at `check_access`.
#[tokio::test]
async fn credentials_refused_even_with_a_fresh_token_are_unauthorized() {
    let (fake, messenger) = start(None).await;
    let creds = stateless();
    messenger.check_access(&creds).await.unwrap();
    fake.fail_next_on(Endpoint::Push, 2, 401);
    let err = messenger
        .push(&creds, &user(), &hello(), Uuid::new_v4())
        .await
        .unwrap_err();
    assert!(
        matches!(err, MessengerError::Unauthorized { .. }),
        "{err:?}"
    );
    assert_eq!(fake.issued_token_count(CHANNEL), 2);
    messenger.check_access(&creds).await.unwrap();
    assert_eq!(fake.issued_token_count(CHANNEL), 3);
    assert!(fake.recorded_pushes().is_empty());

    // A new messenger: the cache is keyed by channel id and would hand out its token.
    let (_fake, messenger) = start(None).await;
    let wrong_secret = ChannelCredentials {
        channel_secret: ChannelSecret::new("not-the-secret"),
        ..stateless()
    };
    let err = messenger.check_access(&wrong_secret).await.unwrap_err();
    assert!(
        matches!(err, MessengerError::Unauthorized { .. }),
        "{err:?}"
    );
}

/// Gets: a reply refused with 401 is not retried (the webhook has always given it up), but
/// the refused token is forgotten, so the next reply goes out with a fresh one.
#[tokio::test]
async fn a_refused_reply_is_not_retried_but_the_next_one_gets_a_fresh_token() {
    let (fake, messenger) = start(None).await;
    let creds = stateless();
    messenger.check_access(&creds).await.unwrap();
    fake.revoke_tokens(CHANNEL);
    let reply_token = fake.issue_reply_token_for(CHANNEL, USER);
    let err = messenger
        .reply(&creds, &reply_token, &hello())
        .await
        .unwrap_err();
    assert!(
        matches!(err, MessengerError::Unauthorized { .. }),
        "{err:?}"
    );
    assert_eq!(fake.issued_token_count(CHANNEL), 1, "no fresh token yet");
    assert!(fake.recorded_replies().is_empty());

    let reply_token = fake.issue_reply_token_for(CHANNEL, USER);
    messenger
        .reply(&creds, &reply_token, &hello())
        .await
        .expect("a fresh token");
    assert_eq!(fake.issued_token_count(CHANNEL), 2);
    assert_eq!(fake.recorded_replies().len(), 1);
}

/// Gets: the quota and its consumption as the port states them, and a push past the monthly
/// limit reported as the month's limit (not a passing rate limit).
#[tokio::test]
async fn quota_and_the_monthly_limit() {
    let (fake, messenger) = start(Some(1)).await;
    assert_eq!(
        messenger.monthly_quota(&long_lived()).await.unwrap(),
        MonthlyQuota::Limited(1)
    );
    messenger
        .push(&long_lived(), &user(), &hello(), Uuid::new_v4())
        .await
        .unwrap();
    assert_eq!(messenger.quota_consumption(&long_lived()).await.unwrap(), 1);
    fake.advance_clock(std::time::Duration::from_secs(2)); // a fresh rate window
    let err = messenger
        .push(&long_lived(), &user(), &hello(), Uuid::new_v4())
        .await
        .unwrap_err();
    assert!(
        matches!(err, MessengerError::MonthlyLimitReached { .. }),
        "{err:?}"
    );

    let (_fake, messenger) = start(None).await;
    assert_eq!(
        messenger.monthly_quota(&long_lived()).await.unwrap(),
        MonthlyQuota::Unlimited
    );
}

/// Gets: a server error is `Unavailable` (retryable) and carries LINE's description.
#[tokio::test]
async fn server_errors_are_unavailable() {
    let (fake, messenger) = start(None).await;
    fake.fail_next(1, 503);
    let err = messenger
        .push(&long_lived(), &user(), &hello(), Uuid::new_v4())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        MessengerError::Unavailable {
            detail: "LINE server error (503)".into()
        }
    );
    assert!(err.is_retryable());
}

/// Gets: the adapter over the fake LINE meets the messenger contract that the in-memory
/// messenger of the behaviour tests is held to (retry-key dedupe and its quota count, refused
/// credentials), for both kinds of token.
#[tokio::test]
async fn line_messenger_meets_the_messenger_contract() {
    use kizuna_app::memory::messenger_contract;
    let (fake, messenger) = start(None).await;
    for channel in [long_lived(), stateless()] {
        messenger_contract::a_push_repeated_with_its_retry_key_is_delivered_once(
            &messenger,
            &channel,
            &user(),
        )
        .await;
    }
    fake.revoke_tokens(CHANNEL);
    messenger_contract::refused_credentials_are_unauthorized_and_not_retried(
        &messenger,
        &long_lived(),
        &user(),
    )
    .await;
}

/// Gets: six objects, or a text over LINE's 5,000 UTF-16 units, refused as `Rejected` (not
/// retryable) by the adapter itself: nothing reaches LINE, not even a token request's push.
#[tokio::test]
async fn messages_line_would_refuse_are_rejected_before_any_request() {
    let (fake, messenger) = start(None).await;
    for messages in [
        vec![Message::text("こんにちは"); 6],
        vec![Message::text("あ".repeat(5001))],
        Vec::new(),
    ] {
        let refused = messenger
            .push(&long_lived(), &user(), &messages, Uuid::new_v4())
            .await
            .unwrap_err();
        assert!(
            matches!(refused, MessengerError::Rejected { .. }) && !refused.is_retryable(),
            "{refused:?}"
        );
    }
    assert!(fake.recorded_pushes().is_empty());
}
