//! Stage 9: reports. Clusters, skipped input and counters in, bytes out.
//!
//! Two formats share one [`Report`]: [`Format::Text`] for people and [`Format::Jsonl`], a
//! stable contract for tools: one JSON object per line, `{"type": T, "data": {...}}` with `T`
//! one of `cluster`, `skipped` and `summary` (last). Fields are only ever added, never renamed
//! or removed; the README documents each. The same input and parameters give the same bytes,
//! except the summary's `seconds`.
//!
//! ```
//! use syndup::{input::Corpus, report::{Format, Report}, Detector, Params};
//! let params = Params::default();
//! let corpus = Corpus::from_texts(&[("a", "one two three four five six\none two three four five six\n")], &params);
//! let found = Detector::new(params.clone())?.detect(&corpus);
//! let mut out = Vec::new();
//! Report::new(&corpus, &found, &params, 0.0).write(Format::Jsonl, &mut out)?;
//! let first = String::from_utf8(out).unwrap();
//! assert!(first.starts_with(r#"{"type":"cluster","data":{"id":0,"members":[{"source":"a","line":1,"byte":0"#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Write;

use serde::Serialize;

use crate::detect::{Cluster, Detection, Measure, Stats};
use crate::input::{Corpus, Skipped};
use crate::params::Params;

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// For people: each cluster with `source:line` and a snippet, then a summary.
    #[default]
    Text,
    /// JSON Lines, the machine contract.
    Jsonl,
}

/// A report of one run, ready to be written.
pub struct Report<'a> {
    corpus: &'a Corpus,
    detection: &'a Detection,
    params: &'a Params,
    seconds: f64,
    summary_extra: serde_json::Map<String, serde_json::Value>,
}

/// A cluster member in the JSONL contract.
#[derive(Serialize, Clone, Debug)]
pub struct MemberOut<'a> {
    /// Source name.
    pub source: &'a str,
    /// 1-based line where the paragraph starts (JSON Lines: the record's line).
    pub line: u64,
    /// Byte offset of the paragraph in the source (JSON Lines: of the record's line in the
    /// decompressed input).
    pub byte: u64,
    /// Record id of structured input (null for plain text).
    pub doc: Option<&'a str>,
    /// Paragraph number inside a structured record (null for plain text).
    pub paragraph: Option<u32>,
    /// The paragraph's text.
    pub text: &'a str,
}

/// Paragraph `i` of the corpus as a member: for JSON Lines, `line` and `byte` are those of the
/// record's line and `doc`/`paragraph` name the record and the paragraph's index in it.
pub fn member(corpus: &Corpus, i: usize) -> MemberOut<'_> {
    let p = &corpus.paragraphs[i];
    let record = corpus.record_of_index(i);
    MemberOut {
        source: corpus.source_name(p),
        line: p.line,
        byte: record.map_or(p.start, |r| r.record.byte),
        doc: record.map(|r| r.record.doc.as_str()),
        paragraph: record.map(|r| r.paragraph),
        text: corpus.text(p),
    }
}

/// A verified pair in the JSONL contract.
#[derive(Serialize)]
pub struct PairOut {
    /// Index into `members`.
    pub a: usize,
    /// Index into `members`.
    pub b: usize,
    /// The deciding, exactly verified similarity.
    pub similarity: f64,
    /// What decided the pair: `identical`, `jaccard` or `sentence`.
    pub measure: Measure,
    /// Exact Jaccard similarity of the paragraphs' word shingles.
    pub jaccard: f64,
    /// Best sentence-pair score, if the sentence level matched.
    pub sentence: Option<f64>,
    /// Matched byte ranges `[start, end)` within each member's `text`.
    pub spans: SpansOut,
}

/// Matched byte ranges of a pair.
#[derive(Serialize)]
pub struct SpansOut {
    /// Range in member `a`'s text.
    pub a: [usize; 2],
    /// Range in member `b`'s text.
    pub b: [usize; 2],
}

/// Lowest and highest pair similarity of a cluster.
#[derive(Serialize)]
pub struct Range {
    /// Lowest.
    pub min: f64,
    /// Highest.
    pub max: f64,
}

/// A cluster in the JSONL contract.
#[derive(Serialize)]
pub struct ClusterOut<'a> {
    /// Cluster id (position in the output, from 0).
    pub id: usize,
    /// Members in corpus order.
    pub members: Vec<MemberOut<'a>>,
    /// Verified pairs.
    pub pairs: Vec<PairOut>,
    /// Similarity range of the pairs.
    pub similarity: Range,
}

