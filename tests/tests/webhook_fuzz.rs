//! Webhook fuzzing through the real `WebhookHandler` composed over moto and the fake LINE.
//!
//! Three properties, each over generated inputs (proptest, a fixed seed so CI is repeatable;
//! `KIZUNA_FUZZ_SEED` picks another one):
//!
//! 1. **Without a valid signature nothing happens.** Random, truncated and mutated bodies,
//!    deeply nested or giant JSON, with missing, empty, junk or someone else's signatures, on
//!    known and hostile municipality path segments: the answer is 401, 404 or 413, the
//!    households and webhook-events tables are unchanged item for item, and LINE is not called.
//! 2. **A valid signature over hostile JSON never corrupts a household.** Events with missing
//!    fields, unknown types, bogus user ids, impossible postback dates, replayed event ids, a
//!    foreign `destination`: the answer is 200 or 400, the parent's household still reads
//!    back and round-trips, its invariants hold, and nobody else's household changes.
//! 3. **Every input is answered before the Lambda's timeout** (`WebhookFunction` `Timeout` in
//!    `infra/template.yaml`), including a body of thousands of events. This is a hang
//!    detector, not a speed target; the latencies are measured by the `--ignored` test
//!    `latency_per_input_class`, which prints max and p99 per input class.
//!
//! Most cases call `stack.webhook.handle(...)` directly (the function the Lambda and the HTTP
//! router both call); every few cases go over HTTP instead, with the header name in varied case.

use fake_line::webhook::{follow_event, postback_event, redelivered, sign, text_message_event};
use kizuna_app::clock::Clock;
use kizuna_app::ports::HouseholdStore;
use kizuna_aws::compose;
use kizuna_core::conversation::{MAX_ACTIVE_REGISTRATIONS, MAX_REGISTRATIONS};
use kizuna_core::{Household, LineUserId};
use kizuna_local::{LocalStack, StackOptions, Town};
use kizuna_tests::stack::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `WebhookFunction`'s `Timeout` in `infra/template.yaml`: an answer later than this is no
/// answer in AWS (checked against the template by `the_time_budget_is_the_lambdas`).
const LAMBDA_TIMEOUT: Duration = Duration::from_secs(10);

/// The town under attack, a second town (another channel secret), and the parents in them.
const TOWN: &str = "kizuna-town";
const OTHER_TOWN: &str = "other-town";
/// Event ids that several generated bodies share, so that replays of them are exercised.
const REPLAYED_IDS: [&str; 3] = [
    "01JREPLAYED0000000000000AA",
    "01JREPLAYED0000000000000BB",
    "01JREPLAYED0000000000000CC",
];

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2027, 1, 10).unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The generator's seed: fixed unless `KIZUNA_FUZZ_SEED` (any text) says otherwise.
fn runner(cases: u32) -> TestRunner {
    let seed_text = std::env::var("KIZUNA_FUZZ_SEED").unwrap_or_else(|_| "kizuna".into());
    let mut seed = [0u8; 32];
    for (i, b) in seed_text.bytes().enumerate() {
        seed[i % 32] ^= b.wrapping_add(i as u8);
    }
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            max_shrink_iters: 64,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    )
}

