//! Kizuna's whole stack on this machine: the real adapters against an AWS emulator (moto), a
//! contract-enforcing fake LINE, the webhook served over HTTP on localhost, and the scheduler
//! and sender driven the way EventBridge and SQS drive them in AWS.
//!
//! Used by `kizuna local demo` (the README's first command) and by the integration tests. The
//! code under test is the production code: only the clock and the endpoints differ, and those
//! come from configuration.

pub mod chaos;
pub mod lambda;
pub mod moto;
pub mod relay;

/// The variables `kizuna-send-worker` reads besides the Lambda's configuration
/// (`kizuna_aws::env_var`): the local stand-ins for what Lambda and SQS decide in AWS. Its
/// module doc has their meanings and defaults; the chaos suite sets them.
pub mod worker_env {
    pub const CLOCK_OFFSET_MS: &str = "KIZUNA_CLOCK_OFFSET_MS";
    pub const SENDER_LEASE_SECS: &str = "KIZUNA_SENDER_LEASE_SECS";
    pub const LINE_TIMEOUT_MS: &str = "KIZUNA_LINE_TIMEOUT_MS";
    pub const VISIBILITY_SECS: &str = "KIZUNA_VISIBILITY_SECS";
    pub const JOB_TIMEOUT_SECS: &str = "KIZUNA_JOB_TIMEOUT_SECS";
    pub const DEADLINE_MARGIN_SECS: &str = "KIZUNA_DEADLINE_MARGIN_SECS";
}

use anyhow::{anyhow, bail, Context as _};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use fake_line::{FakeChannel, FakeLineBuilder, RunningFakeLine};
use kizuna_app::clock::{Clock, FixedClock};
use kizuna_app::model::{ChannelCredentials, ChannelSecret, ChannelToken, Municipality, SendJob};
use kizuna_app::ports::{ChannelSecrets, ContentStore, HouseholdStore, MunicipalityDirectory};
use kizuna_app::scheduler::{Scheduler, SlotReport};
use kizuna_app::sender::{
    JobReport, QueuedJobOutcome, SendError, Sender, SenderSettings, CONTENT_PREFIX,
};
use kizuna_app::webhook::WebhookHandler;
use kizuna_aws::{compose, AwsClients, Config};
use kizuna_core::calendar::JAPAN;
use kizuna_core::{Household, LineUserId, MunicipalityId};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// A municipality of the local stack with its (fake) LINE channel.
#[derive(Debug, Clone)]
pub struct Town {
    pub municipality: Municipality,
    pub channel: FakeChannel,
}

impl Town {
    /// A town with a made-up channel: ids, secret and token derived from `n` (never real ones).
    pub fn new(id: &str, display_name: &str, delivery_hour: u8, n: u32) -> Self {
        let id = MunicipalityId::parse(id).expect("valid municipality id");
        let bot_user_id = format!("U{:032x}", 0xb07_0000_u128 + u128::from(n));
        let mut municipality = Municipality::new(id, display_name, delivery_hour);
        municipality.bot_user_id = Some(bot_user_id.clone());
        Self {
            municipality,
            channel: FakeChannel {
                channel_id: format!("{}", 2_000_000_000u64 + u64::from(n)),
                channel_secret: format!("{:032x}", 0x5ec2_e700_0000_u128 + u128::from(n)),
                access_tokens: vec![format!("local-demo-token-{n}")],
                bot_user_id,
                monthly_quota: None,
            },
        }
    }

    pub fn id(&self) -> &MunicipalityId {
        &self.municipality.id
    }

    fn credentials(&self) -> ChannelCredentials {
        ChannelCredentials {
            channel_id: self.channel.channel_id.clone(),
            channel_secret: ChannelSecret::new(self.channel.channel_secret.clone()),
            channel_access_token: self
                .channel
                .access_tokens
                .first()
                .map(|token| ChannelToken::new(token.clone())),
        }
    }
}

/// The running stack.
pub struct LocalStack {
    pub config: Config,
    pub clients: AwsClients,
    pub line: RunningFakeLine,
    pub clock: Arc<FixedClock>,
    pub webhook: Arc<WebhookHandler>,
    /// `http://127.0.0.1:PORT`: POST `/webhook/{municipality}` here.
    pub webhook_base: String,
    pub sender: Arc<Sender>,
    pub scheduler: Scheduler,
    pub towns: Vec<Town>,
    http: reqwest::Client,
    server: JoinHandle<()>,
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Options of [`LocalStack::start`].
pub struct StackOptions {
    pub now: DateTime<Utc>,
    pub sender: SenderSettings,
    /// Adjusts the fake LINE (rate limits, faults, reply token TTL) before it starts.
    pub fake_line: Box<dyn FnOnce(FakeLineBuilder) -> FakeLineBuilder + Send>,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            now: Utc::now(),
            sender: SenderSettings::default(),
            fake_line: Box::new(|b| b),
        }
    }
}

