//! Records that cross the ports: municipalities, channel credentials, send jobs, delivery
//! ledger entries, run records, content files, and the fan-out sharding rule.

use chrono::{DateTime, Days, NaiveDate, Utc};
use kizuna_core::{LineUserId, MunicipalityId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;

/// LINE allows 2,000 push requests per second per channel; a municipality on a shared or
/// throttled plan can be configured lower.
pub const DEFAULT_PUSH_RATE_PER_SECOND: u32 = 2_000;

/// How long a household is kept after its parent unfollowed (or blocked) the account.
/// A re-follow within this time finds the registrations and can resume; after it the
/// household is deleted (the daily purge, `crate::retention`, and DynamoDB TTL as a
/// backstop). The consent notice tells parents this number, so it is the core's constant.
pub use kizuna_core::conversation::RETENTION_DAYS_AFTER_UNFOLLOW;

/// One municipality (自治体) using Kizuna through its own LINE Official Account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Municipality {
    /// Stored under the table's key name, so the item needs no second copy of the id.
    #[serde(rename = "municipality_id")]
    pub id: MunicipalityId,
    /// The name parents and clerks read, e.g. 「海士町」.
    pub display_name: String,
    /// Hour of the day, Japan time, at which the daily message is pushed: one of
    /// [`crate::schedule::SENDING_HOURS`] (the sender starts no push outside them).
    pub delivery_hour: u8,
    /// A disabled municipality receives webhooks (so parents get answers) but no daily sends.
    pub enabled: bool,
    /// The bot's user id, which LINE puts in a webhook's `destination`; events for another bot
    /// are ignored. `None` until the first webhook has been verified by an operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_user_id: Option<String>,
    /// The town's other webhook service: events Kizuna does not consume are forwarded there
    /// unchanged (one channel has only one webhook URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_webhook_url: Option<String>,
    /// Counted messages the municipality's LINE plan allows per month, if it is capped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_message_limit: Option<u64>,
    #[serde(default = "default_push_rate")]
    pub push_rate_per_second: u32,
    /// Number of send jobs the daily fan-out is split into (1..=[`FANOUT_BUCKETS`]).
    #[serde(default = "default_send_shards")]
    pub send_shards: u16,
    /// The bot's basic id (`@` + letters/digits), from LINE's bot info at onboarding: the
    /// town's add-friend link is built from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_basic_id: Option<String>,
    /// The town's privacy policy (https), linked from the consent notice parents see before
    /// anything about them is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_url: Option<String>,
    /// Version of the town's privacy notice. A parent's consent records the version agreed
    /// to; when the town publishes a new one, the parent is asked again at the next contact.
    #[serde(default = "default_privacy_policy_version")]
    pub privacy_policy_version: String,
    /// Births the town expects in a year (the clerk's figure, e.g. last year's 出生数): the
    /// denominator of the registration coverage in `kizuna stats`. `None` until given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub births_per_year: Option<u32>,
}

/// The range `births_per_year` may take: a town has at least one birth a year, and no town in
/// Japan has a hundred thousand.
pub const BIRTHS_PER_YEAR: std::ops::RangeInclusive<u32> = 1..=100_000;

/// The version every municipality starts with.
pub const FIRST_PRIVACY_POLICY_VERSION: &str = "1";

fn default_privacy_policy_version() -> String {
    FIRST_PRIVACY_POLICY_VERSION.to_owned()
}

fn default_push_rate() -> u32 {
    DEFAULT_PUSH_RATE_PER_SECOND
}

