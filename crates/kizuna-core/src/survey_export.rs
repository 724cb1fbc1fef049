//! The researchers' export of one survey (`kizuna survey export`): one row per household
//! that agreed to the network's joint research, and nothing that names the parent.
//!
//! - Only households whose `research_consent` is `Some(true)`: a parent who declined, or
//!   never answered the consent question, is in the town's counts but never here.
//! - No LINE user id: each row carries a **pseudonym** =
//!   HMAC-SHA256(key, survey id ‖ 0x00 ‖ municipality id ‖ 0x00 ‖ LINE user id), hex, first
//!   16 digits. The key is the network's secret (AWS Secrets Manager, read by the operators'
//!   CLI only), so nobody without it can link a pseudonym to a LINE id or test a guess; the
//!   survey id in the input makes the pseudonyms of two surveys unlinkable (one survey's
//!   answers cannot be joined with another's by pseudonym).
//! - No date: the survey's month only (a column, the same on every row). The stage is the
//!   coarse band stored at the first answer (`pregnancy_mid`, `child_6_11m`, …), never a date.
//! - The town only where at least [`MIN_TOWN_ROWS`] consenting households answered;
//!   others are `other`. If the `other` group would then hold fewer than
//!   [`MIN_TOWN_ROWS`] rows, the smallest named towns join it until it does not (else a
//!   reader who knows which towns take part would know whose rows `other` is).
//! - Free-text answers are included: they are what researchers need. They are the parent's
//!   own words and may identify them (a name, a place); the export is for the network's
//!   joint research under its agreement, not for publication.
//! - Rows are sorted by pseudonym: no order that follows the towns or the user ids.

use crate::household::Household;
use crate::ids::MunicipalityId;
use crate::survey::{Answer, QuestionKind, Survey};
use chrono::Datelike;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::fmt;

/// Rows a town needs to be named in an export (and the least an `other` group holds).
pub const MIN_TOWN_ROWS: usize = 5;

/// Hex digits of a pseudonym: 64 bits, so a collision among a survey's households is
/// negligible (≈ n² / 2⁶⁵).
pub const PSEUDONYM_HEX_DIGITS: usize = 16;

/// The shortest key accepted (bytes). The stack generates 64 characters.
pub const MIN_KEY_BYTES: usize = 32;

/// What `town` shows when the town is not named.
pub const OTHER_TOWN: &str = "other";

/// The network's pseudonym key. Never printed: `Debug` shows its length only.
#[derive(Clone)]
pub struct PseudonymKey(Vec<u8>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the pseudonym key is {0} bytes; at least {MIN_KEY_BYTES} are needed")]
pub struct KeyTooShort(pub usize);

impl PseudonymKey {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, KeyTooShort> {
        let bytes = bytes.into();
        if bytes.len() < MIN_KEY_BYTES {
            return Err(KeyTooShort(bytes.len()));
        }
        Ok(Self(bytes))
    }

    /// The pseudonym of one household in one survey (module docs).
    pub fn pseudonym(&self, survey: &Survey, household: &Household) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        // NUL separators: none of the ids can contain one, so no two different triples
        // feed the same bytes.
        for part in [
            survey.id.as_str(),
            household.municipality.as_str(),
            household.user.as_str(),
        ] {
            mac.update(part.as_bytes());
            mac.update(&[0]);
        }
        let mut hex = hex::encode(mac.finalize().into_bytes());
        hex.truncate(PSEUDONYM_HEX_DIGITS);
        hex
    }
}

impl fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PseudonymKey({} bytes)", self.0.len())
    }
}

/// One consenting household's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRow {
    pub pseudonym: String,
    /// `None` until [`SurveyExport::finish`] decides; then `None` means `other`.
    pub town: Option<MunicipalityId>,
    pub stage_band: Option<String>,
    /// Per authored question, in the survey's order.
    pub answers: Vec<Option<Answer>>,
}

/// Collects the rows household by household (the households are paged in).
#[derive(Debug)]
pub struct SurveyExport<'a> {
    survey: &'a Survey,
    key: &'a PseudonymKey,
    rows: Vec<(MunicipalityId, ExportRow)>,
}

impl<'a> SurveyExport<'a> {
    pub fn new(survey: &'a Survey, key: &'a PseudonymKey) -> Self {
        Self {
            survey,
            key,
            rows: Vec::new(),
        }
    }

    /// Adds the household's row if it agreed to the joint research.
    pub fn add(&mut self, household: &Household) {
        let Some(response) = household.surveys.get(&self.survey.id) else {
            return;
        };
        if response.research_consent != Some(true) {
            return;
        }
        let answers = self
            .survey
            .questions
            .iter()
            .map(|q| response.answers.get(&q.id).map(|a| a.answer.clone()))
            .collect();
        self.rows.push((
            household.municipality.clone(),
            ExportRow {
                pseudonym: self.key.pseudonym(self.survey, household),
                town: None,
                stage_band: response.stage_band.clone(),
                answers,
            },
        ));
    }

