//! Stage 9: reports. Clusters, skipped input and counters in, bytes out.
//!
//! Three formats share one [`Report`]: [`Format::Text`] for people, [`Format::Jsonl`], a
//! stable contract for tools: one JSON object per line, `{"type": T, "data": {...}}` with `T`
//! one of `cluster`, `skipped` and `summary` (last), and [`Format::Tsv`], one verified pair a
//! line without texts ([`TSV_COLUMNS`]), for `cut`, `awk`, spreadsheets and databases. Fields
//! are only ever added, never renamed or removed; the README documents each. The same input
//! and parameters give the same bytes, except the summary's `seconds`.
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
    /// Tab-separated values: a header line ([`TSV_COLUMNS`]), then one verified pair a line,
    /// cluster by cluster in the order of the JSON Lines report, with where both paragraphs
    /// are but not their texts. Empty fields stand for JSON's nulls (and for an empty record
    /// id); in source names and record ids, a backslash, tab, newline or carriage return is
    /// written `\\`, `\t`, `\n` or `\r`, other ASCII control characters as `\xHH`. Fields are
    /// never quoted. Skipped input and the summary are not in it (the caller reports skipped
    /// input apart, as `syndup scan` does on standard error).
    Tsv,
}

/// The columns of [`Format::Tsv`], in order: the cluster's id; for each side (`a`, then `b`)
/// the paragraph's source, line, byte, record id and paragraph number in the record (as a
/// JSON Lines member); then the pair's similarity, measure, shingle Jaccard and sentence score
/// (as a JSON Lines pair) and the matched byte ranges of each side's text, as `start-end`.
///
/// ```
/// use syndup::{input::Corpus, report::{Format, Report, TSV_COLUMNS}, Detector, Params};
/// let params = Params::default();
/// let corpus = Corpus::from_texts(&[("a", "one two three four five six\none two three four five six\n")], &params);
/// let found = Detector::new(params.clone())?.detect(&corpus);
/// let mut out = Vec::new();
/// Report::new(&corpus, &found, &params, 0.0).write(Format::Tsv, &mut out)?;
/// let out = String::from_utf8(out)?;
/// let lines: Vec<&str> = out.lines().collect();
/// assert_eq!(lines[0], TSV_COLUMNS.join("\t"));
/// assert_eq!(lines[1], "0\ta\t1\t0\t\t\ta\t2\t28\t\t\t1.0\tidentical\t1.0\t\t0-27\t0-27");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const TSV_COLUMNS: [&str; 17] = [
    "cluster",
    "source_a",
    "line_a",
    "byte_a",
    "doc_a",
    "paragraph_a",
    "source_b",
    "line_b",
    "byte_b",
    "doc_b",
    "paragraph_b",
    "similarity",
    "measure",
    "jaccard",
    "sentence",
    "span_a",
    "span_b",
];

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
    let Place {
        source,
        line,
        byte,
        doc,
        paragraph,
    } = place(corpus, i);
    MemberOut {
        source,
        line,
        byte,
        doc,
        paragraph,
        text: corpus.text(&corpus.paragraphs[i]),
    }
}

/// Where a [`member`] stands, without its text.
pub(crate) struct Place<'a> {
    pub source: &'a str,
    pub line: u64,
    pub byte: u64,
    pub doc: Option<&'a str>,
    pub paragraph: Option<u32>,
}

