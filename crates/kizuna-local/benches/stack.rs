//! Benchmarks of the whole stack on this machine (a harness, not a test: no assertion is timed).
//!
//!     cargo bench -p kizuna-local --bench stack                # all
//!     cargo bench -p kizuna-local --bench stack -- webhook     # one: webhook | fanout | rate
//!
//! Results and their reading are in docs/benchmarks.md.

use chrono::{Days, NaiveDate};
use fake_line::{Endpoint, FakeChannel, RejectionKind};
use futures::stream::{FuturesUnordered, StreamExt};
use kizuna_app::pacing::Pacer;
use kizuna_app::ports::HouseholdStore;
use kizuna_aws::compose;
use kizuna_core::{Household, LineUserId, Message, Registration, RegistrationStatus, Subject};
use kizuna_line::{ChannelToken, LineClient};
use kizuna_local::{LocalStack, StackOptions, Town};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 1, 10).unwrap()
}

async fn stack(name: &str) -> LocalStack {
    let (config, clients) = kizuna_local::moto::provisioned_namespace(name)
        .await
        .unwrap();
    let content = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../content");
    let s = LocalStack::start(
        config,
        clients,
        vec![Town::new("kizuna-town", "きずな町", 7, 1)],
        &content,
        StackOptions::default(),
    )
    .await
    .unwrap();
    s.set_japan_time(date(), 6, 0);
    s
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct we own.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(usage.ru_utime) + t(usage.ru_stime)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Signed webhook requests over HTTP: verify signature, parse, dedupe claim, read + conditional
/// write of the household in DynamoDB (moto), reply through the fake LINE.
async fn webhook() {
    let s = stack("benchwebhook").await;
    let town = s.towns[0].id().clone();
    let n = 300;
    let mut latencies = Vec::with_capacity(n * 2);
    let start = Instant::now();
    for i in 0..n {
        let user = format!("U{:032x}", 0x7e00_0000_u128 + i as u128);
        for event in [
            fake_line::webhook::follow_event(&user, &s.reply_token(&user), false),
            fake_line::webhook::postback_event(
                &user,
                &s.reply_token(&user),
                &kizuna_core::conversation::Postback::ConsentAgree.data(),
                None,
            ),
            fake_line::webhook::postback_event(
                &user,
                &s.reply_token(&user),
                "kizuna:v1:date:due",
                Some(json!({"date": "2027-06-01"})),
            ),
        ] {
            let t = Instant::now();
            let (status, _) = s.post_events(&town, vec![event]).await;
            assert_eq!(status, 200);
            latencies.push(t.elapsed());
        }
    }
    let wall = start.elapsed();
    latencies.sort();
    println!(
        "webhook: {} signed requests in {:.2} s = {:.0} req/s sequential; latency p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
        latencies.len(),
        wall.as_secs_f64(),
        latencies.len() as f64 / wall.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.95).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    );
    // The same handler without HTTP and without storage in the way: signature + JSON parse only.
    let secret = s.towns[0].channel.channel_secret.clone();
    let body = fake_line::webhook::signed_body(
        &secret,
        "Ub",
        vec![fake_line::webhook::follow_event(
            &format!("U{:032x}", 1),
            "t",
            false,
        )],
    );
    let iterations = 100_000;
    let t = Instant::now();
    for _ in 0..iterations {
        assert!(kizuna_line_webhook::signature::verify(
            secret.as_bytes(),
            &body.body,
            &body.signature
        ));
        std::hint::black_box(kizuna_line_webhook::parse(&body.body).unwrap());
    }
    println!(
        "webhook: signature verify + parse alone: {:.1} µs per request ({} iterations)",
        t.elapsed().as_secs_f64() * 1e6 / iterations as f64,
        iterations
    );
}

