//! `syndup dedup` and structured input, end to end: the real binary on JSON Lines fixtures
//! (plain, gzip, zstd) made here, with the output checked field by field, the record accounting
//! (`records in = written + dropped + skipped`), both modes, the earliest-copy rule, every class
//! of bad input, the atomic output and the refusal to overwrite an input.

use std::io::{Read, Write};

use serde_json::Value;

use crate::util::{
    assert_same_output, blank_seconds, parse_jsonl, Run, TestEnv, STORY, STORY_COPY,
};

/// An unrelated paragraph (well over `min_words`).
const OTHER: &str = "The city council approved a new budget for public libraries, adding two reading rooms and longer opening hours on weekends.";
const OTHER2: &str = "Researchers at the university published a study on migrating birds that cross the desert without stopping for water or food.";

/// A JSON string literal.
fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// A record line with the text field in the middle, an escaped title and a nested object, so
/// that "every other byte unchanged" is a real check.
fn record(id: &str, date: &str, paragraphs: &[&str]) -> String {
    format!(
        r#"{{"id":{},"url":"https://example.com/{id}","published":"{date}","text":{},"title":"Caf\u00e9 \"{id}\"","meta":{{"lang":"en","tags":[1, 2 ,3]}}}}"#,
        js(id),
        js(&paragraphs.join("\n"))
    )
}

/// The standard feed: `wire` (the original), `copy` (a lightly edited copy of both story
/// paragraphs plus one of its own), `other` (unrelated), `late` (a verbatim copy, dated before
/// the wire: it wins with `--order-field published`).
fn feed() -> String {
    [
        record("wire", "2024-05-02", &[STORY[0], STORY[1]]),
        record("copy", "2024-05-03", &[STORY_COPY[0], OTHER, STORY_COPY[1]]),
        record("other", "2024-05-04", &[OTHER2]),
        record("late", "2024-05-01", &[STORY[0]]),
    ]
    .join("\n")
        + "\n"
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn zstd_encode(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).unwrap()
}

fn read_text(env: &TestEnv, rel: &str) -> String {
    let bytes = std::fs::read(env.join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"));
    let bytes = if rel.ends_with(".gz") {
        gunzip(&bytes)
    } else if rel.ends_with(".zst") {
        zstd::decode_all(&bytes[..]).unwrap()
    } else {
        bytes
    };
    String::from_utf8(bytes).expect("output is UTF-8")
}

/// The report: every line an envelope, `summary` last, `dedup` just before it.
struct DedupReport {
    by_type: Vec<(String, Value)>,
}

impl DedupReport {
    fn read(env: &TestEnv, rel: &str) -> DedupReport {
        let lines = parse_jsonl(&read_text(env, rel));
        let by_type: Vec<(String, Value)> = lines
            .into_iter()
            .map(|l| {
                let kind = l["type"].as_str().expect("type").to_string();
                assert!(l["data"].is_object(), "{l}");
                (kind, l["data"].clone())
            })
            .collect();
        let n = by_type.len();
        assert!(n >= 2 && by_type[n - 1].0 == "summary" && by_type[n - 2].0 == "dedup");
        for (k, _) in &by_type {
            assert!(
                [
                    "removed",
                    "annotated",
                    "dropped",
                    "skipped",
                    "dedup",
                    "summary"
                ]
                .contains(&k.as_str()),
                "unknown type {k}"
            );
        }
        DedupReport { by_type }
    }

    fn of(&self, kind: &str) -> Vec<&Value> {
        self.by_type
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, v)| v)
            .collect()
    }

    fn tally(&self) -> &Value {
        self.of("dedup")[0]
    }

    /// Checks `records_in = written + dropped + skipped`, that each dropped and skipped record
    /// is listed, and returns the four counts.
    #[track_caller]
    fn assert_balanced(&self) -> [u64; 4] {
        let t = self.tally();
        let n = |k: &str| t[k].as_u64().unwrap_or_else(|| panic!("{k} in {t}"));
        let counts = [
            n("records_in"),
            n("records_written"),
            n("records_dropped"),
            n("records_skipped"),
        ];
        assert_eq!(
            counts[0],
            counts[1] + counts[2] + counts[3],
            "accounting: {t}"
        );
        assert_eq!(self.of("dropped").len() as u64, counts[2], "dropped listed");
        let skipped_records = self
            .of("skipped")
            .iter()
            .filter(|s| s["reason"].as_str().unwrap().contains("record skipped"))
            .count() as u64;
        assert!(skipped_records <= counts[3], "skipped listed");
        counts
    }
}

/// The text field of an output line.
fn text_of(line: &str) -> String {
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    v["text"].as_str().expect("text").to_string()
}

