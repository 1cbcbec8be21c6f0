//! The batch driver: a [`Corpus`] in, verified duplicate pairs and clusters out.
//!
//! [`Detector::detect`] runs the stages in order, each in parallel with rayon and each keeping
//! input order, so the result is the same whatever the thread count:
//!
//! 1. per paragraph (in parallel): normalize ([`crate::normalize`]), hash word shingles
//!    ([`crate::shingle`]), split into sentences ([`crate::segment`]) and hash their stemmed words
//!    in the language detected for the document;
//! 2. collapse identical paragraphs (same normalized text): only one representative of each goes
//!    through the index, and identical copies are reported with similarity 1;
//! 3. paragraph level: MinHash the shingle sets ([`crate::minhash`]), band them
//!    ([`crate::lsh`]), verify every candidate by exact Jaccard ([`crate::verify`]);
//! 4. sentence level (preset `paraphrase`): weight terms by their inverse document frequency
//!    in this corpus, MinHash and band the sentences, verify candidates by the weighted overlap
//!    score; a paragraph pair is a duplicate when one sentence of each matches;
//! 5. group the verified pairs into clusters ([`crate::cluster`]).
//!
//! ```
//! use syndup::{input::Corpus, Detector, Params};
//! let params = Params::default();
//! let corpus = Corpus::from_texts(&[
//!     ("a.txt", "The storm closed every road into the valley on Tuesday, officials said.\nUnrelated line about football scores and the weekend weather.\n"),
//!     ("b.txt", "Officials said the storm closed every road into the valley on Tuesday.\n"),
//! ], &params);
//! let found = Detector::new(params)?.detect(&corpus);
//! assert_eq!(found.clusters.len(), 1);
//! assert_eq!(found.clusters[0].members, vec![0, 2]);
//! # Ok::<(), syndup::Error>(())
//! ```

use std::sync::atomic::{AtomicU32, Ordering};

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::cluster;
use crate::error::Result;
use crate::input::Corpus;
use crate::lsh;
use crate::minhash::MinHasher;
use crate::normalize::Words;
use crate::params::{Params, StemMode};
use crate::segment::{self, Span};
use crate::shingle::{Language, Shingler, TermCache, TermHasher};
use crate::timing::{Clock, StageTime};
use crate::verify;

/// Which comparison decided a pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Measure {
    /// The two paragraphs have the same normalized text.
    Identical,
    /// Exact Jaccard similarity of the paragraphs' word shingles reached the threshold.
    Jaccard,
    /// A sentence of each reached the sentence-level threshold.
    Sentence,
}

/// A verified pair of paragraphs (indexes into [`Corpus::paragraphs`], `a < b`).
#[derive(Clone, Debug, PartialEq)]
pub struct Pair {
    /// The first paragraph.
    pub a: u32,
    /// The second paragraph.
    pub b: u32,
    /// The deciding score: 1 for identical text, the exact Jaccard for `jaccard`, the sentence
    /// score for `sentence`.
    pub similarity: f64,
    /// What decided it.
    pub measure: Measure,
    /// Exact Jaccard similarity of the paragraphs' word shingle sets.
    pub jaccard: f64,
    /// The best sentence-pair score, when the sentence level found one.
    pub sentence: Option<f64>,
    /// The matched byte ranges within each paragraph's text (whole paragraphs unless a sentence
    /// match decided).
    pub spans: (Span, Span),
}

/// A connected group of paragraphs joined by verified pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    /// Position of the cluster in the output, from 0; clusters are ordered by first member.
    pub id: usize,
    /// Paragraph indexes, ascending.
    pub members: Vec<u32>,
    /// Indexes into [`Detection::pairs`] of the pairs that join this cluster, sorted.
    pub pairs: Vec<usize>,
}

/// Counters of one run.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Stats {
    /// Input sources read.
    pub files: usize,
    /// Paragraphs read.
    pub paragraphs: usize,
    /// Bytes of input.
    pub bytes: u64,
    /// Paragraphs with fewer than `min_words` words (compared by identity only).
    pub short_paragraphs: usize,
    /// Distinct normalized paragraphs (after collapsing identical ones).
    pub distinct_paragraphs: usize,
    /// Sentences that took part in sentence-level matching.
    pub sentences: usize,
    /// Candidate pairs proposed by LSH (paragraph and sentence level).
    pub candidates: usize,
    /// Verified duplicate pairs.
    pub pairs: usize,
}

/// What a detection found.
#[derive(Clone, Debug, Default)]
pub struct Detection {
    /// Every verified pair, sorted by `(a, b)`.
    pub pairs: Vec<Pair>,
    /// Clusters, ordered by first member.
    pub clusters: Vec<Cluster>,
    /// Counters.
    pub stats: Stats,
    /// Each stage's wall and CPU time, in order ([`crate::timing`]; `syndup scan --timings`
    /// prints them).
    pub stages: Vec<StageTime>,
}

/// The clusters of `pairs` (sorted by `(a, b)`) over `n` paragraphs: connected groups, ordered
/// by first member, each listing the indexes of the pairs that join it.
pub fn clusters_of(pairs: &[Pair], n: usize) -> Vec<Cluster> {
    let edges: Vec<(u32, u32)> = pairs.par_iter().map(|q| (q.a, q.b)).collect();
    // Cluster ids fit in u32 as paragraph indexes do (a cluster has two members or more).
    let (cluster_of, groups) = cluster::components(n, &edges);
    drop(edges);
    // Each cluster's pair indexes, in order, pushed straight into its list, made at its size:
    // no flat list of all the indexes to copy them from, which made clustering the peak of a
    // run with `--memory disk` (at 500 MB, 821 MiB against 797 MiB before clustering).
    let mut counts = vec![0usize; groups.len()];
    for q in pairs {
        counts[cluster_of[q.a as usize] as usize] += 1;
    }
    let mut lists: Vec<Vec<usize>> = counts.iter().map(|&c| Vec::with_capacity(c)).collect();
    drop(counts);
    for (k, q) in pairs.iter().enumerate() {
        lists[cluster_of[q.a as usize] as usize].push(k);
    }
    drop(cluster_of);
    groups
        .into_par_iter()
        .zip(lists)
        .enumerate()
        .map(|(id, (members, pairs))| Cluster { id, members, pairs })
        .collect()
}

/// Finds near-duplicate paragraphs in a corpus.
#[derive(Clone, Debug)]
pub struct Detector {
    params: Params,
}

/// Paragraphs per block of feature extraction (one rayon job).
const BLOCK: usize = 512;

/// The features of one block of paragraphs, in flat arrays.
#[derive(Default)]
struct Features {
    n_words: Vec<u32>,
    exact: Vec<u64>,
    shingle_off: Vec<usize>,
    /// Shingle hashes folded to 32 bits ([`Shingler::hash_folded_into`]).
    shingles: Vec<u32>,
    /// Sentence units: owning paragraph, span in its text, range of `terms`.
    unit_para: Vec<u32>,
    unit_span: Vec<Span>,
    term_off: Vec<usize>,
    terms: Vec<u32>,
    /// A bit for each of `terms`: the term is a name (capitalized inside the sentence every
    /// time it occurs, in a language that capitalizes only names). A bit rather than a
    /// `bool`: at 500 MB the sentences hold 49.7 M terms.
    names: Bits,
}

/// Flags of one bit each, pushed in order (the name flags of sentence terms, which the lean
/// detector keeps too): bit `i % 64` of word `i / 64`.
#[derive(Clone, Default)]
pub(crate) struct Bits {
    words: Vec<u64>,
    len: usize,
}

impl Bits {
    /// Appends a flag.
    pub(crate) fn push(&mut self, bit: bool) {
        if self.len.is_multiple_of(64) {
            self.words.push(0);
        }
        if let Some(word) = self.words.last_mut() {
            *word |= u64::from(bit) << (self.len % 64);
        }
        self.len += 1;
    }

    /// Flag `i` (false beyond the end).
    pub(crate) fn get(&self, i: usize) -> bool {
        i < self.len && self.words[i / 64] >> (i % 64) & 1 == 1
    }

    /// The flags so far in a vector of its exact size, leaving `self` empty with its capacity.
    fn take_exact(&mut self) -> Bits {
        let out = Bits {
            words: self.words.as_slice().to_vec(),
            len: self.len,
        };
        self.words.clear();
        self.len = 0;
        out
    }
}

impl Features {
    fn new() -> Features {
        Features {
            shingle_off: vec![0],
            term_off: vec![0],
            ..Features::default()
        }
    }

    fn shingles(&self, p: usize) -> &[u32] {
        &self.shingles[self.shingle_off[p]..self.shingle_off[p + 1]]
    }

    fn terms(&self, u: usize) -> &[u32] {
        &self.terms[self.term_off[u]..self.term_off[u + 1]]
    }

    fn names(&self, u: usize) -> Names<'_> {
        Names {
            bits: &self.names,
            at: self.term_off[u]..self.term_off[u + 1],
        }
    }

    /// Adds a sentence's terms ([`SentenceTerms`] tags) with their name flags.
    fn push_terms(&mut self, tagged: &[u64]) {
        for &t in tagged {
            self.names.push(tag_is_name(t));
            self.terms.push((t >> 32) as u32);
        }
    }

    /// The features gathered so far, in vectors of their exact sizes, leaving `self` empty
    /// with its capacity (a thread's scratch, reused block after block). Grown in place, each
    /// block's vectors were reallocated and copied as they doubled, on fresh pages each time
    /// (the features made 45 % of a default scan's page faults on the 50 MB peer corpus, most
    /// of them in reallocations); grown in the scratch and copied once, the scan takes 4 %
    /// fewer page faults and 7 % less peak memory.
    fn take_exact(&mut self) -> Features {
        fn exact<T: Clone>(v: &mut Vec<T>) -> Vec<T> {
            let out = v.as_slice().to_vec();
            v.clear();
            out
        }
        let f = Features {
            n_words: exact(&mut self.n_words),
            exact: exact(&mut self.exact),
            shingle_off: exact(&mut self.shingle_off),
            shingles: exact(&mut self.shingles),
            unit_para: exact(&mut self.unit_para),
            unit_span: exact(&mut self.unit_span),
            term_off: exact(&mut self.term_off),
            terms: exact(&mut self.terms),
            names: self.names.take_exact(),
        };
        self.shingle_off.push(0);
        self.term_off.push(0);
        f
    }

    /// Frees the shingle sets.
    fn drop_shingles(&mut self) {
        self.shingles = Vec::new();
        self.shingle_off = Vec::new();
    }
}

/// The features of all paragraphs: the small per-paragraph and per-sentence arrays joined,
/// the large ones (shingles, terms, name flags) left in the blocks they were made in, so
/// nothing large is copied after the parallel extraction (at 50 MB the copy took 0.09 s on one
/// thread while the others waited).
#[derive(Default)]
struct AllFeatures {
    n_words: Vec<u32>,
    exact: Vec<u64>,
    /// Sentence units: owning paragraph, span in its text, block and index in the block.
    unit_para: Vec<u32>,
    unit_span: Vec<Span>,
    unit_at: Vec<(u32, u32)>,
    blocks: Vec<Features>,
}

impl AllFeatures {
    fn join(blocks: Vec<Features>) -> AllFeatures {
        let mut all = AllFeatures::default();
        let units: usize = blocks.iter().map(|b| b.unit_para.len()).sum();
        all.unit_para.reserve_exact(units);
        all.unit_span.reserve_exact(units);
        all.unit_at.reserve_exact(units);
        for (b, mut block) in blocks.into_iter().enumerate() {
            let base = (b * BLOCK) as u32;
            all.n_words.append(&mut block.n_words);
            all.exact.append(&mut block.exact);
            all.unit_para
                .extend(block.unit_para.iter().map(|p| p + base));
            all.unit_span.append(&mut block.unit_span);
            all.unit_at
                .extend((0..block.unit_para.len() as u32).map(|l| (b as u32, l)));
            block.unit_para = Vec::new();
            all.blocks.push(block);
        }
        all
    }

    fn shingles(&self, p: usize) -> &[u32] {
        self.blocks[p / BLOCK].shingles(p % BLOCK)
    }

    fn terms(&self, u: usize) -> &[u32] {
        let (b, l) = self.unit_at[u];
        self.blocks[b as usize].terms(l as usize)
    }

    fn names(&self, u: usize) -> Names<'_> {
        let (b, l) = self.unit_at[u];
        self.blocks[b as usize].names(l as usize)
    }
}

/// The name flags of one sentence's terms, read from a block's bit set.
struct Names<'a> {
    bits: &'a Bits,
    at: std::ops::Range<usize>,
}

