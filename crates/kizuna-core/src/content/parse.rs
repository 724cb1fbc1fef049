//! Turning content files into a validated [`ContentLibrary`], or into `file:line` diagnostics.

use super::template::{Template, TextKind};
use super::{
    ContentLibrary, Diagnostic, Note, NoteTarget, Origin, Overlay, ScheduleRule, SourceFile, Text,
    CHILD_LAST_POSSIBLE_DAY, FALLBACK_MUNICIPALITY_NAME, LABEL_RESERVE_UTF16,
};
use crate::content::{parse_stage_key, stage_key};
use crate::ids::MunicipalityId;
use crate::message::MAX_TEXT_UTF16;
use crate::programme::{CHILD_DAILY_LAST_DAY, MATERNITY_FIRST_DAY, MATERNITY_LAST_DAY};
use chrono::NaiveDate;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use toml::Spanned;

const PACK_FILE: &str = "pack.toml";
const MUNICIPALITY_FILE: &str = "municipality.toml";
const MATERNITY_DAYS: usize = (MATERNITY_LAST_DAY - MATERNITY_FIRST_DAY + 1) as usize;
const CHILD_DAYS: usize = CHILD_LAST_POSSIBLE_DAY as usize + 1;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    id: Option<Spanned<String>>,
    version: Option<Spanned<String>>,
    sample: Option<Spanned<bool>>,
    #[serde(default)]
    child_schedule: Vec<Spanned<RawRule>>,
    display_name: Option<Spanned<String>>,
    #[serde(default)]
    maternity: Vec<RawMaternity>,
    closing: Option<Spanned<RawClosing>>,
    #[serde(default)]
    child: Vec<RawChild>,
    #[serde(default)]
    birthday: Vec<RawBirthday>,
    #[serde(default)]
    note: Vec<Spanned<RawNote>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    from_day: u16,
    to_day: u16,
    every_days: u16,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMaternity {
    stage: Spanned<String>,
    text: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClosing {
    text: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChild {
    day: Spanned<u16>,
    text: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBirthday {
    age: Spanned<u8>,
    text: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNote {
    id: Spanned<String>,
    stage: Option<Spanned<String>>,
    stages: Option<Spanned<[String; 2]>>,
    child_day: Option<Spanned<u16>>,
    child_days: Option<Spanned<[u16; 2]>>,
    date: Option<Spanned<toml::value::Datetime>>,
    dates: Option<Spanned<[toml::value::Datetime; 2]>>,
    text: Spanned<String>,
}

enum Place {
    Base,
    Municipality(String),
}

/// One parsed file plus what we need to point at its lines.
struct Parsed<'f> {
    path: &'f str,
    source: &'f str,
    lines: Vec<usize>,
    raw: RawFile,
}

impl Parsed<'_> {
    fn line(&self, offset: usize) -> u32 {
        line_of(&self.lines, offset)
    }

    fn origin(&self, span: Range<usize>) -> Origin {
        Origin {
            path: self.path.to_owned(),
            line: self.line(span.start),
        }
    }

    /// The line of byte `offset` inside the string value spanning `span`: multi-line strings
    /// (`"""` followed by a newline) start on the next line, which TOML drops from the value.
    fn line_in_string(&self, span: &Range<usize>, offset: usize, value: &str) -> u32 {
        let raw = &self.source[span.start..];
        let skipped_newline = raw.starts_with("\"\"\"\n")
            || raw.starts_with("'''\n")
            || raw.starts_with("\"\"\"\r\n")
            || raw.starts_with("'''\r\n");
        let newlines = value[..offset.min(value.len())].matches('\n').count() as u32;
        self.line(span.start) + newlines + u32::from(skipped_newline)
    }
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

fn line_of(starts: &[usize], offset: usize) -> u32 {
    (starts.partition_point(|&s| s <= offset)).max(1) as u32
}

struct Builder {
    diagnostics: Vec<Diagnostic>,
    /// Days with no text, when the caller accepts gaps (see `Gaps`); otherwise they are errors.
    gaps: Option<Vec<Diagnostic>>,
    /// Prepended to every path in a diagnostic (`content/` when loading from disk).
    prefix: String,
}

impl Builder {
    fn error(&mut self, path: &str, line: u32, message: impl Into<String>) {
        let path = format!("{}{path}", self.prefix);
        self.diagnostics.push(Diagnostic::new(path, line, message));
    }

    /// A scheduled day without a text: an error, unless the caller accepts gaps.
    fn gap(&mut self, path: &str, line: u32, message: impl Into<String>) {
        let path = format!("{}{path}", self.prefix);
        match &mut self.gaps {
            Some(gaps) => gaps.push(Diagnostic::new(path, line, message)),
            None => self.diagnostics.push(Diagnostic::new(path, line, message)),
        }
    }

    fn template(
        &mut self,
        file: &Parsed<'_>,
        text: &Spanned<String>,
        kind: TextKind,
    ) -> Option<Text> {
        match Template::parse(text.get_ref(), kind) {
            Ok(template) => {
                if text.get_ref().trim().is_empty() {
                    self.error(file.path, file.line(text.span().start), "empty text");
                    return None;
                }
                Some(Text {
                    template,
                    origin: file.origin(text.span()),
                })
            }
            Err(errors) => {
                for e in errors {
                    let line = file.line_in_string(&text.span(), e.offset(), text.get_ref());
                    self.error(file.path, line, e.to_string());
                }
                None
            }
        }
    }

    /// Records `key` → origin, reporting a duplicate against its first definition.
    fn unique<K: std::hash::Hash + Eq>(
        &mut self,
        seen: &mut HashMap<K, Origin>,
        key: K,
        origin: Origin,
        what: &str,
    ) -> bool {
        if let Some(first) = seen.get(&key) {
            let message = format!(
                "duplicate {what} (first defined at {}{}:{})",
                self.prefix, first.path, first.line
            );
            self.error(&origin.path, origin.line, message);
            false
        } else {
            seen.insert(key, origin);
            true
        }
    }
}

/// `display_prefix` is prepended to paths in diagnostics only (e.g. `content/`).
/// With `allow_gaps`, scheduled days without a text are returned as warnings beside the library
/// instead of failing it.
pub(super) fn build(
    mut files: Vec<SourceFile>,
    display_prefix: &str,
    allow_gaps: bool,
) -> Result<(ContentLibrary, Vec<Diagnostic>), Vec<Diagnostic>> {
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let digest = digest(&files);
    let mut b = Builder {
        diagnostics: Vec::new(),
        gaps: allow_gaps.then(Vec::new),
        prefix: display_prefix.to_owned(),
    };

    // 1. Classify and parse every file.
    let mut base: Vec<Parsed<'_>> = Vec::new();
    let mut overlays: BTreeMap<String, Vec<Parsed<'_>>> = BTreeMap::new();
    for file in &files {
        let Some(place) = classify(&file.path, &mut b) else {
            continue;
        };
        let raw = match toml::from_str::<RawFile>(&file.text) {
            Ok(raw) => raw,
            Err(e) => {
                let line = e
                    .span()
                    .map_or(1, |s| line_of(&line_starts(&file.text), s.start));
                let message = e.message().replace('\n', " ");
                b.error(&file.path, line, format!("TOML error: {message}"));
                continue;
            }
        };
        let parsed = Parsed {
            path: &file.path,
            source: &file.text,
            lines: line_starts(&file.text),
            raw,
        };
        match place {
            Place::Base => base.push(parsed),
            Place::Municipality(id) => overlays.entry(id).or_default().push(parsed),
        }
    }

    // 2. The pack header and schedule.
    let mut pack_id = String::new();
    let mut pack_version = String::new();
    let mut sample = false;
    let mut schedule = Vec::new();
    let mut schedule_lines = Vec::new();
    let pack = base
        .iter()
        .find(|p| p.path.rsplit('/').next() == Some(PACK_FILE));
    match pack {
        None => b.error(
            "base/pack.toml",
            1,
            "missing: the base pack needs a pack.toml",
        ),
        Some(pack) => {
            let raw = &pack.raw;
            match &raw.id {
                Some(id) if !id.get_ref().trim().is_empty() => pack_id = id.get_ref().clone(),
                _ => b.error(pack.path, 1, "missing `id = \"...\"`"),
            }
            match &raw.version {
                Some(v) if !v.get_ref().trim().is_empty() => pack_version = v.get_ref().clone(),
                _ => b.error(pack.path, 1, "missing `version = \"...\"`"),
            }
            sample = raw.sample.as_ref().is_some_and(|s| *s.get_ref());
            for rule in &raw.child_schedule {
                let line = pack.line(rule.span().start);
                let r = rule.get_ref();
                if r.every_days == 0 {
                    b.error(pack.path, line, "every_days must be at least 1");
                } else if r.from_day <= CHILD_DAILY_LAST_DAY {
                    b.error(
                        pack.path,
                        line,
                        format!("from_day must be after day {CHILD_DAILY_LAST_DAY} (days 0–{CHILD_DAILY_LAST_DAY} are daily)"),
                    );
                } else if r.to_day > CHILD_LAST_POSSIBLE_DAY || r.to_day < r.from_day {
                    b.error(
                        pack.path,
                        line,
                        format!("to_day must be between from_day and {CHILD_LAST_POSSIBLE_DAY} (the last day before a 3rd birthday)"),
                    );
                } else {
                    schedule_lines.push(line);
                    schedule.push(ScheduleRule {
                        from_day: r.from_day,
                        to_day: r.to_day,
                        every_days: r.every_days,
                    });
                }
            }
        }
    }
    let mut scheduled = [false; CHILD_DAYS];
    // The pack.toml line that scheduled each day, to point at when its message is missing.
    let mut scheduled_by = [1u32; CHILD_DAYS];
    scheduled[..=usize::from(CHILD_DAILY_LAST_DAY)].fill(true);
    for (r, &line) in schedule.iter().zip(&schedule_lines).rev() {
        for day in (r.from_day..=r.to_day).step_by(usize::from(r.every_days)) {
            scheduled[usize::from(day)] = true;
            scheduled_by[usize::from(day)] = line;
        }
    }
    let mut next_child_day = vec![u16::MAX; CHILD_DAYS];
    let mut next = u16::MAX;
    for day in (0..CHILD_DAYS).rev() {
        if scheduled[day] {
            next = day as u16;
        }
        next_child_day[day] = next;
    }

    // 3. The display names first: base texts must fit with the longest one.
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for (id, files) in &overlays {
        let municipality_file = files
            .iter()
            .find(|p| p.path.rsplit('/').next() == Some(MUNICIPALITY_FILE));
        match municipality_file.and_then(|p| p.raw.display_name.as_ref().map(|n| (p, n))) {
            Some((p, name)) if !name.get_ref().trim().is_empty() => {
                if name.get_ref().chars().count() > 20 {
                    b.error(
                        p.path,
                        p.line(name.span().start),
                        "display_name is longer than 20 characters",
                    );
                }
                names.insert(id.clone(), name.get_ref().trim().to_owned());
            }
            Some((p, name)) => b.error(p.path, p.line(name.span().start), "display_name is empty"),
            None => {
                let path = municipality_file.map_or_else(
                    || format!("municipalities/{id}/{MUNICIPALITY_FILE}"),
                    |p| p.path.to_owned(),
                );
                b.error(
                    &path,
                    1,
                    "missing `display_name = \"…\"` (e.g. display_name = \"きずな町\")",
                );
            }
        }
    }
    let longest_name = names
        .values()
        .map(|n| n.encode_utf16().count())
        .chain(std::iter::once(
            FALLBACK_MUNICIPALITY_NAME.encode_utf16().count(),
        ))
        .max()
        .unwrap_or(0);

    // 4. Base texts.
    let mut maternity: Vec<Option<Text>> = vec![None; MATERNITY_DAYS];
    let mut child: Vec<Option<Text>> = vec![None; CHILD_DAYS];
    let mut closing: Option<Text> = None;
    let mut birthdays: [Option<Text>; 3] = [None, None, None];
    let mut seen_stage = HashMap::new();
    let mut seen_day = HashMap::new();
    let mut seen_birthday = HashMap::new();
    let mut closing_origin: Option<Origin> = None;
    for file in &base {
        let raw = &file.raw;
        let is_pack = file.path.rsplit('/').next() == Some(PACK_FILE);
        if !is_pack {
            for (present, key) in [
                (raw.id.is_some(), "id"),
                (raw.version.is_some(), "version"),
                (raw.sample.is_some(), "sample"),
                (!raw.child_schedule.is_empty(), "child_schedule"),
            ] {
                if present {
                    b.error(file.path, 1, format!("`{key}` belongs in base/pack.toml"));
                }
            }
        }
        if let Some(name) = &raw.display_name {
            b.error(
                file.path,
                file.line(name.span().start),
                "display_name belongs in municipalities/<id>/municipality.toml",
            );
        }
        for note in &raw.note {
            b.error(
                file.path,
                file.line(note.span().start),
                "notes belong in a municipality overlay (municipalities/<id>/)",
            );
        }
        for m in &raw.maternity {
            let origin = file.origin(m.stage.span());
            let Some(day) = parse_stage_key(m.stage.get_ref()) else {
                b.error(
                    file.path,
                    origin.line,
                    format!(
                        "bad stage \"{}\": expected weeks and days between 4w0d and 41w6d, like \"12w3d\"",
                        m.stage.get_ref()
                    ),
                );
                continue;
            };
            let what = format!("maternity stage {}", stage_key(day));
            if b.unique(&mut seen_stage, day, origin, &what) {
                maternity[usize::from(day - MATERNITY_FIRST_DAY)] =
                    b.template(file, &m.text, TextKind::Maternity);
            }
        }
        if let Some(c) = &raw.closing {
            let origin = file.origin(c.span());
            if let Some(first) = &closing_origin {
                b.error(
                    file.path,
                    origin.line,
                    format!(
                        "duplicate [closing] (first defined at {}{}:{})",
                        b.prefix, first.path, first.line
                    ),
                );
            } else {
                closing_origin = Some(origin);
                closing = b.template(file, &c.get_ref().text, TextKind::Closing);
            }
        }
        for c in &raw.child {
            let origin = file.origin(c.day.span());
            let day = *c.day.get_ref();
            if day > CHILD_LAST_POSSIBLE_DAY {
                b.error(
                    file.path,
                    origin.line,
                    format!("child day {day} is after the programme (last possible day {CHILD_LAST_POSSIBLE_DAY})"),
                );
                continue;
            }
            if !scheduled[usize::from(day)] {
                b.error(
                    file.path,
                    origin.line,
                    format!("child day {day} is not a scheduled day (see child_schedule in base/pack.toml)"),
                );
                continue;
            }
            if b.unique(&mut seen_day, day, origin, &format!("child day {day}")) {
                child[usize::from(day)] = b.template(file, &c.text, TextKind::Child);
            }
        }
        for bd in &raw.birthday {
            if let Some(i) = birthday_index(&mut b, file, bd) {
                let origin = file.origin(bd.age.span());
                let what = format!("birthday age {}", i + 1);
                if b.unique(&mut seen_birthday, i, origin, &what) {
                    birthdays[i] = b.template(file, &bd.text, TextKind::Birthday);
                }
            }
        }
    }

    // 5. Completeness of the base.
    let pack_path = pack.map_or("base/pack.toml", |p| p.path).to_owned();
    let stages: Vec<u16> = (MATERNITY_FIRST_DAY..=MATERNITY_LAST_DAY).collect();
    for run in missing_runs(&stages, |d| seen_stage.contains_key(&d)) {
        let what = if run.0 == run.1 {
            format!("stage {}", stage_key(run.0))
        } else {
            format!("stages {}–{}", stage_key(run.0), stage_key(run.1))
        };
        b.gap(&pack_path, 1, format!("no maternity message for {what}"));
    }
    if closing_origin.is_none() {
        b.gap(
            &pack_path,
            1,
            "no maternity closing message ([closing], sent on day 294)",
        );
    }
    let scheduled_days: Vec<u16> = (0..=CHILD_LAST_POSSIBLE_DAY)
        .filter(|&d| scheduled[usize::from(d)])
        .collect();
    for run in missing_runs(&scheduled_days, |d| seen_day.contains_key(&d)) {
        let what = if run.0 == run.1 {
            format!("day {}", run.0)
        } else if run.0 > CHILD_DAILY_LAST_DAY {
            format!("scheduled days {}–{}", run.0, run.1)
        } else {
            format!("days {}–{}", run.0, run.1)
        };
        let line = scheduled_by[usize::from(run.0)];
        b.gap(&pack_path, line, format!("no child message for {what}"));
    }

    // 6. Overlays.
    let mut municipalities = BTreeMap::new();
    for (id, files) in &overlays {
        let Ok(municipality) = MunicipalityId::parse(id) else {
            continue; // reported by classify()
        };
        let display_name = names.get(id).cloned().unwrap_or_default();
        let name_len = display_name.encode_utf16().count();
        let mut overlay = Overlay {
            display_name,
            birthdays: [None, None, None],
            notes: Vec::new(),
            maternity_notes: vec![Vec::new(); MATERNITY_DAYS],
            child_notes: vec![Vec::new(); CHILD_DAYS],
            calendar_notes: Vec::new(),
        };
        let mut seen_birthday = HashMap::new();
        let mut seen_note = HashMap::new();
        for file in files {
            let raw = &file.raw;
            let is_municipality_file = file.path.rsplit('/').next() == Some(MUNICIPALITY_FILE);
            if raw.display_name.is_some() && !is_municipality_file {
                b.error(file.path, 1, "display_name belongs in municipality.toml");
            }
            let base_only = [
                (raw.id.is_some(), "id"),
                (raw.version.is_some(), "version"),
                (raw.sample.is_some(), "sample"),
                (!raw.child_schedule.is_empty(), "child_schedule"),
                (!raw.maternity.is_empty(), "[[maternity]]"),
                (raw.closing.is_some(), "[closing]"),
                (!raw.child.is_empty(), "[[child]]"),
            ];
            for (present, key) in base_only {
                if present {
                    b.error(
                        file.path,
                        1,
                        format!("{key} belongs in the base pack; an overlay has display_name, [[birthday]] and [[note]]"),
                    );
                }
            }
            for bd in &raw.birthday {
                if let Some(i) = birthday_index(&mut b, file, bd) {
                    let origin = file.origin(bd.age.span());
                    let what = format!("birthday age {}", i + 1);
                    if b.unique(&mut seen_birthday, i, origin, &what) {
                        overlay.birthdays[i] = b.template(file, &bd.text, TextKind::Birthday);
                    }
                }
            }
            for note in &raw.note {
                let origin = file.origin(note.span());
                let n = note.get_ref();
                let note_id = n.id.get_ref().trim().to_owned();
                if note_id.is_empty() {
                    b.error(file.path, origin.line, "note id is empty");
                    continue;
                }
                let Some(target) = note_target(&mut b, file, n, &scheduled) else {
                    continue;
                };
                let what = format!("note id \"{note_id}\"");
                if !b.unique(&mut seen_note, note_id.clone(), origin, &what) {
                    continue;
                }
                let kind = match target {
                    NoteTarget::Dates { .. } => TextKind::CalendarNote,
                    _ => TextKind::RegistrationNote,
                };
                let Some(text) = b.template(file, &n.text, kind) else {
                    continue;
                };
                let index = overlay.notes.len() as u16;
                match target {
                    NoteTarget::Maternity { first, last } => {
                        for d in first..=last {
                            overlay.maternity_notes[usize::from(d - MATERNITY_FIRST_DAY)]
                                .push(index);
                        }
                    }
                    NoteTarget::Child { first, last } => {
                        for d in first..=last {
                            overlay.child_notes[usize::from(d)].push(index);
                        }
                    }
                    NoteTarget::Dates { .. } => overlay.calendar_notes.push(index),
                }
                overlay.notes.push(Note {
                    id: note_id,
                    target,
                    text,
                });
            }
        }
        // Birthdays: the overlay's own, or the base's.
        for age in 1..=3u8 {
            let i = usize::from(age - 1);
            if overlay.birthdays[i].is_none()
                && birthdays[i].is_none()
                && !seen_birthday.contains_key(&i)
            {
                let path = format!("municipalities/{id}/{MUNICIPALITY_FILE}");
                b.error(
                    &path,
                    1,
                    format!(
                        "no birthday message for age {age} (neither here nor in the base pack)"
                    ),
                );
            }
        }
        // Length: municipal texts carry a label and the "（〇〇より）" signature.
        let signature = name_len + 5;
        let overlay_texts = overlay
            .birthdays
            .iter()
            .flatten()
            .chain(overlay.notes.iter().map(|n| &n.text));
        for text in overlay_texts {
            check_length(&mut b, text, name_len, LABEL_RESERVE_UTF16 + signature);
        }
        municipalities.insert(municipality, overlay);
    }
    if overlays.is_empty() {
        for (i, bd) in birthdays.iter().enumerate() {
            if bd.is_none() && !seen_birthday.contains_key(&i) {
                b.error(
                    &pack_path,
                    1,
                    format!("no birthday message for age {}", i + 1),
                );
            }
        }
    }

    // 7. Lengths of the base texts, with the longest municipality name anywhere.
    let signature = longest_name + 5;
    for text in maternity
        .iter()
        .chain(child.iter())
        .chain(std::iter::once(&closing))
        .flatten()
    {
        check_length(&mut b, text, longest_name, LABEL_RESERVE_UTF16);
    }
    for text in birthdays.iter().flatten() {
        check_length(&mut b, text, longest_name, LABEL_RESERVE_UTF16 + signature);
    }

    if !b.diagnostics.is_empty() {
        let mut diagnostics = b.diagnostics;
        diagnostics.sort_by(|x, y| (&x.path, x.line).cmp(&(&y.path, y.line)));
        diagnostics.dedup();
        return Err(diagnostics);
    }
    let bare = |t: Option<Text>| t.map(|t| t.template);
    let library = ContentLibrary {
        maternity: maternity.into_iter().map(bare).collect(),
        closing: bare(closing),
        child: child.into_iter().map(bare).collect(),
        birthdays: birthdays.map(bare),
        pack_id,
        pack_version,
        sample,
        digest,
        schedule,
        next_child_day,
        municipalities,
    };
    Ok((library, b.gaps.unwrap_or_default()))
}

fn digest(files: &[SourceFile]) -> String {
    let mut hasher = Sha256::new();
    for f in files {
        // Length prefixes keep ("ab","c") and ("a","bc") apart.
        hasher.update((f.path.len() as u64).to_be_bytes());
        hasher.update(f.path.as_bytes());
        hasher.update((f.text.len() as u64).to_be_bytes());
        hasher.update(f.text.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Where a file belongs, or `None` if it is not content (reporting misplaced `.toml` files).
fn classify(path: &str, b: &mut Builder) -> Option<Place> {
    let path = path.trim_start_matches("./");
    if !path.ends_with(".toml") || path.starts_with("tools/") {
        return None;
    }
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["base", _] => Some(Place::Base),
        ["municipalities", id, _] => {
            if let Err(e) = MunicipalityId::parse(id) {
                b.error(
                    path,
                    1,
                    format!("\"{id}\" is not a valid municipality directory name: {e}"),
                );
                None
            } else {
                Some(Place::Municipality((*id).to_owned()))
            }
        }
        _ => {
            b.error(
                path,
                1,
                "not part of a content pack: put it in base/ or municipalities/<municipality-id>/",
            );
            None
        }
    }
}

fn birthday_index(b: &mut Builder, file: &Parsed<'_>, bd: &RawBirthday) -> Option<usize> {
    let age = *bd.age.get_ref();
    if (1..=3).contains(&age) {
        Some(usize::from(age - 1))
    } else {
        b.error(
            file.path,
            file.line(bd.age.span().start),
            format!("birthday age {age}: only ages 1, 2 and 3 have a birthday message"),
        );
        None
    }
}

fn toml_date(
    b: &mut Builder,
    file: &Parsed<'_>,
    span: Range<usize>,
    value: &toml::value::Datetime,
) -> Option<NaiveDate> {
    let date = match (value.date, value.time, value.offset) {
        (Some(d), None, None) => {
            NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
        }
        _ => None,
    };
    if date.is_none() {
        b.error(
            file.path,
            file.line(span.start),
            format!("bad date {value}: write a plain date like 2027-07-20"),
        );
    }
    date
}

fn note_target(
    b: &mut Builder,
    file: &Parsed<'_>,
    n: &RawNote,
    scheduled: &[bool; CHILD_DAYS],
) -> Option<NoteTarget> {
    let line = file.line(n.id.span().start);
    let given = [
        n.stage.is_some(),
        n.stages.is_some(),
        n.child_day.is_some(),
        n.child_days.is_some(),
        n.date.is_some(),
        n.dates.is_some(),
    ]
    .into_iter()
    .filter(|x| *x)
    .count();
    if given != 1 {
        b.error(
            file.path,
            line,
            "a note needs exactly one of stage, stages, child_day, child_days, date, dates",
        );
        return None;
    }
    let stage = |b: &mut Builder, s: &str, span: Range<usize>| {
        let day = parse_stage_key(s);
        if day.is_none() {
            b.error(
                file.path,
                file.line(span.start),
                format!("bad stage \"{s}\": expected weeks and days between 4w0d and 41w6d, like \"12w3d\""),
            );
        }
        day
    };
    fn window_ok<T: PartialOrd>(
        b: &mut Builder,
        file: &Parsed<'_>,
        first: T,
        last: T,
        span: Range<usize>,
    ) -> bool {
        if first > last {
            b.error(
                file.path,
                file.line(span.start),
                "the window ends before it starts",
            );
            false
        } else {
            true
        }
    }
    let child_window = |b: &mut Builder, first: u16, last: u16, span: Range<usize>| {
        if last > CHILD_LAST_POSSIBLE_DAY {
            b.error(
                file.path,
                file.line(span.start),
                format!("child day {last} is after the programme (last possible day {CHILD_LAST_POSSIBLE_DAY})"),
            );
            return None;
        }
        if !window_ok(b, file, first, last, span.clone()) {
            return None;
        }
        if !(first..=last).any(|d| scheduled[usize::from(d)]) {
            let message = if first == last {
                format!("child day {first} is not a scheduled day, so the note would never be sent (use child_days = [from, to])")
            } else {
                format!("no scheduled child day in {first}–{last}, so the note would never be sent")
            };
            b.error(file.path, file.line(span.start), message);
            return None;
        }
        Some(NoteTarget::Child { first, last })
    };
    if let Some(s) = &n.stage {
        let d = stage(b, s.get_ref(), s.span())?;
        return Some(NoteTarget::Maternity { first: d, last: d });
    }
    if let Some(s) = &n.stages {
        let [from, to] = s.get_ref();
        let first = stage(b, from, s.span());
        let last = stage(b, to, s.span());
        let (first, last) = (first?, last?);
        return window_ok(b, file, first, last, s.span())
            .then_some(NoteTarget::Maternity { first, last });
    }
    if let Some(d) = &n.child_day {
        return child_window(b, *d.get_ref(), *d.get_ref(), d.span());
    }
    if let Some(d) = &n.child_days {
        let [first, last] = *d.get_ref();
        return child_window(b, first, last, d.span());
    }
    if let Some(d) = &n.date {
        let date = toml_date(b, file, d.span(), d.get_ref())?;
        return Some(NoteTarget::Dates {
            first: date,
            last: date,
        });
    }
    if let Some(d) = &n.dates {
        let [from, to] = d.get_ref();
        let first = toml_date(b, file, d.span(), from);
        let last = toml_date(b, file, d.span(), to);
        let (first, last) = (first?, last?);
        return window_ok(b, file, first, last, d.span())
            .then_some(NoteTarget::Dates { first, last });
    }
    None
}

fn check_length(b: &mut Builder, text: &Text, municipality_utf16: usize, reserve: usize) {
    let worst = text.template.worst_case_utf16(municipality_utf16) + reserve;
    if worst > MAX_TEXT_UTF16 {
        b.error(
            &text.origin.path,
            text.origin.line,
            format!(
                "text too long: up to {worst} UTF-16 units with the longest placeholder values and label (LINE allows {MAX_TEXT_UTF16})"
            ),
        );
    }
}

/// Runs of consecutive entries of `days` (in its order) that are not `present`, as
/// (first, last), so that a missing file reads as one line rather than a hundred.
fn missing_runs(days: &[u16], present: impl Fn(u16) -> bool) -> Vec<(u16, u16)> {
    let mut out: Vec<(u16, u16)> = Vec::new();
    let mut open = false;
    for &d in days {
        if present(d) {
            open = false;
        } else if open {
            if let Some(run) = out.last_mut() {
                run.1 = d;
            }
        } else {
            out.push((d, d));
            open = true;
        }
    }
    out
}