/// How many cases the long run uses (`KIZUNA_FUZZ_CASES`), else `default`.
fn cases_or(default: u32) -> u32 {
    std::env::var("KIZUNA_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---- the stack under attack ------------------------------------------------------------

struct Fixture {
    stack: LocalStack,
    secret: String,
    bot: String,
    /// Registered in TOWN; hostile events come from this user (among others).
    parent: String,
    /// Registered in TOWN; never named by a generated event, so must never change.
    bystander: String,
    /// A well-formed, validly signed body (follow + text + postback of `parent`).
    valid_body: Vec<u8>,
    latencies: Mutex<BTreeMap<String, Vec<Duration>>>,
}

impl Fixture {
    async fn start() -> Self {
        let stack = stack_with(
            vec![kizuna_town(), Town::new(OTHER_TOWN, "よその町", 8, 2)],
            StackOptions::default(),
        )
        .await;
        stack.set_japan_time(today(), 12, 0);
        let town = town_id(TOWN);
        let (parent, bystander) = (user(1), user(2));
        for (town_name, who) in [(TOWN, &parent), (TOWN, &bystander), (OTHER_TOWN, &parent)] {
            let p = Parent::new(&stack, town_name, who.clone());
            let welcome = p.follow_and_agree().await;
            p.tap(
                &welcome,
                "出産予定日を選ぶ",
                Some(chrono::NaiveDate::from_ymd_opt(2027, 6, 1).unwrap()),
            )
            .await;
        }
        let secret = stack.town(&town).channel.channel_secret.clone();
        let bot = stack.town(&town).channel.bot_user_id.clone();
        let token = stack.reply_token(&parent);
        let valid_body = json!({
            "destination": bot,
            "events": [
                follow_event(&parent, &token, false),
                text_message_event(&parent, &token, "令和9年6月1日"),
                postback_event(&parent, &token, "kizuna:v1:date:due", Some(json!({"date": "2027-06-01"}))),
            ],
        })
        .to_string()
        .into_bytes();
        Self {
            stack,
            secret,
            bot,
            parent,
            bystander,
            valid_body,
            latencies: Mutex::new(BTreeMap::new()),
        }
    }

    /// `body` posted to TOWN, signed with its channel secret.
    fn signed_request(&self, body: Vec<u8>) -> Request {
        Request {
            municipality: TOWN.to_owned(),
            signature: Some(sign(&self.secret, &body)),
            header_name: "x-line-signature".to_owned(),
            body,
        }
    }

    fn record(&self, class: &str, took: Duration) {
        self.latencies
            .lock()
            .unwrap()
            .entry(class.to_owned())
            .or_default()
            .push(took);
    }

    /// Everything an input could change: both tables, item for item, and every call LINE saw.
    async fn observable_state(&self) -> ObservableState {
        let tables = &self.stack.config.tables;
        let line = &self.stack.line;
        (
            table_snapshot(&self.stack, &tables.households).await,
            table_snapshot(&self.stack, &tables.events).await,
            [
                line.recorded_pushes().len(),
                line.recorded_replies().len(),
                line.rejected_requests().len(),
                line.issued_token_count(&self.stack.towns[0].channel.channel_id) as usize,
                line.issued_token_count(&self.stack.towns[1].channel.channel_id) as usize,
            ],
        )
    }

    async fn stored(&self, town: &str, who: &str) -> Result<Option<Household>, String> {
        compose::households(&self.stack.config, &self.stack.clients)
            .get(&town_id(town), &LineUserId::parse(who).unwrap())
            .await
            .map_err(|e| e.to_string())
    }

    /// Sends one request (directly or over HTTP) and returns its status, failing the case if
    /// it is not answered within the Lambda's timeout.
    async fn send(
        &self,
        class: &str,
        request: &Request,
        via_http: bool,
    ) -> Result<u16, TestCaseError> {
        let started = Instant::now();
        let answered = if via_http {
            let path = format!("/webhook/{}", percent_encode(&request.municipality));
            let (name, value) = match &request.signature {
                Some(sig) => (request.header_name.as_str(), sig.as_str()),
                None => ("x-line-signatur", "no signature here"),
            };
            tokio::time::timeout(
                LAMBDA_TIMEOUT,
                post_with_header(&self.stack.webhook_base, &path, name, value, &request.body),
            )
            .await
        } else {
            tokio::time::timeout(
                LAMBDA_TIMEOUT,
                self.stack.webhook.handle(
                    &request.municipality,
                    request.signature.as_deref(),
                    &request.body,
                ),
            )
            .await
            .map(|answer| answer.status)
        };
        let took = started.elapsed();
        let Ok(status) = answered else {
            return Err(TestCaseError::fail(format!(
                "{class}: not answered within the Lambda timeout ({LAMBDA_TIMEOUT:?})"
            )));
        };
        self.record(
            &format!("{}{class}", if via_http { "http " } else { "" }),
            took,
        );
        Ok(status)
    }

    fn print_latencies(&self) {
        println!(
            "{:<34} {:>6} {:>10} {:>10} {:>10}",
            "input class", "n", "p50 ms", "p99 ms", "max ms"
        );
        for (class, samples) in self.latencies.lock().unwrap().iter() {
            let mut sorted = samples.clone();
            sorted.sort();
            let at = |q: f64| {
                sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1]
            };
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            println!(
                "{class:<34} {:>6} {:>10.1} {:>10.1} {:>10.1}",
                sorted.len(),
                ms(at(0.5)),
                ms(at(0.99)),
                ms(*sorted.last().unwrap()),
            );
        }
    }
}

/// One webhook request as the handler sees it.
#[derive(Debug, Clone)]
struct Request {
    municipality: String,
    /// The `x-line-signature` value, if the header is sent.
    signature: Option<String>,
    /// The header name used over HTTP (LINE's name in some letter case).
    header_name: String,
    body: Vec<u8>,
}

/// Percent-encodes a path segment (everything but unreserved characters).
fn percent_encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A header value an HTTP/1.1 request can carry at all (no line breaks or other controls).
fn sendable_header(value: &str) -> bool {
    value.bytes().all(|b| (0x20..0x7f).contains(&b))
}

// ---- generated bodies ------------------------------------------------------------------

/// Bodies for requests without a valid signature, each with the name of its input class.
fn hostile_bodies(valid: Vec<u8>) -> BoxedStrategy<(&'static str, Vec<u8>)> {
    let len = valid.len();
    let v1 = valid.clone();
    let v2 = valid.clone();
    let v3 = valid.clone();
    let v4 = valid;
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2048).prop_map(|b| ("random bytes", b)),
        (0..len).prop_map(move |cut| ("truncated valid body", v1[..cut].to_vec())),
        (0..len, any::<u8>()).prop_map(move |(at, byte)| {
            let mut b = v2.clone();
            b[at] = if b[at] == byte { byte ^ 0x20 } else { byte };
            ("mutated valid body", b)
        }),
        (0..len, prop::collection::vec(any::<u8>(), 1..16)).prop_map(move |(at, junk)| {
            let mut b = v3.clone();
            b.splice(at..at, junk);
            ("mutated valid body", b)
        }),
        (1usize..200_000).prop_map(|depth| {
            let mut b = br#"{"destination":"x","events":[{"type":"x","n":"#.to_vec();
            b.extend(std::iter::repeat_n(b'[', depth));
            b.extend(std::iter::repeat_n(b']', depth));
            b.extend(b"}]}");
            ("deeply nested json", b)
        }),
        (0usize..1_100_000).prop_map(|n| ("giant string", giant_text_body("x", n, "U0"))),
        "\\PC{0,300}".prop_map(|s| ("unicode", s.into_bytes())),
        json_value().prop_map(|v| ("wrong types", v.to_string().into_bytes())),
        Just(()).prop_map(move |()| ("duplicate keys", duplicate_keys(&v4))),
        (MAX_BODY + 1..MAX_BODY + 4096).prop_map(|n| ("over 1 MB", vec![b' '; n])),
    ]
    .boxed()
}

