//! Typed-date parsing and plausibility: table tests and round-trip properties.

use chrono::{Datelike, Days, NaiveDate};
use kizuna_core::typed_date::{
    check_plausible, parse_typed, parse_typed_date, DateExpectation, Era, ImplausibleDate,
    TypedDate, TypedDateError,
};
use proptest::prelude::*;

use kizuna_core::testing::date as d;

const TODAY: (i32, u32, u32) = (2027, 1, 10);

fn today() -> NaiveDate {
    d(TODAY.0, TODAY.1, TODAY.2)
}

#[test]
fn forms_parents_type_are_read() {
    let may1 = d(2027, 5, 1);
    let table: &[(&str, NaiveDate)] = &[
        ("2027/5/1", may1),
        ("2027-05-01", may1),
        ("2027.5.1", may1),
        ("2027年5月1日", may1),
        ("2027年05月01日", may1),
        ("2027 年 5 月 1 日", may1),
        ("20270501", may1),
        ("令和9年5月1日", may1),
        ("令和 9年 5月 1日", may1),
        ("R9.5.1", may1),
        ("R9/5/1", may1),
        ("r9年5月1日", may1),
        ("R 9.5.1", may1),
        ("令和元年5月1日", d(2019, 5, 1)),
        ("R元.5.1", d(2019, 5, 1)),
        ("H31.4.30", d(2019, 4, 30)),
        ("平成31年4月30日", d(2019, 4, 30)),
        ("平成元年1月8日", d(1989, 1, 8)),
        // Full-width digits, slashes and spaces, as a phone keyboard produces them.
        ("２０２７／５／１", may1),
        ("２０２７年５月１日", may1),
        ("Ｒ９．５．１", may1),
        ("　2027/5/1　", may1),
        ("2027ー5ー1", may1),
        ("2027－05－01", may1),
        // Surrounding text.
        ("予定日は2027/5/1です", may1),
        ("出産予定日：令和9年5月1日です。よろしくお願いします", may1),
        ("うまれたのは R9.5.1 でした", may1),
        // Without a year: a due date is the next 5/1.
        ("5月1日", may1),
        ("5/1", may1),
        ("５月１日", may1),
        ("予定日は5月1日", may1),
    ];
    for &(input, expected) in table {
        assert_eq!(
            parse_typed_date(input, DateExpectation::Due, today()),
            Ok(expected),
            "{input:?}"
        );
    }
}

#[test]
fn impossible_dates_say_why() {
    let table: &[(&str, TypedDateError)] = &[
        (
            "2027/2/30",
            TypedDateError::DayOutOfRange { month: 2, day: 30 },
        ),
        (
            "2027/2/29",
            TypedDateError::DayOutOfRange { month: 2, day: 29 },
        ),
        (
            "2027/4/31",
            TypedDateError::DayOutOfRange { month: 4, day: 31 },
        ),
        ("2027/13/1", TypedDateError::MonthOutOfRange { month: 13 }),
        ("2027年0月1日", TypedDateError::MonthOutOfRange { month: 0 }),
        ("13月1日", TypedDateError::MonthOutOfRange { month: 13 }),
        ("4/31", TypedDateError::DayOutOfRange { month: 4, day: 31 }),
        ("2/30", TypedDateError::DayOutOfRange { month: 2, day: 30 }),
        (
            "2027/5/0",
            TypedDateError::DayOutOfRange { month: 5, day: 0 },
        ),
        ("H31.5.1", TypedDateError::OutsideEra { era: Era::Heisei }),
        (
            "平成32年1月1日",
            TypedDateError::OutsideEra { era: Era::Heisei },
        ),
        ("R1.4.30", TypedDateError::OutsideEra { era: Era::Reiwa }),
        (
            "令和0年5月1日",
            TypedDateError::OutsideEra { era: Era::Reiwa },
        ),
        ("2027年5月", TypedDateError::MissingDay),
        ("令和9年5月", TypedDateError::MissingDay),
        ("20271301", TypedDateError::MonthOutOfRange { month: 13 }),
    ];
    for &(input, expected) in table {
        assert_eq!(
            parse_typed_date(input, DateExpectation::Either, today()),
            Err(expected),
            "{input:?}"
        );
    }
}

