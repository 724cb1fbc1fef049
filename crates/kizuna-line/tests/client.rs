//! The Messaging API client against the contract-enforcing fake, in-process on 127.0.0.1:0.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_line::{Endpoint, FakeChannel, FakeLine, FaultPlan, RunningFakeLine};
use kizuna_line::{
    ChannelCredentials, ChannelSecret, ChannelToken, LineClient, LineError, PushOutcome, Quota,
    TokenProvider,
};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

const CHANNEL: &str = "1660000001";
const SECRET: &str = "0123456789abcdef0123456789abcdef";
const TOKEN: &str = "long-lived-token-1";
const BOT: &str = "Uf0e1d2c3b4a5968778695a4b3c2d1e0f";
const USER: &str = "U4af4980629a1b2c3d4e5f6a7b8c9d0e1";

/// A message type of the caller's own: the client takes any `Serialize`.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Msg {
    Text { text: String },
}

fn text(t: &str) -> Msg {
    Msg::Text { text: t.into() }
}

fn builder(quota: Option<u64>) -> fake_line::FakeLineBuilder {
    FakeLine::builder().channel(FakeChannel {
        channel_id: CHANNEL.into(),
        channel_secret: SECRET.into(),
        access_tokens: vec![TOKEN.into()],
        bot_user_id: BOT.into(),
        monthly_quota: quota,
    })
}

async fn start(fake: FakeLine) -> (RunningFakeLine, LineClient) {
    let running = fake.spawn().await.expect("bind");
    let client = LineClient::new(&running.base_url).expect("client");
    (running, client)
}

fn token() -> ChannelToken {
    ChannelToken::new(TOKEN)
}

#[tokio::test]
async fn reply_succeeds_once_then_reports_an_invalid_reply_token() {
    let (fake, client) = start(builder(None).build()).await;
    let reply_token = fake.issue_reply_token_for(CHANNEL, USER);
    let ok = client
        .reply(&token(), &reply_token, &[text("ようこそ"), text("2通目")])
        .await
        .expect("reply");
    assert!(ok.request_id.is_some());
    assert_eq!(ok.sent_messages.len(), 2);

    let err = client
        .reply(&token(), &reply_token, &[text("again")])
        .await
        .unwrap_err();
    assert!(err.is_invalid_reply_token(), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(fake.recorded_replies().len(), 1);
    assert!(fake.contract_violations().iter().all(|r| r.status == 400));
}

#[tokio::test]
async fn push_is_accepted_then_deduplicated_by_retry_key() {
    let (fake, client) = start(builder(None).build()).await;
    let key = Uuid::new_v4();
    let first = client
        .push(&token(), USER, &[text("今日のひとこと")], key)
        .await
        .unwrap();
    let PushOutcome::Accepted {
        request_id: Some(request_id),
        sent_messages,
    } = first
    else {
        panic!("expected Accepted with a request id, got {first:?}");
    };
    assert_eq!(sent_messages.len(), 1);

    let again = client
        .push(&token(), USER, &[text("今日のひとこと")], key)
        .await
        .unwrap();
    assert_eq!(
        again,
        PushOutcome::AlreadyAccepted {
            accepted_request_id: request_id
        }
    );
    let pushes = fake.recorded_pushes();
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].retry_key, Some(key));
    assert_eq!(
        pushes[0].messages,
        vec![json!({"type": "text", "text": "今日のひとこと"})]
    );
    assert!(fake.contract_violations().is_empty());
}

#[tokio::test]
async fn a_lost_response_is_retried_into_already_accepted() {
    let mut plan = FaultPlan::new(3);
    plan.lost_response = 1.0;
    plan.delay = Duration::from_millis(500);
    let fake = builder(None).faults(plan).build();
    let running = fake.spawn().await.unwrap();
    let client = LineClient::with_timeouts(
        &running.base_url,
        Duration::from_millis(150),
        Duration::from_secs(1),
    )
    .unwrap();
    let key = Uuid::new_v4();
    let err = client
        .push(&token(), USER, &[text("x")], key)
        .await
        .unwrap_err();
    assert!(
        matches!(err, LineError::Transport(ref m) if m.starts_with("timeout")),
        "{err:?}"
    );
    assert!(err.is_retryable());

    running.set_faults(None);
    let retry = client
        .push(&token(), USER, &[text("x")], key)
        .await
        .unwrap();
    assert!(
        matches!(retry, PushOutcome::AlreadyAccepted { .. }),
        "{retry:?}"
    );
    assert_eq!(running.recorded_pushes().len(), 1);
}

