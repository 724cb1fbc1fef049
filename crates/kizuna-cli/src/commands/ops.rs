//! What every AWS-backed command shares: the configuration and the SDK clients, built once.
//!
//! Commands read configuration only through [`kizuna_aws::Config::from_env`] (the standard
//! AWS variables, `AWS_ENDPOINT_URL` included, and `KIZUNA_*`), so the same flags work against
//! the deployed stack and the local one.

use anyhow::Context as _;
use chrono::{Datelike, NaiveDate};
use kizuna_aws::{AwsClients, Config};
use kizuna_core::MunicipalityId;
use std::future::Future;
use std::process::ExitCode;

/// The deployment an operator command works on.
#[derive(Debug, Clone)]
pub struct Ops {
    pub config: Config,
    pub clients: AwsClients,
}

impl Ops {
    pub fn new(config: Config, clients: AwsClients) -> Self {
        Self { config, clients }
    }

    /// From the process environment (what the binary does).
    pub async fn from_env() -> anyhow::Result<Self> {
        let config = Config::from_env().context(
            "reading the configuration (set KIZUNA_* as in the stack Outputs; see docs/operations.md)",
        )?;
        let clients = AwsClients::from_config(&config).await;
        Ok(Self { config, clients })
    }
}

/// Runs an async command body on a fresh runtime with an [`Ops`] from the environment.
pub fn block_on<F, Fut>(body: F) -> anyhow::Result<ExitCode>
where
    F: FnOnce(Ops) -> Fut,
    Fut: Future<Output = anyhow::Result<ExitCode>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let ops = Ops::from_env().await?;
        body(ops).await
    })
}

pub fn parse_municipality(s: &str) -> Result<MunicipalityId, String> {
    MunicipalityId::parse(s).map_err(|e| e.to_string())
}

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn parse(s: &str) -> Result<Self, String> {
        let (y, m) = s
            .split_once('-')
            .ok_or_else(|| format!("{s:?} is not YYYY-MM"))?;
        let year: i32 = y.parse().map_err(|_| format!("{s:?} is not YYYY-MM"))?;
        let month: u32 = m.parse().map_err(|_| format!("{s:?} is not YYYY-MM"))?;
        if y.len() != 4 || !(1..=12).contains(&month) {
            return Err(format!("{s:?} is not YYYY-MM"));
        }
        Ok(Self { year, month })
    }

    pub fn of(date: NaiveDate) -> Self {
        Self {
            year: date.year(),
            month: date.month(),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("valid month")
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// Every date of the month, in order.
    pub fn days(self) -> impl Iterator<Item = NaiveDate> {
        let first = self.first_day();
        let end = self.next().first_day();
        first.iter_days().take_while(move |d| *d < end)
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months() {
        let m = Month::parse("2027-02").unwrap();
        assert_eq!(m.days().count(), 28);
        assert_eq!(Month::parse("2028-02").unwrap().days().count(), 29);
        assert_eq!(
            Month::parse("2027-12").unwrap().next().to_string(),
            "2028-01"
        );
        assert!(Month::parse("2027-13").is_err());
        assert!(Month::parse("27-01").is_err());
        assert!(Month::parse("2027").is_err());
    }
}
