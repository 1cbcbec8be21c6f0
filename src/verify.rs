//! Stage 7: verification. Candidate pairs in, exactly scored pairs out.
//!
//! LSH only proposes; every candidate is re-scored exactly on its sets before it can be
//! reported, and the exact score is what reports show.
//!
//! * [`jaccard`]: exact Jaccard similarity of two sorted, deduplicated shingle-hash sets
//!   (paragraph level).
//! * [`overlap`]: the sentence-level score of two sorted term sets with IDF weights `w`:
//!   `I / sqrt(U · min(A, B))`, where `I` is the weight of the shared terms, `U` of their union and
//!   `A`, `B` of each set. It is the geometric mean of the weighted Jaccard (`I / U`) and the
//!   weighted containment of the smaller set (`I / min(A, B)`). Jaccard alone punishes a short
//!   sentence restated inside a longer one; containment alone lets a four-word sentence match
//!   any long sentence that happens to contain its words. On the seed article the mean ranks all
//!   three restatements above every unrelated pair (see the README's accuracy section).
//!
//! ```
//! use syndup::verify::{jaccard, overlap};
//! assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
//! let (score, shared) = overlap(&[1, 2, 3], &[1.0, 1.0, 1.0], &[1, 2, 3], &[1.0, 1.0, 1.0]);
//! assert_eq!((score, shared), (1.0, 3));
//! ```

/// Exact Jaccard similarity of two sorted, deduplicated sets (0 when both are empty), of
/// 64-bit hashes or of hashes folded to 32 bits.
pub fn jaccard<T: Copy + Ord>(a: &[T], b: &[T]) -> f64 {
    let inter = intersection_len(a, b);
    let union = a.len() + b.len() - inter;
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

/// Size of the intersection of two sorted, deduplicated sets.
pub fn intersection_len<T: Copy + Ord>(a: &[T], b: &[T]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        // Branch-free steps, as in `overlap_at_least`.
        let (x, y) = (a[i], b[j]);
        n += usize::from(x == y);
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    n
}

/// The weighted overlap score of two sorted, deduplicated term sets with per-term weights
/// (`wa[i]` is the weight of `a[i]`), and the number of shared terms.
pub fn overlap(a: &[u64], wa: &[f32], b: &[u64], wb: &[f32]) -> (f64, usize) {
    let sa: f64 = wa.iter().map(|&w| f64::from(w)).sum();
    let sb: f64 = wb.iter().map(|&w| f64::from(w)).sum();
    overlap_with_totals(a, wa, sa, b, sb)
}

/// [`overlap`] with the total weights of both sets already known (`sa` of `a`, `sb` of `b`);
/// only `a`'s weights are needed, since shared terms weigh the same in both.
pub fn overlap_with_totals(a: &[u64], wa: &[f32], sa: f64, b: &[u64], sb: f64) -> (f64, usize) {
    let (mut i, mut j, mut shared) = (0, 0, 0usize);
    let mut inter = 0f64;
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += f64::from(wa[i]);
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = sa + sb - inter;
    let smaller = sa.min(sb);
    if inter <= 0.0 || union <= 0.0 || smaller <= 0.0 {
        return (0.0, shared);
    }
    ((inter / (union * smaller).sqrt()).min(1.0), shared)
}

/// One sentence for [`overlap_with_names`]: sorted, deduplicated term hashes (or any other
/// term keys in the same order, such as indexes into a sorted vocabulary) with aligned weights
/// and name flags, and the total weight.
#[derive(Clone, Copy, Debug)]
pub struct Side<'a, T = u64> {
    /// Sorted, deduplicated term keys.
    pub terms: &'a [T],
    /// Weight of each term.
    pub weights: &'a [f32],
    /// Whether each term is a name.
    pub names: &'a [bool],
    /// Sum of `weights`.
    pub total: f64,
}

