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

use unicode_normalization::UnicodeNormalization;

/// Normalized words of one text, in a buffer that is reused from text to text.
#[derive(Default, Debug, Clone)]
pub struct Words {
    buf: String,
    bounds: Vec<(u32, u32)>,
    /// Whether each word started with an uppercase letter in the source text.
    capitalized: Vec<bool>,
}

impl Words {
    /// Replaces the contents with the normalized words of `text`.
    pub fn normalize(&mut self, text: &str) {
        self.clear();
        self.push_text(text);
    }

    /// Appends the normalized words of `text` to the current contents.
    pub fn push_text(&mut self, text: &str) {
        let mut in_word = false;
        let mut word_start = 0u32;
        if text.is_ascii() {
            for &b in text.as_bytes() {
                if b.is_ascii_alphanumeric() {
                    if !in_word {
                        self.begin_word(&mut word_start);
                        self.capitalized.push(b.is_ascii_uppercase());
                        in_word = true;
                    }
                    self.buf.push(b.to_ascii_lowercase() as char);
                } else if in_word {
                    self.bounds.push((word_start, self.buf.len() as u32));
                    in_word = false;
                }
            }
        } else {
            for c in text.nfkc() {
                if is_word_char(c) {
                    if !in_word {
                        self.begin_word(&mut word_start);
                        self.capitalized.push(c.is_uppercase());
                        in_word = true;
                    }
                    push_folded(&mut self.buf, c);
                } else if in_word {
                    self.bounds.push((word_start, self.buf.len() as u32));
                    in_word = false;
                }
            }
        }
        if in_word {
            self.bounds.push((word_start, self.buf.len() as u32));
        }
    }

    fn begin_word(&mut self, start: &mut u32) {
        if !self.buf.is_empty() {
            self.buf.push(' ');
        }
        *start = self.buf.len() as u32;
    }

    /// Removes all words.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.bounds.clear();
        self.capitalized.clear();
    }

    /// Whether the `i`-th word started with an uppercase letter in the source text (before
    /// normalization lowercased it).
    pub fn is_capitalized(&self, i: usize) -> bool {
        self.capitalized[i]
    }

    /// The normalized words separated by single spaces.
    pub fn text(&self) -> &str {
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
        &self.buf[s as usize..e as usize]
    }

    /// Words `i..j` as one slice of the buffer (single spaces between them).
    pub fn span(&self, i: usize, j: usize) -> &str {
        let s = self.bounds[i].0 as usize;
        let e = self.bounds[j - 1].1 as usize;
        &self.buf[s..e]
    }

    /// Iterates over the words.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        self.bounds
            .iter()
            .map(|&(s, e)| &self.buf[s as usize..e as usize])
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || ('\u{300}'..='\u{36f}').contains(&c)
}

fn push_folded(buf: &mut String, c: char) {
    match c {
        'ß' | 'ẞ' => buf.push_str("ss"),
        'ς' => buf.push('σ'),
        _ if c.is_lowercase() || !c.is_uppercase() => buf.push(c),
        _ => buf.extend(c.to_lowercase()),
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
    w.buf
}

#[cfg(test)]
mod tests {
    use super::normalize;

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
}
