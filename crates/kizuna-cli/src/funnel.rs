//! The registration funnel of one town, month by month, and the network comparison: pure
//! arithmetic over the town's households and its follow tally (no store, no clock), so every
//! rule here is tested in milliseconds.
//!
//! What each figure comes from, and what it cannot show:
//! * **new friends** and **blocks**: the town's follow tally (`FollowTally`), one count per
//!   follow / unfollow event, counted once per event id. It is the only source for people who
//!   followed and never agreed to the privacy notice: they leave no household.
//! * **registrations started**: registrations whose `registered_on` falls in the month, as a
//!   pregnancy (a child registered as a pregnancy first counts as a pregnancy) or a child.
//! * **at month end** (or today, for the current month): every household with a registration
//!   registered by then is in exactly one of *unfollowed* (blocked then and not followed
//!   again), *stopped* (every registration ended by then), *paused* (paused then), *active*.
//! * **coverage**: registrations that were pregnancies in the maternity window on that day
//!   (households that had unfollowed left out) ÷ the pregnancies the town's births per year
//!   put in the window (births × window days ÷ 365, the window from the programme table).
//!
//! Households are read as they are today. A deleted household (削除, or purged 180 days
//! after an unfollow) is gone from every month, and a household's earlier unfollows, pauses
//! and re-follows are not kept: a parent who blocked in March and came back in May counts as
//! following in April. Past months are therefore a lower bound for registrations and an
//! approximation for the states; the current month is exact.

use crate::commands::ops::Month;
use crate::suppression::{suppress, Relation, Shown, SMALL};
use chrono::NaiveDate;
use kizuna_app::model::FollowCounts;
use kizuna_core::programme::Programme;
use kizuna_core::{Household, Registration, RegistrationStatus, Subject};

/// One town's funnel for one month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunnelMonth {
    pub month: Month,
    /// The day the month-end states are taken on: the month's last day, or today.
    pub as_of: NaiveDate,
    pub follows: FollowCounts,
    pub started_pregnancy: u64,
    pub started_child: u64,
    pub active: u64,
    pub paused: u64,
    pub stopped: u64,
    pub unfollowed: u64,
    /// Registered pregnancies in the maternity window on `as_of`.
    pub pregnancies_in_window: u64,
}

/// A household's state on a day, for the funnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HouseholdState {
    Active,
    Paused,
    Stopped,
    Unfollowed,
}

/// The state of `h` on `day`, or `None` when it had no registration yet.
pub fn state_on(h: &Household, day: NaiveDate) -> Option<HouseholdState> {
    let registered: Vec<&Registration> = h
        .registrations
        .iter()
        .filter(|r| r.registered_on <= day)
        .collect();
    if registered.is_empty() {
        return None;
    }
    // Households stored before a date was kept (no `unfollowed_on`, no `paused_on`) count in
    // their state since they registered.
    if !h.following && h.unfollowed_on.is_none_or(|on| on <= day) {
        return Some(HouseholdState::Unfollowed);
    }
    if registered.iter().all(|r| ended_by(r, day)) {
        return Some(HouseholdState::Stopped);
    }
    if h.paused && h.paused_on.is_none_or(|on| on <= day) {
        return Some(HouseholdState::Paused);
    }
    Some(HouseholdState::Active)
}

fn ended_by(r: &Registration, day: NaiveDate) -> bool {
    matches!(r.status, RegistrationStatus::Ended { on, .. } if on <= day)
}

/// Whether `r` was registered as a pregnancy (a reported birth keeps the due date).
fn started_as_pregnancy(r: &Registration) -> bool {
    matches!(
        r.subject,
        Subject::Pregnancy { .. }
            | Subject::Child {
                due_date: Some(_),
                ..
            }
    )
}

