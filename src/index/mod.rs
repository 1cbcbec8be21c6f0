//! A persistent, concurrent index of paragraphs for crawlers: "have I seen this, or something
//! close to it, before?"
//!
//! [`Index`] answers for one paragraph at a time, from many threads at once (`&self` methods;
//! `Index` is `Send + Sync`), and survives restarts through [`Index::save`] and [`Index::open`].
//!
//! ```
//! use syndup::index::{Index, Seen};
//! use syndup::Params;
//! let index = Index::new(Params::default())?;
//! let wire = "Four men were arrested in France on Tuesday on suspicion of plotting to kill an \
//!             exiled Russian activist, prosecutors in Paris said in a statement.";
//! let copy = "Four men were arrested in France on Tuesday on suspicion of plotting to kill an \
//!             exiled Russian activist, prosecutors said in a short statement.";
//! assert!(matches!(index.observe("agency.example/1", wire), Seen::New(_)));
//! match index.observe("paper.example/7", copy) {
//!     Seen::Duplicate { of, similarity } => {
//!         assert_eq!(index.entry(of).unwrap().key, "agency.example/1");
//!         assert!(similarity >= 0.5);
//!     }
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), syndup::Error>(())
//! ```
//!
//! # What matches
//!
//! The paragraph level of the batch pipeline ([`crate::detect`]), with one difference:
//!
//! * a paragraph with at least [`Params::min_words`] words is signed with MinHash over its word
//!   shingles ([`crate::minhash`], the same hash functions as `syndup scan`) and found through an
//!   LSH of [`Params::banding`] bands;
//! * **the similarity is estimated, not exact.** The index does not keep the shingle sets (that
//!   would cost kilobytes per paragraph); it keeps the low 6 bits of each MinHash value. A
//!   candidate matches when the estimate `Ĵ = (m − 2⁻⁶) / (1 − 2⁻⁶)` reaches
//!   [`Params::threshold`], `m` being the share of equal 6-bit values. With 128 hashes its
//!   standard error is `≈ sqrt(J (1 − J) / 128)` — 0.045 at J = 0.5 (about 1 % above full 32-bit
//!   values), so pairs within ±0.1 of the threshold can land on either side; farther away the
//!   decision agrees with the batch pipeline's exact Jaccard (a test checks this on the bundled
//!   corpus). That holds for one pair: a paragraph compared with many stored ones just below
//!   the threshold may find one whose estimate reaches it (20,000 templated lines whose exact
//!   Jaccard is 0.33 to one another made 806 duplicates with 128 hashes, none with 512; more
//!   [`Params::num_hashes`] where such text is common). The reported similarity is this
//!   estimate ([`MatchKind::Estimated`]);
//! * a paragraph with fewer words matches only paragraphs with the same normalized text
//!   ([`MatchKind::Identical`], similarity 1); a paragraph with no word never matches and is not
//!   stored ([`Seen::Empty`]);
//! * the sentence level of the `paraphrase` preset is not used: it needs corpus-wide word
//!   weights. [`Params::sentence_threshold`], `min_shared_words`, `min_sentence_words` and
//!   `stem` are stored with the index but ignored.
//!
//! # Threads and determinism
//!
//! Normalizing, shingling and signing happen outside any lock. One `RwLock` then guards the
//! tables: [`Index::query`] takes it shared, [`Index::insert`] and [`Index::observe`] exclusive
//! for the probes and the insert only, so [`Index::observe`] is atomic: of two threads observing
//! the same wire paragraph at once, exactly one gets [`Seen::New`]. Results depend on the order
//! of calls (which paragraph came first); for the same order they are identical, since nothing
//! is random.
//!
//! # Memory
//!
//! Per stored paragraph (default parameters: 128 hashes, 25 bands × 5 rows): 96 bytes of
//! signature, 16 of origin (source number, line, byte), and one 4-byte slot per band in tables
//! kept between 66 % and 90 % full, about 125 bytes: some 240 bytes in all, plus each distinct
//! key (source name) once. With a [capacity](Index::set_capacity) the oldest paragraphs are
//! evicted first, so a crawl of weeks stays within a fixed size.
//!
//! # The file
//!
//! See [`Index::save`] for the format; [`Index::open`] reads it in a few bulk reads and checks
//! its checksum, never panics on a damaged file, and names the problem in the
//! [`Error`].

mod format;
mod table;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use rayon::prelude::*;
use serde::Serialize;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::error::{Error, Result};
use crate::minhash::MinHasher;
use crate::normalize::Words;
use crate::params::Params;
use crate::segment::{self, Span};
use crate::shingle::Shingler;
use table::{Codec, Placed, Table};

pub use format::FORMAT_VERSION;

/// The id of a stored paragraph: its insertion number, from 0, never reused (it survives
/// saving, reopening and eviction).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct EntryId(pub u64);

