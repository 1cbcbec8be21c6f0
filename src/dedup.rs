//! Batch dedup: a [`Detection`] over a [`Corpus`] in, a clean copy of the input and an account
//! of every decision out.
//!
//! [`Plan::new`] decides, [`Plan::write_output`] writes the copy (a second pass over the
//! inputs), [`Plan::write_report`] writes the account in the JSON Lines contract of
//! [`crate::report`] with three more record types: `removed` (or `annotated`), `dropped` and
//! `dedup` (the record accounting).
//!
//! The decision, document by document (a document is a JSON Lines record or a plain-text
//! file), in order of the `--order-field` value, then input order:
//!
//! * the first paragraph of a cluster met in a written document is the cluster's *kept* copy
//!   (its original);
//! * a later member of the cluster is a duplicate only when it is **verified similar to a kept
//!   copy**: a pair in [`Detection::pairs`] with the first kept copy or with another one (a
//!   member kept because it was similar to no kept copy before it; the first 64 of those are
//!   looked at), or, failing that (the detector may join a cluster through a chain of pairs),
//!   identical normalized text or an exact shingle Jaccard reaching [`Params::threshold`] with
//!   the first. A member similar only to a removed member stays, and is kept;
//! * a document whose share of duplicate paragraphs is above `drop_record_above` is dropped
//!   whole, and none of its paragraphs becomes a kept copy (so every removed paragraph has its
//!   original in a written document).
//!
//! ```
//! use syndup::dedup::{DedupOptions, Plan};
//! use syndup::input::{Corpus, InputOptions};
//! use syndup::{Detector, Params};
//! let feed = concat!(
//!     r#"{"id":"wire","text":"Heavy rain flooded the old town of Kellbach overnight, forcing two thousand residents out.\nThe mayor opened shelters."}"#, "\n",
//!     r#"{"id":"copy","text":"Heavy rain flooded the old town of Kellbach overnight, forcing two thousand residents out.\nLocal weather follows."}"#, "\n",
//! );
//! let params = Params::default();
//! let corpus = Corpus::from_bytes(&[("feed.jsonl", feed.as_bytes())], &InputOptions::default(), &params);
//! let found = Detector::new(params.clone())?.detect(&corpus);
//! let plan = Plan::new(&corpus, &found, &params, &DedupOptions::default());
//! let mut out = Vec::new();
//! let tally = plan.write_output(&corpus, &params, &InputOptions::default(), &mut out, &|_| {})?;
//! assert_eq!(String::from_utf8(out).unwrap(), concat!(
//!     r#"{"id":"wire","text":"Heavy rain flooded the old town of Kellbach overnight, forcing two thousand residents out.\nThe mayor opened shelters."}"#, "\n",
//!     r#"{"id":"copy","text":"Local weather follows."}"#, "\n",
//! ));
//! assert_eq!((tally.records_in, tally.records_written, tally.paragraphs_removed), (2, 2, 1));
//! # Ok::<(), syndup::Error>(())
//! ```

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::detect::{Detection, Measure};
use crate::error::{Error, Result};
use crate::input::decompress::Compression;
use crate::input::jsonl::Fields;
use crate::input::{Corpus, InputFormat, InputOptions, Progress};
use crate::lean::Matches;
use crate::normalize::Words;
use crate::params::Params;
use crate::params::SplitMode;
use crate::report::{self, round4, MemberOut, Report, SummaryOut};
use crate::segment::{self, Span};
use crate::shingle::Shingler;
use crate::verify;

/// What to do with duplicate paragraphs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Take them out of the text field (plain text: out of the file).
    #[default]
    Remove,
    /// Leave the text as it is and list them in a new field, [`ANNOTATION_FIELD`].
    Annotate,
}

/// The field `--mode annotate` adds to records that have duplicate paragraphs.
pub const ANNOTATION_FIELD: &str = "syndup_duplicates";

/// The byte order mark before the first record (kept in place, not parsed) and the rest of
/// line `line_no`.
fn split_bom(line: &str, line_no: u64) -> (&'static str, &str) {
    match line.strip_prefix('\u{feff}') {
        Some(rest) if line_no == 1 => ("\u{feff}", rest),
        _ => ("", line),
    }
}

/// `line` (a JSON object record) with `notes` (JSON) as the value of its top-level
/// [`ANNOTATION_FIELD`]: in place of the value it has (a file annotated before is annotated
/// again, not given the field twice), else, when `add`, as a new last field. `None` when the
/// line has no such field and `add` is false, or the field is to be added and the line does
/// not end with `}`.
///
/// ```
/// use syndup::dedup::with_annotation;
/// let once = with_annotation(r#"{"text":"a"}"#, "[1]", true).unwrap();
/// assert_eq!(once, r#"{"text":"a","syndup_duplicates":[1]}"#);
/// let twice = with_annotation(&once, "[2]", true).unwrap();
/// assert_eq!(twice, r#"{"text":"a","syndup_duplicates":[2]}"#);
/// assert_eq!(with_annotation(&once, "[]", false).unwrap(), r#"{"text":"a","syndup_duplicates":[]}"#);
/// assert_eq!(with_annotation(r#"{"text":"a"}"#, "[]", false), None);
/// assert_eq!(with_annotation("{ }", "[]", true).unwrap(), r#"{ "syndup_duplicates":[]}"#);
/// ```
pub fn with_annotation(line: &str, notes: &str, add: bool) -> Option<String> {
    if memchr::memmem::find(line.as_bytes(), ANNOTATION_FIELD.as_bytes()).is_some() {
        let field = crate::input::jsonl::FieldPath::new(ANNOTATION_FIELD);
        if let Ok(found) = crate::input::jsonl::find_fields(line, &[&field]) {
            if let Some(raw) = found.first().copied().flatten() {
                let start = raw.get().as_ptr() as usize - line.as_ptr() as usize;
                let end = start + raw.get().len();
                return Some(format!("{}{notes}{}", &line[..start], &line[end..]));
            }
        }
    }
    if !add {
        return None;
    }
    let trimmed = line.trim_end();
    let close = trimmed.strip_suffix('}')?;
    // An empty object takes the field without a comma before it.
    let comma = if close.trim_end().ends_with('{') {
        ""
    } else {
        ","
    };
    Some(format!(
        "{close}{comma}\"{ANNOTATION_FIELD}\":{notes}}}{}",
        &line[trimmed.len()..]
    ))
}

