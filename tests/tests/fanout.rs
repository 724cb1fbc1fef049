//! The daily fan-out on the local stack: scheduler → SQS (moto) → sender → fake LINE.
//! Every test counts deliveries from the fake LINE's own record, not from our logs.

use chrono::NaiveDate;
use fake_line::{FaultPlan, RejectionKind};
use kizuna_app::pacing::Backoff;
use kizuna_app::ports::HouseholdStore;
use kizuna_app::sender::{SendError, SenderSettings};
use kizuna_aws::compose;
use kizuna_core::content::ContentLibrary;
use kizuna_core::plan::plan_household;
use kizuna_core::{
    EndReason, Household, LineUserId, MunicipalityId, Registration, RegistrationStatus, Subject,
};
use kizuna_local::{LocalStack, StackOptions, Town};
use kizuna_tests::stack::*;
use std::collections::HashMap;
use std::time::Duration;

use kizuna_core::testing::date as d;

fn today() -> NaiveDate {
    d(2027, 1, 10)
}

fn reg(id: u32, subject: Subject) -> Registration {
    Registration {
        id,
        subject,
        baby_count: 1,
        status: RegistrationStatus::Active,
        registered_on: d(2026, 6, 1),
    }
}

fn pregnancy(id: u32, due: NaiveDate) -> Registration {
    reg(id, Subject::Pregnancy { due_date: due })
}

fn child(id: u32, birth: NaiveDate) -> Registration {
    reg(
        id,
        Subject::Child {
            birth_date: birth,
            due_date: None,
        },
    )
}

/// Fast retries, so fault tests take seconds.
fn quick_settings() -> SenderSettings {
    SenderSettings {
        backoff: Backoff {
            first: Duration::from_millis(5),
            max: Duration::from_millis(50),
            attempts: 8,
        },
        ..SenderSettings::default()
    }
}

async fn save(
    stack: &LocalStack,
    town: &MunicipalityId,
    n: u32,
    registrations: Vec<Registration>,
) -> Household {
    let mut h = Household::new(town.clone(), LineUserId::parse(&user(n)).unwrap());
    h.registrations = registrations;
    compose::households(&stack.config, &stack.clients)
        .save(&h)
        .await
        .expect("household saved");
    h
}

/// `count` households at varied stages (pregnancies and children), in `town`.
async fn populate(
    stack: &LocalStack,
    town: &MunicipalityId,
    first: u32,
    count: u32,
) -> Vec<Household> {
    let mut out = Vec::new();
    for i in 0..count {
        let offset = i64::from(i * 37 % 900);
        let r = if i % 2 == 0 {
            pregnancy(1, today() + chrono::Days::new((offset % 250) as u64 + 1))
        } else {
            child(1, today() - chrono::Days::new(offset as u64))
        };
        out.push(save(stack, town, first + i, vec![r]).await);
    }
    out
}

fn library() -> ContentLibrary {
    ContentLibrary::load_dir(&content_dir()).expect("the sample pack is valid")
}

/// How many of `households` have a message today, by the core's own plan over the sample pack.
fn receiving_today(households: &[Household], town: &MunicipalityId) -> usize {
    let lib = library();
    let content = lib.for_municipality(town);
    households
        .iter()
        .filter(|h| !plan_household(h, today(), &content).messages.is_empty())
        .count()
}

/// Every household with a message today received exactly one push.
fn assert_exactly_once(stack: &LocalStack, households: &[Household], town: &MunicipalityId) {
    let counts = pushes_by_user(stack);
    assert_eq!(counts.len(), receiving_today(households, town));
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
}

/// Pushes per recipient, from the fake LINE's record.
fn pushes_by_user(stack: &LocalStack) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for p in stack.line.recorded_pushes() {
        *counts.entry(p.to).or_insert(0) += 1;
    }
    counts
}

