//! `syndup scan`: report near-duplicate paragraphs; never modifies input.

use std::io::Write;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use syndup::report::{Format, Report};
use syndup::timing::{Clock, StageTime};
use syndup::Detector;

use crate::cli::{InputArgs, MemoryArgs, ParamArgs, RunArgs};
use crate::exit::Exit;

/// `--format` values.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum FormatArg {
    /// For people.
    Text,
    /// JSON Lines (the stable contract).
    Jsonl,
}

/// `scan --format` values.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ScanFormat {
    /// For people.
    Text,
    /// JSON Lines (the stable contract).
    Jsonl,
    /// Tab-separated values: a header line, then one verified pair a line, with where both
    /// paragraphs are but not their texts (skipped input goes to standard error only).
    Tsv,
}

/// Arguments of `syndup scan`.
#[derive(Args, Debug)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub params: ParamArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    pub format: ScanFormat,
    #[command(flatten)]
    pub memory: MemoryArgs,
    /// After the report, print each stage's wall and CPU time, their ratio, the system part of
    /// the CPU time, the minor page faults and the peak memory so far to standard error (the
    /// report is unchanged).
    #[arg(long)]
    pub timings: bool,
}

/// Runs the scan and writes the report to standard output.
pub fn run(args: ScanArgs) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let mut reading = Clock::start();
    let params = args.params.to_params(&args.input);
    let detector = Detector::new(params.clone())?;
    let pool = args.run.pool()?;
    // Decoded text goes to a temporary file when the input, by its size on disk, calls for
    // the disk-backed detector; the detector is chosen again on the bytes actually read.
    let mut options = args.input.to_options();
    if args.memory.decide(&params, &args.input.paths)? {
        options.spill_dir = Some(args.memory.temp_dir());
    }
    let corpus = crate::progress::read_corpus_with(&pool, &args.input, &options, &params);
    reading.lap("read input");
    let bar = crate::progress::Bar::spinner("detecting");
    let found = pool.install(|| {
        args.memory
            .detect(&detector, &corpus, options.spill_dir.is_some())
    })?;
    bar.finish();
    let mut reporting = Clock::start();
    args.input.report_skipped(&corpus)?;
    let format = match args.format {
        ScanFormat::Text => Format::Text,
        ScanFormat::Jsonl => Format::Jsonl,
        ScanFormat::Tsv => Format::Tsv,
    };
    // In the --threads pool: clusters are serialized in parallel.
    let written = pool
        .install(|| {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            Report::new(&corpus, &found, &params, started.elapsed().as_secs_f64())
                .write(format, &mut out)?;
            out.flush()
        })
        .context("writing the report");
    if args.timings {
        reporting.lap("report");
        let stages: Vec<StageTime> = (reading.finish().into_iter())
            .chain(found.stages.iter().cloned())
            .chain(reporting.finish())
            .collect();
        print_timings(&stages, started.elapsed().as_secs_f64());
    }
    let code = if corpus.skipped.is_empty() {
        Exit::Clean
    } else {
        Exit::Error
    };
    crate::exit::after_report(written, code)
}

/// Prints `stages` to standard error, one a line (wall seconds, CPU seconds, their ratio, the
/// system part of the CPU seconds, minor page faults, peak resident memory so far), then the
/// whole run's wall time (`total`) and the process's use, which also counts what falls between
/// stages (starting, parsing the flags).
fn print_timings(stages: &[StageTime], total: f64) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "syndup: timings ({} stages)", stages.len());
    let _ = writeln!(
        err,
        "  {:<40} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8}",
        "stage", "wall s", "cpu s", "cpu/wall", "sys s", "faults", "peak MB"
    );
    let line = |err: &mut std::io::StderrLock, s: &StageTime| {
        let ratio = if s.wall > 0.0 { s.cpu / s.wall } else { 0.0 };
        let _ = writeln!(
            err,
            "  {:<40} {:>8.3} {:>8.3} {ratio:>8.2} {:>8.3} {:>9} {:>8}",
            s.stage,
            s.wall,
            s.cpu,
            s.system,
            s.faults,
            s.peak >> 20
        );
    };
    for s in stages {
        line(&mut err, s);
    }
    let all = syndup::timing::Usage::now();
    let whole = StageTime {
        stage: "total",
        wall: total,
        cpu: all.cpu(),
        system: all.system,
        faults: all.faults,
        peak: all.peak,
    };
    line(&mut err, &whole);
}