/// How to dedup.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct DedupOptions {
    /// Remove or annotate duplicate paragraphs.
    pub mode: Mode,
    /// Drop a whole document when the share of its paragraphs that are duplicates is above this
    /// (0 to 1); `None` never drops. A document with a paragraph skipped when read is never
    /// dropped.
    pub drop_record_above: Option<f64>,
}

/// A document: the unit that is written, dropped or skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Doc {
    /// A JSON Lines record (index into [`Corpus::records`]).
    Record(u32),
    /// A plain-text source (index into [`Corpus::sources`]).
    Text(u32),
}

/// How many of a cluster's kept copies besides its first a later member is checked against
/// (by verified pair): a chain of distinct paragraphs (rolling updates of one story) could
/// keep thousands, and checking each against all of them would be quadratic.
const MAX_OTHER_KEPT: usize = 64;

/// A duplicate paragraph and the kept copy it was verified against.
#[derive(Clone, Debug, PartialEq)]
pub struct Removal {
    /// The duplicate (index into [`Corpus::paragraphs`]).
    pub paragraph: u32,
    /// The kept copy.
    pub kept: u32,
    /// The verified similarity of the two.
    pub similarity: f64,
    /// What verified it.
    pub measure: Measure,
}

/// A document dropped for its share of duplicates.
#[derive(Clone, Debug, PartialEq)]
pub struct Dropped {
    /// The document.
    pub doc: Doc,
    /// Its paragraphs.
    pub paragraphs: u32,
    /// Its paragraphs that duplicate a kept copy.
    pub duplicates: u32,
    /// Its paragraphs that are not duplicates (lost with the document; listed in the report).
    pub unique: Vec<u32>,
}

/// The decisions of one dedup run.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Duplicate paragraphs of written documents, sorted by paragraph.
    pub removals: Vec<Removal>,
    /// Dropped documents, in input order.
    pub dropped: Vec<Dropped>,
    /// The options decided with.
    pub options: DedupOptions,
    dropped_records: Vec<bool>,
    dropped_sources: Vec<bool>,
}

/// The record accounting of a written copy: `records_in = records_written + records_dropped +
/// records_skipped`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Documents read: JSON Lines records (non-blank lines), plus plain-text files.
    pub records_in: u64,
    /// Documents written.
    pub records_written: u64,
    /// Documents dropped for their share of duplicates (each listed in the report).
    pub records_dropped: u64,
    /// Documents skipped as unusable (each listed in the report).
    pub records_skipped: u64,
    /// Duplicate paragraphs removed (or annotated) in written documents.
    pub paragraphs_removed: u64,
    /// Bytes written (before compression).
    pub bytes_out: u64,
}

impl Tally {
    /// Whether every document read is written, dropped or skipped.
    pub fn is_balanced(&self) -> bool {
        self.records_in == self.records_written + self.records_dropped + self.records_skipped
    }
}

/// What a [`Plan`] is decided from: a full [`Detection`], or the compact [`Matches`] of
/// [`crate::Detector::detect_lean`] (the same decisions either way).
pub trait Evidence {
    /// The cluster of each of `n` paragraphs (`u32::MAX`: none), numbered from 0 in order of
    /// first member, and the number of clusters.
    fn clusters_of(&self, n: usize) -> (Vec<u32>, usize);
    /// The verified pair of paragraphs `a` and `b` (either order): similarity and measure.
    fn verified(&self, a: u32, b: u32) -> Option<(f64, Measure)>;
    /// The scan summary of the detection.
    fn summary<'a>(
        &'a self,
        corpus: &'a Corpus,
        params: &'a Params,
        seconds: f64,
    ) -> SummaryOut<'a>;
}

impl Evidence for Detection {
    fn clusters_of(&self, n: usize) -> (Vec<u32>, usize) {
        let mut cluster_of = vec![u32::MAX; n];
        for (c, cl) in self.clusters.iter().enumerate() {
            for &m in &cl.members {
                if let Some(slot) = cluster_of.get_mut(m as usize) {
                    *slot = c as u32;
                }
            }
        }
        (cluster_of, self.clusters.len())
    }

    fn verified(&self, a: u32, b: u32) -> Option<(f64, Measure)> {
        self.pair(a, b)
    }

    fn summary<'a>(
        &'a self,
        corpus: &'a Corpus,
        params: &'a Params,
        seconds: f64,
    ) -> SummaryOut<'a> {
        Report::new(corpus, self, params, seconds).summary()
    }
}

