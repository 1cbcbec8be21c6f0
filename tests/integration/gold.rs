//! Detection against the hand-made gold files, through `scan` (the bar) and through
//! `eval`; malformed gold files.

use std::collections::{BTreeMap, BTreeSet};

use crate::util::{repo_root, run_repo, write_good_pair, Run, TestEnv};

const SEED_DIR: &str = "corpus/seed";
const SEED_FILE: &str = "corpus/seed/000_eabddb1ef9b5a4a1.txt";

/// The seed gold file: `(line_a, line_b)` (ordered) → label.
fn seed_gold() -> BTreeMap<(u64, u64), String> {
    let text = std::fs::read_to_string(repo_root().join("corpus/seed/gold.tsv")).unwrap();
    let mut gold = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        assert!(f.len() >= 3, "gold.tsv:{}: {line:?}", n + 1);
        let a: u64 = f[0].trim().parse().unwrap();
        let b: u64 = f[1].trim().parse().unwrap();
        gold.insert((a.min(b), a.max(b)), f[2].trim().to_string());
    }
    gold
}

/// The bar at default settings: every `must` pair of the seed article flagged, and at
/// most one flagged pair that gold does not list at all.
#[test]
fn seed_scan_flags_every_must_pair_and_at_most_one_unlisted() {
    let gold = seed_gold();
    let must: BTreeSet<(u64, u64)> = gold
        .iter()
        .filter(|(_, l)| l.as_str() == "must")
        .map(|(&k, _)| k)
        .collect();
    assert!(must.len() >= 3, "gold has {} must pairs", must.len());

    let run = run_repo(&["scan", SEED_DIR, "--format", "jsonl"]);
    run.assert_code(0);
    let out = run.jsonl();
    let mut flagged = BTreeSet::new();
    for (a, b) in out.pairs() {
        assert_eq!(a.source, SEED_FILE);
        assert_eq!(b.source, SEED_FILE);
        flagged.insert((a.line.min(b.line), a.line.max(b.line)));
    }
    let missed: Vec<_> = must.difference(&flagged).collect();
    assert!(
        missed.is_empty(),
        "must pairs not flagged: {missed:?}; flagged: {flagged:?}"
    );
    let unlisted: Vec<_> = flagged.iter().filter(|k| !gold.contains_key(k)).collect();
    assert!(
        unlisted.len() <= 1,
        "{} flagged pairs are not in gold: {unlisted:?}",
        unlisted.len()
    );
}

/// The `label pairs found recall` row of `label`, as numbers.
fn label_row(run: &Run, label: &str) -> (u64, u64, f64) {
    let text = run.stdout_str();
    let row = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some(label))
        .unwrap_or_else(|| panic!("no `{label}` row\n{}", run.describe()));
    let f: Vec<&str> = row.split_whitespace().collect();
    let n = f.len();
    assert!(n >= 4, "row {row:?}");
    (
        f[n - 3].parse().unwrap(),
        f[n - 2].parse().unwrap(),
        f[n - 1].parse().unwrap(),
    )
}

/// `precision P  recall R  F1 F ...` as numbers in [0, 1].
fn precision_line(run: &Run) -> (f64, f64, f64) {
    let line = run
        .stdout_str()
        .lines()
        .find(|l| l.starts_with("precision "))
        .unwrap_or_else(|| panic!("no precision line\n{}", run.describe()));
    let f: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        (f[0], f[2], f[4]),
        ("precision", "recall", "F1"),
        "{line:?}"
    );
    let num = |s: &str| -> f64 {
        let v: f64 = s.parse().unwrap_or_else(|_| panic!("{s:?} in {line:?}"));
        assert!((0.0..=1.0).contains(&v), "{v} out of [0, 1] in {line:?}");
        v
    };
    (num(f[1]), num(f[3]), num(f[5]))
}

#[test]
fn eval_seed_has_full_must_recall() {
    let run = run_repo(&["eval", SEED_DIR, "--gold", "corpus/seed/gold.tsv"]);
    run.assert_code(0);
    let must = seed_gold().values().filter(|l| *l == "must").count() as u64;
    let (pairs, found, recall) = label_row(&run, "must");
    assert_eq!((pairs, found), (must, must), "{}", run.describe());
    assert_eq!(recall, 1.0);
    assert!(
        run.stdout_str()
            .lines()
            .any(|l| l.trim_end().ends_with("1.000") && l.starts_with("must")),
        "must row does not print recall 1.000\n{}",
        run.describe()
    );
    let (_, recall, _) = precision_line(&run);
    assert_eq!(recall, 1.0);
}

