//! Turning content files into a validated [`ContentLibrary`], or into `file:line` diagnostics.

use super::editorial;
use super::template::{LongestTown, Placeholder, Template, TextKind, Town, Values};
use super::template::{FALLBACK_CENTER, FALLBACK_CONTACT, FALLBACK_MUNICIPALITY_NAME};
use super::{
    CheckReport, ContentLibrary, DayTables, Diagnostic, Note, NoteTarget, Origin, Overlay,
    ScheduleRule, SourceFile, Text, Translation, CHILD_LAST_POSSIBLE_DAY, LABEL_RESERVE_UTF16,
};
use crate::content::{parse_stage_key, stage_key};
use crate::household::Language;
use crate::ids::MunicipalityId;
use crate::message::MAX_TEXT_UTF16;
use crate::programme::{Programme, CHILD_DAILY_LAST_DAY, MATERNITY_FIRST_DAY, MATERNITY_LAST_DAY};
use chrono::NaiveDate;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use toml::Spanned;

mod survey;

const PACK_FILE: &str = "pack.toml";
const MUNICIPALITY_FILE: &str = "municipality.toml";
const CHILD_DAYS: usize = CHILD_LAST_POSSIBLE_DAY as usize + 1;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    id: Option<Spanned<String>>,
    version: Option<Spanned<String>>,
    sample: Option<Spanned<bool>>,
    #[serde(default)]
    child_schedule: Vec<Spanned<RawRule>>,
    display_name: Option<Spanned<String>>,
    kodomo_center: Option<Spanned<String>>,
    contact: Option<Spanned<RawContact>>,
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

/// `[contact]` in municipality.toml. Fields are optional here so that a missing one is
/// reported by name, at the table, instead of failing the whole file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContact {
    name: Option<Spanned<String>>,
    phone: Option<Spanned<String>>,
    hours: Option<Spanned<String>>,
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
    /// `lang/<code>/`: texts in another language, any subset of the base's days.
    Lang(Language),
    /// `surveys/<id>.toml`: a network survey (read by `survey::read_surveys`).
    Survey,
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

/// How much a build checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Everything a library needs to plan any day: syntax, placeholders, lengths, coverage.
    Strict,
    /// Like `Strict`, but days without a text are warnings (the sender's mode).
    AllowGaps,
    /// `Strict` plus the editorial checks and the town fields the texts use
    /// (`kizuna content check` and `content sync`).
    Check,
}

pub(super) struct Outcome {
    pub library: Option<ContentLibrary>,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl Outcome {
    pub fn into_report(self) -> CheckReport {
        CheckReport {
            library: self.library,
            errors: self.errors,
            warnings: self.warnings,
        }
    }
}

struct Builder {
    diagnostics: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    mode: Mode,
    /// Prepended to every path in a diagnostic (`content/` when loading from disk).
    prefix: String,
}

impl Builder {
    fn error(&mut self, path: &str, line: u32, message: impl Into<String>) {
        let path = format!("{}{path}", self.prefix);
        self.diagnostics.push(Diagnostic::new(path, line, message));
    }

    fn warning(&mut self, path: &str, line: u32, message: impl Into<String>) {
        let path = format!("{}{path}", self.prefix);
        self.warnings.push(Diagnostic::warning(path, line, message));
    }

    /// A scheduled day without a text: an error, unless the caller accepts gaps.
    fn gap(&mut self, path: &str, line: u32, message: impl Into<String>) {
        if self.mode == Mode::AllowGaps {
            self.warning(path, line, message);
        } else {
            self.error(path, line, message);
        }
    }

    fn checks_editorial(&self) -> bool {
        self.mode == Mode::Check
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
///
/// The phases run in this order (later ones read what earlier ones found): read the files,
/// the pack header and schedule, the town fields (base texts must fit with the longest
/// values), the base texts and their completeness, the overlays, the language packs, the
/// lengths and editorial checks of the base, and the library.
pub(super) fn build(mut files: Vec<SourceFile>, display_prefix: &str, mode: Mode) -> Outcome {
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let digest = digest(&files);
    let mut b = Builder {
        diagnostics: Vec::new(),
        warnings: Vec::new(),
        mode,
        prefix: display_prefix.to_owned(),
    };
    let sources = read_sources(&mut b, &files);
    let pack = read_pack(&mut b, &sources.base);
    let schedule = ChildSchedule::new(&pack.schedule, &pack.schedule_lines);
    let towns = read_towns(&mut b, &sources);
    let longest_town = towns
        .values()
        .map(|t| t.town().lengths_utf16())
        .fold(Town::FALLBACK.lengths_utf16(), LongestTown::max);
    let (base_texts, written) = read_base_texts(&mut b, &sources, &schedule);
    let closing_origin = base_texts.seen_closing.get(&()).cloned();
    let pack_path = pack.path.unwrap_or("base/pack.toml").to_owned();
    let base = Base {
        texts: &base_texts,
        written: &written,
        unread: sources.unread_base,
        schedule: &schedule,
        pack_path: &pack_path,
    };
    check_base_complete(&mut b, &base, closing_origin.is_some());
    let municipalities = build_overlays(&mut b, &sources, &towns, &base);
    if sources.overlays.is_empty() && !base.unread.birthday {
        check_base_birthdays(&mut b, &base, closing_origin.as_ref());
    }
    let translations = build_translations(&mut b, &sources, &towns, &schedule, &longest_town);
    let town_ids = towns.keys().map(String::as_str).collect();
    let surveys = survey::read_surveys(&mut b, &sources.surveys, &town_ids, pack.sample);
    check_programme_lengths(&mut b, &base_texts, &longest_town);
    if b.checks_editorial() {
        // The base, rendered with the longest value of each town field.
        let [municipality, center, contact] = longest_values(&towns);
        let longest = Town {
            municipality: &municipality,
            center: &center,
            contact: &contact,
        };
        editorial_checks(&mut b, &written, longest);
    }
    finish(b, move || {
        library(
            pack,
            schedule,
            base_texts,
            digest,
            municipalities,
            translations,
            surveys,
        )
    })
}

/// The library from what was read, once nothing is an error: the day tables hold bare
/// templates (origins are dropped after validation).
fn library(
    pack: PackHeader<'_>,
    schedule: ChildSchedule,
    base_texts: ProgrammeTexts,
    digest: String,
    municipalities: BTreeMap<MunicipalityId, Overlay>,
    translations: BTreeMap<Language, Translation>,
    surveys: Vec<crate::survey::Survey>,
) -> ContentLibrary {
    let bare = |t: Option<Text>| t.map(|t| t.template);
    ContentLibrary {
        days: base_texts
            .days
            .map(|table| table.into_iter().map(bare).collect()),
        closing: bare(base_texts.closing),
        birthdays: base_texts.birthdays.map(bare),
        pack_id: pack.id,
        pack_version: pack.version,
        sample: pack.sample,
        digest,
        schedule: pack.schedule,
        next_child_day: schedule.next_child_day,
        municipalities,
        translations,
        surveys,
    }
}

/// Every file, classified and parsed.
struct Sources<'f> {
    base: Vec<Parsed<'f>>,
    overlays: BTreeMap<String, Vec<Parsed<'f>>>,
    langs: BTreeMap<Language, Vec<Parsed<'f>>>,
    surveys: Vec<&'f SourceFile>,
    unread_base: Unread,
    unread_overlays: BTreeMap<String, Unread>,
}

/// Classifies and parses every file. A file that cannot be read is reported once, and the
/// checks that would only repeat it ("no text for days 0–1092") are skipped for what it seems
/// to hold (see `Unread`).
fn read_sources<'f>(b: &mut Builder, files: &'f [SourceFile]) -> Sources<'f> {
    let mut sources = Sources {
        base: Vec::new(),
        overlays: BTreeMap::new(),
        langs: BTreeMap::new(),
        surveys: Vec::new(),
        unread_base: Unread::default(),
        unread_overlays: BTreeMap::new(),
    };
    for file in files {
        let Some(place) = classify(&file.path, b) else {
            continue;
        };
        if let Place::Survey = place {
            // Its own format, read once the pack's towns are known.
            sources.surveys.push(file);
            continue;
        }
        let raw = match toml::from_str::<RawFile>(&file.text) {
            Ok(raw) => raw,
            Err(e) => {
                let (line, message) = toml_error(&file.text, &e);
                b.error(&file.path, line, message);
                sources.add_unread(place, Unread::guess(&file.path, &file.text));
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
            Place::Base => sources.base.push(parsed),
            Place::Municipality(id) => sources.overlays.entry(id).or_default().push(parsed),
            Place::Lang(language) => sources.langs.entry(language).or_default().push(parsed),
            // Kept unparsed above.
            Place::Survey => {}
        }
    }
    sources
}

impl Sources<'_> {
    fn add_unread(&mut self, place: Place, unread: Unread) {
        match place {
            Place::Base => self.unread_base.add(unread),
            Place::Municipality(id) => {
                self.unread_overlays
                    .entry(id.clone())
                    .or_default()
                    .add(unread);
                self.overlays.entry(id).or_default();
            }
            // Nothing of a language pack or a survey is required, so nothing follows from it.
            Place::Lang(_) | Place::Survey => {}
        }
    }

