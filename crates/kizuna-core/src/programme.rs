//! Programmes: what each one is ([`PROGRAMMES`], the one table) and where a registration
//! stands on a given Japan date.
//!
//! * Maternity, from the due date: gestational day 280 is the due date; messages go out every
//!   day from 4w0d (day 28) to 41w6d (day 293) inclusive. On day 294, a pregnancy whose birth
//!   was never reported gets one gentle closing message, then nothing.
//! * Child, from the birth date: day 0 is the birth date; every day to day 100, then on the
//!   days the content pack schedules, until the day before the 3rd birthday.
//! * Birthdays at ages 1, 2 and 3 (see [`crate::calendar::birthday_in_year`] for 29 February).
//!
//! Adding a programme: a [`Programme`] variant and its row ([`Programme::spec`]); a
//! [`Subject`] variant (what is stored) with its arms in the `impl Subject` below and a
//! [`ProgrammeDay`] variant with its arms in `impl ProgrammeDay`; its entries in the content
//! files (`content/parse.rs`, `content/mod.rs`: the library's day tables are already keyed
//! by programme) and the plan's label and content key (`plan.rs`); its new-registration
//! button (`conversation/mod.rs`, `conversation/postback.rs`) and words in each language
//! (`conversation/texts/`); `kizuna preview`'s date flag and `kizuna household`'s line.
//! The day arithmetic, the date checks and pickers, the artifact's table checks and the stage
//! report bands read the table and need nothing.

use crate::calendar::{age_in_months, nth_birthday};
use crate::household::Subject;
use chrono::{Days, Months, NaiveDate, TimeDelta};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Programme {
    Maternity,
    Child,
}

/// Everything the system knows about one programme, as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgrammeSpec {
    pub programme: Programme,
    /// What a clerk reads in operator output: 妊娠, 子ども.
    pub label_ja: &'static str,
    /// The date a parent gives when registering (and changes later).
    pub given_date: GivenDate,
    /// The programme day of the given date: gestational day 280 for a due date, day 0 for a
    /// birth date. Day numbers count on from it, one a calendar day.
    pub day_of_given_date: i64,
    /// The first programme day with a message.
    pub first_day: u16,
    pub end: ProgrammeEnd,
    pub cadence: Cadence,
    /// Ages (full years from the given date) that get a birthday message. Ages up to 3 only:
    /// [`birthday_age`] relies on such a birthday being 365·n or 365·n + 1 days after birth.
    pub birthday_ages: &'static [u8],
    /// Which given dates are plausible, and the date picker's range.
    pub given_date_range: GivenDateRange,
    /// Stage bands of the operator reports (`kizuna stats`).
    pub bands: ReportingBands,
}

/// The date a parent gives for a programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GivenDate {
    /// 出産予定日: today or later (with a short grace, see [`GivenDateRange::Upcoming`]).
    DueDate,
    /// 生年月日: today or earlier.
    BirthDate,
}

impl GivenDate {
    /// The name of the date in operator output.
    pub fn label_ja(self) -> &'static str {
        match self {
            GivenDate::DueDate => "出産予定日",
            GivenDate::BirthDate => "生年月日",
        }
    }
}

/// When a programme's messages stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgrammeEnd {
    /// Messages to `last_day` inclusive; with `closing_message`, one closing message the day
    /// after (a pregnancy whose birth was never reported).
    LastDay {
        last_day: u16,
        closing_message: bool,
    },
    /// Messages until the day before the `age`-th birthday of the given date.
    BeforeBirthday { age: u32 },
}

/// Which days in the window have a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    /// Every day.
    Daily,
    /// Every day to `daily_last_day`, then on the days the content pack's schedule names.
    DailyThenContentSchedule { daily_last_day: u16 },
}

/// The given dates that make sense for a registration made today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GivenDateRange {
    /// From `grace_days` before today to `horizon_days` after it. The date picker starts at
    /// today (the range the issue specifies); a parent past the due date types it instead.
    Upcoming { grace_days: u64, horizon_days: u64 },
    /// From the same day `years` ago to today, in the picker too.
    Past { years: u32 },
}

/// A programme's operator report bands: consecutive, ascending. A value below the first band
/// counts in the first; one at or past the last band's `until` is past the programme
/// ([`FINISHED_BAND`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportingBands {
    pub unit: BandUnit,
    pub bands: &'static [ReportingBand],
}