/// The raw bytes of `line` around its `"text":` value: everything but the value.
fn without_text(line: &str) -> (String, String) {
    let at = line.find(r#""text":"#).expect("text field") + 7;
    let v: Value = serde_json::from_str(line).unwrap();
    let encoded_len = js(v["text"].as_str().unwrap()).len();
    (line[..at].to_string(), line[at + encoded_len..].to_string())
}

fn run_ok(env: &TestEnv, args: &[&str]) -> Run {
    let run = env.run(args);
    run.assert_code(0);
    run
}

#[test]
fn remove_mode_changes_only_the_text_field() {
    let env = TestEnv::new();
    let input = feed();
    env.write("feed.jsonl", &input);
    let run = run_ok(&env, &["dedup", "feed.jsonl", "--output", "out.jsonl"]);
    assert!(
        run.stderr
            .contains("4 records in = 4 written + 0 dropped + 0 skipped"),
        "{}",
        run.describe()
    );
    let out = read_text(&env, "out.jsonl");
    let (inp, outp): (Vec<&str>, Vec<&str>) = (input.lines().collect(), out.lines().collect());
    assert_eq!(outp.len(), 4);
    // The wire and the unrelated record are untouched, byte for byte.
    assert_eq!(outp[0], inp[0]);
    assert_eq!(outp[2], inp[2]);
    // The copy keeps its own paragraph only; every other byte of the line is as it was.
    assert_eq!(text_of(outp[1]), OTHER);
    assert_eq!(without_text(outp[1]), without_text(inp[1]));
    // The verbatim copy loses its only paragraph.
    assert_eq!(text_of(outp[3]), "");
    assert_eq!(without_text(outp[3]), without_text(inp[3]));
    let report = DedupReport::read(&env, "out.jsonl.report.jsonl");
    assert_eq!(report.assert_balanced(), [4, 4, 0, 0]);
    let removed = report.of("removed");
    let got: Vec<(&str, u64, &str, u64)> = removed
        .iter()
        .map(|r| {
            (
                r["doc"].as_str().unwrap(),
                r["paragraph"].as_u64().unwrap(),
                r["duplicate_of"]["doc"].as_str().unwrap(),
                r["duplicate_of"]["paragraph"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("copy", 0, "wire", 0),
            ("copy", 2, "wire", 1),
            ("late", 0, "wire", 0)
        ]
    );
    assert_eq!(removed[0]["text"], STORY_COPY[0]);
    assert_eq!(removed[0]["line"], 2);
    assert_eq!(removed[0]["byte"].as_u64(), Some(inp[0].len() as u64 + 1));
    assert_eq!(removed[2]["measure"], "identical");
    assert_eq!(removed[2]["similarity"], 1.0);
    assert_eq!(report.tally()["paragraphs_removed"], 3);
    // The output is an ordinary file; no temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(env.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
}

#[test]
fn compressed_inputs_and_outputs_give_the_same_records() {
    let env = TestEnv::new();
    let input = feed();
    env.write("feed.jsonl", &input);
    env.write("feed.jsonl.gz", gzip(input.as_bytes()));
    env.write("feed.jsonl.zst", zstd_encode(input.as_bytes()));
    // A gzip file named .ndjson with no compression ending: recognized by content.
    env.write("sneaky.ndjson", gzip(input.as_bytes()));
    run_ok(&env, &["dedup", "feed.jsonl", "-o", "plain.jsonl"]);
    let want = read_text(&env, "plain.jsonl");
    for (input, output) in [
        ("feed.jsonl.gz", "a.jsonl.zst"),
        ("feed.jsonl.zst", "b.jsonl.gz"),
        ("sneaky.ndjson", "c.jsonl"),
    ] {
        run_ok(&env, &["dedup", input, "-o", output]);
        let raw = std::fs::read(env.join(output)).unwrap();
        if output.ends_with(".gz") {
            assert!(raw.starts_with(&[0x1f, 0x8b]), "{output} is not gzip");
        }
        if output.ends_with(".zst") {
            assert!(
                raw.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]),
                "{output} is not zstd"
            );
        }
        assert_same_output(input, "plain", &want, output, &read_text(&env, output));
        let report = DedupReport::read(&env, &format!("{output}.report.jsonl"));
        assert_eq!(report.assert_balanced(), [4, 4, 0, 0]);
        // Lines and bytes refer to the decompressed stream.
        let removed = report.of("removed");
        assert_eq!(removed[0]["source"], input);
        assert_eq!(removed[2]["line"], 4);
    }
}

#[test]
fn annotate_mode_keeps_the_text_and_lists_duplicates() {
    let env = TestEnv::new();
    let input = feed();
    env.write("feed.jsonl", &input);
    run_ok(
        &env,
        &[
            "dedup",
            "feed.jsonl",
            "-o",
            "out.jsonl",
            "--mode",
            "annotate",
        ],
    );
    let out = read_text(&env, "out.jsonl");
    let (inp, outp): (Vec<&str>, Vec<&str>) = (input.lines().collect(), out.lines().collect());
    assert_eq!(outp[0], inp[0]);
    assert_eq!(outp[2], inp[2]);
    // The annotated line is the original line with one field added at the end.
    let prefix = inp[1].strip_suffix('}').unwrap();
    assert!(outp[1].starts_with(prefix), "{}", outp[1]);
    let v: Value = serde_json::from_str(outp[1]).unwrap();
    assert_eq!(
        v["text"].as_str().unwrap(),
        [STORY_COPY[0], OTHER, STORY_COPY[1]].join("\n")
    );
    let notes = v["syndup_duplicates"].as_array().expect("annotation");
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0]["paragraph"], 0);
    assert_eq!(notes[0]["duplicate_of"]["doc"], "wire");
    assert_eq!(notes[0]["duplicate_of"]["paragraph"], 0);
    assert_eq!(notes[0]["duplicate_of"]["source"], "feed.jsonl");
    assert_eq!(notes[0]["duplicate_of"]["line"], 1);
    assert_eq!(notes[1]["paragraph"], 2);
    assert!(notes[1]["similarity"].as_f64().unwrap() >= 0.5);
    let report = DedupReport::read(&env, "out.jsonl.report.jsonl");
    assert_eq!(report.of("annotated").len(), 3);
    assert!(report.of("removed").is_empty());
    assert_eq!(report.tally()["mode"], "annotate");
}

/// Annotating an annotated file replaces each annotation rather than adding the field a
/// second time (which made records with a duplicate key), and empties one that this run
/// does not confirm.
#[test]
fn annotating_again_replaces_the_annotation() {
    let env = TestEnv::new();
    let mut input = feed();
    // A record annotated by some earlier run, with no duplicate in this one.
    input.push_str(&format!(
        "{{\"id\":\"old\",\"syndup_duplicates\":[{{\"paragraph\":9}}],\"text\":\"{}\"}}\n",
        "Lantern makers in the old quarter closed their shops early as the river rose past the third step of the market stairs."
    ));
    env.write("feed.jsonl", &input);
    let annotate = |from: &str, to: &str| {
        run_ok(&env, &["dedup", from, "-o", to, "--mode", "annotate"]);
        read_text(&env, to)
    };
    let once = annotate("feed.jsonl", "once.jsonl");
    let twice = annotate("once.jsonl", "twice.jsonl");
    let (once, twice): (Vec<&str>, Vec<&str>) = (once.lines().collect(), twice.lines().collect());
    assert_eq!(once.len(), twice.len());
    for (a, b) in once.iter().zip(&twice) {
        assert!(
            b.matches("\"syndup_duplicates\"").count() <= 1,
            "a field twice: {b}"
        );
        let (va, vb): (Value, Value) = (
            serde_json::from_str(a).unwrap(),
            serde_json::from_str(b).unwrap(),
        );
        assert_eq!(va["text"], vb["text"]);
        // The same paragraphs are annotated, now against the annotated file.
        let paragraphs = |v: &Value| -> Vec<Value> {
            v["syndup_duplicates"]
                .as_array()
                .map(|n| n.iter().map(|x| x["paragraph"].clone()).collect())
                .unwrap_or_default()
        };
        assert_eq!(paragraphs(&va), paragraphs(&vb), "{b}");
    }
    let annotated = |lines: &[&str]| {
        lines
            .iter()
            .filter(|l| l.contains("\"syndup_duplicates\":[{"))
            .count()
    };
    assert_eq!((annotated(&once), annotated(&twice)), (2, 2));
    let old: Value = serde_json::from_str(once.last().unwrap()).unwrap();
    assert_eq!(old["id"], "old");
    assert_eq!(old["syndup_duplicates"], serde_json::json!([]));
}

