//! Criterion benchmarks of the pipeline stages, each against a naive baseline in the same group.
//!
//! Groups (every one reports `Throughput::Bytes`, so results read as MB/s of paragraph text):
//!
//! * `normalize`: [`Words::normalize`] over every paragraph vs `to_lowercase()` + split on
//!   non-alphanumeric characters into a `Vec<String>`.
//! * `shingle`: [`Shingler::hash_into`] over the normalized words vs building a `String` per
//!   k-gram (words joined) and hashing it with `DefaultHasher`.
//! * `stem`: [`TermHasher::hash`] (English; the ASCII words through the allocation-free
//!   Porter2 port) of every word vs rust-stemmers' English `stem` into a `String`, hashed with
//!   `DefaultHasher`. No term cache on either side: this is the cost of a cache miss.
//! * `minhash`: [`MinHasher::sign`] (128 values, the default scheme, one thread) over each
//!   paragraph's shingle set vs 128 independent `DefaultHasher` hashes seeded by `i` per
//!   shingle.
//! * `lsh`: [`lsh::candidate_pairs`] (banding of preset `near`, rayon over bands) vs a
//!   `HashMap<u64, Vec<u32>>` of band keys per band.
//! * `verify`: [`verify::jaccard`] on sorted vectors vs `HashSet` intersection / union counts,
//!   over every paragraph paired with the next 16 (bytes: both paragraphs' text per pair).
//! * `verify_sentences`: [`verify::overlap_at_least`] (the sentence score; name weight 0.5, at
//!   least 6 shared terms) over each sentence's terms (stemmed word hashes folded to 32 bits,
//!   IDF-weighted by their frequency among the input's sentences) paired with the next 16, with
//!   the keys given as one slice (vector compares where the CPU has AVX-512 or AVX2, as the in-memory
//!   detector's records give them: `syndup`) and key by key (`key_by_key`), vs a `HashMap` of
//!   one side's terms probed with the other's (`naive`); bytes: both sentences' text per pair.
//! * `end_to_end`: [`Detector::detect`] on a whole corpus for the presets `exact`, `near` and
//!   `paraphrase` vs an exact-hash dedup of naively normalized paragraphs (a `HashMap` of
//!   normalized `String` → first index). Opening the corpus is not timed.
//!
//! Inputs: the bundled `corpus/` directory, and, when the environment variable
//! `SYNDUP_BENCH_TEXT` names a file, that file too (one paragraph per non-empty line, such as a
//! news dump with one story per line). Third-party text is read at bench time, never committed.
//!
//! Run with `cargo bench --bench pipeline`, or
//! `SYNDUP_BENCH_TEXT=/path/to/stories.txt cargo bench --bench pipeline`; add a filter such as
//! `-- minhash` to run one group. Samples are few and short so the whole run stays within a
//! few minutes on two cores.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use syndup::input::Corpus;
use syndup::lsh;
use syndup::minhash::{MinHasher, Signatures};
use syndup::normalize::Words;
use syndup::shingle::{Language, Shingler, TermHasher};
use syndup::verify;
use syndup::{Detector, Params, Preset};

/// Paragraphs compared with each paragraph in the `verify` group (the following ones).
const VERIFY_WINDOW: usize = 16;

/// One benchmark input with its precomputed stage inputs.
struct Input {
    name: String,
    corpus: Corpus,
    paragraphs: Vec<String>,
    words: Vec<Words>,
    /// Sorted, deduplicated shingle hashes per paragraph.
    sets: Vec<Vec<u64>>,
}

impl Input {
    fn load(name: &str, path: &Path, params: &Params) -> Input {
        let corpus = Corpus::open(&[path], params);
        let paragraphs: Vec<String> = corpus
            .paragraphs
            .iter()
            .map(|p| corpus.text(p).to_string())
            .collect();
        let words: Vec<Words> = paragraphs
            .iter()
            .map(|t| {
                let mut w = Words::default();
                w.normalize(t);
                w
            })
            .collect();
        let shingler = Shingler::new(params.shingle_words, params.seed);
        let sets = words
            .iter()
            .map(|w| {
                let mut s = Vec::new();
                shingler.hash_into(w, &mut s);
                s.sort_unstable();
                s.dedup();
                s
            })
            .collect();
        Input {
            name: name.to_string(),
            corpus,
            paragraphs,
            words,
            sets,
        }
    }

    fn text_bytes(&self) -> u64 {
        self.paragraphs.iter().map(|p| p.len() as u64).sum()
    }
}

