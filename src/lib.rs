//! # syndup: near-duplicate paragraphs in news
//!
//! The same wire story is republished by hundreds of sites: trimmed, re-led, captioned, padded
//! with boilerplate, sometimes reworded by a "spinner". syndup reads a corpus, splits it into
//! paragraphs and sentences, signs them with MinHash, finds candidates with locality-sensitive
//! hashing, verifies every candidate exactly and groups the verified pairs into clusters.
//!
//! ## Pipeline
//!
//! One module per stage; each says what it takes and what it gives:
//!
//! 1. [`input`]: paths → sources (memory-mapped) and paragraph spans, plus [`input::Skipped`]
//!    entries for everything unusable;
//! 2. [`segment`]: bytes → paragraph spans, paragraph → sentence spans;
//! 3. [`normalize`]: text → normalized words (NFKC, case folded, punctuation removed);
//! 4. [`shingle`]: words → seeded xxh3 hashes of word k-grams, and stemmed term hashes;
//! 5. [`minhash`]: hash sets → MinHash signatures in one flat array;
//! 6. [`lsh`]: signatures → candidate pairs (band keys grouped by sorting);
//! 7. [`verify`]: candidates → exactly scored pairs;
//! 8. [`cluster`]: pairs → clusters;
//! 9. [`report`]: clusters → text or JSON Lines.
//!
//! [`Detector`] drives them over a whole corpus; [`Detector::detect_lean`] and
//! [`Detector::detect_spilled`] ([`lean`]) run the same detection holding only band keys and
//! sentence terms (in temporary files) and compact per-paragraph data, for `syndup dedup` and
//! `syndup scan --memory disk` on inputs larger than memory should hold; [`eval`] scores a detection against a gold
//! file; [`check`] turns a detection into a CI verdict (budgets, baselines, allow-lists,
//! `syndup.toml`) and prints it as text, JSON Lines, GitHub annotations or SARIF; [`timing`]
//! measures each stage's wall and CPU time. [`Index`]
//! ([`index`]) applies the paragraph level incrementally, for crawlers: a
//! persistent, thread-safe set of seen paragraphs.
//!
//! ## Example
//!
//! ```
//! use syndup::{input::Corpus, Detector, Params};
//! let params = Params::default();
//! let corpus = Corpus::from_texts(&[
//!     ("wire.txt", "Four men were arrested in France on suspicion of plotting to kill an exiled activist.\n"),
//!     ("copy.txt", "Four men have been arrested in France on suspicion of plotting to kill the exiled activist.\n"),
//! ], &params);
//! let found = Detector::new(params)?.detect(&corpus);
//! assert_eq!(found.pairs.len(), 1);
//! assert!(found.pairs[0].similarity > 0.3);
//! # Ok::<(), syndup::Error>(())
//! ```
//!
//! ## Incremental index, for crawlers
//!
//! A crawler asks for each paragraph of each page, from many threads: "have I seen this, or
//! something close to it, before?" [`Index`] answers atomically ([`Index::observe`]) and
//! survives restarts ([`Index::save`], [`Index::open_or_create`]). `examples/crawler.rs` runs
//! the whole cycle: threads, save, reopen, continue.
//!
//! ```
//! use syndup::{Index, Params, Seen};
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("seen.syndup");
//! let index = Index::open_or_create(&path, Params::default())?;
//! let page = "Rescue teams searched the flooded valley on Tuesday for three hikers who went missing on Sunday, officials said.\n\
//!             Subscribe to our newsletter\n";
//! for p in index.observe_document("https://site-a.example/1", page) {
//!     assert!(p.seen.is_new());
//! }
//! let copy = "Rescue teams searched the flooded valley on Tuesday for three hikers who went missing on Sunday, police said.";
//! assert!(matches!(index.observe("https://site-b.example/7", copy), Seen::Duplicate { .. }));
//! index.save(&path)?; // temporary file, fsync, rename: a crash never leaves half a file
//! assert_eq!(Index::open(&path)?.len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Determinism
//!
//! Every hash is seeded from [`Params::seed`]; parallel stages keep input order and every list
//! of pairs is sorted, so the same input and parameters give the same result whatever the
//! number of threads.
#![deny(missing_docs)]

pub mod check;
pub mod cluster;
pub mod dedup;
pub mod detect;
pub mod error;
pub mod eval;
pub mod generate;
pub mod index;
pub mod input;
pub mod lean;
pub mod lsh;
pub mod minhash;
pub mod normalize;
pub mod params;
pub mod porter2;
pub mod report;
pub mod segment;
pub mod shingle;
pub mod timing;
pub mod verify;

pub use detect::{Detection, Detector, Pair};
pub use error::{Error, Result};
pub use index::{Index, Seen};
pub use lean::Matches;
pub use params::{Params, Preset};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// A xorshift64 generator for the unit tests' random inputs (seed not 0).
#[cfg(test)]
pub(crate) fn test_rng(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