#[tokio::test]
async fn each_household_receives_exactly_todays_plan_once() {
    let stack = stack_with(
        vec![kizuna_town()],
        StackOptions {
            sender: quick_settings(),
            ..Default::default()
        },
    )
    .await;
    let town = town_id("kizuna-town");
    let mut households = vec![
        save(&stack, &town, 1, vec![pregnancy(1, d(2027, 5, 1))]).await, // 24w1d
        save(&stack, &town, 2, vec![pregnancy(1, d(2027, 1, 20))]).await, // 38w4d
        save(&stack, &town, 3, vec![child(1, today())]).await,           // born today
        save(&stack, &town, 4, vec![child(1, d(2026, 10, 2))]).await,    // day 100
        save(&stack, &town, 5, vec![child(1, d(2026, 1, 10))]).await,    // 1st birthday
        save(
            &stack,
            &town,
            6,
            vec![pregnancy(1, d(2027, 6, 1)), child(2, d(2025, 11, 3))],
        )
        .await,
    ];
    // Twins: one registration, one push.
    let mut twins = child(1, d(2027, 1, 1));
    twins.baby_count = 2;
    households.push(save(&stack, &town, 7, vec![twins]).await);
    // These receive nothing today.
    let mut paused = Household::new(town.clone(), LineUserId::parse(&user(8)).unwrap());
    paused.registrations = vec![child(1, d(2026, 12, 1))];
    paused.paused = true;
    compose::households(&stack.config, &stack.clients)
        .save(&paused)
        .await
        .unwrap();
    let mut lost = pregnancy(1, d(2027, 5, 1));
    lost.status = RegistrationStatus::Ended {
        reason: EndReason::Loss,
        on: d(2027, 1, 5),
    };
    save(&stack, &town, 9, vec![lost]).await;
    save(
        &stack,
        &town,
        10,
        vec![pregnancy(1, today() + chrono::Days::new(253))],
    )
    .await; // 3w6d: not yet

    let runs = stack.run_day(today()).await.unwrap();
    assert!(runs.iter().all(|r| r.result.is_ok()), "{runs:#?}");

    let lib = library();
    let content = lib.for_municipality(&town);
    for h in &households {
        let expected = plan_household(h, today(), &content);
        assert!(
            !expected.messages.is_empty(),
            "household {} should receive something",
            h.user
        );
        let pushes = stack.pushes_to(h.user.as_str());
        assert_eq!(pushes.len(), 1, "exactly one push for {}", h.user);
        assert!(pushes[0].len() <= 5);
        assert_eq!(
            pushes[0],
            serde_json::to_value(kizuna_line::wire::render(&expected.messages).unwrap())
                .unwrap()
                .as_array()
                .unwrap()
                .clone()
        );
    }
    for n in [8, 9, 10] {
        assert!(
            stack.pushes_to(&user(n)).is_empty(),
            "user {n} must receive nothing"
        );
    }
    // The household with a pregnancy and a child still gets ONE push, labelled per registration.
    let both = joined(&stack.pushes_to(&user(6))[0]);
    assert!(both.contains('【'), "{both}");
    // Every push carried a UUID retry key; nothing violated LINE's contract.
    assert!(stack
        .line
        .recorded_pushes()
        .iter()
        .all(|p| p.retry_key.is_some()));
    assert!(stack.line.contract_violations().is_empty());
    // One counted message per household: the cost floor.
    assert_eq!(
        stack
            .line
            .counted_messages(&stack.towns[0].channel.channel_id),
        households.len() as u64
    );

    // The same day again — an operator re-run, a duplicate schedule — sends nothing more.
    stack.set_japan_time(today(), 8, 0);
    stack.sender.run(&runs[0].job, None).await.unwrap();
    stack.run_slot(today(), 7).await.unwrap();
    stack.drain_queue(5).await.unwrap();
    assert!(pushes_by_user(&stack).values().all(|&n| n == 1));
    let record = compose::runs(&stack.config, &stack.clients);
    let recent = kizuna_app::ports::RunRecords::list_recent(record.as_ref(), &town, 5)
        .await
        .unwrap();
    assert_eq!(recent[0].status, kizuna_app::model::RunStatus::Completed);
    assert_eq!(recent[0].counts.sent, households.len() as u64);
}