/// The summary in the JSONL contract.
#[derive(Serialize)]
pub struct SummaryOut<'a> {
    /// Sources read.
    pub files: usize,
    /// Paragraphs read.
    pub paragraphs: usize,
    /// Clusters found.
    pub clusters: usize,
    /// Paragraphs that belong to a cluster.
    pub duplicate_paragraphs: usize,
    /// Skipped entries.
    pub skipped: usize,
    /// The parameters used.
    pub params: &'a Params,
    /// Wall-clock seconds (the one field that varies between identical runs).
    pub seconds: f64,
    /// Bytes read.
    pub bytes: u64,
    /// Verified pairs.
    pub pairs: usize,
    /// Candidate pairs proposed by LSH.
    pub candidates: usize,
    /// Paragraphs shorter than `min_words` (matched by identity only).
    pub short_paragraphs: usize,
    /// Distinct normalized paragraphs.
    pub distinct_paragraphs: usize,
    /// Sentences in sentence-level matching.
    pub sentences: usize,
}

impl<'a> SummaryOut<'a> {
    /// The summary of a detection's counters, its clusters and the corpus's skipped entries.
    pub fn new(
        stats: &Stats,
        clusters: usize,
        duplicate_paragraphs: usize,
        corpus: &Corpus,
        params: &'a Params,
        seconds: f64,
    ) -> SummaryOut<'a> {
        SummaryOut {
            files: stats.files,
            paragraphs: stats.paragraphs,
            clusters,
            duplicate_paragraphs,
            skipped: corpus.skipped.len(),
            params,
            seconds: (seconds * 1000.0).round() / 1000.0,
            bytes: stats.bytes,
            pairs: stats.pairs,
            candidates: stats.candidates,
            short_paragraphs: stats.short_paragraphs,
            distinct_paragraphs: stats.distinct_paragraphs,
            sentences: stats.sentences,
        }
    }
}

/// The summary with a command's own fields after the contract's.
#[derive(Serialize)]
struct SummaryWithExtra<'a, 'b> {
    #[serde(flatten)]
    summary: SummaryOut<'a>,
    #[serde(flatten)]
    extra: &'b serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    data: T,
}

/// Writes one line of the JSONL contract: `{"type":kind,"data":data}` and a newline.
pub fn write_line<W: Write, T: Serialize>(out: &mut W, kind: &str, data: T) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, &Envelope { kind, data })?;
    out.write_all(b"\n")
}

/// Rounds to 4 decimals, as every similarity in reports.
pub fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