/// What a band's bounds count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandUnit {
    /// Programme days ([`ProgrammeSpec::day_of_given_date`] on): gestational days.
    ProgrammeDay,
    /// Completed months since the given date ([`age_in_months`]).
    AgeMonths,
}

/// One band of a stage report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportingBand {
    /// The key in CSV/JSON output.
    pub key: &'static str,
    /// What a clerk reads.
    pub label_ja: &'static str,
    /// Exclusive upper bound, in the programme's [`BandUnit`].
    pub until: i64,
}

/// Registrations past their programme (a pregnancy past 42 weeks with no birth reported, a
/// child of 3 or more), the last band of a stage report.
pub const FINISHED_BAND: ReportingBand = ReportingBand {
    key: "finished",
    label_ja: "配信期間終了",
    until: i64::MAX,
};

const MATERNITY: ProgrammeSpec = ProgrammeSpec {
    programme: Programme::Maternity,
    label_ja: "妊娠",
    given_date: GivenDate::DueDate,
    day_of_given_date: 280,
    first_day: 4 * 7,
    end: ProgrammeEnd::LastDay {
        last_day: 41 * 7 + 6,
        closing_message: true,
    },
    cadence: Cadence::Daily,
    birthday_ages: &[],
    // A pregnancy is registered at the earliest around 4 weeks (due date 252 days ahead); 300
    // leaves room for an early registration. A due date up to 13 days ago is still a pregnancy
    // in its last window (to 41w6d = due date + 13 days): such a parent can still register.
    given_date_range: GivenDateRange::Upcoming {
        grace_days: 13,
        horizon_days: 300,
    },
    bands: ReportingBands {
        unit: BandUnit::ProgrammeDay,
        bands: &[
            ReportingBand {
                key: "pregnancy_early",
                label_ja: "妊娠初期（〜15週）",
                until: 16 * 7,
            },
            ReportingBand {
                key: "pregnancy_mid",
                label_ja: "妊娠中期（16〜27週）",
                until: 28 * 7,
            },
            // To the closing day (294) inclusive: the programme's last day with a message.
            ReportingBand {
                key: "pregnancy_late",
                label_ja: "妊娠後期（28週〜）",
                until: 42 * 7 + 1,
            },
        ],
    },
};

const CHILD: ProgrammeSpec = ProgrammeSpec {
    programme: Programme::Child,
    label_ja: "子ども",
    given_date: GivenDate::BirthDate,
    day_of_given_date: 0,
    first_day: 0,
    end: ProgrammeEnd::BeforeBirthday { age: 3 },
    cadence: Cadence::DailyThenContentSchedule {
        daily_last_day: 100,
    },
    birthday_ages: &[1, 2, 3],
    // A child born on the earliest day has its 3rd birthday today: the last message.
    given_date_range: GivenDateRange::Past { years: 3 },
    bands: ReportingBands {
        unit: BandUnit::AgeMonths,
        bands: &[
            ReportingBand {
                key: "child_0_2m",
                label_ja: "0〜2か月",
                until: 3,
            },
            ReportingBand {
                key: "child_3_5m",
                label_ja: "3〜5か月",
                until: 6,
            },
            ReportingBand {
                key: "child_6_11m",
                label_ja: "6〜11か月",
                until: 12,
            },
            ReportingBand {
                key: "child_1y",
                label_ja: "1歳",
                until: 24,
            },
            ReportingBand {
                key: "child_2y",
                label_ja: "2歳",
                until: 36,
            },
        ],
    },
};

/// Every programme, in [`Programme`] order.
pub const PROGRAMMES: [ProgrammeSpec; 2] = [MATERNITY, CHILD];

impl Programme {
    pub const ALL: [Programme; 2] = [Programme::Maternity, Programme::Child];

    /// This programme's position in [`Programme::ALL`] and [`PROGRAMMES`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// This programme's row of [`PROGRAMMES`].
    pub const fn spec(self) -> &'static ProgrammeSpec {
        match self {
            Programme::Maternity => &MATERNITY,
            Programme::Child => &CHILD,
        }
    }
}

