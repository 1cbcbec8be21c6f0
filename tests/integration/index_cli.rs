//! `syndup index build|add|query|stats`: the JSONL contract of query results, exit codes, and
//! what happens with damaged, foreign or missing index files.

use serde_json::Value;

use crate::util::{blank_seconds, write_good_pair, Jsonl, TestEnv, STORY, STORY_COPY};

/// Checks the index query's clusters: the first member is the query paragraph (with its text,
/// equal to the file's bytes at `byte`), the others are indexed paragraphs (text null) with a
/// pair from the query member, similarities in (0, 1] and `similarity.min/max` consistent.
#[track_caller]
fn check_query_clusters(env: &TestEnv, out: &Jsonl) {
    for (k, c) in out.clusters.iter().enumerate() {
        assert_eq!(c["id"].as_u64(), Some(k as u64), "{c}");
        let members = c["members"].as_array().expect("members");
        assert!(members.len() >= 2, "{c}");
        for m in members {
            for key in [
                "source",
                "line",
                "byte",
                "doc",
                "paragraph",
                "text",
                "indexed",
            ] {
                assert!(m.get(key).is_some(), "member without `{key}`: {c}");
            }
        }
        let q = &members[0];
        assert_eq!(q["indexed"], false, "{c}");
        let text = q["text"].as_str().expect("query text");
        let bytes = std::fs::read(env.join(q["source"].as_str().unwrap())).unwrap();
        let at = q["byte"].as_u64().unwrap() as usize;
        assert_eq!(&bytes[at..at + text.len()], text.as_bytes(), "{c}");
        for m in &members[1..] {
            assert_eq!(m["indexed"], true, "{c}");
            assert!(m["text"].is_null() && m["id"].is_u64(), "{c}");
        }
        let pairs = c["pairs"].as_array().expect("pairs");
        assert_eq!(pairs.len(), members.len() - 1, "{c}");
        let sims: Vec<f64> = pairs
            .iter()
            .enumerate()
            .map(|(i, p)| {
                assert_eq!(
                    (p["a"].as_u64(), p["b"].as_u64()),
                    (Some(0), Some(i as u64 + 1))
                );
                let s = p["similarity"].as_f64().unwrap();
                assert!(s > 0.0 && s <= 1.0, "{c}");
                s
            })
            .collect();
        assert!(sims.windows(2).all(|w| w[0] >= w[1]), "sorted: {c}");
        let min = sims.iter().copied().fold(f64::INFINITY, f64::min);
        let max = sims.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(c["similarity"]["min"].as_f64(), Some(min));
        assert_eq!(c["similarity"]["max"].as_f64(), Some(max));
    }
    assert_eq!(out.count("clusters"), out.clusters.len() as u64);
    assert_eq!(out.count("skipped"), out.skipped.len() as u64);
}

