//! Baselines: today's accepted findings, so that a check fails only on new ones.
//!
//! A baseline is a multiset of [`FindingKey`]s, counted once for each paragraph the findings of
//! a key are at. The findings at one paragraph are accepted while the baseline holds an unused
//! entry of their key; paragraphs beyond the recorded count are new (the last ones in output
//! order), so pasting a paragraph once more is caught even though its key is already known.
//! (Counting pairs instead let a 65th copy pass: a group of identical copies lists every pair up
//! to 64 copies, 2,016, and beyond that each copy with the first only, 64.)
//!
//! The file is JSON, written atomically (a temporary file, then a rename), sorted by key so that
//! it diffs well in review:
//!
//! ```json
//! {
//!   "format": "syndup-check-baseline",
//!   "version": 1,
//!   "findings": [
//!     {"key": "5b0f…(32 hex digits)", "count": 1, "at": "news/a.txt:6", "repeats": "news/a.txt:4",
//!      "text": "He believes some of the men…"}
//!   ]
//! }
//! ```
//!
//! Only `key` and `count` are read back; `at`, `repeats` and `text` say, for a reviewer, where
//! the first finding of the key was when the baseline was written.
//!
//! ```
//! use syndup::check::{Baseline, FindingKey};
//! let k = FindingKey::of(("a.txt", "one paragraph"), ("b.txt", "its copy"));
//! let b = Baseline::from_keys([k, k]);
//! let text = b.to_json()?;
//! let back = Baseline::parse(&text, std::path::Path::new("baseline.json"))?;
//! assert_eq!(back.counts().get(&k), Some(&2));
//! assert!(Baseline::parse("{}", std::path::Path::new("x.json")).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Finding, FindingKey};
use crate::error::{Error, Result};
use crate::input::Corpus;

/// The `format` value of a baseline file.
pub const FORMAT: &str = "syndup-check-baseline";
/// The version of the baseline format this syndup reads and writes.
pub const VERSION: u32 = 1;

/// Accepted findings, counted by key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Baseline {
    counts: BTreeMap<FindingKey, u32>,
    notes: BTreeMap<FindingKey, Note>,
}

/// Where the first finding of a key was, for reviewers of the file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Note {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    repeats: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    key: String,
    count: u32,
    #[serde(flatten)]
    note: Note,
}

#[derive(Serialize, Deserialize)]
struct File {
    format: String,
    version: u32,
    findings: Vec<Entry>,
}

impl Baseline {
    /// A baseline accepting these keys (a key given twice is accepted twice).
    pub fn from_keys<I: IntoIterator<Item = FindingKey>>(keys: I) -> Baseline {
        let mut b = Baseline::default();
        for k in keys {
            *b.counts.entry(k).or_default() += 1;
        }
        b
    }

    /// A baseline accepting `findings` of a check over `corpus`.
    pub fn from_findings(corpus: &Corpus, findings: &[Finding]) -> Baseline {
        let mut b = Baseline::default();
        let loc = |i: u32| {
            let p = &corpus.paragraphs[i as usize];
            format!("{}:{}", corpus.source_name(p), p.line)
        };
        // Counted once per paragraph a key's findings are at (see `Check::evaluate`).
        let mut seen = std::collections::HashSet::new();
        for f in findings {
            if !seen.insert((f.key, f.at)) {
                continue;
            }
            *b.counts.entry(f.key).or_default() += 1;
            b.notes.entry(f.key).or_insert_with(|| Note {
                at: Some(loc(f.at)),
                repeats: Some(loc(f.other)),
                text: Some(super::output::snippet(
                    corpus.text(&corpus.paragraphs[f.at as usize]),
                    80,
                )),
            });
        }
        b
    }

    /// How many findings of each key are accepted.
    pub fn counts(&self) -> &BTreeMap<FindingKey, u32> {
        &self.counts
    }

    /// Accepted findings in all.
    pub fn len(&self) -> usize {
        self.counts.values().map(|&c| c as usize).sum()
    }

    /// Whether nothing is accepted.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Reads a baseline file.
    pub fn load(path: &Path) -> Result<Baseline> {
        let text = crate::error::read_text(path)?;
        Baseline::parse(&text, path)
    }

    /// Parses the text of a baseline file; `path` is used in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Baseline> {
        let err = |reason: String| Error::Baseline {
            path: path.to_path_buf(),
            reason,
        };
        // A byte order mark, as Windows editors write one, is not part of the JSON.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| err(format!("not a syndup baseline (not JSON: {e})")))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(err(format!(
                "not a syndup baseline (no \"format\": \"{FORMAT}\"); write one with \
                 `syndup check --write-baseline`"
            )));
        }
        let version = value.get("version").and_then(|v| v.as_u64());
        if version != Some(u64::from(VERSION)) {
            return Err(err(format!(
                "baseline format version {}, this syndup reads version {VERSION}; rewrite it \
                 with `syndup check --write-baseline`",
                version.map_or("unknown".to_string(), |v| v.to_string())
            )));
        }
        let file: File =
            serde_json::from_value(value).map_err(|e| err(format!("malformed baseline: {e}")))?;
        let mut b = Baseline::default();
        for (i, e) in file.findings.into_iter().enumerate() {
            let key: FindingKey = e
                .key
                .parse()
                .map_err(|m| err(format!("finding {}: {m}", i + 1)))?;
            let count = b.counts.entry(key).or_default();
            *count = count.saturating_add(e.count);
            b.notes.entry(key).or_insert(e.note);
        }
        Ok(b)
    }

    /// The file's text: pretty-printed JSON, entries sorted by key, ending with a newline.
    pub fn to_json(&self) -> Result<String> {
        let file = File {
            format: FORMAT.to_string(),
            version: VERSION,
            findings: self
                .counts
                .iter()
                .map(|(k, &count)| Entry {
                    key: k.to_string(),
                    count,
                    note: self.notes.get(k).cloned().unwrap_or_default(),
                })
                .collect(),
        };
        let mut text = serde_json::to_string_pretty(&file).map_err(|e| Error::Baseline {
            path: "<baseline>".into(),
            reason: e.to_string(),
        })?;
        text.push('\n');
        Ok(text)
    }

    /// Writes the file atomically: to a new temporary file (`.NAME.XXXXXX.tmp`) in the same
    /// directory, synced, then renamed.
    /// Through a symbolic link, the file it points to is replaced (the link stays); a path
    /// that is not a regular file (`/dev/stdout`, a FIFO) is written directly.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = self.to_json()?;
        let failed = |source| Error::WriteFile {
            path: path.to_path_buf(),
            source,
        };
        let (target, regular) = crate::dedup::replace_target(path).map_err(failed)?;
        if !regular {
            return std::fs::OpenOptions::new()
                .write(true)
                .open(&target)
                .and_then(|mut f| f.write_all(text.as_bytes()))
                .map_err(failed);
        }
        // A new temporary file of an unpredictable name (a fixed `PATH.tmp` was followed if it
        // was a symbolic link, clobbered a file of that name, and was shared by two runs).
        let mut tmp = crate::dedup::temp_beside(&target, ".tmp").map_err(failed)?;
        tmp.write_all(text.as_bytes())
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(failed)?;
        tmp.persist(&target).map_err(|e| failed(e.error))?;
        Ok(())
    }
}
