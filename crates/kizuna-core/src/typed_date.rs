//! Dates as Japanese parents type them into a chat.
//!
//! Accepted forms (digits and punctuation may be full-width, spaces anywhere between parts,
//! any surrounding text such as `予定日は2027/5/1です`):
//!
//! | form | examples |
//! |---|---|
//! | western year | `2027/5/1`, `2027-05-01`, `2027.5.1`, `2027年5月1日`, `20270501` |
//! | Reiwa (from 2019-05-01) | `令和9年5月1日`, `令和元年5月1日`, `R9.5.1`, `R9/5/1`, `r9年5月1日` |
//! | Heisei (to 2019-04-30) | `平成31年4月30日`, `H31.4.30` |
//! | no year | `5月1日`, `5/1` |
//!
//! A date without a year is resolved by what the parent is answering
//! ([`DateExpectation`]): a due date is the **next** occurrence from today (today included), a
//! birth date the **most recent** occurrence up to today (today included). When either could be
//! meant, the nearer of the two occurrences wins (ties go to the future); the conversation asks
//! the parent instead when both readings are plausible (see [`TypedDate::candidates`]).
//!
//! Parsing only reads the calendar; whether a date makes sense for a registration is the
//! separate question answered by [`check_plausible`].

use crate::programme::{GivenDate, GivenDateRange, Programme};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// What the parent is answering, which decides the year of a date typed without one and which
/// plausibility window applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateExpectation {
    /// A due date (出産予定日): today or later.
    Due,
    /// A child's birth date (生年月日): today or earlier.
    Birth,
    /// Either one: a future date is a due date, today or a past date a birth date.
    Either,
}

/// The Japanese era a date was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Era {
    /// 平成: 1989-01-08 ..= 2019-04-30.
    Heisei,
    /// 令和: from 2019-05-01.
    Reiwa,
}

impl Era {
    fn first_day(self) -> NaiveDate {
        match self {
            Era::Heisei => ymd(1989, 1, 8),
            Era::Reiwa => ymd(2019, 5, 1),
        }
    }

    fn last_day(self) -> Option<NaiveDate> {
        match self {
            Era::Heisei => Some(ymd(2019, 4, 30)),
            Era::Reiwa => None,
        }
    }

    /// The western year of this era's `year` (1 = 元年).
    fn western_year(self, year: u32) -> i32 {
        let offset = match self {
            Era::Heisei => 1988,
            Era::Reiwa => 2018,
        };
        offset + year as i32
    }
}

/// Why a typed text did not yield a calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TypedDateError {
    /// Nothing in the text looks like a date.
    #[error("no date found in the text")]
    NoDate,
    /// A year and month but no day, e.g. `2027年5月`.
    #[error("the date has no day")]
    MissingDay,
    /// e.g. `2027/13/1`.
    #[error("there is no month {month}")]
    MonthOutOfRange { month: u32 },
    /// e.g. `2027/2/30`, `4/31`.
    #[error("month {month} has no day {day}")]
    DayOutOfRange { month: u32, day: u32 },
    /// e.g. `令和0年`, `平成31年5月1日` (Heisei ended on 2019-04-30), `R1.4.1`.
    #[error("the date is outside the {era:?} era")]
    OutsideEra { era: Era },
}

/// A date as typed, before a missing year is filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypedDate {
    /// A complete calendar date.
    Full(NaiveDate),
    /// Month and day only (`5月1日`, `5/1`); the day exists in at least a leap year.
    MonthDay { month: u32, day: u32 },
}

impl TypedDate {
    /// The next occurrence from `today` (for a due date) and the most recent one up to `today`
    /// (for a birth date). A full date is its own only candidate, on the side where it falls.
    pub fn candidates(self, today: NaiveDate) -> Candidates {
        match self {
            TypedDate::Full(date) if date > today => Candidates {
                future: Some(date),
                past: None,
            },
            TypedDate::Full(date) => Candidates {
                future: None,
                past: Some(date),
            },
            TypedDate::MonthDay { month, day } => Candidates {
                // 8 years always include a leap year, so 29 February is found too.
                future: (0..=8)
                    .filter_map(|k| NaiveDate::from_ymd_opt(today.year() + k, month, day))
                    .find(|&d| d >= today),
                past: (0..=8)
                    .filter_map(|k| NaiveDate::from_ymd_opt(today.year() - k, month, day))
                    .find(|&d| d <= today),
            },
        }
    }

