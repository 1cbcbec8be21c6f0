//! Command-line flags: shared groups converted into library types.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use syndup::check::config::DetectConfig;
use syndup::input::jsonl::FieldPath;
use syndup::input::{Corpus, InputFormat, InputOptions};
use syndup::params::{SplitMode, StemMode};
use syndup::{Detection, Detector, Params, Preset};

/// Find near-duplicate paragraphs in news corpora.
#[derive(Parser, Debug)]
#[command(name = "syndup", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Report clusters of near-duplicate paragraphs; never modifies input.
    Scan(crate::cmd::scan::ScanArgs),
    /// Score detection against a gold file: precision, recall, F1, misses, a threshold sweep.
    Eval(crate::cmd::eval::EvalArgs),
    /// Write a synthetic syndicated corpus (copies with realistic edits, hard negatives) and its
    /// ground truth, from news-like text.
    Generate(crate::cmd::generate::GenerateArgs),
    /// CI gate: exit 1 when duplication is over budget (new findings vs a baseline, allow-lists,
    /// `syndup.toml`), with text, JSONL, GitHub annotations or SARIF output.
    #[command(mut_arg("paths", |a| a.required(false).required_unless_present("print_config")))]
    Check(crate::cmd::check::CheckArgs),
    /// Build, extend, query or inspect a persistent paragraph index (for crawlers).
    Index(crate::cmd::index::IndexArgs),
    /// Write a deduplicated copy of the input and a report of every removal.
    Dedup(crate::cmd::dedup::DedupArgs),
}

/// Input files and how to split them.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Files or directories (walked recursively in sorted order; inside directories only
    /// .txt, .text, .md, .jsonl, .ndjson, .gz and .zst files are read); `-` reads standard
    /// input. gzip and zstd input is decompressed (recognized by its first bytes).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Input format; `auto` goes by the name without .gz/.zst: .jsonl and .ndjson are JSON
    /// Lines, anything else (and standard input) plain text.
    #[arg(long, value_enum, default_value_t = FormatIn::Auto)]
    pub input_format: FormatIn,
    /// JSON Lines: the field holding the text (dotted path for nested fields: `body.text`).
    #[arg(long, default_value = "text")]
    pub text_field: String,
    /// JSON Lines: the field holding the record id (dotted path); records without one are
    /// named by their line number.
    #[arg(long, default_value = "id")]
    pub id_field: String,
    /// JSON Lines: the field deciding which copy is the original (e.g. a date): the smallest
    /// value wins; ties, and records without the field (ranked last), go by input order.
    #[arg(long)]
    pub order_field: Option<String>,
    /// What to do with unusable input (a malformed record, an unreadable file): `skip` lists it
    /// and goes on (exit code 2 at the end), `fail` stops before writing anything.
    #[arg(long, value_enum, default_value_t = OnError::Skip)]
    pub on_error: OnError,
    /// Paragraphs are non-empty lines (`line`, the default) or blank-line separated blocks
    /// (`blank`).
    #[arg(long, value_enum)]
    pub split: Option<Split>,
    /// Paragraphs longer than this many bytes are skipped and reported [default: 1048576].
    #[arg(long)]
    pub max_paragraph_bytes: Option<usize>,
}

impl InputArgs {
    /// The library's input options.
    pub fn to_options(&self) -> InputOptions {
        InputOptions {
            format: match self.input_format {
                FormatIn::Auto => InputFormat::Auto,
                FormatIn::Text => InputFormat::Text,
                FormatIn::Jsonl => InputFormat::Jsonl,
            },
            text_field: FieldPath::new(&self.text_field),
            id_field: FieldPath::new(&self.id_field),
            order_field: self.order_field.as_deref().map(FieldPath::new),
            spill_dir: None,
        }
    }