    /// The rows, towns decided (module docs), sorted by pseudonym.
    pub fn finish(self) -> Vec<ExportRow> {
        let named = named_towns(self.rows.iter().map(|(town, _)| town));
        let mut rows: Vec<ExportRow> = self
            .rows
            .into_iter()
            .map(|(town, mut row)| {
                row.town = named.contains_key(&town).then_some(town);
                row
            })
            .collect();
        rows.sort_by(|a, b| a.pseudonym.cmp(&b.pseudonym));
        rows
    }
}

/// The towns that may be named, with their row counts: at least [`MIN_TOWN_ROWS`] rows,
/// and, when the towns left out hold fewer than [`MIN_TOWN_ROWS`] rows together, the
/// smallest of the rest left out as well until they hold enough (or none is named).
fn named_towns<'t>(
    towns: impl Iterator<Item = &'t MunicipalityId>,
) -> BTreeMap<MunicipalityId, usize> {
    let mut counts: BTreeMap<MunicipalityId, usize> = BTreeMap::new();
    for town in towns {
        *counts.entry(town.clone()).or_default() += 1;
    }
    let mut other: usize = 0;
    counts.retain(|_, n| {
        let named = *n >= MIN_TOWN_ROWS;
        if !named {
            other += *n;
        }
        named
    });
    while other > 0 && other < MIN_TOWN_ROWS {
        let Some(smallest) = counts
            .iter()
            .min_by_key(|(town, n)| (**n, (*town).clone()))
            .map(|(town, _)| town.clone())
        else {
            break;
        };
        other += counts.remove(&smallest).unwrap_or_default();
    }
    counts
}

/// The export as CSV (RFC 4180, UTF-8): `pseudonym,survey,survey_month,town,stage_band`,
/// then one column per authored question (its id). A choice is written as its text, a scale
/// point as 1–5, a free text as typed — except that a text starting with `=`, `+`, `-`, `@`
/// or a tab gets a leading `'`, so a spreadsheet does not run it as a formula.
pub fn to_csv(survey: &Survey, rows: &[ExportRow]) -> String {
    let month = format!(
        "{:04}-{:02}",
        survey.opens_on.year(),
        survey.opens_on.month()
    );
    let mut out = String::new();
    let mut header: Vec<String> = ["pseudonym", "survey", "survey_month", "town", "stage_band"]
        .map(String::from)
        .to_vec();
    header.extend(survey.questions.iter().map(|q| q.id.to_string()));
    push_record(&mut out, &header);
    for row in rows {
        let mut fields = vec![
            row.pseudonym.clone(),
            survey.id.to_string(),
            month.clone(),
            row.town
                .as_ref()
                .map_or(OTHER_TOWN.to_owned(), |t| t.to_string()),
            row.stage_band.clone().unwrap_or_default(),
        ];
        for (question, answer) in survey.questions.iter().zip(&row.answers) {
            fields.push(match (answer, &question.kind) {
                (None, _) => String::new(),
                (Some(Answer::Choice(i)), QuestionKind::Choice { choices }) => {
                    choices.get(usize::from(*i)).cloned().unwrap_or_default()
                }
                (Some(Answer::Scale(p)), _) => p.to_string(),
                (Some(Answer::Text(text)), _) => defuse_formula(text),
                // An answer that no longer fits the definition: left empty, as unanswered.
                (Some(_), _) => String::new(),
            });
        }
        push_record(&mut out, &fields);
    }
    out
}

