//! `syndup dedup`: write a deduplicated copy of the input and a report of every decision.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use syndup::dedup::{DedupOptions, Mode, OutputFile, Plan};
use syndup::Detector;

use crate::cli::{InputArgs, ParamArgs, RunArgs};
use crate::exit::Exit;
use crate::progress::Bar;

/// `--mode` values.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ModeArg {
    /// Take duplicate paragraphs out of the text.
    Remove,
    /// Keep the text; list duplicate paragraphs in a new `syndup_duplicates` field.
    Annotate,
}

/// Arguments of `syndup dedup`.
#[derive(Args, Debug)]
pub struct DedupArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub params: ParamArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// The deduplicated copy (compressed when the name ends in .gz or .zst). Written to a
    /// temporary file beside it and renamed when complete; never one of the inputs.
    #[arg(long, short = 'o')]
    pub output: PathBuf,
    /// Remove duplicate paragraphs, or annotate them.
    #[arg(long, value_enum, default_value_t = ModeArg::Remove)]
    pub mode: ModeArg,
    /// Drop (and list) whole records whose share of duplicate paragraphs is above this
    /// ratio (0 to 1).
    #[arg(long, value_name = "RATIO")]
    pub drop_record_above: Option<f64>,
    /// The report of every removal, drop and skip (JSON Lines) [default: OUTPUT.report.jsonl].
    #[arg(long)]
    pub report: Option<PathBuf>,
}

/// Runs the dedup.
pub fn run(args: DedupArgs) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let params = args.params.to_params(&args.input);
    let detector = Detector::new(params.clone())?;
    if let Some(r) = args.drop_record_above {
        anyhow::ensure!(
            (0.0..=1.0).contains(&r),
            "--drop-record-above {r}: the ratio must be between 0 and 1"
        );
    }
    let report_path = args.report.clone().unwrap_or_else(|| {
        let mut name = args.output.clone().into_os_string();
        name.push(".report.jsonl");
        PathBuf::from(name)
    });
    anyhow::ensure!(
        !same_file(&report_path, &args.output),
        "--report {} is the output file",
        report_path.display()
    );
    // Refuse before reading anything when an input named on the command line is the output.
    syndup::dedup::refuse_overwrite(&args.output, &args.input.paths)?;
    syndup::dedup::refuse_overwrite(&report_path, &args.input.paths)?;
    // Decoded JSON Lines text and LSH band keys go to unnamed temporary files beside the
    // output (where there is room for a copy of the input anyway), so memory holds neither.
    let out_dir = match args.output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut options = args.input.to_options();
    options.spill_dir = Some(out_dir.clone());
    let pool = args.run.pool()?;

    let corpus = crate::progress::read_corpus_with(&pool, &args.input, &options, &params);
    let t_read = started.elapsed().as_secs_f64();
    args.input.report_skipped(&corpus)?;

    let bar = Bar::spinner("detecting");
    crate::cli::unmap_large_blocks_when_freed();
    let found = pool.install(|| detector.detect_lean(&corpus, Some(&out_dir)))?;
    bar.finish();
    let dedup = DedupOptions {
        mode: match args.mode {
            ModeArg::Remove => Mode::Remove,
            ModeArg::Annotate => Mode::Annotate,
        },
        drop_record_above: args.drop_record_above,
    };
    let t_detect = started.elapsed().as_secs_f64();
    let plan = Plan::new(&corpus, &found, &params, &dedup);
    let t_plan = started.elapsed().as_secs_f64();

    // Every file read or skipped, those found in directories included.
    let inputs: Vec<&Path> = corpus.files.iter().map(PathBuf::as_path).collect();
    syndup::dedup::refuse_overwrite(&report_path, &inputs)?;
    let mut out = OutputFile::create(&args.output, &inputs)?;
    let docs = corpus.records_read() + corpus.sources.len() as u64;
    let bar = Bar::count(docs, "writing");
    let tally = plan.write_output(&corpus, &params, &options, out.writer(), &|n| bar.set(n))?;
    bar.finish();
    out.finish()?;

    let mut report = OutputFile::create(&report_path, &inputs)?;
    plan.write_report(
        &corpus,
        &found,
        &params,
        &tally,
        started.elapsed().as_secs_f64(),
        report.writer(),
    )
    .with_context(|| format!("writing the report to {}", report_path.display()))?;
    report.finish()?;
    let t_end = started.elapsed().as_secs_f64();

    eprintln!(
        "syndup: {} records in = {} written + {} dropped + {} skipped; {} duplicate paragraphs {}; \
         {} problems listed in {}",
        tally.records_in,
        tally.records_written,
        tally.records_dropped,
        tally.records_skipped,
        tally.paragraphs_removed,
        match dedup.mode {
            Mode::Remove => "removed",
            Mode::Annotate => "annotated",
        },
        corpus.skipped.len(),
        report_path.display()
    );
    eprintln!(
        "syndup: {:.1} s: read {:.1} s, detect {:.1} s, decide {:.1} s, write {:.1} s",
        t_end,
        t_read,
        t_detect - t_read,
        t_plan - t_detect,
        t_end - t_plan
    );
    Ok(if corpus.skipped.is_empty() {
        Exit::Clean
    } else {
        Exit::Error
    })
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}
