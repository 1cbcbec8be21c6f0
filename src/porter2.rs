//! English (Porter2) stemming of ASCII words, without allocation.
//!
//! Takes one lowercase word of at most [`MAX_LEN`] bytes, each in `[a-z0-9]`, and gives its stem
//! in a caller's 64-byte buffer: byte for byte what `rust-stemmers` 1.2
//! (`Stemmer::create(Algorithm::English).stem(word)`) gives. That is the *older* Porter2 that
//! rust-stemmers ships ("added" → "ad", "evening" → "even", "internal" → "intern"), not the
//! current Snowball one. Any other word (uppercase, non-ASCII, other bytes, longer) gives
//! `None`, for the caller to hand to rust-stemmers.
//!
//! The code follows the generated `english.rs` of rust-stemmers step by step. Its `among`
//! tables become longest-suffix matches on the word's last eight bytes held in one `u64`, its
//! groupings byte tests, the regions `p1`/`p2` byte offsets, and the vowel scans of the prelude,
//! of `mark_regions` and of steps 1a/1b bit operations on a mask of the word's vowels. Every step
//! only shortens the word (or keeps its length), so the stem always fits where the word was.
//! The prelude marks a `y` that acts as a consonant as `Y`, as the Snowball runtime does; the
//! input never holds an uppercase letter, so the postlude turns every `Y` back into `y`.

/// The longest word [`stem_english`] takes (in bytes).
pub const MAX_LEN: usize = 64;

/// The Porter2 English stem of `word`, written into `buf`; equal to rust-stemmers 1.2's
/// English stemmer on every word it takes.
///
/// Takes a lowercase ASCII word: every byte in `[a-z0-9]`, at most [`MAX_LEN`] bytes (the
/// empty word included). Gives the stem, a prefix of `buf`, which is never longer than the
/// word. Gives `None` for any other word (uppercase or non-ASCII letters, apostrophes or other
/// bytes, longer than 64 bytes): stem those with rust-stemmers. Nothing is allocated.
///
/// ```
/// use syndup::porter2::stem_english;
/// let mut buf = [0u8; 64];
/// assert_eq!(stem_english(b"running", &mut buf), Some(&b"run"[..]));
/// assert_eq!(stem_english(b"generously", &mut buf), Some(&b"generous"[..]));
/// assert_eq!(stem_english(b"added", &mut buf), Some(&b"ad"[..]));
/// assert_eq!(stem_english("café".as_bytes(), &mut buf), None);
/// ```
pub fn stem_english<'a>(word: &[u8], buf: &'a mut [u8; MAX_LEN]) -> Option<&'a [u8]> {
    let n = word.len();
    if n > MAX_LEN {
        return None;
    }
    // One pass, without branches on the letters: the domain test, the masks of vowels and `y`s
    // and the word's tail (see [`Word::tail`]).
    let mut ok = 1u8;
    let mut vowels = 0u64;
    let mut ys = 0u64;
    let mut tail = 0u64;
    for (i, &c) in word.iter().enumerate() {
        tail = tail << 8 | u64::from(c);
        let class = CLASS[usize::from(c)];
        ok &= class;
        vowels |= u64::from(class >> 1 & 1) << i;
        ys |= u64::from(class >> 2) << i;
    }
    if ok == 0 {
        return None;
    }
    let mut w = Word {
        b: [0; PAD + MAX_LEN],
        len: n,
    };
    w.b[PAD..PAD + n].copy_from_slice(word);
    w.stem(word, tail, vowels, ys);
    let stem = w.letters();
    buf[..stem.len()].copy_from_slice(stem);
    Some(&buf[..stem.len()])
}

/// Per byte: bit 0 when it is in the domain (`[a-z0-9]`), bit 1 when it is a vowel (`v`: `a e
/// i o u y`), bit 2 when it is `y`.
const CLASS: [u8; 256] = {
    let mut class = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_lowercase() || b.is_ascii_digit() {
            class[c] = 1;
        }
        if is_v(b) {
            class[c] |= 2;
        }
        if b == b'y' {
            class[c] |= 4;
        }
        c += 1;
    }
    class
};

