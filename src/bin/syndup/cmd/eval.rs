//! `syndup eval`: precision, recall and F1 of detection against a gold file.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use syndup::eval::{score, Gold, Scores};
use syndup::{Detector, Params};

use crate::cli::{InputArgs, ParamArgs, RunArgs};
use crate::exit::Exit;

/// Arguments of `syndup eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub params: ParamArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Gold file: `line_a<TAB>line_b<TAB>label` (one-file corpus) or
    /// `source:line<TAB>source:line<TAB>label` (paths relative to the gold file).
    #[arg(long)]
    pub gold: PathBuf,
    /// Labels that may be flagged or not (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "loose,boilerplate")]
    pub optional: Vec<String>,
    /// Also print a sweep over the deciding threshold (comma-separated values).
    #[arg(long, value_delimiter = ',', num_args = 0..)]
    pub sweep: Option<Vec<f64>>,
    /// How many false and missed pairs to list (0: none).
    #[arg(long, default_value_t = 20)]
    pub show: usize,
    /// Exit 1 when precision is below this.
    #[arg(long)]
    pub min_precision: Option<f64>,
    /// Exit 1 when recall is below this.
    #[arg(long)]
    pub min_recall: Option<f64>,
}

/// Runs detection and prints the scores.
pub fn run(args: EvalArgs) -> anyhow::Result<Exit> {
    let params = args.params.to_params(&args.input);
    // Every value is checked before the corpus is read: a bad sweep value was an error after
    // the detections before it had run, and a gate of NaN or 90 (a percentage) could never
    // fail or never pass.
    for (flag, value) in [
        ("--min-precision", args.min_precision),
        ("--min-recall", args.min_recall),
    ] {
        if let Some(v) = value {
            anyhow::ensure!(
                (0.0..=1.0).contains(&v),
                "{flag} {v} is not in [0, 1] (a share: 0.9, not 90)"
            );
        }
    }
    Detector::new(params.clone())?;
    for &v in sweep_values(&args).unwrap_or(&[]) {
        Detector::new(swept(&params, v)).with_context(|| format!("--sweep value {v}"))?;
    }
    let pool = args.run.pool()?;
    let corpus = crate::progress::read_corpus(&pool, &args.input, &params);
    args.input.report_skipped(&corpus)?;
    let gold = Gold::load(&args.gold, &corpus)?;
    let detect = |p: &Params| -> anyhow::Result<Scores> {
        let found = pool.install(|| Detector::new(p.clone()).map(|d| d.detect(&corpus)))?;
        Ok(score(&gold, &found, &args.optional))
    };
    let s = detect(&params)?;
    // The verdict is known before the report is written: a reader that goes away (`| head`)
    // does not turn it into 0.
    let below = args.min_precision.is_some_and(|m| s.precision() < m)
        || args.min_recall.is_some_and(|m| s.recall() < m);
    let code = if !corpus.skipped.is_empty() {
        Exit::Error
    } else if below {
        Exit::Findings
    } else {
        Exit::Clean
    };
    let written = (|| -> anyhow::Result<()> {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let loc = |i: u32| {
            let p = &corpus.paragraphs[i as usize];
            format!("{}:{}", corpus.source_name(p), p.line)
        };
        let text =
            |i: u32| syndup::report::snippet(corpus.text(&corpus.paragraphs[i as usize]), 70);
        writeln!(
            out,
            "gold {}: {} pairs; {} paragraphs in {} files; preset {}",
            args.gold.display(),
            gold.pairs.len(),
            corpus.paragraphs.len(),
            corpus.sources.len(),
            params.preset.name()
        )?;
        writeln!(
            out,
            "{:<14} {:>7} {:>7} {:>7}",
            "label", "pairs", "found", "recall"
        )?;
        for (label, l) in &s.labels {
            let name = if l.optional {
                format!("{label} (opt)")
            } else {
                label.clone()
            };
            writeln!(
                out,
                "{:<14} {:>7} {:>7} {:>7.3}",
                name,
                l.total,
                l.found,
                l.recall()
            )?;
        }
        writeln!(
            out,
            "precision {:.3}  recall {:.3}  F1 {:.3}  ({} true, {} optional, {} false, {} missed)",
            s.precision(),
            s.recall(),
            s.f1(),
            s.true_pairs,
            s.optional_pairs,
            s.false_pairs.len(),
            s.missed.len()
        )?;
        if args.show > 0 {
            for &(a, b, sim) in s.false_pairs.iter().take(args.show) {
                writeln!(out, "false  {} ~ {}  {sim:.3}", loc(a), loc(b))?;
                writeln!(out, "         {}\n         {}", text(a), text(b))?;
            }
            for (a, b, label) in s.missed.iter().take(args.show) {
                writeln!(out, "missed {} ~ {}  [{label}]", loc(*a), loc(*b))?;
                writeln!(out, "         {}\n         {}", text(*a), text(*b))?;
            }
        }
        if let Some(values) = &args.sweep {
            let sentence = params.sentence_threshold.is_some();
            let knob = if sentence {
                "sentence_threshold"
            } else {
                "threshold"
            };
            let values = sweep_values(&args).unwrap_or(values);
            writeln!(out, "sweep of {knob}:")?;
            writeln!(
                out,
                "{:>8} {:>9} {:>7} {:>7} {:>7} {:>7}",
                knob.split('_').next().unwrap_or(knob),
                "precision",
                "recall",
                "F1",
                "false",
                "missed"
            )?;
            for &v in values {
                let s = detect(&swept(&params, v))?;
                writeln!(
                    out,
                    "{:>8.3} {:>9.3} {:>7.3} {:>7.3} {:>7} {:>7}",
                    v,
                    s.precision(),
                    s.recall(),
                    s.f1(),
                    s.false_pairs.len(),
                    s.missed.len()
                )?;
            }
        }
        out.flush().context("writing the evaluation")?;
        Ok(())
    })();
    crate::exit::after_report(written, code)
}

/// The thresholds `--sweep` tries: the values given, or the defaults for a bare `--sweep`.
fn sweep_values(args: &EvalArgs) -> Option<&[f64]> {
    const DEFAULTS: [f64; 7] = [0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6];
    args.sweep.as_deref().map(|values| {
        if values.is_empty() {
            &DEFAULTS[..]
        } else {
            values
        }
    })
}

/// `params` with the deciding threshold set to `v`: the sentence threshold when the sentence
/// level is on, else the paragraph threshold.
fn swept(params: &Params, v: f64) -> Params {
    let mut p = params.clone();
    if p.sentence_threshold.is_some() {
        p.sentence_threshold = Some(v);
    } else {
        p.threshold = v;
    }
    p
}
