//! Printing a check: text, JSON Lines, GitHub Actions workflow commands, SARIF 2.1.0.
//!
//! Only new findings are printed (the ones the baseline does not accept), in the order of
//! [`Outcome::findings`]. A finding is an *error* when the check is over budget and a *warning*
//! when the budget tolerates it. Every format is deterministic: the same input and settings
//! give the same bytes, except the JSONL summary's `seconds`.
//!
//! * [`Format::Text`], for people: each finding as `source:line: repeats source:line (how)`
//!   with both texts, then the verdict.
//! * [`Format::Jsonl`]: exactly the `scan` contract, written by [`crate::report::Report`] over
//!   the new findings' pairs and clusters, with one added summary field, `check` (a
//!   [`Summary`]).
//! * [`Format::Github`]: one `::error file=…,line=…,endLine=…,title=…::message` (or
//!   `::warning`) workflow command per finding, escaped as the Actions runner expects (`%`,
//!   `\r`, `\n` in messages; also `:` and `,` in properties), so findings show up as annotations
//!   on the pull request; then one `::error` or `::notice` with the verdict.
//! * [`Format::Sarif`]: a SARIF 2.1.0 log with one rule, one result per finding (the repeated
//!   paragraph as `relatedLocations`, the [`FindingKey`](super::FindingKey) as a partial
//!   fingerprint) and skipped input as tool execution notifications.
//!
//! ```
//! use syndup::check::{output::{github_escape_data, github_escape_property}};
//! assert_eq!(github_escape_data("50% done\nnext"), "50%25 done%0Anext");
//! assert_eq!(github_escape_property("a:b,c"), "a%3Ab%2Cc");
//! ```

use std::io::Write;

use serde::Serialize;
use serde_json::{json, Value};

use super::{Finding, Outcome, Summary};
use crate::detect::{Detection, Measure, Pair};
use crate::input::Corpus;
use crate::params::Params;
use crate::report::{Format as ReportFormat, Report};

/// Output format of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// For people.
    #[default]
    Text,
    /// JSON Lines: the `scan` contract plus a `check` summary field.
    Jsonl,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
}

/// The SARIF version written.
pub const SARIF_VERSION: &str = "2.1.0";
/// The SARIF schema the output follows.
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// The id of the one rule a finding breaks.
pub const RULE_ID: &str = "near-duplicate-paragraph";

/// A check ready to be written.
pub struct CheckReport<'a> {
    corpus: &'a Corpus,
    detection: &'a Detection,
    outcome: &'a Outcome,
    params: &'a Params,
    seconds: f64,
}

/// One finding, resolved to places and texts.
struct Shown<'a> {
    finding: &'a Finding,
    pair: &'a Pair,
    at: Place<'a>,
    other: Place<'a>,
    other_is_reference: bool,
}

/// A paragraph's place and text.
struct Place<'a> {
    source: &'a str,
    line: u64,
    end_line: u64,
    /// The matched part of the text (a sentence for sentence-level matches).
    matched: &'a str,
}

impl Place<'_> {
    fn loc(&self) -> String {
        format!("{}:{}", self.source, self.line)
    }
}

