//! Parameters: what counts as a near-duplicate and how hard to look.
//!
//! [`Params`] is plain data: it is printed in every report's summary, so a report says how it was
//! made. [`Preset`] names the three trade-offs; [`derive_bands`] turns a threshold into an LSH
//! banding.
//!
//! ```
//! use syndup::{Params, Preset};
//! let p = Params::preset(Preset::Near);
//! p.validate().unwrap();
//! assert!(p.sentence_threshold.is_none());
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A named trade-off between catching reworded copies and speed / false alarms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Copies that keep almost all of their wording (word 3-gram Jaccard ≥ 0.8). Fastest.
    Exact,
    /// Lightly edited copies: trimmed, re-quoted, a few words changed (3-gram Jaccard ≥ 0.5).
    Near,
    /// `near`, plus restated sentences: a sentence of one paragraph rewritten in another
    /// (IDF-weighted word overlap of stemmed words). The default.
    #[default]
    Paraphrase,
}

impl Preset {
    /// The preset's name as used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Exact => "exact",
            Preset::Near => "near",
            Preset::Paraphrase => "paraphrase",
        }
    }
}

/// How a text is split into paragraphs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SplitMode {
    /// Every non-empty line is one paragraph (as in most scraped article dumps).
    #[default]
    Line,
    /// Blocks separated by blank lines are paragraphs; single newlines inside a block are spaces.
    /// A line of Unicode whitespace (a no-break space) or zero-width characters is blank.
    Blank,
}

/// Whether words are reduced to their stems before sentence-level comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StemMode {
    /// Detect each document's language (a plain-text file, or a JSON Lines record) and stem
    /// with its Snowball stemmer when the language is detected reliably and has one; leave the
    /// words as they are otherwise. A record is also taken to be in a language when a fast
    /// guess names one that the same file's head or sampled records were reliably found in.
    /// A plain-text file found to mix languages has one for each paragraph, guessed the same
    /// way.
    #[default]
    Auto,
    /// Never stem.
    None,
}

/// What counts as a near-duplicate paragraph, and how hard to look.
///
/// Two comparisons decide a pair. Every field says what it trades.
///
/// * Paragraph level: the exact Jaccard similarity of the two paragraphs' sets of word
///   `shingle_words`-grams must reach `threshold`. MinHash signatures with `num_hashes` values
///   and an LSH of `bands` × `rows` find the candidates; the exact Jaccard decides.
/// * Sentence level (when `sentence_threshold` is set): some sentence of one paragraph and some
///   sentence of the other must share at least `min_shared_words` stemmed words and reach
///   `sentence_threshold` on the IDF-weighted overlap score (see [`crate::verify`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// The preset these values started from (informational).
    pub preset: Preset,
    /// Paragraph-level Jaccard threshold on word shingles. Lower catches more edited copies and
    /// costs more verification; higher reports only close copies.
    pub threshold: f64,
    /// Words per shingle. Lower tolerates more rewording but lets unrelated paragraphs share
    /// more shingles by chance; higher demands longer shared runs.
    pub shingle_words: usize,
    /// MinHash values per signature. More: steadier estimates and better LSH recall, more time;
    /// signatures are not kept, only their band keys (4 bytes per band per unit, and the
    /// derived banding uses more bands when there are more values).
    pub num_hashes: usize,
    /// How signature values are computed: `folded` (the default: k hash functions over the
    /// shingle hash folded to 32 bits, one 32-bit mix per shingle and function), `independent`
    /// (k hash functions over all 64 bits, two mixes per shingle and function; the default
    /// before, kept so that index files built with it still open) or `oph` (one-permutation
    /// hashing with optimal densification, one evaluation per shingle). Same expected
    /// estimate; see [`crate::minhash`].
    pub signature: crate::minhash::Scheme,
    /// LSH bands for paragraph signatures; `None` derives them from `threshold`.
    pub bands: Option<usize>,
    /// Rows per LSH band; `None` derives them from `threshold`.
    pub rows: Option<usize>,
    /// Sentence-level threshold on the IDF-weighted overlap score; `None` turns the sentence
    /// level off. Lower catches looser rewrites and admits more same-topic pairs.
    pub sentence_threshold: Option<f64>,
    /// Sentence pairs must share at least this many distinct (stemmed) words. Guards short
    /// sentences, where a few shared words give a high score by chance.
    pub min_shared_words: usize,
    /// Paragraphs with fewer words than this are compared only by exact equality of their
    /// normalized text (a MinHash of two or three words says nothing). Paragraphs with no word
    /// at all never match anything.
    pub min_words: usize,
    /// Sentences with fewer words than this take no part in sentence-level matching.
    pub min_sentence_words: usize,
    /// Weight factor, in the sentence score, of words that are capitalized inside a sentence
    /// (names), in languages where case marks names (not German, whose nouns are all
    /// capitalized). Names tell what a sentence is about, and every sentence about the same
    /// people shares them; a restatement shares the words around them. 1 treats names like any
    /// word; lower values flag fewer same-topic pairs.
    pub name_weight: f64,
    /// Stemming policy for sentence-level comparison.
    pub stem: StemMode,
    /// Seed of every hash function; the same seed gives the same signatures.
    pub seed: u64,
    /// LSH buckets with more members than this are not expanded into all their pairs (which
    /// would cost quadratic time on boilerplate); only neighbouring members are paired. A
    /// band's largest buckets are chained too when its pairs would pass one per unit (and
    /// 65,536; see [`crate::lsh::BandBudget`]), so that candidates stay linear in the input.
    pub max_bucket: usize,
    /// The same bound for the sentence-level index. Its buckets gather sentences that share a
    /// pair of (weighted) words; a big one is a topic, not a restatement, and a restatement
    /// usually shares several buckets, some of them small. Lower is faster and may list fewer
    /// of the pairs inside big groups of copies (they stay connected through the chain).
    pub max_sentence_bucket: usize,
    /// How text is split into paragraphs.
    pub split: SplitMode,
    /// Paragraphs longer than this many bytes are skipped and reported. At most `u32::MAX`:
    /// positions inside a paragraph are kept in 32 bits.
    pub max_paragraph_bytes: usize,
}