fn defuse_formula(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn push_record(out: &mut String, fields: &[String]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survey_results::tests::{answered, household, sid, survey, town};

    fn key(fill: u8) -> PseudonymKey {
        PseudonymKey::new(vec![fill; 64]).unwrap()
    }

    #[test]
    fn short_keys_are_refused_and_a_key_is_never_printed() {
        assert_eq!(PseudonymKey::new(vec![1; 31]).unwrap_err(), KeyTooShort(31));
        let k = PseudonymKey::new(b"0123456789abcdef0123456789abcdefSECRET".to_vec()).unwrap();
        assert_eq!(format!("{k:?}"), "PseudonymKey(38 bytes)");
    }

    #[test]
    fn pseudonyms_are_stable_per_survey_keyed_and_differ_across_surveys_and_towns() {
        let s = survey();
        let h = household("a-town", 1);
        let p = key(7).pseudonym(&s, &h);
        assert_eq!(p.len(), PSEUDONYM_HEX_DIGITS);
        assert!(p.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(key(7).pseudonym(&s, &h), p, "stable");
        assert_ne!(key(8).pseudonym(&s, &h), p, "keyed");
        let mut other_survey = s.clone();
        other_survey.id = sid("another-2027");
        assert_ne!(key(7).pseudonym(&other_survey, &h), p);
        assert_ne!(key(7).pseudonym(&s, &household("b-town", 1)), p);
        assert_ne!(key(7).pseudonym(&s, &household("a-town", 2)), p);
        // The published construction, so a second implementation can check it.
        let mut mac = Hmac::<Sha256>::new_from_slice(&[7; 64]).unwrap();
        mac.update(format!("usefulness-2027\0a-town\0{}\0", h.user.as_str()).as_bytes());
        assert_eq!(p, hex::encode(mac.finalize().into_bytes())[..16]);
    }

    #[test]
    fn only_consenting_households_with_no_user_id_and_small_towns_as_other() {
        let s = survey();
        let mut households = Vec::new();
        // a-town: 6 consenting, 2 declining; b-town: 5 consenting; c-town: 2 consenting.
        for n in 0..8 {
            let consent = Some(n < 6);
            households.push(answered(
                household("a-town", n),
                consent,
                Some(0),
                Some(4),
                None,
            ));
        }
        for n in 10..15 {
            households.push(answered(
                household("b-town", n),
                Some(true),
                Some(1),
                None,
                None,
            ));
        }
        for n in 20..22 {
            households.push(answered(
                household("c-town", n),
                Some(true),
                None,
                None,
                None,
            ));
        }
        // Never answered the consent question: not exported.
        households.push(answered(
            household("c-town", 30),
            None,
            Some(0),
            None,
            Some("x"),
        ));
        let k = key(1);
        let mut export = SurveyExport::new(&s, &k);
        households.iter().for_each(|h| export.add(h));
        let rows = export.finish();
        assert_eq!(rows.len(), 6 + 5 + 2);
        let by_town = |t: Option<&str>| {
            rows.iter()
                .filter(|r| r.town.as_ref().map(|x| x.as_str()) == t)
                .count()
        };
        // c-town's 2 rows alone would make `other` c-town: b-town (the smallest named) joins.
        assert_eq!(by_town(Some("a-town")), 6);
        assert_eq!(by_town(None), 7);
        assert!(rows.windows(2).all(|w| w[0].pseudonym < w[1].pseudonym));
        let csv = to_csv(&s, &rows);
        for h in &households {
            assert!(!csv.contains(h.user.as_str()));
        }
        assert!(csv
            .starts_with("pseudonym,survey,survey_month,town,stage_band,talk,useful,comment\r\n"));
        assert!(
            csv.contains(",usefulness-2027,2027-05,a-town,child_0_2m,いる,4,\r\n"),
            "{csv}"
        );
        assert!(
            csv.contains(",usefulness-2027,2027-05,other,child_0_2m,いない,,\r\n"),
            "{csv}"
        );
        // The declining and the unanswered households' rows are not there.
        for h in households
            .iter()
            .filter(|h| h.surveys[&sid("usefulness-2027")].research_consent != Some(true))
        {
            assert!(!csv.contains(&k.pseudonym(&s, h)));
        }
    }

    #[test]
    fn named_towns_leave_no_other_group_of_fewer_than_five() {
        let ids = |spec: &[(&str, usize)]| -> Vec<MunicipalityId> {
            spec.iter()
                .flat_map(|(t, n)| std::iter::repeat_n(town(t), *n))
                .collect()
        };
        let named = |spec: &[(&str, usize)]| -> Vec<String> {
            named_towns(ids(spec).iter())
                .into_keys()
                .map(|t| t.to_string())
                .collect()
        };
        assert_eq!(named(&[("a", 5), ("b", 9)]), ["a", "b"]);
        assert_eq!(named(&[("a", 5), ("b", 4)]), Vec::<String>::new());
        assert_eq!(named(&[("a", 9), ("b", 3), ("c", 2)]), ["a"]);
        assert_eq!(named(&[("a", 9), ("b", 6), ("c", 2)]), ["a"]);
        assert_eq!(named(&[("a", 9), ("b", 6), ("c", 7), ("d", 1)]), ["a", "c"]);
        assert_eq!(named(&[]), Vec::<String>::new());
    }

    #[test]
    fn csv_quotes_and_defuses_free_text() {
        let s = survey();
        let rows = vec![ExportRow {
            pseudonym: "0123456789abcdef".into(),
            town: Some(town("a-town")),
            stage_band: None,
            answers: vec![
                None,
                None,
                Some(Answer::Text("=HYPERLINK(\"x\"),\nまた".into())),
            ],
        }];
        let csv = to_csv(&s, &rows);
        assert!(
            csv.ends_with(",,,\"'=HYPERLINK(\"\"x\"\"),\nまた\"\r\n"),
            "{csv}"
        );
    }
}