    /// The date meant, under the rule in the module documentation.
    pub fn resolve(self, expectation: DateExpectation, today: NaiveDate) -> Option<NaiveDate> {
        let Candidates { future, past } = self.candidates(today);
        if let TypedDate::Full(date) = self {
            return Some(date);
        }
        match expectation {
            DateExpectation::Due => future,
            DateExpectation::Birth => past,
            DateExpectation::Either => match (future, past) {
                (Some(f), Some(p)) if (p - today).abs() < (f - today).abs() => Some(p),
                (Some(f), _) => Some(f),
                (None, p) => p,
            },
        }
    }
}

/// The two readings of a typed date: on or after today, and on or before today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidates {
    pub future: Option<NaiveDate>,
    pub past: Option<NaiveDate>,
}

/// Parses the first date in `input` and resolves a missing year for `expectation`.
pub fn parse_typed_date(
    input: &str,
    expectation: DateExpectation,
    today: NaiveDate,
) -> Result<NaiveDate, TypedDateError> {
    parse_typed(input)?
        .resolve(expectation, today)
        // Only a 29 February with no leap year within 8 years gets here, i.e. never in
        // practice; saying the day does not exist is the honest answer.
        .ok_or(TypedDateError::NoDate)
}

/// Finds the first date in `input`, without filling in a missing year.
pub fn parse_typed(input: &str) -> Result<TypedDate, TypedDateError> {
    let tokens = tokenize(&normalize(input));
    for start in 0..tokens.len() {
        if let Some(found) = match_at(&tokens, start) {
            return found;
        }
    }
    Err(TypedDateError::NoDate)
}

/// Why a calendar date cannot be a registration's date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ImplausibleDate {
    /// A due date more than [`DUE_DATE_GRACE_DAYS`] in the past.
    #[error("the due date has passed")]
    DueInPast { earliest: NaiveDate },
    /// A due date more than [`DUE_DATE_HORIZON_DAYS`] ahead.
    #[error("the due date is too far ahead")]
    DueTooFar { latest: NaiveDate },
    /// A birth date after today.
    #[error("the birth date is in the future")]
    BirthInFuture,
    /// A birth date more than 3 years ago: the child programme ends at the 3rd birthday.
    #[error("the child is older than 3 years")]
    BirthTooOld { earliest: NaiveDate },
}

/// How far ahead a due date may be (the maternity row of [`crate::programme::PROGRAMMES`]):
/// a pregnancy is registered at the earliest around 4 weeks (due date 252 days ahead); 300
/// leaves room for an early registration and a typo-free margin, and matches the date picker.
pub const DUE_DATE_HORIZON_DAYS: u64 = match Programme::Maternity.spec().given_date_range {
    GivenDateRange::Upcoming { horizon_days, .. } => horizon_days,
    GivenDateRange::Past { .. } => panic!("a due date lies ahead"),
};

/// How far in the past a typed due date may be. Decision: a due date up to 13 days ago is still
/// a pregnancy in its last window (the maternity programme runs to 41w6d = due date + 13 days),
/// so a parent who is past the due date and still waiting can register and receive those last
/// messages. The date picker keeps the simpler `today..` range of the issue; such a parent can
/// type the date.
pub const DUE_DATE_GRACE_DAYS: u64 = match Programme::Maternity.spec().given_date_range {
    GivenDateRange::Upcoming { grace_days, .. } => grace_days,
    GivenDateRange::Past { .. } => panic!("a due date lies ahead"),
};

/// Years of childhood the child programme covers.
pub const CHILD_PROGRAMME_YEARS: u32 = match Programme::Child.spec().given_date_range {
    GivenDateRange::Past { years } => years,
    GivenDateRange::Upcoming { .. } => panic!("a birth date lies behind"),
};

impl DateExpectation {
    /// What a parent answers when asked for `programme`'s date.
    pub fn of(programme: Programme) -> DateExpectation {
        match programme.spec().given_date {
            GivenDate::DueDate => DateExpectation::Due,
            GivenDate::BirthDate => DateExpectation::Birth,
        }
    }

    /// The programme a registration with `date` joins: with [`DateExpectation::Either`] a
    /// future date is a due date, today or a past date a birth date.
    pub fn programme(self, date: NaiveDate, today: NaiveDate) -> Programme {
        match self {
            DateExpectation::Due => Programme::Maternity,
            DateExpectation::Birth => Programme::Child,
            DateExpectation::Either if date > today => Programme::Maternity,
            DateExpectation::Either => Programme::Child,
        }
    }
}

