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

/// [`overlap_of`], or `None` when the two sentences share fewer than `min_shared` terms; the
/// merge stops as soon as the terms left on the shorter side could not make up the difference,
/// so candidates that share few terms cost less.
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
    let (mut i, mut j, mut shared) = (0, 0, 0usize);
    let (mut inter, mut inter_full) = (0f64, 0f64);
    let (na, nb) = (a.len(), b.len());
    if na.min(nb) < min_shared {
        return None;
    }
    while i < na && j < nb {
        if shared + (na - i).min(nb - j) < min_shared {
            return None;
        }
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
        // The side with the smaller key moves on (both when equal), by arithmetic rather than
        // a branch: which side is smaller is a coin toss the CPU cannot predict.
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    if shared < min_shared {
        return None;
    }
    let (ta, tb) = (a.total(), b.total());
    let union = ta + tb - inter_full;
    let smaller = ta.min(tb);
    if inter <= 0.0 || union <= 0.0 || smaller <= 0.0 {
        return Some((0.0, shared));
    }
    Some(((inter / (union * smaller).sqrt()).min(1.0), shared))
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
