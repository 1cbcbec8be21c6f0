//! Memory-lean detection, for batch dedup and for `scan --memory disk`:
//! [`Detector::detect_lean`] finds the same verified pairs and clusters as [`Detector::detect`],
//! and returns them as [`Matches`], the compact form [`crate::dedup::Plan`] decides from;
//! [`Detector::detect_spilled`] returns them as the [`Detection`] that `detect` returns (spans
//! included), the pairs expanded to every copy once found.
//!
//! [`Detector::detect`] keeps every paragraph's shingle set, every sentence's stemmed terms and
//! every full signature in memory, then expands the pairs found between representatives of
//! identical paragraphs to all their copies. On a 1 GB feed that is several gigabytes. Here:
//!
//! 1. per paragraph only the word count and the hash of its normalized text are kept (12
//!    bytes), to collapse identical paragraphs as before;
//! 2. the representatives are signed in batches, in parallel; of each signature only the LSH
//!    band keys are kept, and those are written to an unnamed temporary file (`KeySpill`,
//!    band-major per batch), so neither shingles nor signatures stay in memory;
//! 3. candidates come from one band at a time, read back from the file and grouped by sorting,
//!    with the same keys, bucket caps and chaining as [`crate::lsh::candidate_pairs`];
//! 4. paragraph candidates are verified in batches: the shingle sets of the paragraphs a batch
//!    needs are derived again from the text, which is memory-mapped;
//! 5. sentence level: document frequencies are counted in a first pass into sorted
//!    `(term, count)` tables, one per range of term hashes (each batch's counts merged into
//!    them in place, in parallel), sentences are located by `(paragraph, byte range)` (12
//!    bytes each), and their terms go to a temporary file (4 bytes each; their name flags to
//!    a bit set); a second pass reads them back, signs the sentences with the IDF weights and
//!    writes each one's terms, as vocabulary indexes with their name flag and document
//!    frequency (8 bytes, `pack_term`), to another temporary file; verification reads them
//!    back in blocks, taking the candidates block pair by block pair;
//! 6. pairs stay between representatives: [`Matches::pair`] answers for any two paragraphs as
//!    the expanded list of [`Detection::pairs`] would, without building it.
//!
//! Same keys, same candidates, same verification: the pairs, clusters and counters are those of
//! [`Detector::detect`], so `syndup dedup` writes the same bytes either way.
//!
//! The `syndup` binary also fixes glibc's mmap threshold at 4 MB when it detects this way
//! (`mallopt(M_MMAP_THRESHOLD, 4 << 20)`): by default glibc raises the threshold as large
//! blocks are freed and keeps the freed blocks below it, which at 500 MB added about 80 MB to
//! the peak. The library leaves the process's allocator alone; a program that calls these
//! functions for their low peak can set the same.
//!
//! ```
//! use syndup::{input::Corpus, Detector, Params};
//! let params = Params::default();
//! let corpus = Corpus::from_texts(&[
//!     ("a.txt", "The storm closed every road into the valley on Tuesday, officials said.\nUnrelated line about football scores and the weekend weather.\n"),
//!     ("b.txt", "Officials said the storm closed every road into the valley on Tuesday.\n"),
//! ], &params);
//! let detector = Detector::new(params)?;
//! let lean = detector.detect_lean(&corpus, None)?;
//! let full = detector.detect(&corpus);
//! assert_eq!(lean.clusters(), full.clusters.len());
//! assert_eq!(lean.pair(0, 2), full.pair(0, 2));
//! assert!(lean.pair(0, 2).is_some() && lean.pair(0, 1).is_none());
//! # Ok::<(), syndup::Error>(())
//! ```

use std::fs::File;
#[cfg(not(unix))]
use std::io::Read;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
#[cfg(not(unix))]
use std::sync::Mutex;

use rayon::prelude::*;

use crate::cluster;
use crate::detect::{
    collapse_identical, exact_hash, merge_evidence, prefetch, tag_is_name, tag_term, whole_span,
    Detection, Detector, Evidence, Idf, Languages, Measure, Pair, Rank, SentenceTerms, Stats,
    FULL_GROUP,
};
use crate::error::{Error, Result};
use crate::input::Corpus;
use crate::lsh;
use crate::normalize::Words;
use crate::params::Params;
use crate::segment;
use crate::segment::Span;
use crate::shingle::{Language, Shingler, TermCache, TermHasher};
use crate::timing::Clock;
use crate::verify;

/// A verified pair between representatives of identical paragraphs.
#[derive(Clone, Copy, Debug, PartialEq)]
struct RepPair {
    a: u32,
    b: u32,
    similarity: f64,
    measure: Measure,
    /// A sentence match's byte ranges, in `a`'s text then `b`'s (zero for a paragraph match,
    /// whose spans are the whole paragraphs).
    spans: [u32; 4],
    /// The best sentence score among the pair's matches (NaN: none).
    sentence: f64,
}

impl Evidence for RepPair {
    fn rank(&self) -> Rank {
        let starts = (self.spans[0] as usize, self.spans[2] as usize);
        ((self.a, self.b), self.measure, self.similarity, starts)
    }
    fn best_sentence(&self) -> Option<f64> {
        (!self.sentence.is_nan()).then_some(self.sentence)
    }
    fn note_sentence(&mut self, score: f64) {
        self.sentence = if self.sentence.is_nan() {
            score
        } else {
            self.sentence.max(score)
        };
    }
}

/// What both entry points of the lean detector start from: the groups of identical
/// paragraphs, the best evidence of each pair of representatives, and the counters.
struct Found {
    rep: Vec<u32>,
    group_len: Vec<u32>,
    /// Best evidence per pair of representatives, sorted by `(a, b)`.
    pairs: Vec<RepPair>,
    /// Identical copies joined to their group's first: `(first, copy)`.
    edges: Vec<(u32, u32)>,
    /// Pairs of identical copies [`Detector::detect`] lists.
    identical_pairs: usize,
    stats: Stats,
}

/// The verified matches of a detection, compactly: the representative of each paragraph's
/// group of identical copies, the pairs verified between representatives, and the clusters.
/// Made by [`Detector::detect_lean`]; [`Matches::pair`] answers for any two paragraphs as
/// [`Detection::pairs`] would.
#[derive(Clone, Debug, Default)]
pub struct Matches {
    /// Per paragraph: the first paragraph with the same normalized text (itself if none).
    rep: Vec<u32>,
    /// Per paragraph: the size of its identical group when it is a group's first member, else 1.
    group_len: Vec<u32>,
    /// Pairs between representatives, sorted by `(a, b)`: their similarity and measure.
    pairs: Vec<(u32, u32, f64, Measure)>,
    /// Per paragraph: its cluster (`u32::MAX`: none).
    cluster_of: Vec<u32>,
    /// Number of clusters.
    clusters: usize,
    /// Paragraphs in clusters.
    members: usize,
    /// Counters, as [`Detection::stats`].
    stats: Stats,
}

impl Matches {
    /// The similarity and measure of the verified pair of paragraphs `a` and `b` (in either
    /// order), if [`Detector::detect`] lists that pair.
    pub fn pair(&self, a: u32, b: u32) -> Option<(f64, Measure)> {
        let (a, b) = (a.min(b), a.max(b));
        let (ra, rb) = (*self.rep.get(a as usize)?, *self.rep.get(b as usize)?);
        let len = |r: u32| self.group_len.get(r as usize).copied().unwrap_or(1) as usize;
        if ra == rb {
            // One group of identical copies: listed in full up to FULL_GROUP members, beyond
            // that each member with the first only.
            return (a != b && (len(ra) <= FULL_GROUP || a == ra))
                .then_some((1.0, Measure::Identical));
        }
        let key = (ra.min(rb), ra.max(rb));
        let k = self.pairs.binary_search_by(|q| (q.0, q.1).cmp(&key)).ok()?;
        if len(ra) * len(rb) > FULL_GROUP * FULL_GROUP && (a, b) != key {
            return None;
        }
        let q = &self.pairs[k];
        Some((q.2, q.3))
    }

    /// The number of clusters.
    pub fn clusters(&self) -> usize {
        self.clusters
    }

    /// The cluster of paragraph `p` (clusters numbered from 0 in order of first member).
    pub fn cluster_of(&self, p: u32) -> Option<u32> {
        self.cluster_of
            .get(p as usize)
            .copied()
            .filter(|&c| c != u32::MAX)
    }

    /// Paragraphs that belong to a cluster.
    pub fn duplicate_paragraphs(&self) -> usize {
        self.members
    }