    /// Lists the skipped input on standard error, one `syndup: source:line (byte N): reason`
    /// line each, then stops when `--on-error fail` is set and some input was skipped: the
    /// error names the first one's place and how many there are, not its reason again.
    pub fn report_skipped(&self, corpus: &Corpus) -> anyhow::Result<()> {
        for s in &corpus.skipped {
            eprintln!("syndup: {s}");
        }
        if let (OnError::Fail, Some(s)) = (self.on_error, corpus.skipped.first()) {
            anyhow::bail!(
                "stopping (--on-error fail): {} input problem{} listed above, the first at {}:{} (byte {})",
                corpus.skipped.len(),
                if corpus.skipped.len() == 1 { "" } else { "s" },
                s.source_for_text(),
                s.line,
                s.byte,
            );
        }
        Ok(())
    }
}

/// `--input-format` values.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum FormatIn {
    /// By the file name.
    Auto,
    /// Plain text.
    Text,
    /// JSON Lines.
    Jsonl,
}

/// `--on-error` values.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    /// List unusable input, go on, exit 2 at the end.
    Skip,
    /// Stop at the first unusable input.
    Fail,
}

/// `--split` values.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Split {
    /// One paragraph per non-empty line.
    Line,
    /// Blank-line separated blocks.
    Blank,
}

/// `--preset` values.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum PresetArg {
    /// Near-verbatim copies only (shingle Jaccard ≥ 0.8).
    Exact,
    /// Lightly edited copies (shingle Jaccard ≥ 0.5).
    Near,
    /// Near, plus restated sentences (the default).
    Paraphrase,
}

/// `--signature` values.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum SignatureArg {
    /// k independent hash functions.
    Independent,
    /// One-permutation hashing with optimal densification.
    Oph,
    /// k hash functions over the shingle hash folded to 32 bits (half the arithmetic).
    Folded,
}

/// `--stem` values.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum StemArg {
    /// Detect each document's language and stem when it has a Snowball stemmer.
    Auto,
    /// Never stem.
    None,
}

/// Detection parameters (a preset, then overrides).
#[derive(Args, Debug, Clone)]
pub struct ParamArgs {
    /// Named trade-off; the flags below override its values [default: paraphrase].
    #[arg(long, value_enum)]
    pub preset: Option<PresetArg>,
    /// Paragraph-level shingle Jaccard threshold [preset: exact 0.8, near/paraphrase 0.5].
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Sentence-level weighted-overlap threshold [paraphrase: 0.30]; 0 turns it off.
    #[arg(long)]
    pub sentence_threshold: Option<f64>,
    /// Words per shingle [3].
    #[arg(long)]
    pub shingle_words: Option<usize>,
    /// MinHash values per signature [128].
    #[arg(long)]
    pub num_hashes: Option<usize>,
    /// Signature scheme: k hash functions over the folded shingle hash, k independent hashes over all 64 bits (how indexes built before `folded` existed were signed), or one-permutation hashing [folded].
    #[arg(long, value_enum)]
    pub signature: Option<SignatureArg>,
    /// LSH bands (default: derived from the threshold).
    #[arg(long)]
    pub bands: Option<usize>,
    /// LSH rows per band (default: derived from the threshold).
    #[arg(long)]
    pub rows: Option<usize>,
    /// Shared distinct words a sentence pair needs [6].
    #[arg(long)]
    pub min_shared_words: Option<usize>,
    /// Sentences with fewer words take no part in sentence-level matching [8].
    #[arg(long)]
    pub min_sentence_words: Option<usize>,
    /// Weight of capitalized words (names) in the sentence score, 0 to 1 [0.5].
    #[arg(long)]
    pub name_weight: Option<f64>,
    /// Paragraphs with fewer words are matched only when identical [5].
    #[arg(long)]
    pub min_words: Option<usize>,
    /// Stemming for sentence-level matching [auto].
    #[arg(long, value_enum)]
    pub stem: Option<StemArg>,
    /// Seed of all hash functions.
    #[arg(long)]
    pub seed: Option<u64>,
    /// LSH buckets above this size are chained instead of fully paired [512].
    #[arg(long)]
    pub max_bucket: Option<usize>,
    /// The same for the sentence-level index [64].
    #[arg(long)]
    pub max_sentence_bucket: Option<usize>,
}