#[test]
fn eval_sample_prints_precision() {
    let run = run_repo(&["eval", "corpus/sample", "--gold", "corpus/sample/gold.tsv"]);
    run.assert_code(0);
    let (precision, recall, f1) = precision_line(&run);
    assert!(
        precision > 0.0 && recall > 0.0 && f1 > 0.0,
        "{}",
        run.describe()
    );
    let (pairs, found, _) = label_row(&run, "must");
    assert!(pairs > 0 && found <= pairs);
    assert!(
        run.stdout_str().starts_with("gold corpus/sample/gold.tsv:"),
        "{}",
        run.describe()
    );
}

/// A gold file that does not parse is an error naming the gold file and the line.
#[test]
fn malformed_gold_names_file_and_line() {
    let env = TestEnv::new();
    write_good_pair(&env);
    let cases = [
        // Too few fields on line 3.
        ("few.tsv", "# comment\n1\t3\tmust\n1 3 must\n", 3),
        // A line number that is not a number.
        ("nan.tsv", "1\tthree\tmust\n", 1),
        // A line that does not start a paragraph (good_a.txt has 5 lines).
        ("far.tsv", "\n1\t3\tmust\n1\t99\tmust\n", 3),
        // A file that is not in the corpus.
        ("other.tsv", "good_a.txt:1\tnope.txt:1\tmust\n", 1),
    ];
    for (name, text, line) in cases {
        env.write(name, text);
        let corpus: &[&str] = if name == "other.tsv" {
            &["good_a.txt", "good_b.txt"]
        } else {
            &["good_a.txt"]
        };
        let mut args = vec!["eval"];
        args.extend_from_slice(corpus);
        args.extend_from_slice(&["--gold", name]);
        let run = env.run(&args);
        run.assert_code(2);
        let place = format!("{name}:{line}:");
        assert!(
            run.stderr.contains(&place),
            "stderr does not name {place}\n{}",
            run.describe()
        );
        assert!(run.stdout.is_empty(), "{}", run.describe());
    }
    // A missing gold file names the file.
    let run = env.run(&["eval", "good_a.txt", "--gold", "absent.tsv"]);
    run.assert_code(2);
    assert!(run.stderr.contains("absent.tsv"), "{}", run.describe());
    // A well-formed general-format gold file is accepted.
    env.write(
        "ok.tsv",
        "good_a.txt:1\tgood_b.txt:1\tmust\ngood_a.txt:5\tgood_b.txt:3\tmust\n",
    );
    let run = env.run(&["eval", "good_a.txt", "good_b.txt", "--gold", "ok.tsv"]);
    run.assert_code(0);
    assert_eq!(precision_line(&run), (1.0, 1.0, 1.0), "{}", run.describe());
    // Two labels for one pair (in either order) are an error, not the last one winning.
    env.write(
        "twice.tsv",
        "good_a.txt:1\tgood_b.txt:1\tmust\ngood_b.txt:1\tgood_a.txt:1\tloose\n",
    );
    let run = env.run(&["eval", "good_a.txt", "good_b.txt", "--gold", "twice.tsv"]);
    run.assert_code(2);
    assert!(run.stderr.contains("twice.tsv:2:"), "{}", run.describe());
}

/// A gold file's paths are relative to its own directory first, as documented, even when the
/// working directory has a file of the same name. (The working directory's was taken.)
#[test]
fn gold_paths_are_relative_to_the_gold_file() {
    let env = TestEnv::new();
    write_good_pair(&env);
    // sub/ holds the pair under the names the gold file uses; ./good_a.txt becomes another,
    // unrelated file of the corpus, which the gold file's `good_a.txt` must not mean.
    let a = std::fs::read_to_string(env.join("good_a.txt")).unwrap();
    let b = std::fs::read_to_string(env.join("good_b.txt")).unwrap();
    env.write("sub/good_a.txt", &a);
    env.write("sub/good_b.txt", &b);
    env.write(
        "good_a.txt",
        "Local farmers reported an early apple harvest after a warm spring in the valleys.\n\n\
         A museum exhibition of medieval maps opens next month with loans from abroad.\n\n\
         Engineers began testing a tram line to the airport from the central station.\n",
    );
    std::fs::remove_file(env.join("good_b.txt")).unwrap();
    env.write(
        "sub/gold.tsv",
        "good_a.txt:1\tgood_b.txt:1\tmust\ngood_a.txt:5\tgood_b.txt:3\tmust\n",
    );
    let run = env.run(&["eval", "good_a.txt", "sub", "--gold", "sub/gold.tsv"]);
    run.assert_code(0);
    assert_eq!(precision_line(&run), (1.0, 1.0, 1.0), "{}", run.describe());
}