    /// The counters (`pairs` counts the pairs [`Detector::detect`] would list).
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

impl Detection {
    /// The similarity and measure of the verified pair of paragraphs `a` and `b` (in either
    /// order), if there is one.
    pub fn pair(&self, a: u32, b: u32) -> Option<(f64, Measure)> {
        let key = (a.min(b), a.max(b));
        self.pairs
            .binary_search_by(|q| (q.a, q.b).cmp(&key))
            .ok()
            .map(|k| (self.pairs[k].similarity, self.pairs[k].measure))
    }
}

// Batch sizes are small in debug builds, so that the tests cross batch boundaries.
/// Units signed per batch (their band keys are written to the spill file per batch). A batch's
/// keys and terms are held twice (as made and as written), about 0.7 kB a unit at the default
/// 51 bands: with 1 << 16 units the heap during pass 2 at 500 MB was about 45 MB larger
/// (RssAnon about 400 MB rather than 355 MB).
const SIGN_BATCH: usize = if cfg!(debug_assertions) {
    1 << 8
} else {
    1 << 14
};
/// Units per parallel task.
const CHUNK: usize = if cfg!(debug_assertions) {
    1 << 5
} else {
    1 << 9
};
/// Candidate pairs verified per batch (the texts of at most twice as many units are derived).
const VERIFY_BATCH: usize = if cfg!(debug_assertions) {
    1 << 8
} else {
    1 << 16
};
/// Paragraphs per batch of the document-frequency pass: at most this many, an eighth of the
/// paragraphs on smaller inputs, at least [`DF_BATCH_MIN`].
const DF_BATCH: usize = if cfg!(debug_assertions) {
    1 << 8
} else {
    1 << 16
};
/// The least batch of the document-frequency pass (below [`DF_BATCH`] in debug builds too, so
/// that the tests take batches of both kinds).
const DF_BATCH_MIN: usize = if cfg!(debug_assertions) {
    1 << 4
} else {
    1 << 10
};

/// An unnamed temporary file (deleted when dropped, and by the system if the process dies),
/// written at its end and read at any offset, by several threads at once on Unix (`pread`).
struct TempFile {
    file: File,
    dir: PathBuf,
    end: u64,
    /// Elsewhere a read is a seek and a read, one thread at a time.
    #[cfg(not(unix))]
    reading: Mutex<()>,
}

impl TempFile {
    fn new(dir: Option<&Path>) -> Result<TempFile> {
        let dir = dir.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let file = tempfile::tempfile_in(&dir).map_err(|source| Error::TempFile {
            dir: dir.clone(),
            source,
        })?;
        Ok(TempFile {
            file,
            dir,
            end: 0,
            #[cfg(not(unix))]
            reading: Mutex::new(()),
        })
    }

    fn err(&self, source: std::io::Error) -> Error {
        Error::TempFile {
            dir: self.dir.clone(),
            source,
        }
    }

    /// Appends `bytes`; returns where they start.
    fn append(&mut self, bytes: &[u8]) -> Result<u64> {
        let at = self.end;
        // `&mut self`: no read runs meanwhile.
        let mut file = &self.file;
        let written = file
            .seek(SeekFrom::Start(at))
            .and_then(|_| file.write_all(bytes));
        written.map_err(|e| self.err(e))?;
        self.end += bytes.len() as u64;
        Ok(at)
    }

    /// Fills `buf` from `offset`.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        #[cfg(unix)]
        let read = std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, offset);
        #[cfg(not(unix))]
        let read = {
            let _one = self.reading.lock().unwrap_or_else(|e| e.into_inner());
            let mut file = &self.file;
            file.seek(SeekFrom::Start(offset))
                .and_then(|_| file.read_exact(buf))
        };
        read.map_err(|e| self.err(e))
    }

    /// [`TempFile::read_at`] in two halves read at once (on Unix; one after the other
    /// elsewhere), for large reads from the page cache, where one thread's copy is the limit.
    fn read_at_parallel(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let half = buf.len() / 2;
        let (first, second) = buf.split_at_mut(half);
        let (a, b) = rayon::join(
            || self.read_at(offset, first),
            || self.read_at(offset + half as u64, second),
        );
        a.and(b)
    }
}

/// LSH band keys of many units in a [`TempFile`]: written batch by batch, band-major inside
/// each batch, and read back one band at a time.
struct KeySpill {
    file: TempFile,
    bands: usize,
    /// Per batch: its offset in the file and its number of units.
    batches: Vec<(u64, usize)>,
    buf: Vec<u8>,
}

impl KeySpill {
    fn new(dir: Option<&Path>, bands: usize) -> Result<KeySpill> {
        Ok(KeySpill {
            file: TempFile::new(dir)?,
            bands,
            batches: Vec::new(),
            buf: Vec::new(),
        })
    }

    /// Appends one batch: chunks of `(units, keys)`, each chunk's keys band-major
    /// (`keys[band * units + i]`).
    fn push(&mut self, chunks: &[(usize, Vec<u32>)]) -> Result<()> {
        let units: usize = chunks.iter().map(|c| c.0).sum();
        self.buf.clear();
        for band in 0..self.bands {
            for (len, keys) in chunks {
                for k in &keys[band * len..(band + 1) * len] {
                    self.buf.extend_from_slice(&k.to_le_bytes());
                }
            }
        }
        let at = self.file.append(&self.buf)?;
        self.batches.push((at, units));
        Ok(())
    }

    /// The entries ([`lsh::entry`]) of one band, in unit order; `ids` names the units (their
    /// position when `None`). `bytes` is a buffer for the reads.
    fn band(
        &self,
        band: usize,
        ids: Option<&[u32]>,
        out: &mut Vec<u64>,
        bytes: &mut Vec<u8>,
    ) -> Result<()> {
        out.clear();
        let mut pos = 0usize;
        for &(offset, units) in &self.batches {
            bytes.resize(units * 4, 0);
            self.file
                .read_at(offset + (band * units * 4) as u64, bytes)?;
            for (i, b) in bytes.chunks_exact(4).enumerate() {
                let mut k = [0u8; 4];
                k.copy_from_slice(b);
                let id = match ids {
                    Some(ids) => ids.get(pos + i).copied().unwrap_or(u32::MAX),
                    None => (pos + i) as u32,
                };
                out.push(lsh::entry(u32::from_le_bytes(k), id));
            }
            pos += units;
        }
        Ok(())
    }

    /// Candidate pairs of the spilled units, sorted and distinct, as
    /// [`lsh::candidate_pairs`] gives them (with the same budget of pairs per band,
    /// [`lsh::BandBudget`]). Bands run in parallel, as many at a time as there
    /// are threads, each thread reusing its buffers from band to band; each band's pairs are
    /// merged into the sorted list in place, so memory holds the distinct pairs plus those of
    /// the bands at work.
    ///
    /// The list is kept in parts by first unit (each part's pairs come before the next
    /// part's), merged in parallel and each small enough to stay in cache; they are joined at
    /// the end. At 500 MB the sentence level's 51 bands propose 55.3 million pairs, 7.5
    /// million of them distinct: merged into one list, on one thread, that took 1.6-1.9 s of
    /// its 4.2 s. Fresh buffers for each band cost 0.75 million page faults (1.5 s of system
    /// time). A band's pairs are made and sorted in its two entry buffers (packed in a `u64`
    /// each, the first unit on top), so a thread holds no more than those two.
    fn candidates(&self, ids: Option<&[u32]>, max_bucket: usize) -> Result<Vec<(u32, u32)>> {
        let threads = rayon::current_num_threads().max(1);
        let bands: Vec<usize> = (0..self.bands).collect();
        // Units are numbered below `n`; part `k` holds the pairs whose first unit `x` has
        // `x * parts / n == k`.
        let n = match ids {
            Some(ids) => ids.iter().max().map_or(0, |&m| m as usize + 1),
            None => self.batches.iter().map(|b| b.1).sum(),
        };
        let parts = (n / 16_384).clamp(1, 1024);
        // The units banded, for each band's budget of pairs (as in `lsh::BandKeys`).
        let units = ids.map_or(n, <[u32]>::len);
        // In 64 bits: `x * parts` passes 2^32 from about 8.4 million units.
        let part_of = |packed: u64| {
            ((packed >> 32) * parts as u64 / n.max(1) as u64).min(parts as u64 - 1) as usize
        };
        let mut all: Vec<Vec<u64>> = vec![Vec::new(); parts];
        let mut bufs: Vec<BandBuffers> = (0..threads).map(|_| BandBuffers::default()).collect();
        for group in bands.chunks(threads) {
            group
                .par_iter()
                .zip(bufs.par_iter_mut())
                .try_for_each(|(&band, b)| -> Result<()> {
                    self.band(band, ids, &mut b.entries, &mut b.bytes)?;
                    lsh::sort_entries(&mut b.entries, &mut b.pairs);
                    b.pairs.clear();
                    let bound = lsh::entries_bound(
                        &b.entries,
                        units,
                        max_bucket,
                        lsh::BandBudget::default(),
                        &mut b.sizes,
                    );
                    lsh::bucket_pairs_packed(&b.entries, bound, &mut b.pairs);
                    // Shifted so that the first units' top bits lead (as `sort_pairs`).
                    let shift = b
                        .pairs
                        .iter()
                        .max()
                        .map_or(0, |&p| p.leading_zeros().min(63));
                    lsh::sort_by_bits(&mut b.pairs, &mut b.entries, |&p| p << shift);
                    b.pairs.dedup();
                    // Where each part's pairs start in the sorted list.
                    b.starts.clear();
                    b.starts
                        .extend((0..=parts).map(|k| b.pairs.partition_point(|&p| part_of(p) < k)));
                    Ok(())
                })?;
            let found = &bufs[..group.len()];
            all.par_iter_mut().enumerate().for_each(|(k, part)| {
                for b in found {
                    lsh::merge_into(part, &b.pairs[b.starts[k]..b.starts[k + 1]]);
                }
            });
        }
        drop(bufs);
        let mut joined = Vec::with_capacity(all.iter().map(Vec::len).sum());
        for part in all {
            joined.extend(part.iter().map(|&p| ((p >> 32) as u32, p as u32)));
        }
        Ok(joined)
    }
}

