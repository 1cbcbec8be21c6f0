//! Evaluation: a detection and a gold file in, precision, recall and F1 out.
//!
//! Takes a gold file in one of two formats and gives pair-level scores per gold label:
//!
//! * the seed format, `line_a <TAB> line_b <TAB> label [<TAB> note]`, whose bare line numbers
//!   refer to the corpus's only source;
//! * the general format, `source:line <TAB> source:line <TAB> label [<TAB> note]`, whose paths
//!   are relative to the gold file's directory (or absolute).
//!
//! Lines starting with `#` and blank lines are ignored. Every listed pair is a duplicate; every
//! unlisted pair is not. Pairs with an *optional* label (by default `loose` and `boilerplate`)
//! may be flagged or not: they count neither as false positives nor as misses.
//!
//! ```
//! use syndup::{eval::{Gold, score}, input::Corpus, Detector, Params};
//! let params = Params::default();
//! let corpus = Corpus::from_texts(&[("a", "one two three four five six\none two three four five six\nseven\n")], &params);
//! let gold = Gold::parse("1\t2\tmust\n", std::path::Path::new("."), "gold.tsv", &corpus)?;
//! let found = Detector::new(params)?.detect(&corpus);
//! let s = score(&gold, &found, &["loose".to_string()]);
//! assert_eq!((s.true_pairs, s.false_pairs.len(), s.missed.len()), (1, 0, 0));
//! # Ok::<(), syndup::Error>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::detect::Detection;
use crate::error::{Error, Result};
use crate::input::Corpus;

/// Labelled duplicate pairs, resolved to paragraph indexes (`a < b`).
#[derive(Clone, Debug, Default)]
pub struct Gold {
    /// Label of each listed pair, lowercased (labels are compared case-insensitively).
    pub pairs: BTreeMap<(u32, u32), String>,
}

impl Gold {
    /// Reads and resolves a gold file against a corpus.
    pub fn load(path: &Path, corpus: &Corpus) -> Result<Gold> {
        let text = crate::error::read_text(path)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Gold::parse(&text, dir, &path.display().to_string(), corpus)
    }

    /// Parses gold text; `dir` resolves relative source paths, `name` is used in errors.
    pub fn parse(text: &str, dir: &Path, name: &str, corpus: &Corpus) -> Result<Gold> {
        let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let sources: HashMap<PathBuf, u32> = corpus
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let path = s.canonical().unwrap_or_else(|| PathBuf::from(&s.name));
                (path, i as u32)
            })
            .collect();
        let names: HashMap<&str, u32> = corpus
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), i as u32))
            .collect();
        // The paragraph starting at each line; `None` where several do (the paragraphs of one
        // JSON Lines record, which all stand at the record's line).
        let mut by_line: HashMap<(u32, u64), Option<u32>> = HashMap::new();
        for (i, p) in corpus.paragraphs.iter().enumerate() {
            by_line
                .entry((p.source, p.line))
                .and_modify(|e| *e = None)
                .or_insert(Some(i as u32));
        }
        let mut gold = Gold::default();
        // A byte order mark, as Windows editors write one, is not part of the first line.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (n, line) in text.lines().enumerate() {
            let lineno = n as u64 + 1;
            let err = |reason: String| Error::Gold {
                path: PathBuf::from(name),
                line: lineno,
                reason,
            };
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() < 3 {
                return Err(err("expected `a <TAB> b <TAB> label`".into()));
            }
            let resolve = |field: &str| -> Result<u32> {
                let (source, num) = match field.rsplit_once(':') {
                    Some((file, num)) => {
                        // Relative to the gold file's directory first, as documented; then as
                        // the source was named on the command line.
                        let beside = sources.get(&canon(&dir.join(file))).copied();
                        let src = beside.or_else(|| names.get(file).copied()).ok_or_else(|| {
                            err(format!("`{file}` is not a source of the corpus"))
                        })?;
                        (src, num)
                    }
                    None => {
                        if corpus.sources.len() != 1 {
                            return Err(err(format!(
                                "bare line number `{field}` needs a corpus of exactly one file \
                                 (this one has {}); use `source:line`",
                                corpus.sources.len()
                            )));
                        }
                        (0, field)
                    }
                };
                let num: u64 = num
                    .trim()
                    .parse()
                    .map_err(|_| err(format!("`{field}` has no valid line number")))?;
                match by_line.get(&(source, num)) {
                    Some(Some(i)) => Ok(*i),
                    Some(None) => Err(err(format!(
                        "`{field}` names several paragraphs (a JSON Lines record's line); gold \
                         pairs of records need one paragraph a record"
                    ))),
                    None => Err(err(format!(
                        "`{field}` is not the first line of a paragraph"
                    ))),
                }
            };
            let a = resolve(fields[0].trim())?;
            let b = resolve(fields[1].trim())?;
            if a == b {
                return Err(err("a pair needs two different paragraphs".into()));
            }
            // Labels are compared case-insensitively (`Loose` is `loose`: a capital letter
            // silently made optional pairs required), and one is needed.
            let label = fields[2].trim().to_lowercase();
            if label.is_empty() {
                return Err(err(
                    "expected `a <TAB> b <TAB> label`: the label is empty".into()
                ));
            }
            let label = label.as_str();
            match gold.pairs.get(&(a.min(b), a.max(b))) {
                Some(was) if was != label => {
                    return Err(err(format!(
                        "the pair is already labelled `{was}`; one label a pair"
                    )))
                }
                _ => {}
            }
            gold.pairs.insert((a.min(b), a.max(b)), label.to_string());
        }
        Ok(gold)
    }
}