/// [`overlap`] where a shared term that is a name (in either sentence) counts only
/// `name_weight` of its weight in the shared part, while the sets' totals keep full weights.
/// Sharing a name is weak evidence of a restatement (every sentence about the same person
/// shares it); a name that differs is strong evidence against (a template such as "Pictured:
/// X in a file photo" with another X), so unshared names keep their full weight.
///
/// ```
/// use syndup::verify::{overlap_with_names, Side};
/// let a = Side { terms: &[1, 2, 3], weights: &[1.0, 1.0, 1.0], names: &[true, false, false], total: 3.0 };
/// let b = Side { terms: &[1, 2, 4], weights: &[1.0, 1.0, 1.0], names: &[true, false, false], total: 3.0 };
/// let (plain, _) = overlap_with_names(a, b, 1.0);
/// let (damped, shared) = overlap_with_names(a, b, 0.5);
/// assert!(damped < plain);
/// assert_eq!(shared, 2);
/// ```
pub fn overlap_with_names<T: Ord + Copy>(
    a: Side<'_, T>,
    b: Side<'_, T>,
    name_weight: f64,
) -> (f64, usize) {
    overlap_of(&a, &b, name_weight)
}

/// What the sentence score reads of one sentence: its sorted, distinct term keys with a weight
/// and a name flag each, and its total weight. [`Side`] is the plain form; callers may keep
/// sentences in any layout (such as one record per sentence, for locality).
pub trait Sentence {
    /// A term key.
    type Key: Ord;
    /// Number of terms.
    fn len(&self) -> usize;
    /// Whether there is no term.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Term `i`'s key (increasing with `i`).
    fn key(&self, i: usize) -> Self::Key;
    /// Term `i`'s weight.
    fn weight(&self, i: usize) -> f32;
    /// Whether term `i` is a name.
    fn name(&self, i: usize) -> bool;
    /// The sum of the weights.
    fn total(&self) -> f64;
    /// The keys of all terms, in order, as one slice, where the layout holds them so and they
    /// are 32-bit values: then the shared terms of two sentences are found by vector compares
    /// (see [`overlap_at_least`]). `None` (the default): key by key.
    fn keys32(&self) -> Option<&[u32]> {
        None
    }
    /// Copies the keys of all terms, in order, into `out[..self.len()]` as the 32-bit values
    /// [`Sentence::keys32`] would give, where the keys are 32-bit values but the layout keeps
    /// them inside wider words (the disk-backed detector's terms): then the shared terms are
    /// found by vector compares on the copies. `false` (the default), and `out` untouched:
    /// key by key.
    fn copy_keys32(&self, out: &mut [u32]) -> bool {
        let _ = out;
        false
    }
}

impl<T: Ord + Copy> Sentence for Side<'_, T> {
    type Key = T;
    fn len(&self) -> usize {
        self.terms.len()
    }
    fn key(&self, i: usize) -> T {
        self.terms[i]
    }
    fn weight(&self, i: usize) -> f32 {
        self.weights[i]
    }
    fn name(&self, i: usize) -> bool {
        self.names[i]
    }
    fn total(&self) -> f64 {
        self.total
    }
}

/// [`overlap_with_names`] over any two [`Sentence`] layouts with the same keys.
pub fn overlap_of<A, B>(a: &A, b: &B, name_weight: f64) -> (f64, usize)
where
    A: Sentence,
    B: Sentence<Key = A::Key>,
{
    overlap_at_least(a, b, name_weight, 0).unwrap_or((0.0, 0))
}

