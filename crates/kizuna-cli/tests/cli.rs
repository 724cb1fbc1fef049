//! Runs the built `kizuna` binary like an operator would.

mod pack_fixture;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kizuna(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kizuna"))
        .args(args)
        .output()
        .expect("run kizuna")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sample_content() -> PathBuf {
    repo().join("content")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The test pack in a temporary directory, with `fixture` (a directory of tests/fixtures) laid
/// over it.
fn pack_with(fixture: Option<&str>) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("content");
    pack_fixture::write_pack(&dir);
    if let Some(fixture) = fixture {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        copy_dir(&fixtures.join(fixture), &dir);
    }
    (tmp, dir)
}

#[test]
fn check_passes_on_a_clean_pack_and_names_it() {
    let (_tmp, dir) = pack_with(None);
    let out = kizuna(&["content", "check", "--strict", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(text.starts_with("ok: "), "no findings expected: {text}");
    assert!(text.contains("fixture"), "{text}");
    assert!(text.contains("SAMPLE"), "{text}");
    assert!(text.contains("kizuna-town"), "{text}");
}

/// Each broken fixture, laid over the test pack, must fail with exactly the expected
/// `file:line: message` (relative to the temporary directory) and nothing else: no cascade.
#[test]
fn check_fails_with_file_and_line_on_each_broken_fixture() {
    let cases = [
        (
            "missing-day",
            // Reported after day 1093, the last child text (line 505 + 5 × 33 + 2).
            "base/child.toml:672: no child message for day 1094 (day 1093 is here; scheduled by ",
        ),
        (
            "unknown-placeholder",
            "municipalities/kizuna-town/more-notes.toml:5: unknown placeholder {weeks}",
        ),
        (
            "duplicate-key",
            "base/maternity.toml:179: duplicate maternity stage 12w3d (first defined at ",
        ),
        ("bad-stage", "base/extra.toml:2: bad stage \"42w1d\""),
        (
            "over-long-text",
            "municipalities/kizuna-town/long.toml:4: text too long",
        ),
        ("toml-syntax", "base/broken.toml:3: TOML error"),
        (
            "bad-municipality-dir",
            "municipalities/Kizuna_Town/municipality.toml:1: \"Kizuna_Town\" is not a valid municipality directory name",
        ),
        ("unreadable-file", "base/latin1.toml:1: unreadable file"),
        (
            "bad-survey",
            "surveys/usefulness.toml:14: a choice question has 2 to 12 choices (one LINE button each), not 1",
        ),
        ("bad-date", "municipalities/kizuna-town/event.toml:3: TOML error"),
        // A typo'd key: the file is reported once, without "no closing message" and
        // "no birthday message" for what it holds.
        (
            "unknown-key",
            "base/closing-and-birthdays.toml:2: TOML error: unknown field `txt`",
        ),
        // A missing closing """: reported where the text opens, not where TOML gives up.
        (
            "unclosed-string",
            "base/closing-and-birthdays.toml:2: TOML error: the text that starts here is not closed: line 5 reads as part of it",
        ),
        (
            "missing-contact",
            "municipalities/kizuna-town/municipality.toml:1: the texts use {contact}: add a [contact] table",
        ),
        (
            "outdated-term",
            "municipalities/kizuna-town/old-name.toml:6: outdated term 「子育て世代包括支援センター」: write 「こども家庭センター」",
        ),
    ];
    for (fixture, expected) in cases {
        let (_tmp, dir) = pack_with(Some(fixture));
        let out = kizuna(&["content", "check", dir.to_str().unwrap()]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{fixture}: {text}");
        let prefix = format!("{}/", dir.display());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "{fixture}: expected one diagnostic, got:\n{text}"
        );
        assert!(
            lines[0].starts_with(&format!("{prefix}{expected}")),
            "{fixture}: expected `{prefix}{expected}…`, got:\n{text}"
        );
    }
}

#[test]
fn warnings_are_printed_but_fail_only_with_strict() {
    let (_tmp, dir) = pack_with(Some("repeated-sentence"));
    let expected = format!(
        "{0}/municipalities/kizuna-town/more-notes.toml:13: warning: same sentence as note id \"first\" ({0}/municipalities/kizuna-town/more-notes.toml:4): 「申し込みは保健センターの窓口へどうぞ」",
        dir.display()
    );
    let out = kizuna(&["content", "check", dir.to_str().unwrap()]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert_eq!(text.lines().next(), Some(expected.as_str()), "{text}");
    assert!(text.contains("ok: "), "{text}");

    let out = kizuna(&["content", "check", "--strict", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 warning(s)"));
}

#[test]
fn check_of_a_missing_directory_is_an_error() {
    let out = kizuna(&["content", "check", "/nonexistent/kizuna-content"]);
    assert!(!out.status.success());
}

#[test]
fn preview_text_shows_each_day_with_stage_and_message() {
    let (_tmp, content) = pack_with(None);
    let out = kizuna(&[
        "preview",
        "--due",
        "2027-05-01",
        "--from",
        "2027-04-30",
        "--days",
        "2",
        "--content",
        content.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let text = stdout(&out);
    // Due 2027-05-01 is 40w0d; the day before is 39w6d.
    assert!(
        text.contains("2027-04-30（金） 妊娠39週6日  [maternity/39w6d]"),
        "{text}"
    );
    // 2027-05-01 is also the first day of きずな町's May event window.
    assert!(
        text.contains("2027-05-01（土） 妊娠40週0日  [maternity/40w0d, note/festa]"),
        "{text}"
    );
    // The test pack's 40w0d text: "{week}週{day}日の280".
    assert!(text.contains("40週0日の280"), "{text}");
}

#[test]
fn preview_json_is_one_object_per_day_with_line_message_objects() {
    let (_tmp, content) = pack_with(None);
    // Born 2027-01-10: day 100 is 2027-04-20; 101 and 102 are not scheduled; 103 is.
    let out = kizuna(&[
        "preview",
        "--born",
        "2027-01-10",
        "--twins",
        "--from",
        "2027-04-20",
        "--days",
        "4",
        "--json",
        "--content",
        content.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let days: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(days.len(), 4);
    assert_eq!(days[0]["date"], "2027-04-20");
    assert_eq!(days[0]["items"][0]["content_key"], "child/100");
    assert_eq!(days[0]["messages"][0]["type"], "text");
    let text = days[0]["messages"][0]["text"].as_str().unwrap();
    assert_eq!(text, "ふたごのお子さんと（100）");
    assert_eq!(days[1]["messages"].as_array().unwrap().len(), 0);
    assert_eq!(days[2]["messages"].as_array().unwrap().len(), 0);
    assert_eq!(days[3]["items"][0]["content_key"], "child/103");
}

#[test]
fn preview_html_is_a_self_contained_calendar_of_the_whole_programme() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("preview.html");
    let (_pack, content) = pack_with(None);
    let out = kizuna(&[
        "preview",
        "--due",
        "2027-06-01",
        "--html",
        file.to_str().unwrap(),
        "--content",
        content.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 4w0d .. 41w6d plus the closing day.
    assert!(
        stdout(&out).contains("(267 days, 267 with messages)"),
        "{}",
        stdout(&out)
    );
    let html = std::fs::read_to_string(file).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("lang=\"ja\""));
    assert!(html.contains("<style>"));
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("src="));
    assert!(html.contains("サンプル"));
    assert!(html.contains("妊娠4週0日") && html.contains("妊娠41週6日"));
}

/// The repository's sample pack, whatever its wording, loads and previews from the first to
/// the last day of both programmes.
#[test]
fn preview_runs_on_the_repositorys_sample_pack() {
    let tmp = tempfile::tempdir().unwrap();
    for (subject, date) in [("--due", "2027-06-01"), ("--born", "2027-01-10")] {
        let file = tmp.path().join("preview.html");
        let out = kizuna(&[
            "preview",
            subject,
            date,
            "--html",
            file.to_str().unwrap(),
            "--content",
            sample_content().to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{subject}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(std::fs::read_to_string(&file).unwrap().contains("サンプル"));
    }
}

#[test]
fn preview_fills_the_towns_center_and_contact() {
    let (_tmp, dir) = pack_with(None);
    std::fs::write(
        dir.join("municipalities/kizuna-town/ask.toml"),
        "[[note]]\nid = \"ask\"\nchild_day = 30\ntext = \"\"\"\n{center}か、{contact}へ。\"\"\"\n",
    )
    .unwrap();
    // Born 2027-01-10: day 30 is 2027-02-09.
    let out = kizuna(&[
        "preview",
        "--born",
        "2027-01-10",
        "--from",
        "2027-02-09",
        "--days",
        "1",
        "--content",
        dir.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("きずな町こども家庭センターか、きずな町保健センター（電話 000-000-0000、平日 8時30分〜17時15分）へ。"),
        "{text}"
    );
}

/// The sample survey (open 2027-10-01 to 11-30, babies 60–180 days old) reaches a baby born
/// 2027-08-01 on the survey's first day, once, as the last object with the consent buttons.
#[test]
fn preview_shows_the_one_day_a_survey_reaches_the_parent() {
    let out = kizuna(&[
        "preview",
        "--born",
        "2027-08-01",
        "--from",
        "2027-09-28",
        "--days",
        "10",
        "--content",
        sample_content().to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert_eq!(text.matches("【アンケート】").count(), 1, "{text}");
    assert!(
        text.contains("2027-10-01（金） 生後61日  [child/61, survey/messages-2027]"),
        "{text}"
    );
    assert!(
        text.contains("【アンケート】 messages-2027（最後の吹き出しにボタン: 研究に使ってよい / 研究には使わないで）"),
        "{text}"
    );
    let json = kizuna(&[
        "preview",
        "--born",
        "2027-08-01",
        "--from",
        "2027-10-01",
        "--days",
        "1",
        "--json",
        "--content",
        sample_content().to_str().unwrap(),
    ]);
    let line: serde_json::Value = serde_json::from_str(stdout(&json).trim()).unwrap();
    assert_eq!(line["items"][1]["item"]["kind"], "survey");
    assert_eq!(line["items"][1]["item"]["id"], "messages-2027");
    assert_eq!(
        line["messages"][1]["quickReply"]["items"][0]["action"]["data"],
        "kizuna:v1:sv:messages-2027:research-consent:yes"
    );
}

#[test]
fn preview_rejects_both_or_neither_subject() {
    assert!(!kizuna(&["preview"]).status.success());
    assert!(
        !kizuna(&["preview", "--due", "2027-01-01", "--born", "2026-01-01"])
            .status
            .success()
    );
    assert!(!kizuna(&["preview", "--due", "2027-02-30"]).status.success());
}

#[test]
fn preview_in_another_language_marks_the_days_that_fall_back_to_japanese() {
    // The sample has English and やさしい日本語 texts for days 0–13 only.
    for (lang, day13) in [("en", "stool colour card"), ("ja-easy", "うんち の 色")] {
        let out = kizuna(&[
            "preview",
            "--born",
            "2027-01-10",
            "--from",
            "2027-01-23",
            "--days",
            "2",
            "--lang",
            lang,
            "--content",
            sample_content().to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = stdout(&out);
        assert!(text.contains("[child/13]"), "{lang}: {text}");
        assert!(text.contains(day13), "{lang}: {text}");
        assert!(text.contains("[child/14 ← ja]"), "{lang}: {text}");
        assert!(
            text.contains("産後2週間"),
            "{lang}: day 14 in Japanese: {text}"
        );
    }
    // Japanese (the default) marks nothing.
    let out = kizuna(&[
        "preview",
        "--born",
        "2027-01-10",
        "--from",
        "2027-01-24",
        "--days",
        "1",
        "--content",
        sample_content().to_str().unwrap(),
    ]);
    assert!(!stdout(&out).contains("← ja"));
    assert!(
        !kizuna(&["preview", "--born", "2027-01-10", "--lang", "fr"])
            .status
            .success()
    );
}

#[test]
fn content_check_reports_each_languages_coverage() {
    let out = kizuna(&[
        "content",
        "check",
        "--strict",
        sample_content().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    for lang in ["en", "ja-easy"] {
        assert!(
            text.contains(&format!(
                "{lang}: 14 of 266 maternity days, 14 of 267 child days, closing no, 3 of 3 birthdays; the rest falls back to Japanese"
            )),
            "{text}"
        );
    }
}

/// The shipped sample pack is what towns and reviewers read first: it passes the strict
/// check (every editorial warning is an error here), and every day's text is distinct.
#[test]
fn the_sample_pack_passes_the_strict_check() {
    let content = sample_content();
    let out = kizuna(&["content", "check", "--strict", content.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).contains("SAMPLE"), "{}", stdout(&out));
}
