//! `content check` beyond validity: the town placeholders `{center}`/`{contact}`, the editorial
//! checks, and diagnostics without cascades. Each case is a small broken fixture laid over a
//! minimal complete pack, with the exact `file:line: message` it must produce.

mod plan_support;

use kizuna_core::content::{CheckReport, ContentLibrary, SourceFile};
use kizuna_core::plan::plan_household;
use kizuna_core::{Message, MunicipalityId};
use plan_support::{child, d, file, household, minimal_base};

/// A complete pack whose texts are all different and short (no warnings), with multi-line
/// strings like a real pack. The entry for child day N starts at line 5N + 1 of child.toml,
/// its `text = """` on line 5N + 3 and its text on line 5N + 4; maternity stage for
/// gestational day G: `stage` on line 3(G − 28) + 2.
fn base() -> Vec<SourceFile> {
    minimal_base(
        |day| format!("{{week}}週{{day}}日の{day}"),
        |day| format!("[[child]]\nday = {day}\ntext = \"\"\"\n{{age_days}}日目（{day}）\"\"\"\n\n"),
    )
}

/// Replaces the text of child day `day` in `files` (the `base()` layout).
fn set_child_text(files: &mut [SourceFile], day: u16, text: &str) {
    let old = format!("day = {day}\ntext = \"\"\"\n{{age_days}}日目（{day}）\"\"\"");
    let new = format!("day = {day}\ntext = \"\"\"\n{text}\"\"\"");
    let child = files
        .iter_mut()
        .find(|f| f.path == "base/child.toml")
        .unwrap();
    assert!(child.text.contains(&old));
    child.text = child.text.replace(&old, &new);
}

fn set_maternity_text(files: &mut [SourceFile], stage: &str, text: &str) {
    let m = files
        .iter_mut()
        .find(|f| f.path == "base/maternity.toml")
        .unwrap();
    let at = m.text.find(&format!("stage = \"{stage}\"\n")).unwrap();
    let line_end = at + m.text[at..].find("\ntext = ").unwrap();
    let text_end = line_end + 1 + m.text[line_end + 1..].find('\n').unwrap();
    m.text
        .replace_range(line_end + 1..text_end, &format!("text = \"{text}\""));
}

const TOWN: &str = "display_name = \"海士町\"\nkodomo_center = \"海士町こども家庭センター\"\n\n[contact]\nname = \"海士町保健センター\"\nphone = \"000-000-0000\"\nhours = \"平日 8時30分〜17時15分\"\n";

fn check(files: Vec<SourceFile>) -> (Vec<String>, Vec<String>) {
    let CheckReport {
        errors, warnings, ..
    } = ContentLibrary::check_files(files);
    (
        errors.iter().map(ToString::to_string).collect(),
        warnings.iter().map(ToString::to_string).collect(),
    )
}

#[test]
fn the_base_fixture_is_clean() {
    // Guards every case below: what they report comes from their change alone.
    assert_eq!(check(base()), (vec![], vec![]));
}

// ── Town placeholders ──────────────────────────────────────────────────────────────────

#[test]
fn town_placeholders_are_filled_in_the_daily_plan_from_the_overlay_or_with_fallbacks() {
    let mut files = base();
    set_child_text(&mut files, 7, "困ったら{center}へ。\n{contact}");
    files.push(file("municipalities/ama-town/municipality.toml", TOWN));
    files.push(file(
        "municipalities/ama-town/notes.toml",
        "[[note]]\nid = \"call\"\nchild_day = 7\ntext = \"電話は{contact}\"\n",
    ));
    let library = ContentLibrary::from_files(files).unwrap();
    let born = d(2027, 1, 10);
    let day7 = d(2027, 1, 17);

    let ama = library.for_municipality(&MunicipalityId::parse("ama-town").unwrap());
    let plan = plan_household(&household(vec![child(1, born)]), day7, &ama);
    let texts: Vec<&str> = plan
        .messages
        .iter()
        .map(|m| {
            let Message::Text { text, .. } = m;
            text.as_str()
        })
        .collect();
    assert_eq!(
        texts,
        [
            "困ったら海士町こども家庭センターへ。\n海士町保健センター（電話 000-000-0000、平日 8時30分〜17時15分）",
            "電話は海士町保健センター（電話 000-000-0000、平日 8時30分〜17時15分）\n（海士町より）",
        ]
    );

    // A town without an overlay reads wording that is true anywhere.
    let other = library.for_municipality(&MunicipalityId::parse("other-town").unwrap());
    let plan = plan_household(&household(vec![child(1, born)]), day7, &other);
    let Message::Text { text, .. } = &plan.messages[0];
    assert_eq!(
        text,
        "困ったらお住まいのまちのこども家庭センターへ。\nお住まいのまちの子育て相談窓口"
    );
}

