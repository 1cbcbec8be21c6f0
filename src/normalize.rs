//! Stage 3: normalization. Text in, normalized words out, in a reused buffer.
//!
//! Takes a paragraph or sentence (`&str`) and gives its words, normalized: Unicode NFKC
//! (so full-width letters, ligatures and composed/decomposed accents compare equal), lowercase
//! with case folding of `ß` and final sigma, and punctuation removed. A word is a maximal run of
//! letters, digits and combining marks, so curly and straight quotes, apostrophes, dashes and
//! hyphens all separate words the same way ("terror-related" → `terror related`,
//! `Osechkin’s` and `Osechkin's` → `osechkin s`). The words are written into a caller-owned
//! [`Words`] buffer, separated by single spaces, with their byte ranges, so later stages hash
//! slices of it without allocating. Works on any script (Cyrillic, Greek, accented Latin, CJK
//! ideographs as letters).
//!
//! ```
//! let mut w = syndup::normalize::Words::default();
//! w.normalize("« L’Élysée »  a dit — NON!");
//! assert_eq!(w.text(), "l élysée a dit non");
//! assert_eq!(w.len(), 5);
//! ```

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// Normalized words of one text, in a buffer that is reused from text to text.
#[derive(Default, Debug, Clone)]
pub struct Words {
    /// UTF-8: only whole characters are ever written.
    buf: Vec<u8>,
    bounds: Vec<(u32, u32)>,
    /// Whether each word started with an uppercase letter in the source text.
    capitalized: Vec<bool>,
    /// Byte offset of each word's first character in the text that was pushed (see
    /// [`Words::origin`]); kept only while every word has one.
    origins: Vec<u32>,
    /// Whether `origins` holds an offset for every word (false once a text needed the NFKC
    /// normalizer, which does not keep positions).
    origins_kept: bool,
    /// Scratch of the ASCII path: lowercase word bytes, 0 for the others, then padding.
    lower: Vec<u8>,
    /// Scratch of the ASCII path: one bit per byte of `lower`, set for word bytes.
    mask: Vec<u64>,
}

/// Words up to this length are copied as one fixed-size move (the scratch is padded for it).
const SHORT_WORD: usize = 16;

