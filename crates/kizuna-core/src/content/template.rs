//! Message templates: Japanese text with `{placeholder}`s, parsed into segments once, when the
//! pack loads, so that the daily plan only copies literals and formats a few numbers.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A value a template can insert. Which ones are allowed depends on where the text is used
/// (see [`TextKind::allows`]): `{week}` means nothing in a birthday message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Placeholder {
    /// Completed weeks of pregnancy (4..=41).
    Week,
    /// Days past the completed week (0..=6), as in 12週3日.
    Day,
    /// Days since birth (0..=1095).
    AgeDays,
    /// The age a birthday message celebrates (1, 2 or 3).
    Age,
    /// The municipality's display name, e.g. きずな町.
    Municipality,
    /// 赤ちゃん / ふたごの赤ちゃん / みつごの赤ちゃん, from the registration's baby count.
    Baby,
    /// お子さん / ふたごのお子さん / みつごのお子さん, for texts about an older child.
    Child,
    /// The municipality's こども家庭センター, e.g. きずな町こども家庭センター.
    Center,
    /// The municipality's consultation desk with phone and hours, e.g.
    /// きずな町保健センター（電話 000-000-0000、平日 8時30分〜17時15分）.
    Contact,
}

impl Placeholder {
    pub const ALL: [Placeholder; 9] = [
        Placeholder::Week,
        Placeholder::Day,
        Placeholder::AgeDays,
        Placeholder::Age,
        Placeholder::Municipality,
        Placeholder::Baby,
        Placeholder::Child,
        Placeholder::Center,
        Placeholder::Contact,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Placeholder::Week => "week",
            Placeholder::Day => "day",
            Placeholder::AgeDays => "age_days",
            Placeholder::Age => "age",
            Placeholder::Municipality => "municipality",
            Placeholder::Baby => "baby",
            Placeholder::Child => "child",
            Placeholder::Center => "center",
            Placeholder::Contact => "contact",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The longest expansion, in UTF-16 units, for the LINE length check.
    fn worst_case_utf16(self, longest: &LongestTown) -> usize {
        match self {
            Placeholder::Week => 2,
            Placeholder::Day | Placeholder::Age => 1,
            Placeholder::AgeDays => 4,
            Placeholder::Municipality => longest.municipality,
            Placeholder::Center => longest.center,
            Placeholder::Contact => longest.contact,
            Placeholder::Baby => BABY_WORDS
                .iter()
                .chain(CHILD_WORDS.iter())
                .map(|w| w.encode_utf16().count())
                .max()
                .unwrap_or(0),
            Placeholder::Child => CHILD_WORDS
                .iter()
                .map(|w| w.encode_utf16().count())
                .max()
                .unwrap_or(0),
        }
    }
}

impl fmt::Display for Placeholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}", self.name())
    }
}

/// Indexed by baby count − 1; four or more share the last word.
const BABY_WORDS: [&str; 4] = [
    "赤ちゃん",
    "ふたごの赤ちゃん",
    "みつごの赤ちゃん",
    "赤ちゃんたち",
];
const CHILD_WORDS: [&str; 4] = [
    "お子さん",
    "ふたごのお子さん",
    "みつごのお子さん",
    "お子さんたち",
];

