//! Stage 2: segmentation. A source's bytes in, paragraph and sentence byte spans out.
//!
//! [`paragraphs`] splits raw bytes into paragraph spans (one per non-empty line, or one per
//! blank-line separated block), trimmed of surrounding whitespace, without copying.
//! [`sentences`] splits a paragraph into sentence spans, keeping abbreviations ("Mr.", "U.S."),
//! initials ("J. R. Smith"), decimal numbers ("3.5") and closing quotes together.
//!
//! ```
//! use syndup::segment::sentences;
//! let text = "Mr. Smith paid $3.5 million. “It was fair,” he said. U.S. officials agreed.";
//! let got: Vec<&str> = sentences(text).iter().map(|s| &text[s.start..s.end]).collect();
//! assert_eq!(got, ["Mr. Smith paid $3.5 million.", "“It was fair,” he said.", "U.S. officials agreed."]);
//! ```

use crate::params::SplitMode;

/// A byte range `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The span as a `Range`.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start..self.end
    }
}

/// The byte that ends the lines of a text: `\n` (which also ends `\r\n` lines), or `\r` for a
/// text with no `\n` at all and at least one `\r` (the line ends of classic Mac OS, still met
/// in old archives; read with `\n`, such a file was one paragraph). A text with both keeps
/// `\n`: a lone `\r` inside one of its lines is not a line end.
///
/// ```
/// use syndup::segment::line_end;
/// assert_eq!(line_end(b"one\rtwo\r"), b'\r');
/// assert_eq!(line_end(b"one\r\ntwo\r\n"), b'\n');
/// assert_eq!(line_end(b"one\rtwo\n"), b'\n');
/// assert_eq!(line_end(b"one line"), b'\n');
/// ```
pub fn line_end(bytes: &[u8]) -> u8 {
    if memchr::memchr(b'\n', bytes).is_none() && memchr::memchr(b'\r', bytes).is_some() {
        b'\r'
    } else {
        b'\n'
    }
}

/// Splits bytes into paragraph spans, trimmed of whitespace (ASCII and Unicode, and invisible
/// characters such as a byte order mark). Empty paragraphs are not returned. Lines end where
/// [`line_end`] says.
///
/// ```
/// use syndup::params::SplitMode;
/// use syndup::segment::paragraphs;
/// let text = b"First line.\r\rSecond line.\rThird.";
/// let got: Vec<&[u8]> = paragraphs(text, SplitMode::Line).iter().map(|s| &text[s.range()]).collect();
/// assert_eq!(got, [&b"First line."[..], b"Second line.", b"Third."]);
/// assert_eq!(paragraphs(text, SplitMode::Blank).len(), 2);
/// ```
pub fn paragraphs(bytes: &[u8], mode: SplitMode) -> Vec<Span> {
    paragraphs_ending(bytes, mode, line_end(bytes))
}

/// [`paragraphs`] for a text whose [`line_end`] is known (`eol`), so it is not looked for again.
pub(crate) fn paragraphs_ending(bytes: &[u8], mode: SplitMode, eol: u8) -> Vec<Span> {
    let mut out = Vec::new();
    let body_start = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    match mode {
        SplitMode::Line => line_paragraphs(bytes, body_start, bytes.len(), eol, &mut out),
        SplitMode::Blank => {
            let mut push = |s: usize, e: usize| out.extend(trim(bytes, s, e));
            let mut block_start = body_start;
            let mut line_start = body_start;
            let mut i = body_start;
            while i <= bytes.len() {
                if i == bytes.len() || bytes[i] == eol {
                    let blank = is_blank(&bytes[line_start..i]);
                    if blank {
                        push(block_start, line_start);
                        block_start = i + 1;
                    }
                    line_start = i + 1;
                }
                i += 1;
            }
            push(block_start, bytes.len());
        }
    }
    out
}

/// Whether a line separates paragraphs in [`SplitMode::Blank`]: nothing on it but whitespace,
/// Unicode's as well as ASCII's (the no-break space of an HTML `&nbsp;` spacer line, common in
/// scraped text, merged the paragraphs around it), and the invisible zero-width space, word
/// joiner and byte order mark.
fn is_blank(line: &[u8]) -> bool {
    if line.iter().all(u8::is_ascii_whitespace) {
        return true;
    }
    std::str::from_utf8(line).is_ok_and(|text| {
        text.chars()
            .all(|c| c.is_whitespace() || matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}'))
    })
}