#[tokio::test]
async fn a_sender_killed_after_k_pushes_and_rerun_delivers_exactly_once() {
    for k in [0usize, 1, 4, 9] {
        let settings = SenderSettings {
            concurrency: 1,
            ..quick_settings()
        };
        let stack = stack_with(
            vec![kizuna_town()],
            StackOptions {
                sender: settings,
                ..Default::default()
            },
        )
        .await;
        let town = town_id("kizuna-town");
        let households = populate(&stack, &town, 100, 12).await;
        let expected = receiving_today(&households, &town);
        stack.set_japan_time(today(), 7, 0);
        stack.run_slot(today(), 7).await.unwrap();

        // Run the sender and kill it (drop the task mid-flight) once LINE has k pushes.
        let sender = stack.sender.clone();
        let job = kizuna_app::model::SendJob {
            municipality: town.clone(),
            date: today(),
            shard: kizuna_app::model::Shard::new(0, 1).unwrap(),
            attempt: 0,
        };
        let task = tokio::spawn(async move { sender.run(&job, None).await });
        while stack.line.recorded_pushes().len() < k && !task.is_finished() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        task.abort();
        let _ = task.await;

        // The redelivered job (after the leases expire) finishes the day.
        stack.set_japan_time(today(), 7, 10);
        stack.drain_queue(10).await.unwrap();
        let counts = pushes_by_user(&stack);
        assert_eq!(
            counts.len(),
            expected,
            "k={k}: every household received its message"
        );
        assert!(
            counts.values().all(|&n| n == 1),
            "k={k}: nobody received it twice: {counts:?}"
        );
        // What operators read (`kizuna runs`, `kizuna stats`) counts each delivery once,
        // whichever attempt made it, and never counts an already-sent household as skipped.
        let runs = compose::runs(&stack.config, &stack.clients);
        let record = kizuna_app::ports::RunRecords::list_recent(runs.as_ref(), &town, 1)
            .await
            .unwrap()
            .remove(0);
        assert_eq!(record.status, kizuna_app::model::RunStatus::Completed);
        assert_eq!(record.counts.sent as usize, expected, "k={k}: {record:?}");
        let listed = households.iter().filter(|h| h.receives_messages()).count();
        assert_eq!(
            (record.counts.sent + record.counts.skipped) as usize,
            listed,
            "k={k}: every listed household counted exactly once: {record:?}"
        );
    }
}

#[tokio::test]
async fn line_429s_and_5xx_at_20_percent_still_deliver_exactly_once() {
    let faults = FaultPlan {
        too_many_requests: 0.1,
        server_error: 0.1,
        ..FaultPlan::new(7)
    };
    let stack = stack_with(
        vec![kizuna_town()],
        StackOptions {
            sender: quick_settings(),
            fake_line: Box::new(move |b| b.faults(faults)),
            ..Default::default()
        },
    )
    .await;
    let town = town_id("kizuna-town");
    let households = populate(&stack, &town, 200, 40).await;
    let runs = stack.run_day(today()).await.unwrap();
    assert!(!runs.is_empty());
    assert_exactly_once(&stack, &households, &town);
    let rejected = stack.line.rejected_requests();
    assert!(
        rejected.iter().any(|r| r.kind == RejectionKind::Injected),
        "faults were injected"
    );
    assert!(
        !rejected
            .iter()
            .any(|r| r.kind == RejectionKind::RateLimited),
        "the sender never exceeded the real rate limit"
    );
    assert!(stack.line.contract_violations().is_empty());
}

