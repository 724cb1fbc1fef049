//! Content packs: the texts parents receive, as files a municipal clerk can edit.
//!
//! A content directory holds one base pack and any number of municipality overlays:
//!
//! ```text
//! base/pack.toml                       id, version, sample marker, child schedule after day 100
//! base/*.toml                          [[maternity]] stage = "12w3d", [[child]] day = 37,
//!                                      [closing], [[birthday]] age = 1
//! lang/<code>/*.toml                   the same entries as base/ in another language (en,
//!                                      ja-easy), any subset of days; the rest falls back to base
//! municipalities/<id>/municipality.toml display_name = "きずな町", kodomo_center, [contact]
//! municipalities/<id>/*.toml           [[birthday]] (overrides the base), [[note]]
//! surveys/<id>.toml                    one network survey (crate::survey): audience, dates,
//!                                      invitation, [[question]], thanks
//! ```
//!
//! Everything is parsed and validated up front ([`ContentLibrary::from_files`]); a library that
//! loads is complete (every scheduled day has a text) and every text fits LINE's limit with the
//! longest placeholder values, so the daily plan never has to fail. Templates are pre-parsed and
//! indexed by day in `Vec`s because the plan runs millions of times per daily fan-out.
//! `kizuna content check` and `content sync` add the editorial checks ([`editorial`]) and the
//! town fields the texts use ([`ContentLibrary::check_files`]); the sender does not, so that an
//! editorial finding stops the next upload, never a day's messages.
//! The authoring guide is `docs/content-authoring.md`; the reviewer's checklist
//! `docs/content-review.md`.

mod compiled;
pub mod editorial;
mod parse;
pub mod template;

pub use compiled::{ArtifactError, ArtifactHeader, ARTIFACT_FORMAT_VERSION, ARTIFACT_MAGIC};

use crate::household::Language;
use crate::ids::MunicipalityId;
pub use crate::programme::CHILD_LAST_POSSIBLE_DAY;
use crate::programme::{Programme, MATERNITY_FIRST_DAY, MATERNITY_LAST_DAY};
use crate::survey::Survey;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Index, IndexMut};
use std::path::Path;

pub use template::{
    LongestTown, Placeholder, Template, TemplateError, TextKind, Town, Values, FALLBACK_CENTER,
    FALLBACK_CONTACT, FALLBACK_MUNICIPALITY_NAME,
};

/// UTF-16 units the plan may add around a text: a registration label such as
/// 【出産予定日 12月31日の赤ちゃん】 plus a line break. The length check reserves them.
pub const LABEL_RESERVE_UTF16: usize = 40;

/// One file of a content directory, as read from disk or S3. `path` is relative to the
/// content root and uses `/` (e.g. `base/pack.toml`, `municipalities/kizuna-town/notes.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

/// Whether a problem stops the pack (error) or is printed for the editor to judge (warning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// A problem in a content file, printed as `path:line: message` for an error and
/// `path:line: warning: message` for a warning (line 1 for whole-file problems).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub path: String,
    pub line: u32,
    pub message: String,
    pub severity: Severity,
}

impl Diagnostic {
    pub fn new(path: impl Into<String>, line: u32, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            line,
            message: message.into(),
            severity: Severity::Error,
        }
    }

    pub fn warning(path: impl Into<String>, line: u32, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::new(path, line, message)
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.severity {
            Severity::Error => write!(f, "{}:{}: {}", self.path, self.line, self.message),
            Severity::Warning => {
                write!(f, "{}:{}: warning: {}", self.path, self.line, self.message)
            }
        }
    }
}

/// What `kizuna content check` finds: the library if nothing is an error, every error, and
/// every warning (editorial findings an editor should look at; they do not stop the pack).
#[derive(Debug)]
pub struct CheckReport {
    pub library: Option<ContentLibrary>,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

/// Where a text came from, for diagnostics and previews.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub path: String,
    pub line: u32,
}

/// One value per programme, in [`Programme::ALL`] order: the day tables are keyed by
/// programme, so a new programme adds a row here rather than a field to every table's type.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ByProgramme<T>([T; Programme::ALL.len()]);

