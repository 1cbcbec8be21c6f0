//! `syndup check`: a CI gate. Exit 0 within budget, 1 over budget (findings printed), 2 on
//! error (which outranks 1). The decisions live in `syndup::check`; this file only layers the
//! settings (defaults < `syndup.toml` < flags) and wires the library together.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use syndup::check::config::CheckConfig;
use syndup::check::output::{CheckReport, Format};
use syndup::check::{AllowList, Baseline, Check, Config, FailOn, Reference, Scope};
use syndup::Detector;

use crate::cli::{InputArgs, MemoryArgs, ParamArgs, RunArgs};
use crate::exit::Exit;

/// `--format` values of `check`.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum CheckFormat {
    /// For people: findings with both texts, then the verdict.
    Text,
    /// JSON Lines: the `scan` contract over the new findings, plus `summary.check`.
    Jsonl,
    /// GitHub Actions workflow commands: one annotation per finding.
    Github,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
}

/// `--fail-on` values.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum FailOnArg {
    /// Any new finding fails (the default without --max-* limits).
    Any,
    /// Only the --max-* limits decide (the default with one).
    Budget,
    /// Report only; never fail on findings.
    Never,
}

/// Arguments of `syndup check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub params: ParamArgs,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub memory: MemoryArgs,
    /// Compare PATHS with this published corpus (file or directory; repeat the flag for more):
    /// new~published and new~new pairs are findings, published~published never are.
    #[arg(long, value_name = "PATH")]
    pub against: Vec<PathBuf>,
    /// When findings fail the check: any | budget (only the --max-* limits) | never.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOnArg>,
    /// Fail when more than this share of checked paragraphs is in a new finding (0 to 1).
    #[arg(long, value_name = "R")]
    pub max_duplicate_ratio: Option<f64>,
    /// Fail when the new findings form more than N clusters.
    #[arg(long, value_name = "N")]
    pub max_clusters: Option<usize>,
    /// Accept the findings recorded in FILE: only new ones count.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Ignore the baseline named in syndup.toml.
    #[arg(long, conflicts_with = "baseline")]
    pub no_baseline: bool,
    /// Record every current finding in FILE as accepted, then report against it (exit 0
    /// unless input was skipped, in which case nothing is written).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Paragraphs matching REGEX are never findings (repeatable; adds to syndup.toml's list).
    #[arg(long = "allow", value_name = "REGEX")]
    pub allow: Vec<String>,
    /// Read settings from FILE instead of looking for syndup.toml upwards from here (up to the
    /// repository root, the first directory holding .git).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Read no config file.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Print the effective settings as TOML (a valid syndup.toml) and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
}

impl CheckArgs {
    /// The settings given by flags, as a config layer.
    fn flags(&self) -> Config {
        Config {
            detect: self.params.overrides(&self.input),
            check: CheckConfig {
                fail_on: self.fail_on.map(|f| match f {
                    FailOnArg::Any => FailOn::Any,
                    FailOnArg::Budget => FailOn::Budget,
                    FailOnArg::Never => FailOn::Never,
                }),
                max_duplicate_ratio: self.max_duplicate_ratio,
                max_clusters: self.max_clusters,
                baseline: self.baseline.clone(),
                allow: self.allow.clone(),
            },
        }
    }

    /// The config file to read, if any.
    fn config_file(&self) -> Option<PathBuf> {
        if self.no_config {
            None
        } else if let Some(path) = &self.config {
            Some(path.clone())
        } else {
            Config::find(std::path::Path::new(""))
        }
    }
}

