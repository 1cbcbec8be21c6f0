//! Shared helpers: a temporary working directory, running the real `syndup` binary, parsing and
//! checking its JSON Lines output, and readable comparisons.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_syndup");

/// The repository root (where `corpus/` lives).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A temporary directory to create inputs in and run `syndup` from.
pub struct TestEnv {
    dir: tempfile::TempDir,
}

impl TestEnv {
    /// A fresh, empty directory (removed on drop).
    pub fn new() -> TestEnv {
        TestEnv {
            dir: tempfile::Builder::new()
                .prefix("syndup-it-")
                .tempdir()
                .expect("create a temporary directory"),
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `rel` below the directory.
    pub fn join(&self, rel: &str) -> PathBuf {
        self.path().join(rel)
    }

    /// Creates (or overwrites) `rel` with `bytes`, creating parent directories.
    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent directories");
        }
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// Creates the directory `rel` (and its parents).
    pub fn mkdir(&self, rel: &str) -> PathBuf {
        let path = self.join(rel);
        std::fs::create_dir_all(&path).expect("create directory");
        path
    }

    /// Runs `syndup args...` in the directory.
    pub fn run(&self, args: &[&str]) -> Run {
        run_in(self.path(), args, None)
    }

    /// Runs `syndup args...` in the directory with `stdin` as standard input.
    pub fn run_stdin(&self, args: &[&str], stdin: &[u8]) -> Run {
        run_in(self.path(), args, Some(stdin))
    }
}

/// Runs `syndup args...` from the repository root.
pub fn run_repo(args: &[&str]) -> Run {
    run_in(repo_root(), args, None)
}

/// The outcome of one run.
pub struct Run {
    /// The arguments, for messages.
    pub args: Vec<String>,
    /// Exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output, raw.
    pub stdout: Vec<u8>,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

/// Runs the binary in `dir`. Every run is checked for panics, whatever the test expects.
pub fn run_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = cmd.spawn().expect("spawn syndup");
    // Feed stdin from a thread so that a large output cannot deadlock against a large input.
    let feeder = stdin.map(|bytes| {
        let bytes = bytes.to_vec();
        let mut pipe = child.stdin.take().expect("stdin pipe");
        std::thread::spawn(move || {
            // syndup may stop reading early (e.g. on a usage error); that is not our failure.
            let _ = pipe.write_all(&bytes);
        })
    });
    let out = child.wait_with_output().expect("wait for syndup");
    if let Some(f) = feeder {
        f.join().expect("stdin feeder");
    }
    let run = Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked") && run.code != Some(101) && run.code.is_some(),
        "syndup panicked or was killed\n{}",
        run.describe()
    );
    run
}

impl Run {
    /// Standard output as UTF-8 (the output of syndup always is).
    pub fn stdout_str(&self) -> &str {
        std::str::from_utf8(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not UTF-8 ({e})\n{}", self.describe()))
    }

    /// The command, exit code and (shortened) outputs, for failure messages.
    pub fn describe(&self) -> String {
        fn cut(s: &str) -> &str {
            match s.char_indices().nth(3000) {
                Some((i, _)) => &s[..i],
                None => s,
            }
        }
        let stdout = String::from_utf8_lossy(&self.stdout);
        format!(
            "command: syndup {}\nexit code: {:?}\n--- stderr ---\n{}\n--- stdout (first 3000 chars) ---\n{}",
            self.args.join(" "),
            self.code,
            cut(&self.stderr),
            cut(&stdout)
        )
    }

    /// Asserts the exit code.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit code\n{}",
            self.describe()
        );
        self
    }

    /// Parses standard output as JSON Lines and checks the envelope contract.
    #[track_caller]
    pub fn jsonl(&self) -> Jsonl {
        let lines = parse_jsonl(self.stdout_str());
        Jsonl::from_lines(lines).unwrap_or_else(|e| panic!("{e}\n{}", self.describe()))
    }
}

/// Parses JSON Lines: one JSON value per non-empty line; panics naming the line otherwise.
pub fn parse_jsonl(text: &str) -> Vec<Value> {
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "JSONL output does not end with a newline"
    );
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("output line {} is not JSON ({e}):\n{line}", i + 1))
        })
        .collect()
}

/// JSONL output split by record type, with the envelope checked.
#[derive(Debug)]
pub struct Jsonl {
    /// `data` of every `cluster` record, in order.
    pub clusters: Vec<Value>,
    /// `data` of every `skipped` record, in order.
    pub skipped: Vec<Value>,
    /// `data` of the single `summary` record.
    pub summary: Value,
}

