//! `syndup check`: exit codes 0/1/2, budgets, `--against`, baselines, allow-lists, the config
//! file and flag precedence, every output format, and the CI recipes kept in the repository
//! (`.github/workflows/syndup-check.example.yml`, `.pre-commit-hooks.yaml`).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::util::{
    assert_same_output, blank_seconds, check_clusters, read_from, repo_root, run_in, run_repo, Run,
    TestEnv, BIN, STORY, STORY_COPY,
};

const SEED_FILE: &str = "corpus/seed/000_eabddb1ef9b5a4a1.txt";

/// Distinct paragraphs that repeat nothing (and each other in no way the default preset sees).
const OTHER: [&str; 6] = [
    "The city council approved a larger budget for public libraries after a long debate on Thursday evening.",
    "Local farmers reported an early apple harvest thanks to unusually warm spring weather in the northern valleys.",
    "A museum exhibition of medieval maps opens next month with loans from three private collections abroad.",
    "Engineers began testing a tram line that will connect the airport with the central railway station by 2027.",
    "The national football team announced its squad for the autumn qualifiers, including two young forwards.",
    "Scientists described a newly discovered species of beetle found in mountain forests far to the south.",
];

/// `news/a.txt` holds the story's first paragraph and `news/b.txt` its copy, each with two
/// unrelated paragraphs: one finding (`news/b.txt:1` repeats `news/a.txt:1`), one cluster, two
/// of six paragraphs in it.
fn one_duplicate(env: &TestEnv) {
    env.write(
        "news/a.txt",
        format!("{}\n{}\n{}\n", STORY[0], OTHER[0], OTHER[1]),
    );
    env.write(
        "news/b.txt",
        format!("{}\n{}\n{}\n", STORY_COPY[0], OTHER[2], OTHER[3]),
    );
}

/// A parsed workflow command, `::level props::message`, unescaped.
#[derive(Debug)]
struct Annotation {
    level: String,
    props: BTreeMap<String, String>,
    message: String,
}

impl Annotation {
    fn file_line(&self) -> (String, u64) {
        (
            self.props.get("file").cloned().unwrap_or_default(),
            self.props
                .get("line")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0),
        )
    }
}

fn unescape(s: &str) -> String {
    s.replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

/// Every line of `out` must be a workflow command; returns them parsed.
#[track_caller]
fn annotations(run: &Run) -> Vec<Annotation> {
    run.stdout_str()
        .lines()
        .map(|line| {
            let rest = line
                .strip_prefix("::")
                .unwrap_or_else(|| panic!("not a workflow command: {line}\n{}", run.describe()));
            let (head, message) = rest
                .split_once("::")
                .unwrap_or_else(|| panic!("no `::` before the message: {line}"));
            assert!(
                !message.contains('\n') && !message.contains('\r'),
                "raw newline in {line}"
            );
            let (level, props) = head.split_once(' ').unwrap_or((head, ""));
            let props = props
                .split(',')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p
                        .split_once('=')
                        .unwrap_or_else(|| panic!("property without `=`: {p} in {line}"));
                    assert!(!v.contains(':'), "unescaped `:` in property {p}");
                    (k.to_string(), unescape(v))
                })
                .collect();
            Annotation {
                level: level.to_string(),
                props,
                message: unescape(message),
            }
        })
        .collect()
}

/// The annotations that are findings (they name a file and line).
fn findings(anns: &[Annotation]) -> Vec<&Annotation> {
    anns.iter()
        .filter(|a| a.props.contains_key("line"))
        .collect()
}

/// The issue's bar: the seed article fails, with its three `must` pairs as annotations, each
/// at the later paragraph and naming the earlier one.
#[test]
fn seed_fails_with_the_must_pairs_as_github_annotations() {
    let run = run_repo(&["check", "corpus/seed", "--format", "github"]);
    run.assert_code(1);
    let anns = annotations(&run);
    let found: Vec<_> = findings(&anns);
    for (later, earlier) in [(6, 4), (7, 5), (31, 15)] {
        let hit = found
            .iter()
            .find(|a| a.file_line() == (SEED_FILE.into(), later));
        let hit = hit.unwrap_or_else(|| {
            panic!(
                "no annotation at line {later}; got {found:#?}\n{}",
                run.describe()
            )
        });
        assert_eq!(hit.level, "error");
        assert!(
            hit.message
                .starts_with(&format!("repeats {SEED_FILE}:{earlier} (")),
            "{hit:?}"
        );
        assert_eq!(hit.props["title"], "near-duplicate paragraph");
    }
    let last = anns.last().expect("a verdict");
    assert_eq!(last.level, "error");
    assert_eq!(last.props["title"], "syndup check failed");
}

/// The text format of the same run: one `source:line: repeats source:line` line per finding,
/// then the counts and the verdict.
#[test]
fn seed_text_lists_findings_and_the_verdict() {
    let run = run_repo(&["check", "corpus/seed"]);
    run.assert_code(1);
    let out = run.stdout_str();
    for (later, earlier) in [(6, 4), (7, 5), (31, 15)] {
        let head = format!("{SEED_FILE}:{later}: repeats {SEED_FILE}:{earlier} (");
        assert!(out.lines().any(|l| l.starts_with(&head)), "{head}\n{out}");
    }
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[lines.len() - 1].starts_with("check failed: 3 new findings"),
        "{out}"
    );
    assert!(
        lines[lines.len() - 2].starts_with("3 new findings in 3 clusters; 6 of 32 checked"),
        "{out}"
    );
}

/// Exit 0 without duplication; exit 1 with it (the default budget is "any finding").
#[test]
fn exit_codes_0_and_1() {
    let env = TestEnv::new();
    env.write("clean/a.txt", format!("{}\n{}\n", OTHER[0], OTHER[1]));
    env.write("clean/b.txt", format!("{}\n{}\n", OTHER[2], OTHER[3]));
    let run = env.run(&["check", "clean"]);
    run.assert_code(0);
    assert!(
        run.stdout_str()
            .ends_with("check passed: within budget (fail_on = \"any\")\n"),
        "{}",
        run.describe()
    );
    one_duplicate(&env);
    let run = env.run(&["check", "news"]);
    run.assert_code(1);
    assert!(
        run.stdout_str()
            .starts_with("news/b.txt:1: repeats news/a.txt:1 (shingle similarity"),
        "{}",
        run.describe()
    );
}