#[test]
fn texts_without_a_date_are_not_dates() {
    for input in [
        "",
        "こんにちは",
        "ヘルプ",
        "3.5キロでした",
        "10:30に予約",
        "090-1234-5678",
        "1/2027/5/1",
        "5/1/2027",
        "Hello",
        "R",
        "令和",
        "2027",
    ] {
        assert_eq!(
            parse_typed(input),
            Err(TypedDateError::NoDate),
            "{input:?} read as a date"
        );
    }
}

#[test]
fn leap_day_without_a_year_is_the_nearest_existing_one() {
    let today = d(2027, 1, 10);
    assert_eq!(
        parse_typed("2/29"),
        Ok(TypedDate::MonthDay { month: 2, day: 29 })
    );
    assert_eq!(
        parse_typed_date("2/29", DateExpectation::Due, today),
        Ok(d(2028, 2, 29))
    );
    assert_eq!(
        parse_typed_date("2/29", DateExpectation::Birth, today),
        Ok(d(2024, 2, 29))
    );
}

#[test]
fn a_missing_year_follows_what_was_asked() {
    let today = d(2027, 1, 10);
    // Due: the next occurrence, today included.
    assert_eq!(
        parse_typed_date("1/10", DateExpectation::Due, today),
        Ok(today)
    );
    assert_eq!(
        parse_typed_date("1/9", DateExpectation::Due, today),
        Ok(d(2028, 1, 9))
    );
    // Birth: the most recent occurrence, today included.
    assert_eq!(
        parse_typed_date("1/10", DateExpectation::Birth, today),
        Ok(today)
    );
    assert_eq!(
        parse_typed_date("1/11", DateExpectation::Birth, today),
        Ok(d(2026, 1, 11))
    );
    assert_eq!(
        parse_typed_date("12/25", DateExpectation::Birth, today),
        Ok(d(2026, 12, 25))
    );
    // Either: the nearer occurrence.
    assert_eq!(
        parse_typed_date("12/25", DateExpectation::Either, today),
        Ok(d(2026, 12, 25))
    );
    assert_eq!(
        parse_typed_date("3/1", DateExpectation::Either, today),
        Ok(d(2027, 3, 1))
    );
    // A full date is never moved.
    assert_eq!(
        parse_typed_date("2020/1/1", DateExpectation::Due, today),
        Ok(d(2020, 1, 1))
    );
}

#[test]
fn plausibility_windows() {
    let today = d(2027, 1, 10);
    let due = DateExpectation::Due;
    let birth = DateExpectation::Birth;
    let either = DateExpectation::Either;
    let plus = |n| today.checked_add_days(Days::new(n)).unwrap();
    let minus = |n| today.checked_sub_days(Days::new(n)).unwrap();

    assert_eq!(check_plausible(today, due, today), Ok(()));
    assert_eq!(check_plausible(plus(300), due, today), Ok(()));
    assert_eq!(
        check_plausible(plus(301), due, today),
        Err(ImplausibleDate::DueTooFar { latest: plus(300) })
    );
    // Up to 13 days past the due date is still the last window of a pregnancy (to 41w6d).
    assert_eq!(check_plausible(minus(13), due, today), Ok(()));
    assert_eq!(
        check_plausible(minus(14), due, today),
        Err(ImplausibleDate::DueInPast {
            earliest: minus(13)
        })
    );

    assert_eq!(check_plausible(today, birth, today), Ok(()));
    assert_eq!(check_plausible(d(2024, 1, 10), birth, today), Ok(()));
    assert_eq!(
        check_plausible(d(2024, 1, 9), birth, today),
        Err(ImplausibleDate::BirthTooOld {
            earliest: d(2024, 1, 10)
        })
    );
    assert_eq!(
        check_plausible(plus(1), birth, today),
        Err(ImplausibleDate::BirthInFuture)
    );

    // Either: future is judged as a due date, today and the past as a birth date.
    assert_eq!(check_plausible(plus(100), either, today), Ok(()));
    assert_eq!(check_plausible(minus(100), either, today), Ok(()));
    assert!(matches!(
        check_plausible(plus(400), either, today),
        Err(ImplausibleDate::DueTooFar { .. })
    ));
    assert!(matches!(
        check_plausible(d(2020, 1, 1), either, today),
        Err(ImplausibleDate::BirthTooOld { .. })
    ));
}

