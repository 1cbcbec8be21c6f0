//! Seeded generator of synthetic *syndicated* news corpora with paragraph-level ground truth.
//!
//! **Takes** news-like source text — a list of [`Story`] values (plain-text paragraphs), parsed
//! with [`stories_from_lines`] (one whole story per line) or [`stories_from_blocks`]
//! (blank-line separated stories, one paragraph per line) — and a [`GenConfig`] (document count,
//! seed and knobs).
//!
//! **Gives** [`GenConfig::docs`] documents ([`GenDoc`], one paragraph per line) that imitate real
//! syndication, and the ground truth ([`TruthPair`]) of which lines duplicate which:
//!
//! * each group has one **original** (a story's paragraphs as they are, perhaps with a dateline
//!   or byline line) and up to [`GenConfig::max_copies`] **copies** carrying the edits syndication
//!   makes: a new lead, dropped and reordered paragraphs, trimmed sentences, synonym substitution,
//!   UK/US spelling, quote style, datelines, bylines, boilerplate lines, merged and split
//!   paragraphs;
//! * **hard negatives** are same-topic documents that contain no paragraph derived from the story
//!   they imitate.
//!
//! Every input story is used at most once as it is. The same stories and config always give
//! byte-identical output. Use [`generate`] for an in-memory result, or [`write_corpus`] /
//! [`Generator`] to stream large corpora block by block ([`GenConfig::block_docs`] documents at
//! a time; a group never spans two blocks).
//!
//! ## Synthetic stories: real sentences, re-lexicalized
//!
//! When more stories are needed than given (and for the new leads of copies), new text is made
//! from real input sentences whose words are swapped for pseudo-words:
//!
//! * **Vocabulary.** The *common* words are the [`GenConfig::common_words`] most frequent word
//!   forms of the input (case-insensitive) that are not names (a form capitalised in half or
//!   more of its occurrences inside sentences is a name), plus every word of the synonym and
//!   UK/US spelling tables. The most frequent of them ([`PROTECTED_WORDS`], at most
//!   [`PROTECTED_SHARE`] of the input's words: the function words) are always kept; the other
//!   common words are kept unless a sentence needs more changes (table words last, so synonym
//!   substitution and spelling edits still find words to change). Every other word is a name or
//!   a rare word and is always replaced.
//! * **Lexicon.** Each synthetic story has its own bijection from replaced words to
//!   pseudo-words: pronounceable syllable words ("Stoumibai", "klaunsel") of about the source
//!   word's length, with its case pattern (lower, Capitalised, UPPER) and a kept `-ing`, `-ed`,
//!   `-ly` or `-s`; never a word of the input, and never one handed out to another story (a
//!   Bloom filter of all pseudo-words). Numbers become other numbers of the same shape (years
//!   stay in their century); punctuation, the `'s` of possessives and letters right after
//!   digits (`1960s`, `4pm`) stay.
//! * **Story.** A synthetic original takes part of a random base story's sentences (the rest
//!   are kept for its hard negatives), then sentences of topic-similar donor stories, least-used
//!   sentences first, all through its lexicon, grouped into paragraphs of 1–3 sentences. Its
//!   **hard negatives** use the same lexicon (so they share its names and topic words) but only
//!   sentences the story did not use: they restate nothing (when a small input leaves a group
//!   without unused sentences, the rest of a hard negative comes through a new lexicon). New
//!   leads of copies come from the same pool. For a group whose original is a real input
//!   story, the lexicon keeps that story's own names and words (so hard negatives made when no
//!   real story is left, and new leads, share its entities) and replaces the rest. Real
//!   originals get real hard negatives while unused input stories remain.
//! * **Guarantees.** A story uses a source sentence at most once. A rendering is kept only if
//!   at least [`MIN_FRESH`] (40%) of its words changed and its estimated sentence-level overlap
//!   score with its source (IDF-weighted over the words they still share) is at most
//!   [`MAX_SKELETON`] (0.2, below the detector's 0.30). Two renderings of one sentence under
//!   different lexicons share only those words and score lower still, so reusing a sentence
//!   never makes a restatement; sentences that cannot get there (mostly always-kept words) are
//!   never used. A rendering equal (lowercase letters and digits) to any input sentence or
//!   earlier synthetic sentence is dropped. Because pseudo-words are unique to their story, two
//!   unrelated synthetic stories share no word outside the common vocabulary (apart from
//!   numbers and one-letter initials), hence no word run containing one.
//!
//! When the input is small compared with the corpus (300 stories for 10,000 documents), each
//! usable sentence is reused some 30 times (under different lexicons), and about half of the
//! words of synthetic text are pseudo-words: that is the price of reusing a sentence without
//! the copies looking like restatements of each other.
//!
//! Truth labels are listed in [`LABELS`]; `docs/<file>:<line>` pairs are written by
//! [`Generated::write_to`] and [`write_corpus`] in the project's gold format.
//!
//! ```
//! use syndup::generate::{generate, stories_from_blocks, DocKind, GenConfig};
//!
//! let text = "Flood waters rose overnight in the river town. Residents were moved to higher ground.\n\
//!             The council said the river peaked on Tuesday morning.\n\
//!             Police closed the main bridge after part of the road collapsed.\n\
//!             \n\
//!             The city council approved a new budget for public transport on Monday.\n\
//!             The mayor said bus fares would not rise this year.\n";
//! let stories = stories_from_blocks(text);
//! assert_eq!(stories.len(), 2);
//! let cfg = GenConfig { docs: 12, seed: 7, ..GenConfig::default() };
//! let out = generate(&stories, &cfg);
//! assert_eq!(out.docs.len(), 12);
//! assert!(out.truth.iter().all(|p| p.doc_a < 12 && p.doc_b < 12 && p.line_a >= 1));
//! for doc in &out.docs {
//!     if let DocKind::Copy { original } = doc.kind {
//!         assert!(out.truth.iter().any(|p| (p.doc_a, p.doc_b) == (original.min(doc.index), original.max(doc.index))));
//!     }
//! }
//! ```

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/// One source story: its paragraphs in reading order, as plain text.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Story {
    /// Paragraphs in reading order (whitespace, including newlines, is collapsed on use).
    pub paragraphs: Vec<String>,
}

/// Every truth label the generator emits, in order of how surely a detector should flag the pair.
///
/// * `exact` — identical text, modulo quote style and UK/US spelling.
/// * `sub00-10`, `sub10-20`, `sub20-30` — the same sentences with synonym substitution; the
///   bucket is the actual share of the shared words that differ between the two lines (union of
///   both lines' substitutions, so for original vs. copy it is the copy's rate).
/// * `merged` — one of the lines joins two source paragraphs into one line.
/// * `split` — one of the lines is part of a source paragraph split into two lines.
/// * `trimmed` — one line lost trailing sentence(s) but keeps at least half of the words.
/// * `loose` — derived from the same paragraph, but a detector may or may not flag it: more than
///   30% of the shared words differ, fewer than [`GenConfig::min_dup_words`] words are shared, or
///   a trimmed line kept less than half of the words.
/// * `boilerplate` — identical dateline, byline or boilerplate lines (short; optional to flag).
pub const LABELS: &[&str] = &[
    "exact",
    "sub00-10",
    "sub10-20",
    "sub20-30",
    "merged",
    "split",
    "trimmed",
    "loose",
    "boilerplate",
];

/// Knobs of the generator. Probabilities are clamped to `[0, 1]`; non-finite values count as 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GenConfig {
    /// Number of documents to write.
    pub docs: usize,
    /// Seed of every random choice; the same stories and config give the same output.
    pub seed: u64,
    /// Share of documents that are edited copies of an original (default 0.55).
    pub copy_share: f64,
    /// Share of documents that are hard negatives (default 0.15). The rest are originals.
    pub negative_share: f64,
    /// Most copies one original gets (default 8); bounds the size of a duplicate group.
    pub max_copies: usize,
    /// Weights of the per-paragraph substitution-rate buckets 0%, 0–10%, 10–20%, 20–30%.
    pub sub_weights: [f64; 4],
    /// Chance a copy starts with a new lead paragraph (new text, not a duplicate).
    pub new_lead_prob: f64,
    /// Chance each paragraph is dropped from a copy.
    pub drop_prob: f64,
    /// Chance a copy loses its last paragraphs (up to a third of them).
    pub truncate_prob: f64,
    /// Chance a copy moves one or two paragraphs to another place.
    pub reorder_prob: f64,
    /// Chance a multi-sentence copy paragraph loses its last sentence.
    pub trim_prob: f64,
    /// Chance a copy paragraph is merged with the next one into one line.
    pub merge_prob: f64,
    /// Chance a multi-sentence copy paragraph is split into two lines.
    pub split_prob: f64,
    /// Chance a copy converts UK/US spelling (direction chosen at random).
    pub spelling_prob: f64,
    /// Chance a copy changes quote style (straight to curly, or curly to straight).
    pub quote_prob: f64,
    /// Chance a document gets a dateline line such as `SYDNEY (AAP) -`.
    pub dateline_prob: f64,
    /// Chance a document gets a byline line such as `By Jane Doe, Staff Reporter`.
    pub byline_prob: f64,
    /// Chance a copy or hard negative gets 1–3 boilerplate lines (originals: half of it).
    pub boilerplate_prob: f64,
    /// Most documents that may repeat one dateline/byline/boilerplate text (default 8); keeps
    /// the number of `boilerplate` pairs bounded (at most cap·(cap−1)/2 per text). Once a text is used up, others are chosen.
    pub boilerplate_cap: usize,
    /// Shared-word count below which a pair is labelled `loose` (default 8).
    pub min_dup_words: usize,
    /// Documents planned and written per block (default 1000); groups never span blocks.
    pub block_docs: usize,
    /// Size of the common vocabulary of synthetic text (default 1500): the most frequent word
    /// forms of the input that are not names, to which every word of the synonym and spelling
    /// tables is added. Synthetic text (made when the input has too few stories, and for new
    /// leads) keeps the most frequent of them ([`PROTECTED_WORDS`]) always, the others unless a
    /// sentence needs more changed words, and replaces every other word by a pseudo-word (see
    /// the module documentation). Larger keeps more real words but leaves fewer sentences
    /// usable.
    pub common_words: usize,
}

impl Default for GenConfig {
    fn default() -> Self {
        Self {
            docs: 1000,
            seed: 0x5EED,
            copy_share: 0.55,
            negative_share: 0.15,
            max_copies: 8,
            sub_weights: [0.4, 0.2, 0.2, 0.2],
            new_lead_prob: 0.35,
            drop_prob: 0.1,
            truncate_prob: 0.25,
            reorder_prob: 0.25,
            trim_prob: 0.15,
            merge_prob: 0.06,
            split_prob: 0.06,
            spelling_prob: 0.3,
            quote_prob: 0.3,
            dateline_prob: 0.35,
            byline_prob: 0.35,
            boilerplate_prob: 0.5,
            boilerplate_cap: 8,
            min_dup_words: 8,
            block_docs: 1000,
            common_words: 1500,
        }
    }
}

/// What a generated document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DocKind {
    /// A story as published first: its paragraphs unchanged.
    Original,
    /// An edited copy of the original with this document index.
    Copy {
        /// Document index of the original.
        original: usize,
    },
    /// Not a copy: a different story on the topic of the original with this document index.
    HardNegative {
        /// Document index of the original whose topic it imitates.
        near: usize,
    },
}

/// What a line of a generated document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LineRole {
    /// Story text (possibly edited); hard negatives' text is `Body` too.
    Body,
    /// A new lead paragraph of a copy (new text).
    Lead,
    /// A dateline such as `SYDNEY (AAP) -`.
    Dateline,
    /// A byline such as `By Jane Doe, Staff Reporter`.
    Byline,
    /// Boilerplate: share links, advertisement markers, photo captions.
    Boilerplate,
}

/// Facts about one line of a generated document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineInfo {
    /// What the line is.
    pub role: LineRole,
    /// Share of the line's words replaced by synonyms (spelling swaps not counted).
    pub sub_rate: f64,
    /// 0-based paragraph indices of the group's story this line derives from (two when merged;
    /// empty for lines not derived from the group's story, including hard negatives).
    pub sources: Vec<usize>,
}

/// One generated document.
#[derive(Debug, Clone, PartialEq)]
pub struct GenDoc {
    /// File name, e.g. `d000123.txt`; zero-padded so sorted names follow document order.
    pub name: String,
    /// The lines of the document, one paragraph each, without `\n` or `\r`.
    pub paragraphs: Vec<String>,
    /// Index of the document in the corpus.
    pub index: usize,
    /// Original, copy or hard negative.
    pub kind: DocKind,
    /// Index of the input story the text comes from; `None` when synthesised.
    pub story: Option<usize>,
    /// Name of the (fictional) outlet that published it.
    pub outlet: String,
    /// Title for JSON output.
    pub title: String,
    /// URL for JSON output.
    pub url: String,
    /// Publication time, RFC 3339 UTC; increases with the document index.
    pub published: String,
    /// One entry per line of `paragraphs`.
    pub lines: Vec<LineInfo>,
}

/// One ground-truth pair of duplicate lines, `(doc_a, line_a) < (doc_b, line_b)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TruthPair {
    /// Document index of the first line.
    pub doc_a: usize,
    /// 1-based line number of the first line in its document file.
    pub line_a: usize,
    /// Document index of the second line.
    pub doc_b: usize,
    /// 1-based line number of the second line in its document file.
    pub line_b: usize,
    /// One of [`LABELS`].
    pub label: String,
}

impl TruthPair {
    fn ordered(a: (usize, usize), b: (usize, usize), label: &str) -> Self {
        let (x, y) = if a <= b { (a, b) } else { (b, a) };
        Self {
            doc_a: x.0,
            line_a: x.1,
            doc_b: y.0,
            line_b: y.1,
            label: label.to_owned(),
        }
    }
}

/// Generated documents and their ground truth (a whole corpus, or one block of it).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Generated {
    /// The documents, in document order.
    pub docs: Vec<GenDoc>,
    /// Duplicate pairs. In a block, `boilerplate` pairs may reference documents of earlier blocks.
    pub truth: Vec<TruthPair>,
    /// Digits of the zero-padded document number in file names (see [`doc_name`]).
    pub name_width: usize,
}

/// Totals of a corpus written by [`write_corpus`] or [`write_corpus_jsonl`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CorpusSummary {
    /// Documents written.
    pub docs: usize,
    /// Truth pairs produced.
    pub pairs: usize,
}

/// File name of document `index` with a `width`-digit zero-padded number: `d000123.txt`.
pub fn doc_name(index: usize, width: usize) -> String {
    format!("d{index:0width$}.txt")
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// Parses one story per non-blank line; each line is split into sentences and grouped into
/// paragraphs of 1–3 sentences (grouping is seeded by the line's text, so it is deterministic).
pub fn stories_from_lines(text: &str) -> Vec<Story> {
    let mut out = Vec::new();
    for line in text.lines() {
        let toks: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        if toks.is_empty() {
            continue;
        }
        let starts = sentence_starts(&toks);
        let mut rng = Rng::new(xxh3_64(toks.join(" ").as_bytes()));
        let mut paragraphs = Vec::new();
        let mut s = 0;
        while s < starts.len() {
            let want = 1 + rng.weighted(&[0.35, 0.45, 0.2]);
            let mut end = s;
            let mut words = 0;
            while end < starts.len() && end - s < want && (end == s || words < 60) {
                let lo = starts[end];
                let hi = starts.get(end + 1).copied().unwrap_or(toks.len());
                words += hi - lo;
                end += 1;
            }
            let lo = starts[s];
            let hi = starts.get(end).copied().unwrap_or(toks.len());
            paragraphs.push(toks[lo..hi].join(" "));
            s = end;
        }
        out.push(Story { paragraphs });
    }
    out
}

/// Parses blank-line separated stories with one paragraph per line.
pub fn stories_from_blocks(text: &str) -> Vec<Story> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for line in text.lines() {
        let clean = clean_text(line);
        if clean.is_empty() {
            if !cur.is_empty() {
                out.push(Story {
                    paragraphs: std::mem::take(&mut cur),
                });
            }
        } else {
            cur.push(clean);
        }
    }
    if !cur.is_empty() {
        out.push(Story { paragraphs: cur });
    }
    out
}

fn clean_text(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

const CLOSERS: &[char] = &['"', '\'', ')', ']', '”', '’', '»'];
const OPENERS: &[char] = &['"', '\'', '(', '[', '“', '‘', '«'];
#[rustfmt::skip]
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "gen", "sen", "rep", "gov", "lt", "col",
    "sgt", "capt", "cmdr", "insp", "det", "supt", "inc", "ltd", "co", "corp", "no", "vs", "mt",
    "ft", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "approx", "dept", "est", "fig", "hon", "rev",
];

/// Token indices where sentences start (always begins with 0 for non-empty input).
fn sentence_starts(toks: &[String]) -> Vec<usize> {
    let mut starts = Vec::new();
    if toks.is_empty() {
        return starts;
    }
    starts.push(0);
    for i in 0..toks.len() - 1 {
        if ends_sentence(&toks[i], &toks[i + 1]) {
            starts.push(i + 1);
        }
    }
    starts
}

fn ends_sentence(tok: &str, next: &str) -> bool {
    let core = tok.trim_end_matches(CLOSERS);
    let Some(last) = core.chars().last() else {
        return false;
    };
    if !matches!(last, '.' | '!' | '?') {
        return false;
    }
    let next_core = next.trim_start_matches(OPENERS);
    let Some(first) = next_core.chars().next() else {
        return false;
    };
    if !(first.is_uppercase() || first.is_ascii_digit()) {
        return false;
    }
    if last == '.' {
        let word = core.trim_end_matches('.').trim_start_matches(OPENERS);
        if word.contains('.') {
            return false; // U.S., a.m.
        }
        if ABBREVIATIONS.contains(&word.to_lowercase().as_str()) {
            return false;
        }
        let mut chars = word.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            if c.is_uppercase() {
                return false; // an initial: "John F. Kennedy"
            }
        }
    }
    true
}

// ---------------------------------------------------------------------------------------------
// Randomness and hashing
// ---------------------------------------------------------------------------------------------

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn mix2(a: u64, b: u64) -> u64 {
    let mut s = a ^ b.wrapping_mul(0xD6E8_FEB8_6659_FD93).rotate_left(17);
    splitmix(&mut s)
}

/// xoshiro256** seeded through SplitMix64.
#[derive(Debug, Clone)]
struct Rng {
    s: [u64; 4],
}

impl Rng {
    fn new(seed: u64) -> Self {
        let mut st = seed;
        let mut s = [
            splitmix(&mut st),
            splitmix(&mut st),
            splitmix(&mut st),
            splitmix(&mut st),
        ];
        if s == [0; 4] {
            s[0] = 1;
        }
        Self { s }
    }

    fn derive(seed: u64, tag: u64, idx: u64) -> Self {
        Self::new(mix2(mix2(seed, tag), idx))
    }

    fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `0..n` (0 when `n == 0`).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> Option<&'a T> {
        xs.get(self.below(xs.len()))
    }

    fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i + 1);
            xs.swap(i, j);
        }
    }

    /// Index drawn with the given non-negative weights (0 when all are zero).
    fn weighted(&mut self, w: &[f64]) -> usize {
        let clean = |x: f64| if x.is_finite() && x > 0.0 { x } else { 0.0 };
        let total: f64 = w.iter().map(|&x| clean(x)).sum();
        if total <= 0.0 {
            return 0;
        }
        let mut r = self.unit() * total;
        for (i, &x) in w.iter().enumerate() {
            let x = clean(x);
            if r < x {
                return i;
            }
            r -= x;
        }
        w.iter().rposition(|&x| clean(x) > 0.0).unwrap_or(0)
    }
}

/// Small fast deterministic hasher for the internal maps.
#[derive(Default, Clone, Copy)]
struct MixHasher(u64);

const MIX_K: u64 = 0x517C_C1B7_2722_0A95;

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        let mut s = self.0;
        splitmix(&mut s)
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(buf));
        }
    }
    fn write_u8(&mut self, x: u8) {
        self.write_u64(u64::from(x));
    }
    fn write_u32(&mut self, x: u32) {
        self.write_u64(u64::from(x));
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(MIX_K);
    }
    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<MixHasher>>;
