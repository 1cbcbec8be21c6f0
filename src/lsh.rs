//! Stage 6: locality-sensitive hashing. Signatures in, candidate pairs out.
//!
//! Takes the MinHash [`Signatures`] of some units and gives the pairs of units that agree on
//! every row of at least one band (`bands` × `rows` values), sorted and deduplicated. Each band's
//! values are hashed (seeded xxh3) into a 64-bit key; the `(key, unit)` entries of a band are
//! grouped by sorting, not by a map of vectors, so memory is two flat arrays and the order is
//! deterministic. A bucket with more than `max_bucket` members (boilerplate repeated thousands
//! of times) is not expanded into all its pairs, which would be quadratic: its members are
//! paired with their neighbours in id order only, so they still end up connected.
//!
//! ```
//! use syndup::{lsh::candidate_pairs, minhash::{MinHasher, Signatures}};
//! let sets = vec![vec![1u64, 2, 3, 4], vec![1, 2, 3, 4], vec![9, 10, 11, 12]];
//! let sigs = Signatures::compute(&MinHasher::new(16, 0), &sets);
//! let pairs = candidate_pairs(&sigs, &[0, 1, 2], (8, 2), 0, 100);
//! assert_eq!(pairs, vec![(0, 1)]);
//! ```

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::minhash::Signatures;

/// The key of band `band` (`rows` values starting at `band * rows`) of a signature.
pub fn band_key(sig: &[u32], band: usize, rows: usize, seed: u64) -> u64 {
    let vals = &sig[band * rows..(band + 1) * rows];
    let mut bytes = [0u8; 256];
    let mut n = 0;
    let mut h = seed ^ band as u64;
    for v in vals {
        if n + 4 > bytes.len() {
            h = xxh3_64_with_seed(&bytes[..n], h);
            n = 0;
        }
        bytes[n..n + 4].copy_from_slice(&v.to_le_bytes());
        n += 4;
    }
    xxh3_64_with_seed(&bytes[..n], h)
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
    // Bands run in parallel; each worker folds its bands' pairs into one list that it sorts
    // and deduplicates whenever it grows past a bound, so memory holds distinct pairs (plus
    // one band's worth), not one copy per band that proposed them.
    const COMPACT_AT: usize = 1 << 22;
    let compact = |v: &mut Vec<(u32, u32)>| {
        v.sort_unstable();
        v.dedup();
    };
    let mut all = (0..bands)
        .into_par_iter()
        .fold(Vec::new, |mut acc, band| {
            band_pairs(sigs, units, band, rows, seed, max_bucket, &mut acc);
            if acc.len() > COMPACT_AT {
                compact(&mut acc);
            }
            acc
        })
        .reduce(Vec::new, |mut a, mut b| {
            if a.len() < b.len() {
                std::mem::swap(&mut a, &mut b);
            }
            a.append(&mut b);
            if a.len() > COMPACT_AT {
                compact(&mut a);
            }
            a
        });
    all.par_sort_unstable();
    all.dedup();
    all
}

/// Appends the pairs that share a bucket of `band` to `out`.
fn band_pairs(
    sigs: &Signatures,
    units: &[u32],
    band: usize,
    rows: usize,
    seed: u64,
    max_bucket: usize,
    out: &mut Vec<(u32, u32)>,
) {
    let mut entries: Vec<(u64, u32)> = units
        .iter()
        .map(|&u| (band_key(sigs.row(u as usize), band, rows, seed), u))
        .collect();
    entries.sort_unstable();
    bucket_pairs(&entries, max_bucket, out);
}

/// Appends the pairs of every bucket of one band to `out`: `entries` are `(key, unit)` sorted,
/// and a bucket is a run of equal keys; one with more than `max_bucket` members is chained
/// (each member paired with the next) rather than expanded.
///
/// ```
/// let mut out = Vec::new();
/// syndup::lsh::bucket_pairs(&[(1, 0), (1, 2), (3, 1), (5, 3), (5, 4), (5, 5)], 2, &mut out);
/// assert_eq!(out, vec![(0, 2), (3, 4), (4, 5)]);
/// ```
pub fn bucket_pairs(entries: &[(u64, u32)], max_bucket: usize, out: &mut Vec<(u32, u32)>) {
    let mut i = 0;
    while i < entries.len() {
        let mut j = i + 1;
        while j < entries.len() && entries[j].0 == entries[i].0 {
            j += 1;
        }
        let run = &entries[i..j];
        if run.len() <= max_bucket {
            for (x, &(_, a)) in run.iter().enumerate() {
                for &(_, b) in &run[x + 1..] {
                    out.push((a, b));
                }
            }
        } else {
            out.extend(run.windows(2).map(|w| (w[0].1, w[1].1)));
        }
        i = j;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minhash::MinHasher;

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