impl<'a> CheckReport<'a> {
    /// A report of `outcome`, a check of `detection` over `corpus`.
    pub fn new(
        corpus: &'a Corpus,
        detection: &'a Detection,
        outcome: &'a Outcome,
        params: &'a Params,
        seconds: f64,
    ) -> CheckReport<'a> {
        CheckReport {
            corpus,
            detection,
            outcome,
            params,
            seconds,
        }
    }

    /// Writes the report.
    pub fn write<W: Write>(&self, format: Format, mut out: W) -> std::io::Result<()> {
        match format {
            Format::Text => self.write_text(&mut out)?,
            Format::Jsonl => self.write_jsonl(&mut out)?,
            Format::Github => self.write_github(&mut out)?,
            Format::Sarif => self.write_sarif(&mut out)?,
        }
        out.flush()
    }

    fn summary(&self) -> &Summary {
        &self.outcome.summary
    }

    fn level(&self) -> &'static str {
        if self.outcome.is_over_budget() {
            "error"
        } else {
            "warning"
        }
    }

    fn shown(&self) -> impl Iterator<Item = Shown<'a>> + '_ {
        let corpus = self.corpus;
        self.outcome.new_findings().map(move |f| {
            let pair = &self.detection.pairs[f.pair];
            let place = |i: u32| {
                let p = &corpus.paragraphs[i as usize];
                let text = corpus.text(p);
                let span = if i == pair.a {
                    pair.spans.0
                } else {
                    pair.spans.1
                };
                // A JSON Lines record is one line of its file, whatever its text holds.
                let lines_below = match corpus.record_of_index(i as usize) {
                    Some(_) => 0,
                    None => {
                        let eol = corpus.sources[p.source as usize].line_end();
                        memchr::memchr_iter(eol, text.as_bytes()).count() as u64
                    }
                };
                Place {
                    source: corpus.source_name(p),
                    line: p.line,
                    end_line: p.line + lines_below,
                    matched: text.get(span.range()).unwrap_or(text),
                }
            };
            Shown {
                finding: f,
                pair,
                at: place(f.at),
                other: place(f.other),
                other_is_reference: f.repeats_reference,
            }
        })
    }

    /// How a pair was decided, in words.
    fn how(pair: &Pair) -> String {
        match pair.measure {
            Measure::Identical => "identical text".to_string(),
            Measure::Jaccard => format!("shingle similarity {:.2}", pair.similarity),
            Measure::Sentence => format!("sentence similarity {:.2}", pair.similarity),
        }
    }

    fn verdict(&self) -> String {
        let s = self.summary();
        let skipped = self.corpus.skipped.len();
        if skipped > 0 {
            // Exit code 2 whatever the budget says: the check did not see all of its input.
            let budget = if s.over_budget {
                format!("; over budget too: {}", s.reasons.join("; "))
            } else {
                String::new()
            };
            format!("check failed: {skipped} input problem(s), listed as skipped{budget}")
        } else if s.over_budget {
            format!("check failed: {}", s.reasons.join("; "))
        } else {
            let mut limits = vec![format!("fail_on = \"{}\"", s.fail_on.name())];
            if let Some(m) = s.max_clusters {
                limits.push(format!("max_clusters = {m}"));
            }
            if let Some(m) = s.max_duplicate_ratio {
                limits.push(format!("max_duplicate_ratio = {m}"));
            }
            format!("check passed: within budget ({})", limits.join(", "))
        }
    }

    fn counts_line(&self) -> String {
        let s = self.summary();
        let mut line = format!(
            "{} new finding{} in {} cluster{}; {} of {} checked paragraphs ({:.2}%) repeat",
            s.new_findings,
            super::plural(s.new_findings),
            s.new_clusters,
            super::plural(s.new_clusters),
            s.duplicate_paragraphs,
            s.checked_paragraphs,
            s.duplicate_ratio * 100.0
        );
        if s.reference_paragraphs > 0 {
            line += &format!(" ({} reference paragraphs)", s.reference_paragraphs);
        }
        if s.baselined > 0 || s.baseline_unmatched > 0 {
            line += &format!("; {} accepted by the baseline", s.baselined);
            if s.baseline_unmatched > 0 {
                line += &format!(
                    " ({} baseline entr{} no longer found)",
                    s.baseline_unmatched,
                    if s.baseline_unmatched == 1 {
                        "y"
                    } else {
                        "ies"
                    }
                );
            }
        }
        if s.allowed_pairs > 0 {
            line += &format!(
                "; {} allowed pair{}",
                s.allowed_pairs,
                super::plural(s.allowed_pairs)
            );
        }
        let skipped = self.corpus.skipped.len();
        line += &format!("; {skipped} skipped");
        line
    }

    fn write_text<W: Write>(&self, out: &mut W) -> std::io::Result<()> {
        for f in self.shown() {
            let whose = if f.other_is_reference {
                " in the reference corpus"
            } else {
                ""
            };
            writeln!(
                out,
                "{}: repeats {}{} ({})",
                f.at.loc(),
                f.other.loc(),
                whose,
                Self::how(f.pair)
            )?;
            // Control characters as spaces: a `\r` or `\n` inside a paragraph (a block of
            // lines with `--split blank`) moved or overwrote the line on a terminal.
            let shown = |t: &str| crate::report::snippet(t, 120);
            writeln!(out, "    {}", shown(f.at.matched))?;
            writeln!(out, "  ~ {}", shown(f.other.matched))?;
        }
        if self.outcome.new_findings().next().is_some() {
            writeln!(out)?;
        }
        crate::report::write_skipped_text(&mut *out, &self.corpus.skipped)?;
        writeln!(out, "{}", self.counts_line())?;
        writeln!(out, "{}", self.verdict())
    }

    fn write_jsonl<W: Write>(&self, out: &mut W) -> std::io::Result<()> {
        let detection = self
            .outcome
            .new_detection(self.detection, self.corpus.paragraphs.len());
        let check = serde_json::to_value(self.summary()).map_err(std::io::Error::other)?;
        Report::new(self.corpus, &detection, self.params, self.seconds)
            .with_summary_field("check", check)
            .write(ReportFormat::Jsonl, out)
    }

    fn write_github<W: Write>(&self, out: &mut W) -> std::io::Result<()> {
        let level = self.level();
        for f in self.shown() {
            let whose = if f.other_is_reference {
                " (reference corpus)"
            } else {
                ""
            };
            let message = format!(
                "repeats {}{} ({})\nhere:  {}\nthere: {}",
                f.other.loc(),
                whose,
                Self::how(f.pair),
                snippet(f.at.matched, 200),
                snippet(f.other.matched, 200)
            );
            writeln!(
                out,
                "::{level} file={},line={},endLine={},title={}::{}",
                github_escape_property(f.at.source),
                f.at.line,
                f.at.end_line,
                github_escape_property("near-duplicate paragraph"),
                github_escape_data(&message)
            )?;
        }
        for s in &self.corpus.skipped {
            let line = if s.line > 0 {
                format!(",line={}", s.line)
            } else {
                String::new()
            };
            writeln!(
                out,
                "::error file={}{line},title={}::{}",
                github_escape_property(&s.source),
                github_escape_property("syndup: input skipped"),
                github_escape_data(&format!("byte {}: {}", s.byte, s.reason))
            )?;
        }
        let (command, title) = if self.outcome.is_over_budget() || !self.corpus.skipped.is_empty() {
            ("error", "syndup check failed")
        } else {
            ("notice", "syndup check passed")
        };
        writeln!(
            out,
            "::{command} title={}::{}",
            github_escape_property(title),
            github_escape_data(&format!("{}\n{}", self.counts_line(), self.verdict()))
        )
    }

    fn write_sarif<W: Write>(&self, out: &mut W) -> std::io::Result<()> {
        let level = self.level();
        let location = |p: &Place| {
            json!({
                "physicalLocation": {
                    "artifactLocation": {"uri": path_to_uri(p.source)},
                    "region": {"startLine": p.line, "endLine": p.end_line},
                }
            })
        };
        let mut occurrence: std::collections::HashMap<super::FindingKey, usize> =
            Default::default();
        let results = self.shown().map(|f| {
            let n = occurrence.entry(f.finding.key).or_default();
            *n += 1;
            let whose = if f.other_is_reference {
                " of the reference corpus"
            } else {
                ""
            };
            let mut related = location(&f.other);
            related["id"] = json!(1);
            related["message"] = json!({"text": format!("repeated paragraph{whose}")});
            let mut result = json!({
                "ruleId": RULE_ID,
                "ruleIndex": 0,
                "level": level,
                "message": {"text": format!(
                    "This paragraph repeats [{}](1){whose} ({}): \"{}\"",
                    sarif_escape(&f.other.loc()),
                    Self::how(f.pair),
                    sarif_escape(&snippet(f.at.matched, 200))
                )},
                "locations": [location(&f.at)],
                "relatedLocations": [related],
                "partialFingerprints": {
                    "syndupFindingKey/v1": format!("{}:{n}", f.finding.key),
                },
                "properties": {
                    "measure": f.pair.measure,
                    "similarity": round4(f.pair.similarity),
                    "jaccard": round4(f.pair.jaccard),
                    "reference": f.other_is_reference,
                },
            });
            if let Some(s) = f.pair.sentence {
                result["properties"]["sentence"] = json!(round4(s));
            }
            result
        });
        let notifications: Vec<Value> = self
            .corpus
            .skipped
            .iter()
            .map(|s| {
                let mut region = json!({});
                if s.line > 0 {
                    region = json!({"startLine": s.line});
                }
                let mut physical = json!({"artifactLocation": {"uri": path_to_uri(&s.source)}});
                if s.line > 0 {
                    physical["region"] = region;
                }
                json!({
                    "level": "error",
                    "message": {"text": format!("input skipped (byte {}): {}", s.byte, s.reason)},
                    "locations": [{"physicalLocation": physical}],
                })
            })
            .collect();
        let version = env!("CARGO_PKG_VERSION");
        let tool = json!({"driver": {
            "name": "syndup",
            "version": version,
            "semanticVersion": version,
            "rules": [{
                "id": RULE_ID,
                "name": "NearDuplicateParagraph",
                "shortDescription": {"text": "A paragraph repeats another paragraph."},
                "fullDescription": {"text": "The paragraph is a near-duplicate of \
                    another one (the related location): identical after normalization, \
                    similar word shingles, or a restated sentence."},
                "help": {"text": "Rewrite or remove the copy; if it is boilerplate, add \
                    a pattern to the allow-list (--allow or [check].allow in \
                    syndup.toml); to accept existing findings, record a baseline with \
                    --write-baseline."},
                "defaultConfiguration": {"level": "error"},
                "properties": {"tags": ["duplication", "content"]},
            }],
        }});
        let invocations = json!([{
            "executionSuccessful": self.corpus.skipped.is_empty(),
            "toolExecutionNotifications": notifications,
        }]);
        // Results are serialized one by one as they are made: a run with many findings does
        // not hold them all as JSON values.
        let log = SarifLog {
            schema: SARIF_SCHEMA,
            version: SARIF_VERSION,
            runs: [SarifRun {
                tool,
                invocations,
                results: Lazy(std::cell::RefCell::new(Some(results))),
                properties: json!({"check": self.summary()}),
            }],
        };
        serde_json::to_writer_pretty(&mut *out, &log).map_err(std::io::Error::other)?;
        writeln!(out)
    }
}