impl ParamArgs {
    /// The preset named with `--preset`, if any.
    pub fn preset(&self) -> Option<Preset> {
        self.preset.map(|p| match p {
            PresetArg::Exact => Preset::Exact,
            PresetArg::Near => Preset::Near,
            PresetArg::Paraphrase => Preset::Paraphrase,
        })
    }

    /// The library parameters these flags describe (validated by the library later).
    pub fn to_params(&self, input: &InputArgs) -> Params {
        let overrides = self.overrides(input);
        let mut p = Params::preset(overrides.preset.unwrap_or_default());
        overrides.apply(&mut p);
        p
    }

    /// The values these flags set explicitly, as one layer of overrides (`syndup check` puts it
    /// over its config file; the other commands over the preset's values).
    pub fn overrides(&self, input: &InputArgs) -> DetectConfig {
        DetectConfig {
            preset: self.preset(),
            threshold: self.threshold,
            sentence_threshold: self.sentence_threshold,
            shingle_words: self.shingle_words,
            num_hashes: self.num_hashes,
            signature: self.signature.map(|s| match s {
                SignatureArg::Independent => syndup::minhash::Scheme::Independent,
                SignatureArg::Oph => syndup::minhash::Scheme::Oph,
                SignatureArg::Folded => syndup::minhash::Scheme::Folded,
            }),
            bands: self.bands,
            rows: self.rows,
            min_shared_words: self.min_shared_words,
            min_words: self.min_words,
            min_sentence_words: self.min_sentence_words,
            name_weight: self.name_weight,
            stem: self.stem.map(|s| match s {
                StemArg::Auto => StemMode::Auto,
                StemArg::None => StemMode::None,
            }),
            seed: self.seed,
            max_bucket: self.max_bucket,
            max_sentence_bucket: self.max_sentence_bucket,
            split: input.split.map(|s| match s {
                Split::Line => SplitMode::Line,
                Split::Blank => SplitMode::Blank,
            }),
            max_paragraph_bytes: input.max_paragraph_bytes,
        }
    }
}

/// Run-time resources.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Worker threads (0: one per core). The output does not depend on it.
    #[arg(long, short = 'j', default_value_t = 0)]
    pub threads: usize,
}

impl RunArgs {
    /// A rayon pool with the requested threads.
    pub fn pool(&self) -> anyhow::Result<rayon::ThreadPool> {
        Ok(rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads)
            .build()?)
    }
}

/// `--memory` values.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryArg {
    /// `disk` when the in-memory detector would need more than half the memory available
    /// (estimated from the input's size; the system's, or the container's when lower), else
    /// `ram` (always `ram` where /proc/meminfo is missing)
    Auto,
    /// Everything in memory: the fastest, about 4.5 bytes of memory per input byte at the
    /// default preset and 2.3 at `near` (the input included)
    Ram,
    /// Band keys and sentence terms in temporary files (see `--temp-dir`), and with `scan` the
    /// decoded text: under a third of the memory, 1.4-1.6 times the time; the same output
    Disk,
}

/// Where detection keeps its working data (`scan`, `check`).
#[derive(Args, Debug, Clone)]
pub struct MemoryArgs {
    /// Where detection keeps its working data; the output is the same either way.
    #[arg(long, value_enum, default_value_t = MemoryArg::Auto)]
    pub memory: MemoryArg,
    /// Directory of the temporary files of `--memory disk` (deleted when done): the system's
    /// temporary directory (`TMPDIR`, else /tmp) by default. They take about as much space as
    /// the input (decoded) and twice that at the default preset; a RAM file system (tmpfs)
    /// defeats their purpose (syndup warns when it finds one).
    #[arg(long, value_name = "DIR")]
    pub temp_dir: Option<PathBuf>,
}