impl Jsonl {
    /// Checks that every line is `{"type": T, "data": {...}}` with `T` in cluster, skipped,
    /// summary, that the summary is last and appears exactly once.
    pub fn from_lines(lines: Vec<Value>) -> Result<Jsonl, String> {
        let mut clusters = Vec::new();
        let mut skipped = Vec::new();
        let mut summary = None;
        let n = lines.len();
        for (i, line) in lines.into_iter().enumerate() {
            let obj = line
                .as_object()
                .ok_or_else(|| format!("line {}: not an object: {line}", i + 1))?;
            let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
            keys.sort_unstable();
            if keys != ["data", "type"] {
                return Err(format!(
                    "line {}: keys {keys:?}, expected [\"data\", \"type\"]",
                    i + 1
                ));
            }
            if !obj["data"].is_object() {
                return Err(format!("line {}: `data` is not an object", i + 1));
            }
            let data = obj["data"].clone();
            match obj["type"].as_str() {
                Some("cluster") => clusters.push(data),
                Some("skipped") => skipped.push(data),
                Some("summary") => {
                    if summary.is_some() {
                        return Err(format!("line {}: a second summary", i + 1));
                    }
                    if i + 1 != n {
                        return Err(format!("line {}: summary is not the last line", i + 1));
                    }
                    summary = Some(data);
                }
                other => return Err(format!("line {}: unknown type {other:?}", i + 1)),
            }
        }
        let summary = summary.ok_or("no summary line")?;
        Ok(Jsonl {
            clusters,
            skipped,
            summary,
        })
    }

    /// A summary counter.
    #[track_caller]
    pub fn count(&self, field: &str) -> u64 {
        self.summary[field]
            .as_u64()
            .unwrap_or_else(|| panic!("summary.{field} is not a count: {}", self.summary))
    }

    /// Every pair of every cluster as `((source, line), (source, line))`, in output order.
    pub fn pairs(&self) -> Vec<(Loc, Loc)> {
        let mut out = Vec::new();
        for c in &self.clusters {
            let members = c["members"].as_array().expect("members");
            let loc = |i: &Value| {
                let m = &members[i.as_u64().expect("member index") as usize];
                Loc::of(m)
            };
            for p in c["pairs"].as_array().expect("pairs") {
                out.push((loc(&p["a"]), loc(&p["b"])));
            }
        }
        out
    }

    /// Whether some pair joins `x` and `y` (in either order).
    pub fn has_pair(&self, x: (&str, u64), y: (&str, u64)) -> bool {
        self.pairs()
            .iter()
            .any(|(a, b)| (a.is(x.0, x.1) && b.is(y.0, y.1)) || (a.is(y.0, y.1) && b.is(x.0, x.1)))
    }

    /// Every member of every cluster.
    pub fn members(&self) -> Vec<&Value> {
        self.clusters
            .iter()
            .flat_map(|c| c["members"].as_array().expect("members").iter())
            .collect()
    }

    /// The skipped record of `source`, if there is exactly one; panics otherwise.
    #[track_caller]
    pub fn skipped_of(&self, source: &str) -> &Value {
        let found: Vec<&Value> = self
            .skipped
            .iter()
            .filter(|s| s["source"] == source)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one skipped record for {source}, got {found:#?}\nall skipped: {:#?}",
            self.skipped
        );
        found[0]
    }
}

/// A member's place: source name and line.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    /// Source as reported.
    pub source: String,
    /// 1-based line.
    pub line: u64,
}

impl Loc {
    /// The place of a member object.
    pub fn of(member: &Value) -> Loc {
        Loc {
            source: member["source"].as_str().expect("source").to_string(),
            line: member["line"].as_u64().expect("line"),
        }
    }

    /// Whether this is `source:line`.
    pub fn is(&self, source: &str, line: u64) -> bool {
        self.source == source && self.line == line
    }
}

/// Replaces the value of the summary's `seconds` (the only field that varies between identical
/// runs) with 0, leaving every other byte as it is.
pub fn blank_seconds(jsonl: &str) -> String {
    let mut out = String::with_capacity(jsonl.len());
    for line in jsonl.split_inclusive('\n') {
        if !line.starts_with(r#"{"type":"summary""#) {
            out.push_str(line);
            continue;
        }
        let key = r#""seconds":"#;
        let at = line
            .rfind(key)
            .unwrap_or_else(|| panic!("no seconds in the summary: {line}"))
            + key.len();
        let end = at
            + line[at..]
                .find([',', '}'])
                .expect("end of the seconds value");
        out.push_str(&line[..at]);
        out.push('0');
        out.push_str(&line[end..]);
    }
    out
}