/// What one thread of [`KeySpill::candidates`] reuses from band to band: the bytes read, and
/// two buffers that hold the band's entries and its pairs, each the other's sorting scratch.
#[derive(Clone, Default)]
struct BandBuffers {
    bytes: Vec<u8>,
    entries: Vec<u64>,
    pairs: Vec<u64>,
    /// Where each part's pairs start in `pairs`, and their end.
    starts: Vec<usize>,
    /// The member counts of a band's buckets.
    sizes: Vec<usize>,
}

/// A sentence taking part in sentence-level matching: its paragraph and byte range in it.
#[derive(Clone, Copy, Debug)]
struct Unit {
    para: u32,
    start: u32,
    end: u32,
}

/// The sentences of one chunk of pass 2: their packed terms, and the ids and band keys of
/// those signed.
#[derive(Default)]
struct Signed {
    terms: Vec<u64>,
    ids: Vec<u32>,
    keys: Vec<u32>,
}

/// One side of a sentence pair being verified: its packed terms ([`pack_term`]) read in place,
/// each weight from its document frequency as it is needed. Most candidates share too few
/// terms, and [`verify::overlap_at_least`] stops on them before reading the weights or the
/// total; unpacking both sides' terms, weights and total into buffers first took most of the
/// verification's time.
#[derive(Clone, Copy)]
struct Packed<'a>(&'a [u64], &'a Idf);

impl verify::Sentence for Packed<'_> {
    type Key = u32;
    fn len(&self) -> usize {
        self.0.len()
    }
    fn key(&self, i: usize) -> u32 {
        unpack_term(self.0[i]).0
    }
    fn weight(&self, i: usize) -> f32 {
        self.1.weight(unpack_term(self.0[i]).2)
    }
    fn name(&self, i: usize) -> bool {
        unpack_term(self.0[i]).1
    }
    /// Summed in term order, as [`Detector::detect`]'s records are.
    fn total(&self) -> f64 {
        self.0
            .iter()
            .map(|&v| f64::from(self.1.weight(unpack_term(v).2)))
            .sum()
    }
    /// The vocabulary indexes, out of the packed words.
    fn copy_keys32(&self, out: &mut [u32]) -> bool {
        for (o, &v) in out.iter_mut().zip(self.0) {
            *o = unpack_term(v).0;
        }
        true
    }
}

/// Positions in a strictly increasing array of hashes (the sentence vocabulary), found through
/// a table of where each value of the top bits starts: two to four hashes per bucket, so a
/// look-up reads one table entry and one or two cache lines of the array, 1 to 2 bytes of table
/// per hash. (Interpolation with galloping, which it replaced, probed up to a dozen lines of an
/// array of millions: the bracket around a uniform guess is thousands of entries wide. At
/// 500 MB the look-ups were 60 % of the sentence pass.)
struct HashIndex {
    /// Bits of the bucket number.
    bits: u32,
    /// Where each bucket starts in the array, and its length at the end.
    first: Vec<u32>,
}

impl HashIndex {
    /// The index of `sorted` (fewer than 2^32 hashes).
    fn new(sorted: &[u32]) -> HashIndex {
        let bits = (sorted.len() / 4)
            .max(1)
            .next_power_of_two()
            .trailing_zeros();
        let buckets = 1usize << bits;
        let mut first = Vec::with_capacity(buckets + 1);
        let mut at = 0usize;
        for b in 0..buckets {
            while at < sorted.len() && Self::bucket(bits, sorted[at]) < b {
                at += 1;
            }
            first.push(at as u32);
        }
        first.push(sorted.len() as u32);
        HashIndex { bits, first }
    }

    fn bucket(bits: u32, t: u32) -> usize {
        t.checked_shr(32 - bits).unwrap_or(0) as usize
    }

    /// Where `t`'s bucket starts in the array.
    fn bucket_start(&self, t: u32) -> Option<usize> {
        self.first
            .get(Self::bucket(self.bits, t))
            .map(|&f| f as usize)
    }

    /// Asks for the table entry of `t`'s bucket.
    fn prefetch_bucket(&self, t: u32) {
        prefetch(&self.first, Self::bucket(self.bits, t));
    }

    /// The position of `t` in `sorted` (the array the index was made from).
    fn find(&self, sorted: &[u32], t: u32) -> Option<usize> {
        let b = Self::bucket(self.bits, t);
        let (from, to) = (
            *self.first.get(b)? as usize,
            *self.first.get(b + 1)? as usize,
        );
        let run = sorted.get(from..to)?;
        run.iter().position(|&v| v == t).map(|k| from + k)
    }
}

/// Per-chunk term hashers: one per language, made when the paragraphs' language changes;
/// the stem cache is the thread's (see [`crate::detect::take_term_cache`]), handed back on
/// drop. (A new cache per task made the sentence pass of 500 MB take 14 s rather than 5.)
struct Hashers<'a> {
    languages: &'a Languages,
    seed: u64,
    current: Option<(Option<Language>, TermHasher, bool)>,
    cache: TermCache,
}

impl<'a> Hashers<'a> {
    fn new(languages: &'a Languages, seed: u64) -> Hashers<'a> {
        Hashers {
            languages,
            seed,
            current: None,
            cache: crate::detect::take_term_cache(),
        }
    }

    /// The term hasher of paragraph `para`'s language, whether that language marks names by
    /// case, and the stem cache.
    fn get(&mut self, para: u32) -> (&TermHasher, bool, &mut TermCache) {
        let lang = self.languages.of(para);
        if self.current.as_ref().map(|c| c.0) != Some(lang) {
            // The cache stays: its keys are salted with the hasher's language.
            self.current = None;
        }
        let seed = self.seed;
        let (_, th, names) = self.current.get_or_insert_with(|| {
            let names = lang.is_some_and(|l| l.marks_names_by_case());
            (lang, TermHasher::new(lang, seed ^ 0x7e), names)
        });
        (th, *names, &mut self.cache)
    }
}

impl Drop for Hashers<'_> {
    fn drop(&mut self) {
        crate::detect::put_term_cache(std::mem::take(&mut self.cache));
    }
}

/// A thread's memo of vocabulary look-ups in the sentence pass 2: term hash to vocabulary
/// index and, for a term that is signed, its weight. Direct-mapped, 16 bytes a slot. The
/// vocabulary is a sorted array of millions of hashes, so each look-up ([`HashIndex`]) misses
/// the cache a few times, and most term occurrences are of a few thousand frequent terms. (At 500 MB the
/// look-ups were 60 % of the pass.) Entries are only valid within one run of the pass, which
/// `run` tells.
struct IdCache {
    run: u64,
    /// (term, index, weight of a signed term, else NaN); index `u32::MAX` marks an empty slot.
    slots: Vec<IdSlot>,
}

/// One slot of an [`IdCache`].
type IdSlot = (u64, u32, f32);

thread_local! {
    /// Each thread's [`IdCache`] slots while no task holds them, with their run.
    static IDS: std::cell::Cell<(u64, Vec<IdSlot>)> = std::cell::Cell::default();
}