impl MemoryArgs {
    /// The directory of the temporary files.
    pub fn temp_dir(&self) -> PathBuf {
        self.temp_dir.clone().unwrap_or_else(std::env::temp_dir)
    }

    /// Whether to use the disk-backed detector for the input `bytes` gives (only asked for
    /// with `auto`).
    pub fn use_disk(&self, params: &Params, bytes: impl FnOnce() -> u64) -> bool {
        match self.memory {
            MemoryArg::Ram => false,
            MemoryArg::Disk => true,
            MemoryArg::Auto => available_memory().is_some_and(|avail| {
                bytes().saturating_mul(ram_per_input_byte(params)) > avail / 2
            }),
        }
    }

    /// Whether to detect with temporary files, decided before the input at `paths` is read
    /// (by its size on disk); when so, the temporary directory is checked to take files, so
    /// that an unusable one is an error before any reading.
    pub fn decide(&self, params: &Params, paths: &[PathBuf]) -> anyhow::Result<bool> {
        if !self.use_disk(params, || input_bytes(paths)) {
            return Ok(false);
        }
        let dir = self.temp_dir();
        tempfile::tempfile_in(&dir)
            .map(drop)
            .with_context(|| format!("temporary files in {}", dir.display()))?;
        warn_if_in_memory(&dir);
        Ok(true)
    }

    /// Runs `detector` on `corpus` in memory or with temporary files, as `--memory` says
    /// (`disk` already chosen when `chosen`); says on standard error when `auto` picks the
    /// disk.
    pub fn detect(
        &self,
        detector: &Detector,
        corpus: &Corpus,
        chosen: bool,
    ) -> syndup::Result<Detection> {
        let params = detector.params();
        if !(chosen || self.use_disk(params, || corpus.total_bytes())) {
            return Ok(detector.detect(corpus));
        }
        let dir = self.temp_dir();
        if self.memory == MemoryArg::Auto {
            eprintln!(
                "syndup: {} bytes of input: detecting with --memory disk (temporary files in {})",
                corpus.total_bytes(),
                dir.display()
            );
        }
        if !chosen {
            warn_if_in_memory(&dir);
        }
        unmap_large_blocks_when_freed();
        detector.detect_spilled(corpus, Some(&dir))
    }
}

/// Says on standard error when the temporary files of `--memory disk` would go to a file
/// system kept in memory (tmpfs, as /tmp is on many systems, or ramfs): there they take memory
/// as the process's own data would, which is what the mode is for saving.
fn warn_if_in_memory(dir: &std::path::Path) {
    if in_memory_fs(dir) {
        eprintln!(
            "syndup: warning: {} is a file system in memory (tmpfs): the temporary files of \
             --memory disk take memory there; give --temp-dir (or TMPDIR) a directory on disk",
            dir.display()
        );
    }
}

/// Whether `dir` is on a file system kept in memory (tmpfs or ramfs), by `statfs`; false when
/// that cannot be told (other systems than Linux, a path that cannot be read).
fn in_memory_fs(dir: &std::path::Path) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        const RAMFS_MAGIC: i64 = 0x8584_58f6;
        let Ok(path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
            return false;
        };
        // SAFETY: `statfs` is plain data, for which all zeroes is a valid value.
        let mut st: libc::statfs = unsafe { std::mem::zeroed() };
        // SAFETY: `path` is a NUL-terminated string and `st` a writable `statfs` that outlives
        // the call.
        if unsafe { libc::statfs(path.as_ptr(), &mut st) } != 0 {
            return false;
        }
        // The field's and the constant's types differ from one platform to another.
        #[allow(clippy::unnecessary_cast)]
        let kind = st.f_type as i64;
        #[allow(clippy::unnecessary_cast)]
        let tmpfs = libc::TMPFS_MAGIC as i64;
        kind == tmpfs || kind == RAMFS_MAGIC
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        false
    }
}