impl Evidence for Matches {
    fn clusters_of(&self, n: usize) -> (Vec<u32>, usize) {
        let cluster_of = (0..n as u32)
            .map(|p| self.cluster_of(p).unwrap_or(u32::MAX))
            .collect();
        (cluster_of, self.clusters())
    }

    fn verified(&self, a: u32, b: u32) -> Option<(f64, Measure)> {
        self.pair(a, b)
    }

    fn summary<'a>(
        &'a self,
        corpus: &'a Corpus,
        params: &'a Params,
        seconds: f64,
    ) -> SummaryOut<'a> {
        SummaryOut::new(
            self.stats(),
            self.clusters(),
            self.duplicate_paragraphs(),
            corpus,
            params,
            seconds,
        )
    }
}

/// Checks kept-copy similarity for members without a detected pair.
struct Verifier<'a> {
    corpus: &'a Corpus,
    params: &'a Params,
    shingler: Shingler,
    words: Words,
    /// Shingle sets folded to 32 bits, as the detector verifies them.
    a: Vec<u32>,
    b: Vec<u32>,
}

impl Verifier<'_> {
    fn similar(&mut self, kept: u32, p: u32) -> Option<(f64, Measure)> {
        let text = |i: u32| self.corpus.text(&self.corpus.paragraphs[i as usize]);
        let (ta, tb) = (text(kept), text(p));
        self.words.normalize(ta);
        let na = self.words.len();
        let exact_a = self.words.text().to_string();
        self.a.clear();
        self.shingler.hash_folded_into(&self.words, &mut self.a);
        self.words.normalize(tb);
        let nb = self.words.len();
        if na > 0 && exact_a == self.words.text() {
            return Some((1.0, Measure::Identical));
        }
        if na < self.params.min_words || nb < self.params.min_words {
            return None;
        }
        self.b.clear();
        self.shingler.hash_folded_into(&self.words, &mut self.b);
        for v in [&mut self.a, &mut self.b] {
            v.sort_unstable();
            v.dedup();
        }
        let j = verify::jaccard(&self.a, &self.b);
        (j >= self.params.threshold).then_some((j, Measure::Jaccard))
    }
}

impl Plan {
    /// Decides which paragraphs are duplicates of which kept copy and which documents are
    /// dropped. Deterministic: it depends on the corpus, the detection and the options only.
    pub fn new<E: Evidence + ?Sized>(
        corpus: &Corpus,
        detection: &E,
        params: &Params,
        options: &DedupOptions,
    ) -> Plan {
        let n = corpus.paragraphs.len();
        let (cluster_of, n_clusters) = detection.clusters_of(n);
        // Documents in decision order: by order key (missing last), then input order.
        let mut docs: Vec<(Doc, std::ops::Range<u32>)> = Vec::new();
        let mut next_record = 0usize;
        for (s, source) in corpus.sources.iter().enumerate() {
            match source.format {
                InputFormat::Jsonl => {
                    for r in source.records.clone() {
                        let rec = &corpus.records[r as usize];
                        docs.push((Doc::Record(r), rec.paragraphs.clone()));
                    }
                    next_record = next_record.max(source.records.end as usize);
                }
                _ => {
                    let first = corpus.paragraphs.partition_point(|p| p.source < s as u32);
                    let end = corpus.paragraphs.partition_point(|p| p.source <= s as u32);
                    docs.push((Doc::Text(s as u32), first as u32..end as u32));
                }
            }
        }
        let order_of = |d: &Doc| match d {
            Doc::Record(r) => corpus.records[*r as usize].order.as_ref(),
            Doc::Text(_) => None,
        };
        // A stable sort keeps input order among equal keys.
        docs.sort_by(|(x, _), (y, _)| match (order_of(x), order_of(y)) {
            (Some(a), Some(b)) => a.cmp_total(b),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });

        let mut verifier = Verifier {
            corpus,
            params,
            shingler: Shingler::new(params.shingle_words, params.seed),
            words: Words::default(),
            a: Vec::new(),
            b: Vec::new(),
        };
        // Each cluster's kept copies: its first paragraph met in a written document, then the
        // members written because they were not similar to any kept copy before them (empty
        // vectors allocate nothing: most clusters keep one copy).
        let mut kept: Vec<Option<u32>> = vec![None; n_clusters];
        let mut also_kept: Vec<Vec<u32>> = vec![Vec::new(); n_clusters];
        let mut plan = Plan {
            options: *options,
            dropped_records: vec![false; corpus.records.len()],
            dropped_sources: vec![false; corpus.sources.len()],
            ..Plan::default()
        };
        // Documents with a paragraph skipped when read (too long, not UTF-8): that paragraph
        // could not be compared, so its share of duplicates is unknown and the document is
        // never dropped (dropping it lost the skipped paragraph, which was written otherwise).
        let with_skipped: std::collections::HashSet<(&str, u64)> = corpus
            .skipped
            .iter()
            .filter(|k| k.line > 0)
            .map(|k| (k.source.as_str(), k.line))
            .collect();
        let sources_with_skipped: std::collections::HashSet<&str> =
            with_skipped.iter().map(|&(name, _)| name).collect();
        let has_skipped = |doc: Doc| match doc {
            Doc::Record(r) => {
                let rec = &corpus.records[r as usize];
                let name = corpus.sources[rec.source as usize].name.as_str();
                with_skipped.contains(&(name, rec.line))
            }
            Doc::Text(s) => sources_with_skipped.contains(corpus.sources[s as usize].name.as_str()),
        };
        let mut tentative: Vec<Removal> = Vec::new();
        // The clusters whose kept copies this document added to (true: the first one).
        let mut claimed: Vec<(u32, bool)> = Vec::new();
        for (doc, range) in docs {
            tentative.clear();
            claimed.clear();
            for p in range.clone() {
                let c = cluster_of[p as usize];
                if c == u32::MAX {
                    continue;
                }
                let Some(first) = kept[c as usize] else {
                    kept[c as usize] = Some(p);
                    claimed.push((c, true));
                    continue;
                };
                // A verified pair with the first kept copy or with one of the others (the
                // first `MAX_OTHER_KEPT`), else the exact check against the first.
                let others = &also_kept[c as usize];
                let verdict = std::iter::once(first)
                    .chain(others.iter().take(MAX_OTHER_KEPT).copied())
                    .find_map(|k| detection.verified(k, p).map(|v| (k, v)))
                    .or_else(|| verifier.similar(first, p).map(|v| (first, v)));
                match verdict {
                    Some((k, (similarity, measure))) => tentative.push(Removal {
                        paragraph: p,
                        kept: k,
                        similarity,
                        measure,
                    }),
                    None => {
                        also_kept[c as usize].push(p);
                        claimed.push((c, false));
                    }
                }
            }
            let total = range.len() as u32;
            let dups = tentative.len() as u32;
            let drop = total > 0
                && options.drop_record_above.is_some()
                && !has_skipped(doc)
                && options
                    .drop_record_above
                    .is_some_and(|r| f64::from(dups) / f64::from(total) > r);
            if drop {
                // Latest first: a cluster's copies from this document are its last ones.
                for &(c, first) in claimed.iter().rev() {
                    if first {
                        kept[c as usize] = None;
                    } else {
                        also_kept[c as usize].pop();
                    }
                }
                let dup_set: Vec<u32> = tentative.iter().map(|r| r.paragraph).collect();
                plan.dropped.push(Dropped {
                    doc,
                    paragraphs: total,
                    duplicates: dups,
                    unique: range.filter(|p| !dup_set.contains(p)).collect(),
                });
                match doc {
                    Doc::Record(r) => plan.dropped_records[r as usize] = true,
                    Doc::Text(s) => plan.dropped_sources[s as usize] = true,
                }
            } else {
                plan.removals.append(&mut tentative);
            }
        }
        plan.removals.sort_by_key(|r| r.paragraph);
        plan.dropped.sort_by_key(|d| match d.doc {
            Doc::Record(r) => (corpus.records[r as usize].source, r),
            Doc::Text(s) => (s, 0),
        });
        plan
    }