const MAX_BODY: usize = kizuna_app::webhook::MAX_BODY_BYTES;

/// A webhook body with one text message of `n` repetitions of `unit`.
fn giant_text_body(unit: &str, n: usize, user: &str) -> Vec<u8> {
    json!({
        "destination": "U0",
        "events": [{
            "type": "message", "mode": "active", "timestamp": 1,
            "webhookEventId": "01JGIANT000000000000000000",
            "deliveryContext": {"isRedelivery": false},
            "source": {"type": "user", "userId": user},
            "replyToken": "r",
            "message": {"type": "text", "id": "1", "text": unit.repeat(n)},
        }],
    })
    .to_string()
    .into_bytes()
}

/// `valid` with `"events": []` inserted before its own `events` (a duplicate key).
fn duplicate_keys(valid: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(valid);
    text.replacen("\"events\":", "\"events\":[],\"events\":", 1)
        .into_bytes()
}

/// Any JSON, with numbers out of every integer range and strings of any Unicode.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        prop_oneof![Just(1e300), Just(-1e300), Just(0.5), Just(-0.0)].prop_map(|f| json!(f)),
        "\\PC{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("destination".to_owned()),
                    Just("events".to_owned()),
                    Just("type".to_owned()),
                    "\\PC{0,10}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The signature header of a request that must be refused.
#[derive(Debug, Clone)]
enum BadSignature {
    Missing,
    Empty,
    Junk(String),
    /// Valid Base64 of any length, not the MAC.
    Base64Junk(Vec<u8>),
    /// The correct signature of the valid body, sent with another body.
    OfAnotherBody,
    /// The body signed with a secret that is not the channel's.
    OtherSecret(String),
    /// The body signed with the other town's secret.
    OtherTown,
    /// The body signed correctly for TOWN (used on other path segments).
    ValidForTown,
}