#[tokio::test]
async fn a_revoked_token_fails_only_its_own_municipality() {
    let towns = vec![kizuna_town(), Town::new("other-town", "となり村", 7, 2)];
    let stack = stack_with(
        towns,
        StackOptions {
            sender: quick_settings(),
            ..Default::default()
        },
    )
    .await;
    let kizuna = town_id("kizuna-town");
    let other = town_id("other-town");
    populate(&stack, &kizuna, 300, 6).await;
    let others = populate(&stack, &other, 400, 6).await;
    stack.line.revoke_tokens(&stack.towns[0].channel.channel_id);

    let runs = stack.run_day(today()).await.unwrap();
    let failed: Vec<_> = runs.iter().filter(|r| r.result.is_err()).collect();
    assert!(!failed.is_empty());
    assert!(failed.iter().all(|r| r.job.municipality == kizuna));
    assert!(failed
        .iter()
        .all(|r| matches!(r.result, Err(SendError::Unauthorized))));
    // The other town's parents got their messages; nobody in the revoked town got anything.
    let lib = library();
    let content = lib.for_municipality(&other);
    for h in &others {
        let n = stack.pushes_to(h.user.as_str()).len();
        let expected = usize::from(!plan_household(h, today(), &content).messages.is_empty());
        assert_eq!(n, expected);
    }
    assert!(stack
        .line
        .recorded_pushes()
        .iter()
        .all(|p| p.channel_id == stack.towns[1].channel.channel_id));
    // The failure is on record for the operator.
    let runs = compose::runs(&stack.config, &stack.clients);
    let recent = kizuna_app::ports::RunRecords::list_recent(runs.as_ref(), &kizuna, 1)
        .await
        .unwrap();
    assert_eq!(recent[0].status, kizuna_app::model::RunStatus::Failed);
}

#[tokio::test]
async fn the_monthly_limit_stops_the_run_and_records_who_was_not_sent() {
    let mut town = kizuna_town();
    town.channel.monthly_quota = Some(3);
    let stack = stack_with(
        vec![town],
        StackOptions {
            sender: quick_settings(),
            ..Default::default()
        },
    )
    .await;
    let id = town_id("kizuna-town");
    populate(&stack, &id, 500, 10).await;
    stack.run_day(today()).await.unwrap();
    assert_eq!(stack.line.recorded_pushes().len(), 3);
    let runs = compose::runs(&stack.config, &stack.clients);
    let recent = kizuna_app::ports::RunRecords::list_recent(runs.as_ref(), &id, 1)
        .await
        .unwrap();
    assert!(recent[0].counts.not_sent_quota > 0, "{:?}", recent[0]);
    assert_eq!(recent[0].counts.sent, 3);
}

#[tokio::test]
async fn a_town_without_a_long_lived_token_sends_with_stateless_tokens() {
    let mut town = kizuna_town();
    town.channel.access_tokens.clear();
    let stack = stack_with(
        vec![town],
        StackOptions {
            sender: quick_settings(),
            ..Default::default()
        },
    )
    .await;
    let id = town_id("kizuna-town");
    // The stored credentials have no token either: the sender must issue one from id + secret.
    let secrets = compose::secrets(&stack.config, &stack.clients);
    let mut creds = kizuna_app::ports::ChannelSecrets::get(secrets.as_ref(), &id)
        .await
        .unwrap()
        .unwrap();
    creds.channel_access_token = None;
    kizuna_app::ports::ChannelSecrets::put(secrets.as_ref(), &id, &creds)
        .await
        .unwrap();
    populate(&stack, &id, 600, 5).await;
    let runs = stack.run_day(today()).await.unwrap();
    assert!(runs.iter().all(|r| r.result.is_ok()), "{runs:#?}");
    assert!(!stack.line.recorded_pushes().is_empty());
    // One stateless token served the whole run (cached until near expiry).
    assert_eq!(
        stack
            .line
            .issued_token_count(&stack.towns[0].channel.channel_id),
        1
    );
}

