//! Stage 6: locality-sensitive hashing. Signatures in, candidate pairs out.
//!
//! Takes the MinHash [`Signatures`] of some units and gives the pairs of units that agree on
//! every row of at least one band (`bands` × `rows` values), sorted and deduplicated. Each band's
//! values are hashed (seeded, through a 64-bit finalizer) into a 32-bit key, made right after
//! the signature and stored band by band ([`BandKeys`]); a band's entries (key and unit packed
//! in a `u64`) are grouped by sorting, not by a map of vectors, so memory is flat arrays and
//! the order is deterministic. A bucket with more than `max_bucket` members (boilerplate repeated thousands
//! of times) is not expanded into all its pairs, which would be quadratic: its members are
//! paired with their neighbours in id order only, so they still end up connected.
//!
//! A band's pairs are also bounded in all ([`BandBudget`]): where expanding every bucket within
//! `max_bucket` would propose more pairs than the band's budget (one per unit banded), the
//! band's largest buckets are chained too, the fewest that bring it within the budget
//! ([`bucket_bound`]). On news the budget is never reached; on text with a small vocabulary,
//! where thousands of buckets hold dozens of unrelated units each, it keeps the candidates (and
//! their memory and verification) linear in the input rather than quadratic.
//!
//! Units that are identical (the same set, hence the same keys) can be taken as groups
//! ([`UnitGroups`], [`BandKeys::candidate_groups`]): each group is banded once, and the
//! candidates come out as pairs of groups, whole groups and chained pairs of members, which
//! stand for exactly the candidate pairs of the members.
//!
//! ```
//! use syndup::{lsh::candidate_pairs, minhash::{MinHasher, Signatures}};
//! let sets = vec![vec![1u64, 2, 3, 4], vec![1, 2, 3, 4], vec![9, 10, 11, 12]];
//! let sigs = Signatures::compute(&MinHasher::new(16, 0), &sets);
//! let pairs = candidate_pairs(&sigs, &[0, 1, 2], (8, 2), 0, 100);
//! assert_eq!(pairs, vec![(0, 1)]);
//! ```

use crate::minhash::{fmix64, Signatures};
use rayon::prelude::*;

/// The key of band `band` (`rows` values starting at `band * rows`) of a signature: the values,
/// two at a time, folded through a 64-bit finalizer (a bijection), seeded with `seed` and the
/// band, and the top 32 bits kept. Among `n` units, pairs with different band values share a
/// 32-bit key by chance about `n² / 2^33` times per band: a few hundred extra candidates among
/// millions, all rejected by verification, for half the memory of 64-bit keys.
pub fn band_key(sig: &[u32], band: usize, rows: usize, seed: u64) -> u32 {
    fold_band(band_seed(seed, band), &sig[band * rows..(band + 1) * rows])
}

