//! `check`: a CI gate over a detection. Findings, budgets, baselines and allow-lists.
//!
//! A content pipeline wants to fail when a publication, a dataset build or a batch of new
//! articles repeats itself. This module turns a [`Detection`] into that decision:
//!
//! 1. [`Scope`] says which paragraphs are *checked* and which belong to a *reference* corpus
//!    (`--against`): a pair is a candidate finding unless both of its paragraphs are in the
//!    reference (new~new and new~reference are reported, reference~reference never is);
//! 2. an [`AllowList`] drops every pair with a paragraph that matches an allowed pattern
//!    (boilerplate such as "Share this" or bylines is never a finding);
//! 3. each remaining pair is a [`Finding`], reported at one paragraph ([`Finding::at`]: the
//!    checked one of a new~reference pair, else the later one) and naming the paragraph it
//!    repeats ([`Finding::other`]); findings are sorted by `(at, other)`, that is by input order;
//! 4. a [`Baseline`] accepts findings recorded earlier, by their [`FindingKey`], so that only
//!    new ones count;
//! 5. a [`Budget`] decides whether the new findings are acceptable: [`Outcome::is_over_budget`].
//!
//! [`output`] writes the outcome as text, JSON Lines (the `scan` contract, through
//! [`crate::report`]), GitHub Actions workflow commands or SARIF 2.1.0; [`config`] reads
//! `syndup.toml`.
//!
//! ```
//! use syndup::check::{AllowList, Budget, Check, Scope};
//! use syndup::{input::Corpus, Detector, Params};
//!
//! let params = Params::default();
//! let corpus = Corpus::from_texts(&[
//!     ("a.txt", "Share this article with your friends and family today.\nThe storm closed every road into the valley on Tuesday, officials said.\n"),
//!     ("b.txt", "Share this article with your friends and family today.\nOfficials said the storm closed every road into the valley on Tuesday.\n"),
//! ], &params);
//! let found = Detector::new(params)?.detect(&corpus);
//! assert_eq!(found.pairs.len(), 2);
//!
//! let check = Check::new(Budget::default()).allow(AllowList::new(&["^Share this"])?);
//! let outcome = check.evaluate(&corpus, &found, &Scope::all(&corpus));
//! assert_eq!(outcome.findings.len(), 1); // the boilerplate pair is allowed
//! assert!(outcome.is_over_budget()); // the default budget fails on any finding
//!
//! // Accept today's findings: the same corpus then passes.
//! let accepted = check.baseline(outcome.to_baseline(&corpus));
//! assert!(!accepted.evaluate(&corpus, &found, &Scope::all(&corpus)).is_over_budget());
//! # Ok::<(), syndup::Error>(())
//! ```

pub mod allow;
pub mod baseline;
pub mod config;
pub mod output;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

pub use allow::AllowList;
pub use baseline::Baseline;
pub use config::Config;

use crate::cluster;
use crate::detect::Detection;
use crate::error::{Error, Result};
use crate::input::{Corpus, InputOptions};
use crate::normalize::Words;
use crate::params::Params;

/// When new findings make a check fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// Any new finding fails (the default when no limit is set).
    #[default]
    Any,
    /// Only the limits decide: more clusters than `max_clusters`, or a duplicate ratio above
    /// `max_duplicate_ratio` (the default when a limit is set).
    Budget,
    /// Never fail on findings: report only (errors still fail).
    Never,
}

impl FailOn {
    /// The name used on the command line and in `syndup.toml`.
    pub fn name(self) -> &'static str {
        match self {
            FailOn::Any => "any",
            FailOn::Budget => "budget",
            FailOn::Never => "never",
        }
    }
}

/// How much new duplication is acceptable.
///
/// ```
/// use syndup::check::{Budget, FailOn};
/// assert_eq!(Budget::default().fail_on(), FailOn::Any);
/// let b = Budget { max_clusters: Some(3), ..Budget::default() };
/// assert_eq!(b.fail_on(), FailOn::Budget);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Budget {
    /// The policy; `None` picks [`FailOn::Any`] without limits, [`FailOn::Budget`] with one.
    pub fail_on: Option<FailOn>,
    /// Highest acceptable share of checked paragraphs that are in a new finding, in `[0, 1]`.
    pub max_duplicate_ratio: Option<f64>,
    /// Highest acceptable number of clusters formed by the new findings.
    pub max_clusters: Option<usize>,
}