impl Iterator for Names<'_> {
    type Item = bool;

    fn next(&mut self) -> Option<bool> {
        let i = self.at.next()?;
        Some(self.bits.get(i))
    }
}

/// The stemming language of every paragraph: its document's, detected with
/// [`Language::detect`] on the document's first kilobyte (`None`, no stemming, when that is
/// not reliable). A plain-text source is one document (unless it mixes languages, below); in
/// a JSON Lines source each record is one, and a crawl's feed may mix languages. Detecting
/// every record would cost about 140 µs a record (the 50 MB peer corpus in 13,497 records
/// took 1.5 to 1.6 times as long), so the source's languages are first found on its head and
/// on records spread over it (one per 64 records, at most eight), and each record is put to
/// [`Language::guess`] (about 3 µs): when
/// that names one of those languages, the record takes it; any other record is detected on
/// its own. A record may thus take a language where, as a file of its own, its language
/// would not have been reliable (a short caption, say). A plain-text file is in one language
/// unless text spread over it is found in several: then each paragraph has its own (see
/// [`plain_languages`]).
pub(crate) struct Languages {
    /// `(first paragraph, language)` of each run of paragraphs, sorted; the first starts at 0.
    runs: Vec<(u32, Option<Language>)>,
}

/// The first `max` bytes of `bytes` (fewer at a character boundary), as text.
fn head_text(bytes: &[u8], max: usize) -> &str {
    let head = &bytes[..bytes.len().min(max)];
    match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default(),
    }
}

/// `k` indices spread evenly over `0..n` (each of them when `k` is `n`), in order.
fn spread(n: usize, k: usize) -> impl Iterator<Item = usize> {
    (0..k).map(move |i| (2 * i + 1) * n / (2 * k))
}

/// The languages reliably detected in `probes` (in parallel: 64 of a kilobyte take about 8 ms
/// of whatlang), and `whole`, each once.
fn found_languages<'a>(
    probes: impl Iterator<Item = &'a str>,
    whole: Option<Language>,
) -> Vec<Language> {
    let probes: Vec<&str> = probes.collect();
    let mut found: Vec<Language> = probes
        .par_iter()
        .filter_map(|t| Language::detect(t))
        .collect();
    found.extend(whole);
    found.sort_unstable_by_key(|l| l.name());
    found.dedup();
    found
}

/// The languages of the paragraphs `paras` of one plain-text source, whose head was found
/// to be in `whole`, as `(first paragraph, language)` runs (see [`Languages`]).
///
/// A file is taken to be in one language unless the text at paragraphs spread over it (one
/// per 16 paragraphs, at most 64, a kilobyte from each) is reliably in another, as in a crawl
/// dump that puts articles in several languages in one file. Then every paragraph of 80 bytes
/// or more is put to [`Language::guess`] (its first 256 bytes); a guessed language not found
/// yet is detected on up to eight of the paragraphs it was guessed for (a kilobyte from each),
/// and is found when one of them is reliably in it. A paragraph takes its guess when that is a
/// language found, else the language of the paragraph before it: where a paragraph is too
/// short to tell, the article it is part of most likely goes on. On a 56 MB file of 202,453
/// English paragraphs with a block of German, French, Russian, Spanish or Italian ones after
/// every fortieth (29,659 in all), 896 paragraphs took a wrong language (before: every one of
/// the 29,659), all of them English: 792 short ones after a block, 104 longer ones guessed
/// German or French. (Counted in changes of language along that file, with an earlier
/// version that probed 32 paragraphs: guessing on 160 bytes gave 7,938 changes where 256
/// gave 7,749, and guessing paragraphs under 80 bytes too 12,491: bylines and captions.)
fn plain_languages(
    corpus: &Corpus,
    paras: std::ops::Range<u32>,
    whole: Option<Language>,
) -> Vec<(u32, Option<Language>)> {
    const PROBES: usize = 64;
    const CONFIRM: usize = 8;
    const SHORT: u64 = 80;
    let all = corpus
        .paragraphs
        .get(paras.start as usize..paras.end as usize)
        .unwrap_or_default();
    let Some(source) = all
        .first()
        .and_then(|p| corpus.sources.get(p.source as usize))
    else {
        return vec![(paras.start, whole)];
    };
    let bytes = source.bytes();
    let from = |at: u64, max: usize| head_text(bytes.get(at as usize..).unwrap_or_default(), max);
    let mut found = found_languages(
        spread(all.len(), PROBES.min(all.len() / 16)).map(|k| from(all[k].start, 1024)),
        whole,
    );
    if found.len() < 2 && (whole.is_some() || found.is_empty()) {
        return vec![(paras.start, whole)];
    }
    let guesses: Vec<Option<Language>> = all
        .par_iter()
        .map(|p| {
            let len = p.end.saturating_sub(p.start);
            (len >= SHORT)
                .then(|| Language::guess(from(p.start, 256.min(len as usize))))
                .flatten()
        })
        .collect();
    let mut guessed: Vec<(Language, Vec<usize>)> = Vec::new();
    for (k, g) in guesses.iter().enumerate() {
        let Some(g) = *g else { continue };
        if found.contains(&g) {
            continue;
        }
        match guessed.iter_mut().find(|(l, _)| *l == g) {
            Some((_, at)) => at.push(k),
            None => guessed.push((g, vec![k])),
        }
    }
    for (g, at) in guessed {
        if spread(at.len(), CONFIRM.min(at.len()))
            .any(|i| Language::detect(from(all[at[i]].start, 1024)) == Some(g))
        {
            found.push(g);
        }
    }
    let mut runs = vec![(paras.start, whole)];
    let mut current = whole;
    for (k, g) in guesses.into_iter().enumerate() {
        if let Some(g) = g.filter(|g| found.contains(g) && current != Some(*g)) {
            current = Some(g);
            runs.push((paras.start + k as u32, current));
        }
    }
    runs
}

impl Languages {
    /// The languages of `corpus`'s paragraphs (see [`Languages`]).
    pub(crate) fn detect(corpus: &Corpus) -> Languages {
        const PROBES: usize = 8;
        let per_source: Vec<Vec<(u32, Option<Language>)>> = corpus
            .sources
            .par_iter()
            .enumerate()
            .map(|(s, source)| {
                let first = corpus
                    .paragraphs
                    .partition_point(|p| (p.source as usize) < s)
                    as u32;
                let bytes = source.bytes();
                let whole = Language::detect(head_text(bytes, 1024));
                let records = corpus
                    .records
                    .get(source.records.start as usize..source.records.end as usize)
                    .unwrap_or_default();
                if records.is_empty() {
                    let end = corpus
                        .paragraphs
                        .partition_point(|p| p.source as usize <= s)
                        as u32;
                    return plain_languages(corpus, first..end, whole);
                }
                // The first `max` bytes of a record's text.
                let head = |r: &crate::input::Record, max: usize| {
                    let t = bytes.get(r.text.start as usize..r.text.end as usize);
                    head_text(t.unwrap_or_default(), max)
                };
                let n = records.len();
                let found = found_languages(
                    spread(n, PROBES.min(n / 64)).map(|r| head(&records[r], 1024)),
                    whole,
                );
                records
                    .par_iter()
                    .filter(|r| !r.paragraphs.is_empty())
                    .map(|r| {
                        let lang = match Language::guess(head(r, 256)) {
                            Some(g) if found.contains(&g) => Some(g),
                            _ => Language::detect(head(r, 1024)),
                        };
                        (r.paragraphs.start, lang)
                    })
                    .collect()
            })
            .collect();
        let mut runs: Vec<(u32, Option<Language>)> = Vec::new();
        for (at, lang) in per_source.into_iter().flatten() {
            match runs.last_mut() {
                // A source without paragraphs: the next one starts at the same place.
                Some(last) if last.0 == at => last.1 = lang,
                Some(last) if last.1 == lang => {}
                _ => runs.push((at, lang)),
            }
        }
        match runs.first_mut() {
            Some(first) => first.0 = 0,
            None => runs.push((0, None)),
        }
        Languages { runs }
    }

    /// The language of paragraph `i` of [`Corpus::paragraphs`].
    pub(crate) fn of(&self, i: u32) -> Option<Language> {
        let k = self.runs.partition_point(|r| r.0 <= i);
        self.runs[k.max(1) - 1].1
    }
}

thread_local! {
    /// Each thread's cache of stemmed term hashes (see [`TermCache`]): 65,536 slots, 1 MiB,
    /// which stays in the core's caches; 262,144 slots (4 MiB) missed them, and the features
    /// stage of the 500 MB peer corpus took 4.2 s on 2 threads rather than 3.8 s.
    static TERMS: std::cell::Cell<TermCache> = std::cell::Cell::new(TermCache::new(1 << 16));
}

/// Takes this thread's stem cache (an empty one if it is in use), to be handed back with
/// [`put_term_cache`]: a cache made for each task would be cold, and stem every word again.
pub(crate) fn take_term_cache() -> TermCache {
    TERMS.with(|t| t.take())
}

/// Hands a cache taken with [`take_term_cache`] back to this thread.
pub(crate) fn put_term_cache(cache: TermCache) {
    // Not after the thread's locals are gone (then the cache is simply freed).
    let _ = TERMS.try_with(|t| t.replace(cache));
}

/// Hands the heap's free pages back to the system (glibc's `malloc_trim`; nothing elsewhere).
///
/// Called once, beside the sentence signatures and before the sentence LSH, whose working set
/// is the run's memory peak: by then the feature blocks (shingles, terms, name flags) and the
/// document-frequency buffers are freed, but glibc keeps such chunks in its arenas and the
/// LSH's large arrays do not fit in them, so they took new memory on top. Measured on 2
/// threads: peak RSS at 500 MB 3.55 GB without, 3.20 GB with; at 50 MB 376 MB and 318 MB, for
/// about 2 % more time (the trim takes 14 ms, and the pages are faulted in again). Calling it
/// after each earlier stage as well gave 3.05 GB at 500 MB but cost about 0.6 s. `detect`
/// also calls it once the paragraph level's shingle sets are dropped, before the sentence
/// level's document frequencies and records (the peak since): 3.22 GB to 3.07 GB at 500 MB,
/// 345 MB to 329 MB at 50 MB, within the noise in time. The lean detector ([`crate::lean`])
/// calls it between its sentence passes and after it is done.
pub(crate) fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer and only returns free heap memory to the system;
    // it is safe to call at any time, from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Collapses identical paragraphs: sorts `by_text` (the exact-text hash of each paragraph that
/// has words, and its index) and returns each of the `n` paragraphs' representative, the first
/// paragraph of its group (itself when alone), calling `group` with every run of two or more
/// (sorted by index).
pub(crate) fn collapse_identical(
    n: usize,
    mut by_text: Vec<(u64, u32)>,
    mut group: impl FnMut(&[(u64, u32)]),
) -> Vec<u32> {
    by_text.par_sort_unstable();
    let mut rep: Vec<u32> = (0..n as u32).collect();
    for run in by_text.chunk_by(|a, b| a.0 == b.0) {
        let first = run[0].1;
        for &(_, m) in run {
            rep[m as usize] = first;
        }
        if run.len() > 1 {
            group(run);
        }
    }
    rep
}

/// The hash that collapses identical paragraphs: of the normalized text.
pub(crate) fn exact_hash(words: &Words, seed: u64) -> u64 {
    xxh3_64_with_seed(words.text_bytes(), seed ^ 0xe7)
}

/// The term of a [`SentenceTerms`] tag, as a 64-bit value: the folded term in the top half
/// (the weighted signatures' fold of it is the term).
pub(crate) fn tag_term(tag: u64) -> u64 {
    tag & !u64::from(u32::MAX)
}

/// Whether a [`SentenceTerms`] tag marks its term a name.
pub(crate) fn tag_is_name(tag: u64) -> bool {
    tag & 1 == 1
}

/// How the terms of one sentence are made: stemmed word hashes of the document's language
/// (from the document's [`TermHasher`], through a [`TermCache`]).
pub(crate) struct SentenceTerms {
    /// Whether the language marks names by capitals.
    pub names_marked: bool,
    /// Shorter sentences take no part.
    pub min_words: usize,
}

