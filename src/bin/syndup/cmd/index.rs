//! `syndup index`: build, extend, query and inspect a persistent paragraph index
//! ([`syndup::Index`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde::Serialize;
use syndup::index::{BucketSizes, Entry, Index, IndexStats, MatchKind, Origin};
use syndup::input::Corpus;
use syndup::params::SplitMode;
use syndup::report::member;
use syndup::Params;

use crate::cli::{InputArgs, ParamArgs, RunArgs, Split};
use crate::cmd::scan::FormatArg;
use crate::exit::Exit;

/// Arguments of `syndup index`.
#[derive(Args, Debug)]
pub struct IndexArgs {
    /// What to do with the index.
    #[command(subcommand)]
    pub command: IndexCommand,
}

/// `syndup index` subcommands.
#[derive(Subcommand, Debug)]
pub enum IndexCommand {
    /// Create INDEX (replacing any file there) from every paragraph of PATH...
    Build(Box<BuildArgs>),
    /// Add every paragraph of PATH... to the existing INDEX (with the parameters stored in it).
    Add(AddArgs),
    /// For each paragraph of PATH..., the indexed paragraphs it matches (INDEX is not changed).
    Query(QueryArgs),
    /// Counters, sizes, bucket sizes and parameters of INDEX.
    Stats(StatsArgs),
}

/// Arguments of `syndup index build`.
#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The index file to write.
    pub index: PathBuf,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub params: ParamArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Keep at most this many paragraphs (at least 1), evicting the oldest (stored in the
    /// index).
    #[arg(long, value_parser = crate::cli::parse_positive)]
    pub capacity: Option<usize>,
}

/// Arguments of `syndup index add`.
#[derive(Args, Debug)]
pub struct AddArgs {
    /// The index file to extend (written back atomically).
    pub index: PathBuf,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Change the index's capacity (at least 1; oldest paragraphs are evicted beyond it).
    #[arg(long, value_parser = crate::cli::parse_positive)]
    pub capacity: Option<usize>,
}

/// Arguments of `syndup index query`.
#[derive(Args, Debug)]
pub struct QueryArgs {
    /// The index file to query.
    pub index: PathBuf,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
}

/// Arguments of `syndup index stats`.
#[derive(Args, Debug)]
pub struct StatsArgs {
    /// The index file.
    pub index: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
}

/// Runs an `index` subcommand.
pub fn run(args: IndexArgs) -> anyhow::Result<Exit> {
    match args.command {
        IndexCommand::Build(a) => build(*a),
        IndexCommand::Add(a) => add(a),
        IndexCommand::Query(a) => query(a),
        IndexCommand::Stats(a) => stats(a),
    }
}

/// `params` with the input flags of this call (how its files are split and bounded).
fn input_params(params: &Params, input: &InputArgs) -> Params {
    let mut p = params.clone();
    let overrides = syndup::check::config::DetectConfig {
        split: input.split.map(|s| match s {
            Split::Line => SplitMode::Line,
            Split::Blank => SplitMode::Blank,
        }),
        max_paragraph_bytes: input.max_paragraph_bytes,
        ..Default::default()
    };
    overrides.apply(&mut p);
    // The index takes no paragraph over its own limit: a longer one must be reported as
    // skipped when the input is read, not dropped by the index unsaid (as it was when the
    // flag raised the limit).
    p.max_paragraph_bytes = p.max_paragraph_bytes.min(params.max_paragraph_bytes);
    p
}

/// Reads the input with its flags (format, fields), reporting skipped entries on standard
/// error; stops at the first one with `--on-error fail`.
fn read_input(
    input: &InputArgs,
    params: &Params,
    pool: &rayon::ThreadPool,
) -> anyhow::Result<Corpus> {
    let corpus = crate::progress::read_corpus(pool, input, params);
    input.report_skipped(&corpus)?;
    Ok(corpus)
}

fn outcome(corpus: &Corpus) -> Exit {
    if corpus.skipped.is_empty() {
        Exit::Clean
    } else {
        Exit::Error
    }
}