impl<T> ByProgramme<T> {
    pub fn from_fn(f: impl FnMut(Programme) -> T) -> Self {
        ByProgramme(Programme::ALL.map(f))
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> ByProgramme<U> {
        ByProgramme(self.0.map(f))
    }

    /// The values in [`Programme::ALL`] order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.0.iter()
    }
}

impl<T> Index<Programme> for ByProgramme<T> {
    type Output = T;

    fn index(&self, programme: Programme) -> &T {
        &self.0[programme.index()]
    }
}

impl<T> IndexMut<Programme> for ByProgramme<T> {
    fn index_mut(&mut self, programme: Programme) -> &mut T {
        &mut self.0[programme.index()]
    }
}

/// Per programme, one row per day from its first day (see
/// [`crate::programme::ProgrammeSpec::day_index`]): maternity by gestational day − 28, child
/// by child day.
pub(crate) type DayTables<T> = ByProgramme<Vec<T>>;

impl<T> DayTables<T> {
    /// Tables of `programme`'s [`crate::programme::ProgrammeSpec::day_count`] rows of `empty`.
    pub fn filled(empty: T) -> Self
    where
        T: Clone,
    {
        ByProgramme::from_fn(|p| vec![empty.clone(); p.spec().day_count()])
    }

    /// The row of `programme`'s day `day`, if the table has it.
    pub fn day(&self, programme: Programme, day: u16) -> Option<&T> {
        self[programme].get(programme.spec().day_index(day)?)
    }

    /// Whether every programme's table has its programme's number of rows.
    pub fn sizes_match(&self) -> bool {
        Programme::ALL
            .into_iter()
            .all(|p| self[p].len() == p.spec().day_count())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Text {
    pub template: Template,
    pub origin: Origin,
}

/// "every `every_days` days from `from_day` to `to_day`" (child days, inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleRule {
    pub from_day: u16,
    pub to_day: u16,
    pub every_days: u16,
}

/// What a municipality note is attached to. Windows are inclusive; a note is sent once, on the
/// first day in its window that the registration (or, for dates, the household) receives a
/// programme message on or after registering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoteTarget {
    /// Gestational days (a single stage is a window of one day).
    Maternity { first: u16, last: u16 },
    /// Child days.
    Child { first: u16, last: u16 },
    /// Calendar dates in Japan.
    Dates { first: NaiveDate, last: NaiveDate },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Note {
    pub id: String,
    pub target: NoteTarget,
    pub(crate) text: Text,
}

impl Note {
    pub fn template(&self) -> &Template {
        &self.text.template
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Overlay {
    pub display_name: String,
    /// `{center}`: the town's こども家庭センター, if the overlay names it.
    pub center: Option<String>,
    /// `{contact}`: "name（電話 phone、hours）", if the overlay has a `[contact]`.
    pub contact: Option<String>,
    pub birthdays: [Option<Text>; 3],
    pub notes: Vec<Note>,
    /// Per programme day: indices into `notes` whose window contains that day.
    pub day_notes: DayTables<Vec<u16>>,
    pub calendar_notes: Vec<u16>,
}

/// A validated set of content: the base pack and every municipality overlay.
///
/// `Serialize`/`Deserialize` exist for the compiled artifact only ([`compiled`]); they are not
/// behind a feature because every user of the library needs one side (the CLI writes it, the
/// functions read it) and serde is already a dependency, so a feature would gate nothing.
/// Changing any field, here or in a type it holds, changes the encoding: bump
/// [`ARTIFACT_FORMAT_VERSION`] (the `format_fingerprint` test fails until you do).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContentLibrary {
    pub(crate) pack_id: String,
    pub(crate) pack_version: String,
    pub(crate) sample: bool,
    pub(crate) digest: String,
    pub(crate) schedule: Vec<ScheduleRule>,
    /// Indexed by child day: the smallest scheduled child day ≥ it (`u16::MAX` if none).
    pub(crate) next_child_day: Vec<u16>,
    // The day tables hold bare templates (24 bytes each, origins dropped after validation):
    // the plan reads them for every registration, and dense tables stay in cache.
    /// Per programme day; `None` on child days that are not scheduled.
    pub(crate) days: DayTables<Option<Template>>,
    pub(crate) closing: Option<Template>,
    pub(crate) birthdays: [Option<Template>; 3],
    pub(crate) municipalities: BTreeMap<MunicipalityId, Overlay>,
    /// `lang/<code>/`: texts in other languages, by day like the base tables; `None` where
    /// the language has no text (the base's is sent).
    pub(crate) translations: BTreeMap<Language, Translation>,
    /// `surveys/<id>.toml`: the network's surveys, validated ([`crate::survey`]).
    pub(crate) surveys: Vec<Survey>,
}

/// One language's texts (a subset of the base's days).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Translation {
    /// Per programme day, like the base's.
    pub days: DayTables<Option<Template>>,
    pub closing: Option<Template>,
    pub birthdays: [Option<Template>; 3],
}

/// How much of the base one language pack covers (`kizuna content check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub maternity_days: usize,
    pub maternity_total: usize,
    pub child_days: usize,
    pub child_total: usize,
    pub closing: bool,
    pub birthdays: usize,
}