/// (query line, [(indexed source, indexed line)]) for every cluster.
fn matches(out: &Jsonl) -> Vec<(u64, Vec<(String, u64)>)> {
    out.clusters
        .iter()
        .map(|c| {
            let m = c["members"].as_array().unwrap();
            (
                m[0]["line"].as_u64().unwrap(),
                m[1..]
                    .iter()
                    .map(|x| {
                        (
                            x["source"].as_str().unwrap().to_string(),
                            x["line"].as_u64().unwrap(),
                        )
                    })
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn build_then_query_reports_indexed_sources_and_lines() {
    let env = TestEnv::new();
    let [a, b] = write_good_pair(&env);
    env.run(&["index", "build", "idx.syndup", a]).assert_code(0);
    let run = env.run(&["index", "query", "idx.syndup", b, "--format", "jsonl"]);
    run.assert_code(0);
    let out = run.jsonl();
    check_query_clusters(&env, &out);
    assert_eq!(
        matches(&out),
        vec![(1, vec![(a.to_string(), 1)]), (3, vec![(a.to_string(), 5)])]
    );
    assert_eq!(out.count("paragraphs"), 2);
    assert_eq!(out.count("index_entries"), 3);
    assert_eq!(out.summary["params"]["preset"], "paraphrase");
    // The text format names the same places.
    let text = env.run(&["index", "query", "idx.syndup", b]);
    text.assert_code(0);
    let s = text.stdout_str();
    assert!(
        s.contains(&format!("cluster 0: {b}:1 matches 1 indexed paragraph")),
        "{s}"
    );
    assert!(s.contains(&format!("[1] {a}:5  indexed #2")), "{s}");
    assert!(
        s.ends_with("s\n") && s.contains("2 of 2 paragraphs in 1 files match"),
        "{s}"
    );
}

#[test]
fn add_extends_the_index_and_stats_describe_it() {
    let env = TestEnv::new();
    let [a, b] = write_good_pair(&env);
    env.write("short.txt", "Photo: Reuters\n\nPhoto: Reuters\n");
    env.run(&["index", "build", "idx.syndup", a, "--preset", "near"])
        .assert_code(0);
    let added = env.run(&["index", "add", "idx.syndup", b, "short.txt"]);
    added.assert_code(0);
    assert!(added
        .stdout_str()
        .starts_with("added 4 paragraphs of 2 files"));
    let stats = env.run(&["index", "stats", "idx.syndup", "--format", "jsonl"]);
    stats.assert_code(0);
    let line: Value = serde_json::from_str(stats.stdout_str().trim()).unwrap();
    assert_eq!(line["type"], "stats");
    let d = &line["data"];
    assert_eq!(d["entries"], 7);
    assert_eq!(d["short_entries"], 2);
    assert_eq!(d["keys"], 3);
    assert_eq!(d["format_version"], 2);
    assert_eq!(d["params"]["preset"], "near", "add keeps the stored params");
    assert!(d["buckets"]["largest"].as_u64().unwrap() >= 2);
    assert_eq!(
        d["file_bytes"].as_u64(),
        Some(std::fs::metadata(env.join("idx.syndup")).unwrap().len())
    );
    let text = env.run(&["index", "stats", "idx.syndup"]);
    text.assert_code(0);
    assert!(text.stdout_str().contains("entries: 7 (2 short), keys: 3"));
    // A query of the copy now finds the original and the copy itself.
    let q = env.run(&["index", "query", "idx.syndup", b, "--format", "jsonl"]);
    let out = q.jsonl();
    check_query_clusters(&env, &out);
    assert_eq!(
        matches(&out),
        vec![
            (1, vec![(b.to_string(), 1), (a.to_string(), 1)]),
            (3, vec![(b.to_string(), 3), (a.to_string(), 5)])
        ]
    );
}

#[test]
fn capacity_evicts_the_oldest_paragraphs() {
    let env = TestEnv::new();
    let [a, b] = write_good_pair(&env);
    env.run(&["index", "build", "idx.syndup", a, b, "--capacity", "2"])
        .assert_code(0);
    let stats = env.run(&["index", "stats", "idx.syndup"]);
    let s = stats.stdout_str();
    assert!(
        s.contains("entries: 2 (0 short)") && s.contains("evicted: 3"),
        "{s}"
    );
    assert!(s.contains("capacity: 2"), "{s}");
    // Only good_b.txt's paragraphs remain: the original's lines are gone.
    env.write("q.txt", format!("{}\n", STORY[0]));
    let out = env
        .run(&["index", "query", "idx.syndup", "q.txt", "--format", "jsonl"])
        .jsonl();
    assert_eq!(matches(&out), vec![(1, vec![(b.to_string(), 1)])]);
}

#[test]
fn query_output_does_not_depend_on_threads() {
    let env = TestEnv::new();
    let [a, b] = write_good_pair(&env);
    env.write(
        "more.txt",
        format!("{}\n{}\n{}\n", STORY_COPY[1], STORY[0], STORY_COPY[0]),
    );
    env.run(&["index", "build", "idx.syndup", a, "more.txt", "-j", "2"])
        .assert_code(0);
    let one = env.run(&[
        "index",
        "query",
        "idx.syndup",
        b,
        "more.txt",
        "--format",
        "jsonl",
        "-j",
        "1",
    ]);
    let two = env.run(&[
        "index",
        "query",
        "idx.syndup",
        b,
        "more.txt",
        "--format",
        "jsonl",
        "-j",
        "2",
    ]);
    assert_eq!(
        blank_seconds(one.stdout_str()),
        blank_seconds(two.stdout_str())
    );
    // Building with one thread gives the same file as with two.
    env.run(&["index", "build", "one.syndup", a, "more.txt", "-j", "1"])
        .assert_code(0);
    assert_eq!(
        std::fs::read(env.join("one.syndup")).unwrap(),
        std::fs::read(env.join("idx.syndup")).unwrap()
    );
}

#[test]
fn skipped_input_is_listed_and_exits_2() {
    let env = TestEnv::new();
    let [a, b] = write_good_pair(&env);
    env.write("bin.txt", b"abc\0def");
    let build = env.run(&["index", "build", "idx.syndup", a, "bin.txt"]);
    build.assert_code(2);
    assert!(build.stderr.contains("bin.txt"), "{}", build.stderr);
    assert!(
        env.join("idx.syndup").exists(),
        "the usable input is still indexed"
    );
    let q = env.run(&[
        "index",
        "query",
        "idx.syndup",
        b,
        "bin.txt",
        "--format",
        "jsonl",
    ]);
    q.assert_code(2);
    let out = q.jsonl();
    assert_eq!(out.skipped.len(), 1);
    assert_eq!(out.clusters.len(), 2);
}

/// A `--max-paragraph-bytes` on `add` or `query` above the index's own limit does not let a
/// longer paragraph be dropped unsaid: it is listed as skipped and the exit code is 2. (It
/// was read, refused by the index, and neither stored nor compared: "added 1 paragraphs",
/// exit 0.)
#[test]
fn paragraphs_over_the_index_limit_are_reported() {
    let env = TestEnv::new();
    let long = format!("{} {}", STORY[0], STORY[1]).repeat(6);
    assert!(long.len() > 1000 && long.len() < 100_000);
    env.write("a.txt", format!("{}\n", STORY[0]));
    env.write("big.txt", format!("{long}\n{}\n", STORY_COPY[1]));
    let limits = ["--max-paragraph-bytes", "1000"];
    let build = env.run(&[
        "index",
        "build",
        "idx.syndup",
        "a.txt",
        limits[0],
        limits[1],
    ]);
    build.assert_code(0);
    let raised = ["--max-paragraph-bytes", "100000"];
    let add = env.run(&[
        "index",
        "add",
        "idx.syndup",
        "big.txt",
        raised[0],
        raised[1],
    ]);
    add.assert_code(2);
    assert!(add.stderr.contains("big.txt:1 "), "{}", add.describe());
    assert!(
        String::from_utf8_lossy(&add.stdout).contains("added 1 paragraphs"),
        "{}",
        add.describe()
    );
    let q = env.run(&[
        "index",
        "query",
        "idx.syndup",
        "big.txt",
        raised[0],
        raised[1],
        "--format",
        "jsonl",
    ]);
    q.assert_code(2);
    let out = q.jsonl();
    assert_eq!(out.skipped.len(), 1, "{}", q.describe());
    assert_eq!(out.skipped[0]["line"], 1);
    assert_eq!(out.summary["paragraphs"], 1);
}

#[test]
fn damaged_foreign_and_missing_indexes_are_errors_naming_the_file() {
    let env = TestEnv::new();
    let [a, b] = write_good_pair(&env);
    env.run(&["index", "build", "idx.syndup", a]).assert_code(0);
    let good = std::fs::read(env.join("idx.syndup")).unwrap();
    env.write("trunc.syndup", &good[..good.len() / 2]);
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x10;
    env.write("flip.syndup", &flipped);
    env.write("photo.jpg", b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00");
    let mut v9 = good.clone();
    v9[8] = 9;
    env.write("v9.syndup", &v9);
    let cases = [
        ("trunc.syndup", "trunc.syndup: corrupt index: truncated"),
        (
            "flip.syndup",
            "flip.syndup: corrupt index: checksum mismatch",
        ),
        ("photo.jpg", "photo.jpg: not a syndup index"),
        (
            "v9.syndup",
            "v9.syndup: index format v9, this syndup reads v1 to v2",
        ),
        ("missing.syndup", "missing.syndup: cannot read"),
    ];
    for (file, want) in cases {
        for args in [
            vec!["index", "query", file, b],
            vec!["index", "add", file, b],
            vec!["index", "stats", file],
        ] {
            let run = env.run(&args);
            run.assert_code(2);
            assert!(
                run.stderr.starts_with("syndup: ") && run.stderr.contains(want),
                "{}",
                run.describe()
            );
        }
    }
    // A failed add leaves the damaged file as it was (nothing is written over it).
    assert_eq!(std::fs::read(env.join("flip.syndup")).unwrap(), flipped);
    // Invalid parameters are refused before anything is written.
    let bad = env.run(&["index", "build", "new.syndup", a, "--threshold", "2"]);
    bad.assert_code(2);
    assert!(bad.stderr.contains("threshold"), "{}", bad.stderr);
    assert!(!env.join("new.syndup").exists());
}

/// The index commands read input as `scan` does: `--text-field` names the text of JSON Lines
/// records, `--on-error fail` stops before anything is saved, and a JSON Lines paragraph is
/// placed at its record's line and byte (with the record id and paragraph number for the
/// query paragraph). They used to read with the default options, so `--text-field body`
/// skipped every record, and placed paragraphs at offsets into the decoded text.
#[test]
fn index_reads_json_lines_with_the_input_flags() {
    let env = TestEnv::new();
    let line = |id: &str, text: String| serde_json::json!({ "id": id, "body": text }).to_string();
    let first = line("d0", format!("An intro of no interest.\n{}", STORY[0]));
    let feed = format!("{first}\n{}\n", line("d1", STORY[0].to_string()));
    env.write("feed.jsonl", &feed);
    let build = env.run(&[
        "index",
        "build",
        "i.idx",
        "feed.jsonl",
        "--text-field",
        "body",
    ]);
    build.assert_code(0);
    let q = env.run(&[
        "index",
        "query",
        "i.idx",
        "feed.jsonl",
        "--text-field",
        "body",
        "--format",
        "jsonl",
    ]);
    let out = q.assert_code(0).jsonl();
    let story = out
        .clusters
        .iter()
        .find(|c| c["members"][0]["text"] == STORY[0] && c["members"][0]["doc"] == "d0")
        .unwrap_or_else(|| panic!("no cluster for d0's story paragraph: {}", q.describe()));
    let members = story["members"].as_array().expect("members");
    assert_eq!(members[0]["paragraph"], 1, "{story}");
    assert_eq!(
        (members[0]["line"].as_u64(), members[0]["byte"].as_u64()),
        (Some(1), Some(0))
    );
    let second = members
        .iter()
        .find(|m| m["line"] == 2)
        .unwrap_or_else(|| panic!("d1 not matched: {story}"));
    assert_eq!(
        second["byte"].as_u64(),
        Some(first.len() as u64 + 1),
        "{story}"
    );
    // --on-error fail: a malformed record stops the build before the index is saved.
    env.write("bad.jsonl", format!("{first}\nnot json\n"));
    let build = env.run(&[
        "index",
        "build",
        "bad.idx",
        "bad.jsonl",
        "--text-field",
        "body",
        "--on-error",
        "fail",
    ]);
    build.assert_code(2);
    assert!(build.stderr.contains("bad.jsonl:2"), "{}", build.stderr);
    assert!(!env.join("bad.idx").exists(), "an index was saved");
}

/// `index build` never replaces one of its inputs or a file that is not an index: forgetting
/// the index's name (`index build a.txt b.txt`) made a.txt the index and replaced the article.
/// An index, an empty file or a new name is written.
#[test]
fn build_never_replaces_an_input_or_another_kind_of_file() {
    let env = TestEnv::new();
    let [a, b] = write_good_pair(&env);
    let before = std::fs::read(env.join(a)).unwrap();
    for args in [
        &["index", "build", a, b][..],
        &["index", "build", a, a],
        &["index", "build", "good_a.txt", "."],
    ] {
        let run = env.run(args);
        run.assert_code(2);
        assert!(run.stderr.contains(a), "{args:?}: {}", run.describe());
        assert_eq!(std::fs::read(env.join(a)).unwrap(), before, "{args:?}");
    }
    env.run(&["index", "build", "idx.syndup", a]).assert_code(0);
    env.run(&["index", "build", "idx.syndup", b]).assert_code(0);
    env.write("empty.syndup", "");
    env.run(&["index", "build", "empty.syndup", b])
        .assert_code(0);
}