impl SentenceTerms {
    /// Fills `tagged` with the sentence's distinct terms (`hash` of each normalized word,
    /// folded to 32 bits by [`crate::minhash::fold`], all that sentence signatures read of
    /// it), sorted, each tagged with whether it is a name: the term in the top half of a `u64`
    /// (where tables that bucket by the top bits find terms spread; [`tag_term`]), the name
    /// flag in bit 0 ([`tag_is_name`]); `false` (and `tagged` left unspecified) when the
    /// sentence is too short.
    pub fn fill_with(
        &self,
        sentence: &str,
        swords: &mut Words,
        tagged: &mut Vec<u64>,
        (cache, hasher): (&mut TermCache, &TermHasher),
    ) -> bool {
        swords.normalize(sentence);
        self.fill_range(swords, 0..swords.len(), tagged, (cache, hasher))
    }

    /// [`SentenceTerms::fill_with`] for a sentence whose words are `range` of `words` (the
    /// words of its whole paragraph): the same terms, without normalizing the text again.
    pub fn fill_range(
        &self,
        words: &Words,
        range: std::ops::Range<usize>,
        tagged: &mut Vec<u64>,
        (cache, hasher): (&mut TermCache, &TermHasher),
    ) -> bool {
        if range.len() < self.min_words {
            return false;
        }
        tagged.clear();
        // A name is a capitalized word inside the sentence, or a capitalized first word
        // followed by another one ("Governor Lillian Okafor", "Prime Minister ..."): a title or
        // a name at the sentence start.
        // A sentence whose every word is capitalized (all capitals, or Title Case) marks no
        // name: there the capitals say nothing of names. (Every word of an all-capitals copy
        // counted as a name, weighing half, and it missed restatements its mixed-case twin
        // found; which of the two represents their group depended on input order.) Words
        // starting with a digit have no case and do not count.
        let first = range.start;
        let shouting = range.clone().all(|i| {
            words.is_capitalized(i) || words.word_bytes(i).first().is_some_and(u8::is_ascii_digit)
        });
        let names_marked = self.names_marked && !shouting;
        let opens_name = range.len() > 1 && words.is_capitalized(first + 1);
        // Every word keyed (its cache slot requested) before any is resolved.
        tagged.extend(
            range
                .clone()
                .map(|i| cache.key(hasher, words.word_bytes(i))),
        );
        for (t, i) in tagged.iter_mut().zip(range) {
            let name = names_marked && words.is_capitalized(i) && (i > first || opens_name);
            let term = crate::minhash::fold(cache.resolve(hasher, words.word_bytes(i), *t));
            *t = u64::from(term) << 32 | u64::from(name);
        }
        // Sorted by term, names last among equal terms, so the first of each run says whether
        // every occurrence is a name (one 64-bit key each: sorted by a sorting network).
        tagged.sort_unstable();
        tagged.dedup_by_key(|t| *t >> 32);
        true
    }
}

/// The IDF weight of a term from its document frequency `d` among `nu` sentences:
/// `ln((nu + 1) / (d + 0.5))`, at least 0. Frequencies below 65,536 (nearly every term's) are
/// read from a table made once, so weights need not be stored per term occurrence. The lean
/// detector uses the same weights, so that both give the same pairs.
pub(crate) struct Idf {
    nu: f64,
    table: Vec<f32>,
    /// Frequencies beyond `table` that [`Idf::remember`] was given, with their weights: an
    /// open-addressing table (a frequency of 0 marks an empty slot; those frequencies are
    /// never 0).
    big: Vec<(u32, f32)>,
}

impl Idf {
    pub(crate) fn new(nu: usize) -> Idf {
        let nu = nu as f64;
        let size = (nu as usize + 1).min(1 << 16);
        Idf {
            nu,
            table: (0..size as u32).map(|d| Self::compute(nu, d)).collect(),
            big: Vec::new(),
        }
    }

    /// Also keeps the weights of the frequencies in `dfs` that the table does not cover.
    /// Those are the commonest words' (a term in 65,536 sentences or more, so at most one
    /// such term per 65,536 occurrences: under 760 at 500 MB, whose sentences hold 49.7 M
    /// terms), and they occur in nearly every sentence: without this,
    /// each of their occurrences cost a logarithm in every sum and verification (1.6 % of a
    /// default run at 500 MB). Same weights either way.
    pub(crate) fn remember(&mut self, dfs: &[u32]) {
        let limit = self.table.len() as u32;
        let distinct = |mut v: Vec<u32>| {
            v.sort_unstable();
            v.dedup();
            v
        };
        let big: Vec<u32> = dfs
            .par_chunks(1 << 16)
            .map(|c| distinct(c.iter().copied().filter(|&d| d >= limit).collect()))
            .reduce(Vec::new, |mut a, b| {
                a.extend(b);
                distinct(a)
            });
        if big.is_empty() {
            return;
        }
        let size = (2 * big.len()).next_power_of_two();
        self.big = vec![(0, 0.0); size];
        for d in big {
            let mut at = Self::slot(d, size);
            while self.big[at].0 != 0 {
                at = (at + 1) & (size - 1);
            }
            self.big[at] = (d, Self::compute(self.nu, d));
        }
    }

    fn slot(d: u32, size: usize) -> usize {
        (d.wrapping_mul(0x9e37_79b1) as usize) & (size - 1)
    }

    fn compute(nu: f64, d: u32) -> f32 {
        ((nu + 1.0) / (f64::from(d) + 0.5)).ln().max(0.0) as f32
    }

    /// Terms in more than 1 in 20 sentences (and at least 64) stay out of the signatures: they
    /// are the language's function words and make every pair a candidate. They still count,
    /// with their small weight, in verification. Terms of at most this frequency are signed.
    pub(crate) fn common(&self) -> u32 {
        (self.nu / 20.0).max(64.0) as u32
    }

    pub(crate) fn weight(&self, d: u32) -> f32 {
        if let Some(&w) = self.table.get(d as usize) {
            return w;
        }
        if !self.big.is_empty() {
            let size = self.big.len();
            let mut at = Self::slot(d, size);
            // The table is at most half full: a probe meets `d` or an empty slot soon.
            loop {
                match self.big[at] {
                    (k, w) if k == d => return w,
                    (0, _) => break,
                    _ => at = (at + 1) & (size - 1),
                }
            }
        }
        Self::compute(self.nu, d)
    }
}

/// The data of sentences that signing and verification read, one record per sentence in one
/// flat array: a header (paragraph, number of terms), the total weight, the sorted terms (32
/// bits each, [`crate::minhash::fold`], two to a word), then each term's document frequency
/// with its name flag in 32 bits (the flag in the top bit), two to a word. A term's weight is
/// its frequency's [`Idf`].
struct Records {
    data: Vec<u64>,
    off: Vec<usize>,
    idf: Idf,
}

/// One sentence's record in [`Records`].
#[derive(Clone, Copy)]
struct Record<'a>(&'a [u64], &'a Idf);

/// The largest document frequency a record holds (its top bit is the name flag); larger ones
/// (more than two billion sentences) are held as this, which changes no weight that matters.
const MAX_DF: u32 = 0x7fff_ffff;

impl Records {
    /// Records of `n` sentences; `of(k)` gives sentence `k`'s paragraph, terms, document
    /// frequencies and name flags (the last three aligned). Filled in parallel; each record's
    /// total weight is summed there, as its frequencies are read (a pass of its own over them
    /// took 0.24 s of a default scan of 500 MB on 2 threads).
    fn pack<'a, F, N>(n: usize, idf: Idf, of: F) -> Records
    where
        F: Fn(usize) -> (u32, &'a [u32], &'a [u32], N) + Sync,
        N: IntoIterator<Item = bool>,
    {
        let mut off = Vec::with_capacity(n + 1);
        off.push(0usize);
        for k in 0..n {
            let last = off.last().copied().unwrap_or(0);
            let n = of(k).1.len();
            off.push(last + 2 + 2 * n.div_ceil(2));
        }
        let mut data = vec![0u64; off.last().copied().unwrap_or(0)];
        let mut pieces: Vec<&mut [u64]> = Vec::with_capacity(n);
        let mut rest: &mut [u64] = &mut data;
        for k in 0..n {
            let (piece, tail) = rest.split_at_mut(off[k + 1] - off[k]);
            pieces.push(piece);
            rest = tail;
        }
        pieces
            .into_par_iter()
            .enumerate()
            .with_min_len(1024)
            .for_each(|(k, rec)| {
                let (para, terms, dfs, names) = of(k);
                let len = terms.len();
                let total: f64 = dfs.iter().map(|&d| f64::from(idf.weight(d))).sum();
                rec[0] = u64::from(para) | (len as u64) << 32;
                rec[1] = total.to_bits();
                for (i, &t) in terms.iter().enumerate() {
                    rec[2 + i / 2] |= u64::from(t) << (32 * (i % 2));
                }
                let at = 2 + len.div_ceil(2);
                for (i, (&d, name)) in dfs.iter().zip(names).enumerate() {
                    let bits = d.min(MAX_DF) | u32::from(name) << 31;
                    rec[at + i / 2] |= u64::from(bits) << (32 * (i % 2));
                }
            });
        Records { data, off, idf }
    }

    fn len(&self) -> usize {
        self.off.len() - 1
    }

    fn get(&self, k: usize) -> Record<'_> {
        Record(&self.data[self.off[k]..self.off[k + 1]], &self.idf)
    }

    /// Each record's representative among identical records: the first of them. Identical
    /// records (the same terms with the same frequencies and name flags, whatever their
    /// paragraphs) have the same signature and the same score against any other record, so
    /// only one of them is signed and verified. Grouped by a hash of the record's length, total
    /// weight, first and last words, then compared in full.
    fn representatives(&self) -> Vec<u32> {
        let n = self.len();
        let mut by_body: Vec<(u64, u32)> = (0..n as u32)
            .into_par_iter()
            .with_min_len(4096)
            .map(|k| {
                let r = &self.data[self.off[k as usize]..self.off[k as usize + 1]];
                // Length, total weight, first terms, last frequencies, hashed from the stack.
                let words = [
                    r[0] >> 32,
                    r[1],
                    r.get(2).copied().unwrap_or(0),
                    r[r.len() - 1],
                ];
                let mut bytes = [0u8; 32];
                for (to, w) in bytes.chunks_exact_mut(8).zip(words) {
                    to.copy_from_slice(&w.to_le_bytes());
                }
                (xxh3_64_with_seed(&bytes, 0x1d), k)
            })
            .collect();
        by_body.par_sort_unstable();
        // Each run of one hash is one group of identical records (sorted, so its first is its
        // smallest) unless the hash of another one came with it.
        let moves: Vec<(u32, u32)> = by_body
            .par_chunk_by(|a, b| a.0 == b.0)
            .filter(|run| run.len() > 1)
            .flat_map_iter(|run| {
                let first = run[0].1;
                let one = run[1..]
                    .iter()
                    .all(|&(_, k)| self.same(first as usize, k as usize));
                let (whole, split): (&[(u64, u32)], _) = if one {
                    (&run[1..], Vec::new())
                } else {
                    (&[], self.split_identical(run))
                };
                let whole = whole.iter().map(move |&(_, k)| (k, first));
                whole.chain(split)
            })
            .collect();
        let mut rep: Vec<u32> = (0..n as u32).collect();
        for (k, first) in moves {
            rep[k as usize] = first;
        }
        rep
    }

    /// Each record of `run` (sorted by record) that is not the first of its identical records
    /// there, with that first one.
    fn split_identical(&self, run: &[(u64, u32)]) -> Vec<(u32, u32)> {
        let mut rest: Vec<u32> = run.iter().map(|&(_, k)| k).collect();
        let mut moves = Vec::new();
        while let Some(&first) = rest.first() {
            rest.retain(|&k| {
                let same = self.same(first as usize, k as usize);
                if same && k != first {
                    moves.push((k, first));
                }
                !same
            });
        }
        moves
    }

    /// Whether records `a` and `b` are identical but for their paragraphs: the same length,
    /// total weight, terms, frequencies and name flags.
    fn same(&self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.get(a).0, self.get(b).0);
        ra[0] >> 32 == rb[0] >> 32 && ra[1..] == rb[1..]
    }

    /// Asks the CPU to start loading where record `k` starts: a later [`Records::prefetch`] of
    /// `k` then need not wait for it (the offsets are 8 bytes a sentence, tens of megabytes).
    fn prefetch_start(&self, k: usize) {
        prefetch(&self.off, k);
    }

    /// Asks the CPU to start loading record `k`'s first cache lines (header and first terms).
    fn prefetch(&self, k: usize) {
        let at = self.off[k];
        for line in 0..3 {
            prefetch(&self.data, at + 8 * line);
        }
    }
}