type FastSet<K> = HashSet<K, BuildHasherDefault<MixHasher>>;

const SHINGLE: usize = 5;

/// Hash of a token's lowercase letters and digits (of the token itself if it has none).
fn core_hash(tok: &str) -> u64 {
    if tok.len() <= 64 && tok.is_ascii() {
        let mut buf = [0u8; 64];
        let mut n = 0;
        for b in tok.bytes().filter(u8::is_ascii_alphanumeric) {
            buf[n] = b.to_ascii_lowercase();
            n += 1;
        }
        return xxh3_64(if n == 0 { tok.as_bytes() } else { &buf[..n] });
    }
    let mut buf = String::with_capacity(tok.len());
    for c in tok.chars().filter(|c| c.is_alphanumeric()) {
        buf.extend(c.to_lowercase());
    }
    if buf.is_empty() {
        xxh3_64(tok.as_bytes())
    } else {
        xxh3_64(buf.as_bytes())
    }
}

fn shingle_hash(w: &[u64]) -> u64 {
    w.iter()
        .fold(0x7A3B_5C1D_u64, |acc, &x| mix2(acc.rotate_left(7), x))
}

/// Splits a token into (leading punctuation, alphabetic core, rest).
fn split_core(tok: &str) -> (&str, &str, &str) {
    let start = tok.find(char::is_alphanumeric).unwrap_or(tok.len());
    let rest = &tok[start..];
    let len = rest
        .find(|c: char| !c.is_alphabetic())
        .unwrap_or(rest.len());
    (&tok[..start], &rest[..len], &rest[len..])
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Applies the case pattern of `like` (lower, Capitalised, UPPER) to lowercase `word`.
fn with_case(like: &str, word: &str) -> String {
    let upper = like.chars().filter(|c| c.is_alphabetic()).count() > 1
        && like.chars().all(|c| !c.is_alphabetic() || c.is_uppercase());
    if upper {
        word.to_uppercase()
    } else if like.chars().next().is_some_and(char::is_uppercase) {
        capitalize(word)
    } else {
        word.to_owned()
    }
}

// ---------------------------------------------------------------------------------------------
// Word tables
// ---------------------------------------------------------------------------------------------

/// One-way synonym replacements for common news words (single words only).
#[rustfmt::skip]
const SYNONYMS: &[(&str, &str)] = &[
    ("about", "around"), ("after", "following"), ("will", "shall"), ("killed", "murdered"),
    ("new", "fresh"), ("last", "previous"), ("first", "initial"), ("forces", "troops"),
    ("security", "protection"), ("man", "male"), ("world", "globe"), ("militants", "fighters"),
    ("fighters", "militants"), ("city", "metropolis"), ("groups", "factions"),
    ("terrorist", "extremist"), ("terrorism", "extremism"), ("interim", "temporary"),
    ("family", "household"), ("want", "wish"), ("wants", "wishes"), ("process", "procedure"),
    ("pressure", "strain"), ("child", "youngster"), ("released", "freed"), ("dead", "deceased"),
    ("senior", "high-ranking"), ("role", "part"), ("continuing", "ongoing"),
    ("violence", "unrest"), ("captured", "seized"), ("key", "crucial"),
    ("despite", "notwithstanding"), ("airline", "carrier"), ("final", "last"), ("remain", "stay"),
    ("operations", "missions"), ("give", "provide"), ("might", "may"), ("forced", "compelled"),
    ("campaign", "drive"), ("industry", "sector"), ("launched", "initiated"),
    ("envoy", "emissary"), ("raids", "assaults"), ("dispute", "disagreement"),
    ("boy", "youngster"), ("sure", "certain"), ("bombing", "attack"), ("airport", "airfield"),
    ("using", "utilising"), ("captain", "skipper"), ("reached", "attained"),
    ("suspected", "alleged"), ("very", "extremely"), ("during", "throughout"),
    ("saying", "stating"), ("say", "state"), ("commission", "committee"), ("collapse", "failure"),
    ("training", "instruction"), ("yesterday", "previously"), ("attackers", "assailants"),
    ("massacre", "slaughter"), ("wounded", "injured"), ("shooting", "gunfire"),
    ("storm", "tempest"), ("winds", "gusts"), ("bushfire", "wildfire"), ("bushfires", "wildfires"),
    ("blamed", "faulted"), ("planned", "intended"), ("ordered", "instructed"),
    ("seeking", "pursuing"), ("sought", "pursued"), ("said", "stated"), ("says", "states"),
    ("told", "informed"), ("police", "officers"), ("officials", "authorities"),
    ("authorities", "officials"), ("government", "administration"), ("announced", "revealed"),
    ("revealed", "disclosed"), ("confirmed", "verified"), ("reported", "noted"),
    ("claimed", "alleged"), ("warned", "cautioned"), ("urged", "pressed"), ("increase", "rise"),
    ("rise", "increase"), ("decrease", "decline"), ("decline", "drop"), ("big", "large"),
    ("large", "big"), ("huge", "massive"), ("massive", "huge"), ("small", "minor"),
    ("quickly", "rapidly"), ("rapidly", "quickly"), ("help", "assist"), ("helped", "assisted"),
    ("helping", "assisting"), ("begin", "start"), ("began", "started"), ("buy", "purchase"),
    ("bought", "purchased"), ("need", "require"), ("needed", "required"), ("showed", "indicated"),
    ("shown", "demonstrated"), ("important", "significant"), ("significant", "considerable"),
    ("major", "significant"), ("many", "numerous"), ("several", "various"),
    ("approximately", "roughly"), ("roughly", "approximately"), ("almost", "nearly"),
    ("nearly", "almost"), ("also", "additionally"), ("however", "nevertheless"),
    ("because", "since"), ("people", "individuals"), ("residents", "locals"),
    ("locals", "residents"), ("children", "kids"), ("kids", "children"), ("car", "vehicle"),
    ("vehicle", "car"), ("cars", "vehicles"), ("vehicles", "cars"), ("house", "residence"),
    ("houses", "homes"), ("homes", "houses"), ("town", "community"), ("area", "region"),
    ("region", "area"), ("areas", "regions"), ("country", "nation"), ("nation", "country"),
    ("countries", "nations"), ("nations", "countries"), ("company", "firm"),
    ("companies", "firms"), ("business", "enterprise"), ("jobs", "positions"),
    ("workers", "employees"), ("employees", "workers"), ("staff", "personnel"), ("money", "funds"),
    ("funding", "financing"), ("financing", "funding"), ("costs", "expenses"), ("price", "cost"),
    ("prices", "costs"), ("proposal", "plan"), ("proposals", "plans"), ("meeting", "session"),
    ("attack", "assault"), ("attacks", "assaults"), ("attacked", "assaulted"), ("fight", "battle"),
    ("fighting", "battling"), ("fought", "battled"), ("killing", "slaying"), ("died", "perished"),
    ("deaths", "fatalities"), ("injured", "hurt"), ("injuries", "wounds"), ("fire", "blaze"),
    ("fires", "blazes"), ("blaze", "fire"), ("blazes", "fires"), ("firefighters", "crews"),
    ("crews", "teams"), ("weather", "conditions"), ("strong", "powerful"), ("powerful", "strong"),
    ("won", "secured"), ("victory", "win"), ("defeat", "loss"), ("match", "game"),
    ("game", "match"), ("team", "side"), ("players", "athletes"), ("player", "athlete"),
    ("coach", "trainer"), ("voters", "electors"), ("leader", "chief"), ("leaders", "chiefs"),
    ("law", "legislation"), ("laws", "rules"), ("rules", "regulations"), ("legislation", "law"),
    ("court", "tribunal"), ("judge", "magistrate"), ("arrested", "detained"), ("detained", "held"),
    ("investigation", "inquiry"), ("inquiry", "probe"), ("probe", "investigation"),
    ("evidence", "proof"), ("research", "study"), ("survey", "poll"), ("poll", "survey"),
    ("expert", "specialist"), ("experts", "specialists"), ("specialist", "expert"),
    ("scientists", "researchers"), ("researchers", "scientists"), ("doctors", "physicians"),
    ("doctor", "physician"), ("problem", "issue"), ("problems", "issues"), ("issue", "matter"),
    ("issues", "matters"), ("question", "query"), ("questions", "queries"), ("answer", "response"),
    ("response", "reply"), ("reply", "response"), ("decision", "ruling"), ("ruling", "decision"),
    ("result", "outcome"), ("results", "outcomes"), ("outcome", "result"), ("effect", "impact"),
    ("impact", "effect"), ("effects", "impacts"), ("damage", "destruction"),
    ("destroyed", "wrecked"), ("building", "structure"), ("buildings", "structures"),
    ("road", "street"), ("roads", "streets"), ("street", "road"), ("highway", "motorway"),
    ("motorway", "highway"), ("plane", "aircraft"), ("aircraft", "plane"), ("ship", "vessel"),
    ("vessel", "ship"), ("boat", "vessel"), ("soldiers", "troops"), ("troops", "soldiers"),
    ("army", "military"), ("war", "conflict"), ("conflict", "war"), ("talks", "negotiations"),
    ("negotiations", "talks"), ("agreement", "deal"), ("deal", "agreement"), ("try", "attempt"),
    ("tried", "attempted"), ("trying", "attempting"), ("attempt", "bid"), ("wanted", "wished"),
    ("think", "believe"), ("thinks", "believes"), ("believed", "thought"), ("believes", "thinks"),
    ("expect", "anticipate"), ("expected", "anticipated"), ("probably", "likely"),
    ("currently", "presently"), ("recently", "lately"), ("soon", "shortly"), ("difficult", "hard"),
    ("hard", "tough"), ("tough", "difficult"), ("easy", "simple"), ("simple", "easy"),
    ("clear", "obvious"), ("obvious", "clear"), ("serious", "severe"), ("severe", "serious"),
    ("dangerous", "hazardous"), ("hazardous", "dangerous"), ("safety", "security"),
    ("risk", "danger"), ("danger", "threat"), ("threat", "risk"), ("worried", "concerned"),
    ("concerned", "worried"), ("concern", "worry"), ("concerns", "worries"),
    ("worries", "concerns"), ("angry", "furious"), ("happy", "pleased"), ("pleased", "happy"),
    ("finished", "completed"), ("completed", "finished"), ("remained", "stayed"),
    ("arrived", "came"), ("moved", "shifted"), ("move", "shift"), ("changes", "alterations"),
    ("changed", "altered"), ("build", "construct"), ("built", "constructed"),
    ("construction", "building"), ("create", "establish"), ("created", "established"),
    ("provide", "supply"), ("provided", "supplied"), ("provides", "supplies"),
    ("received", "obtained"), ("gave", "provided"), ("allow", "permit"), ("allowed", "permitted"),
    ("allows", "permits"), ("stop", "halt"), ("stopped", "halted"), ("halt", "stop"),
    ("prevent", "avert"), ("prevented", "averted"), ("banned", "prohibited"), ("reduce", "cut"),
    ("reduced", "lowered"), ("raised", "lifted"), ("closed", "shut"), ("answered", "replied"),
    ("replied", "responded"), ("responded", "replied"), ("explain", "describe"),
    ("explained", "described"), ("suggest", "propose"), ("suggested", "proposed"),
    ("proposed", "suggested"), ("agreed", "concurred"), ("refused", "declined"),
    ("denied", "rejected"), ("rejected", "dismissed"), ("criticised", "condemned"),
    ("condemned", "criticised"), ("praised", "commended"), ("supporters", "backers"),
    ("backers", "supporters"), ("protesters", "demonstrators"), ("demonstrators", "protesters"),
    ("protests", "demonstrations"), ("crowd", "throng"), ("event", "occasion"),
    ("events", "occasions"), ("annual", "yearly"), ("yearly", "annual"), ("recent", "latest"),
    ("latest", "newest"), ("former", "previous"), ("previous", "prior"), ("main", "primary"),
    ("primary", "main"), ("entire", "whole"), ("whole", "entire"), ("total", "overall"),
    ("overall", "total"), ("really", "truly"), ("often", "frequently"), ("frequently", "often"),
    ("usually", "typically"), ("typically", "usually"), ("sometimes", "occasionally"),
    ("occasionally", "sometimes"), ("immediately", "instantly"), ("instantly", "immediately"),
    ("finally", "eventually"), ("eventually", "ultimately"), ("especially", "particularly"),
    ("particularly", "especially"), ("amid", "amidst"), ("among", "amongst"),
    ("nearby", "neighbouring"), ("inside", "within"), ("within", "inside"),
    ("across", "throughout"), ("throughout", "across"), ("tax", "levy"), ("taxes", "levies"),
    ("economic", "financial"), ("financial", "economic"), ("shares", "stocks"),
    ("stocks", "shares"), ("profit", "earnings"), ("profits", "earnings"), ("earnings", "profits"),
    ("growth", "expansion"), ("expansion", "growth"), ("unemployment", "joblessness"),
    ("bank", "lender"), ("banks", "lenders"), ("lenders", "banks"), ("spokesman", "spokesperson"),
    ("spokeswoman", "spokesperson"), ("spokesperson", "representative"),
    ("statement", "announcement"), ("announcement", "statement"), ("journalists", "reporters"),
    ("reporters", "journalists"), ("local", "regional"), ("regional", "local"),
    ("national", "federal"), ("federal", "national"), ("international", "global"),
    ("global", "worldwide"), ("worldwide", "global"), ("foreign", "overseas"),
    ("border", "frontier"), ("weapons", "arms"), ("gun", "firearm"), ("guns", "firearms"),
    ("firearms", "guns"), ("bomb", "explosive"), ("explosion", "blast"), ("blast", "explosion"),
    ("victim", "casualty"), ("victims", "casualties"), ("casualties", "victims"),
    ("crash", "collision"), ("collision", "crash"), ("accident", "incident"),
    ("incident", "event"), ("rescued", "saved"), ("search", "hunt"), ("hunt", "search"),
    ("discovered", "found"), ("hit", "struck"), ("struck", "hit"), ("flooding", "inundation"),
    ("rain", "rainfall"), ("rainfall", "rain"), ("warning", "alert"), ("warnings", "alerts"),
    ("alert", "warning"), ("emergency", "crisis"), ("crisis", "emergency"), ("boss", "chief"),
    ("group", "organisation"), ("agency", "bureau"), ("department", "ministry"),
    ("scheme", "program"), ("project", "initiative"), ("initiative", "project"),
    ("policy", "strategy"), ("strategy", "approach"), ("approach", "method"), ("idea", "concept"),
    ("concept", "idea"), ("view", "opinion"), ("opinion", "view"), ("views", "opinions"),
    ("information", "details"), ("details", "information"), ("data", "figures"),
    ("figures", "statistics"), ("statistics", "figures"), ("amount", "sum"), ("sum", "amount"),
    ("cash", "money"), ("value", "worth"), ("cheap", "inexpensive"), ("expensive", "costly"),
    ("costly", "expensive"), ("rich", "wealthy"), ("wealthy", "rich"), ("poor", "impoverished"),
    ("students", "pupils"), ("pupils", "students"), ("teachers", "educators"),
    ("educators", "teachers"), ("disease", "illness"), ("illness", "sickness"),
    ("treatment", "therapy"), ("therapy", "treatment"), ("medicine", "medication"),
    ("medication", "medicine"), ("animals", "creatures"), ("creatures", "animals"),
    ("pollution", "contamination"), ("electricity", "power"), ("farmers", "growers"),
    ("growers", "farmers"), ("trip", "journey"), ("journey", "trip"), ("tourists", "visitors"),
    ("visitors", "guests"), ("visited", "toured"), ("spoke", "talked"), ("talked", "spoke"),
    ("speak", "talk"), ("speech", "address"), ("added", "continued"), ("noted", "observed"),
    ("observed", "noted"), ("insisted", "maintained"), ("maintained", "insisted"),
    ("admitted", "acknowledged"), ("acknowledged", "admitted"), ("argued", "contended"),
    ("contended", "argued"), ("believe", "think"), ("choose", "select"), ("chosen", "selected"),
    ("hired", "employed"), ("employed", "hired"), ("operation", "mission"),
    ("mission", "operation"), ("efforts", "attempts"), ("attempts", "efforts"),
    ("successful", "effective"), ("accurate", "correct"), ("correct", "accurate"),
    ("false", "untrue"), ("wrong", "incorrect"), ("necessary", "needed"),
    ("available", "accessible"), ("famous", "renowned"), ("renowned", "famous"),
    ("unusual", "uncommon"), ("rare", "scarce"), ("common", "widespread"),
    ("widespread", "common"), ("similar", "comparable"), ("comparable", "similar"),
    ("tiny", "minuscule"), ("short", "brief"), ("brief", "short"), ("quick", "rapid"),
    ("rapid", "quick"), ("slow", "sluggish"), ("place", "location"), ("location", "site"),
    ("places", "locations"), ("village", "settlement"), ("coast", "shore"), ("shore", "coast"),
    ("island", "isle"), ("sea", "ocean"), ("ocean", "sea"), ("moment", "instant"),
    ("tradition", "custom"), ("traditional", "conventional"), ("modern", "contemporary"),
    ("contemporary", "modern"), ("biggest", "largest"), ("largest", "biggest"), ("best", "finest"),
    ("fans", "supporters"), ("film", "movie"), ("movie", "film"), ("films", "movies"),
    ("movies", "films"), ("song", "track"), ("celebrity", "star"), ("actor", "performer"),
    ("singer", "vocalist"), ("customers", "clients"), ("clients", "customers"),
    ("consumers", "shoppers"), ("shoppers", "consumers"), ("store", "shop"), ("shop", "store"),
    ("shops", "stores"), ("stores", "shops"), ("products", "goods"), ("goods", "products"),
    ("technology", "tech"), ("website", "site"), ("app", "application"), ("documents", "papers"),
    ("secret", "confidential"), ("confidential", "secret"), ("illegal", "unlawful"),
    ("unlawful", "illegal"), ("legal", "lawful"), ("crime", "offence"), ("criminals", "offenders"),
    ("offenders", "criminals"), ("prison", "jail"), ("jail", "prison"), ("jailed", "imprisoned"),
    ("imprisoned", "jailed"), ("trial", "hearing"), ("hearing", "trial"), ("lawyer", "attorney"),
    ("attorney", "lawyer"), ("solicitor", "lawyer"), ("lawyers", "solicitors"),
];

/// UK and US spellings; the flag says whether US → UK is also safe.
#[rustfmt::skip]
const SPELLINGS: &[(&str, &str, bool)] = &[
    ("organise", "organize", true), ("organised", "organized", true),
    ("organising", "organizing", true), ("organisation", "organization", true),
    ("organisations", "organizations", true), ("organiser", "organizer", true),
    ("organisers", "organizers", true), ("colour", "color", true), ("colours", "colors", true),
    ("colourful", "colorful", true), ("favour", "favor", true), ("favourite", "favorite", true),
    ("favourable", "favorable", true), ("honour", "honor", true), ("honoured", "honored", true),
    ("labour", "labor", true), ("neighbour", "neighbor", true), ("neighbours", "neighbors", true),
    ("neighbouring", "neighboring", true), ("neighbourhood", "neighborhood", true),
    ("behaviour", "behavior", true), ("centre", "center", true), ("centres", "centers", true),
    ("metres", "meters", true), ("kilometre", "kilometer", true),
    ("kilometres", "kilometers", true), ("theatre", "theater", true), ("defence", "defense", true),
    ("offence", "offense", true), ("licence", "license", false), ("analyse", "analyze", true),
    ("analysed", "analyzed", true), ("recognise", "recognize", true),
    ("recognised", "recognized", true), ("realise", "realize", true),
    ("realised", "realized", true), ("criticise", "criticize", true),
    ("criticised", "criticized", true), ("apologise", "apologize", true),
    ("apologised", "apologized", true), ("emphasise", "emphasize", true),
    ("prioritise", "prioritize", true), ("authorise", "authorize", true),
    ("authorised", "authorized", true), ("minimise", "minimize", true),
    ("travelled", "traveled", true), ("travelling", "traveling", true),
    ("cancelled", "canceled", true), ("cancelling", "canceling", true),
    ("programme", "program", false), ("programmes", "programs", false),
    ("catalogue", "catalog", true), ("grey", "gray", true), ("jewellery", "jewelry", true),
    ("aluminium", "aluminum", true), ("mould", "mold", true), ("paediatric", "pediatric", true),
    ("manoeuvre", "maneuver", true), ("fulfil", "fulfill", true), ("sceptical", "skeptical", true),
    ("ageing", "aging", true), ("judgement", "judgment", true), ("armour", "armor", true),
    ("humour", "humor", true), ("rumour", "rumor", true), ("rumours", "rumors", true),
    ("harbour", "harbor", true), ("endeavour", "endeavor", true), ("fibre", "fiber", true),
    ("litre", "liter", true), ("litres", "liters", true), ("sombre", "somber", true),
    ("modelling", "modeling", true), ("labelled", "labeled", true), ("fuelled", "fueled", true),
    ("signalled", "signaled", true), ("counselling", "counseling", true),
    ("mobilise", "mobilize", true), ("mobilised", "mobilized", true),
    ("stabilise", "stabilize", true), ("finalise", "finalize", true),
    ("finalised", "finalized", true), ("privatise", "privatize", true),
    ("characterise", "characterize", true), ("summarise", "summarize", true),
    ("utilise", "utilize", true), ("specialised", "specialized", true),
    ("practise", "practice", false), ("tyre", "tire", false), ("tyres", "tires", false),
];

fn syn_map() -> &'static WordMap {
    static MAP: OnceLock<WordMap> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut m = FastMap::default();
        for &(a, b) in SYNONYMS {
            m.entry(a).or_insert(b);
        }
        m
    })
}