/// [`member`] without the text, for outputs that only name the paragraph: the text is not
/// touched, which a paragraph far from the last one read costs a cache miss (the TSV report
/// spent 4.5 % of a `--preset near` scan at 500 MB on them, perf).
pub(crate) fn place(corpus: &Corpus, i: usize) -> Place<'_> {
    let p = &corpus.paragraphs[i];
    let record = corpus.record_of_index(i);
    Place {
        source: corpus.source_name(p),
        line: p.line,
        byte: record.map_or(p.start, |r| r.record.byte),
        doc: record.map(|r| r.record.doc.as_str()),
        paragraph: record.map(|r| r.paragraph),
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

/// Lowest and highest of a cluster's (rounded) pair similarities.
fn similarity_range(similarities: impl Iterator<Item = f64> + Clone) -> Range {
    Range {
        min: similarities.clone().fold(f64::INFINITY, f64::min),
        max: similarities.fold(0.0, f64::max),
    }
}

/// Appends a value as serde_json writes it.
fn push_json<T: Serialize>(buf: &mut Vec<u8>, x: &T) -> std::io::Result<()> {
    serde_json::to_writer(&mut *buf, x).map_err(std::io::Error::from)
}

/// Appends `s` as a JSON string, byte for byte as serde_json writes it. serde_json escapes
/// only `"`, `\` and control characters, so a string with none of them is copied between
/// quotes as it is; that is decided by a scan without early exit, which the compiler
/// vectorizes, where serde_json looks each byte up in a table. Other strings go through
/// serde_json.
fn push_str(buf: &mut Vec<u8>, s: &str) -> std::io::Result<()> {
    let bytes = s.as_bytes();
    let plain = bytes.iter().fold(0u8, |acc, &b| {
        acc | u8::from(b < 0x20 || b == b'"' || b == b'\\')
    }) == 0;
    if plain {
        buf.reserve(bytes.len() + 2);
        buf.push(b'"');
        buf.extend_from_slice(bytes);
        buf.push(b'"');
        Ok(())
    } else {
        push_json(buf, &s)
    }
}

/// Asks the CPU to load the paragraphs of the clusters to be written next: members are
/// scattered over the whole input, so each member's table entry and text was a cache miss
/// (`Corpus::text`, where the first byte is read, was 2.5 % of the samples of a
/// `--preset near` scan of 500 MB, nearly all of it waiting for memory). Entries are asked for
/// 16 members ahead of the end of the cluster being written, texts 8 ahead (their entries are
/// then in cache).
struct Prefetcher<'a> {
    corpus: &'a Corpus,
    /// The members of the clusters of one chunk, in writing order.
    members: Vec<u32>,
    /// Where the cluster being written ends in `members`, and how far entries and texts were
    /// asked for.
    end: usize,
    entries: usize,
    texts: usize,
}

