//! `kizuna municipality add|list|show|disable|enable|births|richmenu|qr|flyer`: bring a town
//! on board (`qr` and `flyer`: commands/flyer.rs).
//!
//! Channel secrets and tokens are read from a file or stdin, never from the command line
//! (shell history, `ps`), and are never printed back.

use crate::commands::ops::{block_on, parse_municipality, Ops};
use anyhow::{bail, Context as _};
use clap::{ArgGroup, Args, Subcommand};
use kizuna_app::model::{
    ChannelCredentials, ChannelSecret, ChannelToken, Municipality, BIRTHS_PER_YEAR,
};
use kizuna_app::ports::{ChannelSecrets, MunicipalityDirectory};
use kizuna_app::schedule::SENDING_HOURS;
use kizuna_aws::compose;
use kizuna_core::MunicipalityId;
use kizuna_line::{BotInfo, LineError, TokenProvider};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Delivery hours inside the sending window ([`SENDING_HOURS`], enforced by
/// `Municipality::validate`) but outside this range are allowed and warned about: a message
/// before 6:00 may wake parents.
pub const RECOMMENDED_HOURS: std::ops::RangeInclusive<u8> = 6..=21;

#[derive(Subcommand)]
pub enum MunicipalityCommand {
    /// Register (or update) a municipality and its LINE channel credentials.
    Add(Box<AddArgs>),
    /// Every municipality, one per line.
    List,
    /// One municipality's settings (credentials: only whether they exist).
    Show {
        #[arg(value_parser = parse_municipality)]
        id: MunicipalityId,
    },
    /// Stop the daily sends (webhooks are still answered).
    Disable {
        #[arg(value_parser = parse_municipality)]
        id: MunicipalityId,
    },
    /// Resume the daily sends.
    Enable {
        #[arg(value_parser = parse_municipality)]
        id: MunicipalityId,
    },
    /// Set the births the town expects in a year (the denominator of `kizuna stats`'
    /// coverage), e.g. from last year's 出生数.
    Births {
        #[arg(value_parser = parse_municipality)]
        id: MunicipalityId,
        #[arg(value_parser = parse_births_per_year)]
        births_per_year: u32,
    },
    /// Make Kizuna's rich menu (今日のメッセージ / 登録内容 / 変更・追加 / ヘルプ) the
    /// channel's default, replacing Kizuna's earlier one; with --remove, take it down.
    Richmenu {
        #[arg(value_parser = parse_municipality)]
        id: MunicipalityId,
        /// Unset Kizuna's default menu and delete Kizuna's menus (others are left alone).
        #[arg(long)]
        remove: bool,
    },
    /// The town's add-friend URL and its QR code (PNG or SVG).
    Qr(crate::commands::flyer::QrArgs),
    /// A printable A4 flyer and a card for the 母子健康手帳 (PDF), in Japanese, with the
    /// town's QR code, what parents receive, how to register and whom to ask.
    Flyer(crate::commands::flyer::FlyerArgs),
}

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("secret").args(["channel_secret_file", "channel_secret_stdin"])))]
pub struct AddArgs {
    /// Municipality id (lowercase letters, digits, '-'), e.g. ama-town.
    #[arg(value_parser = parse_municipality)]
    pub id: MunicipalityId,
    /// The name parents read, e.g. 海士町.
    #[arg(long)]
    pub name: String,
    /// Delivery hour, Japan time (0–21: no push starts from 22:00; 6–21 recommended).
    #[arg(long)]
    pub hour: u8,
    /// LINE channel id (Basic settings of the Messaging API channel).
    #[arg(long, requires = "secret")]
    pub channel_id: Option<String>,
    /// File holding the channel secret.
    #[arg(long, value_name = "FILE")]
    pub channel_secret_file: Option<PathBuf>,
    /// Read the channel secret from stdin.
    #[arg(long)]
    pub channel_secret_stdin: bool,
    /// File holding a long-lived channel access token (without it, short-lived tokens are
    /// issued from the channel id and secret).
    #[arg(long, value_name = "FILE")]
    pub access_token_file: Option<PathBuf>,
    /// The town's other webhook service, which receives the events Kizuna does not consume.
    #[arg(long, value_name = "URL")]
    pub forward_url: Option<String>,
    /// Counted messages per month allowed by the town's LINE plan.
    #[arg(long, value_name = "N")]
    pub monthly_limit: Option<u64>,
    /// Send jobs the daily fan-out is split into (1–32).
    #[arg(long, value_name = "N")]
    pub shards: Option<u16>,
    /// Push requests per second for this channel (default 2000, LINE's limit).
    #[arg(long, value_name = "N")]
    pub push_rate: Option<u32>,
    /// The stack's WebhookBaseUrl output (…/webhook/).
    #[arg(long, env = "KIZUNA_WEBHOOK_BASE", value_name = "URL")]
    pub webhook_base: Option<String>,
    /// The town's privacy policy page (https), linked from the notice parents see before
    /// anything about them is stored. Kept when not given again.
    #[arg(long, value_name = "URL")]
    pub privacy_url: Option<String>,
    /// Version of the town's privacy notice; a new one makes parents be asked again.
    /// Kept when not given again (first: "1").
    #[arg(long, value_name = "V")]
    pub privacy_policy_version: Option<String>,
    /// Births the town expects in a year (1–100000), for the registration coverage in
    /// `kizuna stats`. Kept when not given again; change it with `municipality births`.
    #[arg(long, value_name = "N", value_parser = parse_births_per_year)]
    pub births_per_year: Option<u32>,
}

