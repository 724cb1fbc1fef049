//! Editorial checks of `kizuna content check`: what a careful editor (保健師, doctor, the NPO's
//! own reviewers) would mark in a pack that is technically valid. They work on the template text
//! as written (placeholders unexpanded) and return byte offsets into it, so that the caller can
//! point at the exact line. The rules and their thresholds are documented in
//! `docs/content-authoring.md` ("Editorial checks").

use super::template::TextKind;
use crate::household::Language;

/// Sentences shorter than this (in characters, after trimming) are too generic to count as
/// repeated: 「おめでとうございます」 on two days is fine, a whole sentence is not.
pub const MIN_REPEATED_SENTENCE_CHARS: usize = 8;

/// A text longer than this (characters, rendered with the longest placeholder values) is more
/// than a parent reads comfortably on a phone in one LINE bubble.
pub const READABLE_CHARS: usize = 300;

/// Terms replaced by law or by the current system, with what to write instead.
pub const OUTDATED_TERMS: &[(&str, &str, &str)] = &[
    (
        "子育て世代包括支援センター",
        "こども家庭センター",
        "renamed in April 2024, 改正児童福祉法",
    ),
    (
        "母子健康包括支援センター",
        "こども家庭センター",
        "renamed in April 2024, 改正児童福祉法",
    ),
    (
        "子ども家庭総合支援拠点",
        "こども家庭センター",
        "renamed in April 2024, 改正児童福祉法",
    ),
    ("保健婦", "保健師", "renamed in 2002"),
    ("助産婦", "助産師", "renamed in 2002"),
    ("看護婦", "看護師", "renamed in 2002"),
    ("保母", "保育士", "renamed in 1999"),
];

/// Words after a number that make it about another time than today (「妊娠20週から」,
/// 「生後2か月ごろ」), so it is not checked against the day.
const OTHER_TIME_MARKERS: &[&str] = &[
    "から",
    "以降",
    "以上",
    "ごろ",
    "頃",
    "まで",
    "前後",
    "くらい",
    "ぐらい",
    "未満",
    "以下",
    "以内",
    "以前",
    "を過ぎ",
    "をすぎ",
    "になる前",
    "のころ",
    "のとき",
    "の時",
    "〜",
    "～",
    "・",
    "、",
];

/// The sentences of a text: split at 。！？!? and line breaks, trimmed of spaces, brackets and
/// quotes, with their byte offset. Short ones are dropped.
pub fn sentences(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), '\n')))
    {
        if matches!(c, '。' | '！' | '？' | '!' | '?' | '\n') {
            let raw = &text[start..i];
            let trimmed_start = raw.len() - raw.trim_start_matches(is_trimmed).len();
            let sentence: String = raw
                .trim_matches(is_trimmed)
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            if sentence.chars().count() >= MIN_REPEATED_SENTENCE_CHARS {
                out.push((start + trimmed_start, sentence));
            }
            start = i + c.len_utf8();
        }
    }
    out
}

fn is_trimmed(c: char) -> bool {
    c.is_whitespace() || matches!(c, '「' | '」' | '（' | '）' | '(' | ')' | '　')
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Kanji,
    Katakana,
    Hiragana,
    /// Digits and Latin letters: they join a word (生後100日) but are not one by themselves.
    Alnum,
    Other,
}

fn class(c: char) -> Class {
    match c {
        '々' | '〆' | 'ヶ' | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' => Class::Kanji,
        'ー' | '\u{30A1}'..='\u{30FA}' | '\u{FF66}'..='\u{FF9F}' => Class::Katakana,
        '\u{3041}'..='\u{3096}' => Class::Hiragana,
        '0'..='9' | 'a'..='z' | 'A'..='Z' | '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' => {
            Class::Alnum
        }
        _ => Class::Other,
    }
}

/// Hiragana that start a grammatical ending or a particle: a token beginning with one of them
/// (「の日」「て体」) is grammar, not a word someone chose twice.
const GRAMMAR_KANA: &str = "のにをはがでもへやてたしくるいうんっまかねよなられ";