fn inputs(params: &Params) -> Vec<Input> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut out = vec![Input::load("corpus", &dir, params)];
    if let Some(path) = std::env::var_os("SYNDUP_BENCH_TEXT").map(PathBuf::from) {
        if path.is_file() {
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("text")
                .to_string();
            out.push(Input::load(&name, &path, params));
        } else {
            eprintln!(
                "SYNDUP_BENCH_TEXT={} is not a file; benchmarking corpus/ only",
                path.display()
            );
        }
    }
    for i in &out {
        eprintln!(
            "input {}: {} paragraphs, {} bytes of paragraph text",
            i.name,
            i.paragraphs.len(),
            i.text_bytes()
        );
    }
    out
}

// ---- naive baselines ----

fn naive_words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

fn naive_shingles(words: &Words, k: usize, out: &mut Vec<u64>) {
    let list: Vec<&str> = words.iter().collect();
    if list.is_empty() {
        return;
    }
    let hash = |s: &str| {
        let mut h = DefaultHasher::new();
        s.hash(&mut h);
        h.finish()
    };
    if list.len() < k {
        out.push(hash(&list.join(" ")));
        return;
    }
    for gram in list.windows(k) {
        let s: String = gram.join(" ");
        out.push(hash(&s));
    }
}

fn naive_sign(set: &[u64], out: &mut [u64]) {
    out.fill(u64::MAX);
    for &x in set {
        for (i, o) in out.iter_mut().enumerate() {
            let mut h = DefaultHasher::new();
            i.hash(&mut h);
            x.hash(&mut h);
            *o = (*o).min(h.finish());
        }
    }
}

fn naive_candidates(sigs: &Signatures, units: &[u32], banding: (usize, usize)) -> Vec<(u32, u32)> {
    let (bands, rows) = banding;
    let mut all = Vec::new();
    for band in 0..bands {
        let mut buckets: HashMap<u64, Vec<u32>> = HashMap::new();
        for &u in units {
            let row = sigs.row(u as usize);
            let mut h = DefaultHasher::new();
            band.hash(&mut h);
            row[band * rows..(band + 1) * rows].hash(&mut h);
            buckets.entry(h.finish()).or_default().push(u);
        }
        for members in buckets.values() {
            for (x, &a) in members.iter().enumerate() {
                for &b in &members[x + 1..] {
                    all.push((a.min(b), a.max(b)));
                }
            }
        }
    }
    all.sort_unstable();
    all.dedup();
    all
}

fn naive_jaccard(a: &HashSet<u64>, b: &HashSet<u64>) -> f64 {
    let inter = a.intersection(b).count();
    let union = a.union(b).count();
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

fn naive_dedup(corpus: &Corpus) -> Vec<(u32, u32)> {
    let mut first: HashMap<String, u32> = HashMap::new();
    let mut dups = Vec::new();
    for (i, p) in corpus.paragraphs.iter().enumerate() {
        let norm = naive_words(corpus.text(p)).join(" ");
        if norm.is_empty() {
            continue;
        }
        let f = *first.entry(norm).or_insert(i as u32);
        if f != i as u32 {
            dups.push((f, i as u32));
        }
    }
    dups
}

// ---- groups ----

fn bench_normalize(c: &mut Criterion, inputs: &[Input]) {
    let mut g = c.benchmark_group("normalize");
    for input in inputs {
        g.throughput(Throughput::Bytes(input.text_bytes()));
        g.bench_with_input(BenchmarkId::new("syndup", &input.name), input, |b, i| {
            let mut w = Words::default();
            b.iter(|| {
                let mut n = 0;
                for p in &i.paragraphs {
                    w.normalize(black_box(p));
                    n += w.len();
                }
                n
            })
        });
        g.bench_with_input(BenchmarkId::new("naive", &input.name), input, |b, i| {
            b.iter(|| {
                let mut n = 0;
                for p in &i.paragraphs {
                    n += naive_words(black_box(p)).len();
                }
                n
            })
        });
    }
    g.finish();
}

fn bench_shingle(c: &mut Criterion, inputs: &[Input], params: &Params) {
    let mut g = c.benchmark_group("shingle");
    let shingler = Shingler::new(params.shingle_words, params.seed);
    for input in inputs {
        g.throughput(Throughput::Bytes(input.text_bytes()));
        g.bench_with_input(BenchmarkId::new("syndup", &input.name), input, |b, i| {
            let mut out = Vec::new();
            b.iter(|| {
                out.clear();
                for w in &i.words {
                    shingler.hash_into(black_box(w), &mut out);
                }
                out.len()
            })
        });
        g.bench_with_input(BenchmarkId::new("naive", &input.name), input, |b, i| {
            let mut out = Vec::new();
            b.iter(|| {
                out.clear();
                for w in &i.words {
                    naive_shingles(black_box(w), params.shingle_words, &mut out);
                }
                out.len()
            })
        });
    }
    g.finish();
}

fn bench_stem(c: &mut Criterion, inputs: &[Input], params: &Params) {
    let mut g = c.benchmark_group("stem");
    let english = Language::detect("The police said on Monday that four men had been arrested.");
    let hasher = TermHasher::new(english, params.seed);
    let stemmer = rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English);
    for input in inputs {
        g.throughput(Throughput::Bytes(input.text_bytes()));
        g.bench_with_input(BenchmarkId::new("syndup", &input.name), input, |b, i| {
            b.iter(|| {
                let mut x = 0u64;
                for w in i.words.iter().flat_map(|w| w.iter()) {
                    x ^= hasher.hash(black_box(w));
                }
                x
            })
        });
        g.bench_with_input(BenchmarkId::new("naive", &input.name), input, |b, i| {
            b.iter(|| {
                let mut x = 0u64;
                for w in i.words.iter().flat_map(|w| w.iter()) {
                    let stem: String = stemmer.stem(black_box(w)).into_owned();
                    let mut h = DefaultHasher::new();
                    stem.hash(&mut h);
                    x ^= h.finish();
                }
                x
            })
        });
    }
    g.finish();
}