/// The date-picker and plausibility window for a due date: `(earliest, latest)`.
pub fn due_date_window(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    Programme::Maternity.spec().given_date_window(today)
}

/// The date-picker and plausibility window for a birth date: `(earliest, latest)` = (the same
/// day 3 years ago, today). A child born on the earliest day has its 3rd birthday today — the
/// last message of the programme.
pub fn birth_date_window(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    Programme::Child.spec().given_date_window(today)
}

/// Whether `date` can be a registration's date. With [`DateExpectation::Either`] a future date is
/// judged as a due date and today or a past date as a birth date.
pub fn check_plausible(
    date: NaiveDate,
    expectation: DateExpectation,
    today: NaiveDate,
) -> Result<(), ImplausibleDate> {
    let programme = expectation.programme(date, today);
    let (earliest, latest) = programme.spec().given_date_window(today);
    match programme.spec().given_date {
        GivenDate::DueDate if date < earliest => Err(ImplausibleDate::DueInPast { earliest }),
        GivenDate::DueDate if date > latest => Err(ImplausibleDate::DueTooFar { latest }),
        GivenDate::BirthDate if date > latest => Err(ImplausibleDate::BirthInFuture),
        GivenDate::BirthDate if date < earliest => Err(ImplausibleDate::BirthTooOld { earliest }),
        GivenDate::DueDate | GivenDate::BirthDate => Ok(()),
    }
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("constant date is valid")
}

/// Full-width ASCII to ASCII, the ideographic space to a space, and the dashes an IME produces
/// (including the long-vowel mark `ー`, which parents type between digits) to `-`.
fn normalize(input: &str) -> String {
    input
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{30FC}' | '\u{FF70}' => '-',
            _ => c,
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// A run of ASCII digits; `value` saturates, `digits` tells the written length.
    Num {
        value: u32,
        digits: usize,
    },
    Era(Era),
    /// 元 (the first year of an era).
    Gannen,
    Nen,
    Gatsu,
    Nichi,
    /// `/`, `-` or `.`.
    Sep(char),
    Other,
}

fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let start = i;
            let mut value: u32 = 0;
            while i < chars.len() && chars[i].is_ascii_digit() {
                value = value
                    .saturating_mul(10)
                    .saturating_add(chars[i] as u32 - '0' as u32);
                i += 1;
            }
            tokens.push(Token::Num {
                value,
                digits: i - start,
            });
            continue;
        }
        let next = chars.get(i + 1).copied();
        let token = match c {
            _ if c.is_whitespace() => None,
            '令' if next == Some('和') => {
                i += 1;
                Some(Token::Era(Era::Reiwa))
            }
            '平' if next == Some('成') => {
                i += 1;
                Some(Token::Era(Era::Heisei))
            }
            // A lone R/H right before a year (`R9`, `H31`, `R元`), not a letter inside a word.
            'R' | 'r' | 'H' | 'h'
                if !(i > 0 && chars[i - 1].is_ascii_alphabetic())
                    && chars[i + 1..]
                        .iter()
                        .find(|c| !c.is_whitespace())
                        .is_some_and(|&c| c.is_ascii_digit() || c == '元') =>
            {
                Some(Token::Era(if c.eq_ignore_ascii_case(&'R') {
                    Era::Reiwa
                } else {
                    Era::Heisei
                }))
            }
            '元' => Some(Token::Gannen),
            '年' => Some(Token::Nen),
            '月' => Some(Token::Gatsu),
            '日' => Some(Token::Nichi),
            '/' | '-' | '.' => Some(Token::Sep(c)),
            _ => Some(Token::Other),
        };
        tokens.extend(token);
        i += 1;
    }
    tokens
}

/// A month or day number: one or two digits.
fn small(token: Option<&Token>) -> Option<u32> {
    match token {
        Some(&Token::Num { value, digits }) if digits <= 2 => Some(value),
        _ => None,
    }
}

fn is_year_sep(token: Option<&Token>) -> bool {
    matches!(token, Some(Token::Nen | Token::Sep(_)))
}

fn is_month_sep(token: Option<&Token>) -> bool {
    matches!(token, Some(Token::Gatsu | Token::Sep(_)))
}