/// Exit 2 on every kind of error, and an error outranks findings (1).
#[test]
fn errors_exit_2_and_outrank_findings() {
    let env = TestEnv::new();
    one_duplicate(&env);
    env.write("news/binary.txt", b"abc\0def");
    env.write("bad.toml", "[check]\nmax_clusters = 'many'\n");
    env.write("index.bin", b"SYNDUPIX\x01\x00\x00\x00rest");
    env.write("not-a-baseline.json", "{\"findings\": []}\n");
    let cases: &[(&[&str], &str)] = &[
        (&["check", "news"], "news/binary.txt"),
        (&["check", "news/a.txt", "missing.txt"], "missing.txt"),
        (
            &["check", "news/a.txt", "--allow", "("],
            "allow pattern `(`",
        ),
        (
            &["check", "news/a.txt", "--config", "bad.toml"],
            "bad.toml: ",
        ),
        (
            &["check", "news/a.txt", "--config", "nope.toml"],
            "nope.toml",
        ),
        (
            &["check", "news/a.txt", "--baseline", "nope.json"],
            "--write-baseline",
        ),
        (
            &["check", "news/a.txt", "--baseline", "not-a-baseline.json"],
            "not a syndup baseline",
        ),
        (
            &["check", "news/a.txt", "--against", "index.bin"],
            "saved syndup index",
        ),
        (
            &["check", "news/a.txt", "--max-duplicate-ratio", "1.5"],
            "max_duplicate_ratio",
        ),
        (&["check", "news/a.txt", "--threshold", "2"], "threshold"),
        (
            &["check", "news/a.txt", "--fail-on", "sometimes"],
            "sometimes",
        ),
    ];
    for (args, says) in cases {
        let run = env.run(args);
        run.assert_code(2);
        assert!(
            run.stderr.contains(says),
            "stderr lacks {says:?}\n{}",
            run.describe()
        );
    }
    // Findings are still printed when input is skipped.
    let run = env.run(&["check", "news", "--format", "github"]);
    run.assert_code(2);
    let anns = annotations(&run);
    assert!(anns
        .iter()
        .any(|a| a.file_line() == ("news/b.txt".into(), 1)));
    assert!(anns.iter().any(|a| a.props.get("file").map(String::as_str)
        == Some("news/binary.txt")
        && a.props["title"] == "syndup: input skipped"));
}

/// `--max-clusters` and `--max-duplicate-ratio` switch the policy to the limits; `--fail-on`
/// overrides it either way.
#[test]
fn each_budget_decides() {
    let env = TestEnv::new();
    one_duplicate(&env);
    // One cluster; 2 of 6 paragraphs (0.333) in it.
    let cases: &[(&[&str], i32)] = &[
        (&[], 1),
        (&["--fail-on", "any"], 1),
        (&["--fail-on", "never"], 0),
        (&["--max-clusters", "1"], 0),
        (&["--max-clusters", "0"], 1),
        (&["--max-duplicate-ratio", "0.34"], 0),
        (&["--max-duplicate-ratio", "0.33"], 1),
        (&["--max-clusters", "1", "--max-duplicate-ratio", "0.1"], 1),
        (&["--max-clusters", "5", "--fail-on", "any"], 1),
        (&["--max-clusters", "0", "--fail-on", "never"], 0),
    ];
    for (flags, code) in cases {
        let mut args = vec!["check", "news", "--format", "jsonl"];
        args.extend_from_slice(flags);
        let run = env.run(&args);
        run.assert_code(*code);
        let out = run.jsonl();
        let check = &out.summary["check"];
        assert_eq!(check["new_clusters"], 1, "{check}");
        assert_eq!(check["duplicate_paragraphs"], 2, "{check}");
        assert_eq!(check["checked_paragraphs"], 6, "{check}");
        assert_eq!(check["over_budget"], *code == 1, "{flags:?}: {check}");
        if *code == 1 {
            assert!(!check["reasons"].as_array().unwrap().is_empty());
        }
    }
}

/// `--against`: new~old and new~new pairs are findings, at the new paragraph; old~old never;
/// a file given on both sides is not reported as repeating itself.
#[test]
fn against_reports_new_vs_old_and_new_vs_new_only() {
    let env = TestEnv::new();
    // The published corpus repeats itself (old~old): never a finding.
    env.write("old/a.txt", format!("{}\n{}\n", STORY[0], OTHER[0]));
    env.write("old/b.txt", format!("{}\n{}\n", STORY_COPY[0], OTHER[1]));
    // A clean new batch passes, whatever the old corpus holds.
    env.write("new/clean.txt", format!("{}\n", OTHER[2]));
    let run = env.run(&["check", "new", "--against", "old"]);
    run.assert_code(0);
    // A new file that repeats the old corpus and itself.
    env.write(
        "new/x.txt",
        format!("{}\n{}\n{}\n", STORY_COPY[1], OTHER[3], STORY[1]),
    );
    env.write("old/c.txt", format!("{}\n", STORY[1]));
    let run = env.run(&["check", "new", "--against", "old", "--format", "github"]);
    run.assert_code(1);
    let anns = annotations(&run);
    let mut got: Vec<(String, u64, String)> = findings(&anns)
        .iter()
        .map(|a| {
            let (f, l) = a.file_line();
            let other = a
                .message
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_string();
            (f, l, other)
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("new/x.txt".to_string(), 1, "old/c.txt:1".to_string()),
            ("new/x.txt".to_string(), 3, "new/x.txt:1".to_string()),
            ("new/x.txt".to_string(), 3, "old/c.txt:1".to_string()),
        ],
        "{}",
        run.describe()
    );
    assert!(anns[0].message.contains("(reference corpus)"), "{anns:?}");
    // JSONL: the checked and reference paragraph counts, and the contract holds.
    let run = env.run(&["check", "new", "--against", "old", "--format", "jsonl"]);
    run.assert_code(1);
    let out = run.jsonl();
    check_clusters(&out, read_from(env.path()));
    assert_eq!(out.summary["check"]["checked_paragraphs"], 4);
    assert_eq!(out.summary["check"]["reference_paragraphs"], 5);
    // The same file on both sides is not a finding against itself.
    let run = env.run(&[
        "check",
        "new/x.txt",
        "--against",
        "new",
        "--format",
        "github",
    ]);
    run.assert_code(1);
    let anns = annotations(&run);
    let got: Vec<_> = findings(&anns).iter().map(|a| a.file_line()).collect();
    assert_eq!(got, [("new/x.txt".to_string(), 3)], "{}", run.describe());
    let run = env.run(&["check", "new/clean.txt", "--against", "new/clean.txt"]);
    run.assert_code(0);
}

/// A JSON Lines reference keeps its records: its members are placed (line, byte, record id,
/// paragraph number) as `scan` places them, and stemming goes by each record's language.
/// (The reference's records were not carried into the merged corpus: its members had the
/// decoded buffer's offset as `byte` and no record, and the per-record language detection
/// then read the checked corpus's record list and panicked.)
#[test]
fn against_a_jsonl_reference_keeps_its_records() {
    let env = TestEnv::new();
    env.write("new/x.txt", format!("{}\n", STORY_COPY[1]));
    let records = [
        ("r1", OTHER[0].to_string()),
        ("r2", format!("{}\n{}", OTHER[1], STORY[1])),
        ("r3", OTHER[2].to_string()),
    ];
    let feed: String = records
        .iter()
        .map(|(id, text)| serde_json::json!({ "id": id, "text": text }).to_string() + "\n")
        .collect();
    env.write("old/feed.jsonl", feed);
    let run = env.run(&[
        "check",
        "new",
        "--against",
        "old/feed.jsonl",
        "--format",
        "jsonl",
    ]);
    run.assert_code(1);
    let out = run.jsonl();
    let reference: Vec<&Value> = out
        .members()
        .into_iter()
        .filter(|m| m["source"] == "old/feed.jsonl")
        .collect();
    assert_eq!(reference.len(), 1, "{}", run.describe());
    let scanned = env.run(&["scan", "old/feed.jsonl", "new", "--format", "jsonl"]);
    let scanned = scanned.assert_code(0).jsonl();
    let want: Vec<&Value> = scanned
        .members()
        .into_iter()
        .filter(|m| m["source"] == "old/feed.jsonl")
        .collect();
    assert_eq!(reference, want, "{}", run.describe());
    assert_eq!(reference[0]["doc"], "r2");
    assert_eq!(reference[0]["paragraph"], 1);
    assert_eq!(reference[0]["line"], 2);
}