/// Has the allocator give blocks of 4 MB or more back to the system as soon as they are
/// freed, for the disk-backed detector, whose point is a low peak (called as it starts; unlike
/// `malloc_trim`, which the library calls between stages, this is a process-wide setting, so
/// the binary makes it). By default glibc raises that
/// threshold (up to 32 MB) each time it frees a large block, and keeps blocks freed below it in
/// the heap, where what one stage had freed still counted in the next one's peak. With
/// `--memory disk` at 500 MB on 2 threads, peak RSS went from 882-914 MB to 820 MB (MiB;
/// alternating runs), in the same time within the noise; a 1 MB threshold gave 823 MB and
/// 8 MB 823 MB, 16 MB 826 MB.
pub fn unmap_large_blocks_when_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes a setting of the allocator; it takes no pointer.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

/// Bytes of memory the in-memory detector takes per input byte, above the input itself, as
/// measured on the 500 MB peer corpus (2026-11-30), with room to spare: at the default preset
/// 1.62-1.75 GB (3.4-3.6) since sentence terms are held folded to 32 bits (2.43 GB, 4.9,
/// before), taken as 5; at `near` 0.63 GB (1.25) since shingle sets are too (0.87 GB, 1.7,
/// before), taken as 2.
fn ram_per_input_byte(params: &syndup::Params) -> u64 {
    if params.sentence_threshold.is_some() {
        5
    } else {
        2
    }
}

/// The memory this process may still take, if known: the system's available memory
/// (`MemAvailable` in /proc/meminfo), or less when a control group the process is in (as in
/// containers) leaves less (see [`cgroup_room`]).
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    let system = kb.saturating_mul(1024);
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let group = cgroup_room(&own, std::path::Path::new("/sys/fs/cgroup"));
    Some(group.map_or(system, |g| g.min(system)))
}

/// The room left under the memory limits of the control groups that `own` (the text of
/// /proc/self/cgroup) names, mounted under `root`: the least, over the process's group and
/// every group above it up to the mount, of the limit minus the memory charged to the group,
/// not counting the file pages the kernel can drop first (`inactive_file`). cgroup v2 (the line
/// `0::/path`; `memory.max`, `memory.current`) and v1 (a line whose controllers include
/// `memory`, under `root/memory`; `memory.limit_in_bytes`, `memory.usage_in_bytes` and
/// `total_inactive_file`) both count: v1 is what many container hosts still run, and with
/// only v2 read a scan that `auto` kept in memory under a v1 limit was killed for want of
/// memory. A group without those files (a path the mount does not show, as in some
/// containers) or without a limit (`max`) sets nothing; `None` when no group sets a limit.
fn cgroup_room(own: &str, root: &std::path::Path) -> Option<u64> {
    use std::path::Path;
    let read = |dir: &Path, name: &str| std::fs::read_to_string(dir.join(name)).ok();
    let number = |dir: &Path, name: &str| read(dir, name)?.trim().parse::<u64>().ok();
    let stat = |dir: &Path, key: &str| {
        read(dir, "memory.stat")
            .and_then(|text| {
                text.lines().find_map(|l| {
                    let (name, value) = l.split_once(' ')?;
                    (name == key).then(|| value.trim().parse::<u64>().ok())?
                })
            })
            .unwrap_or(0)
    };
    let mut room: Option<u64> = None;
    for line in own.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let (base, limit, usage, inactive) = if controllers.is_empty() {
            (
                root.to_path_buf(),
                "memory.max",
                "memory.current",
                "inactive_file",
            )
        } else if controllers.split(',').any(|c| c == "memory") {
            (
                root.join("memory"),
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
                "total_inactive_file",
            )
        } else {
            continue;
        };
        let mut dir = base.join(path.trim_start_matches('/'));
        loop {
            if let (Some(limit), Some(usage)) = (number(&dir, limit), number(&dir, usage)) {
                let left = limit.saturating_sub(usage.saturating_sub(stat(&dir, inactive)));
                room = Some(room.map_or(left, |r| r.min(left)));
            }
            if dir == base || !dir.pop() {
                break;
            }
        }
    }
    room
}