fn bench_minhash(c: &mut Criterion, inputs: &[Input], params: &Params) {
    let mut g = c.benchmark_group("minhash");
    // The naive baseline takes ~30 ms per iteration: equal-sized samples fit the time budget.
    g.sampling_mode(SamplingMode::Flat);
    let hasher = MinHasher::with_scheme(params.num_hashes, params.seed, params.signature);
    for input in inputs {
        g.throughput(Throughput::Bytes(input.text_bytes()));
        g.bench_with_input(BenchmarkId::new("syndup", &input.name), input, |b, i| {
            let mut sig = vec![0u32; params.num_hashes];
            b.iter(|| {
                let mut acc = 0u32;
                for s in &i.sets {
                    hasher.sign(black_box(s), &mut sig);
                    acc ^= sig[0];
                }
                acc
            })
        });
        g.bench_with_input(BenchmarkId::new("naive", &input.name), input, |b, i| {
            let mut sig = vec![0u64; params.num_hashes];
            b.iter(|| {
                let mut acc = 0u64;
                for s in &i.sets {
                    naive_sign(black_box(s), &mut sig);
                    acc ^= sig[0];
                }
                acc
            })
        });
    }
    g.finish();
}

fn bench_lsh(c: &mut Criterion, inputs: &[Input]) {
    let params = Params::preset(Preset::Near);
    let banding = params.banding();
    let hasher = MinHasher::new(params.num_hashes, params.seed);
    let mut g = c.benchmark_group("lsh");
    for input in inputs {
        let sigs = Signatures::compute(&hasher, &input.sets);
        let units: Vec<u32> = (0..input.sets.len() as u32)
            .filter(|&u| !input.sets[u as usize].is_empty())
            .collect();
        g.throughput(Throughput::Bytes(input.text_bytes()));
        g.bench_function(BenchmarkId::new("syndup", &input.name), |b| {
            b.iter(|| {
                lsh::candidate_pairs(
                    black_box(&sigs),
                    &units,
                    banding,
                    params.seed,
                    params.max_bucket,
                )
            })
        });
        g.bench_function(BenchmarkId::new("naive", &input.name), |b| {
            b.iter(|| naive_candidates(black_box(&sigs), &units, banding))
        });
    }
    g.finish();
}

