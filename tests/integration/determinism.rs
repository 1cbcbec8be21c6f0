//! The same input and parameters give the same bytes, whatever the number of threads and from
//! one run to the next (apart from the summary's `seconds`).

use crate::util::{assert_same_output, blank_seconds, run_repo, Run, TestEnv};

fn jsonl_of(run: &Run) -> String {
    run.assert_code(0);
    // Parsing checks the envelope, so a blank output cannot pass as "identical".
    let out = run.jsonl();
    assert!(!out.clusters.is_empty(), "no cluster\n{}", run.describe());
    blank_seconds(run.stdout_str())
}

fn scan_corpus(extra: &[&str]) -> String {
    let mut args = vec!["scan", "corpus/", "--format", "jsonl"];
    args.extend_from_slice(extra);
    jsonl_of(&run_repo(&args))
}

fn same_with_1_and_4_threads(preset: &[&str]) {
    let one = scan_corpus(&[&["--threads", "1"], preset].concat());
    let four = scan_corpus(&[&["--threads", "4"], preset].concat());
    assert_same_output(
        &format!("scan corpus/ {}", preset.join(" ")),
        "--threads 1",
        &one,
        "--threads 4",
        &four,
    );
}

#[test]
fn default_preset_is_thread_independent() {
    same_with_1_and_4_threads(&[]);
}

#[test]
fn near_preset_is_thread_independent() {
    same_with_1_and_4_threads(&["--preset", "near"]);
}

#[test]
fn exact_preset_is_thread_independent() {
    same_with_1_and_4_threads(&["--preset", "exact"]);
}

/// Presets differ in what they find, so the comparisons above are not of one fixed output.
#[test]
fn presets_give_different_reports() {
    let exact = scan_corpus(&["--preset", "exact"]);
    let paraphrase = scan_corpus(&[]);
    assert!(exact.contains(r#""preset":"exact""#));
    assert!(paraphrase.contains(r#""preset":"paraphrase""#));
    assert!(
        exact.lines().count() < paraphrase.lines().count(),
        "exact should find fewer clusters than paraphrase"
    );
}

#[test]
fn repeated_runs_are_identical() {
    let first = scan_corpus(&[]);
    let second = scan_corpus(&[]);
    assert_same_output("scan corpus/ twice", "run 1", &first, "run 2", &second);

    // The text format too, once its trailing "…, N.NNN s" is cut.
    let text = |threads: &str| {
        let run = run_repo(&["scan", "corpus/", "--threads", threads]);
        run.assert_code(0);
        let s = run.stdout_str();
        let cut = s.trim_end().rfind(", ").expect("summary line with seconds");
        s[..cut].to_string()
    };
    assert_same_output(
        "text format",
        "--threads 1",
        &text("1"),
        "--threads 3",
        &text("3"),
    );
}

/// A tiny deterministic generator (the test must not depend on a random crate or on time).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A generated corpus big enough for the parallel stages to split work: many files, edited
/// copies of shared paragraphs, a boilerplate line repeated more than the full-pairing limit of
/// identical groups, and unrelated filler.
#[test]
fn generated_corpus_is_thread_independent() {
    const WORDS: &[&str] = &[
        "council",
        "river",
        "flood",
        "minister",
        "police",
        "report",
        "budget",
        "school",
        "storm",
        "harbour",
        "election",
        "court",
        "hospital",
        "railway",
        "market",
        "festival",
        "bridge",
        "village",
        "airport",
        "museum",
        "strike",
        "union",
        "farmers",
        "prices",
        "energy",
        "water",
        "road",
        "league",
        "mayor",
        "citizens",
        "officials",
        "said",
        "on",
        "the",
        "a",
        "of",
        "in",
        "after",
        "before",
        "during",
        "new",
        "old",
        "closed",
        "opened",
        "warned",
    ];
    let mut rng = Lcg(42);
    let sentence = |rng: &mut Lcg, n: usize| {
        let words: Vec<&str> = (0..n).map(|_| WORDS[rng.below(WORDS.len())]).collect();
        format!("{}.", words.join(" "))
    };
    let sources: Vec<String> = (0..40).map(|_| sentence(&mut rng, 30)).collect();
    let env = TestEnv::new();
    for f in 0..120 {
        let mut text = String::new();
        for _ in 0..12 {
            let p = match rng.below(4) {
                0 => sentence(&mut rng, 25),
                1 => "Advertisement: subscribe to our newsletter for more local news today.".into(),
                _ => {
                    // An edited copy of a shared paragraph: a few words replaced.
                    let mut words: Vec<String> = sources[rng.below(sources.len())]
                        .split(' ')
                        .map(String::from)
                        .collect();
                    for _ in 0..rng.below(4) {
                        let i = rng.below(words.len());
                        words[i] = WORDS[rng.below(WORDS.len())].to_string();
                    }
                    words.join(" ")
                }
            };
            text.push_str(&p);
            text.push('\n');
        }
        env.write(&format!("gen/{:03}.txt", f), text);
    }
    let run = |threads: &str| {
        jsonl_of(&env.run(&["scan", "gen", "--format", "jsonl", "--threads", threads]))
    };
    let one = run("1");
    let out = crate::util::Jsonl::from_lines(crate::util::parse_jsonl(&one)).unwrap();
    crate::util::check_clusters(&out, crate::util::read_from(env.path()));
    assert!(out.count("paragraphs") == 120 * 12 && out.skipped.is_empty());
    for threads in ["2", "8"] {
        assert_same_output(
            "generated corpus",
            "--threads 1",
            &one,
            &format!("--threads {threads}"),
            &run(threads),
        );
    }
}