/// The bytes of input under `paths`: the files a read would take (see
/// [`syndup::input::files_to_read`]), gzip and zstd files counted four times (a usual ratio for
/// text); standard input counts nothing.
fn input_bytes(paths: &[PathBuf]) -> u64 {
    syndup::input::files_to_read(paths)
        .iter()
        .map(|(path, len)| {
            let packed = path.extension().is_some_and(|e| e == "gz" || e == "zst");
            len.saturating_mul(if packed { 4 } else { 1 })
        })
        .fold(0, u64::saturating_add)
}

/// A flag's value that is a share: a number in [0, 1] (not NaN, not a percentage).
pub fn parse_share(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` is not a share in [0, 1] (0.55, not 55)")),
    }
}

/// A flag's value that is a count of at least one.
pub fn parse_positive(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(v) if v > 0 => Ok(v),
        _ => Err(format!("`{s}` is not a whole number of at least 1")),
    }
}

/// Fails when `path` is a non-empty regular file whose first `n` bytes do not say it is a
/// `what` (`is_kind`): a command that writes a `what` there replaces only one, an empty file
/// or nothing, never an article named by mistake (`index build a.txt b.txt` without the
/// index's name, `check --write-baseline content/*.md`).
pub fn refuse_replacing_other_files(
    path: &std::path::Path,
    n: u64,
    is_kind: impl Fn(&[u8]) -> bool,
    what: &str,
) -> anyhow::Result<()> {
    use std::io::Read;
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    if !meta.is_file() || meta.len() == 0 {
        return Ok(());
    }
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(n).read_to_end(&mut head))
        .with_context(|| format!("{}: cannot read the {what} to replace", path.display()))?;
    anyhow::ensure!(
        is_kind(&head),
        "{}: exists and is not a {what}; only a {what} is replaced (remove the file first to \
         write one there)",
        path.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The room under control-group limits: v2 and v1 trees (made up, in a temporary
    /// directory), the least over the group and the groups above it, droppable file pages not
    /// counted, no limit from `max` or from groups the mount does not show.
    #[test]
    fn cgroup_room_reads_v1_and_v2_limits() {
        let root = tempfile::tempdir().unwrap();
        // (group directory, file, content)
        let put = |files: &[(&str, &str, &str)]| {
            for (dir, name, text) in files {
                let d = root.path().join(dir);
                std::fs::create_dir_all(&d).unwrap();
                std::fs::write(d.join(name), text).unwrap();
            }
        };
        // v2: the limit is on the parent; the process's own group has none.
        put(&[
            ("a", "memory.max", "1000000000\n"),
            ("a", "memory.current", "400000000\n"),
            (
                "a",
                "memory.stat",
                "anon 300000000\ninactive_file 100000000\n",
            ),
            ("a/b", "memory.max", "max\n"),
            ("a/b", "memory.current", "300000000\n"),
        ]);
        let room = |own: &str| cgroup_room(own, root.path());
        assert_eq!(room("0::/a/b\n"), Some(700_000_000));
        // A lower limit on the group itself wins.
        put(&[("a/b", "memory.max", "500000000\n")]);
        assert_eq!(room("0::/a/b\n"), Some(200_000_000));
        // v1: the memory controller's line (beside others), under root/memory; the root's
        // "unlimited" is a number too large to matter.
        put(&[
            ("memory", "memory.limit_in_bytes", "9223372036854771712\n"),
            ("memory", "memory.usage_in_bytes", "12000000000\n"),
            ("memory/x", "memory.limit_in_bytes", "2000000000\n"),
            ("memory/x", "memory.usage_in_bytes", "1500000000\n"),
            (
                "memory/x",
                "memory.stat",
                "inactive_file 7\ntotal_inactive_file 500000000\n",
            ),
        ]);
        assert_eq!(room("5:cpu,cpuacct:/x\n4:memory:/x\n"), Some(1_000_000_000));
        // Both kinds at once: the least.
        assert_eq!(room("4:memory:/x\n0::/a/b\n"), Some(200_000_000));
        // A path the mount does not show: the groups above it that it does show.
        assert_eq!(room("4:memory:/x/gone/deeper\n"), Some(1_000_000_000));
        // No memory controller, nothing readable, no limit: no room figure.
        assert_eq!(room("3:cpu:/x\n"), None);
        assert_eq!(room("0::/nowhere\n"), None);
        assert_eq!(room(""), None);
        assert_eq!(room("garbage line\n"), None);
    }

    /// The file systems in memory are told apart by `statfs` as the mount table names them:
    /// every mount point listed in /proc/self/mounts that `statfs` can read is in memory
    /// exactly when its type is tmpfs, ramfs or devtmpfs.
    #[cfg(target_os = "linux")]
    #[test]
    fn in_memory_fs_agrees_with_the_mount_table() {
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
        let table: Vec<(&str, &str)> = mounts
            .lines()
            .filter_map(|l| {
                let mut fields = l.split_whitespace().skip(1);
                Some((fields.next()?, fields.next()?))
            })
            .collect();
        let mut on_disk = 0;
        for (i, &(point, kind)) in table.iter().enumerate() {
            // Octal escapes (\040 for a space) and points mounted over again later are skipped.
            let path = std::path::Path::new(point);
            let covered = table[i + 1..].iter().any(|&(p, _)| p == point);
            if point.contains('\\') || covered || std::fs::metadata(path).is_err() {
                continue;
            }
            // devtmpfs (/dev) is a tmpfs inside.
            let want = matches!(kind, "tmpfs" | "ramfs" | "devtmpfs");
            assert_eq!(in_memory_fs(path), want, "{point} ({kind})");
            on_disk += usize::from(!want);
        }
        // The root at least is on disk (or an overlay of it) wherever the tests run.
        assert!(on_disk > 0, "no mount on disk checked");
        assert!(!in_memory_fs(std::path::Path::new("/no/such/dir")));
    }

    /// The input size behind `--memory auto` counts the files a read takes and no others: not
    /// hidden entries, not files a directory walk skips, not the files again through links to
    /// directories (two links to the directory itself make a loop that must not hang it);
    /// gzip counts four times.
    #[test]
    fn input_bytes_counts_what_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("news");
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join("a.txt"), vec![b'a'; 1000]).unwrap();
        std::fs::write(root.join("b.gz"), vec![b'b'; 10]).unwrap();
        std::fs::write(root.join("gold.tsv"), vec![b'g'; 500]).unwrap();
        std::fs::write(root.join(".git/big.txt"), vec![b'h'; 5000]).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&root, root.join("l1")).unwrap();
            std::os::unix::fs::symlink(".", root.join("l2")).unwrap();
        }
        assert_eq!(input_bytes(std::slice::from_ref(&root)), 1040);
        // A file named on the command line counts whatever its extension.
        assert_eq!(input_bytes(&[root.join("gold.tsv"), root]), 1540);
        assert_eq!(input_bytes(&[PathBuf::from("-")]), 0);
    }

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_override_the_preset() {
        let cli = Cli::try_parse_from([
            "syndup",
            "scan",
            "x",
            "--preset",
            "near",
            "--threshold",
            "0.7",
            "--sentence-threshold",
            "0.4",
        ])
        .unwrap();
        let Command::Scan(a) = cli.command else {
            panic!()
        };
        let p = a.params.to_params(&a.input);
        assert_eq!(p.threshold, 0.7);
        assert_eq!(p.sentence_threshold, Some(0.4));
        assert_eq!(p.preset, Preset::Near);
    }
}