/// Tries every form at `tokens[start..]`; `None` when none starts there.
fn match_at(tokens: &[Token], start: usize) -> Option<Result<TypedDate, TypedDateError>> {
    let t = |k: usize| tokens.get(start + k);
    let prev = start.checked_sub(1).and_then(|p| tokens.get(p));
    if matches!(prev, Some(Token::Sep(_))) {
        // The tail of something longer (`1/2027/5/1`, `03-2027-5-1`): not a date we can read.
        return None;
    }
    match *t(0)? {
        Token::Era(era) => {
            let year = match t(1) {
                Some(Token::Gannen) => 1,
                other => small(other)?,
            };
            if !is_year_sep(t(2)) {
                return None;
            }
            let Some(month) = small(t(3)) else {
                return (t(2) == Some(&Token::Nen)).then_some(Err(TypedDateError::MissingDay));
            };
            if !is_month_sep(t(4)) {
                return None;
            }
            let Some(day) = small(t(5)) else {
                return (t(4) == Some(&Token::Gatsu)).then_some(Err(TypedDateError::MissingDay));
            };
            if year == 0 {
                return Some(Err(TypedDateError::OutsideEra { era }));
            }
            Some(
                calendar_date(era.western_year(year), month, day).and_then(|date| {
                    let inside =
                        date >= era.first_day() && era.last_day().is_none_or(|last| date <= last);
                    if inside {
                        Ok(TypedDate::Full(date))
                    } else {
                        Err(TypedDateError::OutsideEra { era })
                    }
                }),
            )
        }
        Token::Num { value, digits: 4 } if is_year_sep(t(1)) => {
            let Some(month) = small(t(2)) else {
                return (t(1) == Some(&Token::Nen)).then_some(Err(TypedDateError::MissingDay));
            };
            if !is_month_sep(t(3)) {
                return None;
            }
            match small(t(4)) {
                Some(day) => Some(calendar_date(value as i32, month, day).map(TypedDate::Full)),
                None => (t(3) == Some(&Token::Gatsu)).then_some(Err(TypedDateError::MissingDay)),
            }
        }
        // 20270501: a bare 8-digit number standing alone.
        Token::Num { value, digits: 8 } if !matches!(t(1), Some(Token::Sep(_))) => {
            let (y, m, d) = (value / 10_000, value / 100 % 100, value % 100);
            Some(calendar_date(y as i32, m, d).map(TypedDate::Full))
        }
        Token::Num { .. } => {
            // Month and day only. Not when the number continues a longer date written in a
            // way we do not read (`1/2027/5/1`, `5/1/2027`), which would silently be misread.
            let month = small(t(0))?;
            let month_sep = matches!(t(1), Some(Token::Gatsu | Token::Sep('/')));
            let day = small(t(2));
            let continues = matches!(prev, Some(Token::Nen | Token::Num { .. }))
                || matches!(t(3), Some(Token::Sep(_)));
            match (month_sep, day) {
                _ if continues => None,
                (true, Some(day)) => Some(month_day(month, day)),
                _ => None,
            }
        }
        _ => None,
    }
}

fn check_month(month: u32) -> Result<(), TypedDateError> {
    if (1..=12).contains(&month) {
        Ok(())
    } else {
        Err(TypedDateError::MonthOutOfRange { month })
    }
}

fn calendar_date(year: i32, month: u32, day: u32) -> Result<NaiveDate, TypedDateError> {
    check_month(month)?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or(TypedDateError::DayOutOfRange { month, day })
}

fn month_day(month: u32, day: u32) -> Result<TypedDate, TypedDateError> {
    check_month(month)?;
    // 2028 is a leap year: 29 February exists, 30 February does not.
    NaiveDate::from_ymd_opt(2028, month, day)
        .map(|_| TypedDate::MonthDay { month, day })
        .ok_or(TypedDateError::DayOutOfRange { month, day })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_keeps_r_inside_words_as_text() {
        assert_eq!(parse_typed("Hr9.5.1"), Err(TypedDateError::NoDate));
        assert_eq!(parse_typed("Room 5"), Err(TypedDateError::NoDate));
    }

    #[test]
    fn huge_numbers_saturate_without_panicking() {
        assert_eq!(
            parse_typed("99999999999999999999/5/1"),
            Err(TypedDateError::NoDate)
        );
    }
}