impl Budget {
    /// The effective policy.
    pub fn fail_on(&self) -> FailOn {
        self.fail_on.unwrap_or(
            if self.max_duplicate_ratio.is_some() || self.max_clusters.is_some() {
                FailOn::Budget
            } else {
                FailOn::Any
            },
        )
    }

    /// Checks that the ratio is a number in `[0, 1]`.
    pub fn validate(&self) -> Result<()> {
        match self.max_duplicate_ratio {
            Some(r) if !(r.is_finite() && (0.0..=1.0).contains(&r)) => Err(Error::Param {
                name: "max_duplicate_ratio",
                reason: format!("{r} is not in [0, 1]"),
            }),
            _ => Ok(()),
        }
    }

    /// Why `summary` is over this budget; empty when it is within.
    pub fn exceeded(&self, summary: &Summary) -> Vec<String> {
        let mut why = Vec::new();
        let fail_on = self.fail_on();
        if fail_on == FailOn::Never {
            return why;
        }
        if fail_on == FailOn::Any && summary.new_findings > 0 {
            why.push(format!(
                "{} new finding{} (fail_on = \"any\")",
                summary.new_findings,
                plural(summary.new_findings)
            ));
        }
        if let Some(max) = self.max_clusters {
            if summary.new_clusters > max {
                why.push(format!(
                    "{} clusters of new findings, more than max_clusters = {max}",
                    summary.new_clusters
                ));
            }
        }
        if let Some(max) = self.max_duplicate_ratio {
            if summary.duplicate_ratio > max {
                why.push(format!(
                    "duplicate ratio {:.4} ({} of {} checked paragraphs), above \
                     max_duplicate_ratio = {max}",
                    summary.duplicate_ratio,
                    summary.duplicate_paragraphs,
                    summary.checked_paragraphs
                ));
            }
        }
        why
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// What the checked paths are compared with.
///
/// Only corpora read from paths exist today. A saved index (`syndup index`) is the planned
/// second variant: a check against it would query each checked paragraph in the index instead
/// of detecting over one merged corpus. Until then [`Reference::open`] refuses index files with
/// a clear error rather than reading them as text.
#[non_exhaustive]
pub enum Reference {
    /// No reference: the checked corpus is compared with itself.
    None,
    /// A published corpus read from paths (`--against PATHS`).
    Corpus(Corpus),
}

/// The first bytes of a saved syndup index file.
pub const INDEX_MAGIC: &[u8; 8] = b"SYNDUPIX";

impl Reference {
    /// Reads a reference corpus from paths (files or directories, as [`Corpus::open`]).
    /// A file that starts with [`INDEX_MAGIC`] is refused: saved indexes are not supported by
    /// `check` yet.
    pub fn open<P: AsRef<Path>>(paths: &[P], params: &Params) -> Result<Reference> {
        Reference::open_with(paths, &InputOptions::default(), params)
    }

    /// [`Reference::open`] with explicit input options (format, text and id fields), as the
    /// checked corpus is read.
    pub fn open_with<P: AsRef<Path>>(
        paths: &[P],
        options: &InputOptions,
        params: &Params,
    ) -> Result<Reference> {
        for path in paths {
            let path = path.as_ref();
            if is_saved_index(path) {
                return Err(Error::Reference {
                    path: path.to_path_buf(),
                    reason: "is a saved syndup index; `check --against` reads text corpora \
                             (files and directories) only for now"
                        .into(),
                });
            }
        }
        Ok(Reference::Corpus(Corpus::open_with(
            paths,
            options,
            params,
            &|_| {},
        )))
    }
}

/// Whether `path` is a regular file that starts with [`INDEX_MAGIC`].
fn is_saved_index(path: &Path) -> bool {
    use std::io::Read;
    if !path.is_file() {
        return false;
    }
    let mut head = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == INDEX_MAGIC
}

/// Which sources of a corpus are checked and which are reference.
///
/// Checked sources come first; sources from index [`Scope::first_reference`] on are reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scope {
    first_reference: u32,
}

impl Scope {
    /// Every source of `corpus` is checked.
    pub fn all(corpus: &Corpus) -> Scope {
        Scope {
            first_reference: corpus.sources.len() as u32,
        }
    }

