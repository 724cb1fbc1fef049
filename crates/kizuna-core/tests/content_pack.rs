//! Content packs from in-memory files (as the sender reads them from S3): validation with
//! `file:line`, overlays, digests.

use kizuna_core::content::{ContentLibrary, Diagnostic, SourceFile, TextSource};
use kizuna_core::MunicipalityId;

/// A minimal complete pack: one text per scheduled day, no schedule after day 100.
fn minimal_base() -> Vec<SourceFile> {
    let mut maternity = String::new();
    for day in 28..=293u16 {
        maternity.push_str(&format!(
            "[[maternity]]\nstage = \"{}w{}d\"\ntext = \"妊娠{{week}}週{{day}}日\"\n",
            day / 7,
            day % 7
        ));
    }
    let mut child = String::new();
    for day in 0..=100 {
        child.push_str(&format!(
            "[[child]]\nday = {day}\ntext = \"生後{{age_days}}日\"\n"
        ));
    }
    child.push_str("[closing]\ntext = \"おしまい\"\n");
    for age in 1..=3 {
        child.push_str(&format!(
            "[[birthday]]\nage = {age}\ntext = \"{{age}}歳\"\n"
        ));
    }
    vec![
        file("base/pack.toml", "id = \"t\"\nversion = \"1\"\n"),
        file("base/maternity.toml", &maternity),
        file("base/child.toml", &child),
    ]
}

fn file(path: &str, text: &str) -> SourceFile {
    SourceFile {
        path: path.to_owned(),
        text: text.to_owned(),
    }
}

fn errors(files: Vec<SourceFile>) -> Vec<String> {
    ContentLibrary::from_files(files)
        .expect_err("should not load")
        .iter()
        .map(Diagnostic::to_string)
        .collect()
}

#[test]
fn a_complete_minimal_pack_loads() {
    let library = ContentLibrary::from_files(minimal_base()).unwrap();
    assert_eq!(library.pack_id(), "t");
    assert!(!library.is_sample());
    assert_eq!(library.scheduled_child_days().count(), 101);
    assert_eq!(library.version().len(), 64);
}

#[test]
fn digest_changes_with_any_byte_and_ignores_file_order() {
    let a = ContentLibrary::from_files(minimal_base()).unwrap();
    let mut reversed = minimal_base();
    reversed.reverse();
    assert_eq!(
        a.version(),
        ContentLibrary::from_files(reversed).unwrap().version()
    );
    let mut changed = minimal_base();
    changed[0].text.push('\n');
    assert_ne!(
        a.version(),
        ContentLibrary::from_files(changed).unwrap().version()
    );
}

#[test]
fn schedule_rules_require_messages_on_every_scheduled_day() {
    let mut files = minimal_base();
    files[0]
        .text
        .push_str("\n[[child_schedule]]\nfrom_day = 110\nto_day = 130\nevery_days = 10\n");
    // Reported after the last child text (day 100 at child.toml:302), where they belong, naming
    // the rule that scheduled them.
    assert_eq!(
        errors(files.clone()),
        ["base/child.toml:302: no child message for scheduled days 110–130 (day 100 is here; scheduled by base/pack.toml:4)"]
    );
    files.push(file(
        "base/later.toml",
        "[[child]]\nday = 110\ntext = \"a\"\n[[child]]\nday = 120\ntext = \"b\"\n[[child]]\nday = 130\ntext = \"c\"\n[[child]]\nday = 111\ntext = \"d\"\n",
    ));
    assert_eq!(
        errors(files),
        ["base/later.toml:11: child day 111 is not a scheduled day (see child_schedule in base/pack.toml)"]
    );
}

#[test]
fn missing_stages_are_reported_as_ranges() {
    let mut files = minimal_base();
    let text = files[1]
        .text
        .replace("stage = \"12w3d\"", "stage = \"12w2d\"");
    files[1].text = text;
    let errs = errors(files);
    assert!(
        errs.iter().any(|e| e.starts_with("base/maternity.toml:")
            && e.contains("duplicate maternity stage 12w2d")),
        "{errs:?}"
    );
    // The gap is reported at its neighbour 12w2d (gestational day 86, line 3 × 58 + 2).
    assert!(
        errs.contains(
            &"base/maternity.toml:176: no maternity message for stage 12w3d (12w2d is here)"
                .to_owned()
        ),
        "{errs:?}"
    );
}

#[test]
fn overlay_birthdays_override_and_notes_validate_placeholders_by_kind() {
    let mut files = minimal_base();
    files.push(file(
        "municipalities/ama-town/municipality.toml",
        "display_name = \"海士町\"\n",
    ));
    files.push(file(
        "municipalities/ama-town/extra.toml",
        "[[birthday]]\nage = 2\ntext = \"{municipality}から{age}歳のお祝い\"\n",
    ));
    let library = ContentLibrary::from_files(files.clone()).unwrap();
    let ama = library.for_municipality(&MunicipalityId::parse("ama-town").unwrap());
    assert_eq!(ama.display_name(), Some("海士町"));
    assert_eq!(ama.birthday(2).unwrap().1, TextSource::Municipality);
    assert_eq!(ama.birthday(1).unwrap().1, TextSource::Base);

    files.push(file(
        "municipalities/ama-town/notes.toml",
        "[[note]]\nid = \"a\"\ndate = 2027-05-05\ntext = \"\"\"\n{baby}へ\n\"\"\"\n\n[[note]]\nid = \"b\"\nchild_days = [50, 40]\ntext = \"x\"\n\n[[note]]\nid = \"c\"\nchild_day = 10\nstage = \"5w0d\"\ntext = \"x\"\n",
    ));
    assert_eq!(
        errors(files),
        [
            "municipalities/ama-town/notes.toml:5: placeholder {baby} cannot be used in a calendar-date note",
            "municipalities/ama-town/notes.toml:10: the window ends before it starts",
            "municipalities/ama-town/notes.toml:14: a note needs exactly one of stage, stages, child_day, child_days, date, dates",
        ]
    );
}