/// The start of band `band`'s key with `seed`.
fn band_seed(seed: u64, band: usize) -> u64 {
    fmix64(seed ^ (band as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// A band's key from its start and its values.
#[inline]
fn fold_band(mut h: u64, vals: &[u32]) -> u32 {
    // Two values per mixing round.
    let mut pairs = vals.chunks_exact(2);
    for two in &mut pairs {
        h = fmix64(h ^ (u64::from(two[0]) | u64::from(two[1]) << 32));
    }
    for &v in pairs.remainder() {
        h = fmix64(h ^ u64::from(v));
    }
    (h >> 32) as u32
}

/// [`band_keys`] for one banding and seed, with each band's start computed once rather than
/// for every signature: one mixing round of three per band at 5 rows, of two at 2 rows (the
/// sentence level's banding). Same keys.
///
/// ```
/// use syndup::lsh::{band_keys, BandHasher};
/// let sig: Vec<u32> = (0..12).map(|v| v * 7919).collect();
/// let (mut a, mut b) = ([0u32; 4], [0u32; 4]);
/// band_keys(&sig, 3, 42, &mut a);
/// BandHasher::new(4, 3, 42).keys(&sig, &mut b);
/// assert_eq!(a, b);
/// ```
#[derive(Clone, Debug)]
pub struct BandHasher {
    rows: usize,
    starts: Vec<u64>,
}

impl BandHasher {
    /// The hasher of `bands` bands of `rows` values with `seed`.
    pub fn new(bands: usize, rows: usize, seed: u64) -> BandHasher {
        BandHasher {
            rows,
            starts: (0..bands).map(|band| band_seed(seed, band)).collect(),
        }
    }

    /// Writes the keys of the first `out.len()` bands of `sig` into `out`, as [`band_keys`]
    /// does; bands beyond the hasher's or the signature's are left as they are.
    pub fn keys(&self, sig: &[u32], out: &mut [u32]) {
        let starts = out.iter_mut().zip(&self.starts);
        if self.rows == 0 {
            // Bands of no value: the key is the band's start alone, as for `band_key`.
            starts.for_each(|(key, &start)| *key = fold_band(start, &[]));
            return;
        }
        for ((key, &start), vals) in starts.zip(sig.chunks_exact(self.rows)) {
            *key = fold_band(start, vals);
        }
    }
}

/// One LSH entry: a band key and a unit, packed so that entries sort by key, then unit.
///
/// ```
/// use syndup::lsh::{entry, entry_unit};
/// assert!(entry(1, 9) < entry(2, 0));
/// assert_eq!(entry_unit(entry(7, 42)), 42);
/// ```
pub fn entry(key: u32, unit: u32) -> u64 {
    u64::from(key) << 32 | u64::from(unit)
}

/// The unit of an [`entry`].
pub fn entry_unit(e: u64) -> u32 {
    e as u32
}

/// Sorts entries ([`entry`]) whose keys are uniformly distributed hashes, as
/// `entries.sort_unstable()` would, by [`sort_by_bits`].
///
/// ```
/// use syndup::lsh::{entry, sort_entries};
/// let mut e = vec![entry(u32::MAX, 1), entry(3, 9), entry(1 << 31, 0), entry(3, 2)];
/// let mut want = e.clone();
/// want.sort_unstable();
/// sort_entries(&mut e, &mut Vec::new());
/// assert_eq!(e, want);
/// ```
pub fn sort_entries(entries: &mut [u64], scratch: &mut Vec<u64>) {
    sort_by_bits(entries, scratch, |&e| e);
}

/// Sorts `items` by `key`, for keys whose top bits are spread about evenly (hashes, or ids
/// shifted to the top), in two counting passes that each stay in cache: the first scatters
/// them by the key's top 10 bits into `scratch` (1,024 sequential write streams), the second
/// sorts each of those buckets back into `items` by the next bits (about two items per
/// place), and what still shares those bits is put in order by insertion. One scatter into a
/// million places (the first version) cost a cache miss per item and was three times slower
/// at two million items. Items with equal keys end in no particular order; they are equal
/// when the key is the whole value, as for [`sort_entries`] and [`sort_pairs`].
///
/// ```
/// let mut v: Vec<(u64, char)> = vec![(3 << 60, 'c'), (1 << 62, 'd'), (5, 'a'), (1 << 40, 'b')];
/// syndup::lsh::sort_by_bits(&mut v, &mut Vec::new(), |e| e.0);
/// assert_eq!(v.iter().map(|e| e.1).collect::<String>(), "abcd");
/// ```
pub fn sort_by_bits<T: Copy>(items: &mut [T], scratch: &mut Vec<T>, key: impl Fn(&T) -> u64) {
    const HIGH: u32 = 10;
    let n = items.len();
    if n < 1024 {
        items.sort_unstable_by_key(&key);
        return;
    }
    let mut starts = [0usize; (1 << HIGH) + 1];
    for e in items.iter() {
        starts[(key(e) >> (64 - HIGH)) as usize + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    // Every slot is written by the scatter; only new capacity needs initializing.
    scratch.resize(n, items[0]);
    let mut next = starts;
    for e in items.iter() {
        let b = (key(e) >> (64 - HIGH)) as usize;
        scratch[next[b]] = *e;
        next[b] += 1;
    }
    // The second pass: about two items per place of the average bucket.
    let low = (usize::BITS - (n >> (HIGH + 1)).max(1).leading_zeros()).clamp(1, 16);
    let (shift, mask) = (64 - HIGH - low, (1u64 << low) - 1);
    let mut places = vec![0usize; (1 << low) + 1];
    for w in starts.windows(2) {
        let (from, to) = (&scratch[w[0]..w[1]], &mut items[w[0]..w[1]]);
        if from.len() <= 16 {
            to.copy_from_slice(from);
            insertion_sort_within(to, usize::MAX, &key);
            continue;
        }
        places.fill(0);
        for e in from {
            places[((key(e) >> shift) & mask) as usize + 1] += 1;
        }
        for i in 1..places.len() {
            places[i] += places[i - 1];
        }
        for e in from {
            let p = ((key(e) >> shift) & mask) as usize;
            to[places[p]] = *e;
            places[p] += 1;
        }
        // Only items alike in their top bits are still out of order, a handful at a time;
        // many alike (a popular key whose units came out of order, or crafted keys) fall back
        // to a comparison sort rather than cost quadratic time.
        if !insertion_sort_within(to, 4 * to.len(), &key) {
            to.sort_unstable_by_key(&key);
        }
    }
}

/// Sorts `run` by `key` in place by insertion, unless that takes more than `budget` moves:
/// then it stops and returns false, leaving `run` a permutation of itself.
fn insertion_sort_within<T>(run: &mut [T], mut budget: usize, key: impl Fn(&T) -> u64) -> bool {
    for i in 1..run.len() {
        let mut j = i;
        while j > 0 && key(&run[j - 1]) > key(&run[j]) {
            if budget == 0 {
                return false;
            }
            budget -= 1;
            run.swap(j - 1, j);
            j -= 1;
        }
    }
    true
}

/// Sorts pairs as `pairs.sort_unstable()` would, by [`sort_by_bits`] on the pairs packed into
/// single integers with the largest first id's top bit at the top: millions of candidate
/// pairs sort several times faster than by comparisons, and twice as fast as by the
/// least-significant-digit radix sort (four passes of 11 bits) of the first version.
///
/// ```
/// let mut p = vec![(5, 9), (0, 3), (5, 6), (70_000, 80_000), (0, 3)];
/// syndup::lsh::sort_pairs(&mut p);
/// assert_eq!(p, vec![(0, 3), (0, 3), (5, 6), (5, 9), (70_000, 80_000)]);
/// ```
pub fn sort_pairs(pairs: &mut [(u32, u32)]) {
    sort_pairs_with(pairs, &mut Vec::new());
}

/// [`sort_pairs`] with a scratch buffer that the caller keeps from one sort to the next: a
/// fresh buffer for each sort costs its page faults again (the compactions of
/// [`BandKeys::candidate_pairs`] sort tens of millions of pairs in all).
pub fn sort_pairs_with(pairs: &mut [(u32, u32)], scratch: &mut Vec<(u32, u32)>) {
    let top = pairs.iter().map(|&(a, _)| a).max().unwrap_or(0);
    let shift = top.leading_zeros();
    // Order-preserving: `a` has at least `shift` leading zero bits.
    let packed = |&(a, b): &(u32, u32)| (u64::from(a) << 32 | u64::from(b)) << shift;
    sort_by_bits(pairs, scratch, packed);
}

/// Candidate pairs `(a, b)` with `a < b` among `units` (indexes into `sigs`), sorted and
/// deduplicated. `banding` is `(bands, rows)`.
pub fn candidate_pairs(
    sigs: &Signatures,
    units: &[u32],
    banding: (usize, usize),
    seed: u64,
    max_bucket: usize,
) -> Vec<(u32, u32)> {
    let (bands, rows) = banding;
    let hasher = BandHasher::new(bands, rows, seed);
    let keys = BandKeys::compute(
        sigs.len(),
        bands,
        || (),
        |_, i, out| hasher.keys(sigs.row(i), out),
    );
    keys.candidate_pairs(units, max_bucket)
}

/// Writes the key of every band of `sig` (`out.len()` bands of `rows` values) into `out`.
pub fn band_keys(sig: &[u32], rows: usize, seed: u64, out: &mut [u32]) {
    for (band, key) in out.iter_mut().enumerate() {
        *key = band_key(sig, band, rows, seed);
    }
}

/// The band keys of many units in one flat array, band by band (all units' keys of band 0,
/// then of band 1, ...): what the LSH needs of a signature, made while the signature is still
/// in cache, so signatures need not be kept, and laid out so that each band is read in order.
///
/// ```
/// use syndup::lsh::{band_keys, BandKeys};
/// use syndup::minhash::MinHasher;
/// let sets = [vec![1u64, 2, 3, 4], vec![1, 2, 3, 4], vec![9, 10, 11, 12]];
/// let h = MinHasher::new(16, 0);
/// let keys = BandKeys::compute(3, 8, || vec![0; 16], |sig, i, out| {
///     h.sign(&sets[i], sig);
///     band_keys(sig, 2, 0, out);
/// });
/// assert_eq!(keys.key(0, 3), keys.key(1, 3));
/// assert_eq!(keys.candidate_pairs(&[0, 1, 2], 100), vec![(0, 1)]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct BandKeys {
    bands: usize,
    /// One column per band: the key of every unit.
    keys: Vec<Vec<u32>>,
    /// The pairs each band may propose.
    budget: BandBudget,
}

/// How many candidate pairs one band may propose: `per_unit` for each unit banded, and at
/// least `min`. A band whose buckets within `max_bucket` would propose more has its largest
/// buckets chained (see [`bucket_bound`]), so a band's pairs stay about linear in its units.
///
/// The default (one pair a unit, at least 65,536) is never reached on news: at 500 MB of
/// generated news each sentence band would propose 0.47 pairs of sentences per sentence (0.48
/// in the fullest band). On 200 MB of random text drawn from 20,000 made-up words, each
/// proposed about 2.9 (buckets of 17 to 64 sentences sharing a rare word), and at 1 GB the run
/// passed 22 GB of memory.
///
/// ```
/// use syndup::lsh::{bucket_bound, BandBudget};
/// let budget = BandBudget { per_unit: 1, min: 10 };
/// // Within the budget: 6 + 3 pairs.
/// assert_eq!(bucket_bound(&mut vec![4, 3], 10, 100, budget), 100);
/// // 10 + 3 pairs are too many; chaining the 5 (4 pairs) leaves 4 + 3.
/// assert_eq!(bucket_bound(&mut vec![5, 3], 10, 100, budget), 3);
/// // Chained, the 5s alone are 12 pairs: only buckets of two stay (chained or not, one pair).
/// assert_eq!(bucket_bound(&mut vec![5, 5, 5, 2, 2], 10, 100, budget), 2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BandBudget {
    /// Pairs for each unit banded.
    pub per_unit: usize,
    /// Pairs a band may always propose (small inputs are never bounded by the budget).
    pub min: usize,
}

impl Default for BandBudget {
    fn default() -> BandBudget {
        BandBudget {
            per_unit: 1,
            min: 1 << 16,
        }
    }
}

impl BandBudget {
    /// The pairs a band of `units` units may propose.
    pub fn pairs(&self, units: usize) -> usize {
        units.saturating_mul(self.per_unit).max(self.min)
    }
}

/// The bucket bound of one band: buckets of at most this many members are expanded into all
/// their pairs, larger ones chained. It is `max_bucket` when that keeps the band's pairs
/// within `budget` (for `units` units banded); otherwise the largest bucket size that does,
/// chaining every larger bucket (1, chaining them all, when none does). `sizes` holds the
/// member count of each bucket of two or more members (in any order; it is sorted here).
///
/// The pairs of a band at bound `b`: `s (s - 1) / 2` for a bucket of `s ≤ b` members, `s - 1`
/// for a larger one.
pub fn bucket_bound(
    sizes: &mut [usize],
    units: usize,
    max_bucket: usize,
    budget: BandBudget,
) -> usize {
    let limit = budget.pairs(units);
    let (all, chained) = (|s| bucket_pair_count(s, s), |s| bucket_pair_count(s, 1));
    let at_max = sizes
        .iter()
        .map(|&s| bucket_pair_count(s, max_bucket))
        .fold(0usize, usize::saturating_add);
    if at_max <= limit {
        return max_bucket;
    }
    sizes.sort_unstable();
    let mut pairs = sizes
        .iter()
        .map(|&s| chained(s))
        .fold(0usize, usize::saturating_add);
    let mut bound = 1;
    for same in sizes.chunk_by(|a, b| a == b) {
        let s = same[0];
        if s > max_bucket {
            break;
        }
        let more = same.len().saturating_mul(all(s) - chained(s));
        // Buckets of two propose their one pair either way.
        if more > 0 && pairs.saturating_add(more) > limit {
            break;
        }
        pairs += more;
        bound = s;
    }
    bound
}

/// The pairs a bucket of `s` members proposes at bucket bound `bound`: all of them, or each
/// member with the next when it has more members than `bound`.
fn bucket_pair_count(s: usize, bound: usize) -> usize {
    if s <= bound {
        s.saturating_mul(s.saturating_sub(1)) / 2
    } else {
        s.saturating_sub(1)
    }
}

/// The bucket bound ([`bucket_bound`]) of a band of sorted `entries` ([`entry`]) of `units`
/// units, each entry one member; `sizes` is scratch.
pub(crate) fn entries_bound(
    entries: &[u64],
    units: usize,
    max_bucket: usize,
    budget: BandBudget,
    sizes: &mut Vec<usize>,
) -> usize {
    sizes.clear();
    sizes.extend(buckets(entries).map(<[u64]>::len).filter(|&s| s > 1));
    bucket_bound(sizes, units, max_bucket, budget)
}

impl BandKeys {
    /// The keys of `n` units with `bands` bands each: `make(scratch, i, out)` writes unit
    /// `i`'s keys into `out` (`bands` long), with a scratch value made by `init` that each
    /// thread reuses. In parallel (rayon) over blocks of units; the result does not depend on
    /// the thread count.
    pub fn compute<T, I, F>(n: usize, bands: usize, init: I, make: F) -> BandKeys
    where
        I: Fn() -> T + Sync + Send,
        F: Fn(&mut T, usize, &mut [u32]) + Sync + Send,
    {
        const BLOCK: usize = 1024;
        let mut keys: Vec<Vec<u32>> = (0..bands).map(|_| vec![0u32; n]).collect();
        if bands > 0 && n > 0 {
            // Each block of units owns its piece of every band's column.
            let blocks = n.div_ceil(BLOCK);
            let mut pieces: Vec<Vec<&mut [u32]>> =
                (0..blocks).map(|_| Vec::with_capacity(bands)).collect();
            for column in &mut keys {
                for (b, piece) in column.chunks_mut(BLOCK).enumerate() {
                    pieces[b].push(piece);
                }
            }
            pieces.into_par_iter().enumerate().for_each_init(
                || (init(), vec![0u32; bands]),
                |(scratch, row), (b, mut columns)| {
                    for j in 0..columns.first().map_or(0, |c| c.len()) {
                        make(scratch, b * BLOCK + j, row);
                        for (column, &key) in columns.iter_mut().zip(row.iter()) {
                            column[j] = key;
                        }
                    }
                },
            );
        }
        BandKeys {
            bands,
            keys,
            budget: BandBudget::default(),
        }
    }

    /// The same keys, banded with another budget of pairs per band (see [`BandBudget`]).
    ///
    /// ```
    /// use syndup::lsh::{BandBudget, BandKeys};
    /// // Five units in one bucket: ten pairs, or four when chained.
    /// let keys = BandKeys::compute(5, 1, || (), |_, _, out| out[0] = 7);
    /// assert_eq!(keys.clone().candidate_pairs(&[0, 1, 2, 3, 4], 100).len(), 10);
    /// let tight = keys.with_budget(BandBudget { per_unit: 1, min: 0 });
    /// assert_eq!(tight.candidate_pairs(&[0, 1, 2, 3, 4], 100), vec![(0, 1), (1, 2), (2, 3), (3, 4)]);
    /// ```
    pub fn with_budget(mut self, budget: BandBudget) -> BandKeys {
        self.budget = budget;
        self
    }

    /// The key of band `band` of unit `i`.
    pub fn key(&self, i: usize, band: usize) -> u32 {
        self.keys[band][i]
    }

    /// Candidate pairs `(a, b)` with `a < b` among `units` (indexes of units), sorted and
    /// deduplicated: units that share the key of some band. A bucket with more than
    /// `max_bucket` members is chained (see [`bucket_pairs`]), and so are a band's largest
    /// buckets when its pairs would pass its budget ([`BandBudget`], [`bucket_bound`]).
    ///
    /// Each band's keys are freed as soon as its pairs are found, so the memory of the keys
    /// goes down while that of the pairs goes up (at 500 MB the sentence keys are 0.47 GB).
    pub fn candidate_pairs(self, units: &[u32], max_bucket: usize) -> Vec<(u32, u32)> {
        let budget = self.budget;
        let lists = self.by_band(
            units,
            None,
            || (PairList::default(), Vec::new()),
            |(list, sizes), entries| {
                let bound = entries_bound(entries, units.len(), max_bucket, budget, sizes);
                bucket_pairs(entries, bound, &mut list.pairs);
                list.compact_if_grown();
            },
        );
        merge_lists(
            lists
                .into_par_iter()
                .map(|(list, _)| list.finish())
                .collect::<Vec<_>>(),
        )
    }

    /// [`BandKeys::candidate_pairs`] for units that stand for groups of identical members
    /// (`groups`; `units` lists groups, the keys are those of each group's members), as if
    /// every member had the keys of its group: the same candidate pairs of members, in a form
    /// that need not list them one by one ([`GroupCandidates`]). A bucket is chained when its
    /// groups have more than `max_bucket` members in all, or more than the band's bound when
    /// the band passes its budget of pairs ([`bucket_bound`], counting members).
    ///
    /// Identical members always share every bucket, so among members each such pair comes
    /// once a band, and a pair of groups once a band for every pair of their members: at 500
    /// MB of generated news, where 12 % of the sentences repeat another one, the bands propose
    /// 30.8 million pairs of groups instead of 55.3 million pairs of sentences.
    ///
    /// ```
    /// use syndup::lsh::{BandKeys, UnitGroups};
    /// // Members 0 and 2 are identical, 1 is alone; all three share the key of their band.
    /// let groups = UnitGroups::from_representatives(&[0, 1, 0]);
    /// let keys = BandKeys::compute(groups.len(), 1, || (), |_, _, out| out[0] = 7);
    /// let found = keys.candidate_groups(&[0, 1], &groups, 100);
    /// assert_eq!(found.pairs, vec![(0, 1)]);
    /// assert_eq!(found.whole, vec![0]);
    /// assert_eq!(found.member_pairs(&groups), vec![(0, 1), (0, 2), (1, 2)]);
    /// ```
    pub fn candidate_groups(
        self,
        units: &[u32],
        groups: &UnitGroups,
        max_bucket: usize,
    ) -> GroupCandidates {
        let n = groups.len();
        let units_n = groups.group_of.len();
        // Entries hold each group's representative, whose group size is one byte read.
        let reps: Vec<u32> = (0..n as u32).map(|g| groups.representative(g)).collect();
        let bands = self.bands as u32;
        let budget = self.budget;
        // The budget counts members, as if each were banded on its own; a group of identical
        // members where no other group shares its key is a bucket of its own (of `m` members,
        // `pairs_at_max(m)` pairs when the band is within its budget).
        let member_units: usize = units.iter().map(|&g| groups.members(g).len()).sum();
        let pairs_at_max = |m: usize| bucket_pair_count(m, max_bucket);
        // The groups of two or more, largest first, with their sizes, and the pairs they
        // would propose if each were alone in its bucket.
        let mut grouped: Vec<(usize, u32)> = units
            .iter()
            .map(|&g| groups.representative(g))
            .filter(|&r| !groups.is_alone(r))
            .map(|r| (groups.size_of(r), r))
            .collect();
        grouped.sort_unstable_by(|a, b| b.cmp(a));
        let grouped_pairs = grouped
            .iter()
            .map(|&(m, _)| pairs_at_max(m))
            .fold(0usize, usize::saturating_add);
        let largest_group = grouped.first().map_or(0, |&(m, _)| m);
        let (grouped, bands_seen) = (&grouped, std::sync::atomic::AtomicU32::new(0));
        let workers = self.by_band(
            units,
            Some(&reps),
            || GroupWorker {
                pairs: PairList::default(),
                chained: PairList::default(),
                chained_in: Vec::new(),
                members: Vec::new(),
                runs: Vec::new(),
                sizes: Vec::new(),
                in_bucket: Vec::new(),
            },
            |w, entries| {
                // The members of each bucket shared by two groups or more, in order, and the
                // band's pairs at `max_bucket`: theirs, and the other groups' on their own.
                w.runs.clear();
                let (mut pairs, mut shared_groups) = (0usize, 0usize);
                for run in buckets(entries).filter(|run| run.len() > 1) {
                    let mut members = 0;
                    for &e in run {
                        let m = groups.size_of(entry_unit(e));
                        members += m;
                        if m > 1 {
                            shared_groups = shared_groups.saturating_add(pairs_at_max(m));
                        }
                    }
                    pairs = pairs.saturating_add(pairs_at_max(members));
                    w.runs.push(members);
                }
                let pairs = pairs.saturating_add(grouped_pairs.saturating_sub(shared_groups));
                let within = pairs <= budget.pairs(member_units);
                // The groups in shared buckets are marked (with a number no other band of this
                // worker uses) when some group may be too large for the band's bound.
                let band = bands_seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if !within || largest_group > max_bucket {
                    w.mark_shared(entries, groups, band, units_n);
                }
                let bound = if within {
                    max_bucket
                } else {
                    w.sizes.clear();
                    w.sizes.extend_from_slice(&w.runs);
                    w.sizes.extend(
                        grouped
                            .iter()
                            .filter(|&&(_, r)| w.in_bucket[r as usize] != band)
                            .map(|&(m, _)| m),
                    );
                    bucket_bound(&mut w.sizes, member_units, max_bucket, budget)
                };
                // A group alone in its bucket is chained (its members with each other) when
                // larger than the bound.
                for &(_, r) in grouped.iter().take_while(|&&(m, _)| m > bound) {
                    if w.in_bucket[r as usize] != band {
                        w.chain(r, true, units_n);
                    }
                }
                let runs = std::mem::take(&mut w.runs);
                for (run, &members) in buckets(entries).filter(|run| run.len() > 1).zip(&runs) {
                    if members <= bound {
                        push_bucket_pairs(run, usize::MAX, &mut w.pairs.pairs, |a, b| (a, b));
                        continue;
                    }
                    // Chained: each member with the next, in member order, as among members.
                    w.members.clear();
                    for &e in run {
                        let rep = entry_unit(e);
                        w.members.extend_from_slice(groups.copies(rep));
                        if !groups.is_alone(rep) {
                            w.chain(rep, false, units_n);
                        }
                    }
                    w.members.sort_unstable();
                    let chain = w.members.windows(2).map(|m| (m[0], m[1]));
                    w.chained.pairs.extend(chain);
                }
                w.runs = runs;
                w.pairs.compact_if_grown();
                w.chained.compact_if_grown();
            },
        );
        drop(reps);
        let mut chained_in = vec![0u32; units_n];
        let (mut pair_lists, mut chain_lists) = (Vec::new(), Vec::new());
        let workers: Vec<_> = workers
            .into_par_iter()
            .map(|w| (w.pairs.finish(), w.chained.finish(), w.chained_in))
            .collect();
        for (p, c, counts) in workers {
            for (all, mine) in chained_in.iter_mut().zip(counts) {
                *all = (*all | mine) & GroupWorker::ALONE
                    | ((*all & !GroupWorker::ALONE) + (mine & !GroupWorker::ALONE));
            }
            pair_lists.push(p);
            chain_lists.push(c);
        }
        // Identical members share every bucket. A group's members are all paired in a band
        // where its bucket is not chained (a group alone in its bucket counts as chained in a
        // band where it is larger than the bound); a group chained in every band has its
        // members chained with each other if it was alone in one of those buckets (a bucket
        // with another group is chained as a whole).
        let mut whole = Vec::new();
        let mut alone_chained = Vec::new();
        for &g in units {
            let rep = groups.representative(g);
            if groups.is_alone(rep) {
                continue;
            }
            let chained = chained_in[rep as usize];
            if chained & !GroupWorker::ALONE < bands {
                whole.push(rep);
            } else if chained & GroupWorker::ALONE != 0 {
                let members = groups.members(g);
                alone_chained.extend(members.windows(2).map(|m| (m[0], m[1])));
            }
        }
        alone_chained.sort_unstable();
        chain_lists.push(alone_chained);
        let pairs = merge_lists(pair_lists);
        // Chained pairs that a whole group or a pair of groups already stands for are dropped.
        let rep_of = |x: u32| groups.representative(groups.group_of(x));
        let chained: Vec<(u32, u32)> = merge_lists(chain_lists)
            .into_par_iter()
            .filter(|&(x, y)| {
                let (rx, ry) = (rep_of(x), rep_of(y));
                if rx == ry {
                    whole.binary_search(&rx).is_err()
                } else {
                    pairs.binary_search(&(rx.min(ry), rx.max(ry))).is_err()
                }
            })
            .collect();
        GroupCandidates {
            pairs,
            whole,
            chained,
        }
    }

    /// Runs `band(state, entries)` for every band, with the band's entries ([`entry`]) of
    /// `units` sorted, each entry holding `label[unit]` (the unit itself without `label`).
    /// Entries whose key no other unit of the band holds may be left out: a bucket of one
    /// makes no pair. A worker checks its first band's keys with [`Seen`] before sorting
    /// them, and goes on doing so while that leaves out more than half of each band's
    /// entries. At 500 MB of generated news the check keeps 24 % of the paragraph level's
    /// entries, and `--preset near` took 2.83-2.88 s rather than 2.92-2.99 s; at the
    /// sentence level it keeps 53 %, where checking every band cost what it saved.
    /// Bands run in parallel, one group of bands per thread, each with its own state (made by
    /// `init`), which is returned. Each band's keys are freed as soon as its entries are made,
    /// and each worker reuses its buffers from band to band.
    fn by_band<S, I, F>(self, units: &[u32], label: Option<&[u32]>, init: I, band: F) -> Vec<S>
    where
        S: Send,
        I: Fn() -> S + Sync + Send,
        F: Fn(&mut S, &[u64]) + Sync + Send,
    {
        let bands = self.bands;
        let workers = rayon::current_num_threads().clamp(1, bands.max(1));
        // Worker `w` takes bands w, w + workers, ...
        let mut mine: Vec<Vec<Vec<u32>>> = (0..workers).map(|_| Vec::new()).collect();
        for (b, column) in self.keys.into_iter().enumerate() {
            mine[b % workers].push(column);
        }
        mine.into_par_iter()
            .map(|columns| {
                let mut state = init();
                let (mut entries, mut scratch) = (Vec::new(), Vec::new());
                let mut seen = Seen::new(units.len());
                let mut filter = true;
                for column in columns {
                    let unit_entry =
                        |u: u32| entry(column[u as usize], label.map_or(u, |l| l[u as usize]));
                    entries.clear();
                    if filter {
                        seen.clear();
                        for &u in units {
                            seen.mark(column[u as usize]);
                        }
                        entries.extend(
                            units
                                .iter()
                                .filter(|&&u| seen.twice(column[u as usize]))
                                .map(|&u| unit_entry(u)),
                        );
                        filter = entries.len() * 2 < units.len();
                    } else {
                        entries.extend(units.iter().map(|&u| unit_entry(u)));
                    }
                    drop(column);
                    sort_entries(&mut entries, &mut scratch);
                    band(&mut state, &entries);
                }
                state
            })
            .collect()
    }
}

/// Which keys of a band may be in a bucket with another unit: two bits a slot (seen, seen
/// again), the slot picked by the key's top bits. A key seen once is alone in its bucket and
/// needs no sorting; one that shares its slot with another key is kept as if seen twice.
struct Seen {
    bits: u32,
    slots: Vec<u64>,
}

impl Seen {
    /// For `n` keys: four slots a key or more, so that at most a quarter of the keys seen
    /// once share a slot, up to 2^26 slots (16 MiB).
    fn new(n: usize) -> Seen {
        let bits = (usize::BITS - (4 * n.max(1) - 1).leading_zeros()).clamp(6, 26);
        Seen {
            bits,
            slots: vec![0; (1usize << bits) / 32],
        }
    }

    fn clear(&mut self) {
        self.slots.fill(0);
    }

    fn place(&self, key: u32) -> (usize, u32) {
        let slot = (u64::from(key) >> (32 - self.bits)) as usize;
        (slot / 32, 2 * (slot % 32) as u32)
    }

    fn mark(&mut self, key: u32) {
        let (w, s) = self.place(key);
        let word = &mut self.slots[w];
        *word |= (*word & 1 << s) << 1 | 1 << s;
    }

    fn twice(&self, key: u32) -> bool {
        let (w, s) = self.place(key);
        self.slots[w] >> (s + 1) & 1 == 1
    }
}

/// Candidate pairs of members of groups of identical units ([`UnitGroups`]), as
/// [`BandKeys::candidate_groups`] finds them: every pair of members of the two groups of a
/// pair in `pairs`, every pair of members of a group in `whole`, and the pairs in `chained`.
/// Groups are named by their representatives. No candidate pair is in two of these.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupCandidates {
    /// Pairs of representatives `(x, y)`, `x < y`, sorted and distinct.
    pub pairs: Vec<(u32, u32)>,
    /// Representatives of groups of two or more members, sorted.
    pub whole: Vec<u32>,
    /// Pairs of members `(x, y)`, `x < y`, sorted and distinct, from chained buckets.
    pub chained: Vec<(u32, u32)>,
}

impl GroupCandidates {
    /// The number of candidate pairs of members.
    pub fn count(&self, groups: &UnitGroups) -> usize {
        let size = |rep: u32| groups.size_of(rep);
        let across: usize = self.pairs.iter().map(|&(x, y)| size(x) * size(y)).sum();
        let within: usize = self
            .whole
            .iter()
            .map(|&g| size(g) * (size(g) - 1) / 2)
            .sum();
        across + within + self.chained.len()
    }

    /// Every candidate pair of members `(x, y)`, `x < y`, sorted: what
    /// [`BandKeys::candidate_pairs`] gives when each member has its group's keys (for tests
    /// and small inputs; the point of the groups is not to list these).
    pub fn member_pairs(&self, groups: &UnitGroups) -> Vec<(u32, u32)> {
        let mut all = self.chained.clone();
        for &(g, h) in &self.pairs {
            for &x in groups.copies(g) {
                all.extend(groups.copies(h).iter().map(|&y| (x.min(y), x.max(y))));
            }
        }
        for &g in &self.whole {
            let m = groups.copies(g);
            for (i, &x) in m.iter().enumerate() {
                all.extend(m[i + 1..].iter().map(|&y| (x, y)));
            }
        }
        all.sort_unstable();
        all
    }
}

/// Units partitioned into groups of identical ones, numbered by their first (smallest) member:
/// what [`BandKeys::candidate_groups`] needs to propose the pairs of members while it handles
/// each group once.
///
/// ```
/// use syndup::lsh::UnitGroups;
/// let g = UnitGroups::from_representatives(&[0, 1, 0, 1, 4]);
/// assert_eq!(g.len(), 3);
/// assert_eq!(g.members(1), &[1, 3]);
/// assert_eq!((g.group_of(2), g.representative(2)), (0, 4));
/// ```
#[derive(Clone, Debug, Default)]
pub struct UnitGroups {
    group_of: Vec<u32>,
    off: Vec<u32>,
    members: Vec<u32>,
    /// The units of groups of two or more.
    grouped: Bits,
    /// Each unit's group size, up to 254 (255: larger).
    sizes: Vec<u8>,
}

impl UnitGroups {
    /// The groups of `representative` (each unit's representative: the first unit of its
    /// group, which is its own representative). A unit whose representative is not one is
    /// taken as its own representative.
    pub fn from_representatives(representative: &[u32]) -> UnitGroups {
        let n = representative.len();
        let mut group_of = vec![0u32; n];
        let mut sizes: Vec<u32> = Vec::new();
        for (k, &r) in representative.iter().enumerate() {
            let r = r as usize;
            let g = if r < k && representative[r] as usize == r {
                group_of[r]
            } else {
                sizes.push(0);
                sizes.len() as u32 - 1
            };
            group_of[k] = g;
            sizes[g as usize] += 1;
        }
        let mut off = Vec::with_capacity(sizes.len() + 1);
        off.push(0u32);
        for s in &sizes {
            off.push(off[off.len() - 1] + s);
        }
        let mut next = off.clone();
        let mut members = vec![0u32; n];
        let mut grouped = Bits::new(n);
        for (k, &g) in group_of.iter().enumerate() {
            members[next[g as usize] as usize] = k as u32;
            next[g as usize] += 1;
            if sizes[g as usize] > 1 {
                grouped.set(k as u32);
            }
        }
        let sizes = group_of
            .iter()
            .map(|&g| sizes[g as usize].min(u32::from(u8::MAX)) as u8)
            .collect();
        UnitGroups {
            group_of,
            off,
            members,
            grouped,
            sizes,
        }
    }

    /// The number of groups.
    pub fn len(&self) -> usize {
        self.off.len().saturating_sub(1)
    }

    /// Whether there are no groups (no units).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The members of group `g`, increasing.
    pub fn members(&self, g: u32) -> &[u32] {
        let g = g as usize;
        &self.members[self.off[g] as usize..self.off[g + 1] as usize]
    }

    /// The group of unit `unit`.
    pub fn group_of(&self, unit: u32) -> u32 {
        self.group_of[unit as usize]
    }

    /// The representative (first member) of group `g`.
    pub fn representative(&self, g: u32) -> u32 {
        self.members[self.off[g as usize] as usize]
    }

    /// The members of the group of unit `unit` (itself among them).
    pub fn copies(&self, unit: u32) -> &[u32] {
        self.members(self.group_of(unit))
    }

    /// The size of the group of unit `unit`: one byte read for groups of up to 254 members (a
    /// byte a unit stays in cache better than the group index and offsets it would take).
    pub fn size_of(&self, unit: u32) -> usize {
        match self.sizes[unit as usize] {
            u8::MAX => self.copies(unit).len(),
            s => usize::from(s),
        }
    }

    /// Whether unit `unit` is alone in its group: one bit read, from an array small enough
    /// to stay in cache (one bit a unit), where the group's size is two reads from anywhere.
    pub fn is_alone(&self, unit: u32) -> bool {
        !self.grouped.get(unit)
    }
}

/// What one worker of [`BandKeys::candidate_groups`] finds in its bands.
struct GroupWorker {
    /// Pairs of groups from buckets of at most `max_bucket` members.
    pairs: PairList,
    /// Member pairs from chained buckets.
    chained: PairList,
    /// For each representative of a group of two or more, the number of bands in which its
    /// bucket was chained, with [`GroupWorker::ALONE`] set if it was alone in one of those
    /// buckets (empty until a group's bucket is chained).
    chained_in: Vec<u32>,
    /// The members of a chained bucket.
    members: Vec<u32>,
    /// The member count of each bucket of two groups or more of a band, in order.
    runs: Vec<usize>,
    /// The member counts of a band's buckets (for [`bucket_bound`]).
    sizes: Vec<usize>,
    /// For each representative of a group of two or more, the last band (numbered from 1
    /// across workers) in which [`GroupWorker::mark_shared`] found it in a bucket with
    /// another group (empty until needed).
    in_bucket: Vec<u32>,
}

impl GroupWorker {
    /// In [`GroupWorker::chained_in`]: the group was alone in a chained bucket.
    const ALONE: u32 = 1 << 31;

    /// Marks the groups of two or more members found in a bucket with another group among
    /// the sorted `entries` of band `band` (of `units` units).
    fn mark_shared(&mut self, entries: &[u64], groups: &UnitGroups, band: u32, units: usize) {
        if self.in_bucket.is_empty() {
            self.in_bucket = vec![0; units];
        }
        for run in buckets(entries).filter(|run| run.len() > 1) {
            for &e in run {
                let rep = entry_unit(e);
                if !groups.is_alone(rep) {
                    self.in_bucket[rep as usize] = band;
                }
            }
        }
    }

    /// Notes that the bucket of the group of `rep` (among `units` units) was chained in a
    /// band, `alone` in it or not.
    fn chain(&mut self, rep: u32, alone: bool, units: usize) {
        if self.chained_in.is_empty() {
            self.chained_in = vec![0; units];
        }
        let c = &mut self.chained_in[rep as usize];
        *c += 1;
        if alone {
            *c |= Self::ALONE;
        }
    }
}

/// A set of units, one bit each (290 KB for 2.3 million sentences, small enough to stay in
/// cache): [`UnitGroups::is_alone`] is asked of both sides of every candidate.
#[derive(Clone, Debug, Default)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }

    fn set(&mut self, i: u32) {
        self.0[i as usize / 64] |= 1 << (i % 64);
    }

    fn get(&self, i: u32) -> bool {
        self.0[i as usize / 64] >> (i % 64) & 1 == 1
    }
}

/// A worker's candidate pairs, folded into one list that is sorted and deduplicated whenever
/// it has doubled since the last time (and holds at least `FIRST_COMPACT` pairs): memory holds
/// about twice the distinct pairs, not one copy per band that proposed them, and the sorting
/// stays linear in the pairs proposed whatever their number (a fixed bound would sort the
/// whole list at every band once the distinct pairs outgrew it).
#[derive(Default)]
struct PairList {
    pairs: Vec<(u32, u32)>,
    scratch: Vec<(u32, u32)>,
    compact_at: usize,
}

impl PairList {
    const FIRST_COMPACT: usize = 1 << 20;

    fn compact(&mut self) {
        sort_pairs_with(&mut self.pairs, &mut self.scratch);
        self.pairs.dedup();
    }

    fn compact_if_grown(&mut self) {
        if self.pairs.len() > self.compact_at.max(Self::FIRST_COMPACT) {
            self.compact();
            self.compact_at = 2 * self.pairs.len();
        }
    }

    /// The pairs, sorted and distinct.
    fn finish(mut self) -> Vec<(u32, u32)> {
        self.compact();
        self.pairs
    }
}

/// One sorted, distinct list of the pairs of sorted, distinct `lists`, merged, not sorted
/// again.
fn merge_lists(lists: impl IntoIterator<Item = Vec<(u32, u32)>>) -> Vec<(u32, u32)> {
    let mut lists = lists.into_iter();
    let mut all = lists.next().unwrap_or_default();
    for list in lists {
        merge_into(&mut all, &list);
    }
    all
}

/// Merges `new` (sorted; a pair twice counts once) into `all` (sorted, distinct), in place:
/// `all` grows by the pairs of `new` it lacks and stays sorted and distinct.
///
/// Most of `new` is usually in `all` already (a pair found in one band is found in many), so
/// the pairs it lacks are counted first, by a walk that gallops through `all`; then, from the
/// back, each run of `all` between two places where a pair goes in is moved once, as a block.
/// An element-by-element merge followed by `dedup` read and wrote every pair of `all` twice for
/// each list merged: with `--memory disk` at 500 MB, the 51 sentence bands' merges into 7.5
/// million candidates took 1.64 s, on one thread.
pub(crate) fn merge_into<T: Ord + Copy + Default>(all: &mut Vec<T>, new: &[T]) {
    let old = all.len();
    let distinct = || {
        let mut last = None;
        new.iter()
            .copied()
            .filter(move |&v| last.replace(v) != Some(v))
    };
    let mut fresh = 0usize;
    let mut at = 0usize;
    for v in distinct() {
        at += first_not_below(&all[at..], v);
        if all.get(at) != Some(&v) {
            fresh += 1;
        }
    }
    if fresh == 0 {
        return;
    }
    // Grown exactly: doubling would leave up to as much room again unused.
    all.reserve_exact(fresh);
    all.resize(old + fresh, T::default());
    // `all[..i]`: old pairs not yet moved; `all[end..]`: the merged tail.
    let (mut i, mut end) = (old, old + fresh);
    let mut last = None;
    for &v in new.iter().rev() {
        if end == i {
            // Every missing pair is in: the rest of the old pairs are in place.
            break;
        }
        if last.replace(v) == Some(v) {
            continue;
        }
        let q = first_above_from_back(&all[..i], v);
        all.copy_within(q..i, end - (i - q));
        end -= i - q;
        i = q;
        if q > 0 && all[q - 1] == v {
            continue;
        }
        end -= 1;
        all[end] = v;
    }
}

/// The index of the first element of sorted `s` that is not below `v` (`s.len()` when none),
/// found by galloping from the start: O(log d) for an answer at `d`.
fn first_not_below<T: Ord + Copy>(s: &[T], v: T) -> usize {
    let (mut lo, mut step) = (0usize, 1usize);
    // Everything before `lo` is below `v`.
    while lo + step <= s.len() && s[lo + step - 1] < v {
        lo += step;
        step *= 2;
    }
    let hi = (lo + step).min(s.len());
    lo + s[lo..hi].partition_point(|&x| x < v)
}

/// The index of the first element of sorted `s` above `v` (`s.len()` when none), found by
/// galloping from the end: O(log d) for an answer `d` from the end.
fn first_above_from_back<T: Ord + Copy>(s: &[T], v: T) -> usize {
    let (mut hi, mut step) = (s.len(), 1usize);
    // Everything from `hi` on is above `v`.
    while hi >= step && s[hi - step] > v {
        hi -= step;
        step *= 2;
    }
    let lo = hi.saturating_sub(step);
    lo + s[lo..hi].partition_point(|&x| x <= v)
}

/// Appends the pairs of every bucket of one band to `out`: `entries` ([`entry`]) are sorted,
/// and a bucket is a run of equal keys; one with more than `max_bucket` members is chained
/// (each member paired with the next) rather than expanded.
///
/// ```
/// use syndup::lsh::{bucket_pairs, entry};
/// let e = [entry(1, 0), entry(1, 2), entry(3, 1), entry(5, 3), entry(5, 4), entry(5, 5)];
/// let mut out = Vec::new();
/// bucket_pairs(&e, 2, &mut out);
/// assert_eq!(out, vec![(0, 2), (3, 4), (4, 5)]);
/// ```
pub fn bucket_pairs(entries: &[u64], max_bucket: usize, out: &mut Vec<(u32, u32)>) {
    for run in buckets(entries) {
        push_bucket_pairs(run, max_bucket, out, |a, b| (a, b));
    }
}

/// [`bucket_pairs`] with each pair `(a, b)` packed into one `u64`, `a` in the top half (so
/// that packed pairs sort as pairs do, and can be sorted in a buffer of entries).
pub(crate) fn bucket_pairs_packed(entries: &[u64], max_bucket: usize, out: &mut Vec<u64>) {
    for run in buckets(entries) {
        push_bucket_pairs(run, max_bucket, out, |a, b| {
            u64::from(a) << 32 | u64::from(b)
        });
    }
}

/// The buckets of sorted `entries`: runs of one key.
fn buckets(entries: &[u64]) -> impl Iterator<Item = &[u64]> {
    entries.chunk_by(|a, b| a >> 32 == b >> 32)
}

/// Appends the pairs of one bucket to `out`: all of them, or each member with the next when it
/// has more than `max_bucket` members.
fn push_bucket_pairs<P>(
    run: &[u64],
    max_bucket: usize,
    out: &mut Vec<P>,
    pair: impl Fn(u32, u32) -> P,
) {
    if run.len() <= max_bucket {
        for (x, &a) in run.iter().enumerate() {
            for &b in &run[x + 1..] {
                out.push(pair(entry_unit(a), entry_unit(b)));
            }
        }
    } else {
        out.extend(
            run.windows(2)
                .map(|w| pair(entry_unit(w[0]), entry_unit(w[1]))),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minhash::MinHasher;

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn sort_pairs_sorts_like_sort_unstable(
            n in 0usize..20_000, max in 1u32..u32::MAX, seed in any::<u64>(),
        ) {
            let mut p: Vec<(u32, u32)> = (0..n as u64)
                .map(|i| {
                    let h = xxhash_rust::xxh3::xxh3_64_with_seed(&i.to_le_bytes(), seed);
                    ((h as u32) % max, ((h >> 32) as u32) % max)
                })
                .collect();
            let mut want = p.clone();
            want.sort_unstable();
            sort_pairs(&mut p);
            prop_assert_eq!(p, want);
        }

        /// Merging in place gives the sorted union, whatever the overlap: lists drawn from a
        /// small range (mostly shared) or a large one (mostly new), `new` with repeats, either
        /// side empty, and each list merged into the other.
        #[test]
        fn merge_into_gives_the_sorted_union(
            a in proptest::collection::vec((0u32..40, 0u32..40), 0..400),
            b in proptest::collection::vec((0u32..40, 0u32..40), 0..400),
            spread in 1u32..1000,
        ) {
            let sorted = |v: &[(u32, u32)], distinct: bool| {
                let mut v: Vec<(u32, u32)> = v.iter().map(|&(x, y)| (x * spread, y)).collect();
                v.sort_unstable();
                if distinct {
                    v.dedup();
                }
                v
            };
            let union: Vec<(u32, u32)> = sorted(&a, true)
                .into_iter()
                .chain(sorted(&b, true))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let mut all = sorted(&a, true);
            merge_into(&mut all, &sorted(&b, false));
            prop_assert_eq!(&all, &union);
            let mut all = sorted(&b, true);
            merge_into(&mut all, &sorted(&a, false));
            prop_assert_eq!(&all, &union);
        }

        /// Sorting by a key that is not the whole value (as document frequencies do) puts
        /// the keys in order and keeps every item.
        #[test]
        fn sort_by_bits_orders_keys_and_keeps_items(
            n in 0usize..5000, distinct in 1u64..10_000, seed in any::<u64>(),
        ) {
            let mut v: Vec<(u64, u32)> = (0..n as u64)
                .map(|i| (xxhash_rust::xxh3::xxh3_64_with_seed(&(i % distinct).to_le_bytes(), seed), i as u32))
                .collect();
            let mut want = v.clone();
            want.sort_unstable();
            sort_by_bits(&mut v, &mut Vec::new(), |e| e.0);
            prop_assert!(v.windows(2).all(|w| w[0].0 <= w[1].0));
            v.sort_unstable();
            prop_assert_eq!(v, want);
        }

        /// The bucketed sort gives exactly `sort_unstable`'s order, with duplicate keys, runs
        /// of equal keys and sizes on both sides of the small-input cutoff.
        #[test]
        fn sort_entries_sorts_like_sort_unstable(
            n in 0usize..5000, distinct in 1u64..10_000, seed in any::<u64>(),
        ) {
            let mut e: Vec<u64> = (0..n as u64)
                .map(|i| {
                    let k = xxhash_rust::xxh3::xxh3_64_with_seed(&(i % distinct).to_le_bytes(), seed);
                    entry((k >> 32) as u32, (i.wrapping_mul(2_654_435_761) % 7919) as u32)
                })
                .collect();
            let mut want = e.clone();
            want.sort_unstable();
            sort_entries(&mut e, &mut Vec::new());
            prop_assert_eq!(e, want);
        }
    }

    /// Keys alike in all the bits the two passes look at, and one popular key whose units
    /// come in reverse order, take the comparison-sort fallback and still sort exactly.
    #[test]
    fn sort_entries_sorts_keys_alike_in_their_top_bits() {
        let n = 50_000u32;
        let mut e: Vec<u64> = (0..n)
            .map(|i| {
                let key = if i % 2 == 0 {
                    0xABCD_E000 | (i.wrapping_mul(2_654_435_761) & 0xFFF)
                } else {
                    0x1234_5678
                };
                entry(key, n - i)
            })
            .collect();
        let mut want = e.clone();
        want.sort_unstable();
        let mut moves = e.clone();
        let budget = 4 * moves.len();
        assert!(!insertion_sort_within(&mut moves, budget, |&e| e));
        sort_entries(&mut e, &mut Vec::new());
        assert_eq!(e, want);
    }

    proptest::proptest! {
        /// The band hasher's keys are `band_key`'s, for any number of rows (none, odd and
        /// even) and bands, and for fewer bands asked than it has.
        #[test]
        fn band_hasher_gives_band_key(
            sig in proptest::collection::vec(proptest::prelude::any::<u32>(), 1..64),
            rows in 0usize..8,
            seed in proptest::prelude::any::<u64>(),
        ) {
            let bands = sig.len().checked_div(rows).unwrap_or(3);
            let hasher = BandHasher::new(bands, rows, seed);
            let mut keys = vec![0u32; bands];
            hasher.keys(&sig, &mut keys);
            let want: Vec<u32> = (0..bands).map(|b| band_key(&sig, b, rows, seed)).collect();
            proptest::prop_assert_eq!(&keys, &want);
            let mut fewer = vec![0u32; bands / 2];
            hasher.keys(&sig, &mut fewer);
            proptest::prop_assert_eq!(&fewer[..], &want[..bands / 2]);
        }
    }

    #[test]
    fn band_keys_are_laid_out_band_by_band_whatever_the_threads() {
        let sets: Vec<Vec<u64>> = (0..3000u64)
            .map(|i| (i % 50..i % 50 + 8).collect())
            .collect();
        let sigs = Signatures::compute(&MinHasher::new(20, 3), &sets);
        let make = || {
            BandKeys::compute(
                sets.len(),
                10,
                || (),
                |_, i, out| band_keys(sigs.row(i), 2, 5, out),
            )
        };
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let three = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let (a, b) = (one.install(make), three.install(make));
        assert_eq!(a.keys, b.keys);
        for i in [0, 1023, 1024, 2999] {
            for band in 0..10 {
                assert_eq!(a.key(i, band), band_key(sigs.row(i), band, 2, 5));
            }
        }
        let units: Vec<u32> = (0..3000).collect();
        assert_eq!(
            one.install(|| a.clone().candidate_pairs(&units, 512)),
            three.install(|| a.candidate_pairs(&units, 512))
        );
    }

    proptest! {
        /// Candidates among groups of identical units stand for exactly the pairs that the
        /// units' own candidates are when each has its group's keys: buckets full and chained
        /// (small caps), groups alone and shared, big and small, some groups left out, bands
        /// within their budget of pairs and beyond it.
        #[test]
        fn group_candidates_are_the_member_candidates(
            back in proptest::collection::vec(0usize..6, 1..90),
            keys in proptest::collection::vec(0u32..5, 4 * 90),
            left_out in proptest::collection::vec(proptest::bool::weighted(0.2), 90),
            bands in 1usize..4,
            max_bucket in 1usize..10,
            per_unit in 0usize..3,
            min in prop_oneof![Just(1usize << 16), 0usize..40],
        ) {
            let budget = BandBudget { per_unit, min };
            // Unit k joins the group of unit k - back[k] (0: a group of its own).
            let mut rep: Vec<u32> = Vec::new();
            for (k, &b) in back.iter().enumerate() {
                let r = if b == 0 || b > k { k as u32 } else { rep[k - b] };
                rep.push(r);
            }
            let groups = UnitGroups::from_representatives(&rep);
            let key = |g: u32, band: usize| keys[g as usize * 4 + band];
            let by_group =
                BandKeys::compute(groups.len(), bands, || (), |_, g, out| {
                    for (band, k) in out.iter_mut().enumerate() {
                        *k = key(g as u32, band);
                    }
                })
                .with_budget(budget);
            let by_unit = BandKeys::compute(rep.len(), bands, || (), |_, k, out| {
                for (band, x) in out.iter_mut().enumerate() {
                    *x = key(groups.group_of(k as u32), band);
                }
            })
            .with_budget(budget);
            let kept: Vec<u32> = (0..groups.len() as u32)
                .filter(|&g| !left_out[g as usize])
                .collect();
            let mut kept_units: Vec<u32> =
                kept.iter().flat_map(|&g| groups.members(g).to_vec()).collect();
            kept_units.sort_unstable();
            let want = by_unit.candidate_pairs(&kept_units, max_bucket);
            let found = by_group.candidate_groups(&kept, &groups, max_bucket);
            proptest::prop_assert_eq!(found.member_pairs(&groups), want.clone());
            proptest::prop_assert_eq!(found.count(&groups), want.len());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Candidate pairs are the pairs of listed units that share the key of a band, each
        /// bucket of more than `max_bucket` units chained, whatever the share of keys alone in
        /// their bucket: from all of them (the bands leave those out before sorting, `Seen`)
        /// to none (every band sorts all its entries).
        #[test]
        fn candidate_pairs_are_the_units_sharing_a_key(
            seed in any::<u64>(),
            n in 1usize..3000,
            choices in 1u64..20_000,
            bands in 1usize..4,
            max_bucket in 1usize..6,
            listed in proptest::collection::vec(proptest::bool::weighted(0.9), 3000),
        ) {
            // Keys spread over the top bits, as hashes are: an odd multiplier is one to one.
            let key = |u: usize, band: usize| {
                let pick = fmix64(seed ^ (u * 4 + band) as u64) % choices;
                (pick as u32).wrapping_mul(0x9E37_79B9)
            };
            let keys = BandKeys::compute(n, bands, || (), |_, u, out| {
                for (band, k) in out.iter_mut().enumerate() {
                    *k = key(u, band);
                }
            });
            let units: Vec<u32> = (0..n as u32).filter(|&u| listed[u as usize]).collect();
            let mut want = std::collections::BTreeSet::new();
            for band in 0..bands {
                let mut buckets: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
                for &u in &units {
                    buckets.entry(key(u as usize, band)).or_default().push(u);
                }
                for bucket in buckets.values() {
                    if bucket.len() > max_bucket {
                        want.extend(bucket.windows(2).map(|w| (w[0], w[1])));
                        continue;
                    }
                    for (i, &a) in bucket.iter().enumerate() {
                        want.extend(bucket[i + 1..].iter().map(|&b| (a, b)));
                    }
                }
            }
            let want: Vec<(u32, u32)> = want.into_iter().collect();
            prop_assert_eq!(keys.candidate_pairs(&units, max_bucket), want);
        }
    }

    /// A key seen twice is always found seen twice, one seen once mostly not.
    #[test]
    fn seen_keys_keep_every_repeated_key() {
        let keys: Vec<u32> = (0..100_000u32)
            .map(|i| i.wrapping_mul(0x9E37_79B9))
            .collect();
        let mut seen = Seen::new(keys.len() + 1000);
        for &k in &keys {
            seen.mark(k);
        }
        for &k in &keys[..1000] {
            seen.mark(k);
        }
        assert!(keys[..1000].iter().all(|&k| seen.twice(k)));
        let once = keys[1000..].iter().filter(|&&k| seen.twice(k)).count();
        assert!(once < keys.len() / 3, "{once} keys seen once kept");
        seen.clear();
        assert!(!keys.iter().any(|&k| seen.twice(k)));
    }

    /// Groups list their members in order, numbered by their first member, whatever the
    /// representatives' order; a unit whose representative is not its own is alone.
    #[test]
    fn unit_groups_follow_their_representatives() {
        let g = UnitGroups::from_representatives(&[0, 1, 0, 1, 2, 0, 9]);
        assert_eq!(g.len(), 4);
        let members: Vec<&[u32]> = (0..4).map(|i| g.members(i)).collect();
        assert_eq!(members, [&[0, 2, 5][..], &[1, 3], &[4], &[6]]);
        assert_eq!((g.size_of(5), g.size_of(4)), (3, 1));
        assert!(g.is_alone(4) && g.is_alone(6) && !g.is_alone(3));
        assert_eq!(g.copies(3), &[1, 3]);
        // Group sizes past a byte.
        let big = UnitGroups::from_representatives(&vec![0; 300]);
        assert_eq!((big.size_of(299), big.copies(7).len()), (300, 300));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// The bucket bound expands the buckets that the largest bound within the budget
        /// expands (found by trying every bound), and all of them when that is `max_bucket`.
        #[test]
        fn bucket_bound_is_the_largest_within_the_budget(
            sizes in proptest::collection::vec(2usize..40, 0..60),
            units in 0usize..400,
            max_bucket in 1usize..50,
            per_unit in 0usize..4,
            min in 0usize..300,
        ) {
            let budget = BandBudget { per_unit, min };
            let pairs = |b: usize| -> usize {
                sizes
                    .iter()
                    .map(|&s| if s <= b { s * (s - 1) / 2 } else { s - 1 })
                    .sum()
            };
            let limit = budget.pairs(units);
            let bound = bucket_bound(&mut sizes.clone(), units, max_bucket, budget);
            if pairs(max_bucket) <= limit {
                prop_assert_eq!(bound, max_bucket);
            } else {
                // Chaining every bucket is the least a band can do.
                let best = (1..=max_bucket)
                    .rev()
                    .find(|&b| pairs(b) <= limit.max(pairs(1)))
                    .unwrap_or(1);
                let expanded = |b: usize| sizes.iter().filter(|&&s| s <= b).count();
                prop_assert!(bound <= max_bucket);
                prop_assert_eq!(expanded(bound), expanded(best));
                prop_assert!(pairs(bound) <= limit.max(pairs(1)));
            }
        }
    }

    /// A band beyond its budget chains its largest buckets: 20 buckets of 30 units and 10 of
    /// 5 would propose 8,800 pairs, where 650 units at two pairs a unit may propose 1,300; the
    /// buckets of 5 stay whole.
    #[test]
    fn bands_beyond_their_budget_chain_their_largest_buckets() {
        let mut key_of = Vec::new();
        for b in 0..20u32 {
            key_of.extend(std::iter::repeat_n(b, 30));
        }
        for b in 20..30u32 {
            key_of.extend(std::iter::repeat_n(b, 5));
        }
        let units: Vec<u32> = (0..key_of.len() as u32).collect();
        let keys = BandKeys::compute(key_of.len(), 1, || (), |_, i, out| out[0] = key_of[i]);
        let all = keys.clone().candidate_pairs(&units, 100);
        assert_eq!(all.len(), 20 * 435 + 10 * 10);
        let budget = BandBudget {
            per_unit: 2,
            min: 0,
        };
        let bounded = keys.with_budget(budget).candidate_pairs(&units, 100);
        assert_eq!(bounded.len(), 20 * 29 + 10 * 10);
        // One pair a unit: every bucket chained.
        let tighter = BandBudget {
            per_unit: 1,
            min: 0,
        };
        let keys = BandKeys::compute(key_of.len(), 1, || (), |_, i, out| out[0] = key_of[i]);
        let chained = keys.with_budget(tighter).candidate_pairs(&units, 100);
        assert_eq!(chained.len(), 20 * 29 + 10 * 4);
        // The large buckets are chains of neighbours, the small ones whole.
        assert!(bounded
            .iter()
            .all(|&(a, b)| b == a + 1 || (a >= 600 && (a - 600) / 5 == (b - 600) / 5)));
    }

    /// The candidates of groups are the same on 1 and 3 threads (3 workers, bands split among
    /// them), run after run: groups of identical units (alone in their bucket and shared),
    /// buckets beyond `max_bucket`, and bands within and beyond their budget.
    #[test]
    fn group_candidates_do_not_depend_on_the_threads() {
        let n = 4000usize;
        // Units 3k, 3k + 1 and 3k + 2 are identical for k < 200; the rest are alone.
        let reps: Vec<u32> = (0..n as u32)
            .map(|u| if u < 600 { u - u % 3 } else { u })
            .collect();
        let groups = UnitGroups::from_representatives(&reps);
        let units: Vec<u32> = (0..groups.len() as u32).collect();
        // 37 bands of 50 to 1,490 buckets (keys spread to the top bits): about 80 members a
        // bucket in the first, all chained and within the budget, 3 in the last, beyond it.
        let make = || {
            BandKeys::compute(
                groups.len(),
                37,
                || (),
                |_, g, out| {
                    for (b, key) in out.iter_mut().enumerate() {
                        let h = (g as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (40 + b % 7);
                        *key = ((h as u32) % (50 + 40 * b as u32)).wrapping_mul(0x0101_0101);
                    }
                },
            )
            .with_budget(BandBudget {
                per_unit: 1,
                min: 0,
            })
        };
        let pool = |t| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
        };
        let (one, three) = (pool(1), pool(3));
        let want = one.install(|| make().candidate_groups(&units, &groups, 40));
        assert!(!want.pairs.is_empty() && !want.whole.is_empty() && !want.chained.is_empty());
        for _ in 0..5 {
            let got = three.install(|| make().candidate_groups(&units, &groups, 40));
            assert_eq!(got, want);
        }
    }

    #[test]
    fn popular_buckets_are_chained_not_expanded() {
        let sets: Vec<Vec<u64>> = (0..50).map(|_| vec![1, 2, 3, 4, 5]).collect();
        let sigs = Signatures::compute(&MinHasher::new(8, 0), &sets);
        let units: Vec<u32> = (0..50).collect();
        let all = candidate_pairs(&sigs, &units, (4, 2), 0, 100);
        assert_eq!(all.len(), 50 * 49 / 2);
        let chained = candidate_pairs(&sigs, &units, (4, 2), 0, 10);
        assert_eq!(chained.len(), 49);
        assert!(chained.iter().all(|&(a, b)| b == a + 1));
    }

    #[test]
    fn only_listed_units_take_part() {
        let sets: Vec<Vec<u64>> = (0..3).map(|_| vec![7, 8, 9]).collect();
        let sigs = Signatures::compute(&MinHasher::new(8, 0), &sets);
        assert_eq!(
            candidate_pairs(&sigs, &[0, 2], (4, 2), 0, 100),
            vec![(0, 2)]
        );
    }
}