#[test]
fn check_requires_the_town_fields_the_texts_use_but_the_sender_falls_back() {
    let mut files = base();
    set_child_text(&mut files, 7, "困ったら{center}へ。\n{contact}");
    files.push(file(
        "municipalities/ama-town/municipality.toml",
        "display_name = \"海士町\"\n",
    ));
    let (errors, _) = check(files.clone());
    assert_eq!(
        errors,
        [
            "municipalities/ama-town/municipality.toml:1: the texts use {center}: add `kodomo_center = \"…\"` (e.g. kodomo_center = \"きずな町こども家庭センター\")",
            "municipalities/ama-town/municipality.toml:1: the texts use {contact}: add a [contact] table with name, phone and hours (see docs/content-authoring.md)",
        ]
    );
    // The sender is not stopped by it: those parents read the fallback wording.
    assert!(ContentLibrary::from_files(files).is_ok());
}

#[test]
fn town_fields_are_validated_where_they_are_written() {
    let mut files = base();
    files.push(file(
        "municipalities/ama-town/municipality.toml",
        "display_name = \"海士町\"\nkodomo_center = \"とてもとてもとてもとてもとてもとてもとても長いこども家庭センター\"\n\n[contact]\nname = \"海士町保健センター\"\nphone = \"03-abc-0000\"\n",
    ));
    files.push(file(
        "municipalities/ama-town/notes.toml",
        "kodomo_center = \"ここではない\"\n",
    ));
    let (errors, _) = check(files);
    assert_eq!(
        errors,
        [
            "municipalities/ama-town/municipality.toml:2: kodomo_center is longer than 30 characters",
            "municipalities/ama-town/municipality.toml:4: [contact] needs `hours = \"…\"`",
            "municipalities/ama-town/municipality.toml:6: [contact] phone \"03-abc-0000\" is not a phone number: write digits and hyphens, like \"0123-45-6789\" or \"#8000\"",
            "municipalities/ama-town/notes.toml:1: kodomo_center belongs in municipality.toml",
        ]
    );
}

#[test]
fn national_short_numbers_are_valid_phone_numbers() {
    let mut files = base();
    files.push(file(
        "municipalities/ama-town/municipality.toml",
        &TOWN.replace("000-000-0000", "#8000"),
    ));
    assert_eq!(check(files), (vec![], vec![]));
}

// ── Editorial checks ───────────────────────────────────────────────────────────────────

#[test]
fn the_same_sentence_on_two_days_is_a_warning_naming_both() {
    let mut files = base();
    set_child_text(
        &mut files,
        3,
        "今日はよく眠れましたか。\nほっとできる時間がありますように。",
    );
    set_child_text(
        &mut files,
        5,
        "抱っこしていますか。\nほっとできる時間がありますように！",
    );
    let (errors, warnings) = check(files);
    assert!(errors.is_empty(), "{errors:?}");
    // Day 5's text starts on line 5 × 5 + 4 + 1 (day 3's text gained a line); the sentence is
    // its second line.
    assert_eq!(
        warnings,
        ["base/child.toml:31: warning: same sentence as child day 3 (base/child.toml:18): 「ほっとできる時間がありますように」"]
    );
}

#[test]
fn a_word_repeated_in_one_text_is_a_warning_at_its_second_use() {
    let mut files = base();
    set_child_text(
        &mut files,
        3,
        "{baby}の寝顔を見ながら、ほっとひと息つけますように。\nひと息つける時間がありますように。",
    );
    set_child_text(&mut files, 100, "生後100日になりました。\n生後100日。");
    let (errors, warnings) = check(files);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        warnings,
        [
            // Day 3's second line (5 × 3 + 5), and day 100's (5 × 100 + 5, + 1 for day 3).
            "base/child.toml:20: warning: 「ひと息」 is used more than once in this text",
            "base/child.toml:506: warning: 「生後100日」 is used more than once in this text",
        ]
    );
}

#[test]
fn numbers_that_contradict_the_day_are_errors() {
    let mut files = base();
    set_maternity_text(
        &mut files,
        "20w3d",
        "妊娠19週です。妊娠24週からは健診が2週間ごとに。",
    );
    set_child_text(&mut files, 40, "生後3か月になりました。");
    set_child_text(
        &mut files,
        10,
        "生後12日目です。生後2か月から予防接種が始まります。",
    );
    let (errors, warnings) = check(files);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        errors,
        [
            "base/child.toml:54: 「生後12日」 on child day 10: write 生後{age_days}日, or mark another time with から/ごろ/まで",
            "base/child.toml:204: 「生後3か月」 on child day 40 (about 1 months): write the age of this day, or mark another time with から/ごろ/まで",
            // 20w3d is gestational day 143: line 3 × 115 + 3.
            "base/maternity.toml:348: 「妊娠19週」 on a day of week 20: write 妊娠{week}週, or mark another time with から/ごろ/まで",
        ]
    );
}