type WordMap = FastMap<&'static str, &'static str>;

fn spell_maps() -> &'static (WordMap, WordMap) {
    static MAPS: OnceLock<(WordMap, WordMap)> = OnceLock::new();
    MAPS.get_or_init(|| {
        let mut to_us = FastMap::default();
        let mut to_uk = FastMap::default();
        for &(uk, us, both) in SPELLINGS {
            to_us.entry(uk).or_insert(us);
            if both {
                to_uk.entry(us).or_insert(uk);
            }
        }
        (to_us, to_uk)
    })
}

/// The token with its word replaced by a synonym, if the table has one and the word is not a
/// capitalised word inside a sentence (a likely proper noun) or an acronym.
fn synonym_token(tok: &str, sentence_initial: bool) -> Option<String> {
    let (pre, core, suf) = split_core(tok);
    if core.is_empty() {
        return None;
    }
    if suf.chars().any(char::is_alphanumeric) {
        let rest = suf.strip_prefix("'s").or_else(|| suf.strip_prefix("’s"))?;
        if rest.chars().any(char::is_alphanumeric) {
            return None;
        }
    }
    let mut chars = core.chars();
    let first_upper = chars.next().is_some_and(char::is_uppercase);
    if first_upper && (!sentence_initial || chars.any(char::is_uppercase)) {
        return None;
    }
    let lower = core.to_lowercase();
    let syn = syn_map().get(lower.as_str())?;
    Some(format!("{pre}{}{suf}", with_case(core, syn)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spelling {
    Keep,
    Us,
    Uk,
}

fn respell(tok: &str, mode: Spelling) -> Cow<'_, str> {
    let (to_us, to_uk) = spell_maps();
    let map = match mode {
        Spelling::Keep => return Cow::Borrowed(tok),
        Spelling::Us => to_us,
        Spelling::Uk => to_uk,
    };
    let (pre, core, suf) = split_core(tok);
    if core.is_empty() {
        return Cow::Borrowed(tok);
    }
    let hit = if core.bytes().all(|b| b.is_ascii_lowercase()) {
        map.get(core)
    } else {
        map.get(core.to_lowercase().as_str())
    };
    match hit {
        Some(rep) => Cow::Owned(format!("{pre}{}{suf}", with_case(core, rep))),
        None => Cow::Borrowed(tok),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quotes {
    Keep,
    Curly,
    Straight,
}

fn to_curly(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut prev: Option<char> = None;
    for c in s.chars() {
        let opening = match prev {
            None => true,
            Some(p) => p.is_whitespace() || matches!(p, '(' | '[' | '{' | '-' | '–' | '—'),
        };
        out.push(match c {
            '"' if opening => '“',
            '"' => '”',
            '\'' if opening => '‘',
            '\'' => '’',
            other => other,
        });
        prev = Some(c);
    }
    out
}

fn to_straight(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '“' | '”' | '„' => '"',
            '‘' | '’' | '‚' => '\'',
            other => other,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Boilerplate material (all fictional)
// ---------------------------------------------------------------------------------------------

const OUTLETS: &[(&str, &str)] = &[
    ("The Harbour Courier", "harbourcourier.example"),
    ("Northern Daily Ledger", "northernledger.example"),
    ("Valley Morning Post", "valleymorningpost.example"),
    ("The Coastal Herald", "coastalherald.example"),
    ("Capital City Times", "capitalcitytimes.example"),
    ("Riverbend Gazette", "riverbendgazette.example"),
    ("The Evening Dispatch", "eveningdispatch.example"),
    ("Southern Cross Review", "southerncrossreview.example"),
    ("Metro News Wire", "metronewswire.example"),
    ("The Western Examiner", "westernexaminer.example"),
    ("Highland Chronicle", "highlandchronicle.example"),
    ("The Daily Beacon", "dailybeacon.example"),
    ("Lakeside Observer", "lakesideobserver.example"),
    ("The Regional Standard", "regionalstandard.example"),
    ("Eastern Star Journal", "easternstarjournal.example"),
    ("The Weekly Sentinel", "weeklysentinel.example"),
    ("Global Pulse News", "globalpulsenews.example"),
    ("The Morning Tribune", "morningtribune.example"),
    ("Bayview Bulletin", "bayviewbulletin.example"),
    ("Prairie Voice", "prairievoice.example"),
    ("The City Mercury", "citymercury.example"),
    ("Outback Record", "outbackrecord.example"),
    ("The Island Times", "islandtimes.example"),
    ("Newsfeed Central", "newsfeedcentral.example"),
];

const SECTIONS: &[&str] = &["news", "world", "national", "local", "business", "politics"];

#[rustfmt::skip]
const CITIES: &[&str] = &[
    "SYDNEY", "MELBOURNE", "BRISBANE", "PERTH", "ADELAIDE", "CANBERRA", "HOBART", "DARWIN",
    "AUCKLAND", "WELLINGTON", "LONDON", "MANCHESTER", "DUBLIN", "EDINBURGH", "NEW YORK",
    "WASHINGTON", "CHICAGO", "LOS ANGELES", "TORONTO", "OTTAWA", "PARIS", "BERLIN", "BRUSSELS",
    "GENEVA", "ROME", "MADRID", "MOSCOW", "KYIV", "ISTANBUL", "JERUSALEM", "CAIRO", "NAIROBI",
    "JOHANNESBURG", "NEW DELHI", "MUMBAI", "SINGAPORE", "JAKARTA", "TOKYO", "BEIJING", "HONG KONG",
    "SEOUL", "MANILA",
];

const AGENCIES: &[&str] = &[
    "AAP",
    "Reuters",
    "AP",
    "AFP",
    "PA",
    "Bloomberg",
    "CP",
    "dpa",
];

#[rustfmt::skip]
const FIRST_NAMES: &[&str] = &[
    "Jane", "John", "Sarah", "Michael", "Emma", "David", "Olivia", "James", "Chloe", "Daniel",
    "Grace", "Thomas", "Priya", "Ahmed", "Mei", "Lucas", "Hannah", "Samuel", "Zoe", "Patrick",
    "Aisha", "Liam", "Ruby", "Nathan", "Isabel", "Oliver", "Fatima", "Ethan", "Maya", "Noah",
    "Leila", "Jack", "Sophie", "Ben", "Tara", "Marcus",
];

#[rustfmt::skip]
const LAST_NAMES: &[&str] = &[
    "Doe", "Smith", "Nguyen", "Patel", "O'Brien", "Williams", "Chen", "Kowalski", "Murphy",
    "Rossi", "Taylor", "Brown", "Singh", "Walker", "Okafor", "Hughes", "Martin", "Kelly", "Ali",
    "Fraser", "Lee", "Campbell", "Morgan", "Novak", "Reid", "Hassan", "Clarke", "Dunn", "Ferreira",
    "Young", "Park", "Bishop", "Lang", "Evans", "Quinn", "Shaw",
];

#[rustfmt::skip]
const ROLES: &[&str] = &[
    "Staff Reporter", "Political Correspondent", "Crime Reporter", "Senior Writer",
    "Chief Reporter", "Health Editor", "Business Reporter", "Court Reporter",
    "Regional Correspondent", "Environment Reporter", "Science Writer", "Sports Editor",
];

const GENERIC_BOILERPLATE: &[&str] = &[
    "Advertisement",
    "Share this",
    "Share this article",
    "Share on Facebook",
    "Share on X",
    "Copy link",
    "Sign up for our daily newsletter",
    "Story continues below advertisement",
    "Continue reading below",
    "Listen to this article",
    "Related stories",
    "Comments are closed",
    "Most read",
    "Follow us on social media",
    "Report an error",
    "Loading video player",
    "Topics",
    "More from this section",
];

/// `{n}` is the outlet's name, `{d}` its domain.
/// (Fixed word runs stay short, so lines of different outlets share no 4-word run.)
const OUTLET_BOILERPLATE: &[&str] = &[
    "Share this @{d}",
    "Read more: {n}",
    "Subscribe to {n}",
    "Copyright {n}",
    "Download the {n} app",
    "More from {n}",
    "Contact {n}",
    "Story tips: news@{d}",
];

#[rustfmt::skip]
const CAPTION_SCENES: &[&str] = &[
    "on Tuesday", "on Monday", "on Friday", "earlier this week", "at the weekend", "last month",
    "in a file photo", "(Supplied)", "(AAP Image)", "(Reuters)", "in this handout image",
    "in an undated photo",
];

fn random_dateline(rng: &mut Rng) -> String {
    let city = rng.pick(CITIES).copied().unwrap_or("SYDNEY");
    let agency = rng.pick(AGENCIES).copied().unwrap_or("AAP");
    format!("{city} ({agency}) -")
}

fn random_byline(rng: &mut Rng) -> String {
    let first = rng.pick(FIRST_NAMES).copied().unwrap_or("Jane");
    let last = rng.pick(LAST_NAMES).copied().unwrap_or("Doe");
    let role = rng.pick(ROLES).copied().unwrap_or("Staff Reporter");
    format!("By {first} {last}, {role}")
}

fn outlet_boilerplate(rng: &mut Rng, outlet: usize) -> String {
    let (name, domain) = OUTLETS
        .get(outlet)
        .copied()
        .unwrap_or(("The Daily Beacon", "x"));
    let t = rng
        .pick(OUTLET_BOILERPLATE)
        .copied()
        .unwrap_or("Share this @{d}");
    t.replace("{n}", name).replace("{d}", domain)
}

/// A photo caption; the scene depends only on the subject, so captions of one subject are either
/// identical (and labelled `boilerplate`) or share no long word run.
fn caption_for(subject: &str) -> String {
    let i = (xxh3_64(subject.as_bytes()) % CAPTION_SCENES.len() as u64) as usize;
    let scene = CAPTION_SCENES.get(i).copied().unwrap_or("on Tuesday");
    format!("Pictured: {subject} {scene}")
}

/// A name from inside a sentence of the story, for photo captions: a whole run of one to three
/// capitalised words (never part of a longer run, so two captions do not share a long tail).
fn caption_subject(story: &SrcStory) -> String {
    for para in &story.paras {
        let toks = &para.toks;
        let capitalised = |j: usize| {
            let (_, core, _) = split_core(&toks[j]);
            core.chars().count() >= 3
                && core.chars().next().is_some_and(char::is_uppercase)
                && core.chars().skip(1).all(char::is_lowercase)
        };
        let mut i = 0;
        while i < toks.len() {
            if !capitalised(i) {
                i += 1;
                continue;
            }
            let mut end = i + 1;
            while end < toks.len()
                && capitalised(end)
                && split_core(&toks[end - 1]).2.is_empty()
                && split_core(&toks[end]).0.is_empty()
            {
                end += 1;
            }
            if end - i <= 3 && para.starts.binary_search(&i).is_err() {
                let words: Vec<&str> = (i..end).map(|j| split_core(&toks[j]).1).collect();
                return words.join(" ");
            }
            i = end;
        }
    }
    "The scene".to_owned()
}

// ---------------------------------------------------------------------------------------------
// Source stories
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct SrcPara {
    toks: Vec<String>,
    starts: Vec<usize>,
}

impl SrcPara {
    fn from_text(text: &str) -> Option<Self> {
        let toks: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        if toks.is_empty() {
            return None;
        }
        let starts = sentence_starts(&toks);
        Some(Self { toks, starts })
    }

    fn nsent(&self) -> usize {
        self.starts.len()
    }

    /// Token range of sentence `s`.
    fn range(&self, s: usize) -> (usize, usize) {
        let lo = self.starts.get(s).copied().unwrap_or(self.toks.len());
        let hi = self.starts.get(s + 1).copied().unwrap_or(self.toks.len());
        (lo, hi)
    }
}

#[derive(Debug, Clone)]
struct SrcStory {
    paras: Vec<SrcPara>,
    /// Index of the input story, `None` when synthesised.
    input: Option<usize>,
}

impl SrcStory {
    fn title(&self) -> String {
        let Some(first) = self.paras.first() else {
            return String::new();
        };
        let (lo, hi) = first.range(0);
        let take = (hi - lo).min(12);
        let mut words: Vec<String> = first.toks[lo..lo + take]
            .iter()
            .map(|t| t.trim_matches(|c: char| OPENERS.contains(&c) || CLOSERS.contains(&c)))
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(last) = words.last_mut() {
            *last = last
                .trim_end_matches(|c: char| !c.is_alphanumeric())
                .to_owned();
        }
        words.retain(|w| !w.is_empty());
        words.join(" ")
    }

    /// Distinct hashes of the story's longer words (for topic similarity).
    fn content(&self) -> FastSet<u64> {
        let mut set = FastSet::default();
        for para in &self.paras {
            for t in &para.toks {
                let (_, core, _) = split_core(t);
                if core.chars().count() >= 5 {
                    set.insert(core_hash(core));
                }
            }
        }
        set
    }
}

/// Parses the input stories, dropping sentences that repeat earlier input text (the same words,
/// or half or more of their 5-word runs seen before), so every source sentence occurs once.
fn load_stories(stories: &[Story]) -> Vec<SrcStory> {
    let mut seen_shingles: FastSet<u64> = FastSet::default();
    let mut seen_sentences: FastSet<u64> = FastSet::default();
    let mut out = Vec::new();
    for (i, story) in stories.iter().enumerate() {
        let mut paras = Vec::new();
        for p in &story.paragraphs {
            let Some(para) = SrcPara::from_text(p) else {
                continue;
            };
            let mut kept: Vec<&str> = Vec::new();
            for s in 0..para.nsent() {
                let (lo, hi) = para.range(s);
                let toks = &para.toks[lo..hi];
                let hs: Vec<u64> = toks.iter().map(|t| core_hash(t)).collect();
                let sh: Vec<u64> = hs.windows(SHINGLE).map(shingle_hash).collect();
                let repeated = sh.iter().filter(|h| seen_shingles.contains(h)).count();
                let same = !seen_sentences.insert(shingle_hash(&hs));
                if same || (!sh.is_empty() && repeated * 2 >= sh.len()) {
                    continue;
                }
                seen_shingles.extend(sh);
                kept.extend(toks.iter().map(String::as_str));
            }
            if let Some(para) = SrcPara::from_text(&kept.join(" ")) {
                paras.push(para);
            }
        }
        if !paras.is_empty() {
            out.push(SrcStory {
                paras,
                input: Some(i),
            });
        }
    }
    out
}

/// Fixed-size blocked Bloom filter (two bits in one 64-bit word) of hashes of synthetic text.
struct Bloom {
    words: Vec<u64>,
    mask: u64,
}

impl Bloom {
    fn with_bits(bits: u64) -> Self {
        let words = (bits.clamp(1 << 16, 1 << 30) / 64).next_power_of_two();
        Self {
            words: vec![0; words as usize],
            mask: words - 1,
        }
    }

    fn probe(&self, h: u64) -> (usize, u64) {
        let bits = (1u64 << ((h >> 40) & 63)) | (1u64 << ((h >> 50) & 63));
        ((h & self.mask) as usize, bits)
    }

    fn contains(&self, h: u64) -> bool {
        let (i, bits) = self.probe(h);
        self.words.get(i).is_some_and(|w| w & bits == bits)
    }

    fn insert(&mut self, h: u64) {
        let (i, bits) = self.probe(h);
        if let Some(w) = self.words.get_mut(i) {
            *w |= bits;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Synthetic text: real sentences, re-lexicalized
// ---------------------------------------------------------------------------------------------

/// Most common word forms that synthetic text always keeps: the most frequent ones.
pub const PROTECTED_WORDS: usize = 150;
/// Share of the input's words the [`PROTECTED_WORDS`] cover at most (fewer forms for a small
/// input, where 150 forms would be most of its words).
pub const PROTECTED_SHARE: f64 = 0.45;
/// Least share of the words of a synthetic sentence that are changed from its source sentence.
/// Every input sentence is also published as it is (whenever synthesis is needed, every input
/// story is a real original), so any two renderings of one source sentence, and a rendering and
/// the source itself, differ in at least this share of word positions: more than the 30% of
/// the loosest duplicate label (`sub20-30`).
pub const MIN_FRESH: f64 = 0.4;
/// Most estimated sentence-level overlap score (as in [`crate::verify::overlap`], IDF-weighted
/// with the input's sentence frequencies, names weighed half) between a synthetic sentence and
/// its source sentence. Two renderings of one source sentence share exactly its unchanged
/// words and score lower still: well below the detector's default sentence threshold (0.30).
pub const MAX_SKELETON: f64 = 0.2;
/// Weight factor of names in [`Vocab::skeleton_score`] (the detector's default name weight).
const NAME_WEIGHT: f64 = 0.5;
/// Numbers with fewer freely drawn digits than this count as unchanged words when judging a
/// rendering (renderings of one sentence often draw the same small number).
const LONG_NUMBER: usize = 3;
/// Fewest words of a source sentence used for synthetic text.
const MIN_SENT_WORDS: usize = 4;
/// Most tokens of a source sentence used for synthetic text.
const MAX_SENT_TOKENS: usize = 70;
/// Random stories looked at when choosing donor stories of synthetic text.
const DONOR_SAMPLE: usize = 24;
/// Donor stories added at a time (the most topic-similar of the sample).
const DONORS: usize = 4;
/// Most stories whose topic words are cached.
const CONTENT_CACHE: usize = 50_000;
const TAG_SENT: u64 = 0x5E47;
const TAG_DIGITS: u64 = 0xD161;

/// Capitalised words that are not names (kept when frequent).
#[rustfmt::skip]
const NOT_NAMES: &[&str] = &[
    "i", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
    "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december",
];

/// The `s` of `it's`, `n't` and the like: letters after an apostrophe that are no word.
const CLITICS: &[&str] = &["s", "t", "d", "m", "ll", "re", "ve"];

#[rustfmt::skip]
const ONSETS: &[&str] = &[
    "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z",
    "br", "ch", "cl", "cr", "dr", "fr", "gr", "kl", "pl", "pr", "sh", "sk", "sl", "sp", "st",
    "th", "tr", "vr",
];
/// How many of [`ONSETS`] are single letters (the only onsets after a closed syllable).
const SIMPLE_ONSETS: usize = 18;
#[rustfmt::skip]
const NUCLEI: &[&str] = &[
    "a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "ei", "ou", "ia", "au", "oa",
];
#[rustfmt::skip]
const CODAS: &[&str] = &[
    "", "", "", "", "", "", "n", "r", "l", "s", "m", "n", "r", "nd", "rt", "st", "lk", "x", "th",
];
const INNER_CODAS: &[&str] = &["n", "r", "l", "s", "m"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    Letters,
    Digits,
    Other,
}

/// What rendering does with a word piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Kept as it is: a protected common word, or a word the lexicon keeps.
    Keep,
    /// Replaced: a non-common word, a number, or a common word the lexicon already replaces.
    Replace,
    /// A common word replaced only if the sentence needs more changed words.
    Optional,
}

/// A letter or digit run of a sentence being rendered.
#[derive(Debug, Clone, Copy)]
struct WordPiece {
    key: u64,
    fate: Fate,
    /// Whether replacing it counts as a change (not for numbers of one or two digits).
    counts: bool,
    /// Whether it starts with a capital letter.
    name: bool,
}

fn piece_kind(c: char) -> Piece {
    if c.is_ascii_digit() {
        Piece::Digits
    } else if c.is_alphabetic() {
        Piece::Letters
    } else {
        Piece::Other
    }
}

/// Calls `f(kind, text, clitic)` for each run of letters, ASCII digits or other characters of a
/// token; `clitic` marks letters that are no word of their own: after an apostrophe and a word
/// (`'s`, `n't`) or right after digits (`1960s`, `4pm`, `21st`).
fn for_pieces<'a>(tok: &'a str, mut f: impl FnMut(Piece, &'a str, bool)) {
    let mut rest = tok;
    let mut prev: [Option<(Piece, &str)>; 2] = [None, None];
    while let Some(c) = rest.chars().next() {
        let kind = piece_kind(c);
        let end = rest
            .char_indices()
            .find(|&(_, x)| piece_kind(x) != kind)
            .map_or(rest.len(), |(i, _)| i);
        let (text, tail) = rest.split_at(end);
        rest = tail;
        let clitic = kind == Piece::Letters
            && (matches!(prev[1], Some((Piece::Digits, _)))
                || (matches!(prev[1], Some((Piece::Other, "'" | "’")))
                    && matches!(prev[0], Some((Piece::Letters, _)))
                    && CLITICS.iter().any(|c| c.eq_ignore_ascii_case(text))));
        f(kind, text, clitic);
        prev = [prev[1], Some((kind, text))];
    }
}

/// Digits of a number that [`Synth::new_number`] draws freely (not a year's century or a
/// leading zero).
fn free_digits(text: &str) -> usize {
    let b = text.as_bytes();
    if is_year(b) {
        2
    } else if b.first() == Some(&b'0') {
        b.len().saturating_sub(1)
    } else {
        b.len()
    }
}

fn is_year(b: &[u8]) -> bool {
    b.len() == 4 && (b.starts_with(b"19") || b.starts_with(b"20"))
}

/// Key of a digit run (kept apart from word keys).
fn digits_key(text: &str) -> u64 {
    mix2(xxh3_64(text.as_bytes()), TAG_DIGITS)
}

/// The input's word forms (keys: [`core_hash`] of lowercase letter runs).
struct Vocab {
    /// The common word forms: frequent words that are not names, and the table words.
    common: FastSet<u64>,
    /// Common word forms synthetic text always keeps: the most frequent ones.
    protected: FastSet<u64>,
    /// Words of the synonym and spelling tables (replaced only as a last resort).
    table: FastSet<u64>,
    /// Inverse sentence frequency of the common words in the input.
    idf: FastMap<u64, f64>,
    /// Weight of a word replaced by a pseudo-word.
    fresh_weight: f64,
    /// Every word form of the input (pseudo-words avoid them).
    all: FastSet<u64>,
}

impl Vocab {
    /// The most frequent `max_words` word forms that are not names, and every word of the
    /// synonym and spelling tables.
    fn build(stories: &[SrcStory], max_words: usize) -> Self {
        #[derive(Default)]
        struct Count {
            total: u64,
            inner: u64,
            capital: u64,
            /// Sentences the word occurs in, and the last one counted.
            sentences: u32,
            last: u32,
            word: String,
        }
        let mut counts: FastMap<u64, Count> = FastMap::default();
        let mut total_words = 0u64;
        let mut sentence = 0u32;
        for story in stories {
            for para in &story.paras {
                for (i, tok) in para.toks.iter().enumerate() {
                    let initial = para.starts.binary_search(&i).is_ok();
                    if initial {
                        sentence += 1;
                    }
                    for_pieces(tok, |kind, text, clitic| {
                        if kind != Piece::Letters || clitic {
                            return;
                        }
                        total_words += 1;
                        let c = counts.entry(core_hash(text)).or_default();
                        if c.word.is_empty() {
                            c.word = text.to_lowercase();
                        }
                        if c.last != sentence {
                            c.last = sentence;
                            c.sentences += 1;
                        }
                        c.total += 1;
                        if !initial {
                            c.inner += 1;
                            if text.starts_with(char::is_uppercase) {
                                c.capital += 1;
                            }
                        }
                    });
                }
            }
        }
        let mut ranked: Vec<(u64, &Count)> = counts
            .iter()
            .filter(|(_, c)| {
                let name = c.inner > 0 && c.capital * 2 >= c.inner;
                !name
                    || NOT_NAMES.contains(&c.word.as_str())
                    || ABBREVIATIONS.contains(&c.word.as_str())
            })
            .map(|(&k, c)| (k, c))
            .collect();
        ranked.sort_unstable_by(|a, b| {
            b.1.total
                .cmp(&a.1.total)
                .then_with(|| a.1.word.cmp(&b.1.word))
        });
        let mut common = FastSet::default();
        let mut protected = FastSet::default();
        let mut covered = 0u64;
        for (k, c) in ranked.into_iter().take(max_words) {
            if protected.len() < PROTECTED_WORDS
                && (covered as f64) < PROTECTED_SHARE * total_words as f64
            {
                protected.insert(k);
                covered += c.total;
            }
            common.insert(k);
        }
        let mut table = FastSet::default();
        let words = SYNONYMS
            .iter()
            .flat_map(|&(a, b)| [a, b])
            .chain(SPELLINGS.iter().flat_map(|&(a, b, _)| [a, b]));
        for w in words {
            for_pieces(w, |kind, text, _| {
                if kind == Piece::Letters {
                    common.insert(core_hash(text));
                    table.insert(core_hash(text));
                }
            });
        }
        let n = f64::from(sentence) + 1.0;
        let idf = common
            .iter()
            .map(|k| {
                let df = counts.get(k).map_or(0, |c| c.sentences);
                (*k, (n / (f64::from(df) + 0.5)).ln().max(0.0))
            })
            .collect();
        Self {
            common,
            protected,
            table,
            idf,
            fresh_weight: (n / 1.5).ln().max(1.0),
            all: counts.into_keys().collect(),
        }
    }

    /// How a letter or digit run is rendered through `lex` (`None`: an empty lexicon).
    fn classify(&self, lex: Option<&Lexicon>, kind: Piece, text: &str) -> WordPiece {
        let kept = |key: u64| lex.is_some_and(|l| l.keep.contains(&key));
        if kind == Piece::Digits {
            let key = digits_key(text);
            let fate = if kept(key) { Fate::Keep } else { Fate::Replace };
            return WordPiece {
                key,
                fate,
                counts: free_digits(text) >= LONG_NUMBER,
                name: false,
            };
        }
        let key = core_hash(text);
        let fate = if self.protected.contains(&key) || kept(key) {
            Fate::Keep
        } else if !self.common.contains(&key) || lex.is_some_and(|l| l.map.contains_key(&key)) {
            Fate::Replace
        } else if lex.is_some_and(|l| l.locked.contains(&key)) {
            Fate::Keep
        } else {
            Fate::Optional
        };
        WordPiece {
            key,
            fate,
            counts: true,
            name: text.starts_with(char::is_uppercase),
        }
    }

    /// The optional words to replace (most weighty first, as few as possible) so that at least
    /// [`MIN_FRESH`] of the sentence's words change and its [`Vocab::skeleton_score`] is at most
    /// [`MAX_SKELETON`]; `None` when even replacing all of them is not enough. `pieces` are the
    /// sentence's word pieces with the token each belongs to.
    fn choose(&self, pieces: &[(usize, WordPiece)]) -> Option<Vec<u64>> {
        // Table words last, then the weightiest first.
        let mut optional: Vec<(bool, f64, u64)> = pieces
            .iter()
            .filter(|(_, p)| p.fate == Fate::Optional)
            .map(|(_, p)| {
                let idf = self.idf.get(&p.key).copied().unwrap_or(0.0);
                (self.table.contains(&p.key), idf, p.key)
            })
            .collect();
        optional.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(&b.2)));
        optional.dedup_by_key(|x| x.2);
        let mut chosen: Vec<u64> = Vec::new();
        let mut terms: Vec<(u64, bool, bool)> = Vec::with_capacity(pieces.len());
        for next in std::iter::once(None).chain(optional.iter().map(|x| Some(x.2))) {
            if let Some(k) = next {
                chosen.push(k);
            }
            let changes = |p: &WordPiece| match p.fate {
                Fate::Keep => false,
                Fate::Replace => p.counts,
                Fate::Optional => chosen.contains(&p.key),
            };
            let (mut words, mut fresh) = (0usize, 0usize);
            let mut last: Option<(usize, bool)> = None;
            terms.clear();
            for (t, p) in pieces {
                let c = changes(p);
                terms.push((p.key, c, p.name && *t > 0));
                match &mut last {
                    Some((lt, lc)) if *lt == *t => *lc |= c,
                    _ => {
                        if let Some((_, lc)) = last {
                            fresh += usize::from(lc);
                        }
                        words += 1;
                        last = Some((*t, c));
                    }
                }
            }
            if let Some((_, lc)) = last {
                fresh += usize::from(lc);
            }
            if words >= MIN_SENT_WORDS
                && fresh as f64 >= MIN_FRESH * words as f64
                && self.skeleton_score(&mut terms) <= MAX_SKELETON
            {
                return Some(chosen);
            }
        }
        None
    }

    /// The estimated overlap score (as in [`crate::verify::overlap`], with IDF weights of the
    /// input) of a rendering of a sentence and the sentence itself, which share exactly the
    /// unchanged terms: `terms` are the sentence's word keys with whether they change and
    /// whether they look like a name (capitalised inside the sentence; weighed
    /// [`NAME_WEIGHT`]). A pseudo-word weighs as much as a word seen once, and so do unchanged
    /// non-common words (names kept in text on a real story's topic, small numbers). Two
    /// renderings of one sentence score lower: their changed terms all weigh that much.
    fn skeleton_score(&self, terms: &mut Vec<(u64, bool, bool)>) -> f64 {
        terms.sort_unstable_by_key(|t| t.0);
        terms.dedup_by_key(|t| t.0);
        let (mut same, mut pseudo, mut real) = (0.0, 0.0, 0.0);
        for &(k, c, name) in terms.iter() {
            let factor = if name { NAME_WEIGHT } else { 1.0 };
            let w = factor * self.idf.get(&k).copied().unwrap_or(self.fresh_weight);
            if c {
                pseudo += factor * self.fresh_weight;
                real += w;
            } else {
                same += w;
            }
        }
        if same <= 0.0 {
            return 0.0;
        }
        same / ((same + pseudo + real) * (same + pseudo.min(real))).sqrt()
    }

    /// Whether `toks` can be re-lexicalized (see [`Vocab::choose`]) by a new lexicon.
    fn usable(&self, toks: &[String]) -> bool {
        let mut pieces = Vec::with_capacity(toks.len());
        for (t, tok) in toks.iter().enumerate() {
            for_pieces(tok, |kind, text, clitic| {
                if kind != Piece::Other && !clitic {
                    pieces.push((t, self.classify(None, kind, text)));
                }
            });
        }
        self.choose(&pieces).is_some()
    }

    /// Sorted distinct 32-bit keys of the story's longer non-common words (its topic).
    fn content(&self, story: &SrcStory) -> Vec<u32> {
        let mut out = Vec::new();
        for para in &story.paras {
            for tok in &para.toks {
                for_pieces(tok, |kind, text, _| {
                    if kind == Piece::Letters && text.chars().count() >= 4 {
                        let h = core_hash(text);
                        if !self.common.contains(&h) {
                            out.push(h as u32);
                        }
                    }
                });
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Keys of the story's non-common words and numbers (kept as they are by the lexicon of
    /// text on a real story's topic).
    fn own_words(&self, story: &SrcStory) -> FastSet<u64> {
        let mut out = FastSet::default();
        for para in &story.paras {
            for tok in &para.toks {
                for_pieces(tok, |kind, text, clitic| match kind {
                    Piece::Digits => {
                        out.insert(digits_key(text));
                    }
                    Piece::Letters if !clitic => {
                        let h = core_hash(text);
                        if !self.common.contains(&h) {
                            out.insert(h);
                        }
                    }
                    _ => {}
                });
            }
        }
        out
    }
}

/// A source sentence usable for synthetic text.
#[derive(Debug, Clone, Copy)]
struct SentRef {
    story: u32,
    para: u32,
    sent: u32,
}

/// The source sentences with enough non-common words to be re-lexicalized.
struct Catalog {
    refs: Vec<SentRef>,
    /// Catalogue ids of each story's usable sentences, in reading order.
    by_story: Vec<Vec<u32>>,
    /// How often each sentence was used in synthetic text.
    uses: Vec<u32>,
    /// Sum of `uses`.
    total_uses: u64,
    /// Stories with at least one usable sentence.
    rich: Vec<u32>,
}

impl Catalog {
    fn build(stories: &[SrcStory], vocab: &Vocab) -> Self {
        let mut cat = Self {
            refs: Vec::new(),
            by_story: Vec::with_capacity(stories.len()),
            uses: Vec::new(),
            total_uses: 0,
            rich: Vec::new(),
        };
        for (si, story) in stories.iter().enumerate() {
            let mut ids = Vec::new();
            for (pi, para) in story.paras.iter().enumerate() {
                for s in 0..para.nsent() {
                    let (lo, hi) = para.range(s);
                    if hi - lo > MAX_SENT_TOKENS {
                        continue;
                    }
                    if vocab.usable(&para.toks[lo..hi]) {
                        ids.push(cat.refs.len() as u32);
                        cat.refs.push(SentRef {
                            story: si as u32,
                            para: pi as u32,
                            sent: s as u32,
                        });
                    }
                }
            }
            if !ids.is_empty() {
                cat.rich.push(si as u32);
            }
            cat.by_story.push(ids);
        }
        cat.uses = vec![0; cat.refs.len()];
        cat
    }
}

/// One story's mapping of non-common words to pseudo-words (and numbers to numbers).
struct Lexicon {
    seed: u64,
    /// Keys kept as they are: a real story's own words, for text on its topic.
    keep: FastSet<u64>,
    /// Key → lowercase pseudo-word or digits.
    map: FastMap<u64, String>,
    /// Common words the lexicon has kept as they are (so never replaces).
    locked: FastSet<u64>,
}

impl Lexicon {
    fn new(seed: u64, keep: FastSet<u64>) -> Self {
        Self {
            seed,
            keep,
            map: FastMap::default(),
            locked: FastSet::default(),
        }
    }
}

/// The synthetic text of one group: its lexicon, donor stories and used sentences.
struct GroupText {
    lex: Lexicon,
    /// Topic words of the story the group's text is about.
    content: Vec<u32>,
    /// The group's own story, never a donor.
    exclude: Option<usize>,
    /// Donor stories not yet exhausted, most similar first.
    donors: Vec<usize>,
    cursor: usize,
    /// Stories ever chosen as donors.
    seen: FastSet<usize>,
    /// Catalogue sentences the group used or tried: never used twice in one group.
    used: FastSet<u32>,
    /// Sentences of the base story kept for hard negatives.
    reserved: Vec<u32>,
}

impl GroupText {
    fn new(lex: Lexicon, content: Vec<u32>, exclude: Option<usize>) -> Self {
        Self {
            lex,
            content,
            exclude,
            donors: Vec::new(),
            cursor: 0,
            seen: FastSet::default(),
            used: FastSet::default(),
            reserved: Vec::new(),
        }
    }
}

/// A pronounceable pseudo-word of about the length of a `len`-letter word: two or three
/// syllables (rarely four), open inside the word but for a single consonant.
fn syllable_word(rng: &mut Rng, len: usize) -> String {
    let n = match len {
        0..=7 => 2,
        8..=10 => 3,
        _ => 3 + usize::from(rng.chance(0.3)),
    };
    let mut w = String::new();
    let mut closed = false;
    for k in 0..n {
        if !(k == 0 && rng.chance(0.15)) {
            let onsets = if closed {
                &ONSETS[..SIMPLE_ONSETS]
            } else {
                ONSETS
            };
            w.push_str(rng.pick(onsets).copied().unwrap_or("t"));
        }
        w.push_str(rng.pick(NUCLEI).copied().unwrap_or("a"));
        let coda = if k + 1 == n {
            rng.pick(CODAS).copied().unwrap_or("")
        } else if rng.chance(0.3) {
            rng.pick(INNER_CODAS).copied().unwrap_or("")
        } else {
            ""
        };
        closed = !coda.is_empty();
        w.push_str(coda);
    }
    w
}

/// The synthetic-text machinery shared by all groups.
struct Synth {
    vocab: Vocab,
    catalog: Catalog,
    /// Pseudo-words handed out so far.
    pseudo: Bloom,
    /// Hashes of the words of every sentence of the input and of synthetic text.
    made: Bloom,
    content: FastMap<usize, Vec<u32>>,
}

impl Synth {
    fn new(stories: &[SrcStory], cfg: &GenConfig) -> Self {
        let vocab = Vocab::build(stories, cfg.common_words);
        let catalog = Catalog::build(stories, &vocab);
        let docs = cfg.docs as u64;
        let sentences: usize = stories
            .iter()
            .flat_map(|s| &s.paras)
            .map(SrcPara::nsent)
            .sum();
        let bits = docs.max(sentences as u64).saturating_mul(256);
        let mut made = Bloom::with_bits(bits);
        for story in stories {
            for para in &story.paras {
                for s in 0..para.nsent() {
                    let (lo, hi) = para.range(s);
                    made.insert(sentence_hash(&para.toks[lo..hi]));
                }
            }
        }
        Self {
            vocab,
            catalog,
            pseudo: Bloom::with_bits(docs.saturating_mul(1024)),
            made,
            content: FastMap::default(),
        }
    }

    fn content_of(&mut self, stories: &[SrcStory], i: usize) -> Vec<u32> {
        if let Some(c) = self.content.get(&i) {
            return c.clone();
        }
        let c = stories
            .get(i)
            .map(|s| self.vocab.content(s))
            .unwrap_or_default();
        if self.content.len() < CONTENT_CACHE {
            self.content.insert(i, c.clone());
        }
        c
    }

    /// The text machinery of a group about a real story (`own`, at index `index`): pseudo-words
    /// for every non-common word except the story's own, so its hard negatives and new leads
    /// share its names.
    fn real_group(&mut self, stories: &[SrcStory], index: usize, seed: u64) -> GroupText {
        let keep = stories
            .get(index)
            .map(|s| self.vocab.own_words(s))
            .unwrap_or_default();
        let content = self.content_of(stories, index);
        GroupText::new(Lexicon::new(seed, keep), content, Some(index))
    }

    /// A new lowercase pseudo-word (or uppercase letters for a short acronym) for `text`.
    fn new_pseudo(&mut self, seed: u64, key: u64, text: &str) -> String {
        let len = text.chars().count();
        let acronym = (2..=4).contains(&len) && text.chars().all(char::is_uppercase);
        let mut rng = Rng::new(mix2(seed, key));
        if len == 1 {
            let c = b"bcdfghjklmnprstvwz"[rng.below(18)];
            return char::from(c).to_string();
        }
        let lower = text.to_lowercase();
        let suffix = if len >= 6 && text.chars().all(char::is_lowercase) {
            ["ing", "ed", "ly", "s"]
                .into_iter()
                .find(|s| lower.ends_with(s) && !lower.ends_with("ss"))
                .unwrap_or("")
        } else {
            ""
        };
        let mut word = String::new();
        for attempt in 0..16 {
            word = if acronym {
                (0..len)
                    .map(|_| char::from(b'a' + rng.below(26) as u8))
                    .collect()
            } else {
                let mut w = syllable_word(&mut rng, len);
                w.push_str(suffix);
                w
            };
            let h = core_hash(&word);
            if attempt == 15 || (!self.pseudo.contains(h) && !self.vocab.all.contains(&h)) {
                self.pseudo.insert(h);
                break;
            }
        }
        word
    }

    /// Digits of the same shape as `text` (years stay in their century), not `text` itself
    /// unless it is a single zero.
    fn new_number(seed: u64, key: u64, text: &str) -> String {
        let mut rng = Rng::new(mix2(seed, key));
        let b = text.as_bytes();
        let year = is_year(b);
        let mut out = String::new();
        for _ in 0..8 {
            out.clear();
            for (i, &d) in b.iter().enumerate() {
                let c = if year && i < 2 {
                    d
                } else if i == 0 && d != b'0' {
                    b'1' + rng.below(9) as u8
                } else if i == 0 {
                    b'0'
                } else {
                    b'0' + rng.below(10) as u8
                };
                out.push(char::from(c));
            }
            if out != text {
                break;
            }
        }
        out
    }

    /// The replacement of a letter or digit run with key `key` under `lex` (made on first use).
    fn substitute(&mut self, lex: &mut Lexicon, kind: Piece, text: &str, key: u64) -> String {
        let base = match lex.map.get(&key) {
            Some(b) => b.clone(),
            None => {
                let b = if kind == Piece::Digits {
                    Self::new_number(lex.seed, key, text)
                } else {
                    self.new_pseudo(lex.seed, key, text)
                };
                lex.map.insert(key, b.clone());
                b
            }
        };
        if kind == Piece::Digits {
            base
        } else {
            with_case(text, &base)
        }
    }

    /// Catalogue sentence `id` through the group's lexicon, if it passes the checks: enough
    /// changed words (see [`Vocab::choose`]) and no equal sentence seen before (input text and
    /// all synthetic text). Records it as used.
    fn render(&mut self, stories: &[SrcStory], gt: &mut GroupText, id: u32) -> Option<String> {
        let r = *self.catalog.refs.get(id as usize)?;
        let para = stories.get(r.story as usize)?.paras.get(r.para as usize)?;
        let (lo, hi) = para.range(r.sent as usize);
        let toks = balance_quotes(&para.toks[lo..hi]);
        let mut pieces = Vec::with_capacity(toks.len());
        for (t, tok) in toks.iter().enumerate() {
            for_pieces(tok, |kind, text, clitic| {
                if kind != Piece::Other && !clitic {
                    pieces.push((t, self.vocab.classify(Some(&gt.lex), kind, text)));
                }
            });
        }
        let chosen = self.vocab.choose(&pieces)?;
        let mut out = String::with_capacity(toks.iter().map(|t| t.len() + 4).sum());
        let mut hs: Vec<u64> = Vec::with_capacity(toks.len());
        let mut next = pieces.iter().map(|p| p.1);
        for tok in &toks {
            if !out.is_empty() {
                out.push(' ');
            }
            let start = out.len();
            for_pieces(tok, |kind, piece, clitic| {
                let p = if kind != Piece::Other && !clitic {
                    next.next()
                } else {
                    None
                };
                match p {
                    Some(p)
                        if p.fate == Fate::Replace
                            || (p.fate == Fate::Optional && chosen.contains(&p.key)) =>
                    {
                        let rep = self.substitute(&mut gt.lex, kind, piece, p.key);
                        out.push_str(&rep);
                    }
                    _ => out.push_str(piece),
                }
            });
            let word = &out[start..];
            if word.chars().any(char::is_alphanumeric) {
                hs.push(core_hash(word));
            }
        }
        let whole = mix2(shingle_hash(&hs), TAG_SENT);
        if self.made.contains(whole) {
            return None;
        }
        self.made.insert(whole);
        for (_, p) in &pieces {
            if p.fate == Fate::Optional && !chosen.contains(&p.key) {
                gt.lex.locked.insert(p.key);
            }
        }
        if let Some(u) = self.catalog.uses.get_mut(id as usize) {
            *u += 1;
            self.catalog.total_uses += 1;
        }
        Some(out)
    }

    /// Adds the most topic-similar of a random sample of unseen stories as donors.
    fn add_donors(&mut self, stories: &[SrcStory], rng: &mut Rng, gt: &mut GroupText) {
        let mut cands: Vec<(f64, usize)> = Vec::new();
        for _ in 0..DONOR_SAMPLE {
            let Some(&c) = rng.pick(&self.catalog.rich) else {
                return;
            };
            let c = c as usize;
            if Some(c) == gt.exclude || gt.seen.contains(&c) || cands.iter().any(|x| x.1 == c) {
                continue;
            }
            let content = self.content_of(stories, c);
            let shared = content
                .iter()
                .filter(|h| gt.content.binary_search(h).is_ok())
                .count();
            let similarity = shared as f64 / (content.len().max(1) as f64).sqrt();
            cands.push((similarity / (1.0 + self.wear(c)), c));
        }
        cands.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, c) in cands.iter().take(DONORS) {
            gt.seen.insert(c);
            gt.donors.push(c);
        }
    }

    /// How much more than average the usable sentences of story `i` have been used (0 when not
    /// more).
    fn wear(&self, i: usize) -> f64 {
        let ids = self.catalog.by_story.get(i).map_or(&[][..], Vec::as_slice);
        let uses = |ids: &[u32]| -> f64 {
            let total: u64 = ids
                .iter()
                .map(|&id| u64::from(self.catalog.uses.get(id as usize).copied().unwrap_or(0)))
                .sum();
            total as f64 / ids.len().max(1) as f64
        };
        let mean = self.catalog.total_uses as f64 / self.catalog.refs.len().max(1) as f64;
        (uses(ids) / (mean + 1.0) - 1.0).max(0.0)
    }

    /// The least-used sentence of donor `d` the group has not used (ties broken at random).
    fn pick_sentence(&self, rng: &mut Rng, gt: &GroupText, d: usize) -> Option<u32> {
        let ids = self.catalog.by_story.get(d)?;
        let free = |id: &&u32| !gt.used.contains(id) && !gt.reserved.contains(id);
        let least = ids
            .iter()
            .filter(free)
            .map(|&id| self.catalog.uses.get(id as usize).copied().unwrap_or(0))
            .min()?;
        let best: Vec<u32> = ids
            .iter()
            .filter(free)
            .copied()
            .filter(|&id| self.catalog.uses.get(id as usize).copied().unwrap_or(0) == least)
            .collect();
        rng.pick(&best).copied()
    }

    /// Appends up to `want` rendered sentences from the group's donors to `out`.
    fn fill(
        &mut self,
        stories: &[SrcStory],
        rng: &mut Rng,
        gt: &mut GroupText,
        want: usize,
        out: &mut Vec<String>,
    ) {
        let goal = out.len() + want;
        let mut tries = 0;
        while out.len() < goal && tries < 8 * want + 16 {
            tries += 1;
            if gt.donors.is_empty() {
                self.add_donors(stories, rng, gt);
                if gt.donors.is_empty() {
                    break;
                }
            }
            let k = gt.cursor % gt.donors.len();
            let d = gt.donors[k];
            let Some(id) = self.pick_sentence(rng, gt, d) else {
                gt.donors.remove(k);
                gt.cursor = k;
                continue;
            };
            gt.used.insert(id);
            if let Some(s) = self.render(stories, gt, id) {
                out.push(s);
            }
            gt.cursor = k + 1;
        }
    }

    /// Renders the given catalogue sentences (skipping those that fail the checks), up to
    /// `want` in all.
    fn take(
        &mut self,
        stories: &[SrcStory],
        gt: &mut GroupText,
        ids: &[u32],
        want: usize,
        out: &mut Vec<String>,
    ) {
        for &id in ids {
            if out.len() >= want {
                break;
            }
            if gt.used.insert(id) {
                if let Some(s) = self.render(stories, gt, id) {
                    out.push(s);
                }
            }
        }
    }

    /// A synthetic story: some of a random base story's sentences, then sentences of similar
    /// stories, all through a new lexicon. With `negatives` planned, part of the base story's
    /// sentences are kept back for them.
    fn original(
        &mut self,
        stories: &[SrcStory],
        rng: &mut Rng,
        lex_seed: u64,
        negatives: usize,
    ) -> (SrcStory, GroupText) {
        let empty = SrcStory {
            paras: Vec::new(),
            input: None,
        };
        // The least worn of a few random stories.
        let mut base = None;
        for _ in 0..3 {
            let Some(&c) = rng.pick(&self.catalog.rich) else {
                break;
            };
            let c = c as usize;
            base = match base {
                Some(b) if self.wear(b) <= self.wear(c) => Some(b),
                _ => Some(c),
            };
        }
        let Some(base) = base else {
            let gt = GroupText::new(Lexicon::new(lex_seed, FastSet::default()), Vec::new(), None);
            return (empty, gt);
        };
        let content = self.content_of(stories, base);
        let mut gt = GroupText::new(
            Lexicon::new(lex_seed, FastSet::default()),
            content,
            Some(base),
        );
        let mut ids = self.catalog.by_story.get(base).cloned().unwrap_or_default();
        if negatives > 0 && ids.len() >= 2 {
            let mine = (ids.len() * 3).div_ceil(5).clamp(1, ids.len() - 1);
            let mut rest = ids.split_off(1);
            rng.shuffle(&mut rest);
            let mut reserved = rest.split_off(mine - 1);
            ids.extend(rest);
            ids.sort_unstable();
            reserved.sort_unstable();
            gt.reserved = reserved;
        }
        let nsent: usize = stories
            .get(base)
            .map_or(0, |s| s.paras.iter().map(SrcPara::nsent).sum());
        let want = (nsent.clamp(4, 16) + rng.below(5)).saturating_sub(2).max(3);
        let mut sents = Vec::new();
        self.take(stories, &mut gt, &ids, want, &mut sents);
        let more = want.saturating_sub(sents.len());
        self.fill(stories, rng, &mut gt, more, &mut sents);
        let story = SrcStory {
            paras: paragraphs_of(&sents, rng),
            input: None,
        };
        (story, gt)
    }

    /// A hard negative of a group: sentences its story did not use, through its lexicon. When
    /// the group has run out of sentences (a small input), the rest comes through a new lexicon
    /// seeded by `spare_seed`: a different story, so any sentence may be used again.
    fn negative(
        &mut self,
        stories: &[SrcStory],
        rng: &mut Rng,
        gt: &mut GroupText,
        want: usize,
        spare_seed: u64,
    ) -> SrcStory {
        let want = want.max(2);
        let n = gt.reserved.len().min(want.div_ceil(2));
        let reserved: Vec<u32> = gt.reserved.drain(..n).collect();
        let mut sents = Vec::new();
        self.take(stories, gt, &reserved, want, &mut sents);
        let more = want.saturating_sub(sents.len());
        self.fill(stories, rng, gt, more, &mut sents);
        if sents.len() < want.div_ceil(2) {
            let lex = Lexicon::new(spare_seed, FastSet::default());
            let mut spare = GroupText::new(lex, gt.content.clone(), gt.exclude);
            let more = want - sents.len();
            self.fill(stories, rng, &mut spare, more, &mut sents);
        }
        SrcStory {
            paras: paragraphs_of(&sents, rng),
            input: None,
        }
    }
}

/// Hash of a sentence's words (lowercase letters and digits only).
fn sentence_hash<S: AsRef<str>>(toks: &[S]) -> u64 {
    let hs: Vec<u64> = toks
        .iter()
        .map(AsRef::as_ref)
        .filter(|t| t.chars().any(char::is_alphanumeric))
        .map(core_hash)
        .collect();
    mix2(shingle_hash(&hs), TAG_SENT)
}

/// The tokens without double quotes or brackets when those do not pair up within the sentence
/// (a quotation spanning several sentences), dropping tokens left empty.
fn balance_quotes(toks: &[String]) -> Vec<Cow<'_, str>> {
    // Counts of " “ ” ( ).
    let mut n = [0usize; 5];
    for c in toks.iter().flat_map(|t| t.chars()) {
        match c {
            '"' => n[0] += 1,
            '“' => n[1] += 1,
            '”' => n[2] += 1,
            '(' => n[3] += 1,
            ')' => n[4] += 1,
            _ => {}
        }
    }
    let mut strip: Vec<char> = Vec::new();
    if n[0] % 2 == 1 {
        strip.push('"');
    }
    if n[1] != n[2] {
        strip.extend(['“', '”']);
    }
    if n[3] != n[4] {
        strip.extend(['(', ')']);
    }
    if strip.is_empty() {
        return toks.iter().map(|t| Cow::Borrowed(t.as_str())).collect();
    }
    toks.iter()
        .map(|t| {
            if t.contains(strip.as_slice()) {
                Cow::Owned(t.replace(strip.as_slice(), ""))
            } else {
                Cow::Borrowed(t.as_str())
            }
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// Groups sentences into paragraphs of 1–3 sentences (at most about 60 words).
fn paragraphs_of(sents: &[String], rng: &mut Rng) -> Vec<SrcPara> {
    let mut paras = Vec::new();
    let mut s = 0;
    while s < sents.len() {
        let want = 1 + rng.weighted(&[0.35, 0.45, 0.2]);
        let mut end = s;
        let mut words = 0;
        while end < sents.len() && end - s < want && (end == s || words < 60) {
            words += sents[end].split_whitespace().count();
            end += 1;
        }
        if let Some(p) = SrcPara::from_text(&sents[s..end].join(" ")) {
            paras.push(p);
        }
        s = end;
    }
    paras
}

// ---------------------------------------------------------------------------------------------
// Copy edits and truth labels
// ---------------------------------------------------------------------------------------------

/// Part of a source paragraph in a line: kept sentences and substituted token positions.
#[derive(Debug, Clone)]
struct Seg {
    para: usize,
    sents: Vec<usize>,
    subs: Vec<usize>,
}

#[derive(Debug, Clone)]
struct LineSpec {
    segs: Vec<Seg>,
    split: bool,
}

impl LineSpec {
    fn whole(para: usize, nsent: usize) -> Self {
        Self {
            segs: vec![Seg {
                para,
                sents: (0..nsent).collect(),
                subs: Vec::new(),
            }],
            split: false,
        }
    }

    fn words(&self, story: &SrcStory) -> usize {
        let mut n = 0;
        for seg in &self.segs {
            if let Some(para) = story.paras.get(seg.para) {
                for &s in &seg.sents {
                    let (lo, hi) = para.range(s);
                    n += hi - lo;
                }
            }
        }
        n
    }

    fn sub_rate(&self, story: &SrcStory) -> f64 {
        let subs: usize = self.segs.iter().map(|s| s.subs.len()).sum();
        subs as f64 / self.words(story).max(1) as f64
    }
}

fn bucket_rate(rng: &mut Rng, bucket: usize) -> f64 {
    let u = rng.unit();
    match bucket {
        0 => 0.0,
        1 => 0.02 + 0.075 * u,
        2 => 0.105 + 0.09 * u,
        _ => 0.205 + 0.09 * u,
    }
}

/// Token positions to replace so that about `rate` of the kept words change.
fn choose_subs(para: &SrcPara, sents: &[usize], rate: f64, rng: &mut Rng) -> Vec<usize> {
    if rate <= 0.0 {
        return Vec::new();
    }
    let mut cands = Vec::new();
    let mut total = 0usize;
    for &s in sents {
        let (lo, hi) = para.range(s);
        total += hi - lo;
        for pos in lo..hi {
            if synonym_token(&para.toks[pos], pos == lo).is_some() {
                cands.push(pos);
            }
        }
    }
    let want = ((rate * total as f64).round() as usize).min(cands.len());
    for i in 0..want {
        let j = i + rng.below(cands.len() - i);
        cands.swap(i, j);
    }
    cands.truncate(want);
    cands.sort_unstable();
    cands
}

fn sub_seg(para: &SrcPara, seg: &Seg, sents: &[usize]) -> Seg {
    let lo = sents.first().map_or(0, |&s| para.range(s).0);
    let hi = sents.last().map_or(0, |&s| para.range(s).1);
    Seg {
        para: seg.para,
        sents: sents.to_vec(),
        subs: seg
            .subs
            .iter()
            .copied()
            .filter(|&p| p >= lo && p < hi)
            .collect(),
    }
}

/// The body lines of a copy: which source sentences each line holds and which words change.
fn copy_body(story: &SrcStory, cfg: &GenConfig, rng: &mut Rng) -> Vec<LineSpec> {
    let m = story.paras.len();
    if m == 0 {
        return Vec::new();
    }
    let mut keep: Vec<usize> = (0..m).filter(|_| !rng.chance(cfg.drop_prob)).collect();
    if keep.len() > 2 && rng.chance(cfg.truncate_prob) {
        let cut = 1 + rng.below((keep.len() / 3).max(1));
        keep.truncate(keep.len() - cut);
    }
    if keep.is_empty() {
        keep.push(rng.below(m));
    }
    if keep.len() >= 3 && rng.chance(cfg.reorder_prob) {
        for _ in 0..1 + rng.below(2) {
            let from = 1 + rng.below(keep.len() - 1);
            let p = keep.remove(from);
            let to = (1 + rng.below(keep.len())).min(keep.len());
            keep.insert(to, p);
        }
    }
    let mut units = Vec::with_capacity(keep.len());
    for &p in &keep {
        let para = &story.paras[p];
        let mut n = para.nsent();
        if n >= 2 && rng.chance(cfg.trim_prob) {
            n -= 1;
        }
        let sents: Vec<usize> = (0..n).collect();
        let bucket = rng.weighted(&cfg.sub_weights);
        let rate = bucket_rate(rng, bucket);
        let subs = choose_subs(para, &sents, rate, rng);
        units.push(Seg {
            para: p,
            sents,
            subs,
        });
    }
    let mut lines = Vec::with_capacity(units.len());
    let mut i = 0;
    while i < units.len() {
        if i + 1 < units.len() && rng.chance(cfg.merge_prob) {
            lines.push(LineSpec {
                segs: vec![units[i].clone(), units[i + 1].clone()],
                split: false,
            });
            i += 2;
            continue;
        }
        let u = &units[i];
        if u.sents.len() >= 2 && rng.chance(cfg.split_prob) {
            let para = &story.paras[u.para];
            let cut = 1 + rng.below(u.sents.len() - 1);
            let (a, b) = u.sents.split_at(cut);
            for part in [a, b] {
                lines.push(LineSpec {
                    segs: vec![sub_seg(para, u, part)],
                    split: true,
                });
            }
        } else {
            lines.push(LineSpec {
                segs: vec![u.clone()],
                split: false,
            });
        }
        i += 1;
    }
    lines
}

fn render_line(story: &SrcStory, line: &LineSpec, spelling: Spelling, quotes: Quotes) -> String {
    let mut out = String::new();
    for seg in &line.segs {
        let Some(para) = story.paras.get(seg.para) else {
            continue;
        };
        for &s in &seg.sents {
            let (lo, hi) = para.range(s);
            for pos in lo..hi {
                let tok = para.toks[pos].as_str();
                let word: Cow<'_, str> = if seg.subs.binary_search(&pos).is_ok() {
                    synonym_token(tok, pos == lo).map_or(Cow::Borrowed(tok), Cow::Owned)
                } else {
                    Cow::Borrowed(tok)
                };
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&respell(&word, spelling));
            }
        }
    }
    match quotes {
        Quotes::Keep => out,
        Quotes::Curly => to_curly(&out),
        Quotes::Straight => to_straight(&out),
    }
}

/// Number of positions in `[lo, hi)` that are in `a` or `b` (both sorted).
fn union_in_range(a: &[usize], b: &[usize], lo: usize, hi: usize) -> usize {
    let a: Vec<usize> = a.iter().copied().filter(|&p| p >= lo && p < hi).collect();
    let b: Vec<usize> = b.iter().copied().filter(|&p| p >= lo && p < hi).collect();
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => i += 1,
            (Some(_), None) => i += 1,
            _ => j += 1,
        }
        n += 1;
    }
    n
}

/// The truth label of two lines of one group, `None` when they share no source sentence.
fn label_pair(
    story: &SrcStory,
    a: &LineSpec,
    b: &LineSpec,
    min_words: usize,
) -> Option<&'static str> {
    let mut common = 0usize;
    let mut changed = 0usize;
    let mut same_sents = true;
    for sa in &a.segs {
        for sb in &b.segs {
            if sa.para != sb.para {
                continue;
            }
            let Some(para) = story.paras.get(sa.para) else {
                continue;
            };
            if sa.sents != sb.sents {
                same_sents = false;
            }
            for &s in sa.sents.iter().filter(|s| sb.sents.contains(s)) {
                let (lo, hi) = para.range(s);
                common += hi - lo;
                changed += union_in_range(&sa.subs, &sb.subs, lo, hi);
            }
        }
    }
    if common == 0 {
        return None;
    }
    let rate = changed as f64 / common as f64;
    let longest = a.words(story).max(b.words(story)).max(1);
    let cover = common as f64 / longest as f64;
    let label = if rate > 0.30 || common < min_words {
        "loose"
    } else if a.segs.len() > 1 || b.segs.len() > 1 {
        "merged"
    } else if a.split || b.split {
        "split"
    } else if !same_sents {
        if cover < 0.5 {
            "loose"
        } else {
            "trimmed"
        }
    } else if changed == 0 {
        "exact"
    } else if rate < 0.10 {
        "sub00-10"
    } else if rate < 0.20 {
        "sub10-20"
    } else {
        "sub20-30"
    };
    Some(label)
}

struct BodyLine {
    doc: usize,
    line: usize,
    spec: LineSpec,
}

fn group_pairs(story: &SrcStory, lines: &[BodyLine], min_words: usize, out: &mut Vec<TruthPair>) {
    let mut by_para: Vec<Vec<usize>> = vec![Vec::new(); story.paras.len()];
    for (i, bl) in lines.iter().enumerate() {
        for seg in &bl.spec.segs {
            if let Some(v) = by_para.get_mut(seg.para) {
                if v.last() != Some(&i) {
                    v.push(i);
                }
            }
        }
    }
    let mut cands: BTreeSet<(usize, usize)> = BTreeSet::new();
    for v in &by_para {
        for (x, &i) in v.iter().enumerate() {
            for &j in &v[x + 1..] {
                cands.insert((i.min(j), i.max(j)));
            }
        }
    }
    for (i, j) in cands {
        let (a, b) = (&lines[i], &lines[j]);
        if (a.doc, a.line) == (b.doc, b.line) {
            continue;
        }
        if let Some(label) = label_pair(story, &a.spec, &b.spec, min_words) {
            out.push(TruthPair::ordered((a.doc, a.line), (b.doc, b.line), label));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Planning and generation
// ---------------------------------------------------------------------------------------------

const TAG_POOL: u64 = 1;
const TAG_BLOCK: u64 = 2;
const TAG_DOC: u64 = 3;
const TAG_STORY: u64 = 4;
const TAG_GROUP: u64 = 5;
const TAG_NEG: u64 = 6;
const TAG_LEX: u64 = 7;

const BASE_TIME: u64 = 1_704_067_200; // 2024-01-01T00:00:00Z
const SECS_PER_DOC: u64 = 240;

#[derive(Debug, Clone, Copy)]
struct BlockPlan {
    start: usize,
    orig: usize,
    copy: usize,
    neg: usize,
}

fn prob(x: f64) -> f64 {
    if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

fn sanitize(cfg: &GenConfig) -> GenConfig {
    let mut c = cfg.clone();
    c.copy_share = prob(c.copy_share);
    c.negative_share = prob(c.negative_share);
    let sum = c.copy_share + c.negative_share;
    if sum > 1.0 {
        c.copy_share /= sum;
        c.negative_share /= sum;
    }
    for p in [
        &mut c.new_lead_prob,
        &mut c.drop_prob,
        &mut c.truncate_prob,
        &mut c.reorder_prob,
        &mut c.trim_prob,
        &mut c.merge_prob,
        &mut c.split_prob,
        &mut c.spelling_prob,
        &mut c.quote_prob,
        &mut c.dateline_prob,
        &mut c.byline_prob,
        &mut c.boilerplate_prob,
    ] {
        *p = prob(*p);
    }
    for w in &mut c.sub_weights {
        if !w.is_finite() || *w < 0.0 {
            *w = 0.0;
        }
    }
    c.boilerplate_cap = c.boilerplate_cap.max(1);
    c.block_docs = c.block_docs.max(1);
    c
}

fn plan_block(start: usize, n: usize, cfg: &GenConfig) -> BlockPlan {
    let mut copy = ((n as f64 * cfg.copy_share).round() as usize).min(n);
    let mut neg = ((n as f64 * cfg.negative_share).round() as usize).min(n - copy);
    let mut orig = n - copy - neg;
    if orig == 0 && n > 0 {
        if copy > 0 {
            copy -= 1;
        } else {
            neg -= 1;
        }
        orig = 1;
    }
    let members = orig + copy;
    let need = members.div_ceil(cfg.max_copies.saturating_add(1));
    if orig < need {
        orig = need;
        copy = members - orig;
    }
    BlockPlan {
        start,
        orig,
        copy,
        neg,
    }
}

/// Hands out input stories, each at most once, spread evenly over the corpus.
struct Pool {
    order: Vec<usize>,
    cursor: usize,
    orig_left: usize,
    orig_real_left: usize,
    neg_left: usize,
    neg_real_left: usize,
}

impl Pool {
    fn take(&mut self) -> Option<usize> {
        let i = self.order.get(self.cursor).copied();
        if i.is_some() {
            self.cursor += 1;
        }
        i
    }

    fn take_original(&mut self, rng: &mut Rng) -> Option<usize> {
        let real = self.orig_real_left > 0 && rng.below(self.orig_left) < self.orig_real_left;
        self.orig_left = self.orig_left.saturating_sub(1);
        if real {
            self.orig_real_left -= 1;
            self.take()
        } else {
            None
        }
    }

    /// The most topic-similar of the next few unused stories, if this negative gets a real one.
    fn take_negative(
        &mut self,
        rng: &mut Rng,
        stories: &[SrcStory],
        near: &SrcStory,
    ) -> Option<usize> {
        let real = self.neg_real_left > 0 && rng.below(self.neg_left) < self.neg_real_left;
        self.neg_left = self.neg_left.saturating_sub(1);
        if !real {
            return None;
        }
        self.neg_real_left -= 1;
        let near = near.content();
        let end = (self.cursor + 16).min(self.order.len());
        let mut best: Option<(usize, f64)> = None;
        for k in self.cursor..end {
            let Some(story) = stories.get(self.order[k]) else {
                continue;
            };
            let content = story.content();
            let shared = content.iter().filter(|h| near.contains(h)).count();
            let score = shared as f64 / (content.len().max(1) as f64).sqrt();
            let better = match best {
                None => true,
                Some((_, s)) => score > s,
            };
            if better {
                best = Some((k, score));
            }
        }
        if let Some((k, _)) = best {
            self.order.swap(self.cursor, k);
        }
        self.take()
    }
}

/// Remembers where each dateline/byline/boilerplate text was used, to emit `boilerplate` pairs.
struct Tracker {
    cap: usize,
    seen: FastMap<String, Vec<(usize, usize)>>,
}

impl Tracker {
    fn available(&self, text: &str) -> bool {
        self.seen.get(text).map_or(0, Vec::len) < self.cap
    }

    fn record(&mut self, text: &str, doc: usize, line: usize, out: &mut Vec<TruthPair>) {
        let uses = self.seen.entry(text.to_owned()).or_default();
        for &(d, l) in uses.iter() {
            out.push(TruthPair::ordered((d, l), (doc, line), "boilerplate"));
        }
        uses.push((doc, line));
    }
}

struct Group {
    story: SrcStory,
    orig_doc: usize,
    title: String,
    dateline: String,
    byline: String,
    caption: String,
    /// Lexicon, donors and used sentences of the group's synthetic text.
    text: GroupText,
    lines: Vec<BodyLine>,
}

#[derive(Debug, Clone, Copy)]
enum Role {
    Original(usize),
    Copy(usize),
    Negative(usize),
}

struct Line {
    role: LineRole,
    text: String,
    spec: Option<LineSpec>,
    sub_rate: f64,
}

impl Line {
    fn extra(role: LineRole, text: String) -> Self {
        Self {
            role,
            text,
            spec: None,
            sub_rate: 0.0,
        }
    }
}

struct Draft {
    index: usize,
    kind: DocKind,
    story: Option<usize>,
    title: String,
    outlet: usize,
    head: Vec<Line>,
    body: Vec<Line>,
    boiler: Vec<String>,
}

/// Streams a corpus block by block; each item is one block of documents with its truth pairs.
///
/// Blocks come in document order; concatenating them gives exactly [`generate`]'s result.
pub struct Generator {
    cfg: GenConfig,
    stories: Vec<SrcStory>,
    plan: Vec<BlockPlan>,
    next: usize,
    pool: Pool,
    tracker: Tracker,
    synth: Synth,
    width: usize,
}

impl Generator {
    /// Prepares generation: parses the stories (dropping empty paragraphs and sentences that
    /// repeat earlier input text), builds the common vocabulary and the catalogue of sentences
    /// usable for synthetic text, and plans the blocks. Without any input text there are no
    /// documents.
    pub fn new(stories: &[Story], cfg: &GenConfig) -> Self {
        let cfg = sanitize(cfg);
        let src = load_stories(stories);
        let synth = Synth::new(&src, &cfg);
        let mut plan = Vec::new();
        if !src.is_empty() {
            let mut start = 0;
            while start < cfg.docs {
                let n = (cfg.docs - start).min(cfg.block_docs);
                plan.push(plan_block(start, n, &cfg));
                start += n;
            }
        }
        let orig_total: usize = plan.iter().map(|b| b.orig).sum();
        let neg_total: usize = plan.iter().map(|b| b.neg).sum();
        let mut order: Vec<usize> = (0..src.len()).collect();
        Rng::derive(cfg.seed, TAG_POOL, 0).shuffle(&mut order);
        let orig_real = orig_total.min(src.len());
        let pool = Pool {
            order,
            cursor: 0,
            orig_left: orig_total,
            orig_real_left: orig_real,
            neg_left: neg_total,
            neg_real_left: neg_total.min(src.len() - orig_real),
        };
        let digits = cfg.docs.saturating_sub(1).to_string().len();
        Self {
            tracker: Tracker {
                cap: cfg.boilerplate_cap,
                seen: FastMap::default(),
            },
            width: digits.max(6),
            synth,
            cfg,
            stories: src,
            plan,
            next: 0,
            pool,
        }
    }

    /// Number of documents the generator will produce.
    pub fn total_docs(&self) -> usize {
        self.plan.iter().map(|b| b.orig + b.copy + b.neg).sum()
    }

    /// Digits of the zero-padded number in document names.
    pub fn name_width(&self) -> usize {
        self.width
    }

    fn new_group(story: SrcStory, text: GroupText, orig_doc: usize, seed: u64) -> Group {
        let mut rng = Rng::derive(seed, TAG_GROUP, orig_doc as u64);
        Group {
            title: story.title(),
            dateline: random_dateline(&mut rng),
            byline: random_byline(&mut rng),
            caption: caption_for(&caption_subject(&story)),
            text,
            story,
            orig_doc,
            lines: Vec::new(),
        }
    }

    /// The group of original `orig_doc`: input story `real` as it is, or a synthetic story
    /// (with `negatives` hard negatives planned).
    fn make_group(&mut self, real: Option<usize>, orig_doc: usize, negatives: usize) -> Group {
        let seed = self.cfg.seed;
        let lex_seed = mix2(mix2(seed, TAG_LEX), orig_doc as u64);
        if let Some((i, story)) = real.and_then(|i| Some((i, self.stories.get(i)?.clone()))) {
            let text = self.synth.real_group(&self.stories, i, lex_seed);
            return Self::new_group(story, text, orig_doc, seed);
        }
        let mut rng = Rng::derive(seed, TAG_STORY, orig_doc as u64);
        let (story, text) = self
            .synth
            .original(&self.stories, &mut rng, lex_seed, negatives);
        Self::new_group(story, text, orig_doc, seed)
    }

    fn pick_extra(
        &self,
        used: &mut Vec<String>,
        mut candidate: impl FnMut(usize) -> String,
    ) -> Option<String> {
        for k in 0..6 {
            let text = candidate(k);
            if !text.is_empty() && self.tracker.available(&text) && !used.contains(&text) {
                used.push(text.clone());
                return Some(text);
            }
        }
        None
    }

    fn head_lines(
        &self,
        rng: &mut Rng,
        group: Option<&Group>,
        used: &mut Vec<String>,
    ) -> Vec<Line> {
        let mut head = Vec::new();
        if rng.chance(self.cfg.byline_prob) {
            let wire = rng.chance(0.5);
            let pick = self.pick_extra(used, |k| match group {
                Some(g) if k == 0 && wire => g.byline.clone(),
                _ => random_byline(rng),
            });
            if let Some(t) = pick {
                head.push(Line::extra(LineRole::Byline, t));
            }
        }
        if rng.chance(self.cfg.dateline_prob) {
            let pick = self.pick_extra(used, |k| match group {
                Some(g) if k == 0 => g.dateline.clone(),
                _ => random_dateline(rng),
            });
            if let Some(t) = pick {
                head.push(Line::extra(LineRole::Dateline, t));
            }
        }
        head
    }

    fn boilerplate(
        &self,
        rng: &mut Rng,
        p: f64,
        outlet: usize,
        caption: Option<&str>,
        used: &mut Vec<String>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        if !rng.chance(p) {
            return out;
        }
        let n = 1 + rng.weighted(&[0.6, 0.3, 0.1]);
        for _ in 0..n {
            let pick = self.pick_extra(used, |k| {
                let kind = rng.weighted(&[0.4, 0.35, 0.25]);
                match (kind, caption) {
                    (2, Some(c)) if k == 0 => c.to_owned(),
                    (2, _) => caption_for(
                        &rng.pick(CITIES)
                            .copied()
                            .unwrap_or("Sydney")
                            .split(' ')
                            .map(|w| capitalize(&w.to_lowercase()))
                            .collect::<Vec<_>>()
                            .join(" "),
                    ),
                    (1, _) => outlet_boilerplate(rng, outlet),
                    _ => rng
                        .pick(GENERIC_BOILERPLATE)
                        .copied()
                        .unwrap_or("")
                        .to_owned(),
                }
            });
            if let Some(t) = pick {
                out.push(t);
            }
        }
        out
    }

    fn build_doc(
        &mut self,
        index: usize,
        role: Role,
        groups: &mut [Group],
        pairs: &mut Vec<TruthPair>,
    ) -> GenDoc {
        let cfg = self.cfg.clone();
        let mut rng = Rng::derive(cfg.seed, TAG_DOC, index as u64);
        let outlet = rng.below(OUTLETS.len());
        let mut used = Vec::new();
        let draft = match role {
            Role::Original(g) => {
                let group = &groups[g];
                let head = self.head_lines(&mut rng, Some(group), &mut used);
                let body = group
                    .story
                    .paras
                    .iter()
                    .enumerate()
                    .map(|(p, para)| {
                        let spec = LineSpec::whole(p, para.nsent());
                        Line {
                            role: LineRole::Body,
                            text: render_line(&group.story, &spec, Spelling::Keep, Quotes::Keep),
                            spec: Some(spec),
                            sub_rate: 0.0,
                        }
                    })
                    .collect();
                let boiler = self.boilerplate(
                    &mut rng,
                    cfg.boilerplate_prob / 2.0,
                    outlet,
                    Some(&group.caption),
                    &mut used,
                );
                Draft {
                    index,
                    kind: DocKind::Original,
                    story: group.story.input,
                    title: group.title.clone(),
                    outlet,
                    head,
                    body,
                    boiler,
                }
            }
            Role::Copy(g) => {
                let group = &mut groups[g];
                let mut head = self.head_lines(&mut rng, Some(group), &mut used);
                if rng.chance(cfg.new_lead_prob) {
                    let nsent = 1 + rng.below(2);
                    let mut sents = Vec::new();
                    self.synth
                        .fill(&self.stories, &mut rng, &mut group.text, nsent, &mut sents);
                    if !sents.is_empty() {
                        head.push(Line::extra(LineRole::Lead, sents.join(" ")));
                    }
                }
                let story = &group.story;
                let spelling = if rng.chance(cfg.spelling_prob) {
                    if rng.chance(0.5) {
                        Spelling::Us
                    } else {
                        Spelling::Uk
                    }
                } else {
                    Spelling::Keep
                };
                let quotes = if rng.chance(cfg.quote_prob) {
                    let curly = story.paras.iter().any(|p| {
                        p.toks
                            .iter()
                            .any(|t| t.contains(['“', '”', '’'].as_slice()))
                    });
                    if curly {
                        Quotes::Straight
                    } else {
                        Quotes::Curly
                    }
                } else {
                    Quotes::Keep
                };
                let body = copy_body(story, &cfg, &mut rng)
                    .into_iter()
                    .map(|spec| Line {
                        role: LineRole::Body,
                        text: render_line(story, &spec, spelling, quotes),
                        sub_rate: spec.sub_rate(story),
                        spec: Some(spec),
                    })
                    .collect();
                let boiler = self.boilerplate(
                    &mut rng,
                    cfg.boilerplate_prob,
                    outlet,
                    Some(&group.caption),
                    &mut used,
                );
                Draft {
                    index,
                    kind: DocKind::Copy {
                        original: group.orig_doc,
                    },
                    story: story.input,
                    title: group.title.clone(),
                    outlet,
                    head,
                    body,
                    boiler,
                }
            }
            Role::Negative(g) => {
                let group = &mut groups[g];
                let real = self
                    .pool
                    .take_negative(&mut rng, &self.stories, &group.story);
                let story = match real.and_then(|i| self.stories.get(i)) {
                    Some(s) => s.clone(),
                    None => {
                        let mut r = Rng::derive(cfg.seed, TAG_NEG, index as u64);
                        let nsent: usize = group.story.paras.iter().map(SrcPara::nsent).sum();
                        let want = (nsent.clamp(4, 16) + r.below(5)).saturating_sub(2);
                        let spare = mix2(mix2(cfg.seed, TAG_LEX), !(index as u64));
                        self.synth
                            .negative(&self.stories, &mut r, &mut group.text, want, spare)
                    }
                };
                let head = self.head_lines(&mut rng, None, &mut used);
                let body = story
                    .paras
                    .iter()
                    .map(|para| Line {
                        role: LineRole::Body,
                        text: para.toks.join(" "),
                        spec: None,
                        sub_rate: 0.0,
                    })
                    .collect();
                let boiler =
                    self.boilerplate(&mut rng, cfg.boilerplate_prob, outlet, None, &mut used);
                Draft {
                    index,
                    kind: DocKind::HardNegative {
                        near: group.orig_doc,
                    },
                    story: story.input,
                    title: story.title(),
                    outlet,
                    head,
                    body,
                    boiler,
                }
            }
        };
        let group_lines = match role {
            Role::Original(g) | Role::Copy(g) => groups.get_mut(g).map(|gr| &mut gr.lines),
            Role::Negative(_) => None,
        };
        self.finish(draft, &mut rng, group_lines, pairs)
    }

    fn finish(
        &mut self,
        d: Draft,
        rng: &mut Rng,
        mut group_lines: Option<&mut Vec<BodyLine>>,
        pairs: &mut Vec<TruthPair>,
    ) -> GenDoc {
        let mut body = d.body;
        if body.is_empty() {
            // Cannot happen for non-empty stories; keep every document non-empty anyway.
            body.push(Line::extra(
                LineRole::Lead,
                format!("Document {} has no story text.", d.index),
            ));
        }
        for text in d.boiler {
            let pos = (1 + rng.below(body.len())).min(body.len());
            body.insert(pos, Line::extra(LineRole::Boilerplate, text));
        }
        let title = if d.title.is_empty() {
            // A story without usable text: title from the placeholder line.
            body.iter()
                .find(|l| l.role != LineRole::Boilerplate)
                .map(|l| l.text.trim_end_matches('.').to_owned())
                .unwrap_or_default()
        } else {
            d.title
        };
        let mut paragraphs = Vec::new();
        let mut lines = Vec::new();
        for (i, line) in d.head.into_iter().chain(body).enumerate() {
            let no = i + 1;
            if matches!(
                line.role,
                LineRole::Dateline | LineRole::Byline | LineRole::Boilerplate
            ) {
                self.tracker.record(&line.text, d.index, no, pairs);
            }
            let sources = line
                .spec
                .as_ref()
                .map(|s| s.segs.iter().map(|g| g.para).collect())
                .unwrap_or_default();
            if let (Some(spec), Some(gl)) = (line.spec, group_lines.as_deref_mut()) {
                gl.push(BodyLine {
                    doc: d.index,
                    line: no,
                    spec,
                });
            }
            paragraphs.push(line.text);
            lines.push(LineInfo {
                role: line.role,
                sub_rate: line.sub_rate,
                sources,
            });
        }
        let (outlet, domain) = OUTLETS.get(d.outlet).copied().unwrap_or(("", "example"));
        let secs = (d.index as u64)
            .saturating_mul(SECS_PER_DOC)
            .saturating_add(BASE_TIME + rng.below(SECS_PER_DOC as usize) as u64);
        let published = rfc3339(secs);
        let slug: Vec<String> = title
            .split_whitespace()
            .map(|w| {
                w.chars()
                    .filter(|c| c.is_alphanumeric())
                    .flat_map(char::to_lowercase)
                    .collect::<String>()
            })
            .filter(|w| !w.is_empty())
            .take(8)
            .collect();
        let name = doc_name(d.index, self.width);
        let id = name.trim_end_matches(".txt");
        let section = rng.pick(SECTIONS).copied().unwrap_or("news");
        let url = format!(
            "https://www.{domain}/{section}/{}/{}-{id}",
            published.get(..7).unwrap_or("2024-01").replace('-', "/"),
            slug.join("-")
        );
        GenDoc {
            name,
            paragraphs,
            index: d.index,
            kind: d.kind,
            story: d.story,
            outlet: outlet.to_owned(),
            title,
            url,
            published,
            lines,
        }
    }

    fn build_block(&mut self, bi: usize) -> Generated {
        let plan = self.plan[bi];
        let seed = self.cfg.seed;
        let mut rng = Rng::derive(seed, TAG_BLOCK, bi as u64);
        let max = self.cfg.max_copies;
        let mut copies = vec![0usize; plan.orig];
        let mut extra_neg = 0;
        let mut eligible: Vec<usize> = if max > 0 {
            (0..plan.orig).collect()
        } else {
            Vec::new()
        };
        for _ in 0..plan.copy {
            if eligible.is_empty() {
                extra_neg += 1;
                continue;
            }
            let i = rng.below(eligible.len());
            let g = eligible[i];
            copies[g] += 1;
            if copies[g] >= max {
                eligible.swap_remove(i);
            }
        }
        #[derive(Clone, Copy)]
        enum Slot {
            Member(usize),
            Neg(usize),
        }
        let mut slots = Vec::with_capacity(plan.orig + plan.copy + plan.neg);
        for (g, &c) in copies.iter().enumerate() {
            for _ in 0..=c {
                slots.push(Slot::Member(g));
            }
        }
        let mut negatives = vec![0usize; plan.orig];
        for _ in 0..plan.neg + extra_neg {
            let g = rng.below(plan.orig);
            negatives[g] += 1;
            slots.push(Slot::Neg(g));
        }
        rng.shuffle(&mut slots);
        let mut orig_doc = vec![usize::MAX; plan.orig];
        let roles: Vec<Role> = slots
            .iter()
            .enumerate()
            .map(|(i, slot)| match *slot {
                Slot::Member(g) if orig_doc[g] == usize::MAX => {
                    orig_doc[g] = plan.start + i;
                    Role::Original(g)
                }
                Slot::Member(g) => Role::Copy(g),
                Slot::Neg(g) => Role::Negative(g),
            })
            .collect();
        let mut groups = Vec::with_capacity(plan.orig);
        for (g, &doc) in orig_doc.iter().enumerate() {
            let real = self.pool.take_original(&mut rng);
            let group = self.make_group(real, doc, negatives[g]);
            groups.push(group);
        }
        let mut truth = Vec::new();
        let mut docs = Vec::with_capacity(roles.len());
        for (i, &role) in roles.iter().enumerate() {
            docs.push(self.build_doc(plan.start + i, role, &mut groups, &mut truth));
        }
        for g in &groups {
            group_pairs(&g.story, &g.lines, self.cfg.min_dup_words, &mut truth);
        }
        truth.sort_unstable();
        Generated {
            docs,
            truth,
            name_width: self.width,
        }
    }
}

impl Iterator for Generator {
    type Item = Generated;

    fn next(&mut self) -> Option<Generated> {
        if self.next >= self.plan.len() {
            return None;
        }
        let block = self.build_block(self.next);
        self.next += 1;
        Some(block)
    }
}

/// Generates the whole corpus in memory (see [`Generator`] / [`write_corpus`] for streaming).
pub fn generate(stories: &[Story], cfg: &GenConfig) -> Generated {
    let gen = Generator::new(stories, cfg);
    let mut out = Generated {
        name_width: gen.name_width(),
        ..Generated::default()
    };
    for block in gen {
        out.docs.extend(block.docs);
        out.truth.extend(block.truth);
    }
    out
}

fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

/// Writes the comment header of `truth.tsv` (format and label meanings).
pub fn write_truth_header<W: Write>(w: &mut W) -> io::Result<()> {
    w.write_all(
        b"# Duplicate paragraph pairs of a corpus written by syndup::generate (synthetic syndication).\n\
# Each data line: docs/<file_a>:<line_a> TAB docs/<file_b>:<line_b> TAB label; lines are 1-based\n\
# line numbers of the files (one paragraph per line), paths relative to this file's directory.\n\
# labels a detector should flag: exact (same text modulo quotes/spelling), sub00-10, sub10-20,\n\
#   sub20-30 (share of shared words changed by synonyms), merged, split, trimmed.\n\
# optional: loose (same source, heavily edited or short), boilerplate (identical dateline,\n\
#   byline or boilerplate lines).\n\
# Every pair of lines not listed here is NOT a duplicate.\n",
    )
}

impl Generated {
    /// Writes `dir/docs/<name>` (one paragraph per line, `\n` endings) and `dir/truth.tsv`.
    pub fn write_to(&self, dir: &Path) -> io::Result<()> {
        let docs_dir = dir.join("docs");
        fs::create_dir_all(&docs_dir)?;
        self.write_docs(&docs_dir)?;
        let mut w = BufWriter::new(fs::File::create(dir.join("truth.tsv"))?);
        write_truth_header(&mut w)?;
        self.write_truth_lines(&mut w)?;
        w.flush()
    }

    /// Writes each document to `docs_dir/<name>`, one paragraph per line.
    pub fn write_docs(&self, docs_dir: &Path) -> io::Result<()> {
        let mut buf = String::new();
        for doc in &self.docs {
            buf.clear();
            for p in &doc.paragraphs {
                buf.push_str(p);
                buf.push('\n');
            }
            fs::write(docs_dir.join(&doc.name), buf.as_bytes())?;
        }
        Ok(())
    }

    /// Writes the truth pairs as `truth.tsv` data lines (no header).
    pub fn write_truth_lines<W: Write>(&self, w: &mut W) -> io::Result<()> {
        let width = self.name_width;
        for p in &self.truth {
            writeln!(
                w,
                "docs/{}:{}\tdocs/{}:{}\t{}",
                doc_name(p.doc_a, width),
                p.line_a,
                doc_name(p.doc_b, width),
                p.line_b,
                p.label
            )?;
        }
        Ok(())
    }

    /// Writes all docs as JSON Lines, one object per doc: `{"id","url","published","title","text"}`
    /// with the paragraphs joined by `"\n\n"`.
    pub fn write_jsonl<W: Write>(&self, w: W) -> io::Result<()> {
        #[derive(Serialize)]
        struct JsonDoc<'a> {
            id: &'a str,
            url: &'a str,
            published: &'a str,
            title: &'a str,
            text: String,
        }
        let mut w = BufWriter::new(w);
        for doc in &self.docs {
            let obj = JsonDoc {
                id: doc.name.trim_end_matches(".txt"),
                url: &doc.url,
                published: &doc.published,
                title: &doc.title,
                text: doc.paragraphs.join("\n\n"),
            };
            serde_json::to_writer(&mut w, &obj)?;
            w.write_all(b"\n")?;
        }
        w.flush()
    }
}

/// Generates and writes a corpus block by block (memory stays bounded by one block):
/// `dir/docs/<name>` files and `dir/truth.tsv`. Gives the same files as
/// `generate(stories, cfg).write_to(dir)`.
pub fn write_corpus(stories: &[Story], cfg: &GenConfig, dir: &Path) -> io::Result<CorpusSummary> {
    let docs_dir = dir.join("docs");
    fs::create_dir_all(&docs_dir)?;
    let mut truth = BufWriter::new(fs::File::create(dir.join("truth.tsv"))?);
    write_truth_header(&mut truth)?;
    let mut sum = CorpusSummary::default();
    for block in Generator::new(stories, cfg) {
        block.write_docs(&docs_dir)?;
        block.write_truth_lines(&mut truth)?;
        sum.docs += block.docs.len();
        sum.pairs += block.truth.len();
    }
    truth.flush()?;
    Ok(sum)
}

/// Generates a corpus block by block and writes its documents as JSON Lines
/// (see [`Generated::write_jsonl`]); the truth pairs are only counted.
pub fn write_corpus_jsonl<W: Write>(
    stories: &[Story],
    cfg: &GenConfig,
    w: W,
) -> io::Result<CorpusSummary> {
    let mut w = BufWriter::new(w);
    let mut sum = CorpusSummary::default();
    for block in Generator::new(stories, cfg) {
        block.write_jsonl(&mut w)?;
        sum.docs += block.docs.len();
        sum.pairs += block.truth.len();
    }
    w.flush()?;
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Invented news-like stories, one paragraph per entry.
    const STORIES: &[&[&str]] = &[
        &[
            "Heavy rain has forced hundreds of residents to leave their homes in the river town of Marlow Creek. Emergency crews spent the night moving families to higher ground.",
            "The local council said the river peaked at nine metres early on Tuesday, the highest level recorded since the great flood of 1974.",
            "\"We have never seen water move this quickly,\" said deputy mayor Helen Park. \"People lost everything in a matter of hours.\"",
            "Police closed the main bridge into town after part of the road collapsed. Officials warned drivers to avoid the area until engineers can inspect the damage.",
            "The weather bureau expects further storms later in the week. Farmers in the valley fear the rain will destroy this season's crops.",
            "The state government announced an emergency payment for families who lost their homes. The minister said the money would be available from Thursday.",
            "Volunteers have organised a relief centre at the local school, where children and elderly residents were given food, blankets and dry clothes.",
        ],
        &[
            "A former bank manager has been jailed for six years for stealing more than two million dollars from elderly customers over a decade.",
            "The court heard the woman moved money from dormant accounts into a company she controlled. She used the funds to buy a holiday house and two luxury cars.",
            "Judge Marcus Reid said the crimes were a serious breach of trust. \"Many of the victims believed their savings were safe,\" he said.",
            "The bank has apologised to its customers and said it had repaid every affected account in full. It has also changed its internal audit rules.",
            "Lawyers for the woman argued she had a gambling problem and had shown genuine remorse. She will be eligible for parole in four years.",
        ],
        &[
            "The national team secured a dramatic victory on Saturday night, scoring twice in the final ten minutes to win the match three goals to two.",
            "The coach praised the players for their fighting spirit. \"Nobody gave up, even when we were behind,\" she told reporters after the game.",
            "Striker Tom Ellis, who came off the bench in the second half, scored the winning goal with a powerful header from a corner.",
            "The win lifts the team to second place in the group with two matches remaining. A draw in the next game would be enough to qualify.",
            "More than forty thousand fans packed the stadium despite the cold weather, and thousands more watched on big screens in the city centre.",
            "Officials said the crowd was well behaved and police made only three arrests during the evening.",
        ],
        &[
            "Unemployment fell to its lowest level in eight years last month as companies hired more workers in construction, health care and retail.",
            "The statistics bureau said about thirty thousand new jobs were created, well above what economists had expected.",
            "The treasurer welcomed the figures but warned that rising prices were still putting pressure on household budgets. \"There is more work to do,\" he said.",
            "Business groups said many employers were still struggling to find skilled staff. Some firms have raised wages to attract workers from rival companies.",
            "The central bank will meet next week to decide whether to change interest rates. Most analysts expect rates to remain on hold until the new year.",
        ],
        &[
            "Doctors at the city hospital have performed the country's first heart transplant using a new method that keeps the donor organ beating outside the body.",
            "The surgery took eleven hours and involved a team of more than twenty specialists. The patient, a fifty-two year old teacher, is recovering well.",
            "Lead surgeon Priya Shah said the technique could allow organs to be transported over much longer distances. \"It gives us time we never had before,\" she said.",
            "Health authorities said waiting lists for transplants remain long, with hundreds of patients waiting for a suitable donor.",
            "The hospital plans to use the method in up to ten more operations this year, subject to approval from the ethics committee.",
        ],
        &[
            "Firefighters are battling a large bushfire in the hills west of the capital after strong winds pushed the blaze towards several small communities.",
            "Residents of three villages were told to leave immediately as the fire jumped a containment line on Sunday afternoon.",
            "Water bombing aircraft have been working since dawn, but smoke and gusty conditions have made it difficult for crews to reach the fire front.",
            "At least four houses and a number of farm buildings have been destroyed. There are no reports of injuries.",
            "The fire service said cooler weather expected on Tuesday should help crews strengthen containment lines around the worst affected areas.",
            "An investigation into the cause of the fire has begun. Police are asking anyone who saw suspicious activity in the area to contact them.",
        ],
        &[
            "A technology company has announced plans to build a large data centre on the outskirts of the city, creating up to five hundred jobs during construction.",
            "The project is expected to cost about one billion dollars and will be powered partly by a new solar farm to be built on neighbouring land.",
            "Local leaders welcomed the investment, but some residents have raised concerns about the amount of water the centre will need for cooling.",
            "The company said it would use recycled water and publish regular reports on its energy and water use.",
            "Construction is due to begin early next year, with the first stage of the centre expected to open within two years.",
        ],
    ];

    fn stories() -> Vec<Story> {
        STORIES
            .iter()
            .map(|s| Story {
                paragraphs: s.iter().map(|p| (*p).to_owned()).collect(),
            })
            .collect()
    }

    fn cfg(docs: usize, seed: u64) -> GenConfig {
        GenConfig {
            docs,
            seed,
            block_docs: 40,
            ..GenConfig::default()
        }
    }

    /// Spelling to US and straight quotes: what "exact" ignores.
    fn normalize(s: &str) -> Vec<String> {
        to_straight(s)
            .split(' ')
            .map(|t| respell(t, Spelling::Us).into_owned())
            .collect()
    }

    fn truth_tsv(g: &Generated) -> String {
        let mut buf = Vec::new();
        g.write_truth_lines(&mut buf).unwrap_or_default();
        String::from_utf8(buf).unwrap_or_default()
    }

    #[test]
    fn deterministic() {
        let a = generate(&stories(), &cfg(120, 9));
        let b = generate(&stories(), &cfg(120, 9));
        assert_eq!(a.docs.len(), 120);
        assert_eq!(a, b);
        assert_eq!(truth_tsv(&a), truth_tsv(&b));
        let c = generate(&stories(), &cfg(120, 10));
        assert_ne!(a.docs, c.docs);
    }

    #[test]
    fn streaming_matches_in_memory() {
        let s = stories();
        let c = cfg(90, 3);
        let whole = generate(&s, &c);
        let mut docs = Vec::new();
        let mut truth = Vec::new();
        for block in Generator::new(&s, &c) {
            assert!(block.docs.len() <= c.block_docs);
            docs.extend(block.docs);
            truth.extend(block.truth);
        }
        assert_eq!(whole.docs, docs);
        assert_eq!(whole.truth, truth);
    }

    #[test]
    fn truth_references_existing_lines() {
        let g = generate(&stories(), &cfg(200, 1));
        assert!(!g.truth.is_empty());
        let mut seen = HashSet::new();
        for p in &g.truth {
            assert!((p.doc_a, p.line_a) < (p.doc_b, p.line_b), "{p:?}");
            assert!(
                seen.insert((p.doc_a, p.line_a, p.doc_b, p.line_b)),
                "dup {p:?}"
            );
            for (d, l) in [(p.doc_a, p.line_a), (p.doc_b, p.line_b)] {
                let doc = &g.docs[d];
                assert_eq!(doc.index, d);
                assert!(l >= 1 && l <= doc.paragraphs.len(), "{p:?}");
            }
            assert!(LABELS.contains(&p.label.as_str()));
            if p.label == "boilerplate" {
                assert_eq!(
                    g.docs[p.doc_a].paragraphs[p.line_a - 1],
                    g.docs[p.doc_b].paragraphs[p.line_b - 1]
                );
            }
        }
    }

    #[test]
    fn every_copy_has_truth_with_its_original() {
        let g = generate(&stories(), &cfg(300, 2));
        let mut copies = 0;
        for doc in &g.docs {
            if let DocKind::Copy { original } = doc.kind {
                copies += 1;
                assert_eq!(g.docs[original].kind, DocKind::Original);
                assert!(original < doc.index, "original is published first");
                let (a, b) = (original.min(doc.index), original.max(doc.index));
                assert!(
                    g.truth
                        .iter()
                        .any(|p| p.doc_a == a && p.doc_b == b && p.label != "boilerplate"),
                    "copy {} has no pair with original {original}",
                    doc.index
                );
            }
        }
        assert!(copies > 100);
    }

    #[test]
    fn copies_per_original_are_capped() {
        let c = GenConfig {
            max_copies: 3,
            copy_share: 0.9,
            negative_share: 0.0,
            ..cfg(200, 4)
        };
        let g = generate(&stories(), &c);
        let mut per: BTreeMap<usize, usize> = BTreeMap::new();
        for doc in &g.docs {
            if let DocKind::Copy { original } = doc.kind {
                *per.entry(original).or_default() += 1;
            }
        }
        assert!(per.values().all(|&n| n <= 3));
        assert_eq!(g.docs.len(), 200);
    }

    #[test]
    fn hard_negatives_share_nothing_with_their_story() {
        let g = generate(&stories(), &cfg(300, 5));
        let mut negatives = 0;
        for doc in &g.docs {
            let DocKind::HardNegative { near } = doc.kind else {
                continue;
            };
            negatives += 1;
            assert!(doc.lines.iter().all(|l| l.sources.is_empty()));
            for p in &g.truth {
                if p.doc_a == doc.index || p.doc_b == doc.index {
                    assert_eq!(p.label, "boilerplate", "{p:?}");
                }
            }
            let original = &g.docs[near];
            for (text, info) in doc.paragraphs.iter().zip(&doc.lines) {
                if info.role == LineRole::Body {
                    assert!(!original.paragraphs.contains(text), "{text}");
                }
            }
        }
        assert!(negatives > 20);
    }

    #[test]
    fn no_line_breaks_in_paragraphs() {
        let mut s = stories();
        s[0].paragraphs[1] = "A paragraph\r\nwith a line break\nand\ttabs.\u{2028}Next.".to_owned();
        s.push(Story {
            paragraphs: vec!["   ".to_owned(), String::new()],
        });
        let g = generate(&s, &cfg(150, 6));
        for doc in &g.docs {
            assert!(!doc.paragraphs.is_empty());
            assert_eq!(doc.paragraphs.len(), doc.lines.len());
            for p in &doc.paragraphs {
                assert!(!p.is_empty());
                assert!(!p.contains(['\n', '\r', '\u{2028}', '\u{2029}']), "{p:?}");
            }
        }
    }

    /// For pairs between an original and a copy with the same sentences, the texts differ in
    /// exactly the substituted words (after undoing spelling and quote changes).
    #[test]
    fn substitution_changes_text_at_reported_rate() {
        let c = GenConfig {
            sub_weights: [0.1, 0.3, 0.3, 0.3],
            merge_prob: 0.0,
            split_prob: 0.0,
            ..cfg(400, 7)
        };
        let g = generate(&stories(), &c);
        let mut checked = BTreeMap::new();
        for p in &g.truth {
            let (da, db) = (&g.docs[p.doc_a], &g.docs[p.doc_b]);
            let (orig, copy, lo, lc) = match (da.kind, db.kind) {
                (DocKind::Original, DocKind::Copy { .. }) => (da, db, p.line_a, p.line_b),
                (DocKind::Copy { .. }, DocKind::Original) => (db, da, p.line_b, p.line_a),
                _ => continue,
            };
            if !matches!(
                p.label.as_str(),
                "exact" | "sub00-10" | "sub10-20" | "sub20-30"
            ) {
                continue;
            }
            let a = normalize(&orig.paragraphs[lo - 1]);
            let b = normalize(&copy.paragraphs[lc - 1]);
            assert_eq!(a.len(), b.len(), "{a:?} / {b:?}");
            let diff = a.iter().zip(&b).filter(|(x, y)| x != y).count();
            let rate = diff as f64 / a.len() as f64;
            let reported = copy.lines[lc - 1].sub_rate;
            assert!(
                (rate - reported).abs() < 1e-9,
                "{rate} vs {reported}: {a:?} / {b:?}"
            );
            let (lo_b, hi_b) = match p.label.as_str() {
                "exact" => (0.0, 0.0),
                "sub00-10" => (1e-9, 0.1),
                "sub10-20" => (0.1, 0.2),
                _ => (0.2, 0.3),
            };
            assert!(rate >= lo_b && rate <= hi_b + 1e-9, "{} at {rate}", p.label);
            *checked.entry(p.label.clone()).or_insert(0) += 1;
        }
        for label in ["exact", "sub00-10", "sub10-20", "sub20-30"] {
            assert!(checked.get(label).copied().unwrap_or(0) > 0, "{checked:?}");
        }
    }

    #[test]
    fn chosen_substitutions_hit_the_target_rate() {
        let text = "Police said officials warned residents that the large fire could destroy many homes and cars in the area, and experts said the damage was serious.";
        let para = SrcPara::from_text(text).unwrap_or_else(|| SrcPara {
            toks: Vec::new(),
            starts: Vec::new(),
        });
        let sents: Vec<usize> = (0..para.nsent()).collect();
        let n = para.toks.len() as f64;
        for (i, rate) in [0.05, 0.15, 0.25].into_iter().enumerate() {
            let mut rng = Rng::new(i as u64);
            let subs = choose_subs(&para, &sents, rate, &mut rng);
            let actual = subs.len() as f64 / n;
            assert!(
                (actual - rate).abs() <= 0.5 / n + 1e-9,
                "{rate} -> {actual}"
            );
            let spec = LineSpec {
                segs: vec![Seg {
                    para: 0,
                    sents: sents.clone(),
                    subs,
                }],
                split: false,
            };
            let story = SrcStory {
                paras: vec![para.clone()],
                input: None,
            };
            let out = render_line(&story, &spec, Spelling::Keep, Quotes::Keep);
            let changed = out
                .split(' ')
                .zip(&para.toks)
                .filter(|(a, b)| a != b)
                .count();
            assert!((changed as f64 / n - actual).abs() < 1e-9);
            assert!((spec.sub_rate(&story) - actual).abs() < 1e-9);
        }
    }

    #[test]
    fn exact_pairs_are_identical_modulo_quotes_and_spelling() {
        let g = generate(&stories(), &cfg(300, 8));
        let mut n = 0;
        for p in g.truth.iter().filter(|p| p.label == "exact") {
            let a = &g.docs[p.doc_a].paragraphs[p.line_a - 1];
            let b = &g.docs[p.doc_b].paragraphs[p.line_b - 1];
            assert_eq!(normalize(a), normalize(b));
            n += 1;
        }
        assert!(n > 50);
    }

    #[test]
    fn all_edit_labels_occur() {
        let c = GenConfig {
            merge_prob: 0.15,
            split_prob: 0.15,
            trim_prob: 0.3,
            ..cfg(600, 11)
        };
        let g = generate(&stories(), &c);
        let labels: BTreeSet<&str> = g.truth.iter().map(|p| p.label.as_str()).collect();
        for l in LABELS {
            assert!(labels.contains(l), "missing {l}: {labels:?}");
        }
        for p in g.truth.iter().filter(|p| p.label == "merged") {
            let la = &g.docs[p.doc_a].lines[p.line_a - 1];
            let lb = &g.docs[p.doc_b].lines[p.line_b - 1];
            assert!(la.sources.len() == 2 || lb.sources.len() == 2);
            assert!(la.sources.iter().any(|s| lb.sources.contains(s)));
        }
    }

    #[test]
    fn write_to_and_jsonl() {
        let g = generate(&stories(), &cfg(60, 12));
        let dir = std::env::temp_dir().join(format!("syndup-gen-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        assert!(g.write_to(&dir).is_ok());
        let truth = fs::read_to_string(dir.join("truth.tsv")).unwrap_or_default();
        let mut data = 0;
        for line in truth.lines().filter(|l| !l.starts_with('#')) {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 3, "{line}");
            for c in &cols[..2] {
                let (path, no) = c.rsplit_once(':').unwrap_or(("", "0"));
                let no: usize = no.parse().unwrap_or(0);
                let text = fs::read_to_string(dir.join(path)).unwrap_or_default();
                assert!(no >= 1 && no <= text.lines().count(), "{c}");
                assert!(!text.contains("\n\n") && text.ends_with('\n'));
            }
            data += 1;
        }
        assert_eq!(data, g.truth.len());
        let names: Vec<String> = g.docs.iter().map(|d| d.name.clone()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(names[0], "d000000.txt");

        let summary = write_corpus(&stories(), &cfg(60, 12), &dir.join("streamed"));
        assert_eq!(summary.map(|s| s.docs).unwrap_or(0), 60);
        assert_eq!(
            fs::read(dir.join("truth.tsv")).unwrap_or_default(),
            fs::read(dir.join("streamed/truth.tsv")).unwrap_or_default()
        );
        let _ = fs::remove_dir_all(&dir);

        let mut buf = Vec::new();
        assert!(g.write_jsonl(&mut buf).is_ok());
        let text = String::from_utf8(buf).unwrap_or_default();
        assert_eq!(text.lines().count(), 60);
        for (line, doc) in text.lines().zip(&g.docs) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            assert_eq!(v["id"], doc.name.trim_end_matches(".txt"));
            assert_eq!(v["text"], doc.paragraphs.join("\n\n"));
            for k in ["url", "published", "title"] {
                assert!(v[k].as_str().is_some_and(|s| !s.is_empty()), "{k}");
            }
        }
    }

    #[test]
    fn parsers() {
        let line = "Mr. Smith arrived at 9 a.m. on Monday. He said the U.S. team was ready! \"We will win,\" he added. Crowds cheered. The match starts at 3pm. Tickets sold out.\n\n   \nSecond story here. It is short.\n";
        let s = stories_from_lines(line);
        assert_eq!(s.len(), 2);
        let first = &s[0].paragraphs;
        assert!(first[0].starts_with("Mr. Smith arrived at 9 a.m. on Monday."));
        let rejoined = first.join(" ");
        assert_eq!(
            rejoined,
            clean_text(line.lines().next().unwrap_or_default())
        );
        for p in first {
            let n = sentence_starts(&p.split(' ').map(str::to_owned).collect::<Vec<_>>()).len();
            assert!((1..=3).contains(&n), "{p}");
        }
        let toks: Vec<String> = line
            .split_whitespace()
            .take(22)
            .map(str::to_owned)
            .collect();
        assert_eq!(sentence_starts(&toks).len(), 4);

        let blocks = stories_from_blocks("One.\nTwo  words.\r\n\r\n\n  Three.\n");
        assert_eq!(
            blocks,
            vec![
                Story {
                    paragraphs: vec!["One.".into(), "Two words.".into()]
                },
                Story {
                    paragraphs: vec!["Three.".into()]
                },
            ]
        );
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        assert!(generate(&[], &cfg(10, 1)).docs.is_empty());
        let one = vec![Story {
            paragraphs: vec!["Short.".into()],
        }];
        let weird = GenConfig {
            docs: 25,
            copy_share: f64::NAN,
            negative_share: 3.0,
            max_copies: 0,
            sub_weights: [-1.0, f64::INFINITY, 0.0, 0.0],
            boilerplate_cap: 0,
            block_docs: 0,
            common_words: 0,
            ..GenConfig::default()
        };
        let g = generate(&one, &weird);
        assert_eq!(g.docs.len(), 25);
        let g = generate(
            &stories(),
            &GenConfig {
                docs: 1,
                ..GenConfig::default()
            },
        );
        assert_eq!(g.docs.len(), 1);
        assert_eq!(g.docs[0].kind, DocKind::Original);
    }

    #[test]
    fn word_tables_are_consistent() {
        let mut keys = HashSet::new();
        for &(a, b) in SYNONYMS {
            assert!(keys.insert(a), "duplicate synonym key {a}");
            assert_ne!(normalize(a), normalize(b), "{a} -> {b}");
            assert!(!b.contains(' '));
        }
        let mut uk = HashSet::new();
        for &(a, b, _) in SPELLINGS {
            assert!(uk.insert(a), "duplicate spelling {a}");
            assert_ne!(a, b);
        }
        assert_eq!(synonym_token("Police", true).as_deref(), Some("Officers"));
        assert_eq!(synonym_token("Police", false), None);
        assert_eq!(synonym_token("said,", false).as_deref(), Some("stated,"));
        assert_eq!(respell("Organised.", Spelling::Us), "Organized.");
        assert_eq!(respell("color", Spelling::Uk), "colour");
        assert_eq!(
            to_curly("\"It's here,\" she said."),
            "“It’s here,” she said."
        );
        assert_eq!(
            rfc3339(BASE_TIME + 86_400 * 60 + 3_661),
            "2024-03-01T01:01:01Z"
        );
    }

    #[test]
    fn boilerplate_is_bounded() {
        let c = GenConfig {
            boilerplate_prob: 1.0,
            dateline_prob: 1.0,
            byline_prob: 1.0,
            boilerplate_cap: 4,
            ..cfg(400, 13)
        };
        let g = generate(&stories(), &c);
        let mut uses: HashMap<&str, usize> = HashMap::new();
        for doc in &g.docs {
            for (t, l) in doc.paragraphs.iter().zip(&doc.lines) {
                if matches!(
                    l.role,
                    LineRole::Boilerplate | LineRole::Dateline | LineRole::Byline
                ) {
                    *uses.entry(t.as_str()).or_default() += 1;
                }
            }
        }
        assert!(uses.values().all(|&n| n <= 4));
        let expected: usize = uses.values().map(|&n| n * (n - 1) / 2).sum();
        let got = g.truth.iter().filter(|p| p.label == "boilerplate").count();
        assert_eq!(expected, got);
    }

    /// Lowercase letter runs of a line that are words of their own (not the `s` of `'s`).
    fn words_of(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for tok in text.split_whitespace() {
            for_pieces(tok, |kind, w, clitic| {
                if kind == Piece::Letters && !clitic {
                    out.push(w.to_lowercase());
                }
            });
        }
        out
    }

    /// Sentences of a line, each as its lowercase letters and digits.
    fn sentences_of(text: &str) -> Vec<String> {
        let toks: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        let starts = sentence_starts(&toks);
        (0..starts.len())
            .map(|k| {
                let hi = starts.get(k + 1).copied().unwrap_or(toks.len());
                toks[starts[k]..hi]
                    .iter()
                    .flat_map(|t| t.chars())
                    .filter(|c| c.is_alphanumeric() || c.is_whitespace())
                    .flat_map(char::to_lowercase)
                    .collect::<String>()
            })
            .collect()
    }

    /// The group a document's text belongs to: its original's index, or the one it is near.
    fn group_of(doc: &GenDoc) -> usize {
        match doc.kind {
            DocKind::Original => doc.index,
            DocKind::Copy { original } => original,
            DocKind::HardNegative { near } => near,
        }
    }

    #[test]
    fn vocabulary_keeps_frequent_words_and_table_words_but_not_names() {
        let src = load_stories(&stories());
        let v = Vocab::build(&src, 1500);
        let has = |w: &str| v.common.contains(&core_hash(w));
        for w in ["the", "said", "police", "organised", "colour"] {
            assert!(has(w), "{w}");
        }
        assert!(v.protected.contains(&core_hash("the")));
        assert!(!v.protected.contains(&core_hash("organised")));
        for name in ["marlow", "helen", "ellis", "priya"] {
            assert!(!has(name), "{name}");
            assert!(v.all.contains(&core_hash(name)));
        }
        let small = Vocab::build(&src, 5);
        assert!(small.common.len() < v.common.len());
        assert!(small.common.contains(&core_hash("police")));
    }

    #[test]
    fn pseudo_words_and_numbers_keep_their_shape() {
        let src = load_stories(&stories());
        let mut synth = Synth::new(&src, &cfg(100, 1));
        let mut lex = Lexicon::new(7, FastSet::default());
        let mut sub = |kind: Piece, text: &str| {
            let key = match kind {
                Piece::Digits => digits_key(text),
                _ => core_hash(text),
            };
            synth.substitute(&mut lex, kind, text, key)
        };
        let name = sub(Piece::Letters, "Marlow");
        assert!(name.starts_with(char::is_uppercase), "{name}");
        assert!(
            name.chars().skip(1).all(|c| c.is_ascii_lowercase()),
            "{name}"
        );
        assert!((4..=16).contains(&name.len()), "{name}");
        assert_eq!(sub(Piece::Letters, "marlow"), name.to_lowercase());
        assert_eq!(sub(Piece::Letters, "MARLOW"), name.to_uppercase());
        assert_ne!(sub(Piece::Letters, "Helen"), name);
        let acronym = sub(Piece::Letters, "ABC");
        assert!(acronym.len() == 3 && acronym.chars().all(|c| c.is_ascii_uppercase()));
        assert!(sub(Piece::Letters, "flooding").ends_with("ing"));
        let year = sub(Piece::Digits, "1974");
        assert!(
            year.len() == 4 && year.starts_with("19") && year != "1974",
            "{year}"
        );
        let n = sub(Piece::Digits, "250");
        assert!(n.len() == 3 && !n.starts_with('0') && n != "250", "{n}");
        assert!(n.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(sub(Piece::Digits, "250"), n);
        let z = sub(Piece::Digits, "000");
        assert!(z.len() == 3 && z.starts_with('0'), "{z}");
    }

    /// Every usable sentence, rendered by two lexicons: at least MIN_FRESH of its words differ
    /// from the source and between the two renderings, and every new word is a pseudo-word.
    #[test]
    fn renderings_of_one_sentence_differ_enough() {
        let src = load_stories(&stories());
        let mut synth = Synth::new(&src, &cfg(100, 1));
        let n = synth.catalog.refs.len();
        assert!(n >= 10, "{n} usable sentences");
        let new_group =
            |seed| GroupText::new(Lexicon::new(seed, FastSet::default()), Vec::new(), None);
        let (mut a, mut b) = (new_group(1), new_group(2));
        let mut checked = 0;
        for id in 0..n as u32 {
            let r = synth.catalog.refs[id as usize];
            let para = &src[r.story as usize].paras[r.para as usize];
            let (lo, hi) = para.range(r.sent as usize);
            let source: Vec<String> = balance_quotes(&para.toks[lo..hi])
                .iter()
                .map(|t| t.to_string())
                .collect();
            let (Some(x), Some(y)) = (
                synth.render(&src, &mut a, id),
                synth.render(&src, &mut b, id),
            ) else {
                continue;
            };
            checked += 1;
            let x: Vec<&str> = x.split(' ').collect();
            let y: Vec<&str> = y.split(' ').collect();
            assert_eq!(x.len(), source.len());
            assert_eq!(y.len(), source.len());
            let words = source
                .iter()
                .filter(|t| t.chars().any(char::is_alphanumeric))
                .count();
            let differ = |p: &[&str], q: &[&str]| p.iter().zip(q).filter(|(s, t)| s != t).count();
            let src_refs: Vec<&str> = source.iter().map(String::as_str).collect();
            for (rendering, other) in [(&x, &src_refs), (&y, &src_refs), (&x, &y)] {
                let d = differ(rendering, other);
                assert!(
                    d as f64 >= MIN_FRESH * words as f64,
                    "{rendering:?} vs {other:?}"
                );
            }
            for w in words_of(&x.join(" ")) {
                let h = core_hash(&w);
                assert!(
                    synth.vocab.common.contains(&h) || !synth.vocab.all.contains(&h),
                    "{w}"
                );
            }
        }
        assert!(checked * 2 >= n, "{checked} of {n}");
        assert_eq!(synth.catalog.total_uses, 2 * checked as u64);
    }

    #[test]
    fn synthetic_stories_are_common_words_and_pseudo_words() {
        let s = stories();
        let c = cfg(300, 21);
        let g = generate(&s, &c);
        let vocab = Vocab::build(&load_stories(&s), c.common_words);
        let (mut real, mut pseudo) = (0, 0);
        for doc in g
            .docs
            .iter()
            .filter(|d| d.kind == DocKind::Original && d.story.is_none())
        {
            for (text, info) in doc.paragraphs.iter().zip(&doc.lines) {
                if info.role != LineRole::Body {
                    continue;
                }
                for w in words_of(text) {
                    let h = core_hash(&w);
                    if vocab.all.contains(&h) {
                        assert!(vocab.common.contains(&h), "{w} in {text}");
                        real += 1;
                    } else {
                        pseudo += 1;
                    }
                }
            }
        }
        assert!(
            real > 1000 && pseudo > 1000,
            "{real} common, {pseudo} pseudo-words"
        );
    }

    #[test]
    fn unrelated_synthetic_stories_share_no_pseudo_word() {
        let s = stories();
        let g = generate(&s, &cfg(400, 22));
        let vocab = Vocab::build(&load_stories(&s), GenConfig::default().common_words);
        let mut owner: HashMap<String, usize> = HashMap::new();
        let mut seen = 0;
        for doc in &g.docs {
            for (text, info) in doc.paragraphs.iter().zip(&doc.lines) {
                if !matches!(info.role, LineRole::Body | LineRole::Lead) {
                    continue;
                }
                for w in words_of(text) {
                    let h = core_hash(&w);
                    if w.chars().count() < 2 || vocab.all.contains(&h) || vocab.common.contains(&h)
                    {
                        continue;
                    }
                    seen += 1;
                    let group = *owner.entry(w.clone()).or_insert(group_of(doc));
                    assert_eq!(
                        group,
                        group_of(doc),
                        "{w} in groups {group} and {}",
                        group_of(doc)
                    );
                }
            }
        }
        assert!(seen > 1000 && owner.len() > 500, "{seen} {}", owner.len());
    }

    #[test]
    fn hard_negatives_share_pseudo_words_but_no_sentence() {
        let s = stories();
        let g = generate(&s, &cfg(400, 23));
        let vocab = Vocab::build(&load_stories(&s), GenConfig::default().common_words);
        let body = |doc: &GenDoc| -> Vec<String> {
            doc.paragraphs
                .iter()
                .zip(&doc.lines)
                .filter(|(_, l)| l.role == LineRole::Body)
                .map(|(t, _)| t.clone())
                .collect()
        };
        let (mut negatives, mut sharing) = (0, 0);
        for doc in &g.docs {
            let DocKind::HardNegative { near } = doc.kind else {
                continue;
            };
            if doc.story.is_some() || g.docs[near].story.is_some() {
                continue;
            }
            negatives += 1;
            let near_sents: HashSet<String> = body(&g.docs[near])
                .iter()
                .flat_map(|t| sentences_of(t))
                .collect();
            let pseudo = |lines: &[String]| -> HashSet<String> {
                lines
                    .iter()
                    .flat_map(|t| words_of(t))
                    .filter(|w| {
                        let h = core_hash(w);
                        w.len() >= 2 && !vocab.all.contains(&h) && !vocab.common.contains(&h)
                    })
                    .collect()
            };
            for sent in body(doc).iter().flat_map(|t| sentences_of(t)) {
                assert!(!near_sents.contains(&sent), "{sent}");
            }
            let shared = pseudo(&body(doc))
                .intersection(&pseudo(&body(&g.docs[near])))
                .count();
            if shared > 0 {
                sharing += 1;
            }
        }
        assert!(negatives > 20, "{negatives}");
        assert!(
            sharing * 2 > negatives,
            "{sharing} of {negatives} share a pseudo-word"
        );
    }
}