/// Whether `r` was a registered pregnancy inside the maternity window on `day`.
fn pregnancy_in_window(r: &Registration, day: NaiveDate) -> bool {
    let due_date = match r.subject {
        Subject::Pregnancy { due_date } => due_date,
        // Born after `day`: still a pregnancy then.
        Subject::Child {
            birth_date,
            due_date: Some(due_date),
        } if birth_date > day => due_date,
        Subject::Child { .. } => return false,
    };
    if r.registered_on > day || ended_by(r, day) {
        return false;
    }
    let spec = Programme::Maternity.spec();
    let gestational_day = spec.day_on(due_date, day);
    (i64::from(spec.first_day)..=i64::from(spec.last_possible_day())).contains(&gestational_day)
}

/// Days of the maternity window: the pregnancies a town expects in it at any time are its
/// births per year × these days ÷ 365.
pub fn maternity_window_days() -> u64 {
    Programme::Maternity.spec().day_count() as u64
}

/// Pregnancies a town with `births_per_year` has in the maternity window at any time.
pub fn expected_pregnancies_in_window(births_per_year: u32) -> f64 {
    f64::from(births_per_year) * maternity_window_days() as f64 / 365.0
}

impl FunnelMonth {
    /// An empty month; `today` caps the day its states are taken on.
    pub fn new(month: Month, today: NaiveDate, follows: FollowCounts) -> Self {
        let last_day = month.next().first_day().pred_opt().expect("a valid date");
        Self {
            month,
            as_of: last_day.min(today),
            follows,
            started_pregnancy: 0,
            started_child: 0,
            active: 0,
            paused: 0,
            stopped: 0,
            unfollowed: 0,
            pregnancies_in_window: 0,
        }
    }

    /// Adds one household.
    pub fn count(&mut self, h: &Household) {
        let first = self.month.first_day();
        for r in &h.registrations {
            if (first..=self.as_of).contains(&r.registered_on) {
                if started_as_pregnancy(r) {
                    self.started_pregnancy += 1;
                } else {
                    self.started_child += 1;
                }
            }
        }
        let Some(state) = state_on(h, self.as_of) else {
            return;
        };
        match state {
            HouseholdState::Active => self.active += 1,
            HouseholdState::Paused => self.paused += 1,
            HouseholdState::Stopped => self.stopped += 1,
            HouseholdState::Unfollowed => {
                // Gone: their pregnancies are not counted as reached.
                self.unfollowed += 1;
                return;
            }
        }
        self.pregnancies_in_window += h
            .registrations
            .iter()
            .filter(|r| pregnancy_in_window(r, self.as_of))
            .count() as u64;
    }

    pub fn started(&self) -> u64 {
        self.started_pregnancy + self.started_child
    }

    /// Households with a registration by `as_of`.
    pub fn registered(&self) -> u64 {
        self.active + self.paused + self.stopped + self.unfollowed
    }

    /// Registered ÷ expected pregnancies in the window; `None` without births per year.
    pub fn coverage(&self, births_per_year: Option<u32>) -> Option<f64> {
        let expected = expected_pregnancies_in_window(births_per_year?);
        Some(self.pregnancies_in_window as f64 / expected)
    }
}

/// A town's funnel for `months` (oldest first): `follows` holds the tally of each month, in
/// the same order.
pub fn funnel<'a>(
    households: impl IntoIterator<Item = &'a Household>,
    months: &[Month],
    follows: &[FollowCounts],
    today: NaiveDate,
) -> Vec<FunnelMonth> {
    let mut out: Vec<FunnelMonth> = months
        .iter()
        .zip(
            follows
                .iter()
                .copied()
                .chain(std::iter::repeat(FollowCounts::default())),
        )
        .map(|(m, f)| FunnelMonth::new(*m, today, f))
        .collect();
    for h in households {
        for m in &mut out {
            m.count(h);
        }
    }
    out
}

/// `count` months ending with `last`, oldest first.
pub fn months_back(last: Month, count: u32) -> Vec<Month> {
    let mut months = vec![last];
    for _ in 1..count {
        let earliest = months[0];
        let previous = Month::of(earliest.first_day().pred_opt().expect("a valid date"));
        months.insert(0, previous);
    }
    months
}