    fn unread_overlay(&self, id: &str) -> Unread {
        self.unread_overlays.get(id).copied().unwrap_or_default()
    }
}

/// base/pack.toml as read (empty values where it is missing or wrong, which is reported).
#[derive(Default)]
struct PackHeader<'f> {
    path: Option<&'f str>,
    id: String,
    version: String,
    sample: bool,
    schedule: Vec<ScheduleRule>,
    /// The pack.toml line of each rule in `schedule`.
    schedule_lines: Vec<u32>,
}

/// The pack header and the child schedule after day 100.
fn read_pack<'f>(b: &mut Builder, base: &[Parsed<'f>]) -> PackHeader<'f> {
    let mut header = PackHeader::default();
    let Some(pack) = base
        .iter()
        .find(|p| p.path.rsplit('/').next() == Some(PACK_FILE))
    else {
        b.error(
            "base/pack.toml",
            1,
            "missing: the base pack needs a pack.toml",
        );
        return header;
    };
    header.path = Some(pack.path);
    let raw = &pack.raw;
    match &raw.id {
        Some(id) if !id.get_ref().trim().is_empty() => header.id = id.get_ref().clone(),
        _ => b.error(pack.path, 1, "missing `id = \"...\"`"),
    }
    match &raw.version {
        Some(v) if !v.get_ref().trim().is_empty() => header.version = v.get_ref().clone(),
        _ => b.error(pack.path, 1, "missing `version = \"...\"`"),
    }
    header.sample = raw.sample.as_ref().is_some_and(|s| *s.get_ref());
    for rule in &raw.child_schedule {
        let line = pack.line(rule.span().start);
        if let Some(rule) = schedule_rule(b, pack.path, line, rule.get_ref()) {
            header.schedule_lines.push(line);
            header.schedule.push(rule);
        }
    }
    header
}

/// One `[[child_schedule]]` rule, if it is valid (else reported).
fn schedule_rule(b: &mut Builder, path: &str, line: u32, r: &RawRule) -> Option<ScheduleRule> {
    if r.every_days == 0 {
        b.error(path, line, "every_days must be at least 1");
    } else if r.from_day <= CHILD_DAILY_LAST_DAY {
        b.error(
            path,
            line,
            format!("from_day must be after day {CHILD_DAILY_LAST_DAY} (days 0–{CHILD_DAILY_LAST_DAY} are daily)"),
        );
    } else if r.to_day > CHILD_LAST_POSSIBLE_DAY || r.to_day < r.from_day {
        b.error(
            path,
            line,
            format!("to_day must be between from_day and {CHILD_LAST_POSSIBLE_DAY} (the last day before a 3rd birthday)"),
        );
    } else {
        return Some(ScheduleRule {
            from_day: r.from_day,
            to_day: r.to_day,
            every_days: r.every_days,
        });
    }
    None
}

/// Which child days have a message: every day to day 100, then the pack's schedule.
struct ChildSchedule {
    scheduled: [bool; CHILD_DAYS],
    /// The pack.toml line that scheduled each day, to point at when its message is missing.
    scheduled_by: [u32; CHILD_DAYS],
    /// The smallest scheduled day ≥ each day (`u16::MAX` if none).
    next_child_day: Vec<u16>,
}