impl std::fmt::Display for EntryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a paragraph came from: a key (a URL, a file name) and its position there. Stored with
/// every paragraph; each distinct key is stored once.
///
/// A plain `&str` converts into an origin at line 0, byte 0:
///
/// ```
/// use syndup::index::Origin;
/// let o: Origin = "https://example.org/a".into();
/// assert_eq!((o.key, o.line, o.byte), ("https://example.org/a", 0, 0));
/// let p = Origin::new("feed.txt").at(12, 480);
/// assert_eq!((p.line, p.byte), (12, 480));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin<'a> {
    /// The document's key.
    pub key: &'a str,
    /// 1-based line of the paragraph in the document (0: unknown). Stored in 32 bits: larger
    /// values are saturated.
    pub line: u64,
    /// Byte offset of the paragraph in the document.
    pub byte: u64,
}

impl<'a> Origin<'a> {
    /// An origin at line 0, byte 0.
    pub fn new(key: &'a str) -> Origin<'a> {
        Origin {
            key,
            line: 0,
            byte: 0,
        }
    }

    /// The same key at another position.
    pub fn at(self, line: u64, byte: u64) -> Origin<'a> {
        Origin { line, byte, ..self }
    }
}

impl<'a> From<&'a str> for Origin<'a> {
    fn from(key: &'a str) -> Origin<'a> {
        Origin::new(key)
    }
}

/// How a match was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    /// Same normalized text (paragraphs shorter than [`Params::min_words`]).
    Identical,
    /// The 6-bit MinHash estimate reached the threshold (see the [module doc](self)).
    Estimated,
}

/// A stored paragraph that matches a query.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Match {
    /// The stored paragraph.
    pub id: EntryId,
    /// Estimated Jaccard similarity of the word shingles (1 for [`MatchKind::Identical`]).
    pub similarity: f64,
    /// How it was decided.
    pub kind: MatchKind,
}

/// What [`Index::observe`] found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Seen {
    /// Nothing close was stored; the paragraph now is, under this id.
    New(EntryId),
    /// A stored paragraph matches (the closest one; ties: the oldest). Nothing was stored.
    Duplicate {
        /// The closest stored paragraph.
        of: EntryId,
        /// Its similarity.
        similarity: f64,
    },
    /// The paragraph has no word: it never matches and is not stored.
    Empty,
    /// The paragraph is longer than [`Params::max_paragraph_bytes`]: not compared, not stored.
    TooLong,
}

impl Seen {
    /// Whether the paragraph was new (and is now stored).
    pub fn is_new(&self) -> bool {
        matches!(self, Seen::New(_))
    }
}

/// One paragraph of a document, as answered by the document-level calls.
#[derive(Clone, Debug, PartialEq)]
pub struct ParagraphSeen {
    /// The paragraph's byte range in the document.
    pub span: Span,
    /// 1-based line on which it starts.
    pub line: u64,
    /// The answer.
    pub seen: Seen,
}

/// One paragraph of a document with the stored paragraphs that match it.
#[derive(Clone, Debug, PartialEq)]
pub struct ParagraphMatches {
    /// The paragraph's byte range in the document.
    pub span: Span,
    /// 1-based line on which it starts.
    pub line: u64,
    /// Matches, by similarity (descending) then id.
    pub matches: Vec<Match>,
}

/// A stored paragraph's origin, as returned by [`Index::entry`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Its id.
    pub id: EntryId,
    /// The key it was stored under.
    pub key: String,
    /// Its line (0 when not given).
    pub line: u64,
    /// Its byte offset.
    pub byte: u64,
    /// Whether it is shorter than `min_words` (matched by identity only).
    pub short: bool,
}

/// Counters and sizes, from [`Index::stats`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IndexStats {
    /// Stored paragraphs.
    pub entries: u64,
    /// Of which shorter than `min_words`.
    pub short_entries: u64,
    /// Distinct keys.
    pub keys: u64,
    /// The id the next paragraph will get (= paragraphs ever stored).
    pub next_id: u64,
    /// Paragraphs evicted so far (the oldest ids).
    pub evicted: u64,
    /// The capacity, if any.
    pub capacity: Option<u64>,
    /// Heap bytes held by the index.
    pub bytes: u64,
    /// `bytes / entries`.
    pub bytes_per_entry: f64,
    /// LSH bands (one table each) and rows per band.
    pub banding: (usize, usize),
    /// Slots of all tables.
    pub table_slots: u64,
    /// Non-empty slots (live, dead and tombstones).
    pub table_occupied: u64,
    /// `table_occupied / table_slots`.
    pub load_factor: f64,
    /// The longest run of non-empty slots a probe may walk.
    pub longest_probe: u64,
    /// Band postings (and copies of a short paragraph) not stored because their bucket
    /// already held `max_bucket` entries.
    pub capped_postings: u64,
}

/// Sizes of LSH buckets (entries sharing a band key), from [`Index::bucket_sizes`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BucketSizes {
    /// Buckets over all bands.
    pub buckets: u64,
    /// `histogram[i]`: buckets of `2^i ..= 2^(i+1) - 1` entries.
    pub histogram: Vec<u64>,
    /// The largest bucket.
    pub largest: u64,
}

/// Derived, fixed sizes of an index.
#[derive(Clone, Debug)]
struct Shape {
    k: usize,
    bands: usize,
    rows: usize,
    sig_bytes: usize,
    band_seeds: Vec<u64>,
    exact_seed: u64,
}

