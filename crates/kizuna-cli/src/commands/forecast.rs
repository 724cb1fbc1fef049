//! `kizuna forecast [--month YYYY-MM] [--municipality ID]`: counted LINE messages per
//! municipality in a month, against its monthly limit.
//!
//! Deterministic: the schedule is known, so the count is the number of (household, day) pairs
//! whose daily plan is non-empty — one push a day, one counted message per recipient — over
//! the households that receive messages today and the content in the bucket. It assumes no
//! new registrations, pauses, resumes or unfollows during the month.

use crate::commands::ops::{block_on, parse_municipality, Month, Ops};
use crate::suppression::{suppress, Relation, Shown};
use clap::Args;
use futures::TryStreamExt as _;
use kizuna_app::clock::SystemClock;
use kizuna_app::model::Shard;
use kizuna_app::paging::deliverable_pages;
use kizuna_app::ports::MunicipalityDirectory;
use kizuna_app::sender::SenderSettings;
use kizuna_aws::compose;
use kizuna_core::content::MunicipalityContent;
use kizuna_core::plan::plan_household;
use kizuna_core::{today_in_japan, Household, MunicipalityId};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct ForecastArgs {
    /// The month, YYYY-MM (default: next month, Japan time).
    #[arg(long, value_parser = Month::parse)]
    pub month: Option<Month>,
    #[arg(long, value_parser = parse_municipality)]
    pub municipality: Option<MunicipalityId>,
}

pub fn run(args: ForecastArgs) -> anyhow::Result<ExitCode> {
    block_on(|ops| async move {
        let month = args
            .month
            .unwrap_or_else(|| Month::of(today_in_japan(chrono::Utc::now())).next());
        let forecasts = forecast(&ops, month, args.municipality.as_ref()).await?;
        let mut out = std::io::stdout().lock();
        print(&forecasts, month, &mut out)?;
        Ok(if forecasts.iter().any(|f| f.over_limit()) {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    })
}

/// One municipality's forecast (exact; [`Forecast::shown`] is what is printed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forecast {
    pub municipality: MunicipalityId,
    pub display_name: String,
    pub households: u64,
    /// Counted LINE messages in the month.
    pub messages: u64,
    /// The busiest day's count (sizing the run).
    pub peak_day: u64,
    pub monthly_limit: Option<u64>,
}

impl Forecast {
    pub fn over_limit(&self) -> bool {
        self.monthly_limit.is_some_and(|l| self.messages > l)
    }

    /// (households, messages, peak/day) as printed. Households and the peak are counts of
    /// families; a month's messages bound them (at most households × 31), so they are
    /// withheld whenever either is hidden.
    pub fn shown(&self) -> (Shown, Shown, Shown) {
        let shown = suppress(
            &[self.households, self.messages, self.peak_day],
            &[
                Relation::Derived {
                    source: 0,
                    derived: vec![1, 2],
                },
                Relation::Derived {
                    source: 2,
                    derived: vec![1],
                },
            ],
        );
        (shown[0], shown[1], shown[2])
    }
}

/// Counted messages of `households` in `month`: one per household per day with a non-empty
/// plan, and the busiest day.
pub fn count_month(
    households: &[Household],
    content: &MunicipalityContent<'_>,
    month: Month,
) -> (u64, u64) {
    let mut total = 0;
    let mut peak = 0;
    for day in month.days() {
        let n = households
            .iter()
            .filter(|h| !plan_household(h, day, content).is_empty())
            .count() as u64;
        total += n;
        peak = peak.max(n);
    }
    (total, peak)
}

pub async fn forecast(
    ops: &Ops,
    month: Month,
    only: Option<&MunicipalityId>,
) -> anyhow::Result<Vec<Forecast>> {
    let directory = compose::municipalities(&ops.config, &ops.clients);
    let mut municipalities = directory.list().await?;
    if let Some(id) = only {
        municipalities.retain(|m| &m.id == id);
        if municipalities.is_empty() {
            anyhow::bail!("{id} is not registered");
        }
    }
    municipalities.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let sender = compose::sender(
        &ops.config,
        &ops.clients,
        Arc::new(SystemClock),
        SenderSettings::default(),
    )?;
    let library = sender.content().await?;
    let store = compose::households(&ops.config, &ops.clients);
    let mut forecasts = Vec::new();
    for m in municipalities {
        let households: Vec<_> = deliverable_pages(store.as_ref(), &m.id, Shard::ALL, 1000)
            .try_concat()
            .await?;
        let content = library.for_municipality(&m.id);
        let (messages, peak_day) = if m.enabled {
            count_month(&households, &content, month)
        } else {
            (0, 0)
        };
        forecasts.push(Forecast {
            municipality: m.id.clone(),
            display_name: m.display_name.clone(),
            households: households.len() as u64,
            messages,
            peak_day,
            monthly_limit: m.monthly_message_limit,
        });
    }
    Ok(forecasts)
}

pub fn print(forecasts: &[Forecast], month: Month, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "forecast for {month}: counted LINE messages (one per household per day with a message); assumes no new registrations, pauses or unfollows; counts 1–4 shown as <5, x = withheld with them"
    )?;
    writeln!(
        out,
        "{:<24} {:>10} {:>10} {:>8} {:>10}  STATUS",
        "MUNICIPALITY", "HOUSEHOLDS", "MESSAGES", "PEAK/DAY", "LIMIT"
    )?;
    for f in forecasts {
        let (households, messages, peak) = f.shown();
        writeln!(
            out,
            "{:<24} {:>10} {:>10} {:>8} {:>10}  {}",
            f.municipality.as_str(),
            households.to_string(),
            messages.to_string(),
            peak.to_string(),
            f.monthly_limit.map_or("-".to_owned(), |l| l.to_string()),
            match f.monthly_limit {
                // The excess would give the withheld message count away.
                Some(l) if f.messages > l && messages.is_hidden() => "OVER LIMIT".to_owned(),
                Some(l) if f.messages > l => format!("OVER LIMIT by {}", f.messages - l),
                Some(_) => "ok".to_owned(),
                None => "no limit".to_owned(),
            }
        )?;
    }
    Ok(())
}