/// Asserts two outputs are identical; on mismatch shows the first differing line of each (JSON
/// lines pretty-printed) with context, and the line counts.
#[track_caller]
pub fn assert_same_output(what: &str, left_name: &str, left: &str, right_name: &str, right: &str) {
    if left == right {
        return;
    }
    let l: Vec<&str> = left.lines().collect();
    let r: Vec<&str> = right.lines().collect();
    let first = l
        .iter()
        .zip(&r)
        .position(|(a, b)| a != b)
        .unwrap_or(l.len().min(r.len()));
    let mut msg = format!(
        "{what}: outputs differ ({left_name}: {} lines, {right_name}: {} lines); first difference at line {}\n",
        l.len(),
        r.len(),
        first + 1
    );
    let pretty = |s: Option<&&str>| match s {
        None => "<no line>".to_string(),
        Some(s) => serde_json::from_str::<Value>(s)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| s.to_string()),
    };
    let from = first.saturating_sub(2);
    for (i, line) in l.iter().enumerate().take(first).skip(from) {
        let _ = writeln!(msg, "  same {:>4}: {line}", i + 1);
    }
    let _ = writeln!(
        msg,
        "--- {left_name} line {} ---\n{}",
        first + 1,
        pretty(l.get(first))
    );
    let _ = writeln!(
        msg,
        "--- {right_name} line {} ---\n{}",
        first + 1,
        pretty(r.get(first))
    );
    panic!("{msg}");
}

/// Two paragraphs of a short news story (each well over `min_words`).
pub const STORY: [&str; 2] = [
    "Heavy rain flooded the old town of Kellbach overnight, forcing nearly two thousand residents to leave their homes before dawn on Sunday.",
    "The mayor said emergency shelters had been opened in the sports hall and the school, and that volunteers were handing out blankets and hot meals.",
];

/// A lightly edited copy of [`STORY`] (each pair passes the default preset).
pub const STORY_COPY: [&str; 2] = [
    "Heavy rain flooded the old town of Kellbach overnight, forcing almost two thousand residents to leave their homes before dawn on Sunday.",
    "The mayor said emergency shelters had been opened in the sports hall and the school, and volunteers were handing out blankets and hot meals.",
];

/// Writes `good_a.txt` (the story, with an unrelated paragraph between, on lines 1, 3 and 5)
/// and `good_b.txt` (the copy, on lines 1 and 3), blank-line separated so that both `--split`
/// modes see the same paragraphs, and returns their names; [`assert_good_clusters`] checks they
/// were scanned.
pub fn write_good_pair(env: &TestEnv) -> [&'static str; 2] {
    env.write(
        "good_a.txt",
        format!(
            "{}\n\nAn unrelated sentence about football results and the weekend weather forecast.\n\n{}\n",
            STORY[0], STORY[1]
        ),
    );
    env.write(
        "good_b.txt",
        format!("{}\n\n{}\n", STORY_COPY[0], STORY_COPY[1]),
    );
    ["good_a.txt", "good_b.txt"]
}

/// Asserts both story paragraphs of [`write_good_pair`]'s files were paired.
#[track_caller]
pub fn assert_good_clusters(out: &Jsonl) {
    assert!(
        out.has_pair(("good_a.txt", 1), ("good_b.txt", 1))
            && out.has_pair(("good_a.txt", 5), ("good_b.txt", 3)),
        "the good files were not scanned as expected; pairs: {:#?}",
        out.pairs()
    );
}