#[test]
fn outdated_terms_are_errors_with_their_replacement() {
    let mut files = base();
    set_child_text(
        &mut files,
        20,
        "気になることは、\n子育て世代包括支援センターへ。母子手帳も持って。",
    );
    let (errors, _) = check(files.clone());
    assert_eq!(
        errors,
        ["base/child.toml:105: outdated term 「子育て世代包括支援センター」: write 「こども家庭センター」 (renamed in April 2024, 改正児童福祉法)"]
    );
    // The sender does not stop for it (that is for the next upload to fix).
    assert!(ContentLibrary::from_files(files).is_ok());
}

#[test]
fn a_text_long_for_line_with_the_longest_town_values_is_a_warning() {
    let mut files = base();
    files.push(file("municipalities/ama-town/municipality.toml", TOWN));
    // 260 distinct characters, then {contact}: 260 + 42 (海士町保健センター（電話 …）) > 300.
    let long: String = (0..260)
        .map(|i| char::from_u32(0x4E00 + i * 7).unwrap())
        .collect();
    set_child_text(&mut files, 50, &format!("{long}{{contact}}"));
    let (errors, warnings) = check(files.clone());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        warnings,
        ["base/child.toml:253: warning: long for LINE: up to 302 characters with the longest town values (aim for at most 300)"]
    );
    // Warnings do not stop the pack.
    assert!(ContentLibrary::check_files(files).library.is_some());
}

// ── Diagnostics without cascades ───────────────────────────────────────────────────────

#[test]
fn an_unknown_key_reports_the_file_once_without_a_coverage_cascade_and_other_files_still_count() {
    let mut files = base();
    let m = &mut files[1];
    m.text = m.text.replacen("text = ", "txt = ", 1);
    // Another file's problem is still reported in the same run.
    files.push(file(
        "base/extra.toml",
        "[[child]]\nday = 2000\ntext = \"x\"\n",
    ));
    let (errors, _) = check(files);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].starts_with("base/extra.toml:2: child day 2000 is after the programme"),
        "{errors:#?}"
    );
    assert!(
        errors[1].starts_with("base/maternity.toml:3: TOML error: unknown field `txt`")
            && errors[1].ends_with("(this file could not be read, so its texts are not checked)"),
        "{errors:#?}"
    );
}

#[test]
fn a_missing_closing_triple_quote_is_reported_where_the_text_opens() {
    let mut files = base();
    // Day 7's text opens on line 38 and loses its closing """; day 8's `[[child]]` (line 41)
    // becomes part of it.
    let c = &mut files[2];
    c.text = c.text.replace("（7）\"\"\"", "（7）");
    let (errors, _) = check(files);
    assert_eq!(
        errors,
        ["base/child.toml:38: TOML error: the text that starts here is not closed: line 41 reads as part of it (end the text with \"\"\"); this file could not be read, so its texts are not checked"]
    );
}

#[test]
fn an_over_long_display_name_does_not_hide_the_towns_other_errors() {
    let mut files = base();
    files.push(file(
        "municipalities/ama-town/municipality.toml",
        &format!("display_name = \"{}\"\n", "長".repeat(5000)),
    ));
    files.push(file(
        "municipalities/ama-town/notes.toml",
        "[[note]]\nid = \"x\"\nchild_day = 7\ntext = \"{weeks}\"\n",
    ));
    let (errors, _) = check(files);
    assert_eq!(
        errors,
        [
            "municipalities/ama-town/municipality.toml:1: display_name is longer than 20 characters",
            "municipalities/ama-town/notes.toml:4: unknown placeholder {weeks} (known: {municipality} {baby} {child} {center} {contact})",
        ]
    );
}

#[test]
fn a_gap_is_reported_at_the_neighbouring_text_in_its_file() {
    let mut files = base();
    let c = &mut files[2];
    c.text = c.text.replace(
        "[[child]]\nday = 50\ntext = \"\"\"\n{age_days}日目（50）\"\"\"\n\n",
        "",
    );
    let (errors, _) = check(files);
    // Day 49's `day =` line: 5 × 49 + 2.
    assert_eq!(
        errors,
        ["base/child.toml:247: no child message for day 50 (day 49 is here)"]
    );
}

#[test]
fn a_missing_birthday_is_reported_beside_the_other_birthdays() {
    let mut files = base();
    let other = &mut files[3];
    other.text = other
        .text
        .replace("[[birthday]]\nage = 2\ntext = \"2歳\"\n", "");
    let (errors, _) = check(files);
    // base/other.toml: [closing] on lines 1–2, birthday 1's `age` on line 4.
    assert_eq!(errors, ["base/other.toml:4: no birthday message for age 2"]);
}