/// Inserts every paragraph of the corpus (signed in parallel, stored in corpus order) and saves.
fn fill_and_save(
    index: &Index,
    corpus: &Corpus,
    pool: &rayon::ThreadPool,
    path: &Path,
) -> anyhow::Result<usize> {
    // Placed as reports place them: a JSON Lines paragraph at its record's line.
    let items: Vec<(Origin, &str)> = (0..corpus.paragraphs.len())
        .map(|i| {
            let m = member(corpus, i);
            (Origin::new(m.source).at(m.line, m.byte), m.text)
        })
        .collect();
    let stored = pool.install(|| index.insert_many(&items));
    index
        .save(path)
        .with_context(|| format!("saving the index to {}", path.display()))?;
    Ok(stored.iter().filter(|s| s.is_some()).count())
}

fn print_filled(verb: &str, stored: usize, corpus: &Corpus, index: &Index, path: &Path) {
    let s = index.stats();
    println!(
        "{verb} {stored} paragraphs of {} files into {}: {} entries, {} evicted, {:.0} bytes per entry in memory",
        corpus.sources.len(),
        path.display(),
        s.entries,
        s.evicted,
        s.bytes_per_entry
    );
}

fn build(args: BuildArgs) -> anyhow::Result<Exit> {
    let params = args.params.to_params(&args.input);
    let index = Index::new(params.clone())?;
    if args.capacity.is_some() {
        index.set_capacity(args.capacity);
    }
    // INDEX is never one of the inputs (`index build a.txt b.txt` without the index's name
    // made a.txt the index and replaced it) nor another kind of file: the paths as given and
    // the file's first bytes before reading, every file read after.
    syndup::dedup::refuse_overwrite(&args.index, &args.input.paths)?;
    crate::cli::refuse_replacing_other_files(
        &args.index,
        8,
        |head| head == b"SYNDUPIX",
        "syndup index",
    )?;
    let pool = args.run.pool()?;
    let corpus = read_input(&args.input, &params, &pool)?;
    syndup::dedup::refuse_overwrite(&args.index, &corpus.files)?;
    let stored = fill_and_save(&index, &corpus, &pool, &args.index)?;
    print_filled("indexed", stored, &corpus, &index, &args.index);
    Ok(outcome(&corpus))
}

fn add(args: AddArgs) -> anyhow::Result<Exit> {
    let index = Index::open(&args.index)?;
    if args.capacity.is_some() {
        index.set_capacity(args.capacity);
    }
    let params = input_params(index.params(), &args.input);
    let pool = args.run.pool()?;
    let corpus = read_input(&args.input, &params, &pool)?;
    let stored = fill_and_save(&index, &corpus, &pool, &args.index)?;
    print_filled("added", stored, &corpus, &index, &args.index);
    Ok(outcome(&corpus))
}

/// A cluster member in the JSONL contract, plus where an indexed member lives in the index.
#[derive(Serialize)]
struct MemberOut<'a> {
    source: &'a str,
    line: u64,
    byte: u64,
    doc: Option<&'a str>,
    paragraph: Option<u32>,
    /// The query paragraph's text; null for indexed paragraphs (the index stores no text).
    text: Option<&'a str>,
    /// Whether this member is in the index (the first member is the query paragraph).
    indexed: bool,
    /// The indexed paragraph's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<u64>,
}

#[derive(Serialize)]
struct PairOut {
    a: usize,
    b: usize,
    similarity: f64,
    measure: MatchKind,
}

#[derive(Serialize)]
struct RangeOut {
    min: f64,
    max: f64,
}

#[derive(Serialize)]
struct ClusterOut<'a> {
    id: usize,
    members: Vec<MemberOut<'a>>,
    pairs: Vec<PairOut>,
    similarity: RangeOut,
}