impl ProgrammeSpec {
    /// The last programme day with a message (the closing message aside). For a programme
    /// ending at a birthday, the longest it can be: n years hold at most ⌈n/4⌉ 29 Februaries.
    pub const fn last_possible_day(&self) -> u16 {
        match self.end {
            ProgrammeEnd::LastDay { last_day, .. } => last_day,
            ProgrammeEnd::BeforeBirthday { age } => (age * 365 + age.div_ceil(4) - 1) as u16,
        }
    }

    /// The first and the last date with a message for a registration whose given date is
    /// `given`: the closing message and a birthday message on the end date included.
    pub fn message_dates(&self, given: NaiveDate) -> (NaiveDate, NaiveDate) {
        let on_day = |day: i64| given + TimeDelta::days(day - self.day_of_given_date);
        let first = on_day(i64::from(self.first_day));
        let last = match self.end {
            ProgrammeEnd::LastDay {
                last_day,
                closing_message,
            } => on_day(i64::from(last_day) + i64::from(closing_message)),
            ProgrammeEnd::BeforeBirthday { age } => {
                let birthday = nth_birthday(given, age);
                let has_message = u8::try_from(age).is_ok_and(|a| self.birthday_ages.contains(&a));
                if has_message {
                    birthday
                } else {
                    birthday - Days::new(1)
                }
            }
        };
        (first, last)
    }

    /// Rows of this programme's day tables (content texts, note indices): its first day to
    /// [`ProgrammeSpec::last_possible_day`].
    pub const fn day_count(&self) -> usize {
        (self.last_possible_day() - self.first_day) as usize + 1
    }

    /// The row of programme day `day` in this programme's day tables (`None` before the first
    /// day; a row past [`ProgrammeSpec::day_count`] is not in the tables).
    pub fn day_index(&self, day: u16) -> Option<usize> {
        day.checked_sub(self.first_day).map(usize::from)
    }

    /// The plausibility window for a given date on `today`: `(earliest, latest)`.
    pub fn given_date_window(&self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        match self.given_date_range {
            GivenDateRange::Upcoming {
                grace_days,
                horizon_days,
            } => (
                today
                    .checked_sub_days(Days::new(grace_days))
                    .unwrap_or(NaiveDate::MIN),
                today
                    .checked_add_days(Days::new(horizon_days))
                    .unwrap_or(NaiveDate::MAX),
            ),
            GivenDateRange::Past { years } => (
                today
                    .checked_sub_months(Months::new(12 * years))
                    .unwrap_or(NaiveDate::MIN),
                today,
            ),
        }
    }

    /// The date picker's `(min, max)` for a given date on `today`.
    pub fn picker_bounds(&self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let (earliest, latest) = self.given_date_window(today);
        match self.given_date_range {
            GivenDateRange::Upcoming { .. } => (today, latest),
            GivenDateRange::Past { .. } => (earliest, latest),
        }
    }

    /// The programme day on `date` for a registration whose given date is `given` (may be
    /// negative or past the end).
    pub fn day_on(&self, given: NaiveDate, date: NaiveDate) -> i64 {
        self.day_of_given_date + (date - given).num_days()
    }

    /// Whether programme day `day` (on `date`) has messages, the closing one aside.
    fn in_window(&self, given: NaiveDate, date: NaiveDate, day: i64) -> bool {
        if day < i64::from(self.first_day) {
            return false;
        }
        match self.end {
            ProgrammeEnd::LastDay { last_day, .. } => day <= i64::from(last_day),
            // n years hold at least 365·n days, so the (slower) birthday arithmetic is only
            // needed at the very end of the programme; the daily plan runs millions of times.
            ProgrammeEnd::BeforeBirthday { age } => {
                day - self.day_of_given_date < i64::from(age) * 365
                    || date < nth_birthday(given, age)
            }
        }
    }

    /// Whether programme day `day` is the closing message's.
    fn is_closing_day(&self, day: i64) -> bool {
        match self.end {
            ProgrammeEnd::LastDay {
                last_day,
                closing_message: true,
            } => day == i64::from(last_day) + 1,
            _ => false,
        }
    }

    /// The report band on `date` for a registration whose given date is `given`; `None`
    /// past the programme ([`FINISHED_BAND`]).
    pub fn band_on(&self, given: NaiveDate, date: NaiveDate) -> Option<&'static ReportingBand> {
        let value = match self.bands.unit {
            BandUnit::ProgrammeDay => self.day_on(given, date),
            BandUnit::AgeMonths if date < given => 0,
            BandUnit::AgeMonths => i64::from(age_in_months(given, date)),
        };
        self.bands.bands.iter().find(|band| value < band.until)
    }
}

