//! `kizuna notice add|list|remove` on a temporary copy of the repository's content/: what each
//! writes to the town's notes.toml, and that an invalid change is refused with `file:line`
//! messages and leaves the file byte-for-byte unchanged.

use kizuna_cli::commands::notice::{self, AddArgs, Target};
use kizuna_core::MunicipalityId;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// A copy of content/ (the sample pack and きずな町's overlay).
fn content_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("content");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content"),
        &dir,
    );
    (tmp, dir)
}

fn target(dir: &Path) -> Target {
    Target {
        municipality: MunicipalityId::parse("kizuna-town").unwrap(),
        dir: dir.to_path_buf(),
    }
}

fn args(dir: &Path, id: &str) -> AddArgs {
    AddArgs {
        target: target(dir),
        id: id.into(),
        child_days: None,
        stages: None,
        dates: None,
        text_file: None,
    }
}

fn notes(dir: &Path) -> PathBuf {
    dir.join("municipalities/kizuna-town/notes.toml")
}

fn out_of(f: impl FnOnce(&mut Vec<u8>) -> anyhow::Result<ExitCode>) -> (ExitCode, String) {
    let mut out = Vec::new();
    let code = f(&mut out).unwrap();
    (code, String::from_utf8(out).unwrap())
}

const CHECKUP: &str =
    "1月の4か月児健診は、1月20日（水）に保健センターでおこないます。\n持ち物は母子健康手帳です。\n";

#[test]
fn add_appends_a_checked_note_that_list_shows_and_remove_deletes() {
    let (_tmp, dir) = content_copy();
    let before = std::fs::read_to_string(notes(&dir)).unwrap();

    let mut a = args(&dir, "checkup-2027-01");
    a.child_days = Some("90..120".into());
    let (code, printed) = out_of(|out| notice::add(&a, CHECKUP, out));
    assert_eq!(code, ExitCode::SUCCESS, "{printed}");
    assert!(
        printed.contains("added notice checkup-2027-01"),
        "{printed}"
    );
    let after = std::fs::read_to_string(notes(&dir)).unwrap();
    // Appended: everything the clerk wrote before (comments included) is kept as it was.
    assert!(after.starts_with(&before));
    assert!(after.ends_with(
        "[[note]]\nid = \"checkup-2027-01\"\nchild_days = [90, 120]\ntext = \"\"\"\n1月の4か月児健診は、1月20日（水）に保健センターでおこないます。\n持ち物は母子健康手帳です。\"\"\"\n"
    ), "{after}");

    // Stage and date windows, and the single forms.
    let mut a = args(&dir, "class-reminder");
    a.stages = Some("20w0d..23w6d".into());
    assert_eq!(
        out_of(|o| notice::add(&a, "両親学級は毎月第2土曜日です。", o)).0,
        ExitCode::SUCCESS
    );
    let mut a = args(&dir, "new-year");
    a.dates = Some("2027-01-01..2027-01-31".into());
    assert_eq!(
        out_of(|o| notice::add(&a, "今年もよろしくお願いします。", o)).0,
        ExitCode::SUCCESS
    );
    let mut a = args(&dir, "festa-day");
    a.dates = Some("2027-05-16".into());
    assert_eq!(
        out_of(|o| notice::add(&a, "今日はこどもフェスタです。", o)).0,
        ExitCode::SUCCESS
    );
    let text = std::fs::read_to_string(notes(&dir)).unwrap();
    assert!(text.contains("stages = [\"20w0d\", \"23w6d\"]"));
    assert!(text.contains("dates = [2027-01-01, 2027-01-31]"));
    assert!(text.contains("date = 2027-05-16"));

    let (code, listed) = out_of(|o| notice::list(&target(&dir), o));
    assert_eq!(code, ExitCode::SUCCESS);
    for line in [
        "checkup-2027-01",
        "child days 90..120",
        "stages 20w0d..23w6d",
        "dates 2027-01-01..2027-01-31",
        "date 2027-05-16",
        "1月の4か月児健診は",
        // The sample's own notes too.
        "four-month-checkup",
        "8 notice(s) for kizuna-town",
    ] {
        assert!(listed.contains(line), "{line}: {listed}");
    }

    // Removing every added note gives back the file as it was.
    for id in ["festa-day", "class-reminder", "new-year", "checkup-2027-01"] {
        let (code, printed) = out_of(|o| notice::remove(&target(&dir), id, o));
        assert_eq!(code, ExitCode::SUCCESS, "{printed}");
    }
    assert_eq!(std::fs::read_to_string(notes(&dir)).unwrap(), before);
    let (code, printed) = out_of(|o| notice::remove(&target(&dir), "checkup-2027-01", o));
    assert_eq!(code, ExitCode::from(1));
    assert!(printed.contains("no notice"), "{printed}");
}

