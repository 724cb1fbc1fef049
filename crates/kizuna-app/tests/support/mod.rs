//! One town on the in-memory ports (`kizuna_app::memory`): stores, LINE and the clock, for
//! behaviour tests of the sender and the webhook that run in milliseconds.
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use kizuna_app::clock::FixedClock;
use kizuna_app::content::ARTIFACT_KEY;
use kizuna_app::memory::{InMemoryMessenger, InMemoryStores, InMemoryWebhookForwarder};
use kizuna_app::model::{ChannelCredentials, ChannelSecret, ChannelToken, Municipality};
use kizuna_app::pacing::Backoff;
use kizuna_app::ports::{ChannelSecrets, ContentStore, HouseholdStore, MunicipalityDirectory};
use kizuna_app::sender::{Sender, SenderSettings};
use kizuna_app::webhook::WebhookHandler;
use kizuna_core::content::{ContentLibrary, SourceFile};
use kizuna_core::{
    Household, LineUserId, MunicipalityId, Registration, RegistrationStatus, Subject, JAPAN,
};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use kizuna_core::testing::date as d;

pub const TOWN: &str = "kizuna-town";
pub const CHANNEL_ID: &str = "2000000001";
pub const CHANNEL_SECRET: &str = "kizuna-town-channel-secret";
/// The town's bot (the `destination` of its webhooks).
pub const BOT: &str = "Ub0000000000000000000000000000001";

/// The day every test runs on (a Sunday in January, as the moto tests).
pub fn today() -> NaiveDate {
    d(2027, 1, 10)
}

/// `hour`:`minute` on `date`, Japan time.
pub fn japan_time(date: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    JAPAN
        .from_local_datetime(&date.and_hms_opt(hour, minute, 0).expect("a valid time"))
        .single()
        .expect("Japan has no DST")
        .with_timezone(&Utc)
}

pub fn town_id() -> MunicipalityId {
    MunicipalityId::parse(TOWN).expect("a valid municipality id")
}

/// The `n`th test parent.
pub fn user(n: u32) -> LineUserId {
    LineUserId::parse(&format!("U{n:032x}")).expect("a valid LINE user id")
}

pub fn content_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content")
}

/// The repository's sample pack, parsed once per test binary.
pub fn sample_library() -> &'static ContentLibrary {
    static LIBRARY: OnceLock<ContentLibrary> = OnceLock::new();
    LIBRARY.get_or_init(|| ContentLibrary::load_dir(&content_dir()).expect("the sample is valid"))
}

/// The sample pack's TOML files, as `content sync` uploads them (paths under the content
/// directory, `tools/` left out).
pub fn sample_files() -> Vec<SourceFile> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<SourceFile>) {
        for entry in std::fs::read_dir(dir).expect("readable content dir") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "toml") {
                let relative = path.strip_prefix(root).expect("under the root");
                out.push(SourceFile {
                    path: relative.to_string_lossy().replace('\\', "/"),
                    text: std::fs::read_to_string(&path).expect("readable"),
                });
            }
        }
    }
    let mut files = Vec::new();
    walk(&content_dir(), &content_dir(), &mut files);
    files.retain(|f| !f.path.starts_with("tools/"));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

pub fn registration(id: u32, subject: Subject) -> Registration {
    Registration {
        id,
        subject,
        baby_count: 1,
        status: RegistrationStatus::Active,
        registered_on: d(2026, 6, 1),
    }
}

pub fn pregnancy(due: NaiveDate) -> Registration {
    registration(1, Subject::Pregnancy { due_date: due })
}

pub fn child(birth: NaiveDate) -> Registration {
    registration(
        1,
        Subject::Child {
            birth_date: birth,
            due_date: None,
        },
    )
}

/// Quick retries, so that a test with faults takes milliseconds (and the backoff still runs).
pub fn quick_settings() -> SenderSettings {
    SenderSettings {
        backoff: Backoff {
            first: Duration::from_millis(1),
            max: Duration::from_millis(5),
            attempts: 4,
        },
        ..SenderSettings::default()
    }
}

/// One town, its channel and the sample content, on in-memory ports.
pub struct World {
    pub stores: InMemoryStores,
    pub line: Arc<InMemoryMessenger>,
    pub forwarder: Arc<InMemoryWebhookForwarder>,
    pub clock: Arc<FixedClock>,
    pub town: Municipality,
    pub channel: ChannelCredentials,
}

impl World {
    /// The town (delivering at 7:00) with its credentials and the compiled sample pack
    /// stored, at 7:00 on [`today`].
    pub async fn new() -> Self {
        let stores = InMemoryStores::new();
        let mut town = Municipality::new(town_id(), "きずな町", 7);
        town.bot_user_id = Some(BOT.into());
        stores.municipalities.put(&town).await.expect("town stored");
        let channel = ChannelCredentials {
            channel_id: CHANNEL_ID.into(),
            channel_secret: ChannelSecret::new(CHANNEL_SECRET),
            channel_access_token: Some(ChannelToken::new("long-lived-token")),
        };
        stores
            .secrets
            .put(&town.id, &channel)
            .await
            .expect("credentials stored");
        stores
            .content
            .put_object(ARTIFACT_KEY, sample_library().to_artifact())
            .await
            .expect("content stored");
        Self {
            stores,
            line: Arc::default(),
            forwarder: Arc::default(),
            clock: Arc::new(FixedClock::new(japan_time(today(), 7, 0))),
            town,
            channel,
        }
    }

    /// Replaces the stored content by these TOML files and refuses the compiled artifact (as
    /// one of another format would be), so the sender parses the files, allowing gaps.
    pub async fn replace_content(&self, files: Vec<SourceFile>) {
        let content = &self.stores.content;
        content
            .put_object(ARTIFACT_KEY, Vec::new())
            .await
            .expect("stored");
        for file in files {
            content
                .put_object(&format!("content/{}", file.path), file.text.into_bytes())
                .await
                .expect("stored");
        }
    }

    pub fn sender(&self, settings: SenderSettings) -> Sender {
        let ports = self.stores.sender_ports(self.line.clone());
        Sender::new(ports, self.clock.clone(), settings)
    }

    pub fn webhook(&self) -> WebhookHandler {
        let ports = self
            .stores
            .webhook_ports(self.line.clone(), self.forwarder.clone());
        WebhookHandler::new(ports, self.clock.clone())
    }

    /// Stores the `n`th parent with these registrations.
    pub async fn parent(&self, n: u32, registrations: Vec<Registration>) -> Household {
        let mut household = Household::new(self.town.id.clone(), user(n));
        household.registrations = registrations;
        self.stores
            .households
            .save(&household)
            .await
            .expect("household stored");
        household.version = 1;
        household
    }

    pub async fn household(&self, n: u32) -> Option<Household> {
        self.stores
            .households
            .get(&self.town.id, &user(n))
            .await
            .expect("household read")
    }
}