/// The top of a SARIF log, in the order the specification lists its properties.
#[derive(Serialize)]
#[serde(bound = "")]
struct SarifLog<I: Iterator<Item = Value>> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [SarifRun<I>; 1],
}

#[derive(Serialize)]
#[serde(bound = "")]
struct SarifRun<I: Iterator<Item = Value>> {
    tool: Value,
    invocations: Value,
    results: Lazy<I>,
    properties: Value,
}

/// A sequence serialized from an iterator, consumed on first use.
struct Lazy<I>(std::cell::RefCell<Option<I>>);

impl<I: Iterator<Item = Value>> Serialize for Lazy<I> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let items = self.0.borrow_mut().take();
        s.collect_seq(items.into_iter().flatten())
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The first `max` characters of a text, with `…` when cut, its characters as they are: for
/// the formats that escape what they hold (GitHub, SARIF, the baseline's JSON). The text format
/// shows [`crate::report::snippet`], which makes control characters spaces.
pub(crate) fn snippet(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// Escapes the message of a GitHub Actions workflow command: `%`, `\r`, `\n` (as the runner's
/// `escapeData`).
pub fn github_escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command (`file=`, `title=`): as
/// [`github_escape_data`], plus `:` and `,` (the runner's `escapeProperty`).
pub fn github_escape_property(s: &str) -> String {
    github_escape_data(s)
        .replace(':', "%3A")
        .replace(',', "%2C")
}

/// A source name as a SARIF artifact URI: relative paths stay relative (with `/` separators),
/// absolute ones become `file://` URIs; bytes outside the URI's unreserved set and `/` are
/// percent-encoded.
///
/// ```
/// use syndup::check::output::path_to_uri;
/// assert_eq!(path_to_uri("news/a b.txt"), "news/a%20b.txt");
/// assert_eq!(path_to_uri("/srv/é.md"), "file:///srv/%C3%A9.md");
/// ```
pub fn path_to_uri(name: &str) -> String {
    let name = name.replace('\\', "/");
    let mut out = String::with_capacity(name.len() + 8);
    if name.starts_with('/') {
        out.push_str("file://");
    }
    let name = name.strip_prefix("./").unwrap_or(&name);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Text for a SARIF message with embedded links: a literal `[` or `]` (or the `\\` that
/// escapes them) is preceded by `\\` (SARIF 2.1.0, 3.11.6), so that a file named `a[1](2).txt`
/// or a snippet with brackets is not read as a link.
fn sarif_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brackets and backslashes in a SARIF message are escaped, so a file named `a[1](2).txt`
    /// is not read as a link (SARIF 2.1.0, 3.11.6).
    #[test]
    fn sarif_messages_escape_brackets() {
        assert_eq!(sarif_escape("a[1](2).txt"), "a\\[1\\](2).txt");
        assert_eq!(sarif_escape("back\\slash"), "back\\\\slash");
        assert_eq!(sarif_escape("plain text"), "plain text");
    }
}