/// `check` reads input as `scan` does: `--text-field` names the text of JSON Lines records
/// (of the reference too), and `--on-error fail` stops before any report. It used to read
/// with the default options: `--text-field body` skipped every record and found nothing.
#[test]
fn check_reads_json_lines_with_the_input_flags() {
    let env = TestEnv::new();
    let line = |id: &str, text: &str| serde_json::json!({ "id": id, "body": text }).to_string();
    env.write(
        "new.jsonl",
        format!("{}\n{}\n", line("n1", STORY[0]), line("n2", OTHER[0])),
    );
    env.write("old.jsonl", format!("{}\n", line("o1", STORY_COPY[0])));
    let run = env.run(&[
        "check",
        "new.jsonl",
        "--text-field",
        "body",
        "--format",
        "jsonl",
    ]);
    let out = run.assert_code(0).jsonl();
    assert_eq!(
        out.summary["check"]["checked_paragraphs"],
        2,
        "{}",
        run.describe()
    );
    let run = env.run(&[
        "check",
        "new.jsonl",
        "--against",
        "old.jsonl",
        "--text-field",
        "body",
        "--format",
        "jsonl",
    ]);
    let out = run.assert_code(1).jsonl();
    let docs: Vec<&str> = out
        .members()
        .iter()
        .filter_map(|m| m["doc"].as_str())
        .collect();
    assert_eq!(docs, ["n1", "o1"], "{}", run.describe());
    env.write("bad.jsonl", format!("{}\nnot json\n", line("n1", STORY[0])));
    let run = env.run(&[
        "check",
        "bad.jsonl",
        "--text-field",
        "body",
        "--on-error",
        "fail",
    ]);
    run.assert_code(2);
    assert!(
        run.stdout.is_empty(),
        "a report was written: {}",
        run.describe()
    );
    assert!(run.stderr.contains("bad.jsonl:2"), "{}", run.stderr);
}

/// An annotation's `endLine` is the paragraph's last line in the file: under `--split blank` a
/// plain-text paragraph may span lines, but a JSON Lines record is one line whatever its
/// decoded text holds (it used to be given one more line per `\n` in the text, past the end
/// of the file).
#[test]
fn annotation_end_lines_follow_the_file() {
    let env = TestEnv::new();
    let two_lines = format!("{}\n{}", STORY[0], STORY[1]);
    let record = serde_json::json!({ "id": "a", "text": two_lines }).to_string();
    env.write("feed.jsonl", format!("{record}\n{record}\n"));
    env.write("plain.txt", format!("{two_lines}\n\n{two_lines}\n"));
    for (file, want) in [("feed.jsonl", [(2, 2)]), ("plain.txt", [(4, 5)])] {
        let run = env.run(&["check", file, "--split", "blank", "--format", "github"]);
        run.assert_code(1);
        let got: Vec<(u64, u64)> = findings(&annotations(&run))
            .iter()
            .map(|a| {
                let n = |k: &str| a.props[k].parse::<u64>().expect("a line number");
                (n("line"), n("endLine"))
            })
            .collect();
        assert_eq!(got, want, "{file}: {}", run.describe());
    }
}

/// Write a baseline, pass with it, survive line shifts, then fail on exactly the added
/// duplicate.
#[test]
fn baseline_round_trip() {
    let env = TestEnv::new();
    one_duplicate(&env);
    let run = env.run(&["check", "news", "--write-baseline", "base.json"]);
    run.assert_code(0);
    assert!(run
        .stderr
        .contains("wrote 1 accepted finding(s) to base.json"));
    let text = std::fs::read_to_string(env.join("base.json")).unwrap();
    let base: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(base["format"], "syndup-check-baseline");
    assert_eq!(base["version"], 1);
    assert_eq!(base["findings"].as_array().unwrap().len(), 1, "{text}");
    assert_eq!(base["findings"][0]["at"], "news/b.txt:1");
    assert_eq!(base["findings"][0]["key"].as_str().unwrap().len(), 32);

    env.run(&["check", "news", "--baseline", "base.json"])
        .assert_code(0);
    // Lines added above and between the paragraphs, and case/punctuation edits, keep the key.
    env.write(
        "news/a.txt",
        format!("{}\n\n{}\n{}\n{}\n", OTHER[4], STORY[0], OTHER[0], OTHER[1]),
    );
    env.write(
        "news/b.txt",
        format!(
            "{}\n{}\n{}\n{}\n",
            OTHER[5],
            STORY_COPY[0].to_uppercase(),
            OTHER[2],
            OTHER[3]
        ),
    );
    let run = env.run(&["check", "news", "--baseline", "base.json"]);
    run.assert_code(0);
    assert!(
        run.stdout_str().contains("1 accepted by the baseline"),
        "{}",
        run.describe()
    );
    // A new duplicate fails, and only it is reported.
    env.write("news/c.txt", format!("{}\n", STORY_COPY[1]));
    env.write(
        "news/a.txt",
        format!(
            "{}\n\n{}\n{}\n{}\n{}\n",
            OTHER[4], STORY[0], OTHER[0], OTHER[1], STORY[1]
        ),
    );
    let run = env.run(&[
        "check",
        "news",
        "--baseline",
        "base.json",
        "--format",
        "github",
    ]);
    run.assert_code(1);
    let anns = annotations(&run);
    let found: Vec<_> = findings(&anns).iter().map(|a| a.file_line()).collect();
    assert_eq!(found, [("news/c.txt".to_string(), 1)], "{}", run.describe());
    assert!(findings(&anns)[0]
        .message
        .starts_with("repeats news/a.txt:6 ("));
    // Pasting a known paragraph once more is new too: the baseline counts findings per key.
    env.write("news/c.txt", format!("{}\n", STORY_COPY[0]));
    env.write(
        "news/a.txt",
        format!("{}\n\n{}\n{}\n{}\n", OTHER[4], STORY[0], OTHER[0], OTHER[1]),
    );
    let run = env.run(&[
        "check",
        "news",
        "--baseline",
        "base.json",
        "--format",
        "jsonl",
    ]);
    run.assert_code(1);
    let check = &run.jsonl().summary["check"];
    assert_eq!(
        (check["baselined"].as_u64(), check["new_findings"].as_u64()),
        (Some(1), Some(2)),
        "{check}"
    );
}