fn default_send_shards() -> u16 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMunicipality {
    #[error("display name must not be empty")]
    EmptyName,
    /// An hour the sender would refuse every day (see [`crate::schedule::SENDING_HOURS`]).
    #[error(
        "配信時刻 {0}時 には送信されません。{first}〜{last}時（日本時間）から選んでください \
         / delivery hour {0} is outside the sending window: choose {first}–{last} (Japan time); \
         no push is started from {after}:00",
        first = crate::schedule::FIRST_SEND_HOUR,
        last = crate::schedule::LAST_SEND_HOUR,
        after = crate::schedule::LAST_SEND_HOUR + 1
    )]
    DeliveryHour(u8),
    #[error("send shards must be 1–{FANOUT_BUCKETS}, got {0}")]
    SendShards(u16),
    #[error("push rate must be at least 1 request per second")]
    PushRate,
    #[error("forward webhook URL must start with https:// or http://")]
    ForwardUrl,
    /// Parents open it from LINE: it must be an https page.
    #[error(
        "プライバシーポリシーのURLは https:// で始まる必要があります \
         / the privacy policy URL must start with https://"
    )]
    PrivacyUrl,
    #[error("プライバシーポリシーの版が空です / the privacy policy version must not be empty")]
    PrivacyPolicyVersion,
    #[error(
        "年間出生数は {min}〜{max} で指定してください / births per year must be {min}–{max}, got {0}",
        min = BIRTHS_PER_YEAR.start(),
        max = BIRTHS_PER_YEAR.end()
    )]
    BirthsPerYear(u32),
}

impl Municipality {
    /// A municipality with the defaults (one shard, LINE's full push rate, no cap).
    pub fn new(id: MunicipalityId, display_name: impl Into<String>, delivery_hour: u8) -> Self {
        Self {
            id,
            display_name: display_name.into(),
            delivery_hour,
            enabled: true,
            bot_user_id: None,
            forward_webhook_url: None,
            monthly_message_limit: None,
            push_rate_per_second: DEFAULT_PUSH_RATE_PER_SECOND,
            send_shards: 1,
            bot_basic_id: None,
            privacy_url: None,
            privacy_policy_version: default_privacy_policy_version(),
            births_per_year: None,
        }
    }

    pub fn validate(&self) -> Result<(), InvalidMunicipality> {
        if self.display_name.trim().is_empty() {
            return Err(InvalidMunicipality::EmptyName);
        }
        if !crate::schedule::is_sending_hour(self.delivery_hour) {
            return Err(InvalidMunicipality::DeliveryHour(self.delivery_hour));
        }
        if self.send_shards == 0 || self.send_shards > FANOUT_BUCKETS {
            return Err(InvalidMunicipality::SendShards(self.send_shards));
        }
        if self.push_rate_per_second == 0 {
            return Err(InvalidMunicipality::PushRate);
        }
        if let Some(url) = &self.forward_webhook_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(InvalidMunicipality::ForwardUrl);
            }
        }
        if let Some(url) = &self.privacy_url {
            if !url.starts_with("https://") || url.len() <= "https://".len() {
                return Err(InvalidMunicipality::PrivacyUrl);
            }
        }
        if self.privacy_policy_version.trim().is_empty() {
            return Err(InvalidMunicipality::PrivacyPolicyVersion);
        }
        if let Some(n) = self.births_per_year {
            if !BIRTHS_PER_YEAR.contains(&n) {
                return Err(InvalidMunicipality::BirthsPerYear(n));
            }
        }
        Ok(())
    }

    /// The shards of one day's fan-out, one send job each.
    pub fn shards(&self) -> impl Iterator<Item = Shard> {
        let count = self.send_shards.clamp(1, FANOUT_BUCKETS);
        (0..count).map(move |index| Shard { index, count })
    }
}

/// A channel access token (long-lived or stateless). `Debug` prints `ChannelToken(***)`.
///
/// Like [`ChannelSecret`], it implements no `Display` and no `Serialize` of its own, so it
/// cannot reach a log line by accident: the raw value is only reachable through the
/// explicitly named [`ChannelToken::expose_secret`] (and in the stored JSON of
/// [`ChannelCredentials`], which serializes it on purpose).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ChannelToken(String);

impl ChannelToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The raw token, for the `Authorization` header. Never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ChannelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChannelToken(***)")
    }
}

/// A channel secret (signs webhooks, issues stateless tokens). `Debug` prints
/// `ChannelSecret(***)`; see [`ChannelToken`] for why there is no `Display` or `Serialize`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ChannelSecret(String);

