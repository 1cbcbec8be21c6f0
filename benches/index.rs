//! Benchmark of [`syndup::Index`] at one million indexed paragraphs.
//!
//! Prints, for 1 and 2 threads: inserts per second while building a 1M-paragraph index (and,
//! for 1 thread, into an index reserved for 1M with [`Index::reserve`]), observes per second,
//! and queries per second against the full index (half of the queries are lightly edited
//! copies of indexed paragraphs, half are new); then bytes per indexed paragraph in memory and
//! on disk, and the time to save and to open the file. Criterion then measures the query rate
//! at 1 and 2 threads with its usual statistics. Next to each wall-clock rate the bench
//! prints the rate per CPU-second of the process (from `/proc/self/stat`): on a machine shared
//! with other work, that is the per-core figure.
//!
//! Paragraphs are synthesized deterministically: 30–70 words (about 330 bytes, the size of a
//! news paragraph) drawn with a Zipf-like law from 20,000 made-up words, so that common words
//! repeat as in real text. Nothing is downloaded.
//!
//! Run with `cargo bench --bench index`; `SYNDUP_BENCH_PARAGRAPHS=200000` runs a smaller one.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use syndup::index::{Index, Origin};
use syndup::Params;

/// A xorshift generator (deterministic, no dependency).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// 20,000 made-up words of 2–4 syllables.
fn vocabulary() -> Vec<String> {
    const SYL: [&str; 24] = [
        "ka", "lo", "mer", "tin", "sa", "ve", "ron", "di", "pel", "gua", "nor", "es", "tri", "mun",
        "da", "lie", "port", "an", "sto", "reb", "ul", "cha", "wen", "fi",
    ];
    let mut rng = Rng(0x5eed);
    (0..20_000)
        .map(|_| {
            let n = 2 + rng.below(3);
            (0..n).map(|_| SYL[rng.below(24) as usize]).collect()
        })
        .collect()
}

/// Paragraph texts in one buffer.
struct Texts {
    buf: String,
    ends: Vec<usize>,
}

impl Texts {
    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start..self.ends[i]]
    }

    fn len(&self) -> usize {
        self.ends.len()
    }
}

/// Picks a word index with a Zipf-like law: rank ≈ 20000^u² favours the first words.
fn zipf(rng: &mut Rng) -> usize {
    let u = (rng.below(1 << 20) as f64) / f64::from(1 << 20);
    (20_000f64.powf(u * u) as usize).min(19_999)
}

fn paragraph(vocab: &[String], seed: u64, out: &mut String) {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let n = 30 + rng.below(41);
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&vocab[zipf(&mut rng)]);
    }
    out.push('.');
}

/// `n` paragraphs, paragraph `i` from seed `i`.
fn corpus(vocab: &[String], n: usize) -> Texts {
    let mut t = Texts {
        buf: String::with_capacity(n * 340),
        ends: Vec::with_capacity(n),
    };
    for i in 0..n {
        paragraph(vocab, i as u64, &mut t.buf);
        t.ends.push(t.buf.len());
    }
    t
}

/// Queries: even ones are indexed paragraphs with every 20th word replaced (a light edit),
/// odd ones are paragraphs never indexed.
fn queries(vocab: &[String], indexed: &Texts, n: usize) -> Texts {
    let mut rng = Rng(0xbeef);
    let mut t = Texts {
        buf: String::new(),
        ends: Vec::new(),
    };
    for q in 0..n {
        if q % 2 == 0 {
            let src = indexed.get(rng.below(indexed.len() as u64) as usize);
            for (i, w) in src.split(' ').enumerate() {
                if i > 0 {
                    t.buf.push(' ');
                }
                if i % 20 == 10 {
                    t.buf.push_str(&vocab[rng.below(20_000) as usize]);
                } else {
                    t.buf.push_str(w);
                }
            }
        } else {
            paragraph(vocab, (1 << 40) + q as u64, &mut t.buf);
        }
        t.ends.push(t.buf.len());
    }
    t
}

/// CPU seconds used by this process so far (user + system, from `/proc/self/stat`; Linux
/// only, `None` elsewhere). On a machine shared with other work, operations per CPU-second
/// is the per-core rate that wall-clock time cannot show.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // Clock ticks are 1/100 s on Linux.
    Some((utime + stime) / 100.0)
}

thread_local! {
    static CPU: std::cell::Cell<Option<f64>> = const { std::cell::Cell::new(None) };
}

/// The CPU seconds the last [`timed`] call used.
fn last_cpu() -> Option<f64> {
    CPU.with(|c| c.get())
}

/// Runs `f(i)` for `i in 0..n` on `threads` threads (interleaved), returning the wall time.
fn timed<F: Fn(usize) + Sync>(n: usize, threads: usize, f: F) -> Duration {
    let cpu_start = cpu_seconds();
    let d = timed_wall(n, threads, f);
    let cpu = cpu_start.zip(cpu_seconds()).map(|(a, b)| b - a);
    CPU.with(|c| c.set(cpu));
    d
}