/// Words that come back within [`REPEAT_NEARBY_CHARS`] of their last use, or a third time, in
/// one text, each with the offset of the use that is flagged.
///
/// A word is a run of kanji/katakana (digits and Latin letters may join it) with at least two
/// kanji/katakana, like 生後100日 or 予防接種; or a single kanji with the hiragana before it
/// (all of them if two or three, like きずな町, else the last two, like ほっと|ひと息), unless
/// they start with a particle or an ending (の日, てて手). Placeholders are not words. Repetition is what a reader notices: 「ほっとひと息…ひと息つける」.
pub fn repeated_words(text: &str) -> Vec<(usize, String)> {
    let chars: Vec<(usize, char)> = without_placeholders(text);
    let mut words: Vec<(usize, String)> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = class(chars[i].1);
        if !matches!(c, Class::Kanji | Class::Katakana | Class::Alnum) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len()
            && matches!(
                class(chars[i].1),
                Class::Kanji | Class::Katakana | Class::Alnum
            )
        {
            i += 1;
        }
        let run = &chars[start..i];
        let strong = run
            .iter()
            .filter(|(_, c)| matches!(class(*c), Class::Kanji | Class::Katakana))
            .count();
        if strong >= 2 {
            words.push((run[0].0, run.iter().map(|(_, c)| c).collect()));
        } else if run.len() == 1 && class(run[0].1) == Class::Kanji {
            // The hiragana just before the kanji: the whole run if it is short (きずな町),
            // else its last two (ほっとひと息 → ひと息).
            let mut k = start;
            while k > 0
                && class(chars[k - 1].1) == Class::Hiragana
                && chars[k - 1].0 + chars[k - 1].1.len_utf8() == chars[k].0
            {
                k -= 1;
            }
            let kana = start - k;
            let mut first = if kana <= 3 { k } else { start - 2 };
            if kana == 3 && GRAMMAR_KANA.contains(chars[first].1) {
                first = start - 2; // でひと息 → ひと息
            }
            if kana >= 2 && !GRAMMAR_KANA.contains(chars[first].1) {
                let word: String = chars[first..=start].iter().map(|(_, c)| c).collect();
                words.push((chars[first].0, word));
            }
        }
    }
    // A word is flagged when it comes back soon after its last use, or a third time.
    let mut last: Vec<(&str, usize, usize)> = Vec::new(); // word, end offset, uses
    let mut out = Vec::new();
    for (offset, word) in &words {
        match last.iter_mut().find(|(w, _, _)| w == word) {
            Some((_, end, uses)) => {
                *uses += 1;
                let gap = text[*end..*offset].chars().count();
                if (gap <= REPEAT_NEARBY_CHARS || *uses >= 3)
                    && !out.iter().any(|(_, w): &(usize, String)| w == word)
                {
                    out.push((*offset, word.clone()));
                }
                *end = offset + word.len();
            }
            None => last.push((word, offset + word.len(), 1)),
        }
    }
    out
}

/// A repeated word is flagged when its next use starts within this many characters of the end
/// of the last one (or on its third use): 「ほっとひと息つけますように。\nひと息…」 (9) and
/// 「…会える場所です。\n場所や…」 read as an echo, while 予防接種 in the first and the last of
/// three sentences of an information text does not. Measured on the new sample drafts: 20
/// flags about 40 of 370 texts, 30 about 75, any distance 220.
pub const REPEAT_NEARBY_CHARS: usize = 20;

/// The characters of `text` with their offsets, placeholders replaced by a separator.
fn without_placeholders(text: &str) -> Vec<(usize, char)> {
    let mut out = Vec::new();
    let mut in_placeholder = false;
    for (i, c) in text.char_indices() {
        match c {
            '{' => in_placeholder = true,
            '}' if in_placeholder => {
                in_placeholder = false;
                out.push((i, ' '));
            }
            _ if in_placeholder => {}
            _ => out.push((i, c)),
        }
    }
    out
}

/// [`contradicting_numbers`] for a text written in `language`: やさしい日本語 also writes
/// にんしん N週 and うまれて N日; English writes "week N", "N weeks pregnant", "N days old" and
/// "N months old".
pub fn contradicting_numbers_in(
    text: &str,
    kind: TextKind,
    day: u16,
    language: Language,
) -> Vec<(usize, String)> {
    match language {
        Language::Japanese => contradicting_numbers(text, kind, day),
        Language::EasyJapanese => {
            let mut out = contradicting_numbers_after(text, kind, day, "妊娠", "生後");
            out.extend(contradicting_numbers_after(
                text,
                kind,
                day,
                "にんしん",
                "うまれて",
            ));
            out.sort_by_key(|x| x.0);
            out
        }
        Language::English => contradicting_numbers_en(text, kind, day),
    }
}