    /// The checked corpus followed by the reference's sources, and the scope that tells them
    /// apart. A reference source that is also a checked source (the same file, found by its
    /// canonical path) is left out, so a file is never reported as repeating itself.
    pub fn merge(checked: Corpus, reference: Reference) -> (Corpus, Scope) {
        let mut corpus = checked;
        let first_reference = corpus.sources.len() as u32;
        let Reference::Corpus(reference) = reference else {
            return (corpus, Scope { first_reference });
        };
        let canon =
            |s: &crate::input::Source| s.canonical().unwrap_or_else(|| s.name.clone().into());
        let checked_files: HashSet<PathBuf> = corpus.sources.iter().map(canon).collect();
        corpus.append(reference, |s| !checked_files.contains(&canon(s)));
        (corpus, Scope { first_reference })
    }

    /// Index of the first reference source (the number of checked sources).
    pub fn first_reference(&self) -> u32 {
        self.first_reference
    }

    /// Whether source `source` belongs to the reference corpus.
    pub fn is_reference(&self, source: u32) -> bool {
        source >= self.first_reference
    }

    /// Whether there is a reference corpus.
    pub fn has_reference(&self, corpus: &Corpus) -> bool {
        (self.first_reference as usize) < corpus.sources.len()
    }
}

/// A stable identity of a finding, robust to line shifts.
///
/// It is the xxh3-128 hash of the finding's two sides, each side being the paragraph's source
/// name (relative to the [`Check::key_root`], normally the baseline's directory; else as
/// reported, with leading `./` removed) and the xxh3-64 hash of its normalized text
/// (see [`crate::normalize`]: case, punctuation, spacing and Unicode form do not matter). The
/// two sides are ordered before hashing, so the key does not depend on which side a finding is
/// reported at, on the order of the input paths or on the working directory. It survives lines
/// added or removed around the paragraphs and edits that normalization removes; it changes when
/// either paragraph's words change or a file is renamed or moved, and the finding then counts
/// as new. Several findings may
/// share a key (a paragraph pasted three times in one file gives three findings of one key):
/// a [`Baseline`] counts them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FindingKey(pub u128);

impl FindingKey {
    /// The key of a pair of paragraphs, given each side's source name and raw text.
    ///
    /// ```
    /// use syndup::check::FindingKey;
    /// let k = FindingKey::of(("a.txt", "Hello,  World!"), ("b.txt", "More text here."));
    /// assert_eq!(k, FindingKey::of(("./b.txt", "more text here"), ("a.txt", "hello world")));
    /// assert_ne!(k, FindingKey::of(("a.txt", "Hello world"), ("c.txt", "More text here")));
    /// ```
    pub fn of(x: (&str, &str), y: (&str, &str)) -> FindingKey {
        let mut words = Words::default();
        let mut side = |(name, text): (&str, &str)| (source_key(name), text_hash(&mut words, text));
        let (s, t) = (side(x), side(y));
        FindingKey::from_sides((&s.0, s.1), (&t.0, t.1))
    }

