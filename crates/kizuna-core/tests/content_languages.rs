//! Language packs (`lang/<code>/`): a household reading another language gets that language's
//! text on the days its pack has one and the Japanese base text on every other day; packs are
//! validated like the base; coverage is reported per language.

mod plan_support;

use kizuna_core::content::{ContentLibrary, SourceFile};
use kizuna_core::plan::plan_household;
use kizuna_core::{Household, Language, Message};
use plan_support::{child, d, file, household, minimal_base, pregnancy, sample, town};

fn base() -> Vec<SourceFile> {
    minimal_base(
        |day| format!("妊娠{{week}}週の{day}"),
        |day| format!("[[child]]\nday = {day}\ntext = \"生後{{age_days}}日（{day}）\"\n"),
    )
}

fn in_language(mut h: Household, language: Language) -> Household {
    h.language = language;
    h
}

fn text_of(m: &Message) -> &str {
    let Message::Text { text, .. } = m;
    text
}

const EN: &str = "[[child]]\nday = 3\ntext = \"Your baby is {age_days} days old.\"\n\n[[maternity]]\nstage = \"5w0d\"\ntext = \"You are in week {week}.\"\n\n[[birthday]]\nage = 1\ntext = \"Happy 1st birthday.\"\n";

#[test]
fn each_day_is_in_the_households_language_where_the_pack_has_it_and_japanese_otherwise() {
    let mut files = base();
    files.push(file("lang/en/sample.toml", EN));
    let library = ContentLibrary::from_files(files).unwrap();
    let content = library.for_municipality(&town());
    let born = d(2027, 1, 10);
    let english = in_language(household(vec![child(1, born)]), Language::English);
    let japanese = household(vec![child(1, born)]);
    let easy = in_language(household(vec![child(1, born)]), Language::EasyJapanese);

    let day3 = d(2027, 1, 13);
    let plan = plan_household(&english, day3, &content);
    assert_eq!(text_of(&plan.messages[0]), "Your baby is 3 days old.");
    // The same day in Japanese, and in a language without a pack: the base.
    let plan = plan_household(&japanese, day3, &content);
    assert_eq!(text_of(&plan.messages[0]), "生後3日（3）");
    let plan = plan_household(&easy, day3, &content);
    assert_eq!(text_of(&plan.messages[0]), "生後3日（3）");
    // Day 4 has no English text: Japanese, for the English household too.
    let plan = plan_household(&english, d(2027, 1, 14), &content);
    assert_eq!(text_of(&plan.messages[0]), "生後4日（4）");

    // Birthdays and maternity days fall back the same way.
    let plan = plan_household(&english, d(2028, 1, 10), &content);
    assert_eq!(text_of(&plan.messages[0]), "Happy 1st birthday.");
    let due = d(2027, 9, 1);
    let pregnant = in_language(
        household(vec![pregnancy(1, due, d(2027, 1, 1))]),
        Language::English,
    );
    let week5 = due - chrono::Days::new(280 - 35);
    let plan = plan_household(&pregnant, week5, &content);
    assert_eq!(text_of(&plan.messages[0]), "You are in week 5.");
    let plan = plan_household(&pregnant, week5 + chrono::Days::new(1), &content);
    assert_eq!(text_of(&plan.messages[0]), "妊娠5週の36");

    // What preview marks: which keys come from the pack.
    let en = content.in_language(Language::English);
    assert!(en.is_translated("child/3"));
    assert!(!en.is_translated("child/4"));
    assert!(en.is_translated("maternity/5w0d"));
    assert!(!en.is_translated("maternity/5w1d"));
    assert!(en.is_translated("birthday/1"));
    assert!(!en.is_translated("birthday/2"));
    assert!(!en.is_translated("closing"));
    assert!(
        !content.is_translated("child/3"),
        "Japanese is never a translation"
    );
}

#[test]
fn coverage_counts_each_languages_days() {
    let mut files = base();
    files.push(file("lang/en/sample.toml", EN));
    let library = ContentLibrary::from_files(files).unwrap();
    assert_eq!(library.languages().collect::<Vec<_>>(), [Language::English]);
    let c = library.coverage(Language::English).unwrap();
    assert_eq!((c.maternity_days, c.maternity_total), (1, 266));
    assert_eq!((c.child_days, c.child_total), (1, 101));
    assert_eq!((c.closing, c.birthdays), (false, 1));
    assert_eq!(library.coverage(Language::EasyJapanese), None);

    // The repository's sample: weeks 4–5 and days 0–13 in both languages, all birthdays.
    for language in [Language::English, Language::EasyJapanese] {
        let c = sample().coverage(language).expect("sample pack");
        assert_eq!(c.maternity_days, 14, "{language:?}");
        assert_eq!(c.child_days, 14, "{language:?}");
        assert_eq!(c.birthdays, 3, "{language:?}");
    }
}

#[test]
fn language_packs_are_validated_like_the_base() {
    let cases: [(&str, &str, &str); 6] = [
        (
            "lang/en/a.toml",
            "[[child]]\nday = 3\ntext = \"Hello {nme}.\"\n",
            "lang/en/a.toml:3: unknown placeholder {nme}",
        ),
        (
            "lang/en/a.toml",
            "[[child]]\nday = 150\ntext = \"Hello.\"\n",
            "lang/en/a.toml:2: child day 150 is not a scheduled day",
        ),
        (
            "lang/en/a.toml",
            "[[maternity]]\nstage = \"3w0d\"\ntext = \"Hello.\"\n",
            "lang/en/a.toml:2: bad stage \"3w0d\"",
        ),
        (
            "lang/en/a.toml",
            "[[child]]\nday = 3\ntext = \"a\"\n\n[[child]]\nday = 3\ntext = \"b\"\n",
            "lang/en/a.toml:6: duplicate child day 3 (first defined at lang/en/a.toml:2)",
        ),
        (
            "lang/fr/a.toml",
            "[[child]]\nday = 3\ntext = \"Bonjour.\"\n",
            "lang/fr/a.toml:1: \"fr\" is not a language Kizuna knows",
        ),
        (
            "lang/en/a.toml",
            "[[note]]\nid = \"x\"\nchild_day = 3\ntext = \"x\"\n",
            "lang/en/a.toml:1: [[note]] does not belong in a language pack",
        ),
    ];
    for (path, text, expected) in cases {
        let mut files = base();
        files.push(file(path, text));
        let errors = ContentLibrary::from_files(files).expect_err(expected);
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(
            errors.iter().any(|e| e.starts_with(expected)),
            "{expected} not in {errors:?}"
        );
    }
}

#[test]
fn the_english_number_check_reads_week_and_age_in_english() {
    let mut files = base();
    files.push(file(
        "lang/en/a.toml",
        "[[maternity]]\nstage = \"5w0d\"\ntext = \"You are in week 7.\"\n\n[[child]]\nday = 3\ntext = \"Your baby is 9 days old.\"\n",
    ));
    let report = ContentLibrary::check_files(files);
    let errors: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with("lang/en/a.toml:3: \"week 7\" on a day of week 5"),
        "{errors:?}"
    );
    assert!(
        errors[1].starts_with("lang/en/a.toml:7: \"9 days old\" on child day 3"),
        "{errors:?}"
    );
    // The same numbers written for another time pass.
    let mut files = base();
    files.push(file(
        "lang/en/a.toml",
        "[[maternity]]\nstage = \"5w0d\"\ntext = \"From week 7, things ease.\"\n",
    ));
    assert!(ContentLibrary::check_files(files).errors.is_empty());
}