impl<'a> Prefetcher<'a> {
    fn new(corpus: &'a Corpus, clusters: &[Cluster]) -> Prefetcher<'a> {
        let members = clusters.iter().flat_map(|c| c.members.iter().copied());
        Prefetcher {
            corpus,
            members: members.collect(),
            end: 0,
            entries: 0,
            texts: 0,
        }
    }

    /// Moves on to the next cluster, of `len` members.
    fn next_cluster(&mut self, len: usize) {
        use crate::detect::prefetch;
        let paragraphs = &self.corpus.paragraphs;
        self.end += len;
        let n = self.members.len();
        for &m in &self.members[self.entries..(self.end + 16).min(n)] {
            prefetch(paragraphs, m as usize);
        }
        self.entries = self.entries.max((self.end + 16).min(n));
        for &m in &self.members[self.texts..(self.end + 8).min(n)] {
            if let Some(p) = paragraphs.get(m as usize) {
                if let Some(source) = self.corpus.sources.get(p.source as usize) {
                    prefetch(source.bytes(), p.start as usize);
                }
            }
        }
        self.texts = self.texts.max((self.end + 8).min(n));
    }
}

/// Appends `s` as a TSV field: a backslash, tab, newline or carriage return escaped as `\\`,
/// `\t`, `\n` or `\r`, any other ASCII control character (NUL included) and DEL as `\xHH`
/// (two hex digits, as PostgreSQL's `COPY` reads them); anything else as it is.
fn push_tsv_str(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(crate::input::escape_controls(s, true).as_bytes());
}

/// Appends a pair as serde_json writes it, field by field: serde_json's struct serializer
/// escapes each of the ten names and the measure through its byte table, which was 1.4 % of a
/// `--preset near` scan of the 500 MB peer corpus (1.4 million pairs). Numbers still go through
/// serde_json, so they are written as it writes them.
fn push_pair(buf: &mut Vec<u8>, p: &PairOut) -> std::io::Result<()> {
    buf.extend_from_slice(br#"{"a":"#);
    push_json(buf, &p.a)?;
    buf.extend_from_slice(br#","b":"#);
    push_json(buf, &p.b)?;
    buf.extend_from_slice(br#","similarity":"#);
    push_score(buf, p.similarity)?;
    buf.extend_from_slice(match p.measure {
        Measure::Identical => &br#","measure":"identical","jaccard":"#[..],
        Measure::Jaccard => br#","measure":"jaccard","jaccard":"#,
        Measure::Sentence => br#","measure":"sentence","jaccard":"#,
    });
    push_score(buf, p.jaccard)?;
    buf.extend_from_slice(br#","sentence":"#);
    match p.sentence {
        Some(x) => push_score(buf, x)?,
        None => buf.extend_from_slice(b"null"),
    }
    let ([a0, a1], [b0, b1]) = (p.spans.a, p.spans.b);
    buf.extend_from_slice(br#","spans":{"a":["#);
    push_json(buf, &a0)?;
    buf.push(b',');
    push_json(buf, &a1)?;
    buf.extend_from_slice(br#"],"b":["#);
    push_json(buf, &b0)?;
    buf.push(b',');
    push_json(buf, &b1)?;
    buf.extend_from_slice(b"]}}");
    Ok(())
}

/// Appends a similarity as serde_json writes it: `1.0`, the score of every identical pair (most
/// pairs of syndicated news), without formatting a float.
fn push_score(buf: &mut Vec<u8>, x: f64) -> std::io::Result<()> {
    if x == 1.0 {
        buf.extend_from_slice(b"1.0");
        Ok(())
    } else {
        push_json(buf, &x)
    }
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
        let pairs: Vec<PairOut> = c.pairs.iter().map(|&k| self.pair(c, k)).collect();
        ClusterOut {
            id: c.id,
            members,
            similarity: similarity_range(pairs.iter().map(|q| q.similarity)),
            pairs,
        }
    }

    /// Pair `k` of the detection, in cluster `c`, in contract form.
    fn pair(&self, c: &Cluster, k: usize) -> PairOut {
        let q = &self.detection.pairs[k];
        let pos = |x: u32| c.members.binary_search(&x).unwrap_or(0);
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
    }

    /// Appends the JSONL line of cluster `c`: the bytes [`write_line`] gives for
    /// `self.cluster(c)`, written field by field without building the cluster's lists, and
    /// with texts that need no escape (nearly all) copied as they are (see [`push_str`]). A
    /// field added to [`ClusterOut`] or [`MemberOut`] is added here too: the test
    /// `cluster_lines_are_what_serde_json_writes` fails until it is.
    fn push_cluster_line(&self, buf: &mut Vec<u8>, c: &Cluster) -> std::io::Result<()> {
        buf.extend_from_slice(br#"{"type":"cluster","data":{"id":"#);
        push_json(buf, &c.id)?;
        buf.extend_from_slice(br#","members":["#);
        for (i, &m) in c.members.iter().enumerate() {
            let o = member(self.corpus, m as usize);
            buf.extend_from_slice(if i == 0 {
                br#"{"source":"#
            } else {
                br#",{"source":"#
            });
            push_str(buf, o.source)?;
            buf.extend_from_slice(br#","line":"#);
            push_json(buf, &o.line)?;
            buf.extend_from_slice(br#","byte":"#);
            push_json(buf, &o.byte)?;
            buf.extend_from_slice(br#","doc":"#);
            match o.doc {
                Some(d) => push_str(buf, d)?,
                None => buf.extend_from_slice(b"null"),
            }
            buf.extend_from_slice(br#","paragraph":"#);
            push_json(buf, &o.paragraph)?;
            buf.extend_from_slice(br#","text":"#);
            push_str(buf, o.text)?;
            buf.push(b'}');
        }
        buf.extend_from_slice(br#"],"pairs":["#);
        for (i, &k) in c.pairs.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            push_pair(buf, &self.pair(c, k))?;
        }
        buf.extend_from_slice(br#"],"similarity":"#);
        let range = similarity_range(
            c.pairs
                .iter()
                .map(|&k| round4(self.detection.pairs[k].similarity)),
        );
        push_json(buf, &range)?;
        buf.extend_from_slice(b"}}\n");
        Ok(())
    }

    /// Appends the TSV lines of cluster `c` ([`Format::Tsv`]): one a verified pair, with the
    /// values its JSON Lines line gives for the pair and its two members. `sources`: each
    /// source's name as [`push_tsv_str`] writes it, escaped once rather than on every row.
    fn push_tsv_lines(
        &self,
        buf: &mut Vec<u8>,
        c: &Cluster,
        sources: &[Vec<u8>],
    ) -> std::io::Result<()> {
        // The JSON Lines member's fields, from the same `place`, without its text.
        let side = |buf: &mut Vec<u8>, m: usize| -> std::io::Result<()> {
            let i = c.members[m] as usize;
            let o = place(self.corpus, i);
            buf.extend_from_slice(&sources[self.corpus.paragraphs[i].source as usize]);
            buf.push(b'\t');
            push_json(buf, &o.line)?;
            buf.push(b'\t');
            push_json(buf, &o.byte)?;
            buf.push(b'\t');
            if let Some(doc) = o.doc {
                push_tsv_str(buf, doc);
            }
            buf.push(b'\t');
            if let Some(k) = o.paragraph {
                push_json(buf, &k)?;
            }
            buf.push(b'\t');
            Ok(())
        };
        for &k in &c.pairs {
            let q = self.pair(c, k);
            push_json(buf, &c.id)?;
            buf.push(b'\t');
            side(buf, q.a)?;
            side(buf, q.b)?;
            push_score(buf, q.similarity)?;
            buf.extend_from_slice(match q.measure {
                Measure::Identical => &b"\tidentical\t"[..],
                Measure::Jaccard => b"\tjaccard\t",
                Measure::Sentence => b"\tsentence\t",
            });
            push_score(buf, q.jaccard)?;
            buf.push(b'\t');
            if let Some(x) = q.sentence {
                push_score(buf, x)?;
            }
            for [start, end] in [q.spans.a, q.spans.b] {
                buf.push(b'\t');
                push_json(buf, &start)?;
                buf.push(b'-');
                push_json(buf, &end)?;
            }
            buf.push(b'\n');
        }
        Ok(())
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
            Format::Tsv => self.write_tsv(out),
        }
    }

    fn write_jsonl<W: Write>(&self, mut out: W) -> std::io::Result<()> {
        self.write_clusters(&mut out, true, Self::push_cluster_line)?;
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

    fn write_tsv<W: Write>(&self, mut out: W) -> std::io::Result<()> {
        out.write_all(TSV_COLUMNS.join("\t").as_bytes())?;
        out.write_all(b"\n")?;
        let sources: Vec<Vec<u8>> = self
            .corpus
            .sources
            .iter()
            .map(|source| {
                let mut name = Vec::new();
                push_tsv_str(&mut name, &source.name);
                name
            })
            .collect();
        self.write_clusters(&mut out, false, |r, buf, c| {
            r.push_tsv_lines(buf, c, &sources)
        })?;
        out.flush()
    }

    /// Writes every cluster as `push` appends it. Clusters are serialized in parallel (rayon,
    /// in the caller's pool), a block at a time, and written in order; a block is written
    /// while the next one is serialized. `texts`: whether `push` reads the members' texts
    /// (they are then asked for ahead, see [`Prefetcher`]).
    fn write_clusters<W, F>(&self, mut out: W, texts: bool, push: F) -> std::io::Result<()>
    where
        W: Write,
        F: Fn(&Self, &mut Vec<u8>, &Cluster) -> std::io::Result<()> + Sync,
    {
        use rayon::prelude::*;
        let serialize = |block: &[Cluster]| {
            block
                .par_chunks(256)
                .map(|cs| {
                    let mut buf = Vec::new();
                    let mut ahead = texts.then(|| Prefetcher::new(self.corpus, cs));
                    for c in cs {
                        if let Some(ahead) = &mut ahead {
                            ahead.next_cluster(c.members.len());
                        }
                        push(self, &mut buf, c)?;
                    }
                    Ok(buf)
                })
                .collect::<std::io::Result<Vec<Vec<u8>>>>()
        };
        let write = |out: &mut W, bufs: Vec<Vec<u8>>| -> std::io::Result<()> {
            for buf in bufs {
                out.write_all(&buf)?;
            }
            Ok(())
        };
        let mut pending: Vec<Vec<u8>> = Vec::new();
        for block in self.detection.clusters.chunks(1 << 12) {
            // The writer stays on this thread (it need not be `Send`); the next block is
            // serialized by the pool meanwhile.
            let mut next = None;
            let written = rayon::in_place_scope(|scope| {
                scope.spawn(|_| next = Some(serialize(block)));
                write(&mut out, std::mem::take(&mut pending))
            });
            written?;
            pending = next.unwrap_or_else(|| Ok(Vec::new()))?;
        }
        write(&mut out, pending)
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
                        // Spans are of each member's own text; a span that did not fit
                        // would show the whole text rather than stop the report.
                        let part =
                            |text: &'a str, s: [usize; 2]| text.get(s[0]..s[1]).unwrap_or(text);
                        let sa = part(c.members[q.a].text, q.spans.a);
                        let sb = part(c.members[q.b].text, q.spans.b);
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

/// Writes skipped input for people, one `skipped: source:line (byte N): reason` line each
/// (see [`Skipped`]'s `Display`).
pub fn write_skipped_text<W: Write>(mut out: W, skipped: &[Skipped]) -> std::io::Result<()> {
    for s in skipped {
        writeln!(out, "skipped: {s}")?;
    }
    Ok(())
}

/// The first `max` characters of a text, with `…` when cut.
/// The first `max` characters of `text` for a one-line display, with `…` when cut, and every
/// control character (the newlines of a `--split blank` paragraph, a carriage return that made
/// a terminal overwrite the line, tabs) shown as a space.
///
/// ```
/// assert_eq!(syndup::report::snippet("one\ntwo\r\tthree", 9), "one two  …");
/// assert_eq!(syndup::report::snippet("short", 9), "short");
/// ```
pub fn snippet(text: &str, max: usize) -> String {
    let cut = match text.char_indices().nth(max) {
        Some((i, _)) => &text[..i],
        None => text,
    };
    let mut out: String = cut
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if cut.len() < text.len() {
        out.push('…');
    }
    out
}

/// The skipped entries of a corpus (re-exported for callers that only need them).
pub fn skipped(corpus: &Corpus) -> &[Skipped] {
    &corpus.skipped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{InputFormat, InputOptions};
    use crate::Detector;

    proptest::proptest! {
        /// `push_str` writes what serde_json writes for any string, quotes, backslashes and
        /// control characters mixed with plain and non-ASCII text.
        #[test]
        fn push_str_is_serde_json(s in "(\\PC|[\"\\\\\u{0}-\u{1f}]){0,40}") {
            let mut ours = Vec::new();
            push_str(&mut ours, &s).unwrap();
            proptest::prop_assert_eq!(ours, serde_json::to_vec(&s).unwrap());
        }
    }

    /// The hand-written cluster lines are the bytes serde_json writes for the same clusters:
    /// texts with and without characters to escape (quotes, backslashes, tabs, other control
    /// characters, non-ASCII), plain text and JSON Lines (record ids, paragraph numbers), and
    /// pairs of every measure (the bundled corpus).
    #[test]
    fn cluster_lines_are_what_serde_json_writes() {
        let params = Params::default();
        let lines = [
            "The mayor said \"we will rebuild\" after the flood hit the old town on Sunday night.",
            "Prices rose by 3\\4 of a point in early trading, the exchange said on Monday morning.",
            "The index fell\tsharply in the afternoon, traders said, after the bank raised its rates.",
            "Control \u{1} characters \u{1f} stay escaped in the report of this paragraph here.",
            "Die Regierung hat am Montag neue Maßnahmen gegen die Überschwemmung angekündigt. 😀",
            "A plain paragraph with nothing to escape, repeated so that it forms a cluster too.",
        ];
        let text: String = lines
            .iter()
            .chain(&lines)
            .map(|l| format!("{l}\n"))
            .collect();
        let jsonl: String = lines
            .iter()
            .chain(&lines)
            .enumerate()
            .map(|(i, l)| {
                format!(
                    "{}\n",
                    serde_json::json!({"id": format!("doc \"{i}\"\\"), "text": format!("{l}\n\n{l}")})
                )
            })
            .collect();
        let plain = Corpus::from_texts(&[("plain \"name\".txt", &text)], &params);
        let options = InputOptions {
            format: InputFormat::Jsonl,
            ..InputOptions::default()
        };
        let records = Corpus::from_bytes(&[("feed.jsonl", jsonl.as_bytes())], &options, &params);
        // The bundled corpus gives pairs of every measure, with and without a sentence score.
        let bundled = Corpus::open(&[concat!(env!("CARGO_MANIFEST_DIR"), "/corpus")], &params);
        let found = Detector::new(params.clone()).unwrap().detect(&bundled);
        for measure in [Measure::Identical, Measure::Jaccard, Measure::Sentence] {
            assert!(
                found.pairs.iter().any(|q| q.measure == measure),
                "{measure:?}"
            );
        }
        assert!(found.pairs.iter().any(|q| q.sentence.is_none()));
        assert!(found.pairs.iter().any(|q| q.sentence.is_some()));
        for corpus in [&plain, &records, &bundled] {
            let found = Detector::new(params.clone()).unwrap().detect(corpus);
            assert!(found.clusters.len() >= 6, "{}", found.clusters.len());
            let report = Report::new(corpus, &found, &params, 0.0);
            for c in &found.clusters {
                let (mut ours, mut theirs) = (Vec::new(), Vec::new());
                report.push_cluster_line(&mut ours, c).unwrap();
                write_line(&mut theirs, "cluster", report.cluster(c)).unwrap();
                assert_eq!(
                    String::from_utf8_lossy(&ours),
                    String::from_utf8_lossy(&theirs)
                );
            }
        }
    }
}