#[tokio::test]
async fn an_unfinished_run_is_caught_up_in_a_later_slot() {
    let stack = stack_with(
        vec![kizuna_town()],
        StackOptions {
            sender: quick_settings(),
            ..Default::default()
        },
    )
    .await;
    let id = town_id("kizuna-town");
    let households = populate(&stack, &id, 700, 6).await;
    let channel = stack.towns[0].channel.channel_id.clone();

    // 7:00: LINE rejects the token; nothing is delivered and the run is recorded as failed.
    stack.line.revoke_tokens(&channel);
    stack.set_japan_time(today(), 7, 0);
    stack.run_slot(today(), 7).await.unwrap();
    stack.drain_queue(1).await.unwrap();
    assert!(stack.line.recorded_pushes().is_empty());
    // The failed job is dropped from the queue here, as if it had gone to the DLQ.
    stack
        .clients
        .sqs
        .purge_queue()
        .queue_url(&stack.config.send_queue_url)
        .send()
        .await
        .unwrap();

    // 9:00: the token works again; the scheduler's catch-up re-enqueues the unfinished run.
    stack.line.restore_tokens(&channel);
    stack.set_japan_time(today(), 9, 0);
    let slot = stack.run_slot(today(), 9).await.unwrap();
    assert_eq!(slot.jobs.len(), 1);
    assert_eq!(slot.jobs[0].attempt, 2);
    stack.drain_queue(5).await.unwrap();
    assert_exactly_once(&stack, &households, &id);

    // 10:00: completed, so nothing more is enqueued.
    stack.set_japan_time(today(), 10, 0);
    assert!(stack.run_slot(today(), 10).await.unwrap().jobs.is_empty());
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

#[tokio::test]
async fn missing_content_for_one_stage_skips_only_those_households() {
    let stack = stack_with(
        vec![kizuna_town()],
        StackOptions {
            sender: quick_settings(),
            ..Default::default()
        },
    )
    .await;
    let town = town_id("kizuna-town");
    let gap = save(&stack, &town, 800, vec![pregnancy(1, d(2027, 5, 1))]).await; // 24w1d today
    let fine = save(&stack, &town, 801, vec![pregnancy(1, d(2027, 5, 2))]).await; // 24w0d
    let child_ok = save(&stack, &town, 802, vec![child(1, d(2026, 12, 1))]).await;

    // A pack uploaded past `content sync`'s validation (files and compiled artifact alike):
    // the 24w1d text is gone.
    let maternity =
        std::fs::read_to_string(content_dir().join("base/maternity-late.toml")).unwrap();
    let start = maternity
        .find("[[maternity]]\nstage = \"24w1d\"")
        .expect("the sample has 24w1d");
    let end = start + maternity[start + 1..].find("[[maternity]]").unwrap() + 1;
    let without = format!("{}{}", &maternity[..start], &maternity[end..]);
    let pack = tempfile::tempdir().unwrap();
    copy_dir(&content_dir(), pack.path());
    std::fs::write(pack.path().join("base/maternity-late.toml"), without).unwrap();
    kizuna_local::upload_content(
        compose::content(&stack.config, &stack.clients).as_ref(),
        pack.path(),
    )
    .await
    .unwrap();

    let runs = stack.run_day(today()).await.unwrap();
    assert!(runs.iter().all(|r| r.result.is_ok()), "{runs:#?}");
    assert!(
        stack.pushes_to(gap.user.as_str()).is_empty(),
        "no text, no push"
    );
    assert_eq!(stack.pushes_to(fine.user.as_str()).len(), 1);
    assert_eq!(stack.pushes_to(child_ok.user.as_str()).len(), 1);
    let runs = compose::runs(&stack.config, &stack.clients);
    let record = &kizuna_app::ports::RunRecords::list_recent(runs.as_ref(), &town, 1)
        .await
        .unwrap()[0];
    assert_eq!(record.counts.missing_content, 1);
    assert_eq!(record.counts.sent, 2);
}

/// The production household store, with every page of the fan-out listing `delay` slower (a
/// throttled or overloaded table).
struct SlowListing {
    inner: std::sync::Arc<dyn HouseholdStore>,
    delay: Duration,
}

#[async_trait::async_trait]
impl HouseholdStore for SlowListing {
    async fn get(
        &self,
        m: &MunicipalityId,
        u: &LineUserId,
    ) -> kizuna_app::ports::StoreResult<Option<Household>> {
        self.inner.get(m, u).await
    }
    async fn save(&self, h: &Household) -> kizuna_app::ports::StoreResult<u64> {
        self.inner.save(h).await
    }
    async fn delete(&self, h: &Household) -> kizuna_app::ports::StoreResult<()> {
        self.inner.delete(h).await
    }
    async fn deliverable_page(
        &self,
        m: &MunicipalityId,
        shard: kizuna_app::model::Shard,
        cursor: Option<String>,
        limit: u32,
    ) -> kizuna_app::ports::StoreResult<kizuna_app::model::Page<Household>> {
        tokio::time::sleep(self.delay).await;
        self.inner.deliverable_page(m, shard, cursor, limit).await
    }
    async fn all_in_municipality_page(
        &self,
        m: &MunicipalityId,
        cursor: Option<String>,
        limit: u32,
    ) -> kizuna_app::ports::StoreResult<kizuna_app::model::Page<Household>> {
        self.inner.all_in_municipality_page(m, cursor, limit).await
    }
    async fn purge_unfollowed_before(
        &self,
        m: &MunicipalityId,
        cutoff: NaiveDate,
    ) -> kizuna_app::ports::StoreResult<u64> {
        self.inner.purge_unfollowed_before(m, cutoff).await
    }
}

/// The production ledger, counting commits and lookups.
struct CountingLedger {
    inner: std::sync::Arc<dyn kizuna_app::ports::DeliveryLedger>,
    commits: std::sync::atomic::AtomicUsize,
    lookups: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl kizuna_app::ports::DeliveryLedger for CountingLedger {
    async fn acquire_shard(
        &self,
        key: &kizuna_app::model::RunKey,
        owner: &str,
        now: chrono::DateTime<chrono::Utc>,
        lease: Duration,
    ) -> kizuna_app::ports::StoreResult<kizuna_app::ports::ShardLease> {
        self.inner.acquire_shard(key, owner, now, lease).await
    }
    async fn commit(
        &self,
        key: &kizuna_app::model::RunKey,
        owner: &str,
        commit: &kizuna_app::ports::PageCommit,
        now: chrono::DateTime<chrono::Utc>,
        lease: Duration,
    ) -> kizuna_app::ports::StoreResult<()> {
        self.commits
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.commit(key, owner, commit, now, lease).await
    }
    async fn release_shard(
        &self,
        key: &kizuna_app::model::RunKey,
        owner: &str,
        done: bool,
    ) -> kizuna_app::ports::StoreResult<()> {
        self.inner.release_shard(key, owner, done).await
    }
    async fn get(
        &self,
        m: &MunicipalityId,
        date: NaiveDate,
        u: &LineUserId,
    ) -> kizuna_app::ports::StoreResult<Option<kizuna_app::model::DeliveryRecord>> {
        self.inner.get(m, date, u).await
    }
    async fn list(
        &self,
        m: &MunicipalityId,
        date: NaiveDate,
    ) -> kizuna_app::ports::StoreResult<Vec<kizuna_app::model::DeliveryRecord>> {
        self.inner.list(m, date).await
    }
    async fn records_among(
        &self,
        m: &MunicipalityId,
        date: NaiveDate,
        users: &[LineUserId],
    ) -> kizuna_app::ports::StoreResult<HashMap<LineUserId, kizuna_app::model::DeliveryRecord>>
    {
        self.lookups
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.records_among(m, date, users).await
    }
    async fn forget_user(
        &self,
        m: &MunicipalityId,
        u: &LineUserId,
        around: NaiveDate,
    ) -> kizuna_app::ports::StoreResult<()> {
        self.inner.forget_user(m, u, around).await
    }
}

/// Regression (found by the chaos suite, docs/reliability.md): the sender listed the whole
/// shard before its first push, so when listing was slow every invocation reached its deadline
/// having delivered nothing, and the day was never sent. Now it delivers and commits page by
/// page, and a rerun resumes after the last settled page.
#[tokio::test]
async fn a_slow_listing_still_delivers_before_the_deadline_and_reruns_skip_the_sent() {
    let stack = stack_with(vec![kizuna_town()], StackOptions::default()).await;
    let town = town_id("kizuna-town");
    let households = populate(&stack, &town, 900, 24).await;
    let expected = receiving_today(&households, &town);
    stack.set_japan_time(today(), 7, 0);

    let ledger = std::sync::Arc::new(CountingLedger {
        inner: compose::ledger(&stack.config, &stack.clients),
        commits: Default::default(),
        lookups: Default::default(),
    });
    let ports = kizuna_app::sender::SenderPorts {
        municipalities: compose::municipalities(&stack.config, &stack.clients),
        secrets: compose::secrets(&stack.config, &stack.clients),
        households: std::sync::Arc::new(SlowListing {
            inner: compose::households(&stack.config, &stack.clients),
            delay: Duration::from_millis(400),
        }),
        ledger: ledger.clone(),
        runs: compose::runs(&stack.config, &stack.clients),
        content: compose::content(&stack.config, &stack.clients),
        messenger: std::sync::Arc::new(kizuna_line::LineMessenger::new(
            kizuna_line::LineClient::new(&stack.line.base_url).unwrap(),
        )),
    };
    let settings = SenderSettings {
        page_size: 4,
        deadline_margin: Duration::ZERO,
        ..quick_settings()
    };
    let sender = kizuna_app::sender::Sender::new(ports, stack.clock.clone(), settings);
    let job = kizuna_app::model::SendJob {
        municipality: town.clone(),
        date: today(),
        shard: kizuna_app::model::Shard::ALL,
        attempt: 0,
    };

    // Listing the six pages takes 2.4 s; the invocation has 1.5 s. It must still deliver.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1_500);
    let first = sender.run(&job, Some(deadline)).await;
    assert!(matches!(first, Err(SendError::Incomplete(_))), "{first:?}");
    let sent_first = pushes_by_user(&stack).len();
    assert!(
        sent_first > 0,
        "an invocation whose listing outlasts it still delivers what it has listed"
    );

    // A rerun with time enough finishes the day, exactly once each.
    let report = sender.run(&job, None).await.expect("the rerun completes");
    assert_eq!(report.counts.sent as usize, expected - sent_first);
    assert_exactly_once(&stack, &households, &town);

    // The run record counts each household once, whichever attempt sent it.
    let record = kizuna_app::ports::RunRecords::get(
        compose::runs(&stack.config, &stack.clients).as_ref(),
        &kizuna_app::model::RunKey {
            municipality: town.clone(),
            date: today(),
            shard: 0,
        },
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(record.counts.sent as usize, expected);
    assert_eq!(record.status, kizuna_app::model::RunStatus::Completed);

    // Another rerun finds the job done: no listing, no lookup, no commit, nothing counted.
    let commits_before = ledger.commits.load(std::sync::atomic::Ordering::SeqCst);
    let lookups_before = ledger.lookups.load(std::sync::atomic::Ordering::SeqCst);
    let again = sender.run(&job, None).await.expect("completes");
    assert_eq!(again.counts, kizuna_app::model::RunCounts::default());
    assert_eq!(
        ledger.commits.load(std::sync::atomic::Ordering::SeqCst),
        commits_before
    );
    assert_eq!(
        ledger.lookups.load(std::sync::atomic::Ordering::SeqCst),
        lookups_before
    );
    assert_exactly_once(&stack, &households, &town);
}