fn word_for(words: &[&'static str; 4], baby_count: u8) -> &'static str {
    words[usize::from(baby_count.clamp(1, 4)) - 1]
}

/// Where a text is used; decides which placeholders make sense in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    Maternity,
    Closing,
    Child,
    Birthday,
    /// A municipality note attached to a registration (stage, child day or child-age window).
    RegistrationNote,
    /// A municipality note attached to a calendar window: it belongs to the household, not to
    /// one baby, so `{baby}` has no value there.
    CalendarNote,
}

impl TextKind {
    pub fn allows(self, p: Placeholder) -> bool {
        use Placeholder as P;
        match p {
            P::Municipality | P::Center | P::Contact => true,
            P::Baby | P::Child => self != TextKind::CalendarNote,
            P::Week | P::Day => self == TextKind::Maternity,
            P::AgeDays => self == TextKind::Child,
            P::Age => self == TextKind::Birthday,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            TextKind::Maternity => "a maternity message",
            TextKind::Closing => "the maternity closing message",
            TextKind::Child => "a child message",
            TextKind::Birthday => "a birthday message",
            TextKind::RegistrationNote => "a stage/child-day note",
            TextKind::CalendarNote => "a calendar-date note",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Segment {
    Text(Box<str>),
    Value(Placeholder),
}

/// A parsed template. Rendering never fails: every placeholder was checked at load time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    segments: Box<[Segment]>,
    /// Bytes of literal text, to size the output string in one allocation.
    literal_bytes: usize,
}

/// A template syntax problem, with the byte offset into the text (for the line number).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown placeholder {{{name}}} (known: {known})")]
    Unknown {
        name: String,
        offset: usize,
        known: String,
    },
    #[error("placeholder {placeholder} cannot be used in {kind}")]
    NotAllowed {
        placeholder: Placeholder,
        kind: &'static str,
        offset: usize,
    },
    #[error("'{{' without a closing '}}' (write '{{{{' for a literal brace)")]
    Unclosed { offset: usize },
    #[error("'}}' without an opening '{{' (write '}}}}' for a literal brace)")]
    StrayClose { offset: usize },
}

impl TemplateError {
    pub fn offset(&self) -> usize {
        match self {
            TemplateError::Unknown { offset, .. }
            | TemplateError::NotAllowed { offset, .. }
            | TemplateError::Unclosed { offset }
            | TemplateError::StrayClose { offset } => *offset,
        }
    }
}

/// A municipality's own words that texts can insert: `{municipality}`, `{center}`,
/// `{contact}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Town<'a> {
    pub municipality: &'a str,
    pub center: &'a str,
    pub contact: &'a str,
}

/// Said where a text needs the municipality's name but no overlay gives one.
pub const FALLBACK_MUNICIPALITY_NAME: &str = "お住まいのまち";
/// `{center}` for a municipality without an overlay.
pub const FALLBACK_CENTER: &str = "お住まいのまちのこども家庭センター";
/// `{contact}` for a municipality without an overlay.
pub const FALLBACK_CONTACT: &str = "お住まいのまちの子育て相談窓口";

impl Town<'static> {
    /// The values for a municipality without an overlay: they read well anywhere in Japan.
    pub const FALLBACK: Town<'static> = Town {
        municipality: FALLBACK_MUNICIPALITY_NAME,
        center: FALLBACK_CENTER,
        contact: FALLBACK_CONTACT,
    };
}

impl Town<'_> {
    pub fn lengths_utf16(&self) -> LongestTown {
        LongestTown {
            municipality: self.municipality.encode_utf16().count(),
            center: self.center.encode_utf16().count(),
            contact: self.contact.encode_utf16().count(),
        }
    }
}

/// The longest value of each town placeholder, in UTF-16 units, over the municipalities a
/// text can be sent for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LongestTown {
    pub municipality: usize,
    pub center: usize,
    pub contact: usize,
}

impl LongestTown {
    pub fn max(self, other: LongestTown) -> LongestTown {
        LongestTown {
            municipality: self.municipality.max(other.municipality),
            center: self.center.max(other.center),
            contact: self.contact.max(other.contact),
        }
    }
}

/// The values of one rendering.
#[derive(Debug, Clone, Copy)]
pub struct Values<'a> {
    pub week: u16,
    pub day: u16,
    pub age_days: u16,
    pub age: u8,
    pub town: Town<'a>,
    pub baby_count: u8,
}

impl<'a> Values<'a> {
    pub fn new(town: Town<'a>, baby_count: u8) -> Self {
        Self {
            week: 0,
            day: 0,
            age_days: 0,
            age: 0,
            town,
            baby_count,
        }
    }
}

