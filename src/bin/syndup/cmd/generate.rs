//! `syndup generate`: write a synthetic syndicated corpus with its ground truth.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use syndup::generate::{
    stories_from_blocks, stories_from_lines, write_corpus, write_corpus_jsonl, GenConfig, Story,
};

use crate::exit::Exit;

/// How stories are laid out in `--source` files.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum StoryLayout {
    /// One whole story per line (split into paragraphs of 1-3 sentences).
    Lines,
    /// Stories separated by blank lines, one paragraph per line.
    Blocks,
}

/// Arguments of `syndup generate`.
#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// News-like text the stories come from (several files allowed).
    #[arg(long, required = true)]
    pub source: Vec<PathBuf>,
    /// Layout of the source files.
    #[arg(long, value_enum, default_value_t = StoryLayout::Lines)]
    pub layout: StoryLayout,
    /// Number of documents to write.
    #[arg(long, default_value_t = 10_000)]
    pub docs: usize,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Most copies one original gets.
    #[arg(long)]
    pub max_copies: Option<usize>,
    /// Share of documents that are copies (the rest: originals and hard negatives), in [0, 1].
    #[arg(long, value_parser = crate::cli::parse_share)]
    pub copy_share: Option<f64>,
    /// Size of the common vocabulary of synthetic text (most frequent non-name word forms of
    /// the sources); other words of synthetic stories become pseudo-words [default: 1500].
    #[arg(long)]
    pub common_words: Option<usize>,
    /// Output directory: DIR/docs/dNNNNNN.txt (one paragraph per line) and DIR/truth.tsv.
    #[arg(long, required_unless_present = "jsonl")]
    pub out: Option<PathBuf>,
    /// Also (or instead) write the documents as JSON Lines to this file.
    #[arg(long)]
    pub jsonl: Option<PathBuf>,
}

/// Reads the sources and writes the corpus.
pub fn run(args: GenerateArgs) -> anyhow::Result<Exit> {
    let mut stories: Vec<Story> = Vec::new();
    for path in &args.source {
        let text = read_source(path)?;
        stories.extend(match args.layout {
            StoryLayout::Lines => stories_from_lines(&text),
            StoryLayout::Blocks => stories_from_blocks(&text),
        });
    }
    anyhow::ensure!(!stories.is_empty(), "no story found in the --source files");
    let mut cfg = GenConfig {
        docs: args.docs,
        seed: args.seed,
        ..GenConfig::default()
    };
    if let Some(v) = args.max_copies {
        cfg.max_copies = v;
    }
    if let Some(v) = args.copy_share {
        cfg.copy_share = v;
    }
    if let Some(v) = args.common_words {
        cfg.common_words = v;
    }
    if let Some(dir) = &args.out {
        let sum = write_corpus(&stories, &cfg, dir)
            .with_context(|| format!("writing the corpus to {}", dir.display()))?;
        eprintln!(
            "syndup: wrote {} documents and {} truth pairs to {}",
            sum.docs,
            sum.pairs,
            dir.display()
        );
    }
    if let Some(path) = &args.jsonl {
        let file =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        write_corpus_jsonl(&stories, &cfg, std::io::BufWriter::new(file))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(Exit::Clean)
}

/// A `--source` file's text: an error naming the file, and the line and byte where it is not
/// text (a NUL byte, invalid UTF-8), for what stories cannot be made of (a NUL byte went into
/// the generated documents, which `scan` then skipped as binary).
fn read_source(path: &std::path::Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let place = |at: usize| {
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
        format!("{}:{line} (byte {at})", path.display())
    };
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        anyhow::bail!("{}: binary file (NUL byte), not a story source", place(at));
    }
    if let Err(e) = std::str::from_utf8(&bytes) {
        anyhow::bail!(
            "{}: invalid UTF-8, not a story source",
            place(e.valid_up_to())
        );
    }
    Ok(String::from_utf8(bytes)?)
}
