//! Unusable input is reported, never fatal and never silent: exit code 2 (documented: "an
//! error, bad usage, or some input was skipped"), a message on stderr naming the file (and the
//! line and byte where there is one), a `skipped` record in the JSONL, no panic, and the good
//! files of the same run still scanned. Bad flags: exit 2 and a message naming the parameter.

use std::path::Path;

use crate::util::{
    assert_good_clusters, check_clusters, read_from, write_good_pair, Jsonl, Run, TestEnv,
    STORY_COPY,
};

/// Paragraphs in the two files of [`write_good_pair`].
const GOOD_PARAGRAPHS: u64 = 5;

/// Scans the good pair plus `extra` paths, as JSONL; checks exit code 2, the contract, and that
/// the good files were scanned.
fn scan_with_good(env: &TestEnv, extra: &[&str], flags: &[&str]) -> (Run, Jsonl) {
    let good = write_good_pair(env);
    let mut args = vec!["scan", "--format", "jsonl"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&good);
    args.extend_from_slice(extra);
    let run = env.run(&args);
    run.assert_code(2);
    let out = run.jsonl();
    check_clusters(&out, read_from(env.path()));
    assert_good_clusters(&out);
    (run, out)
}

/// Asserts the skipped record of `source` is at `line`/`byte` with a reason containing every
/// one of `reason`, and that stderr reports it with the same place.
#[track_caller]
fn assert_skipped(run: &Run, out: &Jsonl, source: &str, line: u64, byte: u64, reason: &[&str]) {
    let s = out.skipped_of(source);
    assert_skipped_record(run, s, source, line, byte, reason);
}

#[track_caller]
fn assert_skipped_record(
    run: &Run,
    s: &serde_json::Value,
    source: &str,
    line: u64,
    byte: u64,
    reason: &[&str],
) {
    assert_eq!(s["source"], source, "{s}");
    assert_eq!(s["line"].as_u64(), Some(line), "line of {s}");
    assert_eq!(s["byte"].as_u64(), Some(byte), "byte of {s}");
    let text = s["reason"].as_str().expect("reason");
    for r in reason {
        assert!(text.contains(r), "reason {text:?} does not mention {r:?}");
    }
    let place = format!("{source}:{line}");
    let at = format!("byte {byte}");
    assert!(
        run.stderr
            .lines()
            .any(|l| l.contains(&place) && l.contains(&at) && l.contains(text)),
        "stderr does not report {place} ({at}): {text}\n{}",
        run.describe()
    );
}

#[test]
fn binary_file_is_skipped_whole() {
    let env = TestEnv::new();
    // A PNG header: the signature has a CR LF and a LF before the first NUL.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0\x1f\xf3\xffa";
    env.write("logo.png", png);
    let nul = png.iter().position(|&b| b == 0).unwrap() as u64;
    let (run, out) = scan_with_good(&env, &["logo.png"], &[]);
    assert_skipped(&run, &out, "logo.png", 3, nul, &["binary"]);
    assert_eq!(out.count("paragraphs"), GOOD_PARAGRAPHS);
    assert!(out.members().iter().all(|m| m["source"] != "logo.png"));
}

#[test]
fn invalid_utf8_lines_are_skipped_and_the_rest_scanned() {
    let env = TestEnv::new();
    let mut bytes = Vec::new();
    bytes.extend_from_slice(format!("{}\n", STORY_COPY[0]).as_bytes());
    bytes.extend_from_slice("Café owners said the ".as_bytes());
    let bad1 = bytes.len() as u64;
    bytes.extend_from_slice(b"\xff flood was the worst in decades.\n");
    bytes.extend_from_slice(format!("{}\n", STORY_COPY[1]).as_bytes());
    bytes.extend_from_slice(b"A line cut in the middle of a character: caf");
    let bad2 = bytes.len() as u64;
    bytes.extend_from_slice(b"\xc3\n");
    bytes.extend_from_slice(b"The last line is fine and has enough words in it.\n");
    env.write("mixed.txt", &bytes);

    let (run, out) = scan_with_good(&env, &["mixed.txt"], &[]);
    let skipped: Vec<_> = out
        .skipped
        .iter()
        .filter(|s| s["source"] == "mixed.txt")
        .collect();
    assert_eq!(skipped.len(), 2, "skipped: {:#?}", out.skipped);
    assert_skipped_record(&run, skipped[0], "mixed.txt", 2, bad1, &["UTF-8"]);
    assert_skipped_record(&run, skipped[1], "mixed.txt", 4, bad2, &["UTF-8"]);
    // Lines 1, 3 and 5 are read; 1 and 3 are copies of the good story.
    assert_eq!(out.count("paragraphs"), GOOD_PARAGRAPHS + 3);
    assert!(out.has_pair(("good_a.txt", 1), ("mixed.txt", 1)));
    assert!(out.has_pair(("good_b.txt", 3), ("mixed.txt", 3)));
}