impl<'a> Report<'a> {
    /// A report of `detection` over `corpus`.
    pub fn new(
        corpus: &'a Corpus,
        detection: &'a Detection,
        params: &'a Params,
        seconds: f64,
    ) -> Report<'a> {
        Report {
            corpus,
            detection,
            params,
            seconds,
            summary_extra: serde_json::Map::new(),
        }
    }

    /// Adds a field to the JSONL summary record, after the contract's fields (a command's own
    /// verdict, such as `check`'s `check` object). Contract fields are never replaced: a name
    /// the summary already has is ignored, so the contract holds whatever a caller adds.
    pub fn with_summary_field(mut self, name: &str, value: serde_json::Value) -> Report<'a> {
        let taken = serde_json::to_value(self.summary())
            .ok()
            .and_then(|v| v.get(name).map(|_| ()))
            .is_some();
        if !taken {
            self.summary_extra.insert(name.to_string(), value);
        }
        self
    }

    /// The clusters in contract form.
    pub fn clusters(&self) -> impl Iterator<Item = ClusterOut<'a>> + '_ {
        self.detection.clusters.iter().map(|c| self.cluster(c))
    }

    /// One cluster in contract form.
    fn cluster(&self, c: &Cluster) -> ClusterOut<'a> {
        let corpus = self.corpus;
        let members = c
            .members
            .iter()
            .map(|&m| member(corpus, m as usize))
            .collect();
        let pos = |x: u32| c.members.binary_search(&x).unwrap_or(0);
        let pairs: Vec<PairOut> = c
            .pairs
            .iter()
            .map(|&k| {
                let q = &self.detection.pairs[k];
                PairOut {
                    a: pos(q.a),
                    b: pos(q.b),
                    similarity: round4(q.similarity),
                    measure: q.measure,
                    jaccard: round4(q.jaccard),
                    sentence: q.sentence.map(round4),
                    spans: SpansOut {
                        a: [q.spans.0.start, q.spans.0.end],
                        b: [q.spans.1.start, q.spans.1.end],
                    },
                }
            })
            .collect();
        let min = pairs
            .iter()
            .map(|q| q.similarity)
            .fold(f64::INFINITY, f64::min);
        let max = pairs.iter().map(|q| q.similarity).fold(0.0, f64::max);
        ClusterOut {
            id: c.id,
            members,
            pairs,
            similarity: Range { min, max },
        }
    }

    /// The summary in contract form.
    pub fn summary(&self) -> SummaryOut<'a> {
        let clusters = &self.detection.clusters;
        SummaryOut::new(
            &self.detection.stats,
            clusters.len(),
            clusters.iter().map(|c| c.members.len()).sum(),
            self.corpus,
            self.params,
            self.seconds,
        )
    }

    /// Writes the report.
    pub fn write<W: Write>(&self, format: Format, out: W) -> std::io::Result<()> {
        match format {
            Format::Jsonl => self.write_jsonl(out),
            Format::Text => self.write_text(out),
        }
    }

    fn write_jsonl<W: Write>(&self, mut out: W) -> std::io::Result<()> {
        // Clusters are serialized in parallel (rayon, in the caller's pool), a block at a time,
        // and written in order.
        use rayon::prelude::*;
        for block in self.detection.clusters.chunks(1 << 12) {
            let bufs = block
                .par_chunks(256)
                .map(|cs| {
                    let mut buf = Vec::new();
                    for c in cs {
                        write_line(&mut buf, "cluster", self.cluster(c))?;
                    }
                    Ok(buf)
                })
                .collect::<std::io::Result<Vec<Vec<u8>>>>()?;
            for buf in bufs {
                out.write_all(&buf)?;
            }
        }
        for s in &self.corpus.skipped {
            write_line(&mut out, "skipped", s)?;
        }
        if self.summary_extra.is_empty() {
            write_line(&mut out, "summary", self.summary())?;
        } else {
            let summary = SummaryWithExtra {
                summary: self.summary(),
                extra: &self.summary_extra,
            };
            write_line(&mut out, "summary", summary)?;
        }
        out.flush()
    }

    fn write_text<W: Write>(&self, mut out: W) -> std::io::Result<()> {
        for c in self.clusters() {
            writeln!(
                out,
                "cluster {}: {} paragraphs, similarity {:.2}-{:.2}",
                c.id,
                c.members.len(),
                c.similarity.min,
                c.similarity.max
            )?;
            for (i, m) in c.members.iter().enumerate() {
                writeln!(
                    out,
                    "  [{i}] {}:{}  {}",
                    m.source,
                    m.line,
                    snippet(m.text, 100)
                )?;
            }
            for q in &c.pairs {
                let what = match q.measure {
                    Measure::Identical => "identical".to_string(),
                    Measure::Jaccard => "shingle jaccard".to_string(),
                    Measure::Sentence => {
                        let sa = &c.members[q.a].text[q.spans.a[0]..q.spans.a[1]];
                        let sb = &c.members[q.b].text[q.spans.b[0]..q.spans.b[1]];
                        format!(
                            "sentence: \"{}\" ~ \"{}\"",
                            snippet(sa, 60),
                            snippet(sb, 60)
                        )
                    }
                };
                writeln!(out, "      {}~{} {:.2} {}", q.a, q.b, q.similarity, what)?;
            }
            writeln!(out)?;
        }
        write_skipped_text(&mut out, &self.corpus.skipped)?;
        let s = self.summary();
        writeln!(
            out,
            "{} clusters, {} duplicate paragraphs of {} in {} files, {} pairs, {} skipped, {:.3} s",
            s.clusters,
            s.duplicate_paragraphs,
            s.paragraphs,
            s.files,
            s.pairs,
            s.skipped,
            s.seconds
        )?;
        out.flush()
    }
}

/// Writes skipped input for people, one `skipped: source:line (byte N): reason` line each.
pub fn write_skipped_text<W: Write>(mut out: W, skipped: &[Skipped]) -> std::io::Result<()> {
    for s in skipped {
        writeln!(
            out,
            "skipped: {}:{} (byte {}): {}",
            s.source, s.line, s.byte, s.reason
        )?;
    }
    Ok(())
}

/// The first `max` characters of a text, with `…` when cut.
fn snippet(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// The skipped entries of a corpus (re-exported for callers that only need them).
pub fn skipped(corpus: &Corpus) -> &[Skipped] {
    &corpus.skipped
}
