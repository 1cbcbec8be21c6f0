//! The checks behind syndup's fuzz targets, shared by the libFuzzer binaries
//! (`fuzz_targets/`) and the seed tests (`tests/seeds.rs`). Each takes arbitrary bytes, must not
//! panic, and asserts the readers' invariants.

use syndup::dedup::{DedupOptions, Mode, Plan};
use syndup::input::jsonl::FieldPath;
use syndup::input::{Corpus, InputOptions};
use syndup::params::SplitMode;
use syndup::segment;
use syndup::{Detector, Params};

fn params(split: SplitMode) -> Params {
    Params {
        split,
        max_paragraph_bytes: 64,
        min_words: 2,
        ..Params::default()
    }
}

/// Reads `data` as the named input, checks the corpus, runs detection and both dedup modes,
/// and checks the record accounting and the output's line count.
fn read_and_dedup(name: &str, data: &[u8], split: SplitMode) {
    let options = InputOptions {
        id_field: FieldPath::new("m.id"),
        order_field: Some(FieldPath::new("d")),
        ..InputOptions::default()
    };
    let params = params(split);
    let corpus = Corpus::from_bytes(&[(name, data)], &options, &params);
    if let Err(e) = corpus.check_consistency() {
        panic!("{e}");
    }
    let Ok(detector) = Detector::new(params.clone()) else {
        panic!("default parameters are valid");
    };
    let found = detector.detect(&corpus);
    for mode in [Mode::Remove, Mode::Annotate] {
        let dedup = DedupOptions {
            mode,
            drop_record_above: Some(0.5),
        };
        let plan = Plan::new(&corpus, &found, &params, &dedup);
        let mut out = Vec::new();
        let tally = match plan.write_output(&corpus, &params, &options, &mut out, &|_| {}) {
            Ok(t) => t,
            Err(e) => panic!("second pass failed: {e}"),
        };
        assert!(tally.is_balanced(), "{tally:?}");
        if name.ends_with(".jsonl") {
            assert_eq!(
                out.iter().filter(|&&b| b == b'\n').count() as u64,
                tally.records_written
            );
            // Every written record is still one JSON object per line.
            for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let reread = Corpus::from_bytes(&[("o.jsonl", line)], &options, &params);
                assert_eq!(reread.records.len(), 1, "{}", String::from_utf8_lossy(line));
            }
        }
        let mut report = Vec::new();
        if let Err(e) = plan.write_report(&corpus, &found, &params, &tally, 0.0, &mut report) {
            panic!("report: {e}");
        }
    }
}

/// The JSON Lines reader (with gzip/zstd by magic bytes) and the dedup passes over it.
pub fn jsonl_reader(data: &[u8]) {
    read_and_dedup("f.jsonl", data, SplitMode::Line);
}

/// The plain-text reader (both split modes) and the dedup passes over it.
pub fn text_reader(data: &[u8]) {
    read_and_dedup("f.txt", data, SplitMode::Line);
    read_and_dedup("f.txt", data, SplitMode::Blank);
}

/// The segmenter: paragraph spans (both modes) and sentence spans are in bounds, in order,
/// not overlapping, non-empty and trimmed.
pub fn segment(data: &[u8]) {
    for mode in [SplitMode::Line, SplitMode::Blank] {
        let mut prev = 0;
        for s in segment::paragraphs(data, mode) {
            assert!(prev <= s.start && s.start < s.end && s.end <= data.len());
            assert!(!data[s.start].is_ascii_whitespace() && !data[s.end - 1].is_ascii_whitespace());
            prev = s.end;
        }
    }
    let text = String::from_utf8_lossy(data);
    let mut prev = 0;
    for s in segment::sentences(&text) {
        assert!(prev <= s.start && s.start < s.end && s.end <= text.len());
        let piece = &text[s.start..s.end];
        assert_eq!(piece.trim(), piece);
        prev = s.end;
    }
}