/// [`overlap_of`], or `None` when the two sentences share fewer than `min_shared` terms, in
/// which case no weight is read. Sentences of up to 64 terms (nearly all) find their shared
/// terms first: by AVX-512 or AVX2 compares when both sides give their keys as 32-bit values
/// ([`Sentence::keys32`] or [`Sentence::copy_keys32`]) and the CPU has them, else by a merge
/// without branches on the keys.
/// Longer ones are merged term by term, and the merge stops as soon as the terms left on the
/// shorter side could not make up the difference. Either way the weights of the shared terms
/// are added in term order, so the score is the same to the bit.
///
/// ```
/// use syndup::verify::{overlap_at_least, Side};
/// let w = [1.0f32; 4];
/// let n = [false; 4];
/// let a = Side { terms: &[1u64, 2, 3, 4], weights: &w, names: &n, total: 4.0 };
/// let b = Side { terms: &[3u64, 4, 5, 6], weights: &w, names: &n, total: 4.0 };
/// assert_eq!(overlap_at_least(&a, &b, 1.0, 3), None);
/// assert_eq!(overlap_at_least(&a, &b, 1.0, 2).map(|s| s.1), Some(2));
/// ```
pub fn overlap_at_least<A, B>(
    a: &A,
    b: &B,
    name_weight: f64,
    min_shared: usize,
) -> Option<(f64, usize)>
where
    A: Sentence,
    B: Sentence<Key = A::Key>,
{
    let (na, nb) = (a.len(), b.len());
    if na.min(nb) < min_shared {
        return None;
    }
    let (mut inter, mut inter_full) = (0f64, 0f64);
    let mut add = |i: usize, j: usize| {
        let w = f64::from(a.weight(i));
        inter_full += w;
        inter += if a.name(i) || b.name(j) {
            w * name_weight
        } else {
            w
        };
    };
    let shared = if na <= 64 && nb <= 64 {
        // The shared terms first, as the positions of each side: by vector compares, or by a
        // merge without branches on the keys (which key is smaller is a coin toss the CPU
        // mispredicts). Most candidates share too few terms and stop there; the others add
        // their weights in the order of the full merge, so the sums are the same to the bit.
        let vectors = if !vector_compares() {
            None
        } else {
            match (a.keys32(), b.keys32()) {
                (Some(ka), Some(kb)) => common_positions32(ka, kb),
                // Buffers only for a side that copies its keys out.
                (ka, kb) => {
                    let mut copies = ([0u32; 64], [0u32; 64]);
                    let ka = ka.or_else(|| {
                        a.copy_keys32(&mut copies.0[..na])
                            .then_some(&copies.0[..na])
                    });
                    let kb = kb.or_else(|| {
                        b.copy_keys32(&mut copies.1[..nb])
                            .then_some(&copies.1[..nb])
                    });
                    ka.zip(kb).and_then(|(ka, kb)| common_positions32(ka, kb))
                }
            }
        };
        let (mut at_a, mut at_b) = vectors.unwrap_or_else(|| common_positions(a, b));
        let shared = at_a.count_ones() as usize;
        if shared < min_shared {
            return None;
        }
        while at_a != 0 {
            add(
                at_a.trailing_zeros() as usize,
                at_b.trailing_zeros() as usize,
            );
            at_a &= at_a - 1;
            at_b &= at_b - 1;
        }
        shared
    } else {
        let (mut i, mut j, mut shared) = (0, 0, 0usize);
        while i < na && j < nb {
            if shared + (na - i).min(nb - j) < min_shared {
                return None;
            }
            let (x, y) = (a.key(i), b.key(j));
            if x == y {
                add(i, j);
                shared += 1;
            }
            i += usize::from(x <= y);
            j += usize::from(y <= x);
        }
        if shared < min_shared {
            return None;
        }
        shared
    };
    let (ta, tb) = (a.total(), b.total());
    let union = ta + tb - inter_full;
    let smaller = ta.min(tb);
    if inter <= 0.0 || union <= 0.0 || smaller <= 0.0 {
        return Some((0.0, shared));
    }
    Some(((inter / (union * smaller).sqrt()).min(1.0), shared))
}

/// Whether [`common_positions32`] has vector compares on this CPU (checked once by the standard
/// library, then read from a cache).
fn vector_compares() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            || std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// [`common_positions`] of two sides whose keys are 32-bit slices ([`Sentence::keys32`]), by
/// vector compares where the CPU has them (AVX-512, else AVX2): each of `b`'s keys against all
/// of `a`'s at once, so that no compare waits for the one before as the steps of a merge do.
/// The positions are the same (`None` when there is no such CPU, or a side is longer than 64).
fn common_positions32(a: &[u32], b: &[u32]) -> Option<(u64, u64)> {
    #[cfg(target_arch = "x86_64")]
    if a.len() <= 64 && b.len() <= 64 {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked just above.
            return Some(unsafe { common_positions_avx512(a, b) });
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return Some(unsafe { common_positions_avx2(a, b) });
        }
    }
    let _ = (a, b);
    None
}