impl IdCache {
    const SLOTS: usize = 1 << 16;

    /// A number for one run of the pass, different from every other run's in this process.
    fn new_run() -> u64 {
        static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// This thread's cache, emptied unless it was last used in `run` (an empty one when the
    /// thread's is in use); handed back on drop.
    fn take(run: u64) -> IdCache {
        let (last, mut slots) = IDS.with(|c| c.take());
        if last != run || slots.len() != Self::SLOTS {
            slots.clear();
            slots.resize(Self::SLOTS, (0, u32::MAX, f32::NAN));
        }
        IdCache { run, slots }
    }

    /// Whether `t` is in the cache.
    fn has(&self, t: u64) -> bool {
        let slot = &self.slots[Self::slot(t)];
        slot.1 != u32::MAX && slot.0 == t
    }

    fn slot(t: u64) -> usize {
        (t.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 48) as usize & (Self::SLOTS - 1)
    }

    /// The index and signing weight of term `t`, from `look_up` on a miss.
    fn get(
        &mut self,
        t: u64,
        look_up: impl FnOnce(u64) -> Option<(u32, Option<f32>)>,
    ) -> Option<(u32, Option<f32>)> {
        let slot = &mut self.slots[Self::slot(t)];
        if slot.1 != u32::MAX && slot.0 == t {
            return Some((slot.1, (!slot.2.is_nan()).then_some(slot.2)));
        }
        let (id, w) = look_up(t)?;
        *slot = (t, id, w.unwrap_or(f32::NAN));
        Some((id, w))
    }
}

impl Drop for IdCache {
    fn drop(&mut self) {
        let slots = std::mem::take(&mut self.slots);
        // Not after the thread's locals are gone (then the slots are simply freed).
        let _ = IDS.try_with(|c| c.set((self.run, slots)));
    }
}

/// Merges the sorted run `(run_t, run_c)` into the sorted table `(terms, counts)` in place,
/// adding the counts of terms in both: the table grows by the run's length at most.
fn merge_counts(terms: &mut Vec<u32>, counts: &mut Vec<u32>, run_t: &[u32], run_c: &[u32]) {
    let (old, add) = (terms.len(), run_t.len());
    terms.reserve_exact(add);
    counts.reserve_exact(add);
    terms.resize(old + add, 0);
    counts.resize(old + add, 0);
    let (mut i, mut j, mut k) = (old, add, old + add);
    while j > 0 {
        if i > 0 && terms[i - 1] > run_t[j - 1] {
            terms[k - 1] = terms[i - 1];
            counts[k - 1] = counts[i - 1];
            i -= 1;
        } else {
            terms[k - 1] = run_t[j - 1];
            counts[k - 1] = run_c[j - 1];
            j -= 1;
        }
        k -= 1;
    }
    // A term of both is now twice in a row: keep one with the sum.
    let mut w = 0;
    for r in 0..terms.len() {
        if w > 0 && terms[w - 1] == terms[r] {
            counts[w - 1] += counts[r];
        } else {
            terms[w] = terms[r];
            counts[w] = counts[r];
            w += 1;
        }
    }
    terms.truncate(w);
    counts.truncate(w);
}

/// The distinct terms of `sorted` (a sorted list of folded terms: the top half of what
/// [`tag_term`] leaves), with how many times each occurs.
fn count_run(sorted: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let mut out_t: Vec<u32> = Vec::new();
    let mut out_c: Vec<u32> = Vec::new();
    for run in sorted.chunk_by(|a, b| a == b) {
        out_t.push(run[0]);
        out_c.push(u32::try_from(run.len()).unwrap_or(u32::MAX));
    }
    (out_t, out_c)
}

/// What one parallel task of the first sentence pass finds: its sentences, their numbers of
/// terms, and their terms in order with their name flags.
#[derive(Default)]
struct Pass1Chunk {
    units: Vec<Unit>,
    lens: Vec<u32>,
    words: Vec<u32>,
    names: Vec<bool>,
}

impl Pass1Chunk {
    /// Adds a sentence with its tagged terms ([`SentenceTerms`]).
    fn push(&mut self, unit: Unit, tagged: &[u64]) {
        self.units.push(unit);
        self.lens.push(tagged.len() as u32);
        for &t in tagged {
            let term = (tag_term(t) >> 32) as u32;
            self.words.push(term);
            self.names.push(tag_is_name(t));
        }
    }
}

/// Document frequencies counted batch after batch: sorted `(term, count)` tables, one for each
/// value of the top [`Counts::BITS`] bits of the terms (which are hashes, so the parts are about
/// equal). Each batch's terms are split into the parts, which are sorted, counted and merged
/// into their tables in parallel; terms are kept as 4-byte folded hashes, not in the top half
/// of 8 bytes. One table of 8-byte terms, into which each batch was merged after being
/// gathered, sorted as a whole and counted on one thread, made this stage take 4.80-4.96 s at
/// 500 MB (313-316 thousand page faults), and this 3.68-3.76 s
/// (100-106 thousand faults), with the same peak memory within the runs' spread.
struct Counts {
    parts: Vec<(Vec<u32>, Vec<u32>)>,
}

impl Counts {
    const BITS: u32 = 3;
    const PARTS: usize = 1 << Self::BITS;

    fn new() -> Counts {
        Counts {
            parts: (0..Self::PARTS).map(|_| Default::default()).collect(),
        }
    }

    /// The part of a folded term.
    fn part(t: u32) -> usize {
        (t >> (32 - Self::BITS)) as usize
    }

    /// Counts the terms of a batch's chunks.
    fn add(&mut self, chunks: &[Pass1Chunk]) {
        self.parts.par_iter_mut().enumerate().for_each_init(
            Vec::new,
            |run: &mut Vec<u32>, (p, (t, c))| {
                run.clear();
                for chunk in chunks {
                    run.extend(chunk.words.iter().filter(|&&t| Self::part(t) == p));
                }
                run.sort_unstable();
                let (run_t, run_c) = count_run(run);
                merge_counts(t, c, &run_t, &run_c);
            },
        );
    }

    /// The whole sorted table: the parts in order, each freed once copied.
    fn finish(self) -> (Vec<u32>, Vec<u32>) {
        let len = self.parts.iter().map(|(t, _)| t.len()).sum();
        let (mut terms, mut counts) = (Vec::with_capacity(len), Vec::with_capacity(len));
        for (t, c) in self.parts {
            terms.extend_from_slice(&t);
            counts.extend_from_slice(&c);
        }
        (terms, counts)
    }
}

impl Detector {
    /// Runs detection on the corpus with little memory (see [`crate::lean`]): the same pairs
    /// and clusters as [`Detector::detect`], as [`Matches`]. Band keys and sentence terms go to
    /// unnamed temporary files in `temp_dir` (the system's temporary directory when `None`),
    /// deleted when done; the error is [`Error::TempFile`] when one cannot be written or read.
    pub fn detect_lean(&self, corpus: &Corpus, temp_dir: Option<&Path>) -> Result<Matches> {
        let n = corpus.paragraphs.len();
        let Found {
            rep,
            group_len,
            pairs,
            mut edges,
            identical_pairs,
            mut stats,
        } = self.find_lean(corpus, temp_dir, &mut Clock::start())?;
        let mut expanded = identical_pairs;
        for q in &pairs {
            let (ca, cb) = (
                group_len[q.a as usize] as usize,
                group_len[q.b as usize] as usize,
            );
            expanded += if ca * cb > FULL_GROUP * FULL_GROUP {
                1
            } else {
                ca * cb
            };
            edges.push((q.a, q.b));
        }
        stats.pairs = expanded;
        // Spans and sentence scores are not kept: `Matches` answers with similarity and measure.
        let pairs: Vec<(u32, u32, f64, Measure)> = pairs
            .into_iter()
            .map(|q| (q.a, q.b, q.similarity, q.measure))
            .collect();

        let groups = cluster::clusters(n, &edges);
        drop(edges);
        let mut cluster_of = vec![u32::MAX; n];
        let mut members = 0;
        for (c, g) in groups.iter().enumerate() {
            members += g.len();
            for &m in g {
                cluster_of[m as usize] = c as u32;
            }
        }
        Ok(Matches {
            rep,
            group_len,
            pairs,
            cluster_of,
            clusters: groups.len(),
            members,
            stats,
        })
    }