pub fn parse_births_per_year(s: &str) -> Result<u32, String> {
    let n: u32 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of births"))?;
    if !BIRTHS_PER_YEAR.contains(&n) {
        return Err(format!(
            "births per year must be {}–{}",
            BIRTHS_PER_YEAR.start(),
            BIRTHS_PER_YEAR.end()
        ));
    }
    Ok(n)
}

pub fn run(cmd: MunicipalityCommand) -> anyhow::Result<ExitCode> {
    block_on(|ops| async move {
        let mut out = std::io::stdout().lock();
        match cmd {
            MunicipalityCommand::Add(args) => {
                let request = AddRequest::from_args(&args, &mut std::io::stdin().lock())?;
                add(&ops, request, &mut out).await
            }
            MunicipalityCommand::List => list(&ops, &mut out).await,
            MunicipalityCommand::Show { id } => show(&ops, &id, &mut out).await,
            MunicipalityCommand::Disable { id } => set_enabled(&ops, &id, false, &mut out).await,
            MunicipalityCommand::Enable { id } => set_enabled(&ops, &id, true, &mut out).await,
            MunicipalityCommand::Births {
                id,
                births_per_year,
            } => set_births_per_year(&ops, &id, births_per_year, &mut out).await,
            MunicipalityCommand::Richmenu { id, remove: false } => {
                crate::commands::richmenu::install(&ops, &id, &mut out).await
            }
            MunicipalityCommand::Richmenu { id, remove: true } => {
                crate::commands::richmenu::remove(&ops, &id, &mut out).await
            }
            MunicipalityCommand::Qr(args) => {
                crate::commands::flyer::qr(&ops, &args, &mut out).await
            }
            MunicipalityCommand::Flyer(args) => {
                crate::commands::flyer::flyer(&ops, &args, &mut out).await
            }
        }
    })
}

/// What `municipality add` writes.
#[derive(Debug, Clone)]
pub struct AddRequest {
    pub municipality: Municipality,
    /// `None`: leave the stored credentials as they are.
    pub credentials: Option<CredentialsUpdate>,
    pub webhook_base: Option<String>,
    /// `None`: keep the stored one.
    pub privacy_url: Option<String>,
    /// `None`: keep the stored one.
    pub privacy_policy_version: Option<String>,
    /// `None`: keep the stored one.
    pub births_per_year: Option<u32>,
}

/// New credentials, or only a new access token for the stored ones (token rotation).
#[derive(Debug, Clone)]
pub enum CredentialsUpdate {
    Replace(ChannelCredentials),
    AccessToken(ChannelToken),
}