/// [`common_positions32`] in 8-lane vectors: `a` (at most 64 keys) held in up to eight
/// registers, each loaded under a mask of the lanes within `a`; lanes beyond its end read as
/// zeros, and their bits are cleared from every result.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn common_positions_avx2(a: &[u32], b: &[u32]) -> (u64, u64) {
    use std::arch::x86_64::{
        __m256i, _mm256_castsi256_ps, _mm256_cmpeq_epi32, _mm256_cmpgt_epi32,
        _mm256_maskload_epi32, _mm256_movemask_ps, _mm256_set1_epi32, _mm256_setr_epi32,
        _mm256_setzero_si256,
    };
    let n = a.len().min(64);
    let vectors = n.div_ceil(8);
    let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let mut keys: [__m256i; 8] = [_mm256_setzero_si256(); 8];
    for (v, key) in keys.iter_mut().enumerate().take(vectors) {
        // Lanes below the number of keys left (at most 8) are loaded.
        let left = _mm256_set1_epi32((n - 8 * v).min(8) as i32);
        let mask = _mm256_cmpgt_epi32(left, lane);
        // SAFETY: `8 v < n`, and the mask loads only lanes `i < n - 8 v`, that is elements
        // `8 v + i < n` of `a`; masked-off lanes are not read (and cannot fault).
        *key = unsafe { _mm256_maskload_epi32(a.as_ptr().add(8 * v).cast(), mask) };
    }
    let valid = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
    let (mut at_a, mut at_b) = (0u64, 0u64);
    for (j, &y) in b.iter().enumerate().take(64) {
        // The bits of the key, as the lanes compare them.
        let y = _mm256_set1_epi32(i32::from_ne_bytes(y.to_ne_bytes()));
        let mut found = 0u64;
        for (v, &key) in keys.iter().enumerate().take(vectors) {
            let same = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(key, y)));
            found |= u64::from(same as u8) << (8 * v);
        }
        found &= valid;
        at_a |= found;
        at_b |= u64::from(found != 0) << j;
    }
    (at_a, at_b)
}

/// [`common_positions32`] in 16-lane vectors: `a` (at most 64 keys) held in four registers,
/// lanes beyond its end masked off in every compare.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn common_positions_avx512(a: &[u32], b: &[u32]) -> (u64, u64) {
    use std::arch::x86_64::{
        __m512i, _mm512_mask_cmpeq_epi32_mask, _mm512_maskz_loadu_epi32, _mm512_set1_epi32,
        _mm512_setzero_si512,
    };
    let n = a.len().min(64);
    let vectors = n.div_ceil(16);
    let mut keys: [__m512i; 4] = [_mm512_setzero_si512(); 4];
    let mut lanes = [0u16; 4];
    for v in 0..vectors {
        let left = n - 16 * v;
        lanes[v] = if left >= 16 {
            u16::MAX
        } else {
            (1u16 << left) - 1
        };
        // SAFETY: only the lanes set in `lanes[v]` are read, and they are elements
        // `16 v .. min(16 v + 16, n)` of `a`.
        keys[v] = unsafe { _mm512_maskz_loadu_epi32(lanes[v], a.as_ptr().add(16 * v).cast()) };
    }
    let (mut at_a, mut at_b) = (0u64, 0u64);
    for (j, &y) in b.iter().enumerate().take(64) {
        // The bits of the key, as the lanes compare them.
        let y = _mm512_set1_epi32(i32::from_ne_bytes(y.to_ne_bytes()));
        let mut found = 0u64;
        for v in 0..vectors {
            found |= u64::from(_mm512_mask_cmpeq_epi32_mask(lanes[v], keys[v], y)) << (16 * v);
        }
        at_a |= found;
        at_b |= u64::from(found != 0) << j;
    }
    (at_a, at_b)
}