impl ChannelSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The raw secret, as the HMAC key of the webhook signature. Never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ChannelSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChannelSecret(***)")
    }
}

/// A municipality's LINE channel credentials, in the JSON shape of its secret:
/// `{"channel_id": "...", "channel_secret": "...", "channel_access_token": "..."}`.
///
/// `Debug` never prints the secret or the token (their types redact themselves); only the
/// secret store serializes them, to write the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelCredentials {
    pub channel_id: String,
    #[serde(serialize_with = "serialize_secret")]
    pub channel_secret: ChannelSecret,
    /// A long-lived channel access token. Absent: stateless tokens are issued from the
    /// channel id and secret.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_token"
    )]
    pub channel_access_token: Option<ChannelToken>,
}

impl ChannelCredentials {
    /// Whether access tokens are issued from the channel id and secret (no long-lived token
    /// is stored), so a rejected one can be replaced by a freshly issued one.
    pub fn uses_stateless_tokens(&self) -> bool {
        self.channel_access_token.is_none()
    }
}

fn serialize_secret<S: serde::Serializer>(
    secret: &ChannelSecret,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

fn serialize_token<S: serde::Serializer>(
    token: &Option<ChannelToken>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match token {
        Some(token) => serializer.serialize_some(token.expose_secret()),
        None => serializer.serialize_none(),
    }
}

/// Households are spread over this many fan-out buckets per municipality (a stable hash of the
/// LINE user id). A send job covers a [`Shard`] = the buckets `b` with `b % count == index`.
///
/// Why buckets and not `hash % send_shards` directly: a household's bucket never depends on
/// the municipality's configuration, so saving a household needs no municipality lookup, and
/// changing `send_shards` re-partitions the work without rewriting a single item.
pub const FANOUT_BUCKETS: u16 = 32;

/// The fan-out bucket of a user, identical in every process and release: the first 8 bytes of
/// SHA-256 over a domain prefix and the id (not `std`'s hasher, whose output may change).
pub fn fanout_bucket(user: &LineUserId) -> u16 {
    let digest = Sha256::digest(format!("kizuna-fanout-v1:{}", user.as_str()));
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % u64::from(FANOUT_BUCKETS)) as u16
}

/// One part of a municipality's daily fan-out: shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shard {
    pub index: u16,
    pub count: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shard {index} of {count} is not valid (need index < count <= {FANOUT_BUCKETS})")]
pub struct InvalidShard {
    pub index: u16,
    pub count: u16,
}

impl Shard {
    /// The whole municipality as one shard.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    pub fn new(index: u16, count: u16) -> Result<Self, InvalidShard> {
        if count == 0 || count > FANOUT_BUCKETS || index >= count {
            return Err(InvalidShard { index, count });
        }
        Ok(Self { index, count })
    }

    /// The fan-out buckets this shard covers, ascending. Empty for an invalid shard.
    pub fn buckets(self) -> impl Iterator<Item = u16> {
        let valid = Shard::new(self.index, self.count).is_ok();
        (0..FANOUT_BUCKETS).filter(move |b| valid && b % self.count == self.index)
    }

    pub fn covers(self, user: &LineUserId) -> bool {
        self.count > 0 && fanout_bucket(user) % self.count == self.index
    }
}

/// The date from which a household unfollowed on `unfollowed_on` may be deleted.
pub fn retention_ends(unfollowed_on: NaiveDate) -> NaiveDate {
    unfollowed_on
        .checked_add_days(Days::new(RETENTION_DAYS_AFTER_UNFOLLOW))
        .unwrap_or(NaiveDate::MAX)
}

/// One page of a paginated listing. `next` is an opaque cursor for the following page, `None`
/// on the last page. Cursors may contain a LINE user id: pass them on, never log them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// A message on the send queue (scheduler → sender): send `date`'s messages to one shard of
/// one municipality. JSON on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendJob {
    pub municipality: MunicipalityId,
    /// The delivery date (Japan time) the message is for — from the schedule, not the clock.
    pub date: NaiveDate,
    pub shard: Shard,
    /// 0 for the scheduled run; incremented by catch-up runs, for logs and metrics.
    pub attempt: u32,
}

