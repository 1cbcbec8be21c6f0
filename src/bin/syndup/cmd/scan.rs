//! `syndup scan`: report near-duplicate paragraphs; never modifies input.

use std::io::Write;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use syndup::report::{Format, Report};
use syndup::Detector;

use crate::cli::{InputArgs, ParamArgs, RunArgs};
use crate::exit::Exit;

/// `--format` values.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum FormatArg {
    /// For people.
    Text,
    /// JSON Lines (the stable contract).
    Jsonl,
}

/// `--memory` values.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryArg {
    /// `disk` when the in-memory detector would need more than half the memory the system has
    /// available (estimated from the input's size), else `ram`
    Auto,
    /// Everything in memory: the fastest, about 5.5 bytes of memory per input byte at the
    /// default preset and 2 at `near`
    Ram,
    /// Band keys, sentence terms and decoded text in temporary files (see `--temp-dir`): about
    /// a quarter of the memory, 1.6 times the time; the same report
    Disk,
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
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// Where detection keeps its working data; the report is the same either way.
    #[arg(long, value_enum, default_value_t = MemoryArg::Auto)]
    pub memory: MemoryArg,
    /// Directory of the temporary files of `--memory disk` (deleted when done): the system's
    /// temporary directory (`TMPDIR`, else /tmp) by default. They take about as much space as
    /// the input (decoded) and twice that at the default preset; a RAM file system (tmpfs)
    /// defeats their purpose.
    #[arg(long, value_name = "DIR")]
    pub temp_dir: Option<std::path::PathBuf>,
}

/// Bytes of memory the in-memory detector takes per input byte, above the input itself, as
/// measured on the 500 MB peer corpus (`benches/peers/run.sh 500`): 2.7 GB at the default
/// preset (5.4), 0.9 GB at `near` (1.8), rounded up.
fn ram_per_input_byte(params: &syndup::Params) -> u64 {
    if params.sentence_threshold.is_some() {
        6
    } else {
        2
    }
}

/// The memory the system has available (`MemAvailable` in /proc/meminfo), if known.
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The bytes of input under `paths` (files, and files in directories, recursively), gzip and
/// zstd files counted four times (a usual ratio for text); standard input counts nothing.
fn input_bytes(paths: &[std::path::PathBuf]) -> u64 {
    fn walk(path: &std::path::Path, depth: usize) -> u64 {
        let Ok(meta) = std::fs::metadata(path) else {
            return 0;
        };
        if meta.is_file() {
            let packed = path.extension().is_some_and(|e| e == "gz" || e == "zst");
            return meta.len() * if packed { 4 } else { 1 };
        }
        if !meta.is_dir() || depth > 64 {
            return 0;
        }
        std::fs::read_dir(path)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| walk(&e.path(), depth + 1))
                    .sum()
            })
            .unwrap_or(0)
    }
    paths.iter().map(|p| walk(p, 0)).sum()
}

/// Whether `--memory` asks for the disk-backed detector, for `bytes` of input.
fn use_disk(memory: MemoryArg, params: &syndup::Params, bytes: u64) -> bool {
    match memory {
        MemoryArg::Ram => false,
        MemoryArg::Disk => true,
        MemoryArg::Auto => available_memory()
            .is_some_and(|avail| bytes.saturating_mul(ram_per_input_byte(params)) > avail / 2),
    }
}

/// Runs the scan and writes the report to standard output.
pub fn run(args: ScanArgs) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let params = args.params.to_params(&args.input);
    let detector = Detector::new(params.clone())?;
    let pool = args.run.pool()?;
    let temp_dir = args.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
    // Decoded text goes to a temporary file when the input, by its size on disk, calls for
    // the disk-backed detector; the detector is chosen again on the bytes actually read.
    let mut options = args.input.to_options();
    if use_disk(args.memory, &params, input_bytes(&args.input.paths)) {
        options.spill_dir = Some(temp_dir.clone());
    }
    let corpus = crate::progress::read_corpus_with(&pool, &args.input, &options, &params);
    let disk = options.spill_dir.is_some() || use_disk(args.memory, &params, corpus.total_bytes());
    if disk && args.memory == MemoryArg::Auto {
        eprintln!(
            "syndup: {} bytes of input: detecting with --memory disk (temporary files in {})",
            corpus.total_bytes(),
            temp_dir.display()
        );
    }
    let bar = crate::progress::Bar::spinner("detecting");
    let found = if disk {
        pool.install(|| detector.detect_spilled(&corpus, Some(&temp_dir)))?
    } else {
        pool.install(|| detector.detect(&corpus))
    };
    bar.finish();
    for s in &corpus.skipped {
        eprintln!(
            "syndup: {}:{} (byte {}): {}",
            s.source, s.line, s.byte, s.reason
        );
    }
    args.input.check_skipped(&corpus)?;
    let format = match args.format {
        FormatArg::Text => Format::Text,
        FormatArg::Jsonl => Format::Jsonl,
    };
    // In the --threads pool: clusters are serialized in parallel.
    pool.install(|| {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        Report::new(&corpus, &found, &params, started.elapsed().as_secs_f64())
            .write(format, &mut out)?;
        out.flush()
    })
    .context("writing the report")?;
    Ok(if corpus.skipped.is_empty() {
        Exit::Clean
    } else {
        Exit::Error
    })
}