    /// The key of two sides given as (key name, [`text_hash`]); the names are used as they are.
    fn from_sides(x: (&str, u64), y: (&str, u64)) -> FindingKey {
        let (s, t) = if y < x { (y, x) } else { (x, y) };
        let mut buf = Vec::with_capacity(s.0.len() + t.0.len() + 18);
        for (name, hash) in [s, t] {
            buf.extend_from_slice(name.as_bytes());
            buf.push(0);
            buf.extend_from_slice(&hash.to_le_bytes());
        }
        FindingKey(xxh3_128(&buf))
    }
}

/// The xxh3-64 hash of a text's normalized words.
fn text_hash(words: &mut Words, text: &str) -> u64 {
    words.normalize(text);
    xxh3_64(words.text_bytes())
}

/// A source name as used in keys: leading `./` removed, `\` as `/`.
fn source_key(name: &str) -> String {
    let mut s = name.replace('\\', "/");
    while let Some(rest) = s.strip_prefix("./") {
        s = rest.to_string();
    }
    s
}

impl fmt::Display for FindingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl std::str::FromStr for FindingKey {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<FindingKey, String> {
        // Digits only: `from_str_radix` also takes a leading `+`.
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("`{s}` is not a 32-digit hexadecimal key"));
        }
        u128::from_str_radix(s, 16)
            .map(FindingKey)
            .map_err(|_| format!("`{s}` is not a 32-digit hexadecimal key"))
    }
}

/// A reported pair: one paragraph repeats another.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// Index into [`Detection::pairs`].
    pub pair: usize,
    /// The paragraph the finding is reported at (index into [`Corpus::paragraphs`]): the checked
    /// one of a checked~reference pair, else the later one in input order.
    pub at: u32,
    /// The paragraph it repeats.
    pub other: u32,
    /// Whether [`Finding::other`] is in the reference corpus (`--against`).
    pub repeats_reference: bool,
    /// Its stable identity.
    pub key: FindingKey,
    /// Whether it is new: `false` when the baseline accepts it.
    pub is_new: bool,
}

/// Counters and the verdict of a check (serialized as the `check` object of the JSONL
/// summary).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Paragraphs of the checked sources.
    pub checked_paragraphs: usize,
    /// Paragraphs of the reference sources (`--against`).
    pub reference_paragraphs: usize,
    /// Paragraphs (checked or reference) that match the allow-list.
    pub allowed_paragraphs: usize,
    /// Pairs dropped because a paragraph matches the allow-list.
    pub allowed_pairs: usize,
    /// Findings, new or accepted by the baseline.
    pub findings: usize,
    /// Findings the baseline accepts.
    pub baselined: usize,
    /// Findings that are not in the baseline: the ones that count.
    pub new_findings: usize,
    /// Baseline entries (counted with multiplicity) that no longer occur.
    pub baseline_unmatched: usize,
    /// Clusters formed by the new findings.
    pub new_clusters: usize,
    /// Checked paragraphs that are in a new finding.
    pub duplicate_paragraphs: usize,
    /// `duplicate_paragraphs / checked_paragraphs` (0 when nothing is checked).
    pub duplicate_ratio: f64,
    /// The effective policy.
    pub fail_on: FailOn,
    /// The cluster limit, if any.
    pub max_clusters: Option<usize>,
    /// The ratio limit, if any.
    pub max_duplicate_ratio: Option<f64>,
    /// Whether the new findings are over budget.
    pub over_budget: bool,
    /// Why, one sentence per exceeded limit.
    pub reasons: Vec<String>,
}

/// The result of [`Check::evaluate`].
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Every finding, new or baselined, sorted by `(at, other)`.
    pub findings: Vec<Finding>,
    /// Counters and the verdict.
    pub summary: Summary,
}

impl Outcome {
    /// Whether the new findings are over budget (the process should exit 1).
    pub fn is_over_budget(&self) -> bool {
        self.summary.over_budget
    }

    /// The new findings, in order.
    pub fn new_findings(&self) -> impl Iterator<Item = &Finding> + '_ {
        self.findings.iter().filter(|f| f.is_new)
    }

    /// A baseline that accepts every finding of this outcome (`--write-baseline`).
    pub fn to_baseline(&self, corpus: &Corpus) -> Baseline {
        Baseline::from_findings(corpus, &self.findings)
    }

    /// The detection restricted to the new findings: their pairs (sorted by `(a, b)`) and the
    /// clusters they form, for [`crate::report::Report`]. Counters are kept, except `pairs`.
    pub fn new_detection(&self, detection: &Detection, paragraphs: usize) -> Detection {
        let mut pairs: Vec<_> = self
            .new_findings()
            .map(|f| detection.pairs[f.pair].clone())
            .collect();
        pairs.sort_by_key(|q| (q.a, q.b));
        let clusters = crate::detect::clusters_of(&pairs, paragraphs);
        let mut stats = detection.stats.clone();
        stats.pairs = pairs.len();
        Detection {
            pairs,
            clusters,
            stats,
            stages: Vec::new(),
        }
    }
}