impl ContentLibrary {
    /// The pack's surveys, open or not, in id order.
    pub fn surveys(&self) -> &[Survey] {
        &self.surveys
    }

    /// Parses and validates a content directory given as in-memory files (the sender reads them
    /// from S3). Files outside `base/`, `lang/<code>/`, `municipalities/<id>/` and `surveys/`, files under `tools/`, and
    /// files not ending in `.toml` are ignored. All problems are returned, not just the first.
    pub fn from_files(
        files: impl IntoIterator<Item = SourceFile>,
    ) -> Result<ContentLibrary, Vec<Diagnostic>> {
        let outcome = parse::build(files.into_iter().collect(), "", parse::Mode::Strict);
        outcome.library.ok_or(outcome.errors)
    }

    /// Like [`ContentLibrary::from_files`], but a scheduled day without a text does not fail the
    /// library: it is returned as a warning, and the plan reports it per household
    /// ([`crate::plan::DailyPlan::missing`]). This is the sender's mode — a gap in the content
    /// must skip only the households on that day, not every parent of every town — while
    /// `kizuna content check` and `content sync` refuse such a pack before it is uploaded.
    /// Every other problem (syntax, placeholders, lengths, duplicates) still fails.
    pub fn from_files_allowing_gaps(
        files: impl IntoIterator<Item = SourceFile>,
    ) -> Result<(ContentLibrary, Vec<Diagnostic>), Vec<Diagnostic>> {
        let outcome = parse::build(files.into_iter().collect(), "", parse::Mode::AllowGaps);
        match outcome.library {
            Some(library) => Ok((library, outcome.warnings)),
            None => Err(outcome.errors),
        }
    }

    /// Everything `kizuna content check` and `content sync` check: what
    /// [`ContentLibrary::from_files`] checks, plus the editorial checks (repeated sentences and
    /// words, numbers that contradict the day, outdated terms, readable length) and the town
    /// fields the texts use (`{center}`, `{contact}`). The sender does not run these: an old
    /// term must not stop a day's messages, it must stop the next upload.
    pub fn check_files(files: impl IntoIterator<Item = SourceFile>) -> CheckReport {
        parse::build(files.into_iter().collect(), "", parse::Mode::Check).into_report()
    }

    /// [`ContentLibrary::check_files`] on a directory; diagnostics name files as
    /// `dir/relative/path`.
    pub fn check_dir(dir: &Path) -> CheckReport {
        let (files, unreadable) = read_dir_files(dir);
        let prefix = format!("{}/", dir.to_string_lossy().trim_end_matches('/'));
        let mut report = parse::build(files, &prefix, parse::Mode::Check).into_report();
        if !unreadable.is_empty() {
            report.library = None;
            report.errors.extend(unreadable);
            report
                .errors
                .sort_by(|x, y| (&x.path, x.line).cmp(&(&y.path, y.line)));
        }
        report
    }

    /// Reads a content directory from disk. Diagnostics name files as `dir/relative/path`.
    pub fn load_dir(dir: &Path) -> Result<ContentLibrary, Vec<Diagnostic>> {
        let (files, mut diagnostics) = read_dir_files(dir);
        let prefix = format!("{}/", dir.to_string_lossy().trim_end_matches('/'));
        let outcome = parse::build(files, &prefix, parse::Mode::Strict);
        match outcome.library {
            Some(library) if diagnostics.is_empty() => Ok(library),
            _ => {
                diagnostics.extend(outcome.errors);
                diagnostics.sort_by(|x, y| (&x.path, x.line).cmp(&(&y.path, y.line)));
                Err(diagnostics)
            }
        }
    }