impl Record<'_> {
    fn para(&self) -> u32 {
        self.0[0] as u32
    }

    /// Term `i`'s document frequency and name flag.
    fn packed(&self, i: usize) -> u32 {
        let len = (self.0[0] >> 32) as usize;
        (self.0[2 + len.div_ceil(2) + i / 2] >> (32 * (i % 2))) as u32
    }

    /// Term `i`'s document frequency.
    fn df(&self, i: usize) -> u32 {
        self.packed(i) & MAX_DF
    }
}

impl verify::Sentence for Record<'_> {
    type Key = u32;
    fn len(&self) -> usize {
        (self.0[0] >> 32) as usize
    }
    fn key(&self, i: usize) -> u32 {
        (self.0[2 + i / 2] >> (32 * (i % 2))) as u32
    }
    fn weight(&self, i: usize) -> f32 {
        self.1.weight(self.df(i))
    }
    fn name(&self, i: usize) -> bool {
        self.packed(i) >> 31 == 1
    }
    fn total(&self) -> f64 {
        f64::from_bits(self.0[1])
    }
    /// The keys are two to a word, the first in the low half: in memory, on a little-endian
    /// CPU, one array of `u32` in order.
    fn keys32(&self) -> Option<&[u32]> {
        if cfg!(target_endian = "big") {
            return None;
        }
        let n = verify::Sentence::len(self);
        let words = self.0.get(2..2 + n.div_ceil(2))?;
        // SAFETY: every bit pattern is a valid `u32`, and a `u64` is aligned for one, so the
        // words are viewed whole as twice as many `u32`s (nothing before or after them).
        let (before, halves, _) = unsafe { words.align_to::<u32>() };
        if before.is_empty() {
            halves.get(..n)
        } else {
            None
        }
    }
}