    /// Whether a document is dropped.
    pub fn is_dropped(&self, doc: Doc) -> bool {
        match doc {
            Doc::Record(r) => self.dropped_records.get(r as usize).copied(),
            Doc::Text(s) => self.dropped_sources.get(s as usize).copied(),
        }
        .unwrap_or(false)
    }

    /// The removals among paragraphs `range` (a document's paragraphs).
    fn removals_in(&self, range: std::ops::Range<u32>) -> &[Removal] {
        let a = self.removals.partition_point(|r| r.paragraph < range.start);
        let b = self.removals.partition_point(|r| r.paragraph < range.end);
        &self.removals[a..b]
    }

    /// Writes the deduplicated copy of every input, in input order, to `out`: JSON Lines records
    /// line by line (a record without removals byte for byte as it was; otherwise only the text
    /// field, or the new annotation field, differs), or plain text without its duplicate
    /// paragraphs. JSON Lines inputs are read a second time ([`crate::input::Source::reopen`]);
    /// `progress` is called with the documents done so far.
    pub fn write_output(
        &self,
        corpus: &Corpus,
        params: &Params,
        options: &InputOptions,
        out: &mut dyn Write,
        progress: Progress<'_>,
    ) -> Result<Tally> {
        let formats: Vec<InputFormat> = corpus.sources.iter().map(|s| s.format).collect();
        if let (Some(first), Some(other)) =
            (formats.first(), formats.iter().find(|f| *f != &formats[0]))
        {
            return Err(Error::Unsupported {
                reason: format!(
                    "cannot write {:?} and {:?} inputs to one output; dedup them separately \
                     (or use --input-format)",
                    first, other
                ),
            });
        }
        let mut out = Counter {
            inner: out,
            bytes: 0,
            tail: [0; 3],
            saw_newline: false,
            saw_return: false,
        };
        // A file that could not be read at all (no source: missing, unreadable, a directory
        // loop, a compressed stream broken before its first byte) is one record in, skipped,
        // as a binary file is.
        let names: std::collections::HashSet<&str> =
            corpus.sources.iter().map(|s| s.name.as_str()).collect();
        let unread = corpus
            .skipped
            .iter()
            .map(|k| k.source.as_str())
            .filter(|name| !names.contains(name))
            .collect::<std::collections::HashSet<&str>>()
            .len() as u64;
        let whole = skipped_whole(corpus);
        let mut tally = Tally {
            records_in: corpus.records_read() + unread,
            records_skipped: corpus.records_skipped() + unread,
            ..Tally::default()
        };
        let mut done = 0u64;
        for (s, source) in corpus.sources.iter().enumerate() {
            if source.format == InputFormat::Jsonl {
                let step = |k: u64| progress(done + k);
                let how = How {
                    corpus,
                    params,
                    options,
                    progress: &step,
                };
                self.write_jsonl(&how, s as u32, &mut out, &mut tally)?;
                done += u64::from(source.records.end - source.records.start);
                progress(done);
                continue;
            }
            tally.records_in += 1;
            if whole.contains(source.name.as_str()) {
                tally.records_skipped += 1;
                continue;
            }
            if self.is_dropped(Doc::Text(s as u32)) {
                tally.records_dropped += 1;
                continue;
            }
            let first = corpus.paragraphs.partition_point(|p| p.source < s as u32) as u32;
            let end = corpus.paragraphs.partition_point(|p| p.source <= s as u32) as u32;
            let removals = self.removals_in(first..end);
            tally.records_written += 1;
            let bytes = source.bytes();
            let kept = if removals.is_empty() || self.options.mode == Mode::Annotate {
                std::borrow::Cow::Borrowed(bytes)
            } else {
                tally.paragraphs_removed += removals.len() as u64;
                let cut_spans: Vec<u32> = removals
                    .iter()
                    .filter_map(|r| corpus.span_index(r.paragraph as usize))
                    .collect();
                let spans = segment::paragraphs_ending(bytes, params.split, source.line_end());
                std::borrow::Cow::Owned(cut(bytes, &spans, &cut_spans))
            };
            out.write_text(&kept, params.split).map_err(Error::Write)?;
            if self.options.mode == Mode::Annotate {
                tally.paragraphs_removed += removals.len() as u64;
            }
            done += 1;
            progress(done);
        }
        out.flush().map_err(Error::Write)?;
        tally.bytes_out = out.bytes;
        Ok(tally)
    }

