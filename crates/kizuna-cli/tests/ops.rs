//! The operator commands in-process against moto (a fresh namespace per test) and the local
//! stack (fake LINE): what they print, and what they change — or leave unchanged.

use chrono::NaiveDate;
use kizuna_app::clock::SystemClock;
use kizuna_app::content::{ContentCache, LoadedFrom, ARTIFACT_KEY};
use kizuna_app::model::{ChannelCredentials, ChannelSecret, ChannelToken, Municipality};
use kizuna_app::ports::{
    ChannelSecrets, ContentStore, DeliveryLedger, HouseholdStore, MunicipalityDirectory,
};
use kizuna_app::sender::SenderSettings;
use kizuna_aws::compose;
use kizuna_cli::commands::forecast;
use kizuna_cli::commands::municipality::{self, AddArgs, AddRequest};
use kizuna_cli::commands::ops::{Month, Ops};
use kizuna_cli::commands::runs::{self, RunsArgs};
use kizuna_cli::commands::send;
use kizuna_cli::commands::stats::{self, Format};
use kizuna_cli::commands::sync;
use kizuna_core::content::{ArtifactError, ContentLibrary, ARTIFACT_FORMAT_VERSION};
use kizuna_core::{
    Household, LineUserId, MunicipalityId, Registration, RegistrationStatus, Subject,
};
use kizuna_local::LocalStack;
use kizuna_tests::stack::{content_dir, stack_on, user};
use kizuna_tests::test_aws;
use std::process::ExitCode;
use std::sync::Arc;

mod pack_fixture;

use kizuna_core::testing::date as d;

fn id(s: &str) -> MunicipalityId {
    MunicipalityId::parse(s).unwrap()
}

fn text(buf: Vec<u8>) -> String {
    String::from_utf8(buf).unwrap()
}

fn add_args(id_: &str) -> AddArgs {
    AddArgs {
        id: id(id_),
        name: "海士町".into(),
        hour: 8,
        channel_id: None,
        channel_secret_file: None,
        channel_secret_stdin: false,
        access_token_file: None,
        forward_url: None,
        monthly_limit: Some(5_000),
        shards: None,
        push_rate: None,
        webhook_base: Some("https://abc.execute-api.ap-northeast-1.amazonaws.com/webhook/".into()),
        privacy_url: None,
        privacy_policy_version: None,
        births_per_year: None,
    }
}

/// The bot user id the fake LINE reports for ama-town's channel.
const AMA_BOT: &str = "U00000000000000000000000000b07a4a";

/// A fake LINE that knows ama-town's (made-up) channel, and `ops` pointed at it.
async fn fake_line_for_ama(aws: &kizuna_tests::TestAws) -> (fake_line::RunningFakeLine, Ops) {
    let line = fake_line::FakeLine::builder()
        .channel(fake_line::FakeChannel {
            channel_id: "1650000000".into(),
            channel_secret: "chsecret-SECRET-42".into(),
            access_tokens: vec!["tok-SECRET-0001".into(), "tok-SECRET-0002".into()],
            bot_user_id: AMA_BOT.into(),
            monthly_quota: None,
        })
        .build()
        .spawn()
        .await
        .unwrap();
    let mut config = aws.config.clone();
    config.line_api_base = line.base_url.clone();
    let ops = Ops::new(config, aws.clients.clone());
    (line, ops)
}