/// Asks the CPU to start loading the cache line of `s[i]` (nothing when `i` is out of bounds,
/// or on other architectures than x86-64): for look-ups into large arrays whose addresses are
/// known some time before they are read.
#[inline]
pub(crate) fn prefetch<T>(s: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(x) = s.get(i) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch is only a hint, with no effect on memory or on program state, and
        // the address is that of an element of `s` anyway.
        unsafe { _mm_prefetch::<_MM_HINT_T0>((x as *const T).cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (s, i);
}

/// A position in the flat order of all sentences' terms, as a term occurrence holds it: a
/// `u32` while there are at most 4,294,967,295 terms, which makes an occurrence 8 bytes, else
/// a `usize` (16 bytes with the term): more terms than that (about 43 GB of news text, in
/// reach of the in-memory detector on a machine with a few hundred GB) would wrap and count
/// into the wrong places.
trait Position: Copy + Send + Sync {
    /// `i`, which the caller has checked fits.
    fn at(i: usize) -> Self;
    fn index(self) -> usize;
}

impl Position for u32 {
    fn at(i: usize) -> u32 {
        i as u32
    }
    fn index(self) -> usize {
        self as usize
    }
}

impl Position for usize {
    fn at(i: usize) -> usize {
        i
    }
    fn index(self) -> usize {
        self
    }
}

/// Document frequencies of sentence terms: for every occurrence of a term in `units` (whose
/// terms are distinct within a unit; `offsets[k]` is where unit `k`'s terms start in the flat
/// order), the number of units holding that term, in the same flat order. Occurrences are
/// split by their term's top bits into parts that are counted in parallel, each by sorting
/// ([`lsh::sort_by_bits`], in cache); no occurrence is looked up in a map.
fn document_frequencies<'a>(
    units: &[u32],
    offsets: &[usize],
    terms: impl Fn(usize) -> &'a [u32] + Sync,
) -> Vec<u32> {
    let total = offsets.last().copied().unwrap_or(0);
    if u32::try_from(total).is_ok() {
        count_frequencies::<u32>(units, offsets, &terms)
    } else {
        count_frequencies::<usize>(units, offsets, &terms)
    }
}

/// Term occurrences: (term, position in the flat order of all sentences' terms).
type Occurrences<P> = Vec<(u32, P)>;

/// [`document_frequencies`] with occurrences holding their position as a `P`.
fn count_frequencies<'a, P: Position>(
    units: &[u32],
    offsets: &[usize],
    terms: &(impl Fn(usize) -> &'a [u32] + Sync),
) -> Vec<u32> {
    const PART_BITS: u32 = 6;
    const UNITS_PER_JOB: usize = 4096;
    let split: Vec<Vec<Occurrences<P>>> = units
        .par_chunks(UNITS_PER_JOB)
        .enumerate()
        .map(|(c, chunk)| {
            // Term hashes are uniform, so each part gets about its share of the chunk's
            // occurrences: reserved with four standard deviations to spare, the parts are
            // rarely reallocated (and hold less slack than doubling would leave).
            let first = c * UNITS_PER_JOB;
            let total = offsets[first + chunk.len()] - offsets[first];
            let share = total >> PART_BITS;
            let room = share + 4 * (share as f64).sqrt() as usize + 16;
            let mut parts: Vec<Occurrences<P>> = (0..1 << PART_BITS)
                .map(|_| Vec::with_capacity(room))
                .collect();
            for (j, &u) in chunk.iter().enumerate() {
                let base = offsets[first + j];
                for (m, &t) in terms(u as usize).iter().enumerate() {
                    parts[(t >> (32 - PART_BITS)) as usize].push((t, P::at(base + m)));
                }
            }
            parts
        })
        .collect();
    // Every occurrence is in exactly one part, so the parts write disjoint places and can
    // write them in parallel, each as soon as it is counted (a serial scatter was a third of
    // this stage on 1 thread). Each thread reuses its part and sort buffers: fresh ones for
    // each of the 64 parts cost about 2 GB of page faults at 500 MB.
    let df: Vec<AtomicU32> = (0..offsets.last().copied().unwrap_or(0))
        .into_par_iter()
        .map(|_| AtomicU32::new(0))
        .collect();
    (0..1usize << PART_BITS).into_par_iter().for_each_init(
        || (Vec::new(), Vec::new()),
        |(part, scratch): &mut (Occurrences<P>, Occurrences<P>), p| {
            part.clear();
            part.extend(split.iter().flat_map(|c| c[p].iter().copied()));
            // The part's top bits are alike: the next ones go to the top.
            lsh::sort_by_bits(part, scratch, |e| u64::from(e.0) << (32 + PART_BITS));
            for run in part.chunk_by(|a, b| a.0 == b.0) {
                let d = u32::try_from(run.len()).unwrap_or(u32::MAX);
                for &(_, i) in run {
                    df[i.index()].store(d, Ordering::Relaxed);
                }
            }
        },
    );
    drop(split);
    df.into_iter().map(AtomicU32::into_inner).collect()
}

/// Fills `out` with the output of each item in `items`, in item order: item `i` writes
/// `count(&items[i])` values into its own piece of `out`, whose length is the sum of the
/// counts. In parallel (rayon) over chunks of items, each of which first finds where its
/// piece starts, so nothing is collected and copied afterwards.
fn fill_in_order<T, P, C, F>(items: &[T], count: C, out: &mut [P], fill: F)
where
    T: Sync,
    P: Send,
    C: Fn(&T) -> usize + Sync,
    F: Fn(&T, &mut [P]) + Sync,
{
    const CHUNK: usize = 4096;
    let mut pieces: Vec<(&[T], &mut [P])> = Vec::with_capacity(items.len().div_ceil(CHUNK));
    let mut rest = out;
    for chunk in items.chunks(CHUNK) {
        let n: usize = chunk.iter().map(&count).sum();
        let all = std::mem::take(&mut rest);
        let n = n.min(all.len());
        let (piece, tail) = all.split_at_mut(n);
        pieces.push((chunk, piece));
        rest = tail;
    }
    pieces.into_par_iter().for_each(|(chunk, mut piece)| {
        for item in chunk {
            let n = count(item).min(piece.len());
            let (mine, tail) = std::mem::take(&mut piece).split_at_mut(n);
            fill(item, mine);
            piece = tail;
        }
    });
}

/// Paragraph `i`'s whole text as a span of it.
pub(crate) fn whole_span(corpus: &Corpus, i: u32) -> Span {
    let para = &corpus.paragraphs[i as usize];
    Span {
        start: 0,
        end: (para.end - para.start) as usize,
    }
}

/// The span of paragraph `copy` that stands for `span` of paragraph `rep`, two paragraphs
/// with the same normalized words (one group of [`collapse_identical`]) but not always the
/// same bytes: case, spacing, punctuation or Unicode forms may differ. The same span when the
/// bytes are the same; the whole copy for the whole representative; otherwise the copy's
/// sentence at the same place among its sentences, when the two split into as many sentences
/// and that one has the same words; otherwise the whole copy. (A span of the representative
/// given to a longer or shorter copy pointed past its text or into another sentence.)
pub(crate) fn copy_span(corpus: &Corpus, rep: u32, copy: u32, span: Span) -> Span {
    if rep == copy {
        return span;
    }
    let text = |i: u32| corpus.text(&corpus.paragraphs[i as usize]);
    let (rt, ct) = (text(rep), text(copy));
    if rt == ct {
        return span;
    }
    let whole = whole_span(corpus, copy);
    if span == whole_span(corpus, rep) {
        return whole;
    }
    let (rs, cs) = (segment::sentences(rt), segment::sentences(ct));
    let same_place = rs
        .iter()
        .position(|&s| s == span)
        .filter(|_| rs.len() == cs.len());
    if let Some(k) = same_place {
        let (mut a, mut b) = (Words::default(), Words::default());
        a.normalize(&rt[rs[k].range()]);
        b.normalize(&ct[cs[k].range()]);
        if a.text_bytes() == b.text_bytes() {
            return cs[k];
        }
    }
    whole
}

/// How [`merge_evidence`] ranks a piece of evidence: the pair `(a, b)`, what found it, its
/// score, and where its spans start in each paragraph.
pub(crate) type Rank = ((u32, u32), Measure, f64, (usize, usize));

/// One piece of evidence for a pair of representatives, as [`merge_evidence`] ranks it.
pub(crate) trait Evidence {
    /// Its rank.
    fn rank(&self) -> Rank;
    /// The best sentence score among the matches it stands for, if any.
    fn best_sentence(&self) -> Option<f64>;
    /// Takes note of other sentence matches of the same pair, the best with score `score`.
    fn note_sentence(&mut self, score: f64);
}

impl Evidence for Pair {
    fn rank(&self) -> Rank {
        let starts = (self.spans.0.start, self.spans.1.start);
        ((self.a, self.b), self.measure, self.similarity, starts)
    }
    fn best_sentence(&self) -> Option<f64> {
        self.sentence
    }
    fn note_sentence(&mut self, score: f64) {
        self.sentence = Some(self.sentence.unwrap_or(0.0).max(score));
    }
}

/// The best evidence of each pair, sorted by `(a, b)`: a paragraph-level match outranks a
/// sentence match; among sentence matches the highest score wins (ties: the earliest spans).
/// The one kept notes the best sentence score among the others. Both detectors merge with
/// this, so that they report the same evidence. Merging merged lists again gives the same as
/// merging once, so a detector may merge as it goes.
pub(crate) fn merge_evidence<T: Evidence + Send>(mut all: Vec<T>) -> Vec<T> {
    // Unstable: two pieces of evidence the order does not tell apart are the same match.
    all.par_sort_unstable_by(|x, y| {
        let (x, y) = (x.rank(), y.rank());
        (x.0, x.1)
            .cmp(&(y.0, y.1))
            .then(y.2.total_cmp(&x.2))
            .then(x.3.cmp(&y.3))
    });
    all.dedup_by(|later, kept| {
        if later.rank().0 != kept.rank().0 {
            return false;
        }
        if let Some(score) = later.best_sentence() {
            kept.note_sentence(score);
        }
        true
    });
    all
}

/// The shingle set of a paragraph: its normalized words (left in `words`) shingled into `out`,
/// folded to 32 bits ([`Shingler::hash_folded_into`]), sorted and distinct.
pub(crate) fn shingle_set(shingler: &Shingler, words: &mut Words, text: &str, out: &mut Vec<u32>) {
    words.normalize(text);
    out.clear();
    shingler.hash_folded_into(words, out);
    out.sort_unstable();
    out.dedup();
}

/// The hash family of paragraph signatures: with `k` hash functions (independent or folded),
/// only the values the bands read (the first `bands × rows` functions, which the full family
/// shares); with one-permutation hashing, all `num_hashes` bins.
pub(crate) fn paragraph_hasher(p: &Params) -> MinHasher {
    let (bands, rows) = p.banding();
    let k = match p.signature {
        crate::minhash::Scheme::Independent | crate::minhash::Scheme::Folded => bands * rows,
        crate::minhash::Scheme::Oph => p.num_hashes,
    };
    MinHasher::with_scheme(k, p.seed, p.signature)
}

/// The hash family of sentence signatures: as many values as the sentence banding `(bands,
/// rows)` reads.
pub(crate) fn sentence_hasher(p: &Params, (bands, rows): (usize, usize)) -> MinHasher {
    MinHasher::new(bands * rows, p.seed ^ 0x5e47_e9ce)
}

/// Pairs of identical paragraphs are listed in full for groups up to this size; bigger groups
/// list each member with the group's first member only (identity is transitive, so nothing is
/// claimed that was not verified), which keeps boilerplate from producing quadratic output.
pub(crate) const FULL_GROUP: usize = 64;

impl Detector {
    /// A detector with validated parameters.
    pub fn new(params: Params) -> Result<Detector> {
        params.validate()?;
        Ok(Detector { params })
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Runs detection on the corpus (in the current rayon thread pool).
    pub fn detect(&self, corpus: &Corpus) -> Detection {
        let p = &self.params;
        let n = corpus.paragraphs.len();
        let mut clock = Clock::start();
        let languages = self.languages(corpus);
        clock.lap("languages");
        let mut features = self.features(corpus, &languages);
        clock.lap("features (words, shingles, terms)");

        // Collapse identical paragraphs: representatives are the first of each group.
        let by_text: Vec<(u64, u32)> = (0..n as u32)
            .filter(|&i| features.n_words[i as usize] > 0)
            .map(|i| (features.exact[i as usize], i))
            .collect();
        let mut groups: Vec<Vec<u32>> = Vec::new();
        let rep = collapse_identical(n, by_text, |run| {
            groups.push(run.iter().map(|&(_, m)| m).collect());
        });
        let is_rep = |i: usize| rep[i] as usize == i && features.n_words[i] > 0;
        let long_reps: Vec<u32> = (0..n)
            .filter(|&i| is_rep(i) && features.n_words[i] as usize >= p.min_words)
            .map(|i| i as u32)
            .collect();

        let mut stats = Stats {
            files: corpus.sources.len(),
            paragraphs: n,
            bytes: corpus.total_bytes(),
            short_paragraphs: features
                .n_words
                .iter()
                .filter(|&&w| (w as usize) < p.min_words)
                .count(),
            distinct_paragraphs: (0..n).filter(|&i| is_rep(i)).count(),
            ..Stats::default()
        };

        clock.lap("identical paragraphs");
        // Representative pairs: (a, b) → best evidence.
        let mut rep_pairs: Vec<Pair> = Vec::new();

        // Paragraph level.
        let hasher = paragraph_hasher(p);
        let para_sets: Vec<&[u32]> = long_reps
            .iter()
            .map(|&i| features.shingles(i as usize))
            .collect();
        let (bands, rows) = p.banding();
        let band_hasher = lsh::BandHasher::new(bands, rows, p.seed);
        let keys = lsh::BandKeys::compute(
            para_sets.len(),
            bands,
            || vec![0u32; hasher.len()],
            |sig, i, out| {
                hasher.sign_values(para_sets[i], sig);
                band_hasher.keys(sig, out);
            },
        );
        let units: Vec<u32> = (0..long_reps.len() as u32).collect();
        let cands = keys.candidate_pairs(&units, p.max_bucket);
        clock.lap("paragraph signatures and LSH");
        stats.candidates += cands.len();
        let whole = |i: u32| whole_span(corpus, i);
        rep_pairs.par_extend(cands.par_iter().filter_map(|&(x, y)| {
            let (a, b) = (long_reps[x as usize], long_reps[y as usize]);
            let j = verify::jaccard(para_sets[x as usize], para_sets[y as usize]);
            (j >= p.threshold).then(|| Pair {
                a,
                b,
                similarity: j,
                measure: Measure::Jaccard,
                jaccard: j,
                sentence: None,
                spans: (whole(a), whole(b)),
            })
        }));
        // The shingle sets are not kept through the sentence level, whose data is the largest:
        // the few sentence matches' Jaccard values are computed again from the text.
        drop(para_sets);
        for block in &mut features.blocks {
            block.drop_shingles();
        }
        // Their pages go back to the system before the sentence level allocates its largest
        // arrays (see `release_free_memory`).
        release_free_memory();
        clock.lap("paragraph verification");
        // Sentence level.
        if let (Some(st), Some(banding)) = (p.sentence_threshold, p.sentence_banding()) {
            let unit_ok: Vec<u32> = (0..features.unit_para.len() as u32)
                .filter(|&u| {
                    let para = features.unit_para[u as usize] as usize;
                    is_rep(para) && features.n_words[para] as usize >= p.min_words
                })
                .collect();
            stats.sentences = unit_ok.len();
            // Each unit's terms start at `term_off[k]` in the flat order of `df`.
            let mut term_off = Vec::with_capacity(unit_ok.len() + 1);
            term_off.push(0usize);
            for &u in &unit_ok {
                let last = term_off.last().copied().unwrap_or(0);
                term_off.push(last + features.terms(u as usize).len());
            }
            let df = document_frequencies(&unit_ok, &term_off, |u| features.terms(u));
            clock.lap("sentence document frequencies");
            let nu = unit_ok.len();
            let mut idf = Idf::new(nu);
            idf.remember(&df);
            let common = idf.common();
            let dfs = |k: usize| &df[term_off[k]..term_off[k + 1]];
            let signed: Vec<u32> = (0..nu as u32)
                .filter(|&k| dfs(k as usize).iter().any(|&d| d <= common))
                .collect();
            // Each sentence's data in one record, so that signing reads one contiguous array
            // and a candidate's other side is one read rather than one from each of five
            // arrays. The terms, frequencies and name flags they hold are then dropped: the
            // records replace them, weights included, before the LSH's memory peak.
            let records = Records::pack(nu, idf, |k| {
                let u = unit_ok[k] as usize;
                (
                    features.unit_para[u],
                    features.terms(u),
                    dfs(k),
                    features.names(u),
                )
            });
            drop(df);
            features.blocks = Vec::new();
            clock.lap("sentence records");
            // Identical sentences (a paragraph that is trimmed, re-led or retouched keeps its
            // other sentences whole) are signed and verified once, as a group.
            let same = lsh::UnitGroups::from_representatives(&records.representatives());
            let signed: Vec<u32> = signed
                .into_iter()
                .filter(|&k| same.representative(same.group_of(k)) == k)
                .map(|k| same.group_of(k))
                .collect();
            clock.lap("identical sentences");
            // Weighted MinHash (an exponential race, see `MinHasher::sign_weighted`): the
            // signatures estimate the IDF-weighted Jaccard rather than the plain one. Sentences
            // that share only frequent words then rarely become candidates, while
            // restatements, which share rare words, still do. Only the values the bands use
            // are computed.
            // The sets are made on the fly, in each thread's reused buffer: hundreds of
            // thousands of small vectors allocated from two threads at once cost more than the
            // signing.
            // The free pages go back while the pool signs (one thread trims, then joins in).
            let shasher = sentence_hasher(p, banding);
            let band_hasher = lsh::BandHasher::new(banding.0, banding.1, p.seed ^ 1);
            let ((), skeys) = rayon::join(release_free_memory, || {
                lsh::BandKeys::compute(
                    same.len(),
                    banding.0,
                    || (Vec::new(), vec![0u32; shasher.len()]),
                    |(items, sig): &mut (Vec<(u64, f32)>, Vec<u32>), g, out| {
                        let r = records.get(same.representative(g as u32) as usize);
                        items.clear();
                        items.extend(
                            (0..verify::Sentence::len(&r))
                                .filter(|&i| r.df(i) <= common)
                                .map(|i| {
                                    (
                                        u64::from(verify::Sentence::key(&r, i)),
                                        verify::Sentence::weight(&r, i),
                                    )
                                }),
                        );
                        shasher.sign_weighted(items, sig);
                        band_hasher.keys(sig, out);
                    },
                )
            });
            clock.lap("sentence signatures");
            let found = skeys.candidate_groups(&signed, &same, p.max_sentence_bucket);
            clock.lap("sentence LSH");
            stats.candidates += found.count(&same);
            let (same, records) = (&same, &records);
            let para = move |k: u32| records.get(k as usize).para();
            // The score of sentences `x` and `y` when it reaches the threshold.
            let score_of = move |x: u32, y: u32| {
                let (rx, ry) = (records.get(x as usize), records.get(y as usize));
                let (score, shared) =
                    verify::overlap_at_least(&rx, &ry, p.name_weight, p.min_shared_words)?;
                (score >= st && shared >= p.min_shared_words).then_some(score)
            };
            // The pair of paragraphs that sentences `x` and `y` (which scored `score`) join.
            let (unit_ok, spans) = (&unit_ok, &features.unit_span);
            let pair_of = move |x: u32, y: u32, score: f64| {
                let (pa, pb) = (para(x), para(y));
                if pa == pb {
                    return None;
                }
                let (ux, uy) = (unit_ok[x as usize] as usize, unit_ok[y as usize] as usize);
                let (sa, sb) = (spans[ux], spans[uy]);
                let ((a, sa), (b, sb)) = if pa < pb {
                    ((pa, sa), (pb, sb))
                } else {
                    ((pb, sb), (pa, sa))
                };
                Some(Pair {
                    a,
                    b,
                    similarity: score,
                    measure: Measure::Sentence,
                    // Filled in once per paragraph pair, below.
                    jaccard: f64::NAN,
                    sentence: Some(score),
                    spans: (sa, sb),
                })
            };
            // Every pair of members of two groups whose representatives match (most are alone).
            let across = move |x: u32, y: u32, score: f64| {
                let alone = same.is_alone(x) && same.is_alone(y);
                let single = if alone { pair_of(x, y, score) } else { None };
                let (cx, cy): (&[u32], &[u32]) = if alone {
                    (&[], &[])
                } else {
                    (same.copies(x), same.copies(y))
                };
                let copies = cx
                    .iter()
                    .flat_map(move |&a| cy.iter().map(move |&b| (a, b)));
                single
                    .into_iter()
                    .chain(copies.filter_map(move |(a, b)| pair_of(a, b, score)))
            };
            // Pairs of representatives are sorted by their first side, so the second side's
            // record is the one read from anywhere: it is prefetched a few pairs ahead, and
            // where it starts twice as far ahead (the prefetch reads it).
            const AHEAD: usize = 8;
            // Straight into the paragraph level's pairs: collected apart and appended, the
            // sentence pairs were copied twice.
            rep_pairs.par_extend(found.pairs.par_chunks(1024).flat_map_iter(|chunk| {
                chunk
                    .iter()
                    .enumerate()
                    .filter_map(move |(i, &(x, y))| {
                        if let Some(&(_, far)) = chunk.get(i + 2 * AHEAD) {
                            records.prefetch_start(far as usize);
                        }
                        if let Some(&(_, ahead)) = chunk.get(i + AHEAD) {
                            records.prefetch(ahead as usize);
                        }
                        let alone = same.is_alone(x) && same.is_alone(y);
                        if alone && para(x) == para(y) {
                            return None;
                        }
                        Some((x, y, score_of(x, y)?))
                    })
                    .flat_map(move |(x, y, score)| across(x, y, score))
            }));
            // Pairs inside a group, and member pairs of chained buckets.
            rep_pairs.par_extend(found.whole.par_iter().flat_map_iter(|&r| {
                let members = same.copies(r);
                score_of(r, r).into_iter().flat_map(move |score| {
                    members.iter().enumerate().flat_map(move |(i, &x)| {
                        members[i + 1..]
                            .iter()
                            .filter_map(move |&y| pair_of(x, y, score))
                    })
                })
            }));
            rep_pairs.par_extend(found.chained.par_iter().filter_map(|&(x, y)| {
                if para(x) == para(y) {
                    return None;
                }
                pair_of(x, y, score_of(x, y)?)
            }));
        }

        let merged = merge_evidence(rep_pairs);
        if p.sentence_threshold.is_some() {
            clock.lap("sentence verification");
        }
        self.finish(corpus, rep, groups, merged, stats, clock)
    }

    /// The end of a detection, from the verified pairs between representatives of identical
    /// paragraphs (`merged`: the best evidence of each, sorted by `(a, b)`; `jaccard` NaN
    /// where it is still to be computed) and the groups of identical paragraphs (`groups`:
    /// each of two or more, sorted, its first member the representative `rep` gives): the
    /// shingle Jaccard of the pairs a sentence found, every pair expanded to the copies of its
    /// two sides, and the clusters; `clock` times these stages after those before.
    pub(crate) fn finish(
        &self,
        corpus: &Corpus,
        rep: Vec<u32>,
        groups: Vec<Vec<u32>>,
        mut merged: Vec<Pair>,
        mut stats: Stats,
        mut clock: Clock,
    ) -> Detection {
        let p = &self.params;
        let n = corpus.paragraphs.len();
        let whole = |i: u32| whole_span(corpus, i);
        // The shingle Jaccard of the pairs found by a sentence, from the text: each paragraph
        // on either side of such a pair is shingled once (a paragraph restated by several
        // others is in several pairs), in chunks of flat sets.
        let shingler = Shingler::new(p.shingle_words, p.seed);
        let mut sides: Vec<u32> = merged
            .iter()
            .filter(|q| q.jaccard.is_nan())
            .flat_map(|q| [q.a, q.b])
            .collect();
        sides.par_sort_unstable();
        sides.dedup();
        // Small in debug builds, so that the tests' few pairs span several chunks.
        const SIDES_PER_JOB: usize = if cfg!(debug_assertions) { 4 } else { 256 };
        let sets: Vec<(Vec<u32>, Vec<usize>)> = sides
            .par_chunks(SIDES_PER_JOB)
            .map_init(
                || (Words::default(), Vec::new()),
                |(words, set), chunk| {
                    let (mut flat, mut ends) = (Vec::new(), Vec::with_capacity(chunk.len() + 1));
                    ends.push(0);
                    for &i in chunk {
                        let text = corpus.text(&corpus.paragraphs[i as usize]);
                        shingle_set(&shingler, words, text, set);
                        flat.extend_from_slice(set);
                        ends.push(flat.len());
                    }
                    (flat, ends)
                },
            )
            .collect();
        let set_of = |i: u32| -> &[u32] {
            // Every side is in `sides`: the search finds it.
            let k = sides.partition_point(|&x| x < i);
            let (flat, ends) = &sets[k / SIDES_PER_JOB];
            &flat[ends[k % SIDES_PER_JOB]..ends[k % SIDES_PER_JOB + 1]]
        };
        merged
            .par_iter_mut()
            .filter(|q| q.jaccard.is_nan())
            .for_each(|q| q.jaccard = verify::jaccard(set_of(q.a), set_of(q.b)));
        drop((sets, sides));
        if p.sentence_threshold.is_some() {
            clock.lap("Jaccard of the pairs sentences found");
        }

        // Expand to every copy of each representative. What only the expansion needs (the
        // copies of each representative, the groups) is freed before the pairs are sorted and
        // clustered: with `--memory disk` at 500 MB, RssAnon after clustering was 467 MB with
        // them and 367 MB without.
        // (The group of each first member by index: 4 bytes a paragraph rather than a slice's 16.)
        let mut members_of: Vec<u32> = vec![u32::MAX; n];
        for (k, g) in groups.iter().enumerate() {
            members_of[g[0] as usize] = k as u32;
        }
        let copies = |r: u32| -> &[u32] {
            match groups.get(members_of[r as usize] as usize) {
                Some(g) => g,
                None => std::slice::from_ref(&rep[r as usize]),
            }
        };
        // Every pair is written in place in one list made at its final size, in parallel over
        // chunks of groups and of merged pairs (each chunk knows where its pairs start), so the
        // list is never held twice; its order is the serial one.
        let group_count = |g: &Vec<u32>| {
            if g.len() <= FULL_GROUP {
                g.len() * (g.len() - 1) / 2
            } else {
                g.len() - 1
            }
        };
        let merged_count = |pr: &Pair| {
            let n = copies(pr.a).len() * copies(pr.b).len();
            if n > FULL_GROUP * FULL_GROUP {
                1
            } else {
                n
            }
        };
        let from_groups: usize = groups.par_iter().map(group_count).sum();
        let from_merged: usize = merged.par_iter().map(merged_count).sum();
        // What the places hold until filled (every one is).
        let placeholder = Pair {
            a: 0,
            b: 0,
            similarity: 1.0,
            measure: Measure::Identical,
            jaccard: 1.0,
            sentence: None,
            spans: (Span { start: 0, end: 0 }, Span { start: 0, end: 0 }),
        };
        let expand_merged = |pr: &Pair, out: &mut [Pair]| {
            let (ca, cb) = (copies(pr.a), copies(pr.b));
            if ca.len() * cb.len() > FULL_GROUP * FULL_GROUP {
                if let Some(q) = out.first_mut() {
                    *q = pr.clone();
                }
                return;
            }
            let mut slots = out.iter_mut();
            for &x in ca {
                let sx = copy_span(corpus, pr.a, x, pr.spans.0);
                for (&y, q) in cb.iter().zip(slots.by_ref()) {
                    *q = pr.clone();
                    let sy = copy_span(corpus, pr.b, y, pr.spans.1);
                    (q.a, q.b, q.spans) = if x < y {
                        (x, y, (sx, sy))
                    } else {
                        (y, x, (sy, sx))
                    };
                }
            }
        };
        // The list grows from `merged` itself (a large block, which glibc moves with `mremap`
        // rather than copying): the groups' pairs first, then the expanded merged pairs, which
        // are written after the first `from_groups` places. The merged pairs there are read
        // before the groups' pairs overwrite them; those beyond are moved aside first, as the
        // expansion would overwrite them before they are read. (A new list beside `merged`
        // made the expansion the peak of `--memory disk` at 500 MB: 861 MiB, against 798 MiB
        // before it.)
        let aside: Vec<Pair> = if merged.len() > from_groups {
            merged.split_off(from_groups)
        } else {
            Vec::new()
        };
        let kept = merged.len();
        merged.resize(from_groups + from_merged, placeholder);
        let mut pairs = merged;
        let (for_groups, for_merged) = pairs.split_at_mut(from_groups);
        let from_kept: usize = for_groups[..kept].par_iter().map(merged_count).sum();
        let (for_kept, for_aside) = for_merged.split_at_mut(from_kept.min(for_merged.len()));
        fill_in_order(&for_groups[..kept], merged_count, for_kept, expand_merged);
        fill_in_order(&aside, merged_count, for_aside, expand_merged);
        drop(aside);
        fill_in_order(&groups, group_count, for_groups, |g, out| {
            let full = g.len() <= FULL_GROUP;
            let mut slots = out.iter_mut();
            for (x, &a) in g.iter().enumerate() {
                let partners: &[u32] = if full {
                    &g[x + 1..]
                } else if x == 0 {
                    &g[1..]
                } else {
                    &[]
                };
                // Every field: the places may hold merged pairs already expanded.
                for (&b, q) in partners.iter().zip(slots.by_ref()) {
                    *q = Pair {
                        a,
                        b,
                        similarity: 1.0,
                        measure: Measure::Identical,
                        jaccard: 1.0,
                        sentence: None,
                        spans: (whole(a), whole(b)),
                    };
                }
            }
        });
        drop(members_of);
        drop((rep, groups));
        release_free_memory();
        pairs.par_sort_unstable_by_key(|q| (q.a, q.b));
        pairs.dedup_by_key(|q| (q.a, q.b));
        clock.lap("pairs expanded to copies");
        stats.pairs = pairs.len();
        let clusters = clusters_of(&pairs, n);
        clock.lap("clusters");
        Detection {
            pairs,
            clusters,
            stats,
            stages: clock.finish(),
        }
    }

    /// The stemming language of each paragraph (see [`Languages`]).
    pub(crate) fn languages(&self, corpus: &Corpus) -> Languages {
        if self.params.stem == StemMode::None || self.params.sentence_threshold.is_none() {
            return Languages {
                runs: vec![(0, None)],
            };
        }
        Languages::detect(corpus)
    }

    fn features(&self, corpus: &Corpus, languages: &Languages) -> AllFeatures {
        let p = &self.params;
        let sentences_on = p.sentence_threshold.is_some();
        let first = first_of_same_bytes(corpus);
        let blocks: Vec<Features> = corpus
            .paragraphs
            .par_chunks(BLOCK)
            .enumerate()
            .map_init(Features::new, |f, (c, chunk)| {
                let shingler = Shingler::new(p.shingle_words, p.seed);
                let mut words = Words::default();
                let mut swords = Words::default();
                let mut term_hasher: Option<(Option<Language>, TermHasher)> = None;
                // The thread's stem cache outlives the chunk (it only memoizes).
                let mut stems = take_term_cache();
                let mut buf: Vec<u32> = Vec::new();
                let mut tagged: Vec<u64> = Vec::new();
                let mut names_marked = false;
                for (k, para) in chunk.iter().enumerate() {
                    if first[c * BLOCK + k] as usize != c * BLOCK + k {
                        // A byte-for-byte copy: its counts are its first copy's (filled in
                        // below), and as it cannot represent its group it needs no shingles
                        // and no sentences.
                        f.n_words.push(0);
                        f.exact.push(0);
                        f.shingle_off.push(f.shingles.len());
                        continue;
                    }
                    let text = corpus.text(para);
                    shingle_set(&shingler, &mut words, text, &mut buf);
                    f.n_words.push(words.len() as u32);
                    f.exact.push(exact_hash(&words, p.seed));
                    f.shingles.extend_from_slice(&buf);
                    f.shingle_off.push(f.shingles.len());
                    if !sentences_on || words.len() < p.min_words {
                        continue;
                    }
                    let lang = languages.of((c * BLOCK + k) as u32);
                    if term_hasher.as_ref().map(|(l, _)| *l) != Some(lang) {
                        names_marked = lang.is_some_and(|l| l.marks_names_by_case());
                        term_hasher = Some((lang, TermHasher::new(lang, p.seed ^ 0x7e)));
                    }
                    let Some((_, th)) = term_hasher.as_ref() else {
                        continue;
                    };
                    let terms = SentenceTerms {
                        names_marked,
                        min_words: p.min_sentence_words,
                    };
                    // The paragraph's words, when they kept their positions, are cut into
                    // sentences without normalizing each sentence again.
                    let mut next_word = 0;
                    for span in segment::sentences(text) {
                        let filled = if words.has_origins() {
                            while next_word < words.len()
                                && words.origin(next_word).is_some_and(|o| o < span.start)
                            {
                                next_word += 1;
                            }
                            let from = next_word;
                            while next_word < words.len()
                                && words.origin(next_word).is_some_and(|o| o < span.end)
                            {
                                next_word += 1;
                            }
                            terms.fill_range(&words, from..next_word, &mut tagged, (&mut stems, th))
                        } else {
                            let sentence = &text[span.range()];
                            terms.fill_with(sentence, &mut swords, &mut tagged, (&mut stems, th))
                        };
                        if !filled {
                            continue;
                        }
                        f.unit_para.push(k as u32);
                        f.unit_span.push(span);
                        f.push_terms(&tagged);
                        f.term_off.push(f.terms.len());
                    }
                }
                put_term_cache(stems);
                f.take_exact()
            })
            .collect();
        let mut all = AllFeatures::join(blocks);
        for (i, &f) in first.iter().enumerate() {
            // `f < i` when not equal, so the first copy's counts are already final.
            let f = f as usize;
            if f != i {
                all.n_words[i] = all.n_words[f];
                all.exact[i] = all.exact[f];
            }
        }
        all
    }
}

/// For each paragraph of the corpus, the first paragraph (in corpus order) with the same
/// bytes: itself when none comes before it. Grouped by [`collapse_identical`] on a 64-bit hash
/// of the bytes, trusted as the hash of the normalized text is there.
///
/// A byte-for-byte copy normalizes to the same words as its first copy, so it lands in the
/// same group of identical paragraphs, whose representative is the group's first paragraph,
/// which is never such a copy: features need not be made for copies at all. Syndicated feeds
/// repeat many paragraphs verbatim: 22 % of the paragraphs of the generated 50 MB peer corpus
/// are such copies.
fn first_of_same_bytes(corpus: &Corpus) -> Vec<u32> {
    let n = corpus.paragraphs.len();
    let by_bytes: Vec<(u64, u32)> = corpus
        .paragraphs
        .par_iter()
        .enumerate()
        .with_min_len(4096)
        .map(|(i, para)| {
            (
                xxh3_64_with_seed(corpus.text(para).as_bytes(), 0x5a3e),
                i as u32,
            )
        })
        .collect();
    collapse_identical(n, by_bytes, |_| {})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, text: &str) -> String {
        serde_json::json!({ "id": id, "text": text }).to_string() + "\n"
    }

    /// Each record of a feed mixing languages has its own, wherever it stands and however few
    /// its neighbours in that language; plain-text files each have theirs.
    #[test]
    fn languages_are_per_record_in_mixed_feeds() {
        let de = include_str!("../corpus/sample/wire_de.txt");
        let en = include_str!("../corpus/sample/wire_en.txt");
        let fr = include_str!("../corpus/sample/wire_fr.txt");
        let name = |l: Option<Language>| l.map_or("none", Language::name);
        let mut mixed = record("de", de);
        for i in 0..40 {
            mixed += &record(&format!("en{i}"), en);
        }
        mixed += &record("fr", fr);
        let mut big = String::new();
        for i in 0..400 {
            let (id, text) = match i % 10 {
                0 => ("de", de),
                5 => ("fr", fr),
                _ => ("en", en),
            };
            big += &record(id, text);
        }
        // One German record among English ones, where no sample of a few would fall.
        let small = [("en", en), ("en", en), ("de", de), ("en", en)]
            .map(|(id, text)| record(id, text))
            .concat();
        // A record too short to tell, first: it sets nothing for the others.
        let mut english = record("short", "OK.");
        for i in 0..3 {
            english += &record(&format!("en{i}"), en);
        }
        let corpus = Corpus::from_bytes(
            &[
                ("mixed.jsonl", mixed.as_bytes()),
                ("de.txt", de.as_bytes()),
                ("english.jsonl", english.as_bytes()),
                ("fr.txt", fr.as_bytes()),
                ("big.jsonl", big.as_bytes()),
                ("small.jsonl", small.as_bytes()),
            ],
            &crate::input::InputOptions::default(),
            &Params::default(),
        );
        let languages = Languages::detect(&corpus);
        let got = |i: usize| name(languages.of(i as u32));
        for (i, p) in corpus.paragraphs.iter().enumerate() {
            let want = match (
                corpus.record_of_index(i).map(|r| r.record.doc.as_str()),
                p.source,
            ) {
                (Some("short"), _) => continue,
                (_, 1) | (Some("de"), _) => "german",
                (_, 3) | (Some("fr"), _) => "french",
                _ => "english",
            };
            assert_eq!(got(i), want, "paragraph {i}: {p:?}");
        }
        // Runs of paragraphs, as few as the languages allow (not one per paragraph or record).
        let changes = (1..corpus.paragraphs.len())
            .filter(|&i| got(i) != got(i - 1))
            .count();
        assert_eq!(languages.runs.len(), 1 + changes, "{:?}", languages.runs);
        assert!(languages.runs.len() < 200, "{}", languages.runs.len());
        let empty = Languages::detect(&Corpus::default());
        assert_eq!(empty.of(0), None);
    }

    /// In a plain-text file that mixes languages every paragraph long enough to tell has its
    /// own, a language a single block is in included; a file in one language is one run.
    #[test]
    fn languages_are_per_paragraph_in_mixed_text_files() {
        let de = include_str!("../corpus/sample/wire_de.txt");
        let en = include_str!("../corpus/sample/wire_en.txt");
        let fr = include_str!("../corpus/sample/wire_fr.txt");
        let es = include_str!("../corpus/sample/wire_es.txt");
        let mut mixed = String::new();
        let mut want = Vec::new();
        for i in 0..30 {
            let (name, text) = match i {
                4 | 17 => ("german", de),
                9 | 25 => ("french", fr),
                21 => ("spanish", es),
                _ => ("english", en),
            };
            mixed += text;
            want.extend(text.lines().map(|l| (name, l.len())));
        }
        let english = en.repeat(30);
        let corpus = Corpus::from_bytes(
            &[
                ("mixed.txt", mixed.as_bytes()),
                ("english.txt", english.as_bytes()),
            ],
            &crate::input::InputOptions::default(),
            &Params::default(),
        );
        let languages = Languages::detect(&corpus);
        let name = |i: usize| languages.of(i as u32).map_or("none", Language::name);
        assert_eq!(
            want.len() + english.lines().count(),
            corpus.paragraphs.len()
        );
        for (i, &(lang, len)) in want.iter().enumerate() {
            if len >= 80 {
                assert_eq!(name(i), lang, "paragraph {i}");
            }
        }
        for i in want.len()..corpus.paragraphs.len() {
            assert_eq!(name(i), "english", "paragraph {i}");
        }
        // 2 runs for each of the five blocks, and the English file joins the last one.
        assert_eq!(languages.runs.len(), 11, "{:?}", languages.runs);
    }

    /// Remembered frequencies beyond the table give the computed weights, as do frequencies
    /// that were not remembered.
    #[test]
    fn remembered_weights_are_the_computed_ones() {
        let nu = 1_000_000;
        let mut idf = Idf::new(nu);
        let dfs: Vec<u32> = (0..200_000u32)
            .map(|i| {
                if i % 3 == 0 {
                    65_536 + i % 997 * 311
                } else {
                    i % 70_000
                }
            })
            .collect();
        idf.remember(&dfs);
        assert!(!idf.big.is_empty());
        for d in dfs
            .iter()
            .copied()
            .chain([65_535, 65_537, 999_999, u32::MAX])
        {
            assert_eq!(idf.weight(d), Idf::compute(nu as f64, d), "{d}");
        }
    }

    proptest::proptest! {
        /// `fill_in_order` writes what a serial loop over the items would append, whatever
        /// the counts (zeros included) and the number of items (more than a chunk too).
        #[test]
        fn fill_in_order_is_the_serial_order(counts in proptest::collection::vec(0usize..5, 0..9000)) {
            let items: Vec<(usize, usize)> = counts.iter().copied().enumerate().collect();
            let want: Vec<(usize, usize)> = items
                .iter()
                .flat_map(|&(i, n)| (0..n).map(move |k| (i, k)))
                .collect();
            let mut got = vec![(usize::MAX, 0); want.len()];
            fill_in_order(&items, |&(_, n)| n, &mut got, |&(i, _), out| {
                for (k, slot) in out.iter_mut().enumerate() {
                    *slot = (i, k);
                }
            });
            proptest::prop_assert_eq!(got, want);
        }
    }

    /// Merging evidence in pieces, in any order, gives what merging it all at once gives (the
    /// lean detector merges as it verifies): the same kept piece per pair, with the same best
    /// sentence score, over random evidence with ties in score and several sentence matches
    /// per pair.
    #[test]
    fn merging_in_pieces_is_merging_once() {
        let mut next = crate::test_rng(0x51_7cc1_b727_220a);
        for round in 0..300 {
            let n = (next() % 200) as usize;
            let all: Vec<Pair> = (0..n)
                .map(|_| {
                    let (a, b) = ((next() % 6) as u32, (next() % 6 + 6) as u32);
                    let jaccard = next().is_multiple_of(5);
                    let score = f64::from((next() % 8) as u32) / 8.0 + 0.1;
                    let (sa, sb) = ((next() % 4) as usize * 10, (next() % 4) as usize * 10);
                    Pair {
                        a,
                        b,
                        similarity: score,
                        measure: if jaccard {
                            Measure::Jaccard
                        } else {
                            Measure::Sentence
                        },
                        jaccard: if jaccard { score } else { f64::NAN },
                        sentence: (!jaccard).then_some(score),
                        spans: (
                            Span {
                                start: sa,
                                end: sa + 5,
                            },
                            Span {
                                start: sb,
                                end: sb + 5,
                            },
                        ),
                    }
                })
                // One paragraph-level match per pair at most, as the detectors make them.
                .fold(Vec::new(), |mut v: Vec<Pair>, q| {
                    let dup = q.measure == Measure::Jaccard
                        && v.iter()
                            .any(|p| (p.a, p.b, p.measure) == (q.a, q.b, Measure::Jaccard));
                    if !dup {
                        v.push(q);
                    }
                    v
                });
            let once = merge_evidence(all.clone());
            let mut pieces = Vec::new();
            let step = 1 + (next() % 40) as usize;
            for chunk in all.chunks(step) {
                pieces.extend_from_slice(chunk);
                if next().is_multiple_of(2) {
                    pieces = merge_evidence(pieces);
                }
            }
            let merged = merge_evidence(pieces);
            let show = |v: &[Pair]| {
                v.iter()
                    .map(|q| (q.a, q.b, q.measure, q.similarity, q.sentence, q.spans))
                    .collect::<Vec<_>>()
            };
            assert_eq!(show(&merged), show(&once), "round {round}");
            assert!(once.windows(2).all(|w| (w[0].a, w[0].b) < (w[1].a, w[1].b)));
        }
    }

    /// A record gives back what was packed into it, for odd and even numbers of terms, with
    /// each term's weight the IDF of its document frequency and its total their sum.
    #[test]
    fn records_round_trip() {
        use verify::Sentence;
        // Terms use all 32 bits, two to a word in the record.
        let terms: [&[u32]; 4] = [
            &[5, 9, 0xffff_fff0],
            &[1, 2, 3, u32::MAX],
            &[],
            &[
                0x8000_0000,
                0x8000_0001,
                0x9000_0000,
                0xa000_0000,
                0xb000_0000,
            ],
        ];
        let dfs: [&[u32]; 4] = [&[1, 70_000, 3], &[2, 2, 0, 1 << 20], &[], &[7, 6, 5, 4, 3]];
        let names: [&[bool]; 4] = [
            &[true, false, true],
            &[false, false, true, true],
            &[],
            &[true, true, false, false, true],
        ];
        let records = Records::pack(4, Idf::new(100_000), |k| {
            (k as u32 + 10, terms[k], dfs[k], names[k].iter().copied())
        });
        assert_eq!(records.len(), 4);
        for k in 0..4 {
            let r = records.get(k);
            assert_eq!((r.para(), r.len()), (k as u32 + 10, terms[k].len()));
            let total: f64 = (0..r.len()).map(|i| f64::from(r.weight(i))).sum();
            assert_eq!(r.total(), total);
            for i in 0..r.len() {
                assert_eq!(r.key(i), terms[k][i]);
                assert_eq!(r.df(i), dfs[k][i]);
                let want = ((100_001.0 / (f64::from(dfs[k][i]) + 0.5)).ln().max(0.0)) as f32;
                assert_eq!(r.weight(i), want);
                assert_eq!(r.name(i), names[k][i]);
            }
        }
    }

    /// A sentence's terms are its words' stemmed hashes folded to 32 bits, in the top half
    /// of the 64-bit values the lean detector's tables bucket by their top bits (all in one
    /// bucket, its vocabulary look-ups were linear scans), and they fold back to the term.
    #[test]
    fn sentence_terms_hold_the_folded_hash_in_the_top_half() {
        let th = TermHasher::new(None, 11);
        let mut cache = TermCache::new(64);
        let terms = SentenceTerms {
            names_marked: true,
            min_words: 1,
        };
        let (mut words, mut tagged) = (Words::default(), Vec::new());
        assert!(terms.fill_with(
            "Reuters said the vote was close",
            &mut words,
            &mut tagged,
            (&mut cache, &th)
        ));
        let mut want: Vec<u64> = ["reuters", "said", "the", "vote", "was", "close"]
            .iter()
            .map(|w| u64::from(crate::minhash::fold(th.hash(w))) << 32)
            .collect();
        want.sort_unstable();
        assert_eq!(
            tagged.iter().map(|&t| tag_term(t)).collect::<Vec<_>>(),
            want
        );
        let hasher = crate::minhash::MinHasher::new(8, 1);
        for t in tagged.iter().map(|&t| tag_term(t)) {
            let (mut a, mut b) = (vec![0; 8], vec![0; 8]);
            hasher.sign_weighted(&[(t, 1.0)], &mut a);
            hasher.sign_weighted(&[(t >> 32, 1.0)], &mut b);
            assert_eq!(a, b);
        }
    }

    /// Each occurrence's document frequency is the number of units holding its term, with
    /// 32-bit and with word-sized positions, over units taken in any order and terms spread
    /// over all 64 parts (the top bits) and beyond one sorting bucket (1,024 occurrences).
    #[test]
    fn document_frequencies_count_the_units_holding_each_term() {
        let mut next = 0x2545_f491_4f6c_dd1du64;
        let mut draw = |n: u64| {
            next ^= next << 13;
            next ^= next >> 7;
            next ^= next << 17;
            next % n
        };
        // 40,000 units of up to 12 distinct terms from a vocabulary of 5,000 spread over the
        // whole 32-bit range: about 3,700 occurrences a part.
        let vocab: Vec<u32> = (0..5000u32).map(|i| i.wrapping_mul(0x9e37_79b9)).collect();
        let sets: Vec<Vec<u32>> = (0..40_000)
            .map(|_| {
                let mut v: Vec<u32> = (0..draw(13)).map(|_| vocab[draw(5000) as usize]).collect();
                v.sort_unstable();
                v.dedup();
                v
            })
            .collect();
        let units: Vec<u32> = (0..40_000u32).rev().filter(|u| u % 7 != 3).collect();
        let mut offsets = vec![0usize];
        let mut holding = std::collections::HashMap::new();
        for &u in &units {
            offsets.push(offsets[offsets.len() - 1] + sets[u as usize].len());
            for &t in &sets[u as usize] {
                *holding.entry(t).or_insert(0u32) += 1;
            }
        }
        let want: Vec<u32> = units
            .iter()
            .flat_map(|&u| sets[u as usize].iter().map(|t| holding[t]))
            .collect();
        assert!(want.len() > 64 * 2048, "{} occurrences", want.len());
        let terms = |u: usize| sets[u].as_slice();
        assert_eq!(document_frequencies(&units, &offsets, terms), want);
        assert_eq!(count_frequencies::<u32>(&units, &offsets, &terms), want);
        assert_eq!(count_frequencies::<usize>(&units, &offsets, &terms), want);
    }

    /// Identical sentences in different paragraphs are signed and verified once as a group;
    /// the pairs and counters are those of the disk-backed detector, which takes every
    /// sentence on its own: with groups larger than the sentence bucket cap (chained), groups
    /// that share buckets with a near copy, groups within one paragraph, and caps from 2 up.
    #[test]
    fn identical_sentences_give_the_pairs_of_sentences_taken_one_by_one() {
        let s = "The regional water authority confirmed on Thursday that the reservoir \
                 pipeline burst near Halden.";
        let near = "The regional water authority confirmed on Friday that the reservoir \
                    pipeline burst near Halden.";
        let t = "Investigators from the transport safety board examined the twisted carriages \
                 overnight in heavy rain.";
        let filler = |i: usize| {
            let w: Vec<String> = (0..10).map(|j| format!("w{i}x{j}")).collect();
            // A sentence of its own: capitalized, after a full stop.
            format!("Notes {}.", w.join(" "))
        };
        let mut text = String::new();
        // Terms held by at most 64 sentences are always signed (`Idf::common`): 50 copies and
        // 10 near copies keep this sentence's terms under that.
        for i in 0..50 {
            text.push_str(&format!("{s} {}\n", filler(i)));
        }
        for i in 80..90 {
            text.push_str(&format!("{near} {}\n", filler(i)));
        }
        for i in 90..110 {
            text.push_str(&format!("{} {t}\n", filler(i)));
        }
        text.push_str(&format!("{t} {} {t}\n", filler(110)));
        for cap in [2, 8, 64, 500] {
            let params = Params {
                max_sentence_bucket: cap,
                ..Params::default()
            };
            let corpus = Corpus::from_texts(&[("feed", text.as_str())], &params);
            let detector = Detector::new(params).unwrap();
            let full = detector.detect(&corpus);
            let spilled = detector.detect_spilled(&corpus, None).unwrap();
            let by_sentence = full
                .pairs
                .iter()
                .filter(|q| q.measure == Measure::Sentence)
                .count();
            // Chained or not, the copies of each sentence and the near copies end up connected.
            assert!(by_sentence >= 49 + 9 + 20, "cap {cap}: {by_sentence}");
            assert_eq!(full.clusters.len(), 2, "cap {cap}");
            assert_eq!(spilled.stats, full.stats, "cap {cap}");
            assert_eq!(spilled.pairs, full.pairs, "cap {cap}");
            assert_eq!(spilled.clusters, full.clusters, "cap {cap}");
        }
    }

    /// The Jaccard a pair found by a sentence reports is its two paragraphs' shingle Jaccard,
    /// computed here from their texts: in the seed article and the bundled sample's English,
    /// German and French wire stories and copies, whose pairs span several of the debug build's
    /// chunks.
    #[test]
    fn sentence_pairs_report_their_shingle_jaccard() {
        let texts = [
            (
                "seed",
                include_str!("../corpus/seed/000_eabddb1ef9b5a4a1.txt"),
            ),
            ("wire_en", include_str!("../corpus/sample/wire_en.txt")),
            (
                "copy_news",
                include_str!("../corpus/sample/copy_news_site.txt"),
            ),
            (
                "copy_daily",
                include_str!("../corpus/sample/copy_regional_daily.txt"),
            ),
            ("wire_de", include_str!("../corpus/sample/wire_de.txt")),
            ("copy_de", include_str!("../corpus/sample/copy_de.txt")),
            ("wire_fr", include_str!("../corpus/sample/wire_fr.txt")),
            ("copy_fr", include_str!("../corpus/sample/copy_fr.txt")),
        ];
        let p = Params::default();
        let corpus = Corpus::from_texts(&texts, &p);
        let found = Detector::new(p.clone()).map(|d| d.detect(&corpus));
        let found = found.unwrap_or_else(|e| panic!("{e}"));
        let shingler = Shingler::new(p.shingle_words, p.seed);
        let mut words = Words::default();
        let mut set = |i: u32| {
            let mut out = Vec::new();
            let text = corpus.text(&corpus.paragraphs[i as usize]);
            shingle_set(&shingler, &mut words, text, &mut out);
            out
        };
        let mut sides = Vec::new();
        for q in found
            .pairs
            .iter()
            .filter(|q| q.measure == Measure::Sentence)
        {
            let want = verify::jaccard(&set(q.a), &set(q.b));
            assert_eq!(q.jaccard, want, "{} {}", q.a, q.b);
            sides.extend([q.a, q.b]);
        }
        sides.sort_unstable();
        sides.dedup();
        assert!(sides.len() > 12, "{}", sides.len());
    }

    /// Byte-for-byte copies point at their first copy, across sources; paragraphs that only
    /// normalize the same do not.
    #[test]
    fn copies_point_at_their_first_copy() {
        let p = Params::default();
        let corpus = Corpus::from_texts(
            &[
                ("a", "one two three\nfour five six\none two three\n"),
                ("b", "One two three.\none two three\nfour five six\nseven\n"),
            ],
            &p,
        );
        assert_eq!(first_of_same_bytes(&corpus), vec![0, 1, 0, 3, 0, 1, 6]);
        let found = Detector::new(p).map(|d| d.detect(&corpus));
        let identical: Vec<(u32, u32)> = found
            .map(|f| {
                f.pairs
                    .iter()
                    .filter(|q| q.measure == Measure::Identical)
                    .map(|q| (q.a, q.b))
                    .collect()
            })
            .unwrap_or_default();
        // The copies and the differently punctuated paragraph are all one group.
        assert!(identical.contains(&(0, 3)) && identical.contains(&(2, 4)));
    }

    /// Cutting a paragraph's words into sentences gives the terms that normalizing each
    /// sentence on its own gives, in every script, and paragraphs that need the NFKC
    /// normalizer (which loses positions) say so.
    #[test]
    fn sentence_terms_from_paragraph_words_equal_those_from_sentence_text() {
        let paragraphs = [
            "Mr. Smith went to Washington. He said: \"It is over!\" Then U.S. officials left! (Reuters) 3 more came.",
            "Die Polizei hat am Montag vier Männer festgenommen. „Wir ermitteln“, sagte Dr. Weber. Straße!",
            "Полиция задержала четырёх мужчин. Они, по словам г. Иванова, из Дагестана. Всё.",
            "L’Élysée a dit « non ». ¿Qué pasó? ¡Nada! Él dijo: «sí».",
            "  Leading space.   Trailing space and  doubled  spaces.  ",
        ];
        let th = TermHasher::new(None, 3);
        let mut cache = TermCache::new(64);
        for names_marked in [false, true] {
            let terms = SentenceTerms {
                names_marked,
                min_words: 1,
            };
            for text in paragraphs {
                let mut words = Words::default();
                words.normalize(text);
                assert!(words.has_origins(), "{text}");
                let (mut swords, mut a, mut b) = (Words::default(), Vec::new(), Vec::new());
                let mut next = 0;
                for span in segment::sentences(text) {
                    let from = next;
                    while next < words.len() && words.origin(next).is_some_and(|o| o < span.end) {
                        next += 1;
                    }
                    let got_a = terms.fill_range(&words, from..next, &mut a, (&mut cache, &th));
                    let got_b = terms.fill_with(
                        &text[span.range()],
                        &mut swords,
                        &mut b,
                        (&mut cache, &th),
                    );
                    assert_eq!(got_a, got_b, "{text}");
                    assert_eq!(a, b, "{}", &text[span.range()]);
                }
                assert_eq!(next, words.len(), "every word is in a sentence: {text}");
            }
        }
        let mut words = Words::default();
        for text in [
            "The ﬁrst ligature. Another sentence.",
            "An ellipsis… Then more.",
        ] {
            words.normalize(text);
            assert!(!words.has_origins(), "{text}");
        }
    }

    /// Clusters over random sorted pairs: the members are the connected components (checked
    /// against a plain union-find), ordered by first member, and each cluster lists, in
    /// order, exactly the indexes of the pairs whose paragraphs it holds.
    #[test]
    fn clusters_list_their_components_and_their_pairs_in_order() {
        let mut next = crate::test_rng(0xc1_05e5);
        for round in 0..200 {
            let n = 1 + (next() % 60) as usize;
            let mut ab: Vec<(u32, u32)> = (0..next() % 80)
                .map(|_| ((next() % n as u64) as u32, (next() % n as u64) as u32))
                .filter(|&(a, b)| a < b)
                .collect();
            ab.sort_unstable();
            ab.dedup();
            let pairs: Vec<Pair> = ab
                .iter()
                .map(|&(a, b)| Pair {
                    a,
                    b,
                    similarity: 1.0,
                    measure: Measure::Identical,
                    jaccard: 1.0,
                    sentence: None,
                    spans: (Span { start: 0, end: 0 }, Span { start: 0, end: 0 }),
                })
                .collect();
            let mut parent: Vec<usize> = (0..n).collect();
            fn root(parent: &mut [usize], mut x: usize) -> usize {
                while parent[x] != x {
                    x = parent[x];
                }
                x
            }
            for &(a, b) in &ab {
                let (ra, rb) = (root(&mut parent, a as usize), root(&mut parent, b as usize));
                parent[ra.max(rb)] = ra.min(rb);
            }
            let mut want: std::collections::BTreeMap<usize, Vec<u32>> = Default::default();
            for &(a, b) in &ab {
                for x in [a, b] {
                    want.entry(root(&mut parent, x as usize))
                        .or_default()
                        .push(x);
                }
            }
            let mut want: Vec<Vec<u32>> = want
                .into_values()
                .map(|mut m| {
                    m.sort_unstable();
                    m.dedup();
                    m
                })
                .collect();
            want.sort_unstable_by_key(|m| m[0]);
            let got = clusters_of(&pairs, n);
            assert_eq!(got.len(), want.len(), "round {round}");
            for (id, (c, m)) in got.iter().zip(&want).enumerate() {
                assert_eq!(c.id, id);
                assert_eq!(&c.members, m, "round {round}");
                let mine: Vec<usize> = (0..pairs.len())
                    .filter(|&k| m.binary_search(&pairs[k].a).is_ok())
                    .collect();
                assert_eq!(c.pairs, mine, "round {round} cluster {id}");
            }
        }
    }

    /// Name flags kept as bits give back, sentence by sentence, the flags of the tags pushed,
    /// across word boundaries of the bit set and after the block's scratch is taken.
    #[test]
    fn name_bits_give_back_each_sentences_flags() {
        let mut next = crate::test_rng(0x4a3e_5b17);
        let mut f = Features::new();
        for _ in 0..3 {
            let sentences: Vec<Vec<u64>> = (0..40)
                .map(|_| {
                    (0..next() % 150)
                        .map(|_| (next() & !u64::from(u32::MAX)) | (next() & 1))
                        .collect()
                })
                .collect();
            for tagged in &sentences {
                f.push_terms(tagged);
                f.term_off.push(f.terms.len());
            }
            let block = f.take_exact();
            for (u, tagged) in sentences.iter().enumerate() {
                let want: Vec<bool> = tagged.iter().map(|&t| tag_is_name(t)).collect();
                let terms: Vec<u32> = tagged.iter().map(|&t| (t >> 32) as u32).collect();
                assert_eq!(block.names(u).collect::<Vec<bool>>(), want, "sentence {u}");
                assert_eq!(block.terms(u), &terms[..], "sentence {u}");
            }
        }
    }
}