fn bench_verify(c: &mut Criterion, inputs: &[Input]) {
    let mut g = c.benchmark_group("verify");
    for input in inputs {
        let n = input.sets.len();
        let pairs: Vec<(usize, usize)> = (0..n)
            .flat_map(|a| (a + 1..n.min(a + 1 + VERIFY_WINDOW)).map(move |b| (a, b)))
            .collect();
        let bytes: u64 = pairs
            .iter()
            .map(|&(a, b)| (input.paragraphs[a].len() + input.paragraphs[b].len()) as u64)
            .sum();
        let hash_sets: Vec<HashSet<u64>> = input
            .sets
            .iter()
            .map(|s| s.iter().copied().collect())
            .collect();
        g.throughput(Throughput::Bytes(bytes));
        g.bench_function(BenchmarkId::new("syndup", &input.name), |b| {
            b.iter(|| {
                pairs
                    .iter()
                    .map(|&(x, y)| verify::jaccard(black_box(&input.sets[x]), &input.sets[y]))
                    .sum::<f64>()
            })
        });
        g.bench_function(BenchmarkId::new("naive", &input.name), |b| {
            b.iter(|| {
                pairs
                    .iter()
                    .map(|&(x, y)| naive_jaccard(black_box(&hash_sets[x]), &hash_sets[y]))
                    .sum::<f64>()
            })
        });
    }
    g.finish();
}

/// One sentence's terms for the `verify_sentences` group: sorted distinct 32-bit keys, their
/// IDF weights and name flags, and the sentence's length in bytes.
struct SentenceTerms {
    keys: Vec<u32>,
    weights: Vec<f32>,
    names: Vec<bool>,
    total: f64,
    bytes: usize,
}

impl SentenceTerms {
    fn side(&self) -> verify::Side<'_, u32> {
        verify::Side {
            terms: &self.keys,
            weights: &self.weights,
            names: &self.names,
            total: self.total,
        }
    }
}

/// A sentence whose keys are one slice, as the in-memory detector's records are.
struct Sliced<'a>(verify::Side<'a, u32>);

impl verify::Sentence for Sliced<'_> {
    type Key = u32;
    fn len(&self) -> usize {
        self.0.terms.len()
    }
    fn key(&self, i: usize) -> u32 {
        self.0.terms[i]
    }
    fn weight(&self, i: usize) -> f32 {
        self.0.weights[i]
    }
    fn name(&self, i: usize) -> bool {
        self.0.names[i]
    }
    fn total(&self) -> f64 {
        self.0.total
    }
    fn keys32(&self) -> Option<&[u32]> {
        Some(self.0.terms)
    }
}

/// The sentences (of 8 words or more) of every paragraph, as [`SentenceTerms`].
fn sentence_terms(input: &Input, params: &Params) -> Vec<SentenceTerms> {
    let mut raw: Vec<(Vec<u32>, Vec<bool>, usize)> = Vec::new();
    let mut words = Words::default();
    for text in &input.paragraphs {
        let hasher = TermHasher::new(Language::detect(text), params.seed);
        for span in syndup::segment::sentences(text) {
            let sentence = &text[span.range()];
            words.normalize(sentence);
            if words.len() < params.min_sentence_words {
                continue;
            }
            // A capitalized word after the first counts as a name, as a rough stand-in.
            let caps: HashSet<String> = sentence
                .split_whitespace()
                .skip(1)
                .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
                .map(str::to_lowercase)
                .collect();
            let mut terms: Vec<(u32, bool)> = words
                .iter()
                .map(|w| {
                    let h = hasher.hash(w);
                    ((h ^ (h >> 32)) as u32, caps.contains(w))
                })
                .collect();
            terms.sort_unstable();
            terms.dedup_by_key(|t| t.0);
            let (keys, names) = terms.into_iter().unzip();
            raw.push((keys, names, sentence.len()));
        }
    }
    let mut df: HashMap<u32, u32> = HashMap::new();
    for (keys, _, _) in &raw {
        for &k in keys {
            *df.entry(k).or_default() += 1;
        }
    }
    let n = raw.len() as f64;
    raw.into_iter()
        .map(|(keys, names, bytes)| {
            let weights: Vec<f32> = keys
                .iter()
                .map(|k| ((n + 1.0) / (f64::from(df[k]) + 0.5)).ln().max(0.0) as f32)
                .collect();
            let total = weights.iter().map(|&w| f64::from(w)).sum();
            SentenceTerms {
                keys,
                weights,
                names,
                total,
                bytes,
            }
        })
        .collect()
}

/// The sentence score with a `HashMap` of `a`'s terms probed by `b`'s.
fn naive_sentence_score(
    a: &HashMap<u32, (f32, bool)>,
    b: &SentenceTerms,
    total_a: f64,
    name_weight: f64,
    min_shared: usize,
) -> Option<f64> {
    let (mut inter, mut inter_full, mut shared) = (0f64, 0f64, 0usize);
    for (k, &name_b) in b.keys.iter().zip(&b.names) {
        if let Some(&(w, name_a)) = a.get(k) {
            let w = f64::from(w);
            inter_full += w;
            inter += if name_a || name_b { w * name_weight } else { w };
            shared += 1;
        }
    }
    if shared < min_shared {
        return None;
    }
    let union = total_a + b.total - inter_full;
    let smaller = total_a.min(b.total);
    if inter <= 0.0 || union <= 0.0 || smaller <= 0.0 {
        return Some(0.0);
    }
    Some((inter / (union * smaller).sqrt()).min(1.0))
}