#[test]
fn misplaced_and_misnamed_files_are_reported() {
    let mut files = minimal_base();
    files.push(file(
        "municipalities/Ama/municipality.toml",
        "display_name = \"x\"\n",
    ));
    files.push(file("stray.toml", "x = 1\n"));
    files.push(file(
        "municipalities/ama/notes.toml",
        "[[maternity]]\nstage = \"5w0d\"\ntext = \"x\"\n",
    ));
    files.push(file("tools/ignored.toml", "not toml at all ["));
    files.push(file("README.md", "ignored"));
    assert_eq!(
        errors(files),
        [
            "municipalities/Ama/municipality.toml:1: \"Ama\" is not a valid municipality directory name: municipality id must be 1–40 characters of a–z, 0–9 or '-', not starting with '-'",
            "municipalities/ama/municipality.toml:1: missing `display_name = \"…\"` (e.g. display_name = \"きずな町\")",
            "municipalities/ama/notes.toml:1: [[maternity]] belongs in the base pack; an overlay has display_name, kodomo_center, [contact], [[birthday]] and [[note]]",
            "stray.toml:1: not part of a content pack: put it in base/, lang/<language>/, municipalities/<municipality-id>/ or surveys/",
        ]
    );
}

#[test]
fn unknown_keys_and_toml_errors_point_at_the_line() {
    let mut files = minimal_base();
    files.push(file(
        "base/x.toml",
        "\n\n[[child]]\nday = 5\ntxt = \"typo\"\n",
    ));
    let errs = errors(files);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("base/x.toml:5: TOML error: unknown field `txt`"),
        "{errs:?}"
    );
}

#[test]
fn worst_case_length_counts_placeholders_and_labels() {
    let mut files = minimal_base();
    // 4,955 literal units + {age_days} (4) + label reserve (40) = 4,999: fits.
    let fits = "あ".repeat(4955);
    files[2].text = files[2].text.replace(
        "day = 7\ntext = \"生後{age_days}日\"",
        &format!("day = 7\ntext = \"{fits}{{age_days}}\""),
    );
    assert!(ContentLibrary::from_files(files.clone()).is_ok());
    // …with {municipality} (fallback name, 7 units) it does not.
    files[2].text = files[2].text.replace(
        &format!("{fits}{{age_days}}"),
        &format!("{fits}{{municipality}}"),
    );
    let errs = errors(files);
    assert_eq!(errs.len(), 1);
    assert!(errs[0].contains("text too long: up to 5002"), "{errs:?}");
}

#[test]
fn schedule_rules_misplaced_keys_and_note_windows_are_reported_at_their_line() {
    // Each message exactly as `kizuna content check` prints it, so that a refactoring of the
    // parser that moves or rewords one fails here.
    let mut files = minimal_base();
    files[0].text.push_str(
        "[[child_schedule]]\nfrom_day = 120\nto_day = 180\nevery_days = 0\n\
         [[child_schedule]]\nfrom_day = 100\nto_day = 180\nevery_days = 30\n\
         [[child_schedule]]\nfrom_day = 200\nto_day = 1096\nevery_days = 30\n\
         [[child_schedule]]\nfrom_day = 300\nto_day = 330\nevery_days = 30\n",
    );
    files.push(file("base/extra.toml", "version = \"2\"\n"));
    files.push(file(
        "municipalities/ama-town/municipality.toml",
        "display_name = \"海士町\"\n",
    ));
    files.push(file(
        "municipalities/ama-town/notes.toml",
        "[[note]]\nid = \" \"\nchild_day = 10\ntext = \"x\"\n\n\
         [[note]]\nid = \"a\"\nchild_days = [301, 329]\ntext = \"x\"\n\n\
         [[note]]\nid = \"b\"\nchild_day = 200\ntext = \"x\"\n",
    ));
    assert_eq!(
        errors(files),
        [
            "base/child.toml:302: no child message for scheduled days 300–330 (day 100 is here; scheduled by base/pack.toml:15)",
            "base/extra.toml:1: `version` belongs in base/pack.toml",
            "base/pack.toml:3: every_days must be at least 1",
            "base/pack.toml:7: from_day must be after day 100 (days 0–100 are daily)",
            "base/pack.toml:11: to_day must be between from_day and 1095 (the last day before a 3rd birthday)",
            "municipalities/ama-town/notes.toml:1: note id is empty",
            "municipalities/ama-town/notes.toml:8: no scheduled child day in 301–329, so the note would never be sent",
            "municipalities/ama-town/notes.toml:13: child day 200 is not a scheduled day, so the note would never be sent (use child_days = [from, to])",
        ]
    );
}