    /// Identifies the exact content (SHA-256 over every file's path and text, hex): a cache key
    /// and what a run record stores so that any sent message can be traced to its text.
    pub fn version(&self) -> &str {
        &self.digest
    }

    /// The base pack's `id` and `version` as its authors wrote them.
    pub fn pack_id(&self) -> &str {
        &self.pack_id
    }

    pub fn pack_version(&self) -> &str {
        &self.pack_version
    }

    /// True for the sample pack shipped with the code (not real programme text).
    pub fn is_sample(&self) -> bool {
        self.sample
    }

    pub fn schedule(&self) -> &[ScheduleRule] {
        &self.schedule
    }

    pub fn municipalities(&self) -> impl Iterator<Item = &MunicipalityId> {
        self.municipalities.keys()
    }

    pub fn has_municipality(&self, id: &MunicipalityId) -> bool {
        self.municipalities.contains_key(id)
    }

    /// Base + overlay for one municipality. A municipality without an overlay gets the base
    /// texts, no notes, and no "（〇〇より）" label. The texts are the base's (Japanese);
    /// [`MunicipalityContent::in_language`] picks another language with per-day fallback.
    pub fn for_municipality(&self, id: &MunicipalityId) -> MunicipalityContent<'_> {
        let overlay = self.municipalities.get(id);
        MunicipalityContent {
            library: self,
            overlay,
            translation: None,
        }
    }

    /// The languages that have a pack under `lang/`, in [`Language`] order.
    pub fn languages(&self) -> impl Iterator<Item = Language> + '_ {
        self.translations.keys().copied()
    }

    /// How much of the base `language` covers (`None`: no pack for it; Japanese is the base).
    pub fn coverage(&self, language: Language) -> Option<Coverage> {
        let t = self.translations.get(&language)?;
        let child_total = self.scheduled_child_days().count();
        Some(Coverage {
            maternity_days: t.days[Programme::Maternity].iter().flatten().count(),
            maternity_total: self.days[Programme::Maternity].len(),
            child_days: self
                .scheduled_child_days()
                .filter(|&d| t.days.day(Programme::Child, d).is_some_and(Option::is_some))
                .count(),
            child_total,
            closing: t.closing.is_some(),
            birthdays: t.birthdays.iter().flatten().count(),
        })
    }

    /// Scheduled child days (0..=100 and the pack's schedule), ascending.
    pub fn scheduled_child_days(&self) -> impl Iterator<Item = u16> + '_ {
        (0..=CHILD_LAST_POSSIBLE_DAY).filter(|&d| self.next_child_day[usize::from(d)] == d)
    }
}

/// Where a birthday text comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextSource {
    Base,
    Municipality,
}

/// The content one municipality's parents receive: the base pack with the overlay on top.
#[derive(Debug, Clone, Copy)]
pub struct MunicipalityContent<'a> {
    library: &'a ContentLibrary,
    overlay: Option<&'a Overlay>,
    /// The household's language pack, if it is not Japanese and the library has one.
    translation: Option<&'a Translation>,
}