/// A configured check: budget, allow-list, baseline and the root of finding keys.
#[derive(Clone, Debug, Default)]
pub struct Check {
    budget: Budget,
    allow: AllowList,
    baseline: Option<Baseline>,
    key_root: Option<PathBuf>,
}

/// `path` relative to `root` (both canonical), with `/` between components and `..` for each
/// of `root`'s components that `path` is not below: the same from any working directory, for
/// files beside the baseline's directory (`ci/` next to `content/`) as for files below it.
fn relative_to(path: &Path, root: &Path) -> String {
    let (p, r): (Vec<_>, Vec<_>) = (path.components().collect(), root.components().collect());
    let common = p.iter().zip(&r).take_while(|(a, b)| a == b).count();
    let up = std::iter::repeat_n("..".to_string(), r.len() - common);
    let down = p[common..]
        .iter()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    up.chain(down).collect::<Vec<_>>().join("/")
}

impl Check {
    /// A check with this budget, nothing allowed and no baseline.
    pub fn new(budget: Budget) -> Check {
        Check {
            budget,
            ..Check::default()
        }
    }

    /// Pairs with a paragraph matching `allow` are never findings.
    pub fn allow(mut self, allow: AllowList) -> Check {
        self.allow = allow;
        self
    }

    /// Findings accepted by `baseline` are not new.
    pub fn baseline(mut self, baseline: Baseline) -> Check {
        self.baseline = Some(baseline);
        self
    }

    /// The budget.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// Source names in [`FindingKey`]s are taken relative to `dir` (typically the baseline
    /// file's directory), so that keys do not depend on the working directory or on how the
    /// paths were spelled (`news`, `./news`, `/srv/site/news`). Sources that are not files
    /// below `dir` (standard input, files elsewhere) keep their reported names. Without a root,
    /// reported names are used as they are.
    pub fn key_root<P: AsRef<Path>>(mut self, dir: P) -> Check {
        self.key_root = std::fs::canonicalize(dir.as_ref()).ok();
        self
    }

    /// The name of each source as used in keys.
    fn key_names(&self, corpus: &Corpus) -> Vec<String> {
        corpus
            .sources
            .iter()
            .map(|s| {
                // From the path as the system spells it: a name that is not UTF-8 has a lossy
                // display name, which canonicalizes nowhere (the key then depended on the
                // working directory).
                let from_root = self
                    .key_root
                    .as_ref()
                    .and_then(|root| Some(relative_to(&s.canonical()?, root)));
                from_root.unwrap_or_else(|| source_key(&s.name))
            })
            .collect()
    }