/// Zero bytes before the word in [`Word::b`], so that its last eight bytes can always be read.
const PAD: usize = 8;

/// A word being stemmed.
struct Word {
    /// `PAD` zero bytes, then the word's `len` letters.
    b: [u8; PAD + MAX_LEN],
    len: usize,
}

/// A suffix of at most seven bytes, as [`Word::tail`] would hold it, and what to do with it.
#[derive(Clone, Copy)]
struct Suffix {
    bytes: u64,
    mask: u64,
    len: usize,
    action: u8,
}

/// `s` (at most eight bytes) as the low bytes of a `u64`, its last byte lowest.
const fn packed(s: &[u8]) -> u64 {
    let mut v = 0u64;
    let mut i = 0;
    while i < s.len() {
        v = (v << 8) | s[i] as u64;
        i += 1;
    }
    v
}

/// A suffix table entry: the suffix `s` (at most seven bytes) and its action.
const fn suffix(s: &[u8], action: u8) -> Suffix {
    Suffix {
        bytes: packed(s),
        mask: (1u64 << (8 * s.len())) - 1,
        len: s.len(),
        action,
    }
}

/// Whether the word whose tail is `tail` ends in `s` (at most seven bytes). The tail's bytes
/// before a short word are zero, which no suffix holds, so no length test is needed.
#[inline]
fn ends(tail: u64, s: &[u8]) -> bool {
    tail & ((1u64 << (8 * s.len())) - 1) == packed(s)
}

/// The first of `table` (longest first where one ends another) that ends the word whose tail
/// is `tail`.
#[inline]
fn find(tail: u64, table: &[Suffix]) -> Option<Suffix> {
    table.iter().copied().find(|s| tail & s.mask == s.bytes)
}

/// The bits of the first `k` positions of a 64-bit mask.
#[inline]
fn below(k: usize) -> u64 {
    if k >= 64 {
        u64::MAX
    } else {
        (1u64 << k) - 1
    }
}