impl Shape {
    fn new(params: &Params) -> Shape {
        let (bands, rows) = params.banding();
        Shape {
            k: params.num_hashes,
            bands,
            rows,
            sig_bytes: table::sig_bytes(params.num_hashes),
            band_seeds: (0..bands)
                .map(|b| table::fmix64(params.seed ^ (b as u64 + 1).wrapping_mul(0x9e37_79b9)))
                .collect(),
            exact_seed: params.seed ^ 0xe7,
        }
    }
}

/// A paragraph made ready outside the lock.
#[derive(Clone, Debug)]
enum Prepared {
    Empty,
    TooLong,
    Short { exact: u64 },
    Long { sig: Vec<u8>, bands: Vec<u64> },
}

/// Scratch buffers reused by each thread.
#[derive(Default)]
struct Scratch {
    words: Words,
    shingles: Vec<u64>,
    sig: Vec<u32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The string table of keys.
#[derive(Clone, Debug, Default)]
struct Keys {
    bytes: String,
    /// `offsets[i]..offsets[i + 1]` is key `i`.
    offsets: Vec<u64>,
    /// xxh3 of a key → its number (the first key with that hash).
    map: HashMap<u64, u32>,
    /// Keys at the last garbage collection.
    at_gc: usize,
}

impl Keys {
    fn new() -> Keys {
        Keys {
            offsets: vec![0],
            ..Keys::default()
        }
    }

    fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    fn get(&self, i: u32) -> &str {
        let i = i as usize;
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => self.bytes.get(a as usize..b as usize).unwrap_or(""),
            _ => "",
        }
    }

    fn intern(&mut self, key: &str) -> u32 {
        let h = xxh3_64_with_seed(key.as_bytes(), 0x6b65_7973);
        if let Some(&i) = self.map.get(&h) {
            if self.get(i) == key {
                return i;
            }
        }
        let i = self.len() as u32;
        self.bytes.push_str(key);
        self.offsets.push(self.bytes.len() as u64);
        self.map.entry(h).or_insert(i);
        i
    }

    fn rebuild_map(&mut self) {
        self.map.clear();
        for i in 0..self.len() as u32 {
            let h = xxh3_64_with_seed(self.get(i).as_bytes(), 0x6b65_7973);
            self.map.entry(h).or_insert(i);
        }
        self.at_gc = self.len();
    }

    fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.offsets.capacity() * 8 + self.map.capacity() * 13
    }
}

/// Short-paragraph flag in the stored source number.
const SHORT: u32 = 1 << 31;

/// The stored paragraphs, oldest first, in flat arrays.
#[derive(Clone, Debug)]
struct Store {
    /// Seq of position 0 of the arrays.
    arr_first: u64,
    /// Seq of the oldest live paragraph.
    first: u64,
    /// Seq of the next paragraph.
    next: u64,
    /// Key number | [`SHORT`].
    sources: Vec<u32>,
    lines: Vec<u32>,
    bytes: Vec<u64>,
    /// `sig_bytes` per paragraph: the packed signature, or the exact-text hash (LE) of a short
    /// paragraph.
    sigs: Vec<u8>,
    sig_bytes: usize,
}

impl Store {
    fn pos(&self, seq: u64) -> Option<usize> {
        (seq >= self.first && seq < self.next).then(|| (seq - self.arr_first) as usize)
    }

    fn sig(&self, pos: usize) -> &[u8] {
        let Some(start) = pos.checked_mul(self.sig_bytes) else {
            return &[];
        };
        self.sigs
            .get(start..start.saturating_add(self.sig_bytes))
            .unwrap_or(&[])
    }

    fn exact(&self, pos: usize) -> u64 {
        let s = self.sig(pos);
        let mut w = [0u8; 8];
        let n = s.len().min(8);
        w[..n].copy_from_slice(&s[..n]);
        u64::from_le_bytes(w)
    }

    fn is_short(&self, pos: usize) -> bool {
        self.sources.get(pos).is_some_and(|s| s & SHORT != 0)
    }

    fn live(&self) -> u64 {
        self.next - self.first
    }

    fn heap_bytes(&self) -> usize {
        self.sources.capacity() * 4
            + self.lines.capacity() * 4
            + self.bytes.capacity() * 8
            + self.sigs.capacity()
    }

    /// Grows an array by 1/8 when full, so spare capacity stays small.
    fn reserve(&mut self) {
        fn more<T>(v: &mut Vec<T>, n: usize) {
            if v.len() + n > v.capacity() {
                v.reserve_exact((v.len() / 8).max(1024 * n));
            }
        }
        more(&mut self.sources, 1);
        more(&mut self.lines, 1);
        more(&mut self.bytes, 1);
        more(&mut self.sigs, self.sig_bytes);
    }
}

/// Everything behind the lock.
#[derive(Clone, Debug)]
struct Inner {
    store: Store,
    keys: Keys,
    /// Seq of local id 0 in the tables.
    base: u64,
    codec: Codec,
    bands: Vec<Table>,
    exact: Table,
    capacity: Option<u64>,
    capped: u64,
}