impl LocalStack {
    /// Starts the fake LINE and the webhook server, registers `towns` (municipality records and
    /// channel secrets) and uploads `content_dir`, on already provisioned AWS resources.
    pub async fn start(
        mut config: Config,
        clients: AwsClients,
        towns: Vec<Town>,
        content_dir: &Path,
        options: StackOptions,
    ) -> anyhow::Result<Self> {
        let mut builder = fake_line::FakeLine::builder();
        for town in &towns {
            builder = builder.channel(town.channel.clone());
        }
        let line = (options.fake_line)(builder)
            .build()
            .spawn()
            .await
            .context("starting the fake LINE")?;
        config.line_api_base = line.base_url.clone();

        let directory = compose::municipalities(&config, &clients);
        let secrets = compose::secrets(&config, &clients);
        for town in &towns {
            directory.put(&town.municipality).await?;
            secrets.put(town.id(), &town.credentials()).await?;
        }
        upload_content(compose::content(&config, &clients).as_ref(), content_dir).await?;

        let clock = Arc::new(FixedClock::new(options.now));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let webhook = Arc::new(compose::webhook_handler(
            &config,
            &clients,
            dyn_clock.clone(),
        )?);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let webhook_base = format!("http://{}", listener.local_addr()?);
        let router = kizuna_app::http::router(webhook.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "local webhook server stopped");
            }
        });
        let sender = Arc::new(compose::sender(
            &config,
            &clients,
            dyn_clock,
            options.sender,
        )?);
        let scheduler = compose::scheduler(&config, &clients);
        Ok(Self {
            config,
            clients,
            line,
            clock,
            webhook,
            webhook_base,
            sender,
            scheduler,
            towns,
            http: kizuna_line::tls::http_client(),
            server,
        })
    }

    pub fn town(&self, id: &MunicipalityId) -> &Town {
        self.towns
            .iter()
            .find(|t| t.id() == id)
            .expect("a town of this stack")
    }

    /// A reply token for `user`, as LINE issues one with each event.
    pub fn reply_token(&self, user: &str) -> String {
        self.line.issue_reply_token(user)
    }

    /// POSTs `events` to the town's webhook, signed with its channel secret, as LINE does.
    pub async fn post_events(&self, town: &MunicipalityId, events: Vec<Value>) -> (u16, Value) {
        let t = self.town(town);
        let signed = fake_line::webhook::signed_body(
            &t.channel.channel_secret,
            &t.channel.bot_user_id,
            events,
        );
        let (status, body) = self
            .post_raw(town.as_str(), signed.body, Some(&signed.signature))
            .await;
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// POSTs raw bytes with an optional signature header.
    pub async fn post_raw(
        &self,
        municipality: &str,
        body: Vec<u8>,
        signature: Option<&str>,
    ) -> (u16, String) {
        let mut request = self
            .http
            .post(format!("{}/webhook/{municipality}", self.webhook_base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(sig) = signature {
            request = request.header("x-line-signature", sig);
        }
        let response = request.send().await.expect("local webhook server answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    pub async fn household(&self, town: &MunicipalityId, user: &str) -> Option<Household> {
        let user = LineUserId::parse(user).expect("valid user id");
        compose::households(&self.config, &self.clients)
            .get(town, &user)
            .await
            .expect("household lookup")
    }

    /// Sets the clock to `hour:minute` Japan time on `date`.
    pub fn set_japan_time(&self, date: NaiveDate, hour: u32, minute: u32) {
        self.clock.set(japan_time(date, hour, minute));
    }

    /// Runs the scheduler for the slot `date` `hour`:00 (Japan), as EventBridge Scheduler does.
    pub async fn run_slot(&self, date: NaiveDate, hour: u32) -> anyhow::Result<SlotReport> {
        let scheduled = japan_time(date, hour, 0);
        Ok(self.scheduler.run_slot(scheduled, self.clock.now()).await?)
    }

    /// Works the send queue the way the SQS event source does: each job is run by the sender;
    /// a job that succeeds is deleted, a failed one becomes visible again (here at once,
    /// standing in for the visibility timeout). Stops when the queue is empty or after
    /// `max_rounds` passes.
    pub async fn drain_queue(&self, max_rounds: usize) -> anyhow::Result<Vec<JobRun>> {
        let mut runs = Vec::new();
        for _ in 0..max_rounds {
            let received = self
                .clients
                .sqs
                .receive_message()
                .queue_url(&self.config.send_queue_url)
                .max_number_of_messages(10)
                .visibility_timeout(60)
                .send()
                .await?;
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            for message in messages {
                let body = message.body().unwrap_or_default();
                let receipt = message
                    .receipt_handle()
                    .ok_or_else(|| anyhow!("SQS message without a receipt handle"))?;
                let QueuedJobOutcome::Ran { job, result } =
                    self.sender.run_queued(body, None).await
                else {
                    // Only the stack's own scheduler enqueues here: a malformed job is a bug.
                    bail!("the send queue holds a malformed job");
                };
                if result.is_ok() {
                    self.clients
                        .sqs
                        .delete_message()
                        .queue_url(&self.config.send_queue_url)
                        .receipt_handle(receipt)
                        .send()
                        .await?;
                } else {
                    self.clients
                        .sqs
                        .change_message_visibility()
                        .queue_url(&self.config.send_queue_url)
                        .receipt_handle(receipt)
                        .visibility_timeout(0)
                        .send()
                        .await?;
                }
                runs.push(JobRun { job, result });
            }
        }
        Ok(runs)
    }

    /// The daily run of `date` for every town: the clock is set to each delivery hour, the
    /// scheduler runs that slot, and the queue is worked until empty.
    pub async fn run_day(&self, date: NaiveDate) -> anyhow::Result<Vec<JobRun>> {
        let mut hours: Vec<u8> = self
            .towns
            .iter()
            .map(|t| t.municipality.delivery_hour)
            .collect();
        hours.sort_unstable();
        hours.dedup();
        let mut runs = Vec::new();
        for hour in hours {
            self.set_japan_time(date, u32::from(hour), 0);
            self.run_slot(date, u32::from(hour)).await?;
            runs.extend(self.drain_queue(20).await?);
        }
        Ok(runs)
    }

    /// Messages pushed to `user` (each push = one entry of message objects), in order.
    pub fn pushes_to(&self, user: &str) -> Vec<Vec<Value>> {
        self.line
            .recorded_pushes()
            .into_iter()
            .filter(|p| p.to == user)
            .map(|p| p.messages)
            .collect()
    }

    /// Texts of every reply sent to `user`, in order.
    pub fn replies_to(&self, user: &str) -> Vec<Vec<Value>> {
        self.line
            .recorded_replies()
            .into_iter()
            .filter(|r| r.user_id == user)
            .map(|r| r.messages)
            .collect()
    }
}

/// One job the queue worker ran.
#[derive(Debug)]
pub struct JobRun {
    pub job: SendJob,
    pub result: Result<JobReport, SendError>,
}

/// `date` at `hour:minute` Japan time, as UTC.
pub fn japan_time(date: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    JAPAN
        .from_local_datetime(&date.and_hms_opt(hour, minute, 0).expect("valid time"))
        .single()
        .expect("Japan has no DST gaps")
        .with_timezone(&Utc)
}

/// Uploads every file under `dir` to the content store under [`CONTENT_PREFIX`], keeping the
/// relative paths (`content/base/pack.toml`, …).
pub async fn upload_content(store: &dyn ContentStore, dir: &Path) -> anyhow::Result<usize> {
    let mut count = 0;
    let mut sources = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in
            std::fs::read_dir(&current).with_context(|| format!("reading {}", current.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path.strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
            let bytes = std::fs::read(&path)?;
            if relative.ends_with(".toml") {
                sources.push(kizuna_core::content::SourceFile {
                    path: relative.clone(),
                    text: String::from_utf8(bytes.clone())
                        .with_context(|| format!("{relative} is not UTF-8"))?,
                });
            }
            store
                .put_object(&format!("{CONTENT_PREFIX}{relative}"), bytes)
                .await?;
            count += 1;
        }
    }
    // Last, as `kizuna content sync` does: the compiled artifact the functions load first.
    let (library, _gaps) = kizuna_core::content::ContentLibrary::from_files_allowing_gaps(sources)
        .map_err(|e| anyhow::anyhow!("the content in {} does not load: {e:?}", dir.display()))?;
    store
        .put_object(kizuna_app::content::ARTIFACT_KEY, library.to_artifact())
        .await?;
    Ok(count)
}

/// Text of every message object of a push or reply.
pub fn texts(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|m| m["text"].as_str().map(str::to_owned))
        .collect()
}
