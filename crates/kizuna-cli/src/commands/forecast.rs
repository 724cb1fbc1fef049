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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Days, NaiveDate};
    use kizuna_core::content::{ContentLibrary, SourceFile};
    use kizuna_core::plan::PlannedKind;
    use kizuna_core::{LineUserId, Registration, RegistrationStatus, Subject};
    use std::path::Path;

    /// Every `.toml` of the repository's sample pack, as the sender reads them.
    fn sample_files() -> Vec<SourceFile> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<SourceFile>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(root, &path, out);
                } else if path.extension().is_some_and(|e| e == "toml") {
                    out.push(SourceFile {
                        path: path
                            .strip_prefix(root)
                            .unwrap()
                            .to_string_lossy()
                            .replace('\\', "/"),
                        text: std::fs::read_to_string(&path).unwrap(),
                    });
                }
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content");
        let mut files = Vec::new();
        walk(&root, &root, &mut files);
        files
    }

    /// A baby born every other day from 2027-05-01: in October 2027, many are in the sample
    /// survey's 60–180-day window, some pass its first day.
    fn households(town: &MunicipalityId) -> Vec<Household> {
        (0..120u64)
            .map(|i| {
                let user = LineUserId::parse(&format!("U{:032x}", i + 1)).unwrap();
                let mut h = Household::new(town.clone(), user);
                let birth = NaiveDate::from_ymd_opt(2027, 5, 1).unwrap() + Days::new(i * 2);
                h.registrations.push(Registration {
                    id: 1,
                    subject: Subject::Child {
                        birth_date: birth,
                        due_date: None,
                    },
                    baby_count: 1,
                    status: RegistrationStatus::Active,
                    registered_on: birth,
                });
                h
            })
            .collect()
    }

    #[test]
    fn a_survey_in_the_pack_leaves_the_forecast_unchanged() {
        let with = ContentLibrary::from_files(sample_files()).unwrap();
        let without = ContentLibrary::from_files(
            sample_files()
                .into_iter()
                .filter(|f| !f.path.starts_with("surveys/")),
        )
        .unwrap();
        assert!(!with.surveys().is_empty() && without.surveys().is_empty());
        let town = MunicipalityId::parse("kizuna-town").unwrap();
        let households = households(&town);
        let october = Month::parse("2027-10").unwrap();
        // Not vacuous: the survey's invitation rides on some of October's pushes.
        let invitations = october
            .days()
            .flat_map(|day| {
                households.iter().map(move |h| (h, day)).filter(|(h, day)| {
                    plan_household(h, *day, &with.for_municipality(&town))
                        .items
                        .iter()
                        .any(|i| matches!(i.kind, PlannedKind::Survey { .. }))
                })
            })
            .count();
        assert!(invitations > 10, "{invitations} invitations");
        let counted_with = count_month(&households, &with.for_municipality(&town), october);
        let counted_without = count_month(&households, &without.for_municipality(&town), october);
        assert_eq!(
            counted_with, counted_without,
            "(messages, peak day) with and without the survey"
        );
        assert!(counted_with.0 > 0);
    }
}