/// Words before a number that make an English "week N" about another time than today.
const OTHER_TIME_BEFORE_EN: &[&str] = &[
    "from", "by", "until", "till", "after", "before", "around", "about", "since", "to", "at",
    "between", "and", "or", "of", "than",
];

/// English: "week N" (unless another time is marked before it: "from week 20", "by week
/// 12"), "N weeks pregnant", "N days old", "N months old".
fn contradicting_numbers_en(text: &str, kind: TextKind, day: u16) -> Vec<(usize, String)> {
    let lower = text.to_ascii_lowercase();
    let words: Vec<(usize, &str)> = word_offsets(&lower);
    let number = |w: &str| w.parse::<u32>().ok();
    let mut out = Vec::new();
    for (i, &(offset, word)) in words.iter().enumerate() {
        let next = words.get(i + 1).map(|w| w.1);
        let after = words.get(i + 2).map(|w| w.1);
        let before = i.checked_sub(1).map(|j| words[j].1);
        match kind {
            TextKind::Maternity => {
                let week = u32::from(day / 7);
                let stated = if word == "week"
                    && !before.is_some_and(|b| OTHER_TIME_BEFORE_EN.contains(&b))
                {
                    next.and_then(number)
                } else if next.is_some_and(|n| n == "weeks" || n == "week")
                    && after == Some("pregnant")
                {
                    number(word)
                } else {
                    None
                };
                if let Some(n) = stated.filter(|&n| n != week) {
                    out.push((
                        offset,
                        format!("\"week {n}\" on a day of week {week}: write week {{week}}, or mark another time (from/by/until week {n})"),
                    ));
                }
            }
            TextKind::Child => {
                let Some(n) = number(word) else { continue };
                if after != Some("old") {
                    continue;
                }
                let month = (f64::from(day) / 30.4).floor() as u32;
                match next {
                    Some("day" | "days") if n != u32::from(day) => out.push((
                        offset,
                        format!("\"{n} days old\" on child day {day}: write {{age_days}} days old"),
                    )),
                    Some("month" | "months") if !(month.saturating_sub(1) <= n && n <= month + 1) => out.push((
                        offset,
                        format!("\"{n} months old\" on child day {day} (about {month} months): write the age of this day"),
                    )),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    out
}

/// The words of an ASCII-lower-cased text (letters and digits), with their byte offsets.
fn word_offsets(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        if c.is_ascii_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            out.push((s, &text[s..i]));
        }
    }
    out
}

/// A number in the text that contradicts the day it is sent on, with its offset and a message.
/// `day` is the gestational day (maternity) or the child day (child); other kinds have no day.
pub fn contradicting_numbers(text: &str, kind: TextKind, day: u16) -> Vec<(usize, String)> {
    contradicting_numbers_after(text, kind, day, "妊娠", "生後")
}

/// The Japanese check, with the words that come before a week (`妊娠`) and a child's age (`生後`).
fn contradicting_numbers_after(
    text: &str,
    kind: TextKind,
    day: u16,
    pregnancy: &str,
    after_birth: &str,
) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    match kind {
        TextKind::Maternity => {
            let week = day / 7;
            for (offset, n, rest) in numbers_after(text, pregnancy) {
                if rest.starts_with('週')
                    && n != u32::from(week)
                    && !other_time(&rest['週'.len_utf8()..])
                {
                    out.push((
                        offset,
                        format!(
                            "「妊娠{n}週」 on a day of week {week}: write 妊娠{{week}}週, or mark another time with から/ごろ/まで"
                        ),
                    ));
                }
            }
        }
        TextKind::Child => {
            let month = (f64::from(day) / 30.4).floor() as u32;
            for (offset, n, rest) in numbers_after(text, after_birth) {
                let month_unit = ["か月", "ヶ月", "カ月", "ヵ月", "ケ月", "箇月"]
                    .iter()
                    .find(|u| rest.starts_with(*u));
                if let Some(unit) = month_unit {
                    let within = month.saturating_sub(1) <= n && n <= month + 1;
                    if !within && !other_time(&rest[unit.len()..]) {
                        out.push((
                            offset,
                            format!(
                                "「生後{n}{unit}」 on child day {day} (about {month} months): write the age of this day, or mark another time with から/ごろ/まで"
                            ),
                        ));
                    }
                } else if rest.starts_with('日') && n != u32::from(day) {
                    let after = rest['日'.len_utf8()..].trim_start_matches('目');
                    if !other_time(after) {
                        out.push((
                            offset,
                            format!(
                                "「生後{n}日」 on child day {day}: write 生後{{age_days}}日, or mark another time with から/ごろ/まで"
                            ),
                        ));
                    }
                }
            }
        }
        _ => {}
    }
    out
}

fn other_time(rest: &str) -> bool {
    OTHER_TIME_MARKERS.iter().any(|m| rest.starts_with(m))
}

/// Every `prefix` followed by a number (ASCII or full-width digits, spaces allowed between):
/// (offset of the prefix, the number, the text after it).
fn numbers_after<'t>(text: &'t str, prefix: &str) -> Vec<(usize, u32, &'t str)> {
    let mut out = Vec::new();
    for (offset, _) in text.match_indices(prefix) {
        let rest = text[offset + prefix.len()..].trim_start_matches([' ', '　']);
        let mut n: u32 = 0;
        let mut len = 0;
        for c in rest.chars() {
            let digit = match c {
                '0'..='9' => c as u32 - '0' as u32,
                '０'..='９' => c as u32 - '０' as u32,
                _ => break,
            };
            n = n.saturating_mul(10).saturating_add(digit);
            len += c.len_utf8();
        }
        if len > 0 {
            out.push((offset, n, &rest[len..]));
        }
    }
    out
}