/// The paragraphs of [`SplitMode::Line`] in `bytes[from..to]`, appended to `out`: each line of
/// the stretch (ended by `eol`, the whole text's [`line_end`]), trimmed, unless empty. `from`
/// is the start of a line (or just past a byte order mark) and `to` the end of one or of
/// `bytes`, so that a file cut at line starts gives, stretch by stretch, the spans
/// [`paragraphs`] gives for the whole.
pub(crate) fn line_paragraphs(bytes: &[u8], from: usize, to: usize, eol: u8, out: &mut Vec<Span>) {
    let mut start = from;
    for i in memchr::memchr_iter(eol, &bytes[from..to]) {
        out.extend(trim(bytes, start, from + i));
        start = from + i + 1;
    }
    out.extend(trim(bytes, start, to));
}

/// `bytes[s..e]` without whitespace at either end: ASCII whitespace, and (where the bytes are
/// UTF-8) Unicode's and the invisible characters of [`is_blank`] (a line of no-break spaces
/// was a paragraph of no word, and kept a file of them from being reported as empty). `None`
/// when nothing is left.
fn trim(bytes: &[u8], mut s: usize, mut e: usize) -> Option<Span> {
    e = e.min(bytes.len());
    if s >= e {
        return None;
    }
    loop {
        while s < e && bytes[s].is_ascii_whitespace() {
            s += 1;
        }
        match wide_space(&bytes[s..e], true) {
            Some(n) => s += n,
            None => break,
        }
    }
    loop {
        while e > s && bytes[e - 1].is_ascii_whitespace() {
            e -= 1;
        }
        match wide_space(&bytes[s..e], false) {
            Some(n) => e -= n,
            None => break,
        }
    }
    (s < e).then_some(Span { start: s, end: e })
}

/// The length of the non-ASCII whitespace or invisible character that `bytes` starts with
/// (`first`) or ends with, if it does.
fn wide_space(bytes: &[u8], first: bool) -> Option<usize> {
    let len = if first {
        let lead = *bytes.first()?;
        match lead {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => return None,
        }
    } else {
        // Back over up to three continuation bytes to the lead byte.
        let tail = &bytes[bytes.len().saturating_sub(4)..];
        let lead = tail.iter().rposition(|&b| b & 0xC0 != 0x80)?;
        if tail[lead] < 0xC0 {
            return None;
        }
        tail.len() - lead
    };
    let at = if first {
        0
    } else {
        bytes.len().checked_sub(len)?
    };
    let c = std::str::from_utf8(bytes.get(at..at + len)?)
        .ok()?
        .chars()
        .next()?;
    (c.is_whitespace() || matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}')).then_some(len)
}

/// Words that end with a period without ending a sentence (compared lowercase, without the
/// period). Titles, months, and common Latin and business abbreviations of the languages
/// syndup is tested on.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "gen", "sen", "rep", "gov", "lt", "col",
    "sgt", "capt", "cmdr", "adm", "maj", "rev", "hon", "pres", "inc", "ltd", "co", "corp", "no",
    "vs", "etc", "e.g", "i.e", "approx", "dept", "est", "fig", "jan", "feb", "mar", "apr", "jun",
    "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mt", "ft", "u.s", "u.k", "u.n", "e.u",
    "a.m", "p.m", "ca", "cf", "z.b", "bzw", "nr", "mme", "mlle", "m", "sig", "sra", "sr", "dña",
    "г", "гг", "т.е", "т.д", "им", "ул",
];

fn is_abbreviation(word: &str) -> bool {
    let lower = word.to_lowercase();
    let lower = lower.trim_start_matches(|c: char| !c.is_alphanumeric());
    if ABBREVIATIONS.contains(&lower) {
        return true;
    }
    // Initials and dotted acronyms: "J.", "U.S.", "A.B.C." — one letter before each period.
    let mut chars = word.chars().peekable();
    let mut letters = 0;
    while let Some(c) = chars.next() {
        if c.is_alphabetic() {
            letters += 1;
            if letters > 1 {
                return false;
            }
        } else if c == '.' {
            letters = 0;
        } else {
            return false;
        }
        if chars.peek().is_none() {
            return letters == 1 && c.is_uppercase();
        }
    }
    false
}

fn is_closing(c: char) -> bool {
    matches!(c, '"' | '\'' | '’' | '”' | '»' | ')' | ']' | '›')
}

fn is_opening(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '‘' | '“' | '«' | '(' | '[' | '‹' | '¿' | '¡' | '—' | '-'
    )
}