/// `--split blank`: the skipped byte is still the exact offset of the bad byte, even when it
/// is not on the block's first line.
#[test]
fn invalid_utf8_in_a_block_reports_the_exact_byte() {
    let env = TestEnv::new();
    let mut bytes = b"First block, first line.\nFirst block, second line.\n\n".to_vec();
    let block = bytes.len() as u64;
    bytes.extend_from_slice(b"Second block starts here,\nand here comes a bad byte: ");
    let bad = bytes.len() as u64;
    bytes.extend_from_slice(b"\xfe.\n");
    env.write("blocks.txt", &bytes);
    let (_, out) = scan_with_good(&env, &["blocks.txt"], &["--split", "blank"]);
    let s = out.skipped_of("blocks.txt");
    assert_eq!(s["byte"].as_u64(), Some(bad), "{s}");
    // The block starts on line 4 and the bad byte is on line 5; either names the place.
    let line = s["line"].as_u64().unwrap();
    assert!(line == 4 || line == 5, "{s}");
    assert!(bad > block);
}

/// JSON Lines records whose text fields hold no paragraph make an empty input, as a file of
/// blank lines does: reported, exit 2, and `dedup` still writes every record back. Such a file
/// passed as 0 paragraphs checked, exit 0.
#[test]
fn json_lines_without_a_paragraph_are_reported() {
    let env = TestEnv::new();
    env.write(
        "blank.jsonl",
        "{\"text\":\"\"}\n{\"text\":\"  \"}\n{\"id\":1,\"text\":\"\\n\\n\"}\n",
    );
    let (run, out) = scan_with_good(&env, &["blank.jsonl"], &[]);
    assert_skipped(&run, &out, "blank.jsonl", 0, 0, &["empty: no paragraph"]);
    assert_eq!(out.count("paragraphs"), GOOD_PARAGRAPHS);
    let run = env.run(&["dedup", "blank.jsonl", "--output", "clean.jsonl"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("empty: no paragraph"),
        "{}",
        run.describe()
    );
    let written = std::fs::read(env.join("clean.jsonl")).expect("read the copy");
    assert_eq!(
        written,
        std::fs::read(env.join("blank.jsonl")).expect("read the input")
    );
}

#[test]
fn empty_and_blank_files_are_reported() {
    let env = TestEnv::new();
    env.write("empty.txt", b"");
    env.write("blank.txt", b"\n  \n\t\r\n");
    let (run, out) = scan_with_good(&env, &["empty.txt", "blank.txt"], &[]);
    assert_skipped(&run, &out, "empty.txt", 0, 0, &["empty"]);
    assert_skipped(&run, &out, "blank.txt", 0, 0, &["empty"]);
    assert_eq!(out.count("files"), 4);
}

#[test]
fn nonexistent_paths_are_reported() {
    let env = TestEnv::new();
    let (run, out) = scan_with_good(&env, &["missing.txt", "no/such/dir"], &[]);
    assert_skipped(&run, &out, "missing.txt", 0, 0, &["No such file"]);
    assert_skipped(&run, &out, "no/such/dir", 0, 0, &["No such file"]);
    assert_eq!(out.count("files"), 2);
}

#[cfg(unix)]
#[test]
fn dangling_symlinks_are_reported() {
    let env = TestEnv::new();
    std::os::unix::fs::symlink("nowhere.txt", env.join("dangling.txt")).unwrap();
    env.mkdir("links");
    std::os::unix::fs::symlink("../gone.txt", env.join("links/dangling.txt")).unwrap();
    let (run, out) = scan_with_good(&env, &["dangling.txt", "links"], &[]);
    assert_skipped(&run, &out, "dangling.txt", 0, 0, &["No such file"]);
    assert_skipped(&run, &out, "links/dangling.txt", 0, 0, &["No such file"]);
}

/// Permission problems. The tests may run as root, for whom `chmod 000` does not make a
/// directory unreadable, so the always-checked case is a path through a regular file
/// (`good_a.txt/child`, ENOTDIR); the unreadable directory is only checked when the test
/// process itself cannot list it.
#[cfg(unix)]
#[test]
fn unreadable_paths_are_reported() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let (run, out) = scan_with_good(&env, &["good_a.txt/child"], &[]);
    assert_skipped(&run, &out, "good_a.txt/child", 0, 0, &["Not a directory"]);

    let locked = env.mkdir("locked");
    env.write("locked/inside.txt", format!("{}\n", STORY_COPY[0]));
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let listable = std::fs::read_dir(&locked).is_ok();
    if !listable {
        let (run, out) = scan_with_good(&env, &["locked"], &[]);
        assert_skipped(&run, &out, "locked", 0, 0, &["ermission denied"]);
    }
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Write `size` bytes of words on one line.
fn long_line(size: usize) -> Vec<u8> {
    let words = b"rain river flood town mayor shelter night water street bridge ";
    let mut v: Vec<u8> = words.iter().copied().cycle().take(size).collect();
    if let Some(last) = v.last_mut() {
        *last = b'.';
    }
    v
}

#[test]
fn oversized_paragraph_is_skipped_unless_the_limit_is_raised() {
    let env = TestEnv::new();
    let head = b"A short first line with a handful of words.\n";
    let mut bytes = head.to_vec();
    bytes.extend_from_slice(&long_line(10 << 20));
    bytes.push(b'\n');
    env.write("big.txt", &bytes);

    let (run, out) = scan_with_good(&env, &["big.txt"], &[]);
    assert_skipped(
        &run,
        &out,
        "big.txt",
        2,
        head.len() as u64,
        &["1048576", "max_paragraph_bytes"],
    );
    assert_eq!(out.count("paragraphs"), GOOD_PARAGRAPHS + 1);

    let good = write_good_pair(&env);
    let run = env.run(&[
        "scan",
        "--format",
        "jsonl",
        "--max-paragraph-bytes",
        "20000000",
        good[0],
        good[1],
        "big.txt",
    ]);
    run.assert_code(0);
    let out = run.jsonl();
    assert!(out.skipped.is_empty(), "{:#?}", out.skipped);
    assert_eq!(out.count("paragraphs"), GOOD_PARAGRAPHS + 2);
    assert_eq!(out.summary["params"]["max_paragraph_bytes"], 20_000_000);
    assert_good_clusters(&out);
    assert!(run.stderr.is_empty(), "stderr: {}", run.stderr);
}

/// Every output format reports skipped input, not only JSONL.
#[test]
fn text_format_lists_skipped_input() {
    let env = TestEnv::new();
    let good = write_good_pair(&env);
    let run = env.run(&["scan", good[0], good[1], "missing.txt"]);
    run.assert_code(2);
    let text = run.stdout_str();
    assert!(
        text.lines()
            .any(|l| l.starts_with("skipped: missing.txt:0 (byte 0)")),
        "{}",
        run.describe()
    );
    assert!(text.contains("good_a.txt:1") && text.contains("good_b.txt:1"));
    assert!(text
        .trim_end()
        .lines()
        .last()
        .unwrap()
        .contains("1 skipped"));
}

#[test]
fn invalid_flags_name_the_parameter() {
    let env = TestEnv::new();
    write_good_pair(&env);
    let cases: &[(&[&str], &str)] = &[
        (&["--threshold", "2"], "threshold"),
        (&["--threshold=-0.1"], "threshold"),
        (&["--threshold", "NaN"], "threshold"),
        (&["--sentence-threshold", "1.5"], "sentence_threshold"),
        (&["--num-hashes", "1"], "num_hashes"),
        (&["--shingle-words", "0"], "shingle_words"),
        (&["--bands", "200"], "bands"),
        (&["--max-bucket", "1"], "max_bucket"),
        (&["--max-paragraph-bytes", "0"], "max_paragraph_bytes"),
        (&["--threads", "abc"], "--threads"),
        (&["--split", "sentence"], "--split"),
        (&["--preset", "fuzzy"], "--preset"),
        (&["--format", "xml"], "--format"),
        (&["--no-such-flag"], "--no-such-flag"),
    ];
    for (flags, name) in cases {
        let mut args = vec!["scan", "good_a.txt"];
        args.extend_from_slice(flags);
        let run = env.run(&args);
        run.assert_code(2);
        assert!(
            run.stderr.contains(name),
            "stderr does not name {name}\n{}",
            run.describe()
        );
        assert!(
            run.stdout.is_empty(),
            "output despite bad flags\n{}",
            run.describe()
        );
    }
    // The same validation applies to eval.
    env.write("gold.tsv", "1\t3\tmust\n");
    let run = env.run(&[
        "eval",
        "good_a.txt",
        "--gold",
        "gold.tsv",
        "--threshold",
        "2",
    ]);
    run.assert_code(2);
    assert!(run.stderr.contains("threshold"), "{}", run.describe());
    // No path at all is a usage error.
    let run = env.run(&["scan"]);
    run.assert_code(2);
    assert!(
        run.stderr.to_lowercase().contains("usage"),
        "{}",
        run.describe()
    );
}

/// `--sentence-threshold` documents `0` as "off"; a negative value or NaN is out of range and
/// should be refused like any other, but both silently turn sentence matching off.
#[test]
fn out_of_range_sentence_threshold_is_refused() {
    let env = TestEnv::new();
    write_good_pair(&env);
    for value in ["--sentence-threshold=-0.5", "--sentence-threshold=NaN"] {
        let run = env.run(&["scan", "good_a.txt", value]);
        run.assert_code(2);
        assert!(
            run.stderr.contains("sentence_threshold"),
            "{}",
            run.describe()
        );
    }
}

/// A symbolic link to an ancestor directory must not make the walk read the same files again
/// and again (today every file is read 41 times, until the kernel's ELOOP, and each copy is
/// reported as a duplicate of the others).
#[cfg(unix)]
#[test]
fn symlink_loop_is_not_walked_repeatedly() {
    let env = TestEnv::new();
    env.write("d/a.txt", format!("{}\n", STORY_COPY[0]));
    std::os::unix::fs::symlink(".", env.join("d/loop")).unwrap();
    let run = env.run(&["scan", "d", "--format", "jsonl"]);
    let out = run.jsonl();
    assert_eq!(out.count("files"), 1, "{}", run.describe());
    assert!(out.clusters.is_empty(), "{}", run.describe());
}

/// Runs `syndup args` in `dir`, killing it (and failing) if it has not finished after a
/// generous minute: a watchdog against hangs, not a timing assertion.
#[cfg(unix)]
fn run_or_kill(dir: &Path, args: &[&str]) -> std::process::ExitStatus {
    let mut child = std::process::Command::new(crate::util::BIN)
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn syndup");
    for _ in 0..600 {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("syndup {} did not finish: killed", args.join(" "));
}

/// Makes a FIFO (named pipe) at `path`.
#[cfg(unix)]
fn make_fifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo {} failed", path.display());
}

/// A FIFO inside a walked directory must not block the scan (walks should read regular files;
/// a FIFO named on the command line is the user's choice and may be read).
#[cfg(unix)]
#[test]
fn fifo_in_a_directory_does_not_hang() {
    let env = TestEnv::new();
    env.write("d/a.txt", format!("{}\n", STORY_COPY[0]));
    make_fifo(&env.join("d/pipe.txt"));
    let status = run_or_kill(env.path(), &["scan", "d"]);
    assert!(status.code().is_some(), "syndup was killed by a signal");
}

/// Runs `syndup scan --format jsonl <input>` while writing zeros into `feed` (its standard
/// input, or a FIFO it reads), a megabyte at a time, until syndup closes it or 1 GB is written;
/// returns the bytes written and the run.
#[cfg(unix)]
fn scan_fed_zeros(env: &TestEnv, input: &str, fifo: Option<&Path>) -> (usize, Run) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(crate::util::BIN)
        .args(["scan", "--format", "jsonl", input])
        .current_dir(env.path())
        .stdin(if fifo.is_some() {
            Stdio::null()
        } else {
            Stdio::piped()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn syndup");
    let mut feed: Box<dyn Write> = match fifo {
        // Opening a FIFO for writing waits for its reader: syndup.
        Some(path) => Box::new(
            std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .expect("open FIFO"),
        ),
        None => Box::new(child.stdin.take().expect("stdin pipe")),
    };
    let chunk = vec![0u8; 1 << 20];
    let mut written = 0usize;
    while written < 1 << 30 && feed.write_all(&chunk).is_ok() {
        written += chunk.len();
    }
    drop(feed);
    let out = child.wait_with_output().expect("wait for syndup");
    let run = Run {
        args: vec!["scan".into(), input.into()],
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    (written, run)
}

/// A plain-text stream that starts with a NUL byte is skipped as binary after its first bytes,
/// not read to its end: `scan /dev/zero` ran until memory ran out (4.8 GB after 5 s), and
/// `head -c 300000000 /dev/zero | syndup scan -` took 300 MB to skip it.
#[cfg(unix)]
#[test]
fn binary_streams_are_skipped_without_reading_them_whole() {
    let env = TestEnv::new();
    let fifo = env.join("zeros.txt");
    make_fifo(&fifo);
    for (input, fifo) in [("-", None), ("zeros.txt", Some(fifo.as_path()))] {
        let (written, run) = scan_fed_zeros(&env, input, fifo);
        run.assert_code(2);
        assert_skipped(&run, &run.jsonl(), input, 1, 0, &["binary"]);
        // What the pipe holds and the first 8 KB, not the gigabyte offered.
        assert!(
            written < 16 << 20,
            "{input}: syndup took {written} bytes of zeros"
        );
    }
}

/// Out-of-range values of `generate --copy-share` (a percentage, NaN) and `index --capacity 0`
/// are usage errors (exit 2, nothing written); they were clamped without a word.
#[test]
fn shares_and_capacities_out_of_range_are_refused() {
    let env = crate::util::TestEnv::new();
    env.write(
        "a.txt",
        "One paragraph of plain text that is long enough to be a paragraph.\n",
    );
    for args in [
        &["generate", "--copy-share", "55", "--out", "gen"][..],
        &["generate", "--copy-share", "NaN", "--out", "gen"],
        &["index", "build", "i.syndup", "a.txt", "--capacity", "0"],
    ] {
        let run = env.run(args);
        run.assert_code(2);
        assert!(
            run.stderr.contains("invalid value"),
            "{args:?}: {}",
            run.describe()
        );
    }
    assert!(!env.join("gen").exists() && !env.join("i.syndup").exists());
}

/// A `--source` of `generate` that is not text (a NUL byte, invalid UTF-8) is refused, naming
/// the file, line and byte, and nothing is written: NUL bytes went into the generated
/// documents, which `scan` and `eval` then skipped as binary.
#[test]
fn generate_refuses_a_source_that_is_not_text() {
    let env = TestEnv::new();
    let story = "The storm closed every road into the valley on Tuesday, officials said.\n";
    env.write("nul.txt", format!("{story}\0bad\n{story}"));
    let mut latin1 = format!("{story}caf").into_bytes();
    latin1.extend_from_slice(b"\xe9 noir\n");
    env.write("latin1.txt", latin1);
    let first = story.len();
    for (file, what, byte) in [
        ("nul.txt", "NUL", first),
        ("latin1.txt", "UTF-8", first + 3),
    ] {
        let run = env.run(&["generate", "--source", file, "--docs", "5", "--out", "gen"]);
        run.assert_code(2);
        let place = format!("{file}:2 (byte {byte})");
        assert!(
            run.stderr.contains(&place) && run.stderr.contains(what),
            "{file}: {}",
            run.describe()
        );
        assert!(!env.join("gen").exists(), "{file}: something was written");
    }
}

/// A gold file, a baseline or a config file that is not UTF-8 is an error naming the file and
/// the line and byte where it stops being text (exit 2); it named only the file.
#[test]
fn side_files_that_are_not_utf8_name_the_line_and_byte() {
    let env = TestEnv::new();
    let good = write_good_pair(&env);
    let bad = b"4\t6\tmust\n\xff\t7\tmust\n";
    env.write("gold.tsv", bad);
    env.write("baseline.json", b"{\"version\": 1,\n\"x\": \"\xff\"}\n");
    env.write("syndup.toml", b"[check]\nmax = \"\xfe\"\n");
    let runs = [
        (
            vec!["eval", "--gold", "gold.tsv"],
            "gold.tsv: cannot read: invalid UTF-8 at line 2 (byte 9)",
        ),
        (
            vec!["check", "--baseline", "baseline.json", "--no-config"],
            "baseline.json: cannot read: invalid UTF-8 at line 2 (byte 21)",
        ),
        (
            vec!["check", "--config", "syndup.toml"],
            "syndup.toml: cannot read: invalid UTF-8 at line 2 (byte 15)",
        ),
    ];
    for (mut args, want) in runs {
        args.extend_from_slice(&good);
        let run = env.run(&args);
        run.assert_code(2);
        assert!(run.stderr.contains(want), "{args:?}: {}", run.describe());
    }
}

/// A binary file names the same line for its NUL byte read from disk or through standard
/// input, which reads only the first 8 KB: lines are counted by the line ends found there. A
/// file of `\r` lines whose first `\n` comes later was at line 1 from disk and 3 from a pipe.
#[test]
fn binary_files_name_one_place_from_disk_or_a_pipe() {
    let env = TestEnv::new();
    let mut bytes = b"one\rtwo\r\0".to_vec();
    bytes.extend(std::iter::repeat_n(b'x', 9000));
    bytes.push(b'\n');
    env.write("cr.txt", &bytes);
    let disk = env.run(&["scan", "--format", "jsonl", "cr.txt"]);
    let pipe = env.run_stdin(&["scan", "--format", "jsonl", "-"], &bytes);
    assert_skipped(&disk, &disk.jsonl(), "cr.txt", 3, 8, &["binary"]);
    assert_skipped(&pipe, &pipe.jsonl(), "-", 3, 8, &["binary"]);
    // The summary counts the file, and none of its bytes as text: `bytes` was the whole
    // file's size from disk and the 8 KB read from the pipe.
    for run in [&disk, &pipe] {
        let out = run.jsonl();
        let counts = ["files", "paragraphs", "bytes"].map(|f| out.count(f));
        assert_eq!(counts, [1, 0, 0], "{}", run.describe());
    }
}

/// A skipped file whose name holds a newline, a tab and an escape character is still one line
/// of stderr (and of the text report), for every command that reads input, and `--on-error
/// fail` names it the same way; the JSON Lines record keeps the name as it is.
#[test]
fn skipped_names_with_control_characters_stay_on_one_line() {
    let env = TestEnv::new();
    let good = write_good_pair(&env);
    let bad = "bad\nname\t\u{1b}.txt";
    env.write(bad, b"text\0binary\n");
    let shown = "bad\\nname\\t\\x1B.txt";
    let gold = env.write("gold.tsv", "good_a.txt\t1\tgood_b.txt\t1\tmust\n");
    let gold = gold.to_str().unwrap();
    let runs: [&[&str]; 5] = [
        &["scan", good[0], good[1], bad],
        &["dedup", good[0], good[1], bad, "-o", "out"],
        &["check", good[0], good[1], bad],
        &["eval", "--gold", gold, good[0], good[1], bad],
        &["index", "build", "idx.syndup", good[0], good[1], bad],
    ];
    for args in runs {
        let run = env.run(args);
        run.assert_code(2);
        let want = format!("syndup: {shown}:1 (byte 4): binary file");
        let lines: Vec<&str> = run.stderr.lines().filter(|l| l.contains("bad")).collect();
        assert!(
            lines.len() == 1 && lines[0].starts_with(&want),
            "{args:?}: {lines:?}\n{}",
            run.describe()
        );
    }
    let text = env.run(&["scan", good[0], good[1], bad]);
    assert!(
        text.stdout_str()
            .lines()
            .any(|l| l.starts_with(&format!("skipped: {shown}:1 (byte 4)"))),
        "{}",
        text.describe()
    );
    let fail = env.run(&["scan", "--on-error", "fail", good[0], good[1], bad]);
    fail.assert_code(2);
    assert!(
        fail.stderr
            .contains(&format!("the first at {shown}:1 (byte 4)")),
        "{}",
        fail.describe()
    );
    let jsonl = env.run(&["scan", "--format", "jsonl", good[0], good[1], bad]);
    assert_eq!(jsonl.jsonl().skipped[0]["source"], bad);
}