#[test]
fn three_years_ago_from_29_february_is_28_february() {
    let today = d(2028, 2, 29);
    assert_eq!(
        check_plausible(d(2025, 2, 28), DateExpectation::Birth, today),
        Ok(())
    );
    assert!(check_plausible(d(2025, 2, 27), DateExpectation::Birth, today).is_err());
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap(),
            ' ' => '\u{3000}',
            _ => c,
        })
        .collect()
}

/// Every form a full date can be written in; era forms only inside their era.
fn written_forms(date: NaiveDate) -> Vec<String> {
    let (y, m, day) = (date.year(), date.month(), date.day());
    let mut forms = vec![
        format!("{y}/{m}/{day}"),
        format!("{y}-{m:02}-{day:02}"),
        format!("{y}.{m}.{day}"),
        format!("{y}年{m}月{day}日"),
        format!("{y}{m:02}{day:02}"),
        format!("予定日は{y}/{m}/{day}です"),
    ];
    if date >= d(2019, 5, 1) {
        let r = y - 2018;
        let kanji_year = if r == 1 {
            "元".to_owned()
        } else {
            r.to_string()
        };
        forms.extend([
            format!("令和{kanji_year}年{m}月{day}日"),
            format!("R{r}.{m}.{day}"),
            format!("R{r}/{m}/{day}"),
            format!("r{r}年{m}月{day}日"),
        ]);
    }
    if date >= d(1989, 1, 8) && date <= d(2019, 4, 30) {
        let h = y - 1988;
        forms.extend([format!("H{h}.{m}.{day}"), format!("平成{h}年{m}月{day}日")]);
    }
    let wide: Vec<String> = forms.iter().map(|f| full_width(f)).collect();
    forms.extend(wide);
    forms
}

fn any_date(from: NaiveDate, to: NaiveDate) -> impl Strategy<Value = NaiveDate> {
    (0..=(to - from).num_days()).prop_map(move |n| from + chrono::Duration::days(n))
}

proptest! {
    #[test]
    fn every_written_form_parses_back(date in any_date(d(1989, 1, 8), d(2099, 12, 31))) {
        for form in written_forms(date) {
            for expectation in [DateExpectation::Due, DateExpectation::Birth, DateExpectation::Either] {
                prop_assert_eq!(parse_typed_date(&form, expectation, today()), Ok(date), "{:?}", form);
            }
        }
    }

    #[test]
    fn dates_without_a_year_land_on_the_expected_side(
        today in any_date(d(2020, 1, 1), d(2090, 12, 31)),
        offset in 0u64..365,
    ) {
        let due = today.checked_add_days(Days::new(offset)).unwrap();
        let birth = today.checked_sub_days(Days::new(offset)).unwrap();
        for (date, expectation) in [(due, DateExpectation::Due), (birth, DateExpectation::Birth)] {
            for form in [
                format!("{}月{}日", date.month(), date.day()),
                format!("{}/{}", date.month(), date.day()),
                full_width(&format!("{}/{}", date.month(), date.day())),
            ] {
                let parsed = parse_typed_date(&form, expectation, today);
                // 29 February may be more than a year away; everything else comes back exactly.
                if (date.month(), date.day()) != (2, 29) {
                    prop_assert_eq!(parsed, Ok(date), "{:?} on {}", form, today);
                } else {
                    prop_assert!(parsed.is_ok());
                }
            }
        }
    }

    #[test]
    fn parsing_never_panics(input in "\\PC{0,40}", today in any_date(d(2000, 1, 1), d(2100, 1, 1))) {
        let _ = parse_typed_date(&input, DateExpectation::Either, today);
    }

    #[test]
    fn digit_soup_never_panics(input in "[0-9０-９/年月日元令和RH .ー-]{0,30}") {
        let _ = parse_typed_date(&input, DateExpectation::Due, today());
    }
}