impl ChildSchedule {
    fn new(rules: &[ScheduleRule], lines: &[u32]) -> ChildSchedule {
        let mut scheduled = [false; CHILD_DAYS];
        let mut scheduled_by = [1u32; CHILD_DAYS];
        scheduled[..=usize::from(CHILD_DAILY_LAST_DAY)].fill(true);
        for (r, &line) in rules.iter().zip(lines).rev() {
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
        ChildSchedule {
            scheduled,
            scheduled_by,
            next_child_day,
        }
    }
}

/// Each overlay's town fields, read first: base texts must fit with the longest values.
fn read_towns(b: &mut Builder, sources: &Sources<'_>) -> BTreeMap<String, TownFields> {
    sources
        .overlays
        .iter()
        .map(|(id, files)| {
            let fields = town_fields(b, id, files, sources.unread_overlay(id));
            (id.clone(), fields)
        })
        .collect()
}

/// The base texts, and each as written for the editorial checks (collected in `Mode::Check`
/// only: the sender loads the pack on every cold start and does not need them).
fn read_base_texts<'b, 'f>(
    b: &mut Builder,
    sources: &'b Sources<'f>,
    schedule: &ChildSchedule,
) -> (ProgrammeTexts, Vec<Written<'b, 'f>>) {
    let mut texts = ProgrammeTexts::default();
    let mut written = Vec::new();
    for file in &sources.base {
        check_base_file_keys(b, file);
        read_programme_entries(
            b,
            file,
            &schedule.scheduled,
            !sources.unread_base.pack,
            &mut texts,
            &mut written,
        );
    }
    (texts, written)
}

/// Keys a base file other than pack.toml must not hold, and town keys no base file may hold.
fn check_base_file_keys(b: &mut Builder, file: &Parsed<'_>) {
    let raw = &file.raw;
    if file.path.rsplit('/').next() != Some(PACK_FILE) {
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
    for (span, key) in town_key_spans(raw) {
        if let Some(span) = span {
            b.error(
                file.path,
                file.line(span.start),
                format!("{key} belongs in municipalities/<id>/municipality.toml"),
            );
        }
    }
    for note in &raw.note {
        b.error(
            file.path,
            file.line(note.span().start),
            "notes belong in a municipality overlay (municipalities/<id>/)",
        );
    }
}

/// Where a file sets each town field (municipality.toml's keys).
fn town_key_spans(raw: &RawFile) -> [(Option<Range<usize>>, &'static str); 3] {
    [
        (raw.display_name.as_ref().map(Spanned::span), "display_name"),
        (
            raw.kodomo_center.as_ref().map(Spanned::span),
            "kodomo_center",
        ),
        (raw.contact.as_ref().map(Spanned::span), "[contact]"),
    ]
}

/// The base pack as read, which the overlays and the completeness checks look at.
struct Base<'a, 'b, 'f> {
    texts: &'a ProgrammeTexts,
    written: &'a [Written<'b, 'f>],
    unread: Unread,
    schedule: &'a ChildSchedule,
    /// Where a gap with no text near it is reported.
    pack_path: &'a str,
}

/// Completeness of the base. A gap is reported at the text before it (or after it), in the
/// file an editor will open to fill it; nothing is reported for what an unreadable file
/// probably held.
fn check_base_complete(b: &mut Builder, base: &Base<'_, '_, '_>, has_closing: bool) {
    if !base.unread.maternity {
        check_maternity_complete(b, base);
    }
    if !has_closing && !base.unread.closing {
        let (path, line) = base
            .texts
            .seen_stage
            .get(&MATERNITY_LAST_DAY)
            .map_or((base.pack_path.to_owned(), 1), |o| (o.path.clone(), o.line));
        b.gap(
            &path,
            line,
            "no maternity closing message ([closing], sent on day 294)",
        );
    }
    if !base.unread.child && !base.unread.pack {
        check_child_complete(b, base);
    }
}

fn check_maternity_complete(b: &mut Builder, base: &Base<'_, '_, '_>) {
    let seen_stage = &base.texts.seen_stage;
    let stages: Vec<u16> = (MATERNITY_FIRST_DAY..=MATERNITY_LAST_DAY).collect();
    for run in missing_runs(&stages, |d| seen_stage.contains_key(&d)) {
        let what = if run.0 == run.1 {
            format!("stage {}", stage_key(run.0))
        } else {
            format!("stages {}–{}", stage_key(run.0), stage_key(run.1))
        };
        let (path, line, near) = match neighbour(seen_stage, run) {
            Some((day, origin)) => (
                origin.path.clone(),
                origin.line,
                format!(" ({} is here)", stage_key(day)),
            ),
            None => (base.pack_path.to_owned(), 1, String::new()),
        };
        b.gap(
            &path,
            line,
            format!("no maternity message for {what}{near}"),
        );
    }
}

fn check_child_complete(b: &mut Builder, base: &Base<'_, '_, '_>) {
    let seen_day = &base.texts.seen_day;
    let scheduled_days: Vec<u16> = (0..=CHILD_LAST_POSSIBLE_DAY)
        .filter(|&d| base.schedule.scheduled[usize::from(d)])
        .collect();
    for run in missing_runs(&scheduled_days, |d| seen_day.contains_key(&d)) {
        let what = if run.0 == run.1 {
            format!("day {}", run.0)
        } else if run.0 > CHILD_DAILY_LAST_DAY {
            format!("scheduled days {}–{}", run.0, run.1)
        } else {
            format!("days {}–{}", run.0, run.1)
        };
        let rule = base.schedule.scheduled_by[usize::from(run.0)];
        let by = if run.0 > CHILD_DAILY_LAST_DAY {
            format!("; scheduled by {}{}:{rule}", b.prefix, base.pack_path)
        } else {
            String::new()
        };
        let (path, line, near) = match neighbour(seen_day, run) {
            Some((day, origin)) => (
                origin.path.clone(),
                origin.line,
                format!(" (day {day} is here{by})"),
            ),
            None => (base.pack_path.to_owned(), rule, String::new()),
        };
        b.gap(&path, line, format!("no child message for {what}{near}"));
    }
}

/// Every overlay with a valid municipality id (the others are reported by `classify`).
fn build_overlays(
    b: &mut Builder,
    sources: &Sources<'_>,
    towns: &BTreeMap<String, TownFields>,
    base: &Base<'_, '_, '_>,
) -> BTreeMap<MunicipalityId, Overlay> {
    let mut municipalities = BTreeMap::new();
    for (id, files) in &sources.overlays {
        let Ok(municipality) = MunicipalityId::parse(id) else {
            continue;
        };
        let overlay = build_overlay(b, files, &towns[id], sources.unread_overlay(id), base);
        municipalities.insert(municipality, overlay);
    }
    municipalities
}

/// One municipality's overlay: its fields, birthdays and notes, checked for completeness,
/// length and (in `Mode::Check`) the editorial rules.
fn build_overlay(
    b: &mut Builder,
    files: &[Parsed<'_>],
    fields: &TownFields,
    unread: Unread,
    base: &Base<'_, '_, '_>,
) -> Overlay {
    let mut overlay = Overlay {
        display_name: fields.name.clone(),
        center: fields.center.clone(),
        contact: fields.contact.clone(),
        birthdays: [None, None, None],
        notes: Vec::new(),
        day_notes: DayTables::filled(Vec::new()),
        calendar_notes: Vec::new(),
    };
    let mut seen = OverlaySeen::default();
    // The overlay's texts as written, for the editorial checks.
    let mut written: Vec<Written<'_, '_>> = Vec::new();
    for file in files {
        check_overlay_file_keys(b, file);
        read_overlay_birthdays(b, file, &mut overlay, &mut seen, &mut written);
        for note in &file.raw.note {
            read_overlay_note(b, file, note, base, &mut overlay, &mut seen, &mut written);
        }
    }
    check_overlay_birthdays(b, &overlay, &seen, fields, unread, base);
    check_overlay_lengths(b, &overlay, fields);
    if b.checks_editorial() {
        // The base texts this town receives, and its own, must find the town fields they use.
        let uses = |p: Placeholder| base.written.iter().chain(&written).any(|w| w.uses(p));
        require_town_fields(
            b,
            fields,
            uses(Placeholder::Center),
            uses(Placeholder::Contact),
        );
        editorial_checks(b, &written, fields.town());
    }
    overlay
}

/// The keys an overlay's entries are unique by.
#[derive(Default)]
struct OverlaySeen {
    birthday: HashMap<usize, Origin>,
    note: HashMap<String, Origin>,
}

/// Town keys outside municipality.toml, and base-only keys anywhere in an overlay.
fn check_overlay_file_keys(b: &mut Builder, file: &Parsed<'_>) {
    let raw = &file.raw;
    let is_municipality_file = file.path.rsplit('/').next() == Some(MUNICIPALITY_FILE);
    for (span, key) in town_key_spans(raw) {
        match span {
            Some(span) if !is_municipality_file => b.error(
                file.path,
                file.line(span.start),
                format!("{key} belongs in municipality.toml"),
            ),
            _ => {}
        }
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
                format!("{key} belongs in the base pack; an overlay has display_name, kodomo_center, [contact], [[birthday]] and [[note]]"),
            );
        }
    }
}

fn read_overlay_birthdays<'b, 'f>(
    b: &mut Builder,
    file: &'b Parsed<'f>,
    overlay: &mut Overlay,
    seen: &mut OverlaySeen,
    written: &mut Vec<Written<'b, 'f>>,
) {
    for bd in &file.raw.birthday {
        let Some(i) = birthday_index(b, file, bd) else {
            continue;
        };
        let origin = file.origin(bd.age.span());
        let what = format!("birthday age {}", i + 1);
        if b.unique(&mut seen.birthday, i, origin, &what) {
            overlay.birthdays[i] = b.template(file, &bd.text, TextKind::Birthday);
            if overlay.birthdays[i].is_some() && b.checks_editorial() {
                let age = i as u16 + 1;
                written.push(Written::new(file, &bd.text, TextKind::Birthday, age, what));
            }
        }
    }
}

/// One `[[note]]`: its id, target and text, indexed by the days it covers.
fn read_overlay_note<'b, 'f>(
    b: &mut Builder,
    file: &'b Parsed<'f>,
    note: &'b Spanned<RawNote>,
    base: &Base<'_, '_, '_>,
    overlay: &mut Overlay,
    seen: &mut OverlaySeen,
    written: &mut Vec<Written<'b, 'f>>,
) {
    let origin = file.origin(note.span());
    let n = note.get_ref();
    let note_id = n.id.get_ref().trim().to_owned();
    if note_id.is_empty() {
        b.error(file.path, origin.line, "note id is empty");
        return;
    }
    let Some(target) = note_target(b, file, n, &base.schedule.scheduled) else {
        return;
    };
    let what = format!("note id \"{note_id}\"");
    if !b.unique(&mut seen.note, note_id.clone(), origin, &what) {
        return;
    }
    let kind = match target {
        NoteTarget::Dates { .. } => TextKind::CalendarNote,
        _ => TextKind::RegistrationNote,
    };
    let Some(text) = b.template(file, &n.text, kind) else {
        return;
    };
    if b.checks_editorial() {
        written.push(Written::new(file, &n.text, kind, 0, what));
    }
    let index = overlay.notes.len() as u16;
    match target {
        NoteTarget::Maternity { first, last } => {
            for d in first..=last {
                overlay.day_notes[Programme::Maternity][usize::from(d - MATERNITY_FIRST_DAY)]
                    .push(index);
            }
        }
        NoteTarget::Child { first, last } => {
            for d in first..=last {
                overlay.day_notes[Programme::Child][usize::from(d)].push(index);
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

/// Birthdays: the overlay's own, or the base's.
fn check_overlay_birthdays(
    b: &mut Builder,
    overlay: &Overlay,
    seen: &OverlaySeen,
    fields: &TownFields,
    unread: Unread,
    base: &Base<'_, '_, '_>,
) {
    for age in 1..=3u8 {
        let i = usize::from(age - 1);
        if overlay.birthdays[i].is_none()
            && base.texts.birthdays[i].is_none()
            && !seen.birthday.contains_key(&i)
            && !unread.birthday
            && !base.unread.birthday
        {
            b.error(
                &fields.path,
                1,
                format!("no birthday message for age {age} (neither here nor in the base pack)"),
            );
        }
    }
}

/// Length: municipal texts carry a label and the "（〇〇より）" signature.
fn check_overlay_lengths(b: &mut Builder, overlay: &Overlay, fields: &TownFields) {
    let town_lengths = fields.town().lengths_utf16();
    let signature = town_lengths.municipality + 5;
    let overlay_texts = overlay
        .birthdays
        .iter()
        .flatten()
        .chain(overlay.notes.iter().map(|n| &n.text));
    for text in overlay_texts {
        check_length(b, text, &town_lengths, LABEL_RESERVE_UTF16 + signature);
    }
}

/// Without any overlay, the base must hold every birthday itself: reported at the other
/// birthdays (or the closing message), where the missing one belongs.
fn check_base_birthdays(b: &mut Builder, base: &Base<'_, '_, '_>, closing_origin: Option<&Origin>) {
    let seen_birthday = &base.texts.seen_birthday;
    let (path, line) = seen_birthday
        .values()
        .min_by_key(|o| (&o.path, o.line))
        .or(closing_origin)
        .map_or((base.pack_path.to_owned(), 1), |o| (o.path.clone(), o.line));
    for (i, bd) in base.texts.birthdays.iter().enumerate() {
        if bd.is_none() && !seen_birthday.contains_key(&i) {
            let message = format!("no birthday message for age {}", i + 1);
            b.error(&path, line, message);
        }
    }
}

/// Language packs: the same entries as the base, any subset of its days; a day without a text
/// in the household's language falls back to the base (Japanese) text.
fn build_translations(
    b: &mut Builder,
    sources: &Sources<'_>,
    towns: &BTreeMap<String, TownFields>,
    schedule: &ChildSchedule,
    longest_town: &LongestTown,
) -> BTreeMap<Language, Translation> {
    let mut translations = BTreeMap::new();
    for (&language, files) in &sources.langs {
        let mut t = ProgrammeTexts::default();
        let mut written: Vec<Written<'_, '_>> = Vec::new();
        for file in files {
            lang_file(b, file, &schedule.scheduled, &mut t, &mut written);
        }
        check_programme_lengths(b, &t, longest_town);
        if b.checks_editorial() {
            let [municipality, center, contact] = longest_values(towns);
            let longest = Town {
                municipality: &municipality,
                center: &center,
                contact: &contact,
            };
            editorial_checks_in(b, &written, longest, language);
        }
        let bare = |t: Option<Text>| t.map(|t| t.template);
        translations.insert(
            language,
            Translation {
                days: t.days.map(|table| table.into_iter().map(bare).collect()),
                closing: bare(t.closing),
                birthdays: t.birthdays.map(bare),
            },
        );
    }
    translations
}

/// Lengths of a set of programme texts, with the longest town values anywhere: birthdays are
/// signed "（〇〇より）".
fn check_programme_lengths(b: &mut Builder, t: &ProgrammeTexts, longest_town: &LongestTown) {
    let signature = longest_town.municipality + 5;
    for text in t
        .days
        .values()
        .flatten()
        .chain(std::iter::once(&t.closing))
        .flatten()
    {
        check_length(b, text, longest_town, LABEL_RESERVE_UTF16);
    }
    for text in t.birthdays.iter().flatten() {
        check_length(b, text, longest_town, LABEL_RESERVE_UTF16 + signature);
    }
}

/// The outcome: every error and warning sorted by place, and the library only if there was no
/// error (`library` is built only then).
fn finish(b: Builder, library: impl FnOnce() -> ContentLibrary) -> Outcome {
    let mut warnings = b.warnings;
    warnings.sort_by(|x, y| (&x.path, x.line).cmp(&(&y.path, y.line)));
    warnings.dedup();
    if !b.diagnostics.is_empty() {
        let mut errors = b.diagnostics;
        errors.sort_by(|x, y| (&x.path, x.line).cmp(&(&y.path, y.line)));
        errors.dedup();
        return Outcome {
            library: None,
            errors,
            warnings,
        };
    }
    Outcome {
        library: Some(library()),
        errors: Vec::new(),
        warnings,
    }
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
        parts if survey::is_survey_path(parts) => Some(Place::Survey),
        ["lang", code, _] => match Language::from_code(code) {
            Some(Language::Japanese) => {
                b.error(
                    path,
                    1,
                    "Japanese texts belong in base/ (lang/ holds other languages)",
                );
                None
            }
            Some(language) => Some(Place::Lang(language)),
            None => {
                let known: Vec<&str> = Language::ALL[1..].iter().map(|l| l.code()).collect();
                b.error(
                    path,
                    1,
                    format!(
                        "\"{code}\" is not a language Kizuna knows (lang/ has {})",
                        known.join(", ")
                    ),
                );
                None
            }
        },
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
                "not part of a content pack: put it in base/, lang/<language>/, municipalities/<municipality-id>/ or surveys/",
            );
            None
        }
    }
}

/// One set of programme texts (the base, or one language) while they are read.
struct ProgrammeTexts {
    days: DayTables<Option<Text>>,
    closing: Option<Text>,
    birthdays: [Option<Text>; 3],
    seen_stage: HashMap<u16, Origin>,
    seen_day: HashMap<u16, Origin>,
    seen_birthday: HashMap<usize, Origin>,
    seen_closing: HashMap<(), Origin>,
}

impl Default for ProgrammeTexts {
    fn default() -> Self {
        ProgrammeTexts {
            days: DayTables::filled(None),
            closing: None,
            birthdays: [None, None, None],
            seen_stage: HashMap::new(),
            seen_day: HashMap::new(),
            seen_birthday: HashMap::new(),
            seen_closing: HashMap::new(),
        }
    }
}

/// A file of `lang/<code>/`: maternity, child, closing and birthday entries checked like the
/// base's (stage keys, scheduled days, duplicates, placeholders); anything else is refused.
fn lang_file<'b, 'f>(
    b: &mut Builder,
    file: &'b Parsed<'f>,
    scheduled: &[bool; CHILD_DAYS],
    t: &mut ProgrammeTexts,
    written: &mut Vec<Written<'b, 'f>>,
) {
    let raw = &file.raw;
    let not_here = [
        (raw.id.is_some(), "id"),
        (raw.version.is_some(), "version"),
        (raw.sample.is_some(), "sample"),
        (!raw.child_schedule.is_empty(), "child_schedule"),
        (raw.display_name.is_some(), "display_name"),
        (raw.kodomo_center.is_some(), "kodomo_center"),
        (raw.contact.is_some(), "[contact]"),
        (!raw.note.is_empty(), "[[note]]"),
    ];
    for (present, key) in not_here {
        if present {
            b.error(
                file.path,
                1,
                format!("{key} does not belong in a language pack; it has [[maternity]], [[child]], [closing] and [[birthday]]"),
            );
        }
    }
    read_programme_entries(b, file, scheduled, true, t, written);
}

/// The programme entries of one base or language file: maternity stages, the closing
/// message, scheduled child days and birthdays, each checked for its key, duplicates and
/// placeholders and kept (with what was written, for the editorial checks) in `t`.
/// `schedule_known`: false when base/pack.toml could not be read, so that no child day is
/// called unscheduled on a schedule nobody could read.
fn read_programme_entries<'b, 'f>(
    b: &mut Builder,
    file: &'b Parsed<'f>,
    scheduled: &[bool; CHILD_DAYS],
    schedule_known: bool,
    t: &mut ProgrammeTexts,
    written: &mut Vec<Written<'b, 'f>>,
) {
    let raw = &file.raw;
    for m in &raw.maternity {
        read_maternity_entry(b, file, m, t, written);
    }
    if let Some(c) = &raw.closing {
        let origin = file.origin(c.span());
        if b.unique(&mut t.seen_closing, (), origin, "[closing]") {
            let text = &c.get_ref().text;
            t.closing = b.template(file, text, TextKind::Closing);
            if t.closing.is_some() && b.checks_editorial() {
                let what = "the closing message".to_owned();
                written.push(Written::new(file, text, TextKind::Closing, 0, what));
            }
        }
    }
    for c in &raw.child {
        read_child_entry(b, file, c, scheduled, schedule_known, t, written);
    }
    for bd in &raw.birthday {
        let Some(i) = birthday_index(b, file, bd) else {
            continue;
        };
        let origin = file.origin(bd.age.span());
        let what = format!("birthday age {}", i + 1);
        if b.unique(&mut t.seen_birthday, i, origin, &what) {
            t.birthdays[i] = b.template(file, &bd.text, TextKind::Birthday);
            if t.birthdays[i].is_some() && b.checks_editorial() {
                let age = i as u16 + 1;
                written.push(Written::new(file, &bd.text, TextKind::Birthday, age, what));
            }
        }
    }
}

/// One `[[maternity]]` entry: a valid, unique stage key and its text.
fn read_maternity_entry<'b, 'f>(
    b: &mut Builder,
    file: &'b Parsed<'f>,
    m: &'b RawMaternity,
    t: &mut ProgrammeTexts,
    written: &mut Vec<Written<'b, 'f>>,
) {
    let origin = file.origin(m.stage.span());
    let Some(day) = stage_day(b, file, m.stage.get_ref(), m.stage.span()) else {
        return;
    };
    let what = format!("maternity stage {}", stage_key(day));
    if b.unique(&mut t.seen_stage, day, origin, &what) {
        let text = b.template(file, &m.text, TextKind::Maternity);
        if text.is_some() && b.checks_editorial() {
            written.push(Written::new(file, &m.text, TextKind::Maternity, day, what));
        }
        t.days[Programme::Maternity][usize::from(day - MATERNITY_FIRST_DAY)] = text;
    }
}

/// One `[[child]]` entry: a unique scheduled day within the programme, and its text.
fn read_child_entry<'b, 'f>(
    b: &mut Builder,
    file: &'b Parsed<'f>,
    c: &'b RawChild,
    scheduled: &[bool; CHILD_DAYS],
    schedule_known: bool,
    t: &mut ProgrammeTexts,
    written: &mut Vec<Written<'b, 'f>>,
) {
    let origin = file.origin(c.day.span());
    let day = *c.day.get_ref();
    if day > CHILD_LAST_POSSIBLE_DAY {
        b.error(
            file.path,
            origin.line,
            format!("child day {day} is after the programme (last possible day {CHILD_LAST_POSSIBLE_DAY})"),
        );
        return;
    }
    if !scheduled[usize::from(day)] {
        if schedule_known {
            b.error(
                file.path,
                origin.line,
                format!(
                    "child day {day} is not a scheduled day (see child_schedule in base/pack.toml)"
                ),
            );
        }
        return;
    }
    let what = format!("child day {day}");
    if b.unique(&mut t.seen_day, day, origin, &what) {
        let text = b.template(file, &c.text, TextKind::Child);
        if text.is_some() && b.checks_editorial() {
            written.push(Written::new(file, &c.text, TextKind::Child, day, what));
        }
        t.days[Programme::Child][usize::from(day)] = text;
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
            file.line(n.id.span().start),
            "a note needs exactly one of stage, stages, child_day, child_days, date, dates",
        );
        return None;
    }
    if let Some(s) = &n.stage {
        let d = stage_day(b, file, s.get_ref(), s.span())?;
        return Some(NoteTarget::Maternity { first: d, last: d });
    }
    if let Some(s) = &n.stages {
        let [from, to] = s.get_ref();
        let first = stage_day(b, file, from, s.span());
        let last = stage_day(b, file, to, s.span());
        let (first, last) = (first?, last?);
        return window_ok(b, file, first, last, s.span())
            .then_some(NoteTarget::Maternity { first, last });
    }
    if let Some(d) = &n.child_day {
        return child_window(b, file, scheduled, [*d.get_ref(); 2], d.span());
    }
    if let Some(d) = &n.child_days {
        return child_window(b, file, scheduled, *d.get_ref(), d.span());
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

/// A stage key (`12w3d`) as a gestational day (else reported).
fn stage_day(b: &mut Builder, file: &Parsed<'_>, s: &str, span: Range<usize>) -> Option<u16> {
    let day = parse_stage_key(s);
    if day.is_none() {
        b.error(
            file.path,
            file.line(span.start),
            format!(
                "bad stage \"{s}\": expected weeks and days between 4w0d and 41w6d, like \"12w3d\""
            ),
        );
    }
    day
}

/// Whether a note's window starts before it ends (else reported).
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

/// A note's child-day window: within the programme, in order, holding a scheduled day.
fn child_window(
    b: &mut Builder,
    file: &Parsed<'_>,
    scheduled: &[bool; CHILD_DAYS],
    [first, last]: [u16; 2],
    span: Range<usize>,
) -> Option<NoteTarget> {
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
}

fn check_length(b: &mut Builder, text: &Text, longest: &LongestTown, reserve: usize) {
    let worst = text.template.worst_case_utf16(longest) + reserve;
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

/// The nearest text before a run of missing days (or after it, if the run starts the
/// programme): where an editor adds the missing ones.
fn neighbour(seen: &HashMap<u16, Origin>, run: (u16, u16)) -> Option<(u16, &Origin)> {
    let before = seen
        .iter()
        .filter(|(&d, _)| d < run.0)
        .max_by_key(|(&d, _)| d);
    let after = || {
        seen.iter()
            .filter(|(&d, _)| d > run.1)
            .min_by_key(|(&d, _)| d)
    };
    before.or_else(after).map(|(&d, o)| (d, o))
}

/// What an unreadable file probably held, guessed from its table headers, so that the
/// coverage checks do not report its days as missing on top of the syntax error.
#[derive(Debug, Default, Clone, Copy)]
struct Unread {
    pack: bool,
    municipality_file: bool,
    maternity: bool,
    child: bool,
    closing: bool,
    birthday: bool,
}

impl Unread {
    fn guess(path: &str, text: &str) -> Unread {
        let name = path.rsplit('/').next();
        Unread {
            pack: name == Some(PACK_FILE),
            municipality_file: name == Some(MUNICIPALITY_FILE),
            maternity: text.contains("[[maternity]]"),
            child: text.contains("[[child]]"),
            closing: text.contains("[closing]"),
            birthday: text.contains("[[birthday]]"),
        }
    }

    fn add(&mut self, other: Unread) {
        self.pack |= other.pack;
        self.municipality_file |= other.municipality_file;
        self.maternity |= other.maternity;
        self.child |= other.child;
        self.closing |= other.closing;
        self.birthday |= other.birthday;
    }
}

/// A TOML error as `(line, message)`. A multi-line string without its closing `"""` swallows
/// the next entries, and TOML reports the error where the swallowed text stops making sense,
/// lines later; it is reported where the string opens instead.
fn toml_error(text: &str, e: &toml::de::Error) -> (u32, String) {
    const NOT_READ: &str = "this file could not be read, so its texts are not checked";
    let line = e.span().map_or(1, |s| line_of(&line_starts(text), s.start));
    if let Some((open, swallowed)) = unclosed_string(text) {
        if open <= line {
            return (
                open,
                format!(
                    "TOML error: the text that starts here is not closed: line {swallowed} reads as part of it (end the text with \"\"\"); {NOT_READ}"
                ),
            );
        }
    }
    let message = e.message().trim().replace('\n', " ");
    (line, format!("TOML error: {message} ({NOT_READ})"))
}

/// The line where a multi-line string opens that runs over a line looking like TOML (a table
/// header or `key =`), and that line: the sign of a missing closing `"""`.
fn unclosed_string(text: &str) -> Option<(u32, u32)> {
    let mut open: Option<(u32, &str)> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i as u32 + 1;
        let mut rest = line;
        if let Some((start, delimiter)) = open {
            if looks_like_toml(line) {
                return Some((start, n));
            }
            match rest.find(delimiter) {
                Some(p) => {
                    open = None;
                    rest = &rest[p + delimiter.len()..];
                }
                None => continue,
            }
        }
        loop {
            let next = ["\"\"\"", "'''"]
                .into_iter()
                .filter_map(|d| rest.find(d).map(|p| (p, d)))
                .min();
            match next {
                Some((p, d)) if rest.find('#').is_none_or(|h| h > p) => {
                    let after = &rest[p + d.len()..];
                    match after.find(d) {
                        Some(q) => rest = &after[q + d.len()..],
                        None => {
                            open = Some((n, d));
                            break;
                        }
                    }
                }
                _ => break,
            }
        }
    }
    None
}

fn looks_like_toml(line: &str) -> bool {
    let t = line.trim();
    let header = t.starts_with('[')
        && t.ends_with(']')
        && t.trim_start_matches('[')
            .starts_with(|c: char| c.is_ascii_alphabetic());
    let key = t.split_once('=').is_some_and(|(k, _)| {
        let k = k.trim();
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    header || key
}

const MAX_DISPLAY_NAME_CHARS: usize = 20;
const MAX_CENTER_CHARS: usize = 30;
const MAX_CONTACT_NAME_CHARS: usize = 30;
const MAX_PHONE_CHARS: usize = 20;
const MAX_HOURS_CHARS: usize = 40;

/// A municipality's own values from its municipality.toml (what is missing or wrong is
/// reported; what remains is used for lengths and rendering).
struct TownFields {
    /// Empty if missing (reported).
    name: String,
    center: Option<String>,
    contact: Option<String>,
    /// municipality.toml, where a missing field belongs.
    path: String,
    /// municipality.toml could not be read: its fields are unknown, not missing.
    unread: bool,
}

impl TownFields {
    fn town(&self) -> Town<'_> {
        Town {
            municipality: if self.name.is_empty() {
                FALLBACK_MUNICIPALITY_NAME
            } else {
                &self.name
            },
            center: self.center.as_deref().unwrap_or(FALLBACK_CENTER),
            contact: self.contact.as_deref().unwrap_or(FALLBACK_CONTACT),
        }
    }
}

fn town_fields(b: &mut Builder, id: &str, files: &[Parsed<'_>], unread: Unread) -> TownFields {
    let file = files
        .iter()
        .find(|p| p.path.rsplit('/').next() == Some(MUNICIPALITY_FILE));
    let mut t = TownFields {
        name: String::new(),
        center: None,
        contact: None,
        path: file.map_or_else(
            || format!("municipalities/{id}/{MUNICIPALITY_FILE}"),
            |p| p.path.to_owned(),
        ),
        unread: unread.municipality_file,
    };
    let Some(p) = file else {
        if !t.unread {
            b.error(
                &t.path,
                1,
                "missing `display_name = \"…\"` (e.g. display_name = \"きずな町\")",
            );
        }
        return t;
    };
    let raw = &p.raw;
    match &raw.display_name {
        // An over-long name is reported once and counted at the limit, so that it does not
        // also make every text "too long" and bury the town's other problems.
        Some(name) => {
            if let Some(name) = one_line(b, p, name, "display_name", MAX_DISPLAY_NAME_CHARS) {
                t.name = name;
            }
        }
        None => b.error(
            p.path,
            1,
            "missing `display_name = \"…\"` (e.g. display_name = \"きずな町\")",
        ),
    }
    if let Some(center) = &raw.kodomo_center {
        t.center = one_line(b, p, center, "kodomo_center", MAX_CENTER_CHARS);
    }
    if let Some(contact) = &raw.contact {
        let line = p.line(contact.span().start);
        let c = contact.get_ref();
        let mut field = |value: &Option<Spanned<String>>, key: &str, max: usize| match value {
            None => {
                b.error(p.path, line, format!("[contact] needs `{key} = \"…\"`"));
                None
            }
            Some(v) => one_line(b, p, v, &format!("[contact] {key}"), max),
        };
        let name = field(&c.name, "name", MAX_CONTACT_NAME_CHARS);
        let phone = field(&c.phone, "phone", MAX_PHONE_CHARS);
        let hours = field(&c.hours, "hours", MAX_HOURS_CHARS);
        if let (Some(phone), Some(span)) = (&phone, c.phone.as_ref().map(Spanned::span)) {
            if !is_phone_number(phone) {
                b.error(
                    p.path,
                    p.line(span.start),
                    format!("[contact] phone \"{phone}\" is not a phone number: write digits and hyphens, like \"0123-45-6789\" or \"#8000\""),
                );
            }
        }
        if let (Some(name), Some(phone), Some(hours)) = (name, phone, hours) {
            t.contact = Some(format!("{name}（電話 {phone}、{hours}）"));
        }
    }
    t
}

/// A one-line text field: trimmed, not empty, at most `max` characters (cut to `max` after
/// reporting, so that lengths computed from it stay sensible).
fn one_line(
    b: &mut Builder,
    p: &Parsed<'_>,
    value: &Spanned<String>,
    key: &str,
    max: usize,
) -> Option<String> {
    let line = p.line(value.span().start);
    let v = value.get_ref().trim();
    if v.is_empty() {
        b.error(p.path, line, format!("{key} is empty"));
        return None;
    }
    if v.contains('\n') {
        b.error(p.path, line, format!("{key} must be one line"));
    }
    if v.chars().count() > max {
        b.error(
            p.path,
            line,
            format!("{key} is longer than {max} characters"),
        );
    }
    Some(v.chars().take(max).collect())
}

/// Digits and single hyphens, optionally after `#` (#8000), 3 to 15 digits.
fn is_phone_number(s: &str) -> bool {
    let digits = s.strip_prefix('#').unwrap_or(s);
    let count = digits.chars().filter(char::is_ascii_digit).count();
    (3..=15).contains(&count)
        && digits.chars().all(|c| c.is_ascii_digit() || c == '-')
        && !digits.starts_with('-')
        && !digits.ends_with('-')
        && !digits.contains("--")
}

/// `content check`: a town whose texts use `{center}` or `{contact}` must give the value, or
/// its parents would read the generic fallback where the town's own number was meant.
fn require_town_fields(b: &mut Builder, town: &TownFields, center: bool, contact: bool) {
    if town.unread {
        return;
    }
    if center && town.center.is_none() {
        b.error(
            &town.path,
            1,
            "the texts use {center}: add `kodomo_center = \"…\"` (e.g. kodomo_center = \"きずな町こども家庭センター\")",
        );
    }
    if contact && town.contact.is_none() {
        b.error(
            &town.path,
            1,
            "the texts use {contact}: add a [contact] table with name, phone and hours (see docs/content-authoring.md)",
        );
    }
}

/// The longest value of each town field (municipality, center, contact) over every overlay and
/// the fallbacks.
fn longest_values(towns: &BTreeMap<String, TownFields>) -> [String; 3] {
    let all: Vec<Town<'_>> = towns
        .values()
        .map(TownFields::town)
        .chain(std::iter::once(Town::FALLBACK))
        .collect();
    let longest = |pick: for<'t> fn(&Town<'t>) -> &'t str| {
        all.iter()
            .map(pick)
            .max_by_key(|v| v.chars().count())
            .unwrap_or_default()
            .to_owned()
    };
    [
        longest(|t| t.municipality),
        longest(|t| t.center),
        longest(|t| t.contact),
    ]
}

/// A text as written in a file, for the editorial checks.
struct Written<'b, 'f> {
    file: &'b Parsed<'f>,
    text: &'b Spanned<String>,
    kind: TextKind,
    /// Gestational day, child day or birthday age; 0 where there is none.
    day: u16,
    /// "maternity 12w3d", "child day 37", …
    what: String,
    template: Option<Template>,
}

impl<'b, 'f> Written<'b, 'f> {
    fn new(
        file: &'b Parsed<'f>,
        text: &'b Spanned<String>,
        kind: TextKind,
        day: u16,
        what: String,
    ) -> Self {
        let template = Template::parse(text.get_ref(), kind).ok();
        Written {
            file,
            text,
            kind,
            day,
            what,
            template,
        }
    }

    fn uses(&self, p: Placeholder) -> bool {
        self.template
            .as_ref()
            .is_some_and(|t| t.placeholders().any(|x| x == p))
    }

    fn line_at(&self, offset: usize) -> u32 {
        self.file
            .line_in_string(&self.text.span(), offset, self.text.get_ref())
    }

    fn place(&self, prefix: &str) -> String {
        format!(
            "{} ({prefix}{}:{})",
            self.what,
            self.file.path,
            self.file.line(self.text.span().start)
        )
    }
}

/// Repeated sentences across texts and repeated words within one (warnings), numbers that
/// contradict the day and outdated terms (errors), readable length (warning) — see
/// `docs/content-authoring.md`.
fn editorial_checks(b: &mut Builder, texts: &[Written<'_, '_>], town: Town<'_>) {
    editorial_checks_in(b, texts, town, Language::Japanese)
}

/// [`editorial_checks`] for texts written in `language` (the number-vs-day check reads each
/// language's way of writing a week or an age).
fn editorial_checks_in(
    b: &mut Builder,
    texts: &[Written<'_, '_>],
    town: Town<'_>,
    language: Language,
) {
    let mut first_seen: HashMap<String, usize> = HashMap::new();
    for (i, w) in texts.iter().enumerate() {
        let text = w.text.get_ref();
        let path = w.file.path;
        for (offset, sentence) in editorial::sentences(text) {
            match first_seen.get(&sentence) {
                Some(&j) if j != i => {
                    let first = texts[j].place(&b.prefix);
                    let message = format!("same sentence as {first}: 「{sentence}」");
                    b.warning(path, w.line_at(offset), message);
                }
                Some(_) => {}
                None => {
                    first_seen.insert(sentence, i);
                }
            }
        }
        for (offset, word) in editorial::repeated_words(text) {
            let message = format!("「{word}」 is used more than once in this text");
            b.warning(path, w.line_at(offset), message);
        }
        for (offset, message) in editorial::contradicting_numbers_in(text, w.kind, w.day, language)
        {
            b.error(path, w.line_at(offset), message);
        }
        for (offset, term, replacement, since) in editorial::outdated_terms(text) {
            let message = format!("outdated term 「{term}」: write 「{replacement}」 ({since})");
            b.error(path, w.line_at(offset), message);
        }
        if let Some(template) = &w.template {
            let values = Values {
                week: 41,
                day: 6,
                age_days: CHILD_LAST_POSSIBLE_DAY,
                age: 3,
                town,
                baby_count: 2,
            };
            let rendered = template.render(&values);
            let chars = rendered.chars().count();
            // Past LINE's own limit it is an error already (check_length).
            let over_limit = rendered.encode_utf16().count() + LABEL_RESERVE_UTF16 > MAX_TEXT_UTF16;
            if chars > editorial::READABLE_CHARS && !over_limit {
                b.warning(
                    path,
                    w.file.line(w.text.span().start),
                    format!(
                        "long for LINE: up to {chars} characters with the longest town values (aim for at most {})",
                        editorial::READABLE_CHARS
                    ),
                );
            }
        }
    }
}