#[tokio::test]
async fn municipality_add_show_list_keeps_secrets_out_of_the_output() {
    let aws = test_aws().await;
    let (_line, ops) = fake_line_for_ama(&aws).await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "tok-SECRET-0001\n").unwrap();
    let mut args = add_args("ama-town");
    args.channel_id = Some("1650000000".into());
    args.channel_secret_stdin = true;
    args.access_token_file = Some(token_file);
    args.privacy_url = Some("https://www.town.ama.example/privacy".into());
    args.privacy_policy_version = Some("2".into());
    args.births_per_year = Some(120);
    let request = AddRequest::from_args(&args, &mut "chsecret-SECRET-42\n".as_bytes()).unwrap();
    let mut out = Vec::new();
    let code = municipality::add(&ops, request, &mut out).await.unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
    let printed = text(out);
    assert!(printed.contains("added ama-town (海士町)"), "{printed}");
    assert!(
        printed.contains("bot verified with LINE: @fake1650000000"),
        "{printed}"
    );
    assert!(printed.contains(
        "Webhook URL: https://abc.execute-api.ap-northeast-1.amazonaws.com/webhook/ama-town"
    ));
    assert!(printed.contains("Webhookの再送: オン"));
    assert!(printed.contains("応答メッセージ: オフ"));
    assert!(!printed.contains("SECRET"), "{printed}");

    // Stored where the Lambdas read them.
    let stored = aws.secrets().get(&id("ama-town")).await.unwrap().unwrap();
    assert_eq!(
        stored,
        ChannelCredentials {
            channel_id: "1650000000".into(),
            channel_secret: ChannelSecret::new("chsecret-SECRET-42"),
            channel_access_token: Some(ChannelToken::new("tok-SECRET-0001")),
        }
    );
    let record = aws
        .municipalities()
        .get(&id("ama-town"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.delivery_hour, 8);
    assert_eq!(record.monthly_message_limit, Some(5_000));
    assert!(record.enabled);
    // The bot as LINE reported it for these credentials: the webhook's destination check
    // runs from the first event on.
    assert_eq!(record.bot_user_id.as_deref(), Some(AMA_BOT));
    assert_eq!(record.bot_basic_id.as_deref(), Some("@fake1650000000"));
    assert_eq!(
        record.privacy_url.as_deref(),
        Some("https://www.town.ama.example/privacy")
    );
    assert_eq!(record.privacy_policy_version, "2");
    assert_eq!(record.births_per_year, Some(120));

    let mut out = Vec::new();
    municipality::show(&ops, &id("ama-town"), &mut out)
        .await
        .unwrap();
    let shown = text(out);
    assert!(shown.contains("credentials:     stored"), "{shown}");
    assert!(shown.contains("access token set"), "{shown}");
    assert!(
        shown.contains("bot verified:    yes (@fake1650000000"),
        "{shown}"
    );
    assert!(
        shown.contains("privacy policy:  https://www.town.ama.example/privacy (version 2)"),
        "{shown}"
    );
    assert!(!shown.contains("SECRET"), "{shown}");

    // An hour the sender never sends in is refused, saying which hours are allowed.
    let mut args = add_args("kizuna-town");
    args.hour = 22;
    let request = AddRequest::from_args(&args, &mut "".as_bytes()).unwrap();
    let refused = municipality::add(&ops, request, &mut Vec::new())
        .await
        .unwrap_err();
    let refused = format!("{refused:#}");
    assert!(refused.contains("0〜21時"), "{refused}");
    assert!(refused.contains("choose 0–21"), "{refused}");
    assert_eq!(
        aws.municipalities().get(&id("kizuna-town")).await.unwrap(),
        None
    );

    // A second town without credentials, at an hour outside the recommendation.
    let mut args = add_args("kizuna-town");
    args.hour = 5;
    args.privacy_url = Some("http://not-https.example/".into());
    let request = AddRequest::from_args(&args, &mut "".as_bytes()).unwrap();
    assert!(municipality::add(&ops, request, &mut Vec::new())
        .await
        .is_err());
    args.privacy_url = None;
    let request = AddRequest::from_args(&args, &mut "".as_bytes()).unwrap();
    let mut out = Vec::new();
    municipality::add(&ops, request, &mut out).await.unwrap();
    let printed = text(out);
    assert!(printed.contains("warning: delivery hour 5"), "{printed}");
    assert!(printed.contains("no channel credentials"), "{printed}");
    assert!(printed.contains("bot not verified"), "{printed}");
    let mut out = Vec::new();
    municipality::show(&ops, &id("kizuna-town"), &mut out)
        .await
        .unwrap();
    let shown = text(out);
    assert!(shown.contains("bot verified:    NO"), "{shown}");
    assert!(shown.contains("privacy policy:  NOT SET"), "{shown}");
    assert!(shown.contains("births per year: not set"), "{shown}");
    // Births per year: given once, kept when `add` is run again without it.
    args.births_per_year = Some(45);
    let request = AddRequest::from_args(&args, &mut "".as_bytes()).unwrap();
    municipality::add(&ops, request, &mut Vec::new())
        .await
        .unwrap();
    args.births_per_year = None;
    let request = AddRequest::from_args(&args, &mut "".as_bytes()).unwrap();
    let mut out = Vec::new();
    municipality::add(&ops, request, &mut out).await.unwrap();
    assert!(text(out).contains("births per year: 45"));
    let kept = aws.municipalities().get(&id("kizuna-town")).await.unwrap();
    assert_eq!(kept.unwrap().births_per_year, Some(45));

    // Wrong credentials: a clear failure in Japanese and English, and nothing stored.
    let mut args = add_args("bad-town");
    args.channel_id = Some("1650000000".into());
    args.channel_secret_stdin = true;
    let request = AddRequest::from_args(&args, &mut "not-the-secret".as_bytes()).unwrap();
    let failed = municipality::add(&ops, request, &mut Vec::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        failed.contains("認証情報を受け付けませんでした"),
        "{failed}"
    );
    assert!(failed.contains("Nothing was stored"), "{failed}");
    assert_eq!(
        aws.municipalities().get(&id("bad-town")).await.unwrap(),
        None
    );
    assert_eq!(aws.secrets().get(&id("bad-town")).await.unwrap(), None);

    let mut out = Vec::new();
    municipality::list(&ops, &mut out).await.unwrap();
    let listed = text(out);
    assert!(listed.contains("ama-town"), "{listed}");
    assert!(listed.contains("kizuna-town"), "{listed}");
    assert!(listed.contains("2 municipality(ies)"), "{listed}");

    // Disable keeps everything else; re-adding keeps the disabled state.
    let mut out = Vec::new();
    municipality::set_enabled(&ops, &id("ama-town"), false, &mut out)
        .await
        .unwrap();
    assert!(
        !aws.municipalities()
            .get(&id("ama-town"))
            .await
            .unwrap()
            .unwrap()
            .enabled
    );

    // Token rotation: only the token changes, the secret stays.
    let new_token = dir.path().join("token2");
    std::fs::write(&new_token, "tok-SECRET-0002").unwrap();
    let mut args = add_args("ama-town");
    args.access_token_file = Some(new_token);
    let request = AddRequest::from_args(&args, &mut "".as_bytes()).unwrap();
    let mut out = Vec::new();
    municipality::add(&ops, request, &mut out).await.unwrap();
    assert!(text(out).contains("updated ama-town"));
    let fresh = aws.secrets().with_cache_ttl(std::time::Duration::ZERO);
    let stored = fresh.get(&id("ama-town")).await.unwrap().unwrap();
    assert_eq!(
        stored
            .channel_access_token
            .as_ref()
            .map(ChannelToken::expose_secret),
        Some("tok-SECRET-0002")
    );
    assert_eq!(stored.channel_secret.expose_secret(), "chsecret-SECRET-42");
    let record = aws
        .municipalities()
        .get(&id("ama-town"))
        .await
        .unwrap()
        .unwrap();
    assert!(!record.enabled);
    // Not given again: the privacy policy and the verified bot are kept.
    assert_eq!(record.privacy_policy_version, "2");
    assert_eq!(record.bot_basic_id.as_deref(), Some("@fake1650000000"));

    // A rotated token LINE does not accept: refused, the stored token unchanged.
    std::fs::write(dir.path().join("token3"), "tok-WRONG").unwrap();
    let mut args = add_args("ama-town");
    args.access_token_file = Some(dir.path().join("token3"));
    let request = AddRequest::from_args(&args, &mut "".as_bytes()).unwrap();
    assert!(municipality::add(&ops, request, &mut Vec::new())
        .await
        .is_err());
    let stored = fresh.get(&id("ama-town")).await.unwrap().unwrap();
    assert_eq!(
        stored
            .channel_access_token
            .as_ref()
            .map(ChannelToken::expose_secret),
        Some("tok-SECRET-0002")
    );

    // A new policy version alone: the URL is kept, the version updated.
    let mut args = add_args("ama-town");
    args.privacy_policy_version = Some("3".into());
    let request = AddRequest::from_args(&args, &mut "".as_bytes()).unwrap();
    municipality::add(&ops, request, &mut Vec::new())
        .await
        .unwrap();
    let record = aws
        .municipalities()
        .get(&id("ama-town"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.privacy_policy_version, "3");
    assert_eq!(
        record.privacy_url.as_deref(),
        Some("https://www.town.ama.example/privacy")
    );

    // Secrets on the command line are impossible, and a secret without a channel id refused.
    let mut args = add_args("x-town");
    args.channel_secret_stdin = true;
    assert!(AddRequest::from_args(&args, &mut "s".as_bytes()).is_err());
    let mut out = Vec::new();
    let code = municipality::show(&ops, &id("nowhere"), &mut out)
        .await
        .unwrap();
    assert_eq!(code, ExitCode::from(1));
}

/// key → ETag of the bucket's content/.
async fn bucket(ops: &Ops) -> std::collections::BTreeMap<String, String> {
    sync::remote_listing(ops).await.unwrap()
}

#[tokio::test]
async fn content_sync_refuses_a_broken_pack_and_converges_after_an_interruption() {
    let aws = test_aws().await;
    let ops = Ops::new(aws.config.clone(), aws.clients.clone());
    let store = aws.content();
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("content");
    // A pack that passes every check (the sample's wording is for editors to change).
    pack_fixture::write_pack(&pack);

    // 1. A broken pack: diagnostics, exit 1, nothing uploaded.
    let notes = pack.join("municipalities/kizuna-town/notes.toml");
    let good_notes = std::fs::read_to_string(&notes).unwrap();
    std::fs::write(&notes, format!("{good_notes}\n[[[ not toml\n")).unwrap();
    let mut out = Vec::new();
    let code = sync::sync(&ops, &pack, false, false, &mut out)
        .await
        .unwrap();
    let printed = text(out);
    assert_eq!(code, ExitCode::from(1), "{printed}");
    assert!(
        printed.contains("notes.toml:"),
        "file:line diagnostics: {printed}"
    );
    assert!(printed.contains("nothing uploaded"));
    assert!(bucket(&ops).await.is_empty());
    std::fs::write(&notes, &good_notes).unwrap();

    // 2. An earlier, interrupted sync: two files up, plus a stale file the pack no longer has.
    let local = sync::pack_files(&pack).unwrap();
    assert!(local
        .keys()
        .all(|k| k.starts_with("content/") && k.ends_with(".toml")));
    assert!(!local.keys().any(|k| k.contains("tools/")));
    for (key, bytes) in local.iter().take(2) {
        store.put_object(key, bytes.clone()).await.unwrap();
    }
    store
        .put_object("content/base/retired.toml", b"# old".to_vec())
        .await
        .unwrap();
    let before = bucket(&ops).await;
    let version_before = store.version("content/").await.unwrap();

    // 3. Dry run: prints the diff, changes nothing.
    let mut out = Vec::new();
    sync::sync(&ops, &pack, true, false, &mut out)
        .await
        .unwrap();
    let printed = text(out);
    assert!(printed.contains("- content/base/retired.toml"), "{printed}");
    assert!(
        printed.contains(&format!(
            "{} new, 0 changed, 1 removed, 2 unchanged",
            local.len() - 2
        )),
        "{printed}"
    );
    assert!(printed.contains("dry run: nothing changed"));
    assert_eq!(bucket(&ops).await, before);

    // 4. The re-run converges: the bucket holds exactly DIR plus the compiled artifact, and
    // the sender sees a new version.
    let mut out = Vec::new();
    let code = sync::sync(&ops, &pack, false, false, &mut out)
        .await
        .unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
    let printed = text(out);
    assert!(
        printed.contains(&format!("compiled artifact {ARTIFACT_KEY}")) && printed.contains(": new"),
        "{printed}"
    );
    let mut after = bucket(&ops).await;
    let artifact_etag = after
        .remove(ARTIFACT_KEY)
        .expect("the artifact is uploaded");
    let (_, artifact) = sync::compile(&local).unwrap();
    assert_eq!(artifact_etag.trim_matches('"'), sync::etag_of(&artifact));
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        local.keys().collect::<Vec<_>>()
    );
    for (key, etag) in &after {
        assert_eq!(etag.trim_matches('"'), sync::etag_of(&local[key]), "{key}");
    }
    let version_after = store.version("content/").await.unwrap();
    assert_ne!(version_before, version_after);
    // What the sender loads is exactly the pack on disk.
    let snapshot = store.load("content/").await.unwrap();
    for f in &snapshot.files {
        assert_eq!(f.text.as_bytes(), local[&f.path].as_slice());
    }

    // 5. Nothing left to do: idempotent.
    let mut out = Vec::new();
    sync::sync(&ops, &pack, false, false, &mut out)
        .await
        .unwrap();
    assert!(text(out).contains("already holds this pack"));
    assert_eq!(store.version("content/").await.unwrap(), version_after);

    // 6. One edited file: only it is uploaded.
    std::fs::write(&notes, format!("{good_notes}\n# edited\n")).unwrap();
    let mut out = Vec::new();
    sync::sync(&ops, &pack, false, false, &mut out)
        .await
        .unwrap();
    let printed = text(out);
    assert!(printed.contains("0 new, 1 changed, 0 removed"), "{printed}");
    assert!(
        printed.contains(&format!("format {ARTIFACT_FORMAT_VERSION}): changed")),
        "{printed}"
    );
    assert_ne!(store.version("content/").await.unwrap(), version_after);
}