/// Splits a paragraph into sentence spans (trimmed; together they cover every word of the
/// paragraph). A sentence ends at `.`, `!`, `?` or `…` (plus closing quotes and brackets) that is
/// followed by whitespace and then an uppercase letter, a digit or an opening quote; a period
/// after an abbreviation or an initial does not end a sentence.
pub fn sentences(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let char_at = |p: usize| text.get(p..).and_then(|t| t.chars().next());
    let mut start = 0;
    let mut i = 0;
    // Terminators are found by their bytes ('…' is E2 80 A6); characters are decoded only
    // around them. ASCII text, which cannot hold a '…', is searched by `memchr3` (several
    // bytes at a time) rather than byte by byte: a tenth of the feature stage before.
    let ascii = text.is_ascii();
    while let Some(off) = bytes.get(i..).and_then(|rest| {
        if ascii {
            return memchr::memchr3(b'.', b'!', b'?', rest);
        }
        rest.iter().enumerate().position(|(k, &b)| {
            matches!(b, b'.' | b'!' | b'?')
                || (b == 0xe2 && rest.get(k + 1..k + 3) == Some(&[0x80, 0xa6]))
        })
    }) {
        let pos = i + off;
        let c = char_at(pos).unwrap_or('.');
        // Extend over repeated terminators and closing quotes/brackets.
        let mut j = pos + c.len_utf8();
        while let Some(d) = char_at(j) {
            if matches!(d, '.' | '!' | '?') || is_closing(d) {
                j += d.len_utf8();
            } else {
                break;
            }
        }
        let end = j;
        // Must be followed by whitespace, then a sentence start.
        let mut k = j;
        let mut next = char_at(k);
        while let Some(d) = next.filter(|d| d.is_whitespace()) {
            k += d.len_utf8();
            next = char_at(k);
        }
        let followed =
            k > j && next.is_some_and(|d| d.is_uppercase() || d.is_numeric() || is_opening(d));
        if followed && !(c == '.' && j == pos + 1 && ends_with_abbreviation(&text[start..pos])) {
            if let Some(s) = trim_str(text, start, end) {
                out.push(s);
            }
            start = k;
            i = k;
            continue;
        }
        i = j;
    }
    if let Some(s) = trim_str(text, start, text.len()) {
        out.push(s);
    }
    out
}

fn ends_with_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace())
        .next()
        .unwrap_or_default();
    !word.is_empty() && is_abbreviation(word)
}