/// The rows of a funnel month, in report order: (key, Japanese label).
pub const FUNNEL_ROWS: [(&str, &str); 12] = [
    ("new_friends", "新しい友だち"),
    ("blocked", "ブロック（友だち解除）"),
    ("started", "登録開始"),
    ("started_pregnancy", "　うち妊娠"),
    ("started_child", "　うち子ども"),
    ("registered", "登録世帯（月末）"),
    ("active", "　配信中"),
    ("paused", "　一時停止"),
    ("stopped", "　全登録終了"),
    ("unfollowed", "　ブロック中"),
    ("pregnancies_in_window", "登録中の妊娠（月末）"),
    ("coverage_percent", "妊娠登録率（%）"),
];

const STARTED: usize = 2;
const REGISTERED: usize = 5;
const PREGNANCIES: usize = 10;
const COVERAGE: usize = 11;

/// One printed cell: a count, a percentage, or a hidden value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    Count(Shown),
    Percent(Option<f64>),
    /// A percentage withheld with the count it is computed from.
    PercentWithheld,
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Count(shown) => shown.fmt(f),
            Cell::Percent(Some(p)) => f.pad(&format!("{p:.1}")),
            Cell::Percent(None) => f.pad("-"),
            Cell::PercentWithheld => f.pad("x"),
        }
    }
}

impl Cell {
    /// A number for a chart (`None`: hidden or not known).
    pub fn number(self) -> Option<f64> {
        match self {
            Cell::Count(shown) => shown.value().map(|v| v as f64),
            Cell::Percent(p) => p,
            Cell::PercentWithheld => None,
        }
    }
}

/// A funnel month as printed: counts 1–4 "<5", complements "x" where a total would give a
/// hidden count away (started = pregnancy + child; registered = active + paused + stopped +
/// unfollowed), and the coverage withheld with a hidden pregnancy count (the percentage and
/// the town's births per year would give the count back).
pub fn shown(m: &FunnelMonth, births_per_year: Option<u32>) -> Vec<Cell> {
    let values = [
        m.follows.new_friends,
        m.follows.unfollowed,
        m.started(),
        m.started_pregnancy,
        m.started_child,
        m.registered(),
        m.active,
        m.paused,
        m.stopped,
        m.unfollowed,
        m.pregnancies_in_window,
    ];
    let counts = suppress(
        &values,
        &[
            Relation::Sum {
                total: STARTED,
                parts: vec![STARTED + 1, STARTED + 2],
            },
            Relation::Sum {
                total: REGISTERED,
                parts: (REGISTERED + 1..=REGISTERED + 4).collect(),
            },
        ],
    );
    let mut cells: Vec<Cell> = counts.into_iter().map(Cell::Count).collect();
    cells.push(
        if matches!(cells[PREGNANCIES], Cell::Count(s) if s.is_hidden()) {
            Cell::PercentWithheld
        } else {
            Cell::Percent(m.coverage(births_per_year).map(|c| c * 100.0))
        },
    );
    debug_assert_eq!(cells.len(), FUNNEL_ROWS.len());
    debug_assert_eq!(FUNNEL_ROWS[COVERAGE].0, "coverage_percent");
    cells
}

// ---------------------------------------------------------------- the network comparison

/// What the network comparison knows of one town.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TownFigures {
    pub births_per_year: Option<u32>,
    /// The funnel of the month compared.
    pub month: FunnelMonth,
    /// The town's answers to the surveys open in the month, if any was open there.
    pub survey: Option<SurveyResponses>,
}

/// Households that answered the surveys open in a month, over those in their audience
/// (`kizuna_core::survey_results`: who counts as in the audience), summed over the surveys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SurveyResponses {
    pub respondents: u64,
    pub eligible: u64,
}

/// A rate as a count over a denominator, so that "enough data" and small counts can be
/// judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub numerator: u64,
    pub denominator: f64,
}

impl Rate {
    pub fn percent(self) -> f64 {
        100.0 * self.numerator as f64 / self.denominator
    }
}