/// `a e i o u y` (Snowball's `v`; a `Y` is a consonant).
#[inline]
const fn is_v(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

/// `v` and `w x Y` (Snowball's `v_WXY`).
#[inline]
fn is_v_wxy(c: u8) -> bool {
    matches!(
        c,
        b'a' | b'e' | b'i' | b'o' | b'u' | b'y' | b'w' | b'x' | b'Y'
    )
}

/// The letters that may precede a deleted `li` (Snowball's `valid_LI`).
#[inline]
fn is_valid_li(c: u8) -> bool {
    matches!(
        c,
        b'c' | b'd' | b'e' | b'g' | b'h' | b'k' | b'm' | b'n' | b'r' | b't'
    )
}

/// The words `exception1` stems on their own, before anything else (as their [`Word::tail`]:
/// all are shorter than eight letters), and their stems.
const EXCEPTION1: [(u64, &[u8]); 18] = [
    (packed(b"skis"), b"ski"),
    (packed(b"skies"), b"sky"),
    (packed(b"dying"), b"die"),
    (packed(b"lying"), b"lie"),
    (packed(b"tying"), b"tie"),
    (packed(b"idly"), b"idl"),
    (packed(b"gently"), b"gentl"),
    (packed(b"ugly"), b"ugli"),
    (packed(b"early"), b"earli"),
    (packed(b"only"), b"onli"),
    (packed(b"singly"), b"singl"),
    (packed(b"sky"), b"sky"),
    (packed(b"news"), b"news"),
    (packed(b"howe"), b"howe"),
    (packed(b"atlas"), b"atlas"),
    (packed(b"cosmos"), b"cosmos"),
    (packed(b"bias"), b"bias"),
    (packed(b"andes"), b"andes"),
];

/// Words (after step 1a) that steps 1b to 5 leave alone (`exception2`).
const EXCEPTION2: [&[u8]; 8] = [
    b"succeed", b"proceed", b"exceed", b"canning", b"inning", b"earring", b"herring", b"outing",
];

impl Word {
    /// The word's letters.
    fn letters(&self) -> &[u8] {
        &self.b[PAD..PAD + self.len]
    }

    /// Letter `i`.
    #[inline]
    fn at(&self, i: usize) -> u8 {
        self.b[PAD + i]
    }

    /// The word's last eight bytes (zeros before a shorter word), the last byte lowest.
    #[inline]
    fn tail(&self) -> u64 {
        let mut last = [0u8; 8];
        last.copy_from_slice(&self.b[self.len..self.len + PAD]);
        u64::from_be_bytes(last)
    }

    /// The suffix that ends the word among those of the table `pick` chooses by the word's
    /// last letters (its `tail`), and where it starts; `None` when no table or suffix fits.
    #[inline]
    fn ending(
        &self,
        pick: impl FnOnce(u64) -> Option<&'static [Suffix]>,
    ) -> Option<(Suffix, usize)> {
        let t = self.tail();
        let s = find(t, pick(t)?)?;
        Some((s, self.len - s.len))
    }

    /// Replaces the letters from `start` on with `to` (never longer than what it replaces).
    #[inline]
    fn replace(&mut self, start: usize, to: &[u8]) {
        self.b[PAD + start..PAD + start + to.len()].copy_from_slice(to);
        self.len = start + to.len();
    }

    /// Stems the word, which is `word`; `tail` is its [`Word::tail`], `vowels` and `ys` mark
    /// its letters `a e i o u y` and its `y`s.
    ///
    /// The tests that can read `word` (or `tail`) rather than [`Word::b`] do: loads from a fresh
    /// copy wait for the copy's stores, and the two differ only by the prelude's `Y`s.
    fn stem(&mut self, word: &[u8], tail: u64, mut vowels: u64, ys: u64) {
        if word.len() <= 6 {
            if let Some(&(_, stem)) = EXCEPTION1.iter().find(|&&(w, _)| w == tail) {
                self.replace(0, stem);
                return;
            }
        }
        let n = self.len;
        if n < 3 {
            return;
        }

        // Prelude: an initial `y`, and a `y` after a vowel, become the consonant `Y` (left to
        // right, so that of "ayy" only the first `y` does).
        let mut y_found = false;
        let mut rest = ys;
        while rest != 0 {
            let i = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            if i == 0 || vowels >> (i - 1) & 1 == 1 {
                vowels &= !(1u64 << i);
                self.b[PAD + i] = b'Y';
                y_found = true;
            }
        }

        // The prelude's `Y`s change no test until step 1b: no prefix of `mark_regions`, suffix
        // of step 1a or word of `exception2` holds a `y`.
        let (p1, p2) = mark_regions(word, vowels);
        self.len = step_1a(word.len(), tail, vowels);
        if !(self.len <= 7 && EXCEPTION2.contains(&&word[..self.len])) {
            self.step_1b(vowels, p1);
            self.step_1c();
            self.step_2(p1);
            self.step_3(p1, p2);
            self.step_4(p2);
            self.step_5(p1, p2);
        }

        // Postlude.
        if y_found {
            let len = self.len;
            for c in &mut self.b[PAD..PAD + len] {
                if *c == b'Y' {
                    *c = b'y';
                }
            }
        }
    }

    /// Whether the word up to `end` ends in a short syllable (Snowball's `shortv`).
    fn shortv(&self, end: usize) -> bool {
        (end >= 3
            && !is_v_wxy(self.at(end - 1))
            && is_v(self.at(end - 2))
            && !is_v(self.at(end - 3)))
            || (end == 2 && !is_v(self.at(1)) && is_v(self.at(0)))
    }

    /// Step 1b: `eed`, `ed`, `ing` and their `-ly` forms. `vowels` still holds for every
    /// letter before the end (step 1a only shortens the word).
    fn step_1b(&mut self, vowels: u64, p1: usize) {
        const Y: &[Suffix] = &[suffix(b"eedly", 1), suffix(b"ingly", 2), suffix(b"edly", 2)];
        const D: &[Suffix] = &[suffix(b"eed", 1), suffix(b"ed", 2)];
        const G: &[Suffix] = &[suffix(b"ing", 2)];
        let Some((s, start)) = self.ending(|t| match t as u8 {
            b'y' => Some(Y),
            b'd' => Some(D),
            b'g' => Some(G),
            _ => None,
        }) else {
            return;
        };
        if s.action == 1 {
            if p1 <= start {
                self.replace(start, b"ee");
            }
            return;
        }
        if vowels & below(start) == 0 {
            return;
        }
        self.len = start;
        let t = self.tail();
        if ends(t, b"at") || ends(t, b"bl") || ends(t, b"iz") {
            self.replace(start, b"e");
        } else if t as u8 == (t >> 8) as u8
            && matches!(
                t as u8,
                b'b' | b'd' | b'f' | b'g' | b'm' | b'n' | b'p' | b'r' | b't'
            )
        {
            self.len -= 1;
        } else if start == p1 && self.shortv(start) {
            self.replace(start, b"e");
        }
    }

    /// Step 1c: a final `y` after a consonant (not the first letter) becomes `i`.
    fn step_1c(&mut self) {
        let len = self.len;
        if len >= 3 && matches!(self.at(len - 1), b'y' | b'Y') && !is_v(self.at(len - 2)) {
            self.b[PAD + len - 1] = b'i';
        }
    }

    /// Step 2: derivational suffixes in R1 (`ational` → `ate`, `li` after a valid letter, …).
    fn step_2(&mut self, p1: usize) {
        const CI: &[Suffix] = &[suffix(b"anci", 3), suffix(b"enci", 2)];
        const GI: &[Suffix] = &[suffix(b"ogi", 13)];
        const LI: &[Suffix] = &[
            suffix(b"lessli", 15),
            suffix(b"fulli", 14),
            suffix(b"ousli", 10),
            suffix(b"entli", 5),
            suffix(b"abli", 4),
            suffix(b"alli", 8),
            suffix(b"bli", 12),
            suffix(b"li", 16),
        ];
        const TI: &[Suffix] = &[
            suffix(b"biliti", 12),
            suffix(b"aliti", 8),
            suffix(b"iviti", 11),
        ];
        const L: &[Suffix] = &[suffix(b"ational", 7), suffix(b"tional", 1)];
        const M: &[Suffix] = &[suffix(b"alism", 8)];
        const N: &[Suffix] = &[suffix(b"ization", 6), suffix(b"ation", 7)];
        const R: &[Suffix] = &[suffix(b"izer", 6), suffix(b"ator", 7)];
        const S: &[Suffix] = &[
            suffix(b"iveness", 11),
            suffix(b"fulness", 9),
            suffix(b"ousness", 10),
        ];
        let Some((s, start)) = self.ending(|t| match ((t >> 8) as u8, t as u8) {
            (b'c', b'i') => Some(CI),
            (b'g', b'i') => Some(GI),
            (b'l', b'i') => Some(LI),
            (b't', b'i') => Some(TI),
            (_, b'l') => Some(L),
            (_, b'm') => Some(M),
            (_, b'n') => Some(N),
            (_, b'r') => Some(R),
            (_, b's') => Some(S),
            _ => None,
        }) else {
            return;
        };
        if start < p1 {
            return;
        }
        let before = if start >= 1 { self.at(start - 1) } else { 0 };
        let to: &[u8] = match s.action {
            1 => b"tion",
            2 => b"ence",
            3 => b"ance",
            4 => b"able",
            5 => b"ent",
            6 => b"ize",
            7 => b"ate",
            8 => b"al",
            9 | 14 => b"ful",
            10 => b"ous",
            11 => b"ive",
            12 => b"ble",
            13 if before == b'l' => b"og",
            15 => b"less",
            16 if is_valid_li(before) => b"",
            _ => return,
        };
        self.replace(start, to);
    }

    /// Step 3: more derivational suffixes in R1 (`ative` in R2).
    fn step_3(&mut self, p1: usize, p2: usize) {
        const E: &[Suffix] = &[
            suffix(b"icate", 4),
            suffix(b"ative", 6),
            suffix(b"alize", 3),
        ];
        const I: &[Suffix] = &[suffix(b"iciti", 4)];
        const L: &[Suffix] = &[
            suffix(b"ational", 2),
            suffix(b"tional", 1),
            suffix(b"ical", 4),
            suffix(b"ful", 5),
        ];
        const S: &[Suffix] = &[suffix(b"ness", 5)];
        let Some((s, start)) = self.ending(|t| match t as u8 {
            b'e' => Some(E),
            b'i' => Some(I),
            b'l' => Some(L),
            b's' => Some(S),
            _ => None,
        }) else {
            return;
        };
        if start < p1 {
            return;
        }
        let to: &[u8] = match s.action {
            1 => b"tion",
            2 => b"ate",
            3 => b"al",
            4 => b"ic",
            6 if start < p2 => return,
            _ => b"",
        };
        self.replace(start, to);
    }

    /// Step 4: suffixes deleted in R2 (`ion` only after `s` or `t`).
    fn step_4(&mut self, p2: usize) {
        const C: &[Suffix] = &[suffix(b"ic", 1)];
        const E: &[Suffix] = &[
            suffix(b"ance", 1),
            suffix(b"ence", 1),
            suffix(b"able", 1),
            suffix(b"ible", 1),
            suffix(b"ate", 1),
            suffix(b"ive", 1),
            suffix(b"ize", 1),
        ];
        const I: &[Suffix] = &[suffix(b"iti", 1)];
        const L: &[Suffix] = &[suffix(b"al", 1)];
        const M: &[Suffix] = &[suffix(b"ism", 1)];
        const N: &[Suffix] = &[suffix(b"ion", 2)];
        const R: &[Suffix] = &[suffix(b"er", 1)];
        const S: &[Suffix] = &[suffix(b"ous", 1)];
        const T: &[Suffix] = &[
            suffix(b"ement", 1),
            suffix(b"ment", 1),
            suffix(b"ent", 1),
            suffix(b"ant", 1),
        ];
        let Some((s, start)) = self.ending(|t| match t as u8 {
            b'c' => Some(C),
            b'e' => Some(E),
            b'i' => Some(I),
            b'l' => Some(L),
            b'm' => Some(M),
            b'n' => Some(N),
            b'r' => Some(R),
            b's' => Some(S),
            b't' => Some(T),
            _ => None,
        }) else {
            return;
        };
        if start < p2 {
            return;
        }
        if s.action == 2 && !(start >= 1 && matches!(self.at(start - 1), b's' | b't')) {
            return;
        }
        self.len = start;
    }

    /// Step 5: a final `e` (in R2, or in R1 after no short syllable), and the `l` of `ll` in
    /// R2.
    fn step_5(&mut self, p1: usize, p2: usize) {
        let len = self.len;
        let t = self.tail();
        let drop = match t as u8 {
            b'e' => p2 < len || (p1 < len && !self.shortv(len - 1)),
            b'l' => p2 < len && (t >> 8) as u8 == b'l',
            _ => false,
        };
        if drop {
            self.len -= 1;
        }
    }
}

/// The regions R1 and R2, as the offsets where they start (the word's length when empty).
fn mark_regions(word: &[u8], vowels: u64) -> (usize, usize) {
    let n = word.len();
    let consonants = !vowels & below(n);
    // The offset just past the first non-vowel after the first vowel from `from` on.
    let after_vc = |from: usize| -> Option<usize> {
        let v = vowels & !below(from);
        if v == 0 {
            return None;
        }
        let c = consonants & !below(v.trailing_zeros() as usize + 1);
        (c != 0).then(|| c.trailing_zeros() as usize + 1)
    };
    let p1 = if word.starts_with(b"gener") || word.starts_with(b"arsen") {
        5
    } else if word.starts_with(b"commun") {
        6
    } else {
        match after_vc(0) {
            Some(p) => p,
            None => return (n, n),
        }
    };
    (p1, after_vc(p1).unwrap_or(n))
}

/// Step 1a: plurals (`sses`, `ied`/`ies`, `s`).
fn step_1a(len: usize, t: u64, vowels: u64) -> usize {
    if ends(t, b"sses") {
        len - 2
    } else if ends(t, b"ied") || ends(t, b"ies") {
        // `i` after two or more letters, else `ie`.
        len - if len >= 5 { 2 } else { 1 }
    } else if t & 0xff == u64::from(b's')
        && !ends(t, b"ss")
        && !ends(t, b"us")
        && len >= 2
        && vowels & below(len - 2) != 0
    {
        len - 1
    } else {
        len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_stemmers::{Algorithm, Stemmer};

    /// rust-stemmers' stem of `word`, as bytes.
    fn reference(stemmer: &Stemmer, word: &str) -> Vec<u8> {
        stemmer.stem(word).as_bytes().to_vec()
    }

    /// Panics (with the word) unless the port and rust-stemmers agree on `word`.
    fn assert_agrees(stemmer: &Stemmer, word: &str) {
        let mut buf = [0u8; MAX_LEN];
        let ours = stem_english(word.as_bytes(), &mut buf).map(<[u8]>::to_vec);
        let want = reference(stemmer, word);
        assert_eq!(
            ours.as_deref().map(String::from_utf8_lossy),
            Some(String::from_utf8_lossy(&want)),
            "word {word:?}"
        );
    }

    #[test]
    fn known_stems() {
        let mut buf = [0u8; MAX_LEN];
        for (word, stem) in [
            ("running", "run"),
            ("added", "ad"),
            ("evening", "even"),
            ("internal", "intern"),
            ("generously", "generous"),
            ("communism", "communism"),
            ("skies", "sky"),
            ("news", "news"),
            ("innings", "inning"),
            ("sayings", "say"),
            ("yelling", "yell"),
            ("hopeful", "hope"),
            ("", ""),
            ("by", "by"),
            ("2024", "2024"),
        ] {
            assert_eq!(
                stem_english(word.as_bytes(), &mut buf),
                Some(stem.as_bytes()),
                "{word}"
            );
        }
    }

    #[test]
    fn out_of_domain_words_give_none() {
        let mut buf = [0u8; MAX_LEN];
        for word in [
            "Running",
            "RUN",
            "café",
            "naïve",
            "don't",
            "o'clock",
            "two words",
            "hyphen-ated",
            "tab\t",
            "\u{0}",
            "ﬁne",
        ] {
            assert_eq!(stem_english(word.as_bytes(), &mut buf), None, "{word:?}");
        }
        let long = "a".repeat(MAX_LEN + 1);
        assert_eq!(stem_english(long.as_bytes(), &mut buf), None);
        let longest = "a".repeat(MAX_LEN);
        assert!(stem_english(longest.as_bytes(), &mut buf).is_some());
        // Not UTF-8 at all.
        assert_eq!(stem_english(&[0xff, b'a', b'b'], &mut buf), None);
    }

    #[test]
    fn agrees_with_rust_stemmers_on_the_bundled_corpus() {
        let stemmer = Stemmer::create(Algorithm::English);
        let mut words = std::collections::BTreeSet::new();
        let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                for word in text.to_lowercase().split(|c: char| !c.is_alphanumeric()) {
                    if !word.is_empty() && word.is_ascii() {
                        words.insert(word.to_owned());
                    }
                }
            }
        }
        assert!(words.len() > 1000, "only {} words", words.len());
        for word in &words {
            assert_agrees(&stemmer, word);
        }
    }

    /// The suffixes of the algorithm's tables, and a few that combine them.
    const SUFFIXES: &[&str] = &[
        "ational", "tional", "enci", "anci", "izer", "bli", "abli", "alli", "entli", "eli",
        "ousli", "fulli", "lessli", "li", "ogi", "logi", "ization", "ation", "ator", "alism",
        "iveness", "fulness", "ousness", "aliti", "iviti", "biliti", "icate", "ative", "alize",
        "iciti", "ical", "ful", "ness", "al", "ance", "ence", "er", "ic", "able", "ible", "ant",
        "ement", "ment", "ent", "ism", "ate", "iti", "ous", "ive", "ize", "ion", "sion", "tion",
        "ed", "eed", "ing", "edly", "eedly", "ingly", "s", "ies", "ied", "sses", "ss", "us", "y",
        "yy", "e", "l", "ll", "at", "bl", "iz", "bb", "dd", "ff", "gg", "mm", "nn", "pp", "rr",
        "tt", "ly", "ally", "fully", "less", "lessly", "ations", "izations", "ers", "ings", "ye",
        "ay", "ey", "oy", "uy",
    ];

    /// Words the algorithm treats specially, and prefixes with their own R1.
    const SPECIAL: &[&str] = &[
        "skis", "skies", "dying", "lying", "tying", "idly", "gently", "ugly", "early", "only",
        "singly", "sky", "news", "howe", "atlas", "cosmos", "bias", "andes", "inning", "outing",
        "canning", "herring", "earring", "proceed", "exceed", "succeed", "gener", "commun",
        "arsen", "y", "yy", "ye", "you",
    ];

    /// Words made of pieces that exercise the algorithm's branches.
    fn english_like() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => proptest::sample::select(SUFFIXES).prop_map(str::to_owned),
            1 => proptest::sample::select(SPECIAL).prop_map(str::to_owned),
            2 => "[a-z]{1,3}",
            2 => "[aeiouy]{1,2}",
            2 => "[bcdfghjklmnpqrstvwxzy]{1,2}",
            1 => "[0-9]{1,2}",
        ];
        (
            prop_oneof![
                3 => "[a-z]{1,8}",
                1 => proptest::sample::select(SPECIAL).prop_map(str::to_owned),
                1 => "y[a-z]{0,4}",
                1 => "[bcdfghjklmnpqrstvwxz]?[aeiouy][bcdfghjklmnpqrstvwxzy]",
            ],
            proptest::collection::vec(piece, 0..4),
            proptest::sample::select(SUFFIXES),
            proptest::bool::ANY,
        )
            .prop_map(|(head, mid, suffix, with_suffix)| {
                let mut word = head;
                for m in mid {
                    word.push_str(&m);
                }
                if with_suffix {
                    word.push_str(suffix);
                }
                word.truncate(MAX_LEN);
                word
            })
    }

    /// The port's stem of `word` and the one rust-stemmers gives (`None` past [`MAX_LEN`]).
    fn both(word: &str) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
        let stemmer = Stemmer::create(Algorithm::English);
        let mut buf = [0u8; MAX_LEN];
        let ours = stem_english(word.as_bytes(), &mut buf).map(<[u8]>::to_vec);
        let want = (word.len() <= MAX_LEN).then(|| reference(&stemmer, word));
        (ours, want)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn agrees_with_rust_stemmers_on_random_words(word in "[a-z0-9]{0,20}") {
            let (ours, want) = both(&word);
            prop_assert_eq!(ours, want, "word {:?}", word);
        }

        #[test]
        fn agrees_with_rust_stemmers_on_english_like_words(word in english_like()) {
            let (ours, want) = both(&word);
            prop_assert_eq!(ours, want, "word {:?}", word);
        }

        #[test]
        fn agrees_with_rust_stemmers_on_few_letter_words(word in "[aeybdlsntw]{0,9}") {
            let (ours, want) = both(&word);
            prop_assert_eq!(ours, want, "word {:?}", word);
        }

        #[test]
        fn agrees_with_rust_stemmers_on_long_words(word in "[a-z0-9]{40,64}[a-z]{0,3}") {
            let (ours, want) = both(&word);
            prop_assert_eq!(ours, want, "word {:?}", word);
        }
    }
}