/// Every report band in report order: each programme's, then [`FINISHED_BAND`].
pub fn report_bands() -> impl Iterator<Item = &'static ReportingBand> {
    PROGRAMMES
        .iter()
        .flat_map(|spec| spec.bands.bands)
        .chain([&FINISHED_BAND])
}

/// How many bands [`report_bands`] yields.
pub const REPORT_BAND_COUNT: usize = {
    let mut count = 1;
    let mut i = 0;
    while i < PROGRAMMES.len() {
        count += PROGRAMMES[i].bands.bands.len();
        i += 1;
    }
    count
};

/// The report band of `subject` on `date`.
pub fn report_band(subject: &Subject, date: NaiveDate) -> &'static ReportingBand {
    subject
        .programme()
        .spec()
        .band_on(subject.given_date(), date)
        .unwrap_or(&FINISHED_BAND)
}

/// First gestational day with a message: 4 weeks 0 days.
pub const MATERNITY_FIRST_DAY: u16 = MATERNITY.first_day;
/// Last gestational day with a message: 41 weeks 6 days.
pub const MATERNITY_LAST_DAY: u16 = MATERNITY.last_possible_day();
/// Gestational day of the due date.
pub const DUE_DATE_DAY: i64 = MATERNITY.day_of_given_date;
/// Last child day sent every day; after it, only the days the content pack schedules.
pub const CHILD_DAILY_LAST_DAY: u16 = match CHILD.cadence {
    Cadence::DailyThenContentSchedule { daily_last_day } => daily_last_day,
    Cadence::Daily => panic!("the child programme follows the content's schedule after day 100"),
};
/// The last child day that can exist: a child's 3rd birthday is at most 1096 days after birth
/// (one 29 February inside the three years), and the programme ends the day before.
pub const CHILD_LAST_POSSIBLE_DAY: u16 = CHILD.last_possible_day();

impl Subject {
    /// The programme this subject follows.
    pub fn programme(&self) -> Programme {
        match self {
            Subject::Pregnancy { .. } => Programme::Maternity,
            Subject::Child { .. } => Programme::Child,
        }
    }

    /// The date the parent gave: the due date of a pregnancy, the birth date of a child.
    pub fn given_date(&self) -> NaiveDate {
        match *self {
            Subject::Pregnancy { due_date } => due_date,
            Subject::Child { birth_date, .. } => birth_date,
        }
    }

    /// A new registration's subject in `programme`, from the date the parent gave.
    pub fn new(programme: Programme, given_date: NaiveDate) -> Subject {
        match programme {
            Programme::Maternity => Subject::Pregnancy {
                due_date: given_date,
            },
            Programme::Child => Subject::Child {
                birth_date: given_date,
                due_date: None,
            },
        }
    }

    /// The same subject with its given date changed (a child keeps its recorded due date).
    pub fn with_given_date(self, given_date: NaiveDate) -> Subject {
        match self {
            Subject::Pregnancy { .. } => Subject::Pregnancy {
                due_date: given_date,
            },
            Subject::Child { due_date, .. } => Subject::Child {
                birth_date: given_date,
                due_date,
            },
        }
    }
}

/// A registration's position in its programme on one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "programme", rename_all = "snake_case")]
pub enum ProgrammeDay {
    /// Gestational day 28..=293 (4w0d..=41w6d).
    Maternity { gestational_day: u16 },
    /// Day 294: the pregnancy passed 41w6d with no birth reported.
    MaternityClosing,
    /// Days since birth, from 0 up to the day before the 3rd birthday.
    Child { age_days: u16 },
}

impl ProgrammeDay {
    /// Day `day` of `programme`'s window.
    fn numbered(programme: Programme, day: u16) -> ProgrammeDay {
        match programme {
            Programme::Maternity => ProgrammeDay::Maternity {
                gestational_day: day,
            },
            Programme::Child => ProgrammeDay::Child { age_days: day },
        }
    }

    /// `programme`'s closing message, if it has one.
    fn closing(programme: Programme) -> Option<ProgrammeDay> {
        match programme {
            Programme::Maternity => Some(ProgrammeDay::MaternityClosing),
            Programme::Child => None,
        }
    }