impl Default for Params {
    fn default() -> Params {
        Params::preset(Preset::default())
    }
}

impl Params {
    /// The parameters of a preset.
    pub fn preset(preset: Preset) -> Params {
        let (threshold, sentence_threshold) = match preset {
            Preset::Exact => (0.8, None),
            Preset::Near => (0.5, None),
            Preset::Paraphrase => (0.5, Some(0.30)),
        };
        Params {
            preset,
            threshold,
            shingle_words: 3,
            num_hashes: 128,
            signature: crate::minhash::Scheme::Folded,
            bands: None,
            rows: None,
            sentence_threshold,
            min_shared_words: 6,
            min_words: 5,
            min_sentence_words: 8,
            name_weight: 0.5,
            stem: StemMode::Auto,
            seed: 0x5eed_d0b1_e5a1_2024,
            max_bucket: 512,
            max_sentence_bucket: 64,
            split: SplitMode::Line,
            max_paragraph_bytes: 1 << 20,
        }
    }

    /// Checks ranges and consistency.
    pub fn validate(&self) -> Result<()> {
        fn unit(name: &'static str, v: f64) -> Result<()> {
            if v.is_finite() && v > 0.0 && v <= 1.0 {
                Ok(())
            } else {
                Err(Error::Param {
                    name,
                    reason: format!("{v} is not in (0, 1]"),
                })
            }
        }
        unit("threshold", self.threshold)?;
        if let Some(t) = self.sentence_threshold {
            unit("sentence_threshold", t)?;
        }
        if self.shingle_words == 0 || self.shingle_words > 16 {
            return Err(Error::Param {
                name: "shingle_words",
                reason: format!("{} is not in 1..=16", self.shingle_words),
            });
        }
        if self.num_hashes < 2 || self.num_hashes > 4096 {
            return Err(Error::Param {
                name: "num_hashes",
                reason: format!("{} is not in 2..=4096", self.num_hashes),
            });
        }
        let (b, r) = self.banding();
        // Checked: bands and rows are set freely, and a wrapped product passed for a banding
        // far beyond the signature (every band key 0, every paragraph a candidate).
        if b == 0 || r == 0 || b.checked_mul(r).is_none_or(|n| n > self.num_hashes) {
            return Err(Error::Param {
                name: "bands",
                reason: format!(
                    "{b} bands × {r} rows does not fit the {} hash values of num_hashes \
                     (each at least 1, their product at most num_hashes)",
                    self.num_hashes
                ),
            });
        }
        if !(self.name_weight.is_finite() && (0.0..=1.0).contains(&self.name_weight)) {
            return Err(Error::Param {
                name: "name_weight",
                reason: format!("{} is not in [0, 1]", self.name_weight),
            });
        }
        for (name, bound) in [
            ("max_bucket", self.max_bucket),
            ("max_sentence_bucket", self.max_sentence_bucket),
        ] {
            if bound < 2 {
                return Err(Error::Param {
                    name,
                    reason: format!("{bound} is less than 2"),
                });
            }
        }
        if self.max_paragraph_bytes == 0 {
            return Err(Error::Param {
                name: "max_paragraph_bytes",
                reason: "must be positive".into(),
            });
        }
        // Positions inside a paragraph (word origins, sentence spans on disk) are 32-bit.
        if self.max_paragraph_bytes > u32::MAX as usize {
            return Err(Error::Param {
                name: "max_paragraph_bytes",
                reason: format!("must be at most {} (4 GiB - 1)", u32::MAX),
            });
        }
        Ok(())
    }