/// One figure towns compare. Adding one (e.g. a survey's response rate): an entry in
/// [`NETWORK_METRICS`], with what it needs in [`TownFigures`].
#[derive(Debug)]
pub struct NetworkMetric {
    pub key: &'static str,
    pub label_ja: &'static str,
    /// `None`: the town has no such figure (e.g. no births per year given).
    pub rate: fn(&TownFigures) -> Option<Rate>,
    /// The funnel rows ([`FUNNEL_ROWS`]) the rate is computed from: the town's own rate is
    /// shown only when its funnel prints them all, or the rate would give a withheld count
    /// back (5 active of a withheld 6 registered: 83.3 %).
    pub from_rows: &'static [&'static str],
}

pub const NETWORK_METRICS: &[NetworkMetric] = &[
    NetworkMetric {
        key: "coverage_percent",
        label_ja: "妊娠登録率（登録中の妊娠 ÷ 想定妊娠数）",
        rate: |t| {
            Some(Rate {
                numerator: t.month.pregnancies_in_window,
                denominator: expected_pregnancies_in_window(t.births_per_year?),
            })
        },
        from_rows: &["pregnancies_in_window"],
    },
    NetworkMetric {
        key: "active_rate_percent",
        label_ja: "配信中の割合（配信中 ÷ 登録世帯）",
        rate: |t| {
            Some(Rate {
                numerator: t.month.active,
                denominator: t.month.registered() as f64,
            })
        },
        from_rows: &["active", "registered"],
    },
    NetworkMetric {
        key: "survey_response_rate_percent",
        label_ja: "アンケート回答率（回答世帯 ÷ 対象世帯、その月に実施中のアンケート）",
        rate: |t| {
            let survey = t.survey?;
            Some(Rate {
                numerator: survey.respondents,
                denominator: survey.eligible as f64,
            })
        },
        // Not from the funnel: its own counts are judged by the numerator and denominator.
        from_rows: &[],
    },
];

/// A town enters a metric's network median when the metric's denominator is at least this
/// (registered households; expected pregnancies in the window): below it one family moves the
/// rate by more than 20 points.
pub const MIN_DENOMINATOR_FOR_MEDIAN: f64 = 5.0;
/// A median is shown only over at least this many towns: the median of one or two towns
/// would be a named town's own figure (or the mean of two).
pub const MIN_TOWNS_FOR_MEDIAN: usize = 3;

/// One metric for one town beside the network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// The town's own rate, `None` when it has none, when its numerator is 1–4 (the rate
    /// and the denominator would give the small count back), or when the town's funnel
    /// withholds a row it is computed from ([`NetworkMetric::from_rows`]).
    pub own: Option<f64>,
    /// The median over the towns with enough data, `None` when fewer than
    /// [`MIN_TOWNS_FOR_MEDIAN`] have it.
    pub median: Option<f64>,
    /// How many towns the median is over.
    pub towns: usize,
}

/// The median of the towns' rates for `metric`, over the towns with enough data, and how
/// many towns that is.
pub fn network_median(metric: &NetworkMetric, towns: &[TownFigures]) -> (Option<f64>, usize) {
    let mut rates: Vec<f64> = towns
        .iter()
        .filter_map(|t| (metric.rate)(t))
        .filter(|r| r.denominator >= MIN_DENOMINATOR_FOR_MEDIAN)
        .map(Rate::percent)
        .collect();
    rates.sort_by(f64::total_cmp);
    let n = rates.len();
    if n < MIN_TOWNS_FOR_MEDIAN {
        return (None, n);
    }
    let median = if n % 2 == 1 {
        rates[n / 2]
    } else {
        (rates[n / 2 - 1] + rates[n / 2]) / 2.0
    };
    (Some(median), n)
}