impl<'a> MunicipalityContent<'a> {
    pub fn library(&self) -> &'a ContentLibrary {
        self.library
    }

    /// The same content read in `language`: each day's text in that language where its pack
    /// has one, the base (Japanese) text otherwise. Town notes stay as the town wrote them.
    pub fn in_language(self, language: Language) -> MunicipalityContent<'a> {
        MunicipalityContent {
            translation: self.library.translations.get(&language),
            ..self
        }
    }

    /// Whether the text for `key` (as [`crate::plan::PlannedItem::content_key`] names it:
    /// `maternity/12w3d`, `closing`, `child/37`, `birthday/1`) comes from the language pack
    /// rather than falling back to the base.
    pub fn is_translated(&self, key: &str) -> bool {
        let Some(t) = self.translation else {
            return false;
        };
        let day = |s: &str| s.parse::<u16>().ok();
        match key.split_once('/') {
            Some(("maternity", stage)) => parse_stage_key(stage)
                .and_then(|d| t.days.day(Programme::Maternity, d))
                .is_some_and(Option::is_some),
            Some(("child", n)) => day(n)
                .and_then(|d| t.days.day(Programme::Child, d))
                .is_some_and(Option::is_some),
            Some(("birthday", n)) => day(n)
                .and_then(|a| t.birthdays.get(usize::from(a).checked_sub(1)?))
                .is_some_and(Option::is_some),
            None if key == "closing" => t.closing.is_some(),
            _ => false,
        }
    }

    /// The name for the "（〇〇町より）" label, if the municipality has an overlay.
    pub fn display_name(&self) -> Option<&'a str> {
        self.overlay.map(|o| o.display_name.as_str())
    }

    /// The value of `{municipality}`.
    pub fn municipality_name(&self) -> &'a str {
        self.display_name().unwrap_or(FALLBACK_MUNICIPALITY_NAME)
    }

    /// The values of `{municipality}`, `{center}` and `{contact}`: the overlay's, or wording
    /// that reads well anywhere for what it does not give.
    pub fn town(&self) -> Town<'a> {
        let overlay = self.overlay;
        Town {
            municipality: self.municipality_name(),
            center: overlay
                .and_then(|o| o.center.as_deref())
                .unwrap_or(FALLBACK_CENTER),
            contact: overlay
                .and_then(|o| o.contact.as_deref())
                .unwrap_or(FALLBACK_CONTACT),
        }
    }

    /// The text of `programme`'s day `day`: the household's language's, else the base's.
    pub fn day_text(&self, programme: Programme, day: u16) -> Option<&'a Template> {
        self.translation
            .and_then(|t| t.days.day(programme, day)?.as_ref())
            .or_else(|| self.library.days.day(programme, day)?.as_ref())
    }

    pub fn maternity(&self, gestational_day: u16) -> Option<&'a Template> {
        self.day_text(Programme::Maternity, gestational_day)
    }

    pub fn closing(&self) -> Option<&'a Template> {
        self.translation
            .and_then(|t| t.closing.as_ref())
            .or(self.library.closing.as_ref())
    }

    /// Whether child day `day` has a message at all (0..=100, or in the pack's schedule).
    pub fn is_child_day_scheduled(&self, day: u16) -> bool {
        self.next_child_day(day) == Some(day)
    }

    /// The first scheduled child day on or after `day`.
    pub fn next_child_day(&self, day: u16) -> Option<u16> {
        match self.library.next_child_day.get(usize::from(day)) {
            Some(&d) if d != u16::MAX => Some(d),
            _ => None,
        }
    }

    pub fn child(&self, day: u16) -> Option<&'a Template> {
        self.day_text(Programme::Child, day)
    }

    /// The birthday text for `age` (1..=3): the language pack's if the household reads another
    /// language and the pack has one (the town's own birthday text is Japanese), else the
    /// municipality's own if it has one, else the base.
    pub fn birthday(&self, age: u8) -> Option<(&'a Template, TextSource)> {
        let i = usize::from(age.checked_sub(1)?);
        if let Some(t) = self.translation.and_then(|t| t.birthdays.get(i)?.as_ref()) {
            return Some((t, TextSource::Base));
        }
        if let Some(t) = self.overlay.and_then(|o| o.birthdays.get(i)?.as_ref()) {
            return Some((&t.template, TextSource::Municipality));
        }
        self.library
            .birthdays
            .get(i)?
            .as_ref()
            .map(|t| (t, TextSource::Base))
    }

    pub fn notes(&self) -> &'a [Note] {
        self.overlay.map_or(&[], |o| o.notes.as_slice())
    }

    /// Notes whose window in `programme` contains its day `day`.
    pub(crate) fn day_notes(&self, programme: Programme, day: u16) -> &'a [u16] {
        self.overlay
            .and_then(|o| o.day_notes.day(programme, day))
            .map_or(&[], Vec::as_slice)
    }

    /// Notes whose maternity window contains `gestational_day`.
    pub(crate) fn maternity_notes(&self, gestational_day: u16) -> &'a [u16] {
        self.day_notes(Programme::Maternity, gestational_day)
    }

    /// Notes whose child window contains `day`.
    pub(crate) fn child_notes(&self, day: u16) -> &'a [u16] {
        self.day_notes(Programme::Child, day)
    }

    pub(crate) fn calendar_notes(&self) -> &'a [u16] {
        self.overlay.map_or(&[], |o| o.calendar_notes.as_slice())
    }
}