/// The sum of [`verify::overlap_at_least`]'s scores over `pairs` of sentences, each side made
/// by `side` (0 where a pair shares too few terms).
fn sum_scores<S: verify::Sentence>(
    pairs: &[(usize, usize)],
    side: impl Fn(usize) -> S,
    name_weight: f64,
    min_shared: usize,
) -> f64 {
    pairs
        .iter()
        .map(|&(x, y)| {
            verify::overlap_at_least(black_box(&side(x)), &side(y), name_weight, min_shared)
                .map_or(0.0, |(s, _)| s)
        })
        .sum()
}

fn bench_verify_sentences(c: &mut Criterion, inputs: &[Input], params: &Params) {
    let mut g = c.benchmark_group("verify_sentences");
    let (name_weight, min_shared) = (params.name_weight, params.min_shared_words);
    for input in inputs {
        let sentences = sentence_terms(input, params);
        let n = sentences.len();
        let pairs: Vec<(usize, usize)> = (0..n)
            .flat_map(|a| (a + 1..n.min(a + 1 + VERIFY_WINDOW)).map(move |b| (a, b)))
            .collect();
        let bytes: u64 = pairs
            .iter()
            .map(|&(a, b)| (sentences[a].bytes + sentences[b].bytes) as u64)
            .sum();
        let maps: Vec<HashMap<u32, (f32, bool)>> = sentences
            .iter()
            .map(|s| {
                s.keys
                    .iter()
                    .zip(s.weights.iter().zip(&s.names))
                    .map(|(&k, (&w, &name))| (k, (w, name)))
                    .collect()
            })
            .collect();
        g.throughput(Throughput::Bytes(bytes));
        g.bench_function(BenchmarkId::new("syndup", &input.name), |b| {
            b.iter(|| {
                sum_scores(
                    &pairs,
                    |i| Sliced(sentences[i].side()),
                    name_weight,
                    min_shared,
                )
            })
        });
        g.bench_function(BenchmarkId::new("key_by_key", &input.name), |b| {
            b.iter(|| sum_scores(&pairs, |i| sentences[i].side(), name_weight, min_shared))
        });
        g.bench_function(BenchmarkId::new("naive", &input.name), |b| {
            b.iter(|| {
                pairs
                    .iter()
                    .map(|&(x, y)| {
                        naive_sentence_score(
                            black_box(&maps[x]),
                            &sentences[y],
                            sentences[x].total,
                            name_weight,
                            min_shared,
                        )
                        .unwrap_or(0.0)
                    })
                    .sum::<f64>()
            })
        });
    }
    g.finish();
}

fn bench_end_to_end(c: &mut Criterion, inputs: &[Input]) {
    let mut g = c.benchmark_group("end_to_end");
    g.sampling_mode(SamplingMode::Flat);
    for input in inputs {
        g.throughput(Throughput::Bytes(input.corpus.total_bytes()));
        for preset in [Preset::Exact, Preset::Near, Preset::Paraphrase] {
            let detector = Detector::new(Params::preset(preset)).expect("preset parameters");
            g.bench_function(
                BenchmarkId::new(format!("syndup_{}", preset.name()), &input.name),
                |b| b.iter(|| detector.detect(black_box(&input.corpus)).pairs.len()),
            );
        }
        g.bench_function(BenchmarkId::new("naive_exact", &input.name), |b| {
            b.iter(|| naive_dedup(black_box(&input.corpus)).len())
        });
    }
    g.finish();
}

fn pipeline(c: &mut Criterion) {
    let params = Params::default();
    let inputs = inputs(&params);
    bench_normalize(c, &inputs);
    bench_shingle(c, &inputs, &params);
    bench_stem(c, &inputs, &params);
    bench_minhash(c, &inputs, &params);
    bench_lsh(c, &inputs);
    bench_verify(c, &inputs);
    bench_verify_sentences(c, &inputs, &params);
    bench_end_to_end(c, &inputs);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500));
    targets = pipeline
}
criterion_main!(benches);
