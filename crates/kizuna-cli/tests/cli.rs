//! Runs the built `kizuna` binary like an operator would.

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

#[test]
fn check_passes_on_the_sample_pack() {
    let out = kizuna(&["content", "check", sample_content().to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(text.contains("kizuna-sample"), "{text}");
    assert!(text.contains("SAMPLE"), "{text}");
    assert!(text.contains("kizuna-town"), "{text}");
}

/// Each broken fixture, laid over a copy of the sample pack, must fail with exactly the
/// expected `file:line: message` (relative to the copied directory).
#[test]
fn check_fails_with_file_and_line_on_each_broken_fixture() {
    let cases = [
        ("missing-day", "base/pack.toml:35: no child message for day 1094"),
        (
            "unknown-placeholder",
            "municipalities/kizuna-town/more-notes.toml:5: unknown placeholder {weeks}",
        ),
        (
            "duplicate-key",
            "base/maternity.toml:424: duplicate maternity stage 12w3d (first defined at ",
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
        ("bad-date", "municipalities/kizuna-town/event.toml:3: TOML error"),
    ];
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for (fixture, expected) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("content");
        copy_dir(&sample_content(), &dir);
        copy_dir(&fixtures.join(fixture), &dir);
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
fn check_of_a_missing_directory_is_an_error() {
    let out = kizuna(&["content", "check", "/nonexistent/kizuna-content"]);
    assert!(!out.status.success());
}

#[test]
fn preview_text_shows_each_day_with_stage_and_message() {
    let content = sample_content();
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
        text.contains("2027-05-01（土） 妊娠40週0日  [maternity/40w0d, note/kodomo-festa-2027]"),
        "{text}"
    );
    assert!(text.contains("今日は出産予定日です。"), "{text}");
}

#[test]
fn preview_json_is_one_object_per_day_with_line_message_objects() {
    let content = sample_content();
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
    assert!(text.contains("ふたごの赤ちゃん"), "{text}");
    assert_eq!(days[1]["messages"].as_array().unwrap().len(), 0);
    assert_eq!(days[2]["messages"].as_array().unwrap().len(), 0);
    assert_eq!(days[3]["items"][0]["content_key"], "child/103");
}

#[test]
fn preview_html_is_a_self_contained_calendar_of_the_whole_programme() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("preview.html");
    let content = sample_content();
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