/// Allow patterns from the flag and from the config file both apply; a pair with an allowed
/// paragraph is never a finding.
#[test]
fn allow_lists_from_flags_and_config() {
    let env = TestEnv::new();
    let share = "Share this article on social media with your friends and family.";
    let byline = "By Jane Doe";
    env.write(
        "news/a.txt",
        format!("{byline}\n{}\n{share}\n{}\n", STORY[0], OTHER[0]),
    );
    env.write(
        "news/b.txt",
        format!("{byline}\n{}\n{share}\n{}\n", STORY_COPY[0], OTHER[1]),
    );
    let count = |args: &[&str]| -> u64 {
        let mut all = vec!["check", "news", "--format", "jsonl"];
        all.extend_from_slice(args);
        let run = env.run(&all);
        run.jsonl().summary["check"]["new_findings"]
            .as_u64()
            .expect("new_findings")
    };
    assert_eq!(count(&[]), 3);
    assert_eq!(count(&["--allow", "^Share this"]), 2);
    assert_eq!(
        count(&["--allow", "^Share this", "--allow", "^By [A-Z]"]),
        1
    );
    env.write("syndup.toml", "[check]\nallow = ['^Share this']\n");
    assert_eq!(count(&[]), 2);
    assert_eq!(count(&["--allow", "(?i)^by jane"]), 1);
    assert_eq!(count(&["--no-config"]), 3);
    let run = env.run(&["check", "news", "--allow", "^By [A-Z]"]);
    run.assert_code(1);
    assert!(
        run.stdout_str().contains("2 allowed pairs"),
        "{}",
        run.describe()
    );
}

/// `syndup.toml` is found upwards from the working directory; flags override it; `--config`
/// names another; `--no-config` ignores it; `--print-config` shows the layering as TOML that
/// reads back to the same settings.
#[test]
fn config_file_and_flag_precedence() {
    let env = TestEnv::new();
    one_duplicate(&env);
    // 0.52 rather than a rounder 0.6: the story's copy has a shingle Jaccard of 0.74, which
    // the banding derived for 0.6 (18 x 7) makes a candidate with probability 0.90 only, and
    // the one for 0.52 (22 x 5) with 0.996.
    env.write(
        "syndup.toml",
        "[detect]\npreset = 'near'\nthreshold = 0.52\n\n[check]\nmax_clusters = 1\nbaseline = 'base.json'\n",
    );
    env.write("strict.toml", "[check]\nfail_on = 'any'\n");
    let sub = env.mkdir("sub");
    let run_sub = |args: &[&str]| run_in(&sub, args, None);

    // Print: found in the parent; the file's values; the baseline relative to the file.
    let run = run_sub(&["check", "--print-config", "--no-baseline"]);
    run.assert_code(0);
    let text = run.stdout_str();
    assert!(text.contains("# Config file: ../syndup.toml"), "{text}");
    let conf: toml_lite::Doc = toml_lite::parse(text);
    assert_eq!(conf.get("detect", "preset"), Some("\"near\""));
    assert_eq!(conf.get("detect", "threshold"), Some("0.52"));
    assert_eq!(conf.get("detect", "sentence_threshold"), Some("0.0"));
    assert_eq!(conf.get("check", "max_clusters"), Some("1"));
    assert_eq!(conf.get("check", "fail_on"), Some("\"budget\""));
    assert_eq!(conf.get("check", "baseline"), None);
    let run = run_sub(&["check", "--print-config"]);
    let conf = toml_lite::parse(run.stdout_str());
    assert_eq!(conf.get("check", "baseline"), Some("\"../base.json\""));

    // Flags win; the preset comes first, explicit values of the file still apply.
    let run = run_sub(&[
        "check",
        "--print-config",
        "--preset",
        "exact",
        "--max-clusters",
        "0",
        "--allow",
        "^x",
    ]);
    let conf = toml_lite::parse(run.stdout_str());
    assert_eq!(conf.get("detect", "preset"), Some("\"exact\""));
    assert_eq!(conf.get("detect", "threshold"), Some("0.52"));
    assert_eq!(conf.get("check", "max_clusters"), Some("0"));
    assert_eq!(conf.get("check", "allow"), Some("[\"^x\"]"));

    // The printed settings read back as a config file to the same settings (saved in the
    // working directory: printed paths are relative to it).
    env.write("sub/printed.toml", run.stdout_str());
    let again = run_sub(&["check", "--print-config", "--config", "printed.toml"]);
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("# Config file:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_same_output(
        "print-config round trip",
        "first",
        &strip(run.stdout_str()),
        "again",
        &strip(again.stdout_str()),
    );

    // Behaviour: the file's baseline must exist (it names base.json, which does not).
    let run = run_sub(&["check", "../news"]);
    run.assert_code(2);
    assert!(run.stderr.contains("../base.json"), "{}", run.describe());
    // Within the file's budget (one cluster allowed).
    run_sub(&["check", "../news", "--no-baseline"]).assert_code(0);
    // A flag tightens it.
    run_sub(&["check", "../news", "--no-baseline", "--max-clusters", "0"]).assert_code(1);
    // --config replaces the file found upwards; --no-config ignores all files.
    run_sub(&["check", "../news", "--config", "../strict.toml"]).assert_code(1);
    run_sub(&["check", "../news", "--no-config"]).assert_code(1);
    // Writing the configured baseline from the parent, then the file's settings pass.
    env.run(&["check", "news", "--write-baseline", "base.json"])
        .assert_code(0);
    run_sub(&["check", "../news", "--max-clusters", "0"]).assert_code(0);
}

/// A tiny reader for the flat TOML that `--print-config` writes (`[table]` and `key = value`
/// lines), so the test does not need a TOML crate of its own.
mod toml_lite {
    use std::collections::BTreeMap;

    pub struct Doc(BTreeMap<(String, String), String>);

    pub fn parse(text: &str) -> Doc {
        let mut table = String::new();
        let mut map = BTreeMap::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(t) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                table = t.to_string();
                continue;
            }
            let (k, v) = line
                .split_once(" = ")
                .unwrap_or_else(|| panic!("not `key = value`: {line}"));
            map.insert((table.clone(), k.to_string()), v.to_string());
        }
        Doc(map)
    }

    impl Doc {
        pub fn get(&self, table: &str, key: &str) -> Option<&str> {
            self.0
                .get(&(table.to_string(), key.to_string()))
                .map(String::as_str)
        }
    }
}