    /// Turns a detection over `corpus` into findings and a verdict.
    pub fn evaluate(&self, corpus: &Corpus, detection: &Detection, scope: &Scope) -> Outcome {
        let n = corpus.paragraphs.len();
        let is_ref = |i: u32| scope.is_reference(corpus.paragraphs[i as usize].source);
        let allowed: Vec<bool> = if self.allow.is_empty() {
            vec![false; n]
        } else {
            corpus
                .paragraphs
                .par_iter()
                .map(|p| self.allow.is_match(corpus.text(p)))
                .collect()
        };
        let mut summary = Summary {
            checked_paragraphs: (0..n as u32).filter(|&i| !is_ref(i)).count(),
            allowed_paragraphs: allowed.iter().filter(|&&a| a).count(),
            ..Summary::default()
        };
        summary.reference_paragraphs = n - summary.checked_paragraphs;

        let names = self.key_names(corpus);
        // Each paragraph's text hash, computed once however many findings it is in.
        let mut hashes: Vec<Option<u64>> = vec![None; n];
        let mut words = Words::default();
        let mut side = |i: u32| {
            let p = &corpus.paragraphs[i as usize];
            let hash =
                *hashes[i as usize].get_or_insert_with(|| text_hash(&mut words, corpus.text(p)));
            (names[p.source as usize].as_str(), hash)
        };
        let mut findings: Vec<Finding> = Vec::new();
        for (k, q) in detection.pairs.iter().enumerate() {
            let (ra, rb) = (is_ref(q.a), is_ref(q.b));
            if ra && rb {
                continue;
            }
            if allowed[q.a as usize] || allowed[q.b as usize] {
                summary.allowed_pairs += 1;
                continue;
            }
            // Report at the checked side of a checked~reference pair, else at the later one.
            let (at, other) = if rb { (q.a, q.b) } else { (q.b, q.a) };
            findings.push(Finding {
                pair: k,
                at,
                other,
                repeats_reference: ra || rb,
                key: FindingKey::from_sides(side(at), side(other)),
                is_new: true,
            });
        }
        findings.sort_by_key(|f| (f.at, f.other));

        if let Some(baseline) = &self.baseline {
            // One entry of a key accepts every finding of that key at one paragraph (see
            // `baseline`): the number of pairs a group of copies lists is not monotone in its
            // size, the number of copies is.
            let mut left = baseline.counts().clone();
            let mut accepted: HashMap<(FindingKey, u32), bool> = HashMap::new();
            for f in &mut findings {
                let ok =
                    *accepted
                        .entry((f.key, f.at))
                        .or_insert_with(|| match left.get_mut(&f.key) {
                            Some(c) if *c > 0 => {
                                *c -= 1;
                                true
                            }
                            _ => false,
                        });
                f.is_new = !ok;
            }
            summary.baseline_unmatched = left.values().map(|&c| c as usize).sum();
        }

        summary.findings = findings.len();
        summary.new_findings = findings.iter().filter(|f| f.is_new).count();
        summary.baselined = summary.findings - summary.new_findings;
        let new_pairs: Vec<(u32, u32)> = findings
            .iter()
            .filter(|f| f.is_new)
            .map(|f| (f.at.min(f.other), f.at.max(f.other)))
            .collect();
        summary.new_clusters = cluster::clusters(n, &new_pairs).len();
        let mut dup: Vec<u32> = new_pairs
            .iter()
            .flat_map(|&(a, b)| [a, b])
            .filter(|&i| !is_ref(i))
            .collect();
        dup.sort_unstable();
        dup.dedup();
        summary.duplicate_paragraphs = dup.len();
        summary.duplicate_ratio = if summary.checked_paragraphs == 0 {
            0.0
        } else {
            summary.duplicate_paragraphs as f64 / summary.checked_paragraphs as f64
        };
        summary.fail_on = self.budget.fail_on();
        summary.max_clusters = self.budget.max_clusters;
        summary.max_duplicate_ratio = self.budget.max_duplicate_ratio;
        summary.reasons = self.budget.exceeded(&summary);
        summary.over_budget = !summary.reasons.is_empty();
        Outcome { findings, summary }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Detector;

    const A: &str = "The storm closed every road into the valley on Tuesday, officials said.";
    const B: &str = "Officials said the storm closed every road into the valley on Tuesday.";

    fn run(texts: &[(&str, &str)], check: &Check, reference: usize) -> (Corpus, Outcome) {
        let params = Params::default();
        let split = texts.len() - reference;
        let checked = Corpus::from_texts(&texts[..split], &params);
        let reference = Reference::Corpus(Corpus::from_texts(&texts[split..], &params));
        let (corpus, scope) = Scope::merge(checked, reference);
        let found = Detector::new(params)
            .expect("default params")
            .detect(&corpus);
        let outcome = check.evaluate(&corpus, &found, &scope);
        (corpus, outcome)
    }

    #[test]
    fn reference_pairs_are_never_findings() {
        let text = format!("{A}\n");
        let texts = [
            ("new", "Nothing to see here at all today.\n"),
            ("old1", &text),
            ("old2", &text),
        ];
        let (_, o) = run(&texts, &Check::default(), 2);
        assert!(o.findings.is_empty(), "{:?}", o.findings);
        assert_eq!(o.summary.checked_paragraphs, 1);
        assert_eq!(o.summary.reference_paragraphs, 2);
    }

    #[test]
    fn new_vs_reference_is_reported_at_the_new_side() {
        let (a, b) = (format!("{A}\n"), format!("{B}\n"));
        let texts = [("new", b.as_str()), ("old", a.as_str())];
        let (corpus, o) = run(&texts, &Check::default(), 1);
        assert_eq!(o.findings.len(), 1);
        let at = &corpus.paragraphs[o.findings[0].at as usize];
        assert_eq!(corpus.source_name(at), "new");
        assert_eq!(o.summary.duplicate_paragraphs, 1);
        assert_eq!(o.summary.duplicate_ratio, 1.0);
    }

    #[test]
    fn budgets_decide() {
        let text = format!("{A}\n{B}\nA third line that repeats nothing else in here.\n");
        let texts = [("x", text.as_str())];
        let cases: &[(Budget, bool)] = &[
            (Budget::default(), true),
            (
                Budget {
                    fail_on: Some(FailOn::Never),
                    ..Budget::default()
                },
                false,
            ),
            (
                Budget {
                    max_clusters: Some(1),
                    ..Budget::default()
                },
                false,
            ),
            (
                Budget {
                    max_clusters: Some(0),
                    ..Budget::default()
                },
                true,
            ),
            (
                Budget {
                    max_duplicate_ratio: Some(0.7),
                    ..Budget::default()
                },
                false,
            ),
            (
                Budget {
                    max_duplicate_ratio: Some(0.6),
                    ..Budget::default()
                },
                true,
            ),
            (
                Budget {
                    fail_on: Some(FailOn::Any),
                    max_clusters: Some(5),
                    ..Budget::default()
                },
                true,
            ),
        ];
        for (budget, over) in cases {
            let (_, o) = run(&texts, &Check::new(budget.clone()), 0);
            assert_eq!(o.is_over_budget(), *over, "{budget:?}: {:?}", o.summary);
        }
    }

    #[test]
    fn baseline_counts_findings_with_the_same_key() {
        let one = format!("{A}\n{A}\n");
        let (corpus, o) = run(&[("x", &one)], &Check::default(), 0);
        assert_eq!(o.findings.len(), 1);
        let baseline = o.to_baseline(&corpus);
        let three = format!("{A}\nfiller words that are here for a line shift only\n{A}\n{A}\n");
        let (_, o) = run(&[("x", &three)], &Check::default().baseline(baseline), 0);
        // Three copies: three pairs of one key, one accepted.
        assert_eq!((o.summary.findings, o.summary.new_findings), (3, 2));
        assert!(!o.findings[0].is_new);
    }

    /// A key is 32 hexadecimal digits, nothing else (`u128::from_str_radix` took a `+`).
    #[test]
    fn keys_are_hex_digits_only() {
        let good = "0123456789abcdef0123456789ABCDEF";
        assert!(good.parse::<FindingKey>().is_ok());
        for bad in [
            "+123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcde",
            " 123456789abcdef0123456789abcdef",
        ] {
            assert!(bad.parse::<FindingKey>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn key_is_stable_under_line_shifts() {
        let (_, o1) = run(&[("x", &format!("{A}\n{B}\n"))], &Check::default(), 0);
        let (_, o2) = run(
            &[("x", &format!("new first line of text here\n{A}\n\n{B}\n"))],
            &Check::default(),
            0,
        );
        assert_eq!(o1.findings[0].key, o2.findings[0].key);
    }

    #[test]
    fn bad_ratio_is_refused() {
        for r in [-0.1, 1.5, f64::NAN] {
            let b = Budget {
                max_duplicate_ratio: Some(r),
                ..Budget::default()
            };
            assert!(b.validate().is_err());
        }
    }
}