    /// Runs detection on the corpus with the lean detector's memory (see [`crate::lean`]) and
    /// returns what [`Detector::detect`] returns, the same pairs, spans, clusters and counters:
    /// the in-memory result holds only the pairs found, not the shingles, terms and
    /// signatures that found them. Band keys and sentence terms go to unnamed temporary files
    /// in `temp_dir` (the system's temporary directory when `None`), deleted when done; the
    /// error is [`Error::TempFile`] when one cannot be written or read.
    ///
    /// ```
    /// use syndup::{input::Corpus, Detector, Params};
    /// let params = Params::default();
    /// let corpus = Corpus::from_texts(&[
    ///     ("a.txt", "The storm closed every road into the valley on Tuesday, officials said.\nUnrelated line about football scores and the weekend weather.\n"),
    ///     ("b.txt", "Officials said the storm closed every road into the valley on Tuesday.\n"),
    /// ], &params);
    /// let detector = Detector::new(params)?;
    /// let spilled = detector.detect_spilled(&corpus, None)?;
    /// let full = detector.detect(&corpus);
    /// assert_eq!(spilled.pairs, full.pairs);
    /// assert_eq!(spilled.clusters, full.clusters);
    /// assert_eq!(spilled.stats, full.stats);
    /// # Ok::<(), syndup::Error>(())
    /// ```
    pub fn detect_spilled(&self, corpus: &Corpus, temp_dir: Option<&Path>) -> Result<Detection> {
        let mut clock = Clock::start();
        let Found {
            rep,
            group_len,
            pairs,
            edges,
            identical_pairs: _,
            stats,
        } = self.find_lean(corpus, temp_dir, &mut clock)?;
        drop(group_len);
        // The sentence level's terms, offsets and candidates are freed: their pages go back
        // before the expansion, the peak of what follows.
        crate::detect::release_free_memory();
        // The groups of identical paragraphs, from the edges to their first members (in
        // order of copy within each group, as `collapse_identical` gives them).
        let mut at: Vec<u32> = vec![u32::MAX; corpus.paragraphs.len()];
        let mut groups: Vec<Vec<u32>> = Vec::new();
        for &(first, copy) in &edges {
            let g = match at[first as usize] {
                u32::MAX => {
                    at[first as usize] = groups.len() as u32;
                    groups.push(vec![first]);
                    groups.len() - 1
                }
                g => g as usize,
            };
            groups[g].push(copy);
        }
        drop((at, edges));
        for g in &mut groups {
            g.sort_unstable();
        }
        groups.sort_unstable_by_key(|g| g[0]);
        let merged: Vec<Pair> = pairs
            .into_iter()
            .map(|q| {
                let sentence = (!q.sentence.is_nan()).then_some(q.sentence);
                let (spans, jaccard) = match q.measure {
                    Measure::Sentence => (
                        (
                            Span {
                                start: q.spans[0] as usize,
                                end: q.spans[1] as usize,
                            },
                            Span {
                                start: q.spans[2] as usize,
                                end: q.spans[3] as usize,
                            },
                        ),
                        f64::NAN,
                    ),
                    _ => (
                        (whole_span(corpus, q.a), whole_span(corpus, q.b)),
                        q.similarity,
                    ),
                };
                Pair {
                    a: q.a,
                    b: q.b,
                    similarity: q.similarity,
                    measure: q.measure,
                    jaccard,
                    sentence,
                    spans,
                }
            })
            .collect();
        let found = self.finish(corpus, rep, groups, merged, stats, clock);
        crate::detect::release_free_memory();
        Ok(found)
    }

    /// The lean detector's search: identical groups, verified pairs between representatives
    /// (best evidence each), counters without `pairs`; `clock` times its stages.
    fn find_lean(
        &self,
        corpus: &Corpus,
        temp_dir: Option<&Path>,
        clock: &mut Clock,
    ) -> Result<Found> {
        let p = self.params();
        let n = corpus.paragraphs.len();
        let text = |i: u32| corpus.text(&corpus.paragraphs[i as usize]);

        // Word counts and exact-text hashes.
        let basics: Vec<(u32, u64)> = corpus
            .paragraphs
            .par_iter()
            .map_init(Words::default, |words, para| {
                words.normalize(corpus.text(para));
                (words.len() as u32, exact_hash(words, p.seed))
            })
            .collect();
        let n_words = |i: u32| basics[i as usize].0 as usize;

        // Collapse identical paragraphs, as `detect` does.
        let by_text: Vec<(u64, u32)> = (0..n as u32)
            .filter(|&i| n_words(i) > 0)
            .map(|i| (basics[i as usize].1, i))
            .collect();
        let mut group_len: Vec<u32> = vec![1; n];
        let mut edges: Vec<(u32, u32)> = Vec::new();
        let mut expanded = 0usize;
        let rep = collapse_identical(n, by_text, |run| {
            let first = run[0].1;
            edges.extend(run[1..].iter().map(|&(_, m)| (first, m)));
            let g = run.len();
            group_len[first as usize] = g as u32;
            expanded += if g <= FULL_GROUP {
                g * (g - 1) / 2
            } else {
                g - 1
            };
        });
        let is_rep = |i: u32| rep[i as usize] == i && n_words(i) > 0;
        let long_reps: Vec<u32> = (0..n as u32)
            .filter(|&i| is_rep(i) && n_words(i) >= p.min_words)
            .collect();
        let mut stats = Stats {
            files: corpus.sources.len(),
            paragraphs: n,
            bytes: corpus.total_bytes(),
            short_paragraphs: (0..n as u32).filter(|&i| n_words(i) < p.min_words).count(),
            distinct_paragraphs: (0..n as u32).filter(|&i| is_rep(i)).count(),
            ..Stats::default()
        };
        drop(basics);
        clock.lap("words and identical paragraphs");

        let hasher = crate::detect::paragraph_hasher(p);
        let shingler = Shingler::new(p.shingle_words, p.seed);
        let shingles = |words: &mut Words, set: &mut Vec<u32>, para: u32| {
            crate::detect::shingle_set(&shingler, words, text(para), set)
        };

        // Paragraph level: sign, spill the band keys, band, verify.
        let (bands, rows) = p.banding();
        let band_hasher = &lsh::BandHasher::new(bands, rows, p.seed);
        let mut spill = KeySpill::new(temp_dir, bands)?;
        for batch in long_reps.chunks(SIGN_BATCH) {
            let chunks: Vec<(usize, Vec<u32>)> = batch
                .par_chunks(CHUNK)
                .map_init(
                    || (Words::default(), Vec::new(), vec![0u32; hasher.len()]),
                    |(words, set, sig), chunk| {
                        let len = chunk.len();
                        let mut keys = vec![0u32; bands * len];
                        let mut row = vec![0u32; bands];
                        for (j, &para) in chunk.iter().enumerate() {
                            shingles(words, set, para);
                            hasher.sign_values(set, sig);
                            band_hasher.keys(sig, &mut row);
                            for (band, &key) in row.iter().enumerate() {
                                keys[band * len + j] = key;
                            }
                        }
                        (len, keys)
                    },
                )
                .collect();
            spill.push(&chunks)?;
        }
        clock.lap("paragraph signatures (keys to a file)");
        let cands = spill.candidates(None, p.max_bucket)?;
        drop(spill);
        clock.lap("paragraph LSH (keys from the file)");
        stats.candidates += cands.len();
        let mut rep_pairs: Vec<RepPair> = Vec::new();
        for batch in cands.chunks(VERIFY_BATCH) {
            let mut units: Vec<u32> = batch.iter().flat_map(|&(x, y)| [x, y]).collect();
            units.sort_unstable();
            units.dedup();
            let sets: Vec<Vec<u32>> = units
                .par_iter()
                .map_init(Words::default, |words, &u| {
                    let mut set = Vec::new();
                    shingles(words, &mut set, long_reps[u as usize]);
                    set
                })
                .collect();
            let set_of = |u: u32| {
                units
                    .binary_search(&u)
                    .map_or(&[][..], |k| sets[k].as_slice())
            };
            rep_pairs.par_extend(batch.par_iter().filter_map(|&(x, y)| {
                let j = verify::jaccard(set_of(x), set_of(y));
                (j >= p.threshold).then(|| RepPair {
                    a: long_reps[x as usize],
                    b: long_reps[y as usize],
                    similarity: j,
                    measure: Measure::Jaccard,
                    spans: [0; 4],
                    sentence: f64::NAN,
                })
            }));
        }
        drop(cands);
        clock.lap("paragraph verification (shingles again)");

        if p.sentence_threshold.is_some() {
            let languages = self.languages(corpus);
            self.sentence_level(
                corpus,
                &long_reps,
                &languages,
                temp_dir,
                (&mut stats, clock),
                &mut rep_pairs,
            )?;
        }
        let pairs = merge_evidence(rep_pairs);
        if p.sentence_threshold.is_some() {
            clock.lap("sentence verification (terms read back)");
        }

        Ok(Found {
            rep,
            group_len,
            pairs,
            edges,
            identical_pairs: expanded,
            stats,
        })
    }