impl Template {
    /// Parses `text` for use as `kind`. `{{` and `}}` stand for literal braces.
    pub fn parse(text: &str, kind: TextKind) -> Result<Template, Vec<TemplateError>> {
        let mut segments = Vec::new();
        let mut errors = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        let mut offset = 0;
        while let Some(i) = rest.find(['{', '}']) {
            literal.push_str(&rest[..i]);
            let at = offset + i;
            let tail = &rest[i..];
            let consumed = if tail.starts_with("{{") {
                literal.push('{');
                2
            } else if tail.starts_with("}}") {
                literal.push('}');
                2
            } else if tail.starts_with('}') {
                errors.push(TemplateError::StrayClose { offset: at });
                1
            } else {
                match tail[1..].find(['}', '{', '\n']) {
                    Some(j) if tail.as_bytes()[1 + j] == b'}' => {
                        let name = &tail[1..1 + j];
                        match Placeholder::from_name(name) {
                            Some(p) if kind.allows(p) => {
                                if !literal.is_empty() {
                                    segments.push(Segment::Text(
                                        std::mem::take(&mut literal).into_boxed_str(),
                                    ));
                                }
                                segments.push(Segment::Value(p));
                            }
                            Some(p) => errors.push(TemplateError::NotAllowed {
                                placeholder: p,
                                kind: kind.describe(),
                                offset: at,
                            }),
                            None => errors.push(TemplateError::Unknown {
                                name: name.to_owned(),
                                offset: at,
                                known: Placeholder::ALL
                                    .iter()
                                    .filter(|p| kind.allows(**p))
                                    .map(|p| p.to_string())
                                    .collect::<Vec<_>>()
                                    .join(" "),
                            }),
                        }
                        j + 2
                    }
                    _ => {
                        errors.push(TemplateError::Unclosed { offset: at });
                        1
                    }
                }
            };
            rest = &tail[consumed..];
            offset = at + consumed;
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            segments.push(Segment::Text(literal.into_boxed_str()));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let literal_bytes = segments
            .iter()
            .map(|s| match s {
                Segment::Text(t) => t.len(),
                Segment::Value(_) => 0,
            })
            .sum();
        Ok(Template {
            segments: segments.into_boxed_slice(),
            literal_bytes,
        })
    }

    pub fn placeholders(&self) -> impl Iterator<Item = Placeholder> + '_ {
        self.segments.iter().filter_map(|s| match s {
            Segment::Value(p) => Some(*p),
            Segment::Text(_) => None,
        })
    }

    /// Bytes to reserve for a rendering (exact for literals, generous for values).
    pub fn size_hint(&self) -> usize {
        // 24 bytes covers most values: the longest is the baby/child word (8 kana = 24 bytes)
        // or a municipality name, which rarely exceeds it; a contact line is longer.
        self.literal_bytes
            + self
                .placeholders()
                .map(|p| match p {
                    Placeholder::Contact => 120,
                    Placeholder::Center => 48,
                    _ => 24,
                })
                .sum::<usize>()
    }

    /// Longest possible rendering in UTF-16 units, given the longest town values.
    pub fn worst_case_utf16(&self, longest: &LongestTown) -> usize {
        let literal_utf16: usize = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Text(t) => t.encode_utf16().count(),
                Segment::Value(_) => 0,
            })
            .sum();
        literal_utf16
            + self
                .placeholders()
                .map(|p| p.worst_case_utf16(longest))
                .sum::<usize>()
    }

    pub fn render_into(&self, values: &Values<'_>, out: &mut String) {
        for segment in self.segments.iter() {
            match segment {
                Segment::Text(t) => out.push_str(t),
                Segment::Value(p) => match p {
                    Placeholder::Week => push_decimal(out, u32::from(values.week)),
                    Placeholder::Day => push_decimal(out, u32::from(values.day)),
                    Placeholder::AgeDays => push_decimal(out, u32::from(values.age_days)),
                    Placeholder::Age => push_decimal(out, u32::from(values.age)),
                    Placeholder::Municipality => out.push_str(values.town.municipality),
                    Placeholder::Center => out.push_str(values.town.center),
                    Placeholder::Contact => out.push_str(values.town.contact),
                    Placeholder::Baby => out.push_str(word_for(&BABY_WORDS, values.baby_count)),
                    Placeholder::Child => out.push_str(word_for(&CHILD_WORDS, values.baby_count)),
                },
            }
        }
    }

    pub fn render(&self, values: &Values<'_>) -> String {
        let mut out = String::with_capacity(self.size_hint());
        self.render_into(values, &mut out);
        out
    }
}

