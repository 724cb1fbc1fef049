//! Calendar dates in Japan time.
//!
//! Japan has not observed daylight saving time since 1951, so a fixed +09:00 offset is
//! exactly Asia/Tokyo for every date this product deals with; it avoids shipping a tz database.

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, Utc};

/// Asia/Tokyo (UTC+9, no DST).
pub const JAPAN: FixedOffset = match FixedOffset::east_opt(9 * 3600) {
    Some(offset) => offset,
    None => panic!("+09:00 is a valid offset"),
};

/// The calendar date in Japan at the instant `now`.
pub fn today_in_japan(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&JAPAN).date_naive()
}

/// The date on which someone born on `birth` celebrates their birthday in `year`.
///
/// The 29 February rule: in a year without 29 February the birthday is kept on
/// **28 February**, so it stays in the same month and the message arrives before, never after,
/// the day the family would celebrate. (Japanese law counts a year of age as complete at the end
/// of the day before the birthday, which for 29 February also falls on 28 February.)
pub fn birthday_in_year(birth: NaiveDate, year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, birth.month(), birth.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))
        .expect("28 February exists in every year")
}

/// The `age`-th birthday of someone born on `birth` (age 0 is the birth date itself).
pub fn nth_birthday(birth: NaiveDate, age: u32) -> NaiveDate {
    birthday_in_year(birth, birth.year() + age as i32)
}

/// Completed months from `birth` to `date`. A month is complete on the same day of the month,
/// or on the month's last day when it is shorter (born 31 January → 1 month on 28 February),
/// the same rule as birthdays on 29 February.
pub fn age_in_months(birth: NaiveDate, date: NaiveDate) -> u32 {
    let months = (date.year() - birth.year()) * 12 + date.month() as i32 - birth.month() as i32;
    let last_day_of_month = date
        .checked_add_days(Days::new(1))
        .is_none_or(|next| next.month() != date.month());
    let complete = date.day() >= birth.day() || last_day_of_month;
    (months - i32::from(!complete)).max(0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    use crate::testing::date as d;

    #[test]
    fn japan_date_rolls_over_at_15_00_utc() {
        let before = Utc.with_ymd_and_hms(2027, 3, 31, 14, 59, 59).unwrap();
        let after = Utc.with_ymd_and_hms(2027, 3, 31, 15, 0, 0).unwrap();
        assert_eq!(today_in_japan(before), d(2027, 3, 31));
        assert_eq!(today_in_japan(after), d(2027, 4, 1));
    }

    #[test]
    fn leap_day_birthdays_fall_on_28_february_in_common_years() {
        let birth = d(2028, 2, 29);
        assert_eq!(nth_birthday(birth, 1), d(2029, 2, 28));
        assert_eq!(nth_birthday(birth, 2), d(2030, 2, 28));
        assert_eq!(nth_birthday(birth, 3), d(2031, 2, 28));
        assert_eq!(nth_birthday(birth, 4), d(2032, 2, 29));
    }

    #[test]
    fn ordinary_birthdays_keep_month_and_day() {
        assert_eq!(nth_birthday(d(2026, 12, 31), 1), d(2027, 12, 31));
        assert_eq!(nth_birthday(d(2027, 3, 1), 3), d(2030, 3, 1));
    }
}