    pub fn programme(&self) -> Programme {
        match self {
            ProgrammeDay::Maternity { .. } | ProgrammeDay::MaternityClosing => Programme::Maternity,
            ProgrammeDay::Child { .. } => Programme::Child,
        }
    }
}

/// Weeks and days of pregnancy, e.g. 12w3d.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GestationalAge {
    pub weeks: u16,
    pub days: u16,
}

impl GestationalAge {
    pub fn from_day(gestational_day: u16) -> Self {
        Self {
            weeks: gestational_day / 7,
            days: gestational_day % 7,
        }
    }
}

/// Gestational day on `date` for a pregnancy due on `due_date` (may be negative or past 294).
pub fn gestational_day(due_date: NaiveDate, date: NaiveDate) -> i64 {
    MATERNITY.day_on(due_date, date)
}

/// Where `subject` stands on `date`, or `None` outside its programme.
pub fn programme_day(subject: &Subject, date: NaiveDate) -> Option<ProgrammeDay> {
    let given = subject.given_date();
    let spec = subject.programme().spec();
    day_in_programme(spec, given, date, spec.day_on(given, date))
}

/// The age whose birthday falls on `date` (1, 2 or 3), for a child.
pub fn birthday_age(subject: &Subject, date: NaiveDate) -> Option<u8> {
    let given = subject.given_date();
    birthday_age_on(
        subject.programme().spec(),
        given,
        date,
        (date - given).num_days(),
    )
}

/// [`programme_day`] and [`birthday_age`] together, computing the day count once (the daily
/// plan asks both questions for every registration).
pub fn programme_day_and_birthday(
    subject: &Subject,
    date: NaiveDate,
) -> (Option<ProgrammeDay>, Option<u8>) {
    let given = subject.given_date();
    let spec = subject.programme().spec();
    let days_since_given = (date - given).num_days();
    let day = spec.day_of_given_date + days_since_given;
    (
        day_in_programme(spec, given, date, day),
        birthday_age_on(spec, given, date, days_since_given),
    )
}

/// Programme day `day` (on `date`) as a [`ProgrammeDay`], if it has a message.
fn day_in_programme(
    spec: &ProgrammeSpec,
    given: NaiveDate,
    date: NaiveDate,
    day: i64,
) -> Option<ProgrammeDay> {
    if spec.in_window(given, date, day) {
        Some(ProgrammeDay::numbered(spec.programme, day as u16))
    } else if spec.is_closing_day(day) {
        ProgrammeDay::closing(spec.programme)
    } else {
        None
    }
}