#[derive(Serialize)]
struct SummaryOut<'a> {
    files: usize,
    paragraphs: usize,
    clusters: usize,
    /// Query paragraphs with at least one match.
    matched_paragraphs: usize,
    /// Members of all clusters (query and indexed).
    duplicate_paragraphs: usize,
    skipped: usize,
    index: &'a str,
    index_entries: u64,
    params: &'a Params,
    seconds: f64,
}

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    data: T,
}

fn line<W: Write, T: Serialize>(out: &mut W, kind: &str, data: T) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, &Envelope { kind, data })?;
    out.write_all(b"\n")
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn query(args: QueryArgs) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let index = Index::open(&args.index)?;
    let params = input_params(index.params(), &args.input);
    let pool = args.run.pool()?;
    let corpus = read_input(&args.input, &params, &pool)?;
    let texts: Vec<&str> = corpus.paragraphs.iter().map(|p| corpus.text(p)).collect();
    let found = pool.install(|| index.query_many(&texts));
    let entries: Vec<Vec<(Entry, f64, MatchKind)>> = found
        .iter()
        .map(|ms| {
            ms.iter()
                .filter_map(|m| index.entry(m.id).map(|e| (e, m.similarity, m.kind)))
                .collect()
        })
        .collect();

    let mut clusters = Vec::new();
    for (k, matched) in entries.iter().enumerate() {
        if matched.is_empty() {
            continue;
        }
        let m = member(&corpus, k);
        let mut members = vec![MemberOut {
            source: m.source,
            line: m.line,
            byte: m.byte,
            doc: m.doc,
            paragraph: m.paragraph,
            text: Some(texts[k]),
            indexed: false,
            id: None,
        }];
        let mut pairs = Vec::new();
        for (i, (e, sim, kind)) in matched.iter().enumerate() {
            members.push(MemberOut {
                source: &e.key,
                line: e.line,
                byte: e.byte,
                doc: None,
                paragraph: None,
                text: None,
                indexed: true,
                id: Some(e.id.0),
            });
            pairs.push(PairOut {
                a: 0,
                b: i + 1,
                similarity: round4(*sim),
                measure: *kind,
            });
        }
        let min = pairs
            .iter()
            .map(|q| q.similarity)
            .fold(f64::INFINITY, f64::min);
        let max = pairs.iter().map(|q| q.similarity).fold(0.0, f64::max);
        clusters.push(ClusterOut {
            id: clusters.len(),
            members,
            pairs,
            similarity: RangeOut { min, max },
        });
    }

    let index_name = args.index.display().to_string();
    let summary = SummaryOut {
        files: corpus.sources.len(),
        paragraphs: corpus.paragraphs.len(),
        clusters: clusters.len(),
        matched_paragraphs: clusters.len(),
        duplicate_paragraphs: clusters.iter().map(|c| c.members.len()).sum(),
        skipped: corpus.skipped.len(),
        index: &index_name,
        index_entries: index.len() as u64,
        params: index.params(),
        seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written: std::io::Result<()> = (|| {
        match args.format {
            FormatArg::Jsonl => {
                for c in &clusters {
                    line(&mut out, "cluster", c)?;
                }
                for s in &corpus.skipped {
                    line(&mut out, "skipped", s)?;
                }
                line(&mut out, "summary", &summary)?;
            }
            FormatArg::Text => {
                for c in &clusters {
                    let q = &c.members[0];
                    writeln!(
                        out,
                        "cluster {}: {}:{} matches {} indexed paragraph{}, similarity {:.2}-{:.2}",
                        c.id,
                        q.source,
                        q.line,
                        c.members.len() - 1,
                        if c.members.len() == 2 { "" } else { "s" },
                        c.similarity.min,
                        c.similarity.max
                    )?;
                    writeln!(
                        out,
                        "  [0] {}:{}  {}",
                        q.source,
                        q.line,
                        syndup::report::snippet(q.text.unwrap_or(""), 100)
                    )?;
                    for (m, pr) in c.members[1..].iter().zip(&c.pairs) {
                        writeln!(
                            out,
                            "  [{}] {}:{}  indexed #{}, {:.2} {}",
                            pr.b,
                            m.source,
                            m.line,
                            m.id.unwrap_or(0),
                            pr.similarity,
                            match pr.measure {
                                MatchKind::Identical => "identical",
                                MatchKind::Estimated => "estimated",
                            }
                        )?;
                    }
                    writeln!(out)?;
                }
                syndup::report::write_skipped_text(&mut out, &corpus.skipped)?;
                writeln!(
                    out,
                    "{} of {} paragraphs in {} files match {} ({} entries), {} skipped, {:.3} s",
                    summary.matched_paragraphs,
                    summary.paragraphs,
                    summary.files,
                    index_name,
                    summary.index_entries,
                    summary.skipped,
                    summary.seconds
                )?;
            }
        }
        out.flush()
    })();
    crate::exit::after_report(written.context("writing the report"), outcome(&corpus))
}