    fn write_jsonl(
        &self,
        how: &How<'_>,
        s: u32,
        out: &mut Counter<'_>,
        tally: &mut Tally,
    ) -> Result<()> {
        let How {
            corpus,
            params,
            options,
            progress,
        } = *how;
        let source = &corpus.sources[s as usize];
        let path = || PathBuf::from(&source.name);
        let mut reader = source.reopen().map_err(|e| Error::Read {
            path: path(),
            source: e,
        })?;
        let records = &corpus.records[source.records.start as usize..source.records.end as usize];
        let mut next = 0usize;
        let mut line_buf = Vec::new();
        let mut line_no = 0u64;
        loop {
            line_buf.clear();
            match reader.read_until(b'\n', &mut line_buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // The first pass met the same failure and listed it as skipped.
                Err(_) => break,
            }
            line_no += 1;
            let Some(record) = records.get(next) else {
                continue;
            };
            if record.line != line_no {
                continue;
            }
            let r = source.records.start + next as u32;
            next += 1;
            if next.is_multiple_of(4096) {
                progress(next as u64);
            }
            if self.is_dropped(Doc::Record(r)) {
                tally.records_dropped += 1;
                continue;
            }
            tally.records_written += 1;
            let body = line_body(&line_buf);
            let removals = self.removals_in(record.paragraphs.clone());
            if removals.is_empty() {
                // A record annotated by an earlier run has its annotation emptied rather than
                // left to claim duplicates that this run did not find.
                if self.options.mode == Mode::Annotate {
                    let annotated = std::str::from_utf8(body).ok().and_then(|line| {
                        let (bom, line) = split_bom(line, line_no);
                        with_annotation(line, "[]", false).map(|l| format!("{bom}{l}"))
                    });
                    if let Some(new_line) = annotated {
                        out.write_all(new_line.as_bytes()).map_err(Error::Write)?;
                        out.write_all(b"\n").map_err(Error::Write)?;
                        continue;
                    }
                }
                out.write_all(body).map_err(Error::Write)?;
                out.write_all(b"\n").map_err(Error::Write)?;
                continue;
            }
            tally.paragraphs_removed += removals.len() as u64;
            let changed = |reason: String| Error::InputChanged {
                path: path(),
                line: line_no,
                reason,
            };
            let line = std::str::from_utf8(body).map_err(|e| changed(e.to_string()))?;
            // As in the first pass, a byte order mark before the first record is kept
            // in place but not parsed.
            let (bom, line) = split_bom(line, line_no);
            let new_line = match self.options.mode {
                Mode::Remove => {
                    let fields = Fields::parse_after(
                        line,
                        bom.len(),
                        &options.text_field,
                        &options.id_field,
                        options.order_field.as_ref(),
                    )
                    .map_err(changed)?;
                    let text = fields.text.as_bytes();
                    let spans = segment::paragraphs(text, params.split);
                    let cut_spans: Vec<u32> = removals
                        .iter()
                        .filter_map(|r| corpus.span_index(r.paragraph as usize))
                        .collect();
                    let new_text =
                        String::from_utf8_lossy(&cut(text, &spans, &cut_spans)).into_owned();
                    let encoded =
                        serde_json::to_string(&new_text).map_err(|e| changed(e.to_string()))?;
                    let range = fields.text_range;
                    format!(
                        "{bom}{}{}{}",
                        &line[..range.start],
                        encoded,
                        &line[range.end..]
                    )
                }
                Mode::Annotate => {
                    let notes: Vec<Annotation<'_>> = removals
                        .iter()
                        .map(|rm| Annotation {
                            paragraph: corpus.span_index(rm.paragraph as usize).unwrap_or(0),
                            duplicate_of: Origin::of(corpus, rm.kept),
                            similarity: round4(rm.similarity),
                        })
                        .collect();
                    let notes =
                        serde_json::to_string(&notes).map_err(|e| changed(e.to_string()))?;
                    let new_line = with_annotation(line, &notes, true)
                        .ok_or_else(|| changed("the record no longer ends with `}`".into()))?;
                    format!("{bom}{new_line}")
                }
            };
            out.write_all(new_line.as_bytes()).map_err(Error::Write)?;
            out.write_all(b"\n").map_err(Error::Write)?;
        }
        if next != records.len() {
            return Err(Error::InputChanged {
                path: path(),
                line: line_no,
                reason: format!(
                    "{} records were read the first time, {} the second",
                    records.len(),
                    next
                ),
            });
        }
        Ok(())
    }