    /// The sentence level of [`Detector::detect_lean`]: document frequencies, signing with IDF
    /// weights (keeping each sentence's terms as packed vocabulary indexes), banding through
    /// the spill file, verification on the kept terms; its stages timed by `clock` (the last
    /// one's lap is the caller's).
    fn sentence_level(
        &self,
        corpus: &Corpus,
        long_reps: &[u32],
        languages: &Languages,
        temp_dir: Option<&Path>,
        (stats, clock): (&mut Stats, &mut Clock),
        rep_pairs: &mut Vec<RepPair>,
    ) -> Result<()> {
        let p: &Params = self.params();
        let (Some(st), Some((bands, rows))) = (p.sentence_threshold, p.sentence_banding()) else {
            return Ok(());
        };
        let hasher = &crate::detect::sentence_hasher(p, (bands, rows));
        let band_hasher = &lsh::BandHasher::new(bands, rows, p.seed ^ 1);
        let para_of = |i: u32| &corpus.paragraphs[i as usize];

        // Pass 1: the sentences taking part, and the document frequency of every term. Each
        // sentence's terms go to a temporary file (4 bytes a term, until pass 2 ends) and their
        // name flags to a bit set, where pass 2 reads them back rather than normalizing and
        // stemming the text again: at 500 MB that was 4 of pass 2's 9.5 CPU-seconds.
        let mut units: Vec<Unit> = Vec::new();
        let mut words_file = TempFile::new(temp_dir)?;
        let mut names = crate::detect::Bits::default();
        let mut term_off: Vec<usize> = vec![0];
        let mut counts = Counts::new();
        // Batches of an eighth of the paragraphs on smaller inputs (their terms are held
        // twice while counted, which would otherwise be most of the memory there).
        let df_batch = (long_reps.len() / 8).clamp(DF_BATCH_MIN, DF_BATCH);
        // The batch's terms in sentence order (for the file), reused batch after batch.
        let mut batch_words: Vec<u32> = Vec::new();
        for batch in long_reps.chunks(df_batch) {
            let found: Vec<Pass1Chunk> = batch
                .par_chunks(CHUNK)
                .map_init(
                    || Hashers::new(languages, p.seed),
                    |hashers, chunk| {
                        let (mut swords, mut tagged) = (Words::default(), Vec::new());
                        let mut out = Pass1Chunk::default();
                        for &para in chunk {
                            let pr = para_of(para);
                            let (th, names_marked, cache) = hashers.get(para);
                            let maker = SentenceTerms {
                                names_marked,
                                min_words: p.min_sentence_words,
                            };
                            let text = corpus.text(pr);
                            for span in segment::sentences(text) {
                                let sentence = &text[span.range()];
                                if maker.fill_with(
                                    sentence,
                                    &mut swords,
                                    &mut tagged,
                                    (&mut *cache, th),
                                ) {
                                    out.push(
                                        Unit {
                                            para,
                                            start: span.start as u32,
                                            end: span.end as u32,
                                        },
                                        &tagged,
                                    );
                                }
                            }
                        }
                        out
                    },
                )
                .collect();
            batch_words.clear();
            for f in &found {
                units.extend_from_slice(&f.units);
                for &len in &f.lens {
                    let last = term_off.last().copied().unwrap_or(0);
                    term_off.push(last + len as usize);
                }
                batch_words.extend_from_slice(&f.words);
                for &name in &f.names {
                    names.push(name);
                }
            }
            words_file.append(as_bytes(&batch_words))?;
            counts.add(&found);
        }
        drop(batch_words);
        let (vocab, df) = counts.finish();
        units.shrink_to_fit();
        // The batches' term lists and the counting's runs are freed; their pages go back
        // before pass 2, which would otherwise run on top of them.
        crate::detect::release_free_memory();
        stats.sentences = units.len();
        // The weights and the signed terms of `detect`.
        let mut idf = Idf::new(units.len());
        idf.remember(&df);
        let common = idf.common();
        if vocab.len() >= 1 << 31 {
            return Err(Error::Unsupported {
                reason: format!(
                    "{} distinct sentence terms: more than the lean detector counts",
                    vocab.len()
                ),
            });
        }
        let index = HashIndex::new(&vocab);
        clock.lap("sentence document frequencies");

        // Pass 2: each sentence's terms as vocabulary indexes (sorted like the hashes), with the
        // name flag and the document frequency (`pack_term`: 8 bytes a term, kept for
        // verification, which then needs no table look-up), and its signature
        // with the weights (`MinHasher::sign_weighted`), of which the band keys
        // of the sentences with a non-empty set go to the spill file.
        let mut spill = KeySpill::new(temp_dir, bands)?;
        let run = IdCache::new_run();
        let mut signed: Vec<u32> = Vec::new();
        let mut term_file = TempFile::new(temp_dir)?;
        let mut n_terms = 0usize;
        let mut batch_words: Vec<u32> = Vec::new();
        let nu = units.len() as u32;
        for batch in (0..nu).step_by(SIGN_BATCH) {
            let batch_end = nu.min(batch.saturating_add(SIGN_BATCH as u32));
            let chunk = CHUNK as u32;
            // The batch's terms as pass 1 made them.
            let base = term_off[batch as usize];
            batch_words.clear();
            batch_words.resize(term_off[batch_end as usize] - base, 0);
            words_file.read_at(base as u64 * 4, as_bytes_mut(&mut batch_words))?;
            let (batch_words, term_off, names) = (&batch_words, &term_off, &names);
            let chunks: Vec<Signed> = (0..(batch_end - batch).div_ceil(chunk))
                .into_par_iter()
                .map(|c| {
                    let from = batch + c * chunk;
                    from..batch_end.min(from + chunk)
                })
                .map_init(
                    || IdCache::take(run),
                    |ids, chunk| {
                        let mut set: Vec<(u64, f32)> = Vec::new();
                        let mut sig = vec![0u32; hasher.len()];
                        let mut out = Signed::default();
                        let mut sigs: Vec<u32> = Vec::new();
                        for u in chunk {
                            set.clear();
                            // The sentence's terms as pass 1 made them (each a folded term in
                            // the top half, as `tag_term` leaves it), at these positions.
                            let (from, to) = (term_off[u as usize], term_off[u as usize + 1]);
                            let words = batch_words.get(from - base..to - base).unwrap_or(&[]);
                            let term = |w: u32| u64::from(w) << 32;
                            // The look-ups miss the cache; the lines they will read are asked
                            // for first, for all the sentence's terms at once, so that the
                            // misses overlap.
                            for &w in words {
                                if !ids.has(term(w)) {
                                    index.prefetch_bucket(w);
                                }
                            }
                            for &w in words {
                                if !ids.has(term(w)) {
                                    if let Some(from) = index.bucket_start(w) {
                                        prefetch(&vocab, from);
                                        prefetch(&df, from);
                                    }
                                }
                            }
                            for (k, &w) in (from..to).zip(words) {
                                let t = term(w);
                                let name = names.get(k);
                                // Every term was counted in pass 1 (checked below).
                                let Some((id, signed)) = ids.get(t, |_| {
                                    let id = index.find(&vocab, w)?;
                                    let d = df[id];
                                    Some((id as u32, (d <= common).then(|| idf.weight(d))))
                                }) else {
                                    continue;
                                };
                                out.terms.push(pack_term(id, name, df[id as usize]));
                                if let Some(w) = signed {
                                    set.push((t, w));
                                }
                            }
                            if set.is_empty() {
                                continue;
                            }
                            hasher.sign_weighted(&set, &mut sig);
                            out.ids.push(u);
                            sigs.extend_from_slice(&sig);
                        }
                        let len = out.ids.len();
                        out.keys = vec![0u32; bands * len];
                        let mut row = vec![0u32; bands];
                        for (j, sig) in sigs.chunks_exact(hasher.len().max(1)).enumerate() {
                            band_hasher.keys(sig, &mut row);
                            for (band, &key) in row.iter().enumerate() {
                                out.keys[band * len + j] = key;
                            }
                        }
                        out
                    },
                )
                .collect();
            let mut pushed = Vec::with_capacity(chunks.len());
            for mut c in chunks {
                n_terms += c.terms.len();
                term_file.append(as_bytes(&c.terms))?;
                pushed.push((c.ids.len(), c.keys));
                signed.append(&mut c.ids);
            }
            // Each term found in the vocabulary: the packed terms start where pass 1's did.
            if n_terms != term_off[batch_end as usize] {
                return Err(Error::Unsupported {
                    reason: "sentence terms changed between the lean detector's passes".into(),
                });
            }
            spill.push(&pushed)?;
        }
        drop((batch_words, words_file, names));
        // The heap's free pages go back to the system after the pass (the vocabulary) and
        // after the candidates (each band's entries and pairs), the run's two largest transient
        // sets; glibc would keep them, so they added to the peak of verification.
        drop((vocab, index, df));
        crate::detect::release_free_memory();
        clock.lap("sentence signatures and terms (to files)");
        let mut scands = spill.candidates(Some(&signed), p.max_sentence_bucket)?;
        scands.shrink_to_fit();
        drop(spill);
        drop(signed);
        stats.candidates += scands.len();
        crate::detect::release_free_memory();
        clock.lap("sentence LSH (keys from the file)");

        // Verify: the score of `verify::overlap_at_least` (as `detect` scores) on the kept
        // terms, whose weights are those of the vocabulary. The terms are read back in blocks of sentences
        // (`TERM_BLOCK` terms each, or a quarter of the terms on smaller inputs, where two
        // blocks of the largest size would be most of the memory); candidates are taken block
        // pair by block pair, so memory holds the terms of two blocks.
        let term_block = (n_terms / 4).clamp(TERM_BLOCK_MIN, TERM_BLOCK);
        let block_of =
            |u: u32| (term_off.get(u as usize).copied().unwrap_or(0) / term_block) as u32;
        let unit_block: Vec<u32> = (0..units.len() as u32).map(block_of).collect();
        order_by_blocks(&mut scands, &unit_block);
        drop(unit_block);
        // A block is read into one of two buffers, reused: blocks are reloaded hundreds of
        // times, and new buffers each time cost their page faults again.
        let load = |b: u32, into: &mut TermBlock| -> Result<()> {
            let offs = &term_off[..term_off.len() - 1];
            let first = offs.partition_point(|&o| o / term_block < b as usize);
            let end = offs.partition_point(|&o| o / term_block <= b as usize);
            let (from, to) = (term_off[first.min(end)], term_off[end]);
            // No block until this one is whole (a failed read leaves none).
            into.block = None;
            into.terms.clear();
            into.terms.resize(to - from, 0);
            // Straight into the block's terms (one copy, not two).
            term_file.read_at_parallel(from as u64 * 8, as_bytes_mut(&mut into.terms))?;
            into.block = Some(b);
            into.base = from;
            Ok(())
        };
        let mut merged = rep_pairs.len();
        let mut bx = TermBlock::default();
        let mut by = TermBlock::default();
        let mut i = 0;
        while i < scands.len() {
            let key = |k: usize| (block_of(scands[k].0), block_of(scands[k].1));
            let (kx, ky) = key(i);
            let mut j = i + 1;
            while j < scands.len() && key(j) == (kx, ky) {
                j += 1;
            }
            if bx.block != Some(kx) {
                load(kx, &mut bx)?;
            }
            if ky != kx && by.block != Some(ky) {
                load(ky, &mut by)?;
            }
            let (tx, ty) = (&bx, if ky == kx { &bx } else { &by });
            let run = &scands[i..j];
            i = j;

            for part in run.chunks(MERGE_EVERY) {
                let found: Vec<RepPair> = part
                    .par_iter()
                    .filter_map(|&(x, y)| {
                        let (pa, pb) = (units.get(x as usize)?.para, units.get(y as usize)?.para);
                        if pa == pb {
                            return None;
                        }
                        let sx = Packed(tx.of(&term_off, x)?, &idf);
                        let sy = Packed(ty.of(&term_off, y)?, &idf);
                        let (score, shared) =
                            verify::overlap_at_least(&sx, &sy, p.name_weight, p.min_shared_words)?;
                        if score < st || shared < p.min_shared_words {
                            return None;
                        }
                        let (ux, uy) = (units[x as usize], units[y as usize]);
                        let (sa, sb) = if pa < pb { (ux, uy) } else { (uy, ux) };
                        Some(RepPair {
                            a: pa.min(pb),
                            b: pa.max(pb),
                            similarity: score,
                            measure: Measure::Sentence,
                            spans: [sa.start, sa.end, sb.start, sb.end],
                            sentence: score,
                        })
                    })
                    .collect();
                // Many sentence pairs stand for one pair of paragraphs: merged as they come
                // (first a part's own, then the list's), the list stays near the number of
                // paragraph pairs, and it is grown exactly, not doubled. At 500 MB, merging
                // only every four parts, into a list grown by doubling, held its capacity at
                // three times its final length (107 MB).
                let found = merge_evidence(found);
                rep_pairs.reserve_exact(found.len());
                rep_pairs.extend_from_slice(&found);
                drop(found);
                if rep_pairs.len() >= merged + MERGE_EVERY {
                    *rep_pairs = merge_evidence(std::mem::take(rep_pairs));
                    rep_pairs.shrink_to_fit();
                    merged = rep_pairs.len();
                }
            }
        }
        Ok(())
    }
}

/// Plain numbers, whose every bit pattern is a value and whose memory has no padding.
trait Plain: Copy {}
impl Plain for u32 {}
impl Plain for u64 {}

/// The bytes of `v` in memory (the temporary files hold terms in the machine's byte order).
fn as_bytes<T: Plain>(v: &[T]) -> &[u8] {
    // SAFETY: the slice covers exactly the memory of `v` (`size_of_val` bytes from its start),
    // which is initialized and borrowed for as long as the result; `u8` has no alignment
    // requirement.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), std::mem::size_of_val(v)) }
}

/// The bytes of `v`, to be read into.
fn as_bytes_mut<T: Plain>(v: &mut [T]) -> &mut [u8] {
    // SAFETY: the slice covers exactly the memory of `v` (`size_of_val` bytes from its start),
    // which is initialized, and borrowed mutably for as long as the result; `u8` has no
    // alignment requirement, and every bit pattern written through it is a valid `u64`.
    unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<u8>(), std::mem::size_of_val(v)) }
}