fn trim_str(text: &str, s: usize, e: usize) -> Option<Span> {
    let piece = &text[s..e];
    let lead = piece.len() - piece.trim_start().len();
    let trimmed = piece.trim();
    (!trimmed.is_empty()).then_some(Span {
        start: s + lead,
        end: s + lead + trimmed.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The previous implementation, over a vector of all characters: the reference the byte
    /// scan must match.
    fn sentences_by_chars(text: &str) -> Vec<Span> {
        let mut out = Vec::new();
        let mut start = 0;
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut i = 0;
        while i < chars.len() {
            let (pos, c) = chars[i];
            if matches!(c, '.' | '!' | '?' | '…') {
                // Extend over repeated terminators and closing quotes/brackets.
                let mut j = i + 1;
                while j < chars.len()
                    && (matches!(chars[j].1, '.' | '!' | '?') || is_closing(chars[j].1))
                {
                    j += 1;
                }
                let end = chars.get(j).map_or(text.len(), |&(p, _)| p);
                // Must be followed by whitespace, then a sentence start.
                let mut k = j;
                while k < chars.len() && chars[k].1.is_whitespace() {
                    k += 1;
                }
                let followed = k > j
                    && k < chars.len()
                    && (chars[k].1.is_uppercase()
                        || chars[k].1.is_numeric()
                        || is_opening(chars[k].1));
                if followed
                    && !(c == '.' && j == i + 1 && ends_with_abbreviation(&text[start..pos]))
                {
                    if let Some(s) = trim_str(text, start, end) {
                        out.push(s);
                    }
                    start = chars[k].0;
                    i = k;
                    continue;
                }
                i = j;
                let _ = pos;
                continue;
            }
            i += 1;
        }
        if let Some(s) = trim_str(text, start, text.len()) {
            out.push(s);
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn byte_scan_splits_like_the_char_scan(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", "Word", " ", "  ", "\u{a0}", ".", "!", "?", "…", "\"", "”", "»", ")",
                    "«", "(", "—", "-", "Mr", "U.S", "J", "3", "é", "Ünter", "Ж", "\n", "¿",
                ]),
                0..40,
            )
        ) {
            let text: String = parts.concat();
            proptest::prop_assert_eq!(sentences(&text), sentences_by_chars(&text));
        }

        /// ASCII text takes the `memchr3` search: the same spans.
        #[test]
        fn ascii_search_splits_like_the_char_scan(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", "Word", " ", "  ", ".", "!", "?", "...", "\"", "'", ")", "(", "-", "Mr",
                    "U.S", "J", "3", "\n", "\t",
                ]),
                0..60,
            )
        ) {
            let text: String = parts.concat();
            proptest::prop_assert!(text.is_ascii());
            proptest::prop_assert_eq!(sentences(&text), sentences_by_chars(&text));
        }
    }

    fn split(text: &str) -> Vec<&str> {
        sentences(text).iter().map(|s| &text[s.range()]).collect()
    }

    #[test]
    fn sentence_table() {
        let cases: &[(&str, &[&str])] = &[
            ("One. Two.", &["One.", "Two."]),
            ("No split here", &["No split here"]),
            (
                "Dr. Who met J. R. Smith. Then left.",
                &["Dr. Who met J. R. Smith.", "Then left."],
            ),
            (
                "It rose 2.5 per cent. Shares fell.",
                &["It rose 2.5 per cent.", "Shares fell."],
            ),
            (
                "He said: ‘Go now.’ She went.",
                &["He said: ‘Go now.’", "She went."],
            ),
            (
                "“Why?” he asked. “Because.”",
                &["“Why?” he asked.", "“Because.”"],
            ),
            (
                "The U.S. Army said so. It did.",
                &["The U.S. Army said so.", "It did."],
            ),
            (
                "lowercase after. stays together",
                &["lowercase after. stays together"],
            ),
            (
                "Он сказал это. Потом ушёл.",
                &["Он сказал это.", "Потом ушёл."],
            ),
            ("Wait... What? Really!", &["Wait...", "What?", "Really!"]),
            (
                "In 2024. 300 people came.",
                &["In 2024.", "300 people came."],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(&split(text), want, "text: {text}");
        }
    }

    #[test]
    fn paragraph_modes() {
        let text = b"a\nb\n\n c \nd\n\n\n";
        let lines: Vec<_> = paragraphs(text, SplitMode::Line)
            .iter()
            .map(|s| &text[s.range()])
            .collect();
        assert_eq!(lines, [&b"a"[..], b"b", b"c", b"d"]);
        let blocks: Vec<_> = paragraphs(text, SplitMode::Blank)
            .iter()
            .map(|s| &text[s.range()])
            .collect();
        assert_eq!(blocks, [&b"a\nb"[..], b"c \nd"]);
    }

    /// Paragraphs are trimmed of Unicode whitespace and invisible characters too; a line of
    /// nothing else is no paragraph (it was one, of no word). Bytes that are not UTF-8 stay.
    #[test]
    fn paragraphs_are_trimmed_of_unicode_spaces() {
        let text = "\u{a0}\u{3000}First line.\u{202f}\u{200b}\n\u{a0} \u{a0}\nSecond\u{a0}line\u{feff}\n\u{a0}\u{e9}\n";
        let got: Vec<&str> = paragraphs(text.as_bytes(), SplitMode::Line)
            .iter()
            .map(|s| &text[s.range()])
            .collect();
        assert_eq!(got, ["First line.", "Second\u{a0}line", "\u{e9}"]);
        let only = "\u{a0}\n\u{3000}\u{a0}\n";
        assert!(paragraphs(only.as_bytes(), SplitMode::Line).is_empty());
        let bytes = b"\xc2 x \xa0";
        let got: Vec<&[u8]> = paragraphs(bytes, SplitMode::Line)
            .iter()
            .map(|s| &bytes[s.range()])
            .collect();
        assert_eq!(got, [&b"\xc2 x \xa0"[..]]);
    }

    /// A line of Unicode whitespace or invisible characters (an `&nbsp;` spacer line) separates
    /// blocks as an empty line does; a line with anything else on it, or not UTF-8, does not.
    #[test]
    fn unicode_blank_lines_separate_blocks() {
        let blocks = |text: &str| -> Vec<String> {
            paragraphs(text.as_bytes(), SplitMode::Blank)
                .iter()
                .map(|s| text[s.range()].to_string())
                .collect()
        };
        for sep in [
            "\u{a0}",
            " \u{a0}\t",
            "\u{3000}",
            "\u{200b}",
            "\u{feff}\u{2060}",
            "\u{202f}\r",
        ] {
            let text = format!("First story paragraph.\n{sep}\nSecond, unrelated paragraph.\n");
            assert_eq!(
                blocks(&text),
                ["First story paragraph.", "Second, unrelated paragraph."],
                "{sep:?}"
            );
        }
        let kept = "First line.\n\u{a0}x\nSecond line.";
        assert_eq!(blocks(kept), [kept]);
        let bytes = b"a\n\xff\nb";
        assert_eq!(paragraphs(bytes, SplitMode::Blank).len(), 1);
    }
}