#[tokio::test]
async fn errors_are_classified() {
    let fake = builder(Some(1)).rate_limit(Endpoint::Push, 3).build();
    let (fake, client) = start(fake).await;

    // 400 with LINE's details
    let too_long = "a".repeat(5001);
    let err = client
        .push(&token(), USER, &[text(&too_long)], Uuid::new_v4())
        .await
        .unwrap_err();
    match &err {
        LineError::BadRequest { details, .. } => {
            assert_eq!(details[0].property.as_deref(), Some("messages[0].text"))
        }
        other => panic!("expected BadRequest, got {other:?}"),
    }
    assert!(!err.is_retryable());

    // 401
    let err = client
        .push(
            &ChannelToken::new("wrong"),
            USER,
            &[text("x")],
            Uuid::new_v4(),
        )
        .await
        .unwrap_err();
    assert_eq!(err, LineError::Unauthorized);

    // 5xx, injected before recording
    fake.fail_next(1, 503);
    let err = client
        .push(&token(), USER, &[text("x")], Uuid::new_v4())
        .await
        .unwrap_err();
    assert_eq!(err, LineError::Server { status: 503 });
    assert!(err.is_retryable());

    // monthly limit (quota 1): the first push uses it up
    client
        .push(&token(), USER, &[text("x")], Uuid::new_v4())
        .await
        .unwrap();
    fake.advance_clock(Duration::from_secs(2)); // fresh rate window
    let err = client
        .push(&token(), USER, &[text("x")], Uuid::new_v4())
        .await
        .unwrap_err();
    assert!(err.is_monthly_limit(), "{err:?}");
    assert!(!err.is_retryable());

    // per-second rate limit
    fake.advance_clock(Duration::from_secs(2));
    let mut last = None;
    for _ in 0..4 {
        last = client
            .push(&token(), USER, &[text("x")], Uuid::new_v4())
            .await
            .err();
    }
    let err = last.expect("the fourth push in a second is refused");
    assert_eq!(
        err,
        LineError::RateLimited {
            retry_after: None,
            monthly_limit: false
        }
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn connection_failures_are_retryable_transport_errors() {
    // Bind and drop a listener to get a port that refuses connections.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = LineClient::new(&format!("http://127.0.0.1:{port}")).unwrap();
    let err = client.bot_info(&token()).await.unwrap_err();
    assert!(matches!(err, LineError::Transport(_)), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn warm_up_reaches_the_host_without_touching_any_channel() {
    let (fake, client) = start(builder(Some(100)).build()).await;
    // Any HTTP answer will do: the point is the pooled connection, not the endpoint.
    let status = client.warm_up().await.expect("warm-up");
    assert_eq!(status.as_u16(), 404);
    assert!(fake.rejected_requests().is_empty());
    assert!(fake.contract_violations().is_empty());
    assert_eq!(fake.counted_messages(CHANNEL), 0);
    // The warmed client then works as usual.
    assert_eq!(client.quota(&token()).await.unwrap(), Quota::Limited(100));

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let unreachable = LineClient::new(&format!("http://127.0.0.1:{port}")).unwrap();
    assert!(matches!(
        unreachable.warm_up().await,
        Err(LineError::Transport(_))
    ));
}

#[tokio::test]
async fn quota_consumption_and_bot_info() {
    let (fake, client) = start(builder(Some(100)).build()).await;
    assert_eq!(client.quota(&token()).await.unwrap(), Quota::Limited(100));
    client
        .push(&token(), USER, &[text("a"), text("b")], Uuid::new_v4())
        .await
        .unwrap();
    assert_eq!(client.quota_consumption(&token()).await.unwrap(), 1);
    assert_eq!(fake.counted_messages(CHANNEL), 1);
    assert_eq!(client.bot_info(&token()).await.unwrap().user_id, BOT);

    let (_fake, client) = start(builder(None).build()).await;
    assert_eq!(client.quota(&token()).await.unwrap(), Quota::Unlimited);
}

#[tokio::test]
async fn stateless_tokens_are_issued_and_bad_secrets_are_unauthorized() {
    let (fake, client) = start(builder(None).build()).await;
    let issued = client
        .issue_stateless_token(CHANNEL, &ChannelSecret::new(SECRET))
        .await
        .unwrap();
    assert_eq!(issued.expires_in, Duration::from_secs(900));
    assert_eq!(client.bot_info(&issued.token).await.unwrap().user_id, BOT);
    assert!(!format!("{issued:?}").contains(issued.token.expose_secret()));

    let err = client
        .issue_stateless_token(CHANNEL, &ChannelSecret::new("wrong"))
        .await
        .unwrap_err();
    assert_eq!(err, LineError::Unauthorized);
    assert_eq!(fake.issued_token_count(CHANNEL), 1);
}

fn stateless_credentials() -> ChannelCredentials {
    ChannelCredentials {
        channel_id: CHANNEL.into(),
        channel_secret: ChannelSecret::new(SECRET),
        channel_access_token: None,
    }
}

#[tokio::test]
async fn token_provider_caches_until_a_minute_before_expiry() {
    let (fake, client) = start(builder(None).build()).await;
    let offset = Arc::new(AtomicU64::new(0));
    let base = Instant::now();
    let clock_offset = Arc::clone(&offset);
    let provider = TokenProvider::with_clock(
        client.clone(),
        Arc::new(move || base + Duration::from_secs(clock_offset.load(Ordering::SeqCst))),
    );
    let creds = stateless_credentials();

    let a = provider.token(&creds).await.unwrap();
    let b = provider.token(&creds).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(fake.issued_token_count(CHANNEL), 1);

    offset.store(839, Ordering::SeqCst); // 900 - 60 - 1
    assert_eq!(provider.token(&creds).await.unwrap(), a);
    assert_eq!(fake.issued_token_count(CHANNEL), 1);

    offset.store(840, Ordering::SeqCst);
    let c = provider.token(&creds).await.unwrap();
    assert_ne!(c, a);
    assert_eq!(fake.issued_token_count(CHANNEL), 2);

    provider.invalidate(CHANNEL).await;
    provider.token(&creds).await.unwrap();
    assert_eq!(fake.issued_token_count(CHANNEL), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_one_issued_token() {
    let (fake, client) = start(builder(None).build()).await;
    let provider = Arc::new(TokenProvider::new(client));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let p = Arc::clone(&provider);
        tasks.push(tokio::spawn(async move {
            p.token(&stateless_credentials()).await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(fake.issued_token_count(CHANNEL), 1);
}

#[tokio::test]
async fn token_provider_returns_a_configured_long_lived_token() {
    let (fake, client) = start(builder(None).build()).await;
    let provider = TokenProvider::new(client.clone());
    let creds = ChannelCredentials {
        channel_access_token: Some(token()),
        ..stateless_credentials()
    };
    let t = provider.token(&creds).await.unwrap();
    assert_eq!(t, token());
    assert_eq!(fake.issued_token_count(CHANNEL), 0);
    assert_eq!(client.bot_info(&t).await.unwrap().user_id, BOT);
}

#[tokio::test]
async fn revoked_tokens_are_unauthorized_and_a_fresh_stateless_token_works() {
    let (fake, client) = start(builder(None).build()).await;
    let provider = TokenProvider::new(client.clone());
    let creds = stateless_credentials();
    let t = provider.token(&creds).await.unwrap();
    fake.revoke_tokens(CHANNEL);
    let err = client.bot_info(&t).await.unwrap_err();
    assert_eq!(err, LineError::Unauthorized);
    provider.invalidate(CHANNEL).await;
    let fresh = provider.token(&creds).await.unwrap();
    assert_eq!(client.bot_info(&fresh).await.unwrap().user_id, BOT);
}

/// Gets: many callers refused with the same token ask for a fresh one at once, and one token
/// is issued for all of them; a caller whose refused token was already replaced gets the
/// replacement without another issue; a long-lived token comes back as stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_refused_with_one_token_share_one_fresh_token() {
    let (fake, client) = start(builder(None).build()).await;
    let provider = Arc::new(TokenProvider::new(client));
    let refused = provider.token(&stateless_credentials()).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let p = Arc::clone(&provider);
        let refused = refused.clone();
        tasks.push(tokio::spawn(async move {
            p.fresh_token(&stateless_credentials(), &refused).await
        }));
    }
    let mut fresh = Vec::new();
    for t in tasks {
        fresh.push(t.await.unwrap().unwrap());
    }
    assert!(fresh.iter().all(|t| *t == fresh[0] && *t != refused));
    assert_eq!(fake.issued_token_count(CHANNEL), 2);
    assert_eq!(
        provider.token(&stateless_credentials()).await.unwrap(),
        fresh[0]
    );

    let long_lived = ChannelCredentials {
        channel_access_token: Some(token()),
        ..stateless_credentials()
    };
    assert_eq!(
        provider.fresh_token(&long_lived, &token()).await.unwrap(),
        token()
    );
    assert_eq!(fake.issued_token_count(CHANNEL), 2);
}