fn timed_wall<F: Fn(usize) + Sync>(n: usize, threads: usize, f: F) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let f = &f;
            s.spawn(move || {
                let mut i = t;
                while i < n {
                    f(i);
                    i += threads;
                }
            });
        }
    });
    start.elapsed()
}

/// Operations per wall-clock second, and per CPU-second of the last [`timed`] call.
fn rate(n: usize, d: Duration) -> String {
    let wall = format!("{:>9.0}/s", n as f64 / d.as_secs_f64());
    match last_cpu() {
        Some(cpu) if cpu > 0.0 => format!("{wall} wall, {:>9.0} per CPU-second", n as f64 / cpu),
        _ => wall,
    }
}

/// The parameters benched: the defaults, with `SYNDUP_BENCH_SIGNATURE=oph` choosing
/// one-permutation hashing instead of independent hash functions.
fn params() -> Params {
    let mut p = Params::default();
    if std::env::var("SYNDUP_BENCH_SIGNATURE").as_deref() == Ok("oph") {
        p.signature = syndup::minhash::Scheme::Oph;
    }
    p
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("SYNDUP_BENCH_PARAGRAPHS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let vocab = vocabulary();
    let texts = corpus(&vocab, n);
    let qs = queries(&vocab, &texts, 200_000);
    let mean_bytes = texts.buf.len() as f64 / n as f64;
    println!(
        "index bench: {n} paragraphs of {mean_bytes:.0} bytes on average, default params \
         (128 hashes, 25 bands x 5 rows, threshold 0.5), signature {:?}",
        params().signature
    );

    // Build with 1 thread, then with 2 (into separate indexes), growing the tables as they
    // fill; then with 1 thread into an index reserved for n paragraphs (no table growth).
    let mut built = None;
    for (threads, reserved) in [(1, false), (2, false), (1, true)] {
        let index = Index::new(params()).expect("default params are valid");
        if reserved {
            index.reserve(n);
        }
        let d = timed(n, threads, |i| {
            black_box(index.insert(Origin::new("bench").at(i as u64, 0), texts.get(i)));
        });
        println!(
            "insert  {threads} thread(s): {}{}",
            rate(n, d),
            if reserved {
                " (tables reserved for all paragraphs)"
            } else {
                " (tables grow as they fill)"
            }
        );
        if threads == 1 && !reserved {
            built = Some(index);
        }
    }
    for threads in [1, 2] {
        let index = Index::new(params()).expect("default params are valid");
        let m = n.min(qs.len() * 2);
        let d = timed(m, threads, |i| {
            let text = if i % 2 == 0 {
                texts.get(i / 2)
            } else {
                qs.get(i / 2)
            };
            black_box(index.observe("bench", text));
        });
        println!(
            "observe {threads} thread(s): {} ({m} paragraphs, half copies)",
            rate(m, d)
        );
    }
    let Some(index) = built else { return };
    for threads in [1, 2] {
        let found = std::sync::atomic::AtomicUsize::new(0);
        let d = timed(qs.len(), threads, |i| {
            if !index.query(qs.get(i)).is_empty() {
                found.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
        println!(
            "query   {threads} thread(s): {} at {n} indexed ({} of {} queries matched; {} were copies)",
            rate(qs.len(), d),
            found.into_inner(),
            qs.len(),
            qs.len() / 2
        );
    }
    let stats = index.stats();
    let dir = std::env::temp_dir().join(format!("syndup-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("bench.syndup");
    let t = Instant::now();
    index.save(&path).expect("save");
    let saved = t.elapsed();
    let file = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let t = Instant::now();
    let reopened = Index::open(&path).expect("open");
    let opened = t.elapsed();
    println!(
        "memory: {:.1} bytes per indexed paragraph ({} bytes for {} paragraphs; load factor {:.2})",
        stats.bytes_per_entry, stats.bytes, stats.entries, stats.load_factor
    );
    println!(
        "after open: {:.1} bytes per paragraph; file: {:.1} bytes per paragraph; save {:.2} s, open {:.2} s",
        reopened.stats().bytes_per_entry,
        file as f64 / stats.entries as f64,
        saved.as_secs_f64(),
        opened.as_secs_f64()
    );
    drop(reopened);
    let _ = std::fs::remove_dir_all(&dir);

    let mut group = c.benchmark_group("index_query");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(1));
    for threads in [1usize, 2] {
        group.bench_with_input(
            BenchmarkId::new(format!("{n}_indexed"), format!("{threads}_threads")),
            &threads,
            |b, &threads| {
                b.iter_custom(|iters| {
                    let iters = iters as usize;
                    timed_wall(iters, threads, |i| {
                        black_box(index.query(qs.get(i % qs.len())));
                    })
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