/// Stage key as written in content files: gestational day 87 → `12w3d`.
pub fn stage_key(gestational_day: u16) -> String {
    format!("{}w{}d", gestational_day / 7, gestational_day % 7)
}

/// Parses a stage key (`12w3d`) into a gestational day within 4w0d..=41w6d.
pub fn parse_stage_key(key: &str) -> Option<u16> {
    let (weeks, days) = key.strip_suffix('d')?.split_once('w')?;
    let ok_digits =
        |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !ok_digits(weeks) || !ok_digits(days) {
        return None;
    }
    let (weeks, days): (u16, u16) = (weeks.parse().ok()?, days.parse().ok()?);
    let day = weeks * 7 + days;
    (days < 7 && (MATERNITY_FIRST_DAY..=MATERNITY_LAST_DAY).contains(&day)).then_some(day)
}

/// Recursively reads every file under `dir`; unreadable or non-UTF-8 `.toml` files become
/// diagnostics, other unreadable files are ignored (they are not content).
fn read_dir_files(dir: &Path) -> (Vec<SourceFile>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    let prefix = dir.to_string_lossy().trim_end_matches('/').to_owned();
    while let Some(current) = stack.pop() {
        let entries = match std::fs::read_dir(&current) {
            Ok(entries) => entries,
            Err(e) => {
                diagnostics.push(Diagnostic::new(
                    current.to_string_lossy(),
                    1,
                    format!("cannot read directory: {e}"),
                ));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            if !relative.ends_with(".toml") {
                continue;
            }
            match std::fs::read(&path) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => files.push(SourceFile {
                        path: relative,
                        text,
                    }),
                    Err(_) => diagnostics.push(Diagnostic::new(
                        format!("{prefix}/{relative}"),
                        1,
                        "unreadable file: not UTF-8 text (save it as UTF-8)",
                    )),
                },
                Err(e) => diagnostics.push(Diagnostic::new(
                    format!("{prefix}/{relative}"),
                    1,
                    format!("unreadable file: {e}"),
                )),
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    (files, diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_keys_round_trip_and_reject_nonsense() {
        assert_eq!(parse_stage_key("12w3d"), Some(87));
        assert_eq!(parse_stage_key("4w0d"), Some(28));
        assert_eq!(parse_stage_key("41w6d"), Some(293));
        for bad in [
            "3w6d", "42w0d", "12w7d", "12w", "w3d", "12W3D", "+1w0d", "12w3d ", "",
        ] {
            assert_eq!(parse_stage_key(bad), None, "{bad:?}");
        }
        for day in MATERNITY_FIRST_DAY..=MATERNITY_LAST_DAY {
            assert_eq!(parse_stage_key(&stage_key(day)), Some(day));
        }
    }

    #[test]
    fn day_tables_have_a_row_per_programme_day() {
        // Rows as the separate maternity and child tables had them: 4w0d..=41w6d and 0..=1095.
        let tables = DayTables::filled(0u16);
        assert_eq!(tables[Programme::Maternity].len(), 266);
        assert_eq!(tables[Programme::Child].len(), 1096);
        assert!(tables.sizes_match());
        let mut numbered = DayTables::filled(0u16);
        for programme in Programme::ALL {
            for (row, value) in numbered[programme].iter_mut().enumerate() {
                *value = row as u16;
            }
        }
        assert_eq!(numbered.day(Programme::Maternity, 27), None);
        assert_eq!(numbered.day(Programme::Maternity, 28), Some(&0));
        assert_eq!(numbered.day(Programme::Maternity, 293), Some(&265));
        assert_eq!(numbered.day(Programme::Maternity, 294), None);
        assert_eq!(numbered.day(Programme::Child, 0), Some(&0));
        assert_eq!(numbered.day(Programme::Child, 1095), Some(&1095));
        assert_eq!(numbered.day(Programme::Child, 1096), None);
        numbered[Programme::Child].pop();
        assert!(!numbered.sizes_match());
    }
}