    /// The paragraph-level banding: explicit values where given, else [`derive_bands`].
    pub fn banding(&self) -> (usize, usize) {
        match (self.bands, self.rows) {
            (Some(b), Some(r)) => (b, r),
            (Some(b), None) => (b, (self.num_hashes / b.max(1)).max(1)),
            (None, Some(r)) => ((self.num_hashes / r.max(1)).max(1), r),
            (None, None) => derive_bands(self.threshold, self.num_hashes),
        }
    }

    /// The sentence-level banding. Sentence sets are small and their plain Jaccard sits well
    /// below the weighted score that decides, so this banding aims at a Jaccard of about half
    /// the sentence threshold.
    pub fn sentence_banding(&self) -> Option<(usize, usize)> {
        self.sentence_threshold
            .map(|t| derive_bands((t * 0.5).max(0.05), self.num_hashes))
    }
}

/// Probability that two sets of Jaccard similarity `s` share at least one of `b` bands of `r`
/// rows.
pub fn candidate_probability(s: f64, b: usize, r: usize) -> f64 {
    1.0 - (1.0 - s.powi(r as i32)).powi(b as i32)
}

/// Chooses bands × rows (at most `num_hashes` values) for a Jaccard `threshold`, minimizing the
/// sum of the false-positive mass (integral of the candidate probability below the threshold)
/// and the false-negative mass (integral of its complement above), weighted equally, as in
/// Leskovec, Rajaraman and Ullman, *Mining of Massive Datasets*, ch. 3.4.
///
/// ```
/// let (b, r) = syndup::params::derive_bands(0.5, 128);
/// assert!(b * r <= 128);
/// assert!(syndup::params::candidate_probability(0.7, b, r) > 0.9);
/// ```
///
/// The search evaluates the two integrals for every shape that fits (645 at 128 values,
/// 516,000 powers in all), which took 2.5 ms in a release build: more than a whole detection
/// of a small input, which asks for it two or three times. Each answer is kept for the process (64 at most, the
/// oldest forgotten first), so the search runs once per threshold and number of values.
pub fn derive_bands(threshold: f64, num_hashes: usize) -> (usize, usize) {
    type Known = Vec<((u64, usize), (usize, usize))>;
    static KNOWN: std::sync::Mutex<Known> = std::sync::Mutex::new(Vec::new());
    let key = (threshold.to_bits(), num_hashes);
    let known = |known: &Known| known.iter().find(|e| e.0 == key).map(|e| e.1);
    if let Some(shape) = KNOWN.lock().ok().and_then(|k| known(&k)) {
        return shape;
    }
    let shape = search_bands(threshold, num_hashes);
    if let Ok(mut k) = KNOWN.lock() {
        if k.len() >= 64 {
            k.remove(0);
        }
        k.push((key, shape));
    }
    shape
}