/// Orders `pairs`, sorted, by `(block[x], block[y], x, y)`, where `block` (each unit's block)
/// never decreases: the pairs of one first block are together already, and each such run is
/// sorted by its second blocks by counting, which keeps the order within each. A comparison
/// sort by that key looked up four blocks per comparison, out of cache: 0.8 s at 500 MB.
fn order_by_blocks(pairs: &mut [(u32, u32)], block: &[u32]) {
    let of = |u: u32| block.get(u as usize).copied().unwrap_or(u32::MAX);
    let runs: Vec<&mut [(u32, u32)]> = pairs.chunk_by_mut(|a, b| of(a.0) == of(b.0)).collect();
    runs.into_par_iter().for_each(|run| {
        let mut by: Vec<(u32, (u32, u32))> = run.iter().map(|&p| (of(p.1), p)).collect();
        // Stable: equal second blocks keep the pairs' order.
        by.sort_by_key(|e| e.0);
        for (slot, (_, p)) in run.iter_mut().zip(by) {
            *slot = p;
        }
    });
}

/// A sentence term as the term file keeps it: its vocabulary index (which orders terms as their
/// hashes do), whether it is a name in the sentence, and its document frequency, from which
/// verification takes its weight without looking it up in a table of millions.
fn pack_term(id: u32, name: bool, df: u32) -> u64 {
    u64::from(df) << 32 | u64::from(id) << 1 | u64::from(name)
}

/// The index, name flag and document frequency of a term packed by [`pack_term`].
fn unpack_term(v: u64) -> (u32, bool, u32) {
    ((v as u32) >> 1, v & 1 == 1, (v >> 32) as u32)
}

/// Sentence candidates verified at a time (few in debug builds); the pairs found are merged
/// into the list once as many have been added to it since the last merge.
const MERGE_EVERY: usize = if cfg!(debug_assertions) {
    1 << 6
} else {
    1 << 18
};

/// Sentence terms are read back for verification in blocks of at most this many (few in debug
/// builds, so that the tests cross block boundaries), a quarter of the terms on smaller
/// inputs, at least [`TERM_BLOCK_MIN`].
const TERM_BLOCK: usize = if cfg!(debug_assertions) {
    1 << 10
} else {
    1 << 21
};
/// The least block of sentence terms (below [`TERM_BLOCK`] in debug builds too, so that the
/// tests take blocks of both kinds).
const TERM_BLOCK_MIN: usize = if cfg!(debug_assertions) {
    1 << 6
} else {
    1 << 10
};