    /// Writes the account of this dedup in the JSON Lines contract: one `removed` record per
    /// duplicate paragraph (`annotated` in [`Mode::Annotate`]), one `dropped` per dropped
    /// document, the `skipped` entries, one `dedup` record with the [`Tally`], then the scan
    /// `summary` last.
    pub fn write_report<W: Write, E: Evidence + ?Sized>(
        &self,
        corpus: &Corpus,
        detection: &E,
        params: &Params,
        tally: &Tally,
        seconds: f64,
        mut out: W,
    ) -> std::io::Result<()> {
        let kind = match self.options.mode {
            Mode::Remove => "removed",
            Mode::Annotate => "annotated",
        };
        for rm in &self.removals {
            let r = RemovedOut {
                member: report::member(corpus, rm.paragraph as usize),
                duplicate_of: Origin::of(corpus, rm.kept),
                similarity: round4(rm.similarity),
                measure: rm.measure,
            };
            report::write_line(&mut out, kind, &r)?;
        }
        for d in &self.dropped {
            let (source, line, byte, doc) = match d.doc {
                Doc::Record(r) => {
                    let rec = &corpus.records[r as usize];
                    let name = corpus.sources[rec.source as usize].name.as_str();
                    (name, rec.line, rec.byte, Some(rec.doc.as_str()))
                }
                Doc::Text(s) => (corpus.sources[s as usize].name.as_str(), 0, 0, None),
            };
            let unique = d
                .unique
                .iter()
                .map(|&p| UniqueOut {
                    paragraph: corpus.span_index(p as usize).unwrap_or(0),
                    text: corpus.text(&corpus.paragraphs[p as usize]),
                })
                .collect();
            let out_d = DroppedOut {
                source,
                line,
                byte,
                doc,
                paragraphs: d.paragraphs,
                duplicate_paragraphs: d.duplicates,
                share: round4(f64::from(d.duplicates) / f64::from(d.paragraphs.max(1))),
                unique,
            };
            report::write_line(&mut out, "dropped", &out_d)?;
        }
        for s in &corpus.skipped {
            report::write_line(&mut out, "skipped", s)?;
        }
        let dedup = DedupOut {
            tally,
            mode: self.options.mode,
            drop_record_above: self.options.drop_record_above,
        };
        report::write_line(&mut out, "dedup", &dedup)?;
        let summary = detection.summary(corpus, params, seconds);
        report::write_line(&mut out, "summary", &summary)?;
        out.flush()
    }
}

/// The names of the plain-text sources skipped as a whole: a binary file, or one with no
/// paragraph (listed as `empty`, line 0). Each counts as skipped, not as written. Found in one
/// pass over the skipped entries (a pass for each source was quadratic in the files).
fn skipped_whole(corpus: &Corpus) -> std::collections::HashSet<&str> {
    corpus
        .skipped
        .iter()
        .filter(|k| k.line == 0 || k.reason.starts_with("binary file"))
        .map(|k| k.source.as_str())
        .collect()
}

/// A line without its `\n` (a `\r` before it is kept: the record's bytes are not touched).
fn line_body(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}

/// `text` without the paragraphs at `cut_spans` (indexes into `spans`, the paragraphs of
/// `text`). A paragraph goes with the rest of its line and the blank lines after it; when the
/// last paragraphs go, the text ends after the last kept paragraph with the original ending
/// (a plain-text file keeps its final newline, a text field its lack of one).
///
/// ```
/// use syndup::dedup::cut;
/// use syndup::params::SplitMode;
/// use syndup::segment::paragraphs;
/// let text = b"one\n\ntwo\n\nthree";
/// let spans = paragraphs(text, SplitMode::Line);
/// assert_eq!(cut(text, &spans, &[1]), b"one\n\nthree");
/// assert_eq!(cut(text, &spans, &[2]), b"one\n\ntwo");
/// assert_eq!(cut(text, &spans, &[0, 1, 2]), b"");
/// ```
pub fn cut(text: &[u8], spans: &[Span], cut_spans: &[u32]) -> Vec<u8> {
    let body_start = if text.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let eol = segment::line_end(text);
    let line_start = |at: usize| {
        memchr::memrchr(eol, &text[..at])
            .map_or(0, |i| i + 1)
            .max(body_start)
            .min(at)
    };
    let Some(last) = spans.last() else {
        return text.to_vec();
    };
    let mut keep = vec![true; spans.len()];
    for &i in cut_spans {
        if let Some(k) = keep.get_mut(i as usize) {
            *k = false;
        }
    }
    let Some(last_kept) = keep.iter().rposition(|&k| k) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(text.len());
    out.extend_from_slice(&text[..line_start(spans[0].start)]);
    for (i, span) in spans.iter().enumerate() {
        if !keep[i] {
            continue;
        }
        let from = line_start(span.start);
        if i == last_kept {
            out.extend_from_slice(&text[from..span.end]);
            out.extend_from_slice(&text[last.end..]);
            break;
        }
        let to = spans.get(i + 1).map_or(text.len(), |n| line_start(n.start));
        out.extend_from_slice(&text[from..to.max(from)]);
    }
    out
}

