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
//! Every input story is used at most once. When more source stories are needed than given, new
//! ones are synthesised by a word-level Markov chain trained on the input (biased towards the
//! topic's vocabulary and checked not to reproduce 5-word runs of the source). The same stories
//! and config always give byte-identical output. Use [`generate`] for an in-memory result, or
//! [`write_corpus`] / [`Generator`] to stream large corpora block by block
//! ([`GenConfig::block_docs`] documents at a time; a group never spans two blocks).
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
    /// Most input stories the Markov chain for synthetic text is trained on (default 2000).
    pub model_stories: usize,
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
            model_stories: 2000,
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

fn shingles_of(story: &SrcStory) -> FastSet<u64> {
    let mut set = FastSet::default();
    for para in &story.paras {
        let hs: Vec<u64> = para.toks.iter().map(|t| core_hash(t)).collect();
        for w in hs.windows(SHINGLE) {
            set.insert(shingle_hash(w));
        }
    }
    set
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
// Source stories and the Markov chain
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

/// Fixed-size blocked Bloom filter (two bits in one 64-bit word) of 5-word runs of
/// synthesised text.
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

struct Markov {
    words: Vec<String>,
    /// Each word as written in synthetic text: without quotes and brackets; empty when it has no
    /// letter or digit.
    clean: Vec<String>,
    hashes: Vec<u64>,
    ids: FastMap<String, u32>,
    terminal: Vec<bool>,
    next1: Vec<Vec<u32>>,
    /// Order-2 successors, kept only for contexts with at least two distinct successors.
    next2: FastMap<u64, Vec<u32>>,
    /// Order-3 successors, likewise.
    next3: FastMap<u64, Vec<u32>>,
    starts: Vec<u32>,
    shingles: FastSet<u64>,
}

fn pair_key(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

const TOPIC_BIAS: f64 = 0.75;

impl Markov {
    fn train(stories: &[SrcStory], cap: usize) -> Self {
        let mut m = Self {
            words: Vec::new(),
            clean: Vec::new(),
            hashes: Vec::new(),
            ids: FastMap::default(),
            terminal: Vec::new(),
            next1: Vec::new(),
            next2: FastMap::default(),
            next3: FastMap::default(),
            starts: Vec::new(),
            shingles: FastSet::default(),
        };
        if stories.is_empty() || cap == 0 {
            return m;
        }
        let step = stories.len().div_ceil(cap).max(1);
        for story in stories.iter().step_by(step) {
            let mut p3: Option<u32> = None;
            let mut p2: Option<u32> = None;
            let mut p1: Option<u32> = None;
            for para in &story.paras {
                let hs: Vec<u64> = para.toks.iter().map(|t| core_hash(t)).collect();
                for w in hs.windows(SHINGLE) {
                    m.shingles.insert(shingle_hash(w));
                }
                for (i, tok) in para.toks.iter().enumerate() {
                    let id = m.intern(tok);
                    let idx = id as usize;
                    if para.starts.binary_search(&i).is_ok() {
                        m.starts.push(id);
                    }
                    let sentence_end =
                        i + 1 == para.toks.len() || para.starts.binary_search(&(i + 1)).is_ok();
                    if sentence_end
                        && tok
                            .trim_end_matches(CLOSERS)
                            .ends_with(['.', '!', '?'].as_slice())
                    {
                        m.terminal[idx] = true;
                    }
                    if let Some(a) = p1 {
                        m.next1[a as usize].push(id);
                        if let Some(b) = p2 {
                            m.next2.entry(pair_key(b, a)).or_default().push(id);
                            if let Some(c) = p3 {
                                m.next3
                                    .entry(mix2(pair_key(c, b), u64::from(a)))
                                    .or_default()
                                    .push(id);
                            }
                        }
                    }
                    p3 = p2;
                    p2 = p1;
                    p1 = Some(id);
                }
            }
        }
        for map in [&mut m.next2, &mut m.next3] {
            map.retain(|_, v| v.first().is_some_and(|&f| v.iter().any(|&x| x != f)));
        }
        m
    }

    fn intern(&mut self, tok: &str) -> u32 {
        if let Some(&id) = self.ids.get(tok) {
            return id;
        }
        let id = self.words.len() as u32;
        self.words.push(tok.to_owned());
        let cleaned: String = tok
            .chars()
            .filter(|c| !matches!(c, '"' | '“' | '”' | '(' | ')' | '[' | ']' | '‘' | '«' | '»'))
            .collect();
        let cleaned = cleaned.trim_start_matches(['\'', '’'].as_slice());
        self.clean
            .push(if cleaned.chars().any(char::is_alphanumeric) {
                cleaned.to_owned()
            } else {
                String::new()
            });
        self.hashes.push(core_hash(tok));
        self.terminal.push(false);
        self.next1.push(Vec::new());
        self.ids.insert(tok.to_owned(), id);
        id
    }

    fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Sorted vocabulary ids of the story's longer words.
    fn topic(&self, story: &SrcStory) -> Vec<u32> {
        let mut set = Vec::new();
        for para in &story.paras {
            for t in &para.toks {
                let (_, core, _) = split_core(t);
                if core.chars().count() >= 4 {
                    if let Some(&id) = self.ids.get(t.as_str()) {
                        set.push(id);
                    }
                }
            }
        }
        set.sort_unstable();
        set.dedup();
        set
    }

    fn pick_biased(&self, rng: &mut Rng, cands: &[u32], topic: &[u32]) -> Option<u32> {
        let mut choice = *rng.pick(cands)?;
        if !topic.is_empty() && rng.chance(TOPIC_BIAS) {
            for _ in 0..4 {
                if topic.binary_search(&choice).is_ok() {
                    break;
                }
                choice = *rng.pick(cands)?;
            }
        }
        Some(choice)
    }

    /// Hash of the 5-word run ending the walk so far.
    fn run_hash(&self, ids: &[u32]) -> u64 {
        let mut hs = [0u64; SHINGLE];
        for (h, &id) in hs.iter_mut().zip(ids) {
            *h = self.hashes.get(id as usize).copied().unwrap_or(0);
        }
        shingle_hash(&hs)
    }

    /// One random walk of 6–40 words ending at a sentence end if possible. Also gives how many
    /// of its 5-word runs are already known; gives up early once more than `give_up` are.
    fn walk(
        &self,
        rng: &mut Rng,
        topic: &[u32],
        known: &dyn Fn(u64) -> bool,
        give_up: usize,
        out: &mut Vec<u32>,
    ) -> Option<usize> {
        let first = self.pick_biased(rng, &self.starts, topic)?;
        out.clear();
        out.push(first);
        let mut bad = 0;
        while out.len() < 40 {
            let n = out.len();
            let last = out[n - 1];
            let order1 = self
                .next1
                .get(last as usize)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let order2 = if n >= 2 {
                self.next2
                    .get(&pair_key(out[n - 2], last))
                    .map_or(order1, Vec::as_slice)
            } else {
                order1
            };
            let cands = if n >= 3 {
                self.next3
                    .get(&mix2(pair_key(out[n - 3], out[n - 2]), u64::from(last)))
                    .map_or(order2, Vec::as_slice)
            } else {
                order2
            };
            let Some(next) = self.pick_biased(rng, cands, topic) else {
                break;
            };
            out.push(next);
            if out.len() >= SHINGLE && known(self.run_hash(&out[out.len() - SHINGLE..])) {
                bad += 1;
                if bad > give_up {
                    break;
                }
            }
            if self.terminal.get(next as usize).copied().unwrap_or(false) {
                if out.len() >= 6 {
                    break;
                }
                if give_up != usize::MAX {
                    // A short sentence inside the walk could repeat elsewhere word for word.
                    bad = give_up.saturating_add(1);
                    break;
                }
            }
        }
        Some(bad)
    }

    /// A new sentence (as vocabulary ids) sharing at most 15% of its 5-word runs with the
    /// training text, `avoid` and earlier synthesised text (`made`, to which its runs are
    /// added). When no attempt succeeds: the best attempt if `lenient`, else `None`.
    fn sentence(
        &self,
        rng: &mut Rng,
        topic: &[u32],
        avoid: &FastSet<u64>,
        made: &mut Bloom,
        lenient: bool,
    ) -> Option<Vec<u32>> {
        let mut best: Option<(f64, Vec<u32>)> = None;
        {
            let known =
                |h: u64| self.shingles.contains(&h) || avoid.contains(&h) || made.contains(h);
            let give_up = if lenient { usize::MAX } else { 3 };
            let mut ids = Vec::with_capacity(40);
            for _ in 0..12 {
                let Some(bad) = self.walk(rng, topic, &known, give_up, &mut ids) else {
                    break;
                };
                let runs = ids.len().saturating_sub(SHINGLE - 1).max(1);
                let ratio = bad as f64 / runs as f64;
                if ratio <= 0.15 && ids.len() >= 6 {
                    best = Some((-1.0, ids));
                    break;
                }
                if lenient {
                    let score = ratio + if ids.len() < 6 { 1.0 } else { 0.0 };
                    let better = match &best {
                        None => true,
                        Some((s, _)) => score < *s,
                    };
                    if better {
                        best = Some((score, ids.clone()));
                    }
                }
            }
        }
        let (_, ids) = best?;
        for w in ids.windows(SHINGLE) {
            made.insert(self.run_hash(w));
        }
        Some(ids)
    }

    fn render(&self, ids: &[u32]) -> String {
        let mut out = String::new();
        for &id in ids {
            let Some(w) = self.clean.get(id as usize) else {
                continue;
            };
            if w.is_empty() {
                continue;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(w);
        }
        let keep = out
            .trim_end_matches([',', ';', ':', '-', '–', '—', '\''].as_slice())
            .len();
        out.truncate(keep);
        if !out.is_empty() && !out.ends_with(['.', '!', '?'].as_slice()) {
            out.push('.');
        }
        match out.get_mut(0..1) {
            Some(first) => {
                first.make_ascii_uppercase();
                out
            }
            None => capitalize(&out),
        }
    }

    fn paragraph(
        &self,
        rng: &mut Rng,
        topic: &[u32],
        avoid: &FastSet<u64>,
        nsent: usize,
        made: &mut Bloom,
        lenient: bool,
    ) -> Option<String> {
        let mut parts = Vec::new();
        for _ in 0..nsent.max(1) {
            if let Some(ids) = self.sentence(rng, topic, avoid, made, lenient) {
                let s = self.render(&ids);
                if !s.is_empty() {
                    parts.push(s);
                }
            }
        }
        if parts.is_empty() {
            None
        } else {
            Some(parts.join(" "))
        }
    }

    /// A synthetic story of about `nparas` paragraphs on `topic`.
    fn story(
        &self,
        rng: &mut Rng,
        topic: &[u32],
        avoid: &FastSet<u64>,
        nparas: usize,
        made: &mut Bloom,
    ) -> SrcStory {
        let mut paras = Vec::new();
        for k in 0..nparas.max(1) {
            let nsent = 1 + rng.weighted(&[0.35, 0.45, 0.2]);
            let lenient = k + 1 == nparas.max(1) && paras.is_empty();
            if let Some(p) = self
                .paragraph(rng, topic, avoid, nsent, made, lenient)
                .and_then(|t| SrcPara::from_text(&t))
            {
                paras.push(p);
            }
        }
        SrcStory { paras, input: None }
    }
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
    topic: Vec<u32>,
    avoid: FastSet<u64>,
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
    model: Markov,
    plan: Vec<BlockPlan>,
    next: usize,
    pool: Pool,
    tracker: Tracker,
    made: Bloom,
    /// Topic words and 5-word runs of input stories used as themes of synthetic stories.
    themes: FastMap<usize, (Vec<u32>, FastSet<u64>)>,
    width: usize,
}

impl Generator {
    /// Prepares generation: parses the stories (dropping empty paragraphs and sentences that
    /// repeat earlier input text), trains the Markov chain and plans the blocks. Without any
    /// input text there are no documents.
    pub fn new(stories: &[Story], cfg: &GenConfig) -> Self {
        let cfg = sanitize(cfg);
        let src = load_stories(stories);
        let model = Markov::train(&src, cfg.model_stories.max(1));
        let mut plan = Vec::new();
        if !src.is_empty() && !model.is_empty() {
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
            themes: FastMap::default(),
            made: Bloom::with_bits((cfg.docs as u64).saturating_mul(512)),
            cfg,
            stories: src,
            model,
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

    fn new_group(&mut self, story: SrcStory, orig_doc: usize) -> Group {
        let mut rng = Rng::derive(self.cfg.seed, TAG_GROUP, orig_doc as u64);
        Group {
            title: story.title(),
            dateline: random_dateline(&mut rng),
            byline: random_byline(&mut rng),
            caption: caption_for(&caption_subject(&story)),
            topic: self.model.topic(&story),
            avoid: shingles_of(&story),
            story,
            orig_doc,
            lines: Vec::new(),
        }
    }

    fn synthetic_original(&mut self, orig_doc: usize) -> SrcStory {
        let mut rng = Rng::derive(self.cfg.seed, TAG_STORY, orig_doc as u64);
        let t = rng.below(self.stories.len());
        let Some(theme) = self.stories.get(t) else {
            return SrcStory {
                paras: Vec::new(),
                input: None,
            };
        };
        let n = theme.paras.len();
        let (topic, avoid) = self.themes.entry(t).or_insert_with(|| {
            let topic = self.model.topic(theme);
            (topic, shingles_of(theme))
        });
        let nparas = (n.clamp(3, 12) + rng.below(5)).saturating_sub(2).max(2);
        self.model
            .story(&mut rng, topic, avoid, nparas, &mut self.made)
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
                let group = &groups[g];
                let story = &group.story;
                let mut head = self.head_lines(&mut rng, Some(group), &mut used);
                if rng.chance(cfg.new_lead_prob) {
                    let nsent = 1 + rng.below(2);
                    if let Some(lead) = self.model.paragraph(
                        &mut rng,
                        &group.topic,
                        &group.avoid,
                        nsent,
                        &mut self.made,
                        false,
                    ) {
                        head.push(Line::extra(LineRole::Lead, lead));
                    }
                }
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
                let group = &groups[g];
                let real = self
                    .pool
                    .take_negative(&mut rng, &self.stories, &group.story);
                let story = match real.and_then(|i| self.stories.get(i)) {
                    Some(s) => s.clone(),
                    None => {
                        let mut r = Rng::derive(cfg.seed, TAG_NEG, index as u64);
                        let n = group.story.paras.len().clamp(2, 12);
                        self.model
                            .story(&mut r, &group.topic, &group.avoid, n, &mut self.made)
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
        let slug: Vec<String> = d
            .title
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
            title: d.title,
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
        for _ in 0..plan.neg + extra_neg {
            slots.push(Slot::Neg(rng.below(plan.orig)));
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
        for &doc in &orig_doc {
            let story = match self
                .pool
                .take_original(&mut rng)
                .and_then(|i| self.stories.get(i))
            {
                Some(s) => s.clone(),
                None => self.synthetic_original(doc),
            };
            let group = self.new_group(story, doc);
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
            model_stories: 0,
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
}