/// One bit per byte of `x` (bytes below 0x80), set where the byte is not zero.
#[inline]
fn nonzero_bytes(x: u64) -> u8 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // Adding 0x7f sets a byte's top bit exactly when it is not zero (no carry between bytes,
    // since each byte is below 0x80).
    let high = (x + LOW7) & !LOW7;
    // Gather the eight top bits into one byte.
    ((high >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
}

/// The first position at or after `p` whose bit in `mask` is `want` (`None` past the end).
#[inline]
fn next_bit(mask: &[u64], p: usize, want: bool) -> Option<usize> {
    let flip = if want { 0 } else { u64::MAX };
    let mut w = p / 64;
    let mut m = (mask.get(w)? ^ flip) & (u64::MAX << (p % 64));
    loop {
        if m != 0 {
            return Some(w * 64 + m.trailing_zeros() as usize);
        }
        w += 1;
        m = mask.get(w)? ^ flip;
    }
}

impl Words {
    /// Replaces the contents with the normalized words of `text`.
    pub fn normalize(&mut self, text: &str) {
        self.clear();
        self.push_text(text);
    }

    /// Appends the normalized words of `text` to the current contents.
    pub fn push_text(&mut self, text: &str) {
        if !self.bounds.is_empty() {
            // Offsets would be relative to different texts.
            self.origins_kept = false;
        }
        if text.is_ascii() {
            self.push_ascii(text.as_bytes());
        } else if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
            // Most text is already in NFKC: skip the normalizer's buffering.
            self.push_chars(text.char_indices().map(|(p, c)| (Some(p as u32), c)));
        } else {
            self.origins_kept = false;
            self.push_chars(text.nfkc().map(|c| (None, c)));
        }
    }

    /// The general path of [`Words::push_text`], over NFKC characters with their byte offsets
    /// in the source text when known.
    fn push_chars(&mut self, chars: impl Iterator<Item = (Option<u32>, char)>) {
        let mut in_word = false;
        let mut word_start = 0u32;
        for (at, c) in chars {
            if is_word_char(c) {
                if !in_word {
                    self.begin_word(&mut word_start);
                    self.capitalized.push(c.is_uppercase());
                    if let Some(at) = at {
                        self.origins.push(at);
                    }
                    in_word = true;
                }
                push_folded(&mut self.buf, c);
            } else if in_word {
                self.bounds.push((word_start, self.buf.len() as u32));
                in_word = false;
            }
        }
        if in_word {
            self.bounds.push((word_start, self.buf.len() as u32));
        }
    }

    /// The ASCII path of [`Words::push_text`]: classify and lowercase every byte without a
    /// branch, keep one bit per byte, then walk the words from bit to bit, so the
    /// cost is per word rather than a mispredicted branch at each word boundary.
    fn push_ascii(&mut self, bytes: &[u8]) {
        self.lower.clear();
        self.lower.extend(bytes.iter().map(|&b| {
            // Arithmetic rather than a table, so the compiler vectorizes it.
            let l = b | 0x20;
            if l.wrapping_sub(b'a') < 26 {
                l
            } else if b.wrapping_sub(b'0') < 10 {
                b
            } else {
                0
            }
        }));
        // Pad to whole 64-byte blocks plus room for the fixed-size word copy.
        self.lower
            .resize(bytes.len().next_multiple_of(64) + SHORT_WORD, 0);
        self.mask.clear();
        self.mask.extend(
            self.lower[..bytes.len().next_multiple_of(64)]
                .chunks_exact(64)
                .map(|block| {
                    block
                        .chunks_exact(8)
                        .enumerate()
                        .fold(0u64, |m, (k, eight)| {
                            let mut w = [0u8; 8];
                            w.copy_from_slice(eight);
                            m | u64::from(nonzero_bytes(u64::from_le_bytes(w))) << (8 * k)
                        })
                }),
        );
        let lower = &self.lower;
        let mut p = 0;
        while let Some(start) = next_bit(&self.mask, p, true) {
            let end = next_bit(&self.mask, start, false).unwrap_or(bytes.len());
            if !self.buf.is_empty() {
                self.buf.push(b' ');
            }
            let from = self.buf.len();
            self.capitalized
                .push(bytes.get(start).is_some_and(u8::is_ascii_uppercase));
            self.origins.push(start as u32);
            if end - start <= SHORT_WORD {
                // One fixed-size copy, then the padding cut off.
                if let Some(w) = lower.get(start..start + SHORT_WORD) {
                    self.buf.extend_from_slice(w);
                }
                self.buf.truncate(from + (end - start));
            } else if let Some(w) = lower.get(start..end) {
                self.buf.extend_from_slice(w);
            }
            self.bounds.push((from as u32, self.buf.len() as u32));
            p = end;
        }
    }

    fn begin_word(&mut self, start: &mut u32) {
        if !self.buf.is_empty() {
            self.buf.push(b' ');
        }
        *start = self.buf.len() as u32;
    }

    /// Removes all words.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.bounds.clear();
        self.capitalized.clear();
        self.origins.clear();
        self.origins_kept = true;
    }

    /// The byte offset, in the text given to [`Words::normalize`], of the first character of
    /// the `i`-th word; `None` when the text needed the NFKC normalizer (which does not keep
    /// positions; text already in NFKC, ASCII included, keeps them).
    ///
    /// ```
    /// let mut w = syndup::normalize::Words::default();
    /// w.normalize("Él dijo: «sí».");
    /// assert_eq!(w.origin(1), Some(4));
    /// assert_eq!(w.origin(2), Some(12));
    /// assert_eq!(&"Él dijo: «sí»."[12..], "sí».");
    /// w.normalize("ﬁne day"); // a ligature: NFKC rewrites it
    /// assert_eq!(w.origin(1), None);
    /// ```
    pub fn origin(&self, i: usize) -> Option<usize> {
        if self.origins_kept {
            self.origins.get(i).map(|&o| o as usize)
        } else {
            None
        }
    }

    /// Whether every word has an [`Words::origin`].
    pub fn has_origins(&self) -> bool {
        self.origins_kept && self.origins.len() == self.bounds.len()
    }

    /// The `i`-th word as bytes (for hashing: no UTF-8 check).
    pub fn word_bytes(&self, i: usize) -> &[u8] {
        let (s, e) = self.bounds[i];
        &self.buf[s as usize..e as usize]
    }

    /// Whether the `i`-th word started with an uppercase letter in the source text (before
    /// normalization lowercased it).
    pub fn is_capitalized(&self, i: usize) -> bool {
        self.capitalized[i]
    }

    /// The normalized words separated by single spaces.
    pub fn text(&self) -> &str {
        as_str(&self.buf)
    }

    /// [`Words::text`] as bytes (for hashing: no UTF-8 check).
    pub fn text_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The number of words.
    pub fn len(&self) -> usize {
        self.bounds.len()
    }

    /// Whether there is no word.
    pub fn is_empty(&self) -> bool {
        self.bounds.is_empty()
    }

    /// The `i`-th word.
    pub fn word(&self, i: usize) -> &str {
        let (s, e) = self.bounds[i];
        as_str(&self.buf[s as usize..e as usize])
    }

    /// Words `i..j` as one slice of the buffer (single spaces between them).
    pub fn span(&self, i: usize, j: usize) -> &str {
        as_str(self.span_bytes(i, j))
    }

    /// [`Words::span`] as bytes (for hashing: no UTF-8 check).
    ///
    /// ```
    /// let mut w = syndup::normalize::Words::default();
    /// w.normalize("Über den Fluss, schnell!");
    /// assert_eq!(w.span_bytes(1, 3), "den fluss".as_bytes());
    /// ```
    pub fn span_bytes(&self, i: usize, j: usize) -> &[u8] {
        let s = self.bounds[i].0 as usize;
        let e = self.bounds[j - 1].1 as usize;
        &self.buf[s..e]
    }

    /// Iterates over the words.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        self.bounds
            .iter()
            .map(|&(s, e)| as_str(&self.buf[s as usize..e as usize]))
    }
}