impl AddRequest {
    pub fn from_args(args: &AddArgs, stdin: &mut dyn Read) -> anyhow::Result<Self> {
        let mut m = Municipality::new(args.id.clone(), args.name.trim(), args.hour);
        m.forward_webhook_url = args.forward_url.clone();
        m.monthly_message_limit = args.monthly_limit;
        if let Some(n) = args.shards {
            m.send_shards = n;
        }
        if let Some(n) = args.push_rate {
            m.push_rate_per_second = n;
        }
        let secret = match (&args.channel_secret_file, args.channel_secret_stdin) {
            (Some(path), _) => Some(read_secret_file(path, "channel secret")?),
            (None, true) => {
                let mut text = String::new();
                stdin
                    .read_to_string(&mut text)
                    .context("reading the channel secret from stdin")?;
                Some(non_empty(text, "channel secret (stdin)")?)
            }
            (None, false) => None,
        };
        let token = args
            .access_token_file
            .as_deref()
            .map(|p| read_secret_file(p, "access token"))
            .transpose()?;
        let credentials = match (&args.channel_id, secret, token) {
            (Some(channel_id), Some(channel_secret), token) => {
                Some(CredentialsUpdate::Replace(ChannelCredentials {
                    channel_id: channel_id.trim().to_owned(),
                    channel_secret: ChannelSecret::new(channel_secret),
                    channel_access_token: token.map(ChannelToken::new),
                }))
            }
            (None, Some(_), _) => bail!("--channel-id is required with the channel secret"),
            (_, None, Some(token)) => {
                Some(CredentialsUpdate::AccessToken(ChannelToken::new(token)))
            }
            (Some(_), None, None) => {
                bail!("--channel-id needs --channel-secret-file or --channel-secret-stdin")
            }
            (None, None, None) => None,
        };
        Ok(Self {
            municipality: m,
            credentials,
            webhook_base: args.webhook_base.clone(),
            privacy_url: args.privacy_url.as_deref().map(|u| u.trim().to_owned()),
            privacy_policy_version: args
                .privacy_policy_version
                .as_deref()
                .map(|v| v.trim().to_owned()),
            births_per_year: args.births_per_year,
        })
    }
}

fn read_secret_file(path: &Path, what: &str) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the {what} from {}", path.display()))?;
    non_empty(text, what)
}

fn non_empty(text: String, what: &str) -> anyhow::Result<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        bail!("the {what} is empty");
    }
    Ok(trimmed.to_owned())
}

/// The URL to paste into the LINE Developers console for `id`, from the stack's
/// `WebhookBaseUrl` output (`…/webhook/`) or a bare base URL (the local stack).
pub fn webhook_url(base: &str, id: &MunicipalityId) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/webhook") {
        format!("{base}/{}", id.as_str())
    } else {
        format!("{base}/webhook/{}", id.as_str())
    }
}

/// Asks LINE who the channel's bot is (`GET /v2/bot/info`), with a token from `credentials`
/// (the long-lived one, or a stateless one issued from the channel id and secret) — which
/// also proves the credentials work.
pub async fn verify_bot(ops: &Ops, credentials: &ChannelCredentials) -> anyhow::Result<BotInfo> {
    let line = compose::line_client(&ops.config)?;
    let tokens = TokenProvider::new(line.clone());
    let result = match tokens.token(credentials).await {
        Ok(token) => line.bot_info(&token).await,
        Err(e) => Err(e),
    };
    result.map_err(|e| match e {
        LineError::Unauthorized
        | LineError::BadRequest { .. }
        | LineError::Other { .. } => anyhow::anyhow!(
            "LINEがチャネルの認証情報を受け付けませんでした。チャネルID・チャネルシークレット・\
             アクセストークンを確認してください。何も保存していません。 / LINE rejected the \
             channel credentials ({e}): check the channel id, secret and access token. \
             Nothing was stored."
        ),
        other => anyhow::anyhow!(
            "LINEに接続してボットを確認できませんでした。何も保存していません。時間をおいて再実行して\
             ください。 / could not verify the bot with LINE ({other}). Nothing was stored; \
             run the command again."
        ),
    })
}