/// `content sync` writes the compiled artifact, and the sender's own content loading uses it:
/// after the sync the pack still loads with every TOML file deleted from the bucket. A
/// damaged artifact is refused and the files serve; the next sync rewrites it.
#[tokio::test]
async fn the_sender_loads_the_pack_from_the_artifact_content_sync_writes() {
    let aws = test_aws().await;
    let ops = Ops::new(aws.config.clone(), aws.clients.clone());
    let store = aws.content();
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("content");
    pack_fixture::write_pack(&pack);
    let local = sync::pack_files(&pack).unwrap();
    let (expected, _) = sync::compile(&local).unwrap();

    let mut out = Vec::new();
    let code = sync::sync(&ops, &pack, false, false, &mut out)
        .await
        .unwrap();
    assert_eq!(code, ExitCode::SUCCESS, "{}", text(out));
    let stored = store
        .get_object(ARTIFACT_KEY)
        .await
        .unwrap()
        .expect("written");
    let decoded = ContentLibrary::from_artifact(&stored).unwrap();
    assert_eq!(decoded.version(), expected.version());

    // A damaged artifact (one payload byte flipped): refused by its checksum, the files serve.
    let mut damaged = stored.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 0x01;
    store.put_object(ARTIFACT_KEY, damaged).await.unwrap();
    let cache = ContentCache::new(Arc::new(aws.content()));
    assert_eq!(cache.current().await.unwrap().version(), expected.version());
    assert_eq!(
        cache.loaded_from(),
        Some(LoadedFrom::FilesArtifactRefused(
            ArtifactError::ChecksumMismatch
        ))
    );

    // The next sync sees only the artifact differ and rewrites it.
    let mut out = Vec::new();
    sync::sync(&ops, &pack, false, false, &mut out)
        .await
        .unwrap();
    let printed = text(out);
    assert!(printed.contains("0 new, 0 changed, 0 removed"), "{printed}");
    assert!(printed.contains("): changed"), "{printed}");
    assert_eq!(
        store.get_object(ARTIFACT_KEY).await.unwrap().as_deref(),
        Some(stored.as_slice())
    );

    // Every TOML file deleted: the sender's content loading still has the whole pack, so it
    // read the artifact alone (the files would not even parse: there is no base left).
    for key in local.keys() {
        aws.clients
            .s3
            .delete_object()
            .bucket(&aws.config.content_bucket)
            .key(key)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(store.list("content/").await.unwrap(), [ARTIFACT_KEY]);
    let sender = compose::sender(
        &aws.config,
        &aws.clients,
        Arc::new(SystemClock),
        SenderSettings::default(),
    )
    .unwrap();
    let library = sender.content().await.unwrap();
    assert_eq!(library.version(), expected.version());
    assert!(library.has_municipality(&id("kizuna-town")));
    assert!(library.municipalities().eq(expected.municipalities()));
}

fn registration(id: u32, subject: Subject) -> Registration {
    Registration {
        id,
        subject,
        baby_count: 1,
        status: RegistrationStatus::Active,
        registered_on: d(2026, 6, 1),
    }
}

async fn save(ops: &Ops, town: &MunicipalityId, n: u32, f: impl FnOnce(&mut Household)) {
    let mut h = Household::new(town.clone(), LineUserId::parse(&user(n)).unwrap());
    f(&mut h);
    compose::households(&ops.config, &ops.clients)
        .save(&h)
        .await
        .unwrap();
}

/// きずな町 on the local stack: 6 pregnancies in mid-pregnancy (a message every day),
/// 2 newborns, 1 paused, 1 unfollowed.
async fn populated_stack(date: NaiveDate) -> (LocalStack, Ops) {
    let stack = stack_on(date).await;
    let ops = Ops::new(stack.config.clone(), stack.clients.clone());
    let town = id("kizuna-town");
    for n in 0..6 {
        save(&ops, &town, n, |h| {
            h.registrations = vec![registration(
                1,
                Subject::Pregnancy {
                    due_date: d(2027, 5, 1 + n),
                },
            )]
        })
        .await;
    }
    for n in 6..8 {
        save(&ops, &town, n, |h| {
            h.registrations = vec![registration(
                1,
                Subject::Child {
                    birth_date: d(2027, 1, 1),
                    due_date: None,
                },
            )]
        })
        .await;
    }
    save(&ops, &town, 8, |h| {
        h.registrations = vec![registration(
            1,
            Subject::Pregnancy {
                due_date: d(2027, 5, 20),
            },
        )];
        h.paused = true;
    })
    .await;
    save(&ops, &town, 9, |h| {
        h.registrations = vec![registration(
            1,
            Subject::Pregnancy {
                due_date: d(2027, 5, 21),
            },
        )];
        h.following = false;
        h.unfollowed_on = Some(d(2027, 1, 2));
    })
    .await;
    (stack, ops)
}

#[tokio::test]
async fn stats_and_runs_after_a_day_with_small_counts_suppressed() {
    let date = d(2027, 1, 10);
    let (stack, ops) = populated_stack(date).await;
    stack.run_day(date).await.unwrap();
    let pushed = stack.line.recorded_pushes().len() as u64;
    assert!(pushed >= 6, "{pushed}");

    let stats = stats::collect(&ops, None, Month::of(date), date)
        .await
        .unwrap();
    assert_eq!(stats.len(), 1);
    let s = &stats[0];
    assert_eq!((s.following, s.paused, s.unfollowed), (9, 1, 1));
    assert_eq!(s.registrations(), 9);
    assert_eq!(s.deliveries.sent, pushed);
    assert_eq!(s.run_days, 1);

    let table = stats::render(&stats, Month::of(date), date, Format::Table);
    assert!(table.contains("paused                 <5"), "{table}");
    assert!(table.contains("following               9"), "{table}");
    let csv = stats::render(&stats, Month::of(date), date, Format::Csv);
    assert!(
        csv.contains("kizuna-town,2027-01-10,2027-01,child_0_2m,<5"),
        "{csv}"
    );
    assert!(
        csv.contains("kizuna-town,2027-01-10,2027-01,unfollowed,<5"),
        "{csv}"
    );
    let html = stats::render(&stats, Month::of(date), date, Format::Html);
    assert!(
        html.contains("きずな町") && html.contains("配信成功"),
        "{html}"
    );
    for n in 0..10 {
        assert!(!html.contains(&user(n)) && !csv.contains(&user(n)));
    }

    // runs: the date's record, and the municipality's recent ones.
    let mut out = Vec::new();
    let args = RunsArgs {
        municipality: None,
        date: Some(date),
        recent: 14,
    };
    runs::runs(&ops, &args, kizuna_local::japan_time(date, 12, 0), &mut out)
        .await
        .unwrap();
    let printed = text(out);
    let line = printed
        .lines()
        .find(|l| l.starts_with("kizuna-town"))
        .expect(&printed);
    assert!(line.contains("completed"), "{line}");
    assert!(line.contains(&format!(" {pushed} ")), "{line}");

    let mut out = Vec::new();
    let args = RunsArgs {
        municipality: Some(id("kizuna-town")),
        date: None,
        recent: 5,
    };
    runs::runs(&ops, &args, kizuna_local::japan_time(date, 12, 0), &mut out)
        .await
        .unwrap();
    assert!(text(out).contains("2027-01-10"));

    // Today, with a municipality that has no run although its hour passed: flagged, exit 1.
    let mut late = Municipality::new(id("late-town"), "遅町", 7);
    late.enabled = true;
    compose::municipalities(&ops.config, &ops.clients)
        .put(&late)
        .await
        .unwrap();
    let mut out = Vec::new();
    let args = RunsArgs {
        municipality: None,
        date: None,
        recent: 14,
    };
    let code = runs::runs(&ops, &args, kizuna_local::japan_time(date, 12, 0), &mut out)
        .await
        .unwrap();
    let printed = text(out);
    assert_eq!(code, ExitCode::from(1), "{printed}");
    assert!(
        printed.contains("NO RUN RECORD today although the delivery hour has passed: late-town")
    );
}

#[tokio::test]
async fn send_dry_run_changes_nothing_and_a_real_rerun_is_idempotent() {
    let date = d(2027, 1, 10);
    let (stack, ops) = populated_stack(date).await;
    stack.set_japan_time(date, 8, 0);
    let town = id("kizuna-town");
    let ledger = compose::ledger(&ops.config, &ops.clients);

    let mut out = Vec::new();
    send::dry_run(&ops, &town, date, None, &mut out)
        .await
        .unwrap();
    let printed = text(out);
    assert!(stack.line.recorded_pushes().is_empty());
    assert!(ledger.list(&town, date).await.unwrap().is_empty());
    let would = printed
        .lines()
        .filter(|l| l.contains("would send") && !l.starts_with("would send"))
        .count();
    assert!(would >= 6, "{printed}");
    assert!(
        printed.contains(&format!("would send {would}, already sent 0")),
        "{printed}"
    );
    assert!(
        printed.contains("maternity/"),
        "content keys shown: {printed}"
    );
    for n in 0..10 {
        assert!(!printed.contains(&user(n)), "no user ids: {printed}");
    }
    let fp = LineUserId::parse(&user(0)).unwrap().fingerprint();
    assert!(printed.contains(&fp));

    // Real run: exactly the households the dry run listed.
    let mut out = Vec::new();
    let code = send::send(&ops, &stack.sender, &town, date, None, &mut out)
        .await
        .unwrap();
    let printed = text(out);
    assert_eq!(code, ExitCode::SUCCESS, "{printed}");
    assert!(printed.contains("Idempotent"));
    assert!(printed.contains(&format!("sent {would},")), "{printed}");
    assert_eq!(stack.line.recorded_pushes().len(), would);

    // Again: nothing pushed twice.
    let mut out = Vec::new();
    send::send(&ops, &stack.sender, &town, date, None, &mut out)
        .await
        .unwrap();
    let printed = text(out);
    assert!(printed.contains("sent 0,"), "{printed}");
    assert_eq!(stack.line.recorded_pushes().len(), would);

    let mut out = Vec::new();
    send::dry_run(&ops, &town, date, None, &mut out)
        .await
        .unwrap();
    let printed = text(out);
    assert!(
        printed.contains(&format!("would send 0, already sent {would}")),
        "{printed}"
    );
    assert_eq!(send::parse_shard("1/4").unwrap().count, 4);
    assert!(send::parse_shard("4/4").is_err());
}

#[tokio::test]
async fn forecast_counts_one_message_per_household_per_day() {
    let aws = test_aws().await;
    let ops = Ops::new(aws.config.clone(), aws.clients.clone());
    kizuna_local::upload_content(&aws.content(), &content_dir())
        .await
        .unwrap();
    let town = id("kizuna-town");
    let mut m = Municipality::new(town.clone(), "きずな町", 7);
    m.monthly_message_limit = Some(50);
    aws.municipalities().put(&m).await.unwrap();
    // Due 2027-08-01: all of April 2027 lies in weeks 22–26, one message every day.
    save(&ops, &town, 1, |h| {
        h.registrations = vec![registration(
            1,
            Subject::Pregnancy {
                due_date: d(2027, 8, 1),
            },
        )]
    })
    .await;
    // Twins as one registration, plus a second pregnancy in the same household: still one push a day.
    save(&ops, &town, 2, |h| {
        let mut twins = registration(
            1,
            Subject::Pregnancy {
                due_date: d(2027, 8, 15),
            },
        );
        twins.baby_count = 2;
        h.registrations = vec![
            twins,
            registration(
                2,
                Subject::Pregnancy {
                    due_date: d(2027, 9, 1),
                },
            ),
        ]
    })
    .await;
    // Paused and unfollowed households are not counted.
    save(&ops, &town, 3, |h| {
        h.registrations = vec![registration(
            1,
            Subject::Pregnancy {
                due_date: d(2027, 8, 1),
            },
        )];
        h.paused = true;
    })
    .await;
    // A pregnancy that ends its programme on 2027-04-10 (closing day 294 = due + 14).
    save(&ops, &town, 4, |h| {
        h.registrations = vec![registration(
            1,
            Subject::Pregnancy {
                due_date: d(2027, 3, 27),
            },
        )]
    })
    .await;

    let april = Month::parse("2027-04").unwrap();
    let result = forecast::forecast(&ops, april, None).await.unwrap();
    assert_eq!(result.len(), 1);
    let f = &result[0];
    assert_eq!(f.households, 3);
    // 30 + 30 + 10 (April 1..=10: gestational days 285..=293 and the closing day 294).
    assert_eq!(f.messages, 70);
    assert_eq!(f.peak_day, 3);
    assert!(f.over_limit());
    let mut out = Vec::new();
    forecast::print(&result, april, &mut out).unwrap();
    let printed = text(out);
    // Three households: their count is "<5", and the messages (at most households × 30) and
    // the excess over the limit, which would give it away, are withheld.
    let row = printed
        .lines()
        .find(|l| l.starts_with("kizuna-town"))
        .expect(&printed);
    assert!(row.contains(" <5 "), "{row}");
    assert!(row.contains(" x "), "{row}");
    assert!(row.trim_end().ends_with("OVER LIMIT"), "{row}");
    assert!(!printed.contains("70"), "{printed}");
    assert!(printed.contains("assumes no new registrations"));
    // A town of five or more households is shown exactly, excess included.
    let mut bigger = result[0].clone();
    bigger.households = 12;
    bigger.peak_day = 12;
    let mut out = Vec::new();
    forecast::print(&[bigger], april, &mut out).unwrap();
    assert!(text(out).contains("OVER LIMIT by 20"));

    let feb = Month::parse("2027-02").unwrap();
    let only = forecast::forecast(&ops, feb, Some(&town)).await.unwrap();
    // February: 28 days each for the two ongoing households; the fourth is at weeks 32–36.
    assert_eq!(only[0].messages, 3 * 28);
}

/// The binary itself: configuration from the environment only (as against real AWS).
#[tokio::test]
async fn the_binary_reads_its_configuration_from_the_environment() {
    let aws = test_aws().await;
    let mut m = Municipality::new(id("ama-town"), "海士町", 8);
    m.send_shards = 2;
    aws.municipalities().put(&m).await.unwrap();
    let c = &aws.config;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kizuna"))
        .args(["municipality", "list"])
        .env_clear()
        .env("AWS_REGION", kizuna_tests::REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .envs(c.to_env())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("ama-town"), "{stdout}");
    assert!(stdout.contains("1 municipality(ies)"), "{stdout}");

    // Without configuration: a clear error naming the variables, exit 2.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kizuna"))
        .args(["runs"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("KIZUNA_TABLE_MUNICIPALITIES"));
}

#[tokio::test]
async fn richmenu_is_created_valid_made_default_replaced_and_removed_leaving_others_alone() {
    use kizuna_cli::commands::richmenu;
    let aws = test_aws().await;
    let (line, ops) = fake_line_for_ama(&aws).await;
    let town = id("ama-town");
    const CHANNEL: &str = "1650000000";

    // Without stored credentials there is no channel to put a menu on.
    let err = richmenu::install(&ops, &town, &mut Vec::new())
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("no stored channel credentials"));

    // Only the channel id and secret are stored: the command gets a stateless token.
    aws.secrets()
        .put(
            &town,
            &ChannelCredentials {
                channel_id: CHANNEL.into(),
                channel_secret: ChannelSecret::new("chsecret-SECRET-42"),
                channel_access_token: None,
            },
        )
        .await
        .unwrap();
    // Another service's menu on the same channel (made with the long-lived token).
    let client = kizuna_line::LineClient::new(&line.base_url).unwrap();
    let other_token = ChannelToken::new("tok-SECRET-0001");
    let mut other = richmenu::menu();
    other.name = "town-portal".into();
    let other_id = client.create_rich_menu(&other_token, &other).await.unwrap();

    let mut out = Vec::new();
    let code = richmenu::install(&ops, &town, &mut out).await.unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
    let printed = text(out);
    let menus = line.fake.rich_menus(CHANNEL);
    assert_eq!(menus.len(), 2, "{menus:?}");
    let ours = &menus[1];
    assert!(printed.contains(&ours.rich_menu_id), "{printed}");
    assert_eq!(
        line.fake.default_rich_menu(CHANNEL).as_ref(),
        Some(&ours.rich_menu_id)
    );
    assert_eq!(ours.menu["name"], "kizuna-default");
    assert_eq!(
        ours.menu["size"],
        serde_json::json!({"width": 2500, "height": 843})
    );
    let sent: Vec<&str> = ours.menu["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(sent, ["今日のメッセージ", "登録内容", "変更", "ヘルプ"]);
    let (media, image) = ours.image.clone().expect("image uploaded");
    assert_eq!(media, "image/png");
    assert_eq!(image, richmenu::IMAGE_PNG);
    // Every request was valid per the spec and LINE's documented rules.
    assert_eq!(line.fake.contract_violations(), vec![]);

    // Re-running replaces Kizuna's menu; the other service's stays.
    richmenu::install(&ops, &town, &mut Vec::new())
        .await
        .unwrap();
    let menus = line.fake.rich_menus(CHANNEL);
    let ids: Vec<&str> = menus.iter().map(|m| m.rich_menu_id.as_str()).collect();
    assert_eq!(menus.len(), 2, "{ids:?}");
    assert_eq!(menus[0].rich_menu_id, other_id);
    assert_ne!(menus[1].rich_menu_id, ours.rich_menu_id);
    assert_eq!(
        line.fake.default_rich_menu(CHANNEL).as_ref(),
        Some(&menus[1].rich_menu_id)
    );

    let mut out = Vec::new();
    richmenu::remove(&ops, &town, &mut out).await.unwrap();
    assert!(text(out).contains("removed 1 Kizuna rich menu"));
    assert_eq!(line.fake.default_rich_menu(CHANNEL), None);
    let left: Vec<String> = line
        .fake
        .rich_menus(CHANNEL)
        .into_iter()
        .map(|m| m.rich_menu_id)
        .collect();
    assert_eq!(left, std::slice::from_ref(&other_id));

    // Another service's default is not Kizuna's to unset.
    client
        .upload_rich_menu_image(
            &other_token,
            &other_id,
            "image/png",
            richmenu::IMAGE_PNG.to_vec(),
        )
        .await
        .unwrap();
    client
        .set_default_rich_menu(&other_token, &other_id)
        .await
        .unwrap();
    let mut out = Vec::new();
    richmenu::remove(&ops, &town, &mut out).await.unwrap();
    assert!(text(out).contains("no Kizuna rich menu"));
    assert_eq!(line.fake.default_rich_menu(CHANNEL), Some(other_id));
    assert_eq!(line.fake.contract_violations(), vec![]);
}

#[tokio::test]
async fn stats_counts_the_households_each_notice_reached_once_with_small_counts_hidden() {
    let date = d(2027, 1, 10);
    let stack = stack_on(date).await;
    let ops = Ops::new(stack.config.clone(), stack.clients.clone());
    let town = id("kizuna-town");
    // Six children on day 121 (the sample's four-month-checkup, child days 120..150) and two
    // pregnancies on 20w0d (parents-class).
    for n in 0..8 {
        save(&ops, &town, n, |h| {
            h.registrations = vec![registration(
                1,
                if n < 6 {
                    Subject::Child {
                        birth_date: date - chrono::Days::new(121),
                        due_date: None,
                    }
                } else {
                    Subject::Pregnancy {
                        due_date: date + chrono::Days::new(140),
                    }
                },
            )]
        })
        .await;
    }
    // The day twice: the second run sends nothing and counts nothing again.
    stack.run_day(date).await.unwrap();
    stack.run_day(date).await.unwrap();
    assert_eq!(stack.line.recorded_pushes().len(), 8);

    let stats = stats::collect(&ops, None, Month::of(date), date)
        .await
        .unwrap();
    assert_eq!(
        stats[0].notices,
        [
            ("four-month-checkup".to_owned(), 6),
            ("parents-class".to_owned(), 2)
        ]
        .into()
    );
    let csv = stats::render(&stats, Month::of(date), date, Format::Csv);
    assert!(
        csv.contains("kizuna-town,2027-01-10,2027-01,notice:four-month-checkup,6\n"),
        "{csv}"
    );
    assert!(
        csv.contains("kizuna-town,2027-01-10,2027-01,notice:parents-class,<5\n"),
        "{csv}"
    );
    // Another month: nothing.
    let next = stats::collect(&ops, None, Month::parse("2027-02").unwrap(), d(2027, 2, 28))
        .await
        .unwrap();
    assert!(next[0].notices.is_empty());
}

/// The funnel on the local stack: households seeded with their dates, follows through the
/// webhook, births per year set with `municipality births`; December's month-end states and
/// January's as of today, small counts hidden.
#[tokio::test]
async fn stats_shows_the_funnel_from_households_and_the_follow_tally() {
    use kizuna_core::EndReason;
    let date = d(2027, 1, 10);
    let stack = stack_on(date).await;
    let ops = Ops::new(stack.config.clone(), stack.clients.clone());
    let town = id("kizuna-town");
    let pregnancy = |registered_on| Registration {
        registered_on,
        ..registration(
            1,
            Subject::Pregnancy {
                due_date: d(2027, 6, 1),
            },
        )
    };
    // December: 7 pregnancies that stay active, and one each that is paused on 5 January,
    // ended on 6 January, blocked on 7 January.
    for n in 0..7 {
        save(&ops, &town, n, |h| {
            h.registrations = vec![pregnancy(d(2026, 12, 5))]
        })
        .await;
    }
    save(&ops, &town, 7, |h| {
        h.registrations = vec![pregnancy(d(2026, 12, 6))];
        h.pause(d(2027, 1, 5));
    })
    .await;
    save(&ops, &town, 8, |h| {
        let mut r = pregnancy(d(2026, 12, 7));
        r.status = RegistrationStatus::Ended {
            reason: EndReason::StoppedByParent,
            on: d(2027, 1, 6),
        };
        h.registrations = vec![r];
    })
    .await;
    save(&ops, &town, 9, |h| {
        h.registrations = vec![pregnancy(d(2026, 12, 8))];
        h.following = false;
        h.unfollowed_on = Some(d(2027, 1, 7));
    })
    .await;
    // January: 5 pregnancies and 1 child.
    for n in 10..15 {
        save(&ops, &town, n, |h| {
            h.registrations = vec![pregnancy(d(2027, 1, 3))]
        })
        .await;
    }
    save(&ops, &town, 15, |h| {
        h.registrations = vec![Registration {
            registered_on: d(2027, 1, 4),
            ..registration(
                1,
                Subject::Child {
                    birth_date: d(2026, 12, 20),
                    due_date: None,
                },
            )
        }]
    })
    .await;
    // Six followers in January, one of them delivered twice.
    for n in 20..26 {
        let u = user(n);
        let follow = fake_line::webhook::follow_event(&u, &stack.reply_token(&u), false);
        stack.post_events(&town, vec![follow.clone()]).await;
        if n == 20 {
            let again = fake_line::webhook::redelivered(follow);
            stack.post_events(&town, vec![again]).await;
        }
    }
    let mut out = Vec::new();
    let code = municipality::set_births_per_year(&ops, &town, 60, &mut out)
        .await
        .unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
    assert!(text(out).contains("births per year 60 (was not set)"));
    let mut out = Vec::new();
    let code = municipality::set_births_per_year(&ops, &id("no-town"), 60, &mut out)
        .await
        .unwrap();
    assert_eq!(code, ExitCode::from(1), "an unknown town is refused");

    let stats = stats::collect_report(&ops, None, Month::of(date), 2, date, &[])
        .await
        .unwrap();
    let s = &stats[0];
    assert_eq!(s.births_per_year, Some(60));
    let (dec, jan) = (&s.funnel[0], &s.funnel[1]);
    assert_eq!(dec.month, Month::parse("2026-12").unwrap());
    assert_eq!(dec.as_of, d(2026, 12, 31));
    assert_eq!(
        (dec.started_pregnancy, dec.active, dec.registered()),
        (10, 10, 10)
    );
    assert_eq!(dec.pregnancies_in_window, 10);
    assert_eq!(jan.as_of, date);
    assert_eq!((jan.started_pregnancy, jan.started_child), (5, 1));
    assert_eq!(
        (jan.active, jan.paused, jan.stopped, jan.unfollowed),
        (13, 1, 1, 1)
    );
    // 7 + 1 paused + 5 in the window; the ended and the blocked ones are not.
    assert_eq!(jan.pregnancies_in_window, 13);
    assert_eq!(
        jan.follows.new_friends, 6,
        "the redelivered follow counts once"
    );

    let csv = stats::render(&stats, Month::of(date), date, Format::Csv);
    for line in [
        "kizuna-town,2027-01-10,2027-01,funnel:new_friends,6\n",
        "kizuna-town,2027-01-10,2027-01,funnel:started_child,<5\n",
        // 6 − the hidden child would give it away: withheld.
        "kizuna-town,2027-01-10,2027-01,funnel:started_pregnancy,x\n",
        "kizuna-town,2027-01-10,2027-01,funnel:paused,<5\n",
        "kizuna-town,2027-01-10,2027-01,funnel:registered,16\n",
        // 13 of 60 × 266 / 365 = 43.7 expected pregnancies.
        "kizuna-town,2027-01-10,2027-01,funnel:coverage_percent,29.7\n",
        "kizuna-town,2026-12-31,2026-12,funnel:active,10\n",
    ] {
        assert!(csv.contains(line), "{line} in {csv}");
    }
    let html = stats::render(&stats, Month::of(date), date, Format::Html);
    assert!(
        html.contains("登録の流れ") && html.contains("<svg"),
        "{html}"
    );
    assert!(
        !html.contains("<script") && !html.contains("http"),
        "{html}"
    );
    for n in 0..26 {
        assert!(!html.contains(&user(n)) && !csv.contains(&user(n)));
    }

    // The network view of one town: its own figures; with one town, no median.
    let network = kizuna_cli::commands::funnel_report::render_network(
        &stats::collect_report(&ops, None, Month::of(date), 1, date, &[])
            .await
            .unwrap(),
        Some("kizuna-town"),
        Month::of(date),
        Format::Csv,
    );
    assert!(
        network.contains("kizuna-town,2027-01,coverage_percent,29.7,-,1\n"),
        "{network}"
    );
    // January's paused, stopped and unfollowed are 1 each: three "<5" that add up to
    // 16 − 13 = 3 would each be 1, so the funnel withholds the 13 active; 81.2 % of the
    // printed 16 would give it back, so the town's own active rate is not shown either.
    assert!(
        csv.contains("kizuna-town,2027-01-10,2027-01,funnel:active,x\n"),
        "{csv}"
    );
    assert!(
        network.contains("kizuna-town,2027-01,active_rate_percent,-,-,1\n"),
        "{network}"
    );

    // A survey open in January for everyone in a programme, answered by nobody yet: counted
    // in the same listing, 0 % of the households in its audience; no survey, no figure.
    let mut january = kizuna_core::testing::may_2027_survey("january-2027");
    january.audience.windows.clear();
    january.opens_on = kizuna_core::testing::date(2027, 1, 1);
    january.closes_on = kizuna_core::testing::date(2027, 1, 31);
    let with_survey = stats::collect_report(&ops, None, Month::of(date), 1, date, &[january])
        .await
        .unwrap();
    let responses = with_survey[0].survey_responses.expect("a survey was open");
    assert_eq!(responses.respondents, 0);
    assert!(responses.eligible >= 5, "{responses:?}");
    let network = kizuna_cli::commands::funnel_report::render_network(
        &with_survey,
        Some("kizuna-town"),
        Month::of(date),
        Format::Csv,
    );
    assert!(
        network.contains("kizuna-town,2027-01,survey_response_rate_percent,0.0,-,1\n"),
        "{network}"
    );
}