/// A slice of the buffer as text. The buffer holds whole characters and words start and end
/// on them, so the check never fails.
fn as_str(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || ('\u{300}'..='\u{36f}').contains(&c)
}

fn push_folded(buf: &mut Vec<u8>, c: char) {
    let mut push = |c: char| buf.extend_from_slice(c.encode_utf8(&mut [0u8; 4]).as_bytes());
    match c {
        'ß' | 'ẞ' => {
            push('s');
            push('s');
        }
        'ς' => push('σ'),
        _ if c.is_lowercase() || !c.is_uppercase() => push(c),
        _ => c.to_lowercase().for_each(push),
    }
}

/// Normalizes a text into a new `String` (words separated by single spaces). Convenient for
/// tests and one-off use; hot paths reuse a [`Words`] buffer instead.
///
/// ```
/// assert_eq!(syndup::normalize::normalize("“Quoted” — text’s END."), "quoted text s end");
/// ```
pub fn normalize(text: &str) -> String {
    let mut w = Words::default();
    w.normalize(text);
    w.text().to_string()
}

#[cfg(test)]
mod tests {
    use super::{normalize, Words};

    #[test]
    fn normalization_table() {
        let cases = [
            ("Hello,   World!", "hello world"),
            ("It’s “quoted” ‘twice’", "it s quoted twice"),
            ("It's \"quoted\" 'twice'", "it s quoted twice"),
            (
                "terror–related — or terror-related",
                "terror related or terror related",
            ),
            ("Ｆｕｌｌｗｉｄｔｈ ﬁle", "fullwidth file"),
            ("Cafe\u{301} café", "café café"),
            ("Straße STRASSE", "strasse strasse"),
            ("ПУТИН заявил: «Нет»", "путин заявил нет"),
            (
                "L’Élysée a réagi à l’annonce",
                "l élysée a réagi à l annonce",
            ),
            ("ΟΔΟΣ", "οδοσ"),
            ("  \t\n ", ""),
            ("3.5 million, 2,000", "3 5 million 2 000"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input), want, "input: {input}");
        }
    }

    /// The ASCII path and the general path give the same words, bounds and capitals, also when
    /// appending to words already there, with words that cross 64-byte blocks and words longer
    /// than the short-word copy.
    #[test]
    fn ascii_path_matches_general_path() {
        let long = format!("{} Tail", "Abcdefghij".repeat(9));
        let block = format!("{}Crossing the block", "x ".repeat(31));
        let texts = [
            "Hello,   World! It's 3.5 million",
            "  leading and trailing  ",
            "a",
            "",
            "!!!",
            "x-y_z  A1b2 C",
            "The Mayor said: \"NO\" -- twice.\n\nNew para",
            &long,
            &block,
        ];
        for first in texts {
            for second in texts {
                let mut fast = Words::default();
                fast.push_text(first);
                fast.push_text(second);
                // The general path: the same text with a non-ASCII character that is not
                // part of any word appended.
                let mut slow = Words::default();
                slow.push_text(&format!("{first}\u{2014}"));
                slow.push_text(&format!("{second}\u{2014}"));
                assert_eq!(fast.text(), slow.text(), "{first:?} + {second:?}");
                assert_eq!(fast.len(), slow.len());
                for i in 0..fast.len() {
                    assert_eq!(fast.word(i), slow.word(i));
                    assert_eq!(fast.is_capitalized(i), slow.is_capitalized(i));
                }
            }
        }
    }
}