/// Writes the municipality record and (if given) its credentials, then prints what the clerk
/// must set in the LINE console. With credentials (given or stored), the bot is verified with
/// LINE first; if LINE refuses them, nothing is stored.
pub async fn add(ops: &Ops, request: AddRequest, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let AddRequest {
        mut municipality,
        credentials,
        webhook_base,
        privacy_url,
        privacy_policy_version,
        births_per_year,
    } = request;
    let directory = compose::municipalities(&ops.config, &ops.clients);
    let secrets = compose::secrets(&ops.config, &ops.clients);
    let id = municipality.id.clone();
    let existing = directory.get(&id).await?;
    if let Some(existing) = &existing {
        // Re-adding updates the settings; what the system learnt (the verified bot) and
        // whether an operator disabled the town are kept, and so is the privacy policy
        // unless a new one is given.
        municipality.bot_user_id = existing.bot_user_id.clone();
        municipality.bot_basic_id = existing.bot_basic_id.clone();
        municipality.enabled = existing.enabled;
        municipality.privacy_url = existing.privacy_url.clone();
        municipality.privacy_policy_version = existing.privacy_policy_version.clone();
        municipality.births_per_year = existing.births_per_year;
    }
    if births_per_year.is_some() {
        municipality.births_per_year = births_per_year;
    }
    if let Some(url) = privacy_url {
        municipality.privacy_url = Some(url);
    }
    if let Some(version) = privacy_policy_version {
        municipality.privacy_policy_version = version;
    }
    municipality
        .validate()
        .with_context(|| format!("municipality {}", municipality.id))?;
    let stored = secrets.get(&id).await?;
    let has_stored = stored.is_some();
    let credentials = match credentials {
        Some(CredentialsUpdate::Replace(c)) => Some(c),
        Some(CredentialsUpdate::AccessToken(token)) => {
            let Some(mut stored) = stored.clone() else {
                bail!("{id} has no stored credentials: give --channel-id and the channel secret");
            };
            stored.channel_access_token = Some(token);
            Some(stored)
        }
        None => None,
    };
    // The bot, from the credentials about to be stored (or those stored): a wrong secret or
    // token fails here, before anything is written.
    let verified = match credentials.as_ref().or(stored.as_ref()) {
        Some(c) => Some(verify_bot(ops, c).await?),
        None => None,
    };
    if let Some(bot) = &verified {
        municipality.bot_user_id = Some(bot.user_id.clone());
        municipality.bot_basic_id = Some(bot.basic_id.clone());
    }
    // Credentials first: a municipality record without them would make the sender fail loudly
    // at the next delivery hour.
    if let Some(c) = &credentials {
        secrets.put(&id, c).await?;
    }
    directory.put(&municipality).await?;
    let has_credentials = credentials.is_some() || has_stored;

    writeln!(
        out,
        "{} {} ({}), daily message at {:02}:00 Japan time",
        if existing.is_some() {
            "updated"
        } else {
            "added"
        },
        id,
        municipality.display_name,
        municipality.delivery_hour
    )?;
    if !RECOMMENDED_HOURS.contains(&municipality.delivery_hour) {
        writeln!(
            out,
            "warning: delivery hour {} is outside the recommended {}–{}: parents may be woken (allowed: {}–{})",
            municipality.delivery_hour,
            RECOMMENDED_HOURS.start(),
            RECOMMENDED_HOURS.end(),
            SENDING_HOURS.start(),
            SENDING_HOURS.end()
        )?;
    }
    match &verified {
        Some(bot) => writeln!(
            out,
            "bot verified with LINE: {} (add-friend link {})",
            bot.basic_id,
            add_friend_link(&bot.basic_id)
        )?,
        None => writeln!(
            out,
            "bot not verified: no channel credentials (webhooks cannot be checked against the bot)"
        )?,
    }
    match &municipality.privacy_url {
        Some(url) => writeln!(
            out,
            "privacy policy: {url} (version {})",
            municipality.privacy_policy_version
        )?,
        None => writeln!(
            out,
            "warning: no --privacy-url: parents cannot be shown the town's privacy policy"
        )?,
    }
    match municipality.births_per_year {
        Some(n) => writeln!(out, "births per year: {n}")?,
        None => writeln!(
            out,
            "births per year: not set (give --births-per-year for the coverage in `kizuna stats`)"
        )?,
    }
    match &credentials {
        Some(c) => writeln!(
            out,
            "credentials stored in Secrets Manager ({}{}): channel secret, {}",
            ops.config.secret_prefix,
            id,
            if c.channel_access_token.is_some() {
                "long-lived access token"
            } else {
                "no access token (short-lived tokens will be issued)"
            }
        )?,
        None if has_credentials => writeln!(out, "credentials: unchanged (stored)")?,
        None => writeln!(
            out,
            "warning: no channel credentials stored yet: daily sends will fail until you run \
             `kizuna municipality add {id} … --channel-id ID --channel-secret-file F`"
        )?,
    }
    writeln!(out)?;
    match webhook_base {
        Some(base) => writeln!(out, "Webhook URL: {}", webhook_url(&base, &id))?,
        None => writeln!(
            out,
            "Webhook URL: <WebhookBaseUrl output of the stack>{id}  (pass --webhook-base or set KIZUNA_WEBHOOK_BASE to print it)"
        )?,
    }
    writeln!(
        out,
        "LINE Official Account Manager / LINE Developers console:"
    )?;
    for item in CONSOLE_CHECKLIST {
        writeln!(out, "  [ ] {item}")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The add-friend URL LINE documents (`kizuna_app::add_friend`), or a note that the basic id
/// LINE returned has an unexpected shape.
fn add_friend_link(basic_id: &str) -> String {
    match kizuna_app::add_friend::BotBasicId::parse(basic_id) {
        Ok(id) => id.add_friend_url(),
        Err(e) => format!("unavailable: {e}"),
    }
}

/// What a clerk sets in the LINE console (Japanese first: that is the console's language).
pub const CONSOLE_CHECKLIST: [&str; 5] = [
    "Webhook URL を上記に設定し「検証」 (Messaging API settings → Webhook URL → Verify)",
    "Webhookの利用: オン (Use webhook: on)",
    "Webhookの再送: オン (Webhook redelivery: on)",
    "応答メッセージ: オフ (Auto-reply messages: off)",
    "あいさつメッセージ: オフ (Greeting messages: off — Kizuna greets new friends itself)",
];

pub async fn list(ops: &Ops, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let directory = compose::municipalities(&ops.config, &ops.clients);
    let mut all = directory.list().await?;
    all.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    writeln!(
        out,
        "{:<24} {:<16} {:>4} {:<8} {:>6} {:>10}",
        "ID", "NAME", "HOUR", "STATE", "SHARDS", "LIMIT"
    )?;
    for m in &all {
        writeln!(
            out,
            "{:<24} {:<16} {:>4} {:<8} {:>6} {:>10}",
            m.id.as_str(),
            m.display_name,
            format!("{:02}", m.delivery_hour),
            if m.enabled { "enabled" } else { "disabled" },
            m.send_shards,
            m.monthly_message_limit
                .map_or("-".to_owned(), |l| l.to_string())
        )?;
    }
    writeln!(out, "{} municipality(ies)", all.len())?;
    Ok(ExitCode::SUCCESS)
}

pub async fn show(ops: &Ops, id: &MunicipalityId, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let directory = compose::municipalities(&ops.config, &ops.clients);
    let Some(m) = directory.get(id).await? else {
        writeln!(out, "{id}: not registered")?;
        return Ok(ExitCode::from(1));
    };
    let credentials = compose::secrets(&ops.config, &ops.clients).get(id).await?;
    writeln!(out, "id:              {}", m.id)?;
    writeln!(out, "name:            {}", m.display_name)?;
    writeln!(out, "delivery hour:   {:02}:00 (Japan)", m.delivery_hour)?;
    writeln!(
        out,
        "state:           {}",
        if m.enabled {
            "enabled"
        } else {
            "disabled (no daily sends)"
        }
    )?;
    writeln!(out, "send shards:     {}", m.send_shards)?;
    writeln!(out, "push rate:       {}/s", m.push_rate_per_second)?;
    writeln!(
        out,
        "monthly limit:   {}",
        m.monthly_message_limit
            .map_or("none".to_owned(), |l| l.to_string())
    )?;
    writeln!(
        out,
        "forward webhook: {}",
        m.forward_webhook_url.as_deref().unwrap_or("none")
    )?;
    writeln!(
        out,
        "bot verified:    {}",
        match (&m.bot_user_id, &m.bot_basic_id) {
            (Some(_), Some(basic)) =>
                format!("yes ({basic}, add-friend link {})", add_friend_link(basic)),
            (Some(_), None) => "yes (basic id unknown: run `municipality add` again)".to_owned(),
            _ => "NO (run `kizuna municipality add` with the channel credentials)".to_owned(),
        }
    )?;
    writeln!(
        out,
        "privacy policy:  {}",
        match &m.privacy_url {
            Some(url) => format!("{url} (version {})", m.privacy_policy_version),
            None => format!(
                "NOT SET (version {}; set --privacy-url)",
                m.privacy_policy_version
            ),
        }
    )?;
    writeln!(
        out,
        "births per year: {}",
        m.births_per_year
            .map_or("not set".to_owned(), |n| n.to_string())
    )?;
    match credentials {
        Some(c) => writeln!(
            out,
            "credentials:     stored (channel id {}, secret set, access token {})",
            c.channel_id,
            if c.channel_access_token.is_some() {
                "set"
            } else {
                "not set: short-lived tokens"
            }
        )?,
        None => writeln!(out, "credentials:     MISSING (daily sends will fail)")?,
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn set_enabled(
    ops: &Ops,
    id: &MunicipalityId,
    enabled: bool,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let directory = compose::municipalities(&ops.config, &ops.clients);
    let Some(mut m) = directory.get(id).await? else {
        writeln!(out, "{id}: not registered")?;
        return Ok(ExitCode::from(1));
    };
    m.enabled = enabled;
    directory.put(&m).await?;
    writeln!(
        out,
        "{id}: {}",
        if enabled {
            "enabled (daily sends resume at the next delivery hour)"
        } else {
            "disabled (no daily sends; parents' messages are still answered)"
        }
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `municipality births ID N`: changes only the births per year.
pub async fn set_births_per_year(
    ops: &Ops,
    id: &MunicipalityId,
    births_per_year: u32,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let directory = compose::municipalities(&ops.config, &ops.clients);
    let Some(mut m) = directory.get(id).await? else {
        writeln!(out, "{id}: not registered")?;
        return Ok(ExitCode::from(1));
    };
    let before = m.births_per_year;
    m.births_per_year = Some(births_per_year);
    m.validate().with_context(|| format!("municipality {id}"))?;
    directory.put(&m).await?;
    writeln!(
        out,
        "{id}: births per year {births_per_year} (was {})",
        before.map_or("not set".to_owned(), |n| n.to_string())
    )?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn births_per_year_is_a_number_from_1_to_100000() {
        assert_eq!(parse_births_per_year("120"), Ok(120));
        assert_eq!(parse_births_per_year("100000"), Ok(100_000));
        for refused in ["0", "100001", "-3", "many", ""] {
            assert!(parse_births_per_year(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn webhook_url_from_stack_output_or_bare_base() {
        let id = MunicipalityId::parse("ama-town").unwrap();
        assert_eq!(
            webhook_url(
                "https://x.execute-api.ap-northeast-1.amazonaws.com/webhook/",
                &id
            ),
            "https://x.execute-api.ap-northeast-1.amazonaws.com/webhook/ama-town"
        );
        assert_eq!(
            webhook_url("http://127.0.0.1:3000", &id),
            "http://127.0.0.1:3000/webhook/ama-town"
        );
    }
}