#[test]
fn an_invalid_notice_is_refused_with_file_line_and_the_file_is_unchanged() {
    let (_tmp, dir) = content_copy();
    let before = std::fs::read_to_string(notes(&dir)).unwrap();
    let appended_line = before.lines().count() + 2;
    // Each case gets one thing the pack's check refuses.
    let mut duplicate = args(&dir, "four-month-checkup");
    duplicate.child_days = Some("90..120".into());
    let mut unscheduled = args(&dir, "odd-day");
    unscheduled.child_days = Some("101".into());
    let mut reversed = args(&dir, "backwards");
    reversed.dates = Some("2027-01-31..2027-01-01".into());
    let mut placeholder = args(&dir, "bad-placeholder");
    placeholder.stages = Some("20w0d".into());
    for (a, text) in [
        (&duplicate, CHECKUP),
        (&unscheduled, CHECKUP),
        (&reversed, CHECKUP),
        (&placeholder, "{nosuchfield}にお越しください。"),
    ] {
        let (code, printed) = out_of(|o| notice::add(a, text, o));
        assert_eq!(code, ExitCode::from(1), "{}: {printed}", a.id);
        assert!(printed.contains("notes.toml:"), "{}: {printed}", a.id);
        assert!(printed.contains("is unchanged"), "{}: {printed}", a.id);
        assert_eq!(
            std::fs::read_to_string(notes(&dir)).unwrap(),
            before,
            "{}",
            a.id
        );
    }
    // The message points into the appended block.
    let (_, printed) = out_of(|o| notice::add(&duplicate, CHECKUP, o));
    assert!(
        (appended_line..appended_line + 4).any(|l| printed.contains(&format!("notes.toml:{l}:"))),
        "line {appended_line}: {printed}"
    );
    // Malformed flags never reach the file.
    let mut bad = args(&dir, "x");
    bad.stages = Some("twenty weeks".into());
    let mut out = Vec::new();
    assert!(notice::add(&bad, CHECKUP, &mut out).is_err());
    let mut bad = args(&dir, "x\"]\nid = \"y");
    bad.child_days = Some("30".into());
    assert!(notice::add(&bad, CHECKUP, &mut out).is_err());
    assert!(notice::add(&args(&dir, "empty"), "  \n", &mut out).is_err());
    assert_eq!(std::fs::read_to_string(notes(&dir)).unwrap(), before);
}

#[test]
fn add_creates_notes_toml_when_the_overlay_has_none() {
    let (_tmp, dir) = content_copy();
    std::fs::remove_file(notes(&dir)).unwrap();
    let mut a = args(&dir, "checkup");
    a.child_days = Some("120..150".into());
    let (code, printed) = out_of(|o| notice::add(&a, "\"健診\"のご案内です。\\", o));
    assert_eq!(code, ExitCode::SUCCESS, "{printed}");
    let text = std::fs::read_to_string(notes(&dir)).unwrap();
    assert!(text.starts_with("[[note]]\nid = \"checkup\"\n"), "{text}");
    // Quotes and backslashes survive the TOML round trip.
    let (_, listed) = out_of(|o| notice::list(&target(&dir), o));
    assert!(listed.contains("\"健診\"のご案内です。\\"), "{listed}");
    assert!(listed.contains("1 notice(s)"), "{listed}");
}