fn bad_signatures() -> impl Strategy<Value = BadSignature> {
    prop_oneof![
        Just(BadSignature::Missing),
        Just(BadSignature::Empty),
        "\\PC{0,60}".prop_map(BadSignature::Junk),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(BadSignature::Base64Junk),
        Just(BadSignature::OfAnotherBody),
        "[a-f0-9]{0,40}".prop_map(BadSignature::OtherSecret),
        Just(BadSignature::OtherTown),
        Just(BadSignature::ValidForTown),
    ]
}

/// Path segments: mostly the real town (so the signature check is what refuses), else
/// unknown ids and hostile strings.
fn municipalities() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(TOWN.to_owned()),
        1 => Just(OTHER_TOWN.to_owned()),
        1 => prop_oneof![
            Just("KIZUNA-TOWN".to_owned()),
            Just("kizuna-town/".to_owned()),
            Just("../kizuna-town".to_owned()),
            Just("kizuna-town\0".to_owned()),
            Just(" kizuna-town".to_owned()),
            Just("-kizuna".to_owned()),
            Just("a".repeat(41)),
            Just(String::new()),
            "[a-z0-9-]{1,40}",
            "\\PC{0,80}",
        ],
    ]
}

/// `x-line-signature` in the letter cases a client might use.
fn header_names() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("x-line-signature".to_owned()),
        Just("X-Line-Signature".to_owned()),
        Just("X-LINE-SIGNATURE".to_owned()),
        Just("x-LINE-signature".to_owned()),
    ]
}

// ---- property 1: no valid signature, no effect -----------------------------------------

/// Everything [`Fixture::observable_state`] returns.
type ObservableState = (Vec<String>, Vec<String>, [usize; 5]);

/// `before` is the state before the first case: every case that passes leaves it unchanged,
/// so it is the state before each case too (and one scan per case is saved).
async fn refused_without_effect(
    fx: &Fixture,
    before: &ObservableState,
    class: &str,
    request: Request,
    via_http: bool,
) -> Result<(), TestCaseError> {
    let status = fx.send(class, &request, via_http).await?;
    prop_assert!(
        matches!(status, 401 | 404 | 413),
        "{class}: answered {status} to {request:?}"
    );
    let after = fx.observable_state().await;
    prop_assert!(
        *before == after,
        "{class}: a request without a valid signature changed something: {request:?}"
    );
    Ok(())
}