/// The positions of the terms `a` and `b` share (both at most 64 terms long), as bit sets:
/// bit `i` of the first for `a`'s term `i`, bit `j` of the second for `b`'s term `j`; the
/// `k`-th shared term is at the `k`-th set bit of each.
fn common_positions<A, B>(a: &A, b: &B) -> (u64, u64)
where
    A: Sentence,
    B: Sentence<Key = A::Key>,
{
    let (na, nb) = (a.len(), b.len());
    let (mut i, mut j) = (0usize, 0usize);
    let (mut at_a, mut at_b) = (0u64, 0u64);
    while i < na && j < nb {
        let (x, y) = (a.key(i), b.key(j));
        let (le, ge) = (x <= y, y <= x);
        let same = u64::from(le & ge);
        at_a |= same << i;
        at_b |= same << j;
        i += usize::from(le);
        j += usize::from(ge);
    }
    (at_a, at_b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaccard_table() {
        let cases: &[(&[u64], &[u64], f64)] = &[
            (&[], &[], 0.0),
            (&[1], &[], 0.0),
            (&[1, 2], &[1, 2], 1.0),
            (&[1, 2, 3, 4], &[3, 4, 5, 6], 2.0 / 6.0),
        ];
        for &(a, b, want) in cases {
            assert!((jaccard(a, b) - want).abs() < 1e-12);
            assert!((jaccard(b, a) - want).abs() < 1e-12);
        }
    }

    proptest::proptest! {
        /// `intersection_len` counts what a set intersection counts.
        #[test]
        fn intersection_len_is_the_set_intersection(
            a in proptest::collection::btree_set(0u64..60, 0..40),
            b in proptest::collection::btree_set(0u64..60, 0..40),
        ) {
            let want = a.intersection(&b).count();
            let (ta, tb): (Vec<u64>, Vec<u64>) = (a.into_iter().collect(), b.into_iter().collect());
            proptest::prop_assert_eq!(intersection_len(&ta, &tb), want);
            proptest::prop_assert_eq!(intersection_len(&tb, &ta), want);
        }

        /// `overlap_at_least` gives `overlap_with_names`'s score and count whenever the count
        /// reaches the minimum, and `None` exactly when it does not.
        #[test]
        fn early_exit_agrees_with_the_full_merge(
            a in proptest::collection::btree_set(0u64..40, 0..25),
            b in proptest::collection::btree_set(0u64..40, 0..25),
            min_shared in 0usize..10,
        ) {
            let (ta, tb): (Vec<u64>, Vec<u64>) = (a.into_iter().collect(), b.into_iter().collect());
            let wa: Vec<f32> = ta.iter().map(|&t| 1.0 + (t % 7) as f32).collect();
            let wb: Vec<f32> = tb.iter().map(|&t| 1.0 + (t % 7) as f32).collect();
            let na: Vec<bool> = ta.iter().map(|&t| t % 5 == 0).collect();
            let nb: Vec<bool> = tb.iter().map(|&t| t % 3 == 0).collect();
            let sa = Side { terms: &ta, weights: &wa, names: &na, total: wa.iter().map(|&w| f64::from(w)).sum() };
            let sb = Side { terms: &tb, weights: &wb, names: &nb, total: wb.iter().map(|&w| f64::from(w)).sum() };
            let full = overlap_with_names(sa, sb, 0.5);
            let early = overlap_at_least(&sa, &sb, 0.5, min_shared);
            if full.1 >= min_shared {
                proptest::prop_assert_eq!(early, Some(full));
            } else {
                proptest::prop_assert_eq!(early, None);
            }
        }
    }

    /// The score as the term-by-term merge gives it (the only way before shared terms were
    /// found first): the reference the faster paths must match to the bit.
    fn merged_overlap<A, B>(
        a: &A,
        b: &B,
        name_weight: f64,
        min_shared: usize,
    ) -> Option<(f64, usize)>
    where
        A: Sentence,
        B: Sentence<Key = A::Key>,
    {
        let (mut i, mut j, mut shared) = (0, 0, 0usize);
        let (mut inter, mut inter_full) = (0f64, 0f64);
        while i < a.len() && j < b.len() {
            let (x, y) = (a.key(i), b.key(j));
            if x == y {
                let w = f64::from(a.weight(i));
                inter_full += w;
                inter += if a.name(i) || b.name(j) {
                    w * name_weight
                } else {
                    w
                };
                shared += 1;
            }
            i += usize::from(x <= y);
            j += usize::from(y <= x);
        }
        if shared < min_shared {
            return None;
        }
        let (ta, tb) = (a.total(), b.total());
        let (union, smaller) = (ta + tb - inter_full, ta.min(tb));
        if inter <= 0.0 || union <= 0.0 || smaller <= 0.0 {
            return Some((0.0, shared));
        }
        Some(((inter / (union * smaller).sqrt()).min(1.0), shared))
    }

    /// A side that gives its keys as the detectors' layouts do: as one slice (`sliced`, the
    /// in-memory records) or copied out of wider words (the disk-backed terms).
    struct Laid<'a> {
        side: Side<'a, u32>,
        sliced: bool,
    }

    fn sliced(side: Side<'_, u32>) -> Laid<'_> {
        Laid { side, sliced: true }
    }

    fn copied(side: Side<'_, u32>) -> Laid<'_> {
        Laid {
            side,
            sliced: false,
        }
    }

    impl Sentence for Laid<'_> {
        type Key = u32;
        fn len(&self) -> usize {
            self.side.len()
        }
        fn key(&self, i: usize) -> u32 {
            self.side.key(i)
        }
        fn weight(&self, i: usize) -> f32 {
            self.side.weight(i)
        }
        fn name(&self, i: usize) -> bool {
            self.side.name(i)
        }
        fn total(&self) -> f64 {
            self.side.total()
        }
        fn keys32(&self) -> Option<&[u32]> {
            self.sliced.then_some(self.side.terms)
        }
        fn copy_keys32(&self, out: &mut [u32]) -> bool {
            if !self.sliced {
                out.copy_from_slice(self.side.terms);
            }
            !self.sliced
        }
    }

    proptest::proptest! {
        /// Key by key, by vector compares (where the CPU has them) and by the merge for sides
        /// longer than 64 terms (both sides of that bound, and of the 16-key vectors), the
        /// shared terms, the score and the `None`s are the reference merge's, to the bit.
        #[test]
        fn every_way_to_find_shared_terms_scores_alike(
            a in proptest::collection::btree_set(0u32..120, 0..80),
            b in proptest::collection::btree_set(0u32..120, 0..80),
            min_shared in 0usize..12,
            name_weight in 0.0f64..1.0,
        ) {
            let (ta, tb): (Vec<u32>, Vec<u32>) = (a.into_iter().collect(), b.into_iter().collect());
            let weight = |t: &u32| 0.3 + (t.wrapping_mul(2_654_435_761) % 97) as f32 / 7.0;
            let (wa, wb): (Vec<f32>, Vec<f32>) = (ta.iter().map(weight).collect(), tb.iter().map(weight).collect());
            let na: Vec<bool> = ta.iter().map(|&t| t % 5 == 0).collect();
            let nb: Vec<bool> = tb.iter().map(|&t| t % 3 == 0).collect();
            let total = |w: &[f32]| w.iter().map(|&w| f64::from(w)).sum();
            let sa = Side { terms: &ta, weights: &wa, names: &na, total: total(&wa) };
            let sb = Side { terms: &tb, weights: &wb, names: &nb, total: total(&wb) };
            let want = merged_overlap(&sa, &sb, name_weight, min_shared);
            let bits = |r: Option<(f64, usize)>| r.map(|(s, n)| (s.to_bits(), n));
            proptest::prop_assert_eq!(bits(overlap_at_least(&sa, &sb, name_weight, min_shared)), bits(want));
            proptest::prop_assert_eq!(
                bits(overlap_at_least(&sliced(sa), &sliced(sb), name_weight, min_shared)),
                bits(want)
            );
            // Mixed: one side sliced, the other key by key.
            proptest::prop_assert_eq!(bits(overlap_at_least(&sliced(sa), &sb, name_weight, min_shared)), bits(want));
            // Keys copied out, on both sides and beside a sliced or a key-by-key one.
            proptest::prop_assert_eq!(bits(overlap_at_least(&copied(sa), &copied(sb), name_weight, min_shared)), bits(want));
            proptest::prop_assert_eq!(bits(overlap_at_least(&sliced(sa), &copied(sb), name_weight, min_shared)), bits(want));
            proptest::prop_assert_eq!(bits(overlap_at_least(&copied(sa), &sb, name_weight, min_shared)), bits(want));
        }
    }

    #[test]
    fn overlap_rewards_containment_but_not_alone() {
        let w = |n: usize| vec![1.0f32; n];
        // A short sentence wholly inside a long one scores between its Jaccard and 1.
        let short = [1, 2, 3, 4, 5];
        let long: Vec<u64> = (1..=20).collect();
        let (s, n) = overlap(&short, &w(5), &long, &w(20));
        assert_eq!(n, 5);
        assert!((s - (5.0f64 / 20.0).sqrt()).abs() < 1e-9);
        // Rare shared words count more than common ones.
        let (rare, _) = overlap(&[1, 2, 3], &[5.0, 1.0, 1.0], &[1, 8, 9], &[5.0, 1.0, 1.0]);
        let (common, _) = overlap(&[1, 2, 3], &[1.0, 5.0, 5.0], &[1, 8, 9], &[1.0, 5.0, 5.0]);
        assert!(rare > common);
        assert_eq!(overlap(&[], &[], &[1], &[1.0]).0, 0.0);
    }
}