/// Outdated terms in the text: (offset, term, replacement, since when).
pub fn outdated_terms(text: &str) -> Vec<(usize, &'static str, &'static str, &'static str)> {
    let mut out = Vec::new();
    for &(term, replacement, since) in OUTDATED_TERMS {
        for (offset, _) in text.match_indices(term) {
            out.push((offset, term, replacement, since));
        }
    }
    out.sort_by_key(|x| x.0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_and_easy_japanese_numbers_are_checked_against_the_day() {
        use Language::*;
        let m = TextKind::Maternity;
        // Day 30 is week 4.
        assert!(contradicting_numbers_in("You are in week 4 now.", m, 30, English).is_empty());
        assert_eq!(
            contradicting_numbers_in("You are in week 6 now.", m, 30, English).len(),
            1
        );
        assert_eq!(
            contradicting_numbers_in("At 9 weeks pregnant, rest.", m, 30, English).len(),
            1
        );
        assert!(
            contradicting_numbers_in("From week 12, the nausea eases.", m, 30, English).is_empty()
        );
        assert!(
            contradicting_numbers_in("Book the check-up by week 11.", m, 30, English).is_empty()
        );
        let c = TextKind::Child;
        assert!(contradicting_numbers_in("Your baby is 3 days old.", c, 3, English).is_empty());
        assert_eq!(
            contradicting_numbers_in("Your baby is 5 days old.", c, 3, English).len(),
            1
        );
        assert_eq!(
            contradicting_numbers_in("She is 4 months old.", c, 3, English).len(),
            1
        );
        assert!(contradicting_numbers_in("at 3 days, or 2 months", c, 3, English).is_empty());
        assert!(contradicting_numbers_in("にんしん 4週 です。", m, 30, EasyJapanese).is_empty());
        assert_eq!(
            contradicting_numbers_in("にんしん 6週 です。", m, 30, EasyJapanese).len(),
            1
        );
        assert_eq!(
            contradicting_numbers_in("うまれて 9日 です。", c, 3, EasyJapanese).len(),
            1
        );
        assert_eq!(
            contradicting_numbers_in("妊娠6週です。", m, 30, EasyJapanese).len(),
            1
        );
        assert_eq!(
            contradicting_numbers_in("妊娠6週です。", m, 30, Japanese).len(),
            1
        );
        assert!(contradicting_numbers_in("にんしん 6週 です。", m, 30, Japanese).is_empty());
    }

    fn words(text: &str) -> Vec<String> {
        repeated_words(text).into_iter().map(|(_, w)| w).collect()
    }

    #[test]
    fn sentences_split_at_japanese_and_ascii_punctuation_and_lines() {
        let s = sentences("今日は妊娠{week}週です。\n「体を休める日にしましょう」！短い。\nおなかの赤ちゃんも育っています?");
        let texts: Vec<&str> = s.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "今日は妊娠{week}週です",
                "体を休める日にしましょう",
                "おなかの赤ちゃんも育っています"
            ]
        );
        // Offsets point at the sentence itself (after the opening bracket).
        let (offset, _) = &s[1];
        assert!(
            "今日は妊娠{week}週です。\n「体を休める日にしましょう」！"[*offset..]
                .starts_with("体を休める")
        );
    }

    #[test]
    fn repeated_words_catch_what_an_editor_marks() {
        // The two cases from issue 15.
        assert_eq!(
            words("{baby}の寝顔を見ながら、ほっとひと息つけますように。\nひと息つける時間がありますように。"),
            ["ひと息"]
        );
        assert_eq!(words("生後100日になりました。\n生後100日。"), ["生後100日"]);
        assert_eq!(words("ここでひと息。またひと息。"), ["ひと息"]);
        assert_eq!(words("きずな町から。きずな町へ。"), ["きずな町"]);
        // Kanji/katakana compounds.
        assert_eq!(
            words("ミルクの量は、ミルクの温度を目安に。予防接種と予防接種の間隔"),
            ["ミルク", "予防接種"]
        );
        // Far apart, a word is not an echo; a third use is.
        let far = "予防接種の予定を立てましょう。日程は、かかりつけの医療機関と相談して決めます。わからないことは予防接種の前に聞いてください。";
        assert!(words(far).is_empty(), "{:?}", words(far));
        assert_eq!(words(&format!("{far}予防接種")), ["予防接種"]);
    }

    #[test]
    fn repeated_grammar_and_placeholders_are_not_words() {
        for fine in [
            // particles and endings around single kanji
            "今日の体を大事に。夜の体を休めて、朝の体を起こす。",
            "してください。ご覧ください。お読みください。",
            // placeholders are values, not words the author repeated
            "{baby}と{baby}のママへ。{municipality}から{municipality}へ。",
            // different compounds sharing a kanji
            "妊娠中の体調と、妊娠届のこと。",
            // numbers alone
            "1日1回、1日2回。",
        ] {
            assert!(words(fine).is_empty(), "{fine}: {:?}", words(fine));
        }
    }

    #[test]
    fn numbers_are_checked_against_the_day_unless_about_another_time() {
        // 20w3d = gestational day 143.
        let m = |t: &str| contradicting_numbers(t, TextKind::Maternity, 143).len();
        assert_eq!(m("妊娠19週になりました。"), 1);
        assert_eq!(m("妊娠２１週目です。"), 1, "full-width digits");
        assert_eq!(m("妊娠20週です。妊娠{week}週{day}日。"), 0);
        assert_eq!(
            m("妊娠24週から健診は2週間ごとに。妊娠36週以降は毎週。妊娠22週ごろまで"),
            0
        );
        assert_eq!(m("妊娠12〜15週"), 0, "a range is not a claim about today");
        // Child day 150: about 4 months (150 / 30.4 = 4.9), so 3–5 are fine.
        let c = |t: &str, day| contradicting_numbers(t, TextKind::Child, day).len();
        assert_eq!(
            c("生後4か月になりました。もうすぐ生後5か月。生後3ヶ月", 150),
            0
        );
        assert_eq!(c("生後7か月になりました。", 150), 1);
        assert_eq!(c("生後2か月から始まる予防接種", 10), 0);
        assert_eq!(c("生後3か月未満の赤ちゃんが熱を出したら", 51), 0);
        assert_eq!(c("生後2か月になりました。", 10), 1);
        assert_eq!(c("生後30日目です。", 31), 1);
        assert_eq!(
            c(
                "生後31日目です。生後{age_days}日。生後100日ごろにお食い初め",
                31
            ),
            0
        );
        // Not checked in other kinds.
        assert_eq!(
            contradicting_numbers("妊娠3週", TextKind::Closing, 0).len(),
            0
        );
    }

    #[test]
    fn outdated_terms_are_found_with_their_replacement() {
        let found =
            outdated_terms("子育て世代包括支援センターや保健婦さんに。母子手帳はそのまま。");
        let terms: Vec<(&str, &str)> = found.iter().map(|f| (f.1, f.2)).collect();
        assert_eq!(
            terms,
            [
                ("子育て世代包括支援センター", "こども家庭センター"),
                ("保健婦", "保健師")
            ]
        );
        assert!(outdated_terms("こども家庭センターの保健師、子育て支援課").is_empty());
    }
}