/// Appends `n` in decimal without going through `fmt` (the plan renders millions a second).
pub(crate) fn push_decimal(out: &mut String, mut n: u32) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(buf[i..].iter().map(|&b| char::from(b)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values<'static> {
        Values {
            week: 12,
            day: 3,
            age_days: 37,
            age: 2,
            town: Town {
                municipality: "きずな町",
                center: "きずな町こども家庭センター",
                contact: "きずな町保健センター（電話 000-000-0000、平日 8時30分〜17時15分）",
            },
            baby_count: 2,
        }
    }

    #[test]
    fn renders_placeholders_and_escaped_braces() {
        let t = Template::parse(
            "妊娠{week}週{day}日、{baby}と{municipality}。{{括弧}}",
            TextKind::Maternity,
        )
        .unwrap();
        assert_eq!(
            t.render(&values()),
            "妊娠12週3日、ふたごの赤ちゃんときずな町。{括弧}"
        );
        let c = Template::parse("生後{age_days}日の{child}", TextKind::Child).unwrap();
        assert_eq!(c.render(&values()), "生後37日のふたごのお子さん");
        // The town placeholders are allowed everywhere, even in a calendar-date note.
        let n = Template::parse("{center}か{contact}へ", TextKind::CalendarNote).unwrap();
        assert_eq!(
            n.render(&values()),
            "きずな町こども家庭センターかきずな町保健センター（電話 000-000-0000、平日 8時30分〜17時15分）へ"
        );
    }

    #[test]
    fn unknown_and_misplaced_placeholders_are_errors_with_offsets() {
        let errs = Template::parse("あ{weeks}い", TextKind::Maternity).unwrap_err();
        assert!(
            matches!(&errs[0], TemplateError::Unknown { name, offset: 3, .. } if name == "weeks")
        );
        let errs = Template::parse("{age_days}", TextKind::Maternity).unwrap_err();
        assert!(matches!(errs[0], TemplateError::NotAllowed { .. }));
        let errs = Template::parse("{baby}", TextKind::CalendarNote).unwrap_err();
        assert!(matches!(errs[0], TemplateError::NotAllowed { .. }));
        let errs = Template::parse("a{week", TextKind::Maternity).unwrap_err();
        assert!(matches!(errs[0], TemplateError::Unclosed { offset: 1 }));
        let errs = Template::parse("a}b", TextKind::Maternity).unwrap_err();
        assert!(matches!(errs[0], TemplateError::StrayClose { offset: 1 }));
    }

    #[test]
    fn worst_case_counts_the_longest_values() {
        let t = Template::parse(
            "{week}{day}{municipality}{baby}{center}{contact}",
            TextKind::Maternity,
        )
        .unwrap();
        let longest = LongestTown {
            municipality: 5,
            center: 11,
            contact: 30,
        };
        // 2 + 1 + 5 + len("ふたごのお子さん") = 8 + 11 + 30
        assert_eq!(t.worst_case_utf16(&longest), 2 + 1 + 5 + 8 + 11 + 30);
        let mut s = String::new();
        for n in [0, 7, 10, 1095, u32::MAX] {
            s.clear();
            push_decimal(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }
}