fn birthday_age_on(
    spec: &ProgrammeSpec,
    given: NaiveDate,
    date: NaiveDate,
    days_since_given: i64,
) -> Option<u8> {
    // The n-th birthday (n ≤ 3) is 365·n or 365·n + 1 days after birth: three years contain at
    // most one 29 February. Anything else is rejected without date arithmetic.
    let age = days_since_given / 365;
    let age = u8::try_from(age).ok().filter(|&a| a >= 1)?;
    if days_since_given - 365 * i64::from(age) > 1 || !spec.birthday_ages.contains(&age) {
        return None;
    }
    (nth_birthday(given, u32::from(age)) == date).then_some(age)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::date as d;

    #[test]
    fn maternity_window_is_4w0d_to_41w6d() {
        // Due 2027-05-01 (day 280). Day 28 = due - 252 days = 2026-08-22 (hand-checked:
        // 2026-08-22 + 252 days = 2027-05-01).
        let p = Subject::Pregnancy {
            due_date: d(2027, 5, 1),
        };
        assert_eq!(programme_day(&p, d(2026, 8, 21)), None);
        assert_eq!(
            programme_day(&p, d(2026, 8, 22)),
            Some(ProgrammeDay::Maternity {
                gestational_day: 28
            })
        );
        assert_eq!(
            programme_day(&p, d(2027, 5, 1)),
            Some(ProgrammeDay::Maternity {
                gestational_day: 280
            })
        );
        // 41w6d = day 293 = due + 13 days.
        assert_eq!(
            programme_day(&p, d(2027, 5, 14)),
            Some(ProgrammeDay::Maternity {
                gestational_day: 293
            })
        );
        assert_eq!(
            programme_day(&p, d(2027, 5, 15)),
            Some(ProgrammeDay::MaternityClosing)
        );
        assert_eq!(programme_day(&p, d(2027, 5, 16)), None);
    }

    #[test]
    fn child_programme_ends_the_day_before_the_third_birthday() {
        let c = Subject::Child {
            birth_date: d(2028, 2, 29),
            due_date: None,
        };
        assert_eq!(programme_day(&c, d(2028, 2, 28)), None);
        assert_eq!(
            programme_day(&c, d(2028, 2, 29)),
            Some(ProgrammeDay::Child { age_days: 0 })
        );
        // 2031-02-28 is the 3rd birthday under the 29 February rule.
        assert!(programme_day(&c, d(2031, 2, 27)).is_some());
        assert_eq!(programme_day(&c, d(2031, 2, 28)), None);
        assert_eq!(birthday_age(&c, d(2031, 2, 28)), Some(3));
        assert_eq!(birthday_age(&c, d(2029, 2, 28)), Some(1));
        assert_eq!(birthday_age(&c, d(2029, 3, 1)), None);
    }

    #[test]
    fn combined_lookup_agrees_with_the_separate_ones() {
        let births = [
            d(2028, 2, 29),
            d(2027, 3, 1),
            d(2027, 12, 31),
            d(2026, 1, 1),
        ];
        for birth in births {
            let c = Subject::Child {
                birth_date: birth,
                due_date: None,
            };
            for date in birth
                .iter_days()
                .take(1200)
                .chain([birth - chrono::Days::new(1)])
            {
                assert_eq!(
                    programme_day_and_birthday(&c, date),
                    (programme_day(&c, date), birthday_age(&c, date)),
                    "born {birth}, on {date}"
                );
            }
        }
    }

    #[test]
    fn gestational_age_splits_weeks_and_days() {
        assert_eq!(
            GestationalAge::from_day(293),
            GestationalAge { weeks: 41, days: 6 }
        );
        assert_eq!(
            GestationalAge::from_day(28),
            GestationalAge { weeks: 4, days: 0 }
        );
    }

    #[test]
    fn the_table_says_what_the_constants_always_said() {
        // Each value as the code hard-wired it before the table: a change here changes the
        // programme parents receive.
        assert_eq!(MATERNITY_FIRST_DAY, 28);
        assert_eq!(MATERNITY_LAST_DAY, 293);
        assert_eq!(DUE_DATE_DAY, 280);
        assert_eq!(CHILD_DAILY_LAST_DAY, 100);
        assert_eq!(CHILD_LAST_POSSIBLE_DAY, 1095);
        assert_eq!(CHILD.end, ProgrammeEnd::BeforeBirthday { age: 3 });
        assert_eq!(CHILD.birthday_ages, &[1, 2, 3]);
        assert!(MATERNITY.birthday_ages.is_empty());
        assert_eq!(Programme::Maternity.spec().given_date, GivenDate::DueDate);
        assert_eq!(Programme::Child.spec().given_date, GivenDate::BirthDate);
    }

    #[test]
    fn every_programme_has_its_own_row() {
        for (i, programme) in Programme::ALL.into_iter().enumerate() {
            assert_eq!(programme.index(), i);
            assert_eq!(programme.spec().programme, programme);
            assert_eq!(PROGRAMMES[i], *programme.spec());
        }
    }

    #[test]
    fn birthday_ages_stay_within_what_the_day_arithmetic_allows() {
        for spec in &PROGRAMMES {
            assert!(spec.birthday_ages.windows(2).all(|w| w[0] < w[1]));
            assert!(spec.birthday_ages.iter().all(|&a| (1..=3).contains(&a)));
        }
    }

    #[test]
    fn bands_are_ascending_and_cover_the_whole_programme() {
        for spec in &PROGRAMMES {
            let bands = spec.bands.bands;
            assert!(!bands.is_empty());
            assert!(bands.windows(2).all(|w| w[0].until < w[1].until));
            let last = bands[bands.len() - 1].until;
            match spec.bands.unit {
                // The closing day still counts in the last band.
                BandUnit::ProgrammeDay => {
                    let closing = matches!(
                        spec.end,
                        ProgrammeEnd::LastDay {
                            closing_message: true,
                            ..
                        }
                    );
                    let last_day = i64::from(spec.last_possible_day()) + i64::from(closing);
                    assert_eq!(last, last_day + 1);
                }
                BandUnit::AgeMonths => {
                    let ProgrammeEnd::BeforeBirthday { age } = spec.end else {
                        panic!("age bands for a programme ending at a birthday");
                    };
                    assert_eq!(last, 12 * i64::from(age));
                }
            }
        }
        let keys: Vec<&str> = report_bands().map(|b| b.key).collect();
        assert_eq!(keys.len(), REPORT_BAND_COUNT);
        let mut unique = keys.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "band keys are unique: {keys:?}");
    }

    #[test]
    fn pregnancy_bands_are_the_trimesters_the_reports_always_used() {
        let due = d(2027, 5, 1);
        let p = Subject::Pregnancy { due_date: due };
        for offset in -400i64..=100 {
            let date = due + TimeDelta::days(offset);
            let day = gestational_day(due, date);
            // The bands as `kizuna stats` hard-wired them.
            let expected = match day {
                ..112 => "pregnancy_early",
                112..196 => "pregnancy_mid",
                196..=294 => "pregnancy_late",
                _ => "finished",
            };
            assert_eq!(report_band(&p, date).key, expected, "day {day}");
        }
    }

    #[test]
    fn child_bands_are_the_age_bands_the_reports_always_used() {
        let birth = d(2028, 2, 29);
        let c = Subject::Child {
            birth_date: birth,
            due_date: None,
        };
        for offset in -5i64..1200 {
            let date = birth + TimeDelta::days(offset);
            let expected = if date < birth {
                "child_0_2m"
            } else {
                match age_in_months(birth, date) {
                    0..3 => "child_0_2m",
                    3..6 => "child_3_5m",
                    6..12 => "child_6_11m",
                    12..24 => "child_1y",
                    24..36 => "child_2y",
                    _ => "finished",
                }
            };
            assert_eq!(report_band(&c, date).key, expected, "on {date}");
        }
    }

    #[test]
    fn message_dates_span_the_first_to_the_last_message() {
        let due = d(2027, 5, 1);
        // 4w0d = due - 252 days; the closing day 294 = due + 14 days.
        assert_eq!(
            MATERNITY.message_dates(due),
            (d(2026, 8, 22), d(2027, 5, 15))
        );
        let birth = d(2028, 2, 29);
        // The last message is the 3rd birthday's (28 February in a common year).
        assert_eq!(CHILD.message_dates(birth), (birth, d(2031, 2, 28)));
        for spec in &PROGRAMMES {
            let given = d(2027, 6, 30);
            let (first, last) = spec.message_dates(given);
            let subject = Subject::new(spec.programme, given);
            assert!(programme_day(&subject, first).is_some());
            assert!(programme_day(&subject, first - Days::new(1)).is_none());
            assert!(
                programme_day(&subject, last).is_some() || birthday_age(&subject, last).is_some()
            );
            assert!(programme_day(&subject, last + Days::new(1)).is_none());
        }
    }

    #[test]
    fn date_windows_and_picker_bounds() {
        let today = d(2027, 1, 10);
        assert_eq!(
            MATERNITY.given_date_window(today),
            (d(2026, 12, 28), d(2027, 11, 6))
        );
        // The picker starts today: a parent past the due date types it.
        assert_eq!(MATERNITY.picker_bounds(today), (today, d(2027, 11, 6)));
        assert_eq!(CHILD.given_date_window(today), (d(2024, 1, 10), today));
        assert_eq!(CHILD.picker_bounds(today), (d(2024, 1, 10), today));
    }

    #[test]
    fn subjects_are_built_from_the_given_date() {
        let date = d(2027, 3, 3);
        for programme in Programme::ALL {
            let subject = Subject::new(programme, date);
            assert_eq!(subject.programme(), programme);
            assert_eq!(subject.given_date(), date);
            assert_eq!(
                subject.with_given_date(d(2027, 4, 4)).given_date(),
                d(2027, 4, 4)
            );
        }
        // A reported birth keeps its due date through a change of birth date.
        let born = Subject::Child {
            birth_date: date,
            due_date: Some(d(2027, 3, 1)),
        };
        assert_eq!(
            born.with_given_date(d(2027, 3, 2)),
            Subject::Child {
                birth_date: d(2027, 3, 2),
                due_date: Some(d(2027, 3, 1)),
            }
        );
    }
}