/// A `source:line` of a JSON Lines record that holds several paragraphs is an error naming the
/// gold line, not silently its last paragraph.
#[test]
fn gold_line_of_a_multi_paragraph_record_is_an_error() {
    let env = TestEnv::new();
    let rec = |id: &str, text: &str| serde_json::json!({ "id": id, "text": text }).to_string();
    env.write(
        "feed.jsonl",
        format!(
            "{}\n{}\n",
            rec(
                "a",
                "First paragraph of the first record here.\nSecond one of it."
            ),
            rec(
                "b",
                "First paragraph of the second record here.\nSecond one of it."
            )
        ),
    );
    env.write("gold.tsv", "feed.jsonl:1\tfeed.jsonl:2\tmust\n");
    let run = env.run(&["eval", "feed.jsonl", "--gold", "gold.tsv"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("gold.tsv:1:") && run.stderr.contains("several paragraphs"),
        "{}",
        run.describe()
    );
}

/// Gold labels are compared case-insensitively and `--optional` values trimmed: `Loose` in a
/// gold file, or `--optional 'must, loose'`, made optional pairs required (recall and the
/// `--min-recall` verdict changed); an empty label is an error naming the line.
#[test]
fn gold_labels_ignore_case_and_spaces() {
    let env = TestEnv::new();
    std::fs::copy(repo_root().join(SEED_FILE), env.join("seed.txt")).unwrap();
    let gold = std::fs::read_to_string(repo_root().join("corpus/seed/gold.tsv")).unwrap();
    env.write("gold.tsv", &gold);
    env.write(
        "upper.tsv",
        gold.replace("\tloose", "\tLoose")
            .replace("\tmust", "\tMUST"),
    );
    let args = |g: &'static str| ["eval", "seed.txt", "--gold", g, "--min-recall", "0.9"];
    let plain = env.run(&args("gold.tsv"));
    plain.assert_code(0);
    let upper = env.run(&args("upper.tsv"));
    upper.assert_code(0);
    assert_eq!(
        precision_line(&plain),
        precision_line(&upper),
        "{}",
        upper.describe()
    );
    // The required label made optional, spaces around the names: recall of the rest is 1.
    let run = env.run(&[
        "eval",
        "seed.txt",
        "--gold",
        "gold.tsv",
        "--optional",
        "loose, must ",
    ]);
    run.assert_code(0);
    assert!(
        run.stdout_str().contains("(0 true,"),
        "must is optional: no true pair\n{}",
        run.describe()
    );
    let mut empty = gold.clone();
    empty.push_str("4\t6\t\n");
    env.write("empty.tsv", &empty);
    let run = env.run(&["eval", "seed.txt", "--gold", "empty.tsv"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("the label is empty"),
        "{}",
        run.describe()
    );
}

/// A byte order mark before a gold file (as Windows editors write one) is not part of its
/// first line (which was then no comment, or no number); gates and sweep values are checked
/// before any detection: out of [0, 1] (NaN, a percentage) or an invalid sweep value is an
/// error, exit 2, with no report.
#[test]
fn gold_bom_and_eval_values_checked_first() {
    let env = TestEnv::new();
    std::fs::copy(repo_root().join(SEED_FILE), env.join("seed.txt")).unwrap();
    let gold = std::fs::read_to_string(repo_root().join("corpus/seed/gold.tsv")).unwrap();
    env.write("gold.tsv", &gold);
    env.write("bom.tsv", format!("\u{feff}{gold}"));
    let plain = env.run(&["eval", "seed.txt", "--gold", "gold.tsv"]);
    plain.assert_code(0);
    let bom = env.run(&["eval", "seed.txt", "--gold", "bom.tsv"]);
    bom.assert_code(0);
    assert_eq!(precision_line(&plain), precision_line(&bom));
    for bad in [
        &["--min-recall", "90"][..],
        &["--min-precision", "NaN"],
        &["--min-recall=-3"],
        &["--sweep", "0.3,0,0.4"],
    ] {
        let mut args = vec!["eval", "seed.txt", "--gold", "gold.tsv"];
        args.extend_from_slice(bad);
        let run = env.run(&args);
        run.assert_code(2);
        assert!(run.stdout.is_empty(), "{bad:?}: {}", run.describe());
    }
}
