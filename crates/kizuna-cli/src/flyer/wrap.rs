//! Line breaking for Japanese text, good enough for a flyer: a line may break between any
//! two Japanese characters, except before closing punctuation and small kana or after an
//! opening bracket (禁則処理); a run of ASCII (a URL, a phone number, 2027/5/1) stays whole
//! unless it alone is wider than the line.

/// Characters that must not start a line.
const NO_LINE_START: &str = "、。，．・：；？！）］｝」』】〕〉》ーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々…‥）,.:;!?)]}%";
/// Characters that must not end a line.
const NO_LINE_END: &str = "（［｛「『【〔〈《([{";

/// A quoted phrase up to this many characters (「同意して登録する」) is kept on one line.
const MAX_UNBROKEN_QUOTE: usize = 12;

/// The unbreakable pieces of `text`, in order.
fn tokens(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut atoms: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c == '「' {
            let close = chars[i..].iter().position(|&d| d == '」');
            if let Some(n) = close.filter(|&n| n + 2 <= MAX_UNBROKEN_QUOTE) {
                if !word.is_empty() {
                    atoms.push(std::mem::take(&mut word));
                }
                atoms.push(chars[i - 1..i + n + 1].iter().collect());
                i += n + 1;
                continue;
            }
        }
        if c.is_ascii_graphic() {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            atoms.push(std::mem::take(&mut word));
        }
        atoms.push(c.to_string());
    }
    if !word.is_empty() {
        atoms.push(word);
    }
    let mut tokens: Vec<String> = Vec::new();
    for atom in atoms {
        let first = atom.chars().next().expect("atoms are never empty");
        match tokens.last_mut() {
            // …and a number stays with its counter (1回, 100日).
            Some(prev)
                if NO_LINE_START.contains(first)
                    || prev.chars().last().is_some_and(|l| {
                        NO_LINE_END.contains(l) || (l.is_ascii_digit() && !first.is_whitespace())
                    }) =>
            {
                prev.push_str(&atom)
            }
            _ => tokens.push(atom),
        }
    }
    tokens
}

/// `text` broken into lines no wider than `max_width` as `width` measures them. Explicit
/// line breaks (`\n`) are kept; spaces at a line's start or end are dropped.
pub fn wrap(text: &str, max_width: f32, width: impl Fn(&str) -> f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for token in tokens(paragraph) {
            if width(format!("{line}{token}").trim_end()) > max_width && !line.is_empty() {
                lines.push(line.trim_end().to_owned());
                line.clear();
            }
            let token = if line.is_empty() {
                token.trim_start()
            } else {
                &token
            };
            if width(format!("{line}{token}").trim_end()) <= max_width {
                line.push_str(token);
                continue;
            }
            // A token wider than a whole line (a long URL): fill lines character by character
            // rather than run off the page.
            for c in token.chars() {
                if width(&format!("{line}{c}")) > max_width && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                line.push(c);
            }
        }
        lines.push(line.trim_end().to_owned());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character one unit wide, like a monospaced font.
    fn chars(s: &str) -> f32 {
        s.chars().count() as f32
    }

    #[test]
    fn japanese_breaks_anywhere_but_before_closing_punctuation() {
        // 5 units a line: 「。」 may not start the second line, so 「す。」 moves down together.
        assert_eq!(
            wrap("登録は無料です。次へ", 7.0, chars),
            vec!["登録は無料で", "す。次へ"]
        );
        assert_eq!(
            wrap("あいうえおかきくけこ", 5.0, chars),
            vec!["あいうえお", "かきくけこ"]
        );
        // A short quoted phrase stays whole; a long one keeps its bracket with what it opens.
        assert_eq!(
            wrap("読み、「同意して登録する」を押します", 12.0, chars),
            vec!["読み、", "「同意して登録する」を押", "します"]
        );
        assert_eq!(
            wrap(
                "ボタンを「とても長い引用でひとつには収まらない」で",
                5.0,
                chars
            )[1],
            "「とても長"
        );
        // A number stays with its counter.
        assert_eq!(wrap("2週に1回。", 4.0, chars), vec!["2週に", "1回。"]);
    }

    #[test]
    fn ascii_runs_stay_whole_unless_wider_than_a_line() {
        assert_eq!(
            wrap("電話 000-000-0000 まで", 16.0, chars),
            vec!["電話 000-000-0000", "まで"]
        );
        // A URL longer than the line is split by characters, never drawn past the margin.
        let lines = wrap("詳しくは https://www.example.jp/privacy", 12.0, chars);
        assert!(lines.iter().all(|l| chars(l) <= 12.0), "{lines:?}");
        assert_eq!(
            lines.concat().replace(' ', ""),
            "詳しくはhttps://www.example.jp/privacy"
        );
    }

    #[test]
    fn explicit_breaks_and_empty_text() {
        assert_eq!(
            wrap("一行目\n二行目", 10.0, chars),
            vec!["一行目", "二行目"]
        );
        assert_eq!(wrap("", 10.0, chars), vec![""]);
    }
}