#[derive(Serialize)]
struct StatsOut<'a> {
    index: &'a str,
    format_version: u32,
    file_bytes: u64,
    file_bytes_per_entry: f64,
    #[serde(flatten)]
    stats: &'a IndexStats,
    buckets: &'a BucketSizes,
    params: &'a Params,
}

fn stats(args: StatsArgs) -> anyhow::Result<Exit> {
    let index = Index::open(&args.index)?;
    let file_bytes = std::fs::metadata(&args.index)
        .with_context(|| format!("{}: cannot read", args.index.display()))?
        .len();
    let s = index.stats();
    let b = index.bucket_sizes();
    let name = args.index.display().to_string();
    let per = |bytes: u64| {
        if s.entries == 0 {
            0.0
        } else {
            (bytes as f64 / s.entries as f64 * 10.0).round() / 10.0
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written: std::io::Result<()> = (|| {
        match args.format {
            FormatArg::Jsonl => line(
                &mut out,
                "stats",
                StatsOut {
                    index: &name,
                    format_version: syndup::index::FORMAT_VERSION,
                    file_bytes,
                    file_bytes_per_entry: per(file_bytes),
                    stats: &s,
                    buckets: &b,
                    params: index.params(),
                },
            )?,
            FormatArg::Text => {
                writeln!(
                    out,
                    "index: {name} (format v{})",
                    syndup::index::FORMAT_VERSION
                )?;
                writeln!(
                    out,
                    "entries: {} ({} short), keys: {}, evicted: {}, next id: {}",
                    s.entries, s.short_entries, s.keys, s.evicted, s.next_id
                )?;
                match s.capacity {
                    Some(c) => writeln!(out, "capacity: {c}")?,
                    None => writeln!(out, "capacity: none")?,
                }
                writeln!(
                    out,
                    "memory: {} bytes ({:.1} per entry); file: {file_bytes} bytes ({:.1} per entry)",
                    s.bytes,
                    s.bytes_per_entry,
                    per(file_bytes)
                )?;
                writeln!(
                    out,
                    "tables: {} bands x {} rows, {} slots, load {:.2}, longest probe {}, capped postings {}",
                    s.banding.0,
                    s.banding.1,
                    s.table_slots,
                    s.load_factor,
                    s.longest_probe,
                    s.capped_postings
                )?;
                let hist: Vec<String> = b
                    .histogram
                    .iter()
                    .enumerate()
                    .filter(|(_, &n)| n > 0)
                    .map(|(i, n)| {
                        let (lo, hi) = (1u64 << i, (1u64 << (i + 1)) - 1);
                        if lo == hi {
                            format!("{lo}: {n}")
                        } else {
                            format!("{lo}-{hi}: {n}")
                        }
                    })
                    .collect();
                writeln!(
                    out,
                    "buckets: {} over all bands, largest {}; by size {}",
                    b.buckets,
                    b.largest,
                    if hist.is_empty() {
                        "-".to_string()
                    } else {
                        hist.join(", ")
                    }
                )?;
                writeln!(
                    out,
                    "params: {}",
                    serde_json::to_string(index.params()).unwrap_or_default()
                )?;
            }
        }
        out.flush()
    })();
    written.context("writing the stats")?;
    Ok(Exit::Clean)
}