/// Where one (municipality, date, user) delivery stands in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryState {
    /// Written by releases before the send-job lease (a per-delivery claim); read only, so
    /// that such items left from the day of an upgrade are still understood.
    Claimed { lease_expires_at: DateTime<Utc> },
    /// LINE accepted the push (or answered 409: accepted before with the same retry key).
    Sent {
        request_id: String,
        message_count: u32,
    },
    /// The push failed. A retryable failure is tried again by a later attempt.
    Failed { reason: String, retryable: bool },
}

/// One delivery ledger entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub municipality: MunicipalityId,
    pub date: NaiveDate,
    pub user: LineUserId,
    /// Attempts at this delivery today (1 on the first).
    pub attempt: u32,
    pub state: DeliveryState,
}

/// Identifies one send job's run record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RunKey {
    pub municipality: MunicipalityId,
    pub date: NaiveDate,
    pub shard: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Started,
    Completed,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Started => "started",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "started" => Some(RunStatus::Started),
            "completed" => Some(RunStatus::Completed),
            "failed" => Some(RunStatus::Failed),
            _ => None,
        }
    }
}

/// Household counts of one run. Used both as a delta (what one batch adds) and as the totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounts {
    pub sent: u64,
    /// Nothing to send today (no message for this stage, or already sent by an earlier run).
    pub skipped: u64,
    pub failed: u64,
    /// Not sent because the municipality's monthly message limit was reached.
    pub not_sent_quota: u64,
    /// Content missing for the household's stage: skipped with a warning.
    pub missing_content: u64,
}

/// What a sender reports about its run: the status now, and counts to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunUpdate {
    pub status: RunStatus,
    pub add: RunCounts,
    /// Households newly sent each town notice (note id → count), added like the counts; a
    /// survey's invitations count under `survey/<survey id>`.
    pub notices: BTreeMap<String, u64>,
    /// Why a run failed, in words for the operator (never a user id or token).
    pub note: Option<String>,
}

/// The record of one send job (municipality, date, shard). Counts accumulate over every
/// attempt at the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub key: RunKey,
    pub status: RunStatus,
    pub counts: RunCounts,
    /// Households each town notice (note id) reached in this run, over every attempt.
    pub notices: BTreeMap<String, u64>,
    pub note: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// A change of friendship that LINE reports in a webhook event. Counted per town and month
/// ([`crate::ports::FollowTally`]) for the registration funnel: a follower who never agrees to
/// the privacy notice leaves no household, so the number of new friends exists nowhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FollowChange {
    /// A follow that is not an unblock: someone added the account as a friend.
    NewFriend,
    /// A follow with `isUnblocked`: a former friend unblocked the account.
    Unblocked,
    /// An unfollow (LINE sends it when the account is blocked).
    Unfollowed,
}

impl FollowChange {
    pub const ALL: [FollowChange; 3] = [
        FollowChange::NewFriend,
        FollowChange::Unblocked,
        FollowChange::Unfollowed,
    ];

    /// The name of its count, in stored items and reports.
    pub fn key(self) -> &'static str {
        match self {
            FollowChange::NewFriend => "new_friends",
            FollowChange::Unblocked => "unblocked",
            FollowChange::Unfollowed => "unfollowed",
        }
    }
}

/// One town's follow events in one month: counts only, nothing about anyone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FollowCounts {
    pub new_friends: u64,
    pub unblocked: u64,
    pub unfollowed: u64,
}

impl FollowCounts {
    pub fn get(&self, change: FollowChange) -> u64 {
        match change {
            FollowChange::NewFriend => self.new_friends,
            FollowChange::Unblocked => self.unblocked,
            FollowChange::Unfollowed => self.unfollowed,
        }
    }

    pub fn get_mut(&mut self, change: FollowChange) -> &mut u64 {
        match change {
            FollowChange::NewFriend => &mut self.new_friends,
            FollowChange::Unblocked => &mut self.unblocked,
            FollowChange::Unfollowed => &mut self.unfollowed,
        }
    }
}