/// Runs the check and writes the findings and verdict to standard output.
pub fn run(args: CheckArgs) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let file = args.config_file();
    let from_file = match &file {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let mut settings = from_file.merged(args.flags());
    if args.no_baseline {
        settings.check.baseline = None;
    }
    if args.print_config {
        let origin = match &file {
            Some(path) => format!("# Config file: {}", path.display()),
            None => "# Config file: none (no syndup.toml here or in a parent directory, up to \
                     the repository root)"
                .into(),
        };
        let text = settings.effective().to_toml()?;
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        writeln!(
            out,
            "# Effective settings of `syndup check` (defaults < syndup.toml < flags).\n\
             {origin}\n# Paths are relative to the working directory.\n"
        )?;
        out.write_all(text.as_bytes())?;
        out.flush()?;
        return Ok(Exit::Clean);
    }

    // Values are checked once merged: an error names the config file they may come from.
    let origin = || match &file {
        Some(path) => format!("the settings of {} and the flags", path.display()),
        None => "the flags".to_string(),
    };
    let params = settings.params();
    let detector = Detector::new(params.clone()).with_context(origin)?;
    let budget = settings.budget();
    budget.validate().with_context(origin)?;
    let allow = AllowList::new(&settings.check.allow).with_context(origin)?;
    // Keys name sources relative to the baseline's directory, so that a baseline written from
    // one directory matches a check run from another.
    let baseline_file = args
        .write_baseline
        .as_ref()
        .or(settings.check.baseline.as_ref());
    let key_root = match baseline_file.and_then(|b| b.parent()) {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut check = Check::new(budget).allow(allow).key_root(key_root);
    // With --write-baseline the old baseline is replaced, so it is not read.
    if let (Some(path), None) = (&settings.check.baseline, &args.write_baseline) {
        let baseline = Baseline::load(path).with_context(|| {
            format!(
                "reading the baseline (create it with `syndup check ... --write-baseline {}`)",
                path.display()
            )
        })?;
        check = check.baseline(baseline);
    }
    let reference = if args.against.is_empty() {
        Reference::None
    } else {
        Reference::open_with(&args.against, &args.input.to_options(), &params)?
    };

    // The baseline never replaces a checked file, the reference or the config (a typo such as
    // `--write-baseline content/*.md` names the first file): the paths as given before
    // reading, every file read (those found in directories too) after.
    if let Some(path) = &args.write_baseline {
        let named: Vec<&std::path::Path> = args
            .input
            .paths
            .iter()
            .chain(&args.against)
            .chain(&file)
            .map(PathBuf::as_path)
            .collect();
        syndup::dedup::refuse_overwrite(path, &named)?;
        let named = format!("\"{}\"", syndup::check::baseline::FORMAT);
        crate::cli::refuse_replacing_other_files(
            path,
            4096,
            |head| memchr::memmem::find(head, named.as_bytes()).is_some(),
            "syndup baseline",
        )?;
    }
    let pool = args.run.pool()?;
    let disk = args.memory.decide(&params, &args.input.paths)?;
    let checked = crate::progress::read_corpus(&pool, &args.input, &params);
    let (corpus, scope) = pool.install(|| Scope::merge(checked, reference));
    args.input.report_skipped(&corpus)?;
    let found = pool.install(|| args.memory.detect(&detector, &corpus, disk))?;
    let mut outcome = pool.install(|| check.evaluate(&corpus, &found, &scope));
    if let Some(path) = &args.write_baseline {
        syndup::dedup::refuse_overwrite(path, &corpus.files)?;
        if corpus.skipped.is_empty() {
            let baseline = outcome.to_baseline(&corpus);
            baseline.save(path)?;
            eprintln!(
                "syndup: wrote {} accepted finding(s) to {} ({} baseline entries: one per key \
                 and paragraph)",
                outcome.findings.len(),
                path.display(),
                baseline.len(),
            );
            // Re-evaluating against the baseline just written gives the verdict it implies.
            outcome = check.baseline(baseline).evaluate(&corpus, &found, &scope);
        } else {
            eprintln!(
                "syndup: input was skipped; the baseline {} was not written",
                path.display()
            );
        }
    }

    let format = match args.format {
        CheckFormat::Text => Format::Text,
        CheckFormat::Jsonl => Format::Jsonl,
        CheckFormat::Github => Format::Github,
        CheckFormat::Sarif => Format::Sarif,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = CheckReport::new(
        &corpus,
        &found,
        &outcome,
        &params,
        started.elapsed().as_secs_f64(),
    )
    .write(format, &mut out)
    .and_then(|()| out.flush())
    .context("writing the check report");
    let code = if !corpus.skipped.is_empty() {
        Exit::Error
    } else if outcome.is_over_budget() {
        Exit::Findings
    } else {
        Exit::Clean
    };
    crate::exit::after_report(written, code)
}
