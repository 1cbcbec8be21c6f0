//! Progress bars on standard error, drawn only when it is a terminal (never in pipes, files or
//! tests), with throughput and the time left.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use syndup::input::{Corpus, InputOptions};
use syndup::Params;

use crate::cli::InputArgs;

/// Total size of the named inputs, when every one is a regular file.
fn input_size(paths: &[std::path::PathBuf]) -> Option<u64> {
    paths
        .iter()
        .map(|p| {
            std::fs::metadata(p)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len())
        })
        .sum()
}

/// Reads the input in `pool`, with a bar of the bytes read when standard error is a terminal
/// (a spinner when the total is unknown: directories, standard input).
pub fn read_corpus(pool: &rayon::ThreadPool, input: &InputArgs, params: &Params) -> Corpus {
    read_corpus_with(pool, input, &input.to_options(), params)
}

/// [`read_corpus`] with explicit input options.
pub fn read_corpus_with(
    pool: &rayon::ThreadPool,
    input: &InputArgs,
    options: &InputOptions,
    params: &Params,
) -> Corpus {
    let bar = match input_size(&input.paths) {
        Some(total) => Bar::bytes(total, "reading"),
        None => Bar::spinner("reading"),
    };
    let corpus = pool.install(|| Corpus::open_with(&input.paths, options, params, &|n| bar.set(n)));
    bar.finish();
    corpus
}

/// A bar, or nothing when standard error is not a terminal.
pub struct Bar(Option<ProgressBar>);

impl Bar {
    /// A bar over `total` bytes.
    pub fn bytes(total: u64, what: &str) -> Bar {
        Bar::new(
            total,
            what,
            "{msg:>9} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
        )
    }

    /// A bar over `total` documents.
    pub fn count(total: u64, what: &str) -> Bar {
        Bar::new(
            total,
            what,
            "{msg:>9} [{bar:30}] {human_pos}/{human_len} {per_sec} eta {eta}",
        )
    }

    /// A spinner for a stage without a measure of progress.
    pub fn spinner(what: &str) -> Bar {
        if !std::io::stderr().is_terminal() {
            return Bar(None);
        }
        let bar = ProgressBar::new_spinner().with_message(what.to_string());
        bar.set_draw_target(ProgressDrawTarget::stderr());
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        Bar(Some(bar))
    }

    fn new(total: u64, what: &str, template: &str) -> Bar {
        if !std::io::stderr().is_terminal() {
            return Bar(None);
        }
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
            .with_style(style)
            .with_message(what.to_string());
        Bar(Some(bar))
    }

    /// Moves the bar to `n`.
    pub fn set(&self, n: u64) {
        if let Some(b) = &self.0 {
            b.set_position(n);
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
