//! Programmes: where a registration stands on a given Japan date.
//!
//! * Maternity, from the due date: gestational day 280 is the due date; messages go out every
//!   day from 4w0d (day 28) to 41w6d (day 293) inclusive. On day 294, a pregnancy whose birth
//!   was never reported gets one gentle closing message, then nothing.
//! * Child, from the birth date: day 0 is the birth date; every day to day 100, then on the
//!   days the content pack schedules, until the day before the 3rd birthday.
//! * Birthdays at ages 1, 2 and 3 (see [`crate::calendar::birthday_in_year`] for 29 February).

use crate::calendar::nth_birthday;
use crate::household::Subject;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// First gestational day with a message: 4 weeks 0 days.
pub const MATERNITY_FIRST_DAY: u16 = 4 * 7;
/// Last gestational day with a message: 41 weeks 6 days.
pub const MATERNITY_LAST_DAY: u16 = 41 * 7 + 6;
/// Gestational day of the due date.
pub const DUE_DATE_DAY: i64 = 280;
/// Last child day sent every day; after it, only the days the content pack schedules.
pub const CHILD_DAILY_LAST_DAY: u16 = 100;
/// Ages that get a birthday message; the programme ends on the last one.
pub const BIRTHDAY_AGES: [u8; 3] = [1, 2, 3];
/// Fewest days from birth to a 3rd birthday (three years without a 29 February, or a child
/// born on 29 February whose birthday is kept on 28 February).
const MIN_DAYS_TO_THIRD_BIRTHDAY: i64 = 3 * 365;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Programme {
    Maternity,
    Child,
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
    DUE_DATE_DAY - (due_date - date).num_days()
}

/// Where `subject` stands on `date`, or `None` outside its programme.
pub fn programme_day(subject: &Subject, date: NaiveDate) -> Option<ProgrammeDay> {
    match *subject {
        Subject::Pregnancy { due_date } => {
            let day = gestational_day(due_date, date);
            if (i64::from(MATERNITY_FIRST_DAY)..=i64::from(MATERNITY_LAST_DAY)).contains(&day) {
                Some(ProgrammeDay::Maternity {
                    gestational_day: day as u16,
                })
            } else if day == i64::from(MATERNITY_LAST_DAY) + 1 {
                Some(ProgrammeDay::MaternityClosing)
            } else {
                None
            }
        }
        Subject::Child { birth_date, .. } => {
            let age_days = (date - birth_date).num_days();
            // Three years hold at least 1095 days, so the (slower) birthday arithmetic is only
            // needed at the very end of the programme; the daily plan runs millions of times.
            if age_days >= 0
                && (age_days < MIN_DAYS_TO_THIRD_BIRTHDAY || date < nth_birthday(birth_date, 3))
            {
                Some(ProgrammeDay::Child {
                    age_days: age_days as u16,
                })
            } else {
                None
            }
        }
    }
}

/// The age whose birthday falls on `date` (1, 2 or 3), for a child.
pub fn birthday_age(subject: &Subject, date: NaiveDate) -> Option<u8> {
    match *subject {
        Subject::Pregnancy { .. } => None,
        Subject::Child { birth_date, .. } => {
            child_birthday_age(birth_date, date, (date - birth_date).num_days())
        }
    }
}

/// [`programme_day`] and [`birthday_age`] together, computing the day count once (the daily
/// plan asks both questions for every registration).
pub fn programme_day_and_birthday(
    subject: &Subject,
    date: NaiveDate,
) -> (Option<ProgrammeDay>, Option<u8>) {
    match *subject {
        Subject::Pregnancy { .. } => (programme_day(subject, date), None),
        Subject::Child { birth_date, .. } => {
            let age_days = (date - birth_date).num_days();
            let day = (age_days >= 0
                && (age_days < MIN_DAYS_TO_THIRD_BIRTHDAY || date < nth_birthday(birth_date, 3)))
            .then_some(ProgrammeDay::Child {
                age_days: age_days as u16,
            });
            (day, child_birthday_age(birth_date, date, age_days))
        }
    }
}

fn child_birthday_age(birth_date: NaiveDate, date: NaiveDate, age_days: i64) -> Option<u8> {
    // The n-th birthday (n ≤ 3) is 365·n or 365·n + 1 days after birth: three years contain at
    // most one 29 February. Anything else is rejected without date arithmetic.
    let age = age_days / 365;
    let max_age = i64::from(BIRTHDAY_AGES[BIRTHDAY_AGES.len() - 1]);
    if !(1..=max_age).contains(&age) || age_days - 365 * age > 1 {
        return None;
    }
    (nth_birthday(birth_date, age as u32) == date).then_some(age as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

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
}