/// Counts for one gold label.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabelScore {
    /// Pairs with this label.
    pub total: usize,
    /// Of those, flagged.
    pub found: usize,
    /// Whether the label is optional.
    pub optional: bool,
}

impl LabelScore {
    /// `found / total` (1 when empty).
    pub fn recall(&self) -> f64 {
        ratio(self.found, self.total)
    }
}

/// Pair-level scores of a detection against gold.
#[derive(Clone, Debug, Default)]
pub struct Scores {
    /// Flagged pairs listed in gold with a required label.
    pub true_pairs: usize,
    /// Flagged pairs listed in gold with an optional label.
    pub optional_pairs: usize,
    /// Flagged pairs not in gold, with their similarity.
    pub false_pairs: Vec<(u32, u32, f64)>,
    /// Required gold pairs not flagged, with their label.
    pub missed: Vec<(u32, u32, String)>,
    /// Per label.
    pub labels: BTreeMap<String, LabelScore>,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

impl Scores {
    /// Flagged required pairs over all flagged pairs that are not optional.
    pub fn precision(&self) -> f64 {
        ratio(self.true_pairs, self.true_pairs + self.false_pairs.len())
    }

    /// Flagged required pairs over all required pairs.
    pub fn recall(&self) -> f64 {
        ratio(self.true_pairs, self.true_pairs + self.missed.len())
    }

    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

/// Scores the detection's pairs against gold; labels in `optional` are optional (compared
/// trimmed and case-insensitively).
pub fn score(gold: &Gold, detection: &Detection, optional: &[String]) -> Scores {
    // Gold labels are lowercase; so are these, trimmed (`--optional 'loose, boilerplate'`).
    let optional: Vec<String> = optional.iter().map(|o| o.trim().to_lowercase()).collect();
    let optional = optional.as_slice();
    let mut s = Scores::default();
    for label in gold.pairs.values() {
        let e = s.labels.entry(label.clone()).or_default();
        e.total += 1;
        e.optional = optional.contains(label);
    }
    let mut flagged = std::collections::HashSet::new();
    for q in &detection.pairs {
        flagged.insert((q.a, q.b));
        match gold.pairs.get(&(q.a, q.b)) {
            Some(label) => {
                if let Some(e) = s.labels.get_mut(label) {
                    e.found += 1;
                }
                if optional.contains(label) {
                    s.optional_pairs += 1;
                } else {
                    s.true_pairs += 1;
                }
            }
            None => s.false_pairs.push((q.a, q.b, q.similarity)),
        }
    }
    for (&(a, b), label) in &gold.pairs {
        if !optional.contains(label) && !flagged.contains(&(a, b)) {
            s.missed.push((a, b, label.clone()));
        }
    }
    s
}
