//! A crawler's use of [`syndup::Index`]: several threads fetch pages and ask, for every
//! paragraph, whether it (or something close to it) was seen before; the index is saved, the
//! crawler "restarts", reopens it and goes on.
//!
//! Run with `cargo run --release --example crawler [INDEX_FILE]` (default: a file in the
//! system's temporary directory). The pages are synthesized: a few wire stories republished by
//! many sites with small edits, plus site boilerplate.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use syndup::{Index, Params, Seen};

/// A deterministic pseudo-random number generator (xorshift).
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

const WORDS: &[&str] = &[
    "officials",
    "said",
    "on",
    "Tuesday",
    "that",
    "the",
    "storm",
    "had",
    "closed",
    "roads",
    "across",
    "valley",
    "while",
    "rescue",
    "teams",
    "searched",
    "for",
    "missing",
    "hikers",
    "government",
    "announced",
    "new",
    "measures",
    "to",
    "support",
    "farmers",
    "after",
    "weeks",
    "of",
    "flooding",
    "minister",
    "told",
    "reporters",
    "in",
    "capital",
    "talks",
    "would",
    "resume",
    "next",
    "month",
    "prices",
    "rose",
    "sharply",
    "markets",
    "fell",
    "investors",
    "worried",
    "about",
    "inflation",
    "court",
    "ruled",
    "company",
    "must",
    "pay",
    "damages",
];

/// Wire story `s`, paragraph `p`: 35–55 words.
fn wire(s: u64, p: u64) -> Vec<&'static str> {
    let mut st = (s * 131 + p + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let n = 35 + next(&mut st) % 21;
    (0..n)
        .map(|_| WORDS[(next(&mut st) % WORDS.len() as u64) as usize])
        .collect()
}

/// Page `n`: a site's republication of two wire stories, lightly edited, with boilerplate.
fn page(n: u64) -> (String, String) {
    let site = n % 7;
    let mut st = n.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1;
    let mut text = String::from("Subscribe to our newsletter\n");
    for _ in 0..2 {
        let story = next(&mut st) % 12;
        for p in 0..4 {
            let mut words = wire(story, p);
            // Each site re-leads the last sentence a little differently.
            let at = words.len() - 1 - (site as usize % 3);
            words[at] = ["reportedly", "officially", "again"][(n % 3) as usize];
            text.push_str(&words.join(" "));
            text.push_str(".\n");
        }
    }
    text.push_str("Photo: agency pool\n");
    (format!("https://site{site}.example/news/{n}"), text)
}

/// Feeds pages `range` to the index from `threads` threads; returns (new, duplicate) counts.
fn crawl(index: &Index, range: std::ops::Range<u64>, threads: usize) -> (usize, usize) {
    let queue = Mutex::new(range);
    let (new, dup) = (AtomicUsize::new(0), AtomicUsize::new(0));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while let Some(n) = queue.lock().ok().and_then(|mut q| q.next()) {
                    let (url, text) = page(n);
                    for p in index.observe_document(&url, &text) {
                        match p.seen {
                            Seen::New(_) => new.fetch_add(1, Ordering::Relaxed),
                            Seen::Duplicate { .. } => dup.fetch_add(1, Ordering::Relaxed),
                            Seen::Empty | Seen::TooLong => 0,
                        };
                    }
                }
            });
        }
    });
    (new.into_inner(), dup.into_inner())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).map_or_else(
        || std::env::temp_dir().join("syndup-crawler-example.syndup"),
        Into::into,
    );
    let _ = std::fs::remove_file(&path);

    // First run: four threads, then save (temp file + fsync + rename).
    let index = Index::open_or_create(&path, Params::default())?;
    let (new, dup) = crawl(&index, 0..300, 4);
    index.save(&path)?;
    println!(
        "run 1: 300 pages, {new} new paragraphs, {dup} duplicates; saved {} paragraphs to {}",
        index.len(),
        path.display()
    );
    drop(index);

    // The crawler restarts: reopen (the parameters must match) and go on.
    let index = Index::open_or_create(&path, Params::default())?;
    let (new, dup) = crawl(&index, 300..600, 4);
    index.save(&path)?;
    let stats = index.stats();
    println!(
        "run 2: 300 more pages, {new} new paragraphs, {dup} duplicates; {} paragraphs stored, \
         {:.0} bytes each in memory",
        stats.entries, stats.bytes_per_entry
    );

    // Where did a paragraph of the last page come from?
    let (_, text) = page(599);
    if let Some(first) = text.lines().nth(1) {
        if let Some(m) = index.query(first).first() {
            if let Some(origin) = index.entry(m.id) {
                println!(
                    "first story paragraph of page 599 was first seen at {} line {} (similarity {:.2})",
                    origin.key, origin.line, m.similarity
                );
            }
        }
    }
    Ok(())
}