#[test]
fn order_field_decides_the_kept_copy() {
    let env = TestEnv::new();
    env.write("feed.jsonl", feed());
    run_ok(
        &env,
        &[
            "dedup",
            "feed.jsonl",
            "-o",
            "out.jsonl",
            "--order-field",
            "published",
        ],
    );
    let out = read_text(&env, "out.jsonl");
    let lines: Vec<&str> = out.lines().collect();
    // `late` is dated first: its copy of STORY[0] is the original now; the wire's goes.
    assert_eq!(text_of(lines[3]), STORY[0]);
    assert_eq!(text_of(lines[0]), STORY[1]);
    assert_eq!(text_of(lines[1]), OTHER);
    let report = DedupReport::read(&env, "out.jsonl.report.jsonl");
    let removed = report.of("removed");
    assert!(removed
        .iter()
        .filter(|r| r["text"] == STORY[0] || r["text"] == STORY_COPY[0])
        .all(|r| r["duplicate_of"]["doc"] == "late"));
    // Ties (and records without the field) go by input order; a number sorts before a string.
    let env = TestEnv::new();
    let a = format!(r#"{{"id":"a","d":5,"text":{}}}"#, js(STORY[0]));
    let b = format!(r#"{{"id":"b","text":{}}}"#, js(STORY[0]));
    let c = format!(r#"{{"id":"c","d":5,"text":{}}}"#, js(STORY[0]));
    env.write("f.jsonl", format!("{b}\n{a}\n{c}\n"));
    run_ok(
        &env,
        &["dedup", "f.jsonl", "-o", "o.jsonl", "--order-field", "d"],
    );
    let out = read_text(&env, "o.jsonl");
    let texts: Vec<String> = out.lines().map(text_of).collect();
    assert_eq!(texts, ["", STORY[0], ""]);
}

#[test]
fn a_paragraph_goes_only_when_similar_to_the_kept_copy() {
    let env = TestEnv::new();
    // A ~ B and B ~ C (shingle Jaccard 0.70) but A !~ C (0.47): one cluster of three.
    let words =
        |r: std::ops::Range<usize>| r.map(|i| format!("word{i}")).collect::<Vec<_>>().join(" ");
    let (a, b, c) = (words(0..30), words(5..35), words(10..40));
    let lines = [
        format!(r#"{{"id":"A","text":{}}}"#, js(&a)),
        format!(r#"{{"id":"B","text":{}}}"#, js(&b)),
        format!(r#"{{"id":"C","text":{}}}"#, js(&c)),
    ];
    env.write("f.jsonl", lines.join("\n") + "\n");
    let scan = env.run(&["scan", "--format", "jsonl", "--preset", "near", "f.jsonl"]);
    scan.assert_code(0);
    let found = scan.jsonl();
    assert_eq!(found.clusters.len(), 1, "one chained cluster expected");
    assert_eq!(found.clusters[0]["members"].as_array().unwrap().len(), 3);
    run_ok(
        &env,
        &["dedup", "--preset", "near", "f.jsonl", "-o", "o.jsonl"],
    );
    let out = read_text(&env, "o.jsonl");
    let texts: Vec<String> = out.lines().map(text_of).collect();
    assert_eq!(texts, [a, String::new(), c]);
}

#[test]
fn drop_record_above_drops_and_lists() {
    let env = TestEnv::new();
    env.write("feed.jsonl", feed());
    let run = run_ok(
        &env,
        &[
            "dedup",
            "feed.jsonl",
            "-o",
            "out.jsonl",
            "--drop-record-above",
            "0.5",
        ],
    );
    assert!(
        run.stderr
            .contains("4 records in = 2 written + 2 dropped + 0 skipped"),
        "{}",
        run.describe()
    );
    let out = read_text(&env, "out.jsonl");
    let ids: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids, ["wire", "other"]);
    let report = DedupReport::read(&env, "out.jsonl.report.jsonl");
    assert_eq!(report.assert_balanced(), [4, 2, 2, 0]);
    let dropped = report.of("dropped");
    assert_eq!(dropped[0]["doc"], "copy");
    assert_eq!(dropped[0]["paragraphs"], 3);
    assert_eq!(dropped[0]["duplicate_paragraphs"], 2);
    assert_eq!(dropped[0]["share"], 0.6667);
    // What a dropped record held of its own is in the report, not lost.
    assert_eq!(dropped[0]["unique"][0]["paragraph"], 1);
    assert_eq!(dropped[0]["unique"][0]["text"], OTHER);
    assert_eq!(dropped[1]["doc"], "late");
    assert_eq!(dropped[1]["line"], 4);
    assert!(report.of("removed").is_empty());
    // Out-of-range ratios are refused.
    let bad = env.run(&[
        "dedup",
        "feed.jsonl",
        "-o",
        "x.jsonl",
        "--drop-record-above",
        "1.5",
    ]);
    bad.assert_code(2);
    assert!(bad.stderr.contains("between 0 and 1"), "{}", bad.describe());
}

/// Every kind of bad record in one file, with good records around them.
fn bad_feed() -> Vec<u8> {
    let mut f = Vec::new();
    let good = record("wire", "2024-05-02", &[STORY[0], STORY[1]]);
    let copy = record("copy", "2024-05-03", &[STORY_COPY[0], OTHER]);
    for line in [
        good.as_bytes(),                                   // 1
        b"{\"id\":\"broken\",\"text\":\"unterminated}",    // 2 malformed
        b"{\"id\":\"no-text\",\"body\":\"x\"}",            // 3 no text field
        b"{\"id\":\"num\",\"text\":42}",                   // 4 not a string
        b"",                                               // 5 blank: not a record
        b"{\"id\":\"bad-utf8\",\"text\":\"caf\xff\xfe\"}", // 6 invalid UTF-8
        b"[1,2,3]",                                        // 7 not an object
        copy.as_bytes(),                                   // 8
        b"   ",                                            // 9 blank
    ] {
        f.extend_from_slice(line);
        f.push(b'\n');
    }
    f
}

#[test]
fn bad_records_are_listed_and_accounted_for() {
    let env = TestEnv::new();
    let bytes = bad_feed();
    env.write("bad.jsonl", &bytes);
    env.write("bad.jsonl.gz", gzip(&bytes));
    for input in ["bad.jsonl", "bad.jsonl.gz"] {
        let out = format!("{input}.out.jsonl");
        let run = env.run(&["dedup", input, "-o", &out]);
        run.assert_code(2);
        assert!(
            run.stderr
                .contains("7 records in = 2 written + 0 dropped + 5 skipped"),
            "{}",
            run.describe()
        );
        let report = DedupReport::read(&env, &format!("{out}.report.jsonl"));
        assert_eq!(report.assert_balanced(), [7, 2, 0, 5]);
        let skipped: Vec<(u64, String)> = report
            .of("skipped")
            .iter()
            .map(|s| {
                assert_eq!(s["source"], input);
                (
                    s["line"].as_u64().unwrap(),
                    s["reason"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let want: [(u64, &str); 5] = [
            (2, "malformed JSON at column"),
            (3, "no text field `text`"),
            (4, "text field `text` is a number, not a string"),
            (6, "invalid UTF-8"),
            (7, "not a JSON object"),
        ];
        assert_eq!(skipped.len(), want.len(), "{skipped:?}");
        for ((line, reason), (wl, wr)) in skipped.iter().zip(want) {
            assert_eq!(*line, wl, "{reason}");
            assert!(reason.contains(wr), "line {line}: {reason:?} lacks {wr:?}");
            let place = format!("{input}:{line} ");
            assert!(
                run.stderr
                    .lines()
                    .any(|l| l.contains(&place) && l.contains(reason.as_str())),
                "stderr does not list {place}\n{}",
                run.describe()
            );
        }
        // The invalid UTF-8 entry points at the bad byte.
        let utf8 = report.of("skipped")[3];
        let bad_at = bytes.iter().position(|&b| b == 0xff).unwrap() as u64;
        assert_eq!(utf8["byte"].as_u64(), Some(bad_at));
        let text = read_text(&env, &out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(text_of(lines[1]), OTHER);
    }
    // The same entries reach scan's report, and its members carry doc and paragraph.
    let run = env.run(&["scan", "--format", "jsonl", "bad.jsonl"]);
    run.assert_code(2);
    let out = run.jsonl();
    assert_eq!(out.skipped.len(), 5);
    assert!(out.members().iter().all(|m| m["doc"].is_string()));
}

#[test]
fn on_error_fail_stops_before_writing() {
    let env = TestEnv::new();
    env.write("bad.jsonl", bad_feed());
    let run = env.run(&[
        "dedup",
        "bad.jsonl",
        "-o",
        "out.jsonl",
        "--on-error",
        "fail",
    ]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("bad.jsonl:2") && run.stderr.contains("--on-error fail"),
        "{}",
        run.describe()
    );
    // The problems are listed once; the last line says why it stopped, not the first again.
    let stop: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("stopping (--on-error fail)"))
        .collect();
    assert_eq!(stop.len(), 1, "{}", run.describe());
    assert!(
        stop[0].contains("the first at bad.jsonl:2 (byte") && !stop[0].contains("skipped"),
        "{}",
        run.describe()
    );
    let names: Vec<String> = std::fs::read_dir(env.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["bad.jsonl"], "nothing but the input may exist");
    let scan = env.run(&["scan", "bad.jsonl", "--on-error", "fail"]);
    scan.assert_code(2);
    assert!(scan.stdout.is_empty());
}

#[test]
fn truncated_and_corrupt_streams_are_reported() {
    let env = TestEnv::new();
    // Enough records that a cut in the middle leaves whole records before it.
    let mut input = String::new();
    for i in 0..1500 {
        input.push_str(&record(
            &format!("r{i}"),
            "2024-01-01",
            &[&format!("{OTHER} {i}")],
        ));
        input.push('\n');
    }
    let gz = gzip(input.as_bytes());
    // zstd in frames of 100 records (as parallel compressors write it).
    let lines: Vec<&str> = input.split_inclusive('\n').collect();
    let zst: Vec<u8> = lines
        .chunks(100)
        .flat_map(|c| zstd_encode(c.concat().as_bytes()))
        .collect();
    env.write("cut.jsonl.gz", &gz[..gz.len() / 2]);
    env.write("cut.jsonl.zst", &zst[..zst.len() / 2]);
    let mut garbage = vec![0x1f, 0x8b, 0x08, 0x00];
    garbage.extend_from_slice(b"this is not deflate data at all, not at all");
    env.write("garbage.jsonl.gz", &garbage);
    env.write("garbage.jsonl.zst", b"\x28\xb5\x2f\xfdnot a zstd frame");
    for name in [
        "cut.jsonl.gz",
        "cut.jsonl.zst",
        "garbage.jsonl.gz",
        "garbage.jsonl.zst",
    ] {
        let out = format!("{name}.out.jsonl");
        let run = env.run(&["dedup", name, "-o", &out]);
        run.assert_code(2);
        let report = DedupReport::read(&env, &format!("{out}.report.jsonl"));
        let counts = report.assert_balanced();
        let skipped = report.of("skipped");
        assert_eq!(skipped.len(), 1, "{name}: {skipped:?}");
        let reason = skipped[0]["reason"].as_str().unwrap();
        // Named by its format, as for plain text (it said "input stream").
        let format = if name.ends_with(".gz") {
            "gzip"
        } else {
            "zstd"
        };
        assert!(
            reason.starts_with(&format!("{format} stream is corrupt or truncated")),
            "{name}: {reason}"
        );
        let line = skipped[0]["line"].as_u64().unwrap();
        assert!(
            run.stderr.contains(&format!("{name}:{line} ")),
            "{}",
            run.describe()
        );
        let written = read_text(&env, &out).lines().count() as u64;
        assert_eq!(written, counts[1]);
        if name.starts_with("cut") {
            assert!(
                counts[1] > 10 && counts[1] < 1500,
                "{name}: {counts:?}\n{}",
                run.describe()
            );
            // The records before the cut are written whole and in order.
            let text = read_text(&env, &out);
            assert_eq!(text.lines().next(), input.lines().next());
            assert_eq!(
                line,
                counts[1] + 1,
                "{name}: the entry names the line that broke"
            );
        } else {
            assert_eq!(counts, [0, 0, 0, 0], "{name}");
        }
    }
}

/// A gzip file padded with zero bytes after its last member (as tape and block devices
/// leave it; `gzip -d` takes them for the end) is read whole; bytes other than zeros after
/// the padding are still reported. (Padded files were reported corrupt at their end.)
#[test]
fn gzip_padded_with_zeros_is_read_whole() {
    let env = TestEnv::new();
    let input: String = (0..200)
        .map(|i| record(&format!("r{i}"), "2024-01-01", &[&format!("{OTHER} {i}")]) + "\n")
        .collect();
    let mut padded = gzip(input.as_bytes());
    padded.resize(padded.len().next_multiple_of(10_240) + 10_240, 0);
    env.write("padded.jsonl.gz", &padded);
    let run = env.run(&["dedup", "padded.jsonl.gz", "-o", "out.jsonl"]);
    run.assert_code(0);
    let report = DedupReport::read(&env, "out.jsonl.report.jsonl");
    assert_eq!(report.assert_balanced(), [200, 200, 0, 0]);
    let ids = |name: &str| -> Vec<String> {
        read_text(&env, name)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].to_string())
            .collect()
    };
    let want: Vec<String> = (0..200).map(|i| format!("\"r{i}\"")).collect();
    assert!(ids("out.jsonl") == want, "{}", run.describe());
    padded.push(b'x');
    env.write("junk.jsonl.gz", &padded);
    let run = env.run(&["dedup", "junk.jsonl.gz", "-o", "junk.out.jsonl"]);
    run.assert_code(2);
    let report = DedupReport::read(&env, "junk.out.jsonl.report.jsonl");
    let skipped = report.of("skipped");
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(
        skipped[0]["reason"]
            .as_str()
            .unwrap()
            .contains("corrupt or truncated"),
        "{skipped:?}"
    );
    assert!(ids("junk.out.jsonl") == want, "{}", run.describe());
}

/// A compressed plain-text file that breaks off keeps its complete lines only: the line it
/// broke off in is reported, not used. (It was used, cut short, and reported as skipped.) The
/// same with lines ending in `\r` alone (classic Mac OS).
#[test]
fn truncated_text_stream_drops_the_broken_line() {
    for eol in ['\n', '\r'] {
        let env = TestEnv::new();
        let text: String = (0..3000)
            .map(|i| format!("{OTHER} Item {i} of the list.{eol}"))
            .collect();
        let gz = gzip(text.as_bytes());
        env.write("cut.txt.gz", &gz[..gz.len() / 2]);
        let run = env.run(&["dedup", "cut.txt.gz", "-o", "out.txt", "--preset", "exact"]);
        run.assert_code(2);
        let out = read_text(&env, "out.txt");
        let lines = out.matches(eol).count();
        assert!(lines > 10 && lines < 3000, "{lines}");
        assert!(out.ends_with(eol), "the output ends with a whole line");
        assert!(
            text.starts_with(&out),
            "only whole lines of the input, in order"
        );
        let report = DedupReport::read(&env, "out.txt.report.jsonl");
        let skipped = report.of("skipped");
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        assert_eq!(skipped[0]["line"].as_u64(), Some(lines as u64 + 1));
        assert_eq!(skipped[0]["byte"].as_u64(), Some(out.len() as u64));
    }
    // A `\r\n` stream that breaks off right after the `\r` of its first line: that `\r` is not
    // taken for a line end of its own, so the broken line is reported, not kept.
    let env = TestEnv::new();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(format!("{OTHER}\r").as_bytes()).unwrap();
    gz.flush().unwrap();
    env.write("crlf.txt.gz", gz.get_ref());
    let run = env.run(&["dedup", "crlf.txt.gz", "-o", "out.txt"]);
    run.assert_code(2);
    assert_eq!(read_text(&env, "out.txt"), "");
    let report = DedupReport::read(&env, "out.txt.report.jsonl");
    let skipped = report.of("skipped");
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0]["line"].as_u64(), Some(1), "{skipped:?}");
    assert_eq!(skipped[0]["byte"].as_u64(), Some(0), "{skipped:?}");
}

#[test]
fn refuses_to_overwrite_an_input() {
    let env = TestEnv::new();
    let input = feed();
    env.write("feed.jsonl", &input);
    env.mkdir("sub");
    for out in ["feed.jsonl", "./sub/../feed.jsonl"] {
        let run = env.run(&["dedup", "feed.jsonl", "-o", out]);
        run.assert_code(2);
        assert!(
            run.stderr
                .contains("is an input file; refusing to overwrite it"),
            "{}",
            run.describe()
        );
    }
    // An input found by walking a directory is protected too.
    env.write("dir/a.jsonl", &input);
    let run = env.run(&["dedup", "dir", "-o", "dir/a.jsonl"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("refusing to overwrite"),
        "{}",
        run.describe()
    );
    let run = env.run(&[
        "dedup",
        "feed.jsonl",
        "-o",
        "o.jsonl",
        "--report",
        "feed.jsonl",
    ]);
    run.assert_code(2);
    assert_eq!(read_text(&env, "feed.jsonl"), input);
    assert_eq!(read_text(&env, "dir/a.jsonl"), input);
    // Plain text found in a directory too, as the output or as the report, and nothing is
    // written when the report would replace an input. (Both were replaced.)
    let text = format!("{}\n{OTHER}\n", STORY[0]);
    env.write("texts/a.txt", &text);
    env.write("texts/b.txt", &text);
    for args in [
        &["dedup", "texts", "-o", "texts/b.txt"][..],
        &["dedup", "texts", "-o", "t.out", "--report", "texts/a.txt"][..],
    ] {
        let run = env.run(args);
        run.assert_code(2);
        assert!(
            run.stderr.contains("refusing to overwrite"),
            "{}",
            run.describe()
        );
        assert_eq!(read_text(&env, "texts/a.txt"), text);
        assert_eq!(read_text(&env, "texts/b.txt"), text);
        assert!(!env.join("t.out").exists(), "{}", run.describe());
    }
}

/// Every file named counts in the accounting: one that cannot be read, or has no paragraph,
/// is a record skipped, as a binary file is. (A missing file was listed but not counted, and
/// an empty one was counted as written.)
#[test]
fn unreadable_and_empty_files_count_as_skipped() {
    let env = TestEnv::new();
    env.write("in/a.txt", format!("{}\n{OTHER}\n", STORY[0]));
    env.write("in/empty.txt", "");
    env.write("in/blank.txt", "\n  \n");
    let run = env.run(&["dedup", "in", "missing.txt", "-o", "out.txt"]);
    run.assert_code(2);
    let report = DedupReport::read(&env, "out.txt.report.jsonl");
    assert_eq!(report.assert_balanced(), [4, 1, 0, 3], "{}", run.describe());
    assert_eq!(report.of("skipped").len(), 3);
    assert!(
        run.stderr
            .contains("4 records in = 1 written + 0 dropped + 3 skipped"),
        "{}",
        run.describe()
    );
}

/// Plain-text files are written one after the other with their paragraphs kept apart: a file
/// without a final newline gets one (a blank line with `--split blank`), and a later file's
/// byte order mark is not written into the middle of the output. (The last paragraph of one
/// file and the first of the next became one line.)
#[test]
fn plain_text_files_stay_apart_in_the_output() {
    let env = TestEnv::new();
    let bom = "\u{feff}";
    env.write("in/a.txt", format!("{}\n{OTHER}", STORY[0]));
    env.write("in/b.txt", format!("{bom}{}\n{OTHER2}\n", STORY[0]));
    env.write("in/c.txt", format!("{}\n", STORY[1]));
    run_ok(&env, &["dedup", "in", "-o", "out.txt"]);
    assert_eq!(
        read_text(&env, "out.txt"),
        format!("{}\n{OTHER}\n{OTHER2}\n{}\n", STORY[0], STORY[1])
    );
    env.write("blocks/a.txt", format!("{}\n{OTHER}", STORY[0]));
    env.write("blocks/b.txt", format!("{OTHER2}\n"));
    env.write("blocks/c.txt", format!("{}\r\n\r\n", STORY[1]));
    env.write("blocks/d.txt", format!("{}\n", STORY[0]));
    run_ok(
        &env,
        &["dedup", "blocks", "--split", "blank", "-o", "b.txt"],
    );
    let out = read_text(&env, "b.txt");
    assert_eq!(
        out,
        format!("{}\n{OTHER}\n\n{OTHER2}\n\n{}\r\n\r\n", STORY[0], STORY[1])
    );
    // Read again, the output has the kept paragraphs, each whole.
    let scan = run_ok(
        &env,
        &["scan", "b.txt", "--split", "blank", "--format", "jsonl"],
    );
    let summary = scan.jsonl().summary;
    assert_eq!(summary["paragraphs"], 3, "{}", scan.describe());
}

/// JSON Lines from a pipe (`<(zcat feed.jsonl.gz)`) is kept for the second pass, as standard
/// input is. (The second pass opened the pipe again, found it empty and failed: "input
/// changed while syndup was reading it".)
#[cfg(unix)]
#[test]
fn jsonl_from_a_pipe_is_deduplicated() {
    let env = TestEnv::new();
    let input = feed();
    env.write("feed.jsonl", &input);
    run_ok(&env, &["dedup", "feed.jsonl", "-o", "from_file.jsonl"]);
    let fifo = env.join("pipe.jsonl");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let writer = {
        let (fifo, input) = (fifo.clone(), input.clone());
        std::thread::spawn(move || std::fs::write(fifo, input).expect("write to the pipe"))
    };
    run_ok(&env, &["dedup", "pipe.jsonl", "-o", "from_pipe.jsonl"]);
    writer.join().expect("writer");
    assert_eq!(
        read_text(&env, "from_pipe.jsonl"),
        read_text(&env, "from_file.jsonl")
    );
}

#[test]
fn plain_text_dedup_removes_duplicate_lines() {
    let env = TestEnv::new();
    env.write(
        "in/a.txt",
        format!("{}\n{}\n{}\n", STORY[0], OTHER, STORY[1]),
    );
    env.write(
        "in/b.txt",
        format!("{}\n\n{}\n{}\n", STORY_COPY[1], OTHER2, STORY_COPY[0]),
    );
    let run = run_ok(&env, &["dedup", "in", "-o", "out.txt"]);
    assert!(
        run.stderr
            .contains("2 records in = 2 written + 0 dropped + 0 skipped"),
        "{}",
        run.describe()
    );
    let out = read_text(&env, "out.txt");
    assert_eq!(
        out,
        format!("{}\n{}\n{}\n{}\n", STORY[0], OTHER, STORY[1], OTHER2)
    );
    let report = DedupReport::read(&env, "out.txt.report.jsonl");
    let removed = report.of("removed");
    assert_eq!(removed.len(), 2);
    assert_eq!(removed[0]["source"], "in/b.txt");
    assert_eq!(removed[0]["line"], 1);
    assert!(removed[0]["doc"].is_null());
    assert_eq!(removed[0]["duplicate_of"]["source"], "in/a.txt");
    assert_eq!(removed[0]["duplicate_of"]["line"], 3);
    // Text and JSON Lines do not mix in one output.
    env.write("in/c.jsonl", feed());
    let run = env.run(&["dedup", "in", "-o", "mixed.out"]);
    run.assert_code(2);
    assert!(run.stderr.contains("cannot write"), "{}", run.describe());
}

#[test]
fn scan_of_jsonl_names_records_and_paragraphs() {
    let env = TestEnv::new();
    // Nested text and id fields, given as dotted paths; one record has no id.
    let lines = [
        format!(
            r#"{{"meta":{{"id":"w1"}},"body":{{"text":{}}}}}"#,
            js(&[OTHER2, STORY[0]].join("\n\n"))
        ),
        format!(r#"{{"body":{{"text":{}}}}}"#, js(STORY_COPY[0])),
    ];
    let input = lines.join("\n") + "\n";
    env.write("n.jsonl.zst", zstd_encode(input.as_bytes()));
    let run = env.run(&[
        "scan",
        "--format",
        "jsonl",
        "--text-field",
        "body.text",
        "--id-field",
        "meta.id",
        "--split",
        "blank",
        "n.jsonl.zst",
    ]);
    run.assert_code(0);
    let out = run.jsonl();
    let members = out.members();
    assert_eq!(members.len(), 2, "{members:?}");
    assert_eq!(members[0]["doc"], "w1");
    assert_eq!(members[0]["paragraph"], 1);
    assert_eq!(members[0]["line"], 1);
    assert_eq!(members[0]["byte"], 0);
    assert_eq!(members[0]["text"], STORY[0]);
    assert_eq!(members[1]["doc"], "2");
    assert_eq!(members[1]["paragraph"], 0);
    assert_eq!(members[1]["line"], 2);
    assert_eq!(members[1]["byte"].as_u64(), Some(lines[0].len() as u64 + 1));
    // --input-format jsonl reads any name (and standard input) as JSON Lines.
    let run = env.run_stdin(
        &[
            "scan",
            "--format",
            "jsonl",
            "--input-format",
            "jsonl",
            "--text-field",
            "body.text",
            "-",
        ],
        input.as_bytes(),
    );
    run.assert_code(0);
    assert_eq!(run.jsonl().members().len(), 2);
    // Plain-text members keep doc and paragraph null.
    env.write("t.txt", format!("{}\n{}\n", STORY[0], STORY_COPY[0]));
    let run = env.run(&["scan", "--format", "jsonl", "t.txt"]);
    assert!(run
        .jsonl()
        .members()
        .iter()
        .all(|m| m["doc"].is_null() && m["paragraph"].is_null()));
}

#[test]
fn dedup_output_does_not_depend_on_threads() {
    let env = TestEnv::new();
    let mut input = feed();
    for i in 0..300 {
        let p = if i % 3 == 0 { STORY[i % 2] } else { OTHER };
        input.push_str(&record(
            &format!("x{i}"),
            &format!("2024-{:02}", i % 12 + 1),
            &[p, &format!("{OTHER2} {i}")],
        ));
        input.push('\n');
    }
    env.write("f.jsonl.gz", gzip(input.as_bytes()));
    let mut outs = Vec::new();
    for j in ["1", "4"] {
        let out = format!("o{j}.jsonl");
        run_ok(
            &env,
            &[
                "dedup",
                "-j",
                j,
                "f.jsonl.gz",
                "-o",
                &out,
                "--order-field",
                "published",
                "--drop-record-above",
                "0.9",
            ],
        );
        outs.push((
            read_text(&env, &out),
            blank_seconds(&read_text(&env, &format!("{out}.report.jsonl"))),
        ));
    }
    assert_same_output("output", "-j1", &outs[0].0, "-j4", &outs[1].0);
    assert_same_output("report", "-j1", &outs[0].1, "-j4", &outs[1].1);
}

#[test]
fn crlf_endings_and_a_byte_order_mark_are_kept() {
    let env = TestEnv::new();
    let lines = [
        record("wire", "2024-05-02", &[STORY[0], STORY[1]]),
        record("copy", "2024-05-03", &[STORY_COPY[0], OTHER]),
    ];
    let input = format!("\u{feff}{}\r\n{}\r\n", lines[0], lines[1]);
    env.write("f.jsonl", &input);
    for mode in ["remove", "annotate"] {
        let out = format!("{mode}.jsonl");
        run_ok(&env, &["dedup", "f.jsonl", "-o", &out, "--mode", mode]);
        let text = read_text(&env, &out);
        let got: Vec<&str> = text.split_inclusive('\n').collect();
        assert_eq!(got.len(), 2, "{text}");
        // The first record (nothing removed) is copied byte for byte, mark and all.
        assert_eq!(got[0], format!("\u{feff}{}\r\n", lines[0]));
        assert!(got[1].ends_with("}\r\n"), "{:?}", got[1]);
        let v: Value = serde_json::from_str(got[1].trim_end()).unwrap();
        if mode == "remove" {
            assert_eq!(v["text"], OTHER);
        } else {
            assert_eq!(v["syndup_duplicates"][0]["duplicate_of"]["doc"], "wire");
        }
    }
}

#[test]
fn a_dropped_record_is_never_the_kept_copy() {
    let env = TestEnv::new();
    // B repeats A's first paragraph and is dropped (share 0.5 > 0.4); its second paragraph
    // then has no written original, so C's copy of it is kept, not removed.
    let lines = [
        record("A", "1", &[STORY[0]]),
        record("B", "2", &[STORY[0], STORY[1]]),
        record("C", "3", &[STORY_COPY[1], OTHER]),
    ];
    env.write("f.jsonl", lines.join("\n") + "\n");
    run_ok(
        &env,
        &[
            "dedup",
            "f.jsonl",
            "-o",
            "o.jsonl",
            "--drop-record-above",
            "0.4",
        ],
    );
    let out = read_text(&env, "o.jsonl");
    let texts: Vec<String> = out.lines().map(text_of).collect();
    assert_eq!(
        texts,
        [STORY[0].to_string(), [STORY_COPY[1], OTHER].join("\n")]
    );
    let report = DedupReport::read(&env, "o.jsonl.report.jsonl");
    assert_eq!(report.assert_balanced(), [3, 2, 1, 0]);
    assert!(report.of("removed").is_empty());
    assert_eq!(report.of("dropped")[0]["unique"][0]["text"], STORY[1]);
}

/// What the library's in-memory path writes: [`syndup::Detector::detect`] (every shingle set,
/// sentence and signature in memory, pairs expanded to every copy), [`Plan::new`],
/// `write_output` and `write_report`, with the seconds blanked. `syndup dedup` ran this before
/// it used `Detector::detect_lean`.
fn full_path_dedup(
    paths: &[&str],
    params: &syndup::Params,
    options: &syndup::input::InputOptions,
    dedup: &syndup::dedup::DedupOptions,
) -> (String, String) {
    use syndup::dedup::Plan;
    let corpus = syndup::input::Corpus::open_with(paths, options, params, &|_| {});
    let found = syndup::Detector::new(params.clone())
        .unwrap()
        .detect(&corpus);
    let plan = Plan::new(&corpus, &found, params, dedup);
    let mut out = Vec::new();
    let tally = plan
        .write_output(&corpus, params, options, &mut out, &|_| {})
        .unwrap();
    let mut report = Vec::new();
    plan.write_report(&corpus, &found, params, &tally, 0.0, &mut report)
        .unwrap();
    (
        String::from_utf8(out).unwrap(),
        blank_seconds(&String::from_utf8(report).unwrap()),
    )
}

/// The inputs on which the lean detector is checked against the in-memory one, written to
/// `env`: `corpus/sample` (six languages, stemmed sentence matching), all of it as one gzip
/// plain-text file, and a generated gzip feed of syndicated copies with groups of identical
/// paragraphs past the full-pairing limit; as paths.
pub(crate) fn lean_inputs(env: &TestEnv) -> [String; 3] {
    use syndup::generate::{stories_from_blocks, write_corpus_jsonl, GenConfig};

    let sample = crate::util::repo_root().join("corpus/sample");
    let mut stories = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&sample)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    names.sort();
    for p in &names {
        stories.extend(stories_from_blocks(&std::fs::read_to_string(p).unwrap()));
    }
    let cfg = GenConfig {
        docs: 500,
        seed: 11,
        ..GenConfig::default()
    };
    let mut feed = Vec::new();
    write_corpus_jsonl(&stories, &cfg, &mut feed).unwrap();
    // Two groups of identical paragraphs past the full-pairing limit (64) that match each other
    // by one sentence only (paragraph Jaccard below the threshold), so that only their
    // representatives' pair is listed and the other members must not be removed on its
    // strength; and one near copy on its own.
    let restated = [
        format!("{} {OTHER}", STORY[0]),
        format!(
            "{} Officials expect the water to recede by Wednesday, although more rain is forecast \
             for the region later in the week.",
            STORY_COPY[0]
        ),
    ];
    for i in 0..140 {
        let line = record(
            &format!("g{i}"),
            &format!("2023-{:02}-01", i % 12 + 1),
            &[&restated[i / 70], &format!("{OTHER2} {i}")],
        );
        feed.extend_from_slice(line.as_bytes());
        feed.push(b'\n');
    }
    let lone = STORY[0].replace("before dawn", "at dawn");
    feed.extend_from_slice(record("lone", "2025-01-01", &[&lone, STORY[1]]).as_bytes());
    feed.push(b'\n');
    let feed_path = env.write("feed.jsonl.gz", gzip(&feed));
    let feed_path = feed_path.to_str().unwrap().to_string();
    let sample = sample.to_str().unwrap().to_string();
    // All of corpus/sample as one gzip plain-text file (decompressed to a temporary file).
    let all_text: String = names
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap() + "\n")
        .collect();
    let text_gz = env.write("sample.txt.gz", gzip(all_text.as_bytes()));
    let text_gz = text_gz.to_str().unwrap().to_string();

    [sample, text_gz, feed_path]
}

/// `syndup dedup` detects with `Detector::detect_lean` (band keys and sentence terms in
/// temporary files, shingle sets derived again for verification, pairs kept between
/// representatives of identical paragraphs) and keeps decoded JSON Lines text (and decompressed
/// plain text) in a mapped temporary file. On real text (`corpus/sample`, six languages,
/// stemmed sentence matching; as files and as one gzip file) and on a generated feed of
/// syndicated copies (gzip, with groups of identical paragraphs past the full-pairing limit),
/// for every preset and both modes, it writes the same output and report, byte for byte, as the
/// in-memory path. (Debug builds use tiny batches and blocks, so every boundary is crossed.)
#[test]
fn lean_detection_writes_what_full_detection_writes() {
    use syndup::dedup::{DedupOptions, Mode};
    use syndup::input::jsonl::FieldPath;
    use syndup::input::InputOptions;
    use syndup::{Params, Preset};

    let env = TestEnv::new();
    let [sample, text_gz, feed_path] = lean_inputs(&env);
    let cases: &[(&str, Preset, Mode, Option<f64>, bool)] = &[
        (&sample, Preset::Paraphrase, Mode::Remove, None, false),
        (&sample, Preset::Near, Mode::Annotate, None, false),
        (&text_gz, Preset::Paraphrase, Mode::Remove, Some(0.5), false),
        (
            &feed_path,
            Preset::Paraphrase,
            Mode::Remove,
            Some(0.6),
            true,
        ),
        (&feed_path, Preset::Near, Mode::Annotate, None, true),
        (&feed_path, Preset::Exact, Mode::Remove, Some(0.99), false),
    ];
    for (k, &(input, preset, mode, drop, ordered)) in cases.iter().enumerate() {
        let out = format!("lean{k}.out");
        let mut args = vec![
            "dedup".to_string(),
            input.to_string(),
            "-o".into(),
            out.clone(),
            "--preset".into(),
            preset.name().into(),
            "--mode".into(),
            if mode == Mode::Remove {
                "remove"
            } else {
                "annotate"
            }
            .into(),
        ];
        if let Some(r) = drop {
            args.extend(["--drop-record-above".into(), r.to_string()]);
        }
        if ordered {
            args.extend(["--order-field".into(), "published".into()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_ok(&env, &args);
        let lean = (
            read_text(&env, &out),
            blank_seconds(&read_text(&env, &format!("{out}.report.jsonl"))),
        );
        let options = InputOptions {
            order_field: ordered.then(|| FieldPath::new("published")),
            ..InputOptions::default()
        };
        let dedup = DedupOptions {
            mode,
            drop_record_above: drop,
        };
        let full = full_path_dedup(&[input], &Params::preset(preset), &options, &dedup);
        let what = format!("case {k}: {}", args.join(" "));
        let report = DedupReport::read(&env, &format!("{out}.report.jsonl"));
        report.assert_balanced();
        assert!(
            !report
                .of(if mode == Mode::Remove {
                    "removed"
                } else {
                    "annotated"
                })
                .is_empty(),
            "{what}: nothing found"
        );
        assert_same_output(&what, "lean", &lean.0, "full", &full.0);
        assert_same_output(&what, "lean", &lean.1, "full", &full.1);
    }
}

/// `-o` through a symbolic link writes the file the link points to (the link stays); onto a
/// FIFO (as onto `/dev/null`) it streams into it rather than renaming a temporary file over
/// it (which, run as root, replaced `/dev/null` with a regular file).
#[cfg(unix)]
#[test]
fn output_through_links_and_into_fifos() {
    let env = TestEnv::new();
    env.write("feed.jsonl", feed());
    env.write("real.jsonl", "old contents\n");
    std::os::unix::fs::symlink("real.jsonl", env.path().join("link.jsonl")).unwrap();
    run_ok(&env, &["dedup", "feed.jsonl", "-o", "link.jsonl"]);
    let meta = std::fs::symlink_metadata(env.path().join("link.jsonl")).unwrap();
    assert!(meta.file_type().is_symlink());
    let written = read_text(&env, "real.jsonl");
    assert_eq!(written.lines().count(), feed().lines().count(), "{written}");

    // The output (a few kilobytes) fits in the pipe's buffer.
    let fifo = env.path().join("out.fifo");
    let mut reader = crate::util::fifo_reader(&fifo);
    let run = env.run(&[
        "dedup",
        "feed.jsonl",
        "-o",
        "out.fifo",
        "--report",
        "report.jsonl",
    ]);
    run.assert_code(0);
    let mut got = String::new();
    let _ = reader.read_to_string(&mut got);
    assert!(crate::util::is_fifo(&fifo), "the FIFO was replaced");
    assert_eq!(got, written);
}

/// A record with a paragraph skipped when read (longer than the limit) is never dropped by
/// `--drop-record-above`: that paragraph could not be compared, and dropping the record lost
/// it (the report counted one paragraph of one, all duplicate). A plain-text file likewise.
#[test]
fn drop_record_above_keeps_documents_with_skipped_paragraphs() {
    let env = TestEnv::new();
    let wire = STORY[0];
    let long = "This long unique paragraph holds the only copy of an exclusive interview with \
                the mayor, and it is longer than the limit set for this run so that it is \
                skipped.";
    assert!(wire.len() <= 150 && long.len() > 150);
    env.write(
        "feed.jsonl",
        format!(
            "{}\n{}\n",
            record("wire", "2024-01-01", &[wire]),
            record("copy", "2024-01-02", &[wire, long])
        ),
    );
    env.write("wire.txt", format!("{wire}\n"));
    env.write("copy.txt", format!("{wire}\n{long}\n"));
    for (inputs, out) in [
        (&["feed.jsonl"][..], "out.jsonl"),
        (&["wire.txt", "copy.txt"], "out.txt"),
    ] {
        let mut args = vec!["dedup"];
        args.extend_from_slice(inputs);
        args.extend_from_slice(&[
            "-o",
            out,
            "--max-paragraph-bytes",
            "150",
            "--drop-record-above",
            "0.99",
        ]);
        let run = env.run(&args);
        run.assert_code(2);
        let report = DedupReport::read(&env, &format!("{out}.report.jsonl"));
        assert!(report.of("dropped").is_empty(), "{}", run.describe());
        assert_eq!(report.of("skipped").len(), 1, "{}", run.describe());
        assert!(
            read_text(&env, out).contains("exclusive interview"),
            "{out}"
        );
    }
}

/// `--order-field` ranks integers exactly: of two nanosecond timestamps 100 apart (one float
/// to f64), the earlier record keeps the paragraph though it comes second (input order broke
/// the tie); `-0` and `0` tie, and input order decides.
#[test]
fn order_field_integers_are_exact() {
    let env = TestEnv::new();
    let wire = STORY[0];
    let line = |id: &str, field: &str| {
        format!(
            "{{\"id\":\"{id}\",{field},\"text\":{}}}\n",
            serde_json::to_string(wire).unwrap()
        )
    };
    env.write(
        "ns.jsonl",
        line("later", "\"ns\":1714550400000000100")
            + &line("earlier", "\"ns\":1714550400000000000"),
    );
    env.write(
        "zero.jsonl",
        line("a", "\"ns\":0") + &line("b", "\"ns\":-0"),
    );
    for (input, kept) in [("ns.jsonl", "earlier"), ("zero.jsonl", "a")] {
        let out = format!("{input}.out");
        run_ok(&env, &["dedup", input, "-o", &out, "--order-field", "ns"]);
        let report = DedupReport::read(&env, &format!("{out}.report.jsonl"));
        let removed = report.of("removed");
        assert_eq!(removed.len(), 1, "{input}");
        assert_eq!(removed[0]["duplicate_of"]["doc"], kept, "{input}");
    }
}

/// Files whose lines end in `\r` alone (classic Mac OS) are read line by line: a copy inside one
/// is removed with its line, and such files are joined by `\r` in the output, which reads back
/// as the same lines. (Read with `\n` line ends, such a file was one paragraph, and its copies
/// were not found.)
#[test]
fn classic_mac_line_ends_are_lines() {
    let env = TestEnv::new();
    let [a, b] = STORY;
    env.write("in/a.txt", format!("{a}\r{b}\r\r{OTHER}\r\r{a}\r{b}\r"));
    env.write("in/b.txt", format!("{OTHER2}\r{a}"));
    env.write("in/c.txt", format!("{}\r", STORY_COPY[1]));
    let run = run_ok(&env, &["dedup", "in", "-o", "out.txt"]);
    assert_eq!(
        read_text(&env, "out.txt"),
        format!("{a}\r{b}\r\r{OTHER}\r{OTHER2}"),
        "{}",
        run.describe()
    );
    let report = DedupReport::read(&env, "out.txt.report.jsonl");
    assert_eq!(report.tally()["paragraphs_removed"], 4);
    // Read again: the four kept paragraphs, each on its own line.
    let scan = run_ok(&env, &["scan", "out.txt", "--format", "jsonl"]);
    assert_eq!(scan.jsonl().summary["paragraphs"], 4, "{}", scan.describe());

    // Blank-line blocks of `\r` lines.
    run_ok(
        &env,
        &["dedup", "in/a.txt", "--split", "blank", "-o", "blocks.txt"],
    );
    assert_eq!(
        read_text(&env, "blocks.txt"),
        format!("{a}\r{b}\r\r{OTHER}\r")
    );

    // A file without any line end between `\r` files is joined by `\r` too, and so is a `\n`
    // file whose kept text lost its only `\n`: a `\n` made the whole output one of `\n` lines,
    // in which the `\r` files were single lines.
    env.write("mix/1.txt", format!("{a}\r{OTHER}\r"));
    env.write("mix/2.txt", OTHER2);
    env.write("mix/3.txt", format!("{b}\n{OTHER}"));
    env.write("mix/4.txt", format!("{}\r{a}", STORY_COPY[1]));
    run_ok(&env, &["dedup", "mix", "-o", "mix.txt"]);
    assert_eq!(
        read_text(&env, "mix.txt"),
        format!("{a}\r{OTHER}\r{OTHER2}\r{b}")
    );
    let scan = run_ok(&env, &["scan", "mix.txt", "--format", "jsonl"]);
    assert_eq!(scan.jsonl().summary["paragraphs"], 4, "{}", scan.describe());
    run_ok(
        &env,
        &[
            "dedup",
            "mix/2.txt",
            "in/a.txt",
            "--split",
            "blank",
            "-o",
            "mixb.txt",
        ],
    );
    assert_eq!(
        read_text(&env, "mixb.txt"),
        format!("{OTHER2}\r\r{a}\r{b}\r\r{OTHER}\r")
    );
}

/// A paragraph that merges two stories joins their copies into one cluster, whose first kept
/// copy is the first story's. The second story's later copies are verified near-copies of its
/// first copy, which was kept (it is not similar to the first story): they are removed against
/// it. They were compared with the first story only, and stayed.
#[test]
fn copies_are_removed_against_any_kept_copy_of_their_cluster() {
    let env = TestEnv::new();
    let p = "The quick brown fox jumped over the lazy dog near the river bank on Tuesday morning.";
    let q = "Heavy rain flooded the old town of Kellbach overnight, forcing nearly two thousand residents to leave.";
    let feed: String = [
        ("p1", p.to_string()),
        ("q1", format!("{q} five")),
        ("bridge", format!("{p} {q}")),
        ("q2", format!("{q} obj")),
        ("q3", q.to_string()),
    ]
    .iter()
    .map(|(id, text)| record(id, "2024-01-01", &[text]) + "\n")
    .collect();
    env.write("feed.jsonl", &feed);
    let run = env.run(&["dedup", "feed.jsonl", "-o", "out.jsonl"]);
    run.assert_code(0);
    let texts: Vec<String> = parse_jsonl(&read_text(&env, "out.jsonl"))
        .iter()
        .map(|r| r["text"].as_str().unwrap().to_string())
        .collect();
    let empty = String::new();
    assert_eq!(
        texts,
        [
            p.to_string(),
            format!("{q} five"),
            empty.clone(),
            empty.clone(),
            empty
        ]
    );
    let report = DedupReport::read(&env, "out.jsonl.report.jsonl");
    let got: Vec<(&str, &str)> = report
        .of("removed")
        .iter()
        .map(|r| {
            (
                r["doc"].as_str().unwrap(),
                r["duplicate_of"]["doc"].as_str().unwrap(),
            )
        })
        .collect();
    // q2 and q3 point at q1, the kept copy they were verified against.
    assert_eq!(got, [("bridge", "p1"), ("q2", "q1"), ("q3", "q1")]);
}