/// JSONL is the scan contract: with nothing filtered, every line but the summary is
/// byte-identical to `scan`'s, and the summary is scan's plus a `check` object.
#[test]
fn jsonl_is_the_scan_contract() {
    let env = TestEnv::new();
    one_duplicate(&env);
    env.write("news/c.txt", format!("{}\n{}\n", STORY[1], STORY_COPY[1]));
    let scan = env.run(&["scan", "news", "--format", "jsonl"]);
    scan.assert_code(0);
    let check = env.run(&["check", "news", "--format", "jsonl"]);
    check.assert_code(1);
    let out = check.jsonl();
    check_clusters(&out, read_from(env.path()));
    let body = |r: &Run| -> Vec<String> {
        r.stdout_str()
            .lines()
            .filter(|l| !l.starts_with(r#"{"type":"summary""#))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(body(&scan), body(&check));
    let mut scan_summary = scan.jsonl().summary;
    let mut summary = out.summary.clone();
    let extra = summary
        .as_object_mut()
        .and_then(|o| o.remove("check"))
        .expect("summary.check");
    scan_summary["seconds"] = Value::from(0);
    summary["seconds"] = Value::from(0);
    assert_eq!(summary, scan_summary);
    for key in [
        "checked_paragraphs",
        "reference_paragraphs",
        "allowed_paragraphs",
        "allowed_pairs",
        "findings",
        "baselined",
        "new_findings",
        "baseline_unmatched",
        "new_clusters",
        "duplicate_paragraphs",
        "duplicate_ratio",
        "fail_on",
        "max_clusters",
        "max_duplicate_ratio",
        "over_budget",
        "reasons",
    ] {
        assert!(
            extra.get(key).is_some(),
            "summary.check.{key} missing: {extra}"
        );
    }
    // The summary's added field comes after every contract field.
    let line = check
        .stdout_str()
        .lines()
        .last()
        .expect("summary line")
        .to_string();
    assert!(
        line.contains(r#""sentences":"#) && line.find(r#""check":"#) > line.find(r#""sentences":"#)
    );
    // Baselined findings leave the clusters; the contract still holds.
    env.run(&["check", "news", "--write-baseline", "base.json"])
        .assert_code(0);
    env.write("news/d.txt", format!("{}\n", OTHER[5]));
    env.write("news/e.txt", format!("{}\n", OTHER[5]));
    let run = env.run(&[
        "check",
        "news",
        "--baseline",
        "base.json",
        "--format",
        "jsonl",
    ]);
    run.assert_code(1);
    let out = run.jsonl();
    check_clusters(&out, read_from(env.path()));
    assert_eq!(out.clusters.len(), 1);
    assert_eq!(out.count("pairs"), 1);
}

/// GitHub workflow commands escape `%`, newlines, and `:`/`,` in properties.
#[test]
fn github_format_escapes() {
    let env = TestEnv::new();
    let text =
        "Turnout reached 100% in the village of Kellbach, the election commission said: a record.";
    env.write("d/x,y:z.txt", format!("{text}\n"));
    env.write("d/w.txt", format!("{text}\n"));
    let run = env.run(&["check", "d", "--format", "github"]);
    run.assert_code(1);
    let raw = run.stdout_str();
    assert!(raw.starts_with("::error file=d/x%2Cy%3Az.txt,line=1,endLine=1,title=near-duplicate paragraph::repeats d/w.txt:1 (identical text)%0Ahere:  Turnout reached 100%25 in"), "{raw}");
    let anns = annotations(&run);
    assert_eq!(anns[0].props["file"], "d/x,y:z.txt");
    assert!(anns[0].message.contains("100% in the village"));
    // Within a tolerant budget the findings are warnings and the verdict a notice.
    let run = env.run(&["check", "d", "--format", "github", "--max-clusters", "1"]);
    run.assert_code(0);
    let anns = annotations(&run);
    assert_eq!(anns[0].level, "warning");
    assert_eq!(anns.last().map(|a| a.level.as_str()), Some("notice"));
}

/// Checks a SARIF log against the required fields and value constraints of the SARIF 2.1.0
/// schema for the objects syndup writes.
#[track_caller]
fn check_sarif(log: &Value) {
    let obj = |v: &Value, what: &str| {
        assert!(v.is_object(), "{what} is not an object: {v}");
    };
    let string = |v: &Value, what: &str| {
        assert!(v.is_string(), "{what} is not a string: {v}");
    };
    let message = |m: &Value, what: &str| {
        obj(m, what);
        assert!(
            m["text"].is_string() || m["id"].is_string(),
            "{what}: a message needs `text` or `id`: {m}"
        );
    };
    let location = |l: &Value, what: &str| {
        obj(l, what);
        if let Some(id) = l.get("id") {
            assert!(id.as_i64().is_some_and(|i| i >= -1), "{what}.id: {id}");
        }
        let p = &l["physicalLocation"];
        obj(p, &format!("{what}.physicalLocation"));
        assert!(
            p.get("artifactLocation").is_some() || p.get("address").is_some(),
            "{what}: physicalLocation needs artifactLocation or address"
        );
        string(&p["artifactLocation"]["uri"], "artifactLocation.uri");
        if let Some(r) = p.get("region") {
            for k in ["startLine", "endLine"] {
                if let Some(n) = r.get(k) {
                    assert!(n.as_u64().is_some_and(|n| n >= 1), "{what}.region.{k}: {n}");
                }
            }
        }
        if let Some(m) = l.get("message") {
            message(m, &format!("{what}.message"));
        }
    };
    obj(log, "log");
    assert_eq!(log["version"], "2.1.0");
    string(&log["$schema"], "$schema");
    let runs = log["runs"].as_array().expect("runs is an array");
    assert_eq!(runs.len(), 1);
    for run in runs {
        let driver = &run["tool"]["driver"];
        obj(driver, "tool.driver");
        string(&driver["name"], "driver.name");
        assert_eq!(driver["name"], "syndup");
        string(&driver["version"], "driver.version");
        let rules = driver["rules"].as_array().expect("rules");
        for r in rules {
            string(&r["id"], "rule.id");
        }
        for inv in run["invocations"].as_array().expect("invocations") {
            assert!(
                inv["executionSuccessful"].is_boolean(),
                "executionSuccessful"
            );
            for n in inv["toolExecutionNotifications"]
                .as_array()
                .expect("notifications")
            {
                message(&n["message"], "notification.message");
                for l in n["locations"].as_array().into_iter().flatten() {
                    location(l, "notification.location");
                }
            }
        }
        for (i, res) in run["results"]
            .as_array()
            .expect("results")
            .iter()
            .enumerate()
        {
            let what = format!("results[{i}]");
            message(&res["message"], &what);
            string(&res["ruleId"], "ruleId");
            assert!(
                rules.iter().any(|r| r["id"] == res["ruleId"]),
                "{what}: ruleId names no rule"
            );
            let idx = res["ruleIndex"].as_u64().expect("ruleIndex") as usize;
            assert_eq!(rules[idx]["id"], res["ruleId"]);
            assert!(
                ["none", "note", "warning", "error"].contains(&res["level"].as_str().unwrap_or("")),
                "{what}.level"
            );
            let locs = res["locations"].as_array().expect("locations");
            assert_eq!(locs.len(), 1);
            for l in locs {
                location(l, &format!("{what}.location"));
            }
            for l in res["relatedLocations"]
                .as_array()
                .expect("relatedLocations")
            {
                location(l, &format!("{what}.relatedLocation"));
            }
            for (_, v) in res["partialFingerprints"]
                .as_object()
                .expect("fingerprints")
            {
                string(v, "fingerprint");
            }
        }
    }
}

/// SARIF: parsed and checked against the schema's required fields; the seed's findings point
/// at the later paragraph with the earlier one as related location.
#[test]
fn sarif_output_has_the_schema_required_fields() {
    let run = run_repo(&["check", "corpus/seed", "--format", "sarif"]);
    run.assert_code(1);
    let log: Value = serde_json::from_str(run.stdout_str()).expect("SARIF is JSON");
    check_sarif(&log);
    let results = log["runs"][0]["results"].as_array().unwrap();
    let lines: Vec<(u64, u64)> = results
        .iter()
        .map(|r| {
            (
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap(),
                r["relatedLocations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(lines, [(6, 4), (7, 5), (31, 15)]);
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        SEED_FILE
    );
    assert_eq!(results[0]["level"], "error");
    assert_eq!(
        log["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );

    // Skipped input becomes a notification and an unsuccessful execution; names are URIs.
    let env = TestEnv::new();
    one_duplicate(&env);
    env.write("news/bin ary.txt", b"\0");
    let run = env.run(&["check", "news", "--format", "sarif", "--max-clusters", "3"]);
    run.assert_code(2);
    let log: Value = serde_json::from_str(run.stdout_str()).expect("SARIF is JSON");
    check_sarif(&log);
    let inv = &log["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    assert_eq!(
        inv["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]
            ["artifactLocation"]["uri"],
        "news/bin%20ary.txt"
    );
    assert_eq!(log["runs"][0]["results"][0]["level"], "warning");
}

/// Every format gives the same bytes with 1 and 2 threads (JSONL but for `seconds`).
#[test]
fn output_is_deterministic() {
    for format in ["text", "jsonl", "github", "sarif"] {
        let outs: Vec<String> = ["1", "2"]
            .iter()
            .map(|j| {
                let run = run_repo(&["check", "corpus/", "--format", format, "-j", j]);
                assert!(run.code == Some(1), "{}", run.describe());
                blank_seconds(run.stdout_str())
            })
            .collect();
        assert_same_output(format, "-j1", &outs[0], "-j2", &outs[1]);
    }
}

/// A fixture for the CI recipes: `content/` repeats itself once, `incoming/new.txt` repeats
/// `content/a.txt`.
fn ci_fixture(env: &TestEnv) {
    env.write(
        "content/a.txt",
        format!("{}\n{}\n{}\n", STORY[0], OTHER[0], STORY[1]),
    );
    env.write(
        "content/b.txt",
        format!("{}\n{}\n", STORY_COPY[0], OTHER[1]),
    );
    env.write(
        "incoming/new.txt",
        format!("{}\n{}\n", OTHER[2], STORY_COPY[1]),
    );
}

/// Runs a command line of a CI recipe (`syndup check ... [> file]`) in `dir`.
fn run_recipe(dir: &Path, line: &str) -> (Run, Option<String>) {
    assert!(
        !line.contains(['"', '\'', '$', '|', '&', ';']),
        "the recipe must stay a plain command line: {line}"
    );
    let (cmd, redirect) = match line.split_once('>') {
        Some((c, f)) => (c, Some(f.trim().to_string())),
        None => (line, None),
    };
    let words: Vec<&str> = cmd.split_whitespace().collect();
    assert_eq!(words.first(), Some(&"syndup"), "{line}");
    let run = run_in(dir, &words[1..], None);
    (run, redirect)
}

/// Every `run: syndup check ...` line of the GitHub Actions example runs as written.
#[test]
fn workflow_example_commands_run() {
    let workflow =
        std::fs::read_to_string(repo_root().join(".github/workflows/syndup-check.example.yml"))
            .expect("the workflow example");
    let lines: Vec<&str> = workflow
        .lines()
        .filter_map(|l| l.trim().strip_prefix("run: "))
        .filter(|l| l.starts_with("syndup "))
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let env = TestEnv::new();
    ci_fixture(&env);
    for line in lines {
        let (run, redirect) = run_recipe(env.path(), line);
        assert!(
            matches!(run.code, Some(0 | 1)),
            "{line}: exit code\n{}",
            run.describe()
        );
        if line.contains("--format github") {
            let anns = annotations(&run);
            assert!(!findings(&anns).is_empty(), "{line}: no annotation");
            if line.contains("--against") {
                run.assert_code(1);
                assert!(findings(&anns)
                    .iter()
                    .all(|a| a.file_line().0 == "incoming/new.txt"));
            }
        }
        if line.contains("--format sarif") {
            run.assert_code(0);
            assert!(redirect.is_some(), "{line}: SARIF goes to a file");
            let log: Value = serde_json::from_slice(&run.stdout).expect("SARIF");
            check_sarif(&log);
        }
    }
}

/// The pre-commit hook's `entry` and `args`, with staged file names appended as pre-commit
/// does, fail on duplicated files and pass clean ones.
#[test]
fn pre_commit_hook_runs_its_entry() {
    let hooks = std::fs::read_to_string(repo_root().join(".pre-commit-hooks.yaml"))
        .expect(".pre-commit-hooks.yaml");
    let field = |name: &str| -> String {
        let prefix = format!("{name}: ");
        let found: Vec<&str> = hooks
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| {
                l.trim_start()
                    .trim_start_matches("- ")
                    .strip_prefix(&prefix)
            })
            .collect();
        assert_eq!(found.len(), 1, "one `{name}` in .pre-commit-hooks.yaml");
        found[0].to_string()
    };
    assert_eq!(field("id"), "syndup-check");
    assert_eq!(field("language"), "rust");
    let entry = field("entry");
    let args = field("args");
    let args: Vec<String> = args
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    let mut words: Vec<String> = entry.split_whitespace().map(str::to_string).collect();
    assert_eq!(words.first().map(String::as_str), Some("syndup"));
    words.remove(0);
    words.extend(args);

    let env = TestEnv::new();
    ci_fixture(&env);
    let staged = |files: &[&str]| {
        let mut all: Vec<&str> = words.iter().map(String::as_str).collect();
        all.extend_from_slice(files);
        env.run(&all)
    };
    staged(&["content/a.txt", "content/b.txt"]).assert_code(1);
    staged(&["incoming/new.txt"]).assert_code(0);
    // And the binary the hook names is this one.
    assert!(Path::new(BIN).ends_with("syndup"));
}

/// `--print-config` needs no paths; a check needs at least one.
#[test]
fn print_config_needs_no_paths() {
    let env = TestEnv::new();
    let run = env.run(&["check", "--print-config", "--no-config"]);
    run.assert_code(0);
    assert!(run
        .stdout_str()
        .contains("[detect]\npreset = \"paraphrase\""));
    let run = env.run(&["check"]);
    run.assert_code(2);
    assert!(run.stderr.contains("<PATHS>"), "{}", run.describe());
}

/// `check --memory disk` (the lean detector, see `scan`'s test of the same) gives the verdict,
/// findings and exit code of `--memory ram`, byte for byte apart from the seconds: on
/// `corpus/` (which fails its budget) and against a published corpus.
#[test]
fn disk_memory_checks_as_ram_does() {
    let cases: &[&[&str]] = &[
        &["check", "corpus/", "--format", "jsonl"],
        &["check", "corpus/", "--format", "text"],
        &[
            "check",
            "corpus/sample",
            "--against",
            "corpus/seed",
            "--format",
            "jsonl",
        ],
    ];
    for args in cases {
        let run = |memory: &str| {
            let mut all = args.to_vec();
            all.extend(["--memory", memory]);
            run_repo(&all)
        };
        let (ram, disk) = (run("ram"), run("disk"));
        assert_eq!(ram.code, Some(1), "{}", ram.describe());
        assert_eq!(disk.code, ram.code, "{}", disk.describe());
        let text = |r: &Run| {
            let out = String::from_utf8(r.stdout.clone()).unwrap();
            // The text verdict has no timing; the JSONL summary has its seconds.
            blank_seconds(&out)
        };
        let what = args.join(" ");
        assert_same_output(
            &what,
            "--memory ram",
            &text(&ram),
            "--memory disk",
            &text(&disk),
        );
    }
}

/// A baseline counts a key once for each paragraph its findings are at, so one more copy of an
/// accepted line is new however many copies there were. (It counted pairs: a group of
/// identical copies lists all 2,016 pairs of 64 copies but only the 64 pairs with the first of
/// 65, so a baseline of 64 copies let the 65th pass.)
#[test]
fn baseline_catches_one_more_copy_of_many() {
    let env = TestEnv::new();
    let copies = |n: usize| format!("{}\n", OTHER[0]).repeat(n);
    env.write("big/a.txt", copies(64));
    let run = env.run(&["check", "big", "--write-baseline", "b.json"]);
    run.assert_code(0);
    assert!(
        run.stderr.contains("(63 baseline entries"),
        "{}",
        run.describe()
    );
    for (n, code, new) in [(64, 0, 0), (30, 0, 0), (65, 1, 1), (70, 1, 6)] {
        env.write("big/a.txt", copies(n));
        let run = env.run(&["check", "big", "--baseline", "b.json", "--format", "jsonl"]);
        run.assert_code(code);
        let check = &run.jsonl().summary["check"];
        assert_eq!(
            check["new_findings"].as_u64(),
            Some(new),
            "{n} copies: {check}"
        );
    }
}

/// Keys name files relative to the baseline's directory even when the files are not below it
/// (`ci/baseline.json` beside `content/`), so the baseline holds from any working directory.
/// (Such files kept their names as typed, and a check from inside `content/` found every
/// accepted finding new.)
#[test]
fn baseline_beside_the_content_holds_from_any_directory() {
    let env = TestEnv::new();
    env.write(
        "site/content/a.txt",
        format!("{}\n{}\n", STORY[0], OTHER[0]),
    );
    env.write(
        "site/content/b.txt",
        format!("{}\n{}\n", STORY_COPY[0], OTHER[1]),
    );
    env.mkdir("site/ci");
    let site = env.join("site");
    run_in(
        &site,
        &["check", "content", "--write-baseline", "ci/b.json"],
        None,
    )
    .assert_code(0);
    let content = env.join("site/content");
    let absolute = content.to_str().expect("path");
    for (dir, path, baseline) in [
        (&site, "./content/", "ci/b.json"),
        (&content, ".", "../ci/b.json"),
        (&content, absolute, "../ci/b.json"),
    ] {
        let run = run_in(dir, &["check", path, "--baseline", baseline], None);
        run.assert_code(0);
        assert!(
            run.stdout_str().contains("1 accepted by the baseline"),
            "{path} from {}: {}",
            dir.display(),
            run.describe()
        );
    }
}

/// A reader that goes away does not turn the verdict into success: `check | head -1` over
/// budget still exits 1, a scan with skipped input 2, and `eval` below `--min-recall` 1. (A
/// broken pipe exited 0.)
#[test]
fn closed_output_keeps_the_exit_code() {
    let env = TestEnv::new();
    one_duplicate(&env);
    env.write("bin.txt", b"abc\0def");
    let seed = repo_root().join("corpus/seed");
    let gold = repo_root().join("corpus/seed/gold.tsv");
    let (seed, gold) = (seed.to_str().expect("path"), gold.to_str().expect("path"));
    for (args, code) in [
        (&["check", "news"][..], 1),
        (&["scan", "news", "bin.txt", "--format", "jsonl"][..], 2),
        // At 0.4 a third of the seed's must pairs are found (README, eval --sweep).
        (
            &[
                "eval",
                seed,
                "--gold",
                gold,
                "--sentence-threshold",
                "0.4",
                "--min-recall",
                "0.9",
            ][..],
            1,
        ),
    ] {
        let mut child = std::process::Command::new(BIN)
            .args(args)
            .current_dir(env.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        // The read end is closed before the report is written.
        drop(child.stdout.take());
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(code), "{args:?}");
    }
}

/// A file named twice, or once directly and once through its directory, is read once: its
/// paragraphs do not repeat themselves. (They did, one finding each.)
#[test]
fn a_file_named_twice_is_read_once() {
    let env = TestEnv::new();
    one_duplicate(&env);
    let once = env.run(&["check", "news", "--format", "jsonl"]);
    once.assert_code(1);
    for args in [
        &["check", "news", "news/a.txt", "--format", "jsonl"][..],
        &[
            "check",
            "news/b.txt",
            "./news//b.txt",
            "news",
            "--format",
            "jsonl",
        ][..],
    ] {
        let run = env.run(args);
        run.assert_code(1);
        assert_eq!(
            run.jsonl().summary["check"]["findings"],
            once.jsonl().summary["check"]["findings"],
            "{args:?}: {}",
            run.describe()
        );
    }
    let against = env.run(&[
        "check",
        "news/b.txt",
        "--against",
        "news",
        "--against",
        "news/a.txt",
        "--format",
        "jsonl",
    ]);
    against.assert_code(1);
    assert_eq!(against.jsonl().summary["check"]["findings"], 1);
}

/// A value out of range in the config file names the file it may come from. (Only the value
/// was named: "invalid parameter `threshold`".)
#[test]
fn config_value_errors_name_the_config_file() {
    let env = TestEnv::new();
    one_duplicate(&env);
    env.write("syndup.toml", "[detect]\nthreshold = 2.0\n");
    let run = env.run(&["check", "news"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("syndup.toml") && run.stderr.contains("`threshold`"),
        "{}",
        run.describe()
    );
}

/// `--write-baseline` through a symbolic link replaces the file it points to (the link stays),
/// and into a FIFO writes the baseline there instead of renaming a file over it.
#[cfg(unix)]
#[test]
fn baseline_written_through_links_and_into_fifos() {
    use std::io::Read as _;
    let env = TestEnv::new();
    one_duplicate(&env);
    env.write("ci/base-2024.json", "");
    std::os::unix::fs::symlink("ci/base-2024.json", env.join("base.json")).unwrap();
    env.run(&["check", "news", "--write-baseline", "base.json"])
        .assert_code(0);
    let meta = std::fs::symlink_metadata(env.join("base.json")).unwrap();
    assert!(meta.file_type().is_symlink());
    let text = std::fs::read_to_string(env.join("ci/base-2024.json")).unwrap();
    let base: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(base["findings"].as_array().unwrap().len(), 1, "{text}");

    let fifo = env.join("base.fifo");
    let mut reader = crate::util::fifo_reader(&fifo);
    env.run(&["check", "news", "--write-baseline", "base.fifo"])
        .assert_code(0);
    let mut got = String::new();
    let _ = reader.read_to_string(&mut got);
    assert!(crate::util::is_fifo(&fifo), "the FIFO was replaced");
    assert_eq!(got, text);
}

/// `--write-baseline` never replaces a checked file: named on the command line (as when the
/// shell expands `--write-baseline news/*.txt`) or found in a directory. (It replaced the
/// article with JSON and exited 0.)
#[test]
fn baseline_never_replaces_a_checked_file() {
    let env = TestEnv::new();
    one_duplicate(&env);
    let before = std::fs::read(env.join("news/a.txt")).unwrap();
    for args in [
        // The shell's expansion of `--write-baseline news/*.txt`: a.txt is the value, not an
        // input, and not a baseline.
        &["check", "--write-baseline", "news/a.txt", "news/b.txt"][..],
        &["check", "news", "--write-baseline", "news/a.txt"],
    ] {
        let run = env.run(args);
        run.assert_code(2);
        assert!(
            run.stderr.contains("news/a.txt"),
            "{args:?}: {}",
            run.describe()
        );
        assert_eq!(
            std::fs::read(env.join("news/a.txt")).unwrap(),
            before,
            "{args:?}"
        );
    }
    let run = env.run(&[
        "check",
        "news/b.txt",
        "--against",
        "news/a.txt",
        "--write-baseline",
        "news/a.txt",
    ]);
    run.assert_code(2);
    assert_eq!(std::fs::read(env.join("news/a.txt")).unwrap(), before);
    // A baseline is replaced, and a new or empty file is written.
    for _ in 0..2 {
        env.run(&["check", "news", "--write-baseline", "base.json"])
            .assert_code(0);
    }
    env.write("empty.json", "");
    env.run(&["check", "news", "--write-baseline", "empty.json"])
        .assert_code(0);
}

/// The baseline's temporary file is a new one: a `base.json.tmp` that is a symbolic link (or
/// a file of the user's) is left alone. (The fixed `PATH.tmp` was followed, the link's target
/// overwritten, and the link renamed over the baseline.)
#[cfg(unix)]
#[test]
fn baseline_temporary_file_is_never_an_existing_one() {
    let env = TestEnv::new();
    one_duplicate(&env);
    env.write("victim.txt", "precious\n");
    std::os::unix::fs::symlink("victim.txt", env.join("base.json.tmp")).unwrap();
    env.run(&["check", "news", "--write-baseline", "base.json"])
        .assert_code(0);
    assert_eq!(
        std::fs::read_to_string(env.join("victim.txt")).unwrap(),
        "precious\n"
    );
    let link = std::fs::symlink_metadata(env.join("base.json.tmp")).unwrap();
    assert!(link.file_type().is_symlink());
    let base = std::fs::symlink_metadata(env.join("base.json")).unwrap();
    assert!(base.file_type().is_file());
    let text = std::fs::read_to_string(env.join("base.json")).unwrap();
    assert!(text.contains("syndup-check-baseline"), "{text}");
}

/// An allow pattern that matches any paragraph (an empty `--allow "$UNSET"`, `^`, `.*`) is an
/// error, not a check that passes everything; from `syndup.toml` too.
#[test]
fn allow_patterns_that_match_everything_are_refused() {
    let env = TestEnv::new();
    one_duplicate(&env);
    env.run(&["check", "news"]).assert_code(1);
    for pattern in ["", "^", ".*", "(?i)"] {
        let run = env.run(&["check", "news", "--allow", pattern]);
        run.assert_code(2);
        assert!(
            run.stderr.contains("matches any paragraph"),
            "{pattern:?}: {}",
            run.describe()
        );
    }
    env.write("syndup.toml", "[check]\nallow = [\"^\"]\n");
    let run = env.run(&["check", "news"]);
    run.assert_code(2);
    assert!(run.stderr.contains("syndup.toml"), "{}", run.describe());
    // An anchored pattern that also matches empty text is fine.
    std::fs::remove_file(env.join("syndup.toml")).unwrap();
    env.run(&["check", "news", "--allow", "^(By .*)?$"])
        .assert_code(1);
}

/// A baseline with a byte order mark (as Windows editors save one) is read: it was "not
/// JSON" (exit 2).
#[test]
fn baseline_with_a_byte_order_mark_is_read() {
    let env = TestEnv::new();
    one_duplicate(&env);
    env.run(&["check", "news", "--write-baseline", "base.json"])
        .assert_code(0);
    let text = std::fs::read_to_string(env.join("base.json")).unwrap();
    env.write("bom.json", format!("\u{feff}{text}"));
    let run = env.run(&["check", "news", "--baseline", "bom.json"]);
    run.assert_code(0);
    assert!(
        run.stdout_str().contains("1 accepted by the baseline"),
        "{}",
        run.describe()
    );
}

/// A file whose name is not UTF-8 gets the same baseline key from any working directory (its
/// lossy display name canonicalized nowhere, so the key was the name as spelled: `d/bad?.txt`
/// from one directory, `./bad?.txt` from another, and the finding came back as new).
#[cfg(unix)]
#[test]
fn baseline_keys_of_non_utf8_names_hold_from_any_directory() {
    use std::os::unix::ffi::OsStrExt;
    let env = TestEnv::new();
    std::fs::create_dir(env.join("d")).unwrap();
    let name = std::ffi::OsStr::from_bytes(b"bad\xff.txt");
    std::fs::write(
        env.join("d").join(name),
        format!("{}\n{}\n{}\n", STORY[0], OTHER[0], STORY[0]),
    )
    .unwrap();
    env.run(&["check", "d", "--write-baseline", "b.json"])
        .assert_code(0);
    let again = env.run(&["check", "d", "--baseline", "b.json"]);
    again.assert_code(0);
    let inside = crate::util::run_in(
        &env.join("d"),
        &["check", ".", "--baseline", "../b.json"],
        None,
    );
    inside.assert_code(0);
    assert!(
        inside.stdout_str().contains("1 accepted by the baseline"),
        "{}",
        inside.describe()
    );
}