/// What the second pass over one JSON Lines source needs.
struct How<'a> {
    corpus: &'a Corpus,
    params: &'a Params,
    options: &'a InputOptions,
    progress: Progress<'a>,
}

/// Counts what goes through a writer.
struct Counter<'a> {
    inner: &'a mut dyn Write,
    bytes: u64,
    /// The last three bytes written (zeros before them).
    tail: [u8; 3],
    /// Whether a `\n` went through.
    saw_newline: bool,
    /// Whether a `\r` went through.
    saw_return: bool,
}

impl Counter<'_> {
    /// Writes one plain-text file's kept text after the files before it, so that their
    /// paragraphs stay apart: a newline first when the output so far does not end a line (a
    /// blank line with `--split blank` when it does not end with one), and without the file's
    /// byte order mark, which only the output's first file keeps.
    fn write_text(&mut self, text: &[u8], split: SplitMode) -> std::io::Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        if self.bytes > 0 {
            let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
            // Texts whose lines end in `\r` alone (see `segment::line_end`) are joined by `\r`
            // as long as neither the output nor the text has a `\n`, which would make the
            // output a file of `\n` lines: decided on the bytes written, so that a text with
            // no line end at all (or one whose `\n` lines were all cut) joins `\r` lines by `\r`.
            let cr = !self.saw_newline
                && memchr::memchr(b'\n', text).is_none()
                && (self.saw_return || memchr::memchr(b'\r', text).is_some());
            let (eol, one, two): (u8, &[u8], &[u8]) = if cr {
                (b'\r', b"\r", b"\r\r")
            } else {
                (b'\n', b"\n", b"\n\n")
            };
            let t = self.tail;
            let ends_line = t[2] == eol;
            let ends_blank = ends_line && (t[1] == eol || (!cr && t == *b"\n\r\n"));
            let sep: &[u8] = match (split, ends_line, ends_blank) {
                (SplitMode::Line, false, _) => one,
                (SplitMode::Blank, false, _) => two,
                (SplitMode::Blank, true, false) => one,
                _ => b"",
            };
            self.write_all(sep)?;
            return self.write_all(text);
        }
        self.write_all(text)
    }
}

impl Write for Counter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        let new = &buf[..n];
        // Looked for only until the first `\n`: after it, texts are joined by `\n` anyway.
        if !self.saw_newline {
            self.saw_newline = memchr::memchr(b'\n', new).is_some();
            self.saw_return |= memchr::memchr(b'\r', new).is_some();
        }
        if new.len() >= 3 {
            self.tail.copy_from_slice(&new[new.len() - 3..]);
        } else {
            self.tail.rotate_left(new.len());
            self.tail[3 - new.len()..].copy_from_slice(new);
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The kept copy a duplicate points to.
#[derive(Serialize)]
struct Origin<'a> {
    doc: Option<&'a str>,
    paragraph: Option<u32>,
    source: &'a str,
    line: u64,
    byte: u64,
}

impl<'a> Origin<'a> {
    fn of(corpus: &'a Corpus, p: u32) -> Origin<'a> {
        let m = report::place(corpus, p as usize);
        Origin {
            doc: m.doc,
            paragraph: m.paragraph.or_else(|| corpus.span_index(p as usize)),
            source: m.source,
            line: m.line,
            byte: m.byte,
        }
    }
}

#[derive(Serialize)]
struct Annotation<'a> {
    paragraph: u32,
    duplicate_of: Origin<'a>,
    similarity: f64,
}

#[derive(Serialize)]
struct RemovedOut<'a> {
    #[serde(flatten)]
    member: MemberOut<'a>,
    duplicate_of: Origin<'a>,
    similarity: f64,
    measure: Measure,
}

#[derive(Serialize)]
struct UniqueOut<'a> {
    paragraph: u32,
    text: &'a str,
}

#[derive(Serialize)]
struct DroppedOut<'a> {
    source: &'a str,
    line: u64,
    byte: u64,
    doc: Option<&'a str>,
    paragraphs: u32,
    duplicate_paragraphs: u32,
    share: f64,
    unique: Vec<UniqueOut<'a>>,
}

#[derive(Serialize)]
struct DedupOut<'a> {
    #[serde(flatten)]
    tally: &'a Tally,
    mode: Mode,
    drop_record_above: Option<f64>,
}

/// An output file written to a temporary file beside it and renamed into place by
/// [`OutputFile::finish`], so that a failed or interrupted run never leaves a partial file under
/// the output's name. Compressed by the name's ending (`.gz`: gzip, `.zst`: zstd).
pub struct OutputFile {
    path: PathBuf,
    /// The temporary file renamed into place; `None` when the output is written directly
    /// (a device, a FIFO: see [`replace_target`]).
    temp: Option<tempfile::TempPath>,
    writer: Encoder,
}

/// Where a file written by replacing it (a temporary file renamed over it) must go: `path`
/// with its symbolic links followed, so that a link keeps pointing at the new file (a rename
/// over the link replaced the link, and its target kept the old contents), with whether that
/// is a regular file or nothing yet (`true`) or something a rename must not replace: a
/// device such as `/dev/null`, a FIFO, a socket or a directory (`false`; a rename over
/// `/dev/null` run as root replaced the device with a regular file).
pub(crate) fn replace_target(path: &Path) -> std::io::Result<(PathBuf, bool)> {
    let mut at = path.to_path_buf();
    // As many links as Linux follows (ELOOP beyond).
    for _ in 0..40 {
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&at)?;
                at = match at.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            Ok(m) => return Ok((at, m.file_type().is_file())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((at, true)),
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        "too many levels of symbolic links",
    ))
}