/// The month a date is in, as the follow tally keys it: `YYYY-MM`.
pub fn month_key(date: NaiveDate) -> String {
    date.format("%Y-%m").to_string()
}

/// One file of a content pack as stored (path = object key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentFile {
    pub path: String,
    pub text: String,
}

/// Every content file under a prefix, with a version that changes whenever any file does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentSnapshot {
    pub version: String,
    pub files: Vec<ContentFile>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn user(n: u32) -> LineUserId {
        LineUserId::parse(&format!("U{n:032x}")).unwrap()
    }

    #[test]
    fn fanout_bucket_is_stable_across_releases() {
        // Pinned: changing the hash would move every household to another shard while a day's
        // fan-out is running, so it must never change silently.
        // Values computed independently (Python hashlib) from the documented rule.
        for (id, bucket) in [
            ("U4af4980629a0b1c2d3e4f5a6b7c8d9e0", 19),
            ("U00000000000000000000000000000000", 5),
            ("Uffffffffffffffffffffffffffffffff", 31),
        ] {
            assert_eq!(
                fanout_bucket(&LineUserId::parse(id).unwrap()),
                bucket,
                "{id}"
            );
        }
    }

    #[test]
    fn buckets_spread_users_roughly_evenly() {
        let mut seen: HashMap<u16, u32> = HashMap::new();
        for n in 0..3_200 {
            *seen.entry(fanout_bucket(&user(n))).or_default() += 1;
        }
        assert_eq!(seen.len(), usize::from(FANOUT_BUCKETS));
        assert!(seen.values().all(|&c| (50..=150).contains(&c)), "{seen:?}");
    }

    #[test]
    fn shards_partition_the_buckets() {
        for count in 1..=FANOUT_BUCKETS {
            let mut all: Vec<u16> = (0..count)
                .flat_map(|i| Shard::new(i, count).unwrap().buckets())
                .collect();
            all.sort_unstable();
            assert_eq!(
                all,
                (0..FANOUT_BUCKETS).collect::<Vec<_>>(),
                "count {count}"
            );
        }
        for n in 0..200 {
            let u = user(n);
            let owners = (0..3)
                .filter(|&i| Shard::new(i, 3).unwrap().covers(&u))
                .count();
            assert_eq!(owners, 1);
        }
    }

    #[test]
    fn invalid_shards_are_refused_and_cover_nothing() {
        assert!(Shard::new(0, 0).is_err());
        assert!(Shard::new(2, 2).is_err());
        assert!(Shard::new(0, FANOUT_BUCKETS + 1).is_err());
        assert_eq!(Shard { index: 3, count: 2 }.buckets().count(), 0);
    }

    #[test]
    fn municipality_validation() {
        let id = MunicipalityId::parse("ama-town").unwrap();
        let ok = Municipality::new(id, "海士町", 8);
        assert_eq!(ok.validate(), Ok(()));
        let mut m = ok.clone();
        m.delivery_hour = 24;
        assert_eq!(m.validate(), Err(InvalidMunicipality::DeliveryHour(24)));
        // 22:00 and 23:00 would be enqueued and refused by the sender every day.
        for hour in [22, 23] {
            m.delivery_hour = hour;
            let refused = m.validate().unwrap_err().to_string();
            assert!(refused.contains("0〜21時"), "{refused}");
            assert!(refused.contains("choose 0–21"), "{refused}");
        }
        for hour in crate::schedule::SENDING_HOURS {
            m.delivery_hour = hour;
            assert_eq!(m.validate(), Ok(()), "{hour}");
        }
        let mut m = ok.clone();
        m.send_shards = 0;
        assert!(m.validate().is_err());
        m.send_shards = FANOUT_BUCKETS + 1;
        assert!(m.validate().is_err());
        let mut m = ok.clone();
        m.forward_webhook_url = Some("ftp://x".into());
        assert_eq!(m.validate(), Err(InvalidMunicipality::ForwardUrl));
        let mut m = ok.clone();
        m.privacy_url = Some("http://town.example/privacy".into());
        assert_eq!(m.validate(), Err(InvalidMunicipality::PrivacyUrl));
        m.privacy_url = Some("https://town.example/privacy".into());
        assert_eq!(m.validate(), Ok(()));
        m.privacy_policy_version = " ".into();
        assert_eq!(m.validate(), Err(InvalidMunicipality::PrivacyPolicyVersion));
        let mut m = ok.clone();
        for (births, valid) in [(0, false), (1, true), (100_000, true), (100_001, false)] {
            m.births_per_year = Some(births);
            assert_eq!(
                m.validate(),
                if valid {
                    Ok(())
                } else {
                    Err(InvalidMunicipality::BirthsPerYear(births))
                },
                "{births}"
            );
        }
        let mut m = ok;
        m.send_shards = 4;
        let shards: Vec<_> = m.shards().collect();
        assert_eq!(shards.len(), 4);
        assert_eq!(shards[3], Shard { index: 3, count: 4 });
    }

    #[test]
    fn municipality_json_defaults() {
        let m: Municipality = serde_json::from_str(
            r#"{"municipality_id":"ama-town","display_name":"海士町","delivery_hour":8,"enabled":true}"#,
        )
        .unwrap();
        assert_eq!(m.push_rate_per_second, 2_000);
        assert_eq!(m.send_shards, 1);
        assert_eq!(m.bot_user_id, None);
        assert_eq!(m.births_per_year, None, "towns stored before it have none");
    }

    #[test]
    fn credentials_debug_redacts_secrets() {
        let c = ChannelCredentials {
            channel_id: "1234567890".into(),
            channel_secret: ChannelSecret::new("s3cr3t-value"),
            channel_access_token: Some(ChannelToken::new("tok3n-value")),
        };
        let shown = format!("{c:?} {:?}", c.channel_access_token);
        assert!(shown.contains("1234567890"));
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(!shown.contains("tok3n-value"), "{shown}");
        assert!(shown.contains("ChannelToken(***)"));
        assert!(shown.contains("ChannelSecret(***)"));
    }

    /// The secret's JSON: written with every field, read back equal; a secret without a
    /// long-lived token reads as stateless and is written without the field.
    #[test]
    fn credentials_round_trip_through_the_secrets_json() {
        let c = ChannelCredentials {
            channel_id: "1234567890".into(),
            channel_secret: ChannelSecret::new("s3cr3t-value"),
            channel_access_token: Some(ChannelToken::new("tok3n-value")),
        };
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(
            json,
            r#"{"channel_id":"1234567890","channel_secret":"s3cr3t-value","channel_access_token":"tok3n-value"}"#
        );
        assert_eq!(
            serde_json::from_str::<ChannelCredentials>(&json).unwrap(),
            c
        );
        assert!(!c.uses_stateless_tokens());

        let stateless: ChannelCredentials =
            serde_json::from_str(r#"{"channel_id":"1","channel_secret":"s"}"#).unwrap();
        assert!(stateless.uses_stateless_tokens());
        assert_eq!(stateless.channel_secret.expose_secret(), "s");
        assert_eq!(
            serde_json::to_string(&stateless).unwrap(),
            r#"{"channel_id":"1","channel_secret":"s"}"#
        );
    }

    #[test]
    fn send_job_wire_format() {
        let job = SendJob {
            municipality: MunicipalityId::parse("ama-town").unwrap(),
            date: NaiveDate::from_ymd_opt(2027, 4, 1).unwrap(),
            shard: Shard::new(1, 2).unwrap(),
            attempt: 0,
        };
        let json = serde_json::to_string(&job).unwrap();
        assert_eq!(
            json,
            r#"{"municipality":"ama-town","date":"2027-04-01","shard":{"index":1,"count":2},"attempt":0}"#
        );
        assert_eq!(serde_json::from_str::<SendJob>(&json).unwrap(), job);
    }

    #[test]
    fn retention_is_180_days() {
        let d = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert_eq!(
            retention_ends(d),
            NaiveDate::from_ymd_opt(2027, 6, 30).unwrap()
        );
    }
}