/// Checks every cluster against the contract and against the input bytes, which `read` gives
/// for a source name:
///
/// * `id` counts from 0 in output order;
/// * members have `source`, `line`, `byte`, `doc`, `paragraph`, `text`; `text` is exactly the
///   source's bytes at `byte`, trimmed, and `line` is the line `byte` is on; members are in
///   corpus order (each source's members together, by increasing byte);
/// * pairs have `a`, `b` indexing two different members and a similarity in (0, 1]; every
///   member is in a pair; `similarity.min`/`max` are the lowest/highest pair similarity.
#[track_caller]
pub fn check_clusters(out: &Jsonl, mut read: impl FnMut(&str) -> Vec<u8>) {
    let mut files: std::collections::HashMap<String, Vec<u8>> = Default::default();
    for (k, c) in out.clusters.iter().enumerate() {
        let ctx = || serde_json::to_string_pretty(c).unwrap_or_default();
        assert_eq!(c["id"].as_u64(), Some(k as u64), "cluster id\n{}", ctx());
        let members = c["members"].as_array().expect("members array");
        assert!(members.len() >= 2, "cluster of fewer than 2\n{}", ctx());
        let mut order: Vec<(&str, u64)> = Vec::new();
        for m in members {
            for key in ["source", "line", "byte", "doc", "paragraph", "text"] {
                assert!(m.get(key).is_some(), "member without `{key}`\n{}", ctx());
            }
            let source = m["source"].as_str().expect("source is a string");
            let line = m["line"].as_u64().expect("line is a number");
            let byte = m["byte"].as_u64().expect("byte is a number") as usize;
            let text = m["text"].as_str().expect("text is a string");
            assert!(m["doc"].is_null() || m["doc"].is_string(), "doc\n{}", ctx());
            assert!(
                m["paragraph"].is_null() || m["paragraph"].is_u64(),
                "paragraph\n{}",
                ctx()
            );
            let bytes = files
                .entry(source.to_string())
                .or_insert_with(|| read(source));
            let end = byte + text.len();
            assert!(
                end <= bytes.len(),
                "{source}: member at byte {byte} runs past the end ({} bytes)",
                bytes.len()
            );
            assert_eq!(
                String::from_utf8_lossy(&bytes[byte..end]),
                text,
                "{source}: text differs from the file's bytes at byte {byte}"
            );
            assert!(
                !text.is_empty() && text.trim() == text,
                "{source}:{line}: text is empty or not trimmed: {text:?}"
            );
            // Lines end in `\n`, or in `\r` in a file without any `\n` (classic Mac OS).
            let eol = if !bytes.contains(&b'\n') && bytes.contains(&b'\r') {
                b'\r'
            } else {
                b'\n'
            };
            let real_line = 1 + bytes[..byte].iter().filter(|&&b| b == eol).count() as u64;
            assert_eq!(line, real_line, "{source} byte {byte}: wrong line");
            if let Some(&(prev_source, prev_byte)) = order.last() {
                if prev_source == source {
                    assert!(
                        prev_byte < byte as u64,
                        "members not in byte order\n{}",
                        ctx()
                    );
                } else {
                    assert!(
                        !order.iter().any(|&(s, _)| s == source),
                        "members of {source} are not together\n{}",
                        ctx()
                    );
                }
            }
            order.push((source, byte as u64));
        }
        let pairs = c["pairs"].as_array().expect("pairs array");
        assert!(!pairs.is_empty(), "cluster without pairs\n{}", ctx());
        let mut paired = vec![false; members.len()];
        let mut sims = Vec::new();
        for p in pairs {
            let a = p["a"].as_u64().expect("a") as usize;
            let b = p["b"].as_u64().expect("b") as usize;
            assert!(
                a < members.len() && b < members.len() && a != b,
                "pair {a}~{b} does not index two members\n{}",
                ctx()
            );
            paired[a] = true;
            paired[b] = true;
            let s = p["similarity"].as_f64().expect("similarity");
            assert!(s > 0.0 && s <= 1.0, "similarity {s} out of range");
            sims.push(s);
        }
        assert!(paired.iter().all(|&x| x), "a member in no pair\n{}", ctx());
        let min = sims.iter().copied().fold(f64::INFINITY, f64::min);
        let max = sims.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(
            c["similarity"]["min"].as_f64(),
            Some(min),
            "similarity.min\n{}",
            ctx()
        );
        assert_eq!(
            c["similarity"]["max"].as_f64(),
            Some(max),
            "similarity.max\n{}",
            ctx()
        );
    }
    let members: usize = out
        .clusters
        .iter()
        .map(|c| c["members"].as_array().map_or(0, Vec::len))
        .sum();
    let pairs: usize = out
        .clusters
        .iter()
        .map(|c| c["pairs"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(
        out.count("clusters"),
        out.clusters.len() as u64,
        "summary.clusters"
    );
    assert_eq!(
        out.count("skipped"),
        out.skipped.len() as u64,
        "summary.skipped"
    );
    assert_eq!(
        out.count("duplicate_paragraphs"),
        members as u64,
        "summary.duplicate_paragraphs"
    );
    assert_eq!(out.count("pairs"), pairs as u64, "summary.pairs");
    for s in &out.skipped {
        assert!(
            s["source"].is_string()
                && s["line"].is_u64()
                && s["byte"].is_u64()
                && s["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "skipped record without source/line/byte/reason: {s}"
        );
    }
}

/// A reader for [`check_clusters`] resolving sources against `dir`.
pub fn read_from(dir: &Path) -> impl FnMut(&str) -> Vec<u8> + '_ {
    move |source| {
        let path = dir.join(source);
        std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }
}

/// Makes a FIFO at `path` and opens it for reading without waiting for a writer, so that a
/// run that never opens it cannot hang the test. Whatever is written must fit in the pipe's
/// buffer (64 KiB on Linux) until read, after the run.
#[cfg(unix)]
pub fn fifo_reader(path: &Path) -> std::fs::File {
    use std::os::unix::fs::OpenOptionsExt;
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo reads the NUL-terminated path it is given and nothing else.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .unwrap()
}

/// Whether `path` is (still) a FIFO.
#[cfg(unix)]
pub fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}