fn run_unsigned(fx: &Fixture, rt: &tokio::runtime::Runtime, cases: u32) {
    let strategy = (
        hostile_bodies(fx.valid_body.clone()),
        bad_signatures(),
        municipalities(),
        header_names(),
        0u8..6,
    );
    let other_secret = fx.stack.towns[1].channel.channel_secret.clone();
    let valid_signature = sign(&fx.secret, &fx.valid_body);
    let before = rt.block_on(fx.observable_state());
    runner(cases)
        .run(
            &strategy,
            |((class, body), bad, municipality, header_name, http_dice)| {
                let signature = match &bad {
                    BadSignature::Missing => None,
                    BadSignature::Empty => Some(String::new()),
                    BadSignature::Junk(s) => Some(s.clone()),
                    BadSignature::Base64Junk(b) => Some(base64_of(b)),
                    BadSignature::OfAnotherBody => Some(valid_signature.clone()),
                    BadSignature::OtherSecret(s) => Some(sign(s, &body)),
                    BadSignature::OtherTown => Some(sign(&other_secret, &body)),
                    BadSignature::ValidForTown => Some(sign(&fx.secret, &body)),
                };
                // Only inputs that must be refused: no signature that verifies for the town
                // on the path (a valid one is sent on purpose to the wrong path only).
                let path_secret = match municipality.as_str() {
                    TOWN => Some(fx.secret.as_str()),
                    OTHER_TOWN => Some(other_secret.as_str()),
                    _ => None,
                };
                let verifies = signature.as_deref().zip(path_secret).is_some_and(|(s, k)| {
                    kizuna_line_webhook::signature::verify(k.as_bytes(), &body, s)
                });
                prop_assume!(!verifies);
                let via_http = http_dice == 0
                    && signature.as_deref().is_none_or(sendable_header)
                    && !municipality.is_empty();
                let class = match (&bad, municipality.as_str()) {
                    (_, TOWN) => class,
                    (BadSignature::ValidForTown, _) => "valid signature, wrong path",
                    _ => "unknown municipality",
                };
                let request = Request {
                    municipality,
                    signature,
                    header_name,
                    body,
                };
                rt.block_on(refused_without_effect(
                    fx, &before, class, request, via_http,
                ))
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn requests_without_a_valid_signature_change_nothing_and_call_no_one() {
    let rt = rt();
    let fx = rt.block_on(Fixture::start());
    run_unsigned(&fx, &rt, 200);
    // Header-name case on the wire: a valid signature is found under any case.
    for name in ["x-line-signature", "X-Line-Signature", "X-LINE-SIGNATURE"] {
        let verify = format!(r#"{{"destination":"{}","events":[]}}"#, fx.bot);
        let status = rt.block_on(post_with_header(
            &fx.stack.webhook_base,
            "/webhook/kizuna-town",
            name,
            &sign(&fx.secret, verify.as_bytes()),
            verify.as_bytes(),
        ));
        assert_eq!(status, 200, "{name}");
    }
}

// ---- property 2: validly signed hostile JSON -------------------------------------------

/// One generated event: a LINE event with any of its fields wrong, missing or hostile.
fn hostile_event(parent: String, bot: String) -> impl Strategy<Value = Value> {
    let kind = prop_oneof![
        3 => Just("message"),
        3 => Just("postback"),
        1 => Just("follow"),
        1 => Just("unfollow"),
        1 => Just("beacon"),
        1 => Just("memberJoined"),
    ];
    let who = prop_oneof![
        6 => Just(Some(parent)),
        1 => Just(Some(bot)),
        1 => "U[0-9a-f]{31,33}".prop_map(Some),
        1 => "U[0-9A-F]{32}".prop_map(Some),
        1 => "\\PC{0,40}".prop_map(Some),
        1 => Just(None),
    ];
    let source_type = prop_oneof![
        6 => Just("user"),
        1 => Just("group"),
        1 => Just("room"),
        1 => Just("space"),
    ];
    let event_id = prop_oneof![
        6 => "[0-9A-HJKMNP-TV-Z]{26}",
        2 => prop::sample::select(&REPLAYED_IDS[..]).prop_map(str::to_owned),
        1 => "\\PC{1,40}",
        1 => (1000usize..4000).prop_map(|n| "E".repeat(n)),
    ];
    let mode = prop_oneof![
        8 => Just(json!("active")),
        1 => Just(json!("standby")),
        1 => json_value(),
    ];
    let timestamp = prop_oneof![
        4 => any::<i64>().prop_map(|n| json!(n)),
        1 => json_value(),
    ];
    let reply_token = prop_oneof![
        4 => "[0-9a-f]{32}".prop_map(|t| json!(t)),
        1 => json_value(),
    ];
    let payload = prop_oneof![
        2 => message_payload().prop_map(|m| ("message", m)),
        2 => postback_payload().prop_map(|p| ("postback", p)),
        1 => any::<bool>().prop_map(|b| ("follow", json!({ "isUnblocked": b }))),
        1 => json_value().prop_map(|v| ("follow", v)),
        1 => json_value().prop_map(|v| ("message", v)),
    ];
    let dropped = prop::option::weighted(
        0.15,
        prop::sample::select(vec![
            "type",
            "mode",
            "timestamp",
            "source",
            "webhookEventId",
            "deliveryContext",
            "replyToken",
            "message",
            "postback",
        ]),
    );
    (
        (kind, who, source_type, event_id, mode),
        (timestamp, reply_token, payload, dropped, any::<bool>()),
    )
        .prop_map(
            |(
                (kind, who, source_type, event_id, mode),
                (timestamp, reply_token, (payload_key, payload), dropped, redelivery),
            )| {
                let mut source = json!({ "type": source_type });
                if let Some(who) = who {
                    source["userId"] = json!(who);
                }
                if source_type == "group" {
                    source["groupId"] = json!("Cabc");
                }
                if source_type == "room" {
                    source["roomId"] = json!("Rabc");
                }
                let mut event = json!({
                    "type": kind,
                    "mode": mode,
                    "timestamp": timestamp,
                    "source": source,
                    "webhookEventId": event_id,
                    "deliveryContext": { "isRedelivery": redelivery },
                    "replyToken": reply_token,
                });
                event[payload_key] = payload;
                if let (Some(key), Some(map)) = (dropped, event.as_object_mut()) {
                    map.remove(key);
                }
                event
            },
        )
}

/// Texts: every command, dates typed right and wrong, any Unicode, giant strings.
fn message_payload() -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        4 => prop::sample::select(vec![
            "登録内容", "変更", "生まれました", "追加", "停止", "再開", "削除", "削除する",
            "配信をすべて終了", "やめておく", "ヘルプ", "令和9年6月1日", "2027/2/30",
            "令和99年13月40日", "0000-00-00", "99999999", "2/29", "平成31年5月1日", "R9.5.1",
            "２０２７年６月１日", "5月1日", "2026-01-10", "1億年後",
        ])
        .prop_map(str::to_owned),
        2 => "\\PC{0,200}",
        1 => "[0-9年月日/.\\- 令和平成RH]{0,40}",
        1 => (prop::sample::select(vec!["x", "１", "令和", "9/", "年", "\u{1F476}"]), 1usize..60_000)
            .prop_map(|(unit, n)| unit.repeat(n)),
    ];
    prop_oneof![
        8 => (text, "[0-9]{1,20}").prop_map(|(text, id)| json!({ "type": "text", "id": id, "text": text })),
        1 => Just(json!({ "type": "sticker", "id": "1", "packageId": "1", "stickerId": "1" })),
        1 => json_value().prop_map(|t| json!({ "type": "text", "id": "1", "text": t })),
    ]
}

/// Postbacks: our payloads with hostile ids and dates, foreign payloads, and picker params
/// with impossible dates.
fn postback_payload() -> impl Strategy<Value = Value> {
    let data = prop_oneof![
        4 => prop::sample::select(vec![
            "kizuna:v1:date:due", "kizuna:v1:date:birth", "kizuna:v1:date:change:1",
            "kizuna:v1:date:born:1", "kizuna:v1:date:change:4294967295",
            "kizuna:v1:date:born:4294967296", "kizuna:v1:set:due:2027-02-30",
            "kizuna:v1:set:birth:9999-12-31", "kizuna:v1:set:due:+10000-01-01",
            "kizuna:v1:set:change:1:2027-06-02", "kizuna:v1:change:1", "kizuna:v1:change:0",
            "kizuna:v1:born:1", "kizuna:v1:babies:1:3", "kizuna:v1:babies:1:300",
            "kizuna:v1:resume", "kizuna:v1:delete", "kizuna:v1:end-all", "kizuna:v1:cancel",
            "kizuna:v2:delete", "kizuna:", "action=buy&item=1", "",
        ])
        .prop_map(str::to_owned),
        1 => "kizuna:v1:\\PC{0,40}",
        1 => "\\PC{0,300}",
    ];
    let date = prop_oneof![
        3 => (0i64..1200).prop_map(|d| json!((today() + chrono::Days::new(d as u64) - chrono::Days::new(600)).to_string())),
        3 => prop::sample::select(vec![
            "2027-02-30", "2027-13-01", "0000-01-01", "+275760-09-13", "9999-12-31",
            "-0001-01-01", "2027-6-1", "2027-06-01T00:00", "",
        ])
        .prop_map(|d| json!(d)),
        1 => json_value(),
    ];
    prop_oneof![
        6 => (data.clone(), date).prop_map(|(data, date)| json!({ "data": data, "params": { "date": date } })),
        3 => data.clone().prop_map(|data| json!({ "data": data })),
        1 => json_value(),
    ]
}

/// What a generated signed body looks like besides its events.
#[derive(Debug, Clone, Copy)]
enum Envelope {
    Plain,
    ForeignDestination,
    DuplicateKeys,
}

async fn signed_hostile_input_is_contained(
    fx: &Fixture,
    envelope: Envelope,
    events: Vec<Value>,
    via_http: bool,
) -> Result<(), TestCaseError> {
    let destination = match envelope {
        Envelope::ForeignDestination => fx.stack.towns[1].channel.bot_user_id.clone(),
        _ => fx.bot.clone(),
    };
    let mut body = json!({ "destination": destination, "events": events })
        .to_string()
        .into_bytes();
    if let Envelope::DuplicateKeys = envelope {
        body = duplicate_keys(&body);
    }
    let bystander = fx.stored(TOWN, &fx.bystander).await;
    let parent_elsewhere = fx.stored(OTHER_TOWN, &fx.parent).await;
    let before = fx.observable_state().await;
    let request = fx.signed_request(body);
    let class = match envelope {
        Envelope::Plain => "signed hostile events",
        Envelope::ForeignDestination => "signed, another bot's destination",
        Envelope::DuplicateKeys => "signed, duplicate keys",
    };
    let status = fx.send(class, &request, via_http).await?;
    prop_assert!(
        matches!(status, 200 | 400 | 413),
        "{class}: answered {status} to {}",
        String::from_utf8_lossy(&request.body)
    );
    if !matches!(envelope, Envelope::Plain) || status != 200 {
        prop_assert!(
            before == fx.observable_state().await,
            "{class}: a refused or ignored body changed something"
        );
    }
    // Nobody the events did not name changed.
    prop_assert_eq!(&bystander, &fx.stored(TOWN, &fx.bystander).await);
    prop_assert_eq!(&parent_elsewhere, &fx.stored(OTHER_TOWN, &fx.parent).await);
    // The parent's household still reads back, round-trips and keeps its invariants.
    let parent = fx.stored(TOWN, &fx.parent).await;
    let Ok(parent) = parent else {
        return Err(TestCaseError::fail(format!(
            "the parent's household no longer reads back: {parent:?}"
        )));
    };
    if let Some(h) = parent {
        check_household_invariants(&h)?;
    }
    Ok(())
}

fn check_household_invariants(h: &Household) -> Result<(), TestCaseError> {
    let json = serde_json::to_string(h).expect("a household serializes");
    let back: Household = serde_json::from_str(&json).expect("a household deserializes");
    prop_assert_eq!(&back, h);
    let ids: HashSet<u32> = h.registrations.iter().map(|r| r.id).collect();
    prop_assert_eq!(
        ids.len(),
        h.registrations.len(),
        "registration ids are unique"
    );
    prop_assert!(h
        .registrations
        .iter()
        .all(|r| r.id >= 1 && (1..=3).contains(&r.baby_count)));
    prop_assert!(h.active_registrations().count() <= MAX_ACTIVE_REGISTRATIONS);
    prop_assert!(h.registrations.len() <= MAX_REGISTRATIONS);
    prop_assert!(h.version >= 1, "a stored household has a version");
    prop_assert!(h.following || h.unfollowed_on.is_some());
    Ok(())
}

fn run_signed(fx: &Fixture, rt: &tokio::runtime::Runtime, cases: u32) {
    let strategy = (
        prop_oneof![
            8 => Just(Envelope::Plain),
            1 => Just(Envelope::ForeignDestination),
            1 => Just(Envelope::DuplicateKeys),
        ],
        prop::collection::vec(hostile_event(fx.parent.clone(), fx.bot.clone()), 0..6),
        0u8..6,
    );
    runner(cases)
        .run(&strategy, |(envelope, events, http_dice)| {
            rt.block_on(signed_hostile_input_is_contained(
                fx,
                envelope,
                events,
                http_dice == 0,
            ))
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn validly_signed_hostile_events_never_corrupt_a_household() {
    let rt = rt();
    let fx = rt.block_on(Fixture::start());
    run_signed(&fx, &rt, 100);
}

/// A body of events that need no store access (bogus users, unknown types): 4,000 of them,
/// about as many as fit in the 1 MB limit.
fn ignored_events_body(bot: &str) -> Vec<u8> {
    let events: Vec<Value> = (0..4000)
        .map(|i| {
            json!({
                "type": if i % 2 == 0 { "beacon" } else { "message" },
                "mode": "active", "timestamp": i,
                "webhookEventId": format!("01J{i:023}"),
                "deliveryContext": {"isRedelivery": false},
                "source": {"type": "user", "userId": "Unot-a-user"},
            })
        })
        .collect();
    json!({ "destination": bot, "events": events })
        .to_string()
        .into_bytes()
}

/// Delivers one body of `count` events of the parent (停止 and 再開 in turn: each one changes
/// the household) to a handler with `budget`, redelivering it as LINE does until it is
/// answered 200. Every answer must come within the Lambda timeout, and in the end every event
/// has had exactly one effect: the version rose by exactly `count`. Returns the deliveries.
async fn work_through_many_events(fx: &Fixture, count: usize, budget: Duration) -> usize {
    let clock: Arc<dyn Clock> = fx.stack.clock.clone();
    let handler = compose::webhook_handler(&fx.stack.config, &fx.stack.clients, clock)
        .expect("webhook handler")
        .with_time_budget(budget);
    let before = fx.stored(TOWN, &fx.parent).await.unwrap().unwrap();
    let token = fx.stack.reply_token(&fx.parent);
    let events: Vec<Value> = (0..count)
        .map(|i| text_message_event(&fx.parent, &token, ["停止", "再開"][i % 2]))
        .collect();
    let first = json!({ "destination": fx.bot, "events": events }).to_string();
    // LINE's redeliveries carry the same events, marked `isRedelivery`.
    let again = json!({
        "destination": fx.bot,
        "events": events.iter().cloned().map(redelivered).collect::<Vec<_>>(),
    })
    .to_string();
    let class = format!("{count} events of one parent");
    let mut version = before.version;
    // Every delivery applies at least one event, so `count` deliveries always suffice.
    for delivery in 1..=count + 1 {
        let body = if delivery == 1 { &first } else { &again }.as_bytes();
        let signature = sign(&fx.secret, body);
        let started = Instant::now();
        let answer =
            tokio::time::timeout(LAMBDA_TIMEOUT, handler.handle(TOWN, Some(&signature), body))
                .await
                .unwrap_or_else(|_| panic!("{class}: delivery {delivery} not answered in time"));
        fx.record(&class, started.elapsed());
        match answer.status {
            200 => {
                let after = fx.stored(TOWN, &fx.parent).await.unwrap().unwrap();
                check_household_invariants(&after).unwrap();
                assert_eq!(
                    after.version,
                    before.version + count as u64,
                    "one effect each"
                );
                assert_eq!(after.paused, before.paused != (count % 2 == 1));
                return delivery;
            }
            500 => {
                let after = fx.stored(TOWN, &fx.parent).await.unwrap().unwrap();
                assert!(
                    after.version > version,
                    "{class}: delivery {delivery} answered 500 having applied no event"
                );
                version = after.version;
            }
            other => panic!("{class}: answered {other}"),
        }
    }
    panic!("{class}: still not done after {} deliveries", count + 1);
}

/// LINE may batch events. A body of thousands that need nothing stored is answered at once;
/// a body of more events than one request has time for is answered 500 when the time budget
/// is used up, and LINE's redeliveries finish it, each event applied exactly once.
#[test]
fn a_body_of_many_events_is_answered_in_time_and_finished_over_redeliveries() {
    let rt = rt();
    let fx = rt.block_on(Fixture::start());
    let request = fx.signed_request(ignored_events_body(&fx.bot));
    let status = rt
        .block_on(fx.send("4000 ignored events", &request, false))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, 200);
    // A budget far below what 60 events take, so that it runs out.
    let deliveries = rt.block_on(work_through_many_events(
        &fx,
        60,
        Duration::from_millis(150),
    ));
    assert!(deliveries > 1, "the budget never ran out");
    // A budget already used up before the first event (a slow municipality, secret or
    // done-events lookup): each delivery still applies one event, and the body is finished.
    let deliveries = rt.block_on(work_through_many_events(&fx, 5, Duration::ZERO));
    assert_eq!(deliveries, 5, "one event per delivery with no budget left");
}

/// The hang detector's budget is the deployed one.
#[test]
fn the_time_budget_is_the_lambdas() {
    let template = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml"),
    )
    .unwrap();
    let function = template
        .split("\n  WebhookFunction:\n")
        .nth(1)
        .expect("WebhookFunction in the template");
    let timeout = function
        .lines()
        .find_map(|l| l.trim().strip_prefix("Timeout:"))
        .and_then(|t| t.trim().parse::<u64>().ok())
        .expect("WebhookFunction has a Timeout");
    assert_eq!(Duration::from_secs(timeout), LAMBDA_TIMEOUT);
}

/// The long run: many more cases of both properties, then max and p99 latency per input
/// class. `KIZUNA_FUZZ_CASES=N` (default 2000) and `KIZUNA_FUZZ_SEED=any` vary it:
///
/// ```text
/// cargo test --release -p kizuna-tests --test webhook_fuzz -- --ignored --nocapture
/// ```
#[test]
#[ignore = "long run (minutes); prints latencies"]
fn latency_per_input_class() {
    let rt = rt();
    let fx = rt.block_on(Fixture::start());
    let cases = cases_or(2000);
    run_unsigned(&fx, &rt, cases);
    run_signed(&fx, &rt, cases);
    let request = fx.signed_request(ignored_events_body(&fx.bot));
    for _ in 0..20 {
        rt.block_on(fx.send("4000 ignored events", &request, false))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    // The deployed budget over a body no request can finish.
    let deliveries = rt.block_on(work_through_many_events(
        &fx,
        2000,
        kizuna_app::webhook::DEFAULT_TIME_BUDGET,
    ));
    fx.print_latencies();
    println!("2000 events of one parent: done after {deliveries} deliveries");
}