/// [`derive_bands`]'s search.
fn search_bands(threshold: f64, num_hashes: usize) -> (usize, usize) {
    fn integrate(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
        let n = 200;
        let h = (b - a) / n as f64;
        (0..n).map(|i| f(a + (i as f64 + 0.5) * h) * h).sum()
    }
    let mut best = (1, 1);
    let mut best_err = f64::INFINITY;
    for b in 1..=num_hashes {
        for r in 1..=num_hashes / b {
            let fp = integrate(|s| candidate_probability(s, b, r), 0.0, threshold);
            let fneg = integrate(|s| 1.0 - candidate_probability(s, b, r), threshold, 1.0);
            let err = fp + fneg;
            if err < best_err - 1e-12 {
                best_err = err;
                best = (b, r);
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_validate() {
        for p in [Preset::Exact, Preset::Near, Preset::Paraphrase] {
            Params::preset(p).validate().unwrap();
        }
    }

    /// Paragraph positions are 32-bit (word origins, the disk detector's sentence spans): a
    /// bound on paragraphs beyond them is refused rather than letting positions wrap.
    #[test]
    fn paragraph_bound_fits_positions() {
        let with = |max_paragraph_bytes| Params {
            max_paragraph_bytes,
            ..Params::default()
        };
        assert!(with(u32::MAX as usize).validate().is_ok());
        let err = with(u32::MAX as usize + 1).validate().unwrap_err();
        assert!(err.to_string().contains("max_paragraph_bytes"), "{err}");
        assert!(with(0).validate().is_err());
    }

    /// A remembered shape is the one the search gives for the same threshold and number of
    /// values, asked for the first time or again (not the shape kept for another number of
    /// values: 0.5 gives different shapes at 16 and 128 values).
    #[test]
    fn remembered_bands_are_the_searched_ones() {
        for _ in 0..2 {
            for t in [0.3, 0.5, 0.50001, 0.8] {
                for n in [16, 64, 128] {
                    assert_eq!(derive_bands(t, n), search_bands(t, n), "t={t} n={n}");
                }
            }
        }
        assert_ne!(derive_bands(0.5, 128), derive_bands(0.5, 16));
    }

    #[test]
    fn derived_bands_put_the_s_curve_at_the_threshold() {
        for &t in &[0.3, 0.5, 0.8] {
            let (b, r) = derive_bands(t, 128);
            assert!(b * r <= 128);
            // The S-curve's steepest point (1/b)^(1/r) lies near the threshold.
            let knee = (1.0 / b as f64).powf(1.0 / r as f64);
            assert!((knee - t).abs() < 0.15, "t={t} b={b} r={r} knee={knee}");
        }
    }

    #[test]
    fn bad_params_are_refused() {
        let bad = [
            Params {
                threshold: 1.5,
                ..Params::default()
            },
            Params {
                bands: Some(100),
                rows: Some(2),
                ..Params::default()
            },
            Params {
                shingle_words: 0,
                ..Params::default()
            },
            // Bands × rows beyond usize: the product wrapped to 0 or 2 and passed.
            Params {
                bands: Some(1 << 63),
                rows: Some(2),
                ..Params::default()
            },
            Params {
                bands: Some(2),
                rows: Some(1 << 63),
                ..Params::default()
            },
            Params {
                bands: Some(3),
                rows: Some(6_148_914_691_236_517_206),
                ..Params::default()
            },
            Params {
                sentence_threshold: Some(0.0),
                ..Params::default()
            },
        ];
        for p in bad {
            assert!(p.validate().is_err(), "{p:?}");
        }
    }

    /// Each bucket bound is named in its own error (the sentence one was named `max_bucket`).
    #[test]
    fn bucket_bounds_are_named() {
        for (p, want) in [
            (
                Params {
                    max_bucket: 1,
                    ..Params::default()
                },
                "max_bucket",
            ),
            (
                Params {
                    max_sentence_bucket: 1,
                    ..Params::default()
                },
                "max_sentence_bucket",
            ),
        ] {
            match p.validate() {
                Err(Error::Param { name, .. }) => assert_eq!(name, want),
                other => panic!("{other:?}"),
            }
        }
    }
}
