//! Helpers shared by the tests of every Kizuna crate. Compiled for kizuna-core's own tests and
//! behind the `testing` feature, which the other crates turn on in their dev-dependencies
//! only: nothing here reaches a Lambda.

use chrono::NaiveDate;

/// The calendar date `year`-`month`-`day`. Panics, naming it, on a date that does not exist:
/// in a test that is a typo.
pub fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day)
        .unwrap_or_else(|| panic!("no such date: {year}-{month:02}-{day:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_is_the_calendar_date() {
        assert_eq!(date(2028, 2, 29).to_string(), "2028-02-29");
    }

    #[test]
    #[should_panic(expected = "no such date: 2027-02-29")]
    fn a_date_that_does_not_exist_panics_naming_it() {
        date(2027, 2, 29);
    }
}