/// A new temporary file (`.NAME.XXXXXX` + `suffix`, created exclusively) in the directory of
/// `target`, to be renamed over it, with `target`'s permissions (0644 when it does not exist
/// yet; a temporary file is otherwise private, 0600).
pub(crate) fn temp_beside(target: &Path, suffix: &str) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(suffix)
        .tempfile_in(&dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(target).map_or(0o644, |m| m.permissions().mode() & 0o777);
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    Ok(temp)
}

enum Encoder {
    Plain(std::io::BufWriter<std::fs::File>),
    Gzip(flate2::write::GzEncoder<std::io::BufWriter<std::fs::File>>),
    Zstd(zstd::stream::write::Encoder<'static, std::io::BufWriter<std::fs::File>>),
}

impl OutputFile {
    /// Creates the temporary file beside `path` (beside the file a symbolic link points to),
    /// after checking that `path` is none of `inputs` (compared as canonical paths). A path
    /// that is not a regular file (`/dev/null`, a FIFO) is written directly, as a stream.
    pub fn create<P: AsRef<Path>>(path: &Path, inputs: &[P]) -> Result<OutputFile> {
        refuse_overwrite(path, inputs)?;
        let write_err = |source| Error::WriteTo {
            path: path.to_path_buf(),
            source,
        };
        // The compression is the name's as given, whatever a link points to.
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (target, regular) = replace_target(path).map_err(write_err)?;
        let (file, temp) = if regular {
            let (file, temp) = temp_beside(&target, ".partial")
                .map_err(write_err)?
                .into_parts();
            (file, Some(temp))
        } else {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(&target)
                .map_err(write_err)?;
            (file, None)
        };
        let buf = std::io::BufWriter::with_capacity(1 << 20, file);
        let writer = match Compression::from_name(&name) {
            Compression::None => Encoder::Plain(buf),
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                buf,
                flate2::Compression::default(),
            )),
            Compression::Zstd => {
                Encoder::Zstd(zstd::stream::write::Encoder::new(buf, 3).map_err(write_err)?)
            }
        };
        Ok(OutputFile {
            path: target,
            temp,
            writer,
        })
    }

    /// The writer (bytes written here are compressed as the name asks).
    pub fn writer(&mut self) -> &mut dyn Write {
        match &mut self.writer {
            Encoder::Plain(w) => w,
            Encoder::Gzip(w) => w,
            Encoder::Zstd(w) => w,
        }
    }

    /// Finishes the compression, syncs the file and renames it to the output's name.
    pub fn finish(self) -> Result<()> {
        let write_err = |source| Error::WriteTo {
            path: self.path.clone(),
            source,
        };
        let buf = match self.writer {
            Encoder::Plain(w) => w,
            Encoder::Gzip(w) => w.finish().map_err(write_err)?,
            Encoder::Zstd(w) => w.finish().map_err(write_err)?,
        };
        let file = buf.into_inner().map_err(|e| write_err(e.into_error()))?;
        let Some(temp) = self.temp else {
            // A device or a FIFO: written through, nothing to sync or rename.
            return Ok(());
        };
        file.sync_all().map_err(write_err)?;
        temp.persist(&self.path).map_err(|e| write_err(e.error))?;
        Ok(())
    }
}

/// Fails with [`Error::WouldOverwrite`] when `output` exists and is one of `inputs`.
pub fn refuse_overwrite<P: AsRef<Path>>(output: &Path, inputs: &[P]) -> Result<()> {
    let Ok(out) = output.canonicalize() else {
        return Ok(());
    };
    for input in inputs {
        if input.as_ref().canonicalize().is_ok_and(|i| i == out) {
            return Err(Error::WouldOverwrite {
                path: output.to_path_buf(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::SplitMode;

    #[test]
    fn cut_table() {
        type Case = (&'static [u8], SplitMode, &'static [u32], &'static [u8]);
        let cases: &[Case] = &[
            (b"a\nb\nc\n", SplitMode::Line, &[1], b"a\nc\n"),
            (b"a\nb\nc\n", SplitMode::Line, &[2], b"a\nb\n"),
            (b"a\nb\nc\n", SplitMode::Line, &[0], b"b\nc\n"),
            (b"a\r\nb\r\nc\r\n", SplitMode::Line, &[1], b"a\r\nc\r\n"),
            (b"a\n\n\nb\n\nc", SplitMode::Line, &[0], b"b\n\nc"),
            (b"x y\nz\n\nw\n", SplitMode::Blank, &[0], b"w\n"),
            (b"x y\nz\n\nw\n", SplitMode::Blank, &[1], b"x y\nz\n"),
            (
                b"\xEF\xBB\xBFa\nb\n",
                SplitMode::Line,
                &[0],
                b"\xEF\xBB\xBFb\n",
            ),
            (b"  a\n  b\n", SplitMode::Line, &[0], b"  b\n"),
            (b"a\nb", SplitMode::Line, &[], b"a\nb"),
            (b"", SplitMode::Line, &[0], b""),
        ];
        for (text, mode, cuts, want) in cases {
            let spans = segment::paragraphs(text, *mode);
            assert_eq!(
                String::from_utf8_lossy(&cut(text, &spans, cuts)),
                String::from_utf8_lossy(want),
                "{:?} cut {cuts:?}",
                String::from_utf8_lossy(text)
            );
        }
    }
}