/// The terms of one block of sentences: those of the sentences whose first term falls in
/// block `block` (none yet: `None`), from term `base` on.
#[derive(Default)]
struct TermBlock {
    block: Option<u32>,
    base: usize,
    /// Packed by [`pack_term`].
    terms: Vec<u64>,
}

impl TermBlock {
    /// The packed terms of sentence `u` (`term_off` gives each sentence's first term), if it is
    /// in this block.
    fn of(&self, term_off: &[usize], u: u32) -> Option<&[u64]> {
        let u = u as usize;
        let (a, b) = (*term_off.get(u)?, *term_off.get(u + 1)?);
        self.terms
            .get(a.checked_sub(self.base)?..b.checked_sub(self.base)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_index_agrees_with_binary_search() {
        let mut next = crate::test_rng(0x9e37_79b9_7f4a_7c15u64);
        for n in [0usize, 1, 2, 3, 4, 5, 9, 17, 1000, 100_000] {
            let mut v: Vec<u32> = (0..n).map(|_| next() as u32).collect();
            // Clustered values too: the index must not rely on uniformity to be right.
            v.extend((0..n / 10).map(|i| i as u32 * 3));
            v.extend([0, u32::MAX]);
            v.sort_unstable();
            v.dedup();
            let index = HashIndex::new(&v);
            let find_hash = |v: &[u32], t: u32| index.find(v, t);
            for &t in v.iter().step_by(7) {
                assert_eq!(find_hash(&v, t), v.binary_search(&t).ok(), "n {n} t {t}");
            }
            for _ in 0..2000 {
                let t = (next() % 4 + next()) as u32;
                assert_eq!(find_hash(&v, t), v.binary_search(&t).ok(), "n {n} t {t}");
            }
            for t in [1, 2, 4, u32::MAX - 1] {
                assert_eq!(find_hash(&v, t), v.binary_search(&t).ok(), "n {n} t {t}");
            }
        }
    }

    /// The thread's vocabulary memo ([`IdCache`]) and stem cache outlive a run: runs one after
    /// the other on the same thread, with other seeds (other term hashes and vocabularies) and
    /// on other text, still give what `detect` gives.
    #[test]
    fn runs_on_one_thread_do_not_share_look_ups() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/sample");
        let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "txt"))
            .map(|p| {
                (
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .collect();
        files.sort();
        let texts: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        for (seed, take) in [(1u64, texts.len()), (2, texts.len()), (1, texts.len() / 2)] {
            let params = Params {
                seed,
                ..Params::default()
            };
            let corpus = Corpus::from_texts(&texts[..take], &params);
            let detector = Detector::new(params).unwrap();
            let (full, spilled) = pool.install(|| {
                (
                    detector.detect(&corpus),
                    detector.detect_spilled(&corpus, None).unwrap(),
                )
            });
            assert!(full.stats.sentences > 0 && !full.pairs.is_empty());
            assert_eq!(spilled.stats, full.stats, "seed {seed}");
            assert_eq!(spilled.pairs, full.pairs, "seed {seed}");
            assert_eq!(spilled.clusters, full.clusters, "seed {seed}");
        }
    }

    #[test]
    fn pack_term_round_trips() {
        for (id, name, df) in [(0, false, 0), (1, true, 7), ((1 << 31) - 1, true, u32::MAX)] {
            assert_eq!(unpack_term(pack_term(id, name, df)), (id, name, df));
        }
    }

    #[test]
    fn stem_cache_gives_the_hasher_s_hashes() {
        let th = TermHasher::new(
            Language::detect("The council said the roads were closed."),
            7,
        );
        let mut cache = TermCache::default();
        let words: Vec<String> = (0..200_000)
            // Distinct words (past the cache's capacity, so it is emptied) and repeated ones.
            .map(|i| {
                format!(
                    "{}{}ing",
                    ["walk", "talk", "run", "sing"][i % 4],
                    i % 90_000
                )
            })
            .chain(["", "a", "é", "running", "runs"].map(String::from))
            .collect();
        for w in words.iter().chain(words.iter().rev()) {
            assert_eq!(cache.hash(&th, w), th.hash(w), "{w}");
        }
    }

    #[test]
    fn merge_into_keeps_sorted_distinct() {
        let mut all = vec![(0, 1), (0, 3), (2, 5)];
        lsh::merge_into(&mut all, &[(0, 0), (0, 3), (1, 1), (9, 9)]);
        assert_eq!(all, vec![(0, 0), (0, 1), (0, 3), (1, 1), (2, 5), (9, 9)]);
        lsh::merge_into(&mut all, &[]);
        assert_eq!(all.len(), 6);
        let mut empty = Vec::new();
        lsh::merge_into(&mut empty, &[(1, 2)]);
        assert_eq!(empty, vec![(1, 2)]);
    }

    /// Ordering by blocks gives what sorting by `(block[x], block[y], x, y)` gives, for
    /// sorted distinct pairs and blocks that never decrease (many units a block, or one).
    #[test]
    fn ordering_by_blocks_is_sorting_by_blocks() {
        let mut next = crate::test_rng(0x5eed);
        for (units, per_block, n) in [
            (50u32, 7u32, 300usize),
            (2000, 1, 5000),
            (3000, 400, 20_000),
        ] {
            let block: Vec<u32> = (0..units).map(|u| u / per_block).collect();
            let mut pairs: Vec<(u32, u32)> = (0..n)
                .map(|_| {
                    let (a, b) = (
                        (next() % u64::from(units)) as u32,
                        (next() % u64::from(units)) as u32,
                    );
                    (a.min(b), a.max(b))
                })
                .filter(|(a, b)| a != b)
                .collect();
            pairs.sort_unstable();
            pairs.dedup();
            let mut want = pairs.clone();
            want.sort_by_key(|&(x, y)| (block[x as usize], block[y as usize], x, y));
            order_by_blocks(&mut pairs, &block);
            assert_eq!(pairs, want, "{units} units, {per_block} a block");
        }
    }

    #[test]
    fn counts_merge() {
        let a = count_run(&[1, 5, 5, 9]);
        let b = count_run(&[2, 9, 9]);
        assert_eq!(a, (vec![1, 5, 9], vec![1, 2, 1]));
        let (mut t, mut c) = a;
        merge_counts(&mut t, &mut c, &b.0, &b.1);
        assert_eq!((t, c), (vec![1, 2, 5, 9], vec![1, 1, 2, 3]));
        let (mut t, mut c) = (Vec::new(), Vec::new());
        merge_counts(&mut t, &mut c, &[4], &[2]);
        assert_eq!((t, c), (vec![4], vec![2]));
    }

    /// Merging batch after batch counts what one count of everything counts, whether the
    /// batches hold mostly known terms or mostly new ones.
    #[test]
    fn counts_merged_in_batches_are_the_whole_count() {
        let mut next = crate::test_rng(0xc0ffee);
        for range in [20u64, 3000, 1 << 40] {
            let mut counts = Counts::new();
            let mut want = std::collections::BTreeMap::new();
            for batch in 0..30 {
                // A batch of a few chunks of sentences of up to 12 terms; terms spread over
                // the whole range of 32 bits, as hashes are, so that every part of the table
                // takes some.
                let chunks: Vec<Pass1Chunk> = (0..1 + batch % 3)
                    .map(|_| {
                        let mut chunk = Pass1Chunk::default();
                        for s in 0..batch * 2 {
                            let tagged: Vec<u64> = (0..next() % 13)
                                .map(|_| {
                                    let t = ((next() % range) as u32).wrapping_mul(0x9e37_79b9);
                                    u64::from(t) << 32 | (next() & 1)
                                })
                                .collect();
                            for &t in &tagged {
                                *want.entry((tag_term(t) >> 32) as u32).or_insert(0u32) += 1;
                            }
                            let unit = Unit {
                                para: s as u32,
                                start: 0,
                                end: 1,
                            };
                            chunk.push(unit, &tagged);
                            let at = chunk.words.len() - tagged.len();
                            let words: Vec<u32> =
                                tagged.iter().map(|&t| (t >> 32) as u32).collect();
                            let names: Vec<bool> = tagged.iter().map(|&t| tag_is_name(t)).collect();
                            assert_eq!(chunk.words[at..], words[..]);
                            assert_eq!(chunk.names[at..], names[..]);
                        }
                        chunk
                    })
                    .collect();
                counts.add(&chunks);
            }
            let (wt, wc): (Vec<u32>, Vec<u32>) = want.into_iter().unzip();
            assert_eq!(counts.finish(), (wt, wc), "terms below {range}");
        }
    }
}