/// Most paragraphs an index holds at once (the id width of its tables); beyond it the oldest
/// are evicted as if this were the capacity.
pub const MAX_ENTRIES: u64 = (1 << 30) - (1 << 22);

/// A persistent, concurrent index of paragraphs. See the [module documentation](self).
///
/// ```
/// use syndup::index::{Index, Seen};
/// let index = Index::new(syndup::Params::default())?;
/// let page = "Storm closes every road into the valley, officials said on Tuesday.\n\
///             Subscribe to our newsletter.\n";
/// let first = index.observe_document("site-a/1", page);
/// assert!(first.iter().all(|p| p.seen.is_new()));
/// let again = index.observe_document("site-b/9", page);
/// assert!(again.iter().all(|p| matches!(p.seen, Seen::Duplicate { .. })));
/// assert_eq!(again[1].line, 2);
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("seen.syndup");
/// index.save(&path)?;
/// let reopened = syndup::index::Index::open(&path)?;
/// assert_eq!(reopened.len(), 2);
/// assert_eq!(reopened.query("Subscribe to our newsletter!")[0].similarity, 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Index {
    params: Params,
    shape: Shape,
    hasher: MinHasher,
    shingler: Shingler,
    inner: RwLock<Inner>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("params", &self.params)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl Index {
    /// An empty index with validated parameters and no capacity.
    pub fn new(params: Params) -> Result<Index> {
        params.validate()?;
        let shape = Shape::new(&params);
        // A short paragraph is stored as the 64-bit hash of its text, in its signature's bytes;
        // fewer than 8 bytes (fewer than 10 hash values) cut the hash, and different short
        // paragraphs then matched as identical.
        if shape.sig_bytes < 8 {
            return Err(Error::Param {
                name: "num_hashes",
                reason: format!(
                    "{} is too few for an index: it needs at least 10 hash values",
                    params.num_hashes
                ),
            });
        }
        let inner = Inner {
            store: Store {
                arr_first: 0,
                first: 0,
                next: 0,
                sources: Vec::new(),
                lines: Vec::new(),
                bytes: Vec::new(),
                sigs: Vec::new(),
                sig_bytes: shape.sig_bytes,
            },
            keys: Keys::new(),
            base: 0,
            codec: Codec {
                idbits: Codec::MIN_BITS,
            },
            bands: (0..shape.bands).map(|_| Table::new()).collect(),
            exact: Table::new(),
            capacity: None,
            capped: 0,
        };
        Ok(Index::from_parts(params, shape, inner))
    }

    fn from_parts(params: Params, shape: Shape, inner: Inner) -> Index {
        Index {
            hasher: MinHasher::with_scheme(params.num_hashes, params.seed, params.signature),
            shingler: Shingler::new(params.shingle_words, params.seed),
            params,
            shape,
            inner: RwLock::new(inner),
        }
    }

    /// The same index with a capacity (see [`Index::set_capacity`]).
    pub fn with_capacity(self, capacity: usize) -> Index {
        self.set_capacity(Some(capacity));
        self
    }

    /// Sets or removes the capacity. When more than `capacity` paragraphs are stored, the
    /// oldest are evicted (now, and on every insert); the memory of evicted paragraphs is reused.
    /// A capacity of 0 counts as 1; capacities above [`MAX_ENTRIES`] as [`MAX_ENTRIES`]. Saved
    /// with the index. Nothing is allocated up front (see [`Index::reserve`]).
    pub fn set_capacity(&self, capacity: Option<usize>) {
        let mut inner = self.write();
        inner.capacity = capacity.map(|c| (c as u64).clamp(1, MAX_ENTRIES));
        if let Some(c) = inner.capacity {
            while inner.store.live() > c {
                inner.evict_one();
            }
            inner.compact(&self.shape);
        }
    }

    /// Allocates room for `entries` paragraphs in all, so that inserts up to that number never
    /// pause to grow a table (each growth rehashes one of 64 sub-tables of a band; without
    /// reserving, inserts cost about a third more on average). Capped at [`MAX_ENTRIES`].
    pub fn reserve(&self, entries: usize) {
        let entries = (entries as u64).min(MAX_ENTRIES) as usize;
        self.write().reserve(&self.shape, entries);
    }

    /// The capacity, if any.
    pub fn capacity(&self) -> Option<usize> {
        self.read().capacity.map(|c| c as usize)
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Stored paragraphs.
    pub fn len(&self) -> usize {
        self.read().store.live() as usize
    }

    /// Whether no paragraph is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Normalizes, shingles and signs a paragraph (no lock held).
    fn prepare(&self, text: &str) -> Prepared {
        if text.len() > self.params.max_paragraph_bytes {
            return Prepared::TooLong;
        }
        let run = |s: &mut Scratch| self.prepare_with(text, s);
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut s) => run(&mut s),
            Err(_) => run(&mut Scratch::default()),
        })
    }

    fn prepare_with(&self, text: &str, s: &mut Scratch) -> Prepared {
        s.words.normalize(text);
        let n = s.words.len();
        if n == 0 {
            return Prepared::Empty;
        }
        if n < self.params.min_words {
            let exact = xxh3_64_with_seed(s.words.text_bytes(), self.shape.exact_seed);
            // Stored in the signature's bytes: keep only as many as there are (fewer than 8
            // only in files made before `Index::new` refused fewer than 10 hash values).
            let bits = (self.shape.sig_bytes * 8).min(64);
            let exact = if bits == 64 {
                exact
            } else {
                exact & ((1u64 << bits) - 1)
            };
            return Prepared::Short { exact };
        }
        s.shingles.clear();
        self.shingler.hash_into(&s.words, &mut s.shingles);
        s.sig.resize(self.shape.k, 0);
        self.hasher.sign(&s.shingles, &mut s.sig);
        let mut sig = vec![0u8; self.shape.sig_bytes];
        table::pack(&s.sig, &mut sig);
        let vals = &s.sig;
        let bands = (0..self.shape.bands)
            .map(|b| table::band_hash(|i| vals[i], b, self.shape.rows, self.shape.band_seeds[b]))
            .collect();
        Prepared::Long { sig, bands }
    }

    /// The stored paragraphs that match `text`, by similarity (descending) then id. Read-only;
    /// runs concurrently with other queries.
    pub fn query(&self, text: &str) -> Vec<Match> {
        let prepared = self.prepare(text);
        self.read().query(&self.shape, &self.params, &prepared)
    }

    /// Stores a paragraph, whatever is already stored. Returns its id, or `None` for a
    /// paragraph with no word or over [`Params::max_paragraph_bytes`] (not stored).
    pub fn insert<'a>(&self, origin: impl Into<Origin<'a>>, text: &str) -> Option<EntryId> {
        let prepared = self.prepare(text);
        self.write()
            .insert(&self.shape, &self.params, origin.into(), &prepared)
    }

    /// Queries and, if nothing matches, inserts, as one atomic step.
    pub fn observe<'a>(&self, origin: impl Into<Origin<'a>>, text: &str) -> Seen {
        let prepared = self.prepare(text);
        self.write()
            .observe(&self.shape, &self.params, origin.into(), &prepared)
    }

    /// Splits a document into paragraphs ([`segment::paragraphs`] with [`Params::split`]) and
    /// prepares each (no lock held): span, line and the prepared paragraph.
    fn paragraphs(&self, text: &str) -> Vec<(Span, u64, Prepared)> {
        let bytes = text.as_bytes();
        let eol = segment::line_end(bytes);
        let mut line = 1u64;
        let mut counted = 0usize;
        let mut out = Vec::new();
        for span in segment::paragraphs_ending(bytes, self.params.split, eol) {
            line += memchr::memchr_iter(eol, &bytes[counted..span.start]).count() as u64;
            counted = span.start;
            if let Some(p) = text.get(span.range()) {
                out.push((span, line, self.prepare(p)));
            }
        }
        out
    }

    /// [`Index::observe`] for every paragraph of a document, in order, under one lock (so a
    /// paragraph repeated within the document is a duplicate of its first occurrence).
    pub fn observe_document(&self, key: &str, text: &str) -> Vec<ParagraphSeen> {
        let paras = self.paragraphs(text);
        let mut inner = self.write();
        paras
            .iter()
            .map(|&(span, line, ref prep)| ParagraphSeen {
                span,
                line,
                seen: inner.observe(
                    &self.shape,
                    &self.params,
                    Origin::new(key).at(line, span.start as u64),
                    prep,
                ),
            })
            .collect()
    }

    /// [`Index::insert`] for every paragraph of a document ([`Seen::New`], [`Seen::Empty`] or
    /// [`Seen::TooLong`] for each).
    pub fn insert_document(&self, key: &str, text: &str) -> Vec<ParagraphSeen> {
        let paras = self.paragraphs(text);
        let mut inner = self.write();
        paras
            .iter()
            .map(|&(span, line, ref prep)| {
                let origin = Origin::new(key).at(line, span.start as u64);
                let seen = match inner.insert(&self.shape, &self.params, origin, prep) {
                    Some(id) => Seen::New(id),
                    None => Seen::from_unstored(prep),
                };
                ParagraphSeen { span, line, seen }
            })
            .collect()
    }

    /// [`Index::query`] for every paragraph of a document.
    pub fn query_document(&self, text: &str) -> Vec<ParagraphMatches> {
        let paras = self.paragraphs(text);
        let inner = self.read();
        paras
            .iter()
            .map(|&(span, line, ref prep)| ParagraphMatches {
                span,
                line,
                matches: inner.query(&self.shape, &self.params, prep),
            })
            .collect()
    }

    /// Inserts many paragraphs: signs them in parallel (rayon), then stores them in the given
    /// order under one lock, so the ids are the same as for one [`Index::insert`] after another.
    pub fn insert_many(&self, items: &[(Origin<'_>, &str)]) -> Vec<Option<EntryId>> {
        let prepared: Vec<Prepared> = items.par_iter().map(|(_, t)| self.prepare(t)).collect();
        let mut inner = self.write();
        items
            .iter()
            .zip(&prepared)
            .map(|((o, _), p)| inner.insert(&self.shape, &self.params, *o, p))
            .collect()
    }

    /// Queries many paragraphs: signs them in parallel (rayon), then answers under one shared
    /// lock.
    pub fn query_many(&self, texts: &[&str]) -> Vec<Vec<Match>> {
        let prepared: Vec<Prepared> = texts.par_iter().map(|t| self.prepare(t)).collect();
        let inner = self.read();
        prepared
            .iter()
            .map(|p| inner.query(&self.shape, &self.params, p))
            .collect()
    }

    /// The origin of a stored paragraph (`None` if evicted or never stored).
    pub fn entry(&self, id: EntryId) -> Option<Entry> {
        let inner = self.read();
        let pos = inner.store.pos(id.0)?;
        let source = *inner.store.sources.get(pos)?;
        Some(Entry {
            id,
            key: inner.keys.get(source & !SHORT).to_string(),
            line: u64::from(*inner.store.lines.get(pos)?),
            byte: *inner.store.bytes.get(pos)?,
            short: source & SHORT != 0,
        })
    }

    /// Counters and sizes (cheap: no hashing).
    pub fn stats(&self) -> IndexStats {
        let inner = self.read();
        let st = &inner.store;
        let live = st.live();
        let lo = (st.first - st.arr_first) as usize;
        let short = st
            .sources
            .get(lo..)
            .unwrap_or(&[])
            .iter()
            .filter(|&&s| s & SHORT != 0)
            .count() as u64;
        let (mut slots, mut occupied, mut longest) = (0, 0, 0);
        for t in inner.bands.iter().chain(std::iter::once(&inner.exact)) {
            let (s, o, l) = t.shape();
            slots += s as u64;
            occupied += o as u64;
            longest = longest.max(l as u64);
        }
        let bytes = inner.heap_bytes() as u64;
        IndexStats {
            entries: live,
            short_entries: short,
            keys: inner.keys.len() as u64,
            next_id: st.next,
            evicted: st.first,
            capacity: inner.capacity,
            bytes,
            bytes_per_entry: if live == 0 {
                0.0
            } else {
                bytes as f64 / live as f64
            },
            banding: (self.shape.bands, self.shape.rows),
            table_slots: slots,
            table_occupied: occupied,
            load_factor: if slots == 0 {
                0.0
            } else {
                occupied as f64 / slots as f64
            },
            longest_probe: longest,
            capped_postings: inner.capped,
        }
    }

    /// Exact LSH bucket sizes over all bands (recomputes every band key: about a second per
    /// million paragraphs).
    pub fn bucket_sizes(&self) -> BucketSizes {
        let inner = self.read();
        let st = &inner.store;
        let shape = &self.shape;
        let lo = (st.first - st.arr_first) as usize;
        let hi = (st.next - st.arr_first) as usize;
        let long: Vec<usize> = (lo..hi).filter(|&p| !st.is_short(p)).collect();
        let mut out = BucketSizes {
            buckets: 0,
            histogram: Vec::new(),
            largest: 0,
        };
        let per_band: Vec<Vec<u64>> = (0..shape.bands)
            .into_par_iter()
            .map(|b| {
                let mut keys: Vec<u64> = long
                    .iter()
                    .map(|&p| {
                        let sig = st.sig(p);
                        table::band_hash(
                            |i| table::value(sig, i),
                            b,
                            shape.rows,
                            shape.band_seeds[b],
                        )
                    })
                    .collect();
                keys.sort_unstable();
                let mut sizes = Vec::new();
                let mut i = 0;
                while i < keys.len() {
                    let mut j = i + 1;
                    while j < keys.len() && keys[j] == keys[i] {
                        j += 1;
                    }
                    sizes.push((j - i) as u64);
                    i = j;
                }
                sizes
            })
            .collect();
        for size in per_band.into_iter().flatten() {
            out.buckets += 1;
            out.largest = out.largest.max(size);
            let bin = (63 - size.leading_zeros()) as usize;
            if out.histogram.len() <= bin {
                out.histogram.resize(bin + 1, 0);
            }
            out.histogram[bin] += 1;
        }
        out
    }
}

impl Seen {
    fn from_unstored(p: &Prepared) -> Seen {
        match p {
            Prepared::TooLong => Seen::TooLong,
            _ => Seen::Empty,
        }
    }
}

impl Inner {
    fn heap_bytes(&self) -> usize {
        self.store.heap_bytes()
            + self.keys.heap_bytes()
            + self.bands.iter().map(Table::heap_bytes).sum::<usize>()
            + self.exact.heap_bytes()
    }

    fn query(&self, shape: &Shape, params: &Params, p: &Prepared) -> Vec<Match> {
        let st = &self.store;
        let base = self.base;
        let live = |local: u64| st.pos(base + local).is_some();
        let mut out = Vec::new();
        match p {
            Prepared::Empty | Prepared::TooLong => {}
            Prepared::Short { exact } => {
                self.exact.probe(self.codec, *exact, live, |local| {
                    let seq = base + local;
                    if let Some(pos) = st.pos(seq) {
                        if st.is_short(pos) && st.exact(pos) == *exact {
                            out.push(Match {
                                id: EntryId(seq),
                                similarity: 1.0,
                                kind: MatchKind::Identical,
                            });
                        }
                    }
                });
            }
            Prepared::Long { sig, bands } => {
                let mut cands: Vec<u64> = Vec::new();
                let mut homes = [0u32; 64];
                for ((t, &h), home) in self.bands.iter().zip(bands).zip(homes.iter_mut()) {
                    *home = t.home_slot(h);
                }
                for (b, (t, &h)) in self.bands.iter().zip(bands).enumerate() {
                    if homes.get(b) == Some(&0) {
                        continue;
                    }
                    t.probe(self.codec, h, live, |local| cands.push(local));
                }
                cands.sort_unstable();
                cands.dedup();
                for local in cands {
                    let seq = base + local;
                    let Some(pos) = st.pos(seq) else { continue };
                    if st.is_short(pos) {
                        continue;
                    }
                    let sim = table::estimate(sig, st.sig(pos), shape.k);
                    if sim >= params.threshold {
                        out.push(Match {
                            id: EntryId(seq),
                            similarity: sim,
                            kind: MatchKind::Estimated,
                        });
                    }
                }
            }
        }
        out.sort_by(|a, b| b.similarity.total_cmp(&a.similarity).then(a.id.cmp(&b.id)));
        out.dedup_by_key(|m| m.id);
        out
    }

    fn observe(&mut self, shape: &Shape, params: &Params, o: Origin<'_>, p: &Prepared) -> Seen {
        match p {
            Prepared::Empty | Prepared::TooLong => return Seen::from_unstored(p),
            _ => {}
        }
        if let Some(best) = self.query(shape, params, p).first() {
            return Seen::Duplicate {
                of: best.id,
                similarity: best.similarity,
            };
        }
        match self.insert(shape, params, o, p) {
            Some(id) => Seen::New(id),
            None => Seen::from_unstored(p),
        }
    }

    fn insert(
        &mut self,
        shape: &Shape,
        params: &Params,
        o: Origin<'_>,
        p: &Prepared,
    ) -> Option<EntryId> {
        let short = match p {
            Prepared::Empty | Prepared::TooLong => return None,
            Prepared::Short { .. } => true,
            Prepared::Long { .. } => false,
        };
        let limit = self.capacity.unwrap_or(MAX_ENTRIES).min(MAX_ENTRIES);
        while self.store.live() >= limit {
            self.evict_one();
        }
        self.compact(shape);
        if self.store.next - self.base > self.codec.max_local() {
            let room = self.store.live().max(1 << 16);
            self.recode(room);
        }
        let key = self.keys.intern(o.key);
        let seq = self.store.next;
        let st = &mut self.store;
        st.reserve();
        st.sources.push(key | if short { SHORT } else { 0 });
        st.lines.push(o.line.min(u64::from(u32::MAX)) as u32);
        st.bytes.push(o.byte);
        let start = st.sigs.len();
        st.sigs.resize(start + st.sig_bytes, 0);
        match p {
            Prepared::Short { exact } => {
                let n = st.sig_bytes.min(8);
                st.sigs[start..start + n].copy_from_slice(&exact.to_le_bytes()[..n]);
            }
            Prepared::Long { sig, .. } => {
                let n = st.sig_bytes.min(sig.len());
                st.sigs[start..start + n].copy_from_slice(&sig[..n]);
            }
            Prepared::Empty | Prepared::TooLong => {}
        }
        st.next += 1;
        let local = seq - self.base;
        let (store, base, codec) = (&self.store, self.base, self.codec);
        let live = |l: u64| store.pos(base + l).is_some();
        match p {
            Prepared::Short { exact } => {
                let rehash = |l: u64| store.pos(base + l).map_or(0, |pos| store.exact(pos));
                // Copies of one short text are capped as a band's bucket is: each insert walks
                // the bucket, and "Read more" repeated 80,000 times took 10 s (40,000: 2.3 s).
                let same = |l: u64| {
                    store
                        .pos(base + l)
                        .is_some_and(|pos| store.is_short(pos) && store.exact(pos) == *exact)
                };
                if self
                    .exact
                    .insert(codec, *exact, local, params.max_bucket, live, same, rehash)
                    == Placed::Capped
                {
                    self.capped += 1;
                }
            }
            Prepared::Long { bands, .. } => {
                // Touch every band's home slot first, so the cache misses overlap.
                let touched = self
                    .bands
                    .iter()
                    .zip(bands)
                    .fold(0u32, |acc, (t, &h)| acc ^ t.home_slot(h));
                std::hint::black_box(touched);
                let mine = store.sig(store.pos(seq).unwrap_or(usize::MAX));
                for (b, (t, &h)) in self.bands.iter_mut().zip(bands).enumerate() {
                    let rows = shape.rows;
                    let sig_of = |l: u64| store.pos(base + l).map(|pos| store.sig(pos));
                    let rehash = band_rehash(store, base, shape, b);
                    let same = |l: u64| {
                        let s = sig_of(l).unwrap_or(&[]);
                        (b * rows..(b + 1) * rows)
                            .all(|i| table::value(s, i) == table::value(mine, i))
                    };
                    if t.insert(codec, h, local, params.max_bucket, live, same, rehash)
                        == Placed::Capped
                    {
                        self.capped += 1;
                    }
                }
            }
            Prepared::Empty | Prepared::TooLong => {}
        }
        Some(EntryId(seq))
    }

    fn evict_one(&mut self) {
        if self.store.first < self.store.next {
            self.store.first += 1;
        }
    }

    /// Drops evicted paragraphs from the front of the arrays once they are a quarter of them,
    /// and unused keys once there are twice as many keys as at the last collection.
    fn compact(&mut self, shape: &Shape) {
        let st = &mut self.store;
        let dead = (st.first - st.arr_first) as usize;
        if dead == 0 || dead < (st.live() as usize / 4).max(4096) {
            return;
        }
        st.sources.drain(..dead);
        st.lines.drain(..dead);
        st.bytes.drain(..dead);
        st.sigs.drain(..dead * shape.sig_bytes);
        st.arr_first = st.first;
        if self.keys.len() > 1024 && self.keys.len() > 2 * self.keys.at_gc {
            self.collect_keys();
        }
    }

    /// [`Inner::collect_keys`] when some key is used by no paragraph in the arrays.
    pub(super) fn drop_unused_keys(&mut self) {
        let mut used = vec![0u64; self.keys.len().div_ceil(64)];
        for &s in &self.store.sources {
            let k = (s & !SHORT) as usize;
            if let Some(w) = used.get_mut(k / 64) {
                *w |= 1 << (k % 64);
            }
        }
        let n_used: usize = used.iter().map(|w| w.count_ones() as usize).sum();
        if n_used < self.keys.len() {
            self.collect_keys();
        }
    }

    /// Keeps only the keys live paragraphs use, renumbered in order of first use.
    fn collect_keys(&mut self) {
        let mut renumber: HashMap<u32, u32> = HashMap::new();
        let mut keys = Keys::new();
        for s in &mut self.store.sources {
            let old = *s & !SHORT;
            let new = *renumber.entry(old).or_insert_with(|| {
                let i = keys.len() as u32;
                keys.bytes.push_str(self.keys.get(old));
                keys.offsets.push(keys.bytes.len() as u64);
                i
            });
            *s = new | (*s & SHORT);
        }
        keys.rebuild_map();
        self.keys = keys;
    }

    /// Moves the tables' id base to the oldest live paragraph, with ids wide enough for `room`
    /// more paragraphs.
    fn recode(&mut self, room: u64) {
        let st = &self.store;
        let need = st.live() + room + 2;
        let mut idbits = self.codec.idbits;
        while idbits < Codec::MAX_BITS && u64::from((1u32 << idbits) - 3) < need {
            idbits += 1;
        }
        let new = Codec { idbits };
        let shift = st.first - self.base;
        let (base, old) = (self.base, self.codec);
        let is_live = |l: u64| st.pos(base + l).is_some();
        for t in self
            .bands
            .iter_mut()
            .chain(std::iter::once(&mut self.exact))
        {
            t.recode(old, new, shift, is_live);
        }
        self.codec = new;
        self.base = st.first;
    }

    /// Re-lays out every table in descending fingerprint order (after reading a format-1 file).
    fn reorder_tables(&mut self, shape: &Shape) {
        let (store, base, codec) = (&self.store, self.base, self.codec);
        let live = |l: u64| store.pos(base + l).is_some();
        for (b, t) in self.bands.iter_mut().enumerate() {
            t.reorder(codec, live, band_rehash(store, base, shape, b));
        }
        let rehash = |l: u64| store.pos(base + l).map_or(0, |pos| store.exact(pos));
        self.exact.reorder(codec, live, rehash);
    }

    /// Sizes the arrays and band tables for `entries` paragraphs.
    fn reserve(&mut self, shape: &Shape, entries: usize) {
        let st = &mut self.store;
        let more = entries.saturating_sub(st.sources.len());
        st.sources.reserve_exact(more);
        st.lines.reserve_exact(more);
        st.bytes.reserve_exact(more);
        st.sigs.reserve_exact(more * shape.sig_bytes);
        if self.store.next - self.base + entries as u64 > self.codec.max_local() {
            self.recode(entries as u64 + (1 << 16));
        }
        let (store, base, codec) = (&self.store, self.base, self.codec);
        let live = |l: u64| store.pos(base + l).is_some();
        for (b, t) in self.bands.iter_mut().enumerate() {
            t.presize(codec, entries, live, band_rehash(store, base, shape, b));
        }
    }
}

/// The key of band `b` of a stored paragraph, from its stored signature (for rebuilding a
/// table without the texts).
fn band_rehash<'s>(
    store: &'s Store,
    base: u64,
    shape: &'s Shape,
    b: usize,
) -> impl Fn(u64) -> u64 + 's {
    move |l: u64| {
        let s = store.pos(base + l).map(|p| store.sig(p)).unwrap_or(&[]);
        table::band_hash(|i| table::value(s, i), b, shape.rows, shape.band_seeds[b])
    }
}

#[cfg(test)]
mod tests;