/// Each metric for `town`, beside the network's median over `all`.
pub fn compare(
    town: &TownFigures,
    all: &[TownFigures],
) -> Vec<(&'static NetworkMetric, Comparison)> {
    let cells = shown(&town.month, town.births_per_year);
    let printed = |row: &str| {
        FUNNEL_ROWS
            .iter()
            .position(|r| r.0 == row)
            .is_some_and(|i| matches!(cells[i], Cell::Count(Shown::Value(_))))
    };
    NETWORK_METRICS
        .iter()
        .map(|metric| {
            let own = (metric.rate)(town)
                .filter(|r| r.denominator > 0.0 && !SMALL.contains(&r.numerator))
                .filter(|_| metric.from_rows.iter().all(|row| printed(row)))
                .map(Rate::percent);
            let (median, towns) = network_median(metric, all);
            (metric, Comparison { own, median, towns })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kizuna_core::{EndReason, LineUserId, MunicipalityId};

    use kizuna_core::testing::date as d;

    fn month(s: &str) -> Month {
        Month::parse(s).unwrap()
    }

    fn household(n: u32, registrations: Vec<Registration>) -> Household {
        let mut h = Household::new(
            MunicipalityId::parse("kizuna-town").unwrap(),
            LineUserId::parse(&format!("U{n:032x}")).unwrap(),
        );
        h.registrations = registrations;
        h
    }

    fn pregnancy(registered_on: NaiveDate, due_date: NaiveDate) -> Registration {
        Registration {
            id: 1,
            subject: Subject::Pregnancy { due_date },
            baby_count: 1,
            status: RegistrationStatus::Active,
            registered_on,
        }
    }

    fn child(registered_on: NaiveDate, birth_date: NaiveDate) -> Registration {
        Registration {
            id: 1,
            subject: Subject::Child {
                birth_date,
                due_date: None,
            },
            baby_count: 1,
            status: RegistrationStatus::Active,
            registered_on,
        }
    }

    fn ended(mut r: Registration, on: NaiveDate) -> Registration {
        r.status = RegistrationStatus::Ended {
            reason: EndReason::StoppedByParent,
            on,
        };
        r
    }

    #[test]
    fn months_back_crosses_the_year() {
        assert_eq!(
            months_back(month("2027-02"), 4),
            [
                month("2026-11"),
                month("2026-12"),
                month("2027-01"),
                month("2027-02")
            ]
        );
        assert_eq!(months_back(month("2027-02"), 1), [month("2027-02")]);
    }

    #[test]
    fn the_window_comes_from_the_programme_table() {
        // 4w0d (day 28) to 41w6d (day 293): 266 days.
        assert_eq!(maternity_window_days(), 266);
        // 100 births a year: 100 × 266 / 365 ≈ 72.9 pregnancies in the window at any time.
        assert!((expected_pregnancies_in_window(100) - 72.876).abs() < 0.001);
    }

    /// Each household in the state it had at each month's end, as far as its dates tell.
    #[test]
    fn states_at_month_end_follow_the_households_dates() {
        let today = d(2027, 3, 10);
        let months = months_back(month("2027-03"), 3); // Jan, Feb, Mar (to the 10th)
        let due = d(2027, 8, 1);
        // Registered 15 Jan as a pregnancy, active throughout.
        let active = household(1, vec![pregnancy(d(2027, 1, 15), due)]);
        // Registered in Jan, paused 20 Feb: active in Jan, paused from Feb.
        let mut paused = household(2, vec![pregnancy(d(2027, 1, 3), due)]);
        paused.pause(d(2027, 2, 20));
        // Paused before the date was kept: paused in every month it is registered.
        let mut paused_long_ago = household(3, vec![child(d(2027, 2, 1), d(2027, 1, 20))]);
        paused_long_ago.paused = true;
        // Registered in Jan, ended in Mar: active in Jan and Feb, stopped in Mar.
        let stopped = household(4, vec![ended(pregnancy(d(2027, 1, 5), due), d(2027, 3, 2))]);
        // Blocked 5 Feb: unfollowed from Feb; its pregnancy no longer counts as reached.
        let mut blocked = household(5, vec![pregnancy(d(2027, 1, 6), due)]);
        blocked.following = false;
        blocked.unfollowed_on = Some(d(2027, 2, 5));
        // Registered on 11 Mar (after `today`'s 10th in this made-up report): nowhere yet.
        let later = household(6, vec![pregnancy(d(2027, 3, 11), due)]);
        // A follower who agreed to nothing has no household; a consented household without a
        // registration is in no state.
        let no_registration = household(7, vec![]);

        let households = [
            active,
            paused,
            paused_long_ago,
            stopped,
            blocked,
            later,
            no_registration,
        ];
        let follows = [FollowCounts {
            new_friends: 9,
            unblocked: 0,
            unfollowed: 1,
        }];
        let f = funnel(&households, &months, &follows, today);
        assert_eq!(f.len(), 3);
        let states = |m: &FunnelMonth| (m.active, m.paused, m.stopped, m.unfollowed);
        assert_eq!(states(&f[0]), (4, 0, 0, 0), "January");
        assert_eq!(states(&f[1]), (2, 2, 0, 1), "February");
        assert_eq!(states(&f[2]), (1, 2, 1, 1), "March, as of the 10th");
        assert_eq!(f[2].as_of, today);
        assert_eq!(f[0].as_of, d(2027, 1, 31));
        // Started: 4 pregnancies in January; the child in February; none in March up to today.
        assert_eq!((f[0].started_pregnancy, f[0].started_child), (4, 0));
        assert_eq!((f[1].started_pregnancy, f[1].started_child), (0, 1));
        assert_eq!(f[2].started(), 0);
        // The tally goes to its month; months without one are zero.
        assert_eq!(f[0].follows.new_friends, 9);
        assert_eq!(f[2].follows, FollowCounts::default());
        // Pregnancies in the window at each month end: the blocked one is left out from
        // February, the ended one in March.
        assert_eq!(
            f.iter()
                .map(|m| m.pregnancies_in_window)
                .collect::<Vec<_>>(),
            [4, 3, 2]
        );
    }

    #[test]
    fn a_pregnancy_is_in_the_window_from_4w0d_to_41w6d_and_until_the_birth() {
        let due = d(2027, 8, 1);
        // Registered long before (at the earliest a parent can is later, but the window is
        // what is checked here).
        let reg = pregnancy(d(2026, 1, 1), due);
        let day = |gd: i64| due + chrono::Duration::days(gd - 280);
        assert!(!pregnancy_in_window(&reg, day(27)), "before 4w0d");
        assert!(pregnancy_in_window(&reg, day(28)));
        assert!(pregnancy_in_window(&reg, day(293)));
        assert!(!pregnancy_in_window(&reg, day(294)), "past 41w6d");
        // Born on day 270 (reported: a child that keeps its due date): a pregnancy before.
        let born = Registration {
            subject: Subject::Child {
                birth_date: day(270),
                due_date: Some(due),
            },
            ..reg.clone()
        };
        assert!(pregnancy_in_window(&born, day(269)));
        assert!(!pregnancy_in_window(&born, day(270)));
        // Not yet registered on the day.
        assert!(!pregnancy_in_window(
            &pregnancy(d(2027, 5, 1), due),
            d(2027, 4, 30)
        ));
        // A child registered as a child is never a pregnancy.
        assert!(!pregnancy_in_window(
            &child(d(2027, 1, 1), d(2026, 12, 1)),
            d(2026, 11, 1)
        ));
    }

    #[test]
    fn coverage_is_registered_over_expected_pregnancies() {
        let mut m = FunnelMonth::new(month("2027-01"), d(2027, 1, 31), FollowCounts::default());
        m.pregnancies_in_window = 36;
        // 36 of 72.9 expected with 100 births a year.
        let c = m.coverage(Some(100)).unwrap();
        assert!((c - 36.0 / 72.876).abs() < 1e-3, "{c}");
        assert_eq!(m.coverage(None), None);
    }

    fn month_with(values: [u64; 6]) -> FunnelMonth {
        let [pregnancy, child, active, paused, stopped, unfollowed] = values;
        let mut m = FunnelMonth::new(month("2027-01"), d(2027, 1, 31), FollowCounts::default());
        m.follows.new_friends = 40;
        m.follows.unfollowed = 3;
        m.started_pregnancy = pregnancy;
        m.started_child = child;
        m.active = active;
        m.paused = paused;
        m.stopped = stopped;
        m.unfollowed = unfollowed;
        m.pregnancies_in_window = 30;
        m
    }

    #[test]
    fn small_counts_are_hidden_and_cannot_be_subtracted_back_out() {
        // 12 started = 9 pregnancies + 3 children; 60 registered = 40 + 2 + 10 + 8.
        let cells = shown(&month_with([9, 3, 40, 2, 10, 8]), Some(100));
        let at = |key: &str| cells[FUNNEL_ROWS.iter().position(|r| r.0 == key).unwrap()];
        assert_eq!(at("blocked"), Cell::Count(Shown::Small));
        assert_eq!(at("started_child"), Cell::Count(Shown::Small));
        // The other part of "started" is withheld, or 12 − 9 = 3 children.
        assert_eq!(at("started_pregnancy"), Cell::Count(Shown::Withheld));
        assert_eq!(at("paused"), Cell::Count(Shown::Small));
        // The smallest other part of "registered" (8 unfollowed) is withheld with it.
        assert_eq!(at("unfollowed"), Cell::Count(Shown::Withheld));
        assert_eq!(at("registered"), Cell::Count(Shown::Value(60)));
        assert_eq!(at("active"), Cell::Count(Shown::Value(40)));
        assert_eq!(at("new_friends"), Cell::Count(Shown::Value(40)));
        // Coverage from 30 pregnancies: shown, to one decimal.
        assert_eq!(at("coverage_percent").to_string(), "41.2");
    }

    #[test]
    fn coverage_goes_with_a_hidden_pregnancy_count() {
        let mut m = month_with([9, 6, 40, 5, 10, 8]);
        m.pregnancies_in_window = 3;
        let cells = shown(&m, Some(100));
        assert_eq!(cells[PREGNANCIES], Cell::Count(Shown::Small));
        assert_eq!(cells[COVERAGE], Cell::PercentWithheld);
        assert_eq!(cells[COVERAGE].to_string(), "x");
        // Without births per year there is no coverage to show.
        m.pregnancies_in_window = 30;
        assert_eq!(shown(&m, None)[COVERAGE].to_string(), "-");
    }

    fn town(births: Option<u32>, active: u64, registered: u64, pregnancies: u64) -> TownFigures {
        let mut m = FunnelMonth::new(month("2027-01"), d(2027, 1, 31), FollowCounts::default());
        m.active = active;
        m.stopped = registered - active;
        m.pregnancies_in_window = pregnancies;
        TownFigures {
            births_per_year: births,
            month: m,
            survey: None,
        }
    }

    #[test]
    fn medians_are_over_towns_with_enough_data_and_at_least_three_of_them() {
        let active_rate = &NETWORK_METRICS[1];
        assert_eq!(active_rate.key, "active_rate_percent");
        let towns = [
            town(None, 8, 10, 0),  // 80 %
            town(None, 5, 10, 0),  // 50 %
            town(None, 18, 20, 0), // 90 %
            town(None, 1, 4, 0),   // 4 registered: too few, left out
        ];
        assert_eq!(network_median(active_rate, &towns), (Some(80.0), 3));
        // With a fourth town of enough data: the mean of the middle two.
        let mut more = towns.to_vec();
        more.push(town(None, 6, 10, 0)); // 60 %
        assert_eq!(network_median(active_rate, &more), (Some(70.0), 4));
        // Two towns: no median (it would be a named town's figure, or the mean of two).
        assert_eq!(network_median(active_rate, &towns[..2]), (None, 2));
    }

    /// Gets: the survey response rate compared like the others: a town's own rate hidden when
    /// its respondents are 1–4, the median over towns with at least 5 households in an
    /// audience, no figure for a town where no survey was open.
    #[test]
    fn survey_response_rates_are_compared_like_the_funnel_rates() {
        let with_survey = |respondents, eligible| TownFigures {
            survey: Some(SurveyResponses {
                respondents,
                eligible,
            }),
            ..town(None, 8, 10, 0)
        };
        let towns = [
            with_survey(6, 10),  // 60 %
            with_survey(10, 40), // 25 %
            with_survey(9, 10),  // 90 %
            with_survey(3, 4),   // 4 in the audience: too few for the median
            with_survey(3, 30),  // 10 %, but 3 respondents: not shown as its own
            town(None, 8, 10, 0),
        ];
        let rate = NETWORK_METRICS
            .iter()
            .find(|m| m.key == "survey_response_rate_percent")
            .expect("the survey metric");
        // 10, 25, 60 and 90 %: the town with 3 of 30 counts towards the median (its
        // denominator is enough), though it is not shown its own.
        assert_eq!(network_median(rate, &towns), (Some(42.5), 4));
        let own = |town: &TownFigures| {
            compare(town, &towns)
                .into_iter()
                .find(|(m, _)| m.key == rate.key)
                .map(|(_, c)| c.own)
                .unwrap()
        };
        assert_eq!(own(&towns[0]), Some(60.0));
        assert_eq!(own(&towns[4]), None, "3 respondents would be given away");
        assert_eq!(own(&towns[5]), None, "no survey open there");
    }

    #[test]
    fn a_town_sees_its_own_rate_unless_its_count_is_small() {
        let towns = [
            town(Some(100), 8, 10, 36),
            town(Some(50), 5, 10, 20),
            town(None, 18, 20, 0),
            town(Some(20), 3, 10, 3),
        ];
        let compared = compare(&towns[0], &towns);
        assert_eq!(compared[0].0.key, "coverage_percent");
        let own = compared[0].1.own.unwrap();
        assert!((own - 100.0 * 36.0 / 72.876).abs() < 0.01, "{own}");
        // Coverage over the towns with births per year: town 3's expected 20 × 266 / 365 =
        // 14.6 is enough, town 2 has no figure.
        assert_eq!(compared[0].1.towns, 3);
        // The last town: 3 active of 10 and 3 pregnancies are small counts, so it is shown
        // neither rate of its own (30 % of 10 would say 3), only the network's.
        let compared = compare(&towns[3], &towns);
        assert!(
            compared.iter().all(|(_, c)| c.own.is_none()),
            "{compared:?}"
        );
        // The funnel's medians; no survey was open in these towns, so that one has none.
        assert!(compared
            .iter()
            .all(|(m, c)| c.median.is_some() == (m.key != "survey_response_rate_percent")));
    }

    #[test]
    fn a_rate_is_not_shown_when_its_funnel_withholds_what_it_is_computed_from() {
        // 5 active of 6 registered, the one other household stopped: the funnel hides the
        // stopped 1 and withholds another cell of the group with it, so 83.3 % must not be
        // shown either: with whichever of 5 and 6 is printed it gives the other back.
        let mut town = town(Some(100), 5, 6, 36);
        let cells = shown(&town.month, town.births_per_year);
        let at = |row: &str| cells[FUNNEL_ROWS.iter().position(|r| r.0 == row).unwrap()];
        assert!(
            matches!(at("active"), Cell::Count(s) if s.is_hidden())
                || matches!(at("registered"), Cell::Count(s) if s.is_hidden()),
            "{cells:?}"
        );
        let compared = compare(&town, &[town]);
        assert_eq!(compared[1].0.key, "active_rate_percent");
        assert_eq!(compared[1].1.own, None);
        // The coverage's count is printed: shown.
        assert!(compared[0].1.own.is_some());
        // 10 active and 5 stopped of 15: everything is printed, and so is the rate.
        town.month.active = 10;
        town.month.stopped = 5;
        let compared = compare(&town, &[town]);
        assert!((compared[1].1.own.unwrap() - 66.666).abs() < 0.01);
    }
}