/// 10,000 registrations end to end: scheduler → SQS → sender → fake LINE, ledger in DynamoDB.
async fn fanout() {
    let s = stack("benchfanout").await;
    let town = s.towns[0].id().clone();
    let store = compose::households(&s.config, &s.clients);
    let n: u32 = std::env::var("KIZUNA_BENCH_HOUSEHOLDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let t = Instant::now();
    let mut saves = FuturesUnordered::new();
    for i in 0..n {
        let store = store.clone();
        let town = town.clone();
        saves.push(async move {
            let user =
                LineUserId::parse(&format!("U{:032x}", 0xfa00_0000_u128 + u128::from(i))).unwrap();
            let mut h = Household::new(town, user);
            let subject = if i % 2 == 0 {
                Subject::Pregnancy {
                    due_date: date() + Days::new(u64::from(i % 250) + 1),
                }
            } else {
                Subject::Child {
                    birth_date: date() - Days::new(u64::from(i % 100)),
                    due_date: None,
                }
            };
            h.registrations.push(Registration {
                id: 1,
                subject,
                baby_count: 1,
                status: RegistrationStatus::Active,
                registered_on: date(),
            });
            store.save(&h).await.unwrap();
        });
        if saves.len() >= 16 {
            saves.next().await;
        }
    }
    while saves.next().await.is_some() {}
    println!(
        "fanout: {n} households stored in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let cpu0 = cpu_seconds();
    let t = Instant::now();
    let runs = s.run_day(date()).await.unwrap();
    let wall = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let sent: u64 = runs
        .iter()
        .filter_map(|r| r.result.as_ref().ok())
        .map(|r| r.counts.sent)
        .sum();
    let pushes = s.line.recorded_pushes();
    let recipients: std::collections::HashSet<_> = pushes.iter().map(|p| p.to.clone()).collect();
    let counted = s.line.counted_messages(&s.towns[0].channel.channel_id);
    println!(
        "fanout: {sent} deliveries in {wall:.1} s wall ({:.0}/s); process CPU {cpu:.2} s = {:.3} CPU-s per 1,000 deliveries (sender + fake LINE + HTTP, moto excluded)",
        sent as f64 / wall,
        cpu * 1000.0 / sent.max(1) as f64
    );
    println!(
        "fanout: pushes {}, distinct recipients {}, counted LINE messages {} → {:.3} counted messages per household per day",
        pushes.len(),
        recipients.len(),
        counted,
        counted as f64 / recipients.len().max(1) as f64
    );
}

/// The sender's push path (pacer + client) against the fake LINE enforcing 2,000 requests/s.
async fn rate() {
    let secs: u64 = std::env::var("KIZUNA_BENCH_RATE_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let channel = FakeChannel {
        channel_id: "2000000001".into(),
        channel_secret: "0".repeat(32),
        access_tokens: vec!["bench-token".into()],
        bot_user_id: format!("U{:032x}", 1),
        monthly_quota: None,
    };
    let line = fake_line::FakeLine::builder()
        .channel(channel)
        .rate_limit(Endpoint::Push, 2000)
        .build()
        .spawn()
        .await
        .unwrap();
    let client = LineClient::new(&line.base_url).unwrap();
    let token = ChannelToken::new("bench-token");
    let pacer = Arc::new(Pacer::for_limit(2000));
    let messages = [Message::text("ベンチマークのメッセージです。")];
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let mut in_flight = FuturesUnordered::new();
    let mut i: u128 = 0;
    let (mut ok, mut limited, mut other) = (0u64, 0u64, 0u64);
    while Instant::now() < deadline {
        while in_flight.len() < 128 {
            i += 1;
            let (client, token, pacer, messages) = (
                client.clone(),
                token.clone(),
                pacer.clone(),
                messages.clone(),
            );
            in_flight.push(async move {
                pacer.acquire().await;
                let messages = kizuna_line::wire::render(&messages).expect("a valid message");
                client
                    .push(
                        &token,
                        &format!("U{:032x}", 0x5000_0000 + i),
                        &messages,
                        uuid::Uuid::new_v4(),
                    )
                    .await
            });
        }
        match in_flight.next().await {
            Some(Ok(_)) => ok += 1,
            Some(Err(kizuna_line::LineError::RateLimited { .. })) => limited += 1,
            Some(Err(_)) => other += 1,
            None => {}
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let rejected_429 = line
        .rejected_requests()
        .iter()
        .filter(|r| r.kind == RejectionKind::RateLimited)
        .count();
    println!(
        "rate: {ok} pushes accepted in {elapsed:.1} s = {:.0}/s ({:.1} % of the 2,000/s limit); 429s: {limited} (fake recorded {rejected_429}); other errors: {other}",
        ok as f64 / elapsed,
        ok as f64 / elapsed / 20.0
    );
}

#[tokio::main]
async fn main() {
    let which: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let run = |name: &str| which.is_empty() || which.iter().any(|w| w == name);
    if run("webhook") {
        webhook().await;
    }
    if run("fanout") {
        fanout().await;
    }
    if run("rate") {
        rate().await;
    }
}
